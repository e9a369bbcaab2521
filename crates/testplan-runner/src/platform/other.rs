//! The fallback of [`crate::platform`] for systems without Unix process groups, signals
//! and `libc` (Windows): each function does the nearest safe thing and says so. Discovery,
//! probes and writers degrade (no affinity figure, no file lock, symlinks followed); the
//! executor needs [`wait4`] and reports every job as failed to wait for.

use std::fs::{File, Metadata, OpenOptions, Permissions};
use std::io;
use std::path::Path;
use std::process::Command;
use std::time::UNIX_EPOCH;

use super::{ExitInfo, FileIdentity};

/// Signal numbers as Unix numbers them: only used to name how a process ended.
pub const SIGTERM: i32 = 15;
/// See [`SIGTERM`].
pub const SIGKILL: i32 = 9;
/// See [`SIGTERM`].
pub const SIGINT: i32 = 2;
/// See [`SIGTERM`].
pub const SIGSEGV: i32 = 11;

fn unsupported(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, format!("{what} is not supported on this system"))
}

/// `signal N`: there are no signal names here.
pub fn signal_name(signal: i32) -> String {
    format!("signal {signal}")
}

/// Always an error: without `wait4` a child's end and peak RSS cannot be read.
pub fn wait4(_pid: i32) -> io::Result<ExitInfo> {
    Err(unsupported("wait4"))
}

/// Not measured here.
pub fn own_cpu_time() -> Option<std::time::Duration> {
    None
}

/// Always an error: there are no process groups.
pub fn kill_group(_pgid: i32, _signal: i32) -> io::Result<()> {
    Err(unsupported("signalling a process group"))
}

/// Does nothing: there are no signals.
pub fn kill_pid(_pid: i32, _signal: i32) {}

/// `false`: processes cannot be probed by id.
pub fn pid_alive(_pid: i32) -> bool {
    false
}

/// Does nothing: there are no cgroups and no parent-death signal.
pub fn contain(_command: &mut Command, _procs: Option<std::ffi::CString>) {}

/// Always an error: there are no cgroups, so nothing is ever parked.
pub fn contain_parked(
    _command: &mut Command,
    _procs: std::ffi::CString,
    _go: std::io::PipeReader,
) -> io::Result<()> {
    Err(unsupported("parking a process in a cgroup"))
}

/// Does nothing: the process runs at normal priority (only slower, never wrong).
pub fn lower_priority(_command: &mut Command, _nice: i32) {}

/// Always an error: there are no process groups.
pub fn set_group_priority(_pgid: i32, _nice: i32) -> io::Result<()> {
    Err(unsupported("renicing a process group"))
}

/// `false`: there are no process groups.
pub fn group_alive(_pgid: i32) -> bool {
    false
}

/// Leaves `command` as it is: there are no process groups.
pub fn new_process_group(command: &mut Command) -> &mut Command {
    command
}

/// Runs `command` to its end and exits with its exit code (there is no `exec`); returns
/// only when it could not be started or waited for, with why.
pub fn exec(command: &mut Command) -> io::Error {
    match command.status() {
        Ok(status) => std::process::exit(status.code().unwrap_or(1)),
        Err(e) => e,
    }
}

/// No affinity figure.
pub fn affinity_count() -> Option<usize> {
    None
}

/// 4096, the common page size.
pub fn page_size() -> u64 {
    4096
}

/// Leaves `options` as they are: symlinks are followed and the mode is the system's.
pub fn no_follow(options: &mut OpenOptions, _mode: u32, _nonblocking: bool) -> &mut OpenOptions {
    options
}

/// `false`: [`no_follow`] refuses nothing here.
pub fn is_symlink_refusal(_e: &io::Error) -> bool {
    false
}

/// `None`: there are no mode bits; files get the system's default permissions.
pub fn permissions_with_mode(_mode: u32) -> Option<Permissions> {
    None
}

/// Any regular file counts as executable.
pub fn is_executable(meta: &Metadata) -> bool {
    meta.is_file()
}

/// `false`: there is no `ETXTBSY`.
pub fn is_text_busy(_e: &io::Error) -> bool {
    false
}

/// `true` without locking: concurrent runs in one target directory are not kept apart.
pub fn try_lock_exclusive(_file: &File) -> io::Result<bool> {
    Ok(true)
}

/// Whether `path` still exists: without inodes a replaced file is not told apart.
pub fn same_file(_file: &File, path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// Always an error: positioned reads are not used here.
pub fn read_at(_file: &File, _buf: &mut [u8], _offset: u64) -> io::Result<usize> {
    Err(unsupported("a positioned read"))
}

/// Always an error: positioned writes are not used here.
pub fn write_all_at(_file: &File, _buf: &[u8], _offset: u64) -> io::Result<()> {
    Err(unsupported("a positioned write"))
}

/// The modification time; the other fields are 0.
pub fn file_identity(meta: &Metadata) -> FileIdentity {
    let modified = meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).unwrap_or_default();
    let secs = i64::try_from(modified.as_secs()).unwrap_or(i64::MAX);
    FileIdentity { modified: (secs, i64::from(modified.subsec_nanos())), ..FileIdentity::default() }
}
