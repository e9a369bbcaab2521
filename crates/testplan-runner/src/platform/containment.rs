//! Containment: every job (a test process, or a batch process) in a cgroup of its own, so
//! the kernel enforces its memory limit, charges it exactly (children and page cache
//! included), counts an OOM kill in its own files, keeps its peak, and lets the runner find
//! and kill everything it started — whatever process group or session it moved to.
//!
//! The levels, chosen once at start-up (docs/memory.md#containment):
//!
//! | level | needs | per job |
//! |---|---|---|
//! | cgroup v2 | a writable unified hierarchy with the memory controller (root, or a delegated subtree) | `memory.max`, `memory.swap.max = 0`, `memory.oom.group = 1`; `memory.events` `oom_kill`; `memory.peak`; `cgroup.kill` |
//! | cgroup v1 | a writable v1 memory controller (root) | `memory.limit_in_bytes` (and `memsw`); `memory.oom_control` `oom_kill`; `memory.max_usage_in_bytes`; every pid of `cgroup.procs` killed |
//! | none | — | process groups, `/proc` sampling of the tree's RSS (the memory guard), `RLIMIT_AS` at a generous multiple of the limit |
//!
//! Layout: a run group `testplan-<runner pid>` inside the cgroup the runner was started in
//! (never beside it, never at the root), so any limit that encloses the run still binds;
//! one `job-<id>` group per job inside it. cgroup v2 forbids processes in a cgroup whose
//! children use a controller, so there the runner first moves itself into
//! `testplan-<pid>/runner`. The run group's limit leaves the enclosing cgroup (or the
//! machine) a reserve ([`run_group_limit`]), so a test that runs away is stopped by its
//! own limit, or by the run group's, before anything outside the run is touched.
//!
//! A job joins its group in the child between fork and exec (it writes `0`, "myself", to
//! the group's `cgroup.procs`), so no test code runs outside it. Groups are removed when
//! their job is settled and at the end of the run. If the runner is killed outright
//! (SIGKILL), its test processes die with it (`PR_SET_PDEATHSIG`), a sentinel shell it
//! started kills what they left in their groups ([`Sentinel`]), and failing that a later
//! run removes the groups of runs whose runner is gone, killing what was left in them.

use std::ffi::CString;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::resources::cgroup::{CgroupVersion, Cgroups};
use crate::resources::{MemoryInfo, ProbeRoots};

/// What `--containment` asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ContainmentMode {
    /// The best level the machine allows.
    #[default]
    Auto,
    /// A cgroup level, or an error saying why there is none.
    Cgroup,
    /// No cgroups: process groups and sampling.
    None,
}

