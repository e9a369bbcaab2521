//! GPU detection, NVIDIA only, and the `--gpu auto|yes|no` override.
//!
//! In order:
//! 1. `CUDA_VISIBLE_DEVICES` empty or starting with `-1` hides every GPU (as CUDA does);
//! 2. `nvidia-smi -L` on PATH is authoritative: each `GPU N: NAME (UUID: ...)` line is a GPU;
//!    a failure, a non-zero exit or a hang (see [`GpuEnv::timeout`]) means none, with the
//!    reason — an installed `nvidia-smi` is not a GPU;
//! 3. without `nvidia-smi`, the device files `/dev/nvidia[0-9]+` (containers often pass the
//!    devices in without the tools);
//! 4. a `CUDA_VISIBLE_DEVICES` list narrows what was found: indices and `GPU-`/`MIG-` UUID
//!    prefixes are taken in order up to the first entry that names no device (CUDA ignores
//!    the rest of the list from there).
//!
//! `--gpu no` (or `CARGO_TESTPLAN_GPU=no`) reports none without probing; `--gpu yes` keeps
//! what was detected, and with none detected assumes one, saying so.

use std::ffi::OsString;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::str::FromStr;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde::Serialize;

/// The environment variable that overrides detection like `--gpu`.
pub const GPU_ENV: &str = "CARGO_TESTPLAN_GPU";

/// How long `nvidia-smi -L` may take before it counts as failed (a wedged driver hangs it).
pub const NVIDIA_SMI_TIMEOUT: Duration = Duration::from_secs(10);

/// How long output may trail the exit of `nvidia-smi`.
const PIPE_GRACE: Duration = Duration::from_secs(1);

/// `--gpu auto|yes|no`; `true`/`1`/`on` and `false`/`0`/`off` are accepted as `yes` and `no`,
/// as usual for environment variables.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum GpuOverride {
    /// Detect.
    #[default]
    Auto,
    /// Assume at least one GPU.
    Yes,
    /// Assume none.
    No,
}

/// A `--gpu` or `CARGO_TESTPLAN_GPU` value that is not `auto`, `yes` or `no`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid value '{value}' for {origin}: expected auto, yes or no")]
pub struct GpuOverrideError {
    /// The value given.
    pub value: String,
    /// `--gpu` or `CARGO_TESTPLAN_GPU`.
    pub origin: String,
}

impl FromStr for GpuOverride {
    type Err = GpuOverrideError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(GpuOverride::Auto),
            "yes" | "true" | "1" | "on" => Ok(GpuOverride::Yes),
            "no" | "false" | "0" | "off" => Ok(GpuOverride::No),
            _ => Err(GpuOverrideError { value: value.to_owned(), origin: "--gpu".to_owned() }),
        }
    }
}

/// Where a [`GpuChoice`] came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum GpuChoiceOrigin {
    /// Nothing was given.
    #[default]
    Default,
    /// `--gpu`.
    Flag,
    /// `CARGO_TESTPLAN_GPU`.
    Env,
}

/// The override in force and where it came from (for messages like "forced by --gpu yes").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct GpuChoice {
    /// auto, yes or no.
    pub mode: GpuOverride,
    /// Flag, environment or default.
    pub origin: GpuChoiceOrigin,
}

impl GpuChoice {
    /// The flag wins over the environment; an empty environment value counts as unset.
    pub fn resolve(flag: Option<&str>, env: Option<&str>) -> Result<Self, GpuOverrideError> {
        if let Some(flag) = flag {
            return Ok(GpuChoice { mode: flag.parse()?, origin: GpuChoiceOrigin::Flag });
        }
        match env.filter(|v| !v.trim().is_empty()) {
            Some(value) => value
                .parse()
                .map(|mode| GpuChoice { mode, origin: GpuChoiceOrigin::Env })
                .map_err(|e| GpuOverrideError { origin: GPU_ENV.to_owned(), ..e }),
            None => Ok(GpuChoice::default()),
        }
    }

    /// [`GpuChoice::resolve`] with `CARGO_TESTPLAN_GPU` from the process environment.
    pub fn from_flag_and_env(flag: Option<&str>) -> Result<Self, GpuOverrideError> {
        let env = std::env::var_os(GPU_ENV).map(|v| v.to_string_lossy().into_owned());
        GpuChoice::resolve(flag, env.as_deref())
    }

