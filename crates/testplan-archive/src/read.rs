//! Reading an archive: the manifest is checked (format, version, consistency) before a
//! single file is unpacked, then every `target/` entry is unpacked into the destination,
//! refusing anything that is not a regular file at a plain relative path.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{self, Read};

use camino::{Utf8Component, Utf8Path, Utf8PathBuf};
use testplan_runner::cargo::CargoOptions;
use testplan_runner::model::TestList;

use crate::error::ArchiveError;
use crate::manifest::{FORMAT_NAME, FORMAT_VERSION, MANIFEST_NAME, Manifest, ManifestHeader, TARGET_PREFIX};
use crate::remap::PathRemap;

/// The largest manifest read (a list of a million tests is well under it).
const MANIFEST_LIMIT: u64 = 1 << 30;

/// An unpacked archive.
#[derive(Clone, Debug)]
pub struct Archive {
    /// Its manifest, paths as on the build machine.
    pub manifest: Manifest,
    /// Where the target directory's files were unpacked.
    pub target_dir: Utf8PathBuf,
}

/// Reads the archive at `path` and unpacks its files into `target_dir` (created when
/// missing; files already there are replaced).
pub fn read_archive(path: &Utf8Path, target_dir: &Utf8Path) -> Result<Archive, ArchiveError> {
    read_archive_with(path, |_| target_dir.to_owned())
}

/// [`read_archive`], unpacking into the directory `choose` picks once the manifest is read
/// (where the build's target directory was, say).
pub fn read_archive_with(
    path: &Utf8Path,
    choose: impl FnOnce(&Manifest) -> Utf8PathBuf,
) -> Result<Archive, ArchiveError> {
    let file = File::open(path).map_err(|e| ArchiveError::io("cannot open the archive", path, e))?;
    let decoder = zstd::Decoder::new(file).map_err(|e| not_an_archive(path, &e))?;
    let mut tar = tar::Archive::new(decoder);
    let mut entries = tar.entries().map_err(|e| not_an_archive(path, &e))?;
    let first = entries
        .next()
        .ok_or_else(|| not_an_archive(path, &io::Error::other("empty")))?
        .map_err(|e| not_an_archive(path, &e))?;
    let manifest = read_manifest(path, first)?;
    let target_dir = choose(&manifest);
    let target_dir = target_dir.as_path();
    fs::create_dir_all(target_dir).map_err(|e| ArchiveError::io("cannot create", target_dir, e))?;
    let mut unpacked = BTreeSet::new();
    for entry in entries {
        let entry = entry.map_err(|e| corrupt(path, format!("cannot read an entry: {e}")))?;
        unpacked.insert(unpack(path, entry, target_dir)?);
    }
    if let Some(missing) = manifest.files.iter().find(|f| !unpacked.contains(f.as_str())) {
        return Err(corrupt(path, format!("`target/{missing}` is listed but missing (truncated?)")));
    }
    Ok(Archive { manifest, target_dir: target_dir.to_owned() })
}

/// The first entry: the manifest, checked.
fn read_manifest<R: Read>(path: &Utf8Path, mut entry: tar::Entry<'_, R>) -> Result<Manifest, ArchiveError> {
    let name = entry.path().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
    if name != MANIFEST_NAME {
        let reason = format!("its first entry is `{name}`, not `{MANIFEST_NAME}`");
        return Err(ArchiveError::Foreign { path: path.to_owned(), reason });
    }
    let mut text = Vec::new();
    entry
        .by_ref()
        .take(MANIFEST_LIMIT)
        .read_to_end(&mut text)
        .map_err(|e| corrupt(path, format!("cannot read `{MANIFEST_NAME}`: {e}")))?;
    check_header(path, &text)?;
    let manifest: Manifest =
        serde_json::from_slice(&text).map_err(|e| corrupt(path, format!("`{MANIFEST_NAME}`: {e}")))?;
    if manifest.test_list().is_none() {
        return Err(corrupt(
            path,
            format!("`{MANIFEST_NAME}` refers to binaries or packages it does not list"),
        ));
    }
    Ok(manifest)
}

