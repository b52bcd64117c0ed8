//! Tollgate's OCR engine: the PP-OCRv4 models (text detection, 0°/180° angle
//! classification, recognition with a 6623-character Chinese and English dictionary) imported
//! into Burn at build time, PP-OCR's pre- and post-processing written here, and a batching
//! executor in front of one model runner per device.
//!
//! Nothing outside this crate knows which backend runs the models: callers see [`Engine`].

pub mod burn_runner;
pub mod crop;
#[cfg(feature = "cuda")]
pub mod cuda_runner;
pub mod decode;
pub mod detect;
pub mod engine;
pub mod geometry;
pub mod layout;
pub mod pdf;
pub mod pdf_worker;
pub mod pipeline;
pub mod recognize;
pub mod runner;
pub mod tensor;

pub use decode::{ImageError, ImageLimits};
pub use engine::{Engine, EngineConfig, EngineInfo, OcrError, OcrOutput, Timing};
pub use pipeline::{Line, Mode, PageText, Pipeline, PipelineConfig};
pub use recognize::{Charset, Decoded};
pub use runner::{ModelRunner, RunnerError};

pub use tollgate_ocr_models::REC_KEYS;

/// Names of the loaded models, as `/v1/models` lists them.
pub const MODEL_NAMES: [&str; 3] = [
    "ch_PP-OCRv4_det",
    "ch_ppocr_mobile_v2.0_cls",
    "ch_PP-OCRv4_rec",
];

/// The whole model set's name, as responses report it.
pub const MODEL_ID: &str = "pp-ocrv4";

/// Which device the CPU build runs on, chosen by configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// Burn's Flex backend (pure Rust, CPU).
    Cpu,
    /// CUDA; only in builds with the `cuda` feature, and only with a GPU present.
    Cuda,
}

impl std::str::FromStr for DeviceKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda),
            other => Err(format!("unknown OCR device `{other}`; use `cpu` or `cuda`")),
        }
    }
}

/// Starts an engine on `device` with the default pipeline.
pub fn start(device: DeviceKind, config: EngineConfig) -> Result<Engine, RunnerError> {
    let factory: engine::RunnerFactory = match device {
        DeviceKind::Cpu => {
            Box::new(|| Ok(Box::new(burn_runner::BurnRunner::cpu()) as Box<dyn ModelRunner>))
        }
        DeviceKind::Cuda => cuda_factory()?,
    };
    let pipeline = Pipeline::new(
        PipelineConfig::default(),
        Charset::from_dictionary(REC_KEYS),
    );
    Engine::start(
        config,
        pipeline,
        MODEL_NAMES.iter().map(|s| (*s).to_owned()).collect(),
        factory,
    )
}

#[cfg(not(feature = "cuda"))]
fn cuda_factory() -> Result<engine::RunnerFactory, RunnerError> {
    Err(RunnerError(
        "this build has no CUDA support; rebuild with `--features cuda` or set TOLLGATE_OCR_DEVICE=cpu".into(),
    ))
}

#[cfg(feature = "cuda")]
fn cuda_factory() -> Result<engine::RunnerFactory, RunnerError> {
    Ok(Box::new(|| {
        cuda_runner::CudaRunner::load(0).map(|r| Box::new(r) as Box<dyn ModelRunner>)
    }))
}
