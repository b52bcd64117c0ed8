//! The GPU model runner (`cuda` feature): `tollgate-ocr-cuda`'s models behind [`ModelRunner`].

use crate::runner::{ModelRunner, RunnerError};
use crate::tensor::Tensor;
use tollgate_ocr_cuda::CudaModels;

/// The models on one CUDA device.
pub struct CudaRunner(CudaModels);

impl CudaRunner {
    /// Loads the models onto GPU `index`; a clear error when there is no GPU.
    pub fn load(index: usize) -> Result<Self, RunnerError> {
        CudaModels::load(index).map(Self).map_err(RunnerError)
    }
}

fn wrap(out: Result<tollgate_ocr_cuda::Buffer, String>) -> Result<Tensor, RunnerError> {
    out.map(|(data, shape)| Tensor::new(data, shape))
        .map_err(RunnerError)
}

impl ModelRunner for CudaRunner {
    fn detect(&mut self, page: &Tensor) -> Result<Tensor, RunnerError> {
        wrap(self.0.detect(&page.data, &page.shape))
    }

    fn classify(&mut self, crops: &Tensor) -> Result<Tensor, RunnerError> {
        wrap(self.0.classify(&crops.data, &crops.shape))
    }

    fn recognize(&mut self, crops: &Tensor) -> Result<Tensor, RunnerError> {
        wrap(self.0.recognize(&crops.data, &crops.shape))
    }

    fn device(&self) -> String {
        self.0.device()
    }
}
