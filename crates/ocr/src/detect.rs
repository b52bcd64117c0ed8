//! Text detection around the DB (differentiable binarisation) model: resizing the page for
//! the model, and turning its probability map into rotated text boxes — threshold, dilate,
//! connected components, minimum-area rectangle, box score, unclip — in page coordinates.

use crate::geometry::{min_area_rect, Point, RotatedRect};
use crate::tensor::{write_bgr_chw_with, Normalisation, Tensor, HALF};
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
    /// Detector inputs of more pixels than this run in overlapping tiles of at most this many
    /// pixels (sides multiples of 32), so the detector's memory is bounded by a tile, not by
    /// the page. 0: never tile; a budget below the shortest tile (192 × 192) is taken as that.
    pub tile_pixels: usize,
    /// How the page's pixels are normalised for the model.
    pub normalisation: Normalisation,
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
            // 1.5 Mpx: an A4 or letter page 1000 px wide (992 × 1408 at the detector) runs
            // whole, as onnxruntime's pipeline runs it; one 1400 × 2000 in two tiles.
            tile_pixels: 1536 * 1024,
            normalisation: HALF,
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

/// The detector's input size for a page of `width` × `height`: scaled towards `min_side`,
/// never past `max_side`, rounded to multiples of 32.
pub fn input_size(width: u32, height: u32, p: &DetParams) -> (u32, u32) {
    let (w, h) = (width as f32, height as f32);
    let mut ratio = if w.min(h) < p.min_side as f32 {
        (p.min_side as f32 / w.min(h)).min(p.max_upscale)
    } else {
        1.0
    };
    if w.max(h) * ratio > p.max_side as f32 {
        ratio = p.max_side as f32 / w.max(h);
    }
    let round32 = |v: f32| (((v * ratio) / 32.0).round() as u32).max(1) * 32;
    (round32(w), round32(h))
}

/// Resizes and normalises a page for the detector.
pub fn prepare(img: &RgbImage, p: &DetParams) -> DetInput {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let (rw, rh) = input_size(img.width(), img.height(), p);
    let resized = image::imageops::resize(img, rw, rh, FilterType::Triangle);
    let (rw, rh) = (rw as usize, rh as usize);
    let mut data = vec![0.0; 3 * rh * rw];
    write_bgr_chw_with(&resized, &mut data, rh, rw, &p.normalisation);
    DetInput {
        tensor: Tensor::new(data, vec![1, 3, rh, rw]),
        scale_x: w / rw as f32,
        scale_y: h / rh as f32,
    }
}

/// Of each tile, at least this much along every inner edge is covered by the neighbouring
/// tile and not used: the detector sees past a tile's edge only as padding.
const TILE_MARGIN: usize = 64;

/// Neighbouring tiles overlap by at least this much: a margin on each side of their seam,
/// and 32 of slack for aligning their starts to 32.
const TILE_OVERLAP: usize = 2 * TILE_MARGIN + 32;

/// The shortest tile side: one that overlaps its neighbours and still moves on.
const MIN_TILE: usize = TILE_OVERLAP + 32;

/// The side of each of `n` tiles covering `len` (a multiple of 32) with overlaps of
/// [`TILE_OVERLAP`]: as short as that allows, a multiple of 32.
fn tile_side(len: usize, n: usize) -> usize {
    if n <= 1 {
        return len;
    }
    ((len + (n - 1) * TILE_OVERLAP).div_ceil(n).div_ceil(32) * 32)
        .max(MIN_TILE)
        .min(len)
}

/// The tile shape `(height, width)` the detector runs an `h` × `w` input in: the whole input
/// when it has at most `p.tile_pixels` pixels (or tiling is off); otherwise the grid of
/// tiles, each within the budget, that makes the detector do the least work (the fewest
/// pixels over all tiles, overlaps counted twice). A budget below [`MIN_TILE`]² is taken as
/// that.
pub fn tile_shape(h: usize, w: usize, p: &DetParams) -> (usize, usize) {
    if p.tile_pixels == 0 || h * w <= p.tile_pixels {
        return (h, w);
    }
    let budget = p.tile_pixels.max(MIN_TILE * MIN_TILE);
    let mut best = (usize::MAX, h.min(MIN_TILE), w.min(MIN_TILE));
    for ny in 1..=h.div_ceil(32) {
        let th = tile_side(h, ny);
        for nx in 1..=w.div_ceil(32) {
            let tw = tile_side(w, nx);
            if th * tw > budget {
                continue;
            }
            let work = tile_starts(h, th).len() * tile_starts(w, tw).len() * th * tw;
            if work < best.0 {
                best = (work, th, tw);
            }
            break; // more columns only add work
        }
    }
    (best.1, best.2)
}

