//! Kernels for what Burn's CPU backend does slowly on these models, called from the generated
//! source as `build.rs` rewrites it (see `fuse_src.rs`): element-wise chains fused into one
//! pass, depthwise and one-group convolutions, batch norm, global average pooling, the
//! sigmoid, 2×2 transposed convolutions, and the softmax over the last dimension. Each takes
//! what Burn's layer takes and falls back to Burn's for any shape or type it does not handle.

use burn::module::Param;
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::nn::pool::AdaptiveAvgPool2d;
use burn::nn::{BatchNorm, PaddingConfig2d};
use burn::tensor::{Tensor, TensorData};
use rayon::prelude::*;

/// A one-element constant of the model.
type Const = Param<Tensor<1>>;

/// `h = k5 * ((b * clamp(b + k3, lo, hi)) / k4) + k6` with `b = k1 * x + k2`, the affine
/// parts optional: PP-LCNetV3's hard-swish between two learnable affines. The same `f32`
/// operations in the same order as the unfused graph, so the result is bit for bit the same;
/// one pass over `x`'s buffer, in place when `x` owns it.
pub fn hard_swish<const D: usize>(
    x: Tensor<D>,
    pre: Option<(&Const, &Const)>,
    add: &Const,
    lo: f64,
    hi: f64,
    div: &Const,
    post: Option<(&Const, &Const)>,
) -> Tensor<D> {
    let (lo32, hi32) = (lo as f32, hi as f32);
    let pair = |p: Option<(&Const, &Const)>| match p {
        None => Some(None),
        Some((a, b)) => Some(Some((scalar(a)?, scalar(b)?))),
    };
    let (Some(k12), Some(k3), Some(k4), Some(k56)) =
        (pair(pre), scalar(add), scalar(div), pair(post))
    else {
        return reference(x, pre, add, lo, hi, div, post);
    };
    // `f32::clamp` panics on these; the reference path gives Burn's answer.
    if lo32.is_nan() || hi32.is_nan() || lo32 > hi32 {
        return reference(x, pre, add, lo, hi, div, post);
    }
    let device = x.device();
    let mut data = x.into_data();
    let Ok(values) = data.as_mut_slice::<f32>() else {
        let x = Tensor::from_data(data, &device);
        return reference(x, pre, add, lo, hi, div, post);
    };
    pulp::Arch::new().dispatch(Swish {
        values,
        k12,
        k3,
        lo: lo32,
        hi: hi32,
        k4,
        k56,
    });
    Tensor::from_data(data, &device)
}

/// The hard-swish pass, run by `pulp` with the CPU's best instruction set (see [`Plane`]).
struct Swish<'a> {
    values: &'a mut [f32],
    k12: Option<(f32, f32)>,
    k3: f32,
    lo: f32,
    hi: f32,
    k4: f32,
    k56: Option<(f32, f32)>,
}

impl pulp::WithSimd for Swish<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let Self {
            values,
            k12,
            k3,
            lo,
            hi,
            k4,
            k56,
        } = self;
        // The variants apart, so that each loop has no branch but the clamp's selects.
        match (k12, k56) {
            (Some((k1, k2)), Some((k5, k6))) => {
                swish(values, |b| k1 * b + k2, lo, hi, k3, k4, |h| k5 * h + k6)
            }
            (Some((k1, k2)), None) => swish(values, |b| k1 * b + k2, lo, hi, k3, k4, |h| h),
            (None, Some((k5, k6))) => swish(values, |b| b, lo, hi, k3, k4, |h| k5 * h + k6),
            (None, None) => swish(values, |b| b, lo, hi, k3, k4, |h| h),
        }
    }
}

/// One pass: `post(b * clamp(b + k3) / k4)` with `b = pre(x)`. `f32::clamp`'s result,
/// written as selects (NaN stays NaN) so that the loop vectorises.
#[inline(always)]
fn swish(
    values: &mut [f32],
    pre: impl Fn(f32) -> f32,
    lo: f32,
    hi: f32,
    k3: f32,
    k4: f32,
    post: impl Fn(f32) -> f32,
) {
    for v in values.iter_mut() {
        let b = pre(*v);
        let c = b + k3;
        let d = if c < lo {
            lo
        } else if c > hi {
            hi
        } else {
            c
        };
        *v = post((b * d) / k4);
    }
}

/// The constant's value, if it is one `f32`.
fn scalar(p: &Const) -> Option<f32> {
    let data: TensorData = p.val().into_data();
    if data.num_elements() != 1 {
        return None;
    }
    data.as_slice::<f32>().ok().and_then(|s| s.first().copied())
}

/// The chain as the generated code wrote it, with Burn's operations.
fn reference<const D: usize>(
    x: Tensor<D>,
    pre: Option<(&Const, &Const)>,
    add: &Const,
    lo: f64,
    hi: f64,
    div: &Const,
    post: Option<(&Const, &Const)>,
) -> Tensor<D> {
    let k = |p: &Const| p.val().reshape([1; D]);
    let mut b = x;
    if let Some((k1, k2)) = pre {
        b = k(k1).mul(b).add(k(k2));
    }
    let d = b.clone().add(k(add)).clamp(lo, hi);
    let mut h = b.mul(d).div(k(div));
    if let Some((k5, k6)) = post {
        h = k(k5).mul(h).add(k(k6));
    }
    h
}

/// `burn::tensor::activation::softmax(x, dim)` over the last dimension (the recogniser's
/// 40 × 6625 class scores, the classifier's two): per row, the maximum, `exp(v - max)` and
/// their sum, then each divided by the sum, as Burn computes it, in one vectorised pass per
/// step instead of four tensor operations with a scalar `expf`. [`exp`] is within 2ε relative of
/// `f32::exp`, so the probabilities differ from Burn's in their last bits (the evaluation's
/// text is unchanged, `eval/README.md`). Any other dimension is Burn's.
pub fn softmax<const D: usize>(x: Tensor<D>, dim: usize) -> Tensor<D> {
    let n = x.dims()[D - 1];
    if dim + 1 != D || n == 0 {
        return burn::tensor::activation::softmax(x, dim);
    }
    let device = x.device();
    let mut data = x.into_data();
    let Ok(values) = data.as_mut_slice::<f32>() else {
        return burn::tensor::activation::softmax(Tensor::from_data(data, &device), dim);
    };
    pulp::Arch::new().dispatch(Softmax { values, n });
    Tensor::from_data(data, &device)
}

/// The softmax of each `n` values of `values`, in place.
struct Softmax<'a> {
    values: &'a mut [f32],
    n: usize,
}

impl pulp::WithSimd for Softmax<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        for row in self.values.chunks_exact_mut(self.n) {
            // Sixteen running maxima and sums, so that the loops vectorise (a NaN is skipped
            // by the maximum and spreads through the sum, as in Burn's).
            let mut max = [f32::NEG_INFINITY; L];
            let mut chunks = row.chunks_exact(L);
            for c in &mut chunks {
                for (m, &v) in max.iter_mut().zip(c) {
                    *m = if v > *m { v } else { *m };
                }
            }
            let tail = chunks.remainder().iter();
            let max = tail.chain(&max).fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            let mut sum = [0.0f32; L];
            let mut chunks = row.chunks_exact_mut(L);
            for c in &mut chunks {
                for (s, v) in sum.iter_mut().zip(c) {
                    *v = exp(*v - max);
                    *s += *v;
                }
            }
            let mut total: f32 = sum.iter().sum();
            for v in chunks.into_remainder() {
                *v = exp(*v - max);
                total += *v;
            }
            for v in row.iter_mut() {
                *v /= total;
            }
        }
    }
}

