//! Defaults that must not leak, tried from a real non-loopback address of this machine:
//! `/metrics` (tenant ids and their traffic) answers only loopback callers on the public
//! listener, never a caller from another host or one relayed by a proxy; the session cookie
//! is `Secure` when a trusted proxy says the request came over https; and guessing API keys
//! (valid checksums are free to make) is throttled per address before the lookups add up.

use crate::both_backends;
use crate::harness::{Backend, ServerSpec, TestServer};
use anyhow::{Context, Result};
use std::net::{IpAddr, SocketAddr};

both_backends!(
    metrics_answer_only_loopback_callers_on_the_public_listener,
    the_session_cookie_is_secure_behind_a_trusted_https_proxy,
    guessing_api_keys_is_throttled_per_address,
);

/// This machine's address on its default route (not loopback).
fn outside_ip() -> Result<IpAddr> {
    let probe = std::net::UdpSocket::bind("0.0.0.0:0")?;
    probe.connect("192.0.2.1:9")?;
    let ip = probe.local_addr()?.ip();
    anyhow::ensure!(!ip.is_loopback(), "no non-loopback address here");
    Ok(ip)
}

/// A server on all interfaces, trusting `trusted` as proxies.
async fn server(backend: Backend, trusted: Vec<IpAddr>) -> Result<(TestServer, SocketAddr)> {
    let spec = ServerSpec::new(backend, false).await?;
    let serve = tollgate::config::ServeArgs {
        listen: "0.0.0.0:0".parse()?,
        ..spec.serve_args()?
    };
    let mut env = spec.env();
    env.trusted_proxies = trusted;
    let running = crate::harness::start_server(&spec.common(), &serve, &env).await?;
    let port = running.addr.port();
    let srv = TestServer {
        base: format!("http://127.0.0.1:{port}"),
        running,
    };
    Ok((srv, SocketAddr::new(outside_ip()?, port)))
}

async fn metrics_answer_only_loopback_callers_on_the_public_listener(
    backend: Backend,
) -> Result<()> {
    let (srv, outside) = server(backend, vec![]).await?;
    let http = reqwest::Client::new();
    let local = http.get(srv.url("/metrics")).send().await?;
    assert_eq!(local.status(), 200, "loopback may scrape");
    let remote = http.get(format!("http://{outside}/metrics")).send().await?;
    assert_eq!(remote.status(), 404, "another host may not");
    let body: serde_json::Value = remote.json().await?;
    assert_eq!(body["code"], "not_found");
    // Relayed by a proxy on this host for a remote client: not a local caller.
    for (header, value) in [
        ("x-forwarded-for", "203.0.113.9"),
        ("forwarded", "for=203.0.113.9"),
        ("x-real-ip", "203.0.113.9"),
    ] {
        let relayed = http
            .get(srv.url("/metrics"))
            .header(header, value)
            .send()
            .await?;
        assert_eq!(relayed.status(), 404, "relayed with {header}");
    }
    assert_eq!(
        http.get(format!("http://{outside}/healthz"))
            .send()
            .await?
            .status(),
        200,
        "the API itself is served to other hosts"
    );
    srv.stop().await?;
    // A trusted proxy on this host (which may add no forwarding header at all): every
    // loopback caller may be a relayed one, so the public listener serves no metrics.
    let (srv, _) = server(backend, vec!["127.0.0.1".parse()?]).await?;
    let proxied = http.get(srv.url("/metrics")).send().await?;
    assert_eq!(proxied.status(), 404);
    srv.stop().await
}

async fn the_session_cookie_is_secure_behind_a_trusted_https_proxy(backend: Backend) -> Result<()> {
    let (srv, _) = server(backend, vec!["127.0.0.1".parse()?]).await?;
    let t = srv.tenant("ocr:read").await?;
    let login = |proto: Option<&'static str>| {
        let mut req = reqwest::Client::new()
            .post(srv.url("/v1/session"))
            .json(&serde_json::json!({ "email": t.owner_email, "password": t.owner_password }));
        if let Some(p) = proto {
            req = req.header("x-forwarded-proto", p);
        }
        req.send()
    };
    let cookie = |resp: &reqwest::Response| -> Result<String> {
        Ok(resp
            .headers()
            .get("set-cookie")
            .context("set-cookie")?
            .to_str()?
            .to_owned())
    };
    let plain = login(None).await?;
    assert_eq!(plain.status(), 200);
    assert!(!cookie(&plain)?.contains("Secure"), "plain http, no proxy");
    let https = login(Some("https")).await?;
    assert_eq!(https.status(), 200);
    assert!(
        cookie(&https)?.contains("; Secure"),
        "the trusted proxy says https: {}",
        cookie(&https)?
    );
    srv.stop().await
}

/// Keys with valid checksums but unknown to the server, from one address: after a few
/// misses the address is answered 429 `too_many_attempts` without a lookup, while a real key
/// from another address is unaffected.
async fn guessing_api_keys_is_throttled_per_address(backend: Backend) -> Result<()> {
    let (srv, outside) = server(backend, vec![]).await?;
    let t = srv.tenant("ocr:read").await?;
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..40 {
        let guess = tollgate_auth::secret::new_api_key(tollgate_core::api_key::KeyEnv::Live);
        let resp = http
            .get(format!("http://{outside}/v1/me"))
            .header("x-api-key", guess)
            .send()
            .await?;
        statuses.push(resp.status().as_u16());
        if resp.status() == 429 {
            let body: serde_json::Value = resp.json().await?;
            assert_eq!(body["code"], "too_many_attempts", "{body}");
        }
    }
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert!(refused >= 20, "guesses must be throttled: {statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    // The guesser's block does not touch an honest caller elsewhere...
    assert_eq!(srv.me(&t.key).await?.0, 200);
    // ...nor, for long, one behind the same address: a blocked address still gets a lookup
    // a second, so a valid key it never used before gets in.
    let neighbour = srv.tenant("ocr:read").await?;
    let mut admitted = None;
    for attempt in 0..30 {
        let resp = http
            .get(format!("http://{outside}/v1/me"))
            .header("x-api-key", &neighbour.key)
            .send()
            .await?;
        if resp.status() == 200 {
            admitted = Some(attempt);
            break;
        }
        assert_eq!(resp.status(), 429);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        admitted.is_some(),
        "the neighbour's valid key got in within 3 s"
    );
    srv.stop().await
}
