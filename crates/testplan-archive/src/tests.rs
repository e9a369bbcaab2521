//! Round trips through a real archive file, and every kind of bad archive.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use camino::{Utf8Path, Utf8PathBuf};
use testplan_runner::cargo::CargoOptions;
use testplan_runner::model::{
    BinaryIdx, ListMethod, PackageInfo, SourceLocation, TargetKind, TestBinary, TestCase, TestList,
};

use crate::manifest::{MANIFEST_NAME, Manifest};
use crate::{ArchiveError, FORMAT_VERSION, read_archive, write_archive};

/// A build on disk: a workspace with a target directory holding fake outputs.
struct Build {
    _temp: tempfile::TempDir,
    root: Utf8PathBuf,
    list: TestList,
}

fn write(path: &Utf8Path, bytes: &[u8], mode: u32) {
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, bytes).expect("write");
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// `ws/target/debug/...`: a unit-test executable that needs `libdyn-1.so`, a bin for
/// `CARGO_BIN_EXE_shapes`, an `OUT_DIR` with a file and a subdirectory, a native library
/// directory, and a proc-macro library nothing needs.
fn build() -> Build {
    let temp = tempfile::tempdir().expect("temp dir");
    let root = Utf8PathBuf::from_path_buf(temp.path().to_path_buf()).expect("utf-8").join("build/ws");
    let debug = root.join("target/debug");
    write(&debug.join("deps/geometry-0123"), b"\x7fELF\0libdyn-1.so\0libc.so.6\0", 0o755);
    write(&debug.join("deps/libdyn-1.so"), b"\x7fELF\0libdeeper-2.so\0", 0o755);
    write(&debug.join("deps/libdeeper-2.so"), b"\x7fELF\0", 0o755);
    write(&debug.join("deps/libmacro-3.so"), b"\x7fELF proc macro", 0o755);
    write(&debug.join("shapes"), b"\x7fELF shapes", 0o755);
    let out = debug.join("build/geometry-aa/out");
    write(&out.join("table.rs"), b"pub const N: u32 = 3;", 0o644);
    write(&out.join("nested/deep.o"), b"object", 0o644);
    let native = debug.join("build/sys-bb/out/lib");
    write(&native.join("libnative.so"), b"native", 0o755);
    let list = test_list(&root, &debug, &out, &native);
    Build { _temp: temp, root, list }
}

#[allow(clippy::field_reassign_with_default)] // fields added to the list later stay default
fn test_list(root: &Utf8Path, debug: &Utf8Path, out: &Utf8Path, native: &Utf8Path) -> TestList {
    let package = Arc::new(PackageInfo {
        id: "path+file:///ws/crates/geometry#0.1.0".to_owned(),
        name: "geometry".to_owned(),
        version: "0.1.0".to_owned(),
        manifest_path: root.join("crates/geometry/Cargo.toml"),
        root: root.join("crates/geometry"),
    });
    let mut search = format!("{native}:{debug}:{debug}/deps:/toolchain/lib");
    if let Some(inherited) = var("LD_LIBRARY_PATH").filter(|v| !v.is_empty()) {
        search = format!("{search}:{inherited}");
    }
    let env = vec![
        ("LD_LIBRARY_PATH".to_owned(), search),
        ("OUT_DIR".to_owned(), out.to_string()),
        ("CARGO_MANIFEST_DIR".to_owned(), package.root.to_string()),
        ("CARGO_BIN_EXE_shapes".to_owned(), debug.join("shapes").to_string()),
        ("CARGO_PKG_NAME".to_owned(), "geometry".to_owned()),
    ];
    let unit = TestBinary {
        id: "geometry".to_owned(),
        package: Arc::clone(&package),
        target_name: "geometry".to_owned(),
        kind: TargetKind::Lib,
        executable: Some(debug.join("deps/geometry-0123")),
        custom_harness: false,
        cwd: package.root.clone(),
        env: Arc::new(env),
        list_method: ListMethod::LibtestJson,
    };
    let doc = TestBinary {
        id: "geometry::doc".to_owned(),
        kind: TargetKind::Doc,
        executable: None,
        env: Arc::new(Vec::new()),
        list_method: ListMethod::Rustdoc,
        ..unit.clone()
    };
    let case = |binary: usize, name: &str| TestCase {
        binary: BinaryIdx(binary),
        name: name.to_owned(),
        ignored: false,
        ignore_reason: None,
        source: None,
    };
    let slow = TestCase {
        ignored: true,
        ignore_reason: Some("slow".to_owned()),
        source: Some(SourceLocation { file: "src/lib.rs".to_owned(), line: 40 }),
        ..case(0, "tests::big")
    };
    let mut list = TestList::default();
    list.workspace_root = root.to_owned();
    list.target_dir = root.join("target");
    list.binaries = vec![unit, doc];
    list.tests = vec![case(0, "tests::area"), slow, case(1, "crates/geometry/src/lib.rs - area (line 3)")];
    list.notes = vec!["a note".to_owned()];
    list
}