/// `e^x` for `f32`, written so that a loop of it vectorises: `x = k ln 2 + r` with `k` an
/// integer and `|r| <= ln 2 / 2`, `e^r` by its Taylor series to `r^7` (truncation below
/// `1e-8` relative there), times `2^k` built in the exponent bits. `x` is clamped to
/// `[-87, 88]`, where `2^k` stays a normal number: below, the result is `e^-87` (about
/// `1.6e-38`, against a sum of at least 1 in a softmax) rather than a subnormal or zero.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    // ln 2 split so that `k * LN2_HI` is exact for every `k` used here.
    const LN2_HI: f32 = f32::from_bits(0x3f31_7200);
    const LN2_LO: f32 = 1.428_606_8e-6;
    let x = x.clamp(-87.0, 88.0);
    let k = (x * std::f32::consts::LOG2_E + 0.5).floor();
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let mut p = 1.0 / 5040.0;
    for c in [
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p * r + c;
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "k is an integer in [-126, 127], so k + 127 is a valid biased exponent"
    )]
    let scale = f32::from_bits(((k as i32 + 127) as u32) << 23);
    p * scale
}

/// `conv.forward(x)`, with depthwise convolutions (one filter per channel, PP-LCNetV3's
/// 3×3 and 5×5) computed here and everything else by Burn.
///
/// Burn's depthwise path walks each output row once per filter tap with the padding cut out
/// of the row, so on these planes (80 or 160 wide, 3 to 24 high) much of it runs in scalar
/// remainder loops. Here each channel is copied once into a zero-padded plane (split into
/// one plane per column phase when the column stride is above 1, so that every tap reads
/// contiguous columns), and blocks of 3 rows × 2 vectors of outputs are accumulated in
/// registers over all taps. The products are Burn's, added in Burn's order (taps row by row,
/// from zero, bias last), but each multiply-add is fused (rounded once, where Burn rounds
/// the product and the sum), so the outputs differ from Burn's in their last bits; the
/// evaluation's text is unchanged (`eval/README.md`).
///
/// A convolution with one group and a filter larger than 1×1, or a stride, goes through
/// [`Dense`]: im2col of a few output rows at a time (a block that stays in cache) and one
/// matrix product per block. Burn's path for these either converts the whole input to
/// channels-last and builds an im2col of the whole output (hundreds of MB for the detector's
/// 3×3 convolutions over 96 channels at a quarter of the page), or, for three input channels
/// (the stem), runs a direct loop that does not vectorise across a stride of 2. Pointwise
/// convolutions stay Burn's: they are one matrix product there already.
pub fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    if let Some(dw) = Depthwise::of(conv, &x) {
        return dw.run(conv, x, |plane| pulp::Arch::new().dispatch(plane));
    }
    match Dense::of(conv, &x) {
        Some(dense) => dense.run(conv, x),
        None => conv.forward(x),
    }
}

/// A tensor's values as `f32`, or `None` for another element type.
fn floats<const D: usize>(t: Tensor<D>) -> Option<Vec<f32>> {
    t.into_data().try_into_vec::<f32>().ok()
}

/// `bn.forward(x)` at inference, `x` of shape `[n, c, …]`: per channel
/// `x · (γ / √(var + ε)) + (β − mean · γ / √(var + ε))`, one fused multiply-add per value, in
/// place. Burn's computes the same affine as four broadcast operations (a pass each); the
/// results differ in their last bits. On a device that records gradients, Burn's.
pub fn batch_norm<const D: usize>(bn: &BatchNorm, x: Tensor<D>) -> Tensor<D> {
    let device = x.device();
    let dims = x.dims();
    let [channels] = bn.gamma.dims();
    if D < 2 || dims[1] != channels || device.is_autodiff() {
        return bn.forward(x);
    }
    let (Some(gamma), Some(beta), Some(mean), Some(var)) = (
        floats(bn.gamma.val()),
        floats(bn.beta.val()),
        floats(bn.running_mean.value()),
        floats(bn.running_var.value()),
    ) else {
        return bn.forward(x);
    };
    #[expect(
        clippy::cast_possible_truncation,
        reason = "the model's epsilon (1e-5) is an f32 value"
    )]
    let eps = bn.epsilon as f32;
    let mut data = x.into_data();
    let Ok(values) = data.as_mut_slice::<f32>() else {
        return bn.forward(Tensor::from_data(data, &device));
    };
    let scale: Vec<f32> = (0..channels)
        .map(|c| gamma[c] / (var[c] + eps).sqrt())
        .collect();
    let shift: Vec<f32> = (0..channels)
        .map(|c| beta[c] - mean[c] * scale[c])
        .collect();
    let plane: usize = dims[2..].iter().product();
    pulp::Arch::new().dispatch(Affine {
        values,
        plane: plane.max(1),
        scale: &scale,
        shift: &shift,
    });
    Tensor::from_data(data, &device)
}

/// `v · scale[c] + shift[c]` (fused) for every value `v` of channel `c`, in place: planes of
/// `plane` values, channel by channel, batch after batch.
struct Affine<'a> {
    values: &'a mut [f32],
    plane: usize,
    scale: &'a [f32],
    shift: &'a [f32],
}

impl pulp::WithSimd for Affine<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let channels = self.scale.len();
        for (i, chunk) in self.values.chunks_exact_mut(self.plane).enumerate() {
            let (scale, shift) = (self.scale[i % channels], self.shift[i % channels]);
            for v in chunk {
                *v = v.mul_add(scale, shift);
            }
        }
    }
}

/// `pool.forward(x)`: for a `[1, 1]` output (a global average, as in every squeeze-excite
/// block), Burn's mean over each plane viewed as one row, which reads the input where it is
/// (the squeeze-excite block keeps using it) in one vectorised pass; Burn's adaptive pool
/// walks each output cell's window. Any other output size is Burn's pool.
pub fn adaptive_avg_pool2d(pool: &AdaptiveAvgPool2d, x: Tensor<4>) -> Tensor<4> {
    let [n, c, h, w] = x.dims();
    if pool.output_size != [1, 1] || h * w == 0 {
        return pool.forward(x);
    }
    x.reshape([n, c, h * w]).mean_dim(2).reshape([n, c, 1, 1])
}

/// `burn::tensor::activation::sigmoid(x)`: `1 / (1 + e^−x)` with [`exp`], one vectorised
/// pass in place (Burn's CPU backend calls the scalar `expf` behind a branch per value).
/// [`exp`] clamps its argument, so `e^−x` is never infinite or zero: the result stays in
/// `(0, 1]`, and below `x = −88` it is about `6e-39` rather than smaller.
pub fn sigmoid<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let device = x.device();
    let mut data = x.into_data();
    let Ok(values) = data.as_mut_slice::<f32>() else {
        return burn::tensor::activation::sigmoid(Tensor::from_data(data, &device));
    };
    pulp::Arch::new().dispatch(Sigmoid { values });
    Tensor::from_data(data, &device)
}

