//! Tests of configuration parsing: the full schema, the init template, and every error and
//! warning with its exact one-line text.

use std::num::NonZeroUsize;
use std::time::Duration;

use super::*;
use crate::classify::{MarkerSource, TestKind};
use crate::marker::MarkerName;
use crate::plan::{Isolation, OnFailure, PhaseIdx, Requirement, RunIgnored};
use crate::units::ByteSize;

fn load(text: &str) -> Result<LoadedConfig, String> {
    Config::from_toml_str(text, &ConfigOrigin::testplan_toml("testplan.toml")).map_err(|e| e.to_string())
}

fn config(text: &str) -> Config {
    load(text).unwrap_or_else(|e| panic!("{e}")).config
}

fn warnings(text: &str) -> Vec<String> {
    load(text).unwrap_or_else(|e| panic!("{e}")).warnings.iter().map(ToString::to_string).collect()
}

const FULL: &str = r#"
[markers.gpu-heavy]
description = "large kernels"
timeout = "10m"
time-budget = "5s"
memory = "2GiB"
isolation = "process"

[[markers.gpu-heavy.rules]]
name = "^kernels::"
kind = "lib|test"

[markers.slow]
memory = 1073741824
rules = [{ package = "^sim$" }, { file = "^tests/long/" }]

[[phases]]
name = "quick"
select = "unit and not (slow or gpu-heavy)"
jobs = 4
timeout = "60s"
memory = "1GiB"
on-failure = "continue"
isolation = "batch"

[[phases]]
name = "heavy"
select = "gpu-heavy or slow"
requires = ["gpu", "gpu"]
serial = true

[profiles.nightly]
phases = ["heavy", "quick"]
select = "not e2e"
run-ignored = "all"
fail-fast = false

[profiles.fast]
fail-fast = true
"#;

#[test]
fn full_schema() {
    let config = config(FULL);
    let heavy = config.registry.lookup("gpu-heavy").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((heavy.description.as_str(), heavy.builtin), ("large kernels", false));
    assert_eq!(heavy.defaults.timeout, Some(Duration::from_secs(600)));
    assert_eq!(heavy.defaults.time_budget, Some(Duration::from_secs(5)));
    assert_eq!(heavy.defaults.memory, Some(ByteSize(2 << 30)));
    assert_eq!(heavy.defaults.isolation, Some(Isolation::Process));
    let slow = config.registry.lookup("slow").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (slow.description.as_str(), slow.defaults.memory),
        ("takes seconds or more", Some(ByteSize(1 << 30)))
    );

    let rules: Vec<String> = config
        .rules
        .iter()
        .map(|r| format!("{} {}", r.marker, MarkerSource::Rule(r.origin.clone())))
        .collect();
    assert_eq!(
        rules,
        [
            "gpu-heavy rule markers.gpu-heavy.rules[0] at testplan.toml:9:1",
            "slow rule markers.slow.rules[0] at testplan.toml:15:10",
            "slow rule markers.slow.rules[1] at testplan.toml:15:33",
        ]
    );

    let quick = &config.plan.phases()[0];
    assert_eq!(quick.select.to_string(), "unit and not (slow or gpu-heavy)");
    assert_eq!(quick.jobs, NonZeroUsize::new(4));
    assert_eq!((quick.timeout, quick.memory), (Some(Duration::from_secs(60)), Some(ByteSize(1 << 30))));
    assert_eq!(
        (quick.on_failure, quick.isolation, quick.serial),
        (OnFailure::Continue, Isolation::Batch, false)
    );
    let heavy_phase = &config.plan.phases()[1];
    assert_eq!((heavy_phase.requires.as_slice(), heavy_phase.serial), ([Requirement::Gpu].as_slice(), true));
    assert_eq!(heavy_phase.on_failure, OnFailure::Stop);

    let nightly = config.profile("nightly").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(nightly.phases, Some(vec![PhaseIdx(1), PhaseIdx(0)]));
    assert_eq!(nightly.select.as_ref().map(ToString::to_string).as_deref(), Some("not e2e"));
    assert_eq!(
        (nightly.run_ignored, nightly.fail_fast, nightly.builtin),
        (RunIgnored::All, Some(false), false)
    );
    let fast = config.profile("fast").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        fast.select.as_ref().map(ToString::to_string).as_deref(),
        Some("not (slow or requires-gpu or requires-models)")
    );
    assert_eq!((fast.fail_fast, fast.builtin), (Some(true), false));
    // `gpu-heavy` is not a heavy marker to `fast`, so a `gpu-heavy` unit test reaches `heavy`.
    assert_eq!(config.plan.profile_phases(fast), [PhaseIdx(0), PhaseIdx(1)]);
    let names: Vec<&str> = config.profiles.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["run", "fast", "full", "nightly"]);
    assert_eq!(
        config.profile("nightyl").map(|_| ()).map_err(|e| e.to_string()),
        Err("unknown profile 'nightyl' (did you mean 'nightly'?)".to_owned())
    );
}

