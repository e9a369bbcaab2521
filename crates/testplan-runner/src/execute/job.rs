//! Jobs: the unit the scheduler admits and starts. A job is one process — one test (its
//! exit status is its result) or a batch of tests reporting in libtest's text output —
//! with the resources it occupies while it runs: job slots, the memory estimate the budget
//! reserves for it, and whether it must run alone.
//!
//! Batches come in two kinds:
//! - libtest batches: `BIN --exact A B C ... --test-threads 1`, a chunk of one binary's
//!   tests that may share a process ([`TestLimits::batch`]); one slot, since the tests run
//!   one after another (see [`chunk_sizes`] for how binaries are cut into chunks);
//! - doctest batches: a phase's doctests, of every selected library, through one `cargo
//!   test --doc` with the user's package selection (so features unify as in the build and
//!   nothing is rebuilt), on as many threads (and slots) as the phase's jobs allow. Its
//!   members are keyed by crate and name ([`doc_member_key`]): cargo prints `Doc-tests
//!   CRATE` before each library's results.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use camino::Utf8PathBuf;

use super::TestLimits;
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

/// Identifies a job within one run (unique among the scheduler's jobs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct JobId(pub usize);

/// What a job occupies while it runs. Admission checks it against what is free.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Demand {
    /// Job slots (`-j` units): 1 for a test process or a libtest batch, the thread count
    /// for a doctest batch.
    pub slots: usize,
    /// Memory estimate in bytes, reserved from the budget while it runs.
    pub memory: u64,
    /// Runs alone: starts only when nothing else runs, and nothing starts beside it.
    pub exclusive: bool,
}

impl Demand {
    /// One slot, `memory` bytes, not exclusive.
    #[cfg(test)]
    pub fn single(memory: u64) -> Self {
        Demand { slots: 1, memory, exclusive: false }
    }
}

/// A process to start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CommandSpec {
    /// The executable.
    pub program: Utf8PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Working directory.
    pub cwd: Utf8PathBuf,
    /// Variables added to the inherited environment.
    pub env: Arc<Vec<(String, String)>>,
}

/// One test of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BatchMember {
    /// Its name as the harness prints it.
    pub name: String,
    /// `#[ignore]`d, selected to run.
    pub ignored: bool,
    /// Its own timeout (libtest batches: the watchdog of the running test).
    pub timeout: Duration,
    /// Its memory estimate.
    pub memory: u64,
    /// Of a libtest binary (`false`: a custom harness, which gets only the arguments
    /// `cargo test` would give it).
    pub libtest: bool,
}

/// How a job's output and exit status map to test results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum JobKind {
    /// One test per process; the exit status is the result.
    Single {
        /// The process is a libtest-style harness run with `--exact NAME`, so `running 0
        /// tests` means the test was not found.
        filtered: bool,
    },
    /// Many tests in one process, each result parsed from libtest's text output.
    Batch {
        /// The tests, parallel to [`Job::tests`].
        members: Vec<BatchMember>,
        /// rustdoc batches (several threads, no starts; a failure section says how the
        /// doctest's executable ended); otherwise a sequential libtest batch.
        doctest: bool,
    },
}

impl JobKind {
    /// The harness name of the batch member at `pos`.
    pub fn name(&self, pos: usize) -> Option<&str> {
        match self {
            JobKind::Batch { members, .. } => members.get(pos).map(|m| m.name.as_str()),
            JobKind::Single { .. } => None,
        }
    }

    /// A libtest batch (`--test-threads 1`), whose starts are known.
    pub fn is_sequential_batch(&self) -> bool {
        matches!(self, JobKind::Batch { doctest: false, .. })
    }
}

/// One process to run and the tests it decides.
#[derive(Clone, Debug)]
pub(crate) struct Job {
    /// Its id.
    pub id: JobId,
    /// The tests whose results it produces, in planned order.
    pub tests: Vec<TestIdx>,
    /// What it occupies.
    pub demand: Demand,
    /// How results are read.
    pub kind: JobKind,
    /// The process, or why none can be started.
    pub command: Result<CommandSpec, String>,
    /// Kill it when it makes no progress for this long (for a doctest batch: no result;
    /// for a libtest batch: between tests — a running test has its member timeout).
    pub timeout: Duration,
    /// Kill its process group when its tree RSS passes this many bytes; `None`: the run's
    /// default limit (doctest batches: none).
    pub memory_limit: Option<u64>,
    /// Which attempt this is (1 for the first run; `--retries` adds more).
    pub attempt: u32,
    /// Re-queued to run alone after a stop for memory pressure: it is not stopped for
    /// pressure again.
    pub alone: bool,
    /// The phase (the scheduler's lane) it belongs to.
    pub lane: usize,
    /// May start before its phase, at a lower CPU priority (doctest batches of later
    /// phases; see [`super::scheduler`]).
    pub background: bool,
}

