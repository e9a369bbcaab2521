//! Runs the `shapes` binary the way a user would.

use std::io::Write;
use std::process::{Command, Stdio};

/// The `shapes` binary: where the run says it is (cargo sets `CARGO_BIN_EXE_shapes` at run
/// time too; a run from an archive points it at the unpacked binary), else where it was
/// built (`env!` is fixed at compile time).
fn shapes() -> Command {
    let built = env!("CARGO_BIN_EXE_shapes");
    Command::new(std::env::var_os("CARGO_BIN_EXE_shapes").unwrap_or_else(|| built.into()))
}

#[test]
fn prints_area_of_each_argument() {
    let out = shapes().args(["circle 1", "rect 2 3"]).output().expect("run shapes");
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout, "circle 1: area=3.142 perimeter=6.283\nrect 2 3: area=6.000 perimeter=10.000\n");
}

#[test]
fn unknown_shape_exits_2_with_usage() {
    let out = shapes().arg("hexagon 1").output().expect("run shapes");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown shape `hexagon`"));
}

#[test]
#[ignore = "slow"]
fn large_batch_from_stdin() {
    let mut child = shapes().stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("run shapes");
    let mut stdin = child.stdin.take().expect("piped stdin");
    // Feed stdin from a thread while this one drains stdout, so neither pipe fills up.
    let writer = std::thread::spawn(move || {
        for i in 1..=20_000 {
            writeln!(stdin, "rect {i} 1").expect("write to shapes");
        }
    });
    std::thread::sleep(std::time::Duration::from_secs(1));
    let out = child.wait_with_output().expect("wait for shapes");
    writer.join().expect("writer thread");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 20_000);
}
