//! Where the runner's own cgroups are, and how their files read.
//!
//! Locating a hierarchy takes two files under the proc root:
//! - `/proc/self/cgroup` gives the runner's path in each hierarchy: `0::/user.slice/x.scope`
//!   for cgroup v2, `4:memory:/docker/abc` (controllers comma-separated) for cgroup v1;
//! - `/proc/self/mountinfo` gives each cgroup mount: its mount point, the fs type (`cgroup2`,
//!   or `cgroup` with the controllers in the super options) and the mount's own root within
//!   the hierarchy (a container sees `/docker/abc` mounted as its `/`).
//!
//! The runner's directory is then `mount point + (path − mount root)`. Mount points under
//! `/sys/fs/cgroup` are re-based onto the configured cgroup root, which is what lets unit
//! tests describe a whole machine in a temporary directory. Without a readable mountinfo the
//! conventional layout is assumed: v2 at the cgroup root (or `unified/` on hybrid systems),
//! each v1 controller at `<root>/<controller>`. A computed directory that does not exist
//! (a moved process, a cgroup namespace the mount does not show) falls back to the mount
//! point, which inside a container is the container's own cgroup.
//!
//! Limits apply from every ancestor, so readers walk [`CgroupDir::levels`] from the runner's
//! directory up to the hierarchy's root.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::ProbeRoots;

/// Where cgroup hierarchies are mounted on a normal Linux system.
pub const SYSTEM_CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// v1 limits at or above this are "no limit": an unlimited v1 cgroup reports the largest
/// page-aligned `i64` (9223372036854771712 with 4 KiB pages, a little less with 64 KiB).
const V1_UNLIMITED_FROM: u64 = 1 << 62;

/// The cgroup interface a figure came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum CgroupVersion {
    /// Legacy per-controller hierarchies (`memory.limit_in_bytes`, `cpu.cfs_quota_us`).
    V1,
    /// The unified hierarchy (`memory.max`, `cpu.max`).
    V2,
}

impl fmt::Display for CgroupVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CgroupVersion::V1 => "v1",
            CgroupVersion::V2 => "v2",
        })
    }
}

/// The runner's directory in one cgroup hierarchy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CgroupDir {
    pub version: CgroupVersion,
    /// The runner's own cgroup.
    pub dir: PathBuf,
    /// The root of the hierarchy as mounted (the last ancestor worth reading).
    pub mount: PathBuf,
}

impl CgroupDir {
    /// The runner's directory, then each parent up to and including the mount point.
    pub fn levels(&self) -> Vec<PathBuf> {
        let mut levels = vec![self.dir.clone()];
        let mut current = self.dir.as_path();
        while current != self.mount {
            match current.parent() {
                Some(parent) if parent.starts_with(&self.mount) => {
                    levels.push(parent.to_path_buf());
                    current = parent;
                }
                _ => break,
            }
        }
        levels
    }
}

/// One line of `/proc/self/cgroup`.
#[derive(Debug)]
struct Membership {
    hierarchy: String,
    controllers: Vec<String>,
    path: String,
}

/// One cgroup line of `/proc/self/mountinfo`.
#[derive(Debug)]
struct Mount {
    root: String,
    point: PathBuf,
    fstype: String,
    super_options: Vec<String>,
}

/// The runner's cgroup memberships and the cgroup mounts, read once.
#[derive(Debug)]
pub(crate) struct Cgroups {
    memberships: Vec<Membership>,
    /// `None` when mountinfo could not be read: the conventional layout is assumed.
    mounts: Option<Vec<Mount>>,
    cgroup_root: PathBuf,
}

impl Cgroups {
    /// Reads `self/cgroup` and `self/mountinfo` under the proc root; unreadable files leave
    /// nothing located, never an error.
    pub fn locate(roots: &ProbeRoots) -> Self {
        let self_dir = roots.proc.join("self");
        let memberships = read_text(&self_dir.join("cgroup")).map(|t| parse_memberships(&t));
        let mounts = read_text(&self_dir.join("mountinfo")).map(|t| parse_mountinfo(&t, &roots.cgroup));
        Cgroups { memberships: memberships.unwrap_or_default(), mounts, cgroup_root: roots.cgroup.clone() }
    }

