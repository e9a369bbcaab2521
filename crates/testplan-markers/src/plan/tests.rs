//! Tests of the default plan, profiles and per-test decisions.

use super::*;
use crate::classify::{TestFacts, TestKind, classify};
use crate::marker::{MarkerName, MarkerSet};

fn set(names: &[&str]) -> MarkerSet {
    names.iter().map(|n| MarkerName::new(n).unwrap_or_else(|e| panic!("{e}"))).collect()
}

fn phase_names(plan: &Plan, phases: &[PhaseIdx]) -> Vec<String> {
    phases.iter().map(|idx| plan.phase(*idx).name.clone()).collect()
}

#[test]
fn default_plan_phases() {
    let plan = Plan::default_plan();
    let shown: Vec<String> = plan
        .phases()
        .iter()
        .map(|p| format!("{}: {} serial={} requires={:?}", p.name, p.select, p.serial, p.requires))
        .collect();
    assert_eq!(
        shown,
        [
            "unit: unit and not (e2e or slow or requires-gpu or requires-models) serial=false requires=[]",
            "integration: (integration or e2e) and not (slow or requires-gpu or requires-models) serial=false requires=[]",
            "doc: doc and not (e2e or slow or requires-gpu or requires-models) serial=false requires=[]",
            "slow: slow and not (requires-gpu or requires-models) serial=false requires=[]",
            "models: requires-models and not requires-gpu serial=true requires=[]",
            "gpu: requires-gpu serial=true requires=[Gpu]",
        ]
    );
}

/// Every combination of one kind marker and any other built-in markers lands in exactly one
/// default phase: the heaviest marker's.
#[test]
fn default_plan_places_every_builtin_combination_exactly_once() {
    let plan = Plan::default_plan();
    let extras = ["e2e", "slow", "requires-gpu", "requires-models", "serial"];
    for kind in ["unit", "integration", "doc"] {
        for bits in 0..1u32 << extras.len() {
            let mut names = vec![kind];
            names.extend(extras.iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, n)| *n));
            let markers = set(&names);
            let matching: Vec<&str> = plan
                .phases()
                .iter()
                .filter(|p| p.select.matches(&markers))
                .map(|p| p.name.as_str())
                .collect();
            let has = |n: &str| names.contains(&n);
            let expected = if has("requires-gpu") {
                "gpu"
            } else if has("requires-models") {
                "models"
            } else if has("slow") {
                "slow"
            } else if has("e2e") {
                "integration"
            } else {
                kind
            };
            assert_eq!(matching, [expected], "{names:?}");
        }
    }
}

#[test]
fn unmarked_test_is_not_in_plan() {
    assert_eq!(Plan::default_plan().assign(&set(&["serial"])), None);
    assert_eq!(Plan::default_plan().assign(&set(&[])), None);
}

#[test]
fn builtin_profiles() {
    let plan = Plan::default_plan();
    let profiles = Profile::builtins();
    let shown: Vec<(String, Vec<String>, RunIgnored)> = profiles
        .iter()
        .map(|p| (p.name.clone(), phase_names(&plan, &plan.profile_phases(p)), p.run_ignored))
        .collect();
    let all = ["unit", "integration", "doc", "slow", "models", "gpu"].map(String::from).to_vec();
    let fast = ["unit", "integration", "doc"].map(String::from).to_vec();
    assert_eq!(
        shown,
        [
            ("run".to_owned(), all.clone(), RunIgnored::Default),
            ("fast".to_owned(), fast, RunIgnored::Default),
            ("full".to_owned(), all, RunIgnored::All),
        ]
    );
}

#[test]
fn unknown_phase_suggests() {
    let plan = Plan::default_plan();
    assert_eq!(plan.find("doc"), Ok(PhaseIdx(2)));
    let error = plan.find("intgration").map_err(|e| e.to_string());
    assert_eq!(error, Err("unknown phase 'intgration' (did you mean 'integration'?)".to_owned()));
    assert_eq!(plan.find("nightly").map_err(|e| e.to_string()), Err("unknown phase 'nightly'".to_owned()));
}

