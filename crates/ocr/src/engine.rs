//! The batching executor. Callers decode their image on the blocking pool, then queue it; one
//! worker thread per device owns the model runner, takes whatever is queued (up to a batch)
//! and reads those pages together, so concurrent callers share classification and
//! recognition batches. The queue is bounded: when it is full a caller is refused at once
//! (the API answers 503 with `Retry-After`) instead of memory growing. Every job carries a
//! deadline; the worker skips jobs whose deadline passed or whose caller went away.

use crate::decode::{decode, ImageError, ImageLimits};
use crate::pipeline::{PageText, Pipeline};
use crate::recognize::Decoded;
use crate::runner::{ModelRunner, RunnerError};
use image::RgbImage;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

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
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            queue_capacity: 16,
            max_batch: 4,
            timeout: Duration::from_secs(30),
            limits: ImageLimits::default(),
            threads: 0,
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
    /// The model runner failed (our fault; logged).
    #[error(transparent)]
    Runner(#[from] RunnerError),
}

impl From<OcrError> for tollgate_core::DomainError {
    fn from(err: OcrError) -> Self {
        use tollgate_core::DomainError;
        let detail = err.to_string();
        match err {
            OcrError::Image(ImageError::TooLarge { .. }) => DomainError::TooLarge {
                code: "payload_too_large",
                detail,
            },
            OcrError::Image(ImageError::TooManyPixels { .. }) => {
                DomainError::invalid("image_too_large", detail)
            }
            OcrError::Image(ImageError::Empty | ImageError::ZeroSize) => {
                DomainError::invalid("empty_image", detail)
            }
            OcrError::Image(ImageError::Unsupported) => {
                DomainError::invalid("unsupported_image", detail)
            }
            OcrError::Image(ImageError::Corrupt(_)) => {
                DomainError::invalid("corrupt_image", "the image could not be decoded")
            }
            OcrError::Busy => DomainError::Busy {
                code: "ocr_busy",
                detail,
                retry_after: 1,
            },
            OcrError::Timeout => DomainError::Busy {
                code: "ocr_timeout",
                detail,
                retry_after: 1,
            },
            OcrError::NotReady => DomainError::Busy {
                code: "ocr_not_ready",
                detail,
                retry_after: 5,
            },
            OcrError::Runner(e) => DomainError::internal(e),
        }
    }
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
    /// Model names (detection, classification, recognition).
    pub models: Vec<String>,
    /// Device the runner uses.
    pub device: String,
}

/// Modes of a job.
enum Work {
    Page,
    Line,
}

enum Answer {
    Page(PageText),
    Line(Decoded),
}

struct Job {
    image: RgbImage,
    work: Work,
    deadline: Instant,
    enqueued: Instant,
    reply: oneshot::Sender<Result<(Answer, Duration, f64), RunnerError>>,
}

const LOADING: u8 = 0;
const READY: u8 = 1;
const FAILED: u8 = 2;

/// The OCR engine: a bounded queue in front of one worker thread.
pub struct Engine {
    tx: mpsc::Sender<Job>,
    state: Arc<AtomicU8>,
    info: Arc<OnceLock<EngineInfo>>,
    config: EngineConfig,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Builds a runner on the worker thread (loading weights happens there, off the runtime).
pub type RunnerFactory = Box<dyn FnOnce() -> Result<Box<dyn ModelRunner>, RunnerError> + Send>;

impl Engine {
    /// Starts the worker: it builds the runner, warms it up on a synthetic page, and only
    /// then reports ready. `models` names what the runner loads.
    pub fn start(
        config: EngineConfig,
        pipeline: Pipeline,
        models: Vec<String>,
        make_runner: RunnerFactory,
    ) -> Result<Self, RunnerError> {
        let (tx, rx) = mpsc::channel(config.queue_capacity.max(1));
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
            pipeline,
            max_batch: config.max_batch.max(1),
            state: state.clone(),
            info: info.clone(),
            models,
        };
        std::thread::Builder::new()
            .name("ocr-worker".into())
            .spawn(move || pool.install(|| worker.run(make_runner)))
            .map_err(|e| RunnerError(format!("cannot start the OCR worker: {e}")))?;
        Ok(Self {
            tx,
            state,
            info,
            config,
        })
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

    /// Reads a page from encoded image bytes, under `limits` (the engine's own when `None`).
    pub async fn read(
        &self,
        bytes: Vec<u8>,
        limits: Option<ImageLimits>,
    ) -> Result<OcrOutput, OcrError> {
        let (image, decode_ms) = self.decode(bytes, limits).await?;
        let (width, height) = image.dimensions();
        let (answer, timing) = self.submit(image, Work::Page, decode_ms).await?;
        match answer {
            Answer::Page(page) => Ok(OcrOutput {
                page,
                width,
                height,
                timing,
            }),
            Answer::Line(_) => Err(OcrError::Runner(RunnerError(
                "page job answered as a line".into(),
            ))),
        }
    }

