//! Times this crate's kernels against Burn's own operations on the shapes PP-OCRv4's
//! recogniser runs (one 48×320 line): each depthwise convolution, and the fused hard-swish
//! against the eight operations it replaces. Medians of interleaved runs, one thread:
//!
//! ```sh
//! RAYON_NUM_THREADS=1 cargo run --release -p tollgate-ocr-models --example kernels
//! ```
//!
//! `--dense`: the detector's one-group 3×3 convolutions, Burn's against ours. `--rec` and
//! `--det`: the whole v4 recogniser on one line, the whole detector on one page (compare
//! with onnxruntime on the same shapes, as `eval/README.md` shows).

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a bench binary fails loudly"
)]

use std::time::Instant;
use tollgate_ocr_models::burn::module::Param;
use tollgate_ocr_models::burn::nn::conv::Conv2dConfig;
use tollgate_ocr_models::burn::nn::PaddingConfig2d;
use tollgate_ocr_models::burn::tensor::{Device, Distribution, Tensor, TensorData};
use tollgate_ocr_models::fused;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median microseconds of `a` and of `b`, run alternately `rounds` times, each on a fresh
/// copy of `x` that it owns (as in the model, where each layer's input is the last one's
/// output), made before the clock starts.
fn race(
    rounds: usize,
    x: &Tensor<4>,
    mut a: impl FnMut(Tensor<4>),
    mut b: impl FnMut(Tensor<4>),
) -> (f64, f64) {
    let device = x.device();
    let data = x.to_data();
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let input = Tensor::from_data(data.clone(), &device);
        let t = Instant::now();
        a(input);
        ta.push(t.elapsed().as_secs_f64() * 1e6);
        let input = Tensor::from_data(data.clone(), &device);
        let t = Instant::now();
        b(input);
        tb.push(t.elapsed().as_secs_f64() * 1e6);
    }
    (median(ta), median(tb))
}

fn main() {
    // Inside a rayon pool, as the server's OCR worker runs (`tollgate_ocr::Engine`): the
    // kernels' parallel loops then start on the calling thread instead of waking a worker.
    let pool = rayon::ThreadPoolBuilder::new().build().expect("rayon pool");
    pool.install(layers);
}

fn layers() {
    let device = Device::flex();
    if std::env::args().any(|a| a == "--rec") {
        return rec_only(&device);
    }
    if std::env::args().any(|a| a == "--det") {
        return det_only(&device);
    }
    if std::env::args().any(|a| a == "--dense") {
        return dense(&device);
    }
    // (channels, h, w, kernel, stride): PP-OCRv4 rec's depthwise layers at width 320.
    let layers = [
        (16, 24, 160, 3, [1, 1]),
        (32, 24, 160, 3, [1, 1]),
        (64, 24, 160, 3, [1, 1]),
        (64, 24, 160, 3, [2, 1]),
        (128, 12, 160, 3, [1, 1]),
        (128, 12, 160, 3, [1, 2]),
        (240, 12, 80, 5, [1, 1]),
        (240, 12, 80, 5, [2, 1]),
        (480, 6, 80, 5, [1, 1]),
        (480, 6, 80, 5, [2, 1]),
        (480, 3, 80, 5, [1, 1]),
    ];
    let (mut sum_burn, mut sum_ours) = (0.0, 0.0);
    println!("depthwise layer            burn µs   ours µs   speed-up");
    for (c, h, w, k, stride) in layers {
        let p = k / 2;
        let conv = Conv2dConfig::new([c, c], [k, k])
            .with_groups(c)
            .with_stride(stride)
            .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
            .init(&device);
        let x: Tensor<4> = Tensor::random([1, c, h, w], Distribution::Default, &device);
        let (tb, to) = race(
            200,
            &x,
            |x| drop(conv.forward(x).into_data()),
            |x| drop(fused::conv2d(&conv, x).into_data()),
        );
        sum_burn += tb;
        sum_ours += to;
        println!(
            "{c:>4}x{h:>2}x{w:>3} k{k} s{stride:?}   {tb:>9.1} {to:>9.1}   {:>6.2}x",
            tb / to
        );
    }
    println!(
        "all depthwise              {sum_burn:>9.1} {sum_ours:>9.1}   {:>6.2}x",
        sum_burn / sum_ours
    );

    let k = |v: f32| {
        Param::from_tensor(Tensor::<1>::from_data(
            TensorData::new(vec![v], [1]),
            &device,
        ))
    };
    let (k1, k2, k3, k4, k5, k6) = (k(0.9), k(0.1), k(3.0), k(6.0), k(1.1), k(-0.2));
    let x: Tensor<4> = Tensor::random([1, 240, 12, 80], Distribution::Default, &device);
    let b = |p: &Param<Tensor<1>>| p.val().reshape([1, 1, 1, 1]);
    let (tb, to) = race(
        200,
        &x,
        |x| {
            let a = b(&k1).mul(x).add(b(&k2));
            let d = a.clone().add(b(&k3)).clamp(0.0, 6.0);
            drop(b(&k5).mul(a.mul(d).div(b(&k4))).add(b(&k6)).into_data());
        },
        |x| {
            let y = fused::hard_swish(x, Some((&k1, &k2)), &k3, 0.0, 6.0, &k4, Some((&k5, &k6)));
            drop(y.into_data());
        },
    );
    println!(
        "hard-swish 240x12x80       {tb:>9.1} {to:>9.1}   {:>6.2}x",
        tb / to
    );
}

