//! The command line, parsed with clap (derive). Raw strings stop here: everything handed on
//! is typed (`Duration`, `RunIgnored`, `CargoOptions`, ...).

use std::time::Duration;

use camino::Utf8PathBuf;
use clap::{Args, Parser, Subcommand, ValueEnum};
use testplan_runner::cargo::CargoOptions;
use testplan_runner::filter::TestFilter;
use testplan_runner::partition::Partition;

/// Test markers, phased test plans and memory-safe execution for Cargo workspaces.
///
/// Runs exactly the tests `cargo test` runs (doctests included), in parallel — many tests to
/// a process in the phases that batch (unit, integration, doc), one process per test elsewhere — with
/// timeouts and memory limits, and reports each result.
#[derive(Debug, Parser)]
#[command(
    name = "cargo-testplan",
    bin_name = "cargo testplan",
    version,
    max_term_width = 100,
    after_long_help = ENVIRONMENT_HELP
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The environment variables cargo-testplan reads, for `--help`.
const ENVIRONMENT_HELP: &str = "\
Environment:
  CARGO_TESTPLAN_GPU=yes|no|auto   GPU detection, like --gpu (docs/phases.md)
  CARGO_TESTPLAN_HISTORY_LOCK_WAIT=DURATION
                                   how long a run waits for another run's lock on the test
                                   history before it skips updating it (default 10s;
                                   docs/running.md#the-history-lock)
  CARGO_TESTPLAN_LIST_CACHE=0      list binaries and doctests again instead of using the
                                   listing cache (docs/performance.md)
  CARGO_TESTPLAN_TIMINGS=1         print when each stage of a run ends, and the runner's own CPU
                                   time, to stderr (docs/performance.md)";

/// Subcommands. Every phase of the plan is a command too: `cargo testplan unit`,
/// `cargo testplan slow`, ... (the default plan: unit, integration, doc, slow, models, gpu).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole plan, phase by phase (the `run` profile).
    Run(RunArgs),
    /// Run everything but slow and heavy tests: quick, safe feedback (the `fast` profile).
    Fast(RunArgs),
    /// Run the plan plus plainly ignored tests (the `full` profile).
    Full(RunArgs),
    /// Build and list the tests with their markers and phase, without running them.
    List(ListArgs),
    /// Show the registered markers, their descriptions, and how many tests carry each.
    Markers(MarkersArgs),
    /// Explain a test: its markers and where each came from, its phase, and whether it
    /// would run now.
    Explain(ExplainArgs),
    /// Write a commented testplan.toml that reproduces the default plan.
    Init(InitArgs),
    /// Show the resources found (CPUs, memory, cgroup, GPUs) and the defaults that follow:
    /// jobs, memory budget, per-test estimates and limits, timeouts, build jobs.
    Doctor(DoctorArgs),
    /// Re-render a saved run report as human text, Markdown, JUnit XML or JSON.
    Report(ReportArgs),
    /// Join the reports of shards (or of phases run in separate jobs) into one.
    Merge(MergeArgs),
    /// Print the CI job matrix: one job per phase and shard (GitHub Actions' strategy.matrix).
    Matrix(MatrixArgs),
    /// Build the tests once and write an archive of them: binaries, what they need at run
    /// time, the test list. Shard jobs run from it with `--archive`, without cargo.
    Archive(crate::commands::archive::ArchiveArgs),
    /// `cargo testplan PHASE [OPTIONS]`: run one phase of the plan.
    #[command(external_subcommand)]
    Phase(Vec<String>),
}

/// `cargo testplan PHASE`: the options of `run`.
#[derive(Debug, Parser)]
#[command(name = "cargo testplan PHASE", no_binary_name = false)]
pub struct PhaseCli {
    /// The options of `run`.
    #[command(flatten)]
    pub args: RunArgs,
}

/// Plan selection shared by `run`, `list` and `explain`.
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Plan")]
pub struct PlanArgs {
    /// Run only tests whose markers match this expression: marker names with `and`, `or`,
    /// `not` and parentheses, e.g. "integration and not (slow or requires-gpu)".
    #[arg(short = 'm', long = "markers", value_name = "EXPR")]
    pub markers: Option<String>,
    /// Run only tests whose names match this expression: case-insensitive substrings with
    /// `and`, `or`, `not` and parentheses, e.g. "parse and not json". A substring also matches
    /// the test's binary id, target name and source file (`-k cli`: the tests of tests/cli.rs).
    #[arg(short = 'k', long = "keyword", value_name = "EXPR")]
    pub keyword: Option<String>,
    /// Run only these phases (comma separated), in plan order.
    #[arg(long, value_name = "PHASES", value_delimiter = ',')]
    pub phase: Vec<String>,
    /// Use this profile (built in: run, fast, full; more in testplan.toml).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// GPU detection: `auto` (NVIDIA driver, CUDA_VISIBLE_DEVICES), `yes` (assume one),
    /// `no` (assume none). Also the CARGO_TESTPLAN_GPU environment variable.
    #[arg(long, value_enum, value_name = "WHEN")]
    pub gpu: Option<GpuArg>,
}

/// `--gpu`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GpuArg {
    /// Detect.
    Auto,
    /// Assume a GPU.
    Yes,
    /// Assume none.
    No,
}

