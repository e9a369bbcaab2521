//! What the probe found, as lines for people (`cargo testplan doctor`, `-v` run headers):
//!
//! ```text
//! cpus: 2 (sched affinity; cgroup v1 quota none in /sys/fs/cgroup/cpu/cpu.cfs_quota_us)
//! memory: 23.5 GiB total, 23.1 GiB available; cgroup v1 limit none (/sys/fs/cgroup/memory/memory.limit_in_bytes)
//! usable memory: 23.1 GiB (MemAvailable)
//! gpus: none (CUDA_VISIBLE_DEVICES=-1)
//! ```

use super::Resources;
use super::cpu::{CpuInfo, CpuQuota, CpuSource};
use super::gpu::GpuInfo;
use super::memory::{CgroupMemory, MemoryInfo, UsableFrom};
use super::size::format_size;

/// One line each for CPUs, memory, usable memory and GPUs.
pub fn describe(resources: &Resources) -> Vec<String> {
    vec![
        describe_cpus(&resources.cpus),
        describe_memory(&resources.memory),
        describe_usable(&resources.memory),
        describe_gpus(&resources.gpus),
    ]
}

fn describe_cpus(cpus: &CpuInfo) -> String {
    let mut parts = vec![match cpus.source {
        CpuSource::Affinity => "sched affinity".to_owned(),
        CpuSource::CgroupQuota => {
            cpus.quota.as_ref().map_or_else(|| "cgroup quota".to_owned(), describe_quota)
        }
        CpuSource::AvailableParallelism => "available_parallelism".to_owned(),
        CpuSource::Unknown => "nothing readable, 1 assumed".to_owned(),
        CpuSource::Fake => "faked".to_owned(),
    }];
    if let Some(affinity) = cpus.affinity.filter(|_| cpus.source != CpuSource::Affinity) {
        parts.push(format!("sched affinity {affinity}"));
    }
    if let Some(quota) = cpus.quota.as_ref().filter(|_| cpus.source != CpuSource::CgroupQuota) {
        parts.push(describe_quota(quota));
    }
    format!("cpus: {} ({})", cpus.count, parts.join("; "))
}

fn describe_quota(quota: &CpuQuota) -> String {
    let amount = match (quota.quota_us, quota.period_us) {
        (Some(q), Some(p)) => format!("{q}/{p} µs"),
        (Some(q), None) => format!("{q} µs per unknown period"),
        (None, _) => "none".to_owned(),
    };
    format!("cgroup {} quota {amount} in {}", quota.version, quota.file.display())
}

fn describe_memory(memory: &MemoryInfo) -> String {
    let total =
        memory.total.map_or_else(|| "total unknown".to_owned(), |t| format!("{} total", format_size(t)));
    let available = memory
        .available
        .map_or_else(|| "available unknown".to_owned(), |a| format!("{} available", format_size(a)));
    let cgroup = memory.cgroup.as_ref().map_or_else(|| "no memory cgroup found".to_owned(), describe_cgroup);
    format!("memory: {total}, {available}; {cgroup}")
}

fn describe_cgroup(cgroup: &CgroupMemory) -> String {
    let file = cgroup.limit_file.display();
    let limit = match (cgroup.limit, &cgroup.limit_text) {
        (Some(limit), _) => format_size(limit),
        (None, Some(_)) => "none".to_owned(),
        (None, None) => "unreadable".to_owned(),
    };
    let usage = cgroup.usage.map(|u| format!(", {} charged", format_size(u))).unwrap_or_default();
    format!("cgroup {} limit {limit}{usage} ({file})", cgroup.version)
}

fn describe_usable(memory: &MemoryInfo) -> String {
    let Some(usable) = memory.usable else { return "usable memory: unknown".to_owned() };
    let why = match memory.usable_from {
        UsableFrom::MemAvailable => "MemAvailable".to_owned(),
        UsableFrom::CgroupHeadroom => describe_headroom(memory.cgroup.as_ref()),
        UsableFrom::CgroupLimit => "cgroup limit; its usage unreadable".to_owned(),
        UsableFrom::MemTotal => "MemTotal; MemAvailable unreadable".to_owned(),
        UsableFrom::Budget => "--memory-budget".to_owned(),
        UsableFrom::Unknown => "unknown".to_owned(),
    };
    format!("usable memory: {} ({why})", format_size(usable))
}