impl Job {
    /// Whether the memory guard may stop it to re-run it alone: a single test not already
    /// re-run alone, or a libtest batch (its unfinished tests run again one per process).
    /// Doctest batches report results as they go and cannot be cut, so they are never
    /// stopped.
    pub fn stoppable_for_pressure(&self) -> bool {
        let kind_ok = matches!(self.kind, JobKind::Single { .. }) || self.kind.is_sequential_batch();
        kind_ok && !self.alone && !self.demand.exclusive
    }

    /// The member at `pos` of a libtest batch as a job of its own (`--exact NAME
    /// --nocapture`), with the batch's program, directory and environment.
    pub fn member_alone(&self, pos: usize, id: JobId) -> Option<Job> {
        let JobKind::Batch { members, doctest: false } = &self.kind else { return None };
        let member = members.get(pos)?;
        let command = self.command.as_ref().map_err(Clone::clone).map(|spec| CommandSpec {
            args: exact_args(&member.name, member.ignored, member.libtest),
            ..spec.clone()
        });
        Some(Job {
            id,
            tests: vec![*self.tests.get(pos)?],
            demand: Demand { slots: 1, memory: member.memory, exclusive: false },
            kind: JobKind::Single { filtered: true },
            command,
            timeout: member.timeout,
            memory_limit: None,
            attempt: self.attempt,
            alone: false,
            lane: self.lane,
            background: false,
        })
    }

    /// The members at `positions` of a libtest batch as a batch of their own (used for the
    /// tests that never started when their batch crashed on another test). `None` for a
    /// custom harness, which takes one filter only: its members then run one per process.
    pub fn sub_batch(&self, positions: &[usize], id: JobId) -> Option<Job> {
        let JobKind::Batch { members, doctest: false } = &self.kind else { return None };
        if members.iter().any(|m| !m.libtest) {
            return None;
        }
        let picked: Vec<(TestIdx, BatchMember)> =
            positions.iter().filter_map(|&p| Some((*self.tests.get(p)?, members.get(p)?.clone()))).collect();
        let spec = self.command.as_ref().ok()?;
        Some(libtest_batch(id, spec, picked, self.lane))
    }
}

/// Where doctest batches come from: `cargo test --doc` with the user's selection, as a
/// program and the arguments before `--`.
pub(crate) type DocCommand<'a> = dyn FnMut() -> (Utf8PathBuf, Vec<String>) + 'a;

/// A doctest batch member's key: rustdoc's name within its crate. One `cargo test --doc`
/// runs every selected library's doctests, and names may repeat across crates; the batch
/// parser qualifies each result with the crate of the `Doc-tests CRATE` line before it.
pub(crate) fn doc_member_key(crate_name: &str, name: &str) -> String {
    format!("{crate_name}: {name}")
}

/// The crate name rustdoc and cargo's `Doc-tests` line use for a doctest binary.
pub(crate) fn doc_crate_name(binary: &TestBinary) -> String {
    binary.target_name.replace('-', "_")
}

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
    doc_command: &mut DocCommand<'_>,
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
            Pending::Single { test, ignored, limits } => {
                out.push(single_job(list, JobId(out.len()), test, ignored, limits));
            }
            Pending::Batch { doctest: true, tests, .. } => {
                let memory = tests.iter().map(|(_, _, l)| l.memory_estimate).max().unwrap_or(0);
                let tests: Vec<(TestIdx, bool)> = tests.iter().map(|&(t, ignored, _)| (t, ignored)).collect();
                let mut job = doc_batch_job(list, JobId(out.len()), &tests, jobs, timeout, doc_command);
                // Each of its threads may run one doctest at a time.
                job.demand.memory = memory.saturating_mul(job.demand.slots as u64);
                out.push(job);
            }
            Pending::Batch { binary, doctest: false, tests } => {
                // Batchable binaries have an executable (see `is_batchable_binary`).
                let Ok(spec) = binary_command(&list.binaries[binary.0]) else { continue };
                let filter = if sizes.len() == 1 && is_whole_binary(list, binary, &tests) {
                    Filter::WholeBinary
                } else {
                    Filter::Names
                };
                let mut rest = tests.as_slice();
                for size in sizes {
                    let (chunk, after) = rest.split_at(size.min(rest.len()));
                    rest = after;
                    let members = chunk.iter().map(|&(t, ignored, l)| (t, member(list, t, ignored, l)));
                    out.push(libtest_batch_of(JobId(out.len()), &spec, members.collect(), 0, filter));
                }
            }
        }
    }
    out
}

