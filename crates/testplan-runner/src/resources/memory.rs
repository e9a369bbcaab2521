//! Memory: `/proc/meminfo`, the runner's memory cgroup, and the one formula for "usable".
//!
//! - **limit** (the most the runner's tests can ever hold together) = min(cgroup limit,
//!   MemTotal);
//! - **usable** (what can be handed out now) = min(MemAvailable, cgroup limit − cgroup working
//!   set), where working set = usage − `inactive_file` (page cache the kernel reclaims before
//!   it OOM-kills, counted the way the kubelet counts it). A term that cannot be read drops
//!   out, except that a readable cgroup limit with an unreadable usage still bounds usable
//!   by the limit itself; with no term at all, usable is MemTotal, else unknown. `--memory-budget` replaces it (see [`super::Resources::with_memory_budget`]).
//!
//! The cgroup figures come from the ancestor that binds: limits apply from every level up to
//! the hierarchy's root, so each level with a limit is read and the one with the least
//! headroom (limit − working set) is reported. cgroup v2 (`memory.max`, `memory.current`,
//! `memory.stat`) is preferred where its memory controller is enabled; otherwise v1
//! (`memory.limit_in_bytes`, `memory.usage_in_bytes`, `memory.stat`'s hierarchical
//! `total_inactive_file`).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::cgroup::{CgroupDir, CgroupVersion, Cgroups, parse_memory_limit, read_text, stat_value};

/// What the machine and the runner's cgroup say about memory. All figures in bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MemoryInfo {
    /// `MemTotal` of `/proc/meminfo`.
    pub total: Option<u64>,
    /// `MemAvailable` of `/proc/meminfo`.
    pub available: Option<u64>,
    /// The runner's memory cgroup, when one was found.
    pub cgroup: Option<CgroupMemory>,
    /// min(cgroup limit, MemTotal): the most the runner's tests can hold together.
    pub limit: Option<u64>,
    /// What can be handed out now; see the module docs for the formula.
    pub usable: Option<u64>,
    /// Which term of the formula gave `usable`.
    pub usable_from: UsableFrom,
}

/// Which term of the formula gave [`MemoryInfo::usable`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum UsableFrom {
    /// `MemAvailable` of `/proc/meminfo`.
    MemAvailable,
    /// The cgroup limit minus the cgroup's working set.
    CgroupHeadroom,
    /// The cgroup limit (its usage was unreadable).
    CgroupLimit,
    /// `MemTotal` (`MemAvailable` was unreadable).
    MemTotal,
    /// A budget given by the user (`--memory-budget`).
    Budget,
    /// Nothing was readable.
    Unknown,
}

/// The runner's memory cgroup as read, at the level whose limit binds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CgroupMemory {
    /// v1 or v2.
    pub version: CgroupVersion,
    /// The cgroup directory these figures come from (the runner's own, or the ancestor whose
    /// limit binds).
    pub dir: PathBuf,
    /// The limit; `None` for no limit (`max`, v1's near-`i64::MAX`) or an unreadable file.
    pub limit: Option<u64>,
    /// The limit file's text as read (`max`, `9223372036854771712`); `None` when unreadable.
    pub limit_text: Option<String>,
    /// `memory.max` or `memory.limit_in_bytes`.
    pub limit_file: PathBuf,
    /// Charged memory, page cache included (`memory.current`, `memory.usage_in_bytes`).
    pub usage: Option<u64>,
    /// The usage file.
    pub usage_file: PathBuf,
    /// Reclaimable page cache: `inactive_file` (v2) or `total_inactive_file` (v1).
    pub inactive_file: Option<u64>,
    /// `memory.stat`.
    pub stat_file: PathBuf,
}

impl CgroupMemory {
    /// usage − inactive file cache, or the usage when the cache is unknown.
    pub fn working_set(&self) -> Option<u64> {
        Some(self.usage?.saturating_sub(self.inactive_file.unwrap_or(0)))
    }

    /// limit − working set, when both are known.
    pub fn headroom(&self) -> Option<u64> {
        Some(self.limit?.saturating_sub(self.working_set()?))
    }
}

/// The file names of one cgroup version.
struct Files {
    limit: &'static str,
    usage: &'static str,
    inactive_keys: &'static [&'static str],
}

const V2_FILES: Files =
    Files { limit: "memory.max", usage: "memory.current", inactive_keys: &["inactive_file"] };
const V1_FILES: Files = Files {
    limit: "memory.limit_in_bytes",
    usage: "memory.usage_in_bytes",
    inactive_keys: &["total_inactive_file", "inactive_file"],
};

