//! The build: `cargo test --no-run --message-format=json-render-diagnostics`, started as a
//! [`BuildProcess`] that the caller finishes later. Cargo's JSON messages are read on a
//! thread of their own from the start (a large build must not block on a full pipe) and
//! its stderr (progress and rendered diagnostics) either goes straight to the user or is
//! held until the caller releases it.
//!
//! Holding stderr is what lets cargo check its fingerprints while `cargo metadata` runs
//! and the configuration is read (two cargo start-ups side by side instead of one after
//! the other, docs/performance.md): if the configuration turns out to be invalid, the
//! build is abandoned — its process group killed — and the user sees only the error, as
//! if nothing had been started.

use std::collections::HashMap;
use std::io::{BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use camino::Utf8PathBuf;
use cargo_metadata::Message;

use super::{CargoOptions, cargo_program, target_kind};
use crate::cancel::CancelToken;
use crate::error::RunnerError;
use crate::model::TargetKind;

/// One test executable the build produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuiltBinary {
    /// Cargo package id.
    pub package_id: String,
    /// Target name.
    pub target_name: String,
    /// Target kind.
    pub kind: TargetKind,
    /// The executable.
    pub executable: Utf8PathBuf,
    /// The target's source file (from the artifact's target).
    pub src_path: Utf8PathBuf,
}

/// What a package's build script reported.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildScriptInfo {
    /// `OUT_DIR`.
    pub out_dir: Utf8PathBuf,
    /// `cargo::rustc-link-search` paths (for the dynamic library search path).
    pub linked_paths: Vec<Utf8PathBuf>,
    /// `cargo::rustc-env` variables (cargo sets them for running tests, too).
    pub env: Vec<(String, String)>,
}

/// Everything the build produced.
#[derive(Clone, Debug, Default)]
pub struct BuildOutput {
    /// Test executables (artifacts with `profile.test == true`), in cargo's order.
    pub binaries: Vec<BuiltBinary>,
    /// Build script results by package id.
    pub build_scripts: HashMap<String, BuildScriptInfo>,
    /// Every library the build made, as (package id, `.rlib`): with `--coverage`, the
    /// workspace's hold the coverage mapping of the code doctests run.
    pub libraries: Vec<(String, Utf8PathBuf)>,
}

/// Where cargo's stderr goes while it builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildStderr {
    /// Straight to the user's stderr: on a terminal cargo keeps its progress bar. The build
    /// shares the runner's process group, so a terminal's Ctrl-C reaches it too.
    Inherit,
    /// Held in memory until [`BuildProcess::finish`], then relayed as it comes; discarded
    /// if the build is abandoned. The build runs in a process group of its own, so it can be
    /// stopped whole.
    Held,
}

/// A running `cargo test --no-run`.
#[derive(Debug)]
pub struct BuildProcess {
    child: Option<Child>,
    messages: Option<JoinHandle<std::io::Result<BuildOutput>>>,
    held: Option<HeldStderr>,
}

/// Starts the build. With `--doc` nothing is built (cargo refuses `--doc --no-run`, and the
/// doctest listing builds the libraries itself): the process is empty and finishes at once.
pub fn start_build(opts: &CargoOptions, stderr: BuildStderr) -> Result<BuildProcess, RunnerError> {
    if opts.doc {
        return Ok(BuildProcess { child: None, messages: None, held: None });
    }
    let mut command = Command::new(cargo_program());
    command.args(opts.no_run_args()).envs(opts.env.iter().map(|(k, v)| (k, v)));
    command.stdin(Stdio::null()).stdout(Stdio::piped());
    if stderr == BuildStderr::Held {
        crate::platform::new_process_group(command.stderr(Stdio::piped()));
    } else {
        command.stderr(Stdio::inherit());
    }
    let mut child = command
        .spawn()
        .map_err(|err| RunnerError::io(format!("running `{} test --no-run`", cargo_program()), err))?;
    let messages = child.stdout.take().map(|stdout| {
        std::thread::Builder::new()
            .name("testplan-build".to_owned())
            .spawn(move || collect_messages(BufReader::new(stdout)))
    });
    let messages = messages.transpose().map_err(|err| RunnerError::io("starting a thread", err))?;
    let held = child.stderr.take().map(HeldStderr::start).transpose()?;
    Ok(BuildProcess { child: Some(child), messages, held })
}

