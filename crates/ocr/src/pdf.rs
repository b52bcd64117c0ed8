//! PDFs: checked before anything is charged, then each page rasterised in pure Rust (hayro,
//! with the standard 14 fonts and the predefined CMaps built in) at a resolution chosen from
//! its size, and read like an image.
//!
//! What is refused, and why: an encrypted document (its text is not ours to read without the
//! password; an empty user password is tried, as readers do), one hayro cannot parse (truncated
//! or corrupt), one with JavaScript anywhere in its objects (never run here; refused so a
//! document that does something on opening is not silently read as if it did not), more
//! pages than the plan reads in one request (checked before any page is rendered or
//! charged), and a page larger than 200 inches a side (the PDF format's own default limit is
//! 14 400 units) or with no area.
//!
//! Rendering has a time budget per page (see the engine) and a pixel budget: a page is
//! rendered at most [`MAX_RENDER_SIDE`] pixels on its longer side, whatever its size.

use hayro::hayro_interpret::{InterpreterSettings, TransformExt};
use hayro::hayro_syntax::object::{Dict, MaybeRef, Object};
use hayro::hayro_syntax::{LoadPdfError, Pdf};
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::{PixmapSettings, RenderCache, RenderSettings};
use image::RgbImage;
use std::sync::Arc;

/// Resolution pages are rendered at when they are small enough.
pub const TARGET_DPI: f32 = 300.0;
/// The longer side of a rendered page, at most (a Letter page renders at about 270 dpi).
pub const MAX_RENDER_SIDE: f32 = 3000.0;
/// The largest page side accepted, in points (200 inches).
pub const MAX_PAGE_POINTS: f32 = 14_400.0;
/// The most pixels an image inside a PDF may declare (the renderer allocates what an image
/// declares, and a failed allocation aborts the process; 300 dpi scans of A3 pages have
/// about 17 million).
pub const MAX_IMAGE_PIXELS: u64 = 100_000_000;
/// How deep nested dictionaries and arrays are searched for JavaScript.
const MAX_NESTING: u32 = 32;

/// Why a PDF is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum PdfError {
    /// Not a PDF at all (no `%PDF-` header in its first kilobyte).
    #[error("not a PDF: no %PDF- header")]
    NotPdf,
    /// Encrypted with a password.
    #[error("the PDF is encrypted; send it without a password")]
    Encrypted,
    /// Truncated, corrupt, or without a page (a truncated file often parses as one).
    #[error("the PDF could not be read or has no pages (truncated or corrupt?)")]
    Invalid,
    /// More pages than the plan reads in one request.
    #[error("the PDF has {pages} pages; at most {max} are read in one request")]
    TooManyPages {
        /// Pages in the document.
        pages: usize,
        /// The plan's cap.
        max: u32,
    },
    /// A page too large (or without area).
    #[error("page {page} is {width:.0} x {height:.0} points; pages of 1 to {MAX_PAGE_POINTS} points a side are read")]
    PageSize {
        /// 1-based.
        page: usize,
        /// Points.
        width: f32,
        /// Points.
        height: f32,
    },
    /// An embedded image declares more pixels than are decoded here.
    #[error(
        "an image in the PDF declares {pixels} pixels; at most {MAX_IMAGE_PIXELS} are decoded"
    )]
    ImageTooLarge {
        /// Width x height, as declared.
        pixels: u64,
    },
    /// JavaScript somewhere in the document.
    #[error("the PDF contains JavaScript, which is not accepted")]
    JavaScript,
    /// Checking the document, or rendering a page, took longer than its budget.
    #[error("{what} took longer than {seconds} s; simplify or split the PDF")]
    TooSlow {
        /// `checking the PDF` or `rendering page N`.
        what: String,
        /// The budget.
        seconds: u64,
    },
    /// The renderer failed on a page (it panicked: a document it cannot handle).
    #[error("page {page} could not be rendered")]
    Render {
        /// 1-based.
        page: usize,
    },
}

/// A PDF that passed the checks: its bytes and its pages' sizes.
#[derive(Clone)]
pub struct CheckedPdf {
    bytes: Arc<Vec<u8>>,
    /// Each page's size as rendered, in points.
    sizes: Vec<(f32, f32)>,
}

