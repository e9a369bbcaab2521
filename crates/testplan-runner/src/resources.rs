//! The machine's resources — CPUs, memory, GPUs — probed in one place and handed around as a
//! plain [`Resources`] value, so the planner and the scheduler can be given a faked 2 GiB
//! machine or a GPU in tests ([`Resources::fake`]).
//!
//! - CPUs ([`CpuInfo`]): min(scheduler affinity, cgroup CPU quota), else
//!   `available_parallelism`;
//! - memory ([`MemoryInfo`]): `/proc/meminfo` and the runner's own memory cgroup (v2
//!   `memory.max`/`memory.current`, or v1 `memory.limit_in_bytes`/`memory.usage_in_bytes`),
//!   with **limit** = min(cgroup limit, MemTotal) and **usable** = min(MemAvailable, cgroup
//!   limit − cgroup working set) — see the `memory` submodule;
//! - GPUs ([`GpuInfo`]): NVIDIA via `CUDA_VISIBLE_DEVICES`, `nvidia-smi -L`, `/dev/nvidia*`,
//!   with the `--gpu auto|yes|no` override ([`GpuChoice`]).
//!
//! Probing never fails: what cannot be read (macOS, containers without cgroup files, an
//! unreadable file) is left out and the figures degrade to what was readable. Every probe
//! takes its roots ([`ProbeRoots`]: `/proc`, `/sys/fs/cgroup`) and its environment
//! ([`GpuEnv`]) as values, which lets unit tests describe whole machines in a temporary
//! directory. How cgroups are located is described in the `cgroup` submodule.
//!
//! Beyond the probe: [`default_jobs`] (min(CPUs, usable / per-test estimate), with the
//! reason for the run header, [`DEFAULT_PER_TEST_ESTIMATE`] = 1 GiB), [`MemoryWatch`] (live
//! memory every ~50 ms for the scheduler), [`tree_rss`] and [`TreeRssScanner`] (the RSS of a
//! test's process group) and [`describe`] (human lines for `cargo testplan doctor`).

pub(crate) mod cgroup;
mod cpu;
mod describe;
#[cfg(test)]
mod fake_tree;
mod gpu;
mod jobs;
mod memory;
mod size;
mod tree;
mod watch;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use cgroup::{CgroupVersion, SYSTEM_CGROUP_ROOT};
pub use cpu::{CpuInfo, CpuQuota, CpuSource};
pub use describe::describe;
pub use gpu::{
    GPU_ENV, GpuChoice, GpuChoiceOrigin, GpuEnv, GpuInfo, GpuOverride, GpuOverrideError, GpuSource,
    NVIDIA_SMI_TIMEOUT, detect_gpus,
};
pub use jobs::{DEFAULT_PER_TEST_ESTIMATE, DefaultJobs, JobsBound, default_jobs};
pub use memory::{CgroupMemory, MemoryInfo, UsableFrom};
pub use size::{GIB, KIB, MIB, format_size, format_size_compact};
pub use tree::{TreeRss, TreeRssScanner, tree_rss, tree_rss_in};
pub use watch::{MemorySample, MemoryWatch, SampleMemory, SampleSource};

/// Everything the planner and scheduler need to know about the machine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Resources {
    /// CPUs the runner may use.
    pub cpus: CpuInfo,
    /// Memory of the machine and of the runner's cgroup.
    pub memory: MemoryInfo,
    /// GPUs tests may use.
    pub gpus: GpuInfo,
}

/// Where the probe reads the kernel's files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeRoots {
    /// `/proc`.
    pub proc: PathBuf,
    /// `/sys/fs/cgroup`: mount points under it in mountinfo are re-based onto this.
    pub cgroup: PathBuf,
}

impl ProbeRoots {
    /// `/proc` and `/sys/fs/cgroup`.
    pub fn system() -> Self {
        ProbeRoots { proc: PathBuf::from("/proc"), cgroup: PathBuf::from(SYSTEM_CGROUP_ROOT) }
    }

