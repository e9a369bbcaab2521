//! The paths and environment every measured command shares: the repository, the benchmark
//! root (`target/bench/`), and a private copy of the cargo-testplan binary first on `PATH`,
//! so `cargo testplan` is the repo's build and a concurrent rebuild cannot swap it mid-run.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::Result;

/// Where things are, and the environment of measured commands.
#[derive(Debug)]
pub struct Context {
    /// The repository root.
    pub repo: PathBuf,
    /// `target/bench/` of the repository.
    pub bench_root: PathBuf,
    /// The benchmarked cargo-testplan (a copy inside `target/bench/bin/`).
    pub testplan_bin: PathBuf,
    /// `PATH` with `target/bench/bin` first.
    path: OsString,
    /// Extra arguments of every `cargo testplan run` (`bench --testplan-arg`).
    pub testplan_args: Vec<String>,
}

/// Variables `cargo run` sets for the xtask itself, which must not reach the runners.
fn is_cargo_run_variable(name: &str) -> bool {
    name == "CARGO"
        || name == "CARGO_CRATE_NAME"
        || name == "CARGO_BIN_NAME"
        || name == "CARGO_PRIMARY_PACKAGE"
        || name == "CARGO_TARGET_DIR"
        || name.starts_with("CARGO_PKG_")
        || name.starts_with("CARGO_MANIFEST_")
        || name.starts_with("CARGO_RUSTC_CURRENT_DIR")
}

impl Context {
    /// Builds (unless `testplan_bin` is given) and installs the cargo-testplan binary.
    pub fn new(testplan_bin: Option<PathBuf>) -> Result<Context> {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .ok_or("the xtask crate has no parent directory")?
            .to_path_buf();
        let bench_root = repo.join("target").join("bench");
        let source = match testplan_bin {
            Some(path) => path,
            None => build_testplan(&repo)?,
        };
        let bin_dir = bench_root.join("bin");
        std::fs::create_dir_all(&bin_dir).map_err(|e| format!("creating {}: {e}", bin_dir.display()))?;
        let installed = bin_dir.join("cargo-testplan");
        std::fs::copy(&source, &installed)
            .map_err(|e| format!("copying {} to {}: {e}", source.display(), installed.display()))?;
        let mut paths = vec![bin_dir];
        paths.extend(
            std::env::var_os("PATH")
                .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
                .unwrap_or_default(),
        );
        let path = std::env::join_paths(paths).map_err(|e| format!("PATH: {e}"))?;
        Ok(Context { repo, bench_root, testplan_bin: installed, path, testplan_args: Vec::new() })
    }

    /// A `cargo` command in the workspace `ws`, with the benchmark environment: its own
    /// target directory (`ws/target`, the same for every runner), no colour, and the
    /// benchmarked cargo-testplan first on `PATH`.
    pub fn cargo(&self, ws: &Path) -> Command {
        self.command("cargo", ws)
    }

    /// Any program, with the benchmark environment (see [`Context::cargo`]).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>, ws: &Path) -> Command {
        let mut command = Command::new(program);
        for (name, _) in std::env::vars_os() {
            if name.to_str().is_some_and(is_cargo_run_variable) {
                command.env_remove(&name);
            }
        }
        command
            .current_dir(ws)
            .env("PATH", &self.path)
            .env("CARGO_TARGET_DIR", ws.join("target"))
            .env("CARGO_TERM_COLOR", "never")
            .env("CARGO_TERM_PROGRESS_WHEN", "never");
        command
    }
}

/// `cargo build --release -p cargo-testplan` in the repository; the binary's path.
fn build_testplan(repo: &Path) -> Result<PathBuf> {
    eprintln!("building cargo-testplan (release) in {}", repo.display());
    let mut command = Command::new("cargo");
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(is_cargo_run_variable) {
            command.env_remove(&name);
        }
    }
    let status = command
        .args(["build", "--release", "-p", "cargo-testplan"])
        .current_dir(repo)
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("running cargo build: {e}"))?;
    if !status.success() {
        return Err(format!(
            "building cargo-testplan failed ({status}); pass --testplan-bin PATH to benchmark another build"
        )
        .into());
    }
    Ok(repo.join("target").join("release").join("cargo-testplan"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_run_variables_are_recognised() {
        let cases = [
            ("CARGO", true),
            ("CARGO_PKG_NAME", true),
            ("CARGO_MANIFEST_DIR", true),
            ("CARGO_TARGET_DIR", true),
            ("CARGO_HOME", false),
            ("CARGO_TERM_COLOR", false),
            ("RUSTFLAGS", false),
            ("PATH", false),
        ];
        for (name, expected) in cases {
            assert_eq!(is_cargo_run_variable(name), expected, "{name}");
        }
    }
}
