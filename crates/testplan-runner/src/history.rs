//! Measured history: each test's recent peak RSS and duration, kept under the target
//! directory (`<target-dir>/testplan/history.json`) so the next run can estimate its memory
//! from what it really used ([`estimate_from_peak`]) instead of a marker's guess.
//!
//! The file, keyed by binary id, then test name:
//!
//! ```json
//! {
//!   "format_version": 1,
//!   "binaries": {
//!     "alpha::tests": {
//!       "big_input": { "peaks": [104857600, 106954752], "duration_secs": 0.41, "runs": 2 }
//!     }
//!   }
//! }
//! ```
//!
//! Measurements come from the run report ([`measurements_from_report`]): every
//! test that ran to an end (passed, failed, crashed, timed out, killed at its memory limit)
//! with a measured peak RSS.
//!
//! `peaks` holds the peak RSS (bytes) of the latest [`KEEP_PEAKS`] runs, oldest first; the
//! estimate uses the largest. Writing is safe when several runs share a target directory:
//! the writer takes an exclusive `flock` on `history.json.lock`, re-reads the file, merges
//! its own measurements into it (tests it did not run keep their entries), writes a
//! temporary file and renames it over `history.json`, so readers never see half a file
//! and no run's measurements are lost. A file that cannot be parsed (another version, a
//! truncated copy) is treated as empty and replaced by the next write.
//!
//! The lock is never waited for without bound: the holder writes its pid into the lock
//! file; a run that finds the lock held says so after 200 ms, naming that
//! pid, and gives up the update after [`LOCK_WAIT`] (10 s, [`LOCK_WAIT_ENV`] to change it)
//! with a warning — a stopped run (Ctrl-Z) holds the lock for as long as it is stopped. A
//! lock whose named holder is dead (seen twice, a poll apart) but which is still held (a
//! descriptor passed on to a surviving child) is taken over: the lock file is replaced, and
//! a run that took a lock on the replaced file notices (its inode is no longer the path's)
//! and locks again.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::path::Path;
use std::time::Duration;

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use testplan_schema::{ReportStatus, RunReport};

use crate::discover::cache::Stamp;
use crate::platform;

/// The history file's format version.
pub const FORMAT_VERSION: u32 = 1;
/// Peaks kept per test.
pub const KEEP_PEAKS: usize = 5;
/// Multiplier applied to a measured peak for the estimate, as a fraction (5/4 = ×1.25).
pub const HEADROOM_NUMERATOR: u64 = 5;
/// See [`HEADROOM_NUMERATOR`].
pub const HEADROOM_DENOMINATOR: u64 = 4;
/// Bytes added to a measured peak for the estimate (64 MiB).
pub const HEADROOM_BYTES: u64 = 64 << 20;

/// The memory estimate of a test whose largest recent peak RSS was `peak`:
/// peak × 1.25 + 64 MiB. The factor covers run-to-run variation of large tests (inputs,
/// allocator behaviour, thread timing), the constant covers small ones, whose peaks vary by
/// more than a quarter but only by a few MiB.
pub fn estimate_from_peak(peak: u64) -> u64 {
    (peak / HEADROOM_DENOMINATOR).saturating_mul(HEADROOM_NUMERATOR).saturating_add(HEADROOM_BYTES)
}

/// The history of every test measured so far.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// Binary id → test name → history.
    pub binaries: BTreeMap<String, BTreeMap<String, TestHistory>>,
}

/// One test's history.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TestHistory {
    /// Peak RSS in bytes of the latest runs, oldest first (at most [`KEEP_PEAKS`]).
    pub peaks: Vec<u64>,
    /// Wall time of the latest run, in seconds.
    pub duration_secs: f64,
    /// Runs measured.
    pub runs: u64,
}

/// One finished test's figures, to add to the history.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    /// Its binary id.
    pub binary_id: String,
    /// Its name.
    pub name: String,
    /// Peak RSS in bytes.
    pub peak_rss: u64,
    /// Wall time in seconds.
    pub duration_secs: f64,
}

impl History {
    /// `<target-dir>/testplan/history.json`.
    pub fn path_in(target_dir: &Utf8Path) -> Utf8PathBuf {
        target_dir.join("testplan").join("history.json")
    }

