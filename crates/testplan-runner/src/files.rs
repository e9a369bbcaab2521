//! Every file cargo-testplan writes goes through here: reports (`last-run.json`,
//! `runs/<profile>.json`, `--report-json`, `--junit`, `--markdown`, `merge -o`, `report -o`),
//! the measured history, the listing caches, `init`'s `testplan.toml`, the build archive
//! (`archive -o`, streamed: [`write_atomically_with`]), and the Markdown appended to
//! `$GITHUB_STEP_SUMMARY`.
//!
//! The rules:
//! - A file is written whole to a temporary file in its destination directory, then renamed
//!   over the destination. The temporary file has a random name and is created with
//!   `O_CREAT | O_EXCL` (the tempfile crate), so nothing planted at a predictable name (a
//!   symlink into someone else's files) is ever opened; the rename replaces whatever is at
//!   the destination name (a symlink included) instead of writing through it. Readers see
//!   the old file or the new one, never half of one.
//! - [`Durability::Durable`] files (reports, the history) are flushed to disk (`fsync`)
//!   before the rename and their directory after it, so a crash right after the run leaves
//!   the old file or the new one, not an empty one. Caches skip that: a lost entry only
//!   costs a listing.
//! - On every failure (full disk, read-only directory, rename refused) the temporary file is
//!   removed before the error is returned: a full disk is not left fuller.
//! - New files get mode `0666` minus the umask, as `std::fs::write` would.
//! - A copy that can share the first file's inode is a hard link, made under a random name
//!   beside the destination and renamed over it ([`link_atomically`]).
//! - An append ([`append`], `$GITHUB_STEP_SUMMARY`) cannot be a rename: the file is opened
//!   with `O_APPEND | O_NOFOLLOW` (a symlink at that name is refused, not followed), must be
//!   a regular file, and is cut back to its old length when the write fails.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use crate::platform;

/// Whether a file must survive a crash right after it was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// Reports and the history: `fsync` the file and its directory.
    Durable,
    /// Caches: no `fsync` (a lost entry is recomputed).
    Cache,
}

/// Mode of new files before the umask, as `std::fs::write` creates them.
const NEW_FILE_MODE: u32 = 0o666;

/// Writes `bytes` to `path` atomically (see the module docs), creating its parent
/// directories.
pub fn write_atomically(path: &Path, bytes: &[u8], durability: Durability) -> io::Result<()> {
    write_through_temp(path, bytes, durability).map_err(without_temp_path)
}

fn write_through_temp(path: &Path, bytes: &[u8], durability: Durability) -> io::Result<()> {
    stream_through_temp(path, durability, |file| file.write_all(bytes))
}

/// Like [`write_atomically`], for a file too large to hold in memory (the build archive):
/// `write` streams the contents into the temporary file, which is renamed over `path` only
/// when it returns `Ok`.
pub fn write_atomically_with(
    path: &Path,
    durability: Durability,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    stream_through_temp(path, durability, write).map_err(without_temp_path)
}

fn stream_through_temp(
    path: &Path,
    durability: Durability,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    let dir = parent_dir(path)?;
    let prefix = temp_prefix(path);
    let mut temp = temp_builder(&prefix).tempfile_in(dir)?;
    write(temp.as_file_mut())?;
    if durability == Durability::Durable {
        temp.as_file().sync_all()?;
    }
    // On failure `persist` hands the temporary file back; dropping it removes it.
    temp.persist(path).map_err(|e| e.error)?;
    if durability == Durability::Durable {
        sync_dir(dir);
    }
    Ok(())
}

/// Makes `path` a hard link to `source`, replacing `path` atomically: the link is made under
/// a random name beside `path` and renamed over it (removed when that fails).
pub fn link_atomically(source: &Path, path: &Path) -> io::Result<()> {
    let dir = parent_dir(path)?;
    let prefix = temp_prefix(path);
    let link =
        temp_builder(&prefix).make_in(dir, |temp| fs::hard_link(source, temp)).map_err(without_temp_path)?;
    link.persist(path).map_err(|e| without_temp_path(e.error))?;
    Ok(())
}

/// tempfile appends ` at path "<temporary file>"` to its errors: a name that is gone by the
/// time the error is shown (the caller names the destination instead).
fn without_temp_path(e: io::Error) -> io::Error {
    if e.get_ref().is_none() {
        return e;
    }
    match e.to_string().split_once(" at path \"") {
        Some((message, _)) => io::Error::new(e.kind(), message.to_owned()),
        None => e,
    }
}

