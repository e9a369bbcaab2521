//! Integration tests of the public geometry API.

use geometry::{Point, Shape, polygon_area};

#[test]
fn square_as_polygon_matches_rectangle() {
    let corners = [Point::ORIGIN, Point::new(2.0, 0.0), Point::new(2.0, 2.0), Point::new(0.0, 2.0)];
    let rect = Shape::Rectangle { corner: Point::ORIGIN, width: 2.0, height: 2.0 };
    assert_eq!(polygon_area(&corners), rect.area());
}

#[test]
fn circle_contains_its_center() {
    let center = Point::new(-3.0, 7.5);
    assert!(Shape::Circle { center, radius: 0.1 }.contains(center));
}

#[test]
fn total_area_of_missing_file_is_an_error() {
    assert!(geometry::total_area_of_file("does/not/exist.txt").is_err());
}

#[test]
#[ignore = "e2e, slow: writes and reads back a shapes file"]
fn total_area_round_trip_through_a_file() {
    std::thread::sleep(std::time::Duration::from_secs(1));
    let path = std::env::temp_dir().join(format!("showcase-shapes-{}.txt", std::process::id()));
    std::fs::write(&path, "1\n2\n3\n").expect("write temp file");
    let total = geometry::total_area_of_file(path.to_str().expect("utf-8 temp path"));
    std::fs::remove_file(&path).ok();
    assert_eq!(total.expect("readable"), 14.0);
}

mod slow {
    use super::*;

    #[test]
    fn fine_circle_approximation_is_close() {
        let approx = geometry::approximate_circle_area(2.0, 50_000);
        let exact = Shape::Circle { center: Point::ORIGIN, radius: 2.0 }.area();
        assert!((approx - exact).abs() < 1e-5);
    }
}