    /// Recognises an image that holds exactly one line (no detection): for evaluation.
    pub async fn read_line(&self, image: RgbImage) -> Result<(Decoded, Timing), OcrError> {
        match self.submit(image, Work::Line, 0.0).await? {
            (Answer::Line(d), timing) => Ok((d, timing)),
            (Answer::Page(_), _) => Err(OcrError::Runner(RunnerError(
                "line job answered as a page".into(),
            ))),
        }
    }

    /// Reads an already decoded page (for benchmarks, which time inference only).
    pub async fn read_image(&self, image: RgbImage) -> Result<OcrOutput, OcrError> {
        let (width, height) = image.dimensions();
        match self.submit(image, Work::Page, 0.0).await? {
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
        limits: Option<ImageLimits>,
    ) -> Result<(RgbImage, f64), OcrError> {
        let limits = limits.unwrap_or(self.config.limits);
        let started = Instant::now();
        let image = tokio::task::spawn_blocking(move || decode(&bytes, &limits))
            .await
            .map_err(|e| RunnerError(format!("image decoding task: {e}")))??;
        Ok((image, ms(started.elapsed())))
    }

    async fn submit(
        &self,
        image: RgbImage,
        work: Work,
        decode_ms: f64,
    ) -> Result<(Answer, Timing), OcrError> {
        match self.state.load(Ordering::Acquire) {
            READY => {}
            _ => return Err(OcrError::NotReady),
        }
        let now = Instant::now();
        let deadline = now + self.config.timeout;
        let (reply, answer) = oneshot::channel();
        let job = Job {
            image,
            work,
            deadline,
            enqueued: now,
            reply,
        };
        self.tx.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => OcrError::Busy,
            mpsc::error::TrySendError::Closed(_) => OcrError::NotReady,
        })?;
        let (answer, queued, inference_ms) = tokio::time::timeout_at(deadline.into(), answer)
            .await
            .map_err(|_| OcrError::Timeout)?
            .map_err(|_| OcrError::Runner(RunnerError("the OCR worker stopped".into())))??;
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
    pipeline: Pipeline,
    max_batch: usize,
    state: Arc<AtomicU8>,
    info: Arc<OnceLock<EngineInfo>>,
    models: Vec<String>,
}

impl Worker {
    fn run(mut self, make_runner: RunnerFactory) {
        let started = Instant::now();
        let mut runner = match make_runner().and_then(|mut r| {
            // Warm-up: one synthetic page through every model.
            let page = warmup_page();
            self.pipeline.read(r.as_mut(), &[&page])?;
            Ok(r)
        }) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "OCR models failed to load; /v1/ocr will answer 503");
                self.state.store(FAILED, Ordering::Release);
                return;
            }
        };
        let device = runner.device();
        tracing::info!(%device, seconds = started.elapsed().as_secs_f64(), "OCR models loaded and warmed up");
        let _ = self.info.set(EngineInfo {
            models: self.models.clone(),
            device,
        });
        self.state.store(READY, Ordering::Release);
        while let Some(first) = self.rx.blocking_recv() {
            let mut batch = vec![first];
            while batch.len() < self.max_batch {
                match self.rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            let now = Instant::now();
            // Abandoned (timed out or disconnected) callers cost nothing more.
            batch.retain(|j| !j.reply.is_closed() && j.deadline > now);
            let (pages, lines): (Vec<Job>, Vec<Job>) = batch
                .into_iter()
                .partition(|j| matches!(j.work, Work::Page));
            if !pages.is_empty() {
                self.serve(runner.as_mut(), pages, true);
            }
            if !lines.is_empty() {
                self.serve(runner.as_mut(), lines, false);
            }
        }
    }

    fn serve(&self, runner: &mut dyn ModelRunner, jobs: Vec<Job>, pages: bool) {
        let started = Instant::now();
        let images: Vec<&RgbImage> = jobs.iter().map(|j| &j.image).collect();
        // A panic inside the framework must not take the worker (and every later request) down.
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
            if pages {
                self.pipeline
                    .read(runner, &images)
                    .map(|v| v.into_iter().map(Answer::Page).collect::<Vec<_>>())
            } else {
                self.pipeline
                    .read_lines(runner, &images)
                    .map(|v| v.into_iter().map(Answer::Line).collect())
            }
        }))
        .unwrap_or_else(|_| Err(RunnerError("the model runner panicked".into())));
        let took = ms(started.elapsed());
        match result {
            Ok(answers) => {
                for (job, answer) in jobs.into_iter().zip(answers) {
                    let _ = job.reply.send(Ok((
                        answer,
                        started.saturating_duration_since(job.enqueued),
                        took,
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
