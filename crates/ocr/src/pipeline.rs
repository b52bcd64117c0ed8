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

/// What a page says.
#[derive(Debug, Clone, PartialEq)]
pub struct PageText {
    /// Lines in reading order.
    pub lines: Vec<Line>,
    /// Whether most lines were upside down (the page was read turned by 180°).
    pub upside_down: bool,
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

    /// Reads every page.
    pub fn read(
        &self,
        runner: &mut dyn ModelRunner,
        pages: &[&RgbImage],
    ) -> Result<Vec<PageText>, RunnerError> {
        let mut crops = Vec::new();
        for (page, img) in pages.iter().enumerate() {
            let input = detect::prepare(img, &self.config.det);
            let prob = detect::run(&input.tensor, &self.config.det, |t| runner.detect(t))?;
            check_rank(&prob, 4, "detection")?;
            for b in detect::boxes(&prob, &input, img.width(), img.height(), &self.config.det) {
                crops.push(Crop {
                    page,
                    image: crop(img, &b.corners),
                    corners: b.corners,
                    flipped: false,
                });
            }
        }
        self.classify(runner, &mut crops)?;
        let images: Vec<&RgbImage> = crops.iter().map(|c| &c.image).collect();
        let decoded = self.recognize(runner, &images)?;
        // Per page: lines with their detected corners (image frame), and how many crops were turned.
        let mut out: Vec<(Vec<Placed>, usize)> = pages.iter().map(|_| (Vec::new(), 0)).collect();
        for (c, d) in crops.into_iter().zip(decoded) {
            let (lines, flipped) = &mut out[c.page];
            *flipped += usize::from(c.flipped);
            if d.confidence >= self.config.min_confidence && !d.text.trim().is_empty() {
                let polygon = if c.flipped {
                    turned(c.corners)
                } else {
                    c.corners
                };
                let line = Line {
                    text: d.text,
                    confidence: d.confidence,
                    polygon,
                };
                lines.push((line, c.corners));
            }
        }
        Ok(out
            .into_iter()
            .zip(pages)
            .map(|((mut lines, flipped), img)| {
                let total = lines.len().max(1);
                let upside_down = flipped * 2 > total;
                let (w, h) = (img.width() as f32, img.height() as f32);
                // Reading order in the frame the page's text is upright in: there, the
                // top-left of a box is its image-frame bottom-right, turned.
                detect::reading_order(&mut lines, |(_, c)| {
                    if upside_down {
                        [w - c[2][0], h - c[2][1]]
                    } else {
                        c[0]
                    }
                });
                let frame = |c: &[Point; 4]| bounds(c, upside_down, w, h);
                let joined = join_words(lines, frame);
                // Then the page's layout decides the order of the lines (columns, bands).
                let boxes: Vec<[f32; 4]> = joined.iter().map(|(_, b)| *b).collect();
                let mut slots: Vec<Option<Line>> =
                    joined.into_iter().map(|(l, _)| Some(l)).collect();
                let lines = crate::layout::reading_order(&boxes)
                    .into_iter()
                    .filter_map(|i| slots.get_mut(i).and_then(Option::take))
                    .collect();
                PageText { lines, upside_down }
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

    /// Classifies crops in batches and turns the upside-down ones.
    fn classify(
        &self,
        runner: &mut dyn ModelRunner,
        crops: &mut [Crop],
    ) -> Result<(), RunnerError> {
        for chunk in crops.chunks_mut(self.config.cls_batch.max(1)) {
            let refs: Vec<&RgbImage> = chunk.iter().map(|c| &c.image).collect();
            let probs = runner.classify(&recognize::batch(&refs, CLS_WIDTH))?;
            check_rank(&probs, 2, "classification")?;
            for (c, turn) in chunk
                .iter_mut()
                .zip(recognize::upside_down(&probs, self.config.cls_thresh))
            {
                if turn {
                    image::imageops::rotate180_in_place(&mut c.image);
                    c.flipped = true;
                }
            }
        }
        Ok(())
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

/// Axis-aligned bounds `[x0, y0, x1, y1]` of detected corners, in the frame the page's text
/// is upright in.
fn bounds(c: &[Point; 4], upside_down: bool, w: f32, h: f32) -> [f32; 4] {
    let pts = c.map(|p| if upside_down { [w - p[0], h - p[1]] } else { p });
    let (xs, ys) = (pts.map(|p| p[0]), pts.map(|p| p[1]));
    let min = |v: [f32; 4]| v.into_iter().fold(f32::MAX, f32::min);
    let max = |v: [f32; 4]| v.into_iter().fold(f32::MIN, f32::max);
    [min(xs), min(ys), max(xs), max(ys)]
}

/// Joins neighbouring boxes of one line into one line. Detection runs on an enlarged copy of
/// small images, where the gaps between words grow enough to split a line into words; a box
/// that follows the previous one in reading order, overlaps it vertically by at least half
/// the smaller height, is of similar height, and starts at most 0.6 heights after it ends, is
/// the same line. Lines must be in reading order.
fn join_words(
    lines: Vec<(Line, [Point; 4])>,
    frame: impl Fn(&[Point; 4]) -> [f32; 4],
) -> Vec<(Line, [f32; 4])> {
    let mut out: Vec<(Line, [f32; 4], usize)> = Vec::with_capacity(lines.len());
    for (line, corners) in lines {
        let b = frame(&corners);
        let chars = line.text.chars().count();
        if let Some((prev, pb, pchars)) = out.last_mut() {
            let (ph, bh) = (pb[3] - pb[1], b[3] - b[1]);
            let small = ph.min(bh);
            let overlap = pb[3].min(b[3]) - pb[1].max(b[1]);
            let gap = b[0] - pb[2];
            if small > 0.0
                && overlap >= 0.5 * small
                && ph.max(bh) <= 2.0 * small
                && gap >= -0.5 * small
                && gap <= 0.6 * small
            {
                let total = (*pchars + chars).max(1) as f32;
                prev.confidence =
                    (prev.confidence * *pchars as f32 + line.confidence * chars as f32) / total;
                prev.text.push(' ');
                prev.text.push_str(&line.text);
                prev.polygon = [
                    prev.polygon[0],
                    line.polygon[1],
                    line.polygon[2],
                    prev.polygon[3],
                ];
                *pb = [
                    pb[0].min(b[0]),
                    pb[1].min(b[1]),
                    pb[2].max(b[2]),
                    pb[3].max(b[3]),
                ];
                *pchars += chars;
                continue;
            }
        }
        out.push((line, b, chars));
    }
    out.into_iter().map(|(l, b, _)| (l, b)).collect()
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
        let texts: Vec<&str> = out.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            texts,
            ["left column", "right column", "next line", "big heading"]
        );
    }
}
