//! Platform code behind small functions: process groups, `wait4` with resource usage,
//! signals to whole groups, signal names. Unix only for now.
//!
//! Every `unsafe` block of the executor lives here, each with the reason it is sound, so
//! the scheduler can read as policy.

use std::io;

pub mod containment;

/// How a child process ended, with its resource usage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitInfo {
    /// Exit code, when it exited normally.
    pub code: Option<i32>,
    /// Terminating signal, when a signal killed it.
    pub signal: Option<i32>,
    /// Peak RSS in bytes (`ru_maxrss` of the child and the descendants it waited for).
    pub max_rss: u64,
}

/// SIGTERM: asks a process group to stop.
pub const SIGTERM: i32 = libc::SIGTERM;
/// SIGKILL: stops a process group for good.
pub const SIGKILL: i32 = libc::SIGKILL;

/// The conventional name of a signal (`SIGSEGV`), or `signal N`.
pub fn signal_name(signal: i32) -> String {
    let name = match signal {
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        libc::SIGKILL => "SIGKILL",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGTRAP => "SIGTRAP",
        _ => return format!("signal {signal}"),
    };
    name.to_owned()
}

/// Blocks until the child `pid` ends, reaps it and returns how it ended with its peak RSS.
///
/// Used instead of `Child::wait` because only `wait4` hands back the child's `rusage`.
pub fn wait4(pid: i32) -> io::Result<ExitInfo> {
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: all-zero bytes are a valid `rusage` (a plain C struct of integers).
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `status` and `usage` are valid, exclusively borrowed out-parameters that
        // live for the whole call; `wait4` writes nothing else.
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if rc == pid {
            return Ok(exit_info(status, &usage));
        }
        let err = io::Error::last_os_error();
        // A signal delivered to this thread interrupts the wait; the child is still there.
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

fn exit_info(status: libc::c_int, usage: &libc::rusage) -> ExitInfo {
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let signal = libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status));
    ExitInfo { code, signal, max_rss: max_rss_bytes(usage.ru_maxrss) }
}

/// `ru_maxrss` is in KiB on Linux and the BSDs, in bytes on macOS.
fn max_rss_bytes(ru_maxrss: libc::c_long) -> u64 {
    let value = u64::try_from(ru_maxrss).unwrap_or(0);
    if cfg!(target_os = "macos") { value } else { value.saturating_mul(1024) }
}

/// CPU time (user + system) used so far by every thread of this process, not counting its
/// children.
pub fn own_cpu_time() -> Option<std::time::Duration> {
    // SAFETY: `getrusage` writes into the zeroed struct it is given and nothing else.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable `rusage`; RUSAGE_SELF needs nothing else.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return None;
    }
    let micros = |t: libc::timeval| {
        u64::try_from(t.tv_sec).ok()?.checked_mul(1_000_000)?.checked_add(u64::try_from(t.tv_usec).ok()?)
    };
    Some(std::time::Duration::from_micros(micros(usage.ru_utime)? + micros(usage.ru_stime)?))
}

/// Sends `signal` to every process of the process group `pgid`.
///
/// A group that no longer exists is not an error (it ended on its own). Group ids 0 and 1
/// are refused: `kill(0)` would signal the runner's own group and `kill(-1)` every process
/// the user owns.
pub fn kill_group(pgid: i32, signal: i32) -> io::Result<()> {
    if pgid <= 1 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("refusing to signal process group {pgid}"),
        ));
    }
    // SAFETY: `kill` has no memory-safety preconditions; the group id was checked above so
    // the call cannot reach the runner's own group or every process.
    let rc = unsafe { libc::kill(-pgid, signal) };
    if rc == 0 {
        return Ok(());
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::ESRCH) { Ok(()) } else { Err(err) }
}

/// Sends `signal` to one process (best effort: a process that is gone is fine).
pub fn kill_pid(pid: i32, signal: i32) {
    if pid <= 1 {
        return;
    }
    // SAFETY: `kill` has no memory-safety preconditions; pid 0, 1 and negative ids (groups,
    // every process) were refused above.
    let _ = unsafe { libc::kill(pid, signal) };
}

