//! Default parallelism: min(CPUs, usable memory / per-test estimate), at least 1, with the
//! reason the run header prints.
//!
//! The per-test estimate for tests without history is [`DEFAULT_PER_TEST_ESTIMATE`], 1 GiB.
//! Most Rust test processes need a few MiB to a few hundred, so 1 GiB is deliberately
//! generous: on every machine with at least 1 GiB usable per CPU — nearly every workstation
//! and CI runner (GitHub's 4-CPU/16 GiB, a 64-CPU/256 GiB box) — the CPUs bind anyway and
//! nothing is lost; only memory-poor machines, where an OOM is the real danger, run fewer
//! tests at once. Measured history and the live memory watch then refine admission per test.
//! Heavy markers are expected to bring their own, far larger, estimates (requires-models:
//! 4 GiB is a reasonable built-in, and those run serially by default anyway).

use std::fmt;

use serde::Serialize;

use super::Resources;
use super::size::{GIB, format_size, format_size_compact};

/// The per-test memory estimate of a test without history or a marker default.
pub const DEFAULT_PER_TEST_ESTIMATE: u64 = GIB;

/// The default number of jobs and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DefaultJobs {
    /// Tests at once, at least 1.
    pub jobs: usize,
    /// Which bound won.
    pub bound: JobsBound,
    /// `jobs 2 (2 CPUs; 3.1 GiB usable / 1 GiB per test)`.
    pub reason: String,
}

/// Which bound set [`DefaultJobs::jobs`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum JobsBound {
    /// The CPU count (memory allows as many or more).
    Cpus,
    /// Usable memory / per-test estimate (fewer than the CPUs; at least 1).
    Memory,
    /// The CPU count, usable memory being unknown.
    CpusMemoryUnknown,
}

impl fmt::Display for DefaultJobs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

/// min(CPUs, usable / `per_test_estimate`), at least 1 (an estimate of 0 counts as 1 byte).
pub fn default_jobs(resources: &Resources, per_test_estimate: u64) -> DefaultJobs {
    let cpus = resources.cpus.count.max(1);
    let cpu_text = if cpus == 1 { "1 CPU".to_owned() } else { format!("{cpus} CPUs") };
    let Some(usable) = resources.memory.usable else {
        let reason = format!("jobs {cpus} ({cpu_text}; usable memory unknown)");
        return DefaultJobs { jobs: cpus, bound: JobsBound::CpusMemoryUnknown, reason };
    };
    let estimate = per_test_estimate.max(1);
    let by_memory = usize::try_from(usable / estimate).unwrap_or(usize::MAX);
    let (jobs, bound) =
        if by_memory < cpus { (by_memory.max(1), JobsBound::Memory) } else { (cpus, JobsBound::Cpus) };
    let memory_text = format!("{} usable / {} per test", format_size(usable), format_size_compact(estimate));
    DefaultJobs { jobs, bound, reason: format!("jobs {jobs} ({cpu_text}; {memory_text})") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::size::MIB;

    #[test]
    fn parallelism_follows_the_tighter_bound() {
        let cases = [
            (
                Resources::fake(2, GIB, 0),
                GIB,
                1,
                JobsBound::Memory,
                "jobs 1 (2 CPUs; 1.0 GiB usable / 1 GiB per test)",
            ),
            (
                Resources::fake(2, 24 * GIB, 0),
                GIB,
                2,
                JobsBound::Cpus,
                "jobs 2 (2 CPUs; 24.0 GiB usable / 1 GiB per test)",
            ),
            (
                Resources::fake(64, 256 * GIB, 0),
                GIB,
                64,
                JobsBound::Cpus,
                "jobs 64 (64 CPUs; 256.0 GiB usable / 1 GiB per test)",
            ),
            (
                Resources::fake(2, 3 * GIB + 200 * MIB, 0),
                GIB,
                2,
                JobsBound::Cpus,
                "jobs 2 (2 CPUs; 3.1 GiB usable / 1 GiB per test)",
            ),
            (
                Resources::fake(8, 24 * GIB, 0).with_cgroup_limit(2 * GIB, 512 * MIB),
                GIB,
                1,
                JobsBound::Memory,
                "jobs 1 (8 CPUs; 1.5 GiB usable / 1 GiB per test)",
            ),
            (
                Resources::fake(8, 24 * GIB, 0).with_cgroup_limit(4 * GIB, 0),
                512 * MIB,
                8,
                JobsBound::Cpus,
                "jobs 8 (8 CPUs; 4.0 GiB usable / 512 MiB per test)",
            ),
            (
                Resources::fake(16, 64 * GIB, 0).with_cgroup_limit(6 * GIB, GIB),
                GIB,
                5,
                JobsBound::Memory,
                "jobs 5 (16 CPUs; 5.0 GiB usable / 1 GiB per test)",
            ),
            (
                Resources::fake(1, 100 * MIB, 0),
                GIB,
                1,
                JobsBound::Memory,
                "jobs 1 (1 CPU; 100.0 MiB usable / 1 GiB per test)",
            ),
            (
                Resources::fake(4, GIB, 0).with_memory_budget(3 * GIB),
                GIB,
                3,
                JobsBound::Memory,
                "jobs 3 (4 CPUs; 3.0 GiB usable / 1 GiB per test)",
            ),
        ];
        for (resources, estimate, jobs, bound, reason) in cases {
            let decided = default_jobs(&resources, estimate);
            assert_eq!((decided.jobs, decided.bound, decided.reason.as_str()), (jobs, bound, reason));
        }
    }

    #[test]
    fn unknown_memory_leaves_the_cpus() {
        let mut resources = Resources::fake(4, GIB, 0);
        resources.memory = crate::resources::MemoryInfo::from_parts(None, None, None);
        let decided = default_jobs(&resources, GIB);
        assert_eq!(decided.to_string(), "jobs 4 (4 CPUs; usable memory unknown)");
        assert_eq!(decided.bound, JobsBound::CpusMemoryUnknown);
    }

    #[test]
    fn a_zero_estimate_does_not_divide_by_zero() {
        assert_eq!(default_jobs(&Resources::fake(2, GIB, 0), 0).jobs, 2);
    }
}
