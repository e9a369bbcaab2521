//! Parsers for the test listings of libtest and libtest-like harnesses.
//!
//! `<bin> -Z unstable-options --list --format json` (with `RUSTC_BOOTSTRAP=1`) prints, on
//! Rust 1.95, one object per line:
//!
//! ```text
//! { "type": "suite", "event": "discovery" }
//! { "type": "test", "event": "discovered", "name": "tests::slow", "ignore": true, "ignore_message": "slow", "source_path": "src/lib.rs", "start_line": 37, "start_col": 35, "end_line": 37, "end_col": 45 }
//! { "type": "benchmark", "event": "discovered", "name": "b1", "ignore": false, ... }
//! { "type": "suite", "event": "completed", "tests": 7, "benchmarks": 1, "total": 8, "ignored": 4 }
//! ```
//!
//! `ignore_message` and `source_path` are written verbatim, without JSON escaping, so
//! `#[ignore = "has \"quote\""]` gives `"ignore_message": "has "quote""` and a backslash
//! stays a lone backslash. Lines of that known shape are therefore read field by field
//! (the message runs to the *last* `", "source_path": "`); other lines, or a libtest that
//! does escape (a message containing `\"`), go through `serde_json`. The `completed`
//! line's total is checked against what was read, so a listing read wrongly is rejected
//! (and the caller falls back to the terse listing) instead of silently losing tests.
//!
//! The terse listing (`--list --format terse`, and plain `--list` of `harness = false`
//! binaries) is `NAME: test` / `NAME: benchmark` per line, plus for plain `--list` a
//! footer like `3 tests, 0 benchmarks`. Custom harnesses vary the footer (libtest2-mimic:
//! `3 tests`; libtest-mimic: none) and the suffix (libtest-mimic: `NAME: bench`); see
//! [`parse_custom_list`].

use serde::Deserialize;

use crate::error::JsonListingError;
use crate::model::SourceLocation;

/// One test as a listing describes it, before it is attached to a binary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ListedTest {
    pub name: String,
    pub ignored: bool,
    pub ignore_reason: Option<String>,
    pub source: Option<SourceLocation>,
}

impl ListedTest {
    /// A test known only by name.
    pub fn named(name: impl Into<String>, ignored: bool) -> Self {
        ListedTest { name: name.into(), ignored, ignore_reason: None, source: None }
    }
}

/// One line of the JSON listing, strictly parsed.
#[derive(Debug, Deserialize)]
struct JsonEvent {
    #[serde(rename = "type")]
    kind: String,
    event: String,
    name: Option<String>,
    ignore: Option<bool>,
    ignore_message: Option<String>,
    source_path: Option<String>,
    start_line: Option<u32>,
    total: Option<usize>,
}

/// What one line of the JSON listing says.
#[derive(Debug, PartialEq, Eq)]
enum JsonLine {
    Discovered(ListedTest),
    Completed { total: usize },
    Other,
}

/// Parses a whole JSON listing. Fails when a line cannot be read, the `completed` line
/// is missing, or its total disagrees with the tests read.
pub(crate) fn parse_json_listing(output: &str) -> Result<Vec<ListedTest>, JsonListingError> {
    let mut tests = Vec::new();
    let mut total = None;
    for line in output.lines().map(str::trim).filter(|line| line.starts_with('{')) {
        match parse_json_line(line)? {
            JsonLine::Discovered(test) => tests.push(test),
            JsonLine::Completed { total: n } => total = Some(n),
            JsonLine::Other => {}
        }
    }
    match total {
        Some(total) if total == tests.len() => Ok(tests),
        Some(announced) => Err(JsonListingError::CountMismatch { announced, read: tests.len() }),
        None => Err(JsonListingError::NotCompleted),
    }
}

fn parse_json_line(line: &str) -> Result<JsonLine, JsonListingError> {
    let strict = serde_json::from_str::<JsonEvent>(line);
    if let Some(raw) = parse_discovered_verbatim(line) {
        // A libtest that escapes its strings shows `\"` where ours shows `"`.
        let escaped = raw.ignore_reason.as_deref().is_some_and(|reason| reason.contains("\\\""));
        if !escaped || strict.is_err() {
            return Ok(JsonLine::Discovered(raw));
        }
    }
    let event =
        strict.map_err(|source| JsonListingError::UnreadableLine { line: line.to_owned(), source })?;
    Ok(json_line_from_event(event))
}