    /// Reads the history at `path`: empty when there is none yet, or when the file cannot
    /// be parsed (it is then replaced by the next save).
    pub fn load(path: &Path) -> io::Result<History> {
        match std::fs::read(path) {
            Ok(bytes) => Ok(History::parse(&bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(History::default()),
            Err(e) => Err(e),
        }
    }

    fn parse(bytes: &[u8]) -> History {
        serde_json::from_slice::<History>(bytes)
            .ok()
            .filter(|h| h.format_version == FORMAT_VERSION)
            .unwrap_or_default()
    }

    /// The history of one test.
    pub fn get(&self, binary_id: &str, name: &str) -> Option<&TestHistory> {
        self.binaries.get(binary_id)?.get(name)
    }

    /// The largest recent peak RSS of one test, in bytes.
    pub fn peak_rss(&self, binary_id: &str, name: &str) -> Option<u64> {
        self.get(binary_id, name)?.peaks.iter().copied().max()
    }

    /// Adds measurements (a test's oldest peak drops out past [`KEEP_PEAKS`]).
    pub fn merge(&mut self, measurements: &[Measurement]) {
        self.format_version = FORMAT_VERSION;
        for m in measurements {
            let entry =
                self.binaries.entry(m.binary_id.clone()).or_default().entry(m.name.clone()).or_default();
            entry.peaks.push(m.peak_rss);
            let excess = entry.peaks.len().saturating_sub(KEEP_PEAKS);
            entry.peaks.drain(..excess);
            entry.duration_secs = m.duration_secs;
            entry.runs += 1;
        }
    }

    /// Reads the history at `path` like [`History::load`], with the stamp of the file it
    /// read (`None` when there was no file, or it changed while being read).
    pub(crate) fn load_stamped(path: &Path) -> io::Result<(History, Option<Stamp>)> {
        let before = Utf8Path::from_path(path).and_then(Stamp::of);
        let history = History::load(path)?;
        let after = Utf8Path::from_path(path).and_then(Stamp::of);
        Ok((history, before.filter(|b| Some(b) == after.as_ref())))
    }

    /// Merges `measurements` into the history file at `path` under an exclusive lock, and
    /// replaces the file atomically (see the module docs).
    pub fn update_file(path: &Path, measurements: &[Measurement]) -> io::Result<()> {
        Self::update_file_from(path, measurements, None, &mut |_| {})
    }

    /// [`History::update_file`], starting from `known` (a history read earlier with
    /// [`History::load_stamped`]) instead of reading the file again when, under the lock,
    /// the file still has the same stamp: no other run wrote it since (writers replace it
    /// with a new file, so its inode changes). Parsing a large history twice per run showed
    /// in profiles.
    ///
    /// Another run holding the lock is waited for up to [`lock_wait`]; `notify` hears
    /// what happens meanwhile ([`LockNotice`]).
    pub(crate) fn update_file_from(
        path: &Path,
        measurements: &[Measurement],
        known: Option<(History, Stamp)>,
        notify: &mut dyn FnMut(&LockNotice),
    ) -> io::Result<()> {
        if measurements.is_empty() {
            return Ok(());
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let _lock = FileLock::exclusive(&path.with_extension("json.lock"), lock_wait(), notify)?;
        let current = Utf8Path::from_path(path).and_then(Stamp::of);
        let mut history = match known {
            Some((history, stamp)) if current.as_ref() == Some(&stamp) => history,
            _ => History::load(path)?,
        };
        history.merge(measurements);
        let json = serde_json::to_vec(&history).map_err(io::Error::other)?;
        crate::files::write_atomically(path, &json, crate::files::Durability::Durable)
    }
}

/// The history a run plans with, as read at its start, and the file it is merged into
/// after the run ([`RecordedHistory::save`]).
#[derive(Debug, Default)]
pub struct RecordedHistory {
    /// Measured peaks and durations of earlier runs.
    pub history: History,
    /// Where the history is read from and written to; `None`: nowhere (not saved).
    path: Option<Utf8PathBuf>,
    /// The stamp of the file as read, if it was read whole and unchanged.
    stamp: Option<Stamp>,
}

/// Why the history could not be read; the run goes on without it.
#[derive(Debug, thiserror::Error)]
#[error("could not read the test history {path}: {source}")]
pub struct HistoryReadError {
    /// The history file.
    pub path: Utf8PathBuf,
    /// The cause.
    #[source]
    pub source: io::Error,
}

impl RecordedHistory {
    /// Starts reading the history under `target_dir` on a thread of its own (it is needed
    /// only for planning, after the build and the listing; a large suite's history takes
    /// milliseconds to parse). Finish with [`HistoryLoad::finish`].
    pub fn start_loading(target_dir: &Utf8Path) -> HistoryLoad {
        let path = History::path_in(target_dir);
        let file = path.clone();
        let handle = std::thread::spawn(move || History::load_stamped(file.as_std_path()));
        HistoryLoad { path, handle }
    }

    /// Adds a finished run's measurements (from its report) to the history file.
    ///
    /// The history read at the start is merged into and written back when the file is
    /// unchanged since; it is taken out of `self`.
    ///
    /// `notify` hears about waiting for another run's lock on the history ([`LockNotice`]).
    pub fn save(&mut self, report: &RunReport, notify: &mut dyn FnMut(&LockNotice)) -> io::Result<()> {
        let Some(path) = &self.path else { return Ok(()) };
        let known = self.stamp.take().map(|stamp| (std::mem::take(&mut self.history), stamp));
        History::update_file_from(path.as_std_path(), &measurements_from_report(report), known, notify)
    }
}

/// The history file being read in the background ([`RecordedHistory::start_loading`]).
#[derive(Debug)]
pub struct HistoryLoad {
    path: Utf8PathBuf,
    handle: std::thread::JoinHandle<io::Result<(History, Option<Stamp>)>>,
}

impl HistoryLoad {
    /// The history read; when it could not be read, an empty one (still saved to the same
    /// file after the run) and why.
    pub fn finish(self) -> (RecordedHistory, Option<HistoryReadError>) {
        let HistoryLoad { path, handle } = self;
        let read = handle.join().unwrap_or_else(|_| Err(io::Error::other("its reader stopped")));
        match read {
            Ok((history, stamp)) => (RecordedHistory { history, path: Some(path), stamp }, None),
            Err(source) => {
                let empty = RecordedHistory { path: Some(path.clone()), ..RecordedHistory::default() };
                (empty, Some(HistoryReadError { path, source }))
            }
        }
    }
}

/// The measurements of a run report: every test that ran to an end with a measured peak.
pub fn measurements_from_report(report: &RunReport) -> Vec<Measurement> {
    report
        .tests
        .iter()
        .filter(|t| {
            !matches!(t.status, ReportStatus::Skipped | ReportStatus::NotRun | ReportStatus::Interrupted)
        })
        .filter_map(|t| {
            Some(Measurement {
                binary_id: t.binary_id.clone(),
                name: t.name.clone(),
                peak_rss: t.peak_rss_bytes?,
                duration_secs: t.duration_secs,
            })
        })
        .collect()
}

/// How long a run waits for another run's history lock before it gives up updating the
/// history (the run itself is not affected: the history is an optimisation).
pub const LOCK_WAIT: Duration = Duration::from_secs(10);
/// Overrides [`LOCK_WAIT`]: a duration (`500ms`, `2s`, `1m`) or a number of seconds (`0`:
/// one try).
pub const LOCK_WAIT_ENV: &str = "CARGO_TESTPLAN_HISTORY_LOCK_WAIT";
/// A waiting run says so (naming the holder) after this long.
const LOCK_NOTICE_AFTER: Duration = Duration::from_millis(200);
/// The longest pause between two tries.
const LOCK_POLL_MAX: Duration = Duration::from_millis(50);

/// What a run waiting for the history lock has to say (`History::update_file_from`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LockNotice {
    /// Another process holds the lock; the run waits up to `wait`.
    Waiting {
        /// The lock file.
        path: String,
        /// The holder's pid, when it wrote one.
        holder: Option<u32>,
        /// How long the run waits at most.
        wait: Duration,
    },
    /// The pid the lock file names is gone although its lock is still held (the lock is
    /// held by a descriptor the dead run passed on): the lock file was replaced.
    TookOver {
        /// The lock file.
        path: String,
        /// The dead holder.
        dead: u32,
    },
}

impl std::fmt::Display for LockNotice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockNotice::Waiting { path, holder: Some(pid), wait } => write!(
                f,
                "waiting for the test history lock {path}, held by pid {pid} (another cargo-testplan \
                 run?); giving up after {} ({LOCK_WAIT_ENV})",
                wait_text(*wait)
            ),
            LockNotice::Waiting { path, holder: None, wait } => write!(
                f,
                "waiting for the test history lock {path}, held by another process; giving up \
                 after {} ({LOCK_WAIT_ENV})",
                wait_text(*wait)
            ),
            LockNotice::TookOver { path, dead } => {
                write!(f, "took over the test history lock {path}: its holder, pid {dead}, is gone")
            }
        }
    }
}

