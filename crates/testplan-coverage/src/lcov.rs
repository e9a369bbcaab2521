//! The lcov tracefile format: read from `llvm-cov export -format=lcov`, written for
//! `--coverage-lcov`.
//!
//! Records read: `SF:<path>`, `FN:<line>,<name>`, `FNDA:<count>,<name>`,
//! `DA:<line>,<count>[,<checksum>]`, `end_of_record`; the rest (`FNF`, `FNH`, `LF`, `LH`,
//! branch records) are recomputed or not used. Written: the same records, with `LF`/`LH`
//! counted from the `DA` records and `FNF`/`FNH` from the function figures, so the file
//! agrees with every figure we print (crate::model's definitions).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use camino::Utf8PathBuf;

use crate::error::CoverageError;
use crate::model::{CoverageData, FileCoverage, FunctionRecord};

const WHAT: &str = "llvm-cov export (lcov)";

/// Line counts and function records of each file of an lcov tracefile, by the path its
/// `SF` record gives. A file named twice has its counts added (as `lcov -a` does).
pub fn parse(text: &str) -> Result<BTreeMap<Utf8PathBuf, FileCoverage>, CoverageError> {
    let mut files: BTreeMap<Utf8PathBuf, FileCoverage> = BTreeMap::new();
    let mut current: Option<(Utf8PathBuf, FileCoverage)> = None;
    for (index, line) in text.lines().enumerate() {
        let at = index + 1;
        let (key, value) = line.split_once(':').unwrap_or((line, ""));
        match key {
            "SF" => current = Some((Utf8PathBuf::from(value), FileCoverage::default())),
            "end_of_record" => {
                let (path, file) = current.take().ok_or_else(|| outside_file(at))?;
                merge_into(files.entry(path).or_default(), file);
            }
            "DA" => add_line(current.as_mut().ok_or_else(|| outside_file(at))?, value, at)?,
            "FN" => add_function(current.as_mut().ok_or_else(|| outside_file(at))?, value, at)?,
            "FNDA" => add_function_count(current.as_mut().ok_or_else(|| outside_file(at))?, value, at)?,
            _ => {}
        }
    }
    match current {
        Some((path, _)) => Err(CoverageError::Parse {
            what: WHAT.to_owned(),
            message: format!("no end_of_record for {path}"),
        }),
        None => Ok(files),
    }
}

fn outside_file(at: usize) -> CoverageError {
    CoverageError::parse_at(WHAT, at, "record outside an SF ... end_of_record block")
}

fn number<T: std::str::FromStr>(text: &str, at: usize, what: &str) -> Result<T, CoverageError> {
    text.trim()
        .parse()
        .map_err(|_| CoverageError::parse_at(WHAT, at, format!("{what} `{text}` is not a number")))
}

fn add_line(
    (_, file): &mut (Utf8PathBuf, FileCoverage),
    value: &str,
    at: usize,
) -> Result<(), CoverageError> {
    let mut fields = value.split(',');
    let line = number(fields.next().unwrap_or(""), at, "line")?;
    let count: u64 = number(fields.next().unwrap_or(""), at, "count")?;
    *file.lines.entry(line).or_default() += count;
    Ok(())
}

fn add_function(
    (_, file): &mut (Utf8PathBuf, FileCoverage),
    value: &str,
    at: usize,
) -> Result<(), CoverageError> {
    let (line, name) =
        value.split_once(',').ok_or_else(|| CoverageError::parse_at(WHAT, at, "FN without a name"))?;
    let line = number(line, at, "line")?;
    file.function_records.push(FunctionRecord { name: name.to_owned(), line, count: 0 });
    Ok(())
}

fn add_function_count(
    (_, file): &mut (Utf8PathBuf, FileCoverage),
    value: &str,
    at: usize,
) -> Result<(), CoverageError> {
    let (count, name) =
        value.split_once(',').ok_or_else(|| CoverageError::parse_at(WHAT, at, "FNDA without a name"))?;
    let count: u64 = number(count, at, "count")?;
    if let Some(record) = file.function_records.iter_mut().find(|f| f.name == name) {
        record.count += count;
    }
    Ok(())
}

fn merge_into(into: &mut FileCoverage, file: FileCoverage) {
    for (line, count) in file.lines {
        *into.lines.entry(line).or_default() += count;
    }
    into.function_records.extend(file.function_records);
}

/// `data` as an lcov tracefile, one `SF` block per file with its absolute path.
pub fn write(data: &CoverageData) -> String {
    let mut out = String::new();
    for (path, file) in &data.files {
        write_file(&mut out, &data.root.join(path), file);
    }
    out
}

