//! Text detection around the DB (differentiable binarisation) model: resizing the page for
//! the model, and turning its probability map into rotated text boxes — threshold, dilate,
//! connected components, minimum-area rectangle, box score, unclip — in page coordinates.

use crate::geometry::{min_area_rect, Point, RotatedRect};
use crate::tensor::{write_bgr_chw, Tensor};
use image::imageops::FilterType;
use image::RgbImage;

/// Detection parameters (PP-OCR's defaults as RapidOCR 1.4.4 configures them).
#[derive(Debug, Clone)]
pub struct DetParams {
    /// The shorter page side is scaled up towards this…
    pub min_side: u32,
    /// …but by at most this factor: enlarging a small image further spreads its words so far
    /// apart that DB splits lines into words (PP-OCR's `limit_type: min` has no such cap).
    pub max_upscale: f32,
    /// The longer side is never scaled beyond this.
    pub max_side: u32,
    /// Pixel probability threshold for the text mask.
    pub thresh: f32,
    /// Mean probability a box needs to be kept.
    pub box_thresh: f32,
    /// How far boxes are grown (DB shrinks text regions in training).
    pub unclip_ratio: f32,
    /// Most boxes considered per page.
    pub max_candidates: usize,
}

impl Default for DetParams {
    fn default() -> Self {
        Self {
            min_side: 736,
            max_upscale: 2.0,
            max_side: 2000,
            thresh: 0.3,
            box_thresh: 0.5,
            unclip_ratio: 1.6,
            max_candidates: 1000,
        }
    }
}

/// A page prepared for the detector.
#[derive(Debug)]
pub struct DetInput {
    /// `[1, 3, H, W]`, H and W multiples of 32.
    pub tensor: Tensor,
    /// Scale from model coordinates back to the page.
    pub scale_x: f32,
    /// Scale from model coordinates back to the page.
    pub scale_y: f32,
}

/// Resizes and normalises a page for the detector.
pub fn prepare(img: &RgbImage, p: &DetParams) -> DetInput {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let mut ratio = if w.min(h) < p.min_side as f32 {
        (p.min_side as f32 / w.min(h)).min(p.max_upscale)
    } else {
        1.0
    };
    if w.max(h) * ratio > p.max_side as f32 {
        ratio = p.max_side as f32 / w.max(h);
    }
    let round32 = |v: f32| (((v * ratio) / 32.0).round() as u32).max(1) * 32;
    let (rw, rh) = (round32(w), round32(h));
    let resized = image::imageops::resize(img, rw, rh, FilterType::Triangle);
    let (rw, rh) = (rw as usize, rh as usize);
    let mut data = vec![0.0; 3 * rh * rw];
    write_bgr_chw(&resized, &mut data, rh, rw);
    DetInput {
        tensor: Tensor::new(data, vec![1, 3, rh, rw]),
        scale_x: w / rw as f32,
        scale_y: h / rh as f32,
    }
}

/// A detected text region in page coordinates.
#[derive(Debug, Clone)]
pub struct TextBox {
    /// Corners clockwise from top-left.
    pub corners: [Point; 4],
    /// Mean text probability inside the unexpanded box.
    pub score: f32,
}

fn inside(rect: &RotatedRect, x: f32, y: f32) -> bool {
    let (s, c) = rect.angle.sin_cos();
    let (dx, dy) = (x - rect.center[0], y - rect.center[1]);
    (dx * c + dy * s).abs() <= rect.width / 2.0 && (-dx * s + dy * c).abs() <= rect.height / 2.0
}