enum Pending {
    Single { test: TestIdx, ignored: bool, limits: TestLimits },
    Batch { binary: BinaryIdx, doctest: bool, tests: Vec<(TestIdx, bool, TestLimits)> },
}

fn is_doctest_binary(binary: &TestBinary) -> bool {
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

/// The program, directory and environment of a test binary.
fn binary_command(binary: &TestBinary) -> Result<CommandSpec, String> {
    match &binary.executable {
        Some(program) => Ok(CommandSpec {
            program: program.clone(),
            args: Vec::new(),
            cwd: binary.cwd.clone(),
            env: Arc::clone(&binary.env),
        }),
        None => Err(format!("binary `{}` has no executable to run", binary.id)),
    }
}

/// `<bin> --exact NAME --nocapture [--test-threads 1] [--ignored]`, or `<bin>` alone for a binary that does not
/// list its tests (run once, like `cargo test` does).
fn single_job(list: &TestList, id: JobId, test: TestIdx, ignored: bool, limits: TestLimits) -> Job {
    let binary = list.binary_of(test);
    let opaque = binary.list_method == ListMethod::Opaque;
    let args =
        if opaque { Vec::new() } else { exact_args(&list.test(test).name, ignored, !binary.custom_harness) };
    let command = binary_command(binary).map(|spec| CommandSpec { args, ..spec });
    Job {
        id,
        tests: vec![test],
        demand: Demand { slots: 1, memory: limits.memory_estimate, exclusive: limits.serial },
        kind: JobKind::Single { filtered: !opaque },
        command,
        timeout: limits.timeout,
        memory_limit: limits.memory_limit,
        attempt: 1,
        alone: false,
        lane: 0,
        background: false,
    }
}

/// `libtest`: the binary is libtest's (not a custom harness), so `--test-threads 1` is
/// understood; with one test it changes nothing but spares libtest's probe of the CPU count
/// (cgroup files read in every process: ~0.3 ms of wall and 0.5 ms of CPU per test here).
/// A custom harness gets only what `cargo test` would pass it (libtest2-mimic rejects
/// `--nocapture`) and, for ignored tests, `cargo test -- --include-ignored`'s flag.
fn exact_args(name: &str, ignored: bool, libtest: bool) -> Vec<String> {
    let mut args = vec!["--exact".to_owned(), name.to_owned()];
    if libtest {
        args.extend(["--nocapture", "--test-threads", "1"].map(str::to_owned));
    }
    if ignored {
        args.push(if libtest { "--ignored" } else { "--include-ignored" }.to_owned());
    }
    args
}

/// `<bin> --exact A B C ... --test-threads 1 --color never --format pretty
/// [--include-ignored]`: the members run one after another, their output captured by
/// libtest (shown for failures). Its memory demand is the largest member's estimate: RSS
/// is per process, and one test runs at a time.
fn libtest_batch(id: JobId, spec: &CommandSpec, members: Vec<(TestIdx, BatchMember)>, lane: usize) -> Job {
    libtest_batch_of(id, spec, members, lane, Filter::Names)
}

/// How a libtest batch selects its members.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Filter {
    /// `--exact A B C ...`.
    Names,
    /// No names: the batch is everything the binary runs without a filter (all its tests,
    /// or all but the ignored ones). libtest checks each test against every name given,
    /// which cost ~2.7 ms per binary of 250 tests here; the ignored tests it then reports
    /// skipped are not members and their lines are dropped.
    WholeBinary,
}

