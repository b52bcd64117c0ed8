//! `POST /v1/ocr` end to end: fixture images with known text decode exactly (a line, a
//! Chinese line, an EXIF-rotated JPEG, a page turned by 180°), as a raw body and as
//! multipart; every kind of bad input gets its documented error; the scope is enforced;
//! `/v1/models` lists what is loaded.

use crate::harness::{fixture, Backend, TestServer};
use anyhow::{Context, Result};
use serde_json::Value;

fn expected() -> Result<Value> {
    Ok(serde_json::from_slice(&fixture("fixtures.json")?)?)
}

/// The lines of `page_rotated.png`, in reading order, as the fixture manifest has them.
fn page_truth(want: &Value) -> Result<Vec<&str>> {
    Ok(want["page_rotated.png"]["lines"]
        .as_array()
        .context("fixture lines")?
        .iter()
        .filter_map(|l| l["text"].as_str())
        .collect())
}

/// Posts `body` as `content_type` with the API key; returns status and JSON body.
async fn post(
    srv: &TestServer,
    key: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Result<(u16, Value)> {
    let resp = reqwest::Client::new()
        .post(srv.url("/v1/ocr"))
        .header("x-api-key", key)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await?;
    let status = resp.status().as_u16();
    Ok((status, resp.json().await.unwrap_or(Value::Null)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixtures_are_read_exactly() -> Result<()> {
    let srv = TestServer::start(Backend::Sqlite).await?;
    let t = srv.tenant("ocr:read").await?;
    let want = expected()?;

    for (file, content_type) in [
        ("hello.png", "image/png"),
        ("chinese.png", "image/png"),
        ("hello_exif_rotated.jpg", "image/jpeg"),
    ] {
        let (status, body) = post(&srv, &t.key, content_type, fixture(file)?).await?;
        assert_eq!(status, 200, "{file}: {body}");
        assert_eq!(body["text"], want[file]["text"], "{file}: {body}");
        let lines = body["lines"].as_array().context("lines")?;
        assert_eq!(lines.len(), 1, "{file}: {body}");
        let confidence = lines[0]["confidence"].as_f64().context("confidence")?;
        assert!(
            confidence > 0.8 && confidence <= 1.0,
            "{file}: {confidence}"
        );
        assert_eq!(lines[0]["box"].as_array().map(Vec::len), Some(4), "{file}");
        assert_eq!(body["model"], "pp-ocrv6");
        assert!(body["timing"]["inference_ms"]
            .as_f64()
            .is_some_and(|ms| ms > 0.0));
    }

    // EXIF orientation: the stored JPEG is 55 x 331; the answer is about the displayed image.
    let (_, body) = post(
        &srv,
        &t.key,
        "image/jpeg",
        fixture("hello_exif_rotated.jpg")?,
    )
    .await?;
    let display = &want["hello_exif_rotated.jpg"]["display_size"];
    assert_eq!(
        (&body["width"], &body["height"]),
        (&display[0], &display[1])
    );

    // A page turned by 180°: every line, in reading order, and said to be upside down.
    let (status, body) = post(&srv, &t.key, "image/png", fixture("page_rotated.png")?).await?;
    assert_eq!(status, 200, "{body}");
    let texts: Vec<&str> = body["lines"]
        .as_array()
        .context("lines")?
        .iter()
        .filter_map(|l| l["text"].as_str())
        .collect();
    let truth = page_truth(&want)?;
    assert_eq!(texts, truth, "{body}");
    assert_eq!(body["upside_down"], true);
    assert_eq!(body["text"], truth.join("\n"));
    srv.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_upload_and_models() -> Result<()> {
    let srv = TestServer::start(Backend::Sqlite).await?;
    let t = srv.tenant("ocr:read").await?;
    let jwt = srv.token(&t.client_id, &t.client_secret, None).await?;
    let part = reqwest::multipart::Part::bytes(fixture("hello.png")?)
        .file_name("hello.png")
        .mime_str("image/png")?;
    let resp = reqwest::Client::new()
        .post(srv.url("/v1/ocr"))
        .bearer_auth(&jwt)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await?;
    assert_eq!(body["text"], "Hello Tollgate 2026");

    let models: Value = reqwest::Client::new()
        .get(srv.url("/v1/models"))
        .bearer_auth(&jwt)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(models["ready"], true, "{models}");
    assert_eq!(
        models["models"].as_array().map(Vec::len),
        Some(3),
        "{models}"
    );
    assert!(
        models["device"].as_str().is_some_and(|d| d.contains("cpu")),
        "{models}"
    );
    srv.stop().await
}

/// `model=` picks the model set: every set `/v1/models` lists reads the line exactly and is
/// named in the answer, each read is one unit; a set named any other way (case, spaces, a
/// list, twice) is 400 before anything is charged; an `Idempotency-Key` is bound to the set a
/// request names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_parameter_picks_a_listed_set() -> Result<()> {
    let srv = TestServer::start(Backend::Sqlite).await?;
    let t = srv.tenant("ocr:read").await?;
    let send = |query: String, key: Option<&'static str>| {
        let (srv, api_key) = (&srv, t.key.clone());
        async move {
            // Under the default plan's rate (10/s, burst 20) for the test's 25 requests.
            tokio::time::sleep(std::time::Duration::from_millis(120)).await;
            let mut req = reqwest::Client::new()
                .post(srv.url(&format!("/v1/ocr{query}")))
                .header("x-api-key", api_key)
                .header("content-type", "image/png")
                .body(fixture("hello.png")?);
            if let Some(key) = key {
                req = req.header("idempotency-key", key);
            }
            let resp = req.send().await?;
            let status = resp.status().as_u16();
            anyhow::Ok((status, resp.json::<Value>().await.unwrap_or(Value::Null)))
        }
    };
    let models: Value = reqwest::Client::new()
        .get(srv.url("/v1/models"))
        .header("x-api-key", &t.key)
        .send()
        .await?
        .json()
        .await?;
    let sets = models["sets"].as_array().context("sets")?;
    let ids: Vec<&str> = sets.iter().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!(ids.len(), 3, "{models}");
    for id in ["pp-ocrv4", "pp-ocrv5", "pp-ocrv6"] {
        assert!(ids.contains(&id), "{id} listed: {models}");
    }
    // The default is listed first, flagged, and is what `model` names.
    assert_eq!(sets[0]["default"], true, "{models}");
    assert_eq!(sets[0]["id"], models["model"], "{models}");
    assert_eq!(
        sets.iter().filter(|s| s["default"] == true).count(),
        1,
        "{models}"
    );
    assert_eq!(sets[0]["models"], models["models"], "{models}");
    let characters: Vec<i64> = sets
        .iter()
        .filter_map(|s| s["characters"].as_i64())
        .collect();
    for n in [6623, 18383, 18708] {
        assert!(characters.contains(&n), "{n}: {models}");
    }

    let (status, body) = send(String::new(), None).await?;
    assert_eq!((status, &body["model"]), (200, &models["model"]), "{body}");
    for id in &ids {
        let (status, body) = send(format!("?model={id}"), None).await?;
        assert_eq!(status, 200, "{id}: {body}");
        assert_eq!(body["model"], *id, "{body}");
        assert_eq!(body["text"], "Hello Tollgate 2026", "{id}: {body}");
        assert_eq!(body["usage"]["units"], 1, "{id}: {body}");
    }
    let served = 1 + ids.len();
    for query in [
        "?model=PP-OCRv5",
        "?model=pp-ocrv5%20",
        "?model=%20pp-ocrv5",
        "?model=pp-ocrv5,pp-ocrv4",
        "?model=",
        "?model=pp-ocrv3",
        "?model=pp%E2%80%90ocrv5",
        "?model=pp-ocrv4&model=pp-ocrv5",
        "?model=pp-ocrv5&model=pp-ocrv5",
        "?model=pp-ocrv5&mod%65l=pp-ocrv4",
        "?Model=pp-ocrv5",
        "?model%5B%5D=pp-ocrv5",
        "?models=pp-ocrv5",
        "?model=pp-ocrv5&x=1",
    ] {
        let (status, body) = send(query.to_owned(), None).await?;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("bad_request")),
            "{query}: {body}"
        );
    }
    // Only the reads that were answered were charged.
    let tenant: tollgate_core::TenantId = t.id.parse()?;
    let events = srv.store().usage_events(tenant).await?;
    assert_eq!(events.len(), served, "{events:?}");

    // A key is bound to what the request says: a retry that names no set gets the first
    // answer back (whatever the default is by then); naming a set, even the default, or
    // another set, is another request.
    let default = models["model"].as_str().context("default")?.to_owned();
    let (status, first) = send(String::new(), Some("default-key")).await?;
    assert_eq!((status, &first["usage"]["units"]), (200, &Value::from(1)));
    let (status, again) = send(String::new(), Some("default-key")).await?;
    assert_eq!(
        (status, &again["usage"]["units"]),
        (200, &Value::from(0)),
        "{again}"
    );
    assert_eq!(again["model"], default.as_str());
    let (status, body) = send(format!("?model={default}"), Some("default-key")).await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("idempotency_key_reused")),
        "{body}"
    );
    let other = if default == "pp-ocrv5" {
        "pp-ocrv6"
    } else {
        "pp-ocrv5"
    };
    let (status, first) = send(format!("?model={other}"), Some("model-key")).await?;
    assert_eq!((status, &first["model"]), (200, &Value::from(other)));
    let rest: Vec<String> = ["pp-ocrv4", "pp-ocrv5", "pp-ocrv6"]
        .iter()
        .filter(|id| **id != other)
        .map(|id| format!("?model={id}"))
        .chain([String::new()])
        .collect();
    for retry in rest {
        let (status, body) = send(retry.clone(), Some("model-key")).await?;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("idempotency_key_reused")),
            "{retry}: {body}"
        );
    }
    let (status, again) = send(format!("?model={other}"), Some("model-key")).await?;
    assert_eq!((status, &again["model"]), (200, &Value::from(other)));
    assert_eq!(
        again["usage"]["units"], 0,
        "a replay is not charged: {again}"
    );
    assert_eq!(again["text"], first["text"]);
    srv.stop().await
}

