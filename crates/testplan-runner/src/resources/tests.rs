//! Whole probes of fake machines, and of the real one.

use std::time::{Duration, Instant};

use super::fake_tree::{FakeMachine, MEMINFO, V1_MOUNTS, V2_MOUNTS};
use super::*;

fn probe(machine: &FakeMachine, affinity: Option<usize>) -> Resources {
    let gpu_env = GpuEnv {
        cuda_visible_devices: None,
        path: None,
        dev_dir: machine.path("dev"),
        timeout: Duration::from_secs(5),
    };
    let probe = Probe {
        roots: machine.roots(),
        affinity,
        available_parallelism: Some(5),
        gpu_env,
        gpu: GpuChoice::default(),
    };
    probe.run()
}

type Setup = fn(&FakeMachine);

#[test]
fn cpu_probe_table() {
    let v1: Setup = |m| {
        m.write("proc/self/mountinfo", V1_MOUNTS)
            .write("proc/self/cgroup", "4:cpu,cpuacct:/tp\n5:memory:/tp\n");
    };
    let v2: Setup = |m| {
        m.write("proc/self/mountinfo", V2_MOUNTS).write("proc/self/cgroup", "0::/a/b\n");
    };
    /// Name, layout, files, affinity, expected count, source and quota file.
    type Case = (&'static str, Setup, Setup, Option<usize>, usize, CpuSource, Option<&'static str>);
    let cases: Vec<Case> = vec![
        (
            "v1 quota of 1.5 CPUs on a co-mounted cpu,cpuacct",
            v1,
            |m| {
                m.write("sys/fs/cgroup/cpu,cpuacct/tp/cpu.cfs_quota_us", "150000\n")
                    .write("sys/fs/cgroup/cpu,cpuacct/tp/cpu.cfs_period_us", "100000\n");
            },
            Some(8),
            2,
            CpuSource::CgroupQuota,
            Some("sys/fs/cgroup/cpu,cpuacct/tp/cpu.cfs_quota_us"),
        ),
        (
            "v1 quota -1 is none",
            v1,
            |m| {
                m.write("sys/fs/cgroup/cpu,cpuacct/tp/cpu.cfs_quota_us", "-1\n")
                    .write("sys/fs/cgroup/cpu,cpuacct/tp/cpu.cfs_period_us", "100000\n");
            },
            Some(8),
            8,
            CpuSource::Affinity,
            Some("sys/fs/cgroup/cpu,cpuacct/tp/cpu.cfs_quota_us"),
        ),
        (
            "v2 max is none",
            v2,
            |m| {
                m.write("sys/fs/cgroup/a/b/cpu.max", "max 100000\n");
            },
            Some(2),
            2,
            CpuSource::Affinity,
            Some("sys/fs/cgroup/a/b/cpu.max"),
        ),
        (
            "nested v2: the parent's quota binds",
            v2,
            |m| {
                m.write("sys/fs/cgroup/a/b/cpu.max", "max 100000\n")
                    .write("sys/fs/cgroup/a/cpu.max", "300000 100000\n");
            },
            Some(16),
            3,
            CpuSource::CgroupQuota,
            Some("sys/fs/cgroup/a/cpu.max"),
        ),
        (
            "v2: a parent's quota applies where the runner's level has no cpu.max",
            v2,
            |m| {
                m.write("sys/fs/cgroup/a/b/cgroup.procs", "1\n")
                    .write("sys/fs/cgroup/a/cpu.max", "100000 100000\n");
            },
            Some(4),
            1,
            CpuSource::CgroupQuota,
            Some("sys/fs/cgroup/a/cpu.max"),
        ),
        ("v2 without the cpu controller", v2, |_| {}, Some(4), 4, CpuSource::Affinity, None),
        (
            "an unreadable cpu.max",
            v2,
            |m| {
                m.unreadable("sys/fs/cgroup/a/b/cpu.max");
            },
            Some(4),
            4,
            CpuSource::Affinity,
            None,
        ),
        (
            "a garbled cpu.max",
            v2,
            |m| {
                m.write("sys/fs/cgroup/a/b/cpu.max", "lots\n");
            },
            Some(4),
            4,
            CpuSource::Affinity,
            None,
        ),
        ("nothing but available_parallelism", |_| {}, |_| {}, None, 5, CpuSource::AvailableParallelism, None),
    ];
    for (name, layout, files, affinity, count, source, quota_file) in cases {
        let machine = FakeMachine::new();
        layout(&machine);
        files(&machine);
        let cpus = probe(&machine, affinity).cpus;
        let file =
            cpus.quota.as_ref().map(|q| q.file.strip_prefix(machine.root()).expect("inside").to_owned());
        assert_eq!((cpus.count, cpus.source, file), (count, source, quota_file.map(Into::into)), "{name}");
    }
}