#[test]
fn rules_classify_through_config() {
    let config = config(FULL);
    let facts = TestFacts {
        package: "core",
        binary: "core",
        kind: TestKind::Lib,
        name: "kernels::matmul",
        ignored: false,
        ignore_reason: None,
        source_file: None,
        source_line: None,
    };
    let classification = config.classify(&facts);
    assert_eq!(classification.markers.to_string(), "gpu-heavy, unit");
    assert_eq!(config.plan.assign(&classification.markers), Some(PhaseIdx(1)));
    let sources: Vec<String> =
        classification.sources_of(&MarkerName::from_static("gpu-heavy")).map(ToString::to_string).collect();
    assert_eq!(sources, ["rule markers.gpu-heavy.rules[0] at testplan.toml:9:1"]);
}

#[test]
fn empty_config_is_default() {
    let loaded = load("").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((loaded.config, loaded.warnings, loaded.found), (Config::default(), Vec::new(), true));
}

#[test]
fn init_template_reproduces_default_plan() {
    let loaded = load(Config::render_init()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded.warnings, []);
    assert_eq!(loaded.config, Config::default());
}

/// The commented-out examples of the template are valid too, once uncommented.
#[test]
fn init_template_examples_parse() {
    let uncommented: String = Config::render_init()
        .lines()
        .filter_map(|line| line.strip_prefix("# "))
        .filter(|line| {
            line.starts_with('[') || line.split_once(" = ").is_some_and(|(key, _)| !key.contains(' '))
        })
        .map(|line| format!("{line}\n"))
        .collect();
    let loaded = load(&uncommented).unwrap_or_else(|e| panic!("{e}\n{uncommented}"));
    assert_eq!(loaded.warnings, []);
    assert!(loaded.config.profile("nightly").is_ok());
    assert_eq!(loaded.config.rules.len(), 2);
}

