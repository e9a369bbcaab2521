//! cargo-testplan's run report (`--report-json PATH`) and list document (`list
//! --message-format json`), read with the tool's own published types (`testplan-schema`,
//! docs/report-schema.md): one copy of the format, so a report the schema cannot read fails
//! these tests.

use std::collections::BTreeMap;
use std::ops::Deref;
use std::path::Path;

pub use testplan_schema::{TestListDocument as ListDocument, TestReport as ReportTest};

use super::cargo_test::TestKey;

/// A run report read from a file.
#[derive(Debug)]
pub struct RunReport(testplan_schema::RunReport);

impl Deref for RunReport {
    type Target = testplan_schema::RunReport;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl RunReport {
    /// Reads a report file.
    pub fn load(path: &Path) -> RunReport {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cargo-testplan wrote no report at {}: {e}", path.display()));
        RunReport(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}\n{text}", path.display())))
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
