//! PDFs are parsed and rendered in a child process, one per document check and one per page,
//! so a document that makes the renderer misbehave costs that child and nothing else.
//!
//! Why: hayro (like any PDF renderer) allocates what a document declares, has no
//! cancellation, and does not bound stream decompression. In the server process a crafted
//! document could abort the process (a failed allocation) or keep a thread busy after its
//! request was answered. In a child it runs under an address-space limit (`RLIMIT_AS`), a CPU
//! limit, no core dumps, an empty environment (no secret of the server's reaches it), dies
//! with its parent (`PR_SET_PDEATHSIG`), and is killed at its deadline.
//!
//! The child is the server's own executable run as `<program> <args…> <memory> <cpu> check
//! <max_pages>` or `… page <index> text|image`, with the PDF on its standard input; it sets
//! its own limits (`memory` bytes of address space, `cpu` seconds) before reading anything. It writes
//! one JSON line ([`Reply`]) and, for a rendered page, the page's RGB pixels after it.

use crate::pdf::{self, CheckedPdf, PdfError, TextLayer};
use image::RgbImage;
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How the PDF child process is started.
#[derive(Debug, Clone)]
pub struct PdfWorker {
    /// The executable (the server's own).
    pub program: PathBuf,
    /// Arguments before the worker's own (the subcommand that runs [`main`]).
    pub args: Vec<OsString>,
    /// The child's address-space limit in bytes.
    pub memory_limit: u64,
}

/// The default address-space limit of a PDF child: room for a 3000 x 3000 px page being
/// rendered several times over, and the executable's own mappings.
pub const DEFAULT_MEMORY_LIMIT: u64 = 2 << 30;

/// What the child answers, as the first line of its output.
#[derive(Debug, Serialize, Deserialize)]
pub enum Reply {
    /// The protocol version, for `probe`.
    Probe(u32),
    /// The document passed [`pdf::check`]: its pages' sizes in points.
    Checked(Vec<(f32, f32)>),
    /// A rendered page: `width x height x 3` bytes of RGB follow.
    Image {
        /// Pixels.
        width: u32,
        /// Pixels.
        height: u32,
    },
    /// The page's usable text layer (no pixels follow).
    Text(TextLayer),
    /// The document or page is refused.
    Refused(PdfError),
}

/// The subcommand of the server's executable that runs [`main`].
pub const SUBCOMMAND: &str = "pdf-worker";

/// This build's protocol version.
pub const PROTOCOL: u32 = 2;

/// What a page holds, from the child or in-process.
#[derive(Debug)]
pub enum PageContent {
    /// Rendered, to be read by OCR.
    Image(RgbImage),
    /// Its text layer, used instead of OCR.
    Text(TextLayer),
}

/// Why the child gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// It ran past its deadline and was killed.
    #[error("the PDF worker ran past its deadline")]
    Timeout,
    /// It died (a signal, an abort on a failed allocation, a panic).
    #[error("the PDF worker failed: {0}")]
    Crashed(String),
    /// It could not be started, or answered something unreadable: ours to fix, not the
    /// caller's.
    #[error("the PDF worker could not be used: {0}")]
    Broken(String),
}

impl PdfWorker {
    /// The worker in `program` (the server's executable), with the default memory limit.
    pub fn new(program: PathBuf) -> Self {
        Self {
            program,
            args: vec![SUBCOMMAND.into()],
            memory_limit: DEFAULT_MEMORY_LIMIT,
        }
    }

    /// Whether the program answers as this build's worker (run once at start-up).
    pub fn probe(&self, limit: Duration) -> Result<(), WorkerError> {
        match self.run(Arc::default(), &["probe".into()], limit, 1 << 10)? {
            (Reply::Probe(PROTOCOL), _) => Ok(()),
            (other, _) => Err(WorkerError::Broken(format!(
                "{} answered {other:?} to a probe",
                self.program.display()
            ))),
        }
    }

