//! Plane shapes and their measures.

use crate::point::Point;

/// A shape in the plane.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    /// A circle.
    Circle {
        /// Center.
        center: Point,
        /// Radius (non-negative).
        radius: f64,
    },
    /// An axis-aligned rectangle.
    Rectangle {
        /// Lower-left corner.
        corner: Point,
        /// Width.
        width: f64,
        /// Height.
        height: f64,
    },
    /// A triangle.
    Triangle([Point; 3]),
}

impl Shape {
    /// Area of the shape.
    ///
    /// ```
    /// use geometry::{Point, Shape};
    /// let circle = Shape::Circle { center: Point::ORIGIN, radius: 1.0 };
    /// assert!((circle.area() - std::f64::consts::PI).abs() < 1e-12);
    /// ```
    pub fn area(&self) -> f64 {
        match self {
            Shape::Circle { radius, .. } => std::f64::consts::PI * radius * radius,
            Shape::Rectangle { width, height, .. } => width * height,
            Shape::Triangle(points) => polygon_area(points),
        }
    }

    /// Perimeter of the shape.
    pub fn perimeter(&self) -> f64 {
        match self {
            Shape::Circle { radius, .. } => std::f64::consts::TAU * radius,
            Shape::Rectangle { width, height, .. } => 2.0 * (width + height),
            Shape::Triangle([a, b, c]) => a.distance(*b) + b.distance(*c) + c.distance(*a),
        }
    }

    /// Whether `p` lies inside or on the shape.
    pub fn contains(&self, p: Point) -> bool {
        match self {
            Shape::Circle { center, radius } => center.distance(p) <= *radius,
            Shape::Rectangle { corner, width, height } => {
                (corner.x..=corner.x + width).contains(&p.x) && (corner.y..=corner.y + height).contains(&p.y)
            }
            Shape::Triangle([a, b, c]) => {
                let whole = polygon_area(&[*a, *b, *c]);
                let parts =
                    polygon_area(&[p, *b, *c]) + polygon_area(&[*a, p, *c]) + polygon_area(&[*a, *b, p]);
                (parts - whole).abs() < 1e-9
            }
        }
    }
}

/// Area of a simple polygon (shoelace formula).
pub fn polygon_area(points: &[Point]) -> f64 {
    let n = points.len();
    let twice: f64 = (0..n)
        .map(|i| {
            let (p, q) = (points[i], points[(i + 1) % n]);
            p.x * q.y - q.x * p.y
        })
        .sum();
    twice.abs() / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit_square() -> Shape {
        Shape::Rectangle { corner: Point::ORIGIN, width: 1.0, height: 1.0 }
    }

    #[test]
    fn area_of_unit_square() {
        assert_eq!(unit_square().area(), 1.0);
    }

    #[test]
    fn perimeter_of_right_triangle() {
        let t = Shape::Triangle([Point::ORIGIN, Point::new(3.0, 0.0), Point::new(0.0, 4.0)]);
        assert_eq!(t.perimeter(), 12.0);
        assert_eq!(t.area(), 6.0);
    }

    #[test]
    fn degenerate_triangle_has_zero_area() {
        let t = Shape::Triangle([Point::ORIGIN, Point::new(1.0, 1.0), Point::new(2.0, 2.0)]);
        assert_eq!(t.area(), 0.0);
    }

    #[test]
    fn square_contains_its_corners() {
        let s = unit_square();
        assert!(s.contains(Point::ORIGIN));
        assert!(s.contains(Point::new(1.0, 1.0)));
        assert!(!s.contains(Point::new(1.5, 0.5)));
    }

    #[test]
    #[ignore = "slow"]
    fn monte_carlo_area_of_circle() {
        // A slow statistical check: stands in for a test that takes seconds.
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let circle = Shape::Circle { center: Point::ORIGIN, radius: 1.0 };
        let n = 400;
        let inside = (0..n * n)
            .filter(|i| {
                let x = -1.0 + 2.0 * f64::from(i % n) / f64::from(n);
                let y = -1.0 + 2.0 * f64::from(i / n) / f64::from(n);
                circle.contains(Point::new(x, y))
            })
            .count();
        let estimate = 4.0 * inside as f64 / f64::from(n * n);
        assert!((estimate - circle.area()).abs() < 0.05, "estimate {estimate}");
    }

    #[test]
    #[ignore = "requires-gpu"]
    fn gpu_rasterized_area_matches() {
        // Would compare against a GPU rasterizer; where it runs, the CPU reference must hold.
        assert_eq!(unit_square().area(), 1.0);
    }

    #[test]
    #[ignore]
    fn scratch_unit_circle_perimeter() {
        let circle = Shape::Circle { center: Point::ORIGIN, radius: 0.5 };
        assert!((circle.perimeter() - std::f64::consts::PI).abs() < 1e-12);
    }

    mod slow {
        use super::super::*;

        #[test]
        fn polygon_converges_to_circle() {
            let approx = crate::approximate_circle_area(1.0, 20_000);
            assert!((approx - std::f64::consts::PI).abs() < 1e-6);
        }

        #[test]
        fn many_triangles_contain_their_centroid() {
            for i in 1..2_000 {
                let k = f64::from(i);
                let [a, b, c] = [Point::ORIGIN, Point::new(k, 0.0), Point::new(0.0, k)];
                let centroid = Point::new((a.x + b.x + c.x) / 3.0, (a.y + b.y + c.y) / 3.0);
                assert!(Shape::Triangle([a, b, c]).contains(centroid));
            }
        }
    }
}