impl std::fmt::Debug for CheckedPdf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckedPdf")
            .field("bytes", &self.bytes.len())
            .field("pages", &self.sizes.len())
            .finish()
    }
}

impl CheckedPdf {
    /// Pages (each a unit).
    pub fn pages(&self) -> usize {
        self.sizes.len()
    }

    /// A checked document, from its bytes and its pages' sizes (as a worker reported them).
    pub fn from_parts(bytes: Arc<Vec<u8>>, sizes: Vec<(f32, f32)>) -> Self {
        Self { bytes, sizes }
    }

    /// A document its parent process checked, in the worker that renders it (page sizes are
    /// not needed there).
    pub(crate) fn unchecked(bytes: Vec<u8>) -> Self {
        Self {
            bytes: Arc::new(bytes),
            sizes: Vec::new(),
        }
    }

    /// Each page's size, in points.
    pub fn sizes(&self) -> &[(f32, f32)] {
        &self.sizes
    }

    /// The document.
    pub fn bytes(&self) -> &Arc<Vec<u8>> {
        &self.bytes
    }

    /// The size page `index` (0-based) is rendered at, in pixels.
    pub fn render_size(&self, index: usize) -> Option<(u32, u32)> {
        let (w, h) = *self.sizes.get(index)?;
        let scale = render_dpi(w, h) / 72.0;
        Some(((w * scale) as u32, (h * scale) as u32))
    }
}

/// Whether `bytes` look like a PDF (`%PDF-` in the first kilobyte, where readers look).
pub fn is_pdf(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(1024)]
        .windows(5)
        .any(|w| w == b"%PDF-")
}

fn open(bytes: &Arc<Vec<u8>>) -> Result<Pdf, PdfError> {
    Pdf::new(bytes.clone()).map_err(|e| match e {
        LoadPdfError::Decryption(_) => PdfError::Encrypted,
        LoadPdfError::Invalid => PdfError::Invalid,
    })
}

/// Checks a PDF (CPU-bound: run it off the async threads): parses it, counts its pages
/// against `max_pages`, checks each page's size and looks for JavaScript.
pub fn check(bytes: Vec<u8>, max_pages: u32) -> Result<CheckedPdf, PdfError> {
    if !is_pdf(&bytes) {
        return Err(PdfError::NotPdf);
    }
    let bytes = Arc::new(bytes);
    let pdf = open(&bytes)?;
    let pages = pdf.pages();
    if pages.is_empty() {
        return Err(PdfError::Invalid);
    }
    if pages.len() > max_pages as usize {
        return Err(PdfError::TooManyPages {
            pages: pages.len(),
            max: max_pages,
        });
    }
    let mut sizes = Vec::with_capacity(pages.len());
    for (i, page) in pages.iter().enumerate() {
        let (width, height) = page.render_dimensions();
        sizes.push((width, height));
        let fits = |side: f32| side.is_finite() && (1.0..=MAX_PAGE_POINTS).contains(&side);
        if !fits(width) || !fits(height) {
            return Err(PdfError::PageSize {
                page: i + 1,
                width,
                height,
            });
        }
    }
    for object in pdf.objects() {
        if has_javascript(&object, 0) {
            return Err(PdfError::JavaScript);
        }
        if let Object::Stream(stream) = &object {
            let pixels = declared_pixels(stream.dict());
            if pixels > MAX_IMAGE_PIXELS {
                return Err(PdfError::ImageTooLarge { pixels });
            }
        }
    }
    Ok(CheckedPdf { bytes, sizes })
}

/// Whether `object` is or holds a JavaScript action (`/S /JavaScript`, a `/JS` entry) or a
/// document-level JavaScript name tree (`/JavaScript`), in its direct dictionaries and arrays.
fn has_javascript(object: &Object<'_>, depth: u32) -> bool {
    if depth > MAX_NESTING {
        // Nested deeper than any real document: treat as suspicious rather than search on.
        return true;
    }
    match object {
        Object::Dict(d) => dict_has_javascript(d, depth),
        Object::Stream(s) => dict_has_javascript(s.dict(), depth),
        Object::Array(a) => a
            .raw_iter()
            .any(|item| matches!(item, MaybeRef::NotRef(o) if has_javascript(&o, depth + 1))),
        _ => false,
    }
}