/// Turns the `[1, 1, H, W]` probability map into boxes in page coordinates.
pub fn boxes(
    prob: &Tensor,
    input: &DetInput,
    page_w: u32,
    page_h: u32,
    p: &DetParams,
) -> Vec<TextBox> {
    let (h, w) = (
        prob.shape[prob.shape.len() - 2],
        prob.shape[prob.shape.len() - 1],
    );
    let map = &prob.data[..h * w];
    // Threshold, then dilate with a 2x2 kernel so touching strokes join.
    let mut mask = vec![false; h * w];
    for y in 0..h {
        for x in 0..w {
            let hit = |yy: usize, xx: usize| map[yy * w + xx] > p.thresh;
            mask[y * w + x] = hit(y, x)
                || (x > 0 && hit(y, x - 1))
                || (y > 0 && (hit(y - 1, x) || (x > 0 && hit(y - 1, x - 1))));
        }
    }
    let mut label = vec![0u32; h * w];
    let mut out = Vec::new();
    let mut next = 0u32;
    let mut stack = Vec::new();
    for start in 0..h * w {
        if !mask[start] || label[start] != 0 || next as usize >= p.max_candidates {
            continue;
        }
        next += 1;
        // Flood fill (8-connected), keeping each row's extreme pixels: their hull is the
        // component's hull.
        let mut extremes: Vec<(usize, usize, usize)> = Vec::new();
        let mut rows: std::collections::HashMap<usize, (usize, usize)> =
            std::collections::HashMap::new();
        stack.push(start);
        label[start] = next;
        while let Some(i) = stack.pop() {
            let (y, x) = (i / w, i % w);
            let e = rows.entry(y).or_insert((x, x));
            e.0 = e.0.min(x);
            e.1 = e.1.max(x);
            for dy in -1i64..=1 {
                for dx in -1i64..=1 {
                    let (ny, nx) = (y as i64 + dy, x as i64 + dx);
                    if ny < 0 || nx < 0 || ny >= h as i64 || nx >= w as i64 {
                        continue;
                    }
                    let j = ny as usize * w + nx as usize;
                    if mask[j] && label[j] == 0 {
                        label[j] = next;
                        stack.push(j);
                    }
                }
            }
        }
        extremes.extend(rows.iter().map(|(y, (a, b))| (*y, *a, *b)));
        let mut pts: Vec<Point> = Vec::with_capacity(extremes.len() * 4);
        for (y, a, b) in extremes {
            // Pixel corners, so one-pixel-wide runs still have extent.
            let (y0, y1) = (y as f32, y as f32 + 1.0);
            pts.extend([
                [a as f32, y0],
                [a as f32, y1],
                [b as f32 + 1.0, y0],
                [b as f32 + 1.0, y1],
            ]);
        }
        let Some(rect) = min_area_rect(&pts) else {
            continue;
        };
        if rect.short_side() < 3.0 {
            continue;
        }
        let score = box_score(map, w, h, &rect);
        if score < p.box_thresh {
            continue;
        }
        let area = rect.width * rect.height;
        let perimeter = 2.0 * (rect.width + rect.height);
        let grown = rect.expanded(area * p.unclip_ratio / perimeter);
        if grown.short_side() < 5.0 {
            continue;
        }
        let corners = grown.corners().map(|[x, y]| {
            [
                (x * input.scale_x).clamp(0.0, page_w as f32 - 1.0),
                (y * input.scale_y).clamp(0.0, page_h as f32 - 1.0),
            ]
        });
        let (bw, bh) = (dist(corners[0], corners[1]), dist(corners[0], corners[3]));
        if bw <= 3.0 || bh <= 3.0 {
            continue;
        }
        out.push(TextBox { corners, score });
    }
    reading_order(&mut out, |b| b.corners[0]);
    out
}

/// Mean probability over the pixels inside `rect`.
fn box_score(map: &[f32], w: usize, h: usize, rect: &RotatedRect) -> f32 {
    let c = rect.corners();
    let (x0, x1) = (
        c.iter().map(|p| p[0]).fold(f32::MAX, f32::min),
        c.iter().map(|p| p[0]).fold(f32::MIN, f32::max),
    );
    let (y0, y1) = (
        c.iter().map(|p| p[1]).fold(f32::MAX, f32::min),
        c.iter().map(|p| p[1]).fold(f32::MIN, f32::max),
    );
    let (x0, x1) = ((x0.floor().max(0.0)) as usize, (x1.ceil() as usize).min(w));
    let (y0, y1) = ((y0.floor().max(0.0)) as usize, (y1.ceil() as usize).min(h));
    let (mut sum, mut n) = (0.0f64, 0u32);
    for y in y0..y1 {
        for x in x0..x1 {
            if inside(rect, x as f32 + 0.5, y as f32 + 0.5) {
                sum += f64::from(map[y * w + x]);
                n += 1;
            }
        }
    }
    if n == 0 {
        0.0
    } else {
        (sum / f64::from(n)) as f32
    }
}

