//! `POST /v1/ocr` with PDFs: every page read and charged as a unit, checked before anything
//! is reserved, bad documents refused with their codes and nothing charged.

use crate::harness::{Backend, TestServer};
use anyhow::{Context, Result};
use serde_json::Value;
use tollgate_ocr::pdf::testing::{assemble, encrypted, pdf, stream, with_contents};

/// The model set these tests read pages with: the fastest (PP-OCRv4; the default, v6, takes
/// about twice as long on a letter-size page), since what they test is the PDF's handling.
const FAST: &str = "/v1/ocr?model=pp-ocrv4";

async fn post(
    srv: &TestServer,
    key: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Result<(u16, Value)> {
    let resp = reqwest::Client::new()
        .post(srv.url(FAST))
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
        // Born digital, with text in Helvetica: its text layer, not OCR.
        assert_eq!(page["read_as"], "text_layer");
        assert_eq!(page["lines"][0]["confidence"], 1.0);
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

    // mode=page reads what the pages show with OCR, charged the same.
    let resp = reqwest::Client::new()
        .post(srv.url("/v1/ocr?mode=page&model=pp-ocrv4"))
        .header("x-api-key", &t.key)
        .header("content-type", "application/pdf")
        .body(doc.clone())
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await?;
    assert_eq!(
        body["text"], "Hello Tollgate page 1\n\u{c}\nHello Tollgate page 2",
        "{body}"
    );
    assert_eq!(body["pages"][0]["read_as"], "page");
    assert_eq!(body["pages"][1]["read_as"], "page");
    assert_eq!(body["usage"]["units"], 2);
    assert_eq!(units(&srv, &t.key).await?, 4);

    // As a multipart file, told by its header.
    let part = reqwest::multipart::Part::bytes(pdf(1, 300.0, 200.0, "Multipart", ""))
        .file_name("scan.bin");
    let resp = reqwest::Client::new()
        .post(srv.url(FAST))
        .header("x-api-key", &t.key)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await?;
    assert_eq!(body["text"], "Multipart 1", "{body}");
    assert_eq!(units(&srv, &t.key).await?, 5);

    // A retry with the same key gets the same pages back, charged nothing.
    let send = |key: &'static str| {
        let (srv, api_key, doc) = (&srv, t.key.clone(), doc.clone());
        async move {
            let resp = reqwest::Client::new()
                .post(srv.url(FAST))
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
    assert_eq!(units(&srv, &t.key).await?, 7);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_layer_that_is_not_the_page_is_not_trusted() -> Result<()> {
    let srv = TestServer::start(Backend::Sqlite).await?;
    let t = srv.tenant("ocr:read usage:read").await?;
    // A scan with an earlier OCR's invisible layer (here: words the page does not show).
    let doc = with_contents(
        400.0,
        150.0,
        &["BT /F1 28 Tf 40 70 Td (Seen by OCR) Tj ET \
           BT 3 Tr /F1 28 Tf 40 70 Td (Claimed words) Tj ET"
            .to_string()],
        "",
    );
    let (status, body) = post(&srv, &t.key, "application/pdf", doc).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["pages"][0]["read_as"], "page", "{body}");
    assert_eq!(body["text"], "Seen by OCR", "{body}");
    assert_eq!(units(&srv, &t.key).await?, 1);
    srv.stop().await
}

/// A page whose content is one 4 MB run of spaces (4 KB compressed) referenced `copies`
/// times: the renderer joins a page's content streams into one buffer, so the page asks for
/// `copies` x 4 MB of memory from a PDF of a few kilobytes.
fn content_bomb(copies: usize) -> Result<Vec<u8>> {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&vec![b' '; 4 << 20])?;
    let data = z.finish()?;
    let refs = vec!["4 0 R"; copies].join(" ");
    Ok(assemble(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents [{refs}] >>")
            .into_bytes(),
        stream(
            &format!("/Length {} /Filter /FlateDecode", data.len()),
            &data,
        ),
    ]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pdf_that_exhausts_the_renderer_costs_only_its_worker() -> Result<()> {
    let srv = TestServer::start(Backend::Sqlite).await?;
    let t = srv.tenant("ocr:read usage:read").await?;
    // 4 GB of content from about 20 KB: in the server's process this aborts it (a failed
    // allocation) or has it killed for memory; in the worker it ends the worker.
    let bomb = content_bomb(1000)?;
    assert!(bomb.len() < 32 << 10, "{} bytes", bomb.len());
    let (status, body) = post(&srv, &t.key, "application/pdf", bomb).await?;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "pdf_render_failed", "{body}");
    assert_eq!(units(&srv, &t.key).await?, 0);
    // The server is still here and reads the next document.
    let (status, body) = post(
        &srv,
        &t.key,
        "application/pdf",
        pdf(1, 400.0, 150.0, "Still serving", ""),
    )
    .await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["text"], "Still serving 1", "{body}");
    assert_eq!(units(&srv, &t.key).await?, 1);
    srv.stop().await
}

#[test]
fn a_worker_past_its_deadline_is_killed() -> Result<()> {
    use tollgate_ocr::pdf_worker::{PdfWorker, WorkerError};
    let worker = PdfWorker::new(crate::cli::binary()?);
    worker.probe(std::time::Duration::from_secs(10))?;
    let doc = worker
        .check(
            std::sync::Arc::new(pdf(1, 612.0, 792.0, "Deadline", "")),
            5,
            std::time::Duration::from_secs(10),
        )?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // The bomb's page takes seconds to expand; its deadline is 200 ms.
    let bomb = worker
        .check(
            std::sync::Arc::new(content_bomb(1000)?),
            5,
            std::time::Duration::from_secs(10),
        )?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let started = std::time::Instant::now();
    let outcome = worker.page(&bomb, 0, false, std::time::Duration::from_millis(200));
    assert!(matches!(outcome, Err(WorkerError::Timeout)), "{outcome:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    // An ordinary page renders, and its text layer is found when asked for.
    match worker.page(&doc, 0, false, std::time::Duration::from_secs(20))? {
        Ok(tollgate_ocr::pdf_worker::PageContent::Image(img)) => {
            assert_eq!(img.dimensions(), (2318, 3000))
        }
        other => anyhow::bail!("{other:?}"),
    }
    match worker.page(&doc, 0, true, std::time::Duration::from_secs(20))? {
        Ok(tollgate_ocr::pdf_worker::PageContent::Text(layer)) => {
            let lines: Vec<&str> = layer.lines.iter().map(|(l, _)| l.as_str()).collect();
            assert_eq!(lines, ["Deadline 1"]);
        }
        other => anyhow::bail!("{other:?}"),
    }
    Ok(())
}