    /// `dir/proc` and `dir/sys/fs/cgroup`: a machine described in a directory.
    pub fn under(dir: &Path) -> Self {
        ProbeRoots { proc: dir.join("proc"), cgroup: dir.join("sys/fs/cgroup") }
    }
}

/// Everything a probe reads, as values: file roots, the figures that come from system calls,
/// and the GPU environment and override.
#[derive(Clone, Debug)]
pub struct Probe {
    /// Where `/proc` and `/sys/fs/cgroup` are.
    pub roots: ProbeRoots,
    /// CPUs in the scheduler affinity mask.
    pub affinity: Option<usize>,
    /// `std::thread::available_parallelism`.
    pub available_parallelism: Option<usize>,
    /// What GPU detection looks at.
    pub gpu_env: GpuEnv,
    /// `--gpu` / `CARGO_TESTPLAN_GPU`.
    pub gpu: GpuChoice,
}

impl Probe {
    /// The real machine. `CARGO_TESTPLAN_GPU` is honoured when valid and ignored otherwise;
    /// the CLI validates it (and `--gpu`) up front with [`GpuChoice::from_flag_and_env`] and
    /// sets [`Probe::gpu`].
    pub fn system() -> Self {
        Probe {
            roots: ProbeRoots::system(),
            affinity: crate::platform::affinity_count(),
            available_parallelism: std::thread::available_parallelism().ok().map(usize::from),
            gpu_env: GpuEnv::from_process(),
            gpu: GpuChoice::from_flag_and_env(None).unwrap_or_default(),
        }
    }

    /// Reads everything; never fails.
    pub fn run(&self) -> Resources {
        let cgroups = cgroup::Cgroups::locate(&self.roots);
        Resources {
            cpus: cpu::probe_cpus(&cgroups, self.affinity, self.available_parallelism),
            memory: memory::probe_memory(&self.roots.proc, &cgroups),
            gpus: detect_gpus(&self.gpu_env, self.gpu),
        }
    }
}

impl Resources {
    /// Probes the real machine ([`Probe::system`]).
    pub fn probe() -> Self {
        Probe::system().run()
    }

    /// A made-up machine for tests of other modules: `cpus` CPUs, `memory_bytes` of memory
    /// all available, no cgroup, `gpus` GPUs named `fake GPU N`.
    pub fn fake(cpus: usize, memory_bytes: u64, gpus: usize) -> Self {
        let cpus = CpuInfo {
            count: cpus.max(1),
            source: CpuSource::Fake,
            affinity: None,
            quota: None,
            available_parallelism: None,
        };
        let names = (0..gpus).map(|i| format!("fake GPU {i}")).collect();
        Resources {
            cpus,
            memory: MemoryInfo::from_parts(Some(memory_bytes), Some(memory_bytes), None),
            gpus: GpuInfo { count: gpus, names, source: GpuSource::Fake, narrowed_by: None },
        }
    }

    /// The same machine inside a cgroup v2 limited to `limit` bytes of which `usage` are in
    /// use; limit and usable are recomputed.
    pub fn with_cgroup_limit(self, limit: u64, usage: u64) -> Self {
        let cgroup = CgroupMemory {
            version: CgroupVersion::V2,
            dir: PathBuf::new(),
            limit: Some(limit),
            limit_text: Some(limit.to_string()),
            limit_file: PathBuf::from("memory.max"),
            usage: Some(usage),
            usage_file: PathBuf::from("memory.current"),
            inactive_file: None,
            stat_file: PathBuf::from("memory.stat"),
        };
        let memory = MemoryInfo::from_parts(self.memory.total, self.memory.available, Some(cgroup));
        Resources { memory, ..self }
    }

    /// Usable memory replaced by a budget the user gave (`--memory-budget`).
    pub fn with_memory_budget(mut self, bytes: u64) -> Self {
        self.memory.usable = Some(bytes);
        self.memory.usable_from = UsableFrom::Budget;
        self
    }
}

#[cfg(test)]
mod tests;
