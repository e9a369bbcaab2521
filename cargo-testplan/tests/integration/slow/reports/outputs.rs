//! Outputs that survive anything (issue 13, checks 1-3 for files, options and the history
//! lock), on real runs of `fixtures/configured`'s unit phase (`NETKIT_FAIL=unit` makes one
//! of its tests fail):
//! - a symlink planted at any name a run writes (its outputs, everything under
//!   `<target-dir>/testplan/`, `$GITHUB_STEP_SUMMARY`) is never followed;
//! - a read-only report directory, and a full 64 KiB tmpfs, as one output's destination:
//!   the other outputs are written, no temporary file is left, and the exit code is 100
//!   when a test failed (110 when none did); the same for `merge -o`;
//! - `--timeout 0`, `-j 0` and `--memory-limit 100` exit 2 saying what to write instead;
//! - a history lock held under a dead pid is taken over; one held by a live pid is named
//!   while the run waits, and given up after `CARGO_TESTPLAN_HISTORY_LOCK_WAIT`.
//!
//! The symlink and lock tests plant files in the target directory, so each uses a target
//! directory of its own (a fixture name of its own); the fixture builds in seconds.

use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::fixture::{Fixture, repo_root, run_output, testplan_program};

/// The fixture, copied under `name` (which names its target directory).
fn configured(name: &str) -> Fixture {
    Fixture::copy_from(&repo_root().join("fixtures/configured"), name)
}

fn arg(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

/// `cargo testplan unit` with no progress, no baseline and no GitHub environment of the
/// caller's; `fail` makes one test fail.
fn unit_run(fixture: &Fixture, fail: bool, extra: &[&str]) -> Command {
    let mut cmd = fixture.testplan(&["unit", "--no-progress", "--no-baseline"]);
    cmd.args(extra).env_remove("GITHUB_ACTIONS").env_remove("GITHUB_STEP_SUMMARY");
    if fail {
        cmd.env("NETKIT_FAIL", "unit");
    } else {
        cmd.env_remove("NETKIT_FAIL");
    }
    cmd
}

struct Ran {
    code: Option<i32>,
    stderr: String,
    all: String,
}

fn run(cmd: &mut Command) -> Ran {
    let out = run_output(cmd);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    Ran { code: out.status.code(), all: format!("--- stdout\n{stdout}--- stderr\n{stderr}"), stderr }
}

/// Every entry under `dir`, relative, sorted (directories end with `/`).
fn tree(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in fs::read_dir(&current).expect("read dir").flatten() {
            let path = entry.path();
            let rel = path.strip_prefix(dir).expect("under dir").display().to_string();
            if entry.file_type().expect("file type").is_dir() {
                found.push(format!("{rel}/"));
                stack.push(path);
            } else {
                found.push(rel);
            }
        }
    }
    found.sort();
    found
}

fn is_regular_file(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file())
}

/// Files the tool must never write through: each a root-only file with its own content.
struct Victims {
    dir: PathBuf,
    planted: Vec<(PathBuf, PathBuf)>,
}

impl Victims {
    fn new(dir: PathBuf) -> Victims {
        Victims { dir, planted: Vec::new() }
    }

    /// Replaces whatever is at `at` by a symlink to a new victim.
    fn plant(&mut self, at: &Path) {
        let victim = self.dir.join(format!("victim-{}", self.planted.len()));
        fs::write(&victim, format!("precious {}", self.planted.len())).expect("write victim");
        fs::set_permissions(&victim, fs::Permissions::from_mode(0o600)).expect("chmod victim");
        if fs::symlink_metadata(at).is_ok() {
            fs::remove_file(at).expect("remove before planting");
        }
        fs::create_dir_all(at.parent().expect("parent")).expect("mkdir");
        symlink(&victim, at).expect("plant symlink");
        self.planted.push((at.to_path_buf(), victim));
    }

    fn untouched(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (i, (at, victim)) in self.planted.iter().enumerate() {
            let text = fs::read_to_string(victim).unwrap_or_default();
            if text != format!("precious {i}") {
                problems.push(format!("{} was written through {}: {text:?}", victim.display(), at.display()));
            }
        }
        problems
    }
}