/// The sigmoid of each value, in place.
struct Sigmoid<'a> {
    values: &'a mut [f32],
}

impl pulp::WithSimd for Sigmoid<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        for v in self.values.iter_mut() {
            *v = 1.0 / (1.0 + exp(-*v));
        }
    }
}

/// `conv.forward(x)` for a transposed convolution whose filter is as large as its stride, with
/// no padding, dilation or groups (the detector's two upsampling layers, 2×2 with stride 2):
/// every output pixel then comes from exactly one input pixel, so the layer is one matrix
/// product `[c_out·k_h·k_w, c_in] · [c_in, h·w]` whose rows are scattered into the output.
/// Anything else is Burn's, and so is a layer with fewer than 8 output channels: its product
/// has too few rows for the matrix kernel (the detector's last layer, one channel: 20 ms this
/// way against Burn's 7 ms; its 24-channel one: 19 ms against 25).
pub fn conv_transpose2d(conv: &ConvTranspose2d, x: Tensor<4>) -> Tensor<4> {
    let [n, c_in, h, w] = x.dims();
    let [w_in, c_out, k_h, k_w] = conv.weight.dims();
    let simple = conv.kernel_size == conv.stride
        && conv.stride == [k_h, k_w]
        && conv.padding == [0, 0]
        && conv.padding_out == [0, 0]
        && conv.dilation == [1, 1]
        && conv.groups == 1
        && w_in == c_in
        && c_out >= 8;
    if !simple || [n, c_in, h, w, c_out, k_h, k_w].contains(&0) {
        return conv.forward(x);
    }
    let device = x.device();
    let taps = k_h * k_w;
    let filters = conv.weight.val().reshape([c_in, c_out * taps]).transpose();
    let bias = match &conv.bias {
        Some(b) => match floats(b.val()) {
            Some(v) => Some(v),
            None => return conv.forward(x),
        },
        None => None,
    };
    let data = x.into_data();
    let out = match data.as_slice::<f32>() {
        Ok(input) => TransposeGeometry {
            n,
            c_in,
            h,
            w,
            c_out,
            k_h,
            k_w,
        }
        .run(input, &filters, bias.as_deref(), &device),
        Err(_) => None,
    };
    match out {
        Some(out) => Tensor::from_data(TensorData::new(out, [n, c_out, h * k_h, w * k_w]), &device),
        None => conv.forward(Tensor::from_data(data, &device)),
    }
}

/// The shapes of a transposed convolution [`conv_transpose2d`] computes.
struct TransposeGeometry {
    n: usize,
    c_in: usize,
    h: usize,
    w: usize,
    c_out: usize,
    k_h: usize,
    k_w: usize,
}

impl TransposeGeometry {
    /// The output's values, or `None` if a product is not `f32`.
    fn run(
        &self,
        input: &[f32],
        filters: &Tensor<2>,
        bias: Option<&[f32]>,
        device: &burn::tensor::Device,
    ) -> Option<Vec<f32>> {
        let Self {
            n,
            c_in,
            h,
            w,
            c_out,
            k_h,
            k_w,
        } = *self;
        let taps = k_h * k_w;
        let (plane, out_w) = (h * w, w * k_w);
        // Input rows per block: the block's input and its product at most 256 KiB and 1 MiB,
        // so that both are built, multiplied and scattered while in cache.
        let rows = (4 * BLOCK / (c_out * taps * w))
            .min(BLOCK / (c_in * w))
            .clamp(1, h);
        let mut out = vec![0.0f32; n * c_out * plane * taps];
        for (b, image) in out.chunks_exact_mut(c_out * plane * taps).enumerate() {
            let channels = &input[b * c_in * plane..(b + 1) * c_in * plane];
            for r0 in (0..h).step_by(rows) {
                let r1 = (r0 + rows).min(h);
                let cols = (r1 - r0) * w;
                let mut block = Vec::with_capacity(c_in * cols);
                for channel in channels.chunks_exact(plane) {
                    block.extend_from_slice(&channel[r0 * w..r1 * w]);
                }
                let block = Tensor::<2>::from_data(TensorData::new(block, [c_in, cols]), device);
                let product = floats(filters.clone().matmul(block))?;
                // Row `(co, i, j)` of the product is output channel `co`'s pixels
                // `(y·k_h + i, x·k_w + j)` for the block's input pixels `(y, x)`.
                for (co, dst) in image.chunks_exact_mut(plane * taps).enumerate() {
                    let bias = bias.map_or(0.0, |v| v[co]);
                    let dst = &mut dst[r0 * k_h * out_w..r1 * k_h * out_w];
                    for (y, rows) in dst.chunks_exact_mut(out_w * k_h).enumerate() {
                        for (i, row) in rows.chunks_exact_mut(out_w).enumerate() {
                            let src = |j: usize| {
                                &product[((co * k_h + i) * k_w + j) * cols + y * w..][..w]
                            };
                            if k_w == 2 {
                                // The detector's case, written so that it vectorises.
                                let (a, b) = (src(0), src(1));
                                for ((d, &a), &b) in row.chunks_exact_mut(2).zip(a).zip(b) {
                                    d[0] = a + bias;
                                    d[1] = b + bias;
                                }
                                continue;
                            }
                            for j in 0..k_w {
                                for (d, &v) in row[j..].iter_mut().step_by(k_w).zip(src(j)) {
                                    *d = v + bias;
                                }
                            }
                        }
                    }
                }
            }
        }
        Some(out)
    }
}

/// Values of the im2col matrix a block of output rows aims at: 64 Ki `f32` (256 KiB, or one
/// output row's matrix when that is larger: 864 KiB for the detector's 3×3 convolutions over
/// 96 channels), so that a block is built, multiplied and copied out while it is in the
/// core's cache.
const BLOCK: usize = 64 * 1024;

/// The shapes of one convolution: input, filter, stride, the padding before the input (the
/// padding after it only sizes the output), the padded input and the output.
#[derive(Debug, Clone, Copy)]
struct Shape {
    batch: usize,
    c_in: usize,
    in_h: usize,
    in_w: usize,
    c_out: usize,
    /// Input channels each filter sees (`c_in / groups`).
    per_group: usize,
    k_h: usize,
    k_w: usize,
    stride_h: usize,
    stride_w: usize,
    top: usize,
    left: usize,
    pad_h: usize,
    pad_w: usize,
    out_h: usize,
    out_w: usize,
}

