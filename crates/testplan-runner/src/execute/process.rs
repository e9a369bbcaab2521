//! Starting one job's process: its own process group (and its own cgroup, when the run has
//! containment: [`crate::platform::containment`]), death with the runner
//! (`PR_SET_PDEATHSIG`), stdin from `/dev/null`, stdout and stderr merged into one pipe. Two threads serve it and report to the scheduler through a
//! channel: an output reader (bounded capture, plus libtest result parsing for batches)
//! and a waiter that reaps the process with `wait4` to learn its peak RSS.

use std::io::{PipeReader, Read};
use std::process::{Command, Stdio};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use super::batch::{BatchEvent, BatchParser, LineSplitter};
use super::error::WaitError;
use super::job::JobId;
use crate::model::RunCommand;
use crate::output::{CapturedOutput, OutputBuffer};
use crate::platform::{self, ExitInfo};

/// Stack for the helper threads: they hold a few locals; buffers live on the heap. Small
/// stacks keep hundreds of running tests cheap.
const THREAD_STACK: usize = 128 * 1024;
/// Bytes read from the pipe at once.
const READ_CHUNK: usize = 64 * 1024;
/// A batch's reader pauses this long after a read smaller than [`SMALL_READ`]: the times
/// of its tests' starts and results (their durations) are then this precise.
const BATCH_READ_PAUSE: std::time::Duration = std::time::Duration::from_millis(1);
/// See [`BATCH_READ_PAUSE`].
const SMALL_READ: usize = 4096;

/// What the helper threads tell the scheduler.
#[derive(Debug)]
pub(crate) enum Msg {
    /// The process ended and was reaped.
    Exited {
        /// Whose.
        job: JobId,
        /// How it ended, or why `wait4` failed.
        exit: Result<ExitInfo, WaitError>,
        /// When the waiter saw it.
        at: Instant,
    },
    /// New batch events (starts, results) were parsed; take them with
    /// [`Capture::take_results`].
    Progress {
        /// Whose.
        job: JobId,
    },
    /// The output pipe reached end of file: every writer is gone.
    OutputClosed {
        /// Whose.
        job: JobId,
    },
}

/// A job's output as the reader thread collects it, shared with the scheduler so that
/// what was captured can be taken even while the reader is still blocked.
#[derive(Debug)]
pub(crate) struct Capture {
    /// Bounded stdout+stderr.
    pub output: OutputBuffer,
    /// Parses results when the job is a batch.
    pub batch: Option<BatchParser>,
    results: Vec<(BatchEvent, Instant)>,
    scratch: Vec<BatchEvent>,
    /// A `Progress` message was sent and its events not taken yet: no need for another.
    notified: bool,
}

impl Capture {
    /// A capture keeping `head` + `tail` bytes, parsing results when `batch` is given.
    pub fn new(head: usize, tail: usize, batch: Option<BatchParser>) -> Self {
        Capture {
            output: OutputBuffer::new(head, tail),
            batch,
            results: Vec::new(),
            scratch: Vec::new(),
            notified: false,
        }
    }

    /// Events parsed since the last call, each with the time its line was read.
    pub fn take_results(&mut self) -> Vec<(BatchEvent, Instant)> {
        self.notified = false;
        std::mem::take(&mut self.results)
    }

    /// Takes the captured output (the reader, if still running, continues into an empty
    /// buffer nobody reads).
    pub fn take_output(&mut self) -> CapturedOutput {
        std::mem::take(&mut self.output).finish()
    }

    /// Appends bytes; with a parser, feeds complete lines (and, for a sequential batch, the
    /// unfinished last one) and says whether events came.
    fn absorb(&mut self, bytes: &[u8], lines: &mut LineSplitter, at: Instant) -> bool {
        self.output.push(bytes);
        let Some(parser) = self.batch.as_mut() else { return false };
        let events = &mut self.scratch;
        lines.push(bytes, &mut |line| parser.feed_line(line, events));
        parser.feed_partial(lines.partial(), events);
        self.move_events(at)
    }

    fn absorb_end(&mut self, lines: &mut LineSplitter, at: Instant) -> bool {
        let Some(parser) = self.batch.as_mut() else { return false };
        let events = &mut self.scratch;
        lines.finish(&mut |line| parser.feed_line(line, events));
        self.move_events(at)
    }

    /// Queues the parsed events; says whether the scheduler needs a `Progress` message
    /// (events came, and it has not been told about earlier ones it has not taken).
    fn move_events(&mut self, at: Instant) -> bool {
        if self.scratch.is_empty() {
            return false;
        }
        self.results.extend(self.scratch.drain(..).map(|event| (event, at)));
        !std::mem::replace(&mut self.notified, true)
    }
}

/// A capture shared between the reader thread and the scheduler.
pub(crate) type SharedCapture = Arc<Mutex<Capture>>;