/// Tile starts along an axis of `len` (a multiple of 32) for tiles of `tile`: the first at
/// 0, the last ending at `len`, 32-aligned, neighbours overlapping by at least twice
/// [`TILE_MARGIN`].
fn tile_starts(len: usize, tile: usize) -> Vec<usize> {
    if tile == 0 || len <= tile {
        return vec![0];
    }
    // 32 of slack for the alignment below.
    let step = tile.saturating_sub(TILE_OVERLAP).max(32);
    let n = (len - tile).div_ceil(step) + 1;
    (0..n)
        .map(|i| {
            let exact = (len - tile) as f64 * i as f64 / (n - 1) as f64;
            ((exact / 32.0).round() as usize * 32).min(len - tile)
        })
        .collect()
}

/// Where along an axis tile `i` (of `starts`) is used: up to the middle of its overlaps.
fn tile_span(starts: &[usize], i: usize, tile: usize, len: usize) -> (usize, usize) {
    let lo = if i == 0 {
        0
    } else {
        (starts[i] + starts[i - 1] + tile) / 2
    };
    let hi = if i + 1 == starts.len() {
        len
    } else {
        (starts[i + 1] + starts[i] + tile) / 2
    };
    (lo, hi)
}

/// Runs `detect` on the `[1, 3, H, W]` input whole, or — when it has more than
/// `p.tile_pixels` pixels — tile by tile ([`tile_shape`]), stitching the `[1, 1, H, W]`
/// probability map from the middle of each tile. The detector's activations then never
/// exceed one tile's.
pub fn run(
    input: &Tensor,
    p: &DetParams,
    mut detect: impl FnMut(&Tensor) -> Result<Tensor, crate::runner::RunnerError>,
) -> Result<Tensor, crate::runner::RunnerError> {
    let (h, w) = (input.shape[2], input.shape[3]);
    let (th, tw) = tile_shape(h, w, p);
    if (th, tw) == (h, w) {
        return detect(input);
    }
    let (ys, xs) = (tile_starts(h, th), tile_starts(w, tw));
    let mut map = vec![0.0f32; h * w];
    let mut tile = vec![0.0f32; 3 * th * tw];
    for (iy, &y0) in ys.iter().enumerate() {
        for (ix, &x0) in xs.iter().enumerate() {
            for c in 0..3 {
                for y in 0..th {
                    let from = c * h * w + (y0 + y) * w + x0;
                    let to = c * th * tw + y * tw;
                    tile[to..to + tw].copy_from_slice(&input.data[from..from + tw]);
                }
            }
            let prob = detect(&Tensor::new(tile.clone(), vec![1, 3, th, tw]))?;
            if prob.data.len() < th * tw {
                return Err(crate::runner::RunnerError(format!(
                    "detection answered {} values for a {tw}x{th} tile",
                    prob.data.len()
                )));
            }
            let (ylo, yhi) = tile_span(&ys, iy, th, h);
            let (xlo, xhi) = tile_span(&xs, ix, tw, w);
            for y in ylo..yhi {
                let from = (y - y0) * tw + (xlo - x0);
                map[y * w + xlo..y * w + xhi].copy_from_slice(&prob.data[from..from + xhi - xlo]);
            }
        }
    }
    Ok(Tensor::new(map, vec![1, 1, h, w]))
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

    #[test]
    fn tiles_cover_the_axis_with_wide_overlaps() {
        for len in [1024usize, 1056, 1600, 2016, 4096, 4000 / 32 * 32] {
            let starts = tile_starts(len, 1024);
            assert_eq!(starts[0], 0);
            assert_eq!(*starts.last().unwrap() + 1024.min(len), len, "{len}");
            for pair in starts.windows(2) {
                assert!(pair[1] > pair[0] && pair[0] % 32 == 0 && pair[1] % 32 == 0);
                assert!(
                    pair[0] + 1024 - pair[1] >= 2 * TILE_MARGIN,
                    "{len}: {starts:?}"
                );
            }
            // Spans partition the axis and stay away from inner tile edges.
            let mut at = 0;
            for i in 0..starts.len() {
                let (lo, hi) = tile_span(&starts, i, 1024.min(len), len);
                assert_eq!(lo, at);
                assert!(lo >= starts[i] && hi <= starts[i] + 1024.min(len));
                if i > 0 {
                    assert!(lo - starts[i] >= TILE_MARGIN);
                }
                if i + 1 < starts.len() {
                    assert!(starts[i] + 1024 - hi >= TILE_MARGIN);
                }
                at = hi;
            }
            assert_eq!(at, len);
        }
    }

    #[test]
    fn tiles_stay_in_the_budget_and_waste_little() {
        let p = DetParams::default();
        // A page at the 1000 px working side runs whole.
        assert_eq!(tile_shape(1408, 992, &p), (1408, 992));
        assert_eq!(
            tile_shape(
                1408,
                1408,
                &DetParams {
                    tile_pixels: 0,
                    ..p
                }
            ),
            (1408, 1408)
        );
        // Just over the budget: two tiles, not two tiles of the budget's side.
        assert_eq!(tile_shape(2016, 1408, &p), (1088, 1408));
        for (h, w) in [
            (2016, 1408),
            (1408, 2016),
            (2016, 2016),
            (4096, 4096),
            (1344, 2080),
        ] {
            for budget in [512 * 512, 1024 * 1024, p.tile_pixels] {
                let q = DetParams {
                    tile_pixels: budget,
                    ..p
                };
                let (th, tw) = tile_shape(h, w, &q);
                assert!(th * tw <= budget, "{h}x{w} in {budget}: {th}x{tw}");
                assert!(th % 32 == 0 && tw % 32 == 0 && th <= h && tw <= w);
                let tiles = tile_starts(h, th).len() * tile_starts(w, tw).len();
                let work = tiles * th * tw;
                // Overlaps cost at most one overlap strip per tile on each axis.
                let bound = (h * w) as f64 + tiles as f64 * (th + tw) as f64 * TILE_OVERLAP as f64;
                assert!(
                    work as f64 <= bound,
                    "{h}x{w} in {budget}: {th}x{tw} {work}"
                );
            }
        }
        // A budget below the shortest tile is taken as the shortest tile.
        let tiny = DetParams {
            tile_pixels: 1,
            ..p
        };
        assert_eq!(tile_shape(1024, 1024, &tiny), (MIN_TILE, MIN_TILE));
        assert_eq!(tile_shape(64, 4096, &tiny), (64, MIN_TILE * MIN_TILE / 64));
    }

    #[test]
    fn a_tiled_map_equals_the_whole_map_for_a_local_detector() {
        // A detector whose output at a pixel depends on that pixel alone: stitching must
        // reproduce the untiled map exactly.
        let (h, w) = (1344usize, 2080usize);
        let data: Vec<f32> = (0..3 * h * w)
            .map(|i| ((i * 7919) % 1000) as f32 / 1000.0)
            .collect();
        let input = Tensor::new(data, vec![1, 3, h, w]);
        let local = |t: &Tensor| -> Result<Tensor, crate::runner::RunnerError> {
            let (th, tw) = (t.shape[2], t.shape[3]);
            let plane = th * tw;
            let out = (0..plane)
                .map(|i| t.data[i] * 0.5 + t.data[plane + i] * 0.3 + t.data[2 * plane + i] * 0.2)
                .collect();
            Ok(Tensor::new(out, vec![1, 1, th, tw]))
        };
        let whole = local(&input).unwrap();
        // One row of tiles (the default budget) and a grid of them (rows and columns).
        for (tile_pixels, at_least) in [(DetParams::default().tile_pixels, 2), (512 * 512, 12)] {
            let p = DetParams {
                tile_pixels,
                ..DetParams::default()
            };
            let mut calls = 0;
            let tiled = run(&input, &p, |t| {
                calls += 1;
                assert!(t.shape[2] * t.shape[3] <= p.tile_pixels, "a tile at most");
                local(t)
            })
            .unwrap();
            assert!(calls >= at_least, "{calls} tiles in {tile_pixels}");
            assert_eq!(tiled, whole);
        }
    }
}
