//! The instrumented build: its environment, and the rustc wrapper that instruments only the
//! workspace's own crates.
//!
//! - **Own target directory.** The instrumented build goes to a target directory of its own,
//!   so the normal build stays untouched and warm (and cargo never mixes the two).
//! - **Workspace members only.** cargo runs `RUSTC_WORKSPACE_WRAPPER` for workspace members
//!   only; ours is cargo-testplan itself, started with [`WRAPPER_ENV`] set, which adds
//!   `-C instrument-coverage --cfg=coverage` to every crate but build scripts and runs rustc
//!   (or the wrapper that was already configured). Dependencies are built as usual: the same
//!   line figures as instrumenting everything, with far less profile data (cargo-llvm-cov
//!   does the same through `RUSTC_WRAPPER` and a list of the workspace's crate names).
//!   `RUSTC_WRAPPER` (sccache, ...) keeps working: cargo runs it around ours.
//! - **Doctests.** rustdoc does not run rustc wrappers; `RUSTDOCFLAGS` (or
//!   `CARGO_ENCODED_RUSTDOCFLAGS` when that is how the user set them) get the same flags,
//!   so doctest processes write profiles too, on stable Rust.
//! - **Profiles.** Every instrumented process writes to `LLVM_PROFILE_FILE`. During the
//!   build that is a `build/` directory (workspace proc-macros run inside rustc); each
//!   phase's test processes get their phase's directory ([`crate::profiles`]).

use std::ffi::{OsStr, OsString};
use std::process::Command;

use camino::Utf8Path;

/// Set (to `1`) in the instrumented build's environment: a cargo-testplan started with it
/// and a rustc as its first argument acts as the rustc wrapper ([`intercept`]).
pub const WRAPPER_ENV: &str = "CARGO_TESTPLAN_COVERAGE_WRAPPER";
/// A `RUSTC_WORKSPACE_WRAPPER` the user had set: ours runs it instead of rustc.
pub const NEXT_WRAPPER_ENV: &str = "CARGO_TESTPLAN_COVERAGE_NEXT_WRAPPER";
/// The flags every instrumented workspace crate and doctest gets.
pub const INSTRUMENT_FLAGS: [&str; 3] = ["-C", "instrument-coverage", "--cfg=coverage"];

/// The environment variables cargo needs to build, list and run doctests of the instrumented
/// workspace. `wrapper` is the cargo-testplan executable; `build_profiles` is the
/// `LLVM_PROFILE_FILE` pattern for processes started during the build. `get` reads the
/// current environment (a parameter, so tests can fake it).
pub fn build_env(
    wrapper: &Utf8Path,
    build_profiles: &Utf8Path,
    get: impl Fn(&str) -> Option<String>,
) -> Vec<(String, String)> {
    let mut env = vec![
        ("RUSTC_WORKSPACE_WRAPPER".to_owned(), wrapper.to_string()),
        (WRAPPER_ENV.to_owned(), "1".to_owned()),
        ("LLVM_PROFILE_FILE".to_owned(), build_profiles.to_string()),
    ];
    if let Some(next) = get("RUSTC_WORKSPACE_WRAPPER").filter(|w| !w.is_empty() && w != wrapper.as_str()) {
        env.push((NEXT_WRAPPER_ENV.to_owned(), next));
    }
    env.push(rustdocflags(&get));
    env
}

/// `RUSTDOCFLAGS` with the instrumentation flags added; `CARGO_ENCODED_RUSTDOCFLAGS` (which
/// cargo prefers when set) extended instead when that is set.
fn rustdocflags(get: &impl Fn(&str) -> Option<String>) -> (String, String) {
    if let Some(encoded) = get("CARGO_ENCODED_RUSTDOCFLAGS").filter(|v| !v.is_empty()) {
        let mut value = encoded;
        for flag in INSTRUMENT_FLAGS {
            value.push('\x1f');
            value.push_str(flag);
        }
        return ("CARGO_ENCODED_RUSTDOCFLAGS".to_owned(), value);
    }
    let mut value = get("RUSTDOCFLAGS").unwrap_or_default();
    for flag in INSTRUMENT_FLAGS {
        if !value.is_empty() {
            value.push(' ');
        }
        value.push_str(flag);
    }
    ("RUSTDOCFLAGS".to_owned(), value)
}

/// When cargo started this process as the instrumented build's rustc wrapper (see
/// [`WRAPPER_ENV`]), runs rustc in its place and never returns on success (the exit code
/// to exit with when rustc could not be started); `None` when this is an ordinary
/// cargo-testplan invocation. Call first thing in `main`, before reading the arguments as
/// UTF-8 (rustc's may not be).
pub fn intercept() -> Option<i32> {
    std::env::var_os(WRAPPER_ENV)?;
    let mut args = std::env::args_os().skip(1);
    let rustc = args.next()?;
    // `cargo testplan ...` starts `cargo-testplan testplan ...`: a user's run, not cargo's
    // compiler call (tests of a project that runs cargo-testplan inherit the variable).
    if rustc == "testplan" {
        return None;
    }
    let args: Vec<OsString> = args.collect();
    let next = std::env::var_os(NEXT_WRAPPER_ENV);
    let mut command = compiler_command(&rustc, &args, next.as_deref());
    let error = testplan_runner::platform::exec(&mut command);
    eprintln!("cargo-testplan (coverage rustc wrapper): cannot run {}: {error}", rustc.to_string_lossy());
    Some(1)
}

