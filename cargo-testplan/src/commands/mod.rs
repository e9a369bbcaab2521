//! One file per subcommand, each with an `exec` function.

pub mod list;
pub mod run;
