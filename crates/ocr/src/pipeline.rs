//! The OCR pipeline as PP-OCR runs it: detection → DB post-processing → crop and rectify
//! each box → angle classification (turn 180° when needed) → recognition batched by width →
//! CTC decoding. Several pages go through together: detection runs page by page (page sizes
//! differ), classification and recognition over the crops of all pages at once, so callers
//! whose requests arrive together share batches.

use crate::crop::crop;
use crate::detect::{self, DetParams};
use crate::geometry::Point;
use crate::recognize::{self, Charset, Decoded, CLS_WIDTH};
use crate::runner::{ModelRunner, RunnerError};
use image::RgbImage;

/// Tunables (PP-OCR's defaults as RapidOCR 1.4.4 configures them, unless noted).
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Detection.
    pub det: DetParams,
    /// Probability of "180°" needed to turn a crop.
    pub cls_thresh: f32,
    /// Crops per classification batch.
    pub cls_batch: usize,
    /// Crops per recognition batch (crops of similar width go together).
    pub rec_batch: usize,
    /// Lines recognised with a lower confidence are dropped from pages.
    pub min_confidence: f32,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            det: DetParams::default(),
            cls_thresh: 0.9,
            cls_batch: 16,
            rec_batch: 8,
            min_confidence: 0.5,
        }
    }
}

/// One recognised line of a page.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Text.
    pub text: String,
    /// Mean probability of its characters.
    pub confidence: f32,
    /// Box corners in the page's pixels, clockwise from the text's top-left.
    pub polygon: [Point; 4],
}

/// How to read an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// As one line when the image is shaped like a text line and detection finds one line
    /// in it; as a page otherwise.
    #[default]
    Auto,
    /// As a page: text lines detected, their words grouped, the lines put in reading order.
    Page,
    /// As one text line, recognised whole (no detection): for callers who crop lines.
    Line,
    /// Only in answers: the page is a PDF page whose text layer was used (see
    /// [`crate::pdf::text_layer`]); as a request, the same as [`Mode::Auto`].
    TextLayer,
}

/// An image at least this many times as wide as tall may be a cropped text line.
pub const LINE_ASPECT: f32 = 3.0;

/// What a page says.
#[derive(Debug, Clone, PartialEq)]
pub struct PageText {
    /// Lines in reading order.
    pub lines: Vec<Line>,
    /// Whether most lines were upside down (the page was read turned by 180°).
    pub upside_down: bool,
    /// How it was read: [`Mode::Page`] or [`Mode::Line`] (never `Auto`).
    pub mode: Mode,
}

/// The pipeline: parameters and the recogniser's alphabet.
#[derive(Debug, Clone)]
pub struct Pipeline {
    config: PipelineConfig,
    charset: Charset,
}

/// A recognised line with the corners detection found for it (image frame).
type Placed = (Line, [Point; 4]);

/// A crop on its way through classification and recognition.
struct Crop {
    page: usize,
    corners: [Point; 4],
    image: RgbImage,
    flipped: bool,
}

impl Pipeline {
    /// A pipeline with `config` decoding into `charset`.
    pub fn new(config: PipelineConfig, charset: Charset) -> Self {
        Self { config, charset }
    }

    /// The configuration.
    pub fn config(&self) -> &PipelineConfig {
        &self.config
    }

    /// Reads every page, each as a page or a line as [`Mode::Auto`] decides.
    pub fn read(
        &self,
        runner: &mut dyn ModelRunner,
        pages: &[&RgbImage],
    ) -> Result<Vec<PageText>, RunnerError> {
        let pages: Vec<(&RgbImage, Mode)> = pages.iter().map(|p| (*p, Mode::Auto)).collect();
        self.read_as(runner, &pages)
    }

