//! Kernels for what Burn's CPU backend does slowly on these models, called from the generated
//! source as `build.rs` rewrites it (see `fuse_src.rs`): element-wise chains fused into one
//! pass, and depthwise convolution.

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

/// `conv.forward(x)`, with depthwise convolutions (one filter per channel, PP-LCNetV3's
/// 3×3 and 5×5) computed here and everything else by Burn.
///
/// Burn's depthwise path walks each output row once per filter tap with the padding cut out
/// of the row, so on these planes (80 or 160 wide, 3 to 24 high) much of it runs in scalar
/// remainder loops. Here each channel is copied once into a zero-padded plane, and every
/// 16 outputs of a row are accumulated in registers over all taps. The sums are Burn's: the
/// same products added in the same order (taps row by row, from zero, bias last), so the
/// output is the same to the bit wherever no padding is involved; a padded tap adds a zero
/// product where Burn skips it, which changes at most the sign of a zero.
pub fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    match Depthwise::of(conv, &x) {
        Some(dw) => dw.run(conv, x),
        None => conv.forward(x),
    }
}

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
    /// The padded plane's width and height.
    pad_w: usize,
    pad_h: usize,
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
            out_w: (pad_w - k_w) / stride_w + 1,
            pad_w,
            pad_h,
        })
    }

    fn run(self, conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
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
        let mut out = vec![0.0f32; self.batch * self.channels * plane_out];
        out.par_chunks_mut(plane_out.max(1))
            .enumerate()
            .for_each_init(Vec::new, |padded, (plane, out_plane)| {
                let c = plane % self.channels;
                let src = &input_values[plane * plane_in..(plane + 1) * plane_in];
                self.pad(src, padded);
                let w = &weights[c * taps..(c + 1) * taps];
                let b = biases.map(|b| b[c]);
                pulp::Arch::new().dispatch(Plane {
                    dw: &self,
                    padded,
                    w,
                    bias: b,
                    out: out_plane,
                });
            });
        Tensor::from_data(
            TensorData::new(out, [self.batch, self.channels, self.out_h, self.out_w]),
            &device,
        )
    }

    /// `src` (one channel) into `padded`, zeros around it.
    fn pad(&self, src: &[f32], padded: &mut Vec<f32>) {
        padded.clear();
        padded.resize(self.pad_h * self.pad_w, 0.0);
        for (y, row) in src.chunks_exact(self.in_w).enumerate() {
            let at = (y + self.top) * self.pad_w + self.left;
            padded[at..at + self.in_w].copy_from_slice(row);
        }
    }

    /// One output plane from one padded input plane.
    #[inline(always)]
    fn plane(&self, padded: &[f32], w: &[f32], bias: Option<f32>, out: &mut [f32]) {
        match (self.stride_w, self.k_w) {
            (1, 3) => self.plane_k::<3>(padded, w, bias, out),
            (1, 5) => self.plane_k::<5>(padded, w, bias, out),
            (1, _) => self.plane_with::<true>(padded, w, bias, out),
            _ => self.plane_with::<false>(padded, w, bias, out),
        }
    }

    /// A filter `KW` wide at column stride 1 (PP-LCNetV3's 3×3 and 5×5), with the tap loop
    /// unrolled and each input window sliced once per row and filter row.
    #[inline(always)]
    fn plane_k<const KW: usize>(
        &self,
        padded: &[f32],
        w: &[f32],
        bias: Option<f32>,
        out: &mut [f32],
    ) {
        const ROWS: usize = 3;
        let mut y = 0;
        while y < self.out_h {
            if y + ROWS <= self.out_h {
                self.rows_k::<ROWS, KW>(padded, w, bias, out, y);
                y += ROWS;
            } else {
                self.rows_k::<1, KW>(padded, w, bias, out, y);
                y += 1;
            }
        }
    }

    #[inline(always)]
    fn rows_k<const R: usize, const KW: usize>(
        &self,
        padded: &[f32],
        w: &[f32],
        bias: Option<f32>,
        out: &mut [f32],
        y: usize,
    ) {
        let mut x0 = 0;
        while x0 + 2 * L <= self.out_w {
            self.block_k::<R, { 2 * L }, KW>(padded, w, bias, out, y, x0);
            x0 += 2 * L;
        }
        if x0 + L <= self.out_w {
            self.block_k::<R, L, KW>(padded, w, bias, out, y, x0);
            x0 += L;
        }
        while x0 < self.out_w {
            self.block_k::<R, 1, KW>(padded, w, bias, out, y, x0);
            x0 += 1;
        }
    }

    /// Outputs `x0..x0 + N` of rows `y..y + R`. Each output's products are added in the
    /// order `block` adds them (filter row by row, tap by tap).
    #[inline(always)]
    fn block_k<const R: usize, const N: usize, const KW: usize>(
        &self,
        padded: &[f32],
        w: &[f32],
        bias: Option<f32>,
        out: &mut [f32],
        y: usize,
        x0: usize,
    ) {
        let mut acc = [[0.0f32; N]; R];
        for i in 0..self.k_h {
            let taps = &w[i * KW..(i + 1) * KW];
            for (r, sums) in acc.iter_mut().enumerate() {
                let at = ((y + r) * self.stride_h + i) * self.pad_w + x0;
                let window = &padded[at..at + N + KW - 1];
                for (j, &wv) in taps.iter().enumerate() {
                    let src = &window[j..j + N];
                    for l in 0..N {
                        sums[l] += src[l] * wv;
                    }
                }
            }
        }
        for (r, sums) in acc.iter().enumerate() {
            let at = (y + r) * self.out_w + x0;
            store(&mut out[at..at + N], sums, bias);
        }
    }

    /// Blocks of `ROWS` rows by `L` columns (then narrower), so that several independent sums
    /// are in flight: one block's sums each wait on their previous tap.
    #[inline(always)]
    fn plane_with<const UNIT: bool>(
        &self,
        padded: &[f32],
        w: &[f32],
        bias: Option<f32>,
        out: &mut [f32],
    ) {
        const ROWS: usize = 3;
        let mut y = 0;
        while y < self.out_h {
            if y + ROWS <= self.out_h {
                self.row_block::<ROWS, UNIT>(padded, w, bias, out, y);
                y += ROWS;
            } else {
                self.row_block::<1, UNIT>(padded, w, bias, out, y);
                y += 1;
            }
        }
    }

    #[inline(always)]
    fn row_block<const R: usize, const UNIT: bool>(
        &self,
        padded: &[f32],
        w: &[f32],
        bias: Option<f32>,
        out: &mut [f32],
        y: usize,
    ) {
        let mut x0 = 0;
        while x0 + 2 * L <= self.out_w {
            self.block::<R, { 2 * L }, UNIT>(padded, w, bias, out, y, x0);
            x0 += 2 * L;
        }
        if x0 + L <= self.out_w {
            self.block::<R, L, UNIT>(padded, w, bias, out, y, x0);
            x0 += L;
        }
        while x0 < self.out_w {
            self.block::<R, 1, UNIT>(padded, w, bias, out, y, x0);
            x0 += 1;
        }
    }

    /// Outputs `x0..x0 + N` of rows `y..y + R`: their sums over every tap, then the bias.
    #[inline(always)]
    fn block<const R: usize, const N: usize, const UNIT: bool>(
        &self,
        padded: &[f32],
        w: &[f32],
        bias: Option<f32>,
        out: &mut [f32],
        y: usize,
        x0: usize,
    ) {
        let mut acc = [[0.0f32; N]; R];
        for i in 0..self.k_h {
            for j in 0..self.k_w {
                let wv = w[i * self.k_w + j];
                for (r, sums) in acc.iter_mut().enumerate() {
                    let line = ((y + r) * self.stride_h + i) * self.pad_w;
                    if UNIT {
                        let src = &padded[line + x0 + j..line + x0 + j + N];
                        for l in 0..N {
                            sums[l] += src[l] * wv;
                        }
                    } else {
                        let prow = &padded[line..line + self.pad_w];
                        for (l, a) in sums.iter_mut().enumerate() {
                            *a += prow[(x0 + l) * self.stride_w + j] * wv;
                        }
                    }
                }
            }
        }
        for (r, sums) in acc.iter().enumerate() {
            let at = (y + r) * self.out_w + x0;
            store(&mut out[at..at + N], sums, bias);
        }
    }
}

