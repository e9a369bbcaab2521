//! Planning jobs from a phase's tests: commands, batches, chunks, doctest filters.

use std::sync::Arc;

use super::doctest::{DoctestBatch, doc_filters};
use super::plan::{chunk_counts, chunk_sizes, plan_jobs as plan_with};
use super::single::Single;
use super::*;
use crate::execute::TestLimits;
use crate::filter::{Action, PlannedTest};
use crate::model::{ListMethod, TargetKind, TestBinary, TestCase, TestList};
use crate::testing::{package, test_binary, test_case as case};

fn binary(id: &str, kind: TargetKind, method: ListMethod, exe: Option<&str>) -> TestBinary {
    TestBinary {
        executable: exe.map(Into::into),
        env: Arc::new(vec![("K".into(), "V".into())]),
        list_method: method,
        ..test_binary(id, "p", kind, &package("p", "p", "/p"))
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
        doctest_command: Some(doc_command(&[])),
        ..TestList::default()
    }
}

/// The list's doctest command: `cargo ARGS`, run where the runner runs (`/runner`).
fn doc_command(args: &[&str]) -> RunCommand {
    let args = args.iter().map(|a| a.to_string()).collect();
    RunCommand { program: "cargo".into(), args, cwd: "/runner".into(), env: Arc::new(Vec::new()) }
}

/// The member at `pos` of a libtest batch as a job of its own.
fn member_alone(job: &Job, pos: usize) -> Option<Job> {
    let JobKind::Libtest(batch) = &job.kind else { return None };
    batch.member_alone(job, pos)
}

/// The members at `positions` of a libtest batch as a batch of their own.
fn sub_batch(job: &Job, positions: &[usize]) -> Option<Job> {
    let JobKind::Libtest(batch) = &job.kind else { return None };
    batch.sub_batch(job, positions)
}

fn run(test: usize, ignored: bool) -> PlannedTest {
    PlannedTest { test: TestIdx(test), action: Action::Run { ignored } }
}

fn limits(_: TestIdx) -> TestLimits {
    TestLimits::with_timeout(Duration::from_secs(5))
}

fn plan_jobs(list: &TestList, planned: &[PlannedTest], jobs: usize, timeout: Duration) -> Vec<Job> {
    plan_with(list, planned, jobs, timeout, &limits)
}

#[test]
fn jobs_follow_planned_order_with_one_doctest_batch() {
    let mut list = sample_list();
    list.doctest_command = Some(doc_command(&["test", "--doc", "--workspace"]));
    let skip = PlannedTest { test: TestIdx(2), action: Action::Skip { reason: "ignored".into() } };
    let planned = [run(0, false), run(1, false), skip, run(3, true), run(4, false)];
    let jobs = plan_jobs(&list, &planned, 8, Duration::from_secs(5));

    assert_eq!(jobs.len(), 3);
    let single = jobs[0].command.as_ref().expect("command");
    assert_eq!(single.program, "/t/p-1");
    assert_eq!(single.args, ["--exact", "a", "--nocapture", "--test-threads", "1"]);
    assert_eq!(single.env.as_slice(), [("K".to_owned(), "V".to_owned())]);
    assert_eq!(jobs[0].kind, JobKind::Single(Single { filtered: true }));

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
    assert_eq!(batch.cwd, "/runner", "the doctest command runs where discovery said");

    let opaque = jobs[2].command.as_ref().expect("command");
    assert!(opaque.args.is_empty());
    assert_eq!(jobs[2].kind, JobKind::Single(Single { filtered: false }));
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
    list.doctest_command = Some(doc_command(&["test", "--doc"]));
    let jobs = plan_jobs(&list, &[run(5, false), run(0, false), run(1, false)], 4, Duration::from_secs(5));

    assert_eq!(jobs.len(), 2, "one doctest batch for both libraries: {jobs:#?}");
    assert_eq!(jobs[0].tests, [TestIdx(5), TestIdx(1)], "placed where its first doctest is planned");
    let JobKind::Doctest(DoctestBatch { members }) = &jobs[0].kind else { panic!("{:?}", jobs[0].kind) };
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
    let batch = |_: TestIdx| TestLimits { batch: true, ..TestLimits::with_timeout(Duration::from_secs(5)) };
    let whole = plan_with(&list, &[run(5, false), run(6, false)], 4, Duration::from_secs(5), &batch);
    assert_eq!(whole.len(), 1, "one process for the whole binary: {whole:#?}");
    assert_eq!(whole[0].command.as_ref().expect("command").args, ["--test-threads", "1"]);
    let alone = member_alone(&whole[0], 0).expect("a member alone");
    assert_eq!(alone.command.as_ref().expect("command").args, ["--exact", "one"], "no libtest-only flags");
    assert!(sub_batch(&whole[0], &[0, 1]).is_none(), "a harness takes one filter");

    let part = plan_with(&list, &[run(6, true)], 4, Duration::from_secs(5), &batch);
    assert_eq!(part.len(), 1);
    assert_eq!(part[0].kind, JobKind::Single(Single { filtered: true }));
    assert_eq!(part[0].command.as_ref().expect("command").args, ["--exact", "two", "--include-ignored"]);
}

