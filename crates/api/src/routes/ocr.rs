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
use tollgate_ocr::pdf::PdfError;
use tollgate_ocr::{ImageError, ImageLimits, Mode, ModelSet, OcrError, OcrOutput};

/// A multipart upload.
#[derive(Debug, Multipart)]
pub struct OcrUpload {
    /// The image (PNG, JPEG, WebP, TIFF or BMP) or PDF (told by its `%PDF-` header).
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
    /// A PDF: every page is read, and each is a unit.
    #[oai(content_type = "application/pdf")]
    Pdf(Binary<Vec<u8>>),
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

/// A model set: a text detector, the angle classifier and a recogniser with its dictionary.
/// `GET /v1/models` says which is the default and what each holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum OcrModel {
    /// PP-OCRv4 (mobile): 6623 characters, Chinese and English.
    #[oai(rename = "pp-ocrv4")]
    PpOcrV4,
    /// PP-OCRv5 mobile: 18383 characters (simplified and traditional Chinese, Japanese,
    /// English, Pinyin, and handwriting).
    #[oai(rename = "pp-ocrv5")]
    PpOcrV5,
    /// PP-OCRv6 small: 18708 characters.
    #[oai(rename = "pp-ocrv6")]
    PpOcrV6,
}

impl From<OcrModel> for ModelSet {
    fn from(m: OcrModel) -> Self {
        match m {
            OcrModel::PpOcrV4 => ModelSet::V4,
            OcrModel::PpOcrV5 => ModelSet::V5,
            OcrModel::PpOcrV6 => ModelSet::V6,
        }
    }
}

/// How an image was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum ReadAs {
    /// As a page.
    Page,
    /// As one line.
    Line,
    /// A PDF page's own text layer, used instead of OCR (in `mode=auto`, for a page whose
    /// text is all mapped to Unicode, horizontal, visible, and not mostly pictures); charged
    /// as a page.
    TextLayer,
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

/// What one page of a PDF says.
#[derive(Debug, Object)]
pub struct OcrPage {
    /// Page number, from 1.
    pub page: u32,
    /// Lines in reading order; boxes in the pixels of the page as rendered (`width` x
    /// `height`).
    pub lines: Vec<OcrLine>,
    /// The page's lines, joined by newlines.
    pub text: String,
    /// Width of the rendered page in pixels (rendered at up to 300 dpi, at most 3000 px on
    /// its longer side).
    pub width: u32,
    /// Height of the rendered page in pixels.
    pub height: u32,
    /// Whether the page was read turned by 180°.
    pub upside_down: bool,
    /// How it was read.
    pub read_as: ReadAs,
}

