//! The planner's limits (precedence of `--timeout`, phases, markers and built-ins; history
//! and `--memory-limit`) and the default parallelism on faked machines.

use std::time::Duration;

use testplan_markers::{Config, ConfigOrigin, Selection};

use super::*;
use crate::history::Measurement;
use crate::model::{BinaryIdx, ListMethod, TestBinary, TestCase};
use crate::resources::MIB;
use crate::testing::{self, TestListBuilder};

fn binary(id: &str, kind: TargetKind) -> TestBinary {
    TestBinary {
        executable: Some("/t/p".into()),
        ..testing::test_binary(id, "p", kind, &testing::package("p", "p", "/p"))
    }
}

/// Unit tests `a`, `b`, `slow::long`, `requires_models::big`, `serial::alone` and an
/// integration test `it`.
fn list() -> TestList {
    TestListBuilder::new()
        .binary("p", TargetKind::Lib)
        .executable("/t/p")
        .tests(&["a", "b", "slow::long", "requires_models::big", "serial::alone"])
        .binary("p::it", TargetKind::Test)
        .executable("/t/p")
        .test("it")
        .build()
}

fn config(toml: &str) -> Config {
    Config::from_toml_str(toml, &ConfigOrigin::testplan_toml("testplan.toml")).expect("valid config").config
}

/// What a plan is made from in these tests: a configuration, the `run` profile's
/// selection (or another), no name filters, no GPU, 3 default jobs.
struct Inputs {
    config: Config,
    selection: Selection,
    names: TestFilter,
    gpu: GpuStatus,
}

impl Inputs {
    fn new(config: Config) -> Self {
        let selection = Selection::from_profile(&config.plan, config.profile("run").expect("run profile"));
        let gpu = GpuStatus { available: false, description: "none".into() };
        Inputs { config, selection, names: TestFilter::default(), gpu }
    }

    fn request(&self) -> PlanRequest<'_> {
        PlanRequest::new(
            &self.config,
            &self.selection,
            &self.names,
            &self.gpu,
            PlanLimits::with_default_jobs(3),
        )
    }
}

fn plan_with(config: &Config, timeout: Option<Duration>, jobs: Option<usize>) -> TestPlan {
    plan_isolated(config, timeout, jobs, None)
}

fn plan_isolated(
    config: &Config,
    timeout: Option<Duration>,
    jobs: Option<usize>,
    isolation: Option<Isolation>,
) -> TestPlan {
    let inputs = Inputs::new(config.clone());
    let mut request = inputs.request();
    request.limits = PlanLimits { jobs, timeout, isolation, ..request.limits };
    build(&list(), &request)
}

/// The plan of the default configuration with `history`, `--memory-limit` and `resources`.
fn plan_measured(
    config: &Config,
    jobs: Option<usize>,
    history: Option<&History>,
    (memory_limit, resources): (Option<u64>, Option<&Resources>),
) -> TestPlan {
    let inputs = Inputs::new(config.clone());
    let mut request = inputs.request();
    request.limits = PlanLimits { jobs, memory_limit, ..request.limits };
    let request = PlanRequest { history, resources, ..request };
    build(&list(), &request)
}

/// The names each phase runs, in order, with `focus`.
fn focused(focus: &Focus) -> Vec<(String, Vec<String>)> {
    let inputs = Inputs::new(config(""));
    let request = PlanRequest { focus: Some(focus), ..inputs.request() };
    let list = list();
    let plan = build(&list, &request);
    let phase_names = |p: &PhaseRun| p.planned.iter().map(|t| list.test(t.test).name.clone()).collect();
    plan.phases.iter().filter(|p| !p.planned.is_empty()).map(|p| (p.name.clone(), phase_names(p))).collect()
}

fn keys(names: &[(&str, &str)]) -> std::collections::HashSet<TestKey> {
    names.iter().map(|(b, n)| ((*b).to_owned(), (*n).to_owned())).collect()
}