/// A PNG signature and an IHDR chunk declaring `w` x `h`, and nothing else.
fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    bytes.extend_from_slice(&w.to_be_bytes());
    bytes.extend_from_slice(&h.to_be_bytes());
    bytes.extend_from_slice(&[8, 2, 0, 0, 0]);
    let crc = crc32(&bytes[12..]);
    bytes.extend_from_slice(&crc.to_be_bytes());
    bytes
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_get_their_documented_errors() -> Result<()> {
    let srv = TestServer::start(Backend::Sqlite).await?;
    let t = srv.tenant("ocr:read").await?;
    let hello = fixture("hello.png")?;
    let truncated = hello[..hello.len() / 2].to_vec();
    let oversized = vec![0u8; srv.ocr_limits().max_bytes + 1];
    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        (
            "truncated PNG",
            "image/png",
            truncated,
            422,
            "corrupt_image",
        ),
        ("empty body", "image/png", Vec::new(), 422, "empty_image"),
        (
            "50000 x 50000 header",
            "image/png",
            png_header(50_000, 50_000),
            422,
            "image_too_large",
        ),
        (
            "zero-size header",
            "image/png",
            png_header(0, 0),
            422,
            "empty_image",
        ),
        (
            "not an image",
            "image/png",
            b"just some text, not pixels".to_vec(),
            422,
            "unsupported_image",
        ),
        (
            "wrong content type",
            "text/plain",
            hello.clone(),
            415,
            "unsupported_media_type",
        ),
        (
            "JSON instead of an image",
            "application/json",
            b"{}".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "over the byte limit",
            "image/png",
            oversized,
            413,
            "payload_too_large",
        ),
    ];
    for (what, content_type, body, status, code) in cases {
        let (got, problem) = post(&srv, &t.key, content_type, body).await?;
        assert_eq!(
            (got, problem["code"].as_str()),
            (status, Some(code)),
            "{what}: {problem}"
        );
    }
    // A multipart body without the `file` part.
    let resp = reqwest::Client::new()
        .post(srv.url("/v1/ocr"))
        .header("x-api-key", &t.key)
        .multipart(reqwest::multipart::Form::new().text("other", "x"))
        .send()
        .await?;
    let status = resp.status().as_u16();
    let problem: Value = resp.json().await?;
    assert_eq!(
        (status, problem["code"].as_str()),
        (400, Some("bad_request")),
        "missing file part: {problem}"
    );
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("file")),
        "the answer names the missing part: {problem}"
    );
    assert_eq!(problem["status"].as_u64(), Some(u64::from(status)));
    srv.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ocr_needs_the_ocr_read_scope() -> Result<()> {
    let srv = TestServer::start(Backend::Sqlite).await?;
    let t = srv.tenant("usage:read").await?;
    let (status, problem) = post(&srv, &t.key, "image/png", fixture("hello.png")?).await?;
    assert_eq!(
        (status, problem["code"].as_str()),
        (403, Some("insufficient_scope"))
    );
    let (status, _) = post(
        &srv,
        "tg_live_not_a_key",
        "image/png",
        fixture("hello.png")?,
    )
    .await?;
    assert_eq!(status, 401);
    srv.stop().await
}