/// Outputs per register block: one AVX-512 vector of `f32`.
const L: usize = 16;

/// The bias added last, as Burn adds it.
#[inline(always)]
fn store(dst: &mut [f32], acc: &[f32], bias: Option<f32>) {
    match bias {
        Some(b) => dst.iter_mut().zip(acc).for_each(|(d, a)| *d = *a + b),
        None => dst.iter_mut().zip(acc).for_each(|(d, a)| *d = *a),
    }
}

/// One plane's work, run by `pulp` with the best instruction set the CPU has (AVX-512 here):
/// `with_simd` is inlined into a function compiled for it, so the loops above vectorise.
struct Plane<'a> {
    dw: &'a Depthwise,
    padded: &'a [f32],
    w: &'a [f32],
    bias: Option<f32>,
    out: &'a mut [f32],
}

impl pulp::WithSimd for Plane<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        self.dw.plane(self.padded, self.w, self.bias, self.out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, Distribution};

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

    /// Burn's depthwise convolution and this module's agree to the bit (zeros' signs aside)
    /// over the shapes PP-LCNetV3 uses and ragged ones: 3×3 and 5×5, strides of 2 in either
    /// direction, widths that are not a multiple of 16, with and without bias.
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
            let zero_sign = |b: u32| if b == 0x8000_0000 { 0 } else { b };
            let want: Vec<u32> = bits(conv.forward(x.clone()))
                .into_iter()
                .map(zero_sign)
                .collect();
            let got: Vec<u32> = bits(conv2d(&conv, x)).into_iter().map(zero_sign).collect();
            assert!(!want.is_empty());
            assert_eq!(got, want, "{c}x{h}x{w} k{k} stride {stride:?} pad {pad}");
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
