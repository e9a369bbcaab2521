//! Table-driven tests of the memory probe over fake machines.

use super::*;
use crate::resources::fake_tree::{FakeMachine, HYBRID_MOUNTS, MEMINFO, V1_MOUNTS, V2_MOUNTS};
use crate::resources::size::{GIB, KIB, MIB};

const TOTAL: u64 = 25_165_824 * KIB;
const AVAILABLE: u64 = 20_971_520 * KIB;
const V1_NO_LIMIT: &str = "9223372036854771712";

/// What one case expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Expected {
    version: Option<CgroupVersion>,
    /// The cgroup directory relative to the machine, when a cgroup is expected.
    dir: Option<&'static str>,
    cgroup_limit: Option<u64>,
    limit_text: Option<&'static str>,
    usage: Option<u64>,
    limit: Option<u64>,
    usable: Option<u64>,
    usable_from: UsableFrom,
}

fn summary(machine: &FakeMachine, memory: &MemoryInfo) -> Expected {
    let cgroup = memory.cgroup.as_ref();
    let dir = cgroup.map(|c| {
        let relative = c.dir.strip_prefix(machine.root()).expect("inside the machine");
        &*relative.display().to_string().leak()
    });
    Expected {
        version: cgroup.map(|c| c.version),
        dir,
        cgroup_limit: memory.cgroup_limit(),
        limit_text: cgroup.and_then(|c| c.limit_text.clone()).map(|t| &*t.leak()),
        usage: cgroup.and_then(|c| c.usage),
        limit: memory.limit,
        usable: memory.usable,
        usable_from: memory.usable_from,
    }
}

fn probe(machine: &FakeMachine) -> MemoryInfo {
    let roots = machine.roots();
    probe_memory(&roots.proc, &crate::resources::cgroup::Cgroups::locate(&roots))
}

fn v1(machine: &FakeMachine, path: &str) {
    machine
        .write("proc/meminfo", MEMINFO)
        .write("proc/self/mountinfo", V1_MOUNTS)
        .write("proc/self/cgroup", &format!("5:memory:{path}\n4:cpu,cpuacct:{path}\n0::/\n"));
}

fn v2(machine: &FakeMachine, path: &str) {
    machine
        .write("proc/meminfo", MEMINFO)
        .write("proc/self/mountinfo", V2_MOUNTS)
        .write("proc/self/cgroup", &format!("0::{path}\n"));
}

type Setup = fn(&FakeMachine);

