//! The batching executor. Callers decode their image on the blocking pool, then queue it; one
//! worker thread owns a model runner per model set, takes whatever is queued (up to a batch)
//! and reads the pages of each set together, so concurrent callers share classification and
//! recognition batches. The queue is bounded: when it is full a caller is refused at once
//! (the API answers 503 with `Retry-After`) instead of memory growing. Every job carries a
//! deadline; the worker skips jobs whose deadline passed or whose caller went away.
//!
//! Memory is bounded too, not only the queue's length: before a page is decoded its cost is
//! estimated from its header (the decoded image in its own format, the working image, the
//! detector's activations at its input size) and reserved against the engine's memory
//! budget until the page is read; a page that cannot get its share before its deadline is
//! refused as busy. Pages are read at a working size (at most twice the detector's side,
//! reached by a whole-factor shrink), so a huge page costs its decoded size only while it is
//! being shrunk; detection runs in tiles, so its activations are bounded by a tile.

use crate::decode::{self, ImageError, ImageLimits, Probe};
use crate::detect::{input_size, tile_shape, DetParams};
use crate::pdf::{self, CheckedPdf, PdfError};
use crate::pdf_worker::{self, PageContent, PdfWorker, WorkerError};
use crate::pipeline::{Mode, PageText, Pipeline};
use crate::recognize::Decoded;
use crate::runner::{ModelRunner, RunnerError};
use crate::ModelSet;
use image::RgbImage;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

/// Executor settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Jobs that may wait for the worker; more are refused as busy.
    pub queue_capacity: usize,
    /// Most pages read together.
    pub max_batch: usize,
    /// How long a caller waits, queueing included.
    pub timeout: Duration,
    /// What an accepted image may be.
    pub limits: ImageLimits,
    /// Threads the models' kernels may use (0: one per core).
    pub threads: usize,
    /// Bytes the pages being decoded, queued and read may hold at once.
    pub memory_budget: usize,
    /// Pages are read scaled down to this longer side (detection sees at most half of it).
    pub working_side: u32,
    /// The child process PDFs are parsed and rendered in; `None` renders them in this
    /// process (for tests of the engine alone: a hostile document can then abort it).
    pub pdf_worker: Option<PdfWorker>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            queue_capacity: 16,
            max_batch: 4,
            timeout: Duration::from_secs(30),
            limits: ImageLimits::default(),
            threads: 0,
            memory_budget: 1 << 30,
            working_side: 4096,
            pdf_worker: None,
        }
    }
}

