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
//! `--model pp-ocrv5` picks the model set (the server's default when absent). `--device cuda`
//! runs it on the GPU (a build with `--features cuda`; PP-OCRv4 only). `--compare DEVICE` also
//! runs every forward pass on a second device and prints the largest absolute difference of
//! each model's outputs (`scripts/gpu-check` compares CPU and CUDA; `--compare cpu` on CPU
//! checks the comparison itself: 0).
//! `--mode rec` reads line images with recognition only (no detection, no angle
//! classification), like RapidOCR's rec-only row; `--mode full` runs the whole pipeline on
//! lines and pages. `--limit N` uses the first N lines and N/10 pages; `--pages a.png,b.png`
//! only those pages (with `OCR_EVAL_BOXES=1` in the environment, also the detector's boxes on
//! each, to standard error). Timing covers
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
use tollgate_ocr::tensor::Tensor;
use tollgate_ocr::{Charset, ModelRunner, ModelSet, Pipeline, RunnerError, DEFAULT_MODEL};

struct Args {
    data: PathBuf,
    out: PathBuf,
    mode: String,
    limit: Option<usize>,
    model: ModelSet,
    device: String,
    compare: Option<String>,
    /// Only these page files, and no lines (a quick look at some pages).
    pages: Option<Vec<String>>,
}

