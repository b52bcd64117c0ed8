//! Cutting a text box out of the page as an upright image: the box's corners are mapped
//! onto an axis-aligned rectangle (bilinear sampling, edges replicated); tall crops are
//! turned 90° so text runs left to right.

use crate::detect::dist;
use crate::geometry::Point;
use image::{Rgb, RgbImage};

fn sample(img: &RgbImage, x: f32, y: f32) -> Rgb<u8> {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let (x, y) = (x - 0.5, y - 0.5);
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let px = |xx: i64, yy: i64| {
        img.get_pixel(xx.clamp(0, w - 1) as u32, yy.clamp(0, h - 1) as u32)
            .0
    };
    let (x0, y0) = (x0 as i64, y0 as i64);
    let (a, b, c, d) = (
        px(x0, y0),
        px(x0 + 1, y0),
        px(x0, y0 + 1),
        px(x0 + 1, y0 + 1),
    );
    let mut out = [0u8; 3];
    for k in 0..3 {
        let top = f32::from(a[k]) * (1.0 - fx) + f32::from(b[k]) * fx;
        let bottom = f32::from(c[k]) * (1.0 - fx) + f32::from(d[k]) * fx;
        out[k] = (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8;
    }
    Rgb(out)
}

/// The upright crop of the quadrilateral `corners` (clockwise from top-left).
pub fn crop(img: &RgbImage, corners: &[Point; 4]) -> RgbImage {
    let [p0, p1, p2, p3] = *corners;
    let w = dist(p0, p1).max(dist(p3, p2)).round().max(1.0) as u32;
    let h = dist(p0, p3).max(dist(p1, p2)).round().max(1.0) as u32;
    let mut out = RgbImage::new(w, h);
    for v in 0..h {
        let t = (v as f32 + 0.5) / h as f32;
        // Interpolate the left and right edges, then along the row (a bilinear patch, exact
        // for parallelograms, which rotated rectangles are).
        let left = [p0[0] + (p3[0] - p0[0]) * t, p0[1] + (p3[1] - p0[1]) * t];
        let right = [p1[0] + (p2[0] - p1[0]) * t, p1[1] + (p2[1] - p1[1]) * t];
        for u in 0..w {
            let s = (u as f32 + 0.5) / w as f32;
            let x = left[0] + (right[0] - left[0]) * s;
            let y = left[1] + (right[1] - left[1]) * s;
            out.put_pixel(u, v, sample(img, x, y));
        }
    }
    if h as f32 >= 1.5 * w as f32 {
        image::imageops::rotate270(&out)
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_aligned_crop_copies_pixels() {
        let img = RgbImage::from_fn(10, 10, |x, y| Rgb([(x * 10) as u8, (y * 10) as u8, 0]));
        let c = crop(&img, &[[2.0, 3.0], [8.0, 3.0], [8.0, 6.0], [2.0, 6.0]]);
        assert_eq!((c.width(), c.height()), (6, 3));
        assert_eq!(c.get_pixel(0, 0).0, [20, 30, 0]);
        assert_eq!(c.get_pixel(5, 2).0, [70, 50, 0]);
    }

    #[test]
    fn tall_crops_are_turned() {
        let img = RgbImage::new(20, 40);
        let c = crop(&img, &[[0.0, 0.0], [10.0, 0.0], [10.0, 30.0], [0.0, 30.0]]);
        assert_eq!((c.width(), c.height()), (30, 10));
    }
}
