//! Which files of the target directory go into an archive (the list is in the crate docs):
//! test executables, `CARGO_BIN_EXE_*` binaries, `OUT_DIR` files, native library
//! directories, and the Rust dynamic libraries the executables need.

use std::collections::{BTreeSet, HashSet};
use std::fs;

use camino::{Utf8Path, Utf8PathBuf};
use testplan_runner::model::{TestBinary, TestList};

use crate::error::ArchiveError;

/// The files to archive, as absolute paths inside `list.target_dir`, sorted.
pub(crate) fn files_to_archive(list: &TestList, dylib_var: &str) -> Result<Vec<Utf8PathBuf>, ArchiveError> {
    let target = list.target_dir.as_path();
    let mut files = BTreeSet::new();
    let mut lib_dirs = BTreeSet::new();
    for binary in &list.binaries {
        if let Some(exe) = &binary.executable {
            files.insert(inside(target, exe)?.to_owned());
        }
        for (key, value) in binary.env.iter() {
            collect_from_var(target, binary, (key, value), dylib_var, (&mut files, &mut lib_dirs))?;
        }
    }
    add_needed_libraries(&mut files, &lib_dirs)?;
    Ok(files.into_iter().collect())
}

/// What one variable of a binary's environment brings in.
fn collect_from_var(
    target: &Utf8Path,
    binary: &TestBinary,
    (key, value): (&str, &str),
    dylib_var: &str,
    (files, lib_dirs): (&mut BTreeSet<Utf8PathBuf>, &mut BTreeSet<Utf8PathBuf>),
) -> Result<(), ArchiveError> {
    if key.starts_with("CARGO_BIN_EXE_") {
        let path = Utf8Path::new(value);
        if path.is_file() {
            files.insert(inside(target, path)?.to_owned());
        }
    } else if key == "OUT_DIR" {
        let dir = Utf8Path::new(value);
        if dir.starts_with(target) {
            files.extend(top_level_files(dir)?);
        }
    } else if key == dylib_var {
        for dir in std::env::split_paths(value).filter_map(|p| Utf8PathBuf::from_path_buf(p).ok()) {
            if dir.starts_with(target) && !is_profile_dir(binary, &dir) {
                // A build script's native library directory: all of it.
                files.extend(top_level_files(&dir)?);
            }
            if dir.starts_with(target) {
                lib_dirs.insert(dir);
            }
        }
    }
    Ok(())
}

/// `target/<profile>` or its `deps`: cargo's own output, archived file by file.
fn is_profile_dir(binary: &TestBinary, dir: &Utf8Path) -> bool {
    let Some(deps) = binary.executable.as_deref().and_then(Utf8Path::parent) else {
        return false;
    };
    dir == deps || Some(dir) == deps.parent()
}

/// `path`, checked to lie inside the target directory.
fn inside<'a>(target: &Utf8Path, path: &'a Utf8Path) -> Result<&'a Utf8Path, ArchiveError> {
    if path.starts_with(target) && path != target {
        Ok(path)
    } else {
        Err(ArchiveError::OutsideTarget { path: path.to_owned(), target_dir: target.to_owned() })
    }
}

/// The regular files directly in `dir` (none when it does not exist).
fn top_level_files(dir: &Utf8Path) -> Result<Vec<Utf8PathBuf>, ArchiveError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ArchiveError::io("cannot read the directory", dir, e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| ArchiveError::io("cannot read the directory", dir, e))?;
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if let (true, Ok(path)) = (is_file, Utf8PathBuf::from_path_buf(entry.path())) {
            files.push(path);
        }
    }
    Ok(files)
}

/// Adds the dynamic libraries in `lib_dirs` that an archived file needs, and what those
/// need in turn.
fn add_needed_libraries(
    files: &mut BTreeSet<Utf8PathBuf>,
    lib_dirs: &BTreeSet<Utf8PathBuf>,
) -> Result<(), ArchiveError> {
    let mut scanned: HashSet<Utf8PathBuf> = HashSet::new();
    loop {
        let pending: Vec<Utf8PathBuf> = files.iter().filter(|f| !scanned.contains(*f)).cloned().collect();
        if pending.is_empty() {
            return Ok(());
        }
        for file in pending {
            let bytes = fs::read(&file).map_err(|e| ArchiveError::io("cannot read", file.as_path(), e))?;
            for name in needed_library_names(&bytes) {
                let found = lib_dirs.iter().map(|dir| dir.join(&name)).find(|path| path.is_file());
                files.extend(found);
            }
            scanned.insert(file);
        }
    }
}

/// The `lib*.so` / `lib*.dylib` names in a binary's string tables: what its `DT_NEEDED`
/// entries (or Mach-O load commands) name. Names that are not libraries of the target
/// directory are ignored by the caller, so a false positive costs nothing.
pub(crate) fn needed_library_names(bytes: &[u8]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for suffix in [&b".so\0"[..], &b".dylib\0"[..]] {
        let mut from = 0;
        while let Some(offset) = find(&bytes[from..], suffix) {
            let end = from + offset + suffix.len() - 1;
            if let Some(name) = name_ending_at(bytes, end) {
                names.insert(name);
            }
            from = end + 1;
        }
    }
    names
}

/// The NUL-terminated string that ends at `end` (exclusive), when it looks like a
/// library file name: `lib` followed by printable characters without a slash.
fn name_ending_at(bytes: &[u8], end: usize) -> Option<String> {
    const LONGEST: usize = 255;
    let start = bytes[..end].iter().rposition(|&b| b == 0).map_or(0, |nul| nul + 1);
    let name = &bytes[start..end];
    let plausible = name.len() <= LONGEST
        && name.starts_with(b"lib")
        && name.iter().all(|&b| b.is_ascii_graphic() && b != b'/');
    plausible.then(|| String::from_utf8_lossy(name).into_owned())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let first = needle[0];
    let mut from = 0;
    while let Some(pos) = haystack[from..].iter().position(|&b| b == first) {
        let at = from + pos;
        if haystack[at..].starts_with(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_names_are_read_from_string_tables() {
        let bytes =
            b"\x7fELF\0libstd-1a2b.so\0libgeometry-0123.so\0/usr/lib/libc.so\0xlibx\0libfoo.dylib\0.so\0";
        let names: Vec<String> = needed_library_names(bytes).into_iter().collect();
        assert_eq!(names, ["libfoo.dylib", "libgeometry-0123.so", "libstd-1a2b.so"]);
        assert!(needed_library_names(b"no libraries here").is_empty());
        assert_eq!(find(b"abcabd", b"abd"), Some(3));
        assert_eq!(find(b"ab", b"abd"), None);
    }
}