impl Shape {
    /// `None` for what the kernels here do not take: `Same` padding, dilation, a zero stride
    /// or dimension, a filter larger than the padded input.
    fn of(conv: &Conv2d, x: &Tensor<4>) -> Option<Self> {
        let [batch, c_in, in_h, in_w] = x.dims();
        let [c_out, per_group, k_h, k_w] = conv.weight.dims();
        let (top, left, bottom, right) = match conv.padding {
            PaddingConfig2d::Explicit(t, l, b, r) => (t, l, b, r),
            PaddingConfig2d::Valid => (0, 0, 0, 0),
            PaddingConfig2d::Same => return None,
        };
        let [stride_h, stride_w] = conv.stride;
        let (pad_h, pad_w) = (in_h + top + bottom, in_w + left + right);
        let empty = [batch, c_in, in_h, in_w, c_out, k_h, k_w].contains(&0);
        let strided = stride_h >= 1 && stride_w >= 1;
        if conv.dilation != [1, 1] || !strided || empty || pad_h < k_h || pad_w < k_w {
            return None;
        }
        Some(Self {
            batch,
            c_in,
            in_h,
            in_w,
            c_out,
            per_group,
            k_h,
            k_w,
            stride_h,
            stride_w,
            top,
            left,
            pad_h,
            pad_w,
            out_h: (pad_h - k_h) / stride_h + 1,
            out_w: (pad_w - k_w) / stride_w + 1,
        })
    }
}

/// A one-group convolution that is not a plain pointwise product.
#[derive(Debug, Clone, Copy)]
struct Dense {
    s: Shape,
}

impl Dense {
    fn of(conv: &Conv2d, x: &Tensor<4>) -> Option<Self> {
        let s = Shape::of(conv, x)?;
        let pointwise = s.k_h == 1
            && s.k_w == 1
            && conv.stride == [1, 1]
            && s.pad_h == s.in_h
            && s.pad_w == s.in_w;
        (conv.groups == 1 && s.per_group == s.c_in && !pointwise).then_some(Self { s })
    }

    /// The convolution: per image, blocks of output rows, each one im2col matrix
    /// `[c_in·k_h·k_w, rows·out_w]` multiplied by the filters `[c_out, c_in·k_h·k_w]`
    /// (Burn's matrix product), then copied into the output with the bias added.
    fn run(self, conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
        let device = x.device();
        let k = self.s.c_in * self.s.k_h * self.s.k_w;
        let input = x.into_data();
        let bias = conv.bias.as_ref().map(|b| b.val().into_data());
        let Ok(input_values) = input.as_slice::<f32>() else {
            return conv.forward(Tensor::from_data(input, &device));
        };
        let biases = match &bias {
            Some(b) => match b.as_slice::<f32>() {
                Ok(v) => Some(v),
                Err(_) => return conv.forward(Tensor::from_data(input, &device)),
            },
            None => None,
        };
        // `[c_out, k]`. (The product's output is row-major, so gemm computes it transposed,
        // tiling the long side, the output positions, by its 64-row kernel; writing the
        // transpose here instead measured slower: 83 against 74 ms on the detector's neck.)
        let filters = conv.weight.val().reshape([self.s.c_out, k]);
        let rows = (BLOCK / (k * self.s.out_w).max(1)).clamp(1, self.s.out_h);
        let (plane_in, plane_out) = (self.s.in_h * self.s.in_w, self.s.out_h * self.s.out_w);
        let blocks: Vec<(usize, usize)> = (0..self.s.batch)
            .flat_map(|b| (0..self.s.out_h).step_by(rows).map(move |r0| (b, r0)))
            .collect();
        let mut out = vec![0.0f32; self.s.batch * self.s.c_out * plane_out];
        // Blocks in waves of two per thread, each wave's products copied out before the next
        // is computed: the products held at once stay a few blocks, not a second output.
        for wave in blocks.chunks(2 * rayon::current_num_threads().max(1)) {
            let products: Vec<Option<Vec<f32>>> = wave
                .par_iter()
                .map(|&(b, r0)| {
                    let r1 = (r0 + rows).min(self.s.out_h);
                    let cols = (r1 - r0) * self.s.out_w;
                    let image =
                        &input_values[b * self.s.c_in * plane_in..(b + 1) * self.s.c_in * plane_in];
                    let mut col = vec![0.0f32; k * cols];
                    self.im2col(image, r0, r1, &mut col);
                    let col = Tensor::<2>::from_data(TensorData::new(col, [k, cols]), &device);
                    floats(filters.clone().matmul(col))
                })
                .collect();
            for (&(b, r0), product) in wave.iter().zip(products) {
                let Some(product) = product else {
                    return conv.forward(Tensor::from_data(input, &device));
                };
                // `product` is `[c_out, cols]`: each output channel's values of rows `r0..`.
                let cols = product.len() / self.s.c_out;
                for c in 0..self.s.c_out {
                    let at = (b * self.s.c_out + c) * plane_out + r0 * self.s.out_w;
                    let dst = &mut out[at..at + cols];
                    let values = product[c * cols..(c + 1) * cols].iter();
                    let bias = biases.map_or(0.0, |bias| bias[c]);
                    for (d, &v) in dst.iter_mut().zip(values) {
                        *d = v + bias;
                    }
                }
            }
        }
        Tensor::from_data(
            TensorData::new(
                out,
                [self.s.batch, self.s.c_out, self.s.out_h, self.s.out_w],
            ),
            &device,
        )
    }

    /// The im2col matrix of output rows `r0..r1` of one image: row `(ci, i, j)` holds, for
    /// each output position, the input the filter's tap `(i, j)` of channel `ci` sees there
    /// (zero in the padding). Each input row a filter row reads is first laid out padded and
    /// split by column phase (`phase_row`), so that every tap copies a contiguous run.
    fn im2col(&self, image: &[f32], r0: usize, r1: usize, col: &mut [f32]) {
        let cols = (r1 - r0) * self.s.out_w;
        let plane = self.s.in_h * self.s.in_w;
        let s = self.s.stride_w;
        // Phase `ph` holds padded columns `ph, ph + s, ph + 2s, …`; tap `j` reads
        // `out_w` of them from `j / s` in phase `j % s`.
        let phase_len = self.s.out_w + (self.s.k_w - 1) / s;
        let mut phases = vec![0.0f32; s * phase_len];
        for ci in 0..self.s.c_in {
            let channel = &image[ci * plane..(ci + 1) * plane];
            for i in 0..self.s.k_h {
                let first_row = (ci * self.s.k_h + i) * self.s.k_w;
                for r in r0..r1 {
                    let y = (r * self.s.stride_h + i).checked_sub(self.s.top);
                    let line = y.and_then(|y| channel.get(y * self.s.in_w..(y + 1) * self.s.in_w));
                    self.phase_row(line, &mut phases, phase_len);
                    let at = (r - r0) * self.s.out_w;
                    for j in 0..self.s.k_w {
                        let src = (j % s) * phase_len + j / s;
                        col[(first_row + j) * cols + at..][..self.s.out_w]
                            .copy_from_slice(&phases[src..src + self.s.out_w]);
                    }
                }
            }
        }
    }

    /// One input row (`None`: a row of padding) laid out padded, split into `stride_w`
    /// phases of `phase_len`: padded column `c` at `c / stride_w` of phase `c % stride_w`.
    /// Every input row writes the same positions, so only a row of padding clears them.
    fn phase_row(&self, line: Option<&[f32]>, phases: &mut [f32], phase_len: usize) {
        match line {
            Some(line) => split_row(
                line,
                self.s.left,
                self.s.stride_w,
                phases,
                phase_len,
                phase_len,
            ),
            None => phases.fill(0.0),
        }
    }
}

