//! Parsing and reporting for the `shapes` command-line tool.

use geometry::{Point, Shape};

/// Why a shape description could not be parsed.
#[derive(Debug, PartialEq)]
pub enum ParseError {
    /// The first word is not a known shape.
    UnknownShape(String),
    /// Wrong number of numbers for the shape.
    WrongArity {
        /// The shape.
        shape: &'static str,
        /// How many numbers it takes.
        expected: usize,
    },
    /// A word that should be a number is not one.
    NotANumber(String),
    /// A size that must be positive is not.
    NotPositive(f64),
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::UnknownShape(s) => write!(f, "unknown shape `{s}`"),
            ParseError::WrongArity { shape, expected } => {
                write!(f, "`{shape}` takes {expected} numbers")
            }
            ParseError::NotANumber(s) => write!(f, "`{s}` is not a number"),
            ParseError::NotPositive(v) => write!(f, "size {v} must be positive"),
        }
    }
}

/// The shapes the tool knows, as written on the command line.
pub const SHAPE_NAMES: [&str; 3] = ["circle", "rect", "triangle"];

/// Parses `circle R`, `rect W H` or `triangle X1 Y1 X2 Y2 X3 Y3`.
///
/// ```
/// let shape = shapes_cli::parse_shape("rect 2 3").unwrap();
/// assert_eq!(shape.area(), 6.0);
/// ```
pub fn parse_shape(line: &str) -> Result<Shape, ParseError> {
    let mut words = line.split_whitespace();
    let kind = words.next().unwrap_or("");
    let numbers = words
        .map(|w| w.parse::<f64>().map_err(|_| ParseError::NotANumber(w.to_owned())))
        .collect::<Result<Vec<f64>, _>>()?;
    match (kind, numbers.as_slice()) {
        ("circle", &[r]) => Ok(Shape::Circle { center: Point::ORIGIN, radius: positive(r)? }),
        ("circle", _) => Err(ParseError::WrongArity { shape: "circle", expected: 1 }),
        ("rect", &[w, h]) => {
            Ok(Shape::Rectangle { corner: Point::ORIGIN, width: positive(w)?, height: positive(h)? })
        }
        ("rect", _) => Err(ParseError::WrongArity { shape: "rect", expected: 2 }),
        ("triangle", &[x1, y1, x2, y2, x3, y3]) => {
            Ok(Shape::Triangle([Point::new(x1, y1), Point::new(x2, y2), Point::new(x3, y3)]))
        }
        ("triangle", _) => Err(ParseError::WrongArity { shape: "triangle", expected: 6 }),
        (other, _) => Err(ParseError::UnknownShape(other.to_owned())),
    }
}

fn positive(v: f64) -> Result<f64, ParseError> {
    if v > 0.0 { Ok(v) } else { Err(ParseError::NotPositive(v)) }
}

/// One report line: `area=… perimeter=…` with three decimals.
pub fn report(shape: &Shape) -> String {
    format!("area={:.3} perimeter={:.3}", shape.area(), shape.perimeter())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_circle() {
        let shape = parse_shape("circle 2").expect("valid");
        assert_eq!(shape, Shape::Circle { center: Point::ORIGIN, radius: 2.0 });
    }

    #[test]
    fn parses_triangle() {
        let shape = parse_shape("triangle 0 0 4 0 0 3").expect("valid");
        assert_eq!(shape.area(), 6.0);
    }

    #[test]
    fn rejects_unknown_shape() {
        assert_eq!(parse_shape("hexagon 1"), Err(ParseError::UnknownShape("hexagon".into())));
    }

    #[test]
    fn rejects_negative_radius() {
        assert_eq!(parse_shape("circle -1"), Err(ParseError::NotPositive(-1.0)));
    }

    #[test]
    fn report_rounds_to_three_decimals() {
        let shape = parse_shape("circle 1").expect("valid");
        assert_eq!(report(&shape), "area=3.142 perimeter=6.283");
    }
}