/// The pixels an image stream declares (`/Width` x `/Height`; 0 for other streams).
fn declared_pixels(d: &Dict<'_>) -> u64 {
    let is_image =
        matches!(d.get::<Object<'_>>(b"Subtype"), Some(Object::Name(n)) if n.as_ref() == b"Image");
    if !is_image {
        return 0;
    }
    let side = |key: &[u8]| d.get::<f32>(key).map_or(0.0, |v| f64::from(v.max(0.0)));
    let pixels = side(b"Width") * side(b"Height");
    if pixels.is_finite() {
        pixels as u64
    } else {
        u64::MAX
    }
}

fn dict_has_javascript(d: &Dict<'_>, depth: u32) -> bool {
    for (key, value) in d.entries() {
        let key: &[u8] = key.as_ref();
        if key == b"JS" || key == b"JavaScript" {
            return true;
        }
        match value {
            MaybeRef::NotRef(Object::Name(n)) if key == b"S" && n.as_ref() == b"JavaScript" => {
                return true
            }
            MaybeRef::NotRef(o) if has_javascript(&o, depth + 1) => return true,
            _ => {}
        }
    }
    false
}

/// Renders page `index` (0-based) of a checked PDF on white, at [`TARGET_DPI`] or less so its
/// longer side is at most [`MAX_RENDER_SIDE`] pixels; the resolution it used.
pub fn render(pdf: &CheckedPdf, index: usize) -> Result<(RgbImage, f32), PdfError> {
    let doc = open(&pdf.bytes)?;
    let pages = doc.pages();
    let page = pages.get(index).ok_or(PdfError::Invalid)?;
    let (width, height) = page.render_dimensions();
    let dpi = render_dpi(width, height);
    let scale = dpi / 72.0;
    let settings = PixmapSettings {
        x_scale: scale,
        y_scale: scale,
        bg_color: WHITE,
    };
    let cache = RenderCache::new();
    let pixmap = hayro::render(
        page,
        &cache,
        &InterpreterSettings::default(),
        &RenderSettings::default(),
        &settings,
    );
    let (w, h) = (u32::from(pixmap.width()), u32::from(pixmap.height()));
    if w == 0 || h == 0 {
        return Err(PdfError::PageSize {
            page: index + 1,
            width,
            height,
        });
    }
    // Opaque on a white background: premultiplied and straight RGBA are the same.
    let rgba = pixmap.data_as_u8_slice();
    let mut rgb = Vec::with_capacity(w as usize * h as usize * 3);
    for px in rgba.chunks_exact(4) {
        rgb.extend_from_slice(&px[..3]);
    }
    let image = RgbImage::from_raw(w, h, rgb).ok_or(PdfError::Invalid)?;
    Ok((image, dpi))
}

/// A page's text layer, in the frame of the page as [`render`] would draw it (pixels).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TextLayer {
    /// The page's rendered size.
    pub width: u32,
    /// The page's rendered size.
    pub height: u32,
    /// Its lines in reading order (grouped and ordered as OCR's are), each with its bounds
    /// `[x0, y0, x1, y1]`.
    pub lines: Vec<(String, [f32; 4])>,
}

/// The fewest visible characters a text layer needs to be used instead of OCR.
pub const MIN_LAYER_CHARS: usize = 8;
/// The largest share of a page that images may cover for its text layer to be used (text in
/// a picture is not in the layer).
pub const MAX_LAYER_IMAGE_SHARE: f64 = 0.25;

/// Page `index`'s text layer, when it is usable instead of OCR: at least [`MIN_LAYER_CHARS`]
/// visible characters, every one mapped to Unicode (fonts without a usable encoding give
/// glyph codes, not text), nearly all of them horizontal, no invisible text (an invisible
/// layer is a previous OCR's guess over a scan) and none white or transparent, none off the page or under a point high, at
/// most [`MAX_LAYER_WORDS`] words, and images covering at most [`MAX_LAYER_IMAGE_SHARE`] of
/// the page. Its words are laid out here, so a worker process does that work under its
/// limits.
pub fn text_layer(pdf: &CheckedPdf, index: usize) -> Result<Option<TextLayer>, PdfError> {
    let Some((width, height, words)) = layer_words(pdf, index)? else {
        return Ok(None);
    };
    let lines = crate::pipeline::lay_out(words)
        .into_iter()
        .map(|l| {
            let b = crate::pipeline::bounds(&l.polygon, false, 0.0, 0.0);
            (l.text, b)
        })
        .collect();
    Ok(Some(TextLayer {
        width,
        height,
        lines,
    }))
}