/// Why there is no cgroup level (or, with `--containment cgroup`, why the run cannot start).
#[derive(Debug, thiserror::Error)]
pub enum ContainmentError {
    /// Neither a v2 hierarchy with the memory controller nor a v1 memory controller.
    #[error("no cgroup memory controller (v2 with `memory`, or v1) is mounted")]
    NoController,
    /// A group's directory could not be made.
    #[error("cannot create {}: {source}", path.display())]
    Create {
        /// The group's directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// A cgroup file could not be written.
    #[error("cannot write `{value}` to {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What was written.
        value: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The memory controller could not be enabled below the runner's cgroup.
    #[error("{0} (the runner's cgroup has other processes?)")]
    Enable(#[source] Box<ContainmentError>),
    /// `--containment cgroup` was asked for and there is no cgroup level.
    #[error("--containment cgroup: {0}")]
    Required(#[source] Box<ContainmentError>),
}

/// Prefix of the run groups this tool creates.
const RUN_PREFIX: &str = "testplan-";
/// The smallest reserve the run group leaves the enclosing cgroup or machine.
const MIN_RESERVE: u64 = 64 << 20;

/// The containment of one run.
#[derive(Debug)]
pub struct Containment {
    level: Option<RunGroup>,
    /// Why there is no cgroup level, when there is none.
    why_not: Option<String>,
    /// Empties the run group if the runner dies without doing it ([`Sentinel`]).
    sentinel: Option<Sentinel>,
}

/// A small shell, outside the runner's process group, blocked reading a pipe only the
/// runner writes to. When the runner ends normally it says `done` and the shell exits; when
/// the runner dies (SIGKILL, a crash) the pipe reaches end of file and the shell kills every
/// process left in the run's job groups and removes them — what `PR_SET_PDEATHSIG` cannot
/// do for a test's own children.
#[derive(Debug)]
struct Sentinel {
    child: std::process::Child,
    pipe: std::io::PipeWriter,
}

/// The sentinel's script; `$1` is the run group.
const SENTINEL_SCRIPT: &str = r#"if read -r _; then exit 0; fi
for _ in 1 2 3 4 5; do
  for f in "$1"/job-*/cgroup.procs; do
    [ -f "$f" ] && while read -r p; do kill -9 "$p" 2>/dev/null; done < "$f"
  done
  sleep 0.1
done
for d in "$1"/job-*; do rmdir "$d" 2>/dev/null; done
rmdir "$1" 2>/dev/null
exit 0"#;

impl Sentinel {
    fn start(run_dir: &Path) -> io::Result<Self> {
        let (reader, pipe) = std::io::pipe()?;
        let mut command = std::process::Command::new("sh");
        command
            .args(["-c", SENTINEL_SCRIPT, "testplan-sentinel"])
            .arg(run_dir)
            .stdin(reader)
            // Nothing of the run's environment: it needs only `kill`, `sleep` and `rmdir`.
            .env_clear()
            .env("PATH", "/usr/bin:/bin:/usr/sbin:/sbin")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        // Not in the runner's group: a Ctrl-C to the terminal's group must not end it.
        let child = super::new_process_group(&mut command).spawn()?;
        Ok(Sentinel { child, pipe })
    }

    fn stop(mut self) {
        use std::io::Write;
        let _ = self.pipe.write_all(b"done\n");
        drop(self.pipe);
        let _ = self.child.wait();
    }
}

/// The run's own cgroup.
#[derive(Debug)]
struct RunGroup {
    version: CgroupVersion,
    /// `<runner's cgroup>/testplan-<pid>`.
    dir: PathBuf,
    /// The runner's cgroup when it started (v2: where it moves back to at the end).
    home: PathBuf,
    /// The run group's memory limit.
    limit: Option<u64>,
}

impl Containment {
    /// No containment (`--containment none`, or tests of other modules).
    pub fn none(why: &str) -> Self {
        Containment { level: None, why_not: Some(why.to_owned()), sentinel: None }
    }

    /// Sets up the best level `mode` allows on this machine, given its memory.
    pub fn setup(mode: ContainmentMode, memory: &MemoryInfo) -> Result<Self, ContainmentError> {
        if mode == ContainmentMode::None {
            return Ok(Self::none("--containment none"));
        }
        let cgroups = Cgroups::locate(&ProbeRoots::system());
        match RunGroup::create(&cgroups, run_group_limit(memory)) {
            Ok(group) => {
                // Best effort: without it a killed runner's leftovers wait for the next run.
                let sentinel = Sentinel::start(&group.dir).ok();
                Ok(Containment { level: Some(group), why_not: None, sentinel })
            }
            Err(why) if mode == ContainmentMode::Auto => Ok(Self::none(&why.to_string())),
            Err(why) => Err(ContainmentError::Required(Box::new(why))),
        }
    }

    /// One line for the run header and `doctor`.
    pub fn describe(&self) -> String {
        match (&self.level, &self.why_not) {
            (Some(group), _) => {
                let limit = group.limit.map_or("no limit".to_owned(), |l| format!("{} MiB", l >> 20));
                format!("cgroup {} per test ({}, run limit {limit})", group.version, group.dir.display())
            }
            (None, Some(why)) => format!("none: process groups and sampling ({why})"),
            (None, None) => "none: process groups and sampling".to_owned(),
        }
    }

    /// Whether jobs get cgroups.
    pub fn is_cgroup(&self) -> bool {
        self.level.is_some()
    }

    /// A fresh group for job `id` with memory limit `limit` (capped by the run group's).
    pub fn job_group(&self, id: usize, limit: Option<u64>) -> io::Result<Option<JobGroup>> {
        let Some(run) = &self.level else { return Ok(None) };
        let dir = run.dir.join(format!("job-{id}"));
        match std::fs::create_dir(&dir) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                kill_all(&dir, run.version);
            }
            other => other?,
        }
        let limit = match (limit, run.limit) {
            (Some(own), Some(run)) => Some(own.min(run)),
            (own, run) => own.or(run),
        };
        let group = JobGroup::new(dir, run.version, limit)?;
        group.configure()?;
        Ok(Some(group))
    }
}

impl Drop for Containment {
    fn drop(&mut self) {
        if let Some(group) = self.level.take() {
            group.remove();
        }
        if let Some(sentinel) = self.sentinel.take() {
            sentinel.stop();
        }
    }
}

impl fmt::Display for Containment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// The run group's limit: what the machine (or the enclosing cgroup) can hand out now,
/// less a reserve of max(64 MiB, 1/16 of it) for the runner, cargo and the page cache, so
/// tests are stopped by their own limits before the enclosing cgroup runs out.
pub fn run_group_limit(memory: &MemoryInfo) -> Option<u64> {
    let usable = memory.machine_usable()?;
    let reserve = (usable / 16).max(MIN_RESERVE);
    Some(usable.saturating_sub(reserve).max(MIN_RESERVE))
}

impl RunGroup {
    fn create(cgroups: &Cgroups, limit: Option<u64>) -> Result<Self, ContainmentError> {
        if let Some(dir) = cgroups.v2().filter(|d| has_memory_controller(&d.dir)) {
            return Self::create_v2(dir.dir, limit);
        }
        match cgroups.v1("memory") {
            Some(dir) => Self::create_v1(dir.dir, limit),
            None => Err(ContainmentError::NoController),
        }
    }