/// The command the wrapper runs: `[next wrapper] rustc args [instrumentation flags]`.
pub fn compiler_command(rustc: &OsStr, args: &[OsString], next_wrapper: Option<&OsStr>) -> Command {
    let mut command = match next_wrapper {
        Some(next) => {
            let mut command = Command::new(next);
            command.arg(rustc);
            command
        }
        None => Command::new(rustc),
    };
    command.args(args);
    if instruments(args) {
        command.args(INSTRUMENT_FLAGS);
    }
    command
}

/// Whether a rustc call compiles a crate that gets instrumented: it names a crate, and the
/// crate is not a build script (cargo's probes, `rustc -vV` and `--print` calls name none).
fn instruments(args: &[OsString]) -> bool {
    let name = args.windows(2).find(|pair| pair[0] == "--crate-name").map(|pair| pair[1].to_string_lossy());
    match name {
        Some(name) => name != "___" && !name.starts_with("build_script_"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> =
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn shown(command: &Command) -> Vec<String> {
        std::iter::once(command.get_program())
            .chain(command.get_args())
            .map(|s| s.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn build_env_sets_the_wrapper_profiles_and_rustdocflags() {
        let env = build_env(
            Utf8Path::new("/bin/cargo-testplan"),
            Utf8Path::new("/p/build/%8m.profraw"),
            env_of(&[]),
        );
        assert_eq!(
            env,
            [
                ("RUSTC_WORKSPACE_WRAPPER".to_owned(), "/bin/cargo-testplan".to_owned()),
                (WRAPPER_ENV.to_owned(), "1".to_owned()),
                ("LLVM_PROFILE_FILE".to_owned(), "/p/build/%8m.profraw".to_owned()),
                ("RUSTDOCFLAGS".to_owned(), "-C instrument-coverage --cfg=coverage".to_owned()),
            ]
        );
    }

    #[test]
    fn users_flags_and_wrapper_are_kept() {
        let get = env_of(&[("RUSTDOCFLAGS", "--cfg docsrs"), ("RUSTC_WORKSPACE_WRAPPER", "/opt/lint")]);
        let env = build_env(Utf8Path::new("/bin/cargo-testplan"), Utf8Path::new("/p"), get);
        assert!(env.contains(&(NEXT_WRAPPER_ENV.to_owned(), "/opt/lint".to_owned())));
        assert!(env.contains(&(
            "RUSTDOCFLAGS".to_owned(),
            "--cfg docsrs -C instrument-coverage --cfg=coverage".into()
        )));
        let encoded = build_env(
            Utf8Path::new("/w"),
            Utf8Path::new("/p"),
            env_of(&[("CARGO_ENCODED_RUSTDOCFLAGS", "-D\x1fwarnings")]),
        );
        assert!(encoded.contains(&(
            "CARGO_ENCODED_RUSTDOCFLAGS".to_owned(),
            "-D\x1fwarnings\x1f-C\x1finstrument-coverage\x1f--cfg=coverage".into()
        )));
    }

    #[test]
    fn workspace_crates_get_the_flags_build_scripts_and_probes_do_not() {
        let lib = args(&["--crate-name", "covfix", "--edition=2024", "src/lib.rs"]);
        assert_eq!(
            shown(&compiler_command(OsStr::new("rustc"), &lib, None)),
            [
                "rustc",
                "--crate-name",
                "covfix",
                "--edition=2024",
                "src/lib.rs",
                "-C",
                "instrument-coverage",
                "--cfg=coverage"
            ]
        );
        for plain in [
            args(&["--crate-name", "build_script_build", "build.rs"]),
            args(&["-", "--crate-name", "___", "--print=file-names"]),
            args(&["-vV"]),
        ] {
            let command = compiler_command(OsStr::new("rustc"), &plain, None);
            assert_eq!(
                shown(&command)[1..],
                plain.iter().map(|a| a.to_string_lossy().into_owned()).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn a_configured_wrapper_runs_rustc() {
        let command = compiler_command(
            OsStr::new("rustc"),
            &args(&["--crate-name", "x"]),
            Some(OsStr::new("/opt/lint")),
        );
        assert_eq!(
            shown(&command),
            ["/opt/lint", "rustc", "--crate-name", "x", "-C", "instrument-coverage", "--cfg=coverage"]
        );
    }
}