/// `cargo testplan markers`.
#[derive(Debug, Args)]
pub struct MarkersArgs {
    /// Package, target and build selection (cargo's meaning).
    #[command(flatten)]
    pub cargo: CargoArgs,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `cargo testplan explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The test: its full name (`tests::parse`), `BINARY-ID NAME`, or a substring that
    /// matches one test.
    #[arg(value_name = "NAME", required = true, num_args = 1..)]
    pub name: Vec<String>,
    /// Package, target and build selection (cargo's meaning).
    #[command(flatten)]
    pub cargo: CargoArgs,
    /// Plan selection: explain whether the test would run with these.
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Which ignored tests would run.
    #[arg(long, value_enum)]
    pub run_ignored: Option<RunIgnoredArg>,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `cargo testplan doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Pretend usable memory is this much, as `run --memory-budget` does.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory_budget: Option<u64>,
    /// GPU detection, as for `run`.
    #[arg(long, value_enum, value_name = "WHEN")]
    pub gpu: Option<GpuArg>,
}

/// `cargo testplan init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Path to Cargo.toml (testplan.toml is written beside the workspace's root manifest).
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<Utf8PathBuf>,
    /// Overwrite an existing testplan.toml.
    #[arg(long)]
    pub force: bool,
    /// Print the file instead of writing it.
    #[arg(long)]
    pub stdout: bool,
}

/// `cargo testplan run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Package, target and build selection (cargo's meaning).
    #[command(flatten)]
    pub cargo: CargoArgs,
    /// Test name filters (libtest's meaning).
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Plan selection.
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Execution options.
    #[command(flatten)]
    pub runner: RunnerArgs,
    /// Sharding.
    #[command(flatten)]
    pub partition: PartitionArgs,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Reports and summaries.
    #[command(flatten)]
    pub reports: ReportOutputArgs,
    /// Re-running what failed, stepwise runs, durations.
    #[command(flatten)]
    pub daily: DailyArgs,
    /// Running from an archive instead of a build.
    #[command(flatten)]
    pub archive: crate::commands::archive::ArchiveSourceArgs,
    /// Coverage per phase (docs/coverage.md).
    #[command(flatten)]
    pub coverage: crate::coverage::CoverageArgs,
}

impl RunArgs {
    /// Takes libtest's options given after `--` (`cargo testplan run -- --nocapture`, as
    /// with `cargo test`) out of the name filters and gives them their meaning here:
    ///
    /// | after `--` | means |
    /// |---|---|
    /// | `--nocapture` | `--no-capture` |
    /// | `--test-threads N`, `--test-threads=N` | `-j N` |
    /// | `--include-ignored` | `--run-ignored all` |
    /// | `--ignored` | `--run-ignored only` |
    /// | `--exact` | `--exact` |
    /// | `--skip NAME`, `--skip=NAME` | `--skip NAME` |
    ///
    /// Anything else starting with `-` is an error naming the option to use instead (a
    /// filter never starts with `-`: it used to become one and select nothing).
    pub fn take_libtest_args(&mut self) -> Result<(), LibtestOptionError> {
        let words = std::mem::take(&mut self.filter.filters);
        let mut words = words.into_iter();
        while let Some(word) = words.next() {
            if !word.starts_with('-') {
                self.filter.filters.push(word);
                continue;
            }
            let (flag, inline) = match word.split_once('=') {
                Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
                None => (word.clone(), None),
            };
            let mut value = |what: &'static str| {
                let missing = || LibtestOptionError::MissingValue { flag: flag.clone(), what };
                inline.clone().or_else(|| words.next()).ok_or_else(missing)
            };
            match flag.as_str() {
                "--nocapture" | "--no-capture" => self.runner.no_capture = true,
                "--test-threads" => {
                    let threads = value("a number")?;
                    let invalid = |reason| LibtestOptionError::InvalidValue { flag: flag.clone(), reason };
                    self.runner.jobs = Some(parse_jobs(&threads).map_err(invalid)?);
                }
                "--include-ignored" => self.filter.run_ignored = Some(RunIgnoredArg::All),
                "--ignored" => self.filter.run_ignored = Some(RunIgnoredArg::Only),
                "--exact" => self.filter.exact = true,
                "--skip" => {
                    let name = value("a name")?;
                    self.filter.skip.push(name);
                }
                _ => return Err(LibtestOptionError::Unknown { instead: instead_of(&flag), flag }),
            }
        }
        Ok(())
    }
}

/// Why a libtest option after `--` cannot be taken.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LibtestOptionError {
    /// An option that takes a value has none.
    #[error("`-- {flag}` needs {what}")]
    MissingValue {
        /// The option.
        flag: String,
        /// What it takes (`a number`, `a name`).
        what: &'static str,
    },
    /// The value is invalid.
    #[error("`-- {flag}`: {reason}")]
    InvalidValue {
        /// The option.
        flag: String,
        /// Why, as the matching option before `--` says it.
        reason: ValueError,
    },
    /// An option cargo-testplan does not take after `--`.
    #[error("`-- {flag}` is not a cargo-testplan option: {instead}")]
    Unknown {
        /// The option.
        flag: String,
        /// What to use instead.
        instead: &'static str,
    },
}