impl BuildProcess {
    /// Releases held stderr, waits for cargo and returns what it built. A failed build is
    /// [`RunnerError::Build`]. Ctrl-C stops a build in its own process group (a build
    /// sharing the runner's group got the terminal's Ctrl-C itself).
    pub fn finish(mut self, cancel: &CancelToken) -> Result<BuildOutput, RunnerError> {
        if let Some(held) = &self.held {
            held.release();
        }
        let Some(mut child) = self.child.take() else { return Ok(BuildOutput::default()) };
        if self.held.is_some() {
            wait_or_stop(&child, self.messages.as_ref(), cancel);
        }
        let status = child.wait().map_err(|err| RunnerError::io("waiting for cargo", err))?;
        let output = self.messages.take().map(join_messages).unwrap_or_else(|| Ok(BuildOutput::default()));
        if let Some(held) = self.held.take() {
            held.join();
        }
        if !status.success() {
            return Err(RunnerError::Build { status: status.to_string() });
        }
        output.map_err(|err| RunnerError::io("reading cargo's build messages", err))
    }
}

impl Drop for BuildProcess {
    /// An unfinished build is abandoned: its process group is killed and its held output
    /// discarded.
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        if self.held.is_some() {
            if let Ok(pgid) = i32::try_from(child.id()) {
                let _ = crate::platform::kill_group(pgid, crate::platform::SIGKILL);
            }
        } else {
            let _ = child.kill();
        }
        let _ = child.wait();
    }
}

/// Waits until cargo's stdout closes (cargo is done), stopping its group on Ctrl-C. Polls:
/// every millisecond for the first 100 ms (a no-op build takes ~40 ms), then every 10 ms.
fn wait_or_stop(
    child: &Child,
    messages: Option<&JoinHandle<std::io::Result<BuildOutput>>>,
    cancel: &CancelToken,
) {
    let Some(messages) = messages else { return };
    let started = Instant::now();
    let mut signalled = false;
    while !messages.is_finished() {
        if cancel.is_cancelled() && !signalled {
            if let Ok(pgid) = i32::try_from(child.id()) {
                let _ = crate::platform::kill_group(pgid, crate::platform::SIGINT);
            }
            signalled = true;
        }
        let pause = if started.elapsed() < Duration::from_millis(100) { 1 } else { 10 };
        std::thread::sleep(Duration::from_millis(pause));
    }
}

fn join_messages(handle: JoinHandle<std::io::Result<BuildOutput>>) -> std::io::Result<BuildOutput> {
    handle.join().unwrap_or_else(|_| Err(std::io::Error::other("the build message reader panicked")))
}

/// Cargo's stderr, buffered until released and relayed after.
#[derive(Debug)]
struct HeldStderr {
    /// `Some(buffer)` while held; `None` once released.
    buffer: Arc<Mutex<Option<Vec<u8>>>>,
    thread: JoinHandle<()>,
}

impl HeldStderr {
    fn start(stderr: std::process::ChildStderr) -> Result<Self, RunnerError> {
        let buffer = Arc::new(Mutex::new(Some(Vec::new())));
        let shared = Arc::clone(&buffer);
        let thread = std::thread::Builder::new()
            .name("testplan-build-stderr".to_owned())
            .spawn(move || relay(stderr, &shared))
            .map_err(|err| RunnerError::io("starting a thread", err))?;
        Ok(Self { buffer, thread })
    }

    /// Writes what was held and lets the rest through as it comes.
    fn release(&self) {
        let mut guard = self.buffer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(held) = guard.take() {
            let _ = std::io::stderr().write_all(&held);
        }
    }

    fn join(self) {
        let _ = self.thread.join();
    }
}

/// Reads `stderr` to its end, appending to the buffer while it is held and writing to the
/// runner's stderr once released. The lock orders the two, so nothing is reordered.
fn relay(mut stderr: std::process::ChildStderr, buffer: &Mutex<Option<Vec<u8>>>) {
    let mut chunk = [0_u8; 8192];
    loop {
        let n = match stderr.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        };
        let mut guard = buffer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match guard.as_mut() {
            Some(held) => held.extend_from_slice(&chunk[..n]),
            None => {
                let _ = std::io::stderr().write_all(&chunk[..n]);
            }
        }
    }
}

/// Reads cargo's JSON messages to the end and keeps the test executables and build
/// script results.
fn collect_messages(reader: impl std::io::BufRead) -> std::io::Result<BuildOutput> {
    let mut output = BuildOutput::default();
    for message in Message::parse_stream(reader) {
        match message? {
            Message::CompilerArtifact(artifact) => {
                output.binaries.extend(built_binary(&artifact));
                let rlibs = artifact.filenames.iter().filter(|f| f.extension() == Some("rlib"));
                output.libraries.extend(rlibs.map(|f| (artifact.package_id.repr.clone(), f.clone())));
            }
            Message::BuildScriptExecuted(script) => {
                output.build_scripts.insert(script.package_id.repr.clone(), build_script_info(&script));
            }
            _ => {}
        }
    }
    Ok(output)
}

