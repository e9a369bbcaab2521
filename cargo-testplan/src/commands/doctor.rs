//! `cargo testplan doctor`: what the resource probe found (CPUs, memory and the runner's
//! cgroup, GPUs), a live memory sample, and the defaults that follow for a run on this
//! machine: jobs and why, the memory budget, per-test estimates and limits, the live
//! memory thresholds, timeouts and cargo's build jobs. Needs no workspace.

use std::io::Write;

use testplan_markers::units::format_duration;
use testplan_runner::cargo::{BUILD_JOB_MEMORY, build_jobs_cap};
use testplan_runner::execute::{
    ADMIT_STOP_FRACTION, DEFAULT_TIMEOUT, FAST_WATCH_FRACTION, STOP_FRACTION, TICK, TICK_FAST,
};
use testplan_runner::history::{HEADROOM_BYTES, KEEP_PEAKS};
use testplan_runner::plan::{BUILTIN_MARKER_ESTIMATES, BUILTIN_MARKER_TIMEOUTS};
use testplan_runner::platform::containment::{Containment, ContainmentMode};
use testplan_runner::resources::{
    DEFAULT_PER_TEST_ESTIMATE, GpuChoice, MemoryWatch, Probe, Resources, SampleSource, default_jobs,
    describe, format_size, format_size_compact,
};

use crate::cli::{DoctorArgs, GpuArg};
use crate::error::AppError;

/// Runs the command.
pub fn exec(args: DoctorArgs) -> Result<(), AppError> {
    let flag = args.gpu.map(|gpu| match gpu {
        GpuArg::Auto => "auto",
        GpuArg::Yes => "yes",
        GpuArg::No => "no",
    });
    let choice = GpuChoice::from_flag_and_env(flag)?;
    let mut resources = Probe { gpu: choice, ..Probe::system() }.run();
    if let Some(budget) = args.memory_budget {
        resources = resources.with_memory_budget(budget);
    }
    let env_build_jobs = std::env::var("CARGO_BUILD_JOBS").ok();
    let text = report(&resources, env_build_jobs.as_deref(), args.memory_budget.is_some());
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(|source| AppError::WriteOutput { what: "the doctor's report".to_owned(), source })
}

/// The whole report.
fn report(resources: &Resources, env_build_jobs: Option<&str>, budget_given: bool) -> String {
    let mut out = String::from("Resources\n");
    for line in describe(resources) {
        out.push_str(&format!("  {line}\n"));
    }
    out.push_str(&format!("  {}\n", gpu_phases(resources)));
    out.push_str(&format!("  {}\n", live_memory(resources)));
    out.push_str(&format!("  containment: {}\n", containment(resources)));
    out.push_str("\nDefaults for `cargo testplan run`\n");
    for line in defaults(resources, env_build_jobs, budget_given) {
        out.push_str(&format!("  {line}\n"));
    }
    out
}

/// The containment a run would get: a run group is created and removed again, so this is
/// a real check that the cgroup is writable.
fn containment(resources: &Resources) -> String {
    match Containment::setup(ContainmentMode::Auto, &resources.memory) {
        Ok(containment) => containment.describe(),
        Err(why) => format!("none ({why})"),
    }
}

fn gpu_phases(resources: &Resources) -> String {
    match resources.gpus.count {
        0 => format!("gpu phases: skipped (no GPU: {})", resources.gpus.source),
        n => format!("gpu phases: run ({n} GPU{})", if n == 1 { "" } else { "s" }),
    }
}

fn live_memory(resources: &Resources) -> String {
    let sample = MemoryWatch::system(&resources.memory).and_then(|mut watch| watch.sample());
    let Some(sample) = sample else { return "live memory: unreadable (no live watch)".to_owned() };
    let view = match sample.source {
        SampleSource::Cgroup => "the runner's cgroup",
        SampleSource::Machine => "the machine, from MemAvailable",
    };
    format!(
        "live memory: {} used of {} ({:.0}%; {view})",
        format_size(sample.used),
        format_size(sample.limit),
        sample.used_fraction() * 100.0
    )
}

