//! How a phase's planned tests become jobs: one job per test that needs its own process,
//! chunks of each binary's batchable tests ([`chunk_sizes`] says how binaries are cut),
//! and one doctest batch for every doctest of the phase.

use std::collections::HashMap;
use std::time::Duration;

use super::doctest::doc_batch_job;
use super::libtest::{Filter, batch_job};
use super::single::{binary_command, single_job};
use super::{BatchMember, Job, JobId};
use crate::execute::TestLimits;
use crate::filter::{Action, PlannedTest};
use crate::model::{BinaryIdx, ListMethod, TargetKind, TestBinary, TestIdx, TestList};

/// Most test names in one libtest batch.
pub(crate) const MAX_CHUNK_TESTS: usize = 1000;
/// Most bytes of test names in one libtest batch's arguments (well below the kernel's
/// limits on a command line).
pub(crate) const MAX_CHUNK_ARG_BYTES: usize = 100 * 1024;
/// A phase is cut into at least this many batches per job slot, when it has enough tests,
/// so that every slot stays busy and the last batch to finish is short.
pub(crate) const BATCHES_PER_JOB: usize = 2;

/// Turns the `Run` tests of `planned` into jobs, in planned order: one job per test that
/// needs its own process, chunks of each binary's batchable tests (placed where their
/// first test is planned), and one doctest batch for every doctest of the phase (placed
/// where its first doctest is planned). `limits` gives each test's
/// memory estimate, limit, timeout, seriality and whether it may share a process;
/// `timeout` is the doctest batches' watchdog. Job ids are positions in the list.
pub(crate) fn plan_jobs(
    list: &TestList,
    planned: &[PlannedTest],
    jobs: usize,
    timeout: Duration,
    limits: &dyn Fn(TestIdx) -> TestLimits,
) -> Vec<Job> {
    let mut plan: Vec<Pending> = Vec::new();
    // Batches by binary; every doctest binary shares one key (one `cargo test --doc`).
    let mut batch_of: HashMap<Option<BinaryIdx>, usize> = HashMap::new();
    for p in planned {
        let Action::Run { ignored } = p.action else { continue };
        let binary_idx = list.test(p.test).binary;
        let binary = &list.binaries[binary_idx.0];
        let doctest = is_doctest_binary(binary);
        let test_limits = limits(p.test);
        if doctest || (test_limits.batch && is_batchable_binary(binary)) {
            let key = (!doctest).then_some(binary_idx);
            let at = *batch_of.entry(key).or_insert_with(|| {
                plan.push(Pending::Batch { binary: binary_idx, doctest, tests: Vec::new() });
                plan.len() - 1
            });
            if let Pending::Batch { tests, .. } = &mut plan[at] {
                tests.push((p.test, ignored, test_limits));
            }
        } else {
            plan.push(Pending::Single { test: p.test, ignored, limits: test_limits });
        }
    }
    let plan = split_partial_harness_batches(list, plan);
    let chunks = chunk_plan(list, &plan, jobs);
    let mut out = Vec::new();
    for (pending, sizes) in plan.into_iter().zip(chunks) {
        match pending {
            Pending::Single { test, ignored, limits } => out.push(single_job(list, test, ignored, limits)),
            Pending::Batch { doctest: true, tests, .. } => out.push(doctest_job(list, &tests, jobs, timeout)),
            Pending::Batch { binary, doctest: false, tests } => {
                out.extend(libtest_jobs(list, binary, &tests, &sizes))
            }
        }
    }
    out.into_iter().enumerate().map(|(id, job)| Job { id: JobId(id), ..job }).collect()
}

/// The doctest batch of a phase: each of its threads may run one doctest at a time.
fn doctest_job(
    list: &TestList,
    tests: &[(TestIdx, bool, TestLimits)],
    jobs: usize,
    timeout: Duration,
) -> Job {
    let memory = tests.iter().map(|(_, _, l)| l.memory_estimate).max().unwrap_or(0);
    let tests: Vec<(TestIdx, bool)> = tests.iter().map(|&(t, ignored, _)| (t, ignored)).collect();
    let mut job = doc_batch_job(list, &tests, jobs, timeout);
    job.demand.memory = memory.saturating_mul(job.demand.slots as u64);
    job
}

