//! `POST /v1/ocr` with PDFs: every page read and charged as a unit, checked before anything
//! is reserved, bad documents refused with their codes and nothing charged.

use crate::harness::{Backend, TestServer};
use anyhow::{Context, Result};
use serde_json::Value;
use tollgate_ocr::pdf::testing::{encrypted, pdf};

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

/// Units recorded for the tenant this period.
async fn units(srv: &TestServer, key: &str) -> Result<i64> {
    let resp = reqwest::Client::new()
        .get(srv.url("/v1/usage"))
        .header("x-api-key", key)
        .send()
        .await?;
    let body: Value = resp.json().await?;
    body["total_units"].as_i64().context("total_units")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_of_a_pdf_is_read_and_charged() -> Result<()> {
    let srv = TestServer::start(Backend::Postgres).await?;
    let t = srv.tenant("ocr:read usage:read").await?;

    let doc = pdf(2, 612.0, 792.0, "Hello Tollgate page", "");
    let (status, body) = post(&srv, &t.key, "application/pdf", doc.clone()).await?;
    assert_eq!(status, 200, "{body}");
    let pages = body["pages"].as_array().context("pages")?;
    assert_eq!(pages.len(), 2, "{body}");
    for (i, page) in pages.iter().enumerate() {
        assert_eq!(page["page"], i + 1);
        assert_eq!(
            page["text"],
            format!("Hello Tollgate page {}", i + 1),
            "{page}"
        );
        assert_eq!(page["read_as"], "page");
        // Letter at 3000 px high.
        assert_eq!(
            (&page["width"], &page["height"]),
            (&Value::from(2318), &Value::from(3000))
        );
    }
    assert_eq!(
        body["text"],
        "Hello Tollgate page 1\n\u{c}\nHello Tollgate page 2"
    );
    assert_eq!(body["lines"], Value::Array(Vec::new()));
    assert_eq!(
        (&body["usage"]["units"], &body["usage"]["unit"]),
        (&Value::from(2), &Value::from("page"))
    );
    assert_eq!(units(&srv, &t.key).await?, 2);

    // As a multipart file, told by its header.
    let part = reqwest::multipart::Part::bytes(pdf(1, 300.0, 200.0, "Multipart", ""))
        .file_name("scan.bin");
    let resp = reqwest::Client::new()
        .post(srv.url("/v1/ocr"))
        .header("x-api-key", &t.key)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await?;
    assert_eq!(body["text"], "Multipart 1", "{body}");
    assert_eq!(units(&srv, &t.key).await?, 3);

    // A retry with the same key gets the same pages back, charged nothing.
    let send = |key: &'static str| {
        let (srv, api_key, doc) = (&srv, t.key.clone(), doc.clone());
        async move {
            let resp = reqwest::Client::new()
                .post(srv.url("/v1/ocr"))
                .header("x-api-key", api_key)
                .header("content-type", "application/pdf")
                .header("idempotency-key", key)
                .body(doc)
                .send()
                .await?;
            anyhow::Ok(resp.json::<Value>().await?)
        }
    };
    let first = send("pdf-key").await?;
    let again = send("pdf-key").await?;
    assert_eq!(first["usage"]["units"], 2);
    assert_eq!(again["usage"]["units"], 0);
    assert_eq!(again["pages"], first["pages"]);
    assert_eq!(units(&srv, &t.key).await?, 5);
    srv.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_pdfs_are_refused_and_cost_nothing() -> Result<()> {
    let srv = TestServer::start(Backend::Sqlite).await?;
    let t = srv.tenant("ocr:read usage:read").await?;
    let whole = pdf(1, 612.0, 792.0, "x", "");
    let cases: Vec<(&str, Vec<u8>, &str)> = [
        (
            "51 pages on a plan of 50",
            pdf(51, 612.0, 792.0, "x", ""),
            "pdf_too_many_pages",
        ),
        ("encrypted", encrypted(), "pdf_encrypted"),
        (
            "truncated",
            whole[..whole.len() / 3].to_vec(),
            "pdf_invalid",
        ),
        ("not a PDF", b"GIF89a not a pdf".to_vec(), "pdf_invalid"),
        (
            "a page of 300 inches",
            pdf(1, 21_600.0, 792.0, "x", ""),
            "pdf_page_too_large",
        ),
        (
            "JavaScript on opening",
            pdf(
                1,
                612.0,
                792.0,
                "x",
                "/OpenAction << /S /JavaScript /JS (app.alert(1)) >>",
            ),
            "pdf_javascript",
        ),
    ]
    .into_iter()
    .collect();
    for (what, body, code) in cases {
        let (status, problem) = post(&srv, &t.key, "application/pdf", body).await?;
        assert_eq!(
            (status, problem["code"].as_str()),
            (422, Some(code)),
            "{what}: {problem}"
        );
    }
    assert_eq!(units(&srv, &t.key).await?, 0, "nothing refused was charged");
    srv.stop().await
}

/// The plan's caps apply to PDFs: its page cap, and its upload size (the engine's body limit
/// may be larger).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plans_page_cap_and_size_apply_to_pdfs() -> Result<()> {
    let srv = TestServer::start(Backend::Postgres).await?;
    let t = srv.tenant("ocr:read usage:read").await?;
    let two_pages = pdf(2, 612.0, 792.0, "Capped", "");
    let three_pages = pdf(3, 612.0, 792.0, "x", "");
    let size = u64::try_from(three_pages.len())?;
    crate::metering::plan(&srv, &t, |p| {
        p.max_pdf_pages = 2;
        p.max_image_bytes = size;
    })
    .await?;
    let (status, body) = post(&srv, &t.key, "application/pdf", two_pages).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["usage"]["units"], 2);
    let (status, body) = post(
        &srv,
        &t.key,
        "application/pdf",
        pdf(3, 612.0, 792.0, "x", ""),
    )
    .await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("pdf_too_many_pages")),
        "{body}"
    );
    let bigger = pdf(2, 612.0, 792.0, &"Capped but longer ".repeat(40), "");
    assert!(bigger.len() as u64 > size);
    let (status, body) = post(&srv, &t.key, "application/pdf", bigger).await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("payload_too_large")),
        "{body}"
    );
    assert_eq!(units(&srv, &t.key).await?, 2);
    srv.stop().await
}