/// Format and version, before the rest is parsed (a newer version may not parse).
fn check_header(path: &Utf8Path, text: &[u8]) -> Result<(), ArchiveError> {
    let header: ManifestHeader =
        serde_json::from_slice(text).map_err(|e| corrupt(path, format!("`{MANIFEST_NAME}`: {e}")))?;
    if header.format.as_deref() != Some(FORMAT_NAME) {
        let reason = format!(
            "its manifest's format is {:?}, not \"{FORMAT_NAME}\"",
            header.format.unwrap_or_default()
        );
        return Err(ArchiveError::Foreign { path: path.to_owned(), reason });
    }
    match header.version {
        Some(version) if version > FORMAT_VERSION => Err(ArchiveError::TooNew {
            path: path.to_owned(),
            found: version,
            supported: FORMAT_VERSION,
            ours: env!("CARGO_PKG_VERSION"),
            created_by: header.created_by.unwrap_or_else(|| "unknown".to_owned()),
        }),
        Some(_) => Ok(()),
        None => Err(corrupt(path, format!("`{MANIFEST_NAME}` has no version"))),
    }
}

/// Unpacks one `target/...` entry; returns its path relative to the target directory.
fn unpack<R: Read>(
    path: &Utf8Path,
    mut entry: tar::Entry<'_, R>,
    target_dir: &Utf8Path,
) -> Result<String, ArchiveError> {
    let name = entry.path().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
    let relative =
        relative_target_path(&name).ok_or_else(|| corrupt(path, format!("unexpected entry `{name}`")))?;
    // The writer stores files with holes (linkers leave some) as GNU sparse entries.
    if !matches!(entry.header().entry_type(), tar::EntryType::Regular | tar::EntryType::GNUSparse) {
        return Err(corrupt(path, format!("`{name}` is not a regular file")));
    }
    let dest = target_dir.join(&relative);
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent).map_err(|e| ArchiveError::io("cannot create", parent, e))?;
    }
    // A file already there may be a running executable or a hard link: replace, never
    // write through.
    let _ = fs::remove_file(&dest);
    entry.unpack(&dest).map_err(|e| corrupt(path, format!("cannot unpack `{name}` to `{dest}`: {e}")))?;
    Ok(relative.into_string())
}

/// `target/a/b` → `a/b`, when every component is a plain name.
fn relative_target_path(name: &str) -> Option<Utf8PathBuf> {
    let rest = Utf8Path::new(name).strip_prefix(TARGET_PREFIX).ok()?;
    let plain = rest.components().all(|c| matches!(c, Utf8Component::Normal(_)));
    (plain && !rest.as_str().is_empty()).then(|| rest.to_owned())
}

fn not_an_archive(path: &Utf8Path, e: &io::Error) -> ArchiveError {
    ArchiveError::NotAnArchive { path: path.to_owned(), reason: e.to_string() }
}

fn corrupt(path: &Utf8Path, reason: String) -> ArchiveError {
    ArchiveError::Corrupt { path: path.to_owned(), reason }
}

impl Archive {
    /// The test list for this machine: the build's target directory remapped to where the
    /// archive was unpacked, its workspace root to `workspace` (the source checkout), and
    /// the inherited library search path to this process's.
    pub fn into_test_list(&self, workspace: &Utf8Path) -> TestList {
        let remap = self.remap(workspace);
        let here = std::env::var(&self.manifest.dylib_path_var).ok();
        let list = self.manifest.test_list().unwrap_or_default();
        let dylib = (
            self.manifest.dylib_path_var.as_str(),
            self.manifest.inherited_dylib_path.as_deref(),
            here.as_deref(),
        );
        remap.test_list(list, dylib)
    }

    /// The build's cargo options, with its manifest path and target directory remapped, for
    /// running doctests with cargo from the source checkout.
    pub fn cargo_options(&self, workspace: &Utf8Path) -> CargoOptions {
        let remap = self.remap(workspace);
        let mut opts = self.manifest.cargo.clone();
        opts.manifest_path = opts.manifest_path.map(|p| remap.path(&p));
        opts.target_dir = opts.target_dir.map(|p| remap.path(&p));
        opts
    }

    fn remap(&self, workspace: &Utf8Path) -> PathRemap {
        PathRemap::new(
            (&self.manifest.target_dir, &self.target_dir),
            (&self.manifest.workspace_root, workspace),
        )
    }
}