    /// Checks a document in the child (see [`pdf::check`]).
    pub fn check(
        &self,
        bytes: Arc<Vec<u8>>,
        max_pages: u32,
        limit: Duration,
    ) -> Result<Result<CheckedPdf, PdfError>, WorkerError> {
        let args = ["check".to_string(), max_pages.to_string()];
        match self.run(bytes.clone(), &args, limit, 1 << 20)? {
            (Reply::Checked(sizes), _) => Ok(Ok(CheckedPdf::from_parts(bytes, sizes))),
            (Reply::Refused(e), _) => Ok(Err(e)),
            (other, _) => Err(WorkerError::Broken(format!("check answered {other:?}"))),
        }
    }

    /// Page `index` of a checked document, from its text layer when `text` and the layer is
    /// usable, rendered otherwise.
    pub fn page(
        &self,
        doc: &CheckedPdf,
        index: usize,
        text: bool,
        limit: Duration,
    ) -> Result<Result<PageContent, PdfError>, WorkerError> {
        let (w, h) = doc
            .render_size(index)
            .ok_or_else(|| WorkerError::Broken(format!("no page {index}")))?;
        // The pixels, and a text layer's JSON (a page of small type holds a few thousand words).
        let max = (w as usize + 1) * (h as usize + 1) * 3 + (8 << 20);
        let kind = if text { "text" } else { "image" };
        let args = ["page".to_string(), index.to_string(), kind.to_string()];
        match self.run(doc.bytes().clone(), &args, limit, max)? {
            (Reply::Image { width, height }, pixels) => {
                let image = RgbImage::from_raw(width, height, pixels).ok_or_else(|| {
                    WorkerError::Broken(format!("a {width}x{height} page with the wrong size"))
                })?;
                Ok(Ok(PageContent::Image(image)))
            }
            (Reply::Text(layer), _) => Ok(Ok(PageContent::Text(layer))),
            (Reply::Refused(e), _) => Ok(Err(e)),
            (other, _) => Err(WorkerError::Broken(format!("page answered {other:?}"))),
        }
    }

    /// Runs the child with `input` on its standard input, reading at most `max_out` bytes of
    /// its output, killing it at `limit`.
    fn run(
        &self,
        input: Arc<Vec<u8>>,
        args: &[String],
        limit: Duration,
        max_out: usize,
    ) -> Result<(Reply, Vec<u8>), WorkerError> {
        let deadline = Instant::now() + limit;
        let memory = self.memory_limit;
        let cpu_seconds = limit.as_secs() + 1;
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args)
            .arg(memory.to_string())
            .arg(cpu_seconds.to_string())
            .args(args)
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd
            .spawn()
            .map_err(|e| WorkerError::Broken(format!("{}: {e}", self.program.display())))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        // A child that stops reading (it died) ends the write with an error, which is ignored:
        // its exit status says what happened.
        let writer = std::thread::spawn(move || {
            if let Some(mut stdin) = stdin {
                let _ = stdin.write_all(&input);
            }
        });
        let reader = std::thread::spawn(move || -> std::io::Result<Vec<u8>> {
            let mut out = Vec::new();
            if let Some(stdout) = stdout {
                stdout.take(max_out as u64 + 1).read_to_end(&mut out)?;
            }
            Ok(out)
        });
        let mut pause = Duration::from_millis(1);
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let _ = writer.join();
                    let _ = reader.join();
                    return Err(WorkerError::Timeout);
                }
                Ok(None) => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(10));
                }
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(WorkerError::Broken(format!("waiting for the worker: {e}")));
                }
            }
        };
        let _ = writer.join();
        let out = reader
            .join()
            .map_err(|_| WorkerError::Broken("the output reader panicked".into()))?
            .map_err(|e| WorkerError::Broken(format!("reading the worker: {e}")))?;
        if !status.success() {
            return Err(WorkerError::Crashed(status.to_string()));
        }
        if out.len() > max_out {
            return Err(WorkerError::Broken(format!(
                "the worker wrote more than {max_out} bytes"
            )));
        }
        let end = out
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| WorkerError::Broken("no answer line".into()))?;
        let reply: Reply = serde_json::from_slice(&out[..end])
            .map_err(|e| WorkerError::Broken(format!("unreadable answer: {e}")))?;
        Ok((reply, out[end + 1..].to_vec()))
    }
}

