//! Names of the signals that end processes (`SIGSEGV`, or `signal N`), for whoever shows
//! how a test ended: the executor's messages and the reporters. A neutral module, so the
//! reporters name a crash without importing platform code; the table itself is the
//! platform's, because signal numbers differ between systems (SIGBUS is 7 on Linux, 10 on
//! macOS).

/// The conventional name of `signal` (`SIGSEGV`), or `signal N` for one without a name here.
pub fn signal_name(signal: i32) -> String {
    crate::platform::signal_name(signal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crashes_are_named_as_the_platform_names_them() {
        assert_eq!(signal_name(crate::platform::SIGKILL), "SIGKILL");
        assert_eq!(signal_name(77), "signal 77");
    }
}