    fn create_v1(home: PathBuf, limit: Option<u64>) -> Result<Self, ContainmentError> {
        remove_stale(&home, CgroupVersion::V1);
        let dir = home.join(format!("{RUN_PREFIX}{}", std::process::id()));
        create_dir(&dir)?;
        let group = RunGroup { version: CgroupVersion::V1, dir, home, limit };
        if let Some(limit) = limit {
            set_v1_limit(&group.dir, limit).inspect_err(|_| group.remove())?;
        }
        Ok(group)
    }

    fn create_v2(home: PathBuf, limit: Option<u64>) -> Result<Self, ContainmentError> {
        remove_stale(&home, CgroupVersion::V2);
        let dir = home.join(format!("{RUN_PREFIX}{}", std::process::id()));
        create_dir(&dir)?;
        let group = RunGroup { version: CgroupVersion::V2, dir, home, limit };
        group.enter_v2().inspect_err(|_| group.remove())?;
        Ok(group)
    }

    /// v2's no-internal-processes rule: the runner moves into `<run>/runner`, then the
    /// memory controller is enabled for the home's and the run group's children.
    fn enter_v2(&self) -> Result<(), ContainmentError> {
        let runner = self.dir.join("runner");
        create_dir(&runner)?;
        write(&runner.join("cgroup.procs"), "0")?;
        let enable = |dir: &Path| write(&dir.join("cgroup.subtree_control"), "+memory");
        enable(&self.home).map_err(|e| ContainmentError::Enable(Box::new(e)))?;
        if let Some(limit) = self.limit {
            write(&self.dir.join("memory.max"), &limit.to_string())?;
        }
        // The run group holds `runner`, a process: its other children must be siblings of it
        // with the controller enabled here, which v2 allows only for a group without
        // processes of its own — `runner` is a child, so this is allowed.
        enable(&self.dir)
    }