fn in_phase(name: &str, tests: &[&str]) -> (String, Vec<String>) {
    (name.to_owned(), tests.iter().map(|t| (*t).to_owned()).collect())
}

#[test]
fn focus_selects_orders_and_resumes_within_the_plan() {
    let all = focused(&Focus::default());
    assert_eq!(all[0], in_phase("unit", &["a", "b", "serial::alone"]));
    let only = Focus { only: Some(keys(&[("p", "b"), ("p::it", "it")])), ..Focus::default() };
    assert_eq!(focused(&only), [in_phase("unit", &["b"]), in_phase("integration", &["it"])]);
    let first = Focus { first: keys(&[("p", "serial::alone"), ("p", "b")]), ..Focus::default() };
    assert_eq!(
        focused(&first)[0],
        in_phase("unit", &["b", "serial::alone", "a"]),
        "failed first, order kept"
    );
    let resume = Focus { resume_at: Some(("p".into(), "serial::alone".into())), ..Focus::default() };
    assert_eq!(focused(&resume)[0], in_phase("unit", &["serial::alone"]));
    assert_eq!(focused(&Focus { skip_resume: true, ..resume })[0], in_phase("integration", &["it"]));
    let gone = Focus { resume_at: Some(("p".into(), "removed".into())), ..Focus::default() };
    assert_eq!(focused(&gone), all, "a resume point no longer planned resumes nothing");
}

#[test]
fn keywords_also_match_the_binary_and_the_source_file() {
    let mut list = list();
    list.tests[0].source = Some(crate::model::SourceLocation { file: "src/parse.rs".into(), line: 3 });
    let selected = |k: &str| -> Vec<String> {
        let keywords = testplan_markers::KeywordExpr::parse(k).expect("keyword expression");
        let mut inputs = Inputs::new(config(""));
        inputs.selection = inputs.selection.and_keywords(keywords);
        let plan = build(&list, &inputs.request());
        plan.phases.iter().flat_map(|p| &p.planned).map(|t| list.test(t.test).name.clone()).collect()
    };
    assert_eq!(selected("::it"), ["it"], "the binary id p::it");
    assert_eq!(selected("parse.rs"), ["a"], "the source file");
    assert_eq!(selected("slow and long"), ["slow::long"]);
    assert!(selected("parse.rs and ::it").is_empty());
}

#[test]
fn slowest_first_orders_phases_with_several_jobs_by_recorded_duration() {
    let list = list();
    let unit_order = |plan: &TestPlan| -> Vec<String> {
        plan.phases[0].planned.iter().map(|p| list.test(p.test).name.clone()).collect()
    };
    let mut history = History::default();
    let took = |name: &str, secs: f64| Measurement {
        binary_id: "p".into(),
        name: name.into(),
        peak_rss: 1,
        duration_secs: secs,
    };
    history.merge(&[took("a", 1.0), took("serial::alone", 5.0)]);
    let inputs = Inputs::new(config(""));
    let ordered = |jobs: Option<usize>, slowest_first: bool| {
        let mut request = PlanRequest { history: Some(&history), slowest_first, ..inputs.request() };
        request.limits.jobs = jobs;
        build(&list, &request)
    };
    assert_eq!(unit_order(&ordered(None, false)), ["a", "b", "serial::alone"]);
    let plan = ordered(None, true);
    assert_eq!(unit_order(&plan), ["serial::alone", "a", "b"], "a and b share a batch: b goes with a");
    let alone = ordered(Some(1), true);
    assert_eq!(unit_order(&alone), ["a", "b", "serial::alone"], "one job: the order is kept");
}

fn limits_of(plan: &TestPlan, name: &str) -> TestLimits {
    let list = list();
    let test = TestIdx(list.tests.iter().position(|t| t.name == name).expect("test"));
    plan.phases
        .iter()
        .find_map(|p| p.limits.get(&test))
        .copied()
        .unwrap_or_else(|| panic!("no limits for {name}"))
}

