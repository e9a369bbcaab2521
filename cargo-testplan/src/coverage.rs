//! `--coverage` from the command's side (docs/coverage.md): the options, and a run's
//! coverage through the pipeline —
//!
//! 1. [`prepare`] after the workspace is read and before anything is built: LLVM tools found
//!    and checked (without them the run stops here with the install hint), the build
//!    pointed at its own target directory with the instrumented build's environment;
//! 2. [`RunCoverage::phase_env`] gives each phase's processes their profile directory;
//! 3. [`RunCoverage::before_event`], called with every event before the reporters see it:
//!    a phase's coverage is measured when it finishes, so its summary shows it, and the
//!    run's (delta, changed lines, gates) before `RunFinished`, so the end block shows it;
//! 4. [`RunCoverage::write_files`] with the other outputs, and [`RunCoverage::gate`] for the
//!    exit code.
//!
//! A failure of the tools during the run (a crashed `llvm-cov`) does not stop the tests: it
//! is reported, coverage stops, and the run counts it as an output not written.

use camino::{Utf8Path, Utf8PathBuf};
use clap::Args;
use testplan_coverage::collect::{self, Collector, Finish, Outcome, Prepared};
use testplan_coverage::gate::Gates;
use testplan_coverage::model::CoverageSummary;
use testplan_coverage::{CoverageError, report};
use testplan_markers::config::{CoverageConfig, Percent};
use testplan_reporter::session::RunReporter;
use testplan_runner::events::Event;
use testplan_runner::files::{self, Durability};
use testplan_runner::model::TestList;
use testplan_runner::plan::TestPlan;

use crate::outputs::OutputFailures;
use crate::pipeline::Pipeline;

/// The coverage options of `run`, `fast`, `full` and phase commands.
#[derive(Clone, Debug, Default, Args)]
#[command(next_help_heading = "Coverage")]
pub struct CoverageArgs {
    /// Measure line, function and region coverage per phase and for the run: an
    /// instrumented build in its own target directory, doctests included (needs LLVM tools
    /// matching rustc; docs/coverage.md)
    #[arg(long, conflicts_with = "archive")]
    pub coverage: bool,
    /// Write the run's coverage as an lcov tracefile (implies --coverage)
    #[arg(long, value_name = "PATH", conflicts_with = "archive")]
    pub coverage_lcov: Option<Utf8PathBuf>,
    /// Write the run's coverage as Cobertura XML, what GitLab and most CI coverage views
    /// read (implies --coverage)
    #[arg(long, value_name = "PATH", conflicts_with = "archive")]
    pub coverage_cobertura: Option<Utf8PathBuf>,
    /// Write llvm-cov's HTML report of the run (an index and a page per source file) into
    /// DIR (implies --coverage)
    #[arg(long, value_name = "DIR", conflicts_with = "archive")]
    pub coverage_html: Option<Utf8PathBuf>,
    /// Exit with code 3 when the run's line coverage is under PCT percent, after every
    /// report is written (implies --coverage)
    #[arg(long, value_name = "PCT", value_parser = parse_percent, conflicts_with = "archive")]
    pub coverage_fail_under: Option<f64>,
    /// Report the coverage of the lines added or changed since the git revision BASE and
    /// name each uncovered one as FILE:LINE (implies --coverage)
    #[arg(long, value_name = "BASE", conflicts_with = "archive")]
    pub coverage_diff: Option<String>,
}

impl CoverageArgs {
    /// Whether any option asks for coverage.
    pub fn requested(&self) -> bool {
        self.coverage
            || self.coverage_lcov.is_some()
            || self.coverage_cobertura.is_some()
            || self.coverage_html.is_some()
            || self.coverage_fail_under.is_some()
            || self.coverage_diff.is_some()
    }

    /// The gates: the command line's `--coverage-fail-under`, else the configuration's,
    /// and the configuration's `no-drop` and phase minimums.
    fn gates(&self, config: &CoverageConfig) -> Gates {
        Gates {
            fail_under: self.coverage_fail_under.or(config.fail_under.map(Percent::value)),
            phase_minimums: config
                .phase_minimum
                .iter()
                .map(|(phase, min)| (phase.clone(), min.value()))
                .collect(),
            no_drop: config.no_drop,
        }
    }
}

