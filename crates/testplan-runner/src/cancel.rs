//! Cancellation: Ctrl-C (SIGINT) and SIGTERM set a flag the executor polls, so it can stop
//! starting tests, kill the running ones' process groups and still report what ran.

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

    /// A token raised when the process receives SIGINT or SIGTERM. The signals no longer
    /// kill the runner; the caller is responsible for exiting with 130 afterwards.
    pub fn from_signals() -> std::io::Result<Self> {
        let token = Self::new();
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
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