/// The most words a text layer may have to be used (a page of small type has about 1500;
/// laying words out costs more than linear time, and a layer this large is not a page's
/// text).
pub const MAX_LAYER_WORDS: usize = 5000;
/// The smallest em a glyph may have, in the page's pixels (about 1 point at 270 dpi): text
/// smaller than that is not meant to be read.
const MIN_GLYPH_EM: f32 = 4.0;

/// Words with their bounds `[x0, y0, x1, y1]`.
type Words = Vec<(String, [f32; 4])>;

/// The page's size as rendered and its usable text layer's words, in the order the
/// document shows them (see [`text_layer`]).
fn layer_words(pdf: &CheckedPdf, index: usize) -> Result<Option<(u32, u32, Words)>, PdfError> {
    let doc = open(&pdf.bytes)?;
    let pages = doc.pages();
    let page = pages.get(index).ok_or(PdfError::Invalid)?;
    let (width, height) = page.render_dimensions();
    let scale = render_dpi(width, height) / 72.0;
    let transform =
        hayro::kurbo::Affine::scale(f64::from(scale)) * page.initial_transform(true).to_kurbo();
    // Sized as `render` sizes its pixmap.
    let (w, h) = ((width * scale) as u32, (height * scale) as u32);
    let cache = hayro::hayro_interpret::InterpreterCache::new();
    let mut context = hayro::hayro_interpret::Context::new(
        transform,
        hayro::kurbo::Rect::new(0.0, 0.0, f64::from(w), f64::from(h)),
        &cache,
        page.xref(),
        InterpreterSettings::default(),
    );
    let mut layer = LayerCollector::default();
    hayro::hayro_interpret::interpret_page(page, &mut context, &mut layer);
    let page_area = f64::from(w) * f64::from(h);
    let (wf, hf) = (w as f32, h as f32);
    // Text off the page or too small to see is not what the page shows.
    let hidden = |g: &LaidGlyph| {
        let [x0, y0, x1, y1] = g.bounds;
        let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        !(0.0..=wf).contains(&cx) || !(0.0..=hf).contains(&cy) || y1 - y0 < MIN_GLYPH_EM
    };
    let visible = layer.glyphs.iter().filter(|g| !g.space).count();
    let usable = visible >= MIN_LAYER_CHARS
        && layer.unmapped == 0
        && layer.invisible == 0
        && layer.slanted * 20 <= visible
        && !layer.glyphs.iter().any(|g| !g.space && hidden(g))
        && layer.image_area <= MAX_LAYER_IMAGE_SHARE * page_area;
    if !usable {
        return Ok(None);
    }
    let words = words(&layer.glyphs);
    Ok((words.len() <= MAX_LAYER_WORDS).then_some((w, h, words)))
}

/// A glyph of a text layer: its text and its em box in the page's pixels.
#[derive(Debug, Clone)]
struct LaidGlyph {
    text: String,
    bounds: [f32; 4],
    space: bool,
}

/// Collects the glyphs a page shows, and what makes its text layer unusable.
#[derive(Default)]
struct LayerCollector {
    glyphs: Vec<LaidGlyph>,
    /// Glyph origins seen, so text drawn twice (fill, then stroke) counts once.
    seen: std::collections::HashSet<(String, i64, i64)>,
    unmapped: usize,
    /// Glyphs drawn invisibly (render mode 3) or faintly (see `draw_glyph_run`).
    invisible: usize,
    slanted: usize,
    image_area: f64,
}

