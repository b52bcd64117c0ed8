//! The OCR evaluation bench: reads the evaluation set written by `eval/make_dataset.py` with
//! Tollgate's pipeline, one image at a time on one thread (as the baselines run), and writes
//! results in the format `eval/run_baselines.py --tollgate-results` scores (one JSON object
//! per line, with a `meta` record carrying timing and peak memory).
//!
//! ```sh
//! cargo run --release -p tollgate-ocr --example ocr_eval -- \
//!     --data eval/data --mode full --out eval/results/tollgate.jsonl
//! ```
//!
//! `--model pp-ocrv5` picks the model set (the server's default when absent).
//! `--mode rec` reads line images with recognition only (no detection, no angle
//! classification), like RapidOCR's rec-only row; `--mode full` runs the whole pipeline on
//! lines and pages. `--limit N` uses the first N lines and N/10 pages. Timing covers
//! inference only: each image is decoded before its clock starts.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a bench binary fails loudly"
)]

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tollgate_ocr::burn_runner::BurnRunner;
use tollgate_ocr::{Charset, ModelSet, Pipeline, PipelineConfig, DEFAULT_MODEL};

struct Args {
    data: PathBuf,
    out: PathBuf,
    mode: String,
    limit: Option<usize>,
    model: ModelSet,
}

fn args() -> Args {
    let mut a = Args {
        data: "eval/data".into(),
        out: "eval/results/tollgate.jsonl".into(),
        mode: "full".into(),
        limit: None,
        model: DEFAULT_MODEL,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--data" => a.data = value.into(),
            "--out" => a.out = value.into(),
            "--mode" => a.mode = value,
            "--limit" => a.limit = Some(value.parse().expect("--limit takes a number")),
            "--model" => {
                a.model = ModelSet::from_id(&value)
                    .unwrap_or_else(|| panic!("unknown model set {value}"));
            }
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(a.mode == "full" || a.mode == "rec", "--mode is full or rec");
    a
}

fn manifest(path: &std::path::Path, limit: Option<usize>) -> Vec<serde_json::Value> {
    let file = std::fs::File::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}; run eval/make_dataset.py", path.display()));
    let rows = std::io::BufReader::new(file)
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap());
    match limit {
        Some(n) => rows.take(n).collect(),
        None => rows.collect(),
    }
}

/// Peak resident memory of this process, from the kernel.
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let a = args();
    let started = Instant::now();
    let mut runner = BurnRunner::cpu(a.model);
    let pipeline = Pipeline::new(
        PipelineConfig::default(),
        Charset::from_dictionary(a.model.dictionary()),
    );
    eprintln!("models loaded in {:.2}s", started.elapsed().as_secs_f64());
    let load = |file: &str| {
        image::open(a.data.join(file))
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .to_rgb8()
    };

    let mut records = Vec::new();
    let lines = manifest(&a.data.join("lines.jsonl"), a.limit);
    let mut lines_time = Duration::ZERO;
    for row in &lines {
        let file = row["file"].as_str().unwrap();
        let img = load(file);
        let t = Instant::now();
        let text = if a.mode == "rec" {
            pipeline
                .read_lines(&mut runner, &[&img])
                .unwrap()
                .remove(0)
                .text
        } else {
            let page = pipeline.read(&mut runner, &[&img]).unwrap().remove(0);
            page.lines
                .iter()
                .map(|l| l.text.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let took = t.elapsed();
        lines_time += took;
        records.push(
            serde_json::json!({ "file": file, "text": text, "ms": took.as_secs_f64() * 1000.0 }),
        );
    }
    eprintln!(
        "{} lines: {:.1} lines/s",
        lines.len(),
        lines.len() as f64 / lines_time.as_secs_f64()
    );

    let pages = if a.mode == "full" {
        manifest(&a.data.join("pages.jsonl"), a.limit.map(|n| n / 10))
    } else {
        Vec::new()
    };
    let mut pages_time = Duration::ZERO;
    for row in &pages {
        let file = row["file"].as_str().unwrap();
        let img = load(file);
        let t = Instant::now();
        let page = pipeline.read(&mut runner, &[&img]).unwrap().remove(0);
        let took = t.elapsed();
        pages_time += took;
        let texts: Vec<&str> = page.lines.iter().map(|l| l.text.as_str()).collect();
        records.push(
            serde_json::json!({ "file": file, "lines": texts, "ms": took.as_secs_f64() * 1000.0 }),
        );
    }
    if !pages.is_empty() {
        eprintln!(
            "{} pages: {:.3} pages/s",
            pages.len(),
            pages.len() as f64 / pages_time.as_secs_f64()
        );
    }

    let meta = serde_json::json!({ "meta": {
        "engine": if a.mode == "rec" { "tollgate_rec" } else { "tollgate" },
        "threads": 1,
        "lines_count": lines.len(),
        "lines_seconds": lines_time.as_secs_f64(),
        "pages_count": pages.len(),
        "pages_seconds": pages_time.as_secs_f64(),
        "peak_rss_kb": peak_rss_kb(),
    }});
    if let Some(dir) = a.out.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(&a.out).unwrap());
    writeln!(out, "{meta}").unwrap();
    for r in records {
        writeln!(out, "{r}").unwrap();
    }
    eprintln!("wrote {}", a.out.display());
}
