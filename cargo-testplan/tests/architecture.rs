//! The architecture test: the layering rules of docs/architecture.md, checked on the
//! source of the workspace's crates, so a change that breaks one fails the suite with
//! each offending `file:line`.
//!
//! | rule | files | may not contain |
//! |---|---|---|
//! | `reporters-read-the-event-model` | `crates/testplan-reporter/src` | a `testplan_runner::` path outside [`REPORTER_MAY_USE`] |
//! | `planner-never-reads-reporters` | the planner (`testplan-runner/src/plan.rs`, `plan/`) | `testplan_reporter`, `RunReport` |
//! | `executor-never-sees-cargo` | the executor (`testplan-runner/src/execute.rs`, `execute/`) | `crate::cargo`, `CargoOptions` |
//! | `os-calls-only-under-platform` | every crate's `src` but `testplan-runner/src/platform{.rs,/}` | `libc::`, `std::os::`, `unsafe` code, `.process_group(`, `.pre_exec(` |
//!
//! The check reads text, not a syntax tree: comments (`//` to the end of the line) are
//! skipped, and so is test code — files named `tests.rs` or `testing.rs`, files under a
//! `tests/` directory, and everything from a file's first `#[cfg(test)]` line on (the
//! convention here: a file's test module is its last item). `xtask` is a developer tool
//! with its own measuring code and is not checked.

use std::fmt;
use std::path::{Path, PathBuf};

/// The runner modules a reporter may read: the event stream and the values it carries,
/// the read-only plan, the one file writer, and signal names.
const REPORTER_MAY_USE: [&str; 6] = ["events", "model", "output", "plan", "files", "signals"];

/// One source file: its workspace-relative path (with `/`) and its text.
#[derive(Debug)]
struct Source {
    path: String,
    text: String,
}

/// A broken rule at `file:line`.
#[derive(Debug, PartialEq, Eq)]
struct Violation {
    rule: &'static str,
    file: String,
    line: usize,
    found: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {} ({})", self.file, self.line, self.found, self.rule)
    }
}

/// A layering rule: the files it covers and what it finds in one line of code.
struct Rule {
    name: &'static str,
    covers: fn(&str) -> bool,
    finds: fn(&str) -> Option<String>,
}

const REPORTERS: Rule = Rule {
    name: "reporters-read-the-event-model",
    covers: |path| path.starts_with("crates/testplan-reporter/src/"),
    finds: runner_module_outside_allow_list,
};

const PLANNER: Rule = Rule {
    name: "planner-never-reads-reporters",
    covers: |path| {
        path == "crates/testplan-runner/src/plan.rs" || path.starts_with("crates/testplan-runner/src/plan/")
    },
    finds: |line| first_of(line, &["testplan_reporter", "RunReport"]),
};

const EXECUTOR: Rule = Rule {
    name: "executor-never-sees-cargo",
    covers: |path| {
        path == "crates/testplan-runner/src/execute.rs"
            || path.starts_with("crates/testplan-runner/src/execute/")
    },
    finds: |line| first_of(line, &["crate::cargo", "testplan_runner::cargo", "CargoOptions"]),
};

const PLATFORM: Rule = Rule {
    name: "os-calls-only-under-platform",
    covers: |path| {
        let platform = path == "crates/testplan-runner/src/platform.rs"
            || path.starts_with("crates/testplan-runner/src/platform/");
        let product = path.starts_with("crates/") || path.starts_with("cargo-testplan/src/");
        product && !platform && !(EXECUTOR.covers)(path)
    },
    finds: os_call,
};

/// [`PLATFORM`] for the executor's files, checked on its own while the executor's
/// restructuring (issue 11, part B) moves its last process-group call.
const EXECUTOR_PLATFORM: Rule =
    Rule { name: "os-calls-only-under-platform", covers: EXECUTOR.covers, finds: os_call };

/// Checks every covered file's code lines against `rule`.
fn check(sources: &[Source], rule: &Rule) -> Vec<Violation> {
    let mut found = Vec::new();
    for source in sources.iter().filter(|s| (rule.covers)(&s.path) && !is_test_file(&s.path)) {
        for (number, line) in code_lines(&source.text) {
            if let Some(what) = (rule.finds)(&line) {
                found.push(Violation {
                    rule: rule.name,
                    file: source.path.clone(),
                    line: number,
                    found: what,
                });
            }
        }
    }
    found
}

