//! `cargo-testplan`: the thin binary. Everything happens in the library.

fn main() {
    std::process::exit(cargo_testplan::main_exit_code(std::env::args().collect()));
}
