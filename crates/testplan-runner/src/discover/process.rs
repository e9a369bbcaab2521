//! Running one listing command (a test binary's `--list`, or `cargo test --doc -- --list`)
//! in its own process group, with bounded captured output, an optional timeout and
//! cancellation. On timeout or cancellation the whole group is killed, so a binary that
//! starts its tests instead of listing them leaves nothing behind.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use crate::cancel::CancelToken;
use crate::error::RunnerError;

/// Output kept per stream; more is read and dropped (a listing this large is broken).
const MAX_CAPTURE: usize = 64 * 1024 * 1024;
/// How often the child is polled while waiting.
const POLL: Duration = Duration::from_millis(10);
/// The first poll once the child's pipes are closed (doubling up to [`POLL`]).
const FIRST_IDLE_POLL: Duration = Duration::from_micros(100);
/// How long to wait for the pipes to close after the child exited (a grandchild that
/// left the process group may hold them open).
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// Where the child's stderr goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Capture {
    /// stdout and stderr captured separately.
    Separate,
    /// stderr written into the stdout pipe, so their relative order is kept.
    Merged,
}

/// How a listing command ended.
#[derive(Clone, Debug)]
pub(crate) enum Ending {
    /// It exited (or was killed by someone else).
    Exited(ExitStatus),
    /// It ran past the timeout and its process group was killed.
    TimedOut,
}

/// What a listing command printed and how it ended.
#[derive(Clone, Debug)]
pub(crate) struct Listing {
    pub ending: Ending,
    pub stdout: String,
    pub stderr: String,
    /// Some output was dropped because it passed [`MAX_CAPTURE`].
    pub truncated: bool,
}

impl Listing {
    /// Exited with status 0 and nothing was dropped.
    pub fn succeeded(&self) -> bool {
        matches!(&self.ending, Ending::Exited(status) if status.success()) && !self.truncated
    }

    /// How it ended, in a few words: `exited with exit status: 2`, `timed out`.
    pub fn ending_summary(&self) -> String {
        let how = match &self.ending {
            Ending::Exited(status) => format!("exited with {status}"),
            Ending::TimedOut => "timed out".to_owned(),
        };
        if self.truncated { format!("{how}, output too large") } else { how }
    }

    /// A one-line account of a failure, with the end of stderr.
    pub fn failure_summary(&self) -> String {
        let how = self.ending_summary();
        let tail = tail_lines(self.stderr.trim_end(), 20);
        if tail.is_empty() { how } else { format!("{how}; stderr:\n{tail}") }
    }
}

/// The last `n` lines of `text`.
fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Runs `command` to completion (or `timeout`, or cancellation) and captures its output.
/// The command's stdio is set here; its program, arguments, cwd and env are the
/// caller's. Cancellation kills the group and returns [`RunnerError::Interrupted`].
pub(crate) fn run_listing(
    mut command: Command,
    capture: Capture,
    timeout: Option<Duration>,
    cancel: &CancelToken,
) -> Result<Listing, RunnerError> {
    let describe = format!("running {:?}", command.get_program());
    let (tx, rx) = mpsc::channel();
    let mut child =
        spawn(&mut command, capture, &tx).map_err(|err| RunnerError::io(describe.clone(), err))?;
    drop(command); // closes our copies of the pipe's write end
    drop(tx);
    let mut collector = Collector::default();
    let ending = wait(&mut child, &rx, &mut collector, timeout, cancel)
        .map_err(|err| RunnerError::io(describe, err))?;
    kill_group(&child); // leftovers of the group, if any
    collector.drain(&rx, Instant::now() + DRAIN_GRACE);
    let ending = ending.ok_or(RunnerError::Interrupted)?;
    Ok(collector.finish(ending))
}

/// Spawns the child in a new process group with piped output; one thread per pipe
/// forwards chunks to `tx`.
fn spawn(command: &mut Command, capture: Capture, tx: &Sender<(Stream, Vec<u8>)>) -> std::io::Result<Child> {
    command.stdin(Stdio::null());
    crate::platform::new_process_group(command);
    match capture {
        Capture::Separate => {
            command.stdout(Stdio::piped()).stderr(Stdio::piped());
            let mut child = command.spawn()?;
            if let Some(out) = child.stdout.take() {
                forward(out, Stream::Stdout, tx.clone());
            }
            if let Some(err) = child.stderr.take() {
                forward(err, Stream::Stderr, tx.clone());
            }
            Ok(child)
        }
        Capture::Merged => {
            let (reader, writer) = std::io::pipe()?;
            command.stdout(writer.try_clone()?).stderr(writer);
            let child = command.spawn()?;
            forward(reader, Stream::Stdout, tx.clone());
            Ok(child)
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stream {
    Stdout,
    Stderr,
}

/// Reads `source` to the end on a detached thread, sending each chunk. Detached so a
/// pipe held open by an escaped grandchild cannot block the caller.
fn forward(mut source: impl Read + Send + 'static, stream: Stream, tx: Sender<(Stream, Vec<u8>)>) {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match source.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send((stream, buf[..n].to_vec())).is_err() {
                        break;
                    }
                }
            }
        }
    });
}

