//! The three PP-OCR models on an NVIDIA GPU through Burn 0.21's CUDA backend. The interface
//! is plain buffers (data and shape), so `tollgate-ocr` wraps it as a model runner without
//! either crate seeing the other's Burn version.
//!
//! Built in CI (`cargo build -p tollgate-ocr --features cuda`) to prove it compiles; it cannot run
//! here (no GPU). On a GPU machine it needs the NVIDIA driver and NVRTC at run time.

mod fix;

/// Generated model code (burn-onnx 0.21): not ours to lint.
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

use burn::backend::cuda::CudaDevice;
use burn::backend::Cuda;
use burn::tensor::{Tensor, TensorData};

type B = Cuda;

/// A flat `f32` buffer and its shape.
pub type Buffer = (Vec<f32>, Vec<usize>);

/// The models on one GPU.
pub struct CudaModels {
    det: generated::det::Model<B>,
    cls: generated::cls::Model<B>,
    rec: generated::rec::Model<B>,
    device: CudaDevice,
}

impl std::fmt::Debug for CudaModels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CudaModels")
            .field("device", &self.device)
            .finish_non_exhaustive()
    }
}

impl CudaModels {
    /// Loads the embedded weights onto GPU `index`. Fails (instead of panicking) when no CUDA
    /// driver or device is there.
    pub fn load(index: usize) -> Result<Self, String> {
        std::panic::catch_unwind(|| {
            let device = CudaDevice::new(index);
            Self {
                det: generated::det::Model::from_embedded(&device),
                cls: generated::cls::Model::from_embedded(&device),
                rec: generated::rec::Model::from_embedded(&device),
                device,
            }
        })
        .map_err(|_| format!("cannot use CUDA device {index}: no NVIDIA driver or GPU, or it failed to initialise"))
    }

    /// Detection: `[1, 3, H, W]` → `[1, 1, H, W]`.
    pub fn detect(&self, data: &[f32], shape: &[usize]) -> Result<Buffer, String> {
        read(self.det.forward(tensor::<4>(data, shape, &self.device)?))
    }

    /// Angle classification: `[N, 3, 48, 192]` → `[N, 2]`.
    pub fn classify(&self, data: &[f32], shape: &[usize]) -> Result<Buffer, String> {
        read(self.cls.forward(tensor::<4>(data, shape, &self.device)?))
    }

    /// Recognition: `[N, 3, 48, W]` → `[N, T, C]`.
    pub fn recognize(&self, data: &[f32], shape: &[usize]) -> Result<Buffer, String> {
        read(self.rec.forward(tensor::<4>(data, shape, &self.device)?))
    }

    /// The device, for logs and `/v1/models`.
    pub fn device(&self) -> String {
        format!("cuda:{} (burn 0.21)", self.device.index)
    }
}

fn tensor<const D: usize>(
    data: &[f32],
    shape: &[usize],
    device: &CudaDevice,
) -> Result<Tensor<B, D>, String> {
    if shape.len() != D || shape.iter().product::<usize>() != data.len() {
        return Err(format!(
            "input of shape {shape:?} with {} values",
            data.len()
        ));
    }
    Ok(Tensor::from_data(
        TensorData::new(data.to_vec(), shape.to_vec()),
        device,
    ))
}

fn read<const D: usize>(t: Tensor<B, D>) -> Result<Buffer, String> {
    let shape = t.dims().to_vec();
    let data = t
        .try_into_data()
        .map_err(|e| format!("reading the output: {e:?}"))?
        .into_vec::<f32>()
        .map_err(|e| format!("output is not f32: {e:?}"))?;
    Ok((data, shape))
}
