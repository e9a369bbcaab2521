//! `cargo testplan archive -o FILE`: build once and write the archive shard jobs run from;
//! and the other half, the `--archive FILE` options of run commands, which take the test
//! list from an archive instead of cargo (no `cargo metadata`, no build, no listing).
//!
//! The archive's format and contents are `testplan_archive`'s (crates/testplan-archive).
//! Here: the command lines, where an archive is unpacked, and what a run from an archive
//! still needs cargo for (doctests, which rustdoc compiles when they run: docs/ci.md#doctests).

use camino::{Utf8Path, Utf8PathBuf};
use clap::Args;
use testplan_archive::{Archive, read_archive_with, write_archive};
use testplan_runner::cargo::CargoOptions;
use testplan_runner::model::{RunCommand, TargetKind, TestList};

use crate::cli::{CargoArgs, ColorChoice, FilterArgs, PlanArgs};
use crate::error::{AppError, exit};
use crate::pipeline::Pipeline;
use crate::settings::Invocation;
use crate::setup::Mode;

/// Why a command could not write or run from an archive.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveRunError {
    /// Writing or reading the archive failed.
    #[error(transparent)]
    Archive(#[from] testplan_archive::ArchiveError),
    /// The directory the paths are remapped to is not a source checkout.
    #[error(
        "`{root}` has no Cargo.toml: run from the source checkout, or give it with --workspace-remap DIR"
    )]
    NoCheckout {
        /// The directory.
        root: Utf8PathBuf,
    },
    /// The current directory cannot be named.
    #[error("cannot read the current directory: {0}")]
    CurrentDir(std::io::Error),
    /// The pipeline was asked to build in a run from an archive.
    #[error("a run from an archive has nothing to build")]
    NothingToBuild,
    /// Doctests are selected where cargo is not installed.
    #[error(
        "{count} doctests are selected, and doctests need cargo and the Rust toolchain: rustdoc \
         compiles them when they run (`cargo test --doc`, from the source checkout). Run the doc \
         phase where the toolchain is installed, or leave it out (--phase, or -m \"not doc\"); see \
         docs/ci.md#doctests"
    )]
    DoctestsNeedCargo {
        /// How many doctests would run.
        count: usize,
    },
}

impl ArchiveRunError {
    /// The exit code (docs/exit-codes.md): a usage error when the command line asks for what
    /// cannot be done here, a setup error when a file is wrong.
    pub fn exit_code(&self) -> i32 {
        match self {
            ArchiveRunError::NoCheckout { .. } | ArchiveRunError::DoctestsNeedCargo { .. } => exit::USAGE,
            ArchiveRunError::Archive(_)
            | ArchiveRunError::CurrentDir(_)
            | ArchiveRunError::NothingToBuild => exit::SETUP_ERROR,
        }
    }
}

impl From<testplan_archive::ArchiveError> for AppError {
    fn from(e: testplan_archive::ArchiveError) -> Self {
        AppError::Archive(ArchiveRunError::Archive(e))
    }
}

/// `cargo testplan archive`.
#[derive(Debug, Args)]
pub struct ArchiveArgs {
    /// Write the archive (a zstd-compressed tar: test binaries, what they need at run time,
    /// the test list) to this file.
    #[arg(short, long, value_name = "FILE")]
    pub output: Utf8PathBuf,
    /// Package, target and build selection (cargo's meaning), as for `run`.
    #[command(flatten)]
    pub cargo: CargoArgs,
    /// Binaries listed at once (default: the CPUs).
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Color of cargo's output: `auto`, `always`, `never`.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// The `--archive` options of run commands.
#[derive(Clone, Debug, Default, Args)]
#[command(next_help_heading = "Archive")]
pub struct ArchiveSourceArgs {
    /// Run from this archive (`cargo testplan archive -o FILE`): no `cargo metadata`, no
    /// build, no listing; the archive's build options apply. Only doctests need cargo
    /// (docs/ci.md#doctests).
    #[arg(long, value_name = "FILE")]
    pub archive: Option<Utf8PathBuf>,
    /// The source checkout the archive's paths are remapped to: working directories,
    /// `CARGO_MANIFEST_DIR`, the configuration (default: the current directory).
    #[arg(long, value_name = "DIR", requires = "archive")]
    pub workspace_remap: Option<Utf8PathBuf>,
    /// Unpack the archive here (default: where the build's target directory was, inside the
    /// source checkout: usually `target`).
    #[arg(long, value_name = "DIR", requires = "archive")]
    pub extract_to: Option<Utf8PathBuf>,
}

/// Runs `cargo testplan archive`.
pub fn exec(args: ArchiveArgs) -> Result<(), AppError> {
    let mode = Mode::Profile("run".to_owned());
    let (plan, filter) = (PlanArgs::default(), FilterArgs::default());
    let inv = Invocation::plan_only(&mode, &args.cargo, &plan, &filter, args.color, args.jobs);
    let mut pipeline = Pipeline::start(&inv)?;
    let list = pipeline.build_and_discover()?;
    let summary = write_archive(&list, &pipeline.settings.cargo, &args.output)?;
    eprintln!(
        "Archived {} in {}: {} files, {} ({} compressed) to {}",
        plural(summary.tests, "test"),
        plural(summary.binaries, "binary"),
        summary.files,
        testplan_runner::resources::format_size(summary.input_bytes),
        testplan_runner::resources::format_size(summary.archive_bytes),
        args.output
    );
    Ok(())
}

fn plural(count: usize, word: &str) -> String {
    match (count, word) {
        (1, _) => format!("1 {word}"),
        (_, "binary") => format!("{count} binaries"),
        _ => format!("{count} {word}s"),
    }
}

/// What a run takes from an unpacked archive instead of cargo.
#[derive(Debug)]
pub struct FromArchive {
    /// The test list, remapped to this machine.
    pub list: TestList,
    /// The build's cargo options, remapped (for doctests).
    pub cargo: CargoOptions,
    /// The source checkout.
    pub workspace_root: Utf8PathBuf,
    /// Where the archive was unpacked: the run's target directory.
    pub target_dir: Utf8PathBuf,
}

impl ArchiveSourceArgs {
    /// The source checkout: `--workspace-remap`, else the current directory (absolute).
    pub fn workspace_root(&self) -> Result<Utf8PathBuf, AppError> {
        let cwd = std::env::current_dir().map_err(ArchiveRunError::CurrentDir)?;
        let cwd = Utf8PathBuf::from_path_buf(cwd).map_err(|p| {
            let message = format!("`{}` is not UTF-8", p.display());
            ArchiveRunError::CurrentDir(std::io::Error::new(std::io::ErrorKind::InvalidData, message))
        })?;
        let root = match &self.workspace_remap {
            Some(dir) => cwd.join(dir),
            None => cwd,
        };
        if !root.join("Cargo.toml").is_file() {
            return Err(ArchiveRunError::NoCheckout { root }.into());
        }
        Ok(root)
    }

