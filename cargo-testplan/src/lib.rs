//! cargo-testplan's command-line front end: parses arguments ([`cli`]), dispatches to one
//! file per subcommand ([`commands`]), and maps the one error type ([`error`]) to the
//! documented exit codes.

pub mod cli;
pub mod commands;
pub mod coverage;
pub mod doctest_cache;
pub mod earlier;
pub mod error;
pub mod gpu;
pub mod history_key;
pub mod outputs;
pub mod pipeline;
pub mod run_reporter;
pub mod settings;
pub mod setup;
pub mod shards;
pub mod timings;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::error::{AppError, exit};
use crate::setup::Mode;

/// Runs the command line `args` (as from `std::env::args`) and returns the exit code.
///
/// Accepts both `cargo-testplan run ...` and, as cargo invokes subcommands,
/// `cargo-testplan testplan run ...`.
pub fn main_exit_code(mut args: Vec<String>) -> i32 {
    timings::start();
    if args.get(1).map(String::as_str) == Some("testplan") {
        args.remove(1);
    }
    match Cli::try_parse_from(&args).map_err(AppError::from).and_then(|cli| dispatch(cli, args)) {
        Ok(()) => exit::OK,
        Err(e) => e.report(),
    }
}

fn dispatch(cli: Cli, args: Vec<String>) -> Result<(), AppError> {
    match cli.command {
        Command::Run(run) => commands::run::exec(Mode::Profile("run".to_owned()), run, args),
        Command::Fast(run) => commands::run::exec(Mode::Profile("fast".to_owned()), run, args),
        Command::Full(run) => commands::run::exec(Mode::Profile("full".to_owned()), run, args),
        Command::List(list) => commands::list::exec(list),
        Command::Markers(markers) => commands::markers::exec(markers),
        Command::Explain(explain) => commands::explain::exec(explain),
        Command::Init(init) => commands::init::exec(init),
        Command::Doctor(doctor) => commands::doctor::exec(doctor),
        Command::Report(report) => commands::report::exec(report),
        Command::Merge(merge) => commands::merge::exec(merge, args),
        Command::Matrix(matrix) => commands::matrix::exec(matrix),
        Command::Archive(archive) => commands::archive::exec(archive),
        Command::Phase(words) => commands::run::exec_phase(words, args),
    }
}