fn json_line_from_event(event: JsonEvent) -> JsonLine {
    match (event.kind.as_str(), event.event.as_str()) {
        ("suite", "completed") => JsonLine::Completed { total: event.total.unwrap_or(0) },
        (_, "discovered") => JsonLine::Discovered(ListedTest {
            name: event.name.unwrap_or_default(),
            ignored: event.ignore.unwrap_or(false),
            ignore_reason: event.ignore_message.filter(|reason| !reason.is_empty()),
            source: source_location(event.source_path.as_deref(), event.start_line),
        }),
        _ => JsonLine::Other,
    }
}

/// Reads a `discovered` line of the known shape field by field, taking
/// `ignore_message` and `source_path` verbatim.
fn parse_discovered_verbatim(line: &str) -> Option<ListedTest> {
    let rest = line.strip_prefix("{ \"type\": \"")?;
    let (_kind, rest) = rest.split_once("\", \"event\": \"discovered\", \"name\": \"")?;
    let (name, rest) = rest.split_once("\", \"ignore\": ")?;
    let (ignore, rest) = rest.split_once(", \"ignore_message\": \"")?;
    let ignored = match ignore {
        "true" => true,
        "false" => false,
        _ => return None,
    };
    let (message, rest) = rest.rsplit_once("\", \"source_path\": \"")?;
    let (source_path, rest) = rest.rsplit_once("\", \"start_line\": ")?;
    let start_line = rest.split([',', ' ', '}']).next()?.parse().ok()?;
    Some(ListedTest {
        name: unescape_name(name),
        ignored,
        ignore_reason: (!message.is_empty()).then(|| message.to_owned()),
        source: source_location(Some(source_path), Some(start_line)),
    })
}

/// Test names are JSON-escaped by libtest (they rarely need it).
fn unescape_name(name: &str) -> String {
    if !name.contains('\\') {
        return name.to_owned();
    }
    serde_json::from_str::<String>(&format!("\"{name}\"")).unwrap_or_else(|_| name.to_owned())
}

/// A source location, when the listing gives a real one (doctests say `""` and `0`).
fn source_location(path: Option<&str>, line: Option<u32>) -> Option<SourceLocation> {
    match (path, line) {
        (Some(file), Some(line)) if !file.is_empty() && line > 0 => {
            Some(SourceLocation { file: file.to_owned(), line })
        }
        _ => None,
    }
}

/// The test name of a terse listing line (`NAME: test`, `NAME: benchmark`), if it is one.
pub(crate) fn terse_test_name(line: &str) -> Option<&str> {
    let line = line.trim_end_matches(['\r', '\n']);
    [": test", ": benchmark", ": bench"]
        .iter()
        .find_map(|suffix| line.strip_suffix(suffix))
        .filter(|name| !name.is_empty())
}

/// The names in a terse listing; other lines are ignored.
pub(crate) fn parse_terse(output: &str) -> Vec<String> {
    output.lines().filter_map(terse_test_name).map(str::to_owned).collect()
}

/// The number a listing footer counts, if `line` is one: libtest's and hand-written
/// harnesses' `3 tests, 0 benchmarks`, libtest2-mimic's `3 tests` (or `1 test`), and a
/// lone `2 benchmarks`.
fn list_footer_count(line: &str) -> Option<usize> {
    let counted = |part: &str, nouns: [&str; 2]| -> Option<usize> {
        let (number, noun) = part.split_once(' ')?;
        let digits = !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit());
        (digits && nouns.contains(&noun)).then(|| number.parse().ok()).flatten()
    };
    let tests = |part: &str| counted(part, ["test", "tests"]);
    let benches = |part: &str| counted(part, ["benchmark", "benchmarks"]);
    let line = line.trim();
    match line.split_once(", ") {
        Some((t, b)) => Some(tests(t)? + benches(b)?),
        None => tests(line).or_else(|| benches(line)),
    }
}