    /// The runner's cgroup v2 directory, if it is in the unified hierarchy.
    pub fn v2(&self) -> Option<CgroupDir> {
        let member = self.memberships.iter().find(|m| m.hierarchy == "0" && m.controllers.is_empty())?;
        let (root, point) = match &self.mounts {
            Some(mounts) => {
                mounts.iter().find(|m| m.fstype == "cgroup2").map(|m| (m.root.as_str(), m.point.clone()))?
            }
            None => ("/", self.conventional_v2()?),
        };
        Some(resolve(CgroupVersion::V2, &member.path, root, point))
    }

    /// The runner's directory in the v1 hierarchy of `controller` (`memory`, `cpu`).
    pub fn v1(&self, controller: &str) -> Option<CgroupDir> {
        let member = self.memberships.iter().find(|m| m.controllers.iter().any(|c| c == controller))?;
        let (root, point) = match &self.mounts {
            Some(mounts) => mounts
                .iter()
                .find(|m| m.fstype == "cgroup" && m.super_options.iter().any(|o| o == controller))
                .map(|m| (m.root.as_str(), m.point.clone()))?,
            None => ("/", Some(self.cgroup_root.join(controller)).filter(|p| p.is_dir())?),
        };
        Some(resolve(CgroupVersion::V1, &member.path, root, point))
    }

    fn conventional_v2(&self) -> Option<PathBuf> {
        [self.cgroup_root.clone(), self.cgroup_root.join("unified")]
            .into_iter()
            .find(|dir| dir.join("cgroup.controllers").is_file())
    }
}

/// `point + (path − root)`, or the mount point when that directory does not exist.
fn resolve(version: CgroupVersion, path: &str, root: &str, point: PathBuf) -> CgroupDir {
    let relative = match path.strip_prefix(root.trim_end_matches('/')) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
        _ => path,
    };
    let relative = relative.trim_start_matches('/');
    let dir = if relative.is_empty() { point.clone() } else { point.join(relative) };
    let dir = if dir.is_dir() { dir } else { point.clone() };
    CgroupDir { version, dir, mount: point }
}

fn parse_memberships(text: &str) -> Vec<Membership> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let hierarchy = parts.next()?.to_owned();
            let controllers = parts.next()?.split(',').filter(|c| !c.is_empty()).map(str::to_owned).collect();
            let path = parts.next()?.to_owned();
            Some(Membership { hierarchy, controllers, path })
        })
        .collect()
}

/// The cgroup mounts of a mountinfo file, with mount points re-based onto `cgroup_root`.
fn parse_mountinfo(text: &str, cgroup_root: &Path) -> Vec<Mount> {
    text.lines().filter_map(|line| parse_mount(line, cgroup_root)).collect()
}

/// `ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS`.
fn parse_mount(line: &str, cgroup_root: &Path) -> Option<Mount> {
    let (before, after) = line.split_once(" - ")?;
    let mut fields = before.split(' ').skip(3);
    let root = unescape(fields.next()?);
    let point = unescape(fields.next()?);
    let mut after = after.split(' ');
    let fstype = after.next()?.to_owned();
    if fstype != "cgroup" && fstype != "cgroup2" {
        return None;
    }
    let super_options = after.nth(1).unwrap_or_default().split(',').map(str::to_owned).collect();
    Some(Mount { root, point: rebase(&point, cgroup_root), fstype, super_options })
}