fn phase<'p>(plan: &'p TestPlan, name: &str) -> &'p PhaseRun {
    plan.phases.iter().find(|p| p.name == name).expect("phase")
}

const MINUTE: Duration = Duration::from_secs(60);

#[test]
fn built_in_defaults() {
    let plan = plan_with(&config(""), None, None);
    let a = limits_of(&plan, "a");
    assert_eq!(
        a,
        TestLimits {
            memory_estimate: GIB,
            estimate_from: EstimateSource::Default,
            memory_limit: None,
            timeout: Duration::from_secs(300),
            serial: false,
            batch: true,
        }
    );
    assert_eq!(limits_of(&plan, "slow::long").timeout, 15 * MINUTE);
    let big = limits_of(&plan, "requires_models::big");
    assert_eq!(
        (big.memory_estimate, big.estimate_from, big.memory_limit),
        (4 * GIB, EstimateSource::Marker, None)
    );
    assert_eq!(big.timeout, 30 * MINUTE);
    assert!(limits_of(&plan, "serial::alone").serial);
    // Heavy phases run one test at a time; the others take the default.
    assert_eq!((phase(&plan, "models").jobs, phase(&plan, "gpu").jobs, phase(&plan, "unit").jobs), (1, 1, 3));
}

#[test]
fn the_command_line_then_the_phase_then_the_markers() {
    let toml = r#"
        [markers.slow]
        timeout = "20m"
        memory = "3GiB"
        [markers.unit]
        timeout = "5s"
        memory = "256MiB"
        [[phases]]
        name = "unit"
        select = "unit and not slow"
        [[phases]]
        name = "slow"
        select = "slow"
        timeout = "1h"
        memory = "2GiB"
        jobs = 2
    "#;
    let config = config(toml);
    let plan = plan_with(&config, None, None);
    let a = limits_of(&plan, "a");
    assert_eq!(
        (a.timeout, a.memory_limit, a.memory_estimate),
        (Duration::from_secs(5), Some(256 * MIB), 256 * MIB)
    );
    assert_eq!(a.estimate_from, EstimateSource::Marker);
    // The slow phase's settings beat the markers' (unit's 5s would kill every slow unit test).
    let long = limits_of(&plan, "slow::long");
    assert_eq!(
        (long.timeout, long.memory_limit, long.estimate_from),
        (60 * MINUTE, Some(2 * GIB), EstimateSource::Phase)
    );
    assert_eq!(phase(&plan, "slow").jobs, 2);

    let overridden = plan_with(&config, Some(Duration::from_secs(9)), Some(7));
    assert_eq!(limits_of(&overridden, "slow::long").timeout, Duration::from_secs(9));
    assert_eq!((phase(&overridden, "slow").jobs, phase(&overridden, "unit").jobs), (7, 7));
}

#[test]
fn history_and_the_memory_limit_refine_estimates() {
    let mut history = History::default();
    history.merge(&[
        Measurement { binary_id: "p".into(), name: "a".into(), peak_rss: 100 * MIB, duration_secs: 0.1 },
        Measurement { binary_id: "p".into(), name: "b".into(), peak_rss: 900 * MIB, duration_secs: 0.1 },
    ]);
    let plan = plan_measured(&config(""), None, Some(&history), (Some(512 * MIB), None));
    assert_eq!(plan.jobs, None, "no resources: jobs as built");
    let a = limits_of(&plan, "a");
    assert_eq!(
        (a.memory_estimate, a.estimate_from, a.memory_limit),
        (189 * MIB, EstimateSource::History, Some(512 * MIB))
    );
    // 900 MiB × 1.25 + 64 MiB is more than the limit: the estimate stops at the limit.
    assert_eq!(limits_of(&plan, "b").memory_estimate, 512 * MIB);
    let it = limits_of(&plan, "it");
    assert_eq!((it.memory_estimate, it.estimate_from), (512 * MIB, EstimateSource::LimitOverride));
    assert_eq!(phase(&plan, "unit").jobs, 3);
}