impl<'a> hayro::hayro_interpret::Device<'a> for LayerCollector {
    fn draw_path(
        &mut self,
        _: &hayro::kurbo::BezPath,
        _: hayro::hayro_interpret::DrawProps<'a>,
        _: &hayro::hayro_interpret::DrawMode,
    ) {
    }
    fn push_clip_path(&mut self, _: &hayro::hayro_interpret::ClipPath) {}
    fn push_transparency_group(
        &mut self,
        _: f32,
        _: Option<hayro::hayro_interpret::SoftMask<'a>>,
        _: hayro::hayro_interpret::BlendMode,
    ) {
    }
    fn draw_glyph_run(
        &mut self,
        run: &hayro::hayro_interpret::font::GlyphRun<'_, 'a>,
        props: hayro::hayro_interpret::DrawProps<'a>,
        mode: &hayro::hayro_interpret::DrawMode,
    ) {
        use hayro::hayro_interpret::font::Glyph;
        use hayro::hayro_interpret::hayro_cmap::BfString;
        // Text painted so it does not show on white paper: white or nearly, mostly
        // transparent, or through a soft mask (white text on a dark box is legitimate, and
        // such a page is OCR'd rather than trusted).
        let faint = props.soft_mask.is_some()
            || match &props.paint {
                hayro::hayro_interpret::Paint::Color(c) => {
                    let [r, g, b, a] = c.to_rgba().to_rgba8();
                    a < 128 || (r >= 240 && g >= 240 && b >= 240)
                }
                hayro::hayro_interpret::Paint::Pattern(_) => false,
            };
        for glyph in run.glyphs() {
            if matches!(mode, hayro::hayro_interpret::DrawMode::Invisible) || faint {
                self.invisible += 1;
                continue;
            }
            let t = props.transform * glyph.transform();
            let advance = match &**glyph {
                Glyph::Outline(g) => g.advance_width(),
                Glyph::Type3(g) => g.advance_width(),
            }
            .filter(|a| a.is_finite() && *a > 0.0)
            .unwrap_or(500.0);
            let text = match glyph.as_unicode() {
                Some(BfString::Char(c)) => c.to_string(),
                Some(BfString::String(s)) => s,
                None => String::new(),
            };
            if text.is_empty()
                || text
                    .chars()
                    .any(|c| c == '\u{FFFD}' || ('\u{E000}'..='\u{F8FF}').contains(&c))
            {
                self.unmapped += 1;
                continue;
            }
            // The em box in glyph space (1000 units an em; descenders to -200).
            let em = hayro::kurbo::Rect::new(0.0, -200.0, f64::from(advance), 800.0);
            let b = t.transform_rect_bbox(em);
            let bounds = [b.x0, b.y0, b.x1, b.y1].map(|v| v as f32);
            if !bounds.iter().all(|v| v.is_finite()) {
                self.unmapped += 1;
                continue;
            }
            let origin = t * hayro::kurbo::Point::ORIGIN;
            if !self.seen.insert((
                text.clone(),
                origin.x.round() as i64,
                origin.y.round() as i64,
            )) {
                continue;
            }
            let space = text.chars().all(char::is_whitespace);
            // Horizontal, left to right, upright: the baseline runs along +x in the page.
            let [a, b, c, d, ..] = t.as_coeffs();
            let upright = a > 0.0 && d < 0.0 && b.abs() <= 0.1 * a && c.abs() <= 0.1 * -d;
            if !space && !upright {
                self.slanted += 1;
            }
            self.glyphs.push(LaidGlyph {
                text,
                bounds,
                space,
            });
        }
    }
    fn draw_image(
        &mut self,
        image: hayro::hayro_interpret::Image<'a, '_>,
        props: hayro::hayro_interpret::ImageDrawProps<'a>,
    ) {
        let rect = hayro::kurbo::Rect::new(
            0.0,
            0.0,
            f64::from(image.width()),
            f64::from(image.height()),
        );
        self.image_area += props.transform.transform_rect_bbox(rect).area().abs();
    }
    fn pop_clip(&mut self) {}
    fn pop_transparency_group(&mut self) {}
}

/// The words of a text layer, from its glyphs in the order the document shows them: a word
/// ends at a space, at a gap wider than a fifth of its height, and where the next glyph is
/// not on the same line or not to its right.
fn words(glyphs: &[LaidGlyph]) -> Vec<(String, [f32; 4])> {
    let mut out: Vec<(String, [f32; 4])> = Vec::new();
    let mut open = false;
    for g in glyphs {
        if g.space {
            open = false;
            continue;
        }
        let b = g.bounds;
        if let Some((text, w)) = out.last_mut().filter(|_| open) {
            let height = (w[3] - w[1]).min(b[3] - b[1]).max(f32::EPSILON);
            let overlap = w[3].min(b[3]) - w[1].max(b[1]);
            let gap = b[0] - w[2];
            if overlap >= 0.5 * height && gap <= 0.2 * height && gap >= -0.3 * height {
                text.push_str(&g.text);
                *w = [
                    w[0].min(b[0]),
                    w[1].min(b[1]),
                    w[2].max(b[2]),
                    w[3].max(b[3]),
                ];
                continue;
            }
        }
        out.push((g.text.clone(), b));
        open = true;
    }
    out
}