/// What to use instead of a libtest option after `--` that cargo-testplan does not take there.
fn instead_of(flag: &str) -> &'static str {
    match flag {
        "--show-output" => "passing tests' output is not kept: use --no-capture to see it as tests run",
        "--list" => "use `cargo testplan list`",
        "-q" | "--quiet" => "use -q before `--`",
        "--color" => "use --color before `--`",
        "--format" | "-Z" | "--report-time" | "--ensure-time" => {
            "cargo-testplan reads libtest's output itself: see --report-json, --junit and --durations"
        }
        "--shuffle" | "--shuffle-seed" => "tests start in plan order (see --ff)",
        "--bench" | "--test" => "use --benches / --tests before `--` to choose targets",
        "--force-run-in-process" => "tests run in processes of their own or in batches (see --isolation)",
        _ => {
            "options after `--` that cargo-testplan understands: --nocapture, --test-threads N, \
              --include-ignored, --ignored, --exact, --skip NAME"
        }
    }
}

/// pytest's daily loop (docs/daily-loop.md): what failed last time, stepwise runs, the
/// slowest tests.
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Daily loop")]
pub struct DailyArgs {
    /// Run only the tests that failed (or crashed, timed out, exceeded memory) when they
    /// last ran with this selection; every test when none did.
    #[arg(long = "lf", visible_alias = "last-failed")]
    pub last_failed: bool,
    /// Run the tests that failed last time first (within each phase), then the rest.
    #[arg(long = "ff", visible_alias = "failed-first")]
    pub failed_first: bool,
    /// Stop at the first failure; the next `--sw` run starts at that test, leaving out the
    /// tests before it.
    #[arg(long = "sw", visible_alias = "stepwise", conflicts_with = "no_fail_fast")]
    pub stepwise: bool,
    /// With --sw: also leave out the test the last stepwise run stopped at.
    #[arg(long, requires = "stepwise")]
    pub sw_skip: bool,
    /// Stop starting tests after N failures (1: fail fast; running tests finish).
    #[arg(long, value_name = "N", value_parser = parse_max_fail, conflicts_with = "no_fail_fast")]
    pub max_fail: Option<usize>,
    /// Stop after the first failure: `--max-fail 1`.
    #[arg(short = 'x', long = "exitfirst", conflicts_with_all = ["max_fail", "no_fail_fast"])]
    pub exit_first: bool,
    /// Print the N slowest tests of the run at the end (0: all).
    #[arg(long, value_name = "N")]
    pub durations: Option<usize>,
    /// With --durations: leave out tests faster than this (default 5ms, as pytest).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "durations")]
    pub durations_min: Option<Duration>,
    /// Name every skipped test with its reason at the end (pytest's `-rs`).
    #[arg(long)]
    pub show_skipped: bool,
}

impl DailyArgs {
    /// `--max-fail`, `-x`, or none.
    pub fn max_fail(&self) -> Option<usize> {
        self.max_fail.or((self.exit_first || self.stepwise).then_some(1))
    }
}

/// `--max-fail`: at least one.
fn parse_max_fail(text: &str) -> Result<usize, ValueError> {
    positive_count(text, "--max-fail 0 would stop before any test: give 1 or more, or --no-fail-fast")
}

/// `cargo testplan list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Package, target and build selection (cargo's meaning).
    #[command(flatten)]
    pub cargo: CargoArgs,
    /// Test name filters (libtest's meaning).
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Plan selection: shows which tests these would run.
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Output format: `human`, `json` (this project's schema, docs/report-schema.md) or
    /// `nextest-json` (cargo-nextest's `TestListSummary`).
    #[arg(long, value_enum, default_value_t = ListFormat::Human, help_heading = "Output")]
    pub message_format: ListFormat,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Binaries listed at once, at least 1 (default: available CPUs).
    #[arg(short = 'j', long, value_name = "N", help_heading = "Execution", value_parser = parse_jobs)]
    pub jobs: Option<usize>,
}

/// `list --message-format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// Readable text.
    Human,
    /// cargo-testplan's list schema.
    Json,
    /// cargo-nextest's `cargo nextest list --message-format json` schema.
    NextestJson,
}

