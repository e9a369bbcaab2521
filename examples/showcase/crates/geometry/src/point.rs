//! Points and vectors in the plane.

/// A point in the plane.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Horizontal coordinate.
    pub x: f64,
    /// Vertical coordinate.
    pub y: f64,
}

/// A displacement in the plane.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Vector {
    /// Horizontal component.
    pub dx: f64,
    /// Vertical component.
    pub dy: f64,
}

impl Point {
    /// The origin.
    pub const ORIGIN: Point = Point { x: 0.0, y: 0.0 };

    /// A point at `(x, y)`.
    pub const fn new(x: f64, y: f64) -> Self {
        Point { x, y }
    }

    /// Euclidean distance to `other`.
    ///
    /// ```
    /// use geometry::Point;
    /// assert_eq!(Point::new(0.0, 0.0).distance(Point::new(3.0, 4.0)), 5.0);
    /// ```
    pub fn distance(self, other: Point) -> f64 {
        (other.x - self.x).hypot(other.y - self.y)
    }

    /// This point moved by `v`.
    pub fn translate(self, v: Vector) -> Point {
        Point::new(self.x + v.dx, self.y + v.dy)
    }
}

impl Vector {
    /// Length of the vector.
    pub fn length(self) -> f64 {
        self.dx.hypot(self.dy)
    }

    /// The unit vector with the same direction.
    ///
    /// # Panics
    /// On the zero vector, which has no direction.
    pub fn normalize(self) -> Vector {
        let len = self.length();
        assert!(len > 0.0, "cannot normalize a zero-length vector");
        Vector { dx: self.dx / len, dy: self.dy / len }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_3_4_5() {
        assert_eq!(Point::ORIGIN.distance(Point::new(3.0, 4.0)), 5.0);
    }

    #[test]
    fn distance_is_symmetric() {
        let (a, b) = (Point::new(1.0, -2.0), Point::new(-4.5, 7.0));
        assert_eq!(a.distance(b), b.distance(a));
    }

    #[test]
    fn translate_moves_point() {
        let moved = Point::new(1.0, 1.0).translate(Vector { dx: 2.0, dy: -1.0 });
        assert_eq!(moved, Point::new(3.0, 0.0));
    }

    #[test]
    fn normalize_gives_unit_length() {
        let unit = Vector { dx: 3.0, dy: 4.0 }.normalize();
        assert!((unit.length() - 1.0).abs() < 1e-12);
    }

    #[test]
    #[should_panic(expected = "zero-length")]
    fn normalize_zero_vector_panics() {
        Vector { dx: 0.0, dy: 0.0 }.normalize();
    }
}