/// A binary's batchable tests cut into chunks of `sizes`, dealt out in turn in planned
/// order (slowest first when durations are recorded), so every chunk gets its share of the
/// slow tests and the chunks end together; cut in runs, the slowest tests would all land in
/// the first chunk, which would then finish last.
fn libtest_jobs(
    list: &TestList,
    binary: BinaryIdx,
    tests: &[(TestIdx, bool, TestLimits)],
    sizes: &[usize],
) -> Vec<Job> {
    let spec = binary_command(&list.binaries[binary.0]);
    let filter = if sizes.len() == 1 && is_whole_binary(list, binary, tests) {
        Filter::WholeBinary
    } else {
        Filter::Names
    };
    dealt(tests, sizes)
        .into_iter()
        .map(|chunk| {
            let members = chunk.into_iter().map(|(t, ignored, l)| (t, member(list, t, ignored, l)));
            batch_job(&spec, members.collect(), filter)
        })
        .collect()
}

/// `items` dealt into `sizes.len()` chunks in turn: item `i` goes to chunk `i % n`. With
/// sizes from [`chunk_sizes`] (differing by at most one, larger first) every chunk gets
/// exactly its size.
fn dealt<T: Clone>(items: &[T], sizes: &[usize]) -> Vec<Vec<T>> {
    let mut chunks: Vec<Vec<T>> = sizes.iter().map(|&size| Vec::with_capacity(size)).collect();
    if chunks.is_empty() {
        return chunks;
    }
    let n = chunks.len();
    for (i, item) in items.iter().enumerate() {
        chunks[i % n].push(item.clone());
    }
    chunks
}

enum Pending {
    Single { test: TestIdx, ignored: bool, limits: TestLimits },
    Batch { binary: BinaryIdx, doctest: bool, tests: Vec<(TestIdx, bool, TestLimits)> },
}

pub(crate) fn is_doctest_binary(binary: &TestBinary) -> bool {
    binary.kind == TargetKind::Doc || binary.list_method == ListMethod::Rustdoc
}

/// Binaries whose tests can share a process: libtest's, and custom harnesses that list
/// their tests in libtest's format (libtest-mimic, libtest2-mimic, tester) — those run
/// libtest-like, but may take one filter only, so they share a process only when the batch
/// is the whole binary ([`split_partial_harness_batches`]).
fn is_batchable_binary(binary: &TestBinary) -> bool {
    matches!(binary.list_method, ListMethod::LibtestJson | ListMethod::LibtestTerse | ListMethod::CustomList)
        && binary.executable.is_some()
}

/// A custom harness's batch that is not its whole binary becomes one job per test: such a
/// harness takes one filter only (libtest-mimic's positional filter), so a subset cannot
/// be named in one process.
fn split_partial_harness_batches(list: &TestList, plan: Vec<Pending>) -> Vec<Pending> {
    let mut out = Vec::with_capacity(plan.len());
    for pending in plan {
        match pending {
            Pending::Batch { binary, doctest: false, tests }
                if list.binaries[binary.0].custom_harness && !is_whole_binary(list, binary, &tests) =>
            {
                out.extend(tests.into_iter().map(|(test, ignored, limits)| Pending::Single {
                    test,
                    ignored,
                    limits,
                }));
            }
            other => out.push(other),
        }
    }
    out
}

/// Whether `tests` (distinct tests of `binary`) are exactly what the binary runs without a
/// filter: every test when some are run as ignored (`--include-ignored`), else every test
/// that is not ignored.
fn is_whole_binary(list: &TestList, binary: BinaryIdx, tests: &[(TestIdx, bool, TestLimits)]) -> bool {
    let include_ignored = tests.iter().any(|&(_, ignored, _)| ignored);
    let runs = list.tests.iter().filter(|t| t.binary == binary && (include_ignored || !t.ignored)).count();
    tests.len() == runs && tests.iter().all(|&(t, _, _)| list.test(t).binary == binary)
}