fn cargo_options() -> CargoOptions {
    CargoOptions {
        features: vec!["extra".to_owned()],
        release: false,
        manifest_path: None,
        ..CargoOptions::default()
    }
}

/// The archive of a fresh build, written into the build's temp dir.
fn archived() -> (Build, Utf8PathBuf) {
    let b = build();
    let path = b.root.join("../tests.tar.zst");
    write_archive(&b.list, &cargo_options(), &path).expect("write archive");
    (b, path)
}

#[test]
fn a_round_trip_gives_the_files_and_the_list_back_remapped() {
    let (b, path) = archived();
    let run = b.root.join("../../run");
    let unpacked = run.join("unpacked");
    let archive = read_archive(&path, &unpacked).expect("read archive");
    let files: Vec<&str> = archive.manifest.files.iter().map(String::as_str).collect();
    assert_eq!(
        files,
        [
            "debug/build/geometry-aa/out/table.rs",
            "debug/build/sys-bb/out/lib/libnative.so",
            "debug/deps/geometry-0123",
            "debug/deps/libdeeper-2.so",
            "debug/deps/libdyn-1.so",
            "debug/shapes",
        ],
        "no proc macro, no nested OUT_DIR file"
    );
    let exe = unpacked.join("debug/deps/geometry-0123");
    assert_eq!(fs::read(&exe).expect("exe"), b"\x7fELF\0libdyn-1.so\0libc.so.6\0");
    assert_eq!(fs::metadata(&exe).expect("meta").permissions().mode() & 0o111, 0o111, "still executable");
    assert_eq!(
        fs::metadata(unpacked.join("debug/build/geometry-aa/out/table.rs"))
            .expect("meta")
            .permissions()
            .mode()
            & 0o111,
        0
    );

    let checkout = run.join("checkout");
    let list = archive.into_test_list(&checkout);
    assert_eq!(list.workspace_root, checkout);
    assert_eq!(list.target_dir, unpacked);
    assert_eq!(list.tests, b.list.tests);
    assert_eq!(list.notes, ["a note"]);
    let unit = &list.binaries[0];
    assert_eq!(unit.executable.as_deref(), Some(exe.as_path()));
    assert_eq!(unit.cwd, checkout.join("crates/geometry"));
    assert_eq!(unit.package.manifest_path, checkout.join("crates/geometry/Cargo.toml"));
    let env: std::collections::HashMap<&str, &str> =
        unit.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(env["OUT_DIR"], unpacked.join("debug/build/geometry-aa/out"));
    assert_eq!(env["CARGO_MANIFEST_DIR"], checkout.join("crates/geometry"));
    assert_eq!(env["CARGO_BIN_EXE_shapes"], unpacked.join("debug/shapes"));
    assert_eq!(env["CARGO_PKG_NAME"], "geometry");
    let mut search =
        format!("{u}/debug/build/sys-bb/out/lib:{u}/debug:{u}/debug/deps:/toolchain/lib", u = unpacked);
    if let Some(here) = var("LD_LIBRARY_PATH").filter(|v| !v.is_empty()) {
        search = format!("{search}:{here}");
    }
    assert_eq!(env["LD_LIBRARY_PATH"], search);
    assert_eq!(list.binaries[1].executable, None, "doctests have no executable");
    assert!(Arc::ptr_eq(&list.binaries[0].package, &list.binaries[1].package), "one package, shared");

    let opts = archive.cargo_options(&checkout);
    assert_eq!(opts.features, ["extra"]);
}