/// What a `harness = false` binary's `--list` answer says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CustomList {
    /// A listing: every non-empty line is `NAME: test` (or `: bench`, `: benchmark`) or a
    /// footer that counts them. Empty only when a footer says so (`0 tests`).
    Tests(Vec<String>),
    /// Nothing at all was printed.
    Silent,
    /// Something else; why, in a few words, for the note naming the binary.
    NotUnderstood(String),
}

/// Reads a `harness = false` binary's `--list` output. Understood formats (observed):
///
/// | harness | `--list` | `--list --ignored` |
/// |---|---|---|
/// | libtest, hand-written like it | `NAME: test` lines, a blank line, `3 tests, 0 benchmarks` | only the ignored tests |
/// | libtest-mimic 0.8.2 | `NAME: test` / `NAME: bench` lines, no footer | only the ignored tests |
/// | libtest2-mimic 0.0.4 | `NAME: test` lines, a blank line, `3 tests`, a blank line | every test (its ignores are decided at run time) |
///
/// A footer must count the lines read, so a listing read wrongly is not taken for one.
pub(crate) fn parse_custom_list(output: &str) -> CustomList {
    let mut names = Vec::new();
    let mut footer = None;
    for (number, line) in output.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()) {
        if let Some(name) = terse_test_name(line) {
            names.push(name.to_owned());
        } else if let Some(count) = list_footer_count(line) {
            footer = Some((count, line.trim()));
        } else {
            return CustomList::NotUnderstood(format!("line {}: `{}`", number + 1, excerpt(line.trim(), 60)));
        }
    }
    match footer {
        Some((count, line)) if count != names.len() => CustomList::NotUnderstood(format!(
            "its footer `{line}` counts {count}, but {} `NAME: test` lines were read",
            names.len()
        )),
        None if names.is_empty() => CustomList::Silent,
        _ => CustomList::Tests(names),
    }
}