fn libtest_batch_of(
    id: JobId,
    spec: &CommandSpec,
    members: Vec<(TestIdx, BatchMember)>,
    lane: usize,
    filter: Filter,
) -> Job {
    let (tests, members): (Vec<TestIdx>, Vec<BatchMember>) = members.into_iter().unzip();
    let mut args = Vec::new();
    if filter == Filter::Names {
        args.push("--exact".to_owned());
        args.extend(members.iter().map(|m| m.name.clone()));
    }
    if members.iter().all(|m| m.libtest) {
        args.extend(["--test-threads", "1", "--color", "never", "--format", "pretty"].map(str::to_owned));
    } else {
        // A custom harness: libtest2-mimic rejects `--format` (unstable) and `--color`
        // may be unknown; `--test-threads 1` is understood by libtest's look-alikes and
        // makes them print each start before the test runs.
        args.extend(["--test-threads", "1"].map(str::to_owned));
    }
    if members.iter().any(|m| m.ignored) {
        args.push("--include-ignored".to_owned());
    }
    let memory = members.iter().map(|m| m.memory).max().unwrap_or(0);
    let timeout = members.iter().map(|m| m.timeout).max().unwrap_or(Duration::ZERO);
    Job {
        id,
        tests,
        demand: Demand { slots: 1, memory, exclusive: false },
        kind: JobKind::Batch { members, doctest: false },
        command: Ok(CommandSpec { args, ..spec.clone() }),
        timeout,
        memory_limit: None,
        attempt: 1,
        alone: false,
        lane,
        background: false,
    }
}

/// `cargo test --doc ... -- FILTER... --test-threads T`: one process runs the package's
/// selected doctests on T threads, so it takes T slots.
fn doc_batch_job(
    list: &TestList,
    id: JobId,
    tests: &[(TestIdx, bool)],
    jobs: usize,
    timeout: Duration,
    doc_command: &mut DocCommand<'_>,
) -> Job {
    let names: Vec<String> = tests.iter().map(|&(t, _)| list.test(t).name.clone()).collect();
    let threads = jobs.min(names.len()).max(1);
    let include_ignored = tests.iter().any(|&(_, ignored)| ignored);
    let (program, prefix) = doc_command();
    let filters = doc_filters(&unselected_runnable(list, tests, include_ignored), &names);
    let args = prefix.into_iter().chain(doc_libtest_args(filters, threads, include_ignored)).collect();
    let members = tests
        .iter()
        .zip(names)
        .map(|(&(test, ignored), name)| {
            let name = doc_member_key(&doc_crate_name(list.binary_of(test)), &name);
            BatchMember { name, ignored, timeout, memory: 0, libtest: true }
        })
        .collect();
    Job {
        id,
        tests: tests.iter().map(|&(t, _)| t).collect(),
        demand: Demand { slots: threads, memory: 0, exclusive: false },
        kind: JobKind::Batch { members, doctest: true },
        // cargo gives doctests their run-time environment and working directory itself;
        // adding the per-binary variables would only leak one package's `CARGO_PKG_*` into
        // cargo's own process. cargo runs where the runner runs, like the build and the
        // doctest listing: a relative `--manifest-path` is relative to it.
        command: Ok(CommandSpec { program, args, cwd: runner_dir(), env: Arc::new(Vec::new()) }),
        timeout,
        memory_limit: None,
        attempt: 1,
        alone: false,
        lane: 0,
        background: false,
    }
}

/// The runner's working directory (`.` when it cannot be named).
fn runner_dir() -> Utf8PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|dir| Utf8PathBuf::from_path_buf(dir).ok())
        .unwrap_or_else(|| Utf8PathBuf::from("."))
}

/// The other doctests, of every library the `cargo test --doc` runs, that would run if a
/// filter matched them: ignored ones stay skipped unless the batch includes ignored tests.
fn unselected_runnable<'l>(
    list: &'l TestList,
    tests: &[(TestIdx, bool)],
    include_ignored: bool,
) -> Vec<&'l str> {
    let selected: HashSet<TestIdx> = tests.iter().map(|&(t, _)| t).collect();
    (0..list.tests.len())
        .map(TestIdx)
        .filter(|idx| !selected.contains(idx))
        .map(|idx| list.test(idx))
        .filter(|t| is_doctest_binary(&list.binaries[t.binary.0]) && (include_ignored || !t.ignored))
        .map(|t| t.name.as_str())
        .collect()
}