#[test]
fn errors() {
    let cases: [(&str, &str); 35] = [
        ("[[phases]\nname = 1", "testplan.toml:1:10: invalid TOML: unclosed array table, expected `]`"),
        ("a = 1\na = 2", "testplan.toml:2:1: invalid TOML: duplicate key"),
        (
            "[[phases]]\nname = \"unit\"\nselect = \"unit and not slwo\"",
            "testplan.toml:3:24: phases[0].select: unknown marker 'slwo' (did you mean 'slow'?)",
        ),
        (
            "[[phases]]\nname = \"unit\"\nselect = 'integration and'",
            "testplan.toml:3:26: phases[0].select: expected a marker name or '(' after 'and'",
        ),
        (
            "[[phases]]\nname = \"unit\"\nselect = \"(unit or slow\"",
            "testplan.toml:3:11: phases[0].select: unbalanced parenthesis: this '(' is never closed",
        ),
        (
            "[[phases]]\nname = \"unit\"\nselect = \"unit and or slow\"",
            "testplan.toml:3:20: phases[0].select: expected a marker name or '(' after 'and', found 'or'",
        ),
        (
            "[[phases]]\nname = \"unit\"\nselect = \"\\u0075nit and slwo\"",
            "testplan.toml:3:10: phases[0].select: unknown marker 'slwo' (did you mean 'slow'?)",
        ),
        (
            "[[markers.slow.rules]]\nname = \"^kernels::(\"",
            "testplan.toml:2:8: markers.slow.rules[0].name: invalid regex '^kernels::(': unclosed group",
        ),
        (
            "[[markers.slow.rules]]\n",
            "testplan.toml:1:1: markers.slow.rules[0]: a rule needs at least one of name, package, binary, kind, file",
        ),
        (
            "[[markers.slow.rules]]\nkind = \"^integration$\"",
            "testplan.toml:2:8: markers.slow.rules[0].kind: regex '^integration$' matches no target kind (lib, bin, proc-macro, test, bench, example, doc)",
        ),
        (
            "[markers.slwo]\nrules = [{ name = \"x\" }]",
            "testplan.toml:1:10: markers.slwo: unknown marker 'slwo' (did you mean 'slow'?); a new marker needs a description",
        ),
        (
            "[markers.Heavy]\ndescription = \"x\"",
            "testplan.toml:1:10: markers.Heavy: invalid marker name 'Heavy': use lowercase letters, digits and '-', starting with a letter",
        ),
        (
            "[markers.gpu_heavy]\ndescription = \"x\"\n[markers.gpu-heavy]\ndescription = \"y\"",
            "testplan.toml:3:10: markers.gpu-heavy: marker 'gpu-heavy' is declared twice (first at line 1)",
        ),
        (
            "[markers.slow]\ntimeout = \"5 minutes\"",
            "testplan.toml:2:11: markers.slow.timeout: invalid duration '5 minutes': expected a number with a unit ms, s, m or h (300ms, 5s, 2m, 1h, 1m30s)",
        ),
        (
            "[markers.slow]\nmemory = \"2 GB of RAM\"",
            "testplan.toml:2:10: markers.slow.memory: invalid size '2 GB of RAM': expected bytes or a number with a unit (512MiB, 2GiB, 1.5GB, 4096)",
        ),
        (
            "[markers.slow]\nmemory = 0",
            "testplan.toml:2:10: markers.slow.memory: expected a positive integer, found 0",
        ),
        (
            "[markers.slow]\nmemory = true",
            "testplan.toml:2:10: markers.slow.memory: expected a size string or a number of bytes, found boolean",
        ),
        (
            "[markers.slow]\ndescription = 3",
            "testplan.toml:2:15: markers.slow.description: expected a string, found integer",
        ),
        (
            "[[phases]]\nname = \"\"\nselect = \"unit\"",
            "testplan.toml:2:8: phases[0].name: phase name is empty",
        ),
        (
            "[[phases]]\nname = \"My Phase\"\nselect = \"unit\"",
            "testplan.toml:2:8: phases[0].name: invalid phase name 'My Phase': use lowercase letters, digits, '-' and '_', starting with a letter",
        ),
        (
            "[[phases]]\nname = \"list\"\nselect = \"unit\"",
            "testplan.toml:2:8: phases[0].name: 'list' is a cargo-testplan command and cannot name a phase",
        ),
        (
            "[[phases]]\nname = \"unit\"\nselect = \"unit\"\n\n[[phases]]\nname = \"unit\"\nselect = \"doc\"",
            "testplan.toml:6:8: phases[1].name: duplicate phase 'unit' (first defined at line 1)",
        ),
        ("[[phases]]\nname = \"unit\"", "testplan.toml:1:1: phases[0]: missing required key 'select'"),
        ("phases = []", "testplan.toml:1:10: phases: the plan needs at least one phase"),
        ("phases = [1]", "testplan.toml:1:11: phases[0]: expected a table, found integer"),
        ("[phases]\nname = \"x\"", "testplan.toml:1:1: phases: expected an array of tables, found table"),
        (
            "[[phases]]\nname = \"unit\"\nselect = \"unit\"\njobs = 0",
            "testplan.toml:4:8: phases[0].jobs: expected a positive integer, found 0",
        ),
        (
            "[[phases]]\nname = \"unit\"\nselect = \"unit\"\njobs = \"4\"",
            "testplan.toml:4:8: phases[0].jobs: expected a positive integer, found string",
        ),
        (
            "[[phases]]\nname = \"unit\"\nselect = \"unit\"\non-failure = \"stopp\"",
            "testplan.toml:4:14: phases[0].on-failure: invalid value 'stopp': expected 'stop' or 'continue' (did you mean 'stop'?)",
        ),
        (
            "[markers.slow]\nisolation = \"proces\"",
            "testplan.toml:2:13: markers.slow.isolation: invalid value 'proces': expected 'process' or 'batch' (did you mean 'process'?)",
        ),
        (
            "[[phases]]\nname = \"gpu\"\nselect = \"requires-gpu\"\nrequires = [\"gpu\", \"gpus\"]",
            "testplan.toml:4:20: phases[0].requires[1]: invalid value 'gpus': expected 'gpu' (did you mean 'gpu'?)",
        ),
        (
            "[profiles.nightly]\nphases = [\"unit\", \"slwo\"]",
            "testplan.toml:2:19: profiles.nightly.phases[1]: unknown phase 'slwo' (did you mean 'slow'?)",
        ),
        (
            "[profiles.nightly]\nphases = [\"unit\", \"unit\"]",
            "testplan.toml:2:19: profiles.nightly.phases[1]: phase 'unit' is listed twice",
        ),
        (
            "[profiles.nightly]\nphases = []",
            "testplan.toml:2:10: profiles.nightly.phases: a profile needs at least one phase",
        ),
        (
            "[profiles.nightly]\nrun-ignored = \"some\"",
            "testplan.toml:2:15: profiles.nightly.run-ignored: invalid value 'some': expected 'default', 'only' or 'all'",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(load(text).map(|_| ()), Err(expected.to_owned()), "{text}");
    }
}

#[test]
fn unknown_keys_warn() {
    let text = "phase = 1\n[markers.slow]\ncolour = \"red\"\ndescripton = \"x\"\n[[markers.slow.rules]]\nnmae = \"x\"\nname = \"y\"\n\n[[phases]]\nname = \"unit\"\nselect = \"unit\"\njob = 2\n[profiles.x]\nfail_fast = true";
    assert_eq!(
        warnings(text),
        [
            "testplan.toml:1:1: phase: unknown key (did you mean 'phases'?)",
            "testplan.toml:3:1: markers.slow.colour: unknown key",
            "testplan.toml:4:1: markers.slow.descripton: unknown key (did you mean 'description'?)",
            "testplan.toml:6:1: markers.slow.rules[0].nmae: unknown key (did you mean 'name'?)",
            "testplan.toml:12:1: phases[0].job: unknown key (did you mean 'jobs'?)",
            "testplan.toml:14:1: profiles.x.fail_fast: unknown key (did you mean 'fail-fast'?)",
        ]
    );
}

const CARGO_TOML: &str = r#"[workspace]
members = ["a"]

[workspace.metadata.other]
x = 1

[workspace.metadata.testplan.markers.gpu-heavy]
description = "kernels"

[[workspace.metadata.testplan.phases]]
name = "all"
select = "unit or gpu-heavy"
"#;

#[test]
fn workspace_metadata() {
    let origin = ConfigOrigin::workspace_metadata("Cargo.toml");
    let loaded = Config::from_toml_str(CARGO_TOML, &origin).unwrap_or_else(|e| panic!("{e}"));
    assert!(loaded.found);
    assert_eq!(loaded.warnings, []);
    assert_eq!(loaded.config.plan.phases().len(), 1);

    let broken = CARGO_TOML.replace("unit or gpu-heavy", "unit or gpu-hevy") + "colour = 1\n";
    let error = Config::from_toml_str(&broken, &origin).map(|_| ()).map_err(|e| e.to_string());
    let expected = "Cargo.toml:12:19: workspace.metadata.testplan.phases[0].select: unknown marker 'gpu-hevy' (did you mean 'gpu-heavy'?)";
    assert_eq!(error, Err(expected.to_owned()));

    let warned = CARGO_TOML.to_owned() + "colour = 1\n";
    let loaded = Config::from_toml_str(&warned, &origin).unwrap_or_else(|e| panic!("{e}"));
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(warnings, ["Cargo.toml:13:1: workspace.metadata.testplan.phases[0].colour: unknown key"]);
}

#[test]
fn metadata_absent_or_misplaced() {
    let origin = ConfigOrigin::workspace_metadata("Cargo.toml");
    let loaded =
        Config::from_toml_str("[workspace]\nmembers = []\n", &origin).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((loaded.found, loaded.config), (false, Config::default()));
    let error = Config::from_toml_str("[workspace.metadata]\ntestplan = \"yes\"\n", &origin)
        .map(|_| ())
        .map_err(|e| e.to_string());
    assert_eq!(
        error,
        Err("Cargo.toml:2:12: workspace.metadata.testplan: expected a table, found string".to_owned())
    );
    let package = ConfigOrigin::package_metadata("crates/a/Cargo.toml");
    let text = "[package]\nname = \"a\"\n[package.metadata.testplan.profiles.ci]\nphases = [\"unit\"]\n";
    let loaded = Config::from_toml_str(text, &package).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded.config.profile("ci").map(|p| p.phases.clone()), Ok(Some(vec![PhaseIdx(0)])));
}

