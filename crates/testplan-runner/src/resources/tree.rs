//! Memory of a test's process tree: the summed RSS of every process in its process group,
//! for the per-test memory limit when no per-test cgroup is available.
//!
//! A scan lists `/proc`, keeps the processes whose `pgrp` (from `/proc/PID/stat`) is the
//! test's and adds their `rss` field (resident pages, the counter `statm` reports too —
//! reading it from `stat` saves a second open per member). [`tree_rss`] does this from
//! scratch and costs one `stat` read per process on the machine. [`TreeRssScanner`] is for
//! the scheduler's repeated sampling: it remembers the group of every process it has seen
//! and re-reads `stat` only for new processes, members of the watched groups and group
//! leaders, and it measures all running tests in one pass.
//!
//! Precision: RSS counts shared pages (libraries, copy-on-write after `fork`) once per
//! process, so a forked tree is over-counted — the safe direction for a limit. The kernel
//! updates these counters lazily per thread (up to 64 pages per thread may lag on kernels
//! before 6.2), a process that left the group with `setpgid`/`setsid` is not seen, and
//! anything that lived between two samples is missed; the child's `ru_maxrss` from `wait4`
//! gives the exact peak of the direct child afterwards. The scanner also misses a process
//! that joins a watched group with `setpgid` after it was first seen elsewhere (a group's
//! leader is always re-read, which covers the moment between `fork` and `setpgid` when a
//! test is spawned).

use std::collections::HashMap;
use std::fs::{DirEntry, File};
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// The summed resident memory of a process group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TreeRss {
    /// Summed RSS in bytes.
    pub rss_bytes: u64,
    /// Processes of the group seen (zombies included, with no RSS).
    pub processes: usize,
}

impl TreeRss {
    fn add(&mut self, rss_pages: u64, page_size: u64) {
        self.processes += 1;
        self.rss_bytes = self.rss_bytes.saturating_add(rss_pages.saturating_mul(page_size));
    }
}

/// The RSS of process group `pgid`, from `/proc`. Unreadable entries (processes that ended
/// during the scan) are skipped.
pub fn tree_rss(pgid: i32) -> TreeRss {
    tree_rss_in(Path::new("/proc"), pgid, crate::platform::page_size())
}

/// [`tree_rss`] over any proc root, with the page size to apply to `rss`.
pub fn tree_rss_in(proc_root: &Path, pgid: i32, page_size: u64) -> TreeRss {
    let Ok(entries) = std::fs::read_dir(proc_root) else { return TreeRss::default() };
    let mut stat = String::with_capacity(512);
    let mut total = TreeRss::default();
    for entry in entries.flatten().filter(|entry| pid_of(entry).is_some()) {
        if let Some((group, rss_pages)) = read_stat(&entry.path(), &mut stat)
            && group == pgid
        {
            total.add(rss_pages, page_size);
        }
    }
    total
}

/// Repeated scans of several process groups at once; see the module docs.
#[derive(Debug)]
pub struct TreeRssScanner {
    proc_root: PathBuf,
    page_size: u64,
    /// pid → (its process group, the pass that last saw it).
    known: HashMap<u32, (i32, u64)>,
    pass: u64,
    stat: String,
}

impl Default for TreeRssScanner {
    fn default() -> Self {
        TreeRssScanner::with_root(Path::new("/proc"), crate::platform::page_size())
    }
}

impl TreeRssScanner {
    /// A scanner of `/proc`.
    pub fn new() -> Self {
        TreeRssScanner::default()
    }

    /// A scanner of any proc root, with the page size to apply to `rss`.
    pub fn with_root(proc_root: &Path, page_size: u64) -> Self {
        TreeRssScanner {
            proc_root: proc_root.to_path_buf(),
            page_size,
            known: HashMap::new(),
            pass: 0,
            stat: String::with_capacity(512),
        }
    }

    /// The RSS of each of `pgids`, in the same order, from one pass over `/proc`.
    pub fn scan(&mut self, pgids: &[i32]) -> Vec<TreeRss> {
        self.pass += 1;
        let mut totals = vec![TreeRss::default(); pgids.len()];
        let Ok(entries) = std::fs::read_dir(&self.proc_root) else { return totals };
        for entry in entries.flatten() {
            let Some(pid) = pid_of(&entry) else { continue };
            let Some((group, rss_pages)) = self.group_of(pid, &entry, pgids) else { continue };
            if let Some(index) = pgids.iter().position(|&g| g == group) {
                totals[index].add(rss_pages, self.page_size);
            }
        }
        let pass = self.pass;
        self.known.retain(|_, (_, seen)| *seen == pass);
        totals
    }

