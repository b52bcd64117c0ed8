//! Peak memory of reading large images through the engine (`Engine::read`, the path
//! `POST /v1/ocr` takes: decode under the image limits, queue, batch, read). It makes a
//! grayscale PNG of `--side` × `--side` pixels that compresses to little (white with dark
//! word-like strokes: a small upload that decodes huge), warms the engine up, resets the
//! process's peak-RSS mark, then reads `--parallel` copies at once and prints one JSON line:
//! the encoded size, the resident set before, the peak during, and the wall time. `--blank 1`
//! makes a page without strokes (decoding and detection only).
//!
//! ```sh
//! cargo run --release -p tollgate-ocr --example ocr_rss -- --side 6300 --parallel 1
//! ```

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a bench binary fails loudly"
)]

use std::io::Cursor;
use std::time::{Duration, Instant};
use tollgate_ocr::{DeviceKind, EngineConfig};

fn flag(name: &str, default: u32) -> u32 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

/// `VmRSS` or `VmHWM` of this process, in MiB.
fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .expect("a status field");
    kb / 1024.0
}

fn page(side: u32, blank: bool) -> Vec<u8> {
    let img = image::GrayImage::from_fn(side, side, |x, y| {
        let line = !blank && (y / 90) % 3 == 1 && (y % 90) < 40;
        let word = (x / 260) % 4 != 3 && (x / 18) % 3 != 0;
        let margin = x > side / 20 && x < side - side / 20;
        if line && word && margin {
            image::Luma([15])
        } else {
            image::Luma([255])
        }
    });
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .expect("encode");
    out
}

fn main() {
    // The server's allocator settings, before the runtime starts its threads.
    tollgate_ocr::malloc::tune();
    run();
}

#[tokio::main]
async fn run() {
    let side = flag("--side", 6300);
    let parallel = flag("--parallel", 1) as usize;
    // `--blank 1`: no strokes, so only decoding and detection run (no crops to read).
    let bytes = page(side, flag("--blank", 0) == 1);
    let config = EngineConfig {
        timeout: Duration::from_secs(600),
        ..EngineConfig::default()
    };
    let engine = tollgate_ocr::start(DeviceKind::Cpu, config).expect("engine");
    assert!(engine.wait_ready(Duration::from_secs(300)).await, "models");
    let before = status_mib("VmRSS:");
    // Linux: writing 5 to clear_refs resets the peak-RSS mark (VmHWM) to the current RSS.
    std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
    let started = Instant::now();
    let engine = std::sync::Arc::new(engine);
    let tasks: Vec<_> = (0..parallel)
        .map(|_| {
            let (engine, bytes) = (engine.clone(), bytes.clone());
            let model = engine.default_model();
            tokio::spawn(async move {
                engine
                    .read(bytes, None, tollgate_ocr::Mode::Page, model)
                    .await
            })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.expect("task"));
    }
    let seconds = started.elapsed().as_secs_f64();
    let peak = status_mib("VmHWM:");
    let lines: Vec<usize> = results
        .into_iter()
        .map(|r| r.map(|o| o.page.lines.len()).unwrap_or(0))
        .collect();
    println!(
        "{}",
        serde_json::json!({
            "side": side, "parallel": parallel, "encoded_bytes": bytes.len(),
            "rss_before_mib": before.round(), "peak_rss_mib": peak.round(),
            "peak_over_before_mib": (peak - before).round(), "seconds": seconds,
            "lines_read": lines,
        })
    );
}