/// Mount points under `/sys/fs/cgroup` move to the configured root; others stay.
fn rebase(point: &str, cgroup_root: &Path) -> PathBuf {
    match Path::new(point).strip_prefix(SYSTEM_CGROUP_ROOT) {
        Ok(rest) => cgroup_root.join(rest),
        Err(_) => PathBuf::from(point),
    }
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo` octal.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).and_then(|d| std::str::from_utf8(d).ok());
        match octal.and_then(|d| u8::from_str_radix(d, 8).ok()) {
            Some(byte) if bytes[i] == b'\\' => {
                out.push(byte);
                i += 4;
            }
            _ => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A file's contents without surrounding whitespace; `None` when missing or unreadable.
pub(crate) fn read_text(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|text| text.trim().to_owned())
}

/// A file holding one unsigned number.
pub(crate) fn read_u64(path: &Path) -> Option<u64> {
    read_text(path)?.parse().ok()
}

/// A memory limit file: `Some(None)` for no limit (`max`, or v1's near-`i64::MAX`),
/// `Some(Some(bytes))` for a limit, `None` when the text is not a limit at all.
pub(crate) fn parse_memory_limit(text: &str) -> Option<Option<u64>> {
    let text = text.trim();
    if text == "max" {
        return Some(None);
    }
    let bytes: u64 = text.parse().ok()?;
    Some((bytes < V1_UNLIMITED_FROM).then_some(bytes))
}

/// The value of `key` in a `key value` per line file such as `memory.stat`.
pub(crate) fn stat_value(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (name, value) = line.split_once(' ')?;
        if name == key { value.trim().parse().ok() } else { None }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memberships_parse_v1_and_v2_lines() {
        let parsed = parse_memberships("4:memory:/a/b\n3:cpu,cpuacct:/c\n0::/user.slice/x.scope\nbad\n");
        let summary: Vec<_> =
            parsed.iter().map(|m| (m.hierarchy.as_str(), m.controllers.join("+"), m.path.as_str())).collect();
        assert_eq!(
            summary,
            [
                ("4", "memory".to_owned(), "/a/b"),
                ("3", "cpu+cpuacct".to_owned(), "/c"),
                ("0", String::new(), "/user.slice/x.scope")
            ]
        );
    }

    #[test]
    fn mountinfo_keeps_cgroup_mounts_rebased_and_unescaped() {
        let text = "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n\
                    35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n\
                    41 31 0:38 / /mnt/my\\040cg rw shared:5 - cgroup2 cgroup2 rw\n";
        let mounts = parse_mountinfo(text, Path::new("/fake/cg"));
        let summary: Vec<_> = mounts
            .iter()
            .map(|m| {
                (m.root.as_str(), m.point.display().to_string(), m.fstype.as_str(), m.super_options.join(","))
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("/docker/abc", "/fake/cg/memory".to_owned(), "cgroup", "rw,memory".to_owned()),
                ("/", "/mnt/my cg".to_owned(), "cgroup2", "rw".to_owned()),
            ]
        );
    }

    #[test]
    fn memory_limits_parse() {
        let cases = [
            ("max", Some(None)),
            ("max\n", Some(None)),
            ("2147483648", Some(Some(2 << 30))),
            ("9223372036854771712", Some(None)),
            ("9223372036854710272", Some(None)),
            ("", None),
            ("lots", None),
            ("-1", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_memory_limit(text), expected, "{text:?}");
        }
    }

    #[test]
    fn stat_values_are_found_by_exact_key() {
        let text = "cache 10\ninactive_file 20\ntotal_inactive_file 30\n";
        assert_eq!(stat_value(text, "inactive_file"), Some(20));
        assert_eq!(stat_value(text, "total_inactive_file"), Some(30));
        assert_eq!(stat_value(text, "active_file"), None);
    }

    #[test]
    fn levels_walk_up_to_the_mount_point() {
        let dir = CgroupDir {
            version: CgroupVersion::V2,
            dir: PathBuf::from("/cg/a/b"),
            mount: PathBuf::from("/cg"),
        };
        assert_eq!(dir.levels(), [PathBuf::from("/cg/a/b"), PathBuf::from("/cg/a"), PathBuf::from("/cg")]);
    }
}