    /// `--gpu yes`, `CARGO_TESTPLAN_GPU=no`, ...
    fn label(&self) -> String {
        let mode = match self.mode {
            GpuOverride::Auto => "auto",
            GpuOverride::Yes => "yes",
            GpuOverride::No => "no",
        };
        match self.origin {
            GpuChoiceOrigin::Env => format!("{GPU_ENV}={mode}"),
            GpuChoiceOrigin::Flag | GpuChoiceOrigin::Default => format!("--gpu {mode}"),
        }
    }
}

/// What detection looks at, injectable so tests can use a stub `nvidia-smi` and a fake `/dev`.
#[derive(Clone, Debug)]
pub struct GpuEnv {
    /// `CUDA_VISIBLE_DEVICES`, if set.
    pub cuda_visible_devices: Option<String>,
    /// `PATH`, searched for `nvidia-smi`.
    pub path: Option<OsString>,
    /// Where `nvidia[0-9]+` device files are looked for (`/dev`).
    pub dev_dir: PathBuf,
    /// How long `nvidia-smi -L` may take.
    pub timeout: Duration,
}

impl GpuEnv {
    /// The runner's own environment and `/dev`.
    pub fn from_process() -> Self {
        GpuEnv {
            cuda_visible_devices: std::env::var_os("CUDA_VISIBLE_DEVICES")
                .map(|v| v.to_string_lossy().into_owned()),
            path: std::env::var_os("PATH"),
            dev_dir: PathBuf::from("/dev"),
            timeout: NVIDIA_SMI_TIMEOUT,
        }
    }
}

/// The GPUs found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GpuInfo {
    /// GPUs usable by tests.
    pub count: usize,
    /// Their names from `nvidia-smi` (`NVIDIA A100-SXM4-40GB`), or their device file names
    /// (`nvidia0`) when only device files were seen.
    pub names: Vec<String>,
    /// How the count was found, or why it is zero.
    pub source: GpuSource,
    /// `CUDA_VISIBLE_DEVICES` when it narrowed the detected GPUs.
    pub narrowed_by: Option<String>,
}

/// How [`GpuInfo::count`] was found, or why it is zero.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum GpuSource {
    /// `nvidia-smi -L` listed them.
    NvidiaSmi {
        /// The `nvidia-smi` that was run.
        path: PathBuf,
    },
    /// `nvidia[0-9]+` device files (no `nvidia-smi` on PATH).
    DeviceFiles {
        /// The directory holding them.
        dir: PathBuf,
    },
    /// None found.
    NotFound {
        /// Why: `CUDA_VISIBLE_DEVICES=-1`, `nvidia-smi -L failed (...)`, ...
        reason: String,
    },
    /// `--gpu yes` with none detected: one GPU assumed.
    Forced {
        /// `--gpu yes` or `CARGO_TESTPLAN_GPU=yes`.
        by: String,
        /// Why detection found none.
        detected: String,
    },
    /// `--gpu no`: none assumed, nothing probed.
    Disabled {
        /// `--gpu no` or `CARGO_TESTPLAN_GPU=no`.
        by: String,
    },
    /// Made up by [`super::Resources::fake`].
    Fake,
}

impl fmt::Display for GpuSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GpuSource::NvidiaSmi { path } => write!(f, "{} -L", path.display()),
            GpuSource::DeviceFiles { dir } => write!(f, "device files {}/nvidia[0-9]+", dir.display()),
            GpuSource::NotFound { reason } => f.write_str(reason),
            GpuSource::Forced { by, detected } => write!(f, "forced by {by}; detected none: {detected}"),
            GpuSource::Disabled { by } => write!(f, "disabled by {by}"),
            GpuSource::Fake => f.write_str("faked"),
        }
    }
}

impl GpuInfo {
    /// No GPU, for `source`'s reason.
    pub fn none(source: GpuSource) -> Self {
        GpuInfo { count: 0, names: Vec::new(), source, narrowed_by: None }
    }
}

/// One detected GPU.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Device {
    name: String,
    uuid: Option<String>,
}

/// Detects GPUs as the module docs describe, honouring `choice`.
pub fn detect_gpus(env: &GpuEnv, choice: GpuChoice) -> GpuInfo {
    match choice.mode {
        GpuOverride::No => GpuInfo::none(GpuSource::Disabled { by: choice.label() }),
        GpuOverride::Auto => detect(env),
        GpuOverride::Yes => match detect(env) {
            GpuInfo { source: GpuSource::NotFound { reason }, .. } => GpuInfo {
                count: 1,
                names: Vec::new(),
                source: GpuSource::Forced { by: choice.label(), detected: reason },
                narrowed_by: None,
            },
            found => found,
        },
    }
}