#[test]
fn memory_probe_table() {
    let none = Expected {
        version: None,
        dir: None,
        cgroup_limit: None,
        limit_text: None,
        usage: None,
        limit: Some(TOTAL),
        usable: Some(AVAILABLE),
        usable_from: UsableFrom::MemAvailable,
    };
    let cases: Vec<(&str, Setup, Expected)> = vec![
        (
            "v1 limited: usable is the limit minus the working set",
            |m| {
                v1(m, "/tp");
                m.write("sys/fs/cgroup/memory/tp/memory.limit_in_bytes", "2147483648\n")
                    .write("sys/fs/cgroup/memory/tp/memory.usage_in_bytes", "524288000\n")
                    .write(
                        "sys/fs/cgroup/memory/tp/memory.stat",
                        "cache 200\ninactive_file 7\ntotal_inactive_file 104857600\n",
                    )
                    .write("sys/fs/cgroup/memory/memory.limit_in_bytes", V1_NO_LIMIT);
            },
            Expected {
                version: Some(CgroupVersion::V1),
                dir: Some("sys/fs/cgroup/memory/tp"),
                cgroup_limit: Some(2 * GIB),
                limit_text: Some("2147483648"),
                usage: Some(500 * MIB),
                limit: Some(2 * GIB),
                usable: Some(2 * GIB - 400 * MIB),
                usable_from: UsableFrom::CgroupHeadroom,
            },
        ),
        (
            "v1 unlimited: the huge value is no limit",
            |m| {
                v1(m, "/tp");
                m.write("sys/fs/cgroup/memory/tp/memory.limit_in_bytes", V1_NO_LIMIT)
                    .write("sys/fs/cgroup/memory/tp/memory.usage_in_bytes", "1000");
            },
            Expected {
                version: Some(CgroupVersion::V1),
                dir: Some("sys/fs/cgroup/memory/tp"),
                limit_text: Some(V1_NO_LIMIT),
                usage: Some(1000),
                ..none
            },
        ),
        (
            "v2 max is no limit",
            |m| {
                v2(m, "/user.slice/a.scope");
                m.write("sys/fs/cgroup/user.slice/a.scope/memory.max", "max\n")
                    .write("sys/fs/cgroup/user.slice/a.scope/memory.current", "4096\n");
            },
            Expected {
                version: Some(CgroupVersion::V2),
                dir: Some("sys/fs/cgroup/user.slice/a.scope"),
                limit_text: Some("max"),
                usage: Some(4096),
                ..none
            },
        ),
        (
            "v2 limit above MemTotal: the machine binds",
            |m| {
                v2(m, "/big");
                m.write("sys/fs/cgroup/big/memory.max", &(64 * GIB).to_string())
                    .write("sys/fs/cgroup/big/memory.current", "0");
            },
            Expected {
                version: Some(CgroupVersion::V2),
                dir: Some("sys/fs/cgroup/big"),
                cgroup_limit: Some(64 * GIB),
                limit_text: Some("68719476736"),
                usage: Some(0),
                ..none
            },
        ),
        (
            "nested v2: an ancestor's limit binds",
            |m| {
                v2(m, "/a/b/c");
                m.write("sys/fs/cgroup/a/b/c/memory.max", "max")
                    .write("sys/fs/cgroup/a/b/c/memory.current", &(GIB).to_string())
                    .write("sys/fs/cgroup/a/b/memory.max", &(3 * GIB).to_string())
                    .write("sys/fs/cgroup/a/b/memory.current", &(2 * GIB).to_string())
                    .write("sys/fs/cgroup/a/memory.max", &(8 * GIB).to_string())
                    .write("sys/fs/cgroup/a/memory.current", &(2 * GIB).to_string());
            },
            Expected {
                version: Some(CgroupVersion::V2),
                dir: Some("sys/fs/cgroup/a/b"),
                cgroup_limit: Some(3 * GIB),
                limit_text: Some("3221225472"),
                usage: Some(2 * GIB),
                limit: Some(3 * GIB),
                usable: Some(GIB),
                usable_from: UsableFrom::CgroupHeadroom,
            },
        ),
        (
            "nested v2: the level with the least headroom binds, not the smallest limit",
            |m| {
                v2(m, "/a/b");
                m.write("sys/fs/cgroup/a/b/memory.max", &(4 * GIB).to_string())
                    .write("sys/fs/cgroup/a/b/memory.current", &(GIB).to_string())
                    .write("sys/fs/cgroup/a/memory.max", &(6 * GIB).to_string())
                    .write("sys/fs/cgroup/a/memory.current", &(5 * GIB).to_string());
            },
            Expected {
                version: Some(CgroupVersion::V2),
                dir: Some("sys/fs/cgroup/a"),
                cgroup_limit: Some(6 * GIB),
                limit_text: Some("6442450944"),
                usage: Some(5 * GIB),
                limit: Some(6 * GIB),
                usable: Some(GIB),
                usable_from: UsableFrom::CgroupHeadroom,
            },
        ),
        (
            "v2: a parent's limit applies where the runner's level has no memory files",
            |m| {
                v2(m, "/svc/leaf");
                m.write("sys/fs/cgroup/svc/leaf/cgroup.procs", "1\n")
                    .write("sys/fs/cgroup/svc/memory.max", &(4 * GIB).to_string())
                    .write("sys/fs/cgroup/svc/memory.current", &(GIB).to_string());
            },
            Expected {
                version: Some(CgroupVersion::V2),
                dir: Some("sys/fs/cgroup/svc"),
                cgroup_limit: Some(4 * GIB),
                limit_text: Some("4294967296"),
                usage: Some(GIB),
                limit: Some(4 * GIB),
                usable: Some(3 * GIB),
                usable_from: UsableFrom::CgroupHeadroom,
            },
        ),
        (
            "hybrid: v2 without the memory controller falls back to v1",
            |m| {
                m.write("proc/meminfo", MEMINFO)
                    .write("proc/self/mountinfo", HYBRID_MOUNTS)
                    .write("proc/self/cgroup", "4:memory:/x\n3:cpu:/\n0::/\n")
                    .write("sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n")
                    .write("sys/fs/cgroup/memory/x/memory.limit_in_bytes", &(GIB).to_string())
                    .write("sys/fs/cgroup/memory/x/memory.usage_in_bytes", "0");
            },
            Expected {
                version: Some(CgroupVersion::V1),
                dir: Some("sys/fs/cgroup/memory/x"),
                cgroup_limit: Some(GIB),
                limit_text: Some("1073741824"),
                usage: Some(0),
                limit: Some(GIB),
                usable: Some(GIB),
                usable_from: UsableFrom::CgroupHeadroom,
            },
        ),
        (
            "a container: the mount's root is the runner's cgroup",
            |m| {
                m.write("proc/meminfo", MEMINFO)
                    .write(
                        "proc/self/mountinfo",
                        "35 31 0:32 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n",
                    )
                    .write("proc/self/cgroup", "4:memory:/docker/abc\n")
                    .write("sys/fs/cgroup/memory/memory.limit_in_bytes", &(GIB).to_string());
            },
            Expected {
                version: Some(CgroupVersion::V1),
                dir: Some("sys/fs/cgroup/memory"),
                cgroup_limit: Some(GIB),
                limit_text: Some("1073741824"),
                usage: None,
                limit: Some(GIB),
                usable: Some(GIB),
                usable_from: UsableFrom::CgroupLimit,
            },
        ),
        (
            "no mountinfo: the conventional layout is assumed",
            |m| {
                m.write("proc/meminfo", MEMINFO)
                    .write("proc/self/cgroup", "4:memory:/y\n")
                    .write("sys/fs/cgroup/memory/y/memory.limit_in_bytes", &(2 * GIB).to_string())
                    .write("sys/fs/cgroup/memory/y/memory.usage_in_bytes", &(GIB).to_string());
            },
            Expected {
                version: Some(CgroupVersion::V1),
                dir: Some("sys/fs/cgroup/memory/y"),
                cgroup_limit: Some(2 * GIB),
                limit_text: Some("2147483648"),
                usage: Some(GIB),
                limit: Some(2 * GIB),
                usable: Some(GIB),
                usable_from: UsableFrom::CgroupHeadroom,
            },
        ),
        (
            "no cgroup files at all",
            |m| {
                m.write("proc/meminfo", MEMINFO);
            },
            none,
        ),
        (
            "an unreadable limit degrades to MemAvailable",
            |m| {
                v2(m, "/u");
                m.unreadable("sys/fs/cgroup/u/memory.max").write("sys/fs/cgroup/u/memory.current", "10");
            },
            Expected {
                version: Some(CgroupVersion::V2),
                dir: Some("sys/fs/cgroup/u"),
                usage: Some(10),
                ..none
            },
        ),
        (
            "a garbled limit is unreadable too",
            |m| {
                v2(m, "/u");
                m.write("sys/fs/cgroup/u/memory.max", "lots").write("sys/fs/cgroup/u/memory.current", "10");
            },
            Expected {
                version: Some(CgroupVersion::V2),
                dir: Some("sys/fs/cgroup/u"),
                usage: Some(10),
                ..none
            },
        ),
        (
            "an unreadable usage still bounds usable by the limit",
            |m| {
                v2(m, "/u");
                m.write("sys/fs/cgroup/u/memory.max", &(GIB).to_string())
                    .unreadable("sys/fs/cgroup/u/memory.current");
            },
            Expected {
                version: Some(CgroupVersion::V2),
                dir: Some("sys/fs/cgroup/u"),
                cgroup_limit: Some(GIB),
                limit_text: Some("1073741824"),
                usage: None,
                limit: Some(GIB),
                usable: Some(GIB),
                usable_from: UsableFrom::CgroupLimit,
            },
        ),
        (
            "unreadable meminfo: only the cgroup is known",
            |m| {
                v2(m, "/u");
                m.unreadable("proc/meminfo")
                    .write("sys/fs/cgroup/u/memory.max", &(GIB).to_string())
                    .write("sys/fs/cgroup/u/memory.current", &(256 * MIB).to_string());
            },
            Expected {
                version: Some(CgroupVersion::V2),
                dir: Some("sys/fs/cgroup/u"),
                cgroup_limit: Some(GIB),
                limit_text: Some("1073741824"),
                usage: Some(256 * MIB),
                limit: Some(GIB),
                usable: Some(768 * MIB),
                usable_from: UsableFrom::CgroupHeadroom,
            },
        ),
        (
            "an old kernel without MemAvailable: MemTotal",
            |m| {
                m.write("proc/meminfo", "MemTotal:  1024 kB\nMemFree:  10 kB\n");
            },
            Expected {
                limit: Some(1024 * KIB),
                usable: Some(1024 * KIB),
                usable_from: UsableFrom::MemTotal,
                ..none
            },
        ),
        (
            "nothing readable at all",
            |_| {},
            Expected { limit: None, usable: None, usable_from: UsableFrom::Unknown, ..none },
        ),
    ];
    for (name, setup, expected) in cases {
        let machine = FakeMachine::new();
        setup(&machine);
        assert_eq!(summary(&machine, &probe(&machine)), expected, "{name}");
    }
}

