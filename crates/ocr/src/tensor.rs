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
    let plane = target_h * target_w;
    let (w, h) = (img.width() as usize, img.height() as usize);
    for y in 0..h.min(target_h) {
        for x in 0..w.min(target_w) {
            let p = img.get_pixel(x as u32, y as u32).0;
            let at = y * target_w + x;
            out[at] = normalise(p[2]);
            out[plane + at] = normalise(p[1]);
            out[2 * plane + at] = normalise(p[0]);
        }
    }
}