/// A percentage from 0 to 100.
fn parse_percent(text: &str) -> Result<f64, String> {
    let value: f64 = text.trim_end_matches('%').parse().map_err(|_| format!("`{text}` is not a number"))?;
    if (0.0..=100.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{value} is not a percentage from 0 to 100"))
    }
}

/// A coverage run set up before the build.
#[derive(Debug)]
pub struct CoverageSetup {
    prepared: Prepared,
    gates: Gates,
}

/// Finds the tools and points the build at the instrumented target directory; `None` when
/// coverage is not asked for (`--coverage` and the like, or `[coverage] enabled`): then
/// nothing changes.
pub fn prepare(pipeline: &mut Pipeline, args: &CoverageArgs) -> Result<Option<CoverageSetup>, CoverageError> {
    let config = &pipeline.config().coverage;
    if !args.requested() && !config.enabled {
        return Ok(None);
    }
    let gates = args.gates(config);
    let exe =
        std::env::current_exe().map_err(|e| CoverageError::io("finding cargo-testplan's executable", e))?;
    let wrapper = Utf8PathBuf::from_path_buf(exe).map_err(|path| {
        CoverageError::io(
            "cargo-testplan's executable",
            std::io::Error::other(format!("{} is not UTF-8", path.display())),
        )
    })?;
    // A run from an archive builds nothing to instrument (clap refuses `--archive` with
    // the coverage options).
    let Some(workspace) = &pipeline.loaded.workspace else {
        eprintln!("note: no coverage in a run from an archive ([coverage] enabled is ignored)");
        return Ok(None);
    };
    let prepared = collect::prepare(&workspace.root, &workspace.target_dir, &wrapper)?;
    let cargo = &mut pipeline.settings.cargo;
    cargo.target_dir = Some(prepared.target_dir.clone());
    cargo.env = prepared.cargo_env.clone();
    crate::timings::mark("coverage tools found");
    Ok(Some(CoverageSetup { prepared, gates }))
}

/// A coverage run between the build and the end.
#[derive(Debug)]
pub struct RunCoverage {
    prepared: Prepared,
    args: CoverageArgs,
    gates: Gates,
    /// The HTML report's title: the workspace directory's name.
    title: String,
    previous: Option<CoverageSummary>,
    collector: Option<Collector>,
    outcome: Option<Outcome>,
    failed: bool,
}

impl RunCoverage {
    /// Starts collecting for the built `list`; `libraries` are the build's `.rlib`s by
    /// package id, `previous` the previous run's report (the baseline).
    pub fn start(
        setup: CoverageSetup,
        args: &CoverageArgs,
        (list, libraries): (&TestList, &[(String, Utf8PathBuf)]),
        previous: Option<&testplan_schema::RunReport>,
    ) -> Result<RunCoverage, CoverageError> {
        let members: Vec<&str> = list.binaries.iter().map(|b| b.package.id.as_str()).collect();
        let rlibs: Vec<Utf8PathBuf> = libraries
            .iter()
            .filter(|(id, _)| members.contains(&id.as_str()))
            .map(|(_, rlib)| rlib.clone())
            .collect();
        let objects = collect::objects(list, &rlibs);
        let CoverageSetup { prepared, gates } = setup;
        let collector = prepared.clone().collector(&list.workspace_root, objects)?;
        Ok(RunCoverage {
            prepared,
            args: args.clone(),
            gates,
            title: list.workspace_root.file_name().unwrap_or("coverage").to_owned(),
            previous: previous.and_then(|r| r.coverage.as_ref()).map(report::summary_of),
            collector: Some(collector),
            outcome: None,
            failed: false,
        })
    }

    /// `LLVM_PROFILE_FILE` for each phase of `plan`.
    pub fn phase_env(&self, plan: &TestPlan) -> Vec<Vec<(String, String)>> {
        plan.phases
            .iter()
            .enumerate()
            .map(|(index, phase)| self.prepared.phase_env(index, &phase.name))
            .collect()
    }

