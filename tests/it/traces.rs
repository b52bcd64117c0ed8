//! OpenTelemetry traces: the real binary, with `OTEL_EXPORTER_OTLP_ENDPOINT` pointing at an
//! OTLP/HTTP receiver (tests/python/otlp_receiver.py, decoding with `opentelemetry-proto`),
//! exports one metered OCR call as one trace: the server span `POST /v1/ocr` carrying the
//! request id, and under it authentication, throttling, admission, decoding, the OCR queue and
//! inference, and the usage commit — even with logs turned down to `warn`.

use crate::cli::binary;
use crate::harness::{fixture, wait_for, Backend, ServerSpec};
use crate::python::KillOnDrop;
use anyhow::{Context, Result};
use serde_json::Value;
use std::collections::HashMap;
use std::process::{Command, Stdio};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_metered_call_is_one_trace_of_its_stages() -> Result<()> {
    let (receiver, port) = crate::python::server("otlp_receiver.py", "opentelemetry-proto")?;
    let otlp = format!("http://127.0.0.1:{port}");

    let spec = ServerSpec::new(Backend::Postgres, false).await?;
    let seed = spec.start().await?;
    let t = seed.tenant("ocr:read").await?;
    seed.stop().await?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let server = KillOnDrop(
        Command::new(binary()?)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("TOLLGATE_DATA_DIR", &spec.data_dir)
            .env("TOLLGATE_MASTER_KEY", spec.master_key.to_base64())
            .env(
                "DATABASE_URL",
                spec.database_url.as_deref().context("PostgreSQL")?,
            )
            .env_remove("REDIS_URL")
            .env("RUST_LOG", "warn")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", &otlp)
            .env("OTEL_BSP_SCHEDULE_DELAY", "200")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );
    let base = format!("http://127.0.0.1:{port}");
    wait_for(|| async {
        Ok(reqwest::get(format!("{base}/readyz"))
            .await
            .is_ok_and(|r| r.status() == 200)
            .then_some(()))
    })
    .await
    .context("the server did not become ready")?;

    let request_id = format!("trace-{}", uuid::Uuid::new_v4().simple());
    let resp = reqwest::Client::new()
        .post(format!("{base}/v1/ocr"))
        .header("x-api-key", &t.key)
        .header("x-request-id", &request_id)
        .header("content-type", "image/png")
        .body(fixture("hello.png")?)
        .send()
        .await?;
    assert_eq!(resp.status(), 200);

    let http = reqwest::Client::new();
    let wanted = [
        "authenticate",
        "throttle",
        "admit",
        "ocr.decode",
        "ocr.queue",
        "ocr.inference",
        "usage.commit",
    ];
    let spans = wait_for(|| async {
        let all: Vec<Value> = http
            .get(format!("{otlp}/_spans"))
            .send()
            .await?
            .json()
            .await?;
        let Some(root) = all
            .iter()
            .find(|s| s["attributes"]["request_id"] == request_id.as_str())
        else {
            return Ok(None);
        };
        let trace: Vec<Value> = all
            .iter()
            .filter(|s| s["trace_id"] == root["trace_id"])
            .cloned()
            .collect();
        let names: Vec<&str> = trace.iter().filter_map(|s| s["name"].as_str()).collect();
        Ok(wanted.iter().all(|w| names.contains(w)).then_some(trace))
    })
    .await
    .context("the trace of the call did not arrive whole")?;

    let root = spans
        .iter()
        .find(|s| s["attributes"]["request_id"] == request_id.as_str())
        .context("root")?;
    assert_eq!(root["name"], "POST /v1/ocr");
    assert_eq!(root["kind"], 2, "a server span");
    assert_eq!(root["parent_span_id"], "", "the root of its trace");
    assert_eq!(root["service"], "tollgate");
    assert_eq!(root["attributes"]["http.request.method"], "POST");
    assert_eq!(root["attributes"]["http.route"], "/v1/ocr");
    assert_eq!(root["attributes"]["http.response.status_code"], 200);
    // Every stage hangs under the request span, and lies within it in time.
    let by_id: HashMap<&str, &Value> = spans
        .iter()
        .filter_map(|s| Some((s["span_id"].as_str()?, s)))
        .collect();
    let root_id = root["span_id"].as_str().context("span_id")?;
    for name in wanted {
        let span = spans.iter().find(|s| s["name"] == name).context(name)?;
        let mut at = span;
        let mut hops = 0;
        while at["span_id"] != root_id {
            let parent = at["parent_span_id"].as_str().unwrap_or_default();
            at = by_id
                .get(parent)
                .with_context(|| format!("{name}: parent {parent} not in the trace"))?;
            hops += 1;
            anyhow::ensure!(hops < 10, "{name}: no path to the request span");
        }
        let (start, end) = (span["start"].as_u64(), span["end"].as_u64());
        assert!(
            start >= root["start"].as_u64() && end <= root["end"].as_u64(),
            "{name} outside the request: {span}"
        );
    }
    let order = |n: &str| {
        spans
            .iter()
            .find(|s| s["name"] == n)
            .and_then(|s| s["start"].as_u64())
    };
    assert!(
        order("admit") < order("ocr.queue") && order("ocr.inference") < order("usage.commit"),
        "{spans:#?}"
    );
    drop(server);
    drop(receiver);
    Ok(())
}