/// libtest filters that select `selected` without the doctests `others`, as far as
/// possible; none when there are no others to avoid.
///
/// rustdoc splits every `--test-args` value at whitespace, so a doctest name such as
/// `src/lib.rs - add (line 3)` cannot be passed whole, and `--exact` cannot match. Each
/// selected name contributes instead its whitespace-free piece that the fewest others
/// contain (the longest on a tie), as a substring filter. The filters may select more than
/// asked; results for tests not in the batch are ignored.
fn doc_filters(others: &[&str], selected: &[String]) -> Vec<String> {
    if others.is_empty() {
        return Vec::new();
    }
    let mut filters: Vec<String> = Vec::new();
    for name in selected {
        let cost = |piece: &&str| others.iter().filter(|other| other.contains(*piece)).count();
        let best = name
            .split_whitespace()
            // A piece starting with `-` would be read as an option.
            .filter(|piece| !piece.starts_with('-'))
            .min_by_key(|piece| (cost(piece), std::cmp::Reverse(piece.len())));
        if let Some(piece) = best.filter(|p| !filters.iter().any(|f| f == p)) {
            filters.push(piece.to_owned());
        }
    }
    filters
}

/// The libtest arguments after `--`. `--color never` because the output is parsed, whatever
/// colour setting cargo passes on.
fn doc_libtest_args(filters: Vec<String>, threads: usize, include_ignored: bool) -> Vec<String> {
    let mut args = vec!["--".to_owned()];
    args.extend(filters);
    args.extend(["--test-threads".to_owned(), threads.to_string(), "--color".to_owned(), "never".to_owned()]);
    if include_ignored {
        args.push("--include-ignored".to_owned());
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{PackageInfo, TestCase};

    fn binary(id: &str, kind: TargetKind, method: ListMethod, exe: Option<&str>) -> TestBinary {
        let package = Arc::new(PackageInfo {
            id: "p".into(),
            name: "p".into(),
            version: "0.1.0".into(),
            manifest_path: "/p/Cargo.toml".into(),
            root: "/p".into(),
        });
        TestBinary {
            id: id.into(),
            package,
            target_name: "p".into(),
            kind,
            executable: exe.map(Into::into),
            custom_harness: false,
            cwd: "/p".into(),
            env: Arc::new(vec![("K".into(), "V".into())]),
            list_method: method,
        }
    }

    fn case(binary: usize, name: &str) -> TestCase {
        TestCase {
            binary: BinaryIdx(binary),
            name: name.into(),
            ignored: false,
            ignore_reason: None,
            source: None,
        }
    }

    fn sample_list() -> TestList {
        TestList {
            binaries: vec![
                binary("p", TargetKind::Lib, ListMethod::LibtestJson, Some("/t/p-1")),
                binary("p::doc", TargetKind::Doc, ListMethod::Rustdoc, None),
                binary("p::bin/x", TargetKind::Bin, ListMethod::Opaque, Some("/t/x-1")),
            ],
            tests: vec![
                case(0, "a"),
                case(1, "src/lib.rs - add (line 3)"),
                case(0, "b"),
                case(1, "src/lib.rs - sub (line 9)"),
                case(2, "x"),
            ],
            ..TestList::default()
        }
    }

    fn run(test: usize, ignored: bool) -> PlannedTest {
        PlannedTest { test: TestIdx(test), action: Action::Run { ignored } }
    }

    fn limits(_: TestIdx) -> TestLimits {
        TestLimits::with_timeout(Duration::from_secs(5))
    }

    fn plan_jobs(
        list: &TestList,
        planned: &[PlannedTest],
        jobs: usize,
        timeout: Duration,
        doc: &mut DocCommand<'_>,
    ) -> Vec<Job> {
        super::plan_jobs(list, planned, jobs, timeout, &limits, doc)
    }

    #[test]
    fn jobs_follow_planned_order_with_one_doctest_batch() {
        let list = sample_list();
        let skip = PlannedTest { test: TestIdx(2), action: Action::Skip { reason: "ignored".into() } };
        let planned = [run(0, false), run(1, false), skip, run(3, true), run(4, false)];
        let mut doc = || ("cargo".into(), vec!["test".into(), "--doc".into(), "--workspace".into()]);
        let jobs = plan_jobs(&list, &planned, 8, Duration::from_secs(5), &mut doc);

        assert_eq!(jobs.len(), 3);
        let single = jobs[0].command.as_ref().expect("command");
        assert_eq!(single.program, "/t/p-1");
        assert_eq!(single.args, ["--exact", "a", "--nocapture", "--test-threads", "1"]);
        assert_eq!(single.env.as_slice(), [("K".to_owned(), "V".to_owned())]);
        assert_eq!(jobs[0].kind, JobKind::Single { filtered: true });

        assert_eq!(jobs[1].tests, [TestIdx(1), TestIdx(3)]);
        assert_eq!(
            jobs[1].demand,
            Demand { slots: 2, memory: 2 * TestLimits::DEFAULT_ESTIMATE, exclusive: false }
        );
        let batch = jobs[1].command.as_ref().expect("command");
        assert_eq!(
            batch.args,
            [
                "test",
                "--doc",
                "--workspace",
                "--",
                "--test-threads",
                "2",
                "--color",
                "never",
                "--include-ignored",
            ]
        );
        assert!(batch.env.is_empty());
        let here = std::env::current_dir().expect("cwd");
        assert_eq!(batch.cwd.as_std_path(), here, "cargo runs where the runner runs");

        let opaque = jobs[2].command.as_ref().expect("command");
        assert!(opaque.args.is_empty());
        assert_eq!(jobs[2].kind, JobKind::Single { filtered: false });
    }

    #[test]
    fn every_librarys_doctests_share_one_batch_keyed_by_crate() {
        let mut list = sample_list();
        list.binaries.push(TestBinary {
            target_name: "other-lib".into(),
            ..binary("o::doc", TargetKind::Doc, ListMethod::Rustdoc, None)
        });
        // The same rustdoc name in two crates, and a doctest of `o` left out of the phase.
        list.tests.extend([case(3, "src/lib.rs - add (line 3)"), case(3, "src/lib.rs - mul (line 7)")]);
        let mut doc = || ("cargo".into(), vec!["test".into(), "--doc".into()]);
        let jobs = plan_jobs(
            &list,
            &[run(5, false), run(0, false), run(1, false)],
            4,
            Duration::from_secs(5),
            &mut doc,
        );

        assert_eq!(jobs.len(), 2, "one doctest batch for both libraries: {jobs:#?}");
        assert_eq!(jobs[0].tests, [TestIdx(5), TestIdx(1)], "placed where its first doctest is planned");
        let JobKind::Batch { members, doctest: true } = &jobs[0].kind else { panic!("{:?}", jobs[0].kind) };
        let keys: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(keys, ["other_lib: src/lib.rs - add (line 3)", "p: src/lib.rs - add (line 3)"]);
        // `sub` (p) and `mul` (o) must not run: the filter keeps only `add`.
        let args = &jobs[0].command.as_ref().expect("command").args;
        assert_eq!(args[..4], ["test", "--doc", "--", "add"]);
    }

    #[test]
    fn a_custom_harness_batches_only_as_its_whole_binary() {
        let mut list = sample_list();
        let harness = TestBinary {
            custom_harness: true,
            ..binary("p::h", TargetKind::Test, ListMethod::CustomList, Some("/t/h-1"))
        };
        list.binaries.push(harness);
        list.tests.extend([case(3, "one"), case(3, "two")]);
        let batch =
            |_: TestIdx| TestLimits { batch: true, ..TestLimits::with_timeout(Duration::from_secs(5)) };
        let mut doc = || ("cargo".into(), Vec::new());
        let whole = super::plan_jobs(
            &list,
            &[run(5, false), run(6, false)],
            4,
            Duration::from_secs(5),
            &batch,
            &mut doc,
        );
        assert_eq!(whole.len(), 1, "one process for the whole binary: {whole:#?}");
        assert_eq!(whole[0].command.as_ref().expect("command").args, ["--test-threads", "1"]);
        let alone = whole[0].member_alone(0, JobId(9)).expect("a member alone");
        assert_eq!(
            alone.command.as_ref().expect("command").args,
            ["--exact", "one"],
            "no libtest-only flags"
        );
        assert!(whole[0].sub_batch(&[0, 1], JobId(10)).is_none(), "a harness takes one filter");

        let part = super::plan_jobs(&list, &[run(6, true)], 4, Duration::from_secs(5), &batch, &mut doc);
        assert_eq!(part.len(), 1);
        assert_eq!(part[0].kind, JobKind::Single { filtered: true });
        assert_eq!(part[0].command.as_ref().expect("command").args, ["--exact", "two", "--include-ignored"]);
    }

    #[test]
    fn ignored_tests_get_ignored_flag_and_batches_fit_the_job_count() {
        let list = sample_list();
        let planned = [run(2, true), run(1, false), run(3, false)];
        let mut doc = || ("cargo".into(), Vec::new());
        let jobs = plan_jobs(&list, &planned, 1, Duration::from_secs(5), &mut doc);
        assert_eq!(
            jobs[0].command.as_ref().expect("command").args,
            ["--exact", "b", "--nocapture", "--test-threads", "1", "--ignored"]
        );
        assert_eq!(
            jobs[1].demand,
            Demand { slots: 1, memory: TestLimits::DEFAULT_ESTIMATE, exclusive: false }
        );
        assert!(!jobs[1].command.as_ref().expect("command").args.contains(&"--include-ignored".to_owned()));
    }

    #[test]
    fn doc_filters_select_with_whitespace_free_pieces() {
        let all = [
            "src/lib.rs - (line 1)",
            "src/lib.rs - (line 13)",
            "src/lib.rs - add (line 3)",
            "src/lib.rs - add::more (line 30)",
            "src/point.rs - point::Point::distance (line 32)",
            "src/point.rs - point::Point::new (line 12)",
        ];
        let cases: &[(&[&str], &[&str])] = &[
            (&all, &[]),
            // No piece is unique: `add` also selects `add::more` (ignored when reported).
            (&["src/lib.rs - add (line 3)"], &["add"]),
            (&["src/lib.rs - add::more (line 30)"], &["add::more"]),
            (&["src/point.rs - point::Point::distance (line 32)"], &["point::Point::distance"]),
            (&["src/lib.rs - add (line 3)", "src/lib.rs - add::more (line 30)"], &["add", "add::more"]),
            (&["src/lib.rs - (line 13)"], &["13)"]),
            (
                &[
                    "src/point.rs - point::Point::distance (line 32)",
                    "src/point.rs - point::Point::new (line 12)",
                ],
                &["point::Point::distance", "point::Point::new"],
            ),
        ];
        for (selected, expected) in cases {
            let others: Vec<&str> = all.iter().copied().filter(|n| !selected.contains(n)).collect();
            let selected: Vec<String> = selected.iter().map(|s| s.to_string()).collect();
            assert_eq!(doc_filters(&others, &selected), *expected, "{selected:?}");
        }
    }

    #[test]
    fn unselected_ignored_doctests_need_no_filter() {
        let mut list = sample_list();
        list.tests[3].ignored = true;
        let mut doc = || ("cargo".into(), Vec::new());
        let jobs = plan_jobs(&list, &[run(1, false)], 2, Duration::from_secs(5), &mut doc);
        assert_eq!(
            jobs[0].command.as_ref().expect("command").args,
            ["--", "--test-threads", "1", "--color", "never"]
        );
        let jobs = plan_jobs(&list, &[run(1, true)], 2, Duration::from_secs(5), &mut doc);
        let args = &jobs[0].command.as_ref().expect("command").args;
        assert_eq!(args[..2], ["--", "add"]);
    }

    #[test]
    fn chunks_keep_every_slot_busy_within_the_argument_limits() {
        // (tests, name bytes) per binary; target batches; chunks per binary.
        type Case = (&'static [(usize, usize)], usize, &'static [usize]);
        let cases: &[Case] = &[
            (&[(250, 5000); 20], 4, &[1; 20]),
            (&[(10, 100); 8], 4, &[1; 8]),
            (&[(9, 90)], 4, &[4]),
            (&[(3, 30)], 8, &[3]),
            (&[(100, 1000), (10, 100)], 4, &[3, 1]),
            (&[(2500, 25_000)], 2, &[3]),
            (&[(500, 200_000)], 2, &[4]),
            (&[(0, 0), (4, 40)], 4, &[0, 4]),
        ];
        for &(binaries, target, expected) in cases {
            assert_eq!(chunk_counts(binaries, target), expected, "{binaries:?} {target}");
        }
        assert_eq!(chunk_sizes(9, 4), [3, 2, 2, 2]);
        assert_eq!(chunk_sizes(2, 5), [1, 1]);
        assert!(chunk_sizes(0, 3).is_empty());
    }

    #[test]
    fn a_batch_of_everything_a_binary_runs_passes_no_names() {
        let mut list = sample_list();
        list.tests.push(TestCase { ignored: true, ..case(0, "slow_one") });
        // A second batchable binary, so that one chunk per binary makes enough chunks.
        list.binaries.push(binary("q", TargetKind::Lib, ListMethod::LibtestJson, Some("/t/q-1")));
        list.tests.push(case(3, "other"));
        let batch = |_: TestIdx| TestLimits { batch: true, ..limits(TestIdx(0)) };
        let mut doc = || ("cargo".into(), Vec::new());
        let args_of = |planned: &[PlannedTest], doc: &mut DocCommand<'_>| {
            let jobs = super::plan_jobs(&list, planned, 1, Duration::from_secs(5), &batch, doc);
            jobs[0].command.as_ref().expect("command").args.join(" ")
        };
        let pretty = "--test-threads 1 --color never --format pretty";

        // `a` and `b` are all that `p` runs without `--include-ignored`.
        assert_eq!(args_of(&[run(0, false), run(2, false), run(6, false)], &mut doc), pretty);
        // With the ignored test too: all of `p`'s tests.
        assert_eq!(
            args_of(&[run(0, false), run(2, false), run(5, true), run(6, false)], &mut doc),
            format!("{pretty} --include-ignored")
        );
        // A part of the binary is named.
        assert_eq!(args_of(&[run(0, false), run(6, false)], &mut doc), format!("--exact a {pretty}"));
        assert_eq!(
            args_of(&[run(0, false), run(5, true), run(6, false)], &mut doc),
            format!("--exact a slow_one {pretty} --include-ignored")
        );
    }

    #[test]
    fn batchable_tests_become_chunks_of_their_binary() {
        let mut list = sample_list();
        list.tests.push(case(0, "c"));
        list.binaries.push(TestBinary { custom_harness: true, ..list.binaries[0].clone() });
        list.tests.push(case(3, "custom"));
        let batch = |_: TestIdx| TestLimits { batch: true, ..limits(TestIdx(0)) };
        let planned = [run(0, false), run(2, true), run(5, false), run(4, false), run(6, false)];
        let mut doc = || ("cargo".into(), Vec::new());
        let jobs = super::plan_jobs(&list, &planned, 1, Duration::from_secs(5), &batch, &mut doc);

        // One job: at least two batches — `custom`, a custom harness's whole binary, is one
        // of them (it is never cut); `x` is opaque.
        let summary: Vec<(Vec<usize>, &str)> = jobs
            .iter()
            .map(|j| {
                let kind = match j.kind {
                    JobKind::Single { .. } => "single",
                    JobKind::Batch { .. } => "batch",
                };
                (j.tests.iter().map(|t| t.0).collect(), kind)
            })
            .collect();
        assert_eq!(summary, [(vec![0, 2, 5], "batch"), (vec![4], "single"), (vec![6], "batch")]);
        let args = &jobs[0].command.as_ref().expect("command").args;
        // The whole of binary 0 in one chunk: no names needed.
        let expected = "--test-threads 1 --color never --format pretty --include-ignored";
        assert_eq!(args.join(" "), expected);
        assert_eq!(
            jobs[0].demand,
            Demand { slots: 1, memory: TestLimits::DEFAULT_ESTIMATE, exclusive: false }
        );
        assert_eq!(
            jobs[0].command.as_ref().expect("command").env.as_slice(),
            [("K".to_owned(), "V".to_owned())]
        );

        let alone = jobs[0].member_alone(1, JobId(9)).expect("a member");
        assert_eq!(
            alone.command.as_ref().expect("command").args,
            ["--exact", "b", "--nocapture", "--test-threads", "1", "--ignored"]
        );
        assert_eq!(
            (alone.tests.as_slice(), alone.kind.clone()),
            ([TestIdx(2)].as_slice(), JobKind::Single { filtered: true })
        );
        let rest = jobs[0].sub_batch(&[1], JobId(10)).expect("a batch");
        assert_eq!(rest.command.as_ref().expect("command").args[..3], ["--exact", "b", "--test-threads"]);
        assert!(jobs[1].member_alone(0, JobId(11)).is_none(), "not a batch");
    }

    #[test]
    fn a_binary_without_executable_cannot_start() {
        let mut list = sample_list();
        list.binaries[0].executable = None;
        let mut doc = || ("cargo".into(), Vec::new());
        let jobs = plan_jobs(&list, &[run(0, false)], 2, Duration::from_secs(5), &mut doc);
        assert!(jobs[0].command.is_err());
    }
}
