//! `cargo-testplan`: the thin binary. Everything happens in the library.

fn main() {
    // `--coverage`'s instrumented build runs cargo-testplan as its rustc wrapper.
    if let Some(code) = testplan_coverage::instrument::intercept() {
        std::process::exit(code);
    }
    std::process::exit(cargo_testplan::main_exit_code(std::env::args().collect()));
}