/// Cargo's selection and build options.
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Package selection")]
pub struct CargoArgs {
    /// Path to Cargo.toml.
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<Utf8PathBuf>,
    /// Package to test (repeatable).
    #[arg(short = 'p', long = "package", value_name = "SPEC")]
    pub packages: Vec<String>,
    /// Test all packages in the workspace.
    #[arg(long, alias = "all")]
    pub workspace: bool,
    /// Exclude packages from the test (with --workspace).
    #[arg(long, value_name = "SPEC")]
    pub exclude: Vec<String>,
    /// Test only this package's library.
    #[arg(long, help_heading = "Target selection")]
    pub lib: bool,
    /// Test all binaries.
    #[arg(long, help_heading = "Target selection")]
    pub bins: bool,
    /// Test only the named binary (repeatable).
    #[arg(long, value_name = "NAME", help_heading = "Target selection")]
    pub bin: Vec<String>,
    /// Test all integration test targets.
    #[arg(long, help_heading = "Target selection")]
    pub tests: bool,
    /// Test only the named integration test target (repeatable).
    #[arg(long, value_name = "NAME", help_heading = "Target selection")]
    pub test: Vec<String>,
    /// Test all examples.
    #[arg(long, help_heading = "Target selection")]
    pub examples: bool,
    /// Test all benches (in test mode).
    #[arg(long, help_heading = "Target selection")]
    pub benches: bool,
    /// Test all targets (like cargo, doctests are not included).
    #[arg(long, help_heading = "Target selection")]
    pub all_targets: bool,
    /// Test only this library's documentation (doctests).
    #[arg(long, help_heading = "Target selection")]
    pub doc: bool,
    /// Space or comma separated list of features to activate.
    #[arg(short = 'F', long, value_name = "FEATURES", help_heading = "Feature selection")]
    pub features: Vec<String>,
    /// Activate all available features.
    #[arg(long, help_heading = "Feature selection")]
    pub all_features: bool,
    /// Do not activate the `default` feature.
    #[arg(long, help_heading = "Feature selection")]
    pub no_default_features: bool,
    /// Build artifacts in release mode, with optimizations.
    #[arg(short = 'r', long, help_heading = "Compilation options")]
    pub release: bool,
    /// Build artifacts with the specified cargo profile (cargo's `--profile`).
    #[arg(long, value_name = "NAME", help_heading = "Compilation options")]
    pub cargo_profile: Option<String>,
    /// Build for the target triple.
    #[arg(long, value_name = "TRIPLE", help_heading = "Compilation options")]
    pub target: Option<String>,
    /// Directory for all generated artifacts.
    #[arg(long, value_name = "DIR", help_heading = "Compilation options")]
    pub target_dir: Option<Utf8PathBuf>,
    /// Assert that `Cargo.lock` will remain unchanged.
    #[arg(long, help_heading = "Manifest options")]
    pub locked: bool,
    /// Run without accessing the network.
    #[arg(long, help_heading = "Manifest options")]
    pub offline: bool,
    /// Equivalent to specifying both --locked and --offline.
    #[arg(long, help_heading = "Manifest options")]
    pub frozen: bool,
}

impl CargoArgs {
    /// The typed cargo options.
    pub fn to_options(&self, color: ColorChoice) -> CargoOptions {
        CargoOptions {
            manifest_path: self.manifest_path.clone(),
            packages: self.packages.clone(),
            workspace: self.workspace,
            exclude: self.exclude.clone(),
            lib: self.lib,
            bins: self.bins,
            bin: self.bin.clone(),
            tests: self.tests,
            test: self.test.clone(),
            examples: self.examples,
            benches: self.benches,
            all_targets: self.all_targets,
            doc: self.doc,
            features: self.features.clone(),
            all_features: self.all_features,
            no_default_features: self.no_default_features,
            release: self.release,
            cargo_profile: self.cargo_profile.clone(),
            target: self.target.clone(),
            target_dir: self.target_dir.clone(),
            locked: self.locked,
            offline: self.offline,
            frozen: self.frozen,
            color: Some(color.as_str().to_owned()),
            build_jobs: None,
            env: Vec::new(),
        }
    }
}

/// Test name filters with libtest's meaning.
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Test selection")]
pub struct FilterArgs {
    /// Run only tests whose name contains one of these (equals one, with --exact).
    #[arg(value_name = "FILTER")]
    pub filters: Vec<String>,
    /// Filters and --skip must match test names exactly.
    #[arg(long)]
    pub exact: bool,
    /// Skip tests whose name contains this (repeatable).
    #[arg(long, value_name = "PATTERN")]
    pub skip: Vec<String>,
    /// Which ignored tests run: `default` (not plainly ignored ones; tests ignored for their
    /// markers, like `#[ignore = "slow"]`, run in their phase), `only`, `all`.
    /// Default: the profile's (`full`: all).
    #[arg(long, value_enum)]
    pub run_ignored: Option<RunIgnoredArg>,
}

impl FilterArgs {
    /// The typed filter.
    pub fn to_filter(&self) -> TestFilter {
        TestFilter { patterns: self.filters.clone(), exact: self.exact, skip: self.skip.clone() }
    }
}

/// `--run-ignored`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RunIgnoredArg {
    /// Run non-ignored tests; report ignored ones as skipped.
    Default,
    /// Run only ignored tests.
    Only,
    /// Run both.
    All,
}

impl From<RunIgnoredArg> for testplan_markers::RunIgnored {
    fn from(arg: RunIgnoredArg) -> Self {
        match arg {
            RunIgnoredArg::Default => testplan_markers::RunIgnored::Default,
            RunIgnoredArg::Only => testplan_markers::RunIgnored::Only,
            RunIgnoredArg::All => testplan_markers::RunIgnored::All,
        }
    }
}

