//! Running one measured command: wall time, exit status, output to log files, a watchdog
//! that kills the command's process group when it runs too long, and (Linux) the peak RSS
//! of the command's own process.
//!
//! Peak RSS of one process, without its children, is read from `/proc/<pid>/status`
//! (`VmHWM`) at the moment the process exits: the command runs under `ptrace` with
//! `PTRACE_O_TRACEEXIT`, which stops it at exit before its memory is released. The
//! `ru_maxrss` that `wait4` (and `/usr/bin/time -v`) report is not that: it is the largest
//! of the process and every descendant it waited for, so for cargo-testplan it would be
//! cargo's build or a test's RSS. Both are reported; only `VmHWM` is the runner's own.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::Result;

/// How a measured command ended.
#[derive(Debug)]
pub struct Outcome {
    /// Wall time from spawn to exit.
    pub wall: Duration,
    /// Exit status (`None` when it was killed by the watchdog).
    pub status: Option<ExitStatus>,
    /// Where stdout went.
    pub stdout: PathBuf,
    /// Where stderr went.
    pub stderr: PathBuf,
    /// `VmHWM` of the process itself at exit, in KiB (only with [`Rss::Own`]).
    pub own_peak_kib: Option<u64>,
    /// `wait4`'s `ru_maxrss` (the process and its waited-for descendants), in KiB.
    pub tree_peak_kib: Option<u64>,
}

impl Outcome {
    /// Exited with status 0.
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|status| status.success())
    }

    /// A short account of how it ended, for error messages.
    pub fn describe(&self) -> String {
        match self.status {
            Some(status) => {
                format!("{status} (logs: {} and {})", self.stdout.display(), self.stderr.display())
            }
            None => format!("killed by the watchdog (logs: {})", self.stderr.display()),
        }
    }
}

/// Whether to trace the command for its own peak RSS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rss {
    /// Only `wait4`'s figure (no tracing: the timing is undisturbed).
    Tree,
    /// Also the process's own `VmHWM` at exit (ptrace; signal stops cost microseconds).
    Own,
}

/// Runs `command` with stdout and stderr written to `<log>.stdout` / `<log>.stderr`,
/// killing its process group after `timeout`.
pub fn run(mut command: Command, log: &Path, timeout: Duration, rss: Rss) -> Result<Outcome> {
    let stdout = log.with_extension("stdout");
    let stderr = log.with_extension("stderr");
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }
    let create = |path: &Path| File::create(path).map_err(|e| format!("creating {}: {e}", path.display()));
    command.stdin(Stdio::null()).stdout(create(&stdout)?).stderr(create(&stderr)?);
    platform::new_process_group(&mut command);
    if rss == Rss::Own {
        platform::trace_me(&mut command);
    }
    let started = Instant::now();
    let child = command.spawn().map_err(|e| format!("spawning {:?}: {e}", command.get_program()))?;
    let pid = child.id();
    let (done, watchdog) = spawn_watchdog(pid, timeout);
    let waited = platform::wait(pid, rss == Rss::Own);
    let wall = started.elapsed();
    let _ = done.send(());
    let killed = watchdog.join().unwrap_or(false);
    let waited = waited.map_err(|e| format!("waiting for {:?}: {e}", command.get_program()))?;
    Ok(Outcome {
        wall,
        status: if killed { None } else { Some(waited.status) },
        stdout,
        stderr,
        own_peak_kib: waited.own_peak_kib,
        tree_peak_kib: waited.tree_peak_kib,
    })
}

/// A thread that kills the process group `pid` unless told (through the sender) that
/// the command ended first. Joining it says whether it killed.
fn spawn_watchdog(pid: u32, timeout: Duration) -> (mpsc::Sender<()>, std::thread::JoinHandle<bool>) {
    let (tx, rx) = mpsc::channel::<()>();
    let handle = std::thread::spawn(move || match rx.recv_timeout(timeout) {
        Err(mpsc::RecvTimeoutError::Timeout) => {
            platform::kill_group(pid);
            true
        }
        _ => false,
    });
    (tx, handle)
}

/// What waiting for the child gave.
#[derive(Debug)]
struct Waited {
    status: ExitStatus,
    own_peak_kib: Option<u64>,
    tree_peak_kib: Option<u64>,
}

/// `VmHWM: 1234 kB` → 1234.
fn parse_vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse().ok()
}

#[cfg(target_os = "linux")]
mod platform {
    use std::io;
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    use std::process::{Command, ExitStatus};

    use super::{Waited, parse_vm_hwm};

    pub fn new_process_group(command: &mut Command) {
        command.process_group(0);
    }

