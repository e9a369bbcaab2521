//! Small formatting helpers shared by reporters: durations, byte sizes, status labels.

use std::time::Duration;

use testplan_runner::events::TestStatus;
use testplan_runner::signals::signal_name;

/// `1.234s`, with millisecond precision.
pub fn secs(d: Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}

/// `1.234s` from seconds.
pub fn secs_f64(secs: f64) -> String {
    format!("{secs:.3}s")
}

/// `5s`, `0.5s`, `90s`: a round duration without trailing zeros.
pub fn short_secs(secs: f64) -> String {
    let text = format!("{secs:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}s")
}

/// `512 KiB`, `1.5 MiB`, `2.0 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{n} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

/// A one-phrase explanation of a status: `failed (exit code 101)`, `crashed (SIGSEGV)`, ...
pub fn status_detail(status: &TestStatus) -> String {
    match status {
        TestStatus::Failed { exit_code: Some(code) } => format!("failed (exit code {code})"),
        TestStatus::Failed { exit_code: None } => "failed".to_owned(),
        TestStatus::Crashed { signal } => format!("crashed ({})", signal_name(*signal)),
        TestStatus::TimedOut { after } => format!("timed out (after {})", secs(*after)),
        TestStatus::Skipped { reason } => format!("skipped ({})", crate::sanitize::inline(reason)),
        TestStatus::NotRun { reason } => format!("not run ({})", stop_reason(*reason)),
        TestStatus::Interrupted => "interrupted (killed while running)".to_owned(),
        TestStatus::MemoryExceeded { peak, limit } => {
            // A cgroup stops a test at its limit: its peak is the limit, not past it.
            let relation = if peak > limit { ">" } else { "at" };
            format!("memory limit exceeded (peak {} {relation} limit {})", bytes(*peak), bytes(*limit))
        }
        TestStatus::Passed => "passed".to_owned(),
    }
}

/// `fail-fast` / `interrupted`.
pub fn stop_reason(reason: testplan_runner::events::StopReason) -> &'static str {
    match reason {
        testplan_runner::events::StopReason::FailFast => "fail-fast",
        testplan_runner::events::StopReason::Interrupted => "interrupted",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }

    #[test]
    fn durations() {
        assert_eq!(secs(Duration::from_millis(1234)), "1.234s");
        assert_eq!(secs_f64(0.5), "0.500s");
        assert_eq!(
            (short_secs(5.0), short_secs(0.5), short_secs(1.25)),
            ("5s".into(), "0.5s".into(), "1.25s".into())
        );
    }
}