/// Execution options.
#[derive(Debug, Args)]
#[command(next_help_heading = "Execution")]
pub struct RunnerArgs {
    /// Tests to run at once. Default: min(CPUs, usable memory / per-test estimate), at least
    /// 1; the run header says which bound won.
    #[arg(short = 'j', long, value_name = "N", value_parser = parse_jobs)]
    pub jobs: Option<usize>,
    /// Memory the running tests' estimates may add up to, instead of the usable memory
    /// found (cgroup limit and MemAvailable). E.g. 6GiB, 512MiB (a unit is required).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory_budget: Option<u64>,
    /// Per-test memory limit: a test whose process tree grows past it is killed and reported
    /// as "memory limit exceeded". Overrides the phases' and markers' `memory`. Default:
    /// theirs, else the memory budget. E.g. 2GiB, 512MiB (a unit is required).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory_limit: Option<u64>,
    /// Run a failed test up to N more times; one that then passes is reported flaky.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub retries: u32,
    /// Run every test even after failures (default: stop starting tests after the first).
    #[arg(long)]
    pub no_fail_fast: bool,
    /// Show tests' output as they run instead of capturing it: one test at a time, each in a
    /// process of its own (doctests stay captured: rustdoc runs them in batches). Also
    /// `-- --nocapture`.
    #[arg(long, visible_alias = "nocapture")]
    pub no_capture: bool,
    /// Hard timeout per test: the test's process group gets SIGTERM, then SIGKILL.
    /// Units: ms, s, m, h (a bare number is seconds). Overrides the phases' timeouts.
    /// Default: the phase's, else 300s. Zero is rejected.
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    pub timeout: Option<Duration>,
    /// Print `SLOW [> 60s] NAME` while a test runs past this, and at each multiple (like
    /// nextest's SLOW and cargo test's "has been running for over 60 seconds"), so a hung
    /// test is named long before its timeout. `off` turns it off. Doctests in a batch have
    /// no start of their own and get no such line.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_slow_after)]
    pub slow_after: SlowAfter,
    /// What an empty run means: `fail` (exit 4), `warn`, or `pass`.
    #[arg(long, value_enum, default_value_t = NoTests::Fail)]
    pub no_tests: NoTests,
    /// `process`: every test in a process of its own; `batch`: every phase batches tests
    /// that need no process of their own (many tests per libtest process). Overrides the
    /// phases' `isolation` (default: unit, integration and doc batch).
    #[arg(long, value_enum, value_name = "MODE")]
    pub isolation: Option<IsolationArg>,
    /// `cgroup`: every test (or batch) in a cgroup of its own, inside the runner's: the
    /// kernel enforces its memory limit and reports the kill, and every process it started
    /// is found and killed (an error where no writable cgroup memory controller exists);
    /// `none`: process groups and memory sampling; `auto`: cgroup where possible
    /// (docs/memory.md#containment).
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t = ContainmentArg::Auto)]
    pub containment: ContainmentArg,
    /// Compile and run every doctest, even those whose results the doctest result cache
    /// holds (results of an unchanged crate are otherwise reported `passed (cached)`;
    /// docs/running.md#doctest-result-cache). What this run sees is cached as usual.
    #[arg(long)]
    pub no_cache: bool,
    /// Also write the run report (JSON, docs/report-schema.md) to this path. It is always
    /// written to `<target-dir>/testplan/last-run.json`.
    #[arg(long, value_name = "PATH", help_heading = "Output")]
    pub report_json: Option<Utf8PathBuf>,
}

/// `--containment`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ContainmentArg {
    /// cgroup where possible, else none.
    Auto,
    /// A cgroup per test, or an error.
    Cgroup,
    /// Process groups and sampling only.
    None,
}

impl From<ContainmentArg> for testplan_runner::platform::containment::ContainmentMode {
    fn from(arg: ContainmentArg) -> Self {
        match arg {
            ContainmentArg::Auto => Self::Auto,
            ContainmentArg::Cgroup => Self::Cgroup,
            ContainmentArg::None => Self::None,
        }
    }
}

/// `--isolation`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum IsolationArg {
    /// One process per test.
    Process,
    /// Many tests per process where they need no process of their own.
    Batch,
}

impl From<IsolationArg> for testplan_markers::plan::Isolation {
    fn from(arg: IsolationArg) -> Self {
        match arg {
            IsolationArg::Process => testplan_markers::plan::Isolation::Process,
            IsolationArg::Batch => testplan_markers::plan::Isolation::Batch,
        }
    }
}

/// `--no-tests`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum NoTests {
    /// Exit with code 4.
    Fail,
    /// Print a warning, exit 0.
    Warn,
    /// Exit 0 silently.
    Pass,
}

/// Output options.
#[derive(Debug, Args)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Color: `auto` (when the output is a terminal), `always`, `never`.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Print a line per test, with its duration and peak memory.
    #[arg(short, long, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Print only failures and the final line.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Color when writing to a terminal (and `NO_COLOR` is unset).
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// The value cargo understands.
    pub fn as_str(self) -> &'static str {
        match self {
            ColorChoice::Auto => "auto",
            ColorChoice::Always => "always",
            ColorChoice::Never => "never",
        }
    }

    /// Whether to color a stream that is (or is not) a terminal.
    pub fn enabled(self, is_terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => is_terminal && std::env::var_os("NO_COLOR").is_none(),
        }
    }
}

/// `--partition` and `--timings` of run commands.
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Partition")]
pub struct PartitionArgs {
    /// Run one shard of every phase: `count:K/N` (round-robin), `hash:K/N` (by test name,
    /// stable as tests change) or `duration:K/N` (balanced by recorded durations; falls back
    /// to count without history). Tests of other shards are counted as deselected.
    #[arg(long, value_name = "STRATEGY:K/N", value_parser = clap::value_parser!(Partition))]
    pub partition: Option<Partition>,
    /// Durations for `--partition duration:K/N`: a run report (e.g. a merged one from an
    /// earlier CI run). Default: this machine's history. Every shard must use the same file.
    #[arg(long, value_name = "FILE")]
    pub timings: Option<Utf8PathBuf>,
}