#[test]
fn cli_marker_expressions_use_config_markers() {
    let config = config(FULL);
    assert_eq!(
        config.marker_expr("gpu_heavy and not slow").map(|e| e.to_string()),
        Ok("gpu-heavy and not slow".to_owned())
    );
    let error = Config::default().marker_expr("gpu-heavy").map(|_| ()).map_err(|e| e.kind().to_string());
    assert_eq!(error, Err("unknown marker 'gpu-heavy'".to_owned()));
}

#[test]
fn pointless_phases_warn() {
    let text = "[[phases]]\nname = \"all\"\nselect = \"unit or integration\"\n\n[[phases]]\nname = \"more\"\nselect = \"unit and slow\"\n\n[[phases]]\nname = \"none\"\nselect = \"doc and not doc\"\n";
    assert_eq!(
        warnings(text),
        [
            "testplan.toml:7:10: phases[1].select: phase 'more' is unreachable: every test it selects belongs to an earlier phase",
            "testplan.toml:11:10: phases[2].select: phase 'none' selects no test: its expression is never true",
        ]
    );
}

#[test]
fn phases_take_a_ci_runner_label() {
    let loaded = config(
        "[[phases]]\nname = \"unit\"\nselect = \"unit\"\n\n[[phases]]\nname = \"gpu\"\nselect = \"requires-gpu\"\nrequires = [\"gpu\"]\nruns-on = \"gpu-runner\"\n",
    );
    let labels: Vec<Option<&str>> = loaded.plan.phases().iter().map(|p| p.runs_on.as_deref()).collect();
    assert_eq!(labels, [None, Some("gpu-runner")]);
    let error =
        load("[[phases]]\nname = \"gpu\"\nselect = \"requires-gpu\"\nruns-on = 3\n").expect_err("integer");
    assert_eq!(error, "testplan.toml:4:11: phases[0].runs-on: expected a string, found integer");
}