    /// Reads every page in its mode.
    pub fn read_as(
        &self,
        runner: &mut dyn ModelRunner,
        pages: &[(&RgbImage, Mode)],
    ) -> Result<Vec<PageText>, RunnerError> {
        let mut crops = Vec::new();
        let mut modes = Vec::with_capacity(pages.len());
        for (page, &(img, mode)) in pages.iter().enumerate() {
            let mode = if mode == Mode::TextLayer {
                Mode::Auto
            } else {
                mode
            };
            if mode == Mode::Line {
                let corners = rect([0.0, 0.0, img.width() as f32, img.height() as f32]);
                crops.push(Crop {
                    page,
                    image: img.clone(),
                    corners,
                    flipped: false,
                });
                modes.push(Mode::Line);
                continue;
            }
            let input = detect::prepare(img, &self.config.det);
            let prob = detect::run(&input.tensor, &self.config.det, |t| runner.detect(t))?;
            check_rank(&prob, 4, "detection")?;
            let found = detect::boxes(&prob, &input, img.width(), img.height(), &self.config.det);
            if mode == Mode::Auto {
                if let Some(corners) = single_line(&found, img.width(), img.height()) {
                    crops.push(Crop {
                        page,
                        image: crop(img, &corners),
                        corners,
                        flipped: false,
                    });
                    modes.push(Mode::Line);
                    continue;
                }
            }
            modes.push(Mode::Page);
            for b in found {
                crops.push(Crop {
                    page,
                    image: crop(img, &b.corners),
                    corners: b.corners,
                    flipped: false,
                });
            }
        }
        let turn = self.classify(runner, &crops)?;
        let doubtful = orient(&mut crops, &turn);
        // A crop the classifier alone would turn on a page it says is upright is read both
        // ways and kept the way it reads with more confidence: the classifier turns some
        // upright lines of serif type (9 of 300 scan-like lines in eval/), and recognition
        // of a line upside down is far less sure than of the line upright.
        let other_way: Vec<RgbImage> = doubtful
            .iter()
            .map(|&i| image::imageops::rotate180(&crops[i].image))
            .collect();
        let images: Vec<&RgbImage> = crops
            .iter()
            .map(|c| &c.image)
            .chain(other_way.iter())
            .collect();
        let mut decoded = self.recognize(runner, &images)?;
        let alternatives = decoded.split_off(crops.len());
        for ((&i, alt), image) in doubtful.iter().zip(alternatives).zip(other_way) {
            if alt.confidence > decoded[i].confidence {
                decoded[i] = alt;
                crops[i].image = image;
                crops[i].flipped = true;
            }
        }
        // Per page: lines with their detected corners (image frame), and how many crops were turned.
        let mut out: Vec<(Vec<Placed>, usize)> = pages.iter().map(|_| (Vec::new(), 0)).collect();
        for (c, d) in crops.into_iter().zip(decoded) {
            let (lines, flipped) = &mut out[c.page];
            *flipped += usize::from(c.flipped);
            // Recognition emits a space wherever it sees a gap, so a crop with margins around
            // its text, or a wide gap between words, gives spaces at the ends or doubled.
            let text = d.text.split_whitespace().collect::<Vec<_>>().join(" ");
            if d.confidence >= self.config.min_confidence && !text.is_empty() {
                let polygon = if c.flipped {
                    turned(c.corners)
                } else {
                    c.corners
                };
                let line = Line {
                    text,
                    confidence: d.confidence,
                    polygon,
                };
                lines.push((line, c.corners));
            }
        }
        Ok(out
            .into_iter()
            .zip(pages)
            .zip(modes)
            .map(|(((lines, flipped), (img, _)), mode)| {
                let total = lines.len().max(1);
                let upside_down = flipped * 2 > total;
                if mode == Mode::Line {
                    let lines = lines.into_iter().map(|(l, _)| l).collect();
                    return PageText {
                        lines,
                        upside_down,
                        mode,
                    };
                }
                let (w, h) = (img.width() as f32, img.height() as f32);
                let lines = in_reading_order(lines, |c| bounds(c, upside_down, w, h));
                PageText {
                    lines,
                    upside_down,
                    mode,
                }
            })
            .collect())
    }

    /// Recognition only, for images that already hold exactly one line of text (no
    /// detection, no angle classification): the PP-OCR "rec-only" mode.
    pub fn read_lines(
        &self,
        runner: &mut dyn ModelRunner,
        lines: &[&RgbImage],
    ) -> Result<Vec<Decoded>, RunnerError> {
        self.recognize(runner, lines)
    }

    /// Classifies crops in batches: whether each looks upside down.
    fn classify(
        &self,
        runner: &mut dyn ModelRunner,
        crops: &[Crop],
    ) -> Result<Vec<bool>, RunnerError> {
        let mut turn = Vec::with_capacity(crops.len());
        for chunk in crops.chunks(self.config.cls_batch.max(1)) {
            let refs: Vec<&RgbImage> = chunk.iter().map(|c| &c.image).collect();
            let probs = runner.classify(&recognize::batch(&refs, CLS_WIDTH))?;
            check_rank(&probs, 2, "classification")?;
            let found = recognize::upside_down(&probs, self.config.cls_thresh);
            if found.len() != chunk.len() {
                return Err(RunnerError(format!(
                    "classification output {:?} for {} crops",
                    probs.shape,
                    chunk.len()
                )));
            }
            turn.extend(found);
        }
        Ok(turn)
    }