/// Detection in tiles (what bounds its memory on large pages) reads a large page as the
/// whole-page detector does, with the real models: the same lines, their corners within 12 px
/// on a 2080 px page (the minimum-area box of a line crossing a tile edge turns a little;
/// measured: at most 6 px with tiles of 1024 × 1024, 9.5 px at the far end of a 1300 px line
/// with the two tiles a 1 Mpx budget makes).
#[test]
fn a_large_page_reads_the_same_in_tiles() -> Result<()> {
    use tollgate_ocr::{burn_runner::BurnRunner, Charset, Pipeline, PipelineConfig, DEFAULT_MODEL};
    let small = image::load_from_memory(&fixture("page_rotated.png")?)?.to_rgb8();
    let big = image::imageops::resize(
        &small,
        small.width() * 4,
        small.height() * 4,
        image::imageops::FilterType::Triangle,
    );
    let mut runner = BurnRunner::cpu(DEFAULT_MODEL);
    let mut read = |tile_pixels: usize| {
        let mut config = PipelineConfig::default();
        config.det.tile_pixels = tile_pixels;
        Pipeline::new(config, Charset::from_dictionary(DEFAULT_MODEL.dictionary()))
            .read(&mut runner, &[&big])
    };
    let whole = read(0)?.remove(0);
    let tiled = read(1024 * 1024)?.remove(0);
    assert!(whole.lines.len() >= 3, "{whole:?}");
    let texts = |p: &tollgate_ocr::PageText| -> Vec<String> {
        p.lines.iter().map(|l| l.text.clone()).collect()
    };
    assert_eq!(texts(&tiled), texts(&whole));
    for (t, w) in tiled.lines.iter().zip(&whole.lines) {
        for (a, b) in t.polygon.iter().zip(&w.polygon) {
            assert!(
                (a[0] - b[0]).abs() <= 12.0 && (a[1] - b[1]).abs() <= 12.0,
                "{:?} vs {:?}",
                t.polygon,
                w.polygon
            );
        }
    }
    Ok(())
}