/// Euclidean distance.
pub fn dist(a: Point, b: Point) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

/// Sorts items into reading order by their top-left corner: top to bottom, then left to
/// right for items on the same line (tops within 10 px), as PP-OCR orders its boxes.
pub fn reading_order<T>(items: &mut [T], top_left: impl Fn(&T) -> Point) {
    items.sort_by(|a, b| {
        let (a, b) = (top_left(a), top_left(b));
        a[1].total_cmp(&b[1]).then(a[0].total_cmp(&b[0]))
    });
    for i in 0..items.len().saturating_sub(1) {
        for j in (0..=i).rev() {
            let (a, b) = (top_left(&items[j]), top_left(&items[j + 1]));
            if (b[1] - a[1]).abs() < 10.0 && b[0] < a[0] {
                items.swap(j, j + 1);
            } else {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_blob_becomes_one_grown_box() {
        let (w, h) = (64usize, 32usize);
        let mut data = vec![0.0; w * h];
        for y in 10..20 {
            for x in 8..48 {
                data[y * w + x] = 0.9;
            }
        }
        let prob = Tensor::new(data, vec![1, 1, h, w]);
        let input = DetInput {
            tensor: Tensor::new(vec![], vec![0]),
            scale_x: 2.0,
            scale_y: 2.0,
        };
        let found = boxes(&prob, &input, 128, 64, &DetParams::default());
        assert_eq!(found.len(), 1);
        let b = &found[0];
        // The mean over the dilated blob's rectangle: 0.9 on 40x10 of its 41x11 pixels.
        assert!((b.score - 0.9 * 400.0 / 451.0).abs() < 0.01, "{b:?}");
        // 41x11 dilated blob, grown by area*1.6/perimeter ≈ 6.9 px, then scaled by 2.
        assert!(
            b.corners[0][0] < 8.0 * 2.0 && b.corners[1][0] > 48.0 * 2.0,
            "{b:?}"
        );
        assert!(
            b.corners[0][1] < 10.0 * 2.0 && b.corners[2][1] > 20.0 * 2.0,
            "{b:?}"
        );
    }

    #[test]
    fn faint_and_tiny_regions_are_dropped() {
        let (w, h) = (32usize, 32usize);
        let mut data = vec![0.0; w * h];
        data[5 * w + 5] = 0.9;
        for y in 10..20 {
            for x in 10..30 {
                data[y * w + x] = 0.35;
            }
        }
        let prob = Tensor::new(data, vec![1, 1, h, w]);
        let input = DetInput {
            tensor: Tensor::new(vec![], vec![0]),
            scale_x: 1.0,
            scale_y: 1.0,
        };
        assert!(boxes(&prob, &input, 32, 32, &DetParams::default()).is_empty());
    }

    #[test]
    fn reading_order_is_rows_then_columns() {
        let b = |x: f32, y: f32| TextBox {
            corners: [[x, y], [x + 5.0, y], [x + 5.0, y + 5.0], [x, y + 5.0]],
            score: 1.0,
        };
        let mut v = vec![b(50.0, 3.0), b(0.0, 0.0), b(0.0, 40.0)];
        reading_order(&mut v, |b| b.corners[0]);
        let xs: Vec<(f32, f32)> = v
            .iter()
            .map(|t| (t.corners[0][0], t.corners[0][1]))
            .collect();
        assert_eq!(xs, vec![(0.0, 0.0), (50.0, 3.0), (0.0, 40.0)]);
    }
}