fn describe_headroom(cgroup: Option<&CgroupMemory>) -> String {
    match cgroup.and_then(|c| Some((c.limit?, c.working_set()?))) {
        Some((limit, used)) => {
            format!("cgroup limit {} − {} working set", format_size(limit), format_size(used))
        }
        None => "cgroup headroom".to_owned(),
    }
}

fn describe_gpus(gpus: &GpuInfo) -> String {
    let count = if gpus.count == 0 { "none".to_owned() } else { gpus.count.to_string() };
    let narrowed = gpus.narrowed_by.as_ref().map(|v| format!(", narrowed by CUDA_VISIBLE_DEVICES={v}"));
    let names = if gpus.names.is_empty() { String::new() } else { format!(": {}", gpus.names.join(", ")) };
    format!("gpus: {count} ({}{}){names}", gpus.source, narrowed.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::resources::cgroup::CgroupVersion;
    use crate::resources::gpu::GpuSource;
    use crate::resources::size::{GIB, MIB};

    #[test]
    fn a_faked_machine_reads_plainly() {
        let lines = describe(&Resources::fake(2, 24 * GIB, 0));
        assert_eq!(
            lines,
            [
                "cpus: 2 (faked)",
                "memory: 24.0 GiB total, 24.0 GiB available; no memory cgroup found",
                "usable memory: 24.0 GiB (MemAvailable)",
                "gpus: none (faked)",
            ]
        );
    }

    #[test]
    fn a_cgroup_limited_machine_shows_limit_usage_and_headroom() {
        let resources = Resources::fake(2, 24 * GIB, 1).with_cgroup_limit(2 * GIB, 300 * MIB);
        let lines = describe(&resources);
        assert_eq!(
            lines[1],
            "memory: 24.0 GiB total, 24.0 GiB available; cgroup v2 limit 2.0 GiB, 300.0 MiB charged (memory.max)"
        );
        assert_eq!(lines[2], "usable memory: 1.7 GiB (cgroup limit 2.0 GiB − 300.0 MiB working set)");
        assert_eq!(lines[3], "gpus: 1 (faked): fake GPU 0");
    }

    #[test]
    fn cpu_lines_name_the_winning_bound_and_the_others() {
        let quota = |q: Option<u64>| CpuQuota {
            version: CgroupVersion::V1,
            quota_us: q,
            period_us: Some(100_000),
            file: PathBuf::from("/cg/cpu/cpu.cfs_quota_us"),
        };
        let cases = [
            (
                Some(2),
                Some(quota(None)),
                "cpus: 2 (sched affinity; cgroup v1 quota none in /cg/cpu/cpu.cfs_quota_us)",
            ),
            (
                Some(8),
                Some(quota(Some(150_000))),
                "cpus: 2 (cgroup v1 quota 150000/100000 µs in /cg/cpu/cpu.cfs_quota_us; sched affinity 8)",
            ),
            (None, None, "cpus: 6 (available_parallelism)"),
        ];
        for (affinity, quota, expected) in cases {
            assert_eq!(describe_cpus(&CpuInfo::from_parts(affinity, quota, Some(6))), expected);
        }
    }

    #[test]
    fn gpu_lines_give_the_reason_for_none_and_the_narrowing() {
        let hidden = GpuInfo::none(GpuSource::NotFound { reason: "CUDA_VISIBLE_DEVICES=-1".to_owned() });
        assert_eq!(describe_gpus(&hidden), "gpus: none (CUDA_VISIBLE_DEVICES=-1)");
        let narrowed = GpuInfo {
            count: 1,
            names: vec!["NVIDIA A100".to_owned()],
            source: GpuSource::NvidiaSmi { path: PathBuf::from("/usr/bin/nvidia-smi") },
            narrowed_by: Some("1".to_owned()),
        };
        assert_eq!(
            describe_gpus(&narrowed),
            "gpus: 1 (/usr/bin/nvidia-smi -L, narrowed by CUDA_VISIBLE_DEVICES=1): NVIDIA A100"
        );
    }
}