/// Why a request was not read.
#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    /// The image was refused (the caller's fault).
    #[error(transparent)]
    Image(#[from] ImageError),
    /// The queue is full; retry later.
    #[error("the OCR queue is full")]
    Busy,
    /// The deadline passed before the page was read.
    #[error("the OCR request timed out")]
    Timeout,
    /// The models are still loading (or failed to load).
    #[error("the OCR models are not loaded")]
    NotReady,
    /// The PDF was refused (the caller's fault).
    #[error(transparent)]
    Pdf(#[from] PdfError),
    /// The model set asked for is not loaded in this engine.
    #[error("the model set `{0}` is not loaded; GET /v1/models lists those that are")]
    ModelNotLoaded(&'static str),
    /// The model runner failed (our fault; logged).
    #[error(transparent)]
    Runner(#[from] RunnerError),
}

/// Timing of one request, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timing {
    /// Decoding the image.
    pub decode_ms: f64,
    /// Waiting for the worker.
    pub queue_ms: f64,
    /// Reading the batch this page was part of.
    pub inference_ms: f64,
}

/// A page read, with its dimensions (after EXIF orientation) and timing.
#[derive(Debug, Clone)]
pub struct OcrOutput {
    /// The text.
    pub page: PageText,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Where the time went.
    pub timing: Timing,
}

/// What is loaded, for `/v1/models`.
#[derive(Debug, Clone)]
pub struct EngineInfo {
    /// Device the runners use.
    pub device: String,
}

/// A model set the engine serves, and the pipeline that reads with it.
pub struct EngineModel {
    /// Which set.
    pub set: ModelSet,
    /// Pre- and post-processing, with the set's dictionary.
    pub pipeline: Pipeline,
}

/// Modes of a job.
enum Work {
    /// Read as a page or a line, as the mode says.
    Page(Mode),
    /// Recognition only, the decoded line answered as it is (evaluation).
    Line,
}

enum Answer {
    Page(PageText),
    Line(Decoded),
}

struct Job {
    image: RgbImage,
    work: Work,
    /// Index of the model set in the worker's list.
    model: usize,
    deadline: Instant,
    enqueued: Instant,
    /// The answer, how long the job waited, the batch's inference time, and the set that read
    /// it.
    reply: oneshot::Sender<Result<(Answer, Duration, f64, ModelSet), RunnerError>>,
    /// The page's share of the memory budget, given back when the worker drops the job
    /// (read, or skipped) — not when a caller stops waiting for it.
    _memory: Option<tokio::sync::OwnedSemaphorePermit>,
    /// The caller's span, the parent of this job's `ocr.queue` and `ocr.inference` spans.
    parent: tracing::Span,
    /// Open while the job waits for the worker.
    queue: Option<tracing::Span>,
}

const LOADING: u8 = 0;
const READY: u8 = 1;
const FAILED: u8 = 2;

/// Memory reserved for checking a PDF, per byte of the document (measured: about 56).
pub const PDF_CHECK_BYTES_PER_BYTE: usize = 64;

/// Bytes the detector holds per pixel of its (tile's) input while it runs, its activations
/// and the tile's own copies: `examples/ocr_rss.rs --blank 1` (the default model set) measured,
/// over everything else `page_cost` counts, about 109 per pixel on a 1216 px page read whole
/// and 175 on a 2000 px page read in four tiles of 1088 × 1088.
const DET_BYTES_PER_PIXEL: usize = 180;

/// Time allowed, beyond its own deadline, for a PDF worker to be started and reaped.
const WORKER_MARGIN: Duration = Duration::from_secs(2);

fn too_slow(what: String, limit: Duration) -> OcrError {
    PdfError::TooSlow {
        what,
        seconds: limit.as_secs(),
    }
    .into()
}

/// What a PDF worker's answer means for the caller: its deadline is `too_slow` for `what`,
/// its death is `crashed` (the document's fault), a broken worker is ours.
fn from_worker<T>(
    outcome: Result<Result<T, PdfError>, WorkerError>,
    what: String,
    limit: Duration,
    crashed: PdfError,
) -> Result<T, OcrError> {
    match outcome {
        Ok(answer) => Ok(answer?),
        Err(WorkerError::Timeout) => Err(too_slow(what, limit)),
        Err(WorkerError::Crashed(why)) => {
            tracing::warn!(%why, %what, "a PDF worker failed");
            Err(crashed.into())
        }
        Err(e @ WorkerError::Broken(_)) => Err(RunnerError(e.to_string()).into()),
    }
}

/// What reading one page holds in memory, estimated from its header: while it is decoded, the
/// decoded image in its own format and the working image; then the working image and the
/// detector's activations.
pub fn page_cost(p: &Probe, working_side: u32, det: &DetParams) -> usize {
    let (ww, wh) = decode::working_size(p.width, p.height, working_side);
    let decoded = p.width as usize
        * p.height as usize
        * usize::from(p.bytes_per_pixel + p.decoder_bytes_per_pixel);
    let working = ww as usize * wh as usize * 3;
    let (dw, dh) = input_size(ww, wh, det);
    let (dw, dh) = (dw as usize, dh as usize);
    // Resizing for the detector keeps a float RGBA copy at the working width and the
    // detector's height; the input tensor and probability map are whole; the activations are
    // a tile's at most.
    let resize = ww as usize * dh * 16;
    let (th, tw) = tile_shape(dh, dw, det);
    let detect = dw * dh * 16 + th * tw * DET_BYTES_PER_PIXEL;
    (decoded + working).max(working + resize.max(detect))
}

/// The OCR engine: a bounded queue in front of one worker thread.
pub struct Engine {
    tx: mpsc::Sender<Job>,
    /// The sets served, the default first.
    sets: Vec<ModelSet>,
    state: Arc<AtomicU8>,
    info: Arc<OnceLock<EngineInfo>>,
    config: EngineConfig,
    /// The memory budget, in KiB.
    memory: Arc<tokio::sync::Semaphore>,
    /// PDF worker processes that may run at once (one per core): each may use up to its
    /// address-space limit, which the memory budget does not count.
    pdf_slots: Arc<tokio::sync::Semaphore>,
    det: DetParams,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Builds a model set's runner on the worker thread (loading weights happens there, off the
/// runtime).
pub type RunnerFactory =
    Box<dyn FnMut(ModelSet) -> Result<Box<dyn ModelRunner>, RunnerError> + Send>;

impl Engine {
    /// Starts the worker: it builds a runner for each of `models` (the first is the default),
    /// warms each up on a synthetic page, and only then reports ready.
    pub fn start(
        config: EngineConfig,
        models: Vec<EngineModel>,
        make_runner: RunnerFactory,
    ) -> Result<Self, RunnerError> {
        let (tx, rx) = mpsc::channel(config.queue_capacity.max(1));
        let Some(first) = models.first() else {
            return Err(RunnerError("an engine needs at least one model set".into()));
        };
        // Memory is estimated with the default set's detector parameters; every set here
        // uses the same.
        let det = first.pipeline.config().det.clone();
        let sets = models.iter().map(|m| m.set).collect();
        let memory = Arc::new(tokio::sync::Semaphore::new(
            (config.memory_budget / 1024).clamp(1, tokio::sync::Semaphore::MAX_PERMITS),
        ));
        let state = Arc::new(AtomicU8::new(LOADING));
        let info = Arc::new(OnceLock::new());
        // The kernels' own thread pool, so the engine uses the configured number of cores
        // whatever else in the process uses rayon.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(config.threads)
            .thread_name(|i| format!("ocr-kernel-{i}"))
            .build()
            .map_err(|e| RunnerError(format!("cannot start the OCR thread pool: {e}")))?;
        let worker = Worker {
            rx,
            max_batch: config.max_batch.max(1),
            state: state.clone(),
            info: info.clone(),
        };
        std::thread::Builder::new()
            .name("ocr-worker".into())
            .spawn(move || pool.install(|| worker.run(models, make_runner)))
            .map_err(|e| RunnerError(format!("cannot start the OCR worker: {e}")))?;
        Ok(Self {
            tx,
            sets,
            state,
            info,
            config,
            memory,
            pdf_slots: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
            )),
            det,
        })
    }

    /// The model sets served, the default first.
    pub fn models(&self) -> &[ModelSet] {
        &self.sets
    }

    /// The set a request that names none is read with.
    pub fn default_model(&self) -> ModelSet {
        self.sets[0]
    }

    /// Where `set` is in the worker's list, if this engine serves it.
    fn model_index(&self, set: ModelSet) -> Result<usize, OcrError> {
        self.sets
            .iter()
            .position(|s| *s == set)
            .ok_or(OcrError::ModelNotLoaded(set.id()))
    }

    /// Whether the models are loaded and warmed up.
    pub fn is_ready(&self) -> bool {
        self.state.load(Ordering::Acquire) == READY
    }

    /// Whether loading the models failed (the engine will never be ready).
    pub fn has_failed(&self) -> bool {
        self.state.load(Ordering::Acquire) == FAILED
    }

    /// What is loaded, once ready.
    pub fn info(&self) -> Option<&EngineInfo> {
        self.info.get()
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Bytes of the memory budget not reserved by pages now (for metrics and tests).
    pub fn memory_available(&self) -> usize {
        self.memory.available_permits() * 1024
    }

    /// Waits until the engine is ready (or failed); for start-up and tests.
    pub async fn wait_ready(&self, limit: Duration) -> bool {
        let until = Instant::now() + limit;
        while Instant::now() < until {
            match self.state.load(Ordering::Acquire) {
                READY => return true,
                FAILED => return false,
                _ => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
        self.is_ready()
    }

    /// Reads a page from encoded image bytes, under `limits` (the engine's own when `None`),
    /// within the memory budget; coordinates in the answer are the original image's.
    pub async fn read(
        &self,
        bytes: Vec<u8>,
        limits: Option<ImageLimits>,
        mode: Mode,
        model: ModelSet,
    ) -> Result<OcrOutput, OcrError> {
        let model = self.model_index(model)?;
        let deadline = Instant::now() + self.config.timeout;
        let limits = limits.unwrap_or(self.config.limits);
        let probe = decode::probe(&bytes, &limits)?;
        let memory = self.reserve(&probe, deadline).await?;
        let (page, decode_ms) = self
            .decode(bytes, limits)
            // `tollgate::stage`: a stage span, traced and not logged (`tollgate_core::STAGE_SPAN_TARGET`).
            .instrument(tracing::info_span!(target: "tollgate::stage", "ocr.decode"))
            .await?;
        let (sx, sy) = page.scale();
        let (answer, timing) = self
            .submit(
                page.image,
                Work::Page(mode),
                model,
                decode_ms,
                deadline,
                Some(memory),
            )
            .await?;
        match answer {
            Answer::Page(mut text) => {
                if (sx, sy) != (1.0, 1.0) {
                    for line in &mut text.lines {
                        for p in &mut line.polygon {
                            *p = [p[0] * sx, p[1] * sy];
                        }
                    }
                }
                Ok(OcrOutput {
                    page: text,
                    width: page.width,
                    height: page.height,
                    timing,
                })
            }
            Answer::Line(_) => Err(OcrError::Runner(RunnerError(
                "page job answered as a line".into(),
            ))),
        }
    }

    /// Checks a PDF (see [`pdf::check`]) off the async threads, within the engine's timeout
    /// and its share of the memory budget: parsing holds every page of the document at once
    /// (a 100 000-page, 8 MB PDF raised the peak by about 450 MB, so [`PDF_CHECK_BYTES_PER_BYTE`]
    /// per byte is reserved).
    pub async fn check_pdf(&self, bytes: Vec<u8>, max_pages: u32) -> Result<CheckedPdf, OcrError> {
        let limit = self.config.timeout;
        let deadline = Instant::now() + limit;
        let cost_kib = bytes.len().saturating_mul(PDF_CHECK_BYTES_PER_BYTE) / 1024 + 1;
        let budget_kib = self.config.memory_budget / 1024;
        let permits = u32::try_from(cost_kib.min(budget_kib).max(1)).unwrap_or(u32::MAX);
        let memory = tokio::time::timeout_at(
            deadline.into(),
            self.memory.clone().acquire_many_owned(permits),
        )
        .await
        .map_err(|_| OcrError::Busy)?
        .map_err(|_| OcrError::NotReady)?;
        let slot = self.pdf_slot(deadline).await?;
        let worker = self.config.pdf_worker.clone();
        let task = tokio::task::spawn_blocking(move || -> Result<CheckedPdf, OcrError> {
            let _held = (memory, slot);
            // The blocking pool may have been busy: what is left of the deadline, if anything.
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(worker) = worker else {
                return match std::panic::catch_unwind(AssertUnwindSafe(|| {
                    pdf::check(bytes, max_pages)
                })) {
                    Ok(checked) => Ok(checked?),
                    // The parser panicked: a document it cannot read.
                    Err(_) => Err(PdfError::Invalid.into()),
                };
            };
            if left.is_zero() {
                return Err(too_slow("checking the PDF".into(), limit));
            }
            // Killed by its limits, or the parser panicked: a document it cannot read.
            let outcome = worker.check(Arc::new(bytes), max_pages, left);
            from_worker(outcome, "checking the PDF".into(), limit, PdfError::Invalid)
        });
        // The worker is killed at `limit`; the margin is for starting it.
        match tokio::time::timeout(limit + WORKER_MARGIN, task).await {
            Err(_) => Err(too_slow("checking the PDF".into(), limit)),
            Ok(Err(e)) => Err(RunnerError(format!("PDF check task: {e}")).into()),
            Ok(Ok(checked)) => checked,
        }
    }

    /// Reads every page of a checked PDF in `mode`, in order: in [`Mode::Auto`] a page with a
    /// usable text layer (see [`pdf::text_layer`]) is answered from it; any other page is
    /// rendered within the engine's timeout and its share of the memory budget, then read as
    /// an image is.
    ///
    /// With a [`PdfWorker`] configured (the server always has one) each page is rendered in
    /// its own child process, killed at the deadline. Without one it renders in a thread of
    /// this process, which cannot be stopped (the renderer has no cancellation): a page that
    /// runs out of time is refused but its thread finishes in the background, holding its
    /// memory permit until then.
    pub async fn read_pdf(
        &self,
        doc: CheckedPdf,
        mode: Mode,
        model: ModelSet,
    ) -> Result<Vec<OcrOutput>, OcrError> {
        let model = self.model_index(model)?;
        let mut out = Vec::with_capacity(doc.pages());
        let limit = self.config.timeout;
        for index in 0..doc.pages() {
            let deadline = Instant::now() + limit;
            let (width, height) = doc.render_size(index).ok_or(PdfError::Invalid)?;
            // The pixmap (RGBA) and its RGB copy while rendering, as a decoder's buffers.
            let probe = Probe {
                width,
                height,
                bytes_per_pixel: 3,
                decoder_bytes_per_pixel: 4,
            };
            let memory = self.reserve(&probe, deadline).await?;
            let slot = self.pdf_slot(deadline).await?;
            let started = Instant::now();
            let page = doc.clone();
            let worker = self.config.pdf_worker.clone();
            let text = mode == Mode::Auto;
            let what = format!("rendering page {}", index + 1);
            let late = what.clone();
            let render = tokio::task::spawn_blocking(move || {
                let _slot = slot;
                // The blocking pool may have been busy: what is left of the deadline.
                let left = deadline.saturating_duration_since(Instant::now());
                let rendered = match worker {
                    Some(_) if left.is_zero() => Err(too_slow(what, limit)),
                    Some(worker) => {
                        let outcome = worker.page(&page, index, text, left);
                        from_worker(outcome, what, limit, PdfError::Render { page: index + 1 })
                    }
                    None => std::panic::catch_unwind(AssertUnwindSafe(|| {
                        pdf_worker::render_page(&page, index, text)
                    }))
                    .unwrap_or(Err(PdfError::Render { page: index + 1 }))
                    .map_err(OcrError::from),
                };
                (rendered, memory)
            });
            let margin = if self.config.pdf_worker.is_some() {
                WORKER_MARGIN
            } else {
                Duration::ZERO
            };
            let (rendered, memory) =
                match tokio::time::timeout_at((deadline + margin).into(), render).await {
                    Err(_) => return Err(too_slow(late, limit)),
                    Ok(Err(e)) => return Err(RunnerError(format!("PDF render task: {e}")).into()),
                    Ok(Ok(done)) => done,
                };
            let image = match rendered? {
                PageContent::Image(image) => image,
                PageContent::Text(layer) => {
                    drop(memory);
                    out.push(OcrOutput {
                        page: PageText {
                            lines: layer
                                .lines
                                .into_iter()
                                .map(|(text, b)| crate::pipeline::Line {
                                    text,
                                    confidence: 1.0,
                                    polygon: crate::pipeline::rect(b),
                                })
                                .collect(),
                            upside_down: false,
                            mode: Mode::TextLayer,
                        },
                        width: layer.width,
                        height: layer.height,
                        timing: Timing {
                            decode_ms: ms(started.elapsed()),
                            queue_ms: 0.0,
                            inference_ms: 0.0,
                        },
                    });
                    continue;
                }
            };
            let (width, height) = image.dimensions();
            let decode_ms = ms(started.elapsed());
            let (answer, timing) = self
                .submit(
                    image,
                    Work::Page(mode),
                    model,
                    decode_ms,
                    deadline,
                    Some(memory),
                )
                .await?;
            match answer {
                Answer::Page(page) => out.push(OcrOutput {
                    page,
                    width,
                    height,
                    timing,
                }),
                Answer::Line(_) => {
                    return Err(RunnerError("page job answered as a line".into()).into())
                }
            }
        }
        Ok(out)
    }

    /// A PDF worker slot, waited for until `deadline`.
    async fn pdf_slot(
        &self,
        deadline: Instant,
    ) -> Result<tokio::sync::OwnedSemaphorePermit, OcrError> {
        tokio::time::timeout_at(deadline.into(), self.pdf_slots.clone().acquire_owned())
            .await
            .map_err(|_| OcrError::Busy)?
            .map_err(|_| OcrError::NotReady)
    }

    /// This page's share of the memory budget (all of it for a page larger than the budget),
    /// waited for until `deadline`.
    async fn reserve(
        &self,
        probe: &Probe,
        deadline: Instant,
    ) -> Result<tokio::sync::OwnedSemaphorePermit, OcrError> {
        let cost_kib = page_cost(probe, self.config.working_side, &self.det) / 1024 + 1;
        let budget_kib = self.config.memory_budget / 1024;
        let permits = u32::try_from(cost_kib.min(budget_kib).max(1)).unwrap_or(u32::MAX);
        tokio::time::timeout_at(
            deadline.into(),
            self.memory.clone().acquire_many_owned(permits),
        )
        .await
        .map_err(|_| OcrError::Busy)?
        .map_err(|_| OcrError::NotReady)
    }

    /// Recognises an image that holds exactly one line (no detection) with `model`: for
    /// evaluation and tests.
    pub async fn read_line(
        &self,
        image: RgbImage,
        model: ModelSet,
    ) -> Result<(Decoded, Timing), OcrError> {
        let model = self.model_index(model)?;
        let deadline = Instant::now() + self.config.timeout;
        match self
            .submit(image, Work::Line, model, 0.0, deadline, None)
            .await?
        {
            (Answer::Line(d), timing) => Ok((d, timing)),
            (Answer::Page(_), _) => Err(OcrError::Runner(RunnerError(
                "line job answered as a page".into(),
            ))),
        }
    }

    /// Reads an already decoded page with the default set (for benchmarks, which time
    /// inference only).
    pub async fn read_image(&self, image: RgbImage) -> Result<OcrOutput, OcrError> {
        let (width, height) = image.dimensions();
        let deadline = Instant::now() + self.config.timeout;
        match self
            .submit(image, Work::Page(Mode::Auto), 0, 0.0, deadline, None)
            .await?
        {
            (Answer::Page(page), timing) => Ok(OcrOutput {
                page,
                width,
                height,
                timing,
            }),
            (Answer::Line(_), _) => Err(OcrError::Runner(RunnerError(
                "page job answered as a line".into(),
            ))),
        }
    }

    async fn decode(
        &self,
        bytes: Vec<u8>,
        limits: ImageLimits,
    ) -> Result<(decode::Decoded, f64), OcrError> {
        let started = Instant::now();
        let side = self.config.working_side;
        let page = tokio::task::spawn_blocking(move || decode::decode(&bytes, &limits, side))
            .await
            .map_err(|e| RunnerError(format!("image decoding task: {e}")))??;
        Ok((page, ms(started.elapsed())))
    }

    async fn submit(
        &self,
        image: RgbImage,
        work: Work,
        model: usize,
        decode_ms: f64,
        deadline: Instant,
        memory: Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> Result<(Answer, Timing), OcrError> {
        match self.state.load(Ordering::Acquire) {
            READY => {}
            _ => return Err(OcrError::NotReady),
        }
        let now = Instant::now();
        let (reply, answer) = oneshot::channel();
        let parent = tracing::Span::current();
        let job = Job {
            image,
            work,
            model,
            deadline,
            enqueued: now,
            reply,
            _memory: memory,
            queue: Some(
                tracing::info_span!(target: "tollgate::stage", parent: &parent, "ocr.queue"),
            ),
            parent,
        };
        self.tx.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => OcrError::Busy,
            mpsc::error::TrySendError::Closed(_) => OcrError::NotReady,
        })?;
        let (answer, queued, inference_ms, read_by) =
            tokio::time::timeout_at(deadline.into(), answer)
                .await
                .map_err(|_| OcrError::Timeout)?
                .map_err(|_| OcrError::Runner(RunnerError("the OCR worker stopped".into())))??;
        // The answer names the set it asked for: never one another set read.
        if Some(&read_by) != self.sets.get(model) {
            return Err(RunnerError(format!(
                "asked {:?} to read, answered by {read_by:?}",
                self.sets.get(model)
            ))
            .into());
        }
        Ok((
            answer,
            Timing {
                decode_ms,
                queue_ms: ms(queued),
                inference_ms,
            },
        ))
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Worker {
    rx: mpsc::Receiver<Job>,
    max_batch: usize,
    state: Arc<AtomicU8>,
    info: Arc<OnceLock<EngineInfo>>,
}

/// A loaded model set: its pipeline and its runner.
struct Loaded {
    set: ModelSet,
    pipeline: Pipeline,
    runner: Box<dyn ModelRunner>,
}

impl Worker {
    fn run(mut self, models: Vec<EngineModel>, mut make_runner: RunnerFactory) {
        let started = Instant::now();
        let mut loaded = Vec::with_capacity(models.len());
        for EngineModel { set, pipeline } in models {
            // A panic while loading or warming up (weights that do not fit the generated code)
            // fails the engine as an error does, instead of leaving it loading forever.
            let runner = std::panic::catch_unwind(AssertUnwindSafe(|| {
                make_runner(set).and_then(|mut r| {
                    // Warm-up: one synthetic page through every model of the set.
                    let page = warmup_page();
                    pipeline.read(r.as_mut(), &[&page])?;
                    Ok(r)
                })
            }))
            .unwrap_or_else(|_| Err(RunnerError("loading the models panicked".into())));
            match runner {
                Ok(runner) => loaded.push(Loaded {
                    set,
                    pipeline,
                    runner,
                }),
                Err(e) => {
                    tracing::error!(error = %e, model = set.id(), "OCR models failed to load; /v1/ocr will answer 503");
                    self.state.store(FAILED, Ordering::Release);
                    return;
                }
            }
        }
        let device = loaded
            .first()
            .map(|l| l.runner.device())
            .unwrap_or_default();
        tracing::info!(%device, sets = loaded.len(), seconds = started.elapsed().as_secs_f64(), "OCR models loaded and warmed up");
        let _ = self.info.set(EngineInfo { device });
        self.state.store(READY, Ordering::Release);
        while let Some(first) = self.rx.blocking_recv() {
            let mut batch = vec![first];
            while batch.len() < self.max_batch {
                match self.rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            // One batch per model set and kind of work, in the order the sets were given.
            for (index, set) in loaded.iter_mut().enumerate() {
                let (mut mine, rest): (Vec<Job>, Vec<Job>) =
                    batch.into_iter().partition(|j| j.model == index);
                batch = rest;
                // Abandoned (timed out or disconnected) callers cost nothing more; checked
                // just before their set runs, as an earlier set's batch takes time.
                let now = Instant::now();
                mine.retain(|j| !j.reply.is_closed() && j.deadline > now);
                let (pages, lines): (Vec<Job>, Vec<Job>) = mine
                    .into_iter()
                    .partition(|j| matches!(j.work, Work::Page(_)));
                if !pages.is_empty() {
                    Self::serve(set, pages, true);
                }
                if !lines.is_empty() {
                    Self::serve(set, lines, false);
                }
            }
            // A job for a set this worker does not hold (the engine never sends one).
            for job in batch {
                let _ = job.reply.send(Err(RunnerError(format!(
                    "no model set at index {}",
                    job.model
                ))));
            }
        }
    }

    fn serve(set: &mut Loaded, mut jobs: Vec<Job>, pages: bool) {
        let Loaded {
            set,
            pipeline,
            runner,
        } = set;
        let set = *set;
        let runner = runner.as_mut();
        let started = Instant::now();
        // Each caller's trace: its wait ends here, and its share of the batch's inference.
        let batch = jobs.len();
        let inference: Vec<tracing::Span> = jobs
            .iter_mut()
            .map(|j| {
                j.queue = None;
                tracing::info_span!(target: "tollgate::stage", parent: &j.parent, "ocr.inference", batch)
            })
            .collect();
        let images: Vec<&RgbImage> = jobs.iter().map(|j| &j.image).collect();
        let as_pages: Vec<(&RgbImage, Mode)> = jobs
            .iter()
            .map(|j| match j.work {
                Work::Page(mode) => (&j.image, mode),
                Work::Line => (&j.image, Mode::Line),
            })
            .collect();
        // A panic inside the framework must not take the worker (and every later request) down.
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
            if pages {
                pipeline
                    .read_as(runner, &as_pages)
                    .map(|v| v.into_iter().map(Answer::Page).collect::<Vec<_>>())
            } else {
                pipeline
                    .read_lines(runner, &images)
                    .map(|v| v.into_iter().map(Answer::Line).collect())
            }
        }))
        .unwrap_or_else(|_| Err(RunnerError("the model runner panicked".into())));
        let took = ms(started.elapsed());
        drop(inference);
        match result {
            Ok(answers) => {
                for (job, answer) in jobs.into_iter().zip(answers) {
                    let _ = job.reply.send(Ok((
                        answer,
                        started.saturating_duration_since(job.enqueued),
                        took,
                        set,
                    )));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "OCR batch failed");
                for job in jobs {
                    let _ = job.reply.send(Err(e.clone()));
                }
            }
        }
    }
}

/// A small page with dark strokes on white, so warm-up exercises detection, classification and
/// recognition shapes.
fn warmup_page() -> RgbImage {
    RgbImage::from_fn(320, 96, |x, y| {
        let stroke = (30..66).contains(&y) && (20..300).contains(&x) && (x / 6) % 3 != 0;
        if stroke {
            image::Rgb([20, 20, 20])
        } else {
            image::Rgb([255, 255, 255])
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::PipelineConfig;
    use crate::recognize::Charset;
    use crate::tensor::Tensor;

    /// Finds no text, slowly: a page costs `delay` of the worker's time.
    struct SlowRunner(Duration);

    impl ModelRunner for SlowRunner {
        fn detect(&mut self, page: &Tensor) -> Result<Tensor, RunnerError> {
            std::thread::sleep(self.0);
            let (h, w) = (page.shape[2], page.shape[3]);
            Ok(Tensor::new(vec![0.0; h * w], vec![1, 1, h, w]))
        }
        fn classify(&mut self, crops: &Tensor) -> Result<Tensor, RunnerError> {
            Ok(Tensor::new(
                [1.0, 0.0].repeat(crops.shape[0]),
                vec![crops.shape[0], 2],
            ))
        }
        fn recognize(&mut self, crops: &Tensor) -> Result<Tensor, RunnerError> {
            // One step over the three classes of `Charset::from_dictionary("a")`.
            Ok(Tensor::new(
                vec![1.0; crops.shape[0] * 3],
                vec![crops.shape[0], 1, 3],
            ))
        }
        fn device(&self) -> String {
            "slow fake".into()
        }
    }

    /// Reads every line as the dictionary's `class`-th character.
    struct Fixed(usize);

    impl ModelRunner for Fixed {
        fn detect(&mut self, page: &Tensor) -> Result<Tensor, RunnerError> {
            let (h, w) = (page.shape[2], page.shape[3]);
            Ok(Tensor::new(vec![0.0; h * w], vec![1, 1, h, w]))
        }
        fn classify(&mut self, crops: &Tensor) -> Result<Tensor, RunnerError> {
            Ok(Tensor::new(
                [1.0, 0.0].repeat(crops.shape[0]),
                vec![crops.shape[0], 2],
            ))
        }
        fn recognize(&mut self, crops: &Tensor) -> Result<Tensor, RunnerError> {
            // Blank, the two characters, space.
            let mut step = [0.0; 4];
            step[self.0] = 1.0;
            Ok(Tensor::new(
                step.repeat(crops.shape[0]),
                vec![crops.shape[0], 1, 4],
            ))
        }
        fn device(&self) -> String {
            "fixed fake".into()
        }
    }

    /// Each job is read by the set it names, with that set's runner and dictionary, when
    /// jobs of two sets are queued together; a set the engine does not serve is refused.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn each_job_is_read_by_its_own_set() {
        let config = EngineConfig {
            max_batch: 8,
            ..EngineConfig::default()
        };
        let set = |set, dictionary| EngineModel {
            set,
            pipeline: Pipeline::new(
                PipelineConfig::default(),
                Charset::from_dictionary(dictionary),
            ),
        };
        // V4's runner emits the first character, V5's the second, of different dictionaries.
        let engine = Arc::new(
            Engine::start(
                config,
                vec![set(ModelSet::V4, "a\nb"), set(ModelSet::V5, "x\ny")],
                Box::new(|set| {
                    Ok(Box::new(Fixed(if set == ModelSet::V4 { 1 } else { 2 }))
                        as Box<dyn ModelRunner>)
                }),
            )
            .unwrap(),
        );
        assert!(engine.wait_ready(Duration::from_secs(30)).await);
        assert_eq!(engine.default_model(), ModelSet::V4);
        assert_eq!(engine.models(), &[ModelSet::V4, ModelSet::V5]);
        let line = RgbImage::new(96, 32);
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let (engine, line) = (engine.clone(), line.clone());
                let set = if i % 2 == 0 {
                    ModelSet::V4
                } else {
                    ModelSet::V5
                };
                tokio::spawn(async move { (set, engine.read_line(line, set).await) })
            })
            .collect();
        for task in tasks {
            let (set, read) = task.await.unwrap();
            let text = read.unwrap().0.text;
            let want = if set == ModelSet::V4 { "a" } else { "y" };
            assert_eq!(text, want, "{set:?}");
        }
        let refused = engine.read_line(line, ModelSet::V6).await;
        assert!(
            matches!(refused, Err(OcrError::ModelNotLoaded("pp-ocrv6"))),
            "{refused:?}"
        );
    }

    fn png(side: u32) -> Vec<u8> {
        let mut out = Vec::new();
        RgbImage::new(side, side)
            .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    /// An engine whose budget holds one 1000 px page, reading each in `delay`.
    async fn engine(timeout: Duration, delay: Duration) -> (Engine, usize) {
        let probe = crate::decode::probe(&png(1000), &ImageLimits::default()).unwrap();
        let one = page_cost(&probe, 4096, &DetParams::default());
        let config = EngineConfig {
            timeout,
            memory_budget: one + one / 2,
            ..EngineConfig::default()
        };
        let engine = Engine::start(
            config,
            vec![EngineModel {
                set: ModelSet::V4,
                pipeline: Pipeline::new(PipelineConfig::default(), Charset::from_dictionary("a")),
            }],
            Box::new(move |_| Ok(Box::new(SlowRunner(delay)) as Box<dyn ModelRunner>)),
        )
        .unwrap();
        assert!(engine.wait_ready(Duration::from_secs(30)).await);
        (engine, one)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_page_waits_for_its_share_of_memory() {
        let (engine, one) = engine(Duration::from_secs(10), Duration::from_millis(600)).await;
        let engine = Arc::new(engine);
        let budget = engine.memory_available();
        let (a, b) = (engine.clone(), engine.clone());
        let first =
            tokio::spawn(async move { a.read(png(1000), None, Mode::Auto, ModelSet::V4).await });
        tokio::time::sleep(Duration::from_millis(200)).await;
        let held = budget - engine.memory_available();
        assert!(
            held >= one && held <= one + 2048,
            "the first page holds its cost"
        );
        let second =
            tokio::spawn(async move { b.read(png(1000), None, Mode::Auto, ModelSet::V4).await });
        tokio::time::sleep(Duration::from_millis(200)).await;
        // The second waits (holding what was left, as a fair semaphore's waiter does).
        assert_eq!(engine.memory_available(), 0);
        assert!(!second.is_finished());
        assert!(first.await.unwrap().is_ok());
        assert!(second.await.unwrap().is_ok());
        // The worker drops a job (and its share) right after it answers.
        assert!(
            returns_to(&engine, budget).await,
            "everything given back: {} of {budget}",
            engine.memory_available()
        );
    }

    /// Whether the available memory comes back to `budget` within a second.
    async fn returns_to(engine: &Engine, budget: usize) -> bool {
        for _ in 0..100 {
            if engine.memory_available() == budget {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_page_that_never_gets_memory_is_refused_as_busy() {
        let (engine, _) = engine(Duration::from_millis(800), Duration::from_millis(2000)).await;
        let engine = Arc::new(engine);
        let a = engine.clone();
        let first =
            tokio::spawn(async move { a.read(png(1000), None, Mode::Auto, ModelSet::V4).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let second = engine.read(png(1000), None, Mode::Auto, ModelSet::V4).await;
        assert!(matches!(second, Err(OcrError::Busy)), "{second:?}");
        // The first caller gave up at its deadline, but its page is still being read: its
        // memory comes back only when the worker is done with it.
        assert!(matches!(first.await.unwrap(), Err(OcrError::Timeout)));
        assert!(engine.memory_available() < engine.config().memory_budget);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(
            engine.memory_available(),
            engine.config().memory_budget / 1024 * 1024
        );
    }
}