/// Which tests may share a process: the unit and integration phases batch by default,
/// except tests that need a process of their own; markers and `--isolation` change it.
#[test]
fn isolation_of_phases_markers_and_the_command_line() {
    let batched = |plan: &TestPlan| -> Vec<&'static str> {
        let names = ["a", "b", "slow::long", "requires_models::big", "serial::alone", "it"];
        names.into_iter().filter(|n| limits_of(plan, n).batch).collect()
    };
    let default = plan_with(&config(""), None, None);
    // slow::long is in the slow phase (process); heavy and serial tests never batch; `it` is
    // an integration test (the integration phase batches).
    assert_eq!(batched(&default), ["a", "b", "it"]);
    assert_eq!(batched(&plan_isolated(&config(""), None, None, Some(Isolation::Process))), [""; 0]);
    let all = plan_isolated(&config(""), None, None, Some(Isolation::Batch));
    assert_eq!(batched(&all), ["a", "b", "slow::long", "it"]);

    let toml = r#"
        [markers.unit]
        isolation = "process"
        [markers.slow]
        isolation = "batch"
        [markers.integration]
        memory = "1GiB"
        [[phases]]
        name = "all"
        select = "unit or integration or slow"
    "#;
    let configured = config(toml);
    // Markers beat `--isolation batch`: every unit test says process (slow::long is `unit`
    // and `slow`: process wins), and `it` has a memory limit of its own.
    assert_eq!(batched(&plan_with(&configured, None, None)), [""; 0]);
    assert_eq!(batched(&plan_isolated(&configured, None, None, Some(Isolation::Batch))), [""; 0]);

    let toml = r#"
        [markers.slow]
        isolation = "batch"
        [[phases]]
        name = "all"
        select = "unit or integration or slow"
    "#;
    assert_eq!(batched(&plan_with(&config(toml), None, None)), ["slow::long"]);
}

#[test]
fn history_of_a_big_test_or_a_memory_limit_takes_it_out_of_batches() {
    let mut history = History::default();
    history.merge(&[
        Measurement { binary_id: "p".into(), name: "a".into(), peak_rss: 100 * MIB, duration_secs: 0.1 },
        Measurement { binary_id: "p".into(), name: "b".into(), peak_rss: 300 * MIB, duration_secs: 0.1 },
    ]);
    let plan = plan_measured(&config(""), None, Some(&history), (None, None));
    assert!(limits_of(&plan, "a").batch);
    assert!(!limits_of(&plan, "b").batch, "measured above {BATCH_MAX_PEAK}");

    let limited = plan_measured(&config(""), None, None, (Some(512 * MIB), None));
    assert!(!limits_of(&limited, "a").batch, "--memory-limit is enforced per process");
}

/// The default parallelism on the machines of the issue: min(CPUs, usable / median
/// estimate), at least 1; phases with their own `jobs`, `-j` and serial phases keep theirs.
#[test]
fn default_jobs_on_faked_machines() {
    let cases = [
        (Resources::fake(2, GIB, 0), 1, "2 CPUs; 1.0 GiB usable / 1 GiB per test"),
        (Resources::fake(2, 24 * GIB, 0), 2, "2 CPUs; 24.0 GiB usable / 1 GiB per test"),
        (Resources::fake(64, 256 * GIB, 0), 64, "64 CPUs; 256.0 GiB usable / 1 GiB per test"),
        (
            Resources::fake(8, 24 * GIB, 0).with_cgroup_limit(2 * GIB, 512 * MIB),
            1,
            "8 CPUs; 1.5 GiB usable / 1 GiB per test",
        ),
        (
            Resources::fake(16, 64 * GIB, 0).with_cgroup_limit(6 * GIB, GIB),
            5,
            "16 CPUs; 5.0 GiB usable / 1 GiB per test",
        ),
    ];
    for (resources, jobs, reason) in cases {
        let plan = plan_measured(&config(""), None, None, (None, Some(&resources)));
        let choice = plan.jobs.clone().expect("a choice");
        assert_eq!((choice.jobs, choice.reason.as_str()), (jobs, reason));
        assert_eq!((phase(&plan, "unit").jobs, phase(&plan, "integration").jobs), (jobs, jobs));
        assert_eq!(phase(&plan, "models").jobs, 1);
        let usable = resources.memory.usable.expect("usable");
        assert_eq!(
            limits_of(&plan, "a").memory_estimate,
            GIB.min(usable),
            "a guess is no larger than the machine"
        );
        assert_eq!(limits_of(&plan, "requires_models::big").memory_estimate, 4 * GIB, "a marker's is kept");
    }
}