    /// Kills what is left in the job groups, removes them and the run group; v2 moves the
    /// runner back home first.
    fn remove(&self) {
        remove_tree(&self.dir, self.version, Some(&self.home));
    }
}

/// A job's cgroup.
#[derive(Debug)]
pub struct JobGroup {
    dir: PathBuf,
    version: CgroupVersion,
    limit: Option<u64>,
    /// `cgroup.procs`, as the child writes it between fork and exec.
    procs: CString,
}

/// What a job's group saw when its process ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroupReport {
    /// Processes the kernel's OOM killer killed in it.
    pub oom_kills: u64,
    /// Its peak memory as the kernel charged it (page cache included), in bytes: what its
    /// limit is measured against.
    pub peak: Option<u64>,
    /// Its page cache when the process ended (`total_cache` / `file` of `memory.stat`):
    /// files it read or wrote, the test binary's own pages among them when they were not
    /// cached already — up to a few MiB that depend on what else the machine did.
    pub cache: Option<u64>,
    /// Its memory limit.
    pub limit: Option<u64>,
}

impl GroupReport {
    /// The peak reported as the test's peak RSS: the charged peak less the page cache, so
    /// it is what its processes held (children included, shared pages once), not whether
    /// the test binary's pages happened to be cached.
    pub fn resident_peak(&self) -> Option<u64> {
        Some(self.peak?.saturating_sub(self.cache.unwrap_or(0)))
    }

    /// Whether an OOM kill came from the group's own limit (its peak reached it, within a
    /// few pages), rather than from an enclosing group running out.
    pub fn own_limit_hit(&self) -> bool {
        const SLACK: u64 = 1 << 20;
        match (self.peak, self.limit) {
            (Some(peak), Some(limit)) => self.oom_kills > 0 && peak.saturating_add(SLACK) >= limit,
            _ => false,
        }
    }
}

impl JobGroup {
    fn new(dir: PathBuf, version: CgroupVersion, limit: Option<u64>) -> io::Result<Self> {
        let procs = CString::new(dir.join("cgroup.procs").into_os_string().into_encoded_bytes())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        Ok(JobGroup { dir, version, limit, procs })
    }

    fn configure(&self) -> io::Result<()> {
        let Some(limit) = self.limit else { return Ok(()) };
        let result = match self.version {
            CgroupVersion::V1 => set_v1_limit(&self.dir, limit),
            CgroupVersion::V2 => write(&self.dir.join("memory.max"), &limit.to_string())
                .and_then(|()| write_if_present(&self.dir.join("memory.swap.max"), "0"))
                .and_then(|()| write_if_present(&self.dir.join("memory.oom.group"), "1")),
        };
        result.map_err(io::Error::other)
    }

    /// The path the child writes `0` to (see [`crate::platform::join_cgroup`]).
    pub fn procs_path(&self) -> &CString {
        &self.procs
    }

    /// Its memory limit.
    pub fn limit(&self) -> Option<u64> {
        self.limit
    }

    /// The pids in it now.
    pub fn pids(&self) -> Vec<i32> {
        pids(&self.dir)
    }

    /// Kills every process in it (v2: `cgroup.kill`), returning how many there were.
    pub fn kill_all(&self) -> usize {
        kill_all(&self.dir, self.version)
    }

    /// OOM kills, peak and limit.
    pub fn report(&self) -> GroupReport {
        let (events, peak, cache) = match self.version {
            CgroupVersion::V1 => ("memory.oom_control", "memory.max_usage_in_bytes", "total_cache"),
            CgroupVersion::V2 => ("memory.events", "memory.peak", "file"),
        };
        let oom_kills = read_key(&self.dir.join(events), "oom_kill").unwrap_or(0);
        let peak = std::fs::read_to_string(self.dir.join(peak)).ok().and_then(|t| t.trim().parse().ok());
        let cache = read_key(&self.dir.join("memory.stat"), cache);
        GroupReport { oom_kills, peak, cache, limit: self.limit }
    }