fn detect(env: &GpuEnv) -> GpuInfo {
    let visible = env.cuda_visible_devices.as_deref().map(|raw| (raw, visible_tokens(raw)));
    if let Some((raw, tokens)) = &visible
        && tokens.is_empty()
    {
        return not_found(hidden_reason(raw));
    }
    let (devices, source) = match detect_devices(env) {
        Ok(found) => found,
        Err(reason) => return not_found(reason.to_string()),
    };
    let Some((raw, tokens)) = visible else {
        return found(&devices, source, None);
    };
    let chosen = narrow(&devices, &tokens);
    if chosen.is_empty() {
        let reason =
            format!("CUDA_VISIBLE_DEVICES={raw} selects none of the {} detected GPUs", devices.len());
        return not_found(reason);
    }
    found(&chosen, source, Some(raw.to_owned()))
}

fn not_found(reason: String) -> GpuInfo {
    GpuInfo::none(GpuSource::NotFound { reason })
}

fn found(devices: &[Device], source: GpuSource, narrowed_by: Option<String>) -> GpuInfo {
    let names = devices.iter().map(|d| d.name.clone()).collect();
    GpuInfo { count: devices.len(), names, source, narrowed_by }
}

fn hidden_reason(raw: &str) -> String {
    if raw.trim().is_empty() {
        "CUDA_VISIBLE_DEVICES is empty".to_owned()
    } else {
        format!("CUDA_VISIBLE_DEVICES={raw}")
    }
}

/// The entries of `CUDA_VISIBLE_DEVICES` up to the first empty or negative one.
fn visible_tokens(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .take_while(|t| !t.is_empty() && !t.starts_with('-'))
        .map(str::to_owned)
        .collect()
}

/// The devices `tokens` select, in order, up to the first token that selects none.
fn narrow(devices: &[Device], tokens: &[String]) -> Vec<Device> {
    let mut chosen: Vec<usize> = Vec::new();
    for token in tokens {
        match select(devices, token, &chosen) {
            Some(index) if !chosen.contains(&index) => chosen.push(index),
            _ => break,
        }
    }
    chosen.into_iter().filter_map(|i| devices.get(i).cloned()).collect()
}

/// An index, or a UUID prefix. Devices seen only as device files have no UUID to check, so a
/// UUID then takes the next device not yet chosen.
fn select(devices: &[Device], token: &str, chosen: &[usize]) -> Option<usize> {
    if let Ok(index) = token.parse::<usize>() {
        return (index < devices.len()).then_some(index);
    }
    if !token.starts_with("GPU-") && !token.starts_with("MIG-") {
        return None;
    }
    if devices.iter().all(|d| d.uuid.is_none()) {
        return (0..devices.len()).find(|i| !chosen.contains(i));
    }
    devices.iter().position(|d| d.uuid.as_deref().is_some_and(|uuid| uuid.starts_with(token)))
}

/// Why detection found no GPU (the text of [`GpuSource::NotFound`]).
#[derive(Debug, thiserror::Error)]
enum NoGpu {
    /// `nvidia-smi -L` could not be used.
    #[error("{} -L {cause}", smi.display())]
    Smi {
        /// The `nvidia-smi` found on PATH.
        smi: PathBuf,
        /// What went wrong.
        #[source]
        cause: SmiError,
    },
    /// `nvidia-smi -L` succeeded but listed nothing.
    #[error("{} -L listed no GPUs", smi.display())]
    EmptyListing {
        /// The `nvidia-smi` found on PATH.
        smi: PathBuf,
    },
    /// No `nvidia-smi` and no device files.
    #[error("no nvidia-smi on PATH and no {}/nvidia[0-9]+ device files", dir.display())]
    NoDevices {
        /// Where device files were looked for.
        dir: PathBuf,
    },
}

