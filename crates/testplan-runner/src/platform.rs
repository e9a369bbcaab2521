//! Platform code behind small functions, so the scheduler, the probes and the writers read
//! as policy: process groups, `wait4` with resource usage, signals to whole groups, signal
//! names, cgroups ([`containment`]), CPU affinity, page size, file locks, `O_NOFOLLOW`
//! opens, file identities.
//!
//! One file per OS family: `platform/unix.rs` (Linux and macOS; every `unsafe` block and
//! every `libc` call of the crate is there) and `platform/other.rs`, a graceful fallback
//! for the rest (no process groups, no locks, no affinity: each function says what it
//! does instead). The architecture test (`cargo-testplan/tests/architecture.rs`) keeps
//! `libc::`, `unsafe` and `std::os::` out of every other module.

pub mod containment;

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use self::unix::*;

#[cfg(not(unix))]
mod other;
#[cfg(not(unix))]
pub use self::other::*;

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

/// What identifies one version of a file beyond its length: modification and change
/// times (seconds, nanoseconds), inode and device. Fields the system does not have are 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileIdentity {
    /// Last modification (mtime).
    pub modified: (i64, i64),
    /// Last status change (ctime): also moves on a rename over the file or a `touch`.
    pub changed: (i64, i64),
    /// Inode number.
    pub inode: u64,
    /// Device number.
    pub device: u64,
}