/// The test executable of an artifact, if it is one.
fn built_binary(artifact: &cargo_metadata::Artifact) -> Option<BuiltBinary> {
    if !artifact.profile.test {
        return None;
    }
    let executable = artifact.executable.clone()?;
    Some(BuiltBinary {
        package_id: artifact.package_id.repr.clone(),
        target_name: artifact.target.name.clone(),
        kind: target_kind(&artifact.target.kind),
        executable,
        src_path: artifact.target.src_path.clone(),
    })
}

fn build_script_info(script: &cargo_metadata::BuildScript) -> BuildScriptInfo {
    BuildScriptInfo {
        out_dir: script.out_dir.clone(),
        linked_paths: script.linked_paths.iter().map(|path| strip_link_kind(path.as_str())).collect(),
        env: script.env.clone(),
    }
}

/// `native=/some/dir` → `/some/dir` (the kinds `rustc -L` accepts).
fn strip_link_kind(path: &str) -> Utf8PathBuf {
    match path.split_once('=') {
        Some(("native" | "crate" | "dependency" | "framework" | "all", dir)) => Utf8PathBuf::from(dir),
        _ => Utf8PathBuf::from(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_kinds_are_stripped() {
        assert_eq!(strip_link_kind("native=/a/b"), "/a/b");
        assert_eq!(strip_link_kind("all=/a"), "/a");
        assert_eq!(strip_link_kind("dependency=/a"), "/a");
        assert_eq!(strip_link_kind("/a/b=c"), "/a/b=c");
        assert_eq!(strip_link_kind("/plain"), "/plain");
    }

    #[test]
    fn build_messages_keep_test_executables_and_build_scripts() {
        let stream = concat!(
            r#"{"reason":"compiler-artifact","package_id":"p 0.1.0","manifest_path":"/w/Cargo.toml","target":{"name":"p","kind":["lib"],"crate_types":["lib"],"src_path":"/w/src/lib.rs","edition":"2021","doctest":true,"test":true},"profile":{"opt_level":"0","debuginfo":0,"debug_assertions":true,"overflow_checks":true,"test":true},"features":[],"filenames":["/w/target/debug/deps/p-1"],"executable":"/w/target/debug/deps/p-1","fresh":true}"#,
            "\n",
            r#"{"reason":"compiler-artifact","package_id":"p 0.1.0","manifest_path":"/w/Cargo.toml","target":{"name":"p","kind":["lib"],"crate_types":["lib"],"src_path":"/w/src/lib.rs","edition":"2021","doctest":true,"test":true},"profile":{"opt_level":"0","debuginfo":0,"debug_assertions":true,"overflow_checks":true,"test":false},"features":[],"filenames":["/w/target/debug/deps/libp.rlib"],"executable":null,"fresh":true}"#,
            "\n",
            r#"{"reason":"compiler-artifact","package_id":"p 0.1.0","manifest_path":"/w/Cargo.toml","target":{"name":"pm","kind":["proc-macro"],"crate_types":["proc-macro"],"src_path":"/w/src/pm.rs","edition":"2021","doctest":true,"test":true},"profile":{"opt_level":"0","debuginfo":0,"debug_assertions":true,"overflow_checks":true,"test":true},"features":[],"filenames":["/w/target/debug/deps/pm-2"],"executable":"/w/target/debug/deps/pm-2","fresh":true}"#,
            "\n",
            r#"{"reason":"build-script-executed","package_id":"p 0.1.0","linked_libs":[],"linked_paths":["native=/w/target/debug/build/p-1/out/lib","/other"],"cfgs":[],"env":[["K","V"]],"out_dir":"/w/target/debug/build/p-1/out"}"#,
            "\n",
            "not json\n",
            r#"{"reason":"build-finished","success":true}"#,
            "\n",
        );
        let output = collect_messages(stream.as_bytes()).expect("reads");
        let kinds: Vec<_> = output.binaries.iter().map(|b| (b.target_name.as_str(), b.kind)).collect();
        assert_eq!(kinds, [("p", TargetKind::Lib), ("pm", TargetKind::ProcMacro)]);
        let script = &output.build_scripts["p 0.1.0"];
        assert_eq!(script.out_dir, "/w/target/debug/build/p-1/out");
        assert_eq!(
            script.linked_paths,
            [Utf8PathBuf::from("/w/target/debug/build/p-1/out/lib"), "/other".into()]
        );
        assert_eq!(script.env, [("K".to_owned(), "V".to_owned())]);
    }
}
