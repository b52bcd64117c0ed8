//! Text lines from word boxes, and reading order for whole pages.
//!
//! [`group_lines`]: words belong to one line when their vertical extents overlap enough
//! relative to their heights — not when their tops align, which x-height words ("some", "is")
//! beside ascender words ("that") never do — and a line reads left to right.
//!
//! [`reading_order`]: recursive XY-cut over line boxes. A region whose boxes
//! leave a vertical gutter free from top to bottom is read column by column, left to right;
//! otherwise it is cut in two at its widest horizontal gap, top part first; a region that
//! cannot be cut is read in rows. So a heading above two columns comes first, then the left column, then the right —
//! not the two columns interleaved line by line.

/// Axis-aligned bounds `[x0, y0, x1, y1]` in the frame the text is upright in.
pub type Bounds = [f32; 4];

/// How much two boxes' vertical extents must overlap, relative to the smaller height, for
/// them to be words of one line.
const LINE_OVERLAP: f32 = 0.5;
/// Words of one line differ in height at most this much (x-height words beside words with
/// ascenders and descenders: about 2×; a heading beside body text: more).
const LINE_HEIGHT_RATIO: f32 = 2.5;
/// The widest gap between neighbouring words of one line, in heights of the taller word; a
/// wider one is a column gutter or a table's cell boundary.
const WORD_GAP: f32 = 1.2;
/// A narrower gap is still a column gutter when it is at least this many heights of the
/// smaller word and the rows around it leave it free too (see [`gutter`]).
const GUTTER_MIN: f32 = 0.5;
/// How far above and below a gap [`gutter`] looks, in heights of the taller word.
const GUTTER_ROWS: f32 = 3.0;

/// Whether the gap between `prev` (a line's last word) and `word` (its candidate next) is a
/// column gutter: the middle half of the gap is free in the rows just above it or just below
/// it, and at least two of those rows have text on each side of it. Word gaps of one column do
/// not line up with the next row's, so in running text some neighbour always crosses them
/// (a heading above two columns crosses the gutter only above their first rows). Boxes of
/// newer detectors (PP-OCRv5, v6) reach closer to each other across a narrow gutter than
/// [`WORD_GAP`] alone can tell from a wide word space.
fn gutter(boxes: &[Bounds], prev: Bounds, word: Bounds, tall: f32) -> bool {
    let (x0, x1) = (prev[2], word[0]);
    let quarter = (x1 - x0) / 4.0;
    let (free0, free1) = (x0 + quarter, x1 - quarter);
    let (top, bottom) = (prev[1].min(word[1]), prev[3].max(word[3]));
    // Rows above (`false`) and below (`true`) the gap's line: boxes centred outside its
    // vertical extent (its own words never count as rows around it).
    [false, true].into_iter().any(|below| {
        let (y0, y1) = if below {
            (bottom, bottom + GUTTER_ROWS * tall)
        } else {
            (top - GUTTER_ROWS * tall, top)
        };
        let (mut left, mut right) = (0, 0);
        for b in boxes {
            let centre = (b[1] + b[3]) / 2.0;
            if *b == prev || *b == word || centre < y0 || centre > y1 {
                continue;
            }
            if b[0] < free1 && b[2] > free0 {
                return false;
            }
            if b[2] <= free0 {
                left += 1;
            } else {
                right += 1;
            }
        }
        left >= 2 && right >= 2
    })
}