/// Whether process `pid` exists (zombies included).
pub fn pid_alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks existence and permission; no memory is involved.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Makes the process `command` starts join the cgroup whose `cgroup.procs` is `procs`
/// before it runs anything (between fork and exec), and die with SIGKILL when the runner
/// dies (`PR_SET_PDEATHSIG`), so a SIGKILLed runner leaves no test running. Joining
/// fails the spawn: a test must not run outside its group.
pub fn contain(command: &mut std::process::Command, procs: Option<std::ffi::CString>) {
    use std::os::unix::process::CommandExt;
    let setup = move || {
        #[cfg(target_os = "linux")]
        // SAFETY: `prctl(PR_SET_PDEATHSIG)` is a plain system call on the calling (child)
        // process, async-signal-safe and touching no memory of the parent.
        unsafe {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
        }
        if let Some(procs) = &procs {
            join_cgroup(procs)?;
        }
        Ok(())
    };
    // SAFETY: the closure makes only async-signal-safe system calls (prctl, open, write,
    // close) on memory prepared before the fork (the CString), and allocates nothing.
    unsafe { command.pre_exec(setup) };
}

/// Writes `0` ("the writing process") to a cgroup's `cgroup.procs`.
fn join_cgroup(procs: &std::ffi::CStr) -> io::Result<()> {
    // SAFETY: `procs` is a valid NUL-terminated path; `open`, `write` and `close` are
    // async-signal-safe system calls on a descriptor this function owns.
    unsafe {
        let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let written = libc::write(fd, b"0".as_ptr().cast(), 1);
        let err = io::Error::last_os_error();
        libc::close(fd);
        if written != 1 {
            return Err(err);
        }
    }
    Ok(())
}

/// Makes the process `command` starts run at a lower CPU priority: nice value `nice`
/// (0–19; children it starts inherit it). Background work, such as doctest
/// batches started ahead of their phase, then gets only the CPU time the rest leaves idle.
pub fn lower_priority(command: &mut std::process::Command, nice: i32) {
    use std::os::unix::process::CommandExt;
    let raise = move || {
        // SAFETY: `setpriority` is a plain system call (async-signal-safe), as required
        // between fork and exec; it touches no memory of the parent. `PRIO_PROCESS` with
        // who = 0 is the calling (child) process. Failure is ignored: the child then runs
        // at normal priority, which is only slower, never wrong.
        let _ = unsafe { libc::setpriority(libc::PRIO_PROCESS as _, 0, nice.clamp(0, 19)) };
        Ok(())
    };
    // SAFETY: the closure only makes an async-signal-safe system call (see above) and
    // allocates nothing, as `pre_exec` requires.
    unsafe { command.pre_exec(raise) };
}

/// Sets the nice value of every process of group `pgid` (best effort: lowering it needs
/// privileges an ordinary user may lack; then nothing changes). Processes they start later
/// inherit it.
pub fn set_group_priority(pgid: i32, nice: i32) -> io::Result<()> {
    if pgid <= 1 {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("refusing to renice group {pgid}")));
    }
    // SAFETY: `setpriority` has no memory-safety preconditions; the group id was checked
    // above (0 would be the runner's own group).
    let rc = unsafe { libc::setpriority(libc::PRIO_PGRP as _, pgid as libc::id_t, nice.clamp(-20, 19)) };
    if rc == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

/// Whether the process group `pgid` still has a live (non-zombie) member.
///
/// `kill(-pgid, 0)` also counts zombies, and orphaned zombies can wait seconds for an init
/// that reaps lazily (containers, microVMs); on Linux a positive answer is therefore
/// confirmed against `/proc`, so a test whose children already exited is not reported as
/// leaking processes.
pub fn group_alive(pgid: i32) -> bool {
    if pgid <= 1 {
        return false;
    }
    // SAFETY: signal 0 only checks existence and permission; no memory is involved.
    let rc = unsafe { libc::kill(-pgid, 0) };
    let exists = rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    exists && live_member_in_proc(pgid).unwrap_or(true)
}