    /// Kills what is left and removes the group (best effort: a group that cannot be
    /// removed yet goes with the run group at the end).
    pub fn remove(&self) {
        remove_tree(&self.dir, self.version, None);
    }
}

fn has_memory_controller(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("cgroup.controllers"))
        .is_ok_and(|text| text.split_whitespace().any(|c| c == "memory"))
}

fn set_v1_limit(dir: &Path, limit: u64) -> Result<(), ContainmentError> {
    write(&dir.join("memory.limit_in_bytes"), &limit.to_string())?;
    // Swap must not stretch the limit; memsw may not be below the memory limit, so second.
    write_if_present(&dir.join("memory.memsw.limit_in_bytes"), &limit.to_string())
}

fn write(path: &Path, value: &str) -> Result<(), ContainmentError> {
    std::fs::write(path, value).map_err(|source| ContainmentError::Write {
        path: path.to_owned(),
        value: value.to_owned(),
        source,
    })
}

fn write_if_present(path: &Path, value: &str) -> Result<(), ContainmentError> {
    if path.exists() { write(path, value) } else { Ok(()) }
}

fn create_dir(path: &Path) -> Result<(), ContainmentError> {
    std::fs::create_dir(path).map_err(|source| ContainmentError::Create { path: path.to_owned(), source })
}

/// `KEY N` from a flat-keyed cgroup file.
fn read_key(path: &Path, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|line| line.strip_prefix(key)?.strip_prefix(' ')?.trim().parse().ok())
}

fn pids(dir: &Path) -> Vec<i32> {
    let text = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
    text.lines().filter_map(|line| line.trim().parse().ok()).filter(|&pid| pid > 1).collect()
}