    /// Recognises crops in batches of similar aspect ratio (less padding), returning the
    /// results in the input order.
    fn recognize(
        &self,
        runner: &mut dyn ModelRunner,
        crops: &[&RgbImage],
    ) -> Result<Vec<Decoded>, RunnerError> {
        let ratio = |i: &usize| crops[*i].width() as f32 / crops[*i].height().max(1) as f32;
        let mut order: Vec<usize> = (0..crops.len()).collect();
        order.sort_by(|a, b| ratio(a).total_cmp(&ratio(b)));
        let mut out = vec![None; crops.len()];
        for idx in order.chunks(self.config.rec_batch.max(1)) {
            let batch: Vec<&RgbImage> = idx.iter().map(|&i| crops[i]).collect();
            let probs =
                runner.recognize(&recognize::batch(&batch, recognize::rec_width(&batch)))?;
            check_rank(&probs, 3, "recognition")?;
            if probs.shape[0] != batch.len() || probs.shape[2] != self.charset.len() {
                return Err(RunnerError(format!(
                    "recognition output {:?} for {} crops and {} classes",
                    probs.shape,
                    batch.len(),
                    self.charset.len()
                )));
            }
            for (&i, d) in idx.iter().zip(recognize::ctc_decode(&probs, &self.charset)) {
                out[i] = Some(d);
            }
        }
        Ok(out.into_iter().flatten().collect())
    }
}

/// The box around every detected box, when they are the words of one text line of an image
/// shaped like one: at least [`LINE_ASPECT`] times as wide as tall, every box nearly
/// horizontal (a line cropped from a page; a rotated one is read as a page), and the boxes
/// one line by [`crate::layout::group_lines`]. Recognised whole, the line keeps the spaces
/// between its words and the context across them, which word crops lose.
fn single_line(found: &[detect::TextBox], w: u32, h: u32) -> Option<[Point; 4]> {
    if (w as f32) < LINE_ASPECT * h as f32 {
        return None;
    }
    if found.is_empty() {
        // Detection misses text on tightly cropped lines (a few pixels of margin, faint or
        // thin type) more often than recognition does: a line-shaped image is read whole, and
        // what it says counts only if it is read with confidence.
        return Some(rect([0.0, 0.0, w as f32, h as f32]));
    }
    let level = |b: &detect::TextBox| {
        let [p0, p1, ..] = b.corners;
        (p1[1] - p0[1]).abs() <= 0.1 * (p1[0] - p0[0]).abs()
    };
    if !found.iter().all(level) {
        return None;
    }
    let boxes: Vec<[f32; 4]> = found
        .iter()
        .map(|b| bounds(&b.corners, false, w as f32, h as f32))
        .collect();
    if crate::layout::group_lines(&boxes).len() != 1 {
        return None;
    }
    let all = boxes
        .iter()
        .fold([f32::MAX, f32::MAX, f32::MIN, f32::MIN], |a, b| {
            [
                a[0].min(b[0]),
                a[1].min(b[1]),
                a[2].max(b[2]),
                a[3].max(b[3]),
            ]
        });
    // The image's whole width, and the line's height with a margin of a quarter of it:
    // detection misses words and faint marks (a closing period or quote) of a tightly
    // cropped line, which recognition reads when they are in its crop.
    let m = 0.25 * (all[3] - all[1]);
    Some(rect([
        0.0,
        (all[1] - m).max(0.0),
        w as f32,
        (all[3] + m).min(h as f32),
    ]))
}

/// Turns crops by the classifier's verdicts `turn`, page by page: on a page of at least
/// [`PAGE_VOTE`] crops most of which look upside down (a page scanned or photographed turned)
/// every crop is turned; elsewhere none is, and those the classifier would turn are returned
/// to be read both ways.
fn orient(crops: &mut [Crop], turn: &[bool]) -> Vec<usize> {
    let pages = crops.iter().map(|c| c.page + 1).max().unwrap_or(0);
    let mut votes = vec![(0usize, 0usize); pages];
    for (c, &t) in crops.iter().zip(turn) {
        votes[c.page].0 += 1;
        votes[c.page].1 += usize::from(t);
    }
    let mut doubtful = Vec::new();
    for (i, (c, &t)) in crops.iter_mut().zip(turn).enumerate() {
        let (n, turned) = votes[c.page];
        if n >= PAGE_VOTE && turned * 2 > n {
            image::imageops::rotate180_in_place(&mut c.image);
            c.flipped = true;
        } else if t {
            doubtful.push(i);
        }
    }
    doubtful
}

