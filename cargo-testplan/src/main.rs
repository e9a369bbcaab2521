//! `cargo-testplan`: the thin binary. Everything happens in [`cargo_testplan::main_exit_code`].
fn main() {}