fn is_test_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name == "tests.rs" || name == "testing.rs" || path.contains("/tests/")
}

/// `(line number, code)` of the lines before the first `#[cfg(test)]`, comments cut off;
/// a `use` declaration spanning lines is joined into one, numbered by its first line.
fn code_lines(text: &str) -> Vec<(usize, String)> {
    let mut lines: Vec<(usize, String)> = Vec::new();
    let mut open_use = false;
    for (i, line) in text.lines().enumerate().take_while(|(_, line)| line.trim() != "#[cfg(test)]") {
        let code = line.split("//").next().unwrap_or("").trim();
        if code.is_empty() {
            continue;
        }
        match lines.last_mut() {
            Some((_, joined)) if open_use => joined.push_str(code),
            _ => lines.push((i + 1, code.to_owned())),
        }
        let starts_use =
            code.starts_with("use ") || code.starts_with("pub use ") || code.starts_with("pub(crate) use ");
        open_use = (open_use || starts_use) && !code.ends_with(';');
    }
    lines
}

fn first_of(line: &str, needles: &[&str]) -> Option<String> {
    needles.iter().find(|needle| line.contains(*needle)).map(|needle| (*needle).to_owned())
}

/// `libc::`, `std::os::`, an `unsafe` block, fn, impl or trait, `.process_group(`, `.pre_exec(`.
fn os_call(line: &str) -> Option<String> {
    if let Some(found) = first_of(line, &["libc::", "std::os::", ".process_group(", ".pre_exec("]) {
        return Some(found);
    }
    let unsafe_code = words(line).any(|(word, rest)| {
        word == "unsafe" && ["{", "fn", "impl", "trait", "extern"].iter().any(|next| rest.starts_with(next))
    });
    unsafe_code.then(|| "unsafe".to_owned())
}

/// Each identifier-like word of `line` with the text after it (leading spaces trimmed).
fn words(line: &str) -> impl Iterator<Item = (&str, &str)> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut starts = Vec::new();
    let mut previous_is_word = false;
    for (i, c) in line.char_indices() {
        if is_word(c) && !previous_is_word {
            starts.push(i);
        }
        previous_is_word = is_word(c);
    }
    starts.into_iter().map(move |start| {
        let rest = &line[start..];
        let end = rest.find(|c: char| !is_word(c)).unwrap_or(rest.len());
        (&rest[..end], rest[end..].trim_start())
    })
}

/// The first `testplan_runner::MODULE` (or `testplan_runner::{MODULE::..., ...}`) of a
/// line whose module the reporters may not use.
fn runner_module_outside_allow_list(line: &str) -> Option<String> {
    let mut rest = line;
    while let Some(at) = rest.find("testplan_runner::") {
        rest = &rest[at + "testplan_runner::".len()..];
        let modules: Vec<&str> = match rest.strip_prefix('{') {
            Some(group) => {
                top_level_items(group).into_iter().map(|item| leading_ident(item.trim())).collect()
            }
            None => vec![leading_ident(rest)],
        };
        if let Some(module) = modules.into_iter().find(|m| !m.is_empty() && !REPORTER_MAY_USE.contains(m)) {
            return Some(format!("testplan_runner::{module}"));
        }
    }
    None
}

/// The comma-separated items of a `{...}` group (its opening brace already taken), nested
/// groups kept whole.
fn top_level_items(group: &str) -> Vec<&str> {
    let (mut items, mut depth, mut start) = (Vec::new(), 0usize, 0);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                items.push(&group[start..i]);
                return items;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&group[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&group[start..]);
    items
}

fn leading_ident(text: &str) -> &str {
    let end = text.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(text.len());
    &text[..end]
}