/// Waits for the child while collecting output. `Ok(None)` means cancelled (the group
/// was killed).
fn wait(
    child: &mut Child,
    rx: &Receiver<(Stream, Vec<u8>)>,
    collector: &mut Collector,
    timeout: Option<Duration>,
    cancel: &CancelToken,
) -> std::io::Result<Option<Ending>> {
    let deadline = timeout.map(|timeout| Instant::now() + timeout);
    let mut idle = FIRST_IDLE_POLL;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(Ending::Exited(status)));
        }
        if cancel.is_cancelled() {
            stop(child);
            return Ok(None);
        }
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            stop(child);
            return Ok(Some(Ending::TimedOut));
        }
        match rx.recv_timeout(POLL) {
            Ok((stream, chunk)) => collector.push(stream, &chunk),
            Err(RecvTimeoutError::Timeout) => {}
            // Every pipe is closed, so the child has exited or is about to: poll for its
            // status with a short, growing sleep. A full POLL here added 10 ms to every
            // listing, which made listing 40 small binaries take a quarter of a second.
            Err(RecvTimeoutError::Disconnected) => {
                std::thread::sleep(idle);
                idle = (idle * 2).min(POLL);
            }
        }
    }
}

/// Kills the child's process group and reaps the child.
fn stop(child: &mut Child) {
    kill_group(child);
    let _ = child.kill();
    let _ = child.wait();
}

/// SIGKILL to the child's process group (its id is the child's pid). Best effort: the
/// child itself is killed and reaped after this anyway.
fn kill_group(child: &Child) {
    if let Ok(pgid) = i32::try_from(child.id()) {
        let _ = crate::platform::kill_group(pgid, crate::platform::SIGKILL);
    }
}

/// Bounded buffers for both streams.
#[derive(Debug, Default)]
struct Collector {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    truncated: bool,
}

impl Collector {
    fn push(&mut self, stream: Stream, chunk: &[u8]) {
        let buf = match stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        };
        let room = MAX_CAPTURE.saturating_sub(buf.len());
        if chunk.len() > room {
            self.truncated = true;
        }
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }

    /// Collects what is left until every reader is done or `deadline` passes.
    fn drain(&mut self, rx: &Receiver<(Stream, Vec<u8>)>, deadline: Instant) {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok((stream, chunk)) => self.push(stream, &chunk),
                Err(_) => return,
            }
        }
    }

    fn finish(self, ending: Ending) -> Listing {
        Listing {
            ending,
            stdout: String::from_utf8_lossy(&self.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&self.stderr).into_owned(),
            truncated: self.truncated,
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    #[test]
    fn captures_both_streams_and_the_status() {
        let out =
            run_listing(sh("echo out; echo err >&2; exit 3"), Capture::Separate, None, &CancelToken::new())
                .expect("runs");
        assert_eq!(out.stdout, "out\n");
        assert_eq!(out.stderr, "err\n");
        assert!(matches!(out.ending, Ending::Exited(status) if status.code() == Some(3)));
        assert!(!out.succeeded());
        assert_eq!(out.failure_summary(), "exited with exit status: 3; stderr:\nerr");
    }

    #[test]
    fn merged_capture_keeps_the_order() {
        let script = "echo one; echo two >&2; echo three";
        let out = run_listing(sh(script), Capture::Merged, None, &CancelToken::new()).expect("runs");
        assert_eq!(out.stdout, "one\ntwo\nthree\n");
        assert!(out.succeeded());
    }

    #[test]
    fn a_timeout_kills_the_whole_group() {
        let started = Instant::now();
        // The background sleep would keep the pipe open if it survived.
        let script = "sleep 30 & echo started; sleep 30";
        let out =
            run_listing(sh(script), Capture::Separate, Some(Duration::from_millis(300)), &CancelToken::new())
                .expect("runs");
        assert!(matches!(out.ending, Ending::TimedOut));
        assert_eq!(out.stdout, "started\n");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn cancellation_stops_the_command() {
        let cancel = CancelToken::new();
        cancel.cancel();
        let result = run_listing(sh("sleep 30"), Capture::Separate, None, &cancel);
        assert!(matches!(result, Err(RunnerError::Interrupted)));
    }

    #[test]
    fn output_past_the_cap_is_dropped_and_reported() {
        let mut collector = Collector::default();
        collector.push(Stream::Stdout, &vec![b'x'; MAX_CAPTURE - 1]);
        collector.push(Stream::Stdout, b"yz");
        let listing = collector.finish(Ending::TimedOut);
        assert_eq!(listing.stdout.len(), MAX_CAPTURE);
        assert!(listing.truncated);
    }
}