fn wait_text(wait: Duration) -> String {
    if wait.is_zero() { "no wait".to_owned() } else { testplan_markers::units::format_duration(wait) }
}

/// [`LOCK_WAIT`], or the value of [`LOCK_WAIT_ENV`].
pub fn lock_wait() -> Duration {
    std::env::var(LOCK_WAIT_ENV).ok().and_then(|text| parse_lock_wait(&text)).unwrap_or(LOCK_WAIT)
}

fn parse_lock_wait(text: &str) -> Option<Duration> {
    let text = text.trim();
    match text.parse::<f64>() {
        Ok(secs) => Duration::try_from_secs_f64(secs).ok(),
        Err(_) => testplan_markers::units::parse_duration(text).ok(),
    }
}

/// An exclusive `flock` on the lock file, held until dropped (closing the file releases it,
/// also when the process dies). The holder writes its pid into the file, so a waiting run
/// can name it.
#[derive(Debug)]
struct FileLock {
    _file: File,
}

impl FileLock {
    /// Takes the lock at `path`, waiting up to `wait` for another holder (see
    /// [`LockNotice`] for what is said while waiting); an error of kind `TimedOut` after.
    fn exclusive(path: &Path, wait: Duration, notify: &mut dyn FnMut(&LockNotice)) -> io::Result<FileLock> {
        let start = std::time::Instant::now();
        let (mut pause, mut told, mut seen_dead) = (Duration::from_millis(1), false, None);
        loop {
            let file = open_lock_file(path)?;
            if try_flock(&file)? {
                if same_file(&file, path) {
                    write_pid(&file);
                    return Ok(FileLock { _file: file });
                }
                // Replaced while we waited (taken over): lock the new file.
                continue;
            }
            let holder = read_pid(&file);
            match holder.filter(|pid| !crate::platform::pid_alive(*pid as i32)) {
                // Seen dead twice, a poll apart: not a holder between its flock and its write.
                Some(dead) if seen_dead == Some(dead) => {
                    let _ = std::fs::remove_file(path);
                    notify(&LockNotice::TookOver { path: path.display().to_string(), dead });
                    continue;
                }
                dead => seen_dead = dead,
            }
            let waited = start.elapsed();
            let giving_up = waited >= wait;
            // Said before giving up too, however late the poll came (a loaded machine).
            if !told && !wait.is_zero() && (giving_up || waited >= LOCK_NOTICE_AFTER) {
                told = true;
                notify(&LockNotice::Waiting { path: path.display().to_string(), holder, wait });
            }
            if giving_up {
                return Err(io::Error::new(io::ErrorKind::TimedOut, gave_up(path, holder, wait)));
            }
            std::thread::sleep(pause.min(wait - waited));
            pause = (pause * 2).min(LOCK_POLL_MAX);
        }
    }
}