/// The `.rs` files under each crate's `src` (and the binary's), workspace-relative.
fn workspace_sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace root").to_path_buf();
    let mut dirs: Vec<PathBuf> = vec![root.join("cargo-testplan/src")];
    let crates = std::fs::read_dir(root.join("crates")).expect("read crates/");
    dirs.extend(crates.flatten().map(|entry| entry.path().join("src")).filter(|dir| dir.is_dir()));
    let mut sources = Vec::new();
    for dir in dirs {
        collect_rs(&root, &dir, &mut sources);
    }
    assert!(sources.len() > 50, "found only {} source files under {}", sources.len(), root.display());
    sources
}

fn collect_rs(root: &Path, dir: &Path, out: &mut Vec<Source>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
    for path in entries.flatten().map(|entry| entry.path()) {
        if path.is_dir() {
            collect_rs(root, &path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let text =
                std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
            let relative =
                path.strip_prefix(root).expect("under the root").to_string_lossy().replace('\\', "/");
            out.push(Source { path: relative, text });
        }
    }
}

/// Fails with every violation of `rule` in the workspace, one `file:line` per line.
fn assert_kept(rule: &Rule) {
    let violations = check(&workspace_sources(), rule);
    let listed: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert!(violations.is_empty(), "{} broken at:\n{}", rule.name, listed.join("\n"));
}

#[test]
fn reporters_read_only_the_event_model() {
    assert_kept(&REPORTERS);
}

#[test]
fn the_planner_never_reads_reporter_types() {
    assert_kept(&PLANNER);
}

#[test]
fn the_executor_never_sees_cargo_options() {
    assert_kept(&EXECUTOR);
}

#[test]
fn os_calls_are_only_under_platform() {
    assert_kept(&PLATFORM);
}

#[test]
fn the_executor_makes_os_calls_only_through_platform() {
    assert_kept(&EXECUTOR_PLATFORM);
}

/// The check itself, on a fake source tree with one deliberate violation of each rule
/// beside code each rule must let through.
mod the_check {
    use super::*;

    fn source(path: &str, text: &str) -> Source {
        Source { path: path.to_owned(), text: text.to_owned() }
    }

    fn fake_tree() -> Vec<Source> {
        vec![
            source(
                "crates/testplan-reporter/src/human.rs",
                "//! Renders.\nuse testplan_runner::events::Event;\nuse testplan_runner::{model::TestList, platform::signal_name};\n\
                 // testplan_runner::execute in a comment is fine\nfn f() { testplan_runner::signals::signal_name(9); }\n",
            ),
            source("crates/testplan-reporter/src/json.rs", "use testplan_runner::execute::Scheduler;\n"),
            source("crates/testplan-reporter/src/testing.rs", "use testplan_runner::execute::Scheduler;\n"),
            source(
                "crates/testplan-runner/src/plan.rs",
                "use crate::model::TestList;\nuse testplan_schema::RunReport;\n",
            ),
            source("crates/testplan-runner/src/plan/limits.rs", "fn f(r: &testplan_reporter::Report) {}\n"),
            source("crates/testplan-runner/src/partition.rs", "use testplan_schema::RunReport;\n"),
            source(
                "crates/testplan-runner/src/execute/job.rs",
                "use crate::model::TestList;\nuse crate::cargo::CargoOptions;\n#[cfg(test)]\nmod tests { use crate::cargo::CargoOptions; }\n",
            ),
            source("crates/testplan-runner/src/execute/tests.rs", "use crate::cargo::CargoOptions;\n"),
            source(
                "crates/testplan-runner/src/history.rs",
                "fn is_unsafe(c: char) -> bool { c.is_unsafe() }\nlet rc = unsafe { libc::flock(fd, 2) };\n\
                 // unsafe { comments are skipped }\nuse std::os::unix::fs::FileExt;\n",
            ),
            source("crates/testplan-runner/src/cargo/build.rs", "let safe = 1;\ncommand.process_group(0);\n"),
            source("crates/testplan-runner/src/platform/unix.rs", "let rc = unsafe { libc::kill(1, 0) };\n"),
            source("crates/testplan-runner/src/platform.rs", "unsafe fn f() {}\n"),
            source("cargo-testplan/src/lib.rs", "unsafe impl Send for X {}\n"),
            source("xtask/src/measure.rs", "unsafe { command.pre_exec(f) };\n"),
        ]
    }

    fn at(rule: &Rule) -> Vec<String> {
        check(&fake_tree(), rule).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn reporters_importing_runner_internals_are_caught() {
        assert_eq!(
            at(&REPORTERS),
            [
                "crates/testplan-reporter/src/human.rs:3: testplan_runner::platform (reporters-read-the-event-model)",
                "crates/testplan-reporter/src/json.rs:1: testplan_runner::execute (reporters-read-the-event-model)",
            ]
        );
    }

    #[test]
    fn a_planner_reading_reports_is_caught() {
        assert_eq!(
            at(&PLANNER),
            [
                "crates/testplan-runner/src/plan.rs:2: RunReport (planner-never-reads-reporters)",
                "crates/testplan-runner/src/plan/limits.rs:1: testplan_reporter (planner-never-reads-reporters)",
            ]
        );
    }

    #[test]
    fn an_executor_importing_cargo_options_is_caught() {
        assert_eq!(
            at(&EXECUTOR),
            ["crates/testplan-runner/src/execute/job.rs:2: crate::cargo (executor-never-sees-cargo)"]
        );
    }

    #[test]
    fn os_calls_outside_platform_are_caught() {
        assert_eq!(
            at(&PLATFORM),
            [
                "crates/testplan-runner/src/history.rs:2: libc:: (os-calls-only-under-platform)",
                "crates/testplan-runner/src/history.rs:4: std::os:: (os-calls-only-under-platform)",
                "crates/testplan-runner/src/cargo/build.rs:2: .process_group( (os-calls-only-under-platform)",
                "cargo-testplan/src/lib.rs:1: unsafe (os-calls-only-under-platform)",
            ]
        );
    }

    #[test]
    fn os_calls_in_the_executor_are_caught_by_its_own_rule() {
        let tree = [source(
            "crates/testplan-runner/src/execute/process.rs",
            "use std::os::unix::process::CommandExt;\n",
        )];
        assert!(check(&tree, &PLATFORM).is_empty());
        let found: Vec<String> = check(&tree, &EXECUTOR_PLATFORM).iter().map(ToString::to_string).collect();
        assert_eq!(
            found,
            ["crates/testplan-runner/src/execute/process.rs:1: std::os:: (os-calls-only-under-platform)"]
        );
    }

    #[test]
    fn unsafe_is_found_as_code_not_as_part_of_a_name() {
        assert_eq!(os_call("let x = unsafe { f() };").as_deref(), Some("unsafe"));
        assert_eq!(os_call("pub unsafe fn f() {}").as_deref(), Some("unsafe"));
        assert_eq!(os_call("fn is_unsafe(c: char) -> bool {"), None);
        assert_eq!(os_call("let unsafe_count = 1;"), None);
    }

    #[test]
    fn grouped_imports_are_read_item_by_item() {
        let found = |line| runner_module_outside_allow_list(line);
        assert_eq!(found("use testplan_runner::{events::Event, model::TestList};"), None);
        assert_eq!(
            found("use testplan_runner::{events::Event, history::History};").as_deref(),
            Some("testplan_runner::history")
        );
        assert_eq!(
            found("let a = testplan_runner::files::write(p); testplan_runner::cancel::X").as_deref(),
            Some("testplan_runner::cancel")
        );
        assert_eq!(
            found("use testplan_runner::{events::{Event, TestStatus}, model::{TestIdx, TestList}};"),
            None
        );
    }

    #[test]
    fn a_use_group_over_several_lines_is_one_statement_at_its_first_line() {
        let text = "//! Doc.\nuse testplan_runner::{\n    events::Event,\n    // a comment\n    execute::Scheduler,\n};\nfn f() {}\n";
        let tree = [source("crates/testplan-reporter/src/session.rs", text)];
        let found: Vec<String> = check(&tree, &REPORTERS).iter().map(ToString::to_string).collect();
        assert_eq!(
            found,
            [
                "crates/testplan-reporter/src/session.rs:2: testplan_runner::execute (reporters-read-the-event-model)"
            ]
        );
    }
}