/// Scans `/proc` for a member of `pgid` that is not a zombie; `None` when `/proc` cannot be
/// read (non-Linux systems, restricted containers).
fn live_member_in_proc(pgid: i32) -> Option<bool> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let entries = std::fs::read_dir("/proc").ok()?;
    let live = entries.flatten().any(|entry| {
        let is_pid = entry.file_name().to_str().is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
        is_pid
            && std::fs::read_to_string(entry.path().join("stat"))
                .ok()
                .and_then(|stat| parse_proc_stat(&stat))
                .is_some_and(|(state, group)| group == pgid && !matches!(state, 'Z' | 'X'))
    });
    Some(live)
}

/// `(state, pgrp)` from a `/proc/PID/stat` line. The command name is parenthesised and may
/// itself contain spaces and parentheses, so fields are counted after the last `)`.
fn parse_proc_stat(stat: &str) -> Option<(char, i32)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((state, pgrp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names() {
        let cases = [
            (libc::SIGSEGV, "SIGSEGV"),
            (libc::SIGABRT, "SIGABRT"),
            (libc::SIGKILL, "SIGKILL"),
            (libc::SIGBUS, "SIGBUS"),
            (libc::SIGILL, "SIGILL"),
            (libc::SIGFPE, "SIGFPE"),
            (libc::SIGTERM, "SIGTERM"),
            (libc::SIGINT, "SIGINT"),
            (libc::SIGPIPE, "SIGPIPE"),
            (libc::SIGTRAP, "SIGTRAP"),
            (libc::SIGUSR1, &format!("signal {}", libc::SIGUSR1)),
            (77, "signal 77"),
        ];
        for (signal, name) in cases {
            assert_eq!(signal_name(signal), name);
        }
    }

    #[test]
    fn proc_stat_lines() {
        let cases = [
            ("123 (sleep) S 1 120 120 0 -1", Some(('S', 120))),
            ("123 (a (weird) name) Z 1 99 99 0", Some(('Z', 99))),
            ("123 (x) R", None),
            ("garbage", None),
        ];
        for (line, expected) in cases {
            assert_eq!(parse_proc_stat(line), expected, "{line}");
        }
    }

    /// Starts `sh -c script` (in its own process group when asked) and returns its pid; the
    /// tests reap it with `wait4`.
    fn spawn_sh(script: &str, own_group: bool) -> i32 {
        use std::os::unix::process::CommandExt;
        let mut command = std::process::Command::new("sh");
        command.args(["-c", script]);
        if own_group {
            command.process_group(0);
        }
        command.spawn().expect("spawn sh").id() as i32
    }

    #[test]
    fn wait4_reports_exit_code_and_rss() {
        let info = wait4(spawn_sh("exit 3", false)).expect("wait4");
        assert_eq!(info.code, Some(3));
        assert_eq!(info.signal, None);
        assert!(info.max_rss > 0);
    }

    #[test]
    fn wait4_reports_signal() {
        let info = wait4(spawn_sh("kill -SEGV $$", false)).expect("wait4");
        assert_eq!(info.signal, Some(libc::SIGSEGV));
        assert_eq!(info.code, None);
    }

    #[test]
    fn kill_group_refuses_dangerous_ids() {
        assert!(kill_group(0, 0).is_err());
        assert!(kill_group(1, 0).is_err());
        assert!(!group_alive(0));
    }

    #[test]
    fn groups_are_killed_and_gone() {
        let pgid = spawn_sh("sleep 30 & sleep 30; wait", true);
        assert!(group_alive(pgid));
        kill_group(pgid, SIGKILL).expect("kill");
        let info = wait4(pgid).expect("wait4");
        assert_eq!(info.signal, Some(libc::SIGKILL));
        // The orphaned `sleep` may linger as a zombie until init reaps it; it is not alive.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while group_alive(pgid) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(!group_alive(pgid));
        kill_group(pgid, SIGKILL).expect("signalling a vanished group is fine");
    }
}
