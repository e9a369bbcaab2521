//! The Unix implementation of [`crate::platform`]: process groups, `wait4` with resource
//! usage, signals to whole groups, signal names, joining a cgroup between fork and exec,
//! CPU affinity, page size, file locks, `O_NOFOLLOW` opens and file identities.
//!
//! Every `unsafe` block of the crate lives here, each with the reason it is sound.

use std::fs::{File, Metadata, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use super::{ExitInfo, FileIdentity};
/// SIGTERM: asks a process group to stop.
pub const SIGTERM: i32 = libc::SIGTERM;
/// SIGKILL: stops a process group for good.
pub const SIGKILL: i32 = libc::SIGKILL;
/// SIGINT: what Ctrl-C sends; cargo stops a build cleanly on it.
pub const SIGINT: i32 = libc::SIGINT;
/// SIGSEGV: how a process that touched memory it may not ends (a crash).
pub const SIGSEGV: i32 = libc::SIGSEGV;

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
pub fn contain(command: &mut Command, procs: Option<std::ffi::CString>) {
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

/// Like [`contain`], for a process made ahead of its start (a *parked* process): after
/// joining the cgroup it closes every descriptor but its standard streams and `go`, then
/// waits, before `exec`, until a byte arrives on `go`; at end of file (the runner gave up
/// on it) it exits with status 0 instead. Closing std's own error pipe is what lets the
/// parent's `spawn` return while the child waits: std reads end of file there as "exec
/// succeeded". A joining error still fails the spawn (the pipe is open until then); an
/// `exec` error after the wait can no longer be reported and ends the child with SIGABRT.
/// Fails when `go` is a standard stream (the child's stdin, stdout or stderr replace it).
pub fn contain_parked(
    command: &mut Command,
    procs: std::ffi::CString,
    go: std::io::PipeReader,
) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let go_fd = go.as_raw_fd();
    if go_fd <= 2 {
        return Err(io::Error::other("the start pipe took a standard stream's descriptor"));
    }
    let setup = move || {
        // Owned by the closure, so the descriptor stays open in the parent until the
        // command is dropped after the spawn.
        let _go = &go;
        #[cfg(target_os = "linux")]
        // SAFETY: as in `contain`: a plain system call on the calling (child) process.
        unsafe {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
        }
        join_cgroup(&procs)?;
        close_descriptors_except(go_fd);
        wait_for_go(go_fd);
        Ok(())
    };
    // SAFETY: the closure makes only async-signal-safe system calls (prctl, open, write,
    // close, close_range, read, _exit) on memory prepared before the fork, and allocates
    // nothing.
    unsafe { command.pre_exec(setup) };
    Ok(())
}

/// Closes descriptors 3 and up except `keep` (`close_range`, else one by one up to 4096).
fn close_descriptors_except(keep: i32) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: `close_range` takes plain integers; closing descriptors of the calling
        // (child) process between fork and exec touches no memory.
        let closed = unsafe {
            (keep <= 3 || libc::syscall(libc::SYS_close_range, 3u32, (keep - 1) as u32, 0u32) == 0)
                && libc::syscall(libc::SYS_close_range, (keep + 1) as u32, u32::MAX, 0u32) == 0
        };
        if closed {
            return;
        }
    }
    for fd in (3..4096).filter(|&fd| fd != keep) {
        // SAFETY: closing a descriptor number is async-signal-safe; an unused one gives EBADF.
        unsafe { libc::close(fd) };
    }
}

