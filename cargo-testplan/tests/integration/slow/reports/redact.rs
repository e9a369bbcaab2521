//! Redaction of what varies between runs (durations, sizes, paths, thread ids, and the
//! order of lists sorted by them) so real output can be snapshot-tested.

use regex::Regex;

/// `text` with `root` (the copied fixture) shown as `[ROOT]`, temporary paths as `[TMP]`,
/// durations as `[T]`, sizes as `[SIZE]`, panicking threads' ids as `(N)`, and the entries
/// of the "Slowest" and "Peak RSS" lists (ordered by measurements) as `[entry]`.
pub fn redact(text: &str, root: &std::path::Path) -> String {
    // The lists first: they are recognised by their column layout, which redaction changes.
    let mut text = measured_lists(text).replace(&root.display().to_string(), "[ROOT]");
    let rules = [
        (r"/tmp/[^\s`'\x22)]+", "[TMP]"),
        // Padded columns first, so the padding (which depends on the value) goes too.
        (r"\[ *\d+\.\d+s\]", "[[T]]"),
        (r" +\d+(\.\d+)? (B|KiB|MiB|GiB)\b", " [SIZE]"),
        (r"\b\d+\.\d+s\b", "[T]"),
        (r"' \(\d+\) panicked", "' (N) panicked"),
        (r"(?m)^(\s+)\d+ tests in \[T\]", "$1N tests in [T]"),
    ];
    for (pattern, replacement) in rules {
        let re = Regex::new(pattern).expect("valid regex");
        text = re.replace_all(&text, replacement).into_owned();
    }
    text
}

/// Entries of the human "Slowest:"/"Peak RSS:" sections and the Markdown "**Slowest:**" /
/// "**Largest peak RSS:**" lines are ordered, and even chosen, by measurement (a test that
/// took no measurable time is not listed): keep only that the section is there.
fn measured_lists(text: &str) -> String {
    let mut out = Vec::new();
    let mut in_list = false;
    for line in text.lines() {
        let label = line.trim_start();
        if label.starts_with("Slowest:") || label.starts_with("Peak RSS:") {
            in_list = true;
            let head = &line[..line.find(':').map_or(0, |i| i + 1)];
            out.push(format!("{head}  [entries]"));
        } else if label.starts_with("**Slowest:**") || label.starts_with("**Largest peak RSS:**") {
            let head = &line[..line.find(":**").map_or(0, |i| i + 3)];
            out.push(format!("{head} [entries]"));
        } else if in_list && line.starts_with("               ") {
            // A further entry of the section: dropped.
        } else {
            in_list = false;
            out.push(line.to_owned());
        }
    }
    let mut joined = out.join("\n");
    if text.ends_with('\n') {
        joined.push('\n');
    }
    joined
}

#[test]
fn redaction_keeps_the_shape() {
    let text = "     Slowest:     3.004s  faults::hang hang_forever\n                  0.010s  faults tests::passes\n    Peak RSS:   12.0 MiB  faults tests::passes\n                 3.0 MiB  faults::hang hang_forever\n    Binaries:  faults (lib): 1/1 passed\nthread 'x' (4242) panicked at 12.5 MiB 0.250s\n";
    assert_eq!(
        redact(text, std::path::Path::new("/nowhere")),
        "     Slowest:  [entries]\n    Peak RSS:  [entries]\n    Binaries:  faults (lib): 1/1 passed\nthread 'x' (N) panicked at [SIZE] [T]\n"
    );
}
