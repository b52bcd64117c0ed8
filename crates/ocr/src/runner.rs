//! The one seam between the pipeline and a deep-learning framework: three forward passes
//! over plain [`Tensor`]s. The CPU runner (Burn's Flex backend) lives in [`crate::burn_runner`];
//! a GPU runner can live in another crate, pinned to another Burn version, and plug in here.

use crate::tensor::Tensor;

/// A failure inside a model runner (shape mismatch, device error). Never a caller's fault.
#[derive(Debug, Clone, thiserror::Error)]
#[error("model runner: {0}")]
pub struct RunnerError(pub String);

/// Runs one model set's three PP-OCR models on one device; the engine owns one runner per set
/// on a single worker thread, so it needs to be `Send` but not `Sync`.
pub trait ModelRunner: Send {
    /// Detection: `[1, 3, H, W]` page → `[1, 1, H, W]` text probability map.
    fn detect(&mut self, page: &Tensor) -> Result<Tensor, RunnerError>;
    /// Angle classification: `[N, 3, 48, 192]` crops → `[N, 2]` probabilities (0°, 180°).
    fn classify(&mut self, crops: &Tensor) -> Result<Tensor, RunnerError>;
    /// Recognition: `[N, 3, 48, W]` crops → `[N, T, C]` class probabilities per time step.
    fn recognize(&mut self, crops: &Tensor) -> Result<Tensor, RunnerError>;
    /// The device, for `/v1/models` and logs (e.g. `cpu (burn-flex)`).
    fn device(&self) -> String;
}
