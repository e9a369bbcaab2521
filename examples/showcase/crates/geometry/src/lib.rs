//! Points, vectors and plane shapes.
//!
//! ```
//! use geometry::{Point, Shape};
//!
//! let square = Shape::Rectangle { corner: Point::ORIGIN, width: 2.0, height: 2.0 };
//! assert_eq!(square.area(), 4.0);
//! ```

mod point;
mod shape;

pub use point::{Point, Vector};
pub use shape::{Shape, polygon_area};

/// Reads shapes, one per line, from a file and sums their areas.
///
/// The example needs a real file, so rustdoc only compiles it:
///
/// ```no_run
/// let total = geometry::total_area_of_file("shapes.txt").expect("readable file");
/// println!("{total}");
/// ```
pub fn total_area_of_file(path: &str) -> std::io::Result<f64> {
    let text = std::fs::read_to_string(path)?;
    let mut total = 0.0;
    for line in text.lines() {
        let side: f64 = line.trim().parse().unwrap_or(0.0);
        total += side * side;
    }
    Ok(total)
}

/// Approximates the area of a circle by a regular polygon with `sides` sides.
///
/// Fine approximations take a while, so this example is not run by default
/// (`cargo test -- --include-ignored` runs it):
///
/// ```ignore
/// let approx = geometry::approximate_circle_area(1.0, 100_000);
/// assert!((approx - std::f64::consts::PI).abs() < 1e-6);
/// ```
pub fn approximate_circle_area(radius: f64, sides: u32) -> f64 {
    let points: Vec<Point> = (0..sides)
        .map(|i| {
            let angle = std::f64::consts::TAU * f64::from(i) / f64::from(sides);
            Point::new(radius * angle.cos(), radius * angle.sin())
        })
        .collect();
    polygon_area(&points)
}
