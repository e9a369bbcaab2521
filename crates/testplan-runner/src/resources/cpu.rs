//! CPUs: the smallest of the runner's scheduler affinity and its cgroup CPU quota, falling
//! back to `std::thread::available_parallelism`.
//!
//! A quota of `quota_us / period_us` CPUs counts as `ceil(quota / period)`, at least 1: a
//! fractional CPU is still capacity, and tests spend part of their time waiting anyway. The
//! quota is read from cgroup v2 `cpu.max` (`max 100000`, `150000 100000`) where the cpu
//! controller is enabled for the runner, else from v1 `cpu.cfs_quota_us` (`-1` for none) and
//! `cpu.cfs_period_us`; every ancestor's quota applies, so the tightest level is reported.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::cgroup::{CgroupDir, CgroupVersion, Cgroups, read_text, read_u64};

/// What bounds the number of CPUs, with the raw figures behind it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CpuInfo {
    /// CPUs the runner may use, at least 1.
    pub count: usize,
    /// Which figure gave `count`.
    pub source: CpuSource,
    /// CPUs in the runner's scheduler affinity mask (`sched_getaffinity`).
    pub affinity: Option<usize>,
    /// The cgroup CPU quota, when a cpu cgroup was found.
    pub quota: Option<CpuQuota>,
    /// `std::thread::available_parallelism` (it already folds in affinity and quota, but says
    /// nothing of which bound it used), the count only when neither of the above is known.
    pub available_parallelism: Option<usize>,
}

/// Which figure gave [`CpuInfo::count`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum CpuSource {
    /// The scheduler affinity mask.
    Affinity,
    /// The cgroup CPU quota.
    CgroupQuota,
    /// `std::thread::available_parallelism`.
    AvailableParallelism,
    /// Nothing was known; 1 was assumed.
    Unknown,
    /// Made up by [`super::Resources::fake`].
    Fake,
}

/// A cgroup CPU quota as read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CpuQuota {
    /// v1 or v2.
    pub version: CgroupVersion,
    /// Microseconds of CPU time per period; `None` for no quota (`max`, `-1`).
    pub quota_us: Option<u64>,
    /// The period in microseconds, when readable.
    pub period_us: Option<u64>,
    /// `cpu.max` or `cpu.cfs_quota_us`.
    pub file: PathBuf,
}

impl CpuQuota {
    /// `ceil(quota / period)`, at least 1; `None` without a quota.
    pub fn cpus(&self) -> Option<usize> {
        let (quota, period) = (self.quota_us?, self.period_us.filter(|&p| p > 0)?);
        usize::try_from(quota.div_ceil(period).max(1)).ok()
    }
}

impl CpuInfo {
    /// Combines the figures: the smallest of affinity and quota (affinity on a tie), else
    /// `available_parallelism`, else 1.
    pub fn from_parts(affinity: Option<usize>, quota: Option<CpuQuota>, parallelism: Option<usize>) -> Self {
        let bounds = [
            (affinity, CpuSource::Affinity),
            (quota.as_ref().and_then(CpuQuota::cpus), CpuSource::CgroupQuota),
        ];
        let smallest =
            bounds.into_iter().filter_map(|(n, source)| Some((n?, source))).min_by_key(|&(n, _)| n);
        let fallback = parallelism.map(|n| (n, CpuSource::AvailableParallelism));
        let (count, source) = smallest.or(fallback).unwrap_or((1, CpuSource::Unknown));
        CpuInfo { count: count.max(1), source, affinity, quota, available_parallelism: parallelism }
    }
}

/// Reads the runner's CPU quota and combines it with the affinity and fallback figures.
pub(crate) fn probe_cpus(cgroups: &Cgroups, affinity: Option<usize>, parallelism: Option<usize>) -> CpuInfo {
    CpuInfo::from_parts(affinity, cgroup_quota(cgroups), parallelism)
}

/// v2 where its cpu controller is enabled for the runner, else v1, else none.
fn cgroup_quota(cgroups: &Cgroups) -> Option<CpuQuota> {
    let v2 = cgroups.v2().and_then(|dir| binding_quota(&dir, read_v2_level));
    v2.or_else(|| cgroups.v1("cpu").and_then(|dir| binding_quota(&dir, read_v1_level)))
}

/// The level with the fewest CPUs, else the nearest readable (unlimited) level; ancestors
/// count even when the runner's own level has no quota file. `None` when no level has one.
fn binding_quota(dir: &CgroupDir, read: fn(&Path) -> Option<CpuQuota>) -> Option<CpuQuota> {
    let levels: Vec<CpuQuota> = dir.levels().iter().filter_map(|level| read(level)).collect();
    let binding = levels.iter().filter(|q| q.cpus().is_some()).min_by_key(|q| q.cpus());
    binding.or(levels.first()).cloned()
}

/// `cpu.max`: `max 100000` or `150000 100000`.
fn read_v2_level(dir: &Path) -> Option<CpuQuota> {
    let file = dir.join("cpu.max");
    let text = read_text(&file)?;
    let mut words = text.split_whitespace();
    let quota = match words.next()? {
        "max" => None,
        number => Some(number.parse().ok()?),
    };
    let period_us = words.next().and_then(|p| p.parse().ok());
    Some(CpuQuota { version: CgroupVersion::V2, quota_us: quota, period_us, file })
}

/// `cpu.cfs_quota_us` (`-1` for none) and `cpu.cfs_period_us`.
fn read_v1_level(dir: &Path) -> Option<CpuQuota> {
    let file = dir.join("cpu.cfs_quota_us");
    let quota: i64 = read_text(&file)?.parse().ok()?;
    let quota_us = u64::try_from(quota).ok();
    let period_us = read_u64(&dir.join("cpu.cfs_period_us"));
    Some(CpuQuota { version: CgroupVersion::V1, quota_us, period_us, file })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(quota_us: Option<u64>, period_us: Option<u64>) -> CpuQuota {
        CpuQuota { version: CgroupVersion::V2, quota_us, period_us, file: PathBuf::from("cpu.max") }
    }

    #[test]
    fn quota_rounds_up_to_whole_cpus() {
        let cases = [
            (Some(150_000), Some(100_000), Some(2)),
            (Some(200_000), Some(100_000), Some(2)),
            (Some(10_000), Some(100_000), Some(1)),
            (None, Some(100_000), None),
            (Some(50_000), None, None),
            (Some(50_000), Some(0), None),
        ];
        for (q, p, expected) in cases {
            assert_eq!(quota(q, p).cpus(), expected, "{q:?}/{p:?}");
        }
    }

    #[test]
    fn the_smallest_bound_wins() {
        let cases = [
            (Some(8), Some(quota(Some(200_000), Some(100_000))), Some(64), 2, CpuSource::CgroupQuota),
            (Some(2), Some(quota(None, Some(100_000))), Some(64), 2, CpuSource::Affinity),
            (Some(2), Some(quota(Some(200_000), Some(100_000))), None, 2, CpuSource::Affinity),
            (None, None, Some(6), 6, CpuSource::AvailableParallelism),
            (None, None, None, 1, CpuSource::Unknown),
        ];
        for (affinity, quota, parallelism, count, source) in cases {
            let info = CpuInfo::from_parts(affinity, quota, parallelism);
            assert_eq!((info.count, info.source), (count, source), "{affinity:?} {parallelism:?}");
        }
    }
}