/// What the image or PDF says.
#[derive(Debug, Object)]
pub struct OcrResult {
    /// Lines in reading order (for a PDF: empty, see `pages`).
    pub lines: Vec<OcrLine>,
    /// All lines, joined by newlines; for a PDF, each page's text, joined by a line holding
    /// a form feed (`\n\f\n`).
    pub text: String,
    /// A PDF's pages, in order (absent for an image).
    #[oai(skip_serializing_if_is_none)]
    pub pages: Option<Vec<OcrPage>>,
    /// Image width in pixels (after EXIF orientation; for a PDF, its first page's).
    pub width: u32,
    /// Image height in pixels (after EXIF orientation; for a PDF, its first page's).
    pub height: u32,
    /// Whether the page was read turned by 180° (most lines were upside down; for a PDF,
    /// its first page).
    pub upside_down: bool,
    /// How it was read (`mode=auto` decides per image; for a PDF, its first page).
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

/// What an `Idempotency-Key` is bound to: what the request says — the image, the mode when it
/// is not `auto`, and the model set when it names one. A retry that says the same gets the
/// first answer back even when the default set has changed in between (a deploy, or a node
/// that serves another default): the answer the key was first given. One that says otherwise
/// (names a set it did not name, or another) is another request. `auto` and no set keep the
/// fingerprints stored before modes and model sets existed.
fn fingerprint(mode: OcrMode, named: Option<ModelSet>, bytes: &[u8]) -> String {
    let digest = tollgate_store::sha256_hex(bytes);
    let model = named.map(|m| format!("{}:", m.id())).unwrap_or_default();
    match mode {
        OcrMode::Auto => format!("ocr:{model}{digest}"),
        OcrMode::Page => format!("ocr:page:{model}{digest}"),
        OcrMode::Line => format!("ocr:line:{model}{digest}"),
    }
}

/// What was read: an image's one page, or a PDF's pages.
enum Read {
    Image(OcrOutput),
    Pdf(Vec<OcrOutput>),
}

fn lines_of(page: &tollgate_ocr::PageText) -> (Vec<OcrLine>, String) {
    let text = page
        .lines
        .iter()
        .map(|l| l.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let lines = page
        .lines
        .iter()
        .map(|l| OcrLine {
            text: l.text.clone(),
            confidence: l.confidence,
            polygon: l.polygon.iter().map(|p| vec![p[0], p[1]]).collect(),
        })
        .collect();
    (lines, text)
}

fn read_as(mode: Mode) -> ReadAs {
    match mode {
        Mode::Line => ReadAs::Line,
        Mode::Page | Mode::Auto => ReadAs::Page,
        Mode::TextLayer => ReadAs::TextLayer,
    }
}

/// The answer for what was read.
fn answer(read: Read, model: ModelSet, started: Instant, usage: OcrUsage) -> OcrResult {
    let (first, lines, text, pages) = match read {
        Read::Image(out) => {
            let (lines, text) = lines_of(&out.page);
            (out, lines, text, None)
        }
        Read::Pdf(outs) => {
            let pages: Vec<OcrPage> = outs
                .iter()
                .zip(1u32..)
                .map(|(out, page)| {
                    let (lines, text) = lines_of(&out.page);
                    OcrPage {
                        page,
                        lines,
                        text,
                        width: out.width,
                        height: out.height,
                        upside_down: out.page.upside_down,
                        read_as: read_as(out.page.mode),
                    }
                })
                .collect();
            let text = pages
                .iter()
                .map(|p| p.text.as_str())
                .collect::<Vec<_>>()
                .join("\n\u{c}\n");
            let mut timing = tollgate_ocr::Timing::default();
            for out in &outs {
                timing.decode_ms += out.timing.decode_ms;
                timing.queue_ms += out.timing.queue_ms;
                timing.inference_ms += out.timing.inference_ms;
            }
            let mut first = outs.into_iter().next().unwrap_or(OcrOutput {
                page: tollgate_ocr::PageText {
                    lines: Vec::new(),
                    upside_down: false,
                    mode: Mode::Page,
                },
                width: 0,
                height: 0,
                timing,
            });
            first.timing = timing;
            (first, Vec::new(), text, Some(pages))
        }
    };
    OcrResult {
        lines,
        text,
        pages,
        width: first.width,
        height: first.height,
        upside_down: first.page.upside_down,
        read_as: read_as(first.page.mode),
        model: model.id().to_owned(),
        timing: OcrTiming {
            decode_ms: first.timing.decode_ms,
            queue_ms: first.timing.queue_ms,
            inference_ms: first.timing.inference_ms,
            total_ms: started.elapsed().as_secs_f64() * 1000.0,
        },
        usage,
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
        OcrError::Pdf(e) => {
            let code = match e {
                PdfError::NotPdf | PdfError::Invalid => Code::PdfInvalid,
                PdfError::Encrypted => Code::PdfEncrypted,
                PdfError::TooManyPages { .. } => Code::PdfTooManyPages,
                PdfError::PageSize { .. } => Code::PdfPageTooLarge,
                PdfError::JavaScript => Code::PdfJavascript,
                PdfError::ImageTooLarge { .. } => Code::ImageTooLarge,
                PdfError::TooSlow { .. } => Code::PdfTooSlow,
                PdfError::Render { .. } => Code::PdfRenderFailed,
            };
            DomainError::invalid(code, detail)
        }
        OcrError::ModelNotLoaded(_) => DomainError::invalid(Code::ModelNotLoaded, detail),
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

/// A model set `/v1/ocr` can read with.
#[derive(Debug, Object)]
pub struct ModelSetInfo {
    /// Its name, as `model=` takes it and `/v1/ocr` reports it.
    pub id: String,
    /// Whether a request that names no model is read with it.
    pub default: bool,
    /// Characters its recogniser knows.
    pub characters: u32,
    /// Its models: detection, classification, recognition.
    pub models: Vec<ModelInfo>,
}

/// What the OCR engine has loaded.
#[derive(Debug, Object)]
pub struct Models {
    /// The default model set, as `/v1/ocr` reports it.
    pub model: String,
    /// Whether the models are loaded and warmed up.
    pub ready: bool,
    /// The device they run on (once ready).
    #[oai(skip_serializing_if_is_none)]
    pub device: Option<String>,
    /// The default set's models.
    pub models: Vec<ModelInfo>,
    /// Every model set served, the default first.
    pub sets: Vec<ModelSetInfo>,
}

/// What is wrong with the query string of `POST /v1/ocr`, if anything: a name other than
/// `mode` and `model`, or one of them twice (names compared decoded).
fn query_problem(req: &Request) -> Option<String> {
    let Ok(pairs) =
        serde_urlencoded::from_str::<Vec<(String, String)>>(req.uri().query().unwrap_or_default())
    else {
        return Some("the query string could not be read".into());
    };
    for (i, (name, _)) in pairs.iter().enumerate() {
        if name != "mode" && name != "model" {
            return Some(format!(
                "unknown query parameter `{}`: this operation takes `mode` and `model`",
                name.escape_debug()
            ));
        }
        if pairs[..i].iter().any(|(earlier, _)| earlier == name) {
            return Some(format!("`{name}` may be given once"));
        }
    }
    None
}

/// A set's three models, named.
fn model_infos(set: ModelSet) -> Vec<ModelInfo> {
    let tasks = ["detection", "classification", "recognition"];
    set.model_names()
        .iter()
        .zip(tasks)
        .map(|(name, task)| ModelInfo {
            name: (*name).to_owned(),
            task: task.to_owned(),
        })
        .collect()
}

/// OCR operations.
pub struct OcrApi;

#[OpenApi]
impl OcrApi {
    /// Read the text in an image or a PDF.
    ///
    /// Send the image as `multipart/form-data` (a `file` part) or as the raw body with its
    /// media type. PNG, JPEG, WebP, TIFF and BMP are accepted; EXIF orientation is honoured.
    /// Size limits are checked before decoding: too many bytes is 413 (`payload_too_large`),
    /// too many pixels 422 (`image_too_large`); an undecodable image is 422
    /// (`corrupt_image`, `unsupported_image`, `empty_image`); another media type is 415.
    /// When the engine is saturated the answer is 503 (`ocr_busy`, `ocr_timeout`) with
    /// `Retry-After`.
    ///
    /// A PDF (`application/pdf`, or a multipart file starting with `%PDF-`) is read page by
    /// page, each rendered at up to 300 dpi; the answer's `pages` holds each page's lines and
    /// text. It is checked before anything is charged: more pages than the plan reads in one
    /// request is 422 `pdf_too_many_pages`; an encrypted PDF `pdf_encrypted`; an unreadable
    /// one `pdf_invalid`; a page over 200 inches a side `pdf_page_too_large`; an embedded
    /// image declaring over 100 million pixels `image_too_large`; JavaScript
    /// anywhere in it `pdf_javascript`; a page that takes longer than the engine's timeout to
    /// render `pdf_too_slow`.
    ///
    /// Metered: an image is one unit (`page`), a PDF one unit per page — reserved together,
    /// and all given back if any page fails. Rate limits answer 429 `rate_limited`, the
    /// plan's concurrency cap 429 `concurrency_limited`, a used-up hard quota 429
    /// `quota_exhausted` (with `Retry-After` at the next period), and a call that would take
    /// the period's rated spend past the tenant's own spend cap 402 `spend_cap_reached` (with
    /// the amounts in `spend`), before the OCR runs; the `RateLimit-Policy`,
    /// `RateLimit` and `Tollgate-Units` headers say where the caller stands. A request is
    /// charged only when it succeeds, and every request that succeeds is charged and recorded
    /// (`X-Request-Id` is for tracing only). A retry with the same `Idempotency-Key` (within
    /// 24 hours, same image, `mode` and `model`) gets the first answer back and is not charged
    /// again; while the first runs it is 409 `idempotency_in_progress` with `Retry-After`; the
    /// same key with another image, `mode` or `model` is 422 `idempotency_key_reused`.
    ///
    /// `mode` and `model` are the only query parameters, each at most once: any other name,
    /// or one of them twice, is 400 `bad_request`.
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
    #[expect(
        clippy::too_many_arguments,
        reason = "poem-openapi takes each header and query parameter as an argument"
    )]
    async fn ocr(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        auth: ApiCaller,
        /// Makes retries safe: the same key and image within 24 hours is charged once, and a
        /// retry gets the first answer back (`Idempotent-Replayed: true`). While the first is
        /// running, a retry is 409 `idempotency_in_progress`; the same key with another image,
        /// `mode` or `model` is 422 `idempotency_key_reused`. Keys belong to the tenant.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        /// `auto` (the default) reads an image shaped like a text line as one line and
        /// anything else as a page; `page` always reads a page; `line` reads the whole image
        /// as one line of text, without detection (crop to the line first).
        mode: Query<Option<OcrMode>>,
        /// The model set to read with (`GET /v1/models` lists them); the default set when
        /// absent. Every set is charged the same.
        model: Query<Option<OcrModel>>,
        input: OcrInput,
    ) -> ApiResult<OcrResponse> {
        // Each choice once, and nothing else: the framework reads the first of repeated
        // values and ignores names it does not know (`Model=`), either of which a proxy or an
        // SDK in front may read otherwise.
        if let Some(problem) = query_problem(req) {
            return Err(ApiError::coded(Code::BadRequest, problem, None));
        }
        let mode = mode.0.unwrap_or(OcrMode::Auto);
        let named = model.0.map(ModelSet::from);
        let model = named.unwrap_or_else(|| state.ocr.default_model());
        // A set this server does not serve is refused before anything is charged.
        if !state.ocr.models().contains(&model) {
            return Err(ocr_error(OcrError::ModelNotLoaded(model.id())).into());
        }
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
        let (bytes, declared_pdf) = match input {
            OcrInput::Multipart(upload) => {
                let bytes = upload.file.into_vec().await.map_err(|_| {
                    ApiError::coded(Code::BadRequest, "the file part could not be read", None)
                })?;
                (bytes, false)
            }
            OcrInput::Pdf(b) => (b.0, true),
            OcrInput::Png(b)
            | OcrInput::Jpeg(b)
            | OcrInput::Webp(b)
            | OcrInput::Tiff(b)
            | OcrInput::Bmp(b) => (b.0, false),
        };
        // The rate limits and concurrency slot taken before the body was read.
        let gate = req
            .extensions()
            .get::<crate::middleware::Preadmitted>()
            .and_then(crate::middleware::Preadmitted::take_gate);
        let fingerprint = idempotency_key
            .as_ref()
            .map(|_| self::fingerprint(mode, named, &bytes));
        // A PDF is checked (and its pages counted against the plan's cap) before anything is
        // reserved: its pages are its units. A multipart file is a PDF by its header.
        let (pdf, bytes) = if declared_pdf || tollgate_ocr::pdf::is_pdf(&bytes) {
            let (max_pages, max_bytes) = match &gate {
                Some(g) => (g.plan().max_pdf_pages, g.plan().max_image_bytes),
                None => {
                    let limits = state
                        .meter
                        .limits(principal.tenant_id)
                        .await
                        .map_err(|e| DomainError::from(tollgate_meter::Refusal::from(e)))?;
                    (limits.plan.max_pdf_pages, limits.plan.max_image_bytes)
                }
            };
            // The plan's upload size applies to PDFs as to images (the body limit is the
            // engine's, which may be larger).
            let max_bytes = usize::try_from(max_bytes)
                .unwrap_or(usize::MAX)
                .min(state.ocr.config().limits.max_bytes);
            if bytes.len() > max_bytes {
                return Err(DomainError::TooLarge {
                    code: Code::PayloadTooLarge,
                    detail: format!(
                        "the PDF has {} bytes; this plan reads at most {max_bytes}",
                        bytes.len()
                    ),
                }
                .into());
            }
            let checked = state
                .ocr
                .check_pdf(bytes, max_pages)
                .await
                .map_err(ocr_error)?;
            (Some(checked), Vec::new())
        } else {
            (None, bytes)
        };
        let pages = pdf.as_ref().map_or(1, |d| d.pages());
        let units = i64::try_from(pages).unwrap_or(i64::MAX);
        let page_runtime = state.ocr.config().timeout;
        let metered = Metered {
            operation: "ocr",
            units,
            fingerprint,
            idempotency_key,
            // Each page may take the engine's timeout to render and as long again to read.
            max_runtime: page_runtime * u32::try_from(pages.max(1) * 2).unwrap_or(u32::MAX),
        };
        let admission = match state.admit(&principal, gate, metered).await? {
            Admitted::Run(a) => a,
            Admitted::Replay { answer, .. } => return Ok(replayed(&answer)?),
        };
        let read = match pdf {
            Some(doc) => state
                .ocr
                .read_pdf(doc, mode.into(), model)
                .await
                .map(Read::Pdf),
            None => {
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
                state
                    .ocr
                    .read(bytes, Some(limits), mode.into(), model)
                    .await
                    .map(Read::Image)
            }
        };
        let read = match read {
            Ok(read) => read,
            Err(e) => {
                // Nothing is charged (every page's unit is given back); the key is free for
                // a retry before the answer goes out.
                admission.abandon().await;
                return Err(ocr_error(e).into());
            }
        };
        let usage = OcrUsage {
            units: admission.units_charged(),
            unit: tollgate_meter::UNIT.to_owned(),
            remaining: admission.quota_left(),
        };
        let result = answer(read, model, started, usage);
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
        let default = state.ocr.default_model();
        Ok(Json(Models {
            model: default.id().to_owned(),
            ready: state.ocr.is_ready(),
            device: state.ocr.info().map(|i| i.device.clone()),
            models: model_infos(default),
            sets: state
                .ocr
                .models()
                .iter()
                .map(|set| ModelSetInfo {
                    id: set.id().to_owned(),
                    default: *set == default,
                    characters: u32::try_from(set.dictionary().split('\n').count())
                        .unwrap_or(u32::MAX),
                    models: model_infos(*set),
                })
                .collect(),
        }))
    }
}