#[test]
fn files_with_holes_come_back_whole() {
    let b = build();
    // A linker may leave holes in an executable: the writer stores them as a sparse entry.
    let exe = b.list.binaries[0].executable.clone().expect("exe");
    let file = fs::OpenOptions::new().write(true).open(&exe).expect("open");
    file.set_len(4 << 20).expect("make a hole");
    drop(file);
    let mut tail = fs::OpenOptions::new().append(true).open(&exe).expect("open");
    std::io::Write::write_all(&mut tail, b"end").expect("write after the hole");
    drop(tail);
    let path = b.root.join("../sparse.tar.zst");
    write_archive(&b.list, &cargo_options(), &path).expect("write");
    let unpacked = b.root.join("../sparse-out");
    read_archive(&path, &unpacked).expect("a sparse entry is read");
    assert_eq!(
        fs::read(unpacked.join("debug/deps/geometry-0123")).expect("read"),
        fs::read(&exe).expect("read")
    );
}

#[test]
fn a_file_outside_the_target_directory_is_refused() {
    let mut b = build();
    let outside = b.root.join("tools/helper");
    write(&outside, b"x", 0o755);
    b.list.binaries[0].executable = Some(outside.clone());
    let error = write_archive(&b.list, &cargo_options(), &b.root.join("../a.tar.zst")).expect_err("outside");
    assert!(matches!(error, ArchiveError::OutsideTarget { .. }), "{error}");
    assert!(error.to_string().contains("is outside the target directory"), "{error}");
    assert!(!b.root.join("../a.tar.zst").exists(), "nothing written");
}

/// A tar.zst with these entries (name, contents, type), names written as they are.
fn raw_archive(entries: &[(&str, &[u8], tar::EntryType)]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (name, data, kind) in entries {
        let mut header = tar::Header::new_gnu();
        let field = &mut header.as_gnu_mut().expect("gnu header").name;
        field[..name.len()].copy_from_slice(name.as_bytes());
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(*kind);
        header.set_cksum();
        tar.append(&header, *data).expect("append");
    }
    zstd::encode_all(&tar.into_inner().expect("tar")[..], 3).expect("zstd")
}

fn manifest_json(edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let (b, path) = archived();
    let archive = read_archive(&path, &b.root.join("../check")).expect("read");
    let mut value = serde_json::to_value(&archive.manifest).expect("json");
    value["files"] = serde_json::json!([]);
    edit(&mut value);
    serde_json::to_vec(&value).expect("json")
}

/// Reads `bytes` as an archive and returns the error.
fn read_error(bytes: &[u8]) -> ArchiveError {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = Utf8PathBuf::from_path_buf(temp.path().to_path_buf()).expect("utf-8");
    let path = dir.join("in.tar.zst");
    fs::write(&path, bytes).expect("write");
    let error = read_archive(&path, &dir.join("out")).expect_err("must fail");
    let stray = dir.join("out/evil");
    assert!(!stray.exists() && !dir.join("evil").exists(), "nothing unpacked outside");
    error
}

