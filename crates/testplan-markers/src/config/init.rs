//! The commented `testplan.toml` written by `cargo testplan init`. It spells out the default
//! plan, so that editing starts from what runs today (a test checks that it parses back to
//! exactly [`super::Config::default`]).

/// The file's text.
pub(super) const TEMPLATE: &str = r#"# testplan.toml: the test plan of this workspace, read by cargo-testplan.
# As written, it reproduces the built-in default plan. Reference: docs/configuration.md
#
# MARKERS label tests, like pytest markers. Built in:
#   unit, integration, doc   from the target kind (lib/bin/proc-macro, tests/, doctests)
#   e2e                      end-to-end workflow tests
#   slow                     takes seconds or more
#   requires-gpu             needs a GPU; runs only where one is detected
#   requires-models          needs large models or data; memory-heavy, runs serially
#   serial                   must not run beside other tests
# A test also gets markers from
#   its ignore reason:     #[ignore = "requires-gpu, slow: needs CUDA 12"]
#   a module path segment: mod slow { ... }, mod requires_gpu { ... }
#   rules, below.
#
# Declare your own markers (a description is required), and give any marker defaults
# and rules. A rule matches when all of its regexes match.
#
# [markers.gpu-heavy]
# description = "large GPU kernels"
# timeout = "10m"          # per-test timeout
# time-budget = "2m"       # longer than this: reported as a candidate for `slow`
# memory = "4GiB"          # per-test memory estimate and limit
# isolation = "process"    # never batch its tests, even in a batch phase
#
# [[markers.gpu-heavy.rules]]
# name = "^kernels::"      # also: package, binary, kind, file
#
# [[markers.slow.rules]]
# file = "^tests/long/"

# PHASES run in order; each test belongs to the first phase whose `select` matches
# its markers. A test that no phase selects is reported as "not in plan".
# `cargo testplan NAME` runs one phase.

[[phases]]
name = "unit"
select = "unit and not (e2e or slow or requires-gpu or requires-models)"
isolation = "batch"        # many tests per process, like `cargo test` (see below)

[[phases]]
name = "integration"
select = "(integration or e2e) and not (slow or requires-gpu or requires-models)"
isolation = "batch"

[[phases]]
name = "doc"
select = "doc and not (e2e or slow or requires-gpu or requires-models)"
isolation = "batch"

[[phases]]
name = "slow"
select = "slow and not (requires-gpu or requires-models)"

[[phases]]
name = "models"
select = "requires-models and not requires-gpu"
serial = true

[[phases]]
name = "gpu"
select = "requires-gpu"
serial = true
requires = ["gpu"]         # skipped, with the reason, where no GPU is detected

# More phase options:
#   jobs = 4               # parallelism cap (default: from CPUs and memory)
#   timeout = "60s"        # per-test timeout
#   memory = "1GiB"        # per-test memory estimate and limit
#   on-failure = "stop"    # or "continue": later phases run after a failure
#   isolation = "process"  # one process per test (the default), or "batch": many tests
#                          # per process; tests that need their own process still get one
#   runs-on = "gpu-runner" # CI runner label of the phase's jobs in `cargo testplan matrix`

# PROFILES: `run` (every phase), `fast` (no slow or heavy tests) and `full` (plus
# plainly ignored tests) are built in. Define your own for `--profile NAME`:
#
# [profiles.nightly]
# phases = ["unit", "integration", "slow"]
# select = "not requires-gpu"
# run-ignored = "all"      # "default", "only" or "all"
# fail-fast = false
"#;
