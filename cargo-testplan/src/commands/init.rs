//! `cargo testplan init`: writes a commented `testplan.toml` that reproduces the default
//! plan, beside the workspace's root `Cargo.toml`.

use std::io::Write;

use testplan_markers::Config;
use testplan_runner::cargo::{self, CargoOptions};
use testplan_runner::files::Durability;

use crate::cli::InitArgs;
use crate::error::{AppError, UsageError};
use crate::setup::{CONFIG_FILE, display_path};

/// Runs the command.
pub fn exec(args: InitArgs) -> Result<(), AppError> {
    let text = Config::render_init();
    if args.stdout {
        return std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .map_err(|source| AppError::WriteOutput { what: "testplan.toml".to_owned(), source });
    }
    let opts = CargoOptions { manifest_path: args.manifest_path.clone(), ..CargoOptions::default() };
    let ws = cargo::load_workspace(&opts)?;
    let path = ws.root.join(CONFIG_FILE);
    if path.exists() && !args.force {
        return Err(UsageError::ConfigExists { path: display_path(&path) }.into());
    }
    testplan_runner::files::write_atomically(path.as_std_path(), text.as_bytes(), Durability::Durable)
        .map_err(|source| AppError::WriteOutput { what: display_path(&path), source })?;
    println!(
        "wrote {} (the default plan; edit it to add markers, rules, phases and profiles)",
        display_path(&path)
    );
    Ok(())
}
