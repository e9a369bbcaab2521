//! Where profiles go and how they are merged.
//!
//! Layout under the run's profile directory (emptied when a run starts, so no stale profile
//! of an earlier run is counted):
//!
//! ```text
//! build/%8m.profraw          processes started by the build (workspace proc-macros)
//! 01-unit/%8m.profraw        the first phase's test processes
//! 01-unit.profdata           ... merged
//! 02-integration/...         the next phase, and so on
//! 02-integration.total.profdata   phases 1..=2 merged: the cumulative profile
//! ```
//!
//! `%8m` (no `%p`): each instrumented binary merges its counts into one of at most eight
//! files named after the binary's signature, under a file lock, so concurrent tests keep
//! exact counts and a phase leaves at most eight files per binary however many processes
//! ran. A test killed before it exits (timeout, memory limit, crash) writes nothing, and
//! one killed while writing leaves an empty file: its coverage is lost. Empty files are
//! counted and left out of the merge.

use std::process::Command;

use camino::{Utf8Path, Utf8PathBuf};
use testplan_runner::files::{self, Durability};

use crate::command::stdout_of;
use crate::error::CoverageError;
use crate::tools::LlvmTools;

/// The directory of a run's profiles (see the module docs).
#[derive(Clone, Debug)]
pub struct ProfileLayout {
    root: Utf8PathBuf,
}

const PATTERN: &str = "%8m.profraw";

impl ProfileLayout {
    /// Profiles under `root`.
    pub fn new(root: impl Into<Utf8PathBuf>) -> ProfileLayout {
        ProfileLayout { root: root.into() }
    }

    /// Empties (or creates) the directory: a run counts only its own profiles.
    pub fn prepare(&self) -> Result<(), CoverageError> {
        match std::fs::remove_dir_all(&self.root) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(CoverageError::io(format!("emptying {}", self.root), e));
            }
            _ => {}
        }
        std::fs::create_dir_all(&self.root)
            .map_err(|e| CoverageError::io(format!("creating {}", self.root), e))
    }

    /// `LLVM_PROFILE_FILE` for the build.
    pub fn build_pattern(&self) -> Utf8PathBuf {
        self.root.join("build").join(PATTERN)
    }

    /// The directory of phase number `index` (from 0) named `phase`.
    pub fn phase_dir(&self, index: usize, phase: &str) -> Utf8PathBuf {
        self.root.join(phase_stem(index, phase))
    }

    /// `LLVM_PROFILE_FILE` for the test processes of phase number `index`.
    pub fn phase_pattern(&self, index: usize, phase: &str) -> Utf8PathBuf {
        self.phase_dir(index, phase).join(PATTERN)
    }

    /// Where the phase's merged profile goes; `total` for the cumulative one.
    pub(crate) fn merged(&self, index: usize, phase: &str, total: bool) -> Utf8PathBuf {
        let suffix = if total { ".total.profdata" } else { ".profdata" };
        self.root.join(format!("{}{suffix}", phase_stem(index, phase)))
    }

    pub(crate) fn empty_profile(&self) -> Utf8PathBuf {
        self.root.join("empty.profraw")
    }
}

/// `01-unit`: numbered (two phases may share a sanitized name), and only characters that
/// are safe in a file name.
fn phase_stem(index: usize, phase: &str) -> String {
    let name: String = phase
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect();
    format!("{:02}-{name}", index + 1)
}

/// The raw profiles a phase left.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PhaseProfiles {
    /// Non-empty `.profraw` files, sorted.
    pub files: Vec<Utf8PathBuf>,
    /// Empty ones: processes that died while writing (their coverage is lost).
    pub empty: usize,
}

/// The profiles in `dir` (none when it does not exist: no instrumented process ran).
pub fn collect(dir: &Utf8Path) -> Result<PhaseProfiles, CoverageError> {
    let mut found = PhaseProfiles::default();
    let entries = match dir.read_dir_utf8() {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(CoverageError::io(format!("reading {dir}"), e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| CoverageError::io(format!("reading {dir}"), e))?;
        if entry.path().extension() != Some("profraw") {
            continue;
        }
        let len =
            entry.metadata().map_err(|e| CoverageError::io(format!("reading {}", entry.path()), e))?.len();
        if len == 0 {
            found.empty += 1;
        } else {
            found.files.push(entry.path().to_owned());
        }
    }
    found.files.sort();
    Ok(found)
}

/// `llvm-profdata merge -sparse INPUTS -o OUTPUT`. No inputs make an empty profile (from an
/// empty raw profile), so a phase whose tests wrote nothing still exports, at zero.
pub(crate) fn merge(
    tools: &LlvmTools,
    layout: &ProfileLayout,
    inputs: &[Utf8PathBuf],
    output: &Utf8Path,
) -> Result<(), CoverageError> {
    let mut command = Command::new(&tools.profdata);
    command.args(["merge", "-sparse"]);
    if inputs.is_empty() {
        let empty = layout.empty_profile();
        files::write_atomically(empty.as_std_path(), b"", Durability::Cache)
            .map_err(|e| CoverageError::io(format!("writing {empty}"), e))?;
        command.arg(empty);
    } else {
        command.args(inputs);
    }
    stdout_of(command.arg("-o").arg(output)).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_get_numbered_safe_directories() {
        let layout = ProfileLayout::new("/t/profiles");
        assert_eq!(layout.phase_pattern(0, "unit"), "/t/profiles/01-unit/%8m.profraw");
        assert_eq!(layout.phase_dir(11, "../gpu phase"), "/t/profiles/12-___gpu_phase");
        assert_eq!(layout.merged(1, "integration", true), "/t/profiles/02-integration.total.profdata");
        assert_eq!(layout.build_pattern(), "/t/profiles/build/%8m.profraw");
    }

    #[test]
    fn collect_counts_empty_profiles_apart_and_ignores_other_files() {
        let dir = tempfile::tempdir().expect("dir");
        let dir = Utf8Path::from_path(dir.path()).expect("utf-8");
        std::fs::write(dir.join("b.profraw"), b"x").expect("write");
        std::fs::write(dir.join("a.profraw"), b"x").expect("write");
        std::fs::write(dir.join("c.profraw"), b"").expect("write");
        std::fs::write(dir.join("notes.txt"), b"x").expect("write");
        let found = collect(dir).expect("reads");
        assert_eq!(found.files, [dir.join("a.profraw"), dir.join("b.profraw")]);
        assert_eq!(found.empty, 1);
        assert_eq!(collect(&dir.join("missing")).expect("missing is empty"), PhaseProfiles::default());
    }

    #[test]
    fn prepare_removes_stale_profiles() {
        let dir = tempfile::tempdir().expect("dir");
        let root = Utf8Path::from_path(dir.path()).expect("utf-8").join("profiles");
        let layout = ProfileLayout::new(&root);
        std::fs::create_dir_all(root.join("01-unit")).expect("mkdir");
        std::fs::write(root.join("01-unit/old.profraw"), b"x").expect("write");
        layout.prepare().expect("prepares");
        assert!(root.is_dir());
        assert!(!root.join("01-unit").exists());
    }
}