/// Pages of two tenants read in the same batch (sent at once, the engine batches them): each
/// answer is exactly its own image's text — nothing crosses between pages or tenants, and
/// sharing a batch changes no one's result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_batched_together_are_each_read_exactly() -> Result<()> {
    let srv = TestServer::start(Backend::Sqlite).await?;
    let (a, b) = (srv.tenant("ocr:read").await?, srv.tenant("ocr:read").await?);
    let want = expected()?;
    for _ in 0..3 {
        let (hello, chinese, page, hello2) = tokio::join!(
            post(&srv, &a.key, "image/png", fixture("hello.png")?),
            post(&srv, &b.key, "image/png", fixture("chinese.png")?),
            post(&srv, &b.key, "image/png", fixture("page_rotated.png")?),
            post(&srv, &a.key, "image/png", fixture("hello.png")?),
        );
        for (answer, file) in [
            (hello?, "hello.png"),
            (chinese?, "chinese.png"),
            (hello2?, "hello.png"),
        ] {
            assert_eq!(answer.0, 200, "{file}: {}", answer.1);
            assert_eq!(answer.1["text"], want[file]["text"], "{file}");
        }
        let page = page?;
        assert_eq!(page.1["text"], page_truth(&want)?.join("\n"), "{}", page.1);
    }
    srv.stop().await
}