/// Appends `bytes` to `path` (created when missing) in one write, refusing a symlink at
/// `path` and anything but a regular file; on failure the file is cut back to the length it
/// had.
pub fn append(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.append(true).create(true);
    // Non-blocking: opening a FIFO must not hang the run; it is refused below anyway.
    let mut file = platform::no_follow(&mut options, NEW_FILE_MODE, true).open(path).map_err(not_followed)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"));
    }
    let written = file.write_all(bytes).and_then(|()| file.sync_data());
    if written.is_err() {
        let _ = file.set_len(meta.len());
    }
    written
}

/// `O_NOFOLLOW` fails with `ELOOP`, whose text ("too many levels of symbolic links") does
/// not say what happened.
pub(crate) fn not_followed(e: io::Error) -> io::Error {
    if platform::is_symlink_refusal(&e) {
        return io::Error::new(e.kind(), format!("a symbolic link, not followed ({e})"));
    }
    e
}

/// `path`'s directory (`.` for a bare file name), created when missing.
fn parent_dir(path: &Path) -> io::Result<&Path> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir)?;
    Ok(dir)
}

/// Temporary names are `.<file name>.<random>.tmp`: hidden, and recognisable as ours.
fn temp_prefix(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    format!(".{name}.")
}

fn temp_builder(prefix: &str) -> tempfile::Builder<'_, 'static> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix).suffix(".tmp");
    if let Some(permissions) = platform::permissions_with_mode(NEW_FILE_MODE) {
        builder.permissions(permissions);
    }
    builder
}

/// Flushes a directory's entries (the rename) to disk. Some file systems refuse `fsync` on
/// a directory; the file itself is already on disk then, so that is not an error.
fn sync_dir(dir: &Path) {
    if let Ok(handle) = File::open(dir) {
        let _ = handle.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writes_replace_the_file_and_leave_nothing_else() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sub/report.json");
        for (text, durability) in [("one", Durability::Durable), ("two", Durability::Cache)] {
            write_atomically(&path, text.as_bytes(), durability).expect("write");
            assert_eq!(fs::read_to_string(&path).expect("read"), text);
        }
        assert_eq!(names(&dir.path().join("sub")), ["report.json"]);
        let mode = fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode & 0o600, 0o600, "{mode:o}");
    }

    #[test]
    fn a_symlink_at_the_destination_is_replaced_not_followed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let victim = dir.path().join("victim");
        fs::write(&victim, "precious").expect("write victim");
        let path = dir.path().join("out.xml");
        std::os::unix::fs::symlink(&victim, &path).expect("plant symlink");
        write_atomically(&path, b"report", Durability::Durable).expect("write");
        assert_eq!(fs::read_to_string(&victim).expect("read"), "precious");
        assert!(!fs::symlink_metadata(&path).expect("meta").file_type().is_symlink());
        assert_eq!(fs::read_to_string(&path).expect("read"), "report");

        let linked = dir.path().join("copy.json");
        std::os::unix::fs::symlink(&victim, &linked).expect("plant symlink");
        link_atomically(&path, &linked).expect("link");
        assert_eq!(fs::read_to_string(&victim).expect("read"), "precious");
        assert_eq!(fs::read_to_string(&linked).expect("read"), "report");
    }

    #[test]
    fn a_failed_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        // The destination is a non-empty directory: the rename fails after the write.
        let path = dir.path().join("taken");
        fs::create_dir(&path).expect("mkdir");
        fs::write(path.join("inside"), "x").expect("write");
        let error = write_atomically(&path, b"report", Durability::Durable).expect_err("a directory");
        assert!(!error.to_string().contains(".tmp"), "{error}");
        assert!(link_atomically(&path.join("inside"), &path).is_err());
        assert_eq!(names(dir.path()), ["taken"]);
    }

    #[test]
    fn appends_refuse_symlinks_and_add_to_regular_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let victim = dir.path().join("victim");
        fs::write(&victim, "precious").expect("write victim");
        let path = dir.path().join("summary.md");
        std::os::unix::fs::symlink(&victim, &path).expect("plant symlink");
        let error = append(&path, b"# run").expect_err("must refuse");
        assert!(error.to_string().starts_with("a symbolic link, not followed"), "{error}");
        assert_eq!(fs::read_to_string(&victim).expect("read"), "precious");

        let real = dir.path().join("real.md");
        append(&real, b"one\n").expect("append");
        append(&real, b"two\n").expect("append");
        assert_eq!(fs::read_to_string(&real).expect("read"), "one\ntwo\n");
        assert!(append(dir.path(), b"x").is_err(), "a directory is not appended to");
    }
}
