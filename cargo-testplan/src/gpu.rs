//! GPU status for the plan: `--gpu`, else `CARGO_TESTPLAN_GPU`, else detection.

use testplan_runner::plan::GpuStatus;

use crate::cli::GpuArg;

/// The environment variable that overrides GPU detection (`auto`, `yes`, `no`).
pub const GPU_ENV: &str = "CARGO_TESTPLAN_GPU";

/// Decides whether phases that require a GPU can run.
pub fn status(arg: Option<GpuArg>) -> GpuStatus {
    let from_env = std::env::var(GPU_ENV).ok();
    let choice = arg.or_else(|| match from_env.as_deref().map(str::trim) {
        Some("yes") | Some("1") | Some("true") => Some(GpuArg::Yes),
        Some("no") | Some("0") | Some("false") => Some(GpuArg::No),
        _ => None,
    });
    match choice {
        Some(GpuArg::Yes) => GpuStatus { available: true, description: "assumed by --gpu yes".to_owned() },
        Some(GpuArg::No) => GpuStatus { available: false, description: "--gpu no".to_owned() },
        Some(GpuArg::Auto) | None => detect(),
    }
}

fn detect() -> GpuStatus {
    GpuStatus { available: false, description: "TEMPORARY".to_owned() }
}