/// `mode`: `auto` reads an image shaped like a line as one line and a page as a page; `page`
/// and `line` force it; anything else is refused. An `Idempotency-Key` is bound to the mode
/// as well as the image.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mode_decides_how_an_image_is_read() -> Result<()> {
    let srv = TestServer::start(Backend::Sqlite).await?;
    let t = srv.tenant("ocr:read").await?;
    let want = expected()?;
    let send = |query: &'static str, file: &'static str, key: Option<&'static str>| {
        let (srv, api_key) = (&srv, t.key.clone());
        async move {
            let mut req = reqwest::Client::new()
                .post(srv.url(&format!("/v1/ocr{query}")))
                .header("x-api-key", api_key)
                .header("content-type", "image/png")
                .body(fixture(file)?);
            if let Some(key) = key {
                req = req.header("idempotency-key", key);
            }
            let resp = req.send().await?;
            let status = resp.status().as_u16();
            anyhow::Ok((status, resp.json::<Value>().await.unwrap_or(Value::Null)))
        }
    };
    for (query, file, read_as) in [
        ("", "hello.png", "line"),
        ("?mode=auto", "hello.png", "line"),
        ("?mode=page", "hello.png", "page"),
        ("?mode=line", "hello.png", "line"),
        ("?mode=line", "chinese.png", "line"),
        ("", "page_rotated.png", "page"),
    ] {
        let (status, body) = send(query, file, None).await?;
        assert_eq!(status, 200, "{query} {file}: {body}");
        assert_eq!(body["read_as"], read_as, "{query} {file}: {body}");
        if file == "page_rotated.png" {
            assert_eq!(body["text"], page_truth(&want)?.join("\n"), "{body}");
        } else {
            assert_eq!(body["text"], want[file]["text"], "{query} {file}: {body}");
            assert_eq!(body["lines"].as_array().map(Vec::len), Some(1), "{body}");
        }
    }
    for query in [
        "?mode=LINE",
        "?mode=lines",
        "?mode=",
        "?mode=line%20",
        "?mode=page&mode=line",
        "?mode=line&mo%64e=page",
    ] {
        let (status, body) = send(query, "hello.png", None).await?;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("bad_request")),
            "{query}: {body}"
        );
    }
    // One key, one reading: another mode with the same key and image is another request.
    let (status, first) = send("?mode=page", "hello.png", Some("mode-key")).await?;
    assert_eq!((status, &first["read_as"]), (200, &Value::from("page")));
    let (status, body) = send("?mode=line", "hello.png", Some("mode-key")).await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("idempotency_key_reused")),
        "{body}"
    );
    let (status, again) = send("?mode=page", "hello.png", Some("mode-key")).await?;
    assert_eq!((status, &again["read_as"]), (200, &Value::from("page")));
    assert_eq!(
        again["usage"]["units"], 0,
        "a replay is not charged: {again}"
    );
    srv.stop().await
}
