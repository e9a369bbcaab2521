//! Platform code behind small functions: process groups, `wait4` with resource usage,
//! signals to whole groups, signal names. Unix only for now.

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

/// The conventional name of a signal (`SIGSEGV`), or `signal N`.
pub fn signal_name(signal: i32) -> String {
    let _ = signal;
    todo!("helper B")
}
