//! `POST /v1/ocr` (read the text of an image) and `GET /v1/models` (what is loaded).

use super::Tag;
use crate::problem::{ApiError, ApiResult};
use crate::security::ApiCaller;
use crate::state::AppState;
use poem::web::Data;
use poem::Request;
use poem_openapi::param::{Header, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::types::multipart::Upload;
use poem_openapi::types::{ParseFromJSON, ToJSON};
use poem_openapi::{ApiRequest, ApiResponse, Enum, Multipart, Object, OpenApi};
use std::sync::Arc;
use std::time::Instant;
use tollgate_auth::Principal;
use tollgate_core::Code;
use tollgate_core::{DomainError, Scope};
use tollgate_meter::{Admitted, Metered, StoredAnswer};
use tollgate_ocr::{ImageError, ImageLimits, Mode, OcrError};

/// A multipart upload.
#[derive(Debug, Multipart)]
pub struct OcrUpload {
    /// The image (PNG, JPEG, WebP, TIFF or BMP).
    pub file: Upload,
}

/// The image: as a multipart `file` part, or as the raw body with its image media type.
#[derive(Debug, ApiRequest)]
pub enum OcrInput {
    /// `multipart/form-data` with a `file` part.
    Multipart(OcrUpload),
    /// A PNG image.
    #[oai(content_type = "image/png")]
    Png(Binary<Vec<u8>>),
    /// A JPEG image.
    #[oai(content_type = "image/jpeg")]
    Jpeg(Binary<Vec<u8>>),
    /// A WebP image.
    #[oai(content_type = "image/webp")]
    Webp(Binary<Vec<u8>>),
    /// A TIFF image.
    #[oai(content_type = "image/tiff")]
    Tiff(Binary<Vec<u8>>),
    /// A BMP image.
    #[oai(content_type = "image/bmp")]
    Bmp(Binary<Vec<u8>>),
}

/// How to read the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum OcrMode {
    /// As one line when the image is shaped like a text line (at least three times as wide
    /// as tall) and detection finds one line in it; as a page otherwise.
    Auto,
    /// As a page: lines detected, their words joined, the lines in reading order.
    Page,
    /// As one text line, recognised whole without detection: for images cropped to a line.
    Line,
}

impl From<OcrMode> for Mode {
    fn from(m: OcrMode) -> Self {
        match m {
            OcrMode::Auto => Mode::Auto,
            OcrMode::Page => Mode::Page,
            OcrMode::Line => Mode::Line,
        }
    }
}

/// How an image was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum ReadAs {
    /// As a page.
    Page,
    /// As one line.
    Line,
}

/// One line of text.
#[derive(Debug, Object)]
pub struct OcrLine {
    /// The text.
    pub text: String,
    /// Mean probability of its characters, 0 to 1.
    pub confidence: f32,
    /// The line's box: four `[x, y]` corners in image pixels, clockwise from the text's
    /// top-left (for a line upside down in the image, that corner is at its bottom-right).
    #[oai(rename = "box")]
    pub polygon: Vec<Vec<f32>>,
}

/// Where the time went, in milliseconds.
#[derive(Debug, Object)]
pub struct OcrTiming {
    /// Decoding the image.
    pub decode_ms: f64,
    /// Waiting for the model.
    pub queue_ms: f64,
    /// Running the models on the batch this image was part of.
    pub inference_ms: f64,
    /// The whole request, as the server saw it.
    pub total_ms: f64,
}

/// What the call was charged.
#[derive(Debug, Object)]
pub struct OcrUsage {
    /// Units charged by this call: 0 for a retry answered with the stored answer of a
    /// completed request with the same `Idempotency-Key` (marked `Idempotent-Replayed`).
    pub units: i64,
    /// The unit: `page` (one image is one page).
    pub unit: String,
    /// Units left in the plan's period, when known (negative: overage).
    #[oai(skip_serializing_if_is_none)]
    pub remaining: Option<i64>,
}