fn gave_up(path: &Path, holder: Option<u32>, wait: Duration) -> String {
    let holder = holder.map_or_else(|| "another process".to_owned(), |pid| format!("pid {pid}"));
    format!(
        "gave up after {} waiting for the lock {} held by {holder} ({LOCK_WAIT_ENV} sets the wait)",
        wait_text(wait),
        path.display()
    )
}

/// Opens (or creates) the lock file, never through a symlink.
fn open_lock_file(path: &Path) -> io::Result<File> {
    let mut options = File::options();
    options.create(true).truncate(false).read(true).write(true);
    platform::no_follow(&mut options, 0o666, false).open(path).map_err(|e| {
        let e = crate::files::not_followed(e);
        io::Error::new(e.kind(), format!("{}: {e}", path.display()))
    })
}

/// `flock(LOCK_EX | LOCK_NB)`: whether the lock was taken.
fn try_flock(file: &File) -> io::Result<bool> {
    platform::try_lock_exclusive(file)
}

/// Whether `path` still names the file `file` has open (a takeover replaces it).
fn same_file(file: &File, path: &Path) -> bool {
    platform::same_file(file, path)
}

fn write_pid(file: &File) {
    let pid = format!("{}\n", std::process::id());
    let _ = file.set_len(0).and_then(|()| platform::write_all_at(file, pid.as_bytes(), 0));
}

