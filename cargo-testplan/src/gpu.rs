//! GPU status for the plan: `--gpu`, else `CARGO_TESTPLAN_GPU`, else detection
//! (testplan_runner::resources::detect_gpus: `CUDA_VISIBLE_DEVICES`, `nvidia-smi -L`,
//! `/dev/nvidia*`).

use testplan_runner::plan::GpuStatus;
use testplan_runner::resources::{GpuChoice, GpuEnv, GpuInfo, detect_gpus};

use crate::cli::GpuArg;
use crate::error::AppError;

/// Decides whether phases that require a GPU can run.
pub fn status(arg: Option<GpuArg>) -> Result<GpuStatus, AppError> {
    let flag = arg.map(|a| match a {
        GpuArg::Auto => "auto",
        GpuArg::Yes => "yes",
        GpuArg::No => "no",
    });
    let choice = GpuChoice::from_flag_and_env(flag)?;
    Ok(from_info(&detect_gpus(&GpuEnv::from_process(), choice)))
}

/// `2 GPUs (nvidia-smi -L)`, `none: CUDA_VISIBLE_DEVICES=-1`, ...
pub fn from_info(info: &GpuInfo) -> GpuStatus {
    let description = match info.count {
        0 => format!("{}", info.source),
        1 => format!("1 GPU ({})", info.source),
        n => format!("{n} GPUs ({})", info.source),
    };
    GpuStatus { available: info.count > 0, description }
}
