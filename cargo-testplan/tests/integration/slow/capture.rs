//! Check 3 of the daily-loop issue: `cargo testplan run -- --nocapture` and `--no-capture`
//! show a passing test's output as it runs; an unknown libtest option after `--` is an error
//! naming it (it used to become a name filter that selected nothing).

use crate::support::fixture::{Fixture, run_merged};

const TEST: [&str; 3] = ["--exact", "tests::prints_a_lot_and_passes", "--no-baseline"];

/// Lines of the test's own output: 1023 `x`s (it prints 4096 on each stream).
fn test_lines(text: &str) -> usize {
    text.lines().filter(|l| l.len() == 1023 && l.bytes().all(|b| b == b'x')).count()
}

#[test]
fn no_capture_shows_a_passing_tests_output() {
    let fixture = Fixture::copy("fixtures/faults");
    let run = |extra: &[&str]| {
        let mut args = vec!["run"];
        args.extend(TEST);
        args.extend(extra);
        run_merged(&mut fixture.testplan(&args))
    };
    let (code, captured) = run(&[]);
    assert_eq!((code, test_lines(&captured)), (Some(0), 0), "captured by default");
    for extra in [&["--no-capture"][..], &["--", "--nocapture"]] {
        let (code, text) = run(extra);
        assert_eq!(code, Some(0), "{extra:?}: {}", crate::support::compare::tail(&text, 20));
        // All but the first stdout line, which follows libtest's `test NAME ... `.
        assert!(test_lines(&text) >= 8191, "{extra:?}: the output is shown: {} lines", test_lines(&text));
        assert_eq!(crate::support::compare::last_line(&text), "1 passed, 0 failed, 0 skipped", "{extra:?}");
    }
}

#[test]
fn an_unknown_libtest_option_after_the_separator_is_named() {
    let fixture = Fixture::copy("fixtures/faults");
    let (code, text) = run_merged(&mut fixture.testplan(&["run", "--", "--frobnicate"]));
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.starts_with("error: `-- --frobnicate` is not a cargo-testplan option: options after `--` that"),
        "{text}"
    );
    let (code, text) = run_merged(&mut fixture.testplan(&["run", "--", "--show-output"]));
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("use --no-capture"), "{text}");
}