/// Puts `line`, as the columns `left..` of a padded row, into the `s` phase rows of `dst`:
/// padded column `c` at `c / s` of phase `c % s`, phase `p`'s row at `p · phase_stride`,
/// `len` long (columns past it are dropped). Writes nothing else: the padding around the
/// line is whatever `dst` held. A stride of 2 (every strided layer of these models) is
/// split in pairs, which vectorises; a wider one column by column.
fn split_row(
    line: &[f32],
    left: usize,
    s: usize,
    dst: &mut [f32],
    phase_stride: usize,
    len: usize,
) {
    if s == 1 {
        let at = left.min(len);
        let n = line.len().min(len - at);
        dst[at..at + n].copy_from_slice(&line[..n]);
        return;
    }
    if s == 2 {
        let (even, odd) = dst.split_at_mut(phase_stride);
        let (even, odd) = (&mut even[..len], &mut odd[..len]);
        // With `left` odd, the line's first value starts the odd phase alone.
        let skip = left % 2;
        if skip == 1 {
            if let (Some(d), Some(&v)) = (odd.get_mut(left / 2), line.first()) {
                *d = v;
            }
        }
        let base = ((left + skip) / 2).min(len);
        let rest = line.get(skip..).unwrap_or_default();
        let mut pairs = rest.chunks_exact(2);
        let (even_rest, odd_rest) = (&mut even[base..], &mut odd[base..]);
        let mut n = 0;
        for ((e, o), pair) in even_rest
            .iter_mut()
            .zip(odd_rest.iter_mut())
            .zip(&mut pairs)
        {
            *e = pair[0];
            *o = pair[1];
            n += 1;
        }
        if let (Some(d), [v]) = (even_rest.get_mut(n), pairs.remainder()) {
            *d = *v;
        }
        return;
    }
    for phase in 0..s {
        // The first input column in this phase, and where it goes.
        let first = (phase + s - left % s) % s;
        let at = ((left + first) / s).min(len);
        let row = &mut dst[phase * phase_stride..][at..len];
        let src = line.get(first..).unwrap_or_default();
        for (d, &v) in row.iter_mut().zip(src.iter().step_by(s)) {
            *d = v;
        }
    }
}

/// Each padded row holds the outputs' columns rounded up to a whole number of the widest
/// vector (AVX-512's 16 `f32`), so that a block's last, partial vector is loaded whole (from
/// padding or input columns no output needs) and stored in part.
const L: usize = 16;

/// A depthwise convolution this module computes.
#[derive(Debug, Clone, Copy)]
struct Depthwise {
    s: Shape,
    /// Columns per row of each phase plane: padded column `c` is at `c / stride_w` of phase
    /// `c % stride_w`. Wide enough that every vector a block loads is inside the row.
    row_len: usize,
}

impl Depthwise {
    fn of(conv: &Conv2d, x: &Tensor<4>) -> Option<Self> {
        let s = Shape::of(conv, x)?;
        let depthwise =
            conv.groups == s.c_in && s.c_out == s.c_in && s.per_group == 1 && s.c_in > 1;
        depthwise.then_some(Self {
            s,
            row_len: s.out_w.div_ceil(L) * L + (s.k_w - 1) / s.stride_w,
        })
    }

    /// The convolution, each plane computed by `kernel` (the CPU's best instruction set;
    /// the tests run each one).
    fn run(self, conv: &Conv2d, x: Tensor<4>, kernel: impl Fn(Plane<'_>) + Sync) -> Tensor<4> {
        let device = x.device();
        let input = x.into_data();
        let weight = conv.weight.val().into_data();
        let bias = conv.bias.as_ref().map(|b| b.val().into_data());
        let (Ok(input_values), Ok(weights)) = (input.as_slice::<f32>(), weight.as_slice::<f32>())
        else {
            return conv.forward(Tensor::from_data(input, &device));
        };
        let biases = match &bias {
            Some(b) => match b.as_slice::<f32>() {
                Ok(v) => Some(v),
                Err(_) => return conv.forward(Tensor::from_data(input, &device)),
            },
            None => None,
        };
        let (plane_in, plane_out, taps) = (
            self.s.in_h * self.s.in_w,
            self.s.out_h * self.s.out_w,
            self.s.k_h * self.s.k_w,
        );
        // Where each tap's first input is, relative to its output row's first padded row.
        let phase_len = self.s.pad_h * self.row_len;
        let offsets: Vec<usize> = (0..taps)
            .map(|t| {
                let (i, j) = (t / self.s.k_w, t % self.s.k_w);
                (j % self.s.stride_w) * phase_len + i * self.row_len + j / self.s.stride_w
            })
            .collect();
        let mut out = vec![0.0f32; self.s.batch * self.s.c_in * plane_out];
        out.par_chunks_mut(plane_out.max(1))
            .enumerate()
            .for_each_init(Vec::new, |padded, (plane, out_plane)| {
                let c = plane % self.s.c_in;
                let src = &input_values[plane * plane_in..(plane + 1) * plane_in];
                self.pad(src, padded);
                kernel(Plane {
                    dw: &self,
                    padded,
                    offsets: &offsets,
                    w: &weights[c * taps..(c + 1) * taps],
                    bias: biases.map(|b| b[c]),
                    out: out_plane,
                });
            });
        Tensor::from_data(
            TensorData::new(out, [self.s.batch, self.s.c_in, self.s.out_h, self.s.out_w]),
            &device,
        )
    }

    /// `src` (one channel) into `padded`, zeros around it: one plane of `pad_h` rows per
    /// column phase (one plane when the column stride is 1). Every plane of one convolution
    /// writes the same positions, so a buffer already of the right size (one per rayon split
    /// of one convolution) keeps its zeros.
    fn pad(&self, src: &[f32], padded: &mut Vec<f32>) {
        let phase_len = self.s.pad_h * self.row_len;
        if padded.len() != self.s.stride_w * phase_len {
            padded.clear();
            padded.resize(self.s.stride_w * phase_len, 0.0);
        }
        for (y, row) in src.chunks_exact(self.s.in_w).enumerate() {
            let line = (y + self.s.top) * self.row_len;
            split_row(
                row,
                self.s.left,
                self.s.stride_w,
                &mut padded[line..],
                phase_len,
                self.row_len,
            );
        }
    }
}

/// One plane's work, run by `pulp` with the best instruction set the CPU has (AVX-512 here):
/// `with_simd` is inlined into a function compiled for it.
struct Plane<'a> {
    dw: &'a Depthwise,
    padded: &'a [f32],
    /// Each tap's input offset from its output row's first padded row (all phases).
    offsets: &'a [usize],
    w: &'a [f32],
    bias: Option<f32>,
    out: &'a mut [f32],
}

impl pulp::WithSimd for Plane<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(mut self, simd: S) {
        // Rows three at a time: with two vectors per row, six independent sums are in flight
        // (each waits on its own previous tap).
        let mut y = 0;
        while y < self.dw.s.out_h {
            y += match self.dw.s.out_h - y {
                1 => self.rows::<S, 1>(simd, y),
                2 => self.rows::<S, 2>(simd, y),
                _ => self.rows::<S, 3>(simd, y),
            };
        }
    }
}