/// Report files and summary options of run commands.
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Output")]
pub struct ReportOutputArgs {
    /// Write JUnit XML (a testsuite per phase and binary) to this path.
    #[arg(long, value_name = "PATH")]
    pub junit: Option<Utf8PathBuf>,
    /// Write the Markdown summary to this path. On GitHub Actions it is also appended to
    /// $GITHUB_STEP_SUMMARY.
    #[arg(long, value_name = "PATH")]
    pub markdown: Option<Utf8PathBuf>,
    /// Compare with this run report instead of the previous run of the same profile.
    #[arg(long, value_name = "FILE", conflicts_with = "no_baseline")]
    pub baseline: Option<Utf8PathBuf>,
    /// Do not compare with an earlier run.
    #[arg(long)]
    pub no_baseline: bool,
    /// No progress bar or progress lines (the bar is drawn only on a terminal, never when
    /// CI is set).
    #[arg(long)]
    pub no_progress: bool,
}

/// `cargo testplan report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run report (`<target-dir>/testplan/last-run.json`, `--report-json`, `merge -o`).
    #[arg(value_name = "FILE")]
    pub file: Utf8PathBuf,
    /// What to print.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,
    /// Write to this file instead of stdout.
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<Utf8PathBuf>,
    /// Color: `auto` (when the output is a terminal), `always`, `never`.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// `report --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Phase summaries and the table of phases, as a run prints them.
    Human,
    /// The Markdown summary.
    Markdown,
    /// JUnit XML.
    Junit,
    /// The report itself (normalised).
    Json,
}

/// `cargo testplan merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The reports to join (of shards, or of phases run in separate jobs).
    #[arg(value_name = "FILE", required = true, num_args = 1..)]
    pub files: Vec<Utf8PathBuf>,
    /// Where to write the merged report.
    #[arg(short, long, value_name = "PATH")]
    pub output: Utf8PathBuf,
    /// Also write JUnit XML of the merged run.
    #[arg(long, value_name = "PATH")]
    pub junit: Option<Utf8PathBuf>,
    /// Also write the Markdown summary (appended to $GITHUB_STEP_SUMMARY on GitHub Actions).
    #[arg(long, value_name = "PATH")]
    pub markdown: Option<Utf8PathBuf>,
    /// Compare the merged run with this report.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<Utf8PathBuf>,
    /// Color: `auto` (when the output is a terminal), `always`, `never`.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// `cargo testplan matrix`.
#[derive(Debug, Args)]
pub struct MatrixArgs {
    /// Shards per phase.
    #[arg(long, value_name = "N", conflicts_with = "max_shard_time", value_parser = parse_shards)]
    pub shards: Option<usize>,
    /// Shards per phase chosen so no shard takes longer than this by recorded durations
    /// (`--timings`, else this machine's history; one shard per phase without either).
    #[arg(long, value_name = "DURATION", value_parser = parse_shard_time)]
    pub max_shard_time: Option<Duration>,
    /// How shards split a phase (default: `duration` with --max-shard-time, else `count`).
    #[arg(long, value_enum, value_name = "STRATEGY")]
    pub strategy: Option<StrategyArg>,
    /// Recorded durations: a run report (e.g. the merged report of an earlier CI run).
    #[arg(long, value_name = "FILE")]
    pub timings: Option<Utf8PathBuf>,
    /// The runner label of phases without `runs-on` in the configuration.
    #[arg(long, value_name = "LABEL", default_value = "ubuntu-latest")]
    pub runs_on: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = MatrixFormat::Github)]
    pub format: MatrixFormat,
    /// Path to Cargo.toml.
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<Utf8PathBuf>,
    /// Use this profile's phases (default: `run`).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Only these phases (comma separated).
    #[arg(long, value_name = "PHASES", value_delimiter = ',')]
    pub phase: Vec<String>,
}

/// `matrix --strategy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StrategyArg {
    /// Round-robin in plan order.
    Count,
    /// By a stable hash of the test name.
    Hash,
    /// Balanced by recorded durations.
    Duration,
}

/// `matrix --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MatrixFormat {
    /// `{"include":[{"phase":...,"partition":...,"runs-on":...}]}` for `strategy.matrix`.
    Github,
    /// One line per job: phase, partition, runner label.
    Human,
    /// A whole GitHub Actions workflow: a build job that archives the tests once, one job
    /// per phase and shard running from the archive, a merge job (docs/ci.md).
    GithubWorkflow,
}

/// Parses a size: `512MiB`, `2GiB`, `1.5GB`, `4096B`. A bare number is rejected with a
/// suggestion: on a command line `--memory-limit 100` is a slip for 100MiB far more often
/// than a request for 100 bytes (which would kill every test). The configuration's integers
/// stay bytes (TOML has no unit to forget there).
pub fn parse_size(text: &str) -> Result<u64, ValueError> {
    let trimmed = text.trim();
    if !trimmed.is_empty() && trimmed.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(ValueError::SizeWithoutUnit(trimmed.to_owned()));
    }
    Ok(testplan_markers::ByteSize::parse(text)?.bytes())
}

