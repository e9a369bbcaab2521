//! `--coverage-html DIR`: llvm-cov's own HTML report of the run (`llvm-cov show
//! -format=html`), over the run's cumulative profile and binaries, limited to the files the
//! run measures. llvm-cov writes the directory itself (an index and a page per file), so
//! these files do not go through cargo-testplan's file writer.

use std::process::Command;

use camino::{Utf8Path, Utf8PathBuf};

use crate::command::stdout_of;
use crate::error::CoverageError;
use crate::tools::LlvmTools;

/// What the HTML report is made from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HtmlInputs {
    /// The tools.
    pub tools: Option<LlvmTools>,
    /// The run's cumulative profile.
    pub profile: Option<Utf8PathBuf>,
    /// The binaries llvm-cov reads.
    pub objects: Vec<Utf8PathBuf>,
    /// The measured source files (absolute).
    pub sources: Vec<Utf8PathBuf>,
}

impl HtmlInputs {
    /// The `llvm-cov show` command that writes the report into `dir`; `None` when the run
    /// measured nothing.
    pub fn command(&self, dir: &Utf8Path, title: &str) -> Option<Command> {
        let (tools, profile) = (self.tools.as_ref()?, self.profile.as_ref()?);
        let (first, rest) = self.objects.split_first()?;
        let mut command = Command::new(&tools.cov);
        command.args(["show", "-format=html", "-show-line-counts-or-regions"]);
        command.arg(format!("-output-dir={dir}")).arg(format!("-project-title={title}"));
        command.arg("-instr-profile").arg(profile).arg(first);
        for object in rest {
            command.arg("-object").arg(object);
        }
        command.args(&self.sources);
        Some(command)
    }

    /// Writes the report into `dir` (created by llvm-cov).
    pub fn write(&self, dir: &Utf8Path, title: &str) -> Result<(), CoverageError> {
        match self.command(dir, title) {
            Some(mut command) => stdout_of(&mut command).map(drop),
            None => Err(CoverageError::NoObjects),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_names_the_profile_every_binary_and_the_measured_files() {
        let inputs = HtmlInputs {
            tools: Some(LlvmTools { profdata: "/t/llvm-profdata".into(), cov: "/t/llvm-cov".into() }),
            profile: Some("/p/03-doc.total.profdata".into()),
            objects: vec!["/b/unit".into(), "/b/api".into()],
            sources: vec!["/ws/src/lib.rs".into()],
        };
        let command = inputs.command(Utf8Path::new("/out/html"), "covfix").expect("a command");
        let shown: Vec<String> = std::iter::once(command.get_program())
            .chain(command.get_args())
            .map(|s| s.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            shown,
            [
                "/t/llvm-cov",
                "show",
                "-format=html",
                "-show-line-counts-or-regions",
                "-output-dir=/out/html",
                "-project-title=covfix",
                "-instr-profile",
                "/p/03-doc.total.profdata",
                "/b/unit",
                "-object",
                "/b/api",
                "/ws/src/lib.rs",
            ]
        );
        assert!(HtmlInputs::default().command(Utf8Path::new("/out"), "x").is_none());
    }
}
