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
//! Measurements come from the run report ([`crate::plan::measurements_from_report`]): every
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

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::path::Path;

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::discover::cache::Stamp;

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
        Self::update_file_from(path, measurements, None)
    }

    /// [`History::update_file`], starting from `known` (a history read earlier with
    /// [`History::load_stamped`]) instead of reading the file again when, under the lock,
    /// the file still has the same stamp: no other run wrote it since (writers replace it
    /// with a new file, so its inode changes). Parsing a large history twice per run showed
    /// in profiles.
    pub(crate) fn update_file_from(
        path: &Path,
        measurements: &[Measurement],
        known: Option<(History, Stamp)>,
    ) -> io::Result<()> {
        if measurements.is_empty() {
            return Ok(());
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let _lock = FileLock::exclusive(&path.with_extension("json.lock"))?;
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

/// An exclusive `flock` held until dropped (closing the file releases it, also when the
/// process dies).
#[derive(Debug)]
struct FileLock {
    _file: File,
}

impl FileLock {
    fn exclusive(path: &Path) -> io::Result<FileLock> {
        use std::os::fd::AsRawFd;
        let file = File::options().create(true).truncate(false).write(true).open(path)?;
        loop {
            // SAFETY: `flock` takes a file descriptor that `file` keeps open for the call and
            // touches no memory of ours.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
            if rc == 0 {
                return Ok(FileLock { _file: file });
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }
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
}
