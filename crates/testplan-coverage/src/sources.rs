//! Which source files count: the workspace's own code, as cargo-llvm-cov counts it.
//!
//! A file counts when it is under the workspace root, not under the target directory, and
//! is not test code: no `tests`, `examples` or `benches` directory on its path below the
//! root, and not named `tests.rs`, `*_tests.rs` or `*-tests.rs` (cargo-llvm-cov's default
//! `--ignore-filename-regex`). In-crate `#[cfg(test)]` modules inside a counted file are
//! counted with it, as there.

use camino::{Utf8Path, Utf8PathBuf};

/// Decides which exported files are measured and names them relative to the root.
#[derive(Clone, Debug)]
pub struct SourceFilter {
    root: Utf8PathBuf,
    excluded: Vec<Utf8PathBuf>,
}

const TEST_DIRS: [&str; 3] = ["tests", "examples", "benches"];

impl SourceFilter {
    /// Files under `root`, except those under any of `excluded` (the target directories).
    pub fn new(root: impl Into<Utf8PathBuf>, excluded: Vec<Utf8PathBuf>) -> SourceFilter {
        SourceFilter { root: root.into(), excluded }
    }

    /// The workspace root.
    pub fn root(&self) -> &Utf8Path {
        &self.root
    }

    /// `path` relative to the root when it counts, else `None`.
    pub fn relative(&self, path: &Utf8Path) -> Option<Utf8PathBuf> {
        if self.excluded.iter().any(|dir| path.starts_with(dir)) {
            return None;
        }
        let relative = path.strip_prefix(&self.root).ok()?;
        let mut parts: Vec<&str> = relative.iter().collect();
        let name = parts.pop()?;
        let test_dir = parts.iter().any(|part| TEST_DIRS.contains(part));
        (!test_dir && !is_test_file(name)).then(|| relative.to_owned())
    }
}

fn is_test_file(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".rs") else { return false };
    stem == "tests" || stem.ends_with("_tests") || stem.ends_with("-tests")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_workspaces_own_non_test_code() {
        let filter = SourceFilter::new("/ws", vec!["/ws/target".into()]);
        let cases = [
            ("/ws/src/lib.rs", Some("src/lib.rs")),
            ("/ws/crates/a/src/parse.rs", Some("crates/a/src/parse.rs")),
            ("/ws/crates/a/src/contests.rs", Some("crates/a/src/contests.rs")),
            ("/ws/tests/api.rs", None),
            ("/ws/crates/a/tests/common/mod.rs", None),
            ("/ws/examples/demo.rs", None),
            ("/ws/benches/b.rs", None),
            ("/ws/src/tests.rs", None),
            ("/ws/src/parser_tests.rs", None),
            ("/ws/src/parser-tests.rs", None),
            ("/ws/target/debug/build/x/out/gen.rs", None),
            ("/wsx/src/lib.rs", None),
            ("/rustc/abc/library/core/src/option.rs", None),
            ("/home/u/.cargo/registry/src/x/lib.rs", None),
        ];
        for (path, expected) in cases {
            assert_eq!(
                filter.relative(Utf8Path::new(path)).as_deref(),
                expected.map(Utf8Path::new),
                "{path}"
            );
        }
    }

    #[test]
    fn a_root_inside_a_tests_directory_still_counts() {
        let filter = SourceFilter::new("/tmp/tests/ws", Vec::new());
        assert_eq!(
            filter.relative(Utf8Path::new("/tmp/tests/ws/src/lib.rs")).as_deref(),
            Some(Utf8Path::new("src/lib.rs"))
        );
    }
}