    /// Unpacks the archive `file` (`--archive`) and remaps its list to `root`.
    pub fn unpack(&self, file: &Utf8Path, root: &Utf8Path) -> Result<FromArchive, AppError> {
        crate::timings::mark("reading the archive");
        let extract_to = self.extract_to.as_ref().map(|dir| root.join(dir));
        let archive = read_archive_with(file, |manifest| {
            let (built_root, built_target) = (&manifest.workspace_root, &manifest.target_dir);
            extract_to.unwrap_or_else(|| default_extract_dir(root, built_root, built_target))
        })?;
        crate::timings::mark("unpacked the archive");
        Ok(from_archive(&archive, root))
    }
}

/// The build's target directory placed in `root` as it was in the build's workspace
/// (`target`), or `root/target` when it was elsewhere.
fn default_extract_dir(root: &Utf8Path, built_root: &Utf8Path, built_target: &Utf8Path) -> Utf8PathBuf {
    match built_target.strip_prefix(built_root) {
        Ok(relative) if !relative.as_str().is_empty() => root.join(relative),
        _ => root.join("target"),
    }
}

fn from_archive(archive: &Archive, root: &Utf8Path) -> FromArchive {
    let cargo = archive.cargo_options(root);
    let mut list = archive.into_test_list(root);
    // Doctests run through cargo from the source checkout, with the build's options (run
    // `archive` from the workspace root: a relative selection is the checkout's).
    let doctests = testplan_runner::discover::doctest_command(&cargo);
    list.doctest_command = Some(RunCommand { cwd: root.to_owned(), ..doctests });
    FromArchive { list, cargo, workspace_root: root.to_owned(), target_dir: archive.target_dir.clone() }
}

/// Stops a run from an archive that would run doctests where there is no cargo, before
/// anything runs: rustdoc compiles doctests when they run, through `cargo test --doc`.
pub fn check_doctests_runnable(
    list: &TestList,
    will_run: impl Iterator<Item = usize>,
) -> Result<(), AppError> {
    let doctests =
        will_run.filter(|&i| list.binaries[list.tests[i].binary.0].kind == TargetKind::Doc).count();
    if doctests == 0 || cargo_on_path() {
        return Ok(());
    }
    Err(ArchiveRunError::DoctestsNeedCargo { count: doctests }.into())
}

/// Whether `$CARGO` or a `cargo` on the `PATH` exists.
fn cargo_on_path() -> bool {
    if std::env::var_os("CARGO").is_some_and(|cargo| Utf8Path::new(&cargo.to_string_lossy()).is_file()) {
        return true;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).any(|dir| dir.join("cargo").is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_archive_unpacks_where_the_target_directory_was() {
        let cases = [
            ("/b/ws", "/b/ws/target", "/r/ws/target"),
            ("/b/ws", "/b/ws/build/out", "/r/ws/build/out"),
            ("/b/ws", "/elsewhere/target", "/r/ws/target"),
            ("/b/ws", "/b/ws", "/r/ws/target"),
        ];
        for (built_root, built_target, expected) in cases {
            let dir = default_extract_dir(
                Utf8Path::new("/r/ws"),
                Utf8Path::new(built_root),
                Utf8Path::new(built_target),
            );
            assert_eq!(dir, expected, "{built_root} {built_target}");
        }
        assert_eq!(plural(1, "binary"), "1 binary");
        assert_eq!(plural(3, "binary"), "3 binaries");
        assert_eq!(plural(0, "test"), "0 tests");
    }
}
