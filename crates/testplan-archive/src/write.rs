//! Writing an archive: the manifest first, then the collected files, through zstd into the
//! one file writer (`testplan_runner::files`): a temporary file renamed into place, so an
//! interrupted write never leaves half an archive at the destination.

use std::fs::File;
use std::io::{self, Write};

use camino::Utf8Path;
use testplan_runner::cargo::CargoOptions;
use testplan_runner::files::{Durability, write_atomically_with};
use testplan_runner::model::TestList;

use crate::collect::files_to_archive;
use crate::error::ArchiveError;
use crate::manifest::{FORMAT_NAME, FORMAT_VERSION, MANIFEST_NAME, Manifest, TARGET_PREFIX, list_parts};
use crate::remap::dylib_path_var;

/// zstd's level: 3 (its default) packs test binaries to about a third in seconds; higher
/// levels cost the build job more than they save the shards' downloads.
const ZSTD_LEVEL: i32 = 3;

/// What was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveSummary {
    /// Files archived from the target directory.
    pub files: usize,
    /// Their total size.
    pub input_bytes: u64,
    /// The archive's size.
    pub archive_bytes: u64,
    /// Test binaries in the list.
    pub binaries: usize,
    /// Tests in the list.
    pub tests: usize,
}

/// Archives `list` (as discovery made it, built with `cargo`) to `path`.
pub fn write_archive(
    list: &TestList,
    cargo: &CargoOptions,
    path: &Utf8Path,
) -> Result<ArchiveSummary, ArchiveError> {
    let var = dylib_path_var();
    let files = files_to_archive(list, var)?;
    let relative: Vec<String> = files
        .iter()
        .filter_map(|f| f.strip_prefix(&list.target_dir).ok())
        .map(|rel| rel.as_str().replace('\\', "/"))
        .collect();
    let manifest = manifest(list, cargo, var, relative.clone());
    let json =
        serde_json::to_vec_pretty(&manifest).map_err(|e| ArchiveError::io("cannot write", path, e.into()))?;
    let mut input_bytes = 0;
    let result = write_atomically_with(path.as_std_path(), Durability::Durable, |file| {
        input_bytes = write_tar(file, &json, files.iter().map(|f| f.as_path()).zip(&relative))?;
        Ok(())
    });
    result.map_err(|e| ArchiveError::io("cannot write the archive", path, e))?;
    let archive_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    Ok(ArchiveSummary {
        files: files.len(),
        input_bytes,
        archive_bytes,
        binaries: list.binaries.len(),
        tests: list.tests.len(),
    })
}

fn manifest(list: &TestList, cargo: &CargoOptions, var: &str, files: Vec<String>) -> Manifest {
    let (packages, binaries, tests) = list_parts(list);
    Manifest {
        format: FORMAT_NAME.to_owned(),
        version: FORMAT_VERSION,
        created_by: format!("cargo-testplan {}", env!("CARGO_PKG_VERSION")),
        platform: format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS),
        workspace_root: list.workspace_root.clone(),
        target_dir: list.target_dir.clone(),
        dylib_path_var: var.to_owned(),
        inherited_dylib_path: std::env::var(var).ok(),
        cargo: cargo.clone(),
        packages,
        binaries,
        tests,
        notes: list.notes.clone(),
        files,
    }
}

/// The tar.zst stream: the manifest, then each file as `target/<relative path>`. Returns
/// the bytes of the files read.
fn write_tar<'a>(
    file: &mut File,
    manifest: &[u8],
    files: impl Iterator<Item = (&'a Utf8Path, &'a String)>,
) -> io::Result<u64> {
    let encoder = zstd::Encoder::new(io::BufWriter::new(file), ZSTD_LEVEL)?;
    let mut tar = tar::Builder::new(encoder);
    tar.mode(tar::HeaderMode::Deterministic);
    let mut header = tar::Header::new_gnu();
    header.set_size(manifest.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, MANIFEST_NAME, manifest)?;
    let mut total = 0;
    for (path, relative) in files {
        let mut source = File::open(path).map_err(|e| named(e, path))?;
        total += source.metadata()?.len();
        tar.append_file(format!("{TARGET_PREFIX}/{relative}"), &mut source).map_err(|e| named(e, path))?;
    }
    let encoder = tar.into_inner()?;
    encoder.finish()?.flush()?;
    Ok(total)
}

/// An I/O error with the file it concerns in its text.
fn named(e: io::Error, path: &Utf8Path) -> io::Error {
    io::Error::new(e.kind(), format!("{path}: {e}"))
}
