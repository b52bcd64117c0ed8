//! The three PP-OCR models as Burn modules, generated from their ONNX files by `burn-onnx`
//! in `build.rs`, with the weights embedded in the binary; and the recogniser's dictionary.

/// Generated model code (burn-onnx): not ours to lint.
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unused
)]
mod generated {
    pub mod det {
        include!(concat!(env!("OUT_DIR"), "/model/det.rs"));
    }
    pub mod cls {
        include!(concat!(env!("OUT_DIR"), "/model/cls.rs"));
    }
    pub mod rec {
        include!(concat!(env!("OUT_DIR"), "/model/rec.rs"));
    }
}

pub use burn;

/// The recogniser's dictionary, as fetched with the models (one character per line).
pub const REC_KEYS: &str = include_str!(env!("TOLLGATE_REC_KEYS"));

/// Text detection (DB): `[1, 3, H, W]` → `[1, 1, H, W]`.
pub type Detector = generated::det::Model;
/// Angle classification: `[N, 3, 48, 192]` → `[N, 2]`.
pub type Classifier = generated::cls::Model;
/// Recognition (SVTR-LCNet, CTC): `[N, 3, 48, W]` → `[N, W / 8, 6625]`.
pub type Recognizer = generated::rec::Model;

/// The three models on one device.
#[derive(Debug)]
pub struct PpOcr {
    /// Detection.
    pub det: Detector,
    /// Angle classification.
    pub cls: Classifier,
    /// Recognition.
    pub rec: Recognizer,
}

impl PpOcr {
    /// Loads the embedded weights onto `device`. Panics only if the embedded weights do not
    /// match the generated code, which the build guarantees.
    pub fn load(device: &burn::tensor::Device) -> Self {
        Self {
            det: Detector::from_embedded(device),
            cls: Classifier::from_embedded(device),
            rec: Recognizer::from_embedded(device),
        }
    }
}