#[test]
fn ignored_tests_get_ignored_flag_and_batches_fit_the_job_count() {
    let list = sample_list();
    let planned = [run(2, true), run(1, false), run(3, false)];
    let jobs = plan_jobs(&list, &planned, 1, Duration::from_secs(5));
    assert_eq!(
        jobs[0].command.as_ref().expect("command").args,
        ["--exact", "b", "--nocapture", "--test-threads", "1", "--ignored"]
    );
    assert_eq!(jobs[1].demand, Demand { slots: 1, memory: TestLimits::DEFAULT_ESTIMATE, exclusive: false });
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
    let jobs = plan_jobs(&list, &[run(1, false)], 2, Duration::from_secs(5));
    assert_eq!(
        jobs[0].command.as_ref().expect("command").args,
        ["--", "--test-threads", "1", "--color", "never"]
    );
    let jobs = plan_jobs(&list, &[run(1, true)], 2, Duration::from_secs(5));
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
    let args_of = |planned: &[PlannedTest]| {
        let jobs = plan_with(&list, planned, 1, Duration::from_secs(5), &batch);
        jobs[0].command.as_ref().expect("command").args.join(" ")
    };
    let pretty = "--test-threads 1 --color never --format pretty";

    // `a` and `b` are all that `p` runs without `--include-ignored`.
    assert_eq!(args_of(&[run(0, false), run(2, false), run(6, false)]), pretty);
    // With the ignored test too: all of `p`'s tests.
    assert_eq!(
        args_of(&[run(0, false), run(2, false), run(5, true), run(6, false)]),
        format!("{pretty} --include-ignored")
    );
    // A part of the binary is named.
    assert_eq!(args_of(&[run(0, false), run(6, false)]), format!("--exact a {pretty}"));
    assert_eq!(
        args_of(&[run(0, false), run(5, true), run(6, false)]),
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
    let jobs = plan_with(&list, &planned, 1, Duration::from_secs(5), &batch);

    // One job: at least two batches — `custom`, a custom harness's whole binary, is one
    // of them (it is never cut); `x` is opaque.
    let summary: Vec<(Vec<usize>, &str)> = jobs
        .iter()
        .map(|j| {
            let kind = match j.kind {
                JobKind::Single(_) => "single",
                JobKind::Libtest(_) | JobKind::Doctest(_) => "batch",
            };
            (j.tests.iter().map(|t| t.0).collect(), kind)
        })
        .collect();
    assert_eq!(summary, [(vec![0, 2, 5], "batch"), (vec![4], "single"), (vec![6], "batch")]);
    let args = &jobs[0].command.as_ref().expect("command").args;
    // The whole of binary 0 in one chunk: no names needed.
    let expected = "--test-threads 1 --color never --format pretty --include-ignored";
    assert_eq!(args.join(" "), expected);
    assert_eq!(jobs[0].demand, Demand { slots: 1, memory: TestLimits::DEFAULT_ESTIMATE, exclusive: false });
    assert_eq!(jobs[0].command.as_ref().expect("command").env.as_slice(), [("K".to_owned(), "V".to_owned())]);

    let alone = member_alone(&jobs[0], 1).expect("a member");
    assert_eq!(
        alone.command.as_ref().expect("command").args,
        ["--exact", "b", "--nocapture", "--test-threads", "1", "--ignored"]
    );
    assert_eq!(
        (alone.tests.as_slice(), alone.kind.clone()),
        ([TestIdx(2)].as_slice(), JobKind::Single(Single { filtered: true }))
    );
    let rest = sub_batch(&jobs[0], &[1]).expect("a batch");
    assert_eq!(rest.command.as_ref().expect("command").args[..3], ["--exact", "b", "--test-threads"]);
    assert!(member_alone(&jobs[1], 0).is_none(), "not a batch");
}

#[test]
fn a_binary_without_executable_cannot_start() {
    let mut list = sample_list();
    list.binaries[0].executable = None;
    let jobs = plan_jobs(&list, &[run(0, false)], 2, Duration::from_secs(5));
    assert!(jobs[0].command.is_err());
}

#[test]
fn each_kind_answers_the_schedulers_questions() {
    let list = sample_list();
    let own_limit = |_: TestIdx| TestLimits { memory_limit: Some(3), ..limits(TestIdx(0)) };
    let batch = |_: TestIdx| TestLimits { batch: true, ..own_limit(TestIdx(0)) };
    let single = plan_with(&list, &[run(0, false)], 2, Duration::from_secs(5), &own_limit);
    let libtest = plan_with(&list, &[run(0, false), run(2, false)], 1, Duration::from_secs(5), &batch);
    let doctest = plan_with(&list, &[run(1, false)], 2, Duration::from_secs(5), &own_limit);
    let memory = crate::execute::MemoryOptions { budget: Some(10), default_limit: Some(5), live: None };
    // sequential, may run early, may inherit output, stoppable for pressure, memory limit
    type Answers = (bool, bool, bool, bool, Option<u64>);
    let answers = |job: &Job| -> Answers {
        let rules = job.rules();
        (
            rules.sequential(),
            rules.may_run_early(),
            rules.may_inherit_output(),
            rules.stoppable_for_pressure(),
            rules.memory_limit(job.memory_limit, &memory),
        )
    };
    // A single test is judged by its own limit; a libtest batch by the default one (its
    // running test is then judged alone); a doctest batch by none.
    assert_eq!(answers(&single[0]), (false, false, true, true, Some(3)));
    assert_eq!(answers(&libtest[0]), (true, false, false, true, Some(5)));
    assert_eq!(answers(&doctest[0]), (false, true, false, false, None));
}
