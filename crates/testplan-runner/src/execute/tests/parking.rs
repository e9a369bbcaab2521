//! Jobs whose process is made ahead of their start (`process::Parker`, with containment):
//! a parked process runs nothing of its test before the job starts, a job that never
//! starts leaves no process and no cgroup behind, and every job still runs in a cgroup of
//! its own. They need a writable memory cgroup and skip, saying why, where there is none.

use std::sync::{Arc, Mutex, MutexGuard};

use super::{Fixture, options, run};
use crate::events::{StopReason, TestStatus};
use crate::platform::containment::{Containment, ContainmentMode};
use crate::resources::MemoryInfo;

const GIB: u64 = 1 << 30;

/// One run group per process at a time: its name is `testplan-<pid>`, and job groups are
/// named by job ids that every run starts from 0.
static RUN_GROUP: Mutex<()> = Mutex::new(());

/// Cgroup containment for a run (held with the lock that makes it this process's only
/// one), or why there is none here.
fn containment() -> Result<(Arc<Containment>, MutexGuard<'static, ()>), String> {
    let guard = RUN_GROUP.lock().unwrap_or_else(|e| e.into_inner());
    let memory = MemoryInfo::from_parts(Some(4 * GIB), Some(4 * GIB), None);
    let containment = Containment::setup(ContainmentMode::Cgroup, &memory).map_err(|e| e.to_string())?;
    Ok((Arc::new(containment), guard))
}

/// Containment (see [`containment`]) and an empty fixture; `None`, saying why, where no
/// memory cgroup can be made.
fn setup() -> Option<(Arc<Containment>, MutexGuard<'static, ()>, Fixture)> {
    match containment() {
        Ok((containment, guard)) => Some((containment, guard, Fixture::new())),
        Err(why) => {
            eprintln!("skipped: no writable memory cgroup here: {why}");
            None
        }
    }
}

/// The `job-*` groups left in the run's group (the directory `describe` names).
fn job_groups_left(containment: &Containment) -> Vec<String> {
    let described = containment.describe();
    let dir = described.split(", ").next().and_then(|s| s.split(" (").nth(1)).unwrap_or_default();
    let entries = std::fs::read_dir(dir).map(|e| e.flatten().collect::<Vec<_>>()).unwrap_or_default();
    entries
        .iter()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("job-"))
        .collect()
}

#[test]
fn a_parked_job_that_never_starts_runs_nothing_and_leaves_nothing() {
    let Some((containment, _one_run_group, mut fx)) = setup() else { return };
    let dir = fx.path();
    // With one slot, the tests after `fails` are parked while it runs; none may run.
    let ran = |name: &str| format!("touch '{dir}/ran-{name}'; exit 0");
    let cases = [
        ("a", ran("a")),
        ("fails", "exit 101".to_owned()),
        ("c", ran("c")),
        ("d", ran("d")),
        ("e", ran("e")),
    ];
    let cases: Vec<(&str, &str)> = cases.iter().map(|(n, c)| (*n, c.as_str())).collect();
    fx.libtest_binary("bin", &cases);
    let opts = options(1).with(|o| {
        o.fail_fast = true;
        o.containment = Some(Arc::clone(&containment));
    });
    let run = run(&fx, &fx.run_all(), &opts);
    assert_eq!(run.status("a"), TestStatus::Passed);
    assert_eq!(run.status("fails"), TestStatus::Failed { exit_code: Some(101) });
    for name in ["c", "d", "e"] {
        assert_eq!(run.status(name), TestStatus::NotRun { reason: StopReason::FailFast }, "{name}");
        assert!(!dir.join(format!("ran-{name}")).exists(), "{name} ran, though never started");
    }
    assert!(dir.join("ran-a").exists());
    assert_eq!(job_groups_left(&containment), Vec::<String>::new());
}

#[test]
fn every_job_runs_in_a_cgroup_of_its_own_with_parking() {
    let Some((containment, _one_run_group, mut fx)) = setup() else { return };
    let dir = fx.path();
    // Each test writes the memory cgroup it runs in (cgroup v1 `N:memory:/path`, v2 `0::/path`).
    let names: Vec<String> = (0..10).map(|i| format!("t{i}")).collect();
    let bodies: Vec<String> = names
        .iter()
        .map(|n| format!("(grep ':memory:' /proc/self/cgroup || grep '^0::' /proc/self/cgroup) > '{dir}/cg-{n}'; exit 0"))
        .collect();
    let cases: Vec<(&str, &str)> = names.iter().zip(&bodies).map(|(n, b)| (n.as_str(), b.as_str())).collect();
    fx.libtest_binary("bin", &cases);
    let opts = options(2).with(|o| o.containment = Some(Arc::clone(&containment)));
    let run = run(&fx, &fx.run_all(), &opts);
    let mut groups: Vec<String> = Vec::new();
    for name in &names {
        assert_eq!(run.status(name), TestStatus::Passed, "{name}");
        let group = std::fs::read_to_string(dir.join(format!("cg-{name}"))).expect("cgroup written");
        assert!(group.contains("/job-"), "{name} ran outside a job group: {group}");
        groups.push(group);
    }
    groups.sort();
    groups.dedup();
    assert_eq!(groups.len(), names.len(), "jobs shared a cgroup: {groups:#?}");
    assert_eq!(job_groups_left(&containment), Vec::<String>::new());
}
