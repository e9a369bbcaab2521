//! Opt-in stage timings for performance work: with `CARGO_TESTPLAN_TIMINGS=1` each stage
//! of a run prints `[timings +0.034s] stage` to stderr, measured from process start
//! (docs/performance.md). Off by default; one environment read per process.

use std::sync::OnceLock;
use std::time::Instant;

struct Clock {
    start: Instant,
    enabled: bool,
}

static CLOCK: OnceLock<Clock> = OnceLock::new();

fn clock() -> &'static Clock {
    CLOCK.get_or_init(|| Clock {
        start: Instant::now(),
        enabled: std::env::var_os("CARGO_TESTPLAN_TIMINGS").is_some_and(|v| v != "0" && !v.is_empty()),
    })
}

/// Starts the clock; called first thing in `main`.
pub fn start() {
    clock();
}

/// Prints the time since start and `stage`, when timings are on.
pub fn mark(stage: &str) {
    let clock = clock();
    if clock.enabled {
        eprintln!("[timings +{:.4}s] {stage}", clock.start.elapsed().as_secs_f64());
    }
}

/// Prints the CPU time the runner's own threads used (not its children's), when timings
/// are on.
pub fn mark_cpu() {
    if clock().enabled {
        let cpu = testplan_runner::platform::own_cpu_time()
            .map_or_else(|| "unknown".to_owned(), |t| format!("{:.4}s", t.as_secs_f64()));
        mark(&format!("runner CPU time {cpu}"));
    }
}
