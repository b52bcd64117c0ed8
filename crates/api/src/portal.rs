//! The admin portal's files (`admin-ui/`, built and embedded by `build.rs`), served under
//! `/admin/`. Any path that is not a file and not under `assets/` is the app itself
//! (`index.html`), so a refreshed deep link such as `/admin/keys` loads the app; a missing
//! asset is a problem+json 404 like any unknown route.

use poem::http::{header, Method, StatusCode};
use poem::{handler, Request, Response};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/admin_assets.rs"));
}

/// Scripts and styles come only from the portal itself; no framing, no referrer.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
                   img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; \
                   base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn file(path: &str) -> Option<&'static [u8]> {
    embedded::ASSETS
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, bytes)| *bytes)
}

fn respond(path: &str, bytes: &'static [u8], head: bool) -> Response {
    // Vite names assets by their content hash: they never change under one name.
    let cache = if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let builder = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type(path))
        .header(header::CACHE_CONTROL, cache)
        .header(header::CONTENT_LENGTH, bytes.len())
        .header("Content-Security-Policy", CSP)
        .header("X-Content-Type-Options", "nosniff")
        .header("X-Frame-Options", "DENY")
        .header("Referrer-Policy", "no-referrer");
    if head {
        builder.finish()
    } else {
        builder.body(bytes)
    }
}

/// `GET /admin` and `GET /admin/*`.
#[handler]
pub fn serve(req: &Request) -> Response {
    let head = req.method() == Method::HEAD;
    if req.method() != Method::GET && !head {
        let mut resp = crate::middleware::problem_response(
            tollgate_core::Code::MethodNotAllowed,
            "the portal's pages are read with GET".into(),
        );
        resp.headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("GET, HEAD"));
        return resp;
    }
    let rest = req
        .uri()
        .path()
        .strip_prefix("/admin")
        .unwrap_or("")
        .trim_start_matches('/');
    if let Some(bytes) = (!rest.is_empty()).then(|| file(rest)).flatten() {
        return respond(rest, bytes, head);
    }
    if rest.starts_with("assets/") {
        return crate::middleware::not_found();
    }
    match file("index.html") {
        Some(bytes) => respond("index.html", bytes, head),
        None => crate::middleware::not_found(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_embedded_the_app() {
        let index = file("index.html").map(String::from_utf8_lossy);
        assert!(index.is_some_and(|i| i.contains("/admin/assets/")));
        assert!(embedded::ASSETS.iter().any(|(p, _)| p.ends_with(".js")));
    }

    #[test]
    fn types() {
        assert_eq!(
            content_type("assets/index-x.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("x"), "application/octet-stream");
    }
}