fn defaults(resources: &Resources, env_build_jobs: Option<&str>, budget_given: bool) -> Vec<String> {
    let jobs = default_jobs(resources, DEFAULT_PER_TEST_ESTIMATE);
    let budget = match resources.memory.usable {
        Some(usable) if budget_given => format!("{} (--memory-budget)", format_size(usable)),
        Some(usable) => format!("{} (usable memory; --memory-budget overrides)", format_size(usable)),
        None => "none: usable memory unknown, so no memory admission".to_owned(),
    };
    let limit = resources
        .memory
        .usable
        .map_or_else(|| "none".to_owned(), |usable| format!("the budget, {}", format_size(usable)));
    let heavy: Vec<String> =
        BUILTIN_MARKER_ESTIMATES.iter().map(|(m, b)| format!("{m} {}", format_size_compact(*b))).collect();
    let timeouts: Vec<String> =
        BUILTIN_MARKER_TIMEOUTS.iter().map(|(m, t)| format!("{m} {}", format_duration(*t))).collect();
    let build = match build_jobs_cap(resources.cpus.count, resources.memory.usable, env_build_jobs) {
        Some(cap) => cap.reason.trim_start_matches("build jobs ").to_owned(),
        None if env_build_jobs.is_some() => "cargo's choice (CARGO_BUILD_JOBS is set)".to_owned(),
        None => {
            format!(
                "cargo's default, not capped (at least {} usable per CPU)",
                format_size_compact(BUILD_JOB_MEMORY)
            )
        }
    };
    vec![
        format!(
            "{jobs} (the memory bound uses the median estimate of the planned tests: 1 GiB without history)"
        ),
        format!("memory budget: {budget}"),
        format!(
            "per-test estimate: measured peak × 1.25 + {} (largest of the last {KEEP_PEAKS} runs); else the phase's \
             or markers' `memory`; else {}; else {}",
            format_size_compact(HEADROOM_BYTES),
            heavy.join(", "),
            format_size_compact(DEFAULT_PER_TEST_ESTIMATE)
        ),
        format!(
            "per-test memory limit: --memory-limit; else the phase's or markers' `memory` (at most the budget); \
             else {limit}; checked on the test's process tree every {} ({} from {:.0}% memory use)",
            format_duration(TICK),
            format_duration(TICK_FAST),
            FAST_WATCH_FRACTION * 100.0
        ),
        format!(
            "live memory: no new test from {:.0}% use; from {:.0}% and rising, the newest growing test is \
             stopped and re-run alone",
            ADMIT_STOP_FRACTION * 100.0,
            STOP_FRACTION * 100.0
        ),
        format!(
            "timeouts: --timeout; else the phase's; else the markers' (built in: {}); else {}",
            timeouts.join(", "),
            format_duration(DEFAULT_TIMEOUT)
        ),
        format!("build jobs: {build}"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    #[test]
    fn defaults_follow_the_machine() {
        let small = Resources::fake(2, 3 * GIB, 0);
        let lines = defaults(&small, None, false);
        assert_eq!(
            lines[0],
            "jobs 2 (2 CPUs; 3.0 GiB usable / 1 GiB per test) (the memory bound uses the median estimate of the \
             planned tests: 1 GiB without history)"
        );
        assert_eq!(lines[1], "memory budget: 3.0 GiB (usable memory; --memory-budget overrides)");
        assert_eq!(lines[6], "build jobs: capped at 1: 3.0 GiB usable / 2 GiB per build job");
        let big = Resources::fake(64, 256 * GIB, 0);
        assert_eq!(
            defaults(&big, None, false)[6],
            "build jobs: cargo's default, not capped (at least 2 GiB usable per CPU)"
        );
        assert_eq!(
            defaults(&small, Some("2"), false)[6],
            "build jobs: cargo's choice (CARGO_BUILD_JOBS is set)"
        );
        assert!(defaults(&small, None, false)[5].contains("slow 15m"), "{:?}", defaults(&small, None, false));
    }
}