    /// Makes the child a tracee of this thread (`PTRACE_TRACEME` before `exec`).
    pub fn trace_me(command: &mut Command) {
        // SAFETY: the closure runs in the forked child before exec and only makes one
        // async-signal-safe system call.
        unsafe {
            command.pre_exec(|| {
                let traced = libc::ptrace(
                    libc::PTRACE_TRACEME,
                    0,
                    std::ptr::null_mut::<libc::c_void>(),
                    std::ptr::null_mut::<libc::c_void>(),
                );
                if traced == -1 { Err(io::Error::last_os_error()) } else { Ok(()) }
            });
        }
    }

    pub fn kill_group(pid: u32) {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return;
        };
        // SAFETY: kill(2) only sends a signal, to the group created for this command.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }

    /// Waits for `pid` to exit. When `traced`, answers its ptrace stops: the first one
    /// (after exec) sets `PTRACE_O_TRACEEXIT`, the exit stop reads `VmHWM`, signal stops
    /// deliver the signal.
    pub fn wait(pid: u32, traced: bool) -> io::Result<Waited> {
        let pid = libc::pid_t::try_from(pid).map_err(|_| io::Error::other("pid out of range"))?;
        let mut own_peak_kib = None;
        let mut options_set = false;
        loop {
            let (status, usage) = wait4(pid)?;
            if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
                let tree_peak_kib = u64::try_from(usage.ru_maxrss).ok();
                return Ok(Waited { status: ExitStatus::from_raw(status), own_peak_kib, tree_peak_kib });
            }
            if !traced || !libc::WIFSTOPPED(status) {
                continue;
            }
            let signal = libc::WSTOPSIG(status);
            let event = (status >> 16) & 0xffff;
            let mut deliver = 0;
            if signal == libc::SIGTRAP && event == libc::PTRACE_EVENT_EXIT {
                own_peak_kib = std::fs::read_to_string(format!("/proc/{pid}/status"))
                    .ok()
                    .and_then(|text| parse_vm_hwm(&text));
            } else if signal == libc::SIGTRAP && !options_set {
                options_set = true;
                ptrace(libc::PTRACE_SETOPTIONS, pid, libc::PTRACE_O_TRACEEXIT | libc::PTRACE_O_EXITKILL)?;
            } else {
                deliver = signal;
            }
            ptrace(libc::PTRACE_CONT, pid, deliver)?;
        }
    }

    fn wait4(pid: libc::pid_t) -> io::Result<(libc::c_int, libc::rusage)> {
        let mut status = 0;
        // SAFETY: rusage is plain data; zeroed is a valid value for it.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        loop {
            // SAFETY: both pointers are to live locals of the right types.
            let got = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
            if got == pid {
                return Ok((status, usage));
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }

    fn ptrace(request: libc::c_uint, pid: libc::pid_t, data: libc::c_int) -> io::Result<()> {
        let data = usize::try_from(data).unwrap_or(0) as *mut libc::c_void;
        // SAFETY: SETOPTIONS and CONT take no pointers; `data` is an integer argument.
        let done = unsafe { libc::ptrace(request, pid, std::ptr::null_mut::<libc::c_void>(), data) };
        if done == -1 { Err(io::Error::last_os_error()) } else { Ok(()) }
    }
}

#[cfg(not(target_os = "linux"))]
mod platform {
    use std::io;
    use std::process::Command;

    use super::Waited;

    pub fn new_process_group(_command: &mut Command) {}

    pub fn trace_me(_command: &mut Command) {}

    pub fn kill_group(_pid: u32) {}

    pub fn wait(_pid: u32, _traced: bool) -> io::Result<Waited> {
        Err(io::Error::other("the benchmark harness measures on Linux only"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_hwm_is_read_from_proc_status() {
        let status = "Name:\tcargo-testplan\nVmPeak:\t  99999 kB\nVmHWM:\t   41236 kB\nVmRSS:\t 1 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(41236));
        assert_eq!(parse_vm_hwm("Name: x\n"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_command_is_timed_and_its_own_peak_rss_read_at_exit() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut command = Command::new("sh");
        // A signal the tracer must pass on (ignored by the shell), then an exit code.
        command.args(["-c", "trap '' USR1; echo out; echo err >&2; kill -USR1 $$; exit 3"]);
        let outcome = run(command, &dir.path().join("sh"), Duration::from_secs(30), Rss::Own).expect("runs");
        assert_eq!(outcome.status.and_then(|status| status.code()), Some(3));
        assert!(outcome.own_peak_kib.is_some_and(|kib| kib > 0), "{outcome:?}");
        assert!(outcome.tree_peak_kib.is_some_and(|kib| kib > 0), "{outcome:?}");
        assert_eq!(std::fs::read_to_string(&outcome.stdout).expect("stdout"), "out\n");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_watchdog_kills_the_whole_group() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut command = Command::new("sh");
        command.args(["-c", "sleep 30 & sleep 30"]);
        let outcome =
            run(command, &dir.path().join("hang"), Duration::from_millis(200), Rss::Tree).expect("runs");
        assert!(outcome.status.is_none());
        assert!(outcome.wall < Duration::from_secs(10));
    }
}
