//! GPU detection against a stub `nvidia-smi` on a temporary PATH and a fake `/dev`.

use std::os::unix::fs::PermissionsExt;

use super::*;

const TWO_GPUS: &str = "echo 'GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-aaaa-1111)'\n\
                        echo '  MIG 1g.5gb     Device  0: (UUID: MIG-cccc)'\n\
                        echo 'GPU 1: NVIDIA H100 (UUID: GPU-bbbb-2222)'";
const DRIVER_DOWN: &str =
    "echo \"NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\" >&2\nexit 9";

/// A temporary PATH directory, optionally holding a `nvidia-smi` script, and a fake `/dev`.
struct Machine {
    path: tempfile::TempDir,
    dev: tempfile::TempDir,
}

impl Machine {
    fn new() -> Self {
        Machine { path: tempfile::tempdir().expect("tempdir"), dev: tempfile::tempdir().expect("tempdir") }
    }

    /// Installs `nvidia-smi` running `body`; every run also leaves a `ran` file behind.
    fn stub(self, body: &str) -> Self {
        let ran = self.path.path().join("ran");
        let script = format!("#!/bin/sh\ntouch '{}'\n{body}\n", ran.display());
        let smi = self.path.path().join("nvidia-smi");
        std::fs::write(&smi, script).expect("write the stub");
        std::fs::set_permissions(&smi, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        self
    }

    fn devices(self, names: &[&str]) -> Self {
        for name in names {
            std::fs::write(self.dev.path().join(name), "").expect("device file");
        }
        self
    }

    fn env(&self, cuda_visible_devices: Option<&str>) -> GpuEnv {
        GpuEnv {
            cuda_visible_devices: cuda_visible_devices.map(str::to_owned),
            path: Some(
                std::env::join_paths(["/nonexistent", &self.path.path().display().to_string()])
                    .expect("PATH"),
            ),
            dev_dir: self.dev.path().to_path_buf(),
            timeout: Duration::from_secs(20),
        }
    }

    fn stub_ran(&self) -> bool {
        self.path.path().join("ran").exists()
    }

    /// `source` with the temporary directories replaced by `$PATH` and `$DEV`.
    fn source_text(&self, info: &GpuInfo) -> String {
        info.source
            .to_string()
            .replace(&self.path.path().display().to_string(), "$PATH")
            .replace(&self.dev.path().display().to_string(), "$DEV")
    }
}

fn auto() -> GpuChoice {
    GpuChoice::default()
}

fn forced(mode: GpuOverride, origin: GpuChoiceOrigin) -> GpuChoice {
    GpuChoice { mode, origin }
}

#[test]
fn detection_table() {
    let yes_flag = forced(GpuOverride::Yes, GpuChoiceOrigin::Flag);
    type Case = (
        &'static str,
        fn() -> Machine,
        Option<&'static str>,
        GpuChoice,
        usize,
        &'static [&'static str],
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "nothing installed",
            || Machine::new(),
            None,
            auto(),
            0,
            &[],
            "no nvidia-smi on PATH and no $DEV/nvidia[0-9]+ device files",
        ),
        (
            "nvidia-smi lists two GPUs; MIG lines are not GPUs",
            || Machine::new().stub(TWO_GPUS),
            None,
            auto(),
            2,
            &["NVIDIA A100-SXM4-40GB", "NVIDIA H100"],
            "$PATH/nvidia-smi -L",
        ),
        (
            "-1 hides every GPU",
            || Machine::new().stub(TWO_GPUS),
            Some("-1"),
            auto(),
            0,
            &[],
            "CUDA_VISIBLE_DEVICES=-1",
        ),
        (
            "empty hides every GPU",
            || Machine::new().stub(TWO_GPUS),
            Some(""),
            auto(),
            0,
            &[],
            "CUDA_VISIBLE_DEVICES is empty",
        ),
        (
            "an index narrows",
            || Machine::new().stub(TWO_GPUS),
            Some("1"),
            auto(),
            1,
            &["NVIDIA H100"],
            "$PATH/nvidia-smi -L",
        ),
        (
            "a list stops at the first entry naming no GPU",
            || Machine::new().stub(TWO_GPUS),
            Some("0,5,1"),
            auto(),
            1,
            &["NVIDIA A100-SXM4-40GB"],
            "$PATH/nvidia-smi -L",
        ),
        (
            "UUID prefixes select",
            || Machine::new().stub(TWO_GPUS),
            Some("GPU-bbbb, GPU-aaaa"),
            auto(),
            2,
            &["NVIDIA H100", "NVIDIA A100-SXM4-40GB"],
            "$PATH/nvidia-smi -L",
        ),
        (
            "a list selecting nothing",
            || Machine::new().stub(TWO_GPUS),
            Some("7"),
            auto(),
            0,
            &[],
            "CUDA_VISIBLE_DEVICES=7 selects none of the 2 detected GPUs",
        ),
        (
            "a failing nvidia-smi means none, device files notwithstanding",
            || Machine::new().stub(DRIVER_DOWN).devices(&["nvidia0"]),
            None,
            auto(),
            0,
            &[],
            "$PATH/nvidia-smi -L failed (exit status: 9): NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
        ),
        (
            "nvidia-smi listing nothing",
            || Machine::new().stub("echo 'No devices were found'"),
            None,
            auto(),
            0,
            &[],
            "$PATH/nvidia-smi -L listed no GPUs",
        ),
        (
            "a non-executable nvidia-smi is not on PATH",
            || {
                let machine =
                    Machine::new().devices(&["nvidia0", "nvidia1", "nvidiactl", "nvidia-uvm", "nvidia10"]);
                std::fs::write(machine.path.path().join("nvidia-smi"), "").expect("write");
                machine
            },
            None,
            auto(),
            3,
            &["nvidia0", "nvidia1", "nvidia10"],
            "device files $DEV/nvidia[0-9]+",
        ),
        (
            "device files narrowed by a UUID that cannot be checked",
            || Machine::new().devices(&["nvidia0", "nvidia1"]),
            Some("GPU-zzzz"),
            auto(),
            1,
            &["nvidia0"],
            "device files $DEV/nvidia[0-9]+",
        ),
        (
            "--gpu yes with none detected assumes one",
            || Machine::new(),
            None,
            yes_flag,
            1,
            &[],
            "forced by --gpu yes; detected none: no nvidia-smi on PATH and no $DEV/nvidia[0-9]+ device files",
        ),
        (
            "--gpu yes overrides CUDA_VISIBLE_DEVICES=-1",
            || Machine::new(),
            Some("-1"),
            forced(GpuOverride::Yes, GpuChoiceOrigin::Env),
            1,
            &[],
            "forced by CARGO_TESTPLAN_GPU=yes; detected none: CUDA_VISIBLE_DEVICES=-1",
        ),
        (
            "--gpu yes keeps what was detected",
            || Machine::new().stub(TWO_GPUS),
            None,
            yes_flag,
            2,
            &["NVIDIA A100-SXM4-40GB", "NVIDIA H100"],
            "$PATH/nvidia-smi -L",
        ),
    ];
    for (name, machine, visible, choice, count, names, source) in cases {
        let machine = machine();
        let info = detect_gpus(&machine.env(visible), choice);
        let found: Vec<&str> = info.names.iter().map(String::as_str).collect();
        assert_eq!(
            (info.count, found, machine.source_text(&info).as_str()),
            (count, names.to_vec(), source),
            "{name}"
        );
    }
}