fn member(list: &TestList, test: TestIdx, ignored: bool, limits: TestLimits) -> BatchMember {
    BatchMember {
        name: list.test(test).name.clone(),
        ignored,
        timeout: limits.timeout,
        memory: limits.memory_estimate,
        libtest: !list.binary_of(test).custom_harness,
    }
}

/// The chunk sizes of every planned libtest batch (empty for the other entries).
fn chunk_plan(list: &TestList, plan: &[Pending], jobs: usize) -> Vec<Vec<usize>> {
    let batches: Vec<(usize, usize)> = plan
        .iter()
        .map(|pending| match pending {
            Pending::Batch { doctest: false, tests, .. } => {
                let bytes = tests.iter().map(|&(t, _, _)| list.test(t).name.len() + 1).sum();
                (tests.len(), bytes)
            }
            _ => (0, 0),
        })
        .collect();
    let counts = chunk_counts(&batches, jobs.max(1) * BATCHES_PER_JOB);
    let whole = plan.iter().map(|pending| match pending {
        // A custom harness's batch is its whole binary, in one process (it cannot be cut).
        Pending::Batch { binary, doctest: false, .. } => list.binaries[binary.0].custom_harness,
        _ => false,
    });
    batches
        .iter()
        .zip(counts)
        .zip(whole)
        .map(|((&(tests, _), count), whole)| chunk_sizes(tests, if whole { 1 } else { count }))
        .collect()
}

/// How many chunks each binary is cut into, given (tests, bytes of names) per binary:
/// enough that no chunk has more than [`MAX_CHUNK_TESTS`] names or [`MAX_CHUNK_ARG_BYTES`]
/// bytes of them, and at least `target` chunks in all when there are that many tests —
/// further cuts go to the binary with the largest chunks, so chunk sizes stay even.
pub(crate) fn chunk_counts(binaries: &[(usize, usize)], target: usize) -> Vec<usize> {
    let mut counts: Vec<usize> = binaries
        .iter()
        .map(|&(tests, bytes)| {
            if tests == 0 {
                return 0;
            }
            let by_tests = tests.div_ceil(MAX_CHUNK_TESTS);
            // Names are cut evenly by count, so leave room for uneven lengths.
            let by_bytes = (bytes * 2).div_ceil(MAX_CHUNK_ARG_BYTES);
            by_tests.max(by_bytes).clamp(1, tests)
        })
        .collect();
    while counts.iter().sum::<usize>() < target {
        let largest = binaries
            .iter()
            .zip(&counts)
            .enumerate()
            .filter(|(_, ((tests, _), count))| **count < *tests)
            .max_by(|(_, ((a, _), ca)), (_, ((b, _), cb))| (a * **cb).cmp(&(b * **ca)));
        let Some((i, _)) = largest else { break };
        counts[i] += 1;
    }
    counts
}

/// `tests` cut into `count` chunks of sizes differing by at most one, in order.
pub(crate) fn chunk_sizes(tests: usize, count: usize) -> Vec<usize> {
    if tests == 0 || count == 0 {
        return Vec::new();
    }
    let count = count.min(tests);
    (0..count).map(|i| tests / count + usize::from(i < tests % count)).collect()
}

#[cfg(test)]
mod dealing_tests {
    use super::{chunk_sizes, dealt};

    #[test]
    fn tests_are_dealt_in_turn_so_the_slowest_spread_over_the_chunks() {
        // Slowest first, as the planner orders them when durations are recorded.
        let tests = ["9s", "8s", "7s", "1s", "1s", "1s", "0s"];
        let chunks = dealt(&tests, &chunk_sizes(tests.len(), 3));
        assert_eq!(chunks, [vec!["9s", "1s", "0s"], vec!["8s", "1s"], vec!["7s", "1s"]]);
        assert_eq!(chunks.iter().map(Vec::len).collect::<Vec<_>>(), chunk_sizes(tests.len(), 3));
        assert!(dealt(&tests, &[]).is_empty());
        assert_eq!(dealt(&tests[..1], &chunk_sizes(1, 4)), [vec!["9s"]]);
    }
}