/// Median milliseconds of `runs` calls of `forward`, each on a fresh copy of `x` made before
/// its clock starts, after `warm` calls that are not counted.
fn median_ms(x: &Tensor<4>, warm: usize, runs: usize, forward: impl Fn(Tensor<4>)) -> f64 {
    let mut times = Vec::new();
    for _ in 0..warm + runs {
        let input = x.clone();
        let t = Instant::now();
        forward(input);
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    median(times.split_off(warm))
}

/// `--rec`: PP-OCRv4's recogniser on one 48×320 line, median milliseconds of 50 forwards
/// (the shape `/tmp`-free comparisons with onnxruntime use).
fn rec_only(device: &Device) {
    let models = tollgate_ocr_models::PpOcr::load(tollgate_ocr_models::Version::V4, device);
    let x: Tensor<4> = Tensor::random([1, 3, 48, 320], Distribution::Default, device);
    let ms = median_ms(&x, 10, 50, |x| drop(models.rec.forward(x).into_data()));
    println!("rec v4 1x3x48x320: {ms:.2} ms median");
}

/// `--det`: PP-OCRv4's detector on one 992×1408 page (a 1000×1400 page at the working side,
/// as the evaluation's pages reach it), median milliseconds of 10 forwards.
fn det_only(device: &Device) {
    let models = tollgate_ocr_models::PpOcr::load(tollgate_ocr_models::Version::V4, device);
    let x: Tensor<4> = Tensor::random([1, 3, 1408, 992], Distribution::Default, device);
    let ms = median_ms(&x, 2, 10, |x| drop(models.det.forward(x).into_data()));
    println!("det v4 1x3x1408x992: {ms:.1} ms median");
}

/// `--dense`: the detector's one-group convolutions that are not pointwise (on a 992×1408
/// page), Burn's against ours.
fn dense(device: &Device) {
    // (c_in, c_out, h, w, kernel, stride)
    let layers = [
        (3, 16, 1408, 992, 3, 2),
        (96, 24, 352, 248, 3, 1),
        (96, 24, 176, 124, 3, 1),
    ];
    println!("dense layer                  burn ms   ours ms   speed-up");
    for (c_in, c_out, h, w, k, stride) in layers {
        let conv = Conv2dConfig::new([c_in, c_out], [k, k])
            .with_stride([stride, stride])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .init(device);
        let x: Tensor<4> = Tensor::random([1, c_in, h, w], Distribution::Default, device);
        let (tb, to) = race(
            10,
            &x,
            |x| drop(conv.forward(x).into_data()),
            |x| drop(fused::conv2d(&conv, x).into_data()),
        );
        println!(
            "{c_in:>3}->{c_out:<3} {h:>4}x{w:<4} k{k} s{stride}   {:>9.1} {:>9.1}   {:>6.2}x",
            tb / 1e3,
            to / 1e3,
            tb / to
        );
    }
}
