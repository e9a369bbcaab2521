//! The system calls behind the probe, each wrapped once: scheduler affinity and page size.
//! Every `unsafe` of the resources module is here.

use std::sync::OnceLock;

/// CPUs in the runner's affinity mask (`sched_getaffinity`, which already leaves out offline
/// CPUs); `None` where unavailable.
#[cfg(target_os = "linux")]
pub(crate) fn affinity_count() -> Option<usize> {
    // SAFETY: `cpu_set_t` is a plain bit array; all-zero bytes are a valid (empty) set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid, exclusively borrowed `cpu_set_t` and the size passed is its
    // size, so the kernel writes only inside it.
    let rc = unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if rc != 0 {
        return None;
    }
    // SAFETY: `CPU_COUNT` only reads the initialised set.
    let count = unsafe { libc::CPU_COUNT(&set) };
    usize::try_from(count).ok().filter(|&n| n > 0)
}

/// Non-Linux systems: no affinity figure.
#[cfg(not(target_os = "linux"))]
pub(crate) fn affinity_count() -> Option<usize> {
    None
}

/// The page size in bytes (4096 when the system will not say).
pub(crate) fn page_size() -> u64 {
    static PAGE_SIZE: OnceLock<u64> = OnceLock::new();
    *PAGE_SIZE.get_or_init(|| {
        // SAFETY: `sysconf` reads a configuration value; no memory is passed.
        let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        u64::try_from(size).ok().filter(|&s| s > 0).unwrap_or(4096)
    })
}