/// Why a value on the command line is refused (clap shows it after `invalid value 'X' for
/// '--option'`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// Zero, where it would do nothing useful: the message says what to give instead.
    #[error("{0}")]
    Zero(&'static str),
    /// A bare number as a size.
    #[error(
        "a size needs a unit: did you mean {0}MiB? (or {0}GiB; units B, KiB, MiB, GiB, TiB, kB, MB, GB, TB; \
         {0}B for bytes)"
    )]
    SizeWithoutUnit(String),
    /// Not a size.
    #[error("{0}")]
    Size(#[from] testplan_markers::units::UnitError),
    /// Not a whole number.
    #[error("`{0}` is not a whole number: give 1 or more")]
    NotACount(String),
    /// Not a number with a duration unit.
    #[error("invalid duration `{0}`: expected e.g. 30s, 500ms, 2m")]
    Duration(String),
    /// A duration with an unknown unit.
    #[error("invalid duration unit `{unit}` in `{text}`: use ms, s, m or h")]
    DurationUnit {
        /// The unit given.
        unit: String,
        /// The whole value.
        text: String,
    },
    /// A duration `Duration` cannot hold (negative, too large).
    #[error("invalid duration `{text}`: {reason}")]
    DurationRange {
        /// The value given.
        text: String,
        /// Why.
        reason: std::time::TryFromFloatSecsError,
    },
    /// A duration over a year (`MAX_DURATION`).
    #[error("`{0}` is too long: at most 365 days (8760h)")]
    TooLong(String),
}

/// The longest duration an option accepts (a year): far past any sensible timeout, and
/// well inside what `Instant` arithmetic can hold.
const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

/// `--timeout`: a positive duration (zero would time out every test).
fn parse_timeout(text: &str) -> Result<Duration, ValueError> {
    positive_duration(text, "a zero timeout would time out every test: give e.g. 300s, 10m or 1h")
}

/// `matrix --max-shard-time`: a positive duration.
fn parse_shard_time(text: &str) -> Result<Duration, ValueError> {
    positive_duration(text, "a zero shard time cannot be met: give e.g. 10m or 1h")
}

fn positive_duration(text: &str, zero: &'static str) -> Result<Duration, ValueError> {
    match parse_duration(text)? {
        Duration::ZERO => Err(ValueError::Zero(zero)),
        d if d > MAX_DURATION => Err(ValueError::TooLong(text.trim().to_owned())),
        d => Ok(d),
    }
}

/// `-j/--jobs`: at least one.
fn parse_jobs(text: &str) -> Result<usize, ValueError> {
    positive_count(text, "-j 0 would run nothing: give 1 or more, or leave -j out for the default")
}

/// `matrix --shards`: at least one.
fn parse_shards(text: &str) -> Result<usize, ValueError> {
    positive_count(text, "0 shards would run nothing: give 1 or more")
}

fn positive_count(text: &str, zero: &'static str) -> Result<usize, ValueError> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err(ValueError::Zero(zero)),
        Ok(n) => Ok(n),
        Err(_) => Err(ValueError::NotACount(text.to_owned())),
    }
}

/// `--slow-after`: a duration, or never.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlowAfter(pub Option<Duration>);

/// A positive duration, or `off`.
fn parse_slow_after(text: &str) -> Result<SlowAfter, ValueError> {
    if text.trim() == "off" {
        return Ok(SlowAfter(None));
    }
    positive_duration(
        text,
        "a zero slow threshold would report every test: give a duration such as 60s, or `off`",
    )
    .map(|after| SlowAfter(Some(after)))
}