fn args() -> Args {
    let mut a = Args {
        data: "eval/data".into(),
        out: "eval/results/tollgate.jsonl".into(),
        mode: "full".into(),
        limit: None,
        model: DEFAULT_MODEL,
        device: "cpu".into(),
        compare: None,
        pages: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--data" => a.data = value.into(),
            "--out" => a.out = value.into(),
            "--mode" => a.mode = value,
            "--limit" => a.limit = Some(value.parse().expect("--limit takes a number")),
            "--pages" => a.pages = Some(value.split(',').map(str::to_owned).collect()),
            "--device" => a.device = value,
            "--compare" => a.compare = Some(value),
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

/// A runner for `device` (`cpu`, or `cuda` in a build with the `cuda` feature).
fn runner(device: &str, model: ModelSet) -> Box<dyn ModelRunner> {
    match device {
        "cpu" => Box::new(BurnRunner::cpu(model)),
        "cuda" => cuda(model),
        other => panic!("unknown device {other}: cpu or cuda"),
    }
}

#[cfg(feature = "cuda")]
fn cuda(model: ModelSet) -> Box<dyn ModelRunner> {
    assert!(
        model == ModelSet::V4,
        "the CUDA runner carries pp-ocrv4 only"
    );
    Box::new(tollgate_ocr::cuda_runner::CudaRunner::load(0).unwrap_or_else(|e| panic!("{e}")))
}

#[cfg(not(feature = "cuda"))]
fn cuda(_: ModelSet) -> Box<dyn ModelRunner> {
    panic!("this build has no CUDA runner: build the example with --features cuda")
}

/// Runs every forward pass on two runners, answers with the first's output, and keeps the
/// largest absolute difference between their outputs per model.
struct Compare {
    first: Box<dyn ModelRunner>,
    second: Box<dyn ModelRunner>,
    /// Detection, classification, recognition.
    max: [f32; 3],
}

impl Compare {
    fn both(
        &mut self,
        model: usize,
        input: &Tensor,
        run: impl Fn(&mut dyn ModelRunner, &Tensor) -> Result<Tensor, RunnerError>,
    ) -> Result<Tensor, RunnerError> {
        let a = run(self.first.as_mut(), input)?;
        let b = run(self.second.as_mut(), input)?;
        if a.shape != b.shape {
            return Err(RunnerError(format!(
                "the devices' output shapes differ: {:?} and {:?}",
                a.shape, b.shape
            )));
        }
        let worst = a
            .data
            .iter()
            .zip(&b.data)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        self.max[model] = self.max[model].max(worst);
        Ok(a)
    }
}

impl ModelRunner for Compare {
    fn detect(&mut self, page: &Tensor) -> Result<Tensor, RunnerError> {
        self.both(0, page, |r, t| r.detect(t))
    }
    fn classify(&mut self, crops: &Tensor) -> Result<Tensor, RunnerError> {
        self.both(1, crops, |r, t| r.classify(t))
    }
    fn recognize(&mut self, crops: &Tensor) -> Result<Tensor, RunnerError> {
        self.both(2, crops, |r, t| r.recognize(t))
    }
    fn device(&self) -> String {
        format!("{} vs {}", self.first.device(), self.second.device())
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

/// The runner to read with: the comparison when there is one.
fn run<'a>(
    single: &'a mut Option<Box<dyn ModelRunner>>,
    compare: &'a mut Option<Compare>,
) -> &'a mut dyn ModelRunner {
    match (single, compare) {
        (_, Some(c)) => c,
        (Some(r), None) => r.as_mut(),
        (None, None) => unreachable!("a runner is always built"),
    }
}

fn main() {
    // The server's allocator settings (see tollgate_ocr::malloc), so speed is the server's.
    tollgate_ocr::malloc::tune();
    // And its threads: the engine runs the models inside its own rayon pool, so the kernels'
    // parallel loops start on the calling thread (`RAYON_NUM_THREADS` sets the size).
    rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("ocr-kernel-{i}"))
        .build()
        .unwrap_or_else(|e| panic!("cannot start the OCR thread pool: {e}"))
        .install(eval);
}

fn eval() {
    let a = args();
    let started = Instant::now();
    let mut compare = a.compare.as_deref().map(|other| Compare {
        first: runner(&a.device, a.model),
        second: runner(other, a.model),
        max: [0.0; 3],
    });
    let mut single = match compare {
        Some(_) => None,
        None => Some(runner(&a.device, a.model)),
    };
    let pipeline = Pipeline::new(
        tollgate_ocr::pipeline_config(a.model),
        Charset::from_dictionary(a.model.dictionary()),
    );
    eprintln!("models loaded in {:.2}s", started.elapsed().as_secs_f64());
    let load = |file: &str| {
        image::open(a.data.join(file))
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .to_rgb8()
    };

    let mut records = Vec::new();
    let lines = match a.pages {
        Some(_) => Vec::new(),
        None => manifest(&a.data.join("lines.jsonl"), a.limit),
    };
    let mut lines_time = Duration::ZERO;
    for row in &lines {
        let file = row["file"].as_str().unwrap();
        let img = load(file);
        let t = Instant::now();
        let text = if a.mode == "rec" {
            pipeline
                .read_lines(run(&mut single, &mut compare), &[&img])
                .unwrap()
                .remove(0)
                .text
        } else {
            let page = pipeline
                .read(run(&mut single, &mut compare), &[&img])
                .unwrap()
                .remove(0);
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

    let pages = if let Some(only) = &a.pages {
        manifest(&a.data.join("pages.jsonl"), None)
            .into_iter()
            .filter(|row| only.iter().any(|f| row["file"] == f.as_str()))
            .collect()
    } else if a.mode == "full" {
        manifest(&a.data.join("pages.jsonl"), a.limit.map(|n| n / 10))
    } else {
        Vec::new()
    };
    let mut pages_time = Duration::ZERO;
    for row in &pages {
        let file = row["file"].as_str().unwrap();
        let img = load(file);
        if std::env::var_os("OCR_EVAL_BOXES").is_some() {
            // Diagnostics: the detector's boxes on this page, as axis-aligned bounds.
            let det = &pipeline.config().det;
            let input = tollgate_ocr::detect::prepare(&img, det);
            let runner = run(&mut single, &mut compare);
            let prob = tollgate_ocr::detect::run(&input.tensor, det, |t| runner.detect(t)).unwrap();
            for b in tollgate_ocr::detect::boxes(&prob, &input, img.width(), img.height(), det) {
                let xs = b.corners.map(|p| p[0]);
                let ys = b.corners.map(|p| p[1]);
                eprintln!(
                    "box {:.0} {:.0} {:.0} {:.0} {:.2}",
                    xs.iter().copied().fold(f32::MAX, f32::min),
                    ys.iter().copied().fold(f32::MAX, f32::min),
                    xs.iter().copied().fold(f32::MIN, f32::max),
                    ys.iter().copied().fold(f32::MIN, f32::max),
                    b.score
                );
            }
        }
        let t = Instant::now();
        let page = pipeline
            .read(run(&mut single, &mut compare), &[&img])
            .unwrap()
            .remove(0);
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

    if let Some(c) = &compare {
        println!(
            "{}",
            serde_json::json!({
                "devices": c.device(),
                "max_abs_diff": {
                    "detection": c.max[0], "classification": c.max[1], "recognition": c.max[2],
                },
            })
        );
    }
    let meta = serde_json::json!({ "meta": {
        "engine": if a.mode == "rec" { "tollgate_rec" } else { "tollgate" },
        "device": a.device,
        "model": a.model.id(),
        "threads": rayon::current_num_threads(),
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
