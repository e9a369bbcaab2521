//! Cobertura XML (what GitLab's coverage visualization and most CI coverage views read), for
//! `--coverage-cobertura`.
//!
//! Shape (coverage-04.dtd): one `<package>` per directory, one `<class>` per file (named
//! after the file, `filename` relative to the single `<source>`, the workspace root), and
//! a `<line number hits>` for every instrumented line. Line rates follow crate::model's
//! definition, so they equal the figures we print. Branch data is not collected (stable
//! Rust has no branch coverage): branch rates are 0 and `branches-valid` is 0, as
//! cargo-llvm-cov writes them.

use std::collections::BTreeMap;

use camino::Utf8Path;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use crate::model::{Counts, CoverageData, FileCoverage};

const DOCTYPE: &str = r#"coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd""#;

/// `data` as a Cobertura document; `timestamp` in seconds since the epoch.
pub fn write(data: &CoverageData, version: &str, timestamp: u64) -> Vec<u8> {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing into a Vec cannot fail.
    let _ = write_document(&mut writer, data, version, timestamp);
    let mut out = writer.into_inner();
    out.push(b'\n');
    out
}

fn write_document(
    w: &mut Writer<Vec<u8>>,
    data: &CoverageData,
    version: &str,
    timestamp: u64,
) -> std::io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.write_event(Event::DocType(BytesText::from_escaped(DOCTYPE)))?;
    let lines = data.summary().total.lines;
    let (covered, valid) = (lines.covered.to_string(), lines.total.to_string());
    let timestamp = timestamp.to_string();
    let mut attrs = rates(lines);
    attrs.extend([
        ("lines-covered", covered),
        ("lines-valid", valid),
        ("branches-covered", "0".to_owned()),
        ("branches-valid", "0".to_owned()),
        ("version", version.to_owned()),
        ("timestamp", timestamp),
    ]);
    w.create_element("coverage").with_attributes(borrowed(&attrs)).write_inner_content(|w| {
        w.create_element("sources").write_inner_content(|w| {
            w.create_element("source").write_text_content(BytesText::new(data.root.as_str())).map(drop)
        })?;
        w.create_element("packages").write_inner_content(|w| write_packages(w, data)).map(drop)
    })?;
    Ok(())
}

/// `line-rate`, `branch-rate`, `complexity` of an element covering `lines`.
fn rates(lines: Counts) -> Vec<(&'static str, String)> {
    let rate = if lines.total == 0 { 1.0 } else { lines.covered as f64 / lines.total as f64 };
    vec![("line-rate", format!("{rate:.4}")), ("branch-rate", "0".to_owned()), ("complexity", "0".to_owned())]
}

fn borrowed<'a>(attrs: &'a [(&'a str, String)]) -> impl Iterator<Item = (&'a str, &'a str)> {
    attrs.iter().map(|(k, v)| (*k, v.as_str()))
}

fn write_packages(w: &mut Writer<Vec<u8>>, data: &CoverageData) -> std::io::Result<()> {
    let mut packages: BTreeMap<&str, Vec<(&Utf8Path, &FileCoverage)>> = BTreeMap::new();
    for (path, file) in &data.files {
        let dir = path.parent().map_or("", Utf8Path::as_str);
        packages.entry(dir).or_default().push((path, file));
    }
    for (dir, files) in packages {
        let lines = files.iter().fold(Counts::default(), |sum, (_, f)| sum.plus(f.line_counts()));
        let name = if dir.is_empty() { "." } else { dir };
        let mut attrs = vec![("name", name.to_owned())];
        attrs.extend(rates(lines));
        w.create_element("package").with_attributes(borrowed(&attrs)).write_inner_content(|w| {
            w.create_element("classes")
                .write_inner_content(|w| files.iter().try_for_each(|(path, file)| write_class(w, path, file)))
                .map(drop)
        })?;
    }
    Ok(())
}

fn write_class(w: &mut Writer<Vec<u8>>, path: &Utf8Path, file: &FileCoverage) -> std::io::Result<()> {
    let name = path.file_name().unwrap_or(path.as_str());
    let mut attrs = vec![("name", name.to_owned()), ("filename", path.to_string())];
    attrs.extend(rates(file.line_counts()));
    w.create_element("class").with_attributes(borrowed(&attrs)).write_inner_content(|w| {
        w.create_element("methods").write_empty()?;
        w.create_element("lines")
            .write_inner_content(|w| {
                file.lines.iter().try_for_each(|(line, count)| {
                    let (number, hits) = (line.to_string(), count.to_string());
                    let attrs = [("number", number.as_str()), ("hits", hits.as_str()), ("branch", "false")];
                    w.create_element("line").with_attributes(attrs).write_empty().map(drop)
                })
            })
            .map(drop)
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_xml::events::Event;

    fn data() -> CoverageData {
        let file = |lines: &[(u32, u64)]| FileCoverage {
            lines: lines.iter().copied().collect(),
            ..FileCoverage::default()
        };
        CoverageData {
            root: "/ws & co".into(),
            files: [
                ("src/lib.rs".into(), file(&[(4, 1), (8, 0)])),
                ("src/main.rs".into(), file(&[(3, 2)])),
                ("build.rs".into(), file(&[(1, 0)])),
            ]
            .into(),
        }
    }

    #[test]
    fn writes_packages_per_directory_and_lines_per_file() {
        let text = String::from_utf8(write(&data(), "0.1.0", 1_700_000_000)).expect("utf-8");
        assert_eq!(
            text,
            r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">
<coverage line-rate="0.5000" branch-rate="0" complexity="0" lines-covered="2" lines-valid="4" branches-covered="0" branches-valid="0" version="0.1.0" timestamp="1700000000">
  <sources>
    <source>/ws &amp; co</source>
  </sources>
  <packages>
    <package name="." line-rate="0.0000" branch-rate="0" complexity="0">
      <classes>
        <class name="build.rs" filename="build.rs" line-rate="0.0000" branch-rate="0" complexity="0">
          <methods/>
          <lines>
            <line number="1" hits="0" branch="false"/>
          </lines>
        </class>
      </classes>
    </package>
    <package name="src" line-rate="0.6667" branch-rate="0" complexity="0">
      <classes>
        <class name="lib.rs" filename="src/lib.rs" line-rate="0.5000" branch-rate="0" complexity="0">
          <methods/>
          <lines>
            <line number="4" hits="1" branch="false"/>
            <line number="8" hits="0" branch="false"/>
          </lines>
        </class>
        <class name="main.rs" filename="src/main.rs" line-rate="1.0000" branch-rate="0" complexity="0">
          <methods/>
          <lines>
            <line number="3" hits="2" branch="false"/>
          </lines>
        </class>
      </classes>
    </package>
  </packages>
</coverage>
"#
        );
    }

    #[test]
    fn the_document_parses_back() {
        let bytes = write(&data(), "0.1.0", 0);
        let mut reader = quick_xml::Reader::from_reader(bytes.as_slice());
        let mut buf = Vec::new();
        let (mut lines, mut source) = (0, String::new());
        loop {
            match reader.read_event_into(&mut buf).expect("well-formed") {
                Event::Eof => break,
                Event::Empty(e) if e.name().as_ref() == b"line" => lines += 1,
                Event::Text(t) => source.push_str(&t.decode().expect("text")),
                Event::GeneralRef(r) => source.push_str(&format!("&{};", String::from_utf8_lossy(&r))),
                _ => {}
            }
            buf.clear();
        }
        assert_eq!(lines, 4);
        assert!(source.contains("/ws &amp; co"), "{source}");
    }
}
