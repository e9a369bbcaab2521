//! Check 3 of the phase-summaries issue: with output to a pipe there are no control
//! sequences at all; on a pseudo-terminal (under `script`) the progress bar is drawn.

use std::process::Command;

use crate::support::fixture::{Fixture, run_output, testplan_program};

const SHOWCASE: &str = "examples/showcase";

#[test]
fn piped_output_has_no_control_sequences() {
    let fixture = Fixture::copy(SHOWCASE);
    let mut cmd = fixture.testplan(&["unit", "--no-baseline"]);
    cmd.env_remove("CI");
    let out = run_output(&mut cmd);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("Phase unit:"), "{stdout}");
    for (name, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        assert!(
            !text.contains('\u{1b}') && !text.contains('\r'),
            "control sequences on piped {name}:\n{text:?}"
        );
    }
}

/// `sh -c` quoting of one word.
fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

#[test]
fn terminal_shows_the_progress_bar() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: `script` (util-linux) is not installed");
        return;
    }
    let fixture = Fixture::copy(SHOWCASE);
    // The slow phase runs for a few seconds, long enough for the bar to be drawn.
    let inner = fixture.testplan(&["slow", "--no-baseline"]);
    let words: Vec<String> = std::iter::once(testplan_program().display().to_string())
        .chain(inner.get_args().map(|a| a.to_string_lossy().into_owned()))
        .collect();
    let line = words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ");
    let mut cmd = fixture.testplan(&[]);
    let envs: Vec<_> = cmd.get_envs().map(|(k, v)| (k.to_owned(), v.map(ToOwned::to_owned))).collect();
    let mut script = Command::new("script");
    script
        .args(["-qec", &line, "/dev/null"])
        .current_dir(fixture.root())
        .env_remove("CI")
        .env("TERM", "xterm");
    for (key, value) in envs {
        match value {
            Some(value) => script.env(key, value),
            None => script.env_remove(key),
        };
    }
    cmd = script;
    let out = run_output(&mut cmd);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    // indicatif draws `[00:00:01] ===>    3/6 1 running` and redraws it in place.
    assert!(
        text.contains("\u{1b}[") && text.contains("running") && text.contains("[00:00:0"),
        "no progress bar:\n{text:?}"
    );
    assert!(text.contains("6 passed, 0 failed, 0 skipped"), "{text}");
}

/// Check 4 of the daily-loop issue: on a terminal, while a 3 s test runs, the screen names it
/// with its elapsed time, and (its duration recorded by the first run) the second run gives
/// an ETA.
#[test]
fn terminal_names_the_running_test_with_its_elapsed_time_and_an_eta() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: `script` (util-linux) is not installed");
        return;
    }
    let fixture = Fixture::copy("fixtures/faults");
    let args = ["run", "--exact", "hang_child_never_exits", "--timeout", "3s", "--no-baseline"];
    let inner = fixture.testplan(&args);
    let words: Vec<String> = std::iter::once(testplan_program().display().to_string())
        .chain(inner.get_args().map(|a| a.to_string_lossy().into_owned()))
        .collect();
    let line = words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ");
    let under_terminal = || {
        let mut script = Command::new("script");
        script
            .args(["-qec", &line, "/dev/null"])
            .current_dir(fixture.root())
            .env_remove("CI")
            .env("TERM", "xterm");
        for (key, value) in inner.get_envs() {
            match value {
                Some(value) => script.env(key, value),
                None => script.env_remove(key),
            };
        }
        let out = run_output(&mut script);
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let _first = under_terminal();
    let (code, text) = under_terminal();
    assert_eq!(code, Some(100), "the test times out:\n{text:?}");
    let elapsed = regex::Regex::new(r"\[ +[12]\.\d{3}s\] faults::hang hang_child").expect("regex");
    assert!(elapsed.is_match(&text), "no running line with over a second elapsed:\n{text:?}");
    assert!(text.contains("ETA "), "no ETA:\n{text:?}");
}