fn write_file(out: &mut String, path: &camino::Utf8Path, file: &FileCoverage) {
    // Writing into a String cannot fail.
    let _ = writeln!(out, "SF:{path}");
    for f in &file.function_records {
        let _ = writeln!(out, "FN:{},{}", f.line, f.name);
    }
    for f in &file.function_records {
        let _ = writeln!(out, "FNDA:{},{}", f.count, f.name);
    }
    let _ = writeln!(out, "FNF:{}\nFNH:{}", file.functions.total, file.functions.covered);
    for (line, count) in &file.lines {
        let _ = writeln!(out, "DA:{line},{count}");
    }
    let lines = file.line_counts();
    let _ = writeln!(out, "LF:{}\nLH:{}\nend_of_record", lines.total, lines.covered);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Counts;

    const EXPORT: &str = "SF:/ws/src/lib.rs\nFN:4,_RNv6covfix9unit_only\nFN:30,_RNv6covfix5never\n\
        FNDA:1,_RNv6covfix9unit_only\nFNDA:0,_RNv6covfix5never\nFNF:2\nFNH:1\nDA:4,1\nDA:5,1\nDA:8,0\n\
        DA:30,0\nBRF:0\nBRH:0\nLF:4\nLH:2\nend_of_record\nSF:/ws/src/main.rs\nDA:3,7\nLF:1\nLH:1\nend_of_record\n";

    #[test]
    fn reads_lines_and_functions_of_each_file() {
        let files = parse(EXPORT).expect("parses");
        let lib = &files[&Utf8PathBuf::from("/ws/src/lib.rs")];
        assert_eq!(lib.lines, [(4, 1), (5, 1), (8, 0), (30, 0)].into());
        assert_eq!(
            lib.function_records,
            [
                FunctionRecord { name: "_RNv6covfix9unit_only".into(), line: 4, count: 1 },
                FunctionRecord { name: "_RNv6covfix5never".into(), line: 30, count: 0 },
            ]
        );
        assert_eq!(files[&Utf8PathBuf::from("/ws/src/main.rs")].lines, [(3, 7)].into());
    }

    #[test]
    fn a_file_named_twice_adds_up() {
        let files = parse("SF:/a.rs\nDA:1,1\nDA:2,0\nend_of_record\nSF:/a.rs\nDA:2,3\nend_of_record\n")
            .expect("parses");
        assert_eq!(files[&Utf8PathBuf::from("/a.rs")].lines, [(1, 1), (2, 3)].into());
    }

    #[test]
    fn malformed_records_name_the_line() {
        let cases = [
            (
                "DA:1,1\n",
                "reading llvm-cov export (lcov): line 1: record outside an SF ... end_of_record block",
            ),
            (
                "SF:/a.rs\nDA:x,1\nend_of_record\n",
                "reading llvm-cov export (lcov): line 2: line `x` is not a number",
            ),
            (
                "SF:/a.rs\nDA:1\nend_of_record\n",
                "reading llvm-cov export (lcov): line 2: count `` is not a number",
            ),
            ("SF:/a.rs\nFN:3\nend_of_record\n", "reading llvm-cov export (lcov): line 2: FN without a name"),
            ("SF:/a.rs\nDA:1,1\n", "reading llvm-cov export (lcov): no end_of_record for /a.rs"),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text).expect_err(text).to_string(), expected, "{text:?}");
        }
    }

    #[test]
    fn writes_what_it_reads_with_our_line_totals() {
        let mut file =
            parse(EXPORT).expect("parses").remove(&Utf8PathBuf::from("/ws/src/lib.rs")).expect("lib");
        file.functions = Counts { covered: 1, total: 2 };
        let data = CoverageData { root: "/ws".into(), files: [("src/lib.rs".into(), file)].into() };
        assert_eq!(
            write(&data),
            "SF:/ws/src/lib.rs\nFN:4,_RNv6covfix9unit_only\nFN:30,_RNv6covfix5never\nFNDA:1,_RNv6covfix9unit_only\n\
             FNDA:0,_RNv6covfix5never\nFNF:2\nFNH:1\nDA:4,1\nDA:5,1\nDA:8,0\nDA:30,0\nLF:4\nLH:2\nend_of_record\n"
        );
        let again = parse(&write(&data)).expect("reads back");
        assert_eq!(
            again[&Utf8PathBuf::from("/ws/src/lib.rs")].lines,
            data.files[&Utf8PathBuf::from("src/lib.rs")].lines
        );
    }
}
