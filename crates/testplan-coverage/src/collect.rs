//! A coverage run as a command drives it:
//!
//! 1. [`prepare`], before anything is built: the LLVM tools found and checked (a run
//!    without usable tools stops here, with the install hint), the profile directory
//!    emptied, the instrumented build's target directory and cargo environment chosen;
//! 2. each test process of phase N gets [`Prepared::phase_env`];
//! 3. [`Prepared::collector`] once the build is done (it needs the binaries), then
//!    [`Collector::finish_phase`] as each phase ends, in plan order;
//! 4. [`Collector::finish`] at the end: the run's figures, the delta against the previous
//!    run, the changed lines' coverage, the gates, and the data lcov and Cobertura files
//!    are written from.
//!
//! Where things go, under the normal target directory (which stays untouched):
//! `testplan/coverage/target` (the instrumented build), `testplan/coverage/profiles`
//! (crate::profiles), `testplan/coverage/tools.json` (crate::tools' cache).

use camino::{Utf8Path, Utf8PathBuf};
use testplan_runner::model::{TargetKind, TestList};

use crate::delta::{self, CoverageDelta};
use crate::diff::{self, ChangedCoverage};
use crate::error::CoverageError;
use crate::gate::{self, GateFailure, Gates};
use crate::instrument;
use crate::model::{CoverageData, CoverageSummary, FileSummary};
use crate::profiles::ProfileLayout;
use crate::session::CoverageRun;
use crate::sources::SourceFilter;
use crate::tools::{self, LlvmTools, RustcInfo, ToolSearch};

/// Everything decided before the build.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The LLVM tools.
    pub tools: LlvmTools,
    /// Where profiles go.
    pub layout: ProfileLayout,
    /// The instrumented build's target directory.
    pub target_dir: Utf8PathBuf,
    /// Variables for every cargo process of the instrumented build (build, doctest listing
    /// and runs); never for test processes.
    pub cargo_env: Vec<(String, String)>,
}

/// The directory of a run's coverage state under the normal target directory.
pub fn state_dir(target_dir: &Utf8Path) -> Utf8PathBuf {
    target_dir.join("testplan").join("coverage")
}

/// Finds and checks the tools and prepares the directories (see the module docs).
/// `wrapper` is the cargo-testplan executable (the rustc wrapper).
pub fn prepare(
    ws_root: &Utf8Path,
    target_dir: &Utf8Path,
    wrapper: &Utf8Path,
) -> Result<Prepared, CoverageError> {
    let state = state_dir(target_dir);
    std::fs::create_dir_all(&state).map_err(|e| CoverageError::io(format!("creating {state}"), e))?;
    let rustc = std::env::var("RUSTC").ok().filter(|r| !r.is_empty()).unwrap_or_else(|| "rustc".to_owned());
    let info = RustcInfo::query(Utf8Path::new(&rustc), ws_root)?;
    let tools = tools::find(&info, &ToolSearch::from_environment(&info), &state)?;
    let layout = ProfileLayout::new(state.join("profiles"));
    layout.prepare()?;
    let cargo_env = instrument::build_env(wrapper, &layout.build_pattern(), |name| std::env::var(name).ok());
    Ok(Prepared { tools, layout, target_dir: state.join("target"), cargo_env })
}

impl Prepared {
    /// Variables for the test processes of phase number `index` (from 0) named `phase`.
    pub fn phase_env(&self, index: usize, phase: &str) -> Vec<(String, String)> {
        vec![("LLVM_PROFILE_FILE".to_owned(), self.layout.phase_pattern(index, phase).to_string())]
    }

    /// Starts collecting, once the binaries are built: `objects` as [`objects`] gives them.
    pub fn collector(
        self,
        ws_root: &Utf8Path,
        objects: Vec<Utf8PathBuf>,
    ) -> Result<Collector, CoverageError> {
        let filter = SourceFilter::new(ws_root, vec![self.target_dir.clone()]);
        let tools = tools::describe(&self.tools);
        let run = CoverageRun::new(self.tools, self.layout, objects, filter)?;
        Ok(Collector { run, tools, phases: Vec::new() })
    }
}

