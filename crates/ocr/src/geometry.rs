//! Plane geometry for text boxes: convex hulls, minimum-area rotated rectangles (rotating
//! calipers over the hull), and ordering a quadrilateral's corners clockwise from top-left.

/// A point in image coordinates (x right, y down).
pub type Point = [f32; 2];

/// A rotated rectangle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RotatedRect {
    /// Centre.
    pub center: Point,
    /// Side along `angle`.
    pub width: f32,
    /// Side perpendicular to `angle`.
    pub height: f32,
    /// Direction of the `width` side, radians.
    pub angle: f32,
}

impl RotatedRect {
    /// Corners, clockwise from top-left (as [`order_clockwise`] orders them).
    pub fn corners(&self) -> [Point; 4] {
        let (s, c) = self.angle.sin_cos();
        let (hw, hh) = (self.width / 2.0, self.height / 2.0);
        let u = [c * hw, s * hw];
        let v = [-s * hh, c * hh];
        let [cx, cy] = self.center;
        order_clockwise([
            [cx - u[0] - v[0], cy - u[1] - v[1]],
            [cx + u[0] - v[0], cy + u[1] - v[1]],
            [cx + u[0] + v[0], cy + u[1] + v[1]],
            [cx - u[0] + v[0], cy - u[1] + v[1]],
        ])
    }

    /// The shorter side.
    pub fn short_side(&self) -> f32 {
        self.width.min(self.height)
    }

    /// The rectangle grown by `d` on every side.
    pub fn expanded(&self, d: f32) -> RotatedRect {
        RotatedRect {
            width: self.width + 2.0 * d,
            height: self.height + 2.0 * d,
            ..*self
        }
    }
}

fn cross(o: Point, a: Point, b: Point) -> f32 {
    (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
}

/// Convex hull (Andrew's monotone chain), counter-clockwise in a y-up frame; collinear
/// points dropped. Fewer than three distinct points come back as they are.
pub fn convex_hull(points: &[Point]) -> Vec<Point> {
    let mut pts = points.to_vec();
    pts.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let mut hull: Vec<Point> = Vec::with_capacity(pts.len() * 2);
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &Point>> = if pass == 0 {
            Box::new(pts.iter())
        } else {
            Box::new(pts.iter().rev())
        };
        for &p in iter {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0
            {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    hull
}

/// Area of a simple polygon (absolute value).
pub fn polygon_area(poly: &[Point]) -> f32 {
    let n = poly.len();
    let twice: f32 = (0..n)
        .map(|i| {
            let (a, b) = (poly[i], poly[(i + 1) % n]);
            a[0] * b[1] - b[0] * a[1]
        })
        .sum();
    twice.abs() / 2.0
}

/// Perimeter of a closed polygon.
pub fn polygon_perimeter(poly: &[Point]) -> f32 {
    let n = poly.len();
    (0..n)
        .map(|i| {
            let (a, b) = (poly[i], poly[(i + 1) % n]);
            ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt()
        })
        .sum()
}

/// The smallest-area rectangle enclosing `points`: one of its sides lies on a hull edge,
/// so trying every hull edge direction finds it.
pub fn min_area_rect(points: &[Point]) -> Option<RotatedRect> {
    let hull = convex_hull(points);
    match hull.len() {
        0 => return None,
        1 => {
            return Some(RotatedRect {
                center: hull[0],
                width: 0.0,
                height: 0.0,
                angle: 0.0,
            })
        }
        _ => {}
    }
    let mut best: Option<(f32, RotatedRect)> = None;
    for i in 0..hull.len() {
        let (a, b) = (hull[i], hull[(i + 1) % hull.len()]);
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let len = (dx * dx + dy * dy).sqrt();
        if len == 0.0 {
            continue;
        }
        let (ux, uy) = (dx / len, dy / len);
        let (mut min_u, mut max_u, mut min_v, mut max_v) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
        for p in &hull {
            let u = p[0] * ux + p[1] * uy;
            let v = -p[0] * uy + p[1] * ux;
            min_u = min_u.min(u);
            max_u = max_u.max(u);
            min_v = min_v.min(v);
            max_v = max_v.max(v);
        }
        let (w, h) = (max_u - min_u, max_v - min_v);
        let area = w * h;
        if best.as_ref().is_none_or(|(a, _)| area < *a) {
            let (cu, cv) = ((min_u + max_u) / 2.0, (min_v + max_v) / 2.0);
            let center = [cu * ux - cv * uy, cu * uy + cv * ux];
            best = Some((
                area,
                RotatedRect {
                    center,
                    width: w,
                    height: h,
                    angle: uy.atan2(ux),
                },
            ));
        }
    }
    best.map(|(_, r)| normalise(r))
}

/// Chooses the representation whose `width` side is the more horizontal one.
fn normalise(r: RotatedRect) -> RotatedRect {
    use std::f32::consts::{FRAC_PI_2, PI};
    let mut angle = r.angle.rem_euclid(PI);
    let (mut w, mut h) = (r.width, r.height);
    if angle > FRAC_PI_2 {
        angle -= PI;
    }
    if angle.abs() > std::f32::consts::FRAC_PI_4 {
        angle -= FRAC_PI_2 * angle.signum();
        std::mem::swap(&mut w, &mut h);
    }
    RotatedRect {
        center: r.center,
        width: w,
        height: h,
        angle,
    }
}

/// Orders four corners clockwise (in image coordinates) starting from the top-left.
pub fn order_clockwise(pts: [Point; 4]) -> [Point; 4] {
    let mut by_x = pts;
    by_x.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    let (mut left, mut right) = ([by_x[0], by_x[1]], [by_x[2], by_x[3]]);
    left.sort_by(|a, b| a[1].total_cmp(&b[1]));
    right.sort_by(|a, b| a[1].total_cmp(&b[1]));
    [left[0], right[0], right[1], left[1]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_aligned_rectangle() {
        let pts = [[1.0, 1.0], [11.0, 1.0], [11.0, 5.0], [1.0, 5.0], [5.0, 3.0]];
        let r = min_area_rect(&pts).unwrap();
        assert!(
            (r.width - 10.0).abs() < 1e-4 && (r.height - 4.0).abs() < 1e-4,
            "{r:?}"
        );
        assert!(r.angle.abs() < 1e-4);
        assert_eq!(
            r.corners(),
            [[1.0, 1.0], [11.0, 1.0], [11.0, 5.0], [1.0, 5.0]]
        );
    }

    #[test]
    fn rotated_rectangle_is_recovered() {
        let truth = RotatedRect {
            center: [50.0, 40.0],
            width: 60.0,
            height: 12.0,
            angle: 0.2,
        };
        let mut pts = truth.corners().to_vec();
        pts.push([50.0, 40.0]);
        let r = min_area_rect(&pts).unwrap();
        assert!(
            (r.width - 60.0).abs() < 1e-3 && (r.height - 12.0).abs() < 1e-3,
            "{r:?}"
        );
        assert!((r.angle - 0.2).abs() < 1e-4, "{r:?}");
    }

    #[test]
    fn hull_area_perimeter() {
        let square = [[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0], [1.0, 1.0]];
        let hull = convex_hull(&square);
        assert_eq!(hull.len(), 4);
        assert_eq!(polygon_area(&hull), 4.0);
        assert_eq!(polygon_perimeter(&hull), 8.0);
    }
}