#[test]
fn narrowing_is_recorded() {
    let machine = Machine::new().stub(TWO_GPUS);
    assert_eq!(detect_gpus(&machine.env(Some("1")), auto()).narrowed_by.as_deref(), Some("1"));
    assert_eq!(detect_gpus(&machine.env(None), auto()).narrowed_by, None);
}

#[test]
fn hidden_and_disabled_gpus_run_nothing() {
    let machine = Machine::new().stub(TWO_GPUS);
    let hidden = detect_gpus(&machine.env(Some("-1")), auto());
    let disabled = detect_gpus(&machine.env(None), forced(GpuOverride::No, GpuChoiceOrigin::Flag));
    assert_eq!(machine.source_text(&disabled), "disabled by --gpu no");
    assert_eq!((hidden.count, disabled.count), (0, 0));
    assert!(!machine.stub_ran());
}

#[test]
fn a_hanging_nvidia_smi_times_out() {
    let machine = Machine::new().stub("exec sleep 30");
    let env = GpuEnv { timeout: Duration::from_millis(200), ..machine.env(None) };
    let started = Instant::now();
    let info = detect_gpus(&env, auto());
    assert_eq!(machine.source_text(&info), "$PATH/nvidia-smi -L did not answer within 0.2 s");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[test]
fn overrides_resolve_flag_first() {
    type Case = (Option<&'static str>, Option<&'static str>, Result<GpuChoice, &'static str>);
    let cases: [Case; 9] = [
        (None, None, Ok(auto())),
        (Some("yes"), Some("no"), Ok(forced(GpuOverride::Yes, GpuChoiceOrigin::Flag))),
        (Some("auto"), None, Ok(forced(GpuOverride::Auto, GpuChoiceOrigin::Flag))),
        (None, Some("NO"), Ok(forced(GpuOverride::No, GpuChoiceOrigin::Env))),
        (None, Some(" "), Ok(auto())),
        (Some("maybe"), None, Err("invalid value 'maybe' for --gpu: expected auto, yes or no")),
        (None, Some("1"), Ok(forced(GpuOverride::Yes, GpuChoiceOrigin::Env))),
        (None, Some("off"), Ok(forced(GpuOverride::No, GpuChoiceOrigin::Env))),
        (None, Some("maybe"), Err("invalid value 'maybe' for CARGO_TESTPLAN_GPU: expected auto, yes or no")),
    ];
    for (flag, env, expected) in cases {
        let resolved = GpuChoice::resolve(flag, env).map_err(|e| e.to_string());
        assert_eq!(resolved, expected.map_err(str::to_owned), "{flag:?} {env:?}");
    }
}

#[test]
fn nvidia_smi_lines_parse() {
    let listing = "GPU 0: Tesla T4 (UUID: GPU-1234)\nGPU 1: NVIDIA (odd) name\n  MIG 1g: x\nGPU x: bad\n";
    let devices = parse_nvidia_smi(listing);
    assert_eq!(
        devices,
        [
            Device { name: "Tesla T4".to_owned(), uuid: Some("GPU-1234".to_owned()) },
            Device { name: "NVIDIA (odd) name".to_owned(), uuid: None },
        ]
    );
}

#[test]
fn visible_device_lists_stop_at_the_first_negative_or_empty_entry() {
    let cases = [
        ("0,1", vec!["0", "1"]),
        (" 2 , 0 ", vec!["2", "0"]),
        ("1,-1,0", vec!["1"]),
        ("-1", vec![]),
        ("", vec![]),
        (",0", vec![]),
    ];
    for (raw, expected) in cases {
        assert_eq!(visible_tokens(raw), expected, "{raw:?}");
    }
}