/// Locks a capture. A reader thread cannot panic while holding the lock except through a
/// bug, and the data stays consistent byte by byte, so a poisoned lock is still used.
pub(crate) fn lock(capture: &SharedCapture) -> MutexGuard<'_, Capture> {
    capture.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A started process.
#[derive(Debug)]
pub(crate) struct Started {
    /// Its pid, which is also its process group id.
    pub pid: i32,
    /// Where its output goes.
    pub capture: SharedCapture,
    /// When it was spawned.
    pub at: Instant,
    /// The runner's own peak RSS when it spawned the process: see [`own_peak_rss`].
    pub rss_floor: Option<u64>,
}

/// The runner's own peak RSS (`VmHWM` of `/proc/self/status`), in bytes.
///
/// Linux folds the peak RSS of the address space a process leaves at `exec` into its
/// `ru_maxrss`, and a spawned child leaves the runner's (it starts as a copy, or shares it
/// with `vfork`). So a child's `ru_maxrss` is at least this "floor": a figure above it is
/// the child's own peak; one at or below it says only that the peak was no more.
pub(crate) fn own_peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|line| line.strip_prefix("VmHWM:"))?;
    let kib: u64 = line.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib * 1024)
}

/// The nice value of background jobs (see [`platform::lower_priority`]).
pub(crate) const BACKGROUND_NICE: i32 = 10;

/// Starts `spec` for `job`; the helper threads report on `tx`. A `background` job runs at
/// nice [`BACKGROUND_NICE`]; with `cgroup` (its group's `cgroup.procs`) it joins that group
/// before it runs anything. With `inherit` (`--no-capture`) its output goes to the runner's
/// own stdout and stderr, uncaptured.
pub(crate) fn start(
    job: JobId,
    spec: &RunCommand,
    capture: Capture,
    tx: &Sender<Msg>,
    (background, inherit): (bool, bool),
    cgroup: Option<std::ffi::CString>,
) -> std::io::Result<Started> {
    let (mut command, capture) = command(job, spec, capture, tx, inherit)?;
    if background {
        platform::lower_priority(&mut command, BACKGROUND_NICE);
    }
    platform::contain(&mut command, cgroup);
    let child = command.spawn()?;
    // The Command holds the parent's copies of the write end; the reader sees end of file
    // only once they are closed and every process of the test has exited.
    drop(command);
    let pid = child.id() as i32;
    // The waiter reaps the child with wait4; `Child` is dropped without waiting (std does
    // not reap on drop).
    drop(child);
    started(job, pid, capture, tx)
}

/// The command of `spec`, in a process group of its own, its output going to a new
/// capture served by a reader thread (or, with `inherit`, to the runner's own streams).
fn command(
    job: JobId,
    spec: &RunCommand,
    capture: Capture,
    tx: &Sender<Msg>,
    inherit: bool,
) -> std::io::Result<(Command, SharedCapture)> {
    let (reader, writer) = std::io::pipe()?;
    let capture = Arc::new(Mutex::new(capture));
    // The reader starts first: if spawning fails afterwards, dropping the write end ends it.
    spawn_thread("testplan-output", {
        let (capture, tx) = (Arc::clone(&capture), tx.clone());
        move || read_output(job, reader, &capture, &tx)
    })?;
    let mut command = Command::new(&spec.program);
    command
        .args(&spec.args)
        .current_dir(&spec.cwd)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null());
    // Its own group, so a timeout or Ctrl-C can stop the test with everything it spawned.
    platform::new_process_group(&mut command);
    if inherit {
        // The reader sees end of file at once: nothing is captured.
        command.stdout(Stdio::inherit()).stderr(Stdio::inherit());
        drop(writer);
    } else {
        command.stdout(writer.try_clone()?).stderr(writer);
    }
    Ok((command, capture))
}

/// A process that has begun to run `exec`'s program: its start time and RSS floor are
/// taken and its waiter started.
fn started(job: JobId, pid: i32, capture: SharedCapture, tx: &Sender<Msg>) -> std::io::Result<Started> {
    let at = Instant::now();
    // Read after the spawn returned, so after the exec: the runner's peak then is at least
    // what the kernel folded into the child's.
    let rss_floor = own_peak_rss();
    spawn_waiter(job, pid, tx)?;
    Ok(Started { pid, capture, at, rss_floor })
}

/// Makes processes ahead of their start ([`Parker::park`]), so that joining a cgroup —
/// which waits for an RCU grace period in the kernel (about 10 ms here, per move) — happens
/// while other jobs run rather than when a slot is free. One thread forks them all and
/// lives as long as the parker: the parent-death signal of a process follows the thread
/// that forked it, so that thread must outlive every process it started.
pub(crate) struct Parker {
    requests: Option<Sender<ParkRequest>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

type ParkRequest = (Command, Sender<std::io::Result<i32>>);

impl Parker {
    /// A parker with its forking thread.
    pub fn new() -> std::io::Result<Self> {
        let (requests, received) = std::sync::mpsc::channel::<ParkRequest>();
        let thread = std::thread::Builder::new()
            .name("testplan-parker".to_owned())
            .stack_size(THREAD_STACK)
            .spawn(move || {
                for (mut command, reply) in received {
                    let _ = reply.send(command.spawn().map(|child| child.id() as i32));
                }
            })?;
        Ok(Parker { requests: Some(requests), thread: Some(thread) })
    }

