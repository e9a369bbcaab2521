//! Memory of a test's process tree: the summed RSS of every process in its process group,
//! for the per-test memory limit when no per-test cgroup is available.
//!
//! Each call scans `/proc/*/stat` once, keeps the processes whose `pgrp` is the test's and
//! adds their `rss` field (resident pages, the same counter `statm` reports — reading it
//! from `stat` saves a second open per process).
//!
//! Precision: RSS counts shared pages (libraries, copy-on-write after `fork`) once per
//! process, so a forked tree is over-counted — the safe direction for a limit. The kernel
//! updates these counters lazily per thread (up to 64 pages per thread may lag on kernels
//! before 6.2), a process that left the group with `setpgid`/`setsid` is not seen, and
//! anything that lived between two samples is missed; the child's `ru_maxrss` from `wait4`
//! gives the exact peak of the direct child afterwards.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use serde::Serialize;

use super::sys;

/// The summed resident memory of a process group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TreeRss {
    /// Summed RSS in bytes.
    pub rss_bytes: u64,
    /// Processes of the group seen (zombies included, with no RSS).
    pub processes: usize,
}

/// The RSS of process group `pgid`, from `/proc`. Unreadable entries (processes that ended
/// during the scan) are skipped.
pub fn tree_rss(pgid: i32) -> TreeRss {
    tree_rss_in(Path::new("/proc"), pgid, sys::page_size())
}

/// [`tree_rss`] over any proc root, with the page size to apply to `rss`.
pub fn tree_rss_in(proc_root: &Path, pgid: i32, page_size: u64) -> TreeRss {
    let Ok(entries) = std::fs::read_dir(proc_root) else { return TreeRss::default() };
    let mut stat = String::with_capacity(512);
    let mut total = TreeRss::default();
    for entry in entries.flatten() {
        if !entry.file_name().as_encoded_bytes().iter().all(u8::is_ascii_digit) {
            continue;
        }
        stat.clear();
        let read = File::open(entry.path().join("stat")).and_then(|mut f| f.read_to_string(&mut stat));
        if let Some((group, rss_pages)) = read.ok().and_then(|_| parse_stat(&stat))
            && group == pgid
        {
            total.processes += 1;
            total.rss_bytes = total.rss_bytes.saturating_add(rss_pages.saturating_mul(page_size));
        }
    }
    total
}

/// `(pgrp, rss pages)` of a `/proc/PID/stat` line. The command name is parenthesised and may
/// hold spaces and parentheses, so fields are counted after the last `)`: field 3 (state)
/// comes first, `pgrp` is field 5 and `rss` field 24.
fn parse_stat(stat: &str) -> Option<(i32, u64)> {
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = rest.split_ascii_whitespace();
    let pgrp = fields.nth(2)?.parse().ok()?;
    let rss = fields.nth(24 - 6)?.parse().ok()?;
    Some((pgrp, rss))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat_line(pid: u32, comm: &str, pgrp: i32, rss: u64) -> String {
        let mut fields: Vec<String> = (4..=52).map(|_| "0".to_owned()).collect();
        fields[0] = "1".to_owned(); // ppid, field 4
        fields[1] = pgrp.to_string(); // field 5
        fields[24 - 4] = rss.to_string(); // field 24
        format!("{pid} ({comm}) S {}\n", fields.join(" "))
    }

    #[test]
    fn stat_fields_are_counted_after_the_last_parenthesis() {
        assert_eq!(parse_stat(&stat_line(7, "a) b (c", 42, 300)), Some((42, 300)));
        assert_eq!(parse_stat("7 (x) S 1"), None);
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn sums_the_members_of_one_group() {
        let proc = tempfile::tempdir().expect("tempdir");
        let procs = [(10, 100, 5), (11, 100, 7), (12, 200, 1000), (13, 100, 0)];
        for (pid, pgrp, rss) in procs {
            let dir = proc.path().join(pid.to_string());
            std::fs::create_dir(&dir).expect("mkdir");
            std::fs::write(dir.join("stat"), stat_line(pid, "t", pgrp, rss)).expect("write");
        }
        std::fs::create_dir(proc.path().join("14")).expect("a process that ended: no stat");
        std::fs::create_dir(proc.path().join("self")).expect("not a pid");
        let rss = tree_rss_in(proc.path(), 100, 4096);
        assert_eq!(rss, TreeRss { rss_bytes: 12 * 4096, processes: 3 });
        assert_eq!(tree_rss_in(&proc.path().join("missing"), 100, 4096), TreeRss::default());
    }

    #[test]
    fn sees_a_real_process_group() {
        let own_group = sys::own_process_group();
        let rss = tree_rss(own_group);
        assert!(rss.processes >= 1, "{rss:?}");
        assert!(rss.rss_bytes > 1 << 20, "{rss:?}");
    }
}