    /// `(group, rss pages)`: read afresh for new processes, members and leaders of `pgids`;
    /// from memory (with no RSS needed) for everyone else.
    fn group_of(&mut self, pid: u32, entry: &DirEntry, pgids: &[i32]) -> Option<(i32, u64)> {
        let cached = self.known.get(&pid).map(|&(group, _)| group);
        let is_leader = i32::try_from(pid).is_ok_and(|pid| pgids.contains(&pid));
        let found = match cached {
            Some(group) if !is_leader && !pgids.contains(&group) => Some((group, 0)),
            _ => read_stat(&entry.path(), &mut self.stat),
        };
        if let Some((group, _)) = found {
            self.known.insert(pid, (group, self.pass));
        }
        found
    }
}

/// The pid a `/proc` entry stands for, if it is a process.
fn pid_of(entry: &DirEntry) -> Option<u32> {
    entry.file_name().to_str()?.parse().ok()
}

/// `(pgrp, rss pages)` from `<process dir>/stat`, read into `buf`.
fn read_stat(process_dir: &Path, buf: &mut String) -> Option<(i32, u64)> {
    buf.clear();
    File::open(process_dir.join("stat")).and_then(|mut file| file.read_to_string(buf)).ok()?;
    parse_stat(buf)
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

    fn write_process(proc: &Path, pid: u32, pgrp: i32, rss: u64) {
        let dir = proc.join(pid.to_string());
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("stat"), stat_line(pid, "t", pgrp, rss)).expect("write");
    }

    #[test]
    fn the_scanner_follows_groups_across_passes() {
        let proc = tempfile::tempdir().expect("tempdir");
        let root = proc.path();
        write_process(root, 100, 100, 10);
        write_process(root, 101, 100, 20);
        write_process(root, 200, 200, 1000);
        write_process(root, 300, 1, 5);
        let mut scanner = TreeRssScanner::with_root(root, 1);
        let rss = |bytes, processes| TreeRss { rss_bytes: bytes, processes };
        assert_eq!(scanner.scan(&[100, 200, 999]), [rss(30, 2), rss(1000, 1), TreeRss::default()]);
        // A member grows, one leaves its group, a new child appears, a process ends.
        write_process(root, 100, 100, 15);
        write_process(root, 101, 1, 20);
        write_process(root, 102, 100, 7);
        std::fs::remove_dir_all(root.join("200")).expect("rm");
        assert_eq!(scanner.scan(&[100, 200]), [rss(22, 2), TreeRss::default()]);
        assert!(!scanner.known.contains_key(&200));
    }

    #[test]
    fn the_scanner_rereads_a_leader_first_seen_before_its_setpgid() {
        let proc = tempfile::tempdir().expect("tempdir");
        write_process(proc.path(), 400, 1, 3);
        let mut scanner = TreeRssScanner::with_root(proc.path(), 1);
        assert_eq!(scanner.scan(&[]), []);
        write_process(proc.path(), 400, 400, 3);
        assert_eq!(scanner.scan(&[400]), [TreeRss { rss_bytes: 3, processes: 1 }]);
    }

    #[test]
    fn sees_a_real_process_group() {
        use std::os::unix::process::CommandExt;
        // A group of its own, so processes other tests start and end meanwhile do not count.
        let spawn = |group: i32| std::process::Command::new("sleep").arg("30").process_group(group).spawn();
        let mut leader = spawn(0).expect("spawn sleep");
        let group = i32::try_from(leader.id()).expect("a pid");
        let mut member = spawn(group).expect("spawn sleep");
        // Wait for a condition, not a time: a process just forked can still be in `exec`,
        // with no resident pages yet (seen under load). Bounded, then asserted below.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let mut rss = tree_rss(group);
        while (rss.processes != 2 || rss.rss_bytes == 0) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
            rss = tree_rss(group);
        }
        let scanned = TreeRssScanner::new().scan(&[group]);
        for child in [&mut leader, &mut member] {
            let _ = child.kill();
            let _ = child.wait();
        }
        assert_eq!(rss.processes, 2, "{rss:?}");
        assert!(rss.rss_bytes > 0, "{rss:?}");
        assert_eq!(scanned[0].processes, 2, "{scanned:?}");
    }
}