/// What llvm-cov reads coverage from: every test executable, every binary tests run
/// (`CARGO_BIN_EXE_<name>`), and `libraries` (the workspace's `.rlib`s, which hold the
/// coverage mapping of the library code doctests run; pass them when doctests ran).
pub fn objects(list: &TestList, libraries: &[Utf8PathBuf]) -> Vec<Utf8PathBuf> {
    let mut objects: Vec<Utf8PathBuf> = Vec::new();
    for binary in list.binaries.iter().filter(|b| b.kind != TargetKind::Doc) {
        objects.extend(binary.executable.clone());
        let run = binary.env.iter().filter(|(key, _)| key.starts_with("CARGO_BIN_EXE_"));
        objects.extend(run.map(|(_, path)| Utf8PathBuf::from(path)).filter(|path| path.is_file()));
    }
    objects.extend(libraries.iter().cloned());
    objects.sort();
    objects.dedup();
    objects
}

/// One phase's figures, as the phase summary shows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhaseFigures {
    /// The phase.
    pub name: String,
    /// What its own tests covered.
    pub own: FileSummary,
    /// What it and the phases before it covered.
    pub cumulative: FileSummary,
    /// Its test processes that died while writing their profile.
    pub lost_profiles: usize,
}

/// Collects the phases' coverage.
#[derive(Debug)]
pub struct Collector {
    run: CoverageRun,
    tools: String,
    phases: Vec<PhaseFigures>,
}

/// What [`Collector::finish`] asks for.
#[derive(Clone, Copy, Debug)]
pub struct Finish<'a> {
    /// The previous run's figures (for the delta and the no-drop gate).
    pub previous: Option<&'a CoverageSummary>,
    /// The gates.
    pub gates: &'a Gates,
    /// `--coverage-diff BASE`.
    pub diff_base: Option<&'a str>,
}

/// A finished coverage run.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The tools used, named.
    pub tools: String,
    /// Each phase that ran.
    pub phases: Vec<PhaseFigures>,
    /// The run's figures.
    pub summary: CoverageSummary,
    /// The run's lines (for lcov and Cobertura).
    pub data: CoverageData,
    /// Against the previous run.
    pub delta: Option<CoverageDelta>,
    /// The changed lines since the base, with the base.
    pub changed: Option<(String, ChangedCoverage)>,
    /// Failed gates.
    pub failed_gates: Vec<GateFailure>,
    /// What `--coverage-html` is made from.
    pub html: crate::html::HtmlInputs,
}

impl Collector {
    /// Merges and exports phase number `index` named `phase` (call in plan order, for the
    /// phases that ran).
    pub fn finish_phase(&mut self, index: usize, phase: &str) -> Result<PhaseFigures, CoverageError> {
        let got = self.run.finish_phase(index, phase)?;
        let figures = PhaseFigures {
            name: phase.to_owned(),
            own: got.own.summary().total,
            cumulative: got.cumulative.summary().total,
            lost_profiles: got.lost_profiles,
        };
        self.phases.push(figures.clone());
        Ok(figures)
    }

    /// The tools, named.
    pub fn tools(&self) -> &str {
        &self.tools
    }

    /// The phases so far.
    pub fn phases(&self) -> &[PhaseFigures] {
        &self.phases
    }

    /// The run's figures and everything computed from them (see [`Finish`]).
    pub fn finish(self, finish: &Finish<'_>) -> Result<Outcome, CoverageError> {
        let data = self.run.total().cloned().unwrap_or_default();
        let html = self.run.html_inputs();
        let summary = data.summary();
        let delta = finish.previous.map(|before| delta::delta(before, &summary));
        let changed = match finish.diff_base {
            Some(base) => {
                let lines = diff::git_changed_lines(&data.root, base)?;
                Some((base.to_owned(), diff::changed_coverage(&lines, &data)))
            }
            None => None,
        };
        let own: Vec<(&str, crate::model::Counts)> =
            self.phases.iter().map(|p| (p.name.as_str(), p.own.lines)).collect();
        let failed_gates = gate::check(finish.gates, &summary, &own, finish.previous);
        Ok(Outcome {
            tools: self.tools,
            phases: self.phases,
            summary,
            data,
            delta,
            changed,
            failed_gates,
            html,
        })
    }
}

impl Outcome {
    /// The lcov tracefile of the run.
    pub fn lcov(&self) -> String {
        crate::lcov::write(&self.data)
    }

    /// The Cobertura document of the run.
    pub fn cobertura(&self, version: &str, timestamp: u64) -> Vec<u8> {
        crate::cobertura::write(&self.data, version, timestamp)
    }

    /// Test processes whose profile was lost, over all phases.
    pub fn lost_profiles(&self) -> usize {
        self.phases.iter().map(|p| p.lost_profiles).sum()
    }
}