impl MemoryInfo {
    /// Applies the formulas of the module docs to what was read.
    pub fn from_parts(total: Option<u64>, available: Option<u64>, cgroup: Option<CgroupMemory>) -> Self {
        let cgroup_limit = cgroup.as_ref().and_then(|c| c.limit);
        let limit = min_known(cgroup_limit, total);
        let (usable, usable_from) = usable(total, available, cgroup.as_ref());
        MemoryInfo { total, available, cgroup, limit, usable, usable_from }
    }

    /// What the machine (or the runner's cgroup) can hand out now, by the formula of the
    /// module docs, whatever budget the user gave (`usable` may be that budget).
    pub fn machine_usable(&self) -> Option<u64> {
        usable(self.total, self.available, self.cgroup.as_ref()).0
    }

    /// The binding cgroup limit, if any.
    pub fn cgroup_limit(&self) -> Option<u64> {
        self.cgroup.as_ref().and_then(|c| c.limit)
    }
}

fn usable(
    total: Option<u64>,
    available: Option<u64>,
    cgroup: Option<&CgroupMemory>,
) -> (Option<u64>, UsableFrom) {
    let headroom = cgroup.and_then(CgroupMemory::headroom).map(|h| (h, UsableFrom::CgroupHeadroom));
    let cgroup_term = headroom.or_else(|| Some((cgroup?.limit?, UsableFrom::CgroupLimit)));
    let terms = [available.map(|a| (a, UsableFrom::MemAvailable)), cgroup_term];
    let smallest = terms.into_iter().flatten().min_by_key(|&(bytes, _)| bytes);
    match smallest.or(total.map(|t| (t, UsableFrom::MemTotal))) {
        Some((bytes, from)) => (Some(bytes), from),
        None => (None, UsableFrom::Unknown),
    }
}

fn min_known(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        _ => a.or(b),
    }
}

/// Reads `meminfo` under the proc root and the runner's memory cgroup.
pub(crate) fn probe_memory(proc_root: &Path, cgroups: &Cgroups) -> MemoryInfo {
    let meminfo = read_text(&proc_root.join("meminfo")).unwrap_or_default();
    let total = meminfo_value(&meminfo, "MemTotal");
    let available = meminfo_value(&meminfo, "MemAvailable");
    MemoryInfo::from_parts(total, available, cgroup_memory(cgroups))
}

/// A `/proc/meminfo` figure in bytes (`MemTotal:  24684092 kB`).
pub(crate) fn meminfo_value(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(key)?.strip_prefix(':')?;
        let mut words = rest.split_whitespace();
        let number: u64 = words.next()?.parse().ok()?;
        match words.next() {
            Some("kB") => number.checked_mul(1024),
            None => Some(number),
            Some(_) => None,
        }
    })
}

/// v2 where its memory controller is enabled for the runner, else v1, else none.
fn cgroup_memory(cgroups: &Cgroups) -> Option<CgroupMemory> {
    let v2 = cgroups.v2().and_then(|dir| read_binding_level(&dir, &V2_FILES));
    v2.or_else(|| cgroups.v1("memory").and_then(|dir| read_binding_level(&dir, &V1_FILES)))
}

/// The level with the least headroom among those with a limit, else the nearest readable
/// level (the runner's own, usually). Ancestors count even when the runner's own level has no
/// memory files: a v2 parent's `memory.max` covers a subtree that did not enable the
/// controller further down. `None` when no level has a readable limit or usage.
fn read_binding_level(dir: &CgroupDir, files: &Files) -> Option<CgroupMemory> {
    let levels: Vec<CgroupMemory> =
        dir.levels().iter().map(|level| read_level(level, dir.version, files)).collect();
    let limited = levels.iter().filter(|level| level.limit.is_some());
    let binding = limited.min_by_key(|level| level.headroom().or(level.limit));
    let readable = || levels.iter().find(|level| level.limit_text.is_some() || level.usage.is_some());
    binding.or_else(readable).cloned()
}

fn read_level(dir: &Path, version: CgroupVersion, files: &Files) -> CgroupMemory {
    let limit_file = dir.join(files.limit);
    let usage_file = dir.join(files.usage);
    let stat_file = dir.join("memory.stat");
    let limit_text = read_text(&limit_file);
    let limit = limit_text.as_deref().and_then(parse_memory_limit).flatten();
    let limit_text = limit_text.filter(|text| parse_memory_limit(text).is_some());
    let usage = read_text(&usage_file).and_then(|text| text.parse().ok());
    let stat = read_text(&stat_file).unwrap_or_default();
    let inactive_file = files.inactive_keys.iter().find_map(|key| stat_value(&stat, key));
    CgroupMemory {
        version,
        dir: dir.to_path_buf(),
        limit,
        limit_text,
        limit_file,
        usage,
        usage_file,
        inactive_file,
        stat_file,
    }
}

#[cfg(test)]
mod tests;