#[test]
fn planted_symlinks_are_never_followed() {
    let fixture = configured("configured-symlinks");
    let out = fixture.scratch("out");
    let step_summary = out.join("step-summary.md");
    let outputs = [out.join("report.json"), out.join("junit.xml"), out.join("summary.md")];
    let extra =
        ["--report-json", arg(&outputs[0]), "--junit", arg(&outputs[1]), "--markdown", arg(&outputs[2])];
    // Twice, so every file a run keeps under the target dir exists (the listing cache keeps
    // only settled executables).
    for _ in 0..2 {
        let ran = run(&mut unit_run(&fixture, true, &extra));
        assert_eq!(ran.code, Some(100), "{}", ran.all);
    }
    let state = fixture.target_dir().join("testplan");
    let mut victims = Victims::new(fixture.scratch("victims"));
    let kept: Vec<String> = tree(&state).into_iter().filter(|p| !p.ends_with('/')).collect();
    for rel in &kept {
        victims.plant(&state.join(rel));
    }
    for path in outputs.iter().chain([&step_summary, &state.join("history.json.lock")]) {
        victims.plant(path);
    }
    let mut cmd = unit_run(&fixture, true, &extra);
    cmd.env("GITHUB_ACTIONS", "true").env("GITHUB_STEP_SUMMARY", &step_summary);
    let ran = run(&mut cmd);

    let mut problems = victims.untouched();
    if ran.code != Some(100) {
        problems.push(format!("exit {:?}, expected 100 (a test failed)", ran.code));
    }
    for path in &outputs {
        if !is_regular_file(path) || fs::read(path).map_or(true, |b| b.is_empty()) {
            problems.push(format!("{} was not written as a file of its own", path.display()));
        }
    }
    for rel in ["last-run.json", "runs/phase-unit.json"] {
        if !is_regular_file(&state.join(rel)) {
            problems.push(format!("target/testplan/{rel} is not a file of its own"));
        }
    }
    // A symlink at the lock's name is refused: the history is not updated (a warning).
    let lock_refused = format!(
        "warning: could not save the test history: {}: a symbolic link, not followed",
        state.join("history.json.lock").display()
    );
    if !ran.stderr.contains(&lock_refused) {
        problems.push(format!("no line {lock_refused:?}"));
    }
    let refused = format!(
        "error: could not write the Markdown summary ($GITHUB_STEP_SUMMARY) to {}: a symbolic link, not followed",
        step_summary.display()
    );
    if !ran.stderr.contains(&refused) {
        problems.push(format!("no line {refused:?}"));
    }
    let leftovers: Vec<String> = tree(&out).into_iter().filter(|p| p.ends_with(".tmp")).collect();
    if !leftovers.is_empty() {
        problems.push(format!("temporary files left: {leftovers:?}"));
    }
    assert!(
        problems.is_empty(),
        "planted at {kept:?} and the outputs:\n{}\n{}",
        problems.join("\n"),
        ran.all
    );
}

/// A file system mounted for one test, unmounted when dropped.
struct Mount {
    dir: PathBuf,
}

impl Mount {
    /// `mount -t tmpfs -o OPTIONS tmpfs DIR`, or why not (not root, no mount in this
    /// container).
    fn tmpfs(dir: &Path, options: &str) -> Result<Mount, String> {
        fs::create_dir_all(dir).expect("mkdir");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs", arg(dir)])
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs -o {options} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Mount { dir: dir.to_path_buf() })
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
    }
}

/// A directory nothing can be written to: a read-only tmpfs for root (which ignores mode
/// bits), else mode 0555.
fn read_only_dir(dir: &Path) -> Result<Option<Mount>, String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return Mount::tmpfs(dir, "size=64k,ro").map(Some);
    }
    fs::create_dir_all(dir).expect("mkdir");
    fs::set_permissions(dir, fs::Permissions::from_mode(0o555)).expect("chmod");
    Ok(None)
}

/// Fills the file system of `dir` (a small tmpfs) with one file.
fn fill(dir: &Path) {
    use std::io::Write;
    let mut file = fs::File::create(dir.join("filler")).expect("create filler");
    let chunk = [b'x'; 4096];
    while file.write_all(&chunk).is_ok() {}
    let _ = file.sync_all();
}

/// What is wrong with a run (or merge) whose output under `dir` could not be written.
struct Expect<'a> {
    code: i32,
    /// The outputs that must be written.
    others: &'a [PathBuf],
    /// The start of the error line of the failed output.
    said: String,
    dir: &'a Path,
    before: &'a [String],
}

impl Expect<'_> {
    fn problems(&self, ran: &Ran) -> Vec<String> {
        let mut problems = Vec::new();
        if ran.code != Some(self.code) {
            problems.push(format!("exit {:?}, expected {}", ran.code, self.code));
        }
        for path in self.others {
            if fs::read(path).map_or(true, |b| b.is_empty()) {
                problems.push(format!("{} not written", path.display()));
            }
        }
        if !ran.stderr.contains(&self.said) {
            problems.push(format!("no line starting {:?}", self.said));
        }
        let after = tree(self.dir);
        if after != self.before {
            problems.push(format!("left in the destination: {after:?} (before: {:?})", self.before));
        }
        problems
    }
}