/// Crops on a page needed for its majority to turn them all.
const PAGE_VOTE: usize = 3;

/// The corners of an axis-aligned box `[x0, y0, x1, y1]`, clockwise from the top-left.
pub(crate) fn rect(b: [f32; 4]) -> [Point; 4] {
    [[b[0], b[1]], [b[2], b[1]], [b[2], b[3]], [b[0], b[3]]]
}

/// Axis-aligned bounds `[x0, y0, x1, y1]` of detected corners, in the frame the page's text
/// is upright in.
pub(crate) fn bounds(c: &[Point; 4], upside_down: bool, w: f32, h: f32) -> [f32; 4] {
    let pts = c.map(|p| if upside_down { [w - p[0], h - p[1]] } else { p });
    let (xs, ys) = (pts.map(|p| p[0]), pts.map(|p| p[1]));
    let min = |v: [f32; 4]| v.into_iter().fold(f32::MAX, f32::min);
    let max = |v: [f32; 4]| v.into_iter().fold(f32::MIN, f32::max);
    [min(xs), min(ys), max(xs), max(ys)]
}

/// Joins the word boxes of each text line into one line (see [`crate::layout::group_lines`]):
/// its words left to right, separated by spaces; its confidence their mean weighted by
/// characters; its polygon from the first word's left corners to the last word's right ones.
/// Detection splits lines into words wherever the gaps between words are wide enough (more
/// often on small images, which it reads enlarged).
fn join_words(
    words: Vec<(Line, [Point; 4])>,
    frame: impl Fn(&[Point; 4]) -> [f32; 4],
) -> Vec<(Line, [f32; 4])> {
    let boxes: Vec<[f32; 4]> = words.iter().map(|(_, c)| frame(c)).collect();
    let groups = crate::layout::group_lines(&boxes);
    let mut slots: Vec<Option<Line>> = words.into_iter().map(|(l, _)| Some(l)).collect();
    let mut out = Vec::with_capacity(groups.len());
    for group in groups {
        let mut members = group
            .iter()
            .filter_map(|&i| slots[i].take().map(|l| (l, boxes[i])));
        let Some((mut line, mut b)) = members.next() else {
            continue;
        };
        let mut chars = line.text.chars().count();
        for (word, wb) in members {
            let n = word.text.chars().count();
            let total = (chars + n).max(1) as f32;
            line.confidence = (line.confidence * chars as f32 + word.confidence * n as f32) / total;
            line.text.push(' ');
            line.text.push_str(&word.text);
            line.polygon = [
                line.polygon[0],
                word.polygon[1],
                word.polygon[2],
                line.polygon[3],
            ];
            b = [
                b[0].min(wb[0]),
                b[1].min(wb[1]),
                b[2].max(wb[2]),
                b[3].max(wb[3]),
            ];
            chars += n;
        }
        out.push((line, b));
    }
    out
}

/// Words already read (a PDF's text layer: text and bounds, in the page's pixels) laid out
/// as OCR lays out what it reads: grouped into lines, the lines in reading order.
pub fn lay_out(words: Vec<(String, [f32; 4])>) -> Vec<Line> {
    let words: Vec<Placed> = words
        .into_iter()
        .map(|(text, b)| {
            let corners = rect(b);
            let line = Line {
                text,
                confidence: 1.0,
                polygon: corners,
            };
            (line, corners)
        })
        .collect();
    in_reading_order(words, |c| bounds(c, false, 0.0, 0.0))
}

/// Words (with their corners) joined into lines (see [`join_words`]), then the lines in the
/// page's reading order (columns, bands; see [`crate::layout::reading_order`]).
fn in_reading_order(words: Vec<Placed>, frame: impl Fn(&[Point; 4]) -> [f32; 4]) -> Vec<Line> {
    let joined = join_words(words, frame);
    let boxes: Vec<[f32; 4]> = joined.iter().map(|(_, b)| *b).collect();
    let mut slots: Vec<Option<Line>> = joined.into_iter().map(|(l, _)| Some(l)).collect();
    crate::layout::reading_order(&boxes)
        .into_iter()
        .filter_map(|i| slots.get_mut(i).and_then(Option::take))
        .collect()
}