/// What the image says.
#[derive(Debug, Object)]
pub struct OcrResult {
    /// Lines in reading order.
    pub lines: Vec<OcrLine>,
    /// All lines, joined by newlines.
    pub text: String,
    /// Image width in pixels (after EXIF orientation).
    pub width: u32,
    /// Image height in pixels (after EXIF orientation).
    pub height: u32,
    /// Whether the page was read turned by 180° (most lines were upside down).
    pub upside_down: bool,
    /// How it was read (`mode=auto` decides per image).
    pub read_as: ReadAs,
    /// The model set that read it.
    pub model: String,
    /// Timing.
    pub timing: OcrTiming,
    /// What this call was charged.
    pub usage: OcrUsage,
}

/// The answer of `POST /v1/ocr`.
#[derive(ApiResponse)]
pub enum OcrResponse {
    /// The text. `Idempotent-Replayed: true` marks the stored answer of an earlier request
    /// with the same `Idempotency-Key` and image (charged then, not now).
    #[oai(status = 200)]
    Ok(
        Json<OcrResult>,
        #[oai(header = "Idempotent-Replayed")] Option<String>,
    ),
}

/// Longest `Idempotency-Key` accepted.
const MAX_IDEMPOTENCY_KEY: usize = 255;

/// The key, trimmed; visible ASCII only (it is a key, not text).
fn idempotency_key(raw: Option<String>) -> Result<Option<String>, DomainError> {
    let Some(raw) = raw else { return Ok(None) };
    let key = raw.trim();
    let valid = !key.is_empty()
        && key.len() <= MAX_IDEMPOTENCY_KEY
        && key.chars().all(|c| c.is_ascii_graphic());
    if valid {
        Ok(Some(key.to_owned()))
    } else {
        Err(DomainError::invalid(
            Code::InvalidIdempotencyKey,
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
        ))
    }
}

/// What tells two OCR requests apart: the operation and the image bytes.
/// What an `Idempotency-Key` is bound to: the image, and the mode when it is not `auto` (a
/// retry that asks for another reading is another request; `auto` keeps the fingerprints
/// stored before modes existed).
fn fingerprint(mode: OcrMode, bytes: &[u8]) -> String {
    let digest = tollgate_store::sha256_hex(bytes);
    match mode {
        OcrMode::Auto => format!("ocr:{digest}"),
        OcrMode::Page => format!("ocr:page:{digest}"),
        OcrMode::Line => format!("ocr:line:{digest}"),
    }
}

/// A stored answer, as a retry gets it: the same result, charged nothing now.
fn replayed(answer: &StoredAnswer) -> Result<OcrResponse, DomainError> {
    let mut value: serde_json::Value =
        serde_json::from_str(&answer.body).map_err(DomainError::internal)?;
    // Answers stored before `read_as` existed were all read as pages.
    if let Some(fields) = value.as_object_mut() {
        fields.entry("read_as").or_insert_with(|| "page".into());
    }
    let mut result = OcrResult::parse_from_json(Some(value))
        .map_err(|e| DomainError::internal(e.into_message()))?;
    result.usage.units = 0;
    result.usage.remaining = None;
    Ok(OcrResponse::Ok(Json(result), Some("true".into())))
}

/// The answer to an OCR failure: the caller's image problems are 4xx with their codes, a
/// saturated engine 503 with `Retry-After`, a runner failure 500 (logged).
fn ocr_error(err: OcrError) -> DomainError {
    let detail = err.to_string();
    match err {
        OcrError::Image(ImageError::TooLarge { .. }) => DomainError::TooLarge {
            code: Code::PayloadTooLarge,
            detail,
        },
        OcrError::Image(ImageError::TooManyPixels { .. }) => {
            DomainError::invalid(Code::ImageTooLarge, detail)
        }
        OcrError::Image(ImageError::Empty | ImageError::ZeroSize) => {
            DomainError::invalid(Code::EmptyImage, detail)
        }
        OcrError::Image(ImageError::Unsupported) => {
            DomainError::invalid(Code::UnsupportedImage, detail)
        }
        OcrError::Image(ImageError::Corrupt(_)) => {
            DomainError::invalid(Code::CorruptImage, "the image could not be decoded")
        }
        OcrError::Busy => DomainError::Busy {
            code: Code::OcrBusy,
            detail,
            retry_after: 1,
        },
        OcrError::Timeout => DomainError::Busy {
            code: Code::OcrTimeout,
            detail,
            retry_after: 1,
        },
        OcrError::NotReady => DomainError::Busy {
            code: Code::OcrNotReady,
            detail,
            retry_after: 5,
        },
        OcrError::Runner(e) => DomainError::internal(e),
    }
}