    /// Makes the process of `spec` for `job` (see [`start`]; never a background job): it
    /// joins the cgroup whose `cgroup.procs` is `procs`, then waits before `exec` until
    /// [`Parked::go`] starts it or [`Parked::cancel`] ends it.
    pub fn park(
        &self,
        job: JobId,
        spec: &RunCommand,
        capture: Capture,
        tx: &Sender<Msg>,
        inherit: bool,
        procs: std::ffi::CString,
    ) -> std::io::Result<Parked> {
        let (go_reader, go) = std::io::pipe()?;
        let (mut command, capture) = command(job, spec, capture, tx, inherit)?;
        platform::contain_parked(&mut command, procs, go_reader)?;
        let (reply, pid) = std::sync::mpsc::channel();
        let requests = self.requests.as_ref().ok_or_else(|| std::io::Error::other("parker stopped"))?;
        requests.send((command, reply)).map_err(|_| std::io::Error::other("parker stopped"))?;
        Ok(Parked { job, go, pid, capture })
    }
}

impl Drop for Parker {
    fn drop(&mut self) {
        drop(self.requests.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A job's process waiting before `exec` (see [`Parker`]).
pub(crate) struct Parked {
    job: JobId,
    go: std::io::PipeWriter,
    pid: std::sync::mpsc::Receiver<std::io::Result<i32>>,
    capture: SharedCapture,
}

impl Parked {
    /// Lets the process run its program, as [`start`] would have started it.
    pub fn go(self, tx: &Sender<Msg>) -> std::io::Result<Started> {
        use std::io::Write;
        let Parked { job, mut go, pid, capture } = self;
        let signalled = go.write_all(b"g");
        drop(go);
        // The fork finished once the child joined its cgroup; it usually has long ago.
        let pid = pid.recv().map_err(|_| std::io::Error::other("parker stopped"))??;
        if let Err(err) = signalled {
            reap(pid);
            return Err(err);
        }
        started(job, pid, capture, tx)
    }

    /// Ends the process without running anything and reaps it.
    pub fn cancel(self) {
        drop(self.go);
        if let Ok(Ok(pid)) = self.pid.recv() {
            reap(pid);
        }
    }
}

/// Kills a parked process (its own group) and reaps it.
fn reap(pid: i32) {
    let _ = platform::kill_group(pid, platform::SIGKILL);
    let _ = platform::wait4(pid);
}

fn spawn_waiter(job: JobId, pid: i32, tx: &Sender<Msg>) -> std::io::Result<()> {
    let sender = tx.clone();
    let waiter = move || {
        let exit = platform::wait4(pid).map_err(|e| WaitError(Arc::new(e)));
        let _ = sender.send(Msg::Exited { job, exit, at: Instant::now() });
    };
    spawn_thread("testplan-waiter", waiter).inspect_err(|_| {
        // Without a waiter nobody would reap it: stop it and reap it here.
        let _ = platform::kill_group(pid, platform::SIGKILL);
        let _ = platform::wait4(pid);
    })
}

fn spawn_thread(name: &str, body: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
    std::thread::Builder::new().name(name.to_owned()).stack_size(THREAD_STACK).spawn(body).map(drop)
}

/// Reads the pipe to end of file into the capture. The scheduler never waits for this
/// thread: if a process outside the group keeps the pipe open, the thread stays blocked
/// and the scheduler uses what was captured so far.
fn read_output(job: JobId, mut pipe: PipeReader, capture: &SharedCapture, tx: &Sender<Msg>) {
    let mut chunk = vec![0u8; READ_CHUNK];
    let mut lines = LineSplitter::default();
    let batch = lock(capture).batch.is_some();
    loop {
        let n = match pipe.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let (progress, ending) = {
            let mut capture = lock(capture);
            let progress = capture.absorb(&chunk[..n], &mut lines, Instant::now());
            (progress, capture.batch.as_ref().is_some_and(BatchParser::reached_summary))
        };
        if progress {
            let _ = tx.send(Msg::Progress { job });
        }
        // Past libtest's summary only the end of the output is to come: no pause.
        if batch && n < SMALL_READ && !ending {
            // A batch writes a few bytes per test, twice per test: let them gather, so the
            // reader and the scheduler wake a few times per millisecond rather than for
            // every line. Large reads (a test flooding its output) go on at once.
            std::thread::sleep(BATCH_READ_PAUSE);
        }
    }
    if lock(capture).absorb_end(&mut lines, Instant::now()) {
        let _ = tx.send(Msg::Progress { job });
    }
    let _ = tx.send(Msg::OutputClosed { job });
}