fn read_pid(file: &File) -> Option<u32> {
    let mut buf = [0u8; 16];
    let n = platform::read_at(file, &mut buf, 0).ok()?;
    std::str::from_utf8(&buf[..n]).ok()?.trim().parse().ok().filter(|pid| *pid > 0 && *pid <= i32::MAX as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(binary: &str, name: &str, peak: u64) -> Measurement {
        Measurement { binary_id: binary.into(), name: name.into(), peak_rss: peak, duration_secs: 0.5 }
    }

    #[test]
    fn estimates_add_headroom() {
        assert_eq!(estimate_from_peak(0), 64 << 20);
        assert_eq!(estimate_from_peak(400 << 20), (500 << 20) + (64 << 20));
        assert_eq!(estimate_from_peak(u64::MAX), u64::MAX);
    }

    #[test]
    fn merging_keeps_the_latest_peaks_and_other_tests() {
        let mut history = History::default();
        history.merge(&[m("a", "x", 1), m("a", "y", 7)]);
        for peak in 2..=7 {
            history.merge(&[m("a", "x", peak)]);
        }
        assert_eq!(history.get("a", "x").map(|h| (h.peaks.clone(), h.runs)), Some((vec![3, 4, 5, 6, 7], 7)));
        assert_eq!(history.peak_rss("a", "y"), Some(7));
        assert_eq!(history.peak_rss("b", "x"), None);
    }

    #[test]
    fn the_file_round_trips_and_a_bad_file_reads_as_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("testplan/history.json");
        assert_eq!(History::load(&path).expect("missing is empty"), History::default());
        History::update_file(&path, &[m("a", "x", 100)]).expect("write");
        History::update_file(&path, &[m("b", "y", 200)]).expect("merge");
        let read = History::load(&path).expect("read");
        assert_eq!((read.peak_rss("a", "x"), read.peak_rss("b", "y")), (Some(100), Some(200)));
        std::fs::write(&path, "{\"format_version\": 99}").expect("write");
        assert_eq!(History::load(&path).expect("read"), History::default());
        std::fs::write(&path, "{trunc").expect("write");
        assert_eq!(History::load(&path).expect("read"), History::default());
    }

    /// Writers in parallel (threads here; separate runs take the same `flock`) lose nothing.
    #[test]
    fn concurrent_writers_merge() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("history.json");
        let writers: Vec<_> = (0..8)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for j in 0..5 {
                        History::update_file(&path, &[m("bin", &format!("t{i}-{j}"), 1)]).expect("write");
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().expect("writer");
        }
        let read = History::load(&path).expect("read");
        assert_eq!(read.binaries["bin"].len(), 40);
    }

    /// The pid of a process that has exited and been reaped.
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().expect("spawn true");
        child.wait().expect("wait");
        child.id()
    }

    /// Holds the lock at `path` (its own open file, as another run would) naming `pid`.
    fn hold(path: &Path, pid: u32) -> File {
        let file = open_lock_file(path).expect("open");
        assert!(try_flock(&file).expect("flock"), "free at first");
        file.set_len(0).expect("truncate");
        std::os::unix::fs::FileExt::write_all_at(&file, format!("{pid}\n").as_bytes(), 0).expect("pid");
        file
    }

    #[test]
    fn a_live_holder_is_named_and_given_up_on() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("history.json.lock");
        let _held = hold(&path, std::process::id());
        let mut notices = Vec::new();
        let error = FileLock::exclusive(&path, Duration::from_millis(300), &mut |n| notices.push(n.clone()))
            .expect_err("held");
        let shown = path.display().to_string();
        assert_eq!(
            notices,
            [LockNotice::Waiting {
                path: shown.clone(),
                holder: Some(std::process::id()),
                wait: Duration::from_millis(300)
            }]
        );
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert_eq!(
            error.to_string(),
            format!(
                "gave up after 300ms waiting for the lock {shown} held by pid {} \
                 (CARGO_TESTPLAN_HISTORY_LOCK_WAIT sets the wait)",
                std::process::id()
            )
        );
        assert!(notices[0].to_string().starts_with(&format!(
            "waiting for the test history lock {shown}, held by pid {} (another cargo-testplan run?)",
            std::process::id()
        )));
    }

    #[test]
    fn a_lock_named_for_a_dead_pid_is_taken() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("history.json.lock");
        let dead = dead_pid();
        // Not held at all: an old file left behind.
        drop(hold(&path, dead));
        let mut notices = Vec::new();
        drop(FileLock::exclusive(&path, Duration::ZERO, &mut |n| notices.push(n.clone())).expect("free"));
        assert_eq!(notices, []);
        // Still held, by a descriptor the dead run passed on.
        let _held = hold(&path, dead);
        let lock = FileLock::exclusive(&path, Duration::from_secs(60), &mut |n| notices.push(n.clone()))
            .expect("taken over");
        assert!(same_file(&lock._file, &path));
        assert_eq!(read_pid(&lock._file), Some(std::process::id()));
        assert_eq!(notices, [LockNotice::TookOver { path: path.display().to_string(), dead }]);
    }

    #[test]
    fn the_lock_wait_reads_durations_and_seconds() {
        let cases =
            [("2s", Some(2000)), ("500ms", Some(500)), ("0", Some(0)), ("1.5", Some(1500)), ("x", None)];
        for (text, millis) in cases {
            assert_eq!(parse_lock_wait(text), millis.map(Duration::from_millis), "{text}");
        }
    }
}