#[test]
fn a_whole_fake_machine_probes_and_describes() {
    let machine = FakeMachine::new();
    machine
        .write("proc/meminfo", MEMINFO)
        .write("proc/self/mountinfo", V1_MOUNTS)
        .write("proc/self/cgroup", "5:memory:/tp\n4:cpu,cpuacct:/\n")
        .write("sys/fs/cgroup/memory/tp/memory.limit_in_bytes", "2147483648")
        .write("sys/fs/cgroup/memory/tp/memory.usage_in_bytes", "0")
        .write("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1")
        .write("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000");
    let resources = probe(&machine, Some(2));
    let root = machine.root().display().to_string();
    let lines: Vec<String> = describe(&resources).into_iter().map(|line| line.replace(&root, "")).collect();
    assert_eq!(
        lines,
        [
            "cpus: 2 (sched affinity; cgroup v1 quota none in /sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us)",
            "memory: 24.0 GiB total, 20.0 GiB available; cgroup v1 limit 2.0 GiB, 0 B charged (/sys/fs/cgroup/memory/tp/memory.limit_in_bytes)",
            "usable memory: 2.0 GiB (cgroup limit 2.0 GiB − 0 B working set)",
            "gpus: none (no nvidia-smi on PATH and no /dev/nvidia[0-9]+ device files)",
        ]
    );
    assert_eq!(
        default_jobs(&resources, DEFAULT_PER_TEST_ESTIMATE).reason,
        "jobs 2 (2 CPUs; 2.0 GiB usable / 1 GiB per test)"
    );
}

#[test]
fn fakes_can_be_limited_and_budgeted() {
    let limited = Resources::fake(2, 24 * GIB, 0).with_cgroup_limit(2 * GIB, GIB / 2);
    assert_eq!((limited.memory.limit, limited.memory.usable), (Some(2 * GIB), Some(3 * GIB / 2)));
    assert_eq!(limited.memory.usable_from, UsableFrom::CgroupHeadroom);
    let budgeted = limited.with_memory_budget(GIB);
    assert_eq!((budgeted.memory.usable, budgeted.memory.usable_from), (Some(GIB), UsableFrom::Budget));
}

#[test]
fn the_real_machine_probes_without_failing() {
    let resources = Resources::probe();
    assert!(resources.cpus.count >= 1);
    if cfg!(target_os = "linux") {
        assert!(resources.memory.total.is_some_and(|t| t > 0), "{:?}", resources.memory);
        assert!(MemoryWatch::system(&resources.memory).and_then(|mut w| w.sample()).is_some());
    }
}

#[test]
#[ignore = "manual: prints what this machine reports (run with --nocapture)"]
fn print_this_machine() {
    let resources = Resources::probe();
    for line in describe(&resources) {
        println!("{line}");
    }
    println!("{}", default_jobs(&resources, DEFAULT_PER_TEST_ESTIMATE));
    let sample = MemoryWatch::system(&resources.memory).and_then(|mut watch| watch.sample());
    println!("live: {sample:?}");
    println!("{}", serde_json::to_string_pretty(&resources).unwrap_or_default());
}

#[test]
#[ignore = "manual: measures MemoryWatch::sample (run with --release --nocapture)"]
fn measure_memory_watch() {
    let resources = Resources::probe();
    let mut watch = MemoryWatch::system(&resources.memory).expect("a watch");
    let rounds = 20_000;
    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(watch.sample());
    }
    let per_call = started.elapsed() / rounds;
    println!("MemoryWatch::sample: {per_call:?} per call ({:?})", watch.sample());
}

#[test]
#[ignore = "manual: measures tree_rss with ~200 processes (run with --release --nocapture)"]
fn measure_tree_rss() {
    use std::os::unix::process::CommandExt;
    let spawn = |group: i32| {
        std::process::Command::new("sleep").arg("30").process_group(group).spawn().expect("spawn sleep")
    };
    let mut leader = spawn(0);
    let group = i32::try_from(leader.id()).expect("pid");
    let mut children: Vec<_> = (0..49).map(|_| spawn(group)).collect();
    children.extend((0..150).map(|_| spawn(0)));
    let processes = std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit()))
                .count()
        })
        .unwrap_or(0);
    let rounds = 500;
    let started = Instant::now();
    let mut rss = TreeRss::default();
    for _ in 0..rounds {
        rss = std::hint::black_box(tree_rss(group));
    }
    let per_call = started.elapsed() / rounds;
    println!("tree_rss: {per_call:?} per call with {processes} processes in /proc; group {group}: {rss:?}");
    let mut scanner = TreeRssScanner::new();
    let first = Instant::now();
    let mut scanned = scanner.scan(&[group]);
    let first = first.elapsed();
    let started = Instant::now();
    for _ in 0..rounds {
        scanned = std::hint::black_box(scanner.scan(&[group]));
    }
    let per_scan = started.elapsed() / rounds;
    println!("TreeRssScanner::scan: first pass {first:?}, then {per_scan:?} per pass: {scanned:?}");
    let outside = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(scanner.scan(&[i32::MAX]));
    }
    println!("TreeRssScanner::scan of an empty group: {:?} per pass", outside.elapsed() / rounds);
    for child in children.iter_mut().chain(std::iter::once(&mut leader)) {
        let _ = child.kill();
        let _ = child.wait();
    }
    assert_eq!(rss.processes, 50);
    assert_eq!(scanned[0].processes, 50);
}