/// Parses `300ms`, `5s`, `2m`, `1h`, `1.5s` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, ValueError> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().map_err(|_| ValueError::Duration(text.to_owned()))?;
    let scale = match unit.trim() {
        "" | "s" | "sec" | "secs" => 1.0,
        "ms" => 0.001,
        "m" | "min" | "mins" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(ValueError::DurationUnit { unit: other.to_owned(), text: text.to_owned() });
        }
    };
    Duration::try_from_secs_f64(value * scale)
        .map_err(|reason| ValueError::DurationRange { text: text.to_owned(), reason })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_parse() {
        let cases = [
            ("5s", Ok(Duration::from_secs(5))),
            ("300ms", Ok(Duration::from_millis(300))),
            ("2m", Ok(Duration::from_secs(120))),
            ("1h", Ok(Duration::from_secs(3600))),
            ("1.5s", Ok(Duration::from_millis(1500))),
            ("7", Ok(Duration::from_secs(7))),
            ("5x", Err("invalid duration unit `x` in `5x`: use ms, s, m or h".to_owned())),
            ("s", Err("invalid duration `s`: expected e.g. 30s, 500ms, 2m".to_owned())),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_duration(text).map_err(|e| e.to_string()), expected, "{text}");
        }
    }

    fn run_args(args: &[&str]) -> Result<RunArgs, String> {
        let argv = ["cargo-testplan", "run"].iter().chain(args).copied();
        let Command::Run(mut run) = Cli::try_parse_from(argv).expect("parses").command else {
            panic!("not run");
        };
        run.take_libtest_args().map(|()| run).map_err(|e| e.to_string())
    }

    #[test]
    fn libtest_options_after_the_separator_get_their_meaning() {
        let run = run_args(&["parse", "--", "--nocapture", "--test-threads=3", "--exact", "--skip", "slow"])
            .expect("accepted");
        assert_eq!(run.filter.filters, ["parse"]);
        assert!(run.runner.no_capture && run.filter.exact);
        assert_eq!((run.runner.jobs, run.filter.skip.as_slice()), (Some(3), &["slow".to_owned()][..]));
        let run = run_args(&["--", "--test-threads", "1", "--include-ignored"]).expect("accepted");
        assert_eq!((run.runner.jobs, run.filter.run_ignored), (Some(1), Some(RunIgnoredArg::All)));
        assert_eq!(
            run_args(&["--", "--ignored"]).expect("accepted").filter.run_ignored,
            Some(RunIgnoredArg::Only)
        );
        let cases = [
            (
                &["--", "--show-output"][..],
                "`-- --show-output` is not a cargo-testplan option: passing tests' output is not kept: use --no-capture to see it as tests run",
            ),
            (
                &["--", "--frobnicate"],
                "`-- --frobnicate` is not a cargo-testplan option: options after `--` that cargo-testplan understands: --nocapture, --test-threads N, --include-ignored, --ignored, --exact, --skip NAME",
            ),
            (&["--", "--test-threads"], "`-- --test-threads` needs a number"),
            (
                &["--", "--test-threads=0"],
                "`-- --test-threads`: -j 0 would run nothing: give 1 or more, or leave -j out for the default",
            ),
        ];
        for (args, message) in cases {
            assert_eq!(run_args(args).map(|_| ()), Err(message.to_owned()), "{args:?}");
        }
    }

    #[test]
    fn daily_loop_options_that_contradict_each_other_are_rejected() {
        for args in [
            &["run", "--sw", "--no-fail-fast"][..],
            &["run", "--max-fail", "2", "--no-fail-fast"],
            &["run", "-x", "--max-fail", "2"],
            &["run", "--sw-skip"],
            &["run", "--durations-min", "1s"],
        ] {
            let argv = std::iter::once("cargo-testplan").chain(args.iter().copied());
            assert!(Cli::try_parse_from(argv).is_err(), "{args:?}");
        }
        assert_eq!(
            error_of(&["run", "--max-fail", "0"]),
            "error: invalid value '0' for '--max-fail <N>': --max-fail 0 would stop before any test: give 1 or more, or --no-fail-fast"
        );
        let max_fail = |args: &[&str]| run_args(args).expect("parses").daily.max_fail();
        assert_eq!((max_fail(&[]), max_fail(&["-x"]), max_fail(&["--sw"])), (None, Some(1), Some(1)));
        assert_eq!(max_fail(&["--sw", "--max-fail", "3"]), Some(3));
    }

    /// The first line of clap's error for `args` (after `cargo-testplan`).
    fn error_of(args: &[&str]) -> String {
        let argv = std::iter::once("cargo-testplan").chain(args.iter().copied());
        let error = Cli::try_parse_from(argv).expect_err("must be rejected");
        assert_eq!(error.exit_code(), 2, "{args:?}");
        error.to_string().lines().next().unwrap_or_default().to_owned()
    }

    #[test]
    fn odd_numbers_are_rejected_with_what_to_write_instead() {
        const ZERO_TIMEOUT: &str = "a zero timeout would time out every test: give e.g. 300s, 10m or 1h";
        const ZERO_JOBS: &str = "-j 0 would run nothing: give 1 or more, or leave -j out for the default";
        let no_unit = |n: &str| {
            format!(
                "a size needs a unit: did you mean {n}MiB? (or {n}GiB; units B, KiB, MiB, GiB, TiB, kB, MB, \
                 GB, TB; {n}B for bytes)"
            )
        };
        // (command line, the option as clap names it, why its last word is refused)
        let cases: [(&[&str], &str, String); 10] = [
            (&["run", "--timeout", "0"], "--timeout <DURATION>", ZERO_TIMEOUT.into()),
            (&["run", "--timeout", "0ms"], "--timeout <DURATION>", ZERO_TIMEOUT.into()),
            (
                &["run", "--timeout", "9999999999"],
                "--timeout <DURATION>",
                "`9999999999` is too long: at most 365 days (8760h)".into(),
            ),
            (&["run", "-j", "0"], "--jobs <N>", ZERO_JOBS.into()),
            (&["list", "-j", "0"], "--jobs <N>", ZERO_JOBS.into()),
            (&["run", "--memory-limit", "100"], "--memory-limit <SIZE>", no_unit("100")),
            (
                &["run", "--memory-budget", "0GiB"],
                "--memory-budget <SIZE>",
                "'0GiB' must be greater than zero".into(),
            ),
            (&["doctor", "--memory-budget", "2.5"], "--memory-budget <SIZE>", no_unit("2.5")),
            (
                &["matrix", "--shards", "0"],
                "--shards <N>",
                "0 shards would run nothing: give 1 or more".into(),
            ),
            (
                &["run", "--slow-after", "0s"],
                "--slow-after <DURATION>",
                "a zero slow threshold would report every test: give a duration such as 60s, or `off`".into(),
            ),
        ];
        for (args, option, reason) in cases {
            let value = args.last().copied().unwrap_or_default();
            let message = format!("error: invalid value '{value}' for '{option}': {reason}");
            assert_eq!(error_of(args), message, "{args:?}");
        }
        let parsed = |args: &[&str]| {
            let argv = ["cargo-testplan"].iter().chain(args).copied();
            Cli::try_parse_from(argv).map(|_| ()).map_err(|e| e.to_string())
        };
        for ok in [
            &["run", "--timeout", "7"][..],
            &["run", "-j", "1", "--memory-limit", "100B", "--memory-budget", "2GiB"],
            &["matrix", "--max-shard-time", "10m"],
            &["run", "--slow-after", "off", "--retries", "0"],
        ] {
            assert_eq!(parsed(ok), Ok(()), "{ok:?}");
        }
    }
}
