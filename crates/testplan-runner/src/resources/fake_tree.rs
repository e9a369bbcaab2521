//! A machine described in a temporary directory (`proc/...`, `sys/fs/cgroup/...`) for the
//! probe's unit tests.

use std::path::PathBuf;

use super::ProbeRoots;

/// mountinfo of a cgroup v1 machine: memory, and cpu co-mounted with cpuacct.
pub(crate) const V1_MOUNTS: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
";

/// mountinfo of a cgroup v2 machine.
pub(crate) const V2_MOUNTS: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
";

/// mountinfo of a hybrid machine: v1 controllers plus an empty v2 hierarchy at `unified/`.
pub(crate) const HYBRID_MOUNTS: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

/// `/proc/meminfo` with 24 GiB total and 20 GiB available.
pub(crate) const MEMINFO: &str = "\
MemTotal:       25165824 kB
MemFree:         1048576 kB
MemAvailable:   20971520 kB
Buffers:           10000 kB
";

/// A temporary directory holding a fake `/proc` and `/sys/fs/cgroup`.
#[derive(Debug)]
pub(crate) struct FakeMachine {
    dir: tempfile::TempDir,
}

impl FakeMachine {
    pub fn new() -> Self {
        FakeMachine { dir: tempfile::tempdir().expect("temporary directory") }
    }

    /// The roots to probe.
    pub fn roots(&self) -> ProbeRoots {
        ProbeRoots::under(self.dir.path())
    }

    /// The machine's directory.
    pub fn root(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// The absolute path of `relative` inside the machine.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// Writes a file, creating its directories.
    pub fn write(&self, relative: &str, contents: &str) -> &Self {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create directories");
        std::fs::write(&path, contents).expect("write a file");
        self
    }

    /// Puts a directory where a file is expected: reading it fails even as root, for whom
    /// `chmod 000` changes nothing.
    pub fn unreadable(&self, relative: &str) -> &Self {
        let path = self.path(relative);
        if path.is_file() {
            std::fs::remove_file(&path).expect("remove the readable file");
        }
        std::fs::create_dir_all(path).expect("create a directory");
        self
    }
}
