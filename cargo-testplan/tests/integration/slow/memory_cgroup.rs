//! Check 1 of the memory issue: in a cgroup v1 memory cgroup limited to 2 GiB, the eight
//! tests of `fixtures/memory/tests/hold.rs` (each touching 1.1 GiB for a second) all pass
//! under `cargo testplan run` on a first run with no history, and the cgroup's `oom_kill`
//! counter does not move — with the default settings (memory bounds the jobs), and with a
//! budget that lies (`--memory-budget 8GiB -j 2`), where only the live memory watch (stop
//! the newest growing test, re-run it alone) stands between the run and the OOM killer.
//!
//! Tests that need a memory cgroup call [`MemCgroup::create`] first; when none can be made
//! (not root, no writable cgroup v1 memory controller at `/sys/fs/cgroup/memory`, macOS,
//! most containers) they print why and return early, passing. The cgroup is removed when
//! the test ends, passing or not.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::fixture::{Fixture, run_merged};

/// The cgroup v1 memory controller.
const MEMORY_ROOT: &str = "/sys/fs/cgroup/memory";
const GIB: u64 = 1 << 30;

/// A cgroup v1 memory cgroup of this test, removed on drop.
#[derive(Debug)]
pub struct MemCgroup {
    path: PathBuf,
}

impl MemCgroup {
    /// Creates a cgroup limited to `limit` bytes (memory+swap too, where swap accounting
    /// exists), or says why it cannot.
    pub fn create(limit: u64) -> Result<MemCgroup, String> {
        let root = Path::new(MEMORY_ROOT);
        if !root.join("cgroup.procs").is_file() {
            return Err(format!("no cgroup v1 memory controller mounted at {MEMORY_ROOT}"));
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let path = root.join(format!("cargo-testplan-test-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&path).map_err(|e| {
            format!("cannot create {} ({e}): needs root and a writable controller", path.display())
        })?;
        let cgroup = MemCgroup { path };
        cgroup.write("memory.limit_in_bytes", &limit.to_string())?;
        // Without swap accounting there is no such file; with it, swap must not stretch the
        // limit. Its limit may not be below the memory limit, so it is set second.
        if cgroup.path.join("memory.memsw.limit_in_bytes").exists() {
            cgroup.write("memory.memsw.limit_in_bytes", &limit.to_string())?;
        }
        Ok(cgroup)
    }

    /// Its directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write(&self, file: &str, value: &str) -> Result<(), String> {
        let path = self.path.join(file);
        std::fs::write(&path, value).map_err(|e| format!("cannot write {value} to {}: {e}", path.display()))
    }

    /// The `oom_kill` count of `memory.oom_control`: processes the kernel's OOM killer
    /// killed in this cgroup.
    pub fn oom_kills(&self) -> u64 {
        let text = std::fs::read_to_string(self.path.join("memory.oom_control")).expect("memory.oom_control");
        text.lines()
            .find_map(|line| line.strip_prefix("oom_kill "))
            .and_then(|n| n.trim().parse().ok())
            .expect("an oom_kill line (Linux 4.13+)")
    }

    /// `cmd`, started inside this cgroup: a shell moves itself in, then execs the program.
    pub fn wrap(&self, cmd: &Command) -> Command {
        let procs = self.path.join("cgroup.procs");
        let script = format!("echo $$ > '{}' && exec \"$0\" \"$@\"", procs.display());
        let mut wrapped = Command::new("sh");
        wrapped.arg("-c").arg(script).arg(cmd.get_program()).args(cmd.get_args());
        for (key, value) in cmd.get_envs() {
            match value {
                Some(value) => wrapped.env(key, value),
                None => wrapped.env_remove(key),
            };
        }
        if let Some(dir) = cmd.get_current_dir() {
            wrapped.current_dir(dir);
        }
        wrapped
    }
}

impl Drop for MemCgroup {
    fn drop(&mut self) {
        // A cgroup can be removed once its processes are gone (a killed one may take a moment).
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::fs::remove_dir(&self.path).is_err() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// `cargo testplan ARGS` on the fixture with `target` as its target dir.
fn testplan(fixture: &Fixture, target: &Path, args: &[&str]) -> Command {
    let mut cmd = fixture.testplan(args);
    cmd.env("CARGO_TARGET_DIR", target);
    cmd
}

/// What a run inside a fresh 2 GiB cgroup did: exit code, output, the kernel's OOM kills.
type CgroupRun = (Option<i32>, String, u64);

/// Runs `cmd` inside a cgroup of its own limited to 2 GiB.
fn run_in_cgroup(cmd: &Command) -> Result<CgroupRun, String> {
    let cgroup = MemCgroup::create(2 * GIB)?;
    let before = cgroup.oom_kills();
    let (code, text) = run_merged(&mut cgroup.wrap(cmd));
    Ok((code, text, cgroup.oom_kills() - before))
}

#[test]
fn eight_tests_of_1_1_gib_pass_in_a_2_gib_cgroup_without_an_oom_kill() {
    if let Err(why) = MemCgroup::create(2 * GIB) {
        eprintln!("skipped: no memory cgroup for this test: {why}");
        return;
    }
    let fixture = Fixture::copy("fixtures/memory");
    // A target dir of its own, so the runs have no history. Built outside the cgroups: the
    // build is not what is measured, and needs memory of its own.
    let target = fixture.scratch("target");
    let (code, text) = run_merged(&mut testplan(&fixture, &target, &["list", "--test", "hold"]));
    assert_eq!(code, Some(0), "{text}");

    // Two runs at once, each in its own 2 GiB cgroup: the default settings (memory bounds
    // the jobs), and estimates fooled by a budget that lies, where only the live watch
    // stands between the run and the kernel's OOM killer.
    let default = testplan(&fixture, &target, &["run", "--test", "hold", "-v"]);
    let lying = ["run", "--test", "hold", "-v", "-j", "2", "--memory-budget", "8GiB"];
    let lying = testplan(&fixture, &target, &lying);
    let (default, lying) = std::thread::scope(|scope| {
        let default = scope.spawn(|| run_in_cgroup(&default));
        let lying = scope.spawn(|| run_in_cgroup(&lying));
        (default.join().expect("default run"), lying.join().expect("lying run"))
    });
    let (code, text, oom_kills) = default.expect("a cgroup");
    assert_eq!(oom_kills, 0, "the kernel OOM-killed a process:\n{text}");
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(text.lines().last(), Some("8 passed, 0 failed, 0 skipped"), "{text}");
    assert!(
        text.contains("; jobs 1 (2 CPUs; ") || text.contains("; jobs 1 (1 CPU; "),
        "memory bounds the jobs:\n{text}"
    );

    let (code, text, oom_kills) = lying.expect("a cgroup");
    assert_eq!(oom_kills, 0, "the kernel OOM-killed a process:\n{text}");
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(text.lines().last(), Some("8 passed, 0 failed, 0 skipped"), "{text}");
    assert!(text.contains("RESTART"), "tests were stopped and re-run alone:\n{text}");
}