/// A loaded model.
#[derive(Debug, Object)]
pub struct ModelInfo {
    /// Model name.
    pub name: String,
    /// `detection`, `classification` or `recognition`.
    pub task: String,
}

/// What the OCR engine has loaded.
#[derive(Debug, Object)]
pub struct Models {
    /// The model set, as `/v1/ocr` reports it.
    pub model: String,
    /// Whether the models are loaded and warmed up.
    pub ready: bool,
    /// The device they run on (once ready).
    #[oai(skip_serializing_if_is_none)]
    pub device: Option<String>,
    /// The models.
    pub models: Vec<ModelInfo>,
}

/// OCR operations.
pub struct OcrApi;

#[OpenApi]
impl OcrApi {
    /// Read the text in an image.
    ///
    /// Send the image as `multipart/form-data` (a `file` part) or as the raw body with its
    /// media type. PNG, JPEG, WebP, TIFF and BMP are accepted; EXIF orientation is honoured.
    /// Size limits are checked before decoding: too many bytes is 413 (`payload_too_large`),
    /// too many pixels 422 (`image_too_large`); an undecodable image is 422
    /// (`corrupt_image`, `unsupported_image`, `empty_image`); another media type is 415.
    /// When the engine is saturated the answer is 503 (`ocr_busy`, `ocr_timeout`) with
    /// `Retry-After`.
    ///
    /// Metered: one image is one unit (`page`). Rate limits answer 429 `rate_limited`, the
    /// plan's concurrency cap 429 `concurrency_limited`, a used-up hard quota 429
    /// `quota_exhausted` (with `Retry-After` at the next period), and a call that would take
    /// the period's rated spend past the tenant's own spend cap 402 `spend_cap_reached` (with
    /// the amounts in `spend`), before the OCR runs; the `RateLimit-Policy`,
    /// `RateLimit` and `Tollgate-Units` headers say where the caller stands. A request is
    /// charged only when it succeeds, and every request that succeeds is charged and recorded
    /// (`X-Request-Id` is for tracing only). A retry with the same `Idempotency-Key` (within
    /// 24 hours, same image) gets the first answer back and is not charged again; while the
    /// first runs it is 409 `idempotency_in_progress` with `Retry-After`; the same key with
    /// another image is 422 `idempotency_key_reused`.
    ///
    /// Credentials, rate limits and the concurrency cap are checked from the headers before
    /// the body is read: without valid credentials the answer is 401 (403 without
    /// `ocr:read`), over a limit 429, and when too many uploads are being received at once
    /// 503 `ocr_busy` — and the upload is never read.
    ///
    /// **Permissions**: scope `ocr:read`.
    #[oai(
        path = "/v1/ocr",
        method = "post",
        tag = "Tag::Ocr",
        operation_id = "ocr"
    )]
    async fn ocr(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        auth: ApiCaller,
        /// Makes retries safe: the same key and image within 24 hours is charged once, and a
        /// retry gets the first answer back (`Idempotent-Replayed: true`). While the first is
        /// running, a retry is 409 `idempotency_in_progress`; the same key with another image
        /// is 422 `idempotency_key_reused`. Keys belong to the tenant.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        /// `auto` (the default) reads an image shaped like a text line as one line and
        /// anything else as a page; `page` always reads a page; `line` reads the whole image
        /// as one line of text, without detection (crop to the line first).
        mode: Query<Option<OcrMode>>,
        input: OcrInput,
    ) -> ApiResult<OcrResponse> {
        let mode = mode.0.unwrap_or(OcrMode::Auto);
        let started = Instant::now();
        // Authenticated from the headers before the body was read (see the middleware).
        let principal = match req.extensions().get::<Principal>() {
            Some(p) => p.clone(),
            None => state.authorized(&auth, Scope::OcrRead).await?,
        };
        // One key, as visible ASCII: a header that is not text, or several of them, is
        // refused rather than read as "no key" (which would charge every retry again).
        let raw = req.headers().get_all("idempotency-key");
        let mut values = raw.iter();
        let unreadable = values.next().is_some_and(|v| v.to_str().is_err());
        if unreadable || values.next().is_some() {
            return Err(DomainError::invalid(
                Code::InvalidIdempotencyKey,
                "send one Idempotency-Key of 1 to 255 visible ASCII characters",
            )
            .into());
        }
        let idempotency_key = self::idempotency_key(idempotency_key.0)?;
        let bytes = match input {
            OcrInput::Multipart(upload) => upload.file.into_vec().await.map_err(|_| {
                ApiError::coded(Code::BadRequest, "the file part could not be read", None)
            })?,
            OcrInput::Png(b)
            | OcrInput::Jpeg(b)
            | OcrInput::Webp(b)
            | OcrInput::Tiff(b)
            | OcrInput::Bmp(b) => b.0,
        };
        let metered = Metered {
            operation: "ocr",
            units: 1,
            fingerprint: idempotency_key.as_ref().map(|_| fingerprint(mode, &bytes)),
            idempotency_key,
            max_runtime: state.ocr.config().timeout,
        };
        // The rate limits and concurrency slot taken before the body was read.
        let gate = req
            .extensions()
            .get::<crate::middleware::Preadmitted>()
            .and_then(crate::middleware::Preadmitted::take_gate);
        let admission = match state.admit(&principal, gate, metered).await? {
            Admitted::Run(a) => a,
            Admitted::Replay { answer, .. } => return Ok(replayed(&answer)?),
        };
        // The plan's image limits, within the engine's own.
        let plan = admission.plan();
        let engine = state.ocr.config().limits;
        let limits = ImageLimits {
            max_bytes: usize::try_from(plan.max_image_bytes)
                .unwrap_or(usize::MAX)
                .min(engine.max_bytes),
            max_pixels: plan.max_pixels.min(engine.max_pixels),
            ..engine
        };
        let out = match state.ocr.read(bytes, Some(limits), mode.into()).await {
            Ok(out) => out,
            Err(e) => {
                // Nothing is charged; the key is free for a retry before the answer goes out.
                admission.abandon().await;
                return Err(ocr_error(e).into());
            }
        };
        let usage = OcrUsage {
            units: admission.units_charged(),
            unit: tollgate_meter::UNIT.to_owned(),
            remaining: admission.quota_left(),
        };
        let text = out
            .page
            .lines
            .iter()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        let result = OcrResult {
            lines: out
                .page
                .lines
                .into_iter()
                .map(|l| OcrLine {
                    text: l.text,
                    confidence: l.confidence,
                    polygon: l.polygon.iter().map(|p| vec![p[0], p[1]]).collect(),
                })
                .collect(),
            text,
            width: out.width,
            height: out.height,
            upside_down: out.page.upside_down,
            read_as: match out.page.mode {
                Mode::Line => ReadAs::Line,
                Mode::Page | Mode::Auto => ReadAs::Page,
            },
            model: tollgate_ocr::MODEL_ID.to_owned(),
            timing: OcrTiming {
                decode_ms: out.timing.decode_ms,
                queue_ms: out.timing.queue_ms,
                inference_ms: out.timing.inference_ms,
                total_ms: started.elapsed().as_secs_f64() * 1000.0,
            },
            usage,
        };
        // With an idempotency key the answer is stored with the usage event, for retries.
        let stored = admission
            .stores_answer()
            .then(|| result.to_json().map(|v| v.to_string()))
            .flatten();
        state.commit(admission, 200, stored.as_deref()).await?;
        Ok(OcrResponse::Ok(Json(result), None))
    }

    /// List the OCR models and whether they are loaded.
    ///
    /// **Permissions**: any valid access token or API key; no scope needed.
    #[oai(
        path = "/v1/models",
        method = "get",
        tag = "Tag::Ocr",
        operation_id = "listModels"
    )]
    async fn models(
        &self,
        state: Data<&Arc<AppState>>,
        auth: ApiCaller,
    ) -> ApiResult<Json<Models>> {
        state.principal(&auth).await?;
        let tasks = ["detection", "classification", "recognition"];
        Ok(Json(Models {
            model: tollgate_ocr::MODEL_ID.to_owned(),
            ready: state.ocr.is_ready(),
            device: state.ocr.info().map(|i| i.device.clone()),
            models: tollgate_ocr::MODEL_NAMES
                .iter()
                .zip(tasks)
                .map(|(name, task)| ModelInfo {
                    name: (*name).to_owned(),
                    task: task.to_owned(),
                })
                .collect(),
        }))
    }
}
