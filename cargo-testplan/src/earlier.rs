//! What earlier runs left for this one, read while the tests build: the daily loop's state
//! and the plan focus it gives (`--lf`, `--ff`, `--sw`), the baseline the run is compared
//! with, and the measured history the planner estimates memory and orders tests from.

use std::path::PathBuf;
use std::thread::JoinHandle;

use camino::Utf8Path;
use testplan_reporter::session::Baseline;
use testplan_runner::history::{HistoryLoad, RecordedHistory};
use testplan_runner::plan::Focus;

use crate::cli::RunArgs;
use crate::commands::daily::{self, LoopState};
use crate::error::AppError;
use crate::history_key::history_key;
use crate::run_reporter::read_baseline_in_background;

/// What earlier runs of the same selection left, some of it still being read.
#[derive(Debug)]
pub struct Earlier {
    /// The key the run's report and loop state are filed under.
    pub history_key: String,
    /// Whether `--lf` / `--sw` narrow the run: it is then neither compared with nor saved as
    /// a run of its selection.
    pub narrowed: bool,
    /// The plan's focus from the daily loop.
    pub focus: Option<Focus>,
    /// The daily loop's state file.
    pub loop_path: PathBuf,
    /// The daily loop's state as read.
    pub loop_state: LoopState,
    baseline: Option<JoinHandle<Result<Option<Baseline>, AppError>>>,
    history: Option<HistoryLoad>,
}

impl Earlier {
    /// Reads the loop state, and starts reading the baseline and the history in the
    /// background; says on stderr when a daily-loop option finds nothing to act on.
    pub fn start_loading(target_dir: &Utf8Path, profile: &str, args: &RunArgs) -> Self {
        let history_key = history_key(profile, args);
        let loop_path = daily::state_path(target_dir.as_std_path(), &history_key);
        let loop_state = daily::load(&loop_path);
        let (focus, notices) = daily::focus(&args.daily, &loop_state);
        notices.iter().for_each(|notice| eprintln!("note: {notice}"));
        let narrowed = daily::narrows(focus.as_ref());
        // A run narrowed by --lf / --sw is not compared with (nor saved as) a run of its selection.
        let skip_baseline = args.reports.no_baseline || (narrowed && args.reports.baseline.is_none());
        let baseline = read_baseline_in_background(target_dir, &history_key, &args.reports, skip_baseline);
        let history = Some(RecordedHistory::start_loading(target_dir));
        Earlier { history_key, narrowed, focus, loop_path, loop_state, baseline: Some(baseline), history }
    }

    /// The measured history (empty, with a warning on stderr, when it cannot be read).
    pub fn history(&mut self) -> RecordedHistory {
        let Some(loading) = self.history.take() else { return RecordedHistory::default() };
        let (history, problem) = loading.finish();
        if let Some(problem) = problem {
            eprintln!("warning: {problem}");
        }
        history
    }

    /// The baseline (an error when `--baseline FILE` cannot be read).
    pub fn baseline(&mut self) -> Result<Option<Baseline>, AppError> {
        let Some(pending) = self.baseline.take() else { return Ok(None) };
        pending.join().unwrap_or(Ok(None))
    }

    /// The key the run is saved under as a run of its selection (`None` when narrowed).
    pub fn saved_as(&self) -> Option<String> {
        (!self.narrowed).then(|| self.history_key.clone())
    }
}
