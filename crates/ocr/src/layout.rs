//! Reading order for whole pages: recursive XY-cut over line boxes. A region whose boxes
//! leave a vertical gutter free from top to bottom is read column by column, left to right;
//! otherwise it is cut in two at its widest horizontal gap, top part first; a region that
//! cannot be cut is read in rows. So a heading above two columns comes first, then the left column, then the right —
//! not the two columns interleaved line by line.

/// Axis-aligned bounds `[x0, y0, x1, y1]` in the frame the text is upright in.
pub type Bounds = [f32; 4];

/// The reading order of `boxes` (indices).
pub fn reading_order(boxes: &[Bounds]) -> Vec<usize> {
    let mut heights: Vec<f32> = boxes
        .iter()
        .map(|b| b[3] - b[1])
        .filter(|h| *h > 0.0)
        .collect();
    heights.sort_by(f32::total_cmp);
    let line = heights
        .get(heights.len() / 2)
        .copied()
        .unwrap_or(10.0)
        .max(1.0);
    let mut out = Vec::with_capacity(boxes.len());
    cut(boxes, (0..boxes.len()).collect(), line, &mut out);
    out
}

/// Gaps along one axis: sorted `[start, end]` spans of the boxes, merged; returns the cut
/// points (middles of gaps at least `min_gap` wide), in order.
fn gaps(spans: &mut [(f32, f32)], min_gap: f32) -> Vec<f32> {
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut cuts = Vec::new();
    let mut reach = f32::MIN;
    for (i, &(start, end)) in spans.iter().enumerate() {
        if i > 0 && start - reach >= min_gap {
            cuts.push((start + reach) / 2.0);
        }
        reach = reach.max(end);
    }
    cuts
}

/// The middle of the widest gap at least `min_gap` wide, if any.
fn widest_gap(spans: &mut [(f32, f32)], min_gap: f32) -> Option<f32> {
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut best: Option<(f32, f32)> = None;
    let mut reach = f32::MIN;
    for (i, &(start, end)) in spans.iter().enumerate() {
        let gap = start - reach;
        if i > 0 && gap >= min_gap && best.is_none_or(|(w, _)| gap > w) {
            best = Some((gap, (start + reach) / 2.0));
        }
        reach = reach.max(end);
    }
    best.map(|(_, at)| at)
}

/// Splits `items` at the cut points along an axis.
fn split(boxes: &[Bounds], items: &[usize], cuts: &[f32], axis: usize) -> Vec<Vec<usize>> {
    let mut parts = vec![Vec::new(); cuts.len() + 1];
    for &i in items {
        let centre = (boxes[i][axis] + boxes[i][axis + 2]) / 2.0;
        let part = cuts.iter().take_while(|c| centre > **c).count();
        parts[part].push(i);
    }
    parts.retain(|p| !p.is_empty());
    parts
}

fn cut(boxes: &[Bounds], items: Vec<usize>, line: f32, out: &mut Vec<usize>) {
    if items.len() <= 1 {
        out.extend(items);
        return;
    }
    // Columns first: a gutter at least one line-height wide, free over the whole region.
    let mut xs: Vec<(f32, f32)> = items.iter().map(|&i| (boxes[i][0], boxes[i][2])).collect();
    let columns = gaps(&mut xs, line);
    if !columns.is_empty() {
        for part in split(boxes, &items, &columns, 0) {
            cut(boxes, part, line, out);
        }
        return;
    }
    // Then the widest horizontal gap (at least a quarter line-height): a heading above two
    // columns is cut off before the columns' own line gaps are, which would interleave them.
    let mut ys: Vec<(f32, f32)> = items.iter().map(|&i| (boxes[i][1], boxes[i][3])).collect();
    if let Some(band) = widest_gap(&mut ys, line * 0.25) {
        for part in split(boxes, &items, &[band], 1) {
            cut(boxes, part, line, out);
        }
        return;
    }
    // Overlapping lines (skew, touching rows): rows, as PP-OCR orders them.
    let mut rest = items;
    crate::detect::reading_order(&mut rest, |&i| [boxes[i][0], boxes[i][1]]);
    out.extend(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(x0: f32, y0: f32, x1: f32, y1: f32) -> Bounds {
        [x0, y0, x1, y1]
    }

    #[test]
    fn heading_then_left_column_then_right() {
        let boxes = [
            b(520.0, 100.0, 900.0, 120.0), // right column, line 1
            b(40.0, 100.0, 460.0, 120.0),  // left column, line 1
            b(40.0, 30.0, 900.0, 60.0),    // heading across both
            b(520.0, 130.0, 880.0, 150.0), // right, line 2
            b(40.0, 130.0, 450.0, 150.0),  // left, line 2
            b(40.0, 160.0, 300.0, 180.0),  // left, line 3
        ];
        assert_eq!(reading_order(&boxes), vec![2, 1, 4, 5, 0, 3]);
    }

    #[test]
    fn a_single_column_is_read_top_to_bottom() {
        let boxes = [
            b(40.0, 70.0, 300.0, 90.0),
            b(40.0, 40.0, 500.0, 60.0),
            b(40.0, 100.0, 420.0, 120.0),
        ];
        assert_eq!(reading_order(&boxes), vec![1, 0, 2]);
    }
}