/// The resolution a page of `width` x `height` points is rendered at.
pub fn render_dpi(width: f32, height: f32) -> f32 {
    let longer_inches = width.max(height).max(1.0) / 72.0;
    TARGET_DPI.min(MAX_RENDER_SIDE / longer_inches)
}

/// Small PDFs written by hand, for tests (compiled only into tests and the `testing`
/// feature, never into the server).
#[cfg(any(test, feature = "testing"))]
pub mod testing {
    /// A one-page PDF encrypted under a user password that is not empty (its `/Encrypt`
    /// entries are made up: no password opens it).
    pub fn encrypted() -> Vec<u8> {
        let plain = String::from_utf8(pdf(1, 612.0, 792.0, "secret", "")).unwrap_or_default();
        let encrypt = format!(
            "/Root 1 0 R /Encrypt << /Filter /Standard /V 1 /R 2 /P -4 /O <{o}> /U <{u}> >> \
             /ID [<{id}> <{id}>]",
            o = "ab".repeat(32),
            u = "cd".repeat(32),
            id = "01".repeat(16)
        );
        plain.replace("/Root 1 0 R", &encrypt).into_bytes()
    }

    /// A PDF with `pages` pages of `w` x `h` points, each showing `text` in Helvetica, and
    /// `extra` added to the catalog (for actions).
    pub fn pdf(pages: usize, w: f32, h: f32, text: &str, extra: &str) -> Vec<u8> {
        let contents: Vec<String> = (0..pages)
            .map(|i| format!("BT /F1 24 Tf 72 {} Td ({text} {}) Tj ET", h - 100.0, i + 1))
            .collect();
        with_contents(w, h, &contents, extra)
    }