#[test]
fn measured_history_lets_a_small_machine_use_its_cpus() {
    let mut history = History::default();
    let small: Vec<Measurement> = ["a", "b", "slow::long", "serial::alone"]
        .iter()
        .map(|name| Measurement {
            binary_id: "p".into(),
            name: (*name).into(),
            peak_rss: 20 * MIB,
            duration_secs: 0.1,
        })
        .collect();
    history.merge(&small);
    let resources = Resources::fake(2, GIB, 0);
    let plan = plan_measured(&config(""), None, Some(&history), (None, Some(&resources)));
    let choice = plan.jobs.clone().expect("a choice");
    // Median of 89, 89, 89, 89, 1024 (it) and 4096 (big) MiB: 89 MiB.
    assert_eq!((choice.jobs, choice.reason.as_str()), (2, "2 CPUs; 1.0 GiB usable / 89 MiB per test"));

    let fixed = plan_measured(
        &config("[[phases]]\nname = \"unit\"\nselect = \"unit\"\njobs = 5\n"),
        Some(4),
        Some(&history),
        (None, Some(&resources)),
    );
    fixed.jobs.as_ref().expect("a choice");
    assert_eq!(phase(&fixed, "unit").jobs, 4, "-j wins");
}

#[test]
fn skip_reason_includes_ignore_message() {
    assert_eq!(super::skip_reason(None), "ignored");
    assert_eq!(super::skip_reason(Some("")), "ignored");
    assert_eq!(super::skip_reason(Some("slow")), "ignored: slow");
}

#[test]
fn run_ignored_all_runs_every_test_of_a_listing_custom_harness_as_ignored() {
    let mut list = list();
    // `it` becomes a custom harness that lists; a second one does not list (opaque).
    list.binaries[1] =
        TestBinary { custom_harness: true, list_method: ListMethod::CustomList, ..list.binaries[1].clone() };
    list.binaries.push(TestBinary {
        custom_harness: true,
        list_method: ListMethod::Opaque,
        ..binary("p::opaque", TargetKind::Test)
    });
    list.tests.push(TestCase {
        binary: BinaryIdx(2),
        name: "opaque".into(),
        ignored: false,
        ignore_reason: None,
        source: None,
    });
    let actions = |run_ignored: RunIgnored| -> Vec<(String, Action)> {
        let mut inputs = Inputs::new(config(""));
        inputs.selection.run_ignored = run_ignored;
        let plan = build(&list, &inputs.request());
        let mut planned: Vec<(String, Action)> = plan
            .phases
            .iter()
            .flat_map(|phase| &phase.planned)
            .map(|p| (list.test(p.test).name.clone(), p.action.clone()))
            .filter(|(name, _)| ["a", "it", "opaque"].contains(&name.as_str()))
            .collect();
        planned.sort_by(|x, y| x.0.cmp(&y.0));
        planned
    };
    let run = |ignored| Action::Run { ignored };
    // `--include-ignored` for the listing harness only: libtest and opaque binaries run as before.
    assert_eq!(
        actions(RunIgnored::All),
        [("a".to_owned(), run(false)), ("it".to_owned(), run(true)), ("opaque".to_owned(), run(false))]
    );
    assert_eq!(
        actions(RunIgnored::Default),
        [("a".to_owned(), run(false)), ("it".to_owned(), run(false)), ("opaque".to_owned(), run(false))]
    );
}