/// How a run of `nvidia-smi -L` failed.
#[derive(Debug, thiserror::Error)]
enum SmiError {
    /// It could not be spawned.
    #[error("could not start: {0}")]
    Start(#[source] std::io::Error),
    /// Waiting for it failed.
    #[error("could not be waited for: {0}")]
    Wait(#[source] std::io::Error),
    /// It hung and was killed.
    #[error("did not answer within {} s", .0.as_secs_f64())]
    Timeout(Duration),
    /// It exited unsuccessfully; the first line of its stderr (else stdout), if any.
    #[error("failed ({status}){}", if detail.is_empty() { String::new() } else { format!(": {detail}") })]
    Failed {
        /// How it exited.
        status: ExitStatus,
        /// Its first non-empty line of output.
        detail: String,
    },
}

/// `nvidia-smi -L` when on PATH, else device files; why none were found otherwise.
fn detect_devices(env: &GpuEnv) -> Result<(Vec<Device>, GpuSource), NoGpu> {
    if let Some(smi) = env.path.as_deref().and_then(|path| find_on_path(path, "nvidia-smi")) {
        let listing =
            run_nvidia_smi(&smi, env.timeout).map_err(|cause| NoGpu::Smi { smi: smi.clone(), cause })?;
        let devices = parse_nvidia_smi(&listing);
        if devices.is_empty() {
            return Err(NoGpu::EmptyListing { smi });
        }
        return Ok((devices, GpuSource::NvidiaSmi { path: smi }));
    }
    let devices = device_files(&env.dev_dir);
    if devices.is_empty() {
        return Err(NoGpu::NoDevices { dir: env.dev_dir.clone() });
    }
    Ok((devices, GpuSource::DeviceFiles { dir: env.dev_dir.clone() }))
}

/// The first executable file called `name` in a PATH-style list.
fn find_on_path(path: &std::ffi::OsStr, name: &str) -> Option<PathBuf> {
    std::env::split_paths(path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(name))
        .find(|c| std::fs::metadata(c).is_ok_and(|m| m.is_file() && crate::platform::is_executable(&m)))
}

/// `GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-8f6c...)` lines; MIG lines and others are skipped.
fn parse_nvidia_smi(listing: &str) -> Vec<Device> {
    listing
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("GPU ")?;
            let (index, rest) = rest.split_once(": ")?;
            index.trim().parse::<usize>().ok()?;
            let (name, uuid) = match rest.split_once(" (UUID: ") {
                Some((name, uuid)) => (name, Some(uuid.trim_end_matches(')').trim().to_owned())),
                None => (rest, None),
            };
            Some(Device { name: name.trim().to_owned(), uuid })
        })
        .collect()
}

/// `nvidia[0-9]+` entries of `dir`, by number.
fn device_files(dir: &Path) -> Vec<Device> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut numbered: Vec<(u32, String)> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let number = name.strip_prefix("nvidia")?.parse().ok()?;
            Some((number, name))
        })
        .collect();
    numbered.sort();
    numbered.into_iter().map(|(_, name)| Device { name, uuid: None }).collect()
}

/// Runs `nvidia-smi -L`; its stdout, or why it failed.
fn run_nvidia_smi(smi: &Path, timeout: Duration) -> Result<String, SmiError> {
    let mut command = Command::new(smi);
    command.arg("-L").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = spawn(&mut command).map_err(SmiError::Start)?;
    let stdout = read_in_background(child.stdout.take());
    let stderr = read_in_background(child.stderr.take());
    let status = wait_with_timeout(&mut child, timeout)?;
    // The pipes close when the child exits, unless it left a process holding them: wait a
    // little, never forever.
    let stdout = stdout.recv_timeout(PIPE_GRACE).unwrap_or_default();
    if status.success() {
        return Ok(stdout);
    }
    let stderr = stderr.recv_timeout(PIPE_GRACE).unwrap_or_default();
    let detail = stderr.lines().chain(stdout.lines()).map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    Err(SmiError::Failed { status, detail: detail.trim_end_matches([':', ' ']).to_owned() })
}

/// Spawns, retrying briefly on ETXTBSY: an executable just written by another thread of
/// this process (a test's stub) can be busy while a concurrent fork still holds it open.
fn spawn(command: &mut Command) -> std::io::Result<Child> {
    let mut attempts = 0;
    loop {
        match command.spawn() {
            Err(e) if crate::platform::is_text_busy(&e) && attempts < 20 => {
                attempts += 1;
                thread::sleep(Duration::from_millis(10));
            }
            result => return result,
        }
    }
}

fn read_in_background<R: Read + Send + 'static>(pipe: Option<R>) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            // Output that is not UTF-8 or cut short reads as what arrived, or nothing.
            let _ = pipe.read_to_string(&mut text);
        }
        // The receiver may have given up waiting; nothing is lost then.
        let _ = sender.send(text);
    });
    receiver
}

/// Waits for the child, killing it after `timeout`.
fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Result<ExitStatus, SmiError> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if start.elapsed() >= timeout => break,
            Ok(None) => thread::sleep(pause),
            Err(e) => return Err(SmiError::Wait(e)),
        }
        pause = (pause * 2).min(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    Err(SmiError::Timeout(timeout))
}

#[cfg(test)]
mod tests;
