//! cargo-testplan's run report (`--report-json PATH`, docs/report-schema.md): only the
//! fields these tests rely on, so added fields do not break them.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::cargo_test::TestKey;

/// The report document.
#[derive(Debug, Deserialize)]
pub struct RunReport {
    /// Every planned test.
    pub tests: Vec<ReportTest>,
    /// Set when the run stopped early (`interrupted`, `fail-fast`).
    #[serde(default)]
    pub stopped: Option<String>,
}

/// One test of the report.
#[derive(Debug, Deserialize)]
pub struct ReportTest {
    /// nextest-style binary id.
    pub binary_id: String,
    /// Test name.
    pub name: String,
    /// `passed`, `failed`, `crashed`, `timed-out`, `skipped`, `not-run`, `interrupted`.
    pub status: String,
    /// Signal name, for `crashed`.
    #[serde(default)]
    pub signal: Option<String>,
    /// Exit code, for `failed`.
    #[serde(default)]
    pub exit_code: Option<i32>,
    /// Its phase, in a phased run.
    #[serde(default)]
    pub phase: Option<String>,
}

impl RunReport {
    /// Reads a report file.
    pub fn load(path: &Path) -> RunReport {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cargo-testplan wrote no report at {}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}\n{text}", path.display()))
    }

    /// Tests by key; a test reported twice is an error.
    pub fn by_key(&self) -> BTreeMap<TestKey, &ReportTest> {
        let mut map = BTreeMap::new();
        for test in &self.tests {
            let key = (test.binary_id.clone(), test.name.clone());
            assert!(map.insert(key.clone(), test).is_none(), "report lists {key:?} twice");
        }
        map
    }
}

/// `cargo testplan list --message-format json` (docs/report-schema.md): the fields these
/// tests rely on.
#[derive(Debug, Deserialize)]
pub struct ListDocument {
    /// Every test binary.
    pub binaries: Vec<ListBinary>,
}

/// One binary of the list document.
#[derive(Debug, Deserialize)]
pub struct ListBinary {
    /// nextest-style binary id.
    pub binary_id: String,
    /// Target kind: `lib`, `bin`, `proc-macro`, `test`, `bench`, `example`, `doc`.
    pub kind: String,
    /// `libtest-json`, `libtest-terse`, `custom-list`, `opaque`, `rustdoc`.
    pub list_method: String,
    /// Its tests.
    pub tests: Vec<ListTest>,
}

/// One test of the list document.
#[derive(Debug, Deserialize)]
pub struct ListTest {
    /// Test name.
    pub name: String,
    /// `#[ignore]`d.
    pub ignored: bool,
    /// The ignore reason.
    #[serde(default)]
    pub ignore_reason: Option<String>,
}
