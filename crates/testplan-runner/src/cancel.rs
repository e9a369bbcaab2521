//! Cancellation: Ctrl-C (SIGINT), SIGTERM, SIGHUP (terminal closed, SSH dropped) and SIGQUIT
//! (Ctrl-\) set a flag the executor polls, so it can stop starting tests, kill the running
//! ones' process groups (and cgroups) and still write every report. Test processes die
//! with the runner if it is killed outright (SIGKILL): see [`crate::platform::contain`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A cloneable flag raised by SIGINT/SIGTERM (or by hand, in tests).
#[derive(Clone, Debug, Default)]
pub struct CancelToken {
    flag: Arc<AtomicBool>,
}

impl CancelToken {
    /// A token nobody has raised.
    pub fn new() -> Self {
        Self::default()
    }

    /// A token raised when the process receives SIGINT, SIGTERM, SIGHUP or SIGQUIT. The
    /// signals no longer kill the runner (nor, for SIGQUIT, dump core); the caller is
    /// responsible for exiting with 130 afterwards.
    pub fn from_signals() -> std::io::Result<Self> {
        let token = Self::new();
        use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] {
            signal_hook::flag::register(signal, Arc::clone(&token.flag))?;
        }
        Ok(token)
    }

    /// Raises the flag.
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
    }

    /// Whether the flag was raised.
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
}
