//! Kernels for what Burn's CPU backend does slowly on these models, called from the generated
//! source as `build.rs` rewrites it (see `fuse_src.rs`): element-wise chains fused into one
//! pass, depthwise convolution, and the softmax over the last dimension.

use burn::module::Param;
use burn::nn::conv::Conv2d;
use burn::nn::PaddingConfig2d;
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
pub fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    match Depthwise::of(conv, &x) {
        Some(dw) => dw.run(conv, x, |plane| pulp::Arch::new().dispatch(plane)),
        None => conv.forward(x),
    }
}

/// Each padded row holds the outputs' columns rounded up to a whole number of the widest
/// vector (AVX-512's 16 `f32`), so that a block's last, partial vector is loaded whole (from
/// padding or input columns no output needs) and stored in part.
const L: usize = 16;

/// The geometry of a depthwise convolution this module computes.
#[derive(Debug, Clone, Copy)]
struct Depthwise {
    batch: usize,
    channels: usize,
    in_h: usize,
    in_w: usize,
    k_h: usize,
    k_w: usize,
    stride_h: usize,
    stride_w: usize,
    top: usize,
    left: usize,
    out_h: usize,
    out_w: usize,
    /// The padded plane's height (top and bottom padding included).
    pad_h: usize,
    /// Columns per row of each phase plane: padded column `c` is at `c / stride_w` of phase
    /// `c % stride_w`. Wide enough that every vector a block loads is inside the row.
    row_len: usize,
}

impl Depthwise {
    fn of(conv: &Conv2d, x: &Tensor<4>) -> Option<Self> {
        let [batch, channels, in_h, in_w] = x.dims();
        let [c_out, per_group, k_h, k_w] = conv.weight.dims();
        let (top, left, bottom, right) = match conv.padding {
            PaddingConfig2d::Explicit(t, l, b, r) => (t, l, b, r),
            PaddingConfig2d::Valid => (0, 0, 0, 0),
            PaddingConfig2d::Same => return None,
        };
        let [stride_h, stride_w] = conv.stride;
        let depthwise = conv.groups == channels
            && c_out == channels
            && per_group == 1
            && channels > 1
            && conv.dilation == [1, 1]
            && stride_h >= 1
            && stride_w >= 1;
        let (pad_h, pad_w) = (in_h + top + bottom, in_w + left + right);
        let empty = [batch, channels, in_h, in_w, k_h, k_w].contains(&0);
        if !depthwise || empty || pad_h < k_h || pad_w < k_w {
            return None;
        }
        let out_w = (pad_w - k_w) / stride_w + 1;
        Some(Self {
            batch,
            channels,
            in_h,
            in_w,
            k_h,
            k_w,
            stride_h,
            stride_w,
            top,
            left,
            out_h: (pad_h - k_h) / stride_h + 1,
            out_w,
            pad_h,
            row_len: out_w.div_ceil(L) * L + (k_w - 1) / stride_w,
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
            self.in_h * self.in_w,
            self.out_h * self.out_w,
            self.k_h * self.k_w,
        );
        // Where each tap's first input is, relative to its output row's first padded row.
        let phase_len = self.pad_h * self.row_len;
        let offsets: Vec<usize> = (0..taps)
            .map(|t| {
                let (i, j) = (t / self.k_w, t % self.k_w);
                (j % self.stride_w) * phase_len + i * self.row_len + j / self.stride_w
            })
            .collect();
        let mut out = vec![0.0f32; self.batch * self.channels * plane_out];
        out.par_chunks_mut(plane_out.max(1))
            .enumerate()
            .for_each_init(Vec::new, |padded, (plane, out_plane)| {
                let c = plane % self.channels;
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
            TensorData::new(out, [self.batch, self.channels, self.out_h, self.out_w]),
            &device,
        )
    }

    /// `src` (one channel) into `padded`, zeros around it: one plane of `pad_h` rows per
    /// column phase (one plane when the column stride is 1). Every plane of one convolution
    /// writes the same positions, so a buffer already of the right size (one per rayon split
    /// of one convolution) keeps its zeros.
    fn pad(&self, src: &[f32], padded: &mut Vec<f32>) {
        let phase_len = self.pad_h * self.row_len;
        if padded.len() != self.stride_w * phase_len {
            padded.clear();
            padded.resize(self.stride_w * phase_len, 0.0);
        }
        for (y, row) in src.chunks_exact(self.in_w).enumerate() {
            let line = (y + self.top) * self.row_len;
            if self.stride_w == 1 {
                padded[line + self.left..line + self.left + row.len()].copy_from_slice(row);
                continue;
            }
            // Column `left + x` is at `(left + x) / stride_w` of phase `(left + x) % stride_w`.
            let (mut phase, mut at) = (self.left % self.stride_w, self.left / self.stride_w);
            for &v in row {
                if at >= self.row_len {
                    break;
                }
                padded[phase * phase_len + line + at] = v;
                phase += 1;
                if phase == self.stride_w {
                    phase = 0;
                    at += 1;
                }
            }
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
        while y < self.dw.out_h {
            y += match self.dw.out_h - y {
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
        let (lanes, out_w) = (S::F32_LANES, self.dw.out_w);
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
        let rows: [usize; R] = std::array::from_fn(|r| (y + r) * dw.stride_h * dw.row_len + x0);
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
                let at = (y + r) * dw.out_w + col;
                let n = lanes.min(dw.out_w - col);
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
        let conv = Conv2dConfig::new([4, 8], [3, 3])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .init(&device);
        let x: Tensor<4> = Tensor::random([1, 4, 6, 10], Distribution::Default, &device);
        assert!(Depthwise::of(&conv, &x).is_none());
        assert_eq!(bits(conv2d(&conv, x.clone())), bits(conv.forward(x)));
    }

    #[test]
    fn a_shared_input_is_left_intact() {
        let device = Device::flex();
        let x: Tensor<4> = Tensor::random([1, 2, 3, 4], Distribution::Default, &device);
        let before = bits(x.clone());
        let k: Vec<Const> = [3.0, 6.0].into_iter().map(|v| konst(v, &device)).collect();
        let _ = hard_swish(x.clone(), None, &k[0], 0.0, 6.0, &k[1], None);
        assert_eq!(bits(x), before);
    }
}
