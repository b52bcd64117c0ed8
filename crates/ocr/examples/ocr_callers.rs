//! Pages/s and peak memory of the engine under concurrent callers: `--callers N` tasks each
//! take the next page of the evaluation set (`eval/make_dataset.py`) and read it through
//! `Engine::read` (the path `POST /v1/ocr` takes: decode, memory budget, queue, batches of
//! pages, the models on every core), until `--pages N` pages are read. The engine warms up on
//! one page first; then the peak-RSS mark is reset and the clock starts. Every page must be
//! read (a failure stops the bench); it prints one JSON line. `--model pp-ocrv4` picks the
//! model set (the server's default when absent; RapidOCR's is v4). `eval/callers_rapidocr.py`
//! runs RapidOCR the same way, in N processes.
//!
//! ```sh
//! cargo run --release -p tollgate-ocr --example ocr_callers -- --callers 8 --pages 20 --model pp-ocrv4
//! ```

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a bench binary fails loudly"
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tollgate_ocr::{DeviceKind, EngineConfig, Mode, ModelSet};

fn flag(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_owned())
}

/// `VmHWM` of this process, in MiB.
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .expect("VmHWM");
    kb / 1024.0
}

fn main() {
    // The server's allocator settings, before the runtime starts its threads.
    tollgate_ocr::malloc::tune();
    run();
}

#[tokio::main]
async fn run() {
    let callers: usize = flag("--callers", "8").parse().expect("--callers N");
    let count: usize = flag("--pages", "20").parse().expect("--pages N");
    let data = std::path::PathBuf::from(flag("--data", "eval/data"));
    let manifest = std::fs::read_to_string(data.join("pages.jsonl")).expect("pages.jsonl");
    let pages: Vec<Vec<u8>> = manifest
        .lines()
        .take(count)
        .map(|l| {
            let row: serde_json::Value = serde_json::from_str(l).expect("a manifest row");
            let file = row["file"].as_str().expect("file");
            std::fs::read(data.join(file)).expect("a page")
        })
        .collect();
    assert_eq!(pages.len(), count, "the set has {} pages", pages.len());
    let config = EngineConfig {
        timeout: Duration::from_secs(600),
        queue_capacity: callers.max(16),
        ..EngineConfig::default()
    };
    let engine = Arc::new(tollgate_ocr::start(DeviceKind::Cpu, config).expect("engine"));
    assert!(engine.wait_ready(Duration::from_secs(300)).await, "models");
    let model = match flag("--model", "") {
        id if id.is_empty() => engine.default_model(),
        id => ModelSet::from_id(&id).unwrap_or_else(|| panic!("unknown model set {id}")),
    };
    engine
        .read(pages[0].clone(), None, Mode::Auto, model)
        .await
        .expect("the warm-up page");
    // Linux: writing 5 to clear_refs resets the peak-RSS mark (VmHWM) to the current RSS.
    std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
    let pages = Arc::new(pages);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let (engine, pages, next) = (engine.clone(), pages.clone(), next.clone());
            tokio::spawn(async move {
                let mut lines = 0;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(page) = pages.get(i) else {
                        return lines;
                    };
                    let out = engine
                        .read(page.clone(), None, Mode::Auto, model)
                        .await
                        .unwrap_or_else(|e| panic!("page {i}: {e}"));
                    lines += out.page.lines.len();
                }
            })
        })
        .collect();
    let mut lines = 0;
    for t in tasks {
        lines += t.await.expect("a caller");
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "engine": "tollgate", "model": model.id(), "callers": callers, "pages": count, "lines_read": lines,
            "seconds": seconds, "pages_per_s": count as f64 / seconds,
            "peak_rss_mib": peak_mib().round(),
            "threads": std::thread::available_parallelism().map_or(1, |n| n.get()),
        })
    );
}