#[test]
fn bad_archives_are_typed_errors_with_clear_messages() {
    let regular = tar::EntryType::Regular;
    let good = manifest_json(|_| {});
    let foreign_format = manifest_json(|m| m["format"] = "nextest-archive".into());
    let too_new = manifest_json(|m| m["version"] = (FORMAT_VERSION + 1).into());
    let bad_index = manifest_json(|m| m["tests"][0]["binary"] = 99.into());
    let listed = manifest_json(|m| m["files"] = serde_json::json!(["debug/missing"]));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "plain text",
            b"hello, world".to_vec(),
            "is not a cargo-testplan archive (not a zstd-compressed tar",
        ),
        (
            "a tar.zst of something else",
            raw_archive(&[("README.md", b"# hi", regular)]),
            "its first entry is `README.md`, not `testplan-archive.json`); make one with `cargo testplan archive -o FILE`",
        ),
        (
            "another format",
            raw_archive(&[(MANIFEST_NAME, &foreign_format, regular)]),
            "its manifest's format is \"nextest-archive\"",
        ),
        (
            "too new",
            raw_archive(&[(MANIFEST_NAME, &too_new, regular)]),
            "is a version 2 cargo-testplan archive, but this cargo-testplan (0.1.0) reads versions up to 1; install the cargo-testplan that wrote it (cargo-testplan 0.1.0)",
        ),
        (
            "garbled manifest",
            raw_archive(&[(
                MANIFEST_NAME,
                b"{\"format\":\"cargo-testplan-archive\",\"version\":1,",
                regular,
            )]),
            "is a damaged cargo-testplan archive: `testplan-archive.json`:",
        ),
        (
            "dangling index",
            raw_archive(&[(MANIFEST_NAME, &bad_index, regular)]),
            "refers to binaries or packages it does not list",
        ),
        (
            "a file listed but missing",
            raw_archive(&[(MANIFEST_NAME, &listed, regular)]),
            "`target/debug/missing` is listed but missing (truncated?)",
        ),
        (
            "an entry escaping the target",
            raw_archive(&[(MANIFEST_NAME, &good, regular), ("target/../evil", b"x", regular)]),
            "unexpected entry `target/../evil`",
        ),
        (
            "an entry outside target/",
            raw_archive(&[(MANIFEST_NAME, &good, regular), ("evil", b"x", regular)]),
            "unexpected entry `evil`",
        ),
        (
            "a symlink",
            raw_archive(&[(MANIFEST_NAME, &good, regular), ("target/evil", b"", tar::EntryType::Symlink)]),
            "`target/evil` is not a regular file",
        ),
    ];
    for (what, bytes, expected) in cases {
        let message = read_error(&bytes).to_string();
        assert!(message.contains(expected), "{what}: {message}");
    }
    assert!(matches!(
        read_error(&raw_archive(&[(MANIFEST_NAME, &too_new, regular)])),
        ArchiveError::TooNew { found: 2, .. }
    ));
}

#[test]
fn a_truncated_archive_is_damaged_not_half_read() {
    let (_b, path) = archived();
    let bytes = fs::read(&path).expect("read");
    for keep in [bytes.len() / 2, bytes.len() - 8] {
        let error = read_error(&bytes[..keep]);
        assert!(
            matches!(error, ArchiveError::Corrupt { .. } | ArchiveError::NotAnArchive { .. }),
            "{keep} of {} bytes: {error}",
            bytes.len()
        );
    }
}

#[test]
fn the_manifest_comes_first_and_is_json() {
    let (_b, path) = archived();
    let bytes = zstd::decode_all(&fs::read(&path).expect("read")[..]).expect("zstd");
    let mut tar = tar::Archive::new(&bytes[..]);
    let mut entries = tar.entries().expect("entries");
    let first = entries.next().expect("one entry").expect("entry");
    assert_eq!(first.path().expect("path").to_str(), Some(MANIFEST_NAME));
    let manifest: Manifest = serde_json::from_reader(first).expect("manifest");
    assert_eq!((manifest.format.as_str(), manifest.version), ("cargo-testplan-archive", 1));
    let rest: Vec<String> =
        entries.map(|e| e.expect("entry").path().expect("path").to_string_lossy().into_owned()).collect();
    assert!(rest.iter().all(|name| name.starts_with("target/")), "{rest:?}");
    assert_eq!(rest.len(), manifest.files.len());
}
