//! The CPU model runner: a PP-OCR model set of `tollgate-ocr-models` on Burn's Flex backend.

use crate::runner::{ModelRunner, RunnerError};
use crate::tensor::Tensor;
use tollgate_ocr_models::burn::tensor::{Device, TensorData};
use tollgate_ocr_models::burn::Tensor as BurnTensor;
use tollgate_ocr_models::{PpOcr, Version};

/// One model set on one Burn device.
pub struct BurnRunner {
    models: PpOcr,
    device: Device,
}

impl BurnRunner {
    /// Loads `version`'s embedded weights onto the Flex (CPU) device.
    pub fn cpu(version: Version) -> Self {
        let device = Device::flex();
        Self {
            models: PpOcr::load(version, &device),
            device,
        }
    }
}

fn to_burn<const D: usize>(t: &Tensor, device: &Device) -> Result<BurnTensor<D>, RunnerError> {
    if t.shape.len() != D {
        return Err(RunnerError(format!(
            "expected a rank-{D} input, got shape {:?}",
            t.shape
        )));
    }
    let data = TensorData::new(t.data.clone(), t.shape.clone());
    Ok(BurnTensor::<D>::from_data(data, device))
}

fn from_burn<const D: usize>(t: BurnTensor<D>) -> Result<Tensor, RunnerError> {
    let shape = t.dims().to_vec();
    let data = t
        .try_into_data()
        .map_err(|e| RunnerError(format!("reading the output: {e:?}")))?
        .try_into_vec::<f32>()
        .map_err(|e| RunnerError(format!("output is not f32: {e:?}")))?;
    Ok(Tensor::new(data, shape))
}

impl ModelRunner for BurnRunner {
    fn detect(&mut self, page: &Tensor) -> Result<Tensor, RunnerError> {
        from_burn(self.models.det.forward(to_burn::<4>(page, &self.device)?))
    }

    fn classify(&mut self, crops: &Tensor) -> Result<Tensor, RunnerError> {
        from_burn(self.models.cls.forward(to_burn::<4>(crops, &self.device)?))
    }

    fn recognize(&mut self, crops: &Tensor) -> Result<Tensor, RunnerError> {
        from_burn(self.models.rec.forward(to_burn::<4>(crops, &self.device)?))
    }

    fn device(&self) -> String {
        "cpu (burn-flex)".to_owned()
    }
}