/// The corners of a box turned by 180°, so the first is the text's top-left again.
fn turned(c: [Point; 4]) -> [Point; 4] {
    [c[2], c[3], c[0], c[1]]
}

fn check_rank(t: &crate::tensor::Tensor, rank: usize, what: &str) -> Result<(), RunnerError> {
    if t.shape.len() == rank && t.data.len() == t.shape.iter().product::<usize>() {
        Ok(())
    } else {
        Err(RunnerError(format!(
            "{what} output has shape {:?}",
            t.shape
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, x0: f32, y0: f32, x1: f32, y1: f32) -> (Line, [Point; 4]) {
        let c = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
        (
            Line {
                text: text.into(),
                confidence: 0.9,
                polygon: c,
            },
            c,
        )
    }

    fn frame(c: &[Point; 4]) -> [f32; 4] {
        bounds(c, false, 1000.0, 1000.0)
    }

    fn text_box(x0: f32, y0: f32, x1: f32, y1: f32) -> detect::TextBox {
        detect::TextBox {
            corners: rect([x0, y0, x1, y1]),
            score: 0.9,
        }
    }

    #[test]
    fn a_line_shaped_image_with_one_line_is_read_whole() {
        let words = [
            text_box(4.0, 10.0, 80.0, 44.0),
            text_box(90.0, 16.0, 150.0, 44.0),
            text_box(160.0, 8.0, 300.0, 50.0),
        ];
        assert_eq!(
            single_line(&words, 320, 60),
            // The image's width; the words' height (8 to 50) and a quarter of it around it,
            // within the image.
            Some(rect([0.0, 0.0, 320.0, 60.0]))
        );
        let low = [text_box(40.0, 30.0, 200.0, 50.0)];
        assert_eq!(
            single_line(&low, 320, 80),
            Some(rect([0.0, 25.0, 320.0, 55.0]))
        );
        // Not as wide as three heights: a page, however few its words.
        assert_eq!(single_line(&words, 170, 60), None);
        // Two lines.
        let two = [
            text_box(4.0, 4.0, 150.0, 26.0),
            text_box(4.0, 32.0, 150.0, 56.0),
        ];
        assert_eq!(single_line(&two, 320, 60), None);
        // A tilted box (a rotated line is read as a page, which rectifies it).
        let tilted = detect::TextBox {
            corners: [[4.0, 10.0], [300.0, 50.0], [296.0, 60.0], [0.0, 20.0]],
            score: 0.9,
        };
        assert_eq!(single_line(&[tilted], 320, 60), None);
        // Nothing detected in a line-shaped image: read whole.
        assert_eq!(
            single_line(&[], 320, 60),
            Some(rect([0.0, 0.0, 320.0, 60.0]))
        );
        assert_eq!(single_line(&[], 170, 60), None);
    }

    #[test]
    fn words_of_one_line_are_joined() {
        let lines = vec![
            word("Hello", 10.0, 10.0, 100.0, 40.0),
            word("Tollgate", 105.0, 8.0, 230.0, 44.0),
            word("2026", 236.0, 12.0, 300.0, 38.0),
        ];
        let out: Vec<Line> = join_words(lines, frame)
            .into_iter()
            .map(|(l, _)| l)
            .collect();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].text, "Hello Tollgate 2026");
        assert_eq!(out[0].polygon[0], [10.0, 10.0]);
        assert_eq!(out[0].polygon[1], [300.0, 12.0]);
    }

    #[test]
    fn columns_and_lines_stay_apart() {
        let lines = vec![
            word("left column", 10.0, 10.0, 200.0, 40.0),
            word("right column", 260.0, 10.0, 450.0, 40.0),
            word("next line", 10.0, 50.0, 200.0, 80.0),
            word("big heading", 205.0, 0.0, 400.0, 90.0),
        ];
        let out: Vec<Line> = join_words(lines, frame)
            .into_iter()
            .map(|(l, _)| l)
            .collect();
        let mut texts: Vec<&str> = out.iter().map(|l| l.text.as_str()).collect();
        texts.sort();
        assert_eq!(
            texts,
            ["big heading", "left column", "next line", "right column"]
        );
    }
}
