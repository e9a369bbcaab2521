//! Live memory for the scheduler: a cheap re-read of how full the runner's memory is, meant
//! to be called every ~50 ms while tests run.
//!
//! The files found by the probe stay open and are re-read with `pread` at offset 0 into one
//! reused buffer, so a sample is a few syscalls and no allocation. Two views are sampled and
//! the one with less headroom is returned:
//! - the runner's memory cgroup, when it has a limit: used = `memory.current` (v2) or
//!   `memory.usage_in_bytes` (v1) minus the reclaimable `inactive_file` page cache of
//!   `memory.stat` (the working set), against the limit read at probe time;
//! - the machine: used = MemTotal − MemAvailable of `/proc/meminfo`, against MemTotal.
//!
//! A changed cgroup limit is not noticed until the next probe.

use std::fs::File;
use std::io;
use std::path::Path;

use serde::Serialize;

use super::cgroup::{CgroupVersion, stat_value};
use super::memory::{MemoryInfo, meminfo_value};

/// One look at memory, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct MemorySample {
    /// Memory in use that the kernel cannot simply drop.
    pub used: u64,
    /// What `used` may grow to before the kernel OOM-kills.
    pub limit: u64,
    /// Which view this is.
    pub source: SampleSource,
}

/// Which view a [`MemorySample`] comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SampleSource {
    /// The runner's memory cgroup.
    Cgroup,
    /// `/proc/meminfo`.
    Machine,
}

impl MemorySample {
    /// limit − used.
    pub fn headroom(&self) -> u64 {
        self.limit.saturating_sub(self.used)
    }

    /// used / limit, 0.0 to 1.0 (more when over the limit).
    pub fn used_fraction(&self) -> f64 {
        if self.limit == 0 { 1.0 } else { self.used as f64 / self.limit as f64 }
    }
}

/// Something that reports live memory: [`MemoryWatch`] on a real machine, a script of samples
/// in a scheduler test.
pub trait SampleMemory {
    /// The current sample; `None` when nothing could be read.
    fn sample(&mut self) -> Option<MemorySample>;
}

/// Open files of the runner's memory cgroup.
#[derive(Debug)]
struct CgroupFiles {
    usage: File,
    stat: Option<File>,
    inactive_keys: &'static [&'static str],
    limit: u64,
}

/// Re-reads live memory from files kept open; see the module docs.
#[derive(Debug)]
pub struct MemoryWatch {
    cgroup: Option<CgroupFiles>,
    meminfo: Option<File>,
    buf: Vec<u8>,
}

/// Room for `/proc/meminfo` (~1.5 KiB) and `memory.stat` (~1-4 KiB); grown when full.
const INITIAL_BUFFER: usize = 8192;

impl MemoryWatch {
    /// Opens the files `memory` was probed from (`meminfo` under `proc_root`); `None` when
    /// neither view can be opened.
    pub fn open(proc_root: &Path, memory: &MemoryInfo) -> Option<Self> {
        let cgroup = memory.cgroup.as_ref().and_then(|c| {
            let limit = c.limit?;
            let inactive_keys: &'static [&'static str] = match c.version {
                CgroupVersion::V1 => &["total_inactive_file", "inactive_file"],
                CgroupVersion::V2 => &["inactive_file"],
            };
            Some(CgroupFiles {
                usage: File::open(&c.usage_file).ok()?,
                stat: File::open(&c.stat_file).ok(),
                inactive_keys,
                limit,
            })
        });
        let meminfo = File::open(proc_root.join("meminfo")).ok();
        (cgroup.is_some() || meminfo.is_some()).then(|| MemoryWatch {
            cgroup,
            meminfo,
            buf: vec![0; INITIAL_BUFFER],
        })
    }

    /// [`MemoryWatch::open`] on `/proc`.
    pub fn system(memory: &MemoryInfo) -> Option<Self> {
        MemoryWatch::open(Path::new("/proc"), memory)
    }

    /// The view with less headroom; `None` when neither could be read.
    pub fn sample(&mut self) -> Option<MemorySample> {
        let cgroup = self.sample_cgroup();
        let machine = self.sample_machine();
        [cgroup, machine].into_iter().flatten().min_by_key(MemorySample::headroom)
    }

    fn sample_cgroup(&mut self) -> Option<MemorySample> {
        let files = self.cgroup.as_ref()?;
        let usage: u64 =
            std::str::from_utf8(read_at_start(&files.usage, &mut self.buf)?).ok()?.trim().parse().ok()?;
        let inactive = files.stat.as_ref().and_then(|stat| {
            let text = std::str::from_utf8(read_at_start(stat, &mut self.buf)?).ok()?;
            files.inactive_keys.iter().find_map(|key| stat_value(text, key))
        });
        let used = usage.saturating_sub(inactive.unwrap_or(0));
        Some(MemorySample { used, limit: files.limit, source: SampleSource::Cgroup })
    }

    fn sample_machine(&mut self) -> Option<MemorySample> {
        let text = std::str::from_utf8(read_at_start(self.meminfo.as_ref()?, &mut self.buf)?).ok()?;
        let total = meminfo_value(text, "MemTotal")?;
        let available = meminfo_value(text, "MemAvailable")?;
        Some(MemorySample {
            used: total.saturating_sub(available),
            limit: total,
            source: SampleSource::Machine,
        })
    }
}

impl SampleMemory for MemoryWatch {
    fn sample(&mut self) -> Option<MemorySample> {
        MemoryWatch::sample(self)
    }
}

/// The whole file from offset 0. The kernel generates these pseudo-files in one go, so a
/// read that does not fill the buffer has everything; a full one grows the buffer and goes on.
fn read_at_start<'a>(file: &File, buf: &'a mut Vec<u8>) -> Option<&'a [u8]> {
    let mut len = 0;
    loop {
        let room = buf.len() - len;
        let read = crate::platform::read_at(file, &mut buf[len..], len as u64);
        match read {
            Ok(n) if n < room => return buf.get(..len + n),
            Ok(n) => {
                len += n;
                buf.resize(buf.len() * 2, 0);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests;