/// Blocks until a byte arrives on `go` (then closes it), or exits the process at end of
/// file or on an error.
fn wait_for_go(go: i32) {
    let mut byte = 0u8;
    loop {
        // SAFETY: reads one byte into a local on a descriptor this process owns.
        let n = unsafe { libc::read(go, (&raw mut byte).cast(), 1) };
        if n == 1 {
            // SAFETY: closes a descriptor this process owns.
            unsafe { libc::close(go) };
            return;
        }
        if n < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        // SAFETY: `_exit` ends the child at once, without running the parent's handlers.
        unsafe { libc::_exit(0) };
    }
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
pub fn lower_priority(command: &mut Command, nice: i32) {
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

/// Makes the process `command` starts the leader of a new process group, so the whole
/// tree it starts can be signalled at once ([`kill_group`] with its pid).
pub fn new_process_group(command: &mut Command) -> &mut Command {
    command.process_group(0)
}

/// Replaces this process with `command` (`execvp`): returns only when that failed, with
/// why.
pub fn exec(command: &mut Command) -> io::Error {
    command.exec()
}

/// CPUs in the runner's affinity mask (`sched_getaffinity`, which already leaves out offline
/// CPUs); `None` where unavailable.
#[cfg(target_os = "linux")]
pub fn affinity_count() -> Option<usize> {
    // SAFETY: `cpu_set_t` is a plain bit array; all-zero bytes are a valid (empty) set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid, exclusively borrowed `cpu_set_t` and the size passed is its
    // size, so the kernel writes only inside it.
    let rc = unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if rc != 0 {
        return None;
    }
    // SAFETY: `CPU_COUNT` only reads the initialised set.
    let count = unsafe { libc::CPU_COUNT(&set) };
    usize::try_from(count).ok().filter(|&n| n > 0)
}

/// Unix systems other than Linux: no affinity figure.
#[cfg(not(target_os = "linux"))]
pub fn affinity_count() -> Option<usize> {
    None
}

/// The page size in bytes (4096 when the system will not say).
pub fn page_size() -> u64 {
    static PAGE_SIZE: OnceLock<u64> = OnceLock::new();
    *PAGE_SIZE.get_or_init(|| {
        // SAFETY: `sysconf` reads a configuration value; no memory is passed.
        let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        u64::try_from(size).ok().filter(|&s| s > 0).unwrap_or(4096)
    })
}

/// Opens refuse a symlink as the last component (`O_NOFOLLOW`; the error is then
/// [`is_symlink_refusal`]), and with `nonblocking` a FIFO does not block the open; files
/// created get `mode` (less the umask).
pub fn no_follow(options: &mut OpenOptions, mode: u32, nonblocking: bool) -> &mut OpenOptions {
    let flags = if nonblocking { libc::O_NOFOLLOW | libc::O_NONBLOCK } else { libc::O_NOFOLLOW };
    options.mode(mode).custom_flags(flags)
}

/// Whether an open failed because [`no_follow`] met a symlink (`ELOOP`).
pub fn is_symlink_refusal(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}

/// Permissions with Unix mode bits `mode` (always `Some` here).
pub fn permissions_with_mode(mode: u32) -> Option<Permissions> {
    Some(Permissions::from_mode(mode))
}

/// Whether a file's mode lets someone execute it.
pub fn is_executable(meta: &Metadata) -> bool {
    meta.permissions().mode() & 0o111 != 0
}

/// Whether a spawn failed because the executable is still open for writing (`ETXTBSY`):
/// a file just written by another thread, held by a concurrent fork.
pub fn is_text_busy(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ETXTBSY)
}

/// `flock(LOCK_EX | LOCK_NB)`: whether the lock was taken (`false`: another process holds
/// it).
pub fn try_lock_exclusive(file: &File) -> io::Result<bool> {
    use std::os::fd::AsRawFd;
    loop {
        // SAFETY: `flock` takes a file descriptor that `file` keeps open for the call and
        // touches no memory of ours.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(true);
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EWOULDBLOCK) => return Ok(false),
            Some(libc::EINTR) => continue,
            _ => return Err(err),
        }
    }
}

/// Whether `path` (not followed) names the file `file` has open: same device and inode.
pub fn same_file(file: &File, path: &Path) -> bool {
    match (file.metadata(), std::fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}

/// Reads into `buf` from `offset`, without moving the file's cursor (`pread`).
pub fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    file.read_at(buf, offset)
}

/// Writes all of `buf` at `offset`, without moving the file's cursor (`pwrite`).
pub fn write_all_at(file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    file.write_all_at(buf, offset)
}

/// The file's modification and change times (seconds, nanoseconds), inode and device.
pub fn file_identity(meta: &Metadata) -> FileIdentity {
    FileIdentity {
        modified: (meta.mtime(), meta.mtime_nsec()),
        changed: (meta.ctime(), meta.ctime_nsec()),
        inode: meta.ino(),
        device: meta.dev(),
    }
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
        let mut command = std::process::Command::new("sh");
        command.args(["-c", script]);
        if own_group {
            new_process_group(&mut command);
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
    fn a_second_exclusive_lock_is_refused_until_the_first_is_closed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("lock");
        let open = || File::options().create(true).truncate(false).write(true).open(&path).expect("open");
        let first = open();
        assert!(try_lock_exclusive(&first).expect("flock"));
        assert!(!try_lock_exclusive(&open()).expect("flock"), "held by the first descriptor");
        drop(first);
        assert!(try_lock_exclusive(&open()).expect("flock"));
    }

    #[test]
    fn files_are_told_apart_by_identity_and_symlinks_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (a, b, link) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("link"));
        std::fs::write(&a, "a").expect("write");
        std::fs::write(&b, "b").expect("write");
        std::os::unix::fs::symlink(&a, &link).expect("symlink");
        let file = File::open(&a).expect("open");
        assert!(same_file(&file, &a));
        assert!(!same_file(&file, &b));
        assert!(!same_file(&file, &link), "a symlink to it is another file");
        let meta = |p: &Path| std::fs::metadata(p).expect("meta");
        assert_eq!(file_identity(&meta(&a)), file_identity(&meta(&link)), "metadata follows the link");
        assert_ne!(file_identity(&meta(&a)).inode, file_identity(&meta(&b)).inode);
        let err = no_follow(File::options().read(true), 0o600, false).open(&link).expect_err("refused");
        assert!(is_symlink_refusal(&err), "{err}");
        assert!(!is_symlink_refusal(&io::Error::from(io::ErrorKind::NotFound)));
    }

    #[test]
    fn positioned_writes_and_reads_meet() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("pid");
        let file =
            File::options().create(true).truncate(false).read(true).write(true).open(&path).expect("open");
        write_all_at(&file, b"1234\n", 0).expect("write");
        let mut buf = [0u8; 16];
        let n = read_at(&file, &mut buf, 0).expect("read");
        assert_eq!(&buf[..n], b"1234\n");
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