/// One output fails (its directory read-only, or its file system full); the others are
/// written, nothing is left behind, and the exit code says tests failed (100) before it
/// says an output failed (110). The same for `merge`.
#[test]
fn an_output_that_cannot_be_written_leaves_the_others_written() {
    let fixture = Fixture::copy("fixtures/configured");
    let ok = fixture.scratch("ok");
    let shard = ok.join("shard.json");
    let ran = run(&mut unit_run(&fixture, true, &["--report-json", arg(&shard)]));
    assert_eq!(ran.code, Some(100), "{}", ran.all);
    let mut skipped = Vec::new();
    for case in ["read-only", "full"] {
        let dir = fixture.scratch("mounts").join(case);
        let mount = match case {
            "read-only" => read_only_dir(&dir),
            _ => Mount::tmpfs(&dir, "size=64k").map(Some),
        };
        let _mount = match mount {
            Ok(mount) => mount,
            Err(why) => {
                println!("skipped the {case} destination: {why}");
                skipped.push(case);
                continue;
            }
        };
        if case == "full" {
            fill(&dir);
        }
        let before = tree(&dir);
        let failing = dir.join("report.json");
        for (fail, code) in [(true, 100), (false, 110)] {
            let others = [ok.join(format!("{case}-{fail}.xml")), ok.join(format!("{case}-{fail}.md"))];
            let extra =
                ["--report-json", arg(&failing), "--junit", arg(&others[0]), "--markdown", arg(&others[1])];
            let ran = run(&mut unit_run(&fixture, fail, &extra));
            let said = format!("error: could not write the run report to {}: ", failing.display());
            let problems = Expect { code, others: &others, said, dir: &dir, before: &before }.problems(&ran);
            assert!(
                problems.is_empty(),
                "{case}, failing test {fail}:\n{}\n{}",
                problems.join("\n"),
                ran.all
            );
        }
        let merged = dir.join("merged.json");
        let others = [ok.join(format!("{case}-merged.xml"))];
        let mut cmd =
            fixture.testplan(&["merge", arg(&shard), "-o", arg(&merged), "--junit", arg(&others[0])]);
        let ran = run(cmd.env_remove("GITHUB_ACTIONS"));
        let said = format!("error: could not write the merged report to {}: ", merged.display());
        let problems = Expect { code: 100, others: &others, said, dir: &dir, before: &before }.problems(&ran);
        assert!(problems.is_empty(), "{case}, merge:\n{}\n{}", problems.join("\n"), ran.all);
    }
    if !skipped.is_empty() {
        println!("cases skipped (printed above): {skipped:?}");
    }
}

#[test]
fn odd_option_values_exit_2_saying_what_to_write() {
    let cases: [(&[&str], &str); 3] = [
        (&["run", "--timeout", "0"], "a zero timeout would time out every test: give e.g. 300s, 10m or 1h"),
        (&["run", "-j", "0"], "-j 0 would run nothing: give 1 or more, or leave -j out for the default"),
        (&["unit", "--memory-limit", "100"], "a size needs a unit: did you mean 100MiB?"),
    ];
    for (args, message) in cases {
        let out =
            run_output(Command::new(testplan_program()).arg("testplan").args(args).stdin(Stdio::null()));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

/// Holds `<target-dir>/testplan/history.json.lock` as a run would, naming `pid`.
fn hold_history_lock(fixture: &Fixture, pid: u32) -> fs::File {
    use std::os::fd::AsRawFd;
    let dir = fixture.target_dir().join("testplan");
    fs::create_dir_all(&dir).expect("mkdir");
    let path = dir.join("history.json.lock");
    let file = fs::File::options().create(true).truncate(true).write(true).open(&path).expect("open lock");
    // SAFETY: `flock` on a descriptor `file` keeps open; no memory is involved.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    assert_eq!(rc, 0, "lock {}", path.display());
    std::io::Write::write_all(&mut &file, format!("{pid}\n").as_bytes()).expect("write pid");
    file
}

#[test]
fn a_history_lock_of_a_dead_run_is_taken_over_and_a_live_one_named() {
    let fixture = configured("configured-lock");
    let history = fixture.target_dir().join("testplan/history.json");

    // Held, but its pid is gone (a descriptor the dead run passed on).
    let mut gone = Command::new("true").spawn().expect("spawn true");
    gone.wait().expect("wait");
    let held = hold_history_lock(&fixture, gone.id());
    let _ = fs::remove_file(&history);
    let ran = run(&mut unit_run(&fixture, false, &[]));
    drop(held);
    let took = format!(
        "warning: took over the test history lock {}: its holder, pid {}, is gone",
        history.with_extension("json.lock").display(),
        gone.id()
    );
    assert!(
        ran.code == Some(0) && ran.stderr.contains(&took) && history.is_file(),
        "dead holder: exit {:?}, history written {}\n{}",
        ran.code,
        history.is_file(),
        ran.all
    );

    // Held by this (live) process: named while the run waits, given up after the wait.
    let held = hold_history_lock(&fixture, std::process::id());
    let mut cmd = unit_run(&fixture, false, &[]);
    cmd.env("CARGO_TESTPLAN_HISTORY_LOCK_WAIT", "3s").stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn run");
    let stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let waiting = format!("held by pid {} (another cargo-testplan run?)", std::process::id());
    let gave_up = "warning: could not save the test history: gave up after 3s waiting for the lock";
    // Read as the run writes: the waiting line comes while it waits, the give-up after.
    let lines: Vec<String> = stderr.lines().map(|line| line.expect("read stderr")).collect();
    let status = child.wait().expect("wait run");
    drop(held);
    let text = lines.join("\n");
    let position = |needle: &str| lines.iter().position(|line| line.contains(needle));
    match (position(&waiting), position(gave_up)) {
        (Some(w), Some(g)) if w < g => {}
        found => panic!("expected {waiting:?}, then {gave_up:?}; found at {found:?}:\n{text}"),
    }
    assert_eq!(status.code(), Some(0), "the history is not an output: {text}");
}