    /// Measures what `event` ends (a phase, the run) and gives it to the reporters before
    /// they handle the event.
    pub fn before_event(&mut self, event: &Event, reporter: &mut RunReporter<'_>) {
        let result = match event {
            Event::PhaseFinished { index, name, .. } => self.phase_finished(*index, name, reporter),
            Event::RunFinished { .. } => self.run_finished(reporter),
            _ => Ok(()),
        };
        if let Err(e) = result {
            eprintln!("error: coverage: {e}");
            self.collector = None;
            self.failed = true;
        }
    }

    fn phase_finished(
        &mut self,
        index: usize,
        name: &str,
        reporter: &mut RunReporter<'_>,
    ) -> Result<(), CoverageError> {
        let Some(collector) = self.collector.as_mut() else { return Ok(()) };
        collector.finish_phase(index, name)?;
        reporter.set_coverage(report::partial(collector.tools(), collector.phases()));
        Ok(())
    }

    fn run_finished(&mut self, reporter: &mut RunReporter<'_>) -> Result<(), CoverageError> {
        let Some(collector) = self.collector.take() else { return Ok(()) };
        let finish = Finish {
            previous: self.previous.as_ref(),
            gates: &self.gates,
            diff_base: self.args.coverage_diff.as_deref(),
        };
        let outcome = collector.finish(&finish)?;
        reporter.set_coverage(report::finished(&outcome));
        self.outcome = Some(outcome);
        Ok(())
    }

    /// Writes `--coverage-lcov` and `--coverage-cobertura`, counting failures (and a
    /// coverage run that failed) with the other outputs.
    pub fn write_files(&self, failures: &mut OutputFailures) {
        if self.failed {
            failures.count += 1;
        }
        let Some(outcome) = &self.outcome else { return };
        if let Some(path) = &self.args.coverage_lcov {
            failures.check("the lcov file", path.as_std_path(), write(path, outcome.lcov().as_bytes()));
        }
        if let Some(dir) = &self.args.coverage_html {
            let title = self.title.as_str();
            let written = outcome.html.write(dir, title).map_err(|e| std::io::Error::other(e.to_string()));
            failures.check("the HTML coverage report", dir.as_std_path(), written);
        }
        if let Some(path) = &self.args.coverage_cobertura {
            let xml = outcome.cobertura(env!("CARGO_PKG_VERSION"), now_unix());
            failures.check("the Cobertura file", path.as_std_path(), write(path, &xml));
        }
    }

    /// The gates that failed, as messages (already printed in the end block).
    pub fn failed_gates(&self) -> usize {
        self.outcome.as_ref().map_or(0, |o| o.failed_gates.len())
    }
}

fn write(path: &Utf8Path, bytes: &[u8]) -> std::io::Result<()> {
    files::write_atomically(path.as_std_path(), bytes, Durability::Durable)
}

fn now_unix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_are_checked() {
        assert_eq!(parse_percent("80"), Ok(80.0));
        assert_eq!(parse_percent("72.5%"), Ok(72.5));
        assert_eq!(parse_percent("101"), Err("101 is not a percentage from 0 to 100".to_owned()));
        assert_eq!(parse_percent("lots"), Err("`lots` is not a number".to_owned()));
    }

    #[test]
    fn coverage_cannot_come_from_an_archive() {
        use clap::Parser;
        let argv = ["cargo-testplan", "run", "--coverage", "--archive", "tests.tar.zst"];
        let error = crate::cli::Cli::try_parse_from(argv).expect_err("conflict");
        assert_eq!(error.kind(), clap::error::ErrorKind::ArgumentConflict);
        assert!(error.to_string().contains("'--coverage' cannot be used with '--archive <FILE>'"), "{error}");
    }

    #[test]
    fn any_coverage_option_asks_for_coverage() {
        assert!(!CoverageArgs::default().requested());
        let lcov = CoverageArgs { coverage_lcov: Some("lcov.info".into()), ..CoverageArgs::default() };
        assert!(lcov.requested());
        let diff = CoverageArgs { coverage_diff: Some("HEAD~1".into()), ..CoverageArgs::default() };
        assert!(diff.requested());
    }
}
