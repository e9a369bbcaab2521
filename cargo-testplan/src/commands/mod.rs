//! One file per subcommand, each with an `exec` function.

pub mod archive;
pub mod common;
pub mod daily;
pub mod doctor;
pub mod explain;
pub mod init;
pub mod list;
pub mod markers;
pub mod matrix;
pub mod merge;
pub mod report;
pub mod run;
pub mod workflow;