/// `None`: not ignored; `Some(None)`: plain `#[ignore]`; `Some(Some(reason))`.
type Ignore = Option<Option<&'static str>>;

fn decide(selection: &Selection, kind: TestKind, name: &'static str, ignore_reason: Ignore) -> Decision {
    let plan = Plan::default_plan();
    let facts = TestFacts {
        package: "p",
        binary: "p",
        kind,
        name,
        ignored: ignore_reason.is_some(),
        ignore_reason: ignore_reason.flatten(),
        source_file: None,
        source_line: None,
    };
    let classification = classify(&MarkerRegistry::builtin(), &[], &facts);
    selection.decide(&plan, &classification, name)
}

#[test]
fn decisions() {
    let plan = Plan::default_plan();
    let profiles = Profile::builtins();
    let [run, fast, full] = [0, 1, 2].map(|i| Selection::from_profile(&plan, &profiles[i]));
    let slow_only = Selection::phases(vec![PhaseIdx(3)]);
    let (unit, slow, gpu) = (PhaseIdx(0), PhaseIdx(3), PhaseIdx(5));
    use Decision::*;
    let cases: Vec<(&Selection, TestKind, &'static str, Ignore, Decision)> = vec![
        (&run, TestKind::Lib, "a::b", None, Run { phase: unit, ignored: false }),
        (&run, TestKind::Lib, "a::b", Some(Some("slow")), Run { phase: slow, ignored: true }),
        (&run, TestKind::Lib, "a::b", Some(Some("requires-gpu: CUDA")), Run { phase: gpu, ignored: true }),
        (&run, TestKind::Lib, "a::b", Some(None), SkipIgnored { phase: unit }),
        (&run, TestKind::Lib, "a::b", Some(Some("not yet implemented")), SkipIgnored { phase: unit }),
        (&full, TestKind::Lib, "a::b", Some(None), Run { phase: unit, ignored: true }),
        (&fast, TestKind::Lib, "slow::b", None, Deselected),
        (&fast, TestKind::Test, "a::b", None, Run { phase: PhaseIdx(1), ignored: false }),
        (&slow_only, TestKind::Lib, "slow::b", None, Run { phase: slow, ignored: false }),
        (&slow_only, TestKind::Lib, "a::b", None, OtherPhase { phase: unit }),
    ];
    for (i, (selection, kind, name, ignore, expected)) in cases.into_iter().enumerate() {
        assert_eq!(decide(selection, kind, name, ignore), expected, "case {i}");
    }
}

#[test]
fn filters_narrow() {
    let plan = Plan::default_plan();
    let run = Selection::from_profile(&plan, &Profile::builtins()[0]);
    let expr = |text: &str| MarkerExpr::parse(text).unwrap_or_else(|e| panic!("{e}"));
    let keywords = |text: &str| KeywordExpr::parse(text).unwrap_or_else(|e| panic!("{e}"));
    let by_markers = run.clone().and_markers(expr("integration"));
    assert_eq!(decide(&by_markers, TestKind::Lib, "a", None), Decision::Deselected);
    assert_eq!(
        decide(&by_markers, TestKind::Test, "a", None),
        Decision::Run { phase: PhaseIdx(1), ignored: false }
    );
    let by_name = run.and_keywords(keywords("Parser and not slow"));
    assert_eq!(
        decide(&by_name, TestKind::Lib, "parser::fast", None),
        Decision::Run { phase: PhaseIdx(0), ignored: false }
    );
    assert_eq!(decide(&by_name, TestKind::Lib, "parser::slow_case", None), Decision::Deselected);
    let only = Selection { run_ignored: RunIgnored::Only, ..Selection::phases(vec![PhaseIdx(0)]) };
    assert_eq!(decide(&only, TestKind::Lib, "a", None), Decision::Deselected);
    assert_eq!(
        decide(&only, TestKind::Lib, "a", Some(None)),
        Decision::Run { phase: PhaseIdx(0), ignored: true }
    );
    let fast = Selection::from_profile(&plan, &Profile::builtins()[1]).and_markers(expr("serial"));
    assert_eq!(
        fast.markers.map(|m| m.to_string()).as_deref(),
        Some("not (slow or requires-gpu or requires-models) and serial")
    );
}