impl Plane<'_> {
    /// Rows `y..y + R`, two vectors of columns at a time, then one (the last maybe partial).
    #[inline(always)]
    fn rows<S: pulp::Simd, const R: usize>(&mut self, simd: S, y: usize) -> usize {
        let (lanes, out_w) = (S::F32_LANES, self.dw.s.out_w);
        let mut x0 = 0;
        while x0 + 2 * lanes <= out_w {
            self.block::<S, R, 2>(simd, y, x0);
            x0 += 2 * lanes;
        }
        while x0 < out_w {
            self.block::<S, R, 1>(simd, y, x0);
            x0 += lanes;
        }
        R
    }

    /// Outputs `x0..x0 + V` vectors of rows `y..y + R`: their sums over every tap (filter row
    /// by row, tap by tap, from zero), then the bias. Columns past `out_w` are computed from
    /// the padding and not stored.
    #[inline(always)]
    fn block<S: pulp::Simd, const R: usize, const V: usize>(
        &mut self,
        simd: S,
        y: usize,
        x0: usize,
    ) {
        let dw = self.dw;
        let lanes = S::F32_LANES;
        let rows: [usize; R] = std::array::from_fn(|r| (y + r) * dw.s.stride_h * dw.row_len + x0);
        let mut acc = [[simd.splat_f32s(0.0); V]; R];
        for (&off, &w) in self.offsets.iter().zip(self.w) {
            let wv = simd.splat_f32s(w);
            for (sums, &row) in acc.iter_mut().zip(&rows) {
                let src = &self.padded[row + off..row + off + V * lanes];
                for (sum, x) in sums.iter_mut().zip(src.chunks_exact(lanes)) {
                    let x: S::f32s =
                        pulp::bytemuck::pod_read_unaligned(pulp::bytemuck::cast_slice(x));
                    *sum = simd.mul_add_f32s(x, wv, *sum);
                }
            }
        }
        for (r, sums) in acc.iter().enumerate() {
            for (v, &sum) in sums.iter().enumerate() {
                let col = x0 + v * lanes;
                let value = match self.bias {
                    Some(b) => simd.add_f32s(sum, simd.splat_f32s(b)),
                    None => sum,
                };
                let at = (y + r) * dw.s.out_w + col;
                let n = lanes.min(dw.s.out_w - col);
                if n == lanes {
                    self.out[at..at + n]
                        .copy_from_slice(pulp::bytemuck::cast_slice(std::slice::from_ref(&value)));
                } else {
                    simd.partial_store_f32s(&mut self.out[at..at + n], value);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, Distribution};
    use pulp::Simd;

    fn konst(v: f32, device: &Device) -> Const {
        Param::from_tensor(Tensor::from_data(TensorData::new(vec![v], [1]), device))
    }

    fn bits(t: Tensor<4>) -> Vec<u32> {
        t.into_data()
            .try_to_vec::<f32>()
            .unwrap_or_default()
            .into_iter()
            .map(f32::to_bits)
            .collect()
    }

    #[test]
    fn the_fused_chain_is_bit_for_bit_burns() {
        let device = Device::flex();
        let x: Tensor<4> = Tensor::random([2, 8, 5, 7], Distribution::Uniform(-8.0, 8.0), &device);
        let k: Vec<Const> = [0.73, -0.21, 3.0, 6.0, 1.37, 0.05]
            .into_iter()
            .map(|v| konst(v, &device))
            .collect();
        for (pre, post) in [(true, true), (true, false), (false, true), (false, false)] {
            let pre = pre.then_some((&k[0], &k[1]));
            let post = post.then_some((&k[4], &k[5]));
            let want = bits(reference(x.clone(), pre, &k[2], 0.0, 6.0, &k[3], post));
            let got = bits(hard_swish(x.clone(), pre, &k[2], 0.0, 6.0, &k[3], post));
            assert_eq!(want.len(), 2 * 8 * 5 * 7);
            assert_eq!(
                got,
                want,
                "pre {:?} post {:?}",
                pre.is_some(),
                post.is_some()
            );
        }
    }

    /// Burn's depthwise convolution and this module's agree over the shapes PP-LCNetV3 uses
    /// and ragged ones: 3×3 and 5×5, strides of 2 in either direction, widths that are not a
    /// multiple of 16, with and without bias. Not to the bit: this kernel fuses each
    /// multiply-add (one rounding where Burn rounds twice), so the sums differ in their last
    /// bits; a wrong tap, offset or padding would differ in the first.
    #[test]
    fn depthwise_matches_burn() {
        use burn::nn::conv::Conv2dConfig;
        let device = Device::flex();
        let cases = [
            // (channels, h, w, kernel, stride, padding, bias)
            (16, 24, 160, 3, [1, 1], 1, true),
            (8, 12, 37, 5, [1, 1], 2, true),
            (8, 12, 80, 5, [2, 1], 2, false),
            (6, 12, 33, 3, [1, 2], 1, true),
            (4, 3, 20, 5, [1, 1], 2, true),
            (4, 7, 9, 3, [2, 2], 0, true),
            // Asymmetric (pad 7 and up): (top, left, bottom, right) = (p, p + 1, p + 2, p / 2),
            // p = pad - 6.
            (5, 9, 21, 3, [1, 1], 7, true),
            (5, 9, 21, 5, [2, 1], 9, false),
            // Strides wider than the filter; a 1×1 filter; a row longer than the phase rows hold.
            (4, 9, 30, 3, [2, 4], 1, false),
            (6, 5, 23, 1, [1, 3], 0, true),
            (3, 4, 65, 2, [1, 2], 0, true),
            // Column stride 2 with an odd and an even left padding (the detector's layers).
            (4, 9, 31, 3, [2, 2], 1, true),
            (5, 9, 21, 3, [1, 2], 8, true),
            (3, 6, 26, 5, [2, 2], 8, false),
        ];
        for (c, h, w, k, stride, pad, bias) in cases {
            let padding = if pad >= 7 {
                let p = pad - 6;
                PaddingConfig2d::Explicit(p, p + 1, p + 2, p / 2)
            } else {
                PaddingConfig2d::Explicit(pad, pad, pad, pad)
            };
            let conv = Conv2dConfig::new([c, c], [k, k])
                .with_groups(c)
                .with_stride(stride)
                .with_padding(padding)
                .with_bias(bias)
                .init(&device);
            assert!(Depthwise::of(&conv, &Tensor::zeros([2, c, h, w], &device)).is_some());
            let x: Tensor<4> =
                Tensor::random([2, c, h, w], Distribution::Uniform(-2.0, 2.0), &device);
            let values = |t: Tensor<4>| t.into_data().try_to_vec::<f32>().unwrap_or_default();
            let want = values(conv.forward(x.clone()));
            let dw = Depthwise::of(&conv, &x).unwrap_or_else(|| unreachable!());
            // The dispatched kernel, and each instruction set's (one lane, AVX2's eight).
            let mut runs = vec![
                ("dispatched", values(conv2d(&conv, x.clone()))),
                (
                    "scalar",
                    values(dw.run(&conv, x.clone(), |p| pulp::Scalar::new().vectorize(p))),
                ),
            ];
            if let Some(v3) = pulp::x86::V3::try_new() {
                runs.push((
                    "avx2",
                    values(dw.run(&conv, x.clone(), |p| Simd::vectorize(v3, p))),
                ));
            }
            assert!(!want.is_empty());
            let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            for (kernel, got) in runs {
                assert_eq!(got.len(), want.len());
                let worst = got
                    .iter()
                    .zip(&want)
                    .fold(0.0f32, |m, (g, w)| m.max((g - w).abs()));
                assert!(
                    worst <= 1e-5 * scale,
                    "{kernel} {c}x{h}x{w} k{k} stride {stride:?} pad {pad}: off by {worst} of {scale}"
                );
            }
        }
    }

    #[test]
    fn dense_matches_burn() {
        use burn::nn::conv::Conv2dConfig;
        let device = Device::flex();
        let cases = [
            // (c_in, c_out, h, w, kernel [h, w], stride, padding (t, l, b, r), bias, batch)
            (3, 16, 48, 320, [3, 3], [2, 2], (1, 1, 1, 1), false, 1), // the stem
            (96, 24, 22, 31, [3, 3], [1, 1], (1, 1, 1, 1), true, 1),  // the detector's neck
            (3, 8, 37, 29, [3, 3], [2, 2], (1, 1, 1, 1), true, 2),
            (5, 7, 9, 40, [3, 5], [1, 2], (0, 2, 1, 3), true, 2),
            (4, 6, 8, 9, [1, 1], [2, 2], (0, 0, 0, 0), true, 1), // strided pointwise
            (4, 6, 8, 9, [1, 1], [1, 1], (1, 0, 1, 0), false, 1), // padded pointwise
            (2, 3, 5, 6, [5, 5], [3, 4], (2, 2, 2, 2), true, 3),
            (6, 5, 300, 7, [3, 3], [1, 1], (1, 1, 1, 1), true, 1), // several row blocks
        ];
        for (c_in, c_out, h, w, kernel, stride, (t, l, b, r), bias, n) in cases {
            let conv = Conv2dConfig::new([c_in, c_out], kernel)
                .with_stride(stride)
                .with_padding(PaddingConfig2d::Explicit(t, l, b, r))
                .with_bias(bias)
                .init(&device);
            let x: Tensor<4> =
                Tensor::random([n, c_in, h, w], Distribution::Uniform(-2.0, 2.0), &device);
            assert!(Dense::of(&conv, &x).is_some(), "{c_in}->{c_out} {kernel:?}");
            let values = |t: Tensor<4>| t.into_data().try_to_vec::<f32>().unwrap_or_default();
            let want = conv.forward(x.clone());
            let got = conv2d(&conv, x);
            assert_eq!(got.dims(), want.dims());
            let (got, want) = (values(got), values(want));
            assert!(!want.is_empty());
            let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let worst = got
                .iter()
                .zip(&want)
                .fold(0.0f32, |m, (g, w)| m.max((g - w).abs()));
            assert!(
                worst <= 1e-5 * scale,
                "{c_in}->{c_out} {h}x{w} k{kernel:?} s{stride:?}: off by {worst} of {scale}"
            );
        }
        // A plain pointwise convolution is Burn's own (one matrix product there already).
        let conv = Conv2dConfig::new([4, 6], [1, 1]).init(&device);
        assert!(Dense::of(&conv, &Tensor::zeros([1, 4, 8, 8], &device)).is_none());
    }

    /// The largest difference between `got` and `want`, and `want`'s largest magnitude.
    fn off<const D: usize>(got: Tensor<D>, want: Tensor<D>) -> (f32, f32) {
        assert_eq!(got.dims(), want.dims());
        let values = |t: Tensor<D>| t.into_data().try_to_vec::<f32>().unwrap_or_default();
        let (got, want) = (values(got), values(want));
        assert!(!want.is_empty() && got.len() == want.len());
        let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let worst = got
            .iter()
            .zip(&want)
            .fold(0.0f32, |m, (g, w)| m.max((g - w).abs()));
        (worst, scale)
    }

    #[test]
    fn batch_norm_matches_burn() {
        use burn::module::Param;
        use burn::nn::BatchNormConfig;
        let device = Device::flex();
        let c = 5;
        let mut bn = BatchNormConfig::new(c).init(&device);
        let random = |lo, hi| Tensor::<1>::random([c], Distribution::Uniform(lo, hi), &device);
        bn.gamma = Param::from_tensor(random(-2.0, 2.0));
        bn.beta = Param::from_tensor(random(-1.0, 1.0));
        bn.running_mean = burn::module::RunningState::new(random(-1.0, 1.0));
        bn.running_var = burn::module::RunningState::new(random(0.1, 3.0));
        for dims in [[2, c, 7, 9], [1, c, 1, 1]] {
            let x: Tensor<4> = Tensor::random(dims, Distribution::Uniform(-3.0, 3.0), &device);
            let (worst, scale) = off(batch_norm(&bn, x.clone()), bn.forward(x));
            assert!(
                worst <= 4.0 * f32::EPSILON * scale,
                "{dims:?}: {worst} of {scale}"
            );
        }
        // Two and three dimensions (a sequence's channels).
        let x: Tensor<2> = Tensor::random([4, c], Distribution::Uniform(-3.0, 3.0), &device);
        let (worst, scale) = off(batch_norm(&bn, x.clone()), bn.forward(x));
        assert!(
            worst <= 4.0 * f32::EPSILON * scale,
            "2-D: {worst} of {scale}"
        );
        let x: Tensor<3> = Tensor::random([2, c, 11], Distribution::Uniform(-3.0, 3.0), &device);
        let (worst, scale) = off(batch_norm(&bn, x.clone()), bn.forward(x));
        assert!(
            worst <= 4.0 * f32::EPSILON * scale,
            "3-D: {worst} of {scale}"
        );
    }

    #[test]
    fn global_average_pool_matches_burn() {
        use burn::nn::pool::AdaptiveAvgPool2dConfig;
        let device = Device::flex();
        let global = AdaptiveAvgPool2dConfig::new([1, 1]).init();
        for dims in [[2, 3, 37, 41], [1, 4, 1, 1], [1, 2, 3, 5], [1, 1, 400, 400]] {
            let x: Tensor<4> = Tensor::random(dims, Distribution::Uniform(-1.0, 3.0), &device);
            // Against the means in f64 (Burn's own sum is off by about as much as ours).
            let values = x.to_data().try_to_vec::<f32>().unwrap_or_default();
            let exact: Vec<f32> = values
                .chunks_exact(dims[2] * dims[3])
                .map(|p| (p.iter().map(|&v| f64::from(v)).sum::<f64>() / p.len() as f64) as f32)
                .collect();
            let exact =
                Tensor::from_data(TensorData::new(exact, [dims[0], dims[1], 1, 1]), &device);
            let (worst, scale) = off(adaptive_avg_pool2d(&global, x), exact);
            assert!(worst <= 1e-6 * scale, "{dims:?}: {worst} of {scale}");
        }
        // Another output size is Burn's own.
        let pool = AdaptiveAvgPool2dConfig::new([2, 3]).init();
        let x: Tensor<4> = Tensor::random([1, 2, 8, 9], Distribution::Default, &device);
        assert_eq!(
            bits(adaptive_avg_pool2d(&pool, x.clone())),
            bits(pool.forward(x))
        );
    }

    #[test]
    fn sigmoid_matches_f64() {
        let device = Device::flex();
        let xs: Vec<f32> = (-2000..=2000).map(|i| i as f32 * 0.05).collect();
        let n = xs.len();
        let got = sigmoid(Tensor::<1>::from_data(
            TensorData::new(xs.clone(), [n]),
            &device,
        ));
        let got = got.into_data().try_to_vec::<f32>().unwrap_or_default();
        assert_eq!(got.len(), n);
        for (&x, &g) in xs.iter().zip(&got) {
            let want = 1.0 / (1.0 + (-f64::from(x)).exp());
            // Below x = −88, `exp` is clamped: the result is about 6e-39, not smaller.
            let tolerance = (4.0 * f64::from(f32::EPSILON) * want).max(1e-38);
            assert!(
                (f64::from(g) - want).abs() <= tolerance,
                "sigmoid({x}) = {g}, want {want}"
            );
        }
    }

    #[test]
    fn conv_transpose_matches_burn() {
        use burn::nn::conv::ConvTranspose2dConfig;
        let device = Device::flex();
        // (c_in, c_out, kernel, stride, padding, bias, batch, h, w): the first four are ours.
        let cases = [
            (24, 24, [2, 2], [2, 2], [0, 0], false, 1, 5, 7),
            (24, 24, [2, 2], [2, 2], [0, 0], true, 2, 41, 300), // several row blocks
            (6, 8, [2, 2], [2, 2], [0, 0], true, 2, 5, 7),
            (3, 9, [2, 3], [2, 3], [0, 0], true, 1, 5, 7), // three columns per pixel
            (6, 1, [2, 2], [2, 2], [0, 0], true, 1, 5, 7), // one output channel
            (3, 4, [3, 3], [2, 2], [0, 0], true, 1, 5, 7),
            (3, 4, [2, 2], [2, 2], [1, 1], true, 1, 5, 7),
        ];
        for (i, (c_in, c_out, kernel, stride, padding, bias, n, h, w)) in
            cases.into_iter().enumerate()
        {
            let conv = ConvTranspose2dConfig::new([c_in, c_out], kernel)
                .with_stride(stride)
                .with_padding(padding)
                .with_bias(bias)
                .init(&device);
            let x: Tensor<4> =
                Tensor::random([n, c_in, h, w], Distribution::Uniform(-2.0, 2.0), &device);
            let got = conv_transpose2d(&conv, x.clone());
            let want = conv.forward(x);
            if i >= 4 {
                assert_eq!(bits(got), bits(want), "case {i} is Burn's");
                continue;
            }
            let (worst, scale) = off(got, want);
            assert!(worst <= 1e-5 * scale, "case {i}: {worst} of {scale}");
        }
    }

    /// [`exp`] against `f64`'s over the range a softmax feeds it (and past it): within 2ε
    /// wherever the result is a normal `f32`; the clamp's floor below.
    #[test]
    fn exp_is_within_two_ulp() {
        let mut worst = 0.0f64;
        for i in 0..=2_000_000 {
            let x = -87.0 + 175.0 * f64::from(i) / 2e6;
            let got = f64::from(exp(x as f32));
            let want = f64::from(x as f32).exp();
            worst = worst.max((got - want).abs() / want);
        }
        assert!(
            worst <= 2.0 * f64::from(f32::EPSILON),
            "relative error {worst}"
        );
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-1000.0), exp(-87.0));
        assert!(exp(f32::NAN).is_nan());
    }

    /// The fused softmax against an `f64` one, on the recogniser's shape (with scores up to
    /// ±40) and on rows that are not a multiple of 16 long: within a few parts in a million
    /// (the sum of 6625 terms carries most of that, in Burn's too); other dimensions are
    /// Burn's own.
    #[test]
    fn softmax_matches_f64() {
        let device = Device::flex();
        for (shape, spread) in [([1, 40, 6625], 40.0), ([3, 5, 37], 8.0), ([2, 4, 2], 3.0)] {
            let x: Tensor<3> =
                Tensor::random(shape, Distribution::Uniform(-spread, spread), &device);
            let values = |t: Tensor<3>| t.into_data().try_to_vec::<f32>().unwrap_or_default();
            let input = values(x.clone());
            let got = values(softmax(x.clone(), 2));
            assert_eq!(got.len(), input.len());
            for (row, out) in input.chunks(shape[2]).zip(got.chunks(shape[2])) {
                let max = row
                    .iter()
                    .fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
                let sum: f64 = row.iter().map(|&v| (f64::from(v) - max).exp()).sum();
                for (&v, &g) in row.iter().zip(out) {
                    let want = (f64::from(v) - max).exp() / sum;
                    // `v - max` is rounded to f32 first, as in Burn: e^(that rounding) adds
                    // up to |v - max| ulp.
                    let ulp = f64::from(f32::EPSILON);
                    let tol = (4e-6 + ulp * (f64::from(v) - max).abs()) * want;
                    let err = (f64::from(g) - want).abs();
                    assert!(err <= tol + 1e-37, "{shape:?}: {g} against {want}");
                }
            }
            let other = values(softmax(x.clone(), 1));
            assert_eq!(other, values(burn::tensor::activation::softmax(x, 1)));
        }
    }

    #[test]
    fn other_convolutions_are_burns() {
        use burn::nn::conv::Conv2dConfig;
        let device = Device::flex();
        let x: Tensor<4> = Tensor::random([1, 4, 6, 10], Distribution::Default, &device);
        // Grouped but not depthwise; pointwise.
        let grouped = Conv2dConfig::new([4, 8], [3, 3])
            .with_groups(2)
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .init(&device);
        let pointwise = Conv2dConfig::new([4, 8], [1, 1]).init(&device);
        for conv in [grouped, pointwise] {
            assert!(Depthwise::of(&conv, &x).is_none() && Dense::of(&conv, &x).is_none());
            assert_eq!(
                bits(conv2d(&conv, x.clone())),
                bits(conv.forward(x.clone()))
            );
        }
    }

    #[test]
    fn a_shared_input_is_left_intact() {
        let device = Device::flex();
        let x: Tensor<4> = Tensor::random([1, 2, 3, 4], Distribution::Default, &device);
        let before = bits(x.clone());
        let k: Vec<Const> = [3.0, 6.0].into_iter().map(|v| konst(v, &device)).collect();
        let _ = hard_swish(x.clone(), None, &k[0], 0.0, 6.0, &k[1], None);
        let _ = sigmoid(x.clone());
        let bn = burn::nn::BatchNormConfig::new(2).init(&device);
        let _ = batch_norm(&bn, x.clone());
        assert_eq!(bits(x), before);
    }
}