/// Groups word boxes into lines: each line's indices left to right; lines in no particular
/// order (see [`reading_order`]). A word joins the line whose rightmost word it follows
/// closely and overlaps vertically (compared word to word, so a line that drifts with a small
/// skew stays one line); of several candidate lines, the one it overlaps most.
pub fn group_lines(boxes: &[Bounds]) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..boxes.len()).collect();
    order.sort_by(|&a, &b| boxes[a][0].total_cmp(&boxes[b][0]));
    let mut lines: Vec<Vec<usize>> = Vec::new();
    for i in order {
        let word = boxes[i];
        let h = (word[3] - word[1]).max(1e-3);
        let mut best: Option<(usize, f32)> = None;
        for (l, line) in lines.iter().enumerate() {
            // The line's last word, and the one before it: a small mark (a comma, a period, a
            // speck) at the end of a line is not what the next word is compared with alone.
            for &last in line.iter().rev().take(2) {
                let prev = boxes[last];
                let ph = (prev[3] - prev[1]).max(1e-3);
                let (small, tall) = (h.min(ph), h.max(ph));
                let overlap = (word[3].min(prev[3]) - word[1].max(prev[1])) / small;
                let gap = word[0] - prev[2];
                let fits = overlap >= LINE_OVERLAP
                    && tall <= LINE_HEIGHT_RATIO * small
                    && gap <= WORD_GAP * tall
                    && !(gap >= GUTTER_MIN * small && gutter(boxes, prev, word, tall))
                    // Detected word boxes are grown around their ink, so neighbours overlap
                    // side by side by up to a height; a box that does not reach further
                    // right is inside the other, not its neighbour.
                    && gap >= -small
                    && word[2] > prev[2];
                if fits && best.is_none_or(|(_, o)| overlap > o) {
                    best = Some((l, overlap));
                }
            }
        }
        match best {
            Some((l, _)) => lines[l].push(i),
            None => lines.push(vec![i]),
        }
    }
    lines
}

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
    // Columns first: a gutter at least half a line-height wide, free over the whole region
    // (detected boxes are grown around their ink and a scan is a little skewed, so a quarter
    // inch between columns can leave less than a line-height free; lines are whole by now,
    // so word gaps of one column do not line up into a false gutter).
    let mut xs: Vec<(f32, f32)> = items.iter().map(|&i| (boxes[i][0], boxes[i][2])).collect();
    let columns = gaps(&mut xs, 0.5 * line);
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

    fn texts(words: &[(&str, Bounds)]) -> Vec<String> {
        let boxes: Vec<Bounds> = words.iter().map(|w| w.1).collect();
        let lines = group_lines(&boxes);
        let line_boxes: Vec<Bounds> = lines
            .iter()
            .map(|l| {
                l.iter()
                    .fold([f32::MAX, f32::MAX, f32::MIN, f32::MIN], |a, &i| {
                        let b = boxes[i];
                        [
                            a[0].min(b[0]),
                            a[1].min(b[1]),
                            a[2].max(b[2]),
                            a[3].max(b[3]),
                        ]
                    })
            })
            .collect();
        reading_order(&line_boxes)
            .into_iter()
            .map(|l| {
                let words: Vec<&str> = lines[l].iter().map(|&i| words[i].0).collect();
                words.join(" ")
            })
            .collect()
    }

    #[test]
    fn words_of_mixed_height_are_one_line_in_order() {
        // The line the scans split into six: x-height words ("some", "is") sit lower than
        // words with ascenders, and "speedup" reaches below with its descender.
        let words = [
            ("about", b(10.0, 10.0, 90.0, 40.0)),
            ("some", b(100.0, 18.0, 170.0, 40.0)),
            ("asymptotic", b(180.0, 10.0, 330.0, 48.0)),
            ("speedup", b(340.0, 16.0, 460.0, 48.0)),
            ("that", b(470.0, 10.0, 530.0, 40.0)),
            ("is", b(540.0, 12.0, 565.0, 40.0)),
        ];
        assert_eq!(texts(&words), ["about some asymptotic speedup that is"]);
    }

    #[test]
    fn lines_under_each_other_stay_apart_and_in_order() {
        let words = [
            ("second", b(10.0, 60.0, 100.0, 90.0)),
            ("line", b(110.0, 66.0, 160.0, 90.0)),
            ("first", b(10.0, 10.0, 80.0, 40.0)),
            ("one", b(90.0, 18.0, 140.0, 40.0)),
            ("third", b(10.0, 110.0, 90.0, 140.0)),
        ];
        assert_eq!(texts(&words), ["first one", "second line", "third"]);
    }

    #[test]
    fn a_small_skew_keeps_a_line_whole() {
        // Each word 4 px lower than the previous (about 2°): the first and the last do not
        // overlap, neighbours do.
        let words: Vec<(&str, Bounds)> = ["a", "line", "that", "drifts", "down", "slowly"]
            .into_iter()
            .enumerate()
            .map(|(i, w)| {
                let (x, y) = (10.0 + 90.0 * i as f32, 10.0 + 5.0 * i as f32);
                (w, b(x, y, x + 80.0, y + 24.0))
            })
            .collect();
        let under = [("below", b(10.0, 70.0, 90.0, 94.0))];
        let all: Vec<_> = words.iter().chain(under.iter()).copied().collect();
        assert_eq!(texts(&all), ["a line that drifts down slowly", "below"]);
    }

    /// Two columns whose gutter is about a line-height wide (as PP-OCRv6's boxes leave on a
    /// 300 dpi two-column page: 58 px high, 59 px apart), and a justified line with a word
    /// space as wide that no other row shares.
    #[test]
    fn a_gutter_the_rows_share_splits_columns_and_a_wide_word_space_does_not() {
        let mut words = Vec::new();
        for row in 0..5 {
            let y = 500.0 + 45.0 * row as f32;
            words.push(("left", b(187.0, y, 1028.0, y + 58.0)));
            words.push(("right", b(1087.0, y + 6.0, 1928.0, y + 64.0)));
        }
        // A heading above both columns crosses the gutter above their first rows only.
        words.push(("heading", b(760.0, 268.0, 1362.0, 364.0)));
        words.push(("byline", b(884.0, 394.0, 1235.0, 453.0)));
        let read = texts(&words);
        let want = [
            &["heading", "byline"][..],
            &["left"; 5][..],
            &["right"; 5][..],
        ]
        .concat();
        assert_eq!(read, want, "{read:?}");

        let justified = [
            ("a", b(0.0, 0.0, 300.0, 58.0)),
            ("wide", b(360.0, 0.0, 900.0, 58.0)),
            ("space", b(0.0, 45.0, 500.0, 103.0)),
            ("elsewhere", b(520.0, 45.0, 900.0, 103.0)),
            ("and", b(0.0, 90.0, 200.0, 148.0)),
            ("more", b(220.0, 90.0, 900.0, 148.0)),
        ];
        assert_eq!(texts(&justified), ["a wide", "space elsewhere", "and more"]);
    }

    /// A line of many words with wide spaces (a detector that boxes words, not phrases) is one
    /// line: its own words are not rows that could make a space a gutter.
    #[test]
    fn a_line_of_spaced_words_alone_is_one_line() {
        let words: Vec<(&str, Bounds)> = ["one", "two", "three", "four", "five", "six"]
            .into_iter()
            .enumerate()
            .map(|(i, w)| {
                let x = 100.0 * i as f32;
                (w, b(x, 10.0, x + 60.0, 50.0))
            })
            .collect();
        assert_eq!(texts(&words), ["one two three four five six"]);
    }

    #[test]
    fn two_columns_are_two_lines_each_read_in_turn() {
        let words = [
            ("left", b(10.0, 10.0, 70.0, 34.0)),
            ("one", b(78.0, 14.0, 120.0, 34.0)),
            ("right", b(300.0, 10.0, 370.0, 34.0)),
            ("one", b(378.0, 14.0, 420.0, 34.0)),
            ("left", b(10.0, 44.0, 70.0, 68.0)),
            ("two", b(78.0, 48.0, 120.0, 68.0)),
            ("right", b(300.0, 44.0, 370.0, 68.0)),
            ("two", b(378.0, 48.0, 420.0, 68.0)),
        ];
        assert_eq!(
            texts(&words),
            ["left one", "left two", "right one", "right two"]
        );
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