/// Kills every process of the group, again until it is empty (a process may fork while
/// it is being killed), for at most a second.
fn kill_all(dir: &Path, version: CgroupVersion) -> usize {
    let first = pids(dir).len();
    if version == CgroupVersion::V2 && write(&dir.join("cgroup.kill"), "1").is_ok() {
        wait_empty(dir);
        return first;
    }
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let pids = pids(dir);
        if pids.is_empty() || Instant::now() >= deadline {
            return first;
        }
        for pid in pids {
            super::kill_pid(pid, super::SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn wait_empty(dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(1);
    while !pids(dir).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Removes `dir` and the groups below it, killing what is in them; `home`: move the runner
/// there first (v2, the run group's own `runner`).
fn remove_tree(dir: &Path, version: CgroupVersion, home: Option<&Path>) {
    let children: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect())
        .unwrap_or_default();
    if let Some(home) = home
        && version == CgroupVersion::V2
    {
        // The controller must be off below home before the runner may live there again.
        let _ = std::fs::write(dir.join("cgroup.subtree_control"), "-memory");
        let _ = std::fs::write(home.join("cgroup.subtree_control"), "-memory");
        let _ = std::fs::write(home.join("cgroup.procs"), "0");
    }
    for child in children {
        remove_tree(&child, version, None);
    }
    kill_all(dir, version);
    // rmdir of a cgroup fails while a process (even a zombie) is still charged to it.
    let deadline = Instant::now() + Duration::from_secs(1);
    while std::fs::remove_dir(dir).is_err() && dir.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Removes run groups under `home` whose runner is gone (it was SIGKILLed), killing what
/// they still held.
fn remove_stale(home: &Path, version: CgroupVersion) {
    let Ok(entries) = std::fs::read_dir(home) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) =
            name.to_str().and_then(|n| n.strip_prefix(RUN_PREFIX)).and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() as i32 && !super::pid_alive(pid) {
            remove_tree(&entry.path(), version, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::CgroupMemory;

    #[test]
    fn the_run_group_leaves_a_reserve() {
        let gib = 1u64 << 30;
        let machine = MemoryInfo::from_parts(Some(8 * gib), Some(8 * gib), None);
        assert_eq!(run_group_limit(&machine), Some(8 * gib - gib / 2));
        let small = MemoryInfo::from_parts(Some(gib / 2), Some(gib / 2), None);
        assert_eq!(run_group_limit(&small), Some(gib / 2 - MIN_RESERVE));
        let unknown = MemoryInfo::from_parts(None, None, None);
        assert_eq!(run_group_limit(&unknown), None);
        let cgroup = CgroupMemory {
            version: CgroupVersion::V1,
            dir: PathBuf::from("/c"),
            limit: Some(2 * gib),
            limit_text: None,
            limit_file: PathBuf::from("/c/memory.limit_in_bytes"),
            usage: Some(0),
            usage_file: PathBuf::from("/c/memory.usage_in_bytes"),
            inactive_file: Some(0),
            stat_file: PathBuf::from("/c/memory.stat"),
        };
        let limited = MemoryInfo::from_parts(Some(8 * gib), Some(8 * gib), Some(cgroup));
        assert_eq!(run_group_limit(&limited), Some(2 * gib - 2 * gib / 16));
    }

    #[test]
    fn oom_kills_at_the_own_limit_are_told_from_enclosing_ones() {
        let mib = 1u64 << 20;
        let report = |oom_kills, peak| GroupReport {
            oom_kills,
            peak: Some(peak),
            cache: None,
            limit: Some(100 * mib),
        };
        assert!(report(1, 100 * mib).own_limit_hit());
        assert!(report(1, 100 * mib - 4096).own_limit_hit());
        assert!(!report(1, 60 * mib).own_limit_hit(), "an enclosing group ran out");
        assert!(!report(0, 100 * mib).own_limit_hit(), "no kill");
    }

    /// The v2 set-up in a directory standing in for the runner's cgroup (this project's
    /// machines have the memory controller on v1 only): the runner moves into
    /// `testplan-PID/runner`, the controller is enabled below home and the run group, the
    /// limits are written where the kernel's documentation puts them.
    #[test]
    fn v2_groups_write_the_documented_files() {
        let home = tempfile::tempdir().expect("temp dir");
        let read = |path: PathBuf| std::fs::read_to_string(path).unwrap_or_default();
        let run = RunGroup::create_v2(home.path().to_path_buf(), Some(1 << 30)).expect("run group");
        assert_eq!(run.dir, home.path().join(format!("testplan-{}", std::process::id())));
        assert_eq!(read(run.dir.join("runner/cgroup.procs")), "0");
        assert_eq!(read(home.path().join("cgroup.subtree_control")), "+memory");
        assert_eq!(read(run.dir.join("cgroup.subtree_control")), "+memory");
        assert_eq!(read(run.dir.join("memory.max")), (1u64 << 30).to_string());
        let containment = Containment { level: Some(run), why_not: None, sentinel: None };
        let job = containment.job_group(7, Some(2 << 30)).expect("job group").expect("cgroup level");
        assert_eq!(job.limit(), Some(1 << 30), "capped by the run group");
        let dir = home.path().join(format!("testplan-{}/job-7", std::process::id()));
        assert_eq!(read(dir.join("memory.max")), (1u64 << 30).to_string());
        assert_eq!(job.procs_path().to_str().ok(), dir.join("cgroup.procs").to_str());
        std::fs::write(dir.join("memory.events"), "oom 1\noom_kill 1\n").expect("write");
        std::fs::write(dir.join("memory.peak"), format!("{}\n", 1u64 << 30)).expect("write");
        let report = job.report();
        assert_eq!((report.oom_kills, report.peak), (1, Some(1 << 30)));
        assert!(report.own_limit_hit());
    }

    #[test]
    fn flat_keyed_files_are_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("memory.events");
        std::fs::write(&file, "low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\noom_group_kill 0\n").expect("write");
        assert_eq!(read_key(&file, "oom_kill"), Some(2));
        assert_eq!(read_key(&file, "oom"), Some(1));
        assert_eq!(read_key(&file, "missing"), None);
    }
}