    /// A PDF of `w` x `h`-point pages with these content streams (Helvetica is `/F1`), and
    /// `extra` added to the catalog.
    pub fn with_contents(w: f32, h: f32, contents: &[String], extra: &str) -> Vec<u8> {
        let pages = contents.len();
        let mut objects: Vec<Vec<u8>> = Vec::new();
        let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", 5 + 2 * i)).collect();
        objects.push(format!("<< /Type /Catalog /Pages 2 0 R {extra} >>").into_bytes());
        objects.push(
            format!(
                "<< /Type /Pages /Kids [{}] /Count {pages} >>",
                kids.join(" ")
            )
            .into_bytes(),
        );
        objects.push(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec());
        objects.push(b"<< >>".to_vec());
        for (i, content) in contents.iter().enumerate() {
            objects.push(
                format!(
                    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w} {h}] \
                     /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
                    6 + 2 * i
                )
                .into_bytes(),
            );
            objects.push(stream(
                &format!("/Length {}", content.len()),
                content.as_bytes(),
            ));
        }
        assemble(&objects)
    }

    /// A stream object with these dictionary entries and data.
    pub fn stream(entries: &str, data: &[u8]) -> Vec<u8> {
        let mut out = format!("<< {entries} >>\nstream\n").into_bytes();
        out.extend_from_slice(data);
        out.extend_from_slice(b"\nendstream");
        out
    }

    /// A PDF of these objects (numbered from 1; object 1 is the catalog), with its
    /// cross-reference table.
    pub fn assemble(objects: &[Vec<u8>]) -> Vec<u8> {
        let mut out = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (i, o) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
            out.extend_from_slice(o);
            out.extend_from_slice(b"\nendobj\n");
        }
        let xref = out.len();
        out.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
        );
        for off in offsets {
            out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::testing::pdf;
    use super::*;

    #[test]
    fn a_pdf_is_checked_and_its_pages_rendered() {
        let doc = check(pdf(3, 612.0, 792.0, "Hello", ""), 3).unwrap();
        assert_eq!(doc.pages(), 3);
        let (img, dpi) = render(&doc, 1).unwrap();
        // Letter: 11 inches high, rendered 3000 px high.
        assert!((dpi - 3000.0 / 11.0).abs() < 0.01, "{dpi}");
        assert_eq!(img.height(), 3000);
        assert_eq!(img.width(), (8.5 * dpi) as u32);
        // White paper with dark text on it.
        let dark = img.pixels().filter(|p| p.0[0] < 100).count();
        assert!(dark > 500, "{dark} dark pixels");
        assert_eq!(img.get_pixel(5, 5).0, [255, 255, 255]);
    }

    #[test]
    fn bad_pdfs_are_refused_with_their_reason() {
        assert_eq!(
            check(pdf(3, 612.0, 792.0, "x", ""), 2).unwrap_err(),
            PdfError::TooManyPages { pages: 3, max: 2 }
        );
        assert_eq!(check(b"hello".to_vec(), 5).unwrap_err(), PdfError::NotPdf);
        let whole = pdf(1, 612.0, 792.0, "x", "");
        assert_eq!(
            check(whole[..whole.len() / 3].to_vec(), 5).unwrap_err(),
            PdfError::Invalid
        );
        assert!(matches!(
            check(pdf(1, 20_000.0, 792.0, "x", ""), 5).unwrap_err(),
            PdfError::PageSize { page: 1, .. }
        ));
        for action in [
            "/OpenAction << /S /JavaScript /JS (app.alert(1)) >>",
            "/Names << /JavaScript 4 0 R >>",
            "/AA << /WC [ << /S /JavaScript /JS 4 0 R >> ] >>",
        ] {
            assert_eq!(
                check(pdf(1, 612.0, 792.0, "x", action), 5).unwrap_err(),
                PdfError::JavaScript,
                "{action}"
            );
        }
        // A password (the empty one does not open it).
        assert_eq!(
            check(super::testing::encrypted(), 5).unwrap_err(),
            PdfError::Encrypted
        );
        // An image declaring 20 000 x 20 000 pixels (in a few bytes).
        let huge = String::from_utf8(pdf(1, 612.0, 792.0, "x", ""))
            .unwrap()
            .replace(
                "4 0 obj\n<< >>",
                "4 0 obj\n<< /Type /XObject /Subtype /Image /Width 20000 /Height 20000 \
                 /ColorSpace /DeviceGray /BitsPerComponent 8 /Length 0 >>\nstream\n\nendstream",
            );
        assert_eq!(
            check(huge.into_bytes(), 5).unwrap_err(),
            PdfError::ImageTooLarge {
                pixels: 400_000_000
            }
        );
        // Other actions are fine.
        check(pdf(1, 612.0, 792.0, "x", "/OpenAction [5 0 R /Fit]"), 5).unwrap();
    }

    #[test]
    fn a_page_count_bomb_is_refused() {
        // 100 000 pages in 8 MB: counted and refused before any is rendered.
        let bomb = pdf(100_000, 612.0, 792.0, "x", "");
        let started = std::time::Instant::now();
        let refused = check(bomb, 50).map(|d| d.pages());
        eprintln!("a 100 000-page PDF refused in {:?}", started.elapsed());
        assert_eq!(
            refused,
            Err(PdfError::TooManyPages {
                pages: 100_000,
                max: 50
            })
        );
    }

    fn doc(contents: &[&str]) -> CheckedPdf {
        let contents: Vec<String> = contents.iter().map(|c| c.to_string()).collect();
        check(
            super::testing::with_contents(612.0, 792.0, &contents, ""),
            5,
        )
        .unwrap()
    }

    fn layer(contents: &[&str]) -> Option<TextLayer> {
        text_layer(&doc(contents), 0).unwrap()
    }

    /// The words of a page's usable layer.
    fn words_of(contents: &[&str]) -> Option<Vec<(String, [f32; 4])>> {
        layer_words(&doc(contents), 0).unwrap().map(|(_, _, w)| w)
    }

    fn texts(words: &[(String, [f32; 4])]) -> Vec<&str> {
        words.iter().map(|(t, _)| t.as_str()).collect()
    }

    #[test]
    fn a_born_digital_page_is_read_from_its_text_layer() {
        // Two lines, the second shown first in the content stream, words split by spaces and
        // by a positioned gap (TJ) with no space glyph.
        let page = ["BT /F1 12 Tf 72 680 Td (second line here) Tj ET \
             BT /F1 12 Tf 72 700 Td [(Invoice) -600 (number 42)] TJ ET"];
        let words = words_of(&page).expect("a usable layer");
        assert_eq!(
            texts(&words),
            ["second", "line", "here", "Invoice", "number", "42"]
        );
        // In the page's pixels: y grows downwards, so the first line shown is lower.
        let (_, second) = &words[0];
        let (_, invoice) = &words[3];
        assert!(invoice[3] < second[3], "{invoice:?} {second:?}");
        let scale = 3000.0 / 792.0;
        assert!((invoice[0] - 72.0 * scale).abs() < 1.0, "{invoice:?}");
        let layer = layer(&page).expect("a usable layer");
        assert_eq!((layer.width, layer.height), (2318, 3000));
        assert_eq!(
            texts(&layer.lines),
            ["Invoice number 42", "second line here"]
        );
    }

    #[test]
    fn text_drawn_twice_counts_once() {
        // Fill, then stroke, the same text (a fake bold): one set of words.
        let words = words_of(&[
            "BT /F1 12 Tf 72 700 Td (Twice drawn) Tj ET BT 1 Tr /F1 12 Tf 72 700 Td (Twice drawn) Tj ET",
        ])
        .expect("a usable layer");
        assert_eq!(texts(&words), ["Twice", "drawn"]);
    }

    #[test]
    fn unusable_text_layers_are_not_used() {
        // Invisible text (an earlier OCR's layer over a scan).
        assert_eq!(
            layer(&["BT 3 Tr /F1 12 Tf 72 700 Td (Hidden words here) Tj ET"]),
            None
        );
        // Too little text to say the page is text.
        assert_eq!(layer(&["BT /F1 12 Tf 72 700 Td (p. 7) Tj ET"]), None);
        // Rotated text.
        assert_eq!(
            layer(&["BT /F1 12 Tf 0 1 -1 0 300 300 Tm (Sideways words here) Tj ET"]),
            None
        );
        // No text at all.
        assert_eq!(layer(&["0 0 m 100 100 l S"]), None);
        // White or transparent text beside text that is seen.
        assert_eq!(
            layer(&["BT /F1 12 Tf 72 700 Td (Plain words here) Tj 1 1 1 rg (white) Tj ET"]),
            None
        );
        // Gray text is text.
        assert!(layer(&["BT 0.4 g /F1 12 Tf 72 700 Td (Plain words here) Tj ET"]).is_some());
        // Text off the page, or too small to see, beside text that is seen.
        assert_eq!(
            layer(&["BT /F1 12 Tf 72 700 Td (Plain words here) Tj 0 -2000 Td (Below) Tj ET"]),
            None
        );
        assert_eq!(
            layer(&["BT /F1 12 Tf 72 700 Td (Plain words here) Tj /F1 0.5 Tf (tiny) Tj ET"]),
            None
        );
        // More words than a page holds (four a line, lines 2 px apart).
        let line = "(a b c d) Tj 0 -0.5 Td ";
        let fewer = format!(
            "BT /F1 6 Tf 10 780 Td {} ET",
            line.repeat(MAX_LAYER_WORDS / 4)
        );
        let many = format!(
            "BT /F1 6 Tf 10 780 Td {} ET",
            line.repeat(MAX_LAYER_WORDS / 4 + 1)
        );
        assert_eq!(words_of(&[&fewer]).map(|w| w.len()), Some(MAX_LAYER_WORDS));
        assert!(
            layer(&[&many]).is_none(),
            "a layer of more than MAX_LAYER_WORDS words"
        );
        // Visible and plentiful: used.
        assert!(layer(&["BT /F1 12 Tf 72 700 Td (Plain words here) Tj ET"]).is_some());
    }

    #[test]
    fn the_resolution_follows_the_page_size() {
        assert_eq!(render_dpi(3.0 * 72.0, 6.0 * 72.0), 300.0);
        assert!((render_dpi(612.0, 792.0) - 272.7).abs() < 0.1);
        assert!((render_dpi(36.0 * 72.0, 24.0 * 72.0) - 83.3).abs() < 0.1);
    }
}