/// The first `max` characters of `text`, with `...` when cut.
fn excerpt(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn discovered(name: &str, ignore: bool, message: &str, path: &str, line: u32) -> String {
        format!(
            "{{ \"type\": \"test\", \"event\": \"discovered\", \"name\": \"{name}\", \"ignore\": {ignore}, \
             \"ignore_message\": \"{message}\", \"source_path\": \"{path}\", \"start_line\": {line}, \
             \"start_col\": 4, \"end_line\": {line}, \"end_col\": 9 }}"
        )
    }

    fn test(name: &str, ignored: bool, reason: Option<&str>, file: &str, line: u32) -> ListedTest {
        ListedTest {
            name: name.to_owned(),
            ignored,
            ignore_reason: reason.map(str::to_owned),
            source: Some(SourceLocation { file: file.to_owned(), line }),
        }
    }

    #[test]
    fn json_lines_are_read_verbatim_like_libtest_writes_them() {
        let cases = [
            (discovered("a::b", false, "", "src/lib.rs", 3), test("a::b", false, None, "src/lib.rs", 3)),
            (
                discovered("a::slow", true, "slow", "src/lib.rs", 5),
                test("a::slow", true, Some("slow"), "src/lib.rs", 5),
            ),
            (
                discovered("q", true, r#"has "quote", comma: colon"#, "src/lib.rs", 38),
                test("q", true, Some(r#"has "quote", comma: colon"#), "src/lib.rs", 38),
            ),
            (
                discovered("bs", true, r"back\slash and } brace", "src/lib.rs", 39),
                test("bs", true, Some(r"back\slash and } brace"), "src/lib.rs", 39),
            ),
            (
                discovered("tab", true, r"C:\tools", "src/lib.rs", 2),
                test("tab", true, Some(r"C:\tools"), "src/lib.rs", 2),
            ),
            (
                discovered("tricky", true, r#"x", "source_path": "fake"#, "tests/it.rs", 7),
                test("tricky", true, Some(r#"x", "source_path": "fake"#), "tests/it.rs", 7),
            ),
            (
                discovered("requires_gpu", true, "requires-gpu, slow: needs CUDA 12", "a/src/gpu.rs", 10),
                test("requires_gpu", true, Some("requires-gpu, slow: needs CUDA 12"), "a/src/gpu.rs", 10),
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(parse_json_line(&line).ok(), Some(JsonLine::Discovered(expected)), "{line}");
        }
    }

    #[test]
    fn json_lines_of_other_shapes_go_through_serde() {
        let cases = [
            (r#"{ "type": "suite", "event": "discovery" }"#, JsonLine::Other),
            (
                r#"{ "type": "suite", "event": "completed", "tests": 7, "benchmarks": 1, "total": 8, "ignored": 4 }"#,
                JsonLine::Completed { total: 8 },
            ),
            (
                r#"{"name":"x","type":"benchmark","event":"discovered","ignore":false,"ignore_message":"","source_path":"","start_line":0}"#,
                JsonLine::Discovered(ListedTest::named("x", false)),
            ),
            (
                // A libtest that escapes: the escaped quote is decoded.
                r#"{ "type": "test", "event": "discovered", "name": "e", "ignore": true, "ignore_message": "say \"hi\"", "source_path": "src/lib.rs", "start_line": 1, "start_col": 1, "end_line": 1, "end_col": 2 }"#,
                JsonLine::Discovered(test("e", true, Some(r#"say "hi""#), "src/lib.rs", 1)),
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(parse_json_line(line).ok(), Some(expected), "{line}");
        }
        assert!(parse_json_line("{ not json").is_err());
    }

    #[test]
    fn a_json_listing_is_checked_against_its_total() {
        let body = [
            r#"{ "type": "suite", "event": "discovery" }"#.to_owned(),
            discovered("a", false, "", "src/lib.rs", 1),
            discovered("b", true, r#"why "not""#, "src/lib.rs", 2),
        ]
        .join("\n");
        let complete = format!(
            "{body}\n{{ \"type\": \"suite\", \"event\": \"completed\", \"tests\": 2, \"benchmarks\": 0, \"total\": 2, \"ignored\": 1 }}\n"
        );
        let tests = parse_json_listing(&complete).expect("parses");
        assert_eq!(tests.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(tests[1].ignore_reason.as_deref(), Some(r#"why "not""#));

        let noisy = format!("printed by a static constructor\n{complete}");
        assert_eq!(parse_json_listing(&noisy).map(|t| t.len()).ok(), Some(2));
        let short = complete.replace("\"total\": 2", "\"total\": 3");
        assert!(parse_json_listing(&short).is_err());
        assert!(parse_json_listing(&body).is_err());
        assert!(parse_json_listing("error: unrecognized option").is_err());
    }

    #[test]
    fn terse_lines_name_tests_and_benchmarks() {
        let cases = [
            ("tests::a: test", Some("tests::a")),
            ("b1: benchmark", Some("b1")),
            ("b2: bench", Some("b2")),
            ("weird: name: test", Some("weird: name")),
            ("src/lib.rs - add (line 8): test", Some("src/lib.rs - add (line 8)")),
            ("crlf: test\r", Some("crlf")),
            (": test", None),
            ("3 tests, 0 benchmarks", None),
            ("running 1 test", None),
            ("", None),
        ];
        for (line, expected) in cases {
            assert_eq!(terse_test_name(line), expected, "{line:?}");
        }
        assert_eq!(parse_terse("a: test\nnoise\nb: benchmark\n"), ["a", "b"]);
    }

    #[test]
    fn footers_are_recognised() {
        let cases = [
            ("3 tests, 0 benchmarks", Some(3)),
            ("1 test, 1 benchmark", Some(2)),
            ("0 tests, 2 benchmarks", Some(2)),
            ("3 tests", Some(3)),
            ("1 test", Some(1)),
            ("0 tests", Some(0)),
            ("2 benchmarks", Some(2)),
            ("  4 tests  ", Some(4)),
            ("x tests, 0 benchmarks", None),
            ("3 tests, 0 benchmarks extra", None),
            ("3 benchmarks, 0 tests", None),
            ("running 3 tests", None),
            ("3 tests passed", None),
            ("-1 tests", None),
            ("tests", None),
        ];
        for (line, expected) in cases {
            assert_eq!(list_footer_count(line), expected, "{line:?}");
        }
    }

    /// `--list` output of real harnesses, byte for byte (Rust 1.95).
    mod captured {
        /// libtest2-mimic 0.0.4, `--list` (and `--list --ignored`: the same, its ignores are
        /// decided at run time).
        pub const LIBTEST2_MIMIC: &str = "mimic2::passes: test\nmimic2::fails: test\n\
            mimic2::ignored_then_fails: test\nmimic2::ignored_for_then_passes: test\n\n4 tests\n\n";
        /// libtest2-mimic 0.0.4 with no trials.
        pub const LIBTEST2_MIMIC_EMPTY: &str = "\n0 tests\n\n";
        /// libtest-mimic 0.8.2, `--list` (`--format terse` and `-Z unstable-options --format
        /// json` print the same).
        pub const LIBTEST_MIMIC: &str = "mimic::passes: test\nmimic::fails: test\nmimic::ignored_fails: test\n\
            mimic::ignored_passes: test\nmimic::bench: bench\n";
        /// libtest-mimic 0.8.2, `--list --ignored`.
        pub const LIBTEST_MIMIC_IGNORED: &str = "mimic::ignored_fails: test\nmimic::ignored_passes: test\n";
        /// libtest itself, `--list` (fixtures/harnesses' listing_harness prints the same).
        pub const LIBTEST: &str = "tests::a: test\ntests::b: test\n\n2 tests, 0 benchmarks\n";
    }

    #[test]
    fn custom_lists_of_real_harnesses_are_understood() {
        let names = |names: &[&str]| CustomList::Tests(names.iter().map(|n| n.to_string()).collect());
        let cases = [
            (
                captured::LIBTEST2_MIMIC,
                names(&[
                    "mimic2::passes",
                    "mimic2::fails",
                    "mimic2::ignored_then_fails",
                    "mimic2::ignored_for_then_passes",
                ]),
            ),
            (captured::LIBTEST2_MIMIC_EMPTY, names(&[])),
            (
                captured::LIBTEST_MIMIC,
                names(&[
                    "mimic::passes",
                    "mimic::fails",
                    "mimic::ignored_fails",
                    "mimic::ignored_passes",
                    "mimic::bench",
                ]),
            ),
            (captured::LIBTEST_MIMIC_IGNORED, names(&["mimic::ignored_fails", "mimic::ignored_passes"])),
            (captured::LIBTEST, names(&["tests::a", "tests::b"])),
            ("b1: benchmark\nb2: bench\n\n0 tests, 2 benchmarks\n", names(&["b1", "b2"])),
            ("a: test\r\nb: test\r\n\r\n2 tests\r\n", names(&["a", "b"])),
        ];
        for (output, expected) in cases {
            assert_eq!(parse_custom_list(output), expected, "{output:?}");
        }
    }

    #[test]
    fn other_custom_list_answers_say_why_they_are_not_understood() {
        let not = |why: &str| CustomList::NotUnderstood(why.to_owned());
        let long = format!("{}\n", "x".repeat(100));
        let cases = [
            ("", CustomList::Silent),
            ("\n\n", CustomList::Silent),
            (
                "[pass] input has nine words\nopaque harness: 3 checks, 0 failed\n",
                not("line 1: `[pass] input has nine words`"),
            ),
            ("a: test\n\nsomething else\n", not("line 3: `something else`")),
            ("\nrunning 2 tests\ntest a ... ok\n", not("line 2: `running 2 tests`")),
            (long.as_str(), not(&format!("line 1: `{}...`", "x".repeat(60)))),
            (
                "a: test\nb: test\n\n3 tests\n",
                not("its footer `3 tests` counts 3, but 2 `NAME: test` lines were read"),
            ),
            (
                "a: test\n\n2 tests, 0 benchmarks\n",
                not("its footer `2 tests, 0 benchmarks` counts 2, but 1 `NAME: test` lines were read"),
            ),
        ];
        for (output, expected) in cases {
            assert_eq!(parse_custom_list(output), expected, "{output:?}");
        }
    }
}