/// In the child, before it reads anything: its limits, and death with its parent.
fn limit_self(memory: u64, cpu_seconds: u64) -> std::io::Result<()> {
    use rustix::process::{setrlimit, Resource, Rlimit};
    let set = |resource, value: u64| {
        setrlimit(
            resource,
            Rlimit {
                current: Some(value),
                maximum: Some(value),
            },
        )
    };
    set(Resource::As, memory)?;
    set(Resource::Cpu, cpu_seconds)?;
    set(Resource::Core, 0)?;
    // When memory runs out on the machine, the kernel kills a worker before the server.
    std::fs::write("/proc/self/oom_score_adj", "1000")?;
    rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))?;
    // The parent may have died before the line above; then the child was handed to init.
    if rustix::process::getppid().is_none_or(|p| p.as_raw_nonzero().get() == 1) {
        return Err(std::io::Error::other("the parent is gone"));
    }
    Ok(())
}

/// The child's side: `args` are the worker's own arguments (after the subcommand), the PDF is
/// on standard input, the answer goes to standard output. Returns the exit code.
pub fn main(args: &[String]) -> i32 {
    let mut out = std::io::stdout().lock();
    let reply = |out: &mut dyn Write, reply: &Reply, tail: &[u8]| -> i32 {
        let Ok(mut line) = serde_json::to_vec(reply) else {
            return 3;
        };
        line.push(b'\n');
        if out.write_all(&line).is_err() || out.write_all(tail).is_err() || out.flush().is_err() {
            return 3;
        }
        0
    };
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // The limits come first: `<memory bytes> <cpu seconds>`.
    let [memory, cpu, args @ ..] = args.as_slice() else {
        return 2;
    };
    let (Ok(memory), Ok(cpu)) = (memory.parse::<u64>(), cpu.parse::<u64>()) else {
        return 2;
    };
    if limit_self(memory, cpu).is_err() {
        return 4;
    }
    if args == ["probe"] {
        return reply(&mut out, &Reply::Probe(PROTOCOL), &[]);
    }
    let mut bytes = Vec::new();
    if std::io::stdin().lock().read_to_end(&mut bytes).is_err() {
        return 2;
    }
    match args {
        ["check", max] => {
            let Ok(max) = max.parse::<u32>() else {
                return 2;
            };
            match pdf::check(bytes, max) {
                Ok(doc) => reply(&mut out, &Reply::Checked(doc.sizes().to_vec()), &[]),
                Err(e) => reply(&mut out, &Reply::Refused(e), &[]),
            }
        }
        ["page", index, kind @ ("text" | "image")] => {
            let Ok(index) = index.parse::<usize>() else {
                return 2;
            };
            // The parent checked the document; this child only renders.
            let doc = CheckedPdf::unchecked(bytes);
            match render_page(&doc, index, *kind == "text") {
                Ok(PageContent::Text(layer)) => reply(&mut out, &Reply::Text(layer), &[]),
                Ok(PageContent::Image(image)) => {
                    let (width, height) = image.dimensions();
                    reply(&mut out, &Reply::Image { width, height }, image.as_raw())
                }
                Err(e) => reply(&mut out, &Reply::Refused(e), &[]),
            }
        }
        _ => 2,
    }
}

/// Page `index`, in this process: its text layer when `text` and usable, rendered otherwise.
pub fn render_page(doc: &CheckedPdf, index: usize, text: bool) -> Result<PageContent, PdfError> {
    if text {
        if let Some(layer) = pdf::text_layer(doc, index)? {
            return Ok(PageContent::Text(layer));
        }
    }
    let (image, _dpi) = pdf::render(doc, index)?;
    Ok(PageContent::Image(image))
}
