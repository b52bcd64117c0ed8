//! Angle classification and recognition inputs, and CTC decoding of recognition outputs.

use crate::tensor::{write_bgr_chw, Tensor};
use image::imageops::FilterType;
use image::RgbImage;

/// Height every recognition and classification input is scaled to.
pub const LINE_HEIGHT: u32 = 48;
/// Classifier input width.
pub const CLS_WIDTH: u32 = 192;
/// Narrowest recognition batch width (PP-OCR's 320 at height 48).
pub const REC_MIN_WIDTH: u32 = 320;
/// Widest crop fed to the recogniser, as a multiple of its height (longer lines are squeezed).
pub const REC_MAX_RATIO: f32 = 40.0;

fn scaled_width(img: &RgbImage, max_w: u32) -> u32 {
    let ratio = img.width() as f32 / img.height().max(1) as f32;
    ((LINE_HEIGHT as f32 * ratio).ceil() as u32).clamp(1, max_w)
}

/// Packs crops into one `[N, 3, 48, width]` batch, each scaled to height 48 (keeping its
/// aspect up to `width`) and left-aligned, zero-padded.
pub fn batch(crops: &[&RgbImage], width: u32) -> Tensor {
    let (h, w) = (LINE_HEIGHT as usize, width as usize);
    let per = 3 * h * w;
    let mut data = vec![0.0; crops.len() * per];
    for (i, img) in crops.iter().enumerate() {
        let rw = scaled_width(img, width);
        let resized = image::imageops::resize(*img, rw, LINE_HEIGHT, FilterType::Triangle);
        write_bgr_chw(&resized, &mut data[i * per..(i + 1) * per], h, w);
    }
    Tensor::new(data, vec![crops.len(), 3, h, w])
}

/// The width a recognition batch of these crops needs: wide enough for the widest
/// (bounded), never narrower than 320.
pub fn rec_width(crops: &[&RgbImage]) -> u32 {
    let max_ratio = crops
        .iter()
        .map(|c| c.width() as f32 / c.height().max(1) as f32)
        .fold(REC_MIN_WIDTH as f32 / LINE_HEIGHT as f32, f32::max)
        .min(REC_MAX_RATIO);
    (LINE_HEIGHT as f32 * max_ratio).ceil() as u32
}

/// The recogniser's alphabet: index 0 is the CTC blank, then the dictionary, then a space.
#[derive(Debug, Clone)]
pub struct Charset {
    chars: Vec<String>,
}

impl Charset {
    /// Builds the alphabet from the dictionary file's lines.
    pub fn from_dictionary(text: &str) -> Self {
        let mut chars = vec![String::new()];
        chars.extend(text.split('\n').map(str::to_owned));
        chars.push(" ".to_owned());
        Self { chars }
    }

    /// Number of classes, blank included.
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    /// True for an empty alphabet.
    pub fn is_empty(&self) -> bool {
        self.chars.len() <= 1
    }
}

/// One decoded line.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// Text.
    pub text: String,
    /// Mean probability of the emitted characters.
    pub confidence: f32,
}

/// Greedy CTC decoding of `[N, T, C]` class probabilities: best class per step, repeats
/// collapsed, blanks dropped.
pub fn ctc_decode(probs: &Tensor, charset: &Charset) -> Vec<Decoded> {
    let (n, t, c) = (probs.shape[0], probs.shape[1], probs.shape[2]);
    (0..n)
        .map(|i| {
            let mut text = String::new();
            let (mut sum, mut count) = (0.0f32, 0u32);
            let mut prev = usize::MAX;
            for step in 0..t {
                let row = &probs.data[(i * t + step) * c..(i * t + step + 1) * c];
                let (best, p) = row.iter().enumerate().fold((0, f32::MIN), |acc, (k, v)| {
                    if *v > acc.1 {
                        (k, *v)
                    } else {
                        acc
                    }
                });
                if best != 0 && best != prev {
                    if let Some(ch) = charset.chars.get(best) {
                        text.push_str(ch);
                        sum += p;
                        count += 1;
                    }
                }
                prev = best;
            }
            Decoded {
                text,
                confidence: if count == 0 { 0.0 } else { sum / count as f32 },
            }
        })
        .collect()
}

/// Classifier decision: the index of crops to turn 180°, from `[N, 2]` probabilities.
pub fn upside_down(probs: &Tensor, threshold: f32) -> Vec<bool> {
    probs
        .data
        .chunks(2)
        .map(|p| p.len() == 2 && p[1] > p[0] && p[1] > threshold)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctc_collapses_repeats_and_blanks() {
        let charset = Charset::from_dictionary("a\nb");
        assert_eq!(charset.len(), 4);
        // steps: a a blank a b space
        let steps = [1usize, 1, 0, 1, 2, 3];
        let mut data = vec![0.0; steps.len() * 4];
        for (t, k) in steps.iter().enumerate() {
            data[t * 4 + k] = 0.8;
        }
        let out = ctc_decode(&Tensor::new(data, vec![1, steps.len(), 4]), &charset);
        assert_eq!(out[0].text, "aab ");
        assert!((out[0].confidence - 0.8).abs() < 1e-6);
    }

    #[test]
    fn batch_width_tracks_the_widest_crop() {
        let short = RgbImage::new(100, 48);
        let long = RgbImage::new(960, 48);
        assert_eq!(rec_width(&[&short]), 320);
        assert_eq!(rec_width(&[&short, &long]), 960);
        let t = batch(&[&short, &long], 960);
        assert_eq!(t.shape, vec![2, 3, 48, 960]);
    }

    #[test]
    fn classifier_needs_confidence_to_turn() {
        let probs = Tensor::new(vec![0.9, 0.1, 0.05, 0.95, 0.2, 0.8], vec![3, 2]);
        assert_eq!(upside_down(&probs, 0.9), vec![false, true, false]);
    }
}
