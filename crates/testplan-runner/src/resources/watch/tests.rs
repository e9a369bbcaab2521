//! The live memory watch over fake files that change between samples.

use super::*;
use crate::resources::cgroup::Cgroups;
use crate::resources::fake_tree::{FakeMachine, MEMINFO, V2_MOUNTS};
use crate::resources::memory::probe_memory;
use crate::resources::size::{GIB, KIB, MIB};

const TOTAL: u64 = 25_165_824 * KIB;
const AVAILABLE: u64 = 20_971_520 * KIB;

fn v2_machine(limit: &str, current: u64, stat: &str) -> FakeMachine {
    let machine = FakeMachine::new();
    machine
        .write("proc/meminfo", MEMINFO)
        .write("proc/self/mountinfo", V2_MOUNTS)
        .write("proc/self/cgroup", "0::/t\n")
        .write("sys/fs/cgroup/t/memory.max", limit)
        .write("sys/fs/cgroup/t/memory.current", &current.to_string())
        .write("sys/fs/cgroup/t/memory.stat", stat);
    machine
}

fn watch(machine: &FakeMachine) -> Option<MemoryWatch> {
    let roots = machine.roots();
    let memory = probe_memory(&roots.proc, &Cgroups::locate(&roots));
    MemoryWatch::open(&roots.proc, &memory)
}

fn sample(source: SampleSource, used: u64, limit: u64) -> Option<MemorySample> {
    Some(MemorySample { used, limit, source })
}

#[test]
fn a_limited_cgroup_is_watched_net_of_its_page_cache() {
    let machine = v2_machine(&(2 * GIB).to_string(), GIB, &format!("anon 1\ninactive_file {}\n", 256 * MIB));
    let mut watch = watch(&machine).expect("a watch");
    assert_eq!(watch.sample(), sample(SampleSource::Cgroup, 768 * MIB, 2 * GIB));
    machine.write("sys/fs/cgroup/t/memory.current", &(1900 * MIB).to_string());
    assert_eq!(watch.sample(), sample(SampleSource::Cgroup, 1644 * MIB, 2 * GIB));
    machine.write("sys/fs/cgroup/t/memory.stat", "anon 1\n");
    assert_eq!(watch.sample(), sample(SampleSource::Cgroup, 1900 * MIB, 2 * GIB));
}

#[test]
fn without_a_cgroup_limit_the_machine_is_watched() {
    let machine = v2_machine("max", GIB, "");
    let mut watch = watch(&machine).expect("a watch");
    assert_eq!(watch.sample(), sample(SampleSource::Machine, TOTAL - AVAILABLE, TOTAL));
    machine.write("proc/meminfo", "MemTotal: 1000 kB\nMemAvailable: 10 kB\n");
    assert_eq!(watch.sample(), sample(SampleSource::Machine, 990 * KIB, 1000 * KIB));
}

#[test]
fn the_view_with_less_headroom_wins() {
    let machine = v2_machine(&(30 * GIB).to_string(), GIB, "");
    let mut watch = watch(&machine).expect("a watch");
    assert_eq!(watch.sample(), sample(SampleSource::Machine, TOTAL - AVAILABLE, TOTAL));
}

#[test]
fn files_longer_than_the_buffer_are_read_whole() {
    let padding: String = (0..2000).map(|i| format!("padding_{i} {i}\n")).collect();
    let stat = format!("{padding}inactive_file {}\n", 100 * MIB);
    assert!(stat.len() > INITIAL_BUFFER * 2);
    let machine = v2_machine(&GIB.to_string(), 300 * MIB, &stat);
    let mut watch = watch(&machine).expect("a watch");
    assert_eq!(watch.sample(), sample(SampleSource::Cgroup, 200 * MIB, GIB));
}

#[test]
fn nothing_to_watch_is_none() {
    assert!(watch(&FakeMachine::new()).is_none());
    let machine = v2_machine("max", 0, "");
    let roots = machine.roots();
    let memory = probe_memory(&roots.proc, &Cgroups::locate(&roots));
    let mut watch = MemoryWatch::open(&roots.proc, &memory).expect("a watch");
    std::fs::write(machine.path("proc/meminfo"), "garbage").expect("write");
    assert_eq!(watch.sample(), None);
}

#[test]
fn samples_know_their_headroom() {
    let s = MemorySample { used: 3, limit: 4, source: SampleSource::Machine };
    assert_eq!((s.headroom(), s.used_fraction()), (1, 0.75));
    let over = MemorySample { used: 5, limit: 4, source: SampleSource::Cgroup };
    assert_eq!(over.headroom(), 0);
}