#[test]
fn meminfo_values_are_bytes() {
    assert_eq!(meminfo_value(MEMINFO, "MemTotal"), Some(TOTAL));
    assert_eq!(meminfo_value(MEMINFO, "MemAvailable"), Some(AVAILABLE));
    assert_eq!(meminfo_value("HugePages_Total:       4\n", "HugePages_Total"), Some(4));
    assert_eq!(meminfo_value("MemTotalX: 1 kB\nMemTotal: x kB\n", "MemTotal"), None);
    assert_eq!(meminfo_value("MemTotal: 1 MB\n", "MemTotal"), None);
}

#[test]
fn the_files_of_the_binding_level_are_named() {
    let machine = FakeMachine::new();
    v1(&machine, "/tp");
    machine.write("sys/fs/cgroup/memory/tp/memory.limit_in_bytes", "1073741824");
    let cgroup = probe(&machine).cgroup.expect("a cgroup");
    assert_eq!(cgroup.limit_file, machine.path("sys/fs/cgroup/memory/tp/memory.limit_in_bytes"));
    assert_eq!(cgroup.usage_file, machine.path("sys/fs/cgroup/memory/tp/memory.usage_in_bytes"));
    assert_eq!(cgroup.stat_file, machine.path("sys/fs/cgroup/memory/tp/memory.stat"));
}
