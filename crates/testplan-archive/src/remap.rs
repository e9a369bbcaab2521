//! Paths of the build machine made paths of the run machine.
//!
//! Two prefixes move: the build's target directory becomes the directory the archive was
//! unpacked into, and the build's workspace root becomes the source checkout given with
//! `--workspace-remap` (the current directory's workspace by default). The target
//! directory is tried first: it usually lies inside the workspace root. A path under
//! neither is kept as it is (a toolchain directory, `/usr/lib`).
//!
//! What is remapped: each binary's executable and working directory, each package's
//! manifest path and root, and every path in the binaries' environment variables
//! (`CARGO_MANIFEST_DIR`, `OUT_DIR`, `CARGO_BIN_EXE_*`, each entry of the search path).
//! A variable's value is cut at the platform's path-list separator and each piece that
//! starts with a remapped prefix is remapped, so lists and single paths alike are handled.
//! The dynamic library search path ends with what the build's environment had
//! ([`crate::Manifest::inherited_dylib_path`]); that tail is replaced by the run
//! machine's own value.

use camino::{Utf8Path, Utf8PathBuf};
use testplan_runner::model::TestList;

/// From the build machine's directories to the run machine's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathRemap {
    /// (from, to), most specific first.
    prefixes: Vec<(Utf8PathBuf, Utf8PathBuf)>,
}

impl PathRemap {
    /// Remaps `target_dir` to `new_target` and `workspace_root` to `new_root`.
    pub fn new(
        (target_dir, new_target): (&Utf8Path, &Utf8Path),
        (workspace_root, new_root): (&Utf8Path, &Utf8Path),
    ) -> Self {
        let mut prefixes = vec![
            (target_dir.to_owned(), new_target.to_owned()),
            (workspace_root.to_owned(), new_root.to_owned()),
        ];
        // The longer prefix first, so `ws/target` wins over `ws`.
        prefixes.sort_by_key(|(from, _)| std::cmp::Reverse(from.as_str().len()));
        PathRemap { prefixes }
    }

    /// `path` with its prefix replaced, or as it is.
    pub fn path(&self, path: &Utf8Path) -> Utf8PathBuf {
        for (from, to) in &self.prefixes {
            if let Ok(rest) = path.strip_prefix(from) {
                return if rest.as_str().is_empty() { to.clone() } else { to.join(rest) };
            }
        }
        path.to_owned()
    }

    /// Every absolute path in a variable's value remapped (see the module docs).
    pub fn value(&self, value: &str) -> String {
        value
            .split(path_list_separator())
            .map(|piece| {
                if piece.is_empty() {
                    piece.to_owned()
                } else {
                    self.path(Utf8Path::new(piece)).into_string()
                }
            })
            .collect::<Vec<_>>()
            .join(path_list_separator())
    }

    /// The test list with every path remapped; `dylib` is `(variable, build machine's
    /// inherited value, run machine's value)`.
    pub fn test_list(&self, mut list: TestList, dylib: (&str, Option<&str>, Option<&str>)) -> TestList {
        list.workspace_root = self.path(&list.workspace_root);
        list.target_dir = self.path(&list.target_dir);
        let mut packages: Vec<std::sync::Arc<testplan_runner::model::PackageInfo>> = Vec::new();
        for binary in &mut list.binaries {
            binary.executable = binary.executable.as_deref().map(|exe| self.path(exe));
            binary.cwd = self.path(&binary.cwd);
            binary.env = std::sync::Arc::new(self.env(&binary.env, dylib));
            // Binaries share their package: remap each package once and share it again.
            let shared = packages.iter().find(|p| p.id == binary.package.id).cloned();
            binary.package = shared.unwrap_or_else(|| {
                let mut package = binary.package.as_ref().clone();
                package.manifest_path = self.path(&package.manifest_path);
                package.root = self.path(&package.root);
                let package = std::sync::Arc::new(package);
                packages.push(std::sync::Arc::clone(&package));
                package
            });
        }
        list
    }

    fn env(
        &self,
        env: &[(String, String)],
        (var, built, here): (&str, Option<&str>, Option<&str>),
    ) -> Vec<(String, String)> {
        env.iter()
            .map(|(key, value)| {
                let value = if key == var { replace_inherited(value, built, here) } else { value.clone() };
                (key.clone(), self.value(&value))
            })
            .collect()
    }
}

/// The search path with the build machine's inherited tail (`built`) replaced by this
/// machine's value (`here`).
fn replace_inherited(value: &str, built: Option<&str>, here: Option<&str>) -> String {
    let sep = path_list_separator();
    let own = match built.filter(|b| !b.is_empty()) {
        Some(built) => value.strip_suffix(built).map(|v| v.trim_end_matches(sep)).unwrap_or(value),
        None => value,
    };
    match here.filter(|h| !h.is_empty()) {
        Some(here) if own.is_empty() => here.to_owned(),
        Some(here) => format!("{own}{sep}{here}"),
        None => own.to_owned(),
    }
}

/// The separator of path lists (`PATH`, `LD_LIBRARY_PATH`).
fn path_list_separator() -> &'static str {
    if cfg!(windows) { ";" } else { ":" }
}

/// The dynamic library search path variable of this platform, as cargo sets it.
pub(crate) fn dylib_path_var() -> &'static str {
    if cfg!(windows) {
        "PATH"
    } else if cfg!(target_os = "macos") {
        "DYLD_FALLBACK_LIBRARY_PATH"
    } else {
        "LD_LIBRARY_PATH"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remap() -> PathRemap {
        PathRemap::new(
            (Utf8Path::new("/build/ws/target"), Utf8Path::new("/run/unpacked")),
            (Utf8Path::new("/build/ws"), Utf8Path::new("/run/checkout")),
        )
    }

    #[test]
    fn the_target_directory_wins_over_the_workspace_root() {
        let r = remap();
        let cases = [
            ("/build/ws/target/debug/deps/t-1", "/run/unpacked/debug/deps/t-1"),
            ("/build/ws/crates/a", "/run/checkout/crates/a"),
            ("/build/ws", "/run/checkout"),
            ("/build/wsx/other", "/build/wsx/other"),
            ("/home/u/.rustup/lib", "/home/u/.rustup/lib"),
        ];
        for (from, to) in cases {
            assert_eq!(r.path(Utf8Path::new(from)), to, "{from}");
        }
    }

    #[test]
    fn values_are_remapped_piece_by_piece() {
        let r = remap();
        assert_eq!(
            r.value("/build/ws/target/debug/build/x/out:/build/ws/target/debug:/usr/lib"),
            "/run/unpacked/debug/build/x/out:/run/unpacked/debug:/usr/lib"
        );
        assert_eq!(r.value("plain text, not a path"), "plain text, not a path");
        assert_eq!(r.value(""), "");
    }

    #[test]
    fn the_inherited_search_path_is_replaced() {
        let cases = [
            (
                "/t/debug:/t/debug/deps:/build/lib",
                Some("/build/lib"),
                Some("/run/lib"),
                "/t/debug:/t/debug/deps:/run/lib",
            ),
            ("/t/debug:/build/lib", Some("/build/lib"), None, "/t/debug"),
            ("/t/debug", None, Some("/run/lib"), "/t/debug:/run/lib"),
            ("/t/debug", Some(""), Some(""), "/t/debug"),
            ("/build/lib", Some("/build/lib"), Some("/run/lib"), "/run/lib"),
        ];
        for (value, built, here, expected) in cases {
            assert_eq!(replace_inherited(value, built, here), expected, "{value} {built:?} {here:?}");
        }
    }
}
