//! Reading coverage out of a merged profile: `llvm-cov export` run twice over the same
//! binaries, `-format=lcov` for the per-line counts and function records and
//! `-summary-only` (JSON) for llvm-cov's function and region figures, joined per file and
//! kept to the files [`SourceFilter`] counts.

use std::collections::BTreeMap;
use std::process::Command;

use camino::{Utf8Path, Utf8PathBuf};
use serde::Deserialize;

use crate::command::stdout_of;
use crate::error::CoverageError;
use crate::lcov;
use crate::model::{Counts, CoverageData};
use crate::sources::SourceFilter;
use crate::tools::LlvmTools;

/// The coverage `profdata` records for `objects` (test binaries, the binaries they run,
/// the workspace's libraries).
pub fn export(
    tools: &LlvmTools,
    profdata: &Utf8Path,
    objects: &[Utf8PathBuf],
    filter: &SourceFilter,
) -> Result<CoverageData, CoverageError> {
    let lcov_text = run_export(tools, profdata, objects, "-format=lcov")?;
    let json = run_export(tools, profdata, objects, "-summary-only")?;
    join(&String::from_utf8_lossy(&lcov_text), &json, filter)
}

fn run_export(
    tools: &LlvmTools,
    profdata: &Utf8Path,
    objects: &[Utf8PathBuf],
    format: &str,
) -> Result<Vec<u8>, CoverageError> {
    let (first, rest) = objects.split_first().ok_or(CoverageError::NoObjects)?;
    let mut command = Command::new(&tools.cov);
    command.args(["export", format, "-instr-profile"]).arg(profdata).arg(first);
    for object in rest {
        command.arg("-object").arg(object);
    }
    stdout_of(&mut command)
}

/// Joins the two exports' text (see the module docs).
pub fn join(
    lcov_text: &str,
    summary_json: &[u8],
    filter: &SourceFilter,
) -> Result<CoverageData, CoverageError> {
    let mut figures = summaries(summary_json)?;
    let mut data = CoverageData { root: filter.root().to_owned(), files: BTreeMap::new() };
    for (path, mut file) in lcov::parse(lcov_text)? {
        let Some(relative) = filter.relative(&path) else { continue };
        if let Some(summary) = figures.remove(&path) {
            file.functions = summary.functions.into();
            file.regions = summary.regions.into();
        }
        data.files.insert(relative, file);
    }
    Ok(data)
}

#[derive(Deserialize)]
struct Export {
    data: Vec<ExportData>,
}

#[derive(Deserialize)]
struct ExportData {
    files: Vec<ExportFile>,
}

#[derive(Deserialize)]
struct ExportFile {
    filename: Utf8PathBuf,
    summary: ExportSummary,
}

#[derive(Deserialize)]
struct ExportSummary {
    functions: Stat,
    regions: Stat,
}

#[derive(Deserialize)]
struct Stat {
    count: u64,
    covered: u64,
}

impl From<Stat> for Counts {
    fn from(stat: Stat) -> Counts {
        Counts { covered: stat.covered, total: stat.count }
    }
}

fn summaries(json: &[u8]) -> Result<BTreeMap<Utf8PathBuf, ExportSummary>, CoverageError> {
    let export: Export = serde_json::from_slice(json).map_err(|e| CoverageError::Parse {
        what: "llvm-cov export -summary-only".to_owned(),
        message: e.to_string(),
    })?;
    Ok(export.data.into_iter().flat_map(|d| d.files).map(|f| (f.filename, f.summary)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LCOV: &str = "SF:/ws/src/lib.rs\nDA:4,1\nDA:8,0\nend_of_record\nSF:/ws/tests/api.rs\nDA:6,1\nend_of_record\n\
        SF:/ws/src/main.rs\nDA:3,0\nend_of_record\n";
    const SUMMARY: &str = r#"{"data":[{"files":[
        {"filename":"/ws/src/lib.rs","summary":{"functions":{"count":7,"covered":6,"percent":85.7},
          "regions":{"count":44,"covered":32,"notcovered":12,"percent":72.7},"lines":{"count":32,"covered":24,"percent":75}}},
        {"filename":"/ws/tests/api.rs","summary":{"functions":{"count":2,"covered":2},"regions":{"count":13,"covered":13},"lines":{"count":7,"covered":7}}}
      ],"totals":{}}],"type":"llvm.coverage.json.export","version":"2.0.1"}"#;

    #[test]
    fn joins_lines_with_llvm_covs_function_and_region_figures() {
        let data = join(LCOV, SUMMARY.as_bytes(), &SourceFilter::new("/ws", Vec::new())).expect("joins");
        assert_eq!(data.files.keys().map(|p| p.as_str()).collect::<Vec<_>>(), ["src/lib.rs", "src/main.rs"]);
        let lib = &data.files[&Utf8PathBuf::from("src/lib.rs")];
        assert_eq!(lib.functions, Counts { covered: 6, total: 7 });
        assert_eq!(lib.regions, Counts { covered: 32, total: 44 });
        assert_eq!(lib.line_counts(), Counts { covered: 1, total: 2 });
        // A file the summary does not name keeps zero functions and regions.
        assert_eq!(data.files[&Utf8PathBuf::from("src/main.rs")].regions, Counts::default());
    }

    #[test]
    fn a_bad_summary_is_a_parse_error() {
        let error = join(LCOV, b"{}", &SourceFilter::new("/ws", Vec::new())).expect_err("fails");
        assert_eq!(
            error.to_string(),
            "reading llvm-cov export -summary-only: missing field `data` at line 1 column 2"
        );
    }
}
