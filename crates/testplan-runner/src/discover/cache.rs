//! The listing cache: each libtest binary's parsed listing, stored under
//! `<target-dir>/testplan/list-cache/` and reused while the executable is unchanged.
//!
//! A libtest listing is a pure function of the executable: `#[test]` functions are compiled
//! in, and the listing depends on neither the environment nor the working directory. So an
//! entry is keyed by the executable's path and a [`Stamp`] of its file (size, mtime, ctime,
//! inode, device), plus the cache format and the runner's version (the parsers may change
//! between versions). A rebuilt binary changes its mtime (and, as linkers write a new
//! file, its inode), so a stale listing is never served.
//!
//! What is not cached, because its listing is not a function of the executable alone:
//!
//! - `harness = false` binaries: a custom harness may list files on disk or read the
//!   environment (datatest-style harnesses list a directory of cases);
//! - doctests: rustdoc collects them from the library's sources, including files pulled in
//!   only under `cfg(doctest)` (`#[doc = include_str!("../README.md")]`), which no build
//!   artifact records.
//!
//! Two guards keep a racing rebuild from poisoning the cache: the file is stamped before
//! and after listing and the entry is stored only when both stamps agree, and a file
//! modified less than [`SETTLE`] ago is not stored at all (a rewrite within the same
//! timestamp tick, same size and same inode would otherwise be invisible; git calls this
//! the "racy timestamp" problem).
//!
//! The cache is an optimisation only: an unreadable, corrupt or foreign entry is a miss,
//! and a failure to write is ignored. Entries are written to a temporary file and renamed
//! into place, so a concurrent reader sees a whole entry or none. Setting the environment
//! variable [`DISABLE_ENV`] to `0`, `false`, `off` or `no` turns the cache off.

use std::fs;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::model::{ListMethod, SourceLocation};

use super::libtest::ListedTest;

/// The environment variable that turns the cache off (`0`, `false`, `off`, `no`).
pub const DISABLE_ENV: &str = "CARGO_TESTPLAN_LIST_CACHE";

/// Bumped whenever the entry format or the meaning of a stored listing changes.
const FORMAT_VERSION: u32 = 1;

/// A file modified more recently than this is listed but not stored.
const SETTLE: Duration = Duration::from_secs(2);

/// The directory of the cache, under the target directory.
pub(crate) fn cache_dir(target_dir: &Utf8Path) -> Utf8PathBuf {
    target_dir.join("testplan").join("list-cache")
}

/// What identifies one version of an executable file. Any change is a miss.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Stamp {
    len: u64,
    modified_secs: i64,
    modified_nanos: i64,
    changed_secs: i64,
    changed_nanos: i64,
    inode: u64,
    device: u64,
}

impl Stamp {
    /// The stamp of the file at `path`, or `None` when it cannot be read.
    pub fn of(path: &Utf8Path) -> Option<Stamp> {
        fs::metadata(path).ok().map(|meta| Stamp::from_metadata(&meta))
    }

    fn from_metadata(meta: &fs::Metadata) -> Stamp {
        let id = crate::platform::file_identity(meta);
        Stamp {
            len: meta.len(),
            modified_secs: id.modified.0,
            modified_nanos: id.modified.1,
            changed_secs: id.changed.0,
            changed_nanos: id.changed.1,
            inode: id.inode,
            device: id.device,
        }
    }

    /// Whether the file was modified at least [`SETTLE`] before `now`.
    fn settled(&self, now: SystemTime) -> bool {
        let Ok(now) = now.duration_since(UNIX_EPOCH) else {
            return false;
        };
        let now_nanos = i128::from(now.as_secs()) * 1_000_000_000 + i128::from(now.subsec_nanos());
        let modified_nanos = i128::from(self.modified_secs) * 1_000_000_000 + i128::from(self.modified_nanos);
        now_nanos - modified_nanos >= i128::try_from(SETTLE.as_nanos()).unwrap_or(i128::MAX)
    }
}

/// One stored listing, as written to disk.
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    format: u32,
    runner_version: String,
    executable: Utf8PathBuf,
    stamp: Stamp,
    method: ListMethod,
    tests: Vec<CachedTest>,
}

/// A [`ListedTest`] on disk (short keys: a binary may hold tens of thousands).
#[derive(Debug, Serialize, Deserialize)]
struct CachedTest {
    #[serde(rename = "n")]
    name: String,
    #[serde(rename = "i", default, skip_serializing_if = "is_false")]
    ignored: bool,
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    ignore_reason: Option<String>,
    #[serde(rename = "f", default, skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    #[serde(rename = "l", default, skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl From<&ListedTest> for CachedTest {
    fn from(test: &ListedTest) -> Self {
        CachedTest {
            name: test.name.clone(),
            ignored: test.ignored,
            ignore_reason: test.ignore_reason.clone(),
            file: test.source.as_ref().map(|source| source.file.clone()),
            line: test.source.as_ref().map(|source| source.line),
        }
    }
}

impl From<CachedTest> for ListedTest {
    fn from(test: CachedTest) -> Self {
        let source = match (test.file, test.line) {
            (Some(file), Some(line)) => Some(SourceLocation { file, line }),
            _ => None,
        };
        ListedTest { name: test.name, ignored: test.ignored, ignore_reason: test.ignore_reason, source }
    }
}

/// The listing cache of one target directory.
#[derive(Clone, Debug)]
pub(crate) struct ListCache {
    dir: Utf8PathBuf,
}

impl ListCache {
    /// The cache under `target_dir`, unless [`DISABLE_ENV`] turns it off.
    pub fn from_env(target_dir: &Utf8Path) -> Option<ListCache> {
        let setting = std::env::var(DISABLE_ENV).ok();
        (!disables(setting.as_deref())).then(|| ListCache::at(cache_dir(target_dir)))
    }

    /// Where the cache is stored.
    pub fn dir(&self) -> &Utf8Path {
        &self.dir
    }

    /// A cache stored in `dir` (created on the first write).
    pub fn at(dir: Utf8PathBuf) -> ListCache {
        ListCache { dir }
    }

    /// The stored listing of `executable`, if there is one for exactly this `stamp`.
    pub fn lookup(&self, executable: &Utf8Path, stamp: &Stamp) -> Option<(ListMethod, Vec<ListedTest>)> {
        let text = fs::read_to_string(self.entry_path(executable)).ok()?;
        let entry: Entry = serde_json::from_str(&text).ok()?;
        let valid = entry.format == FORMAT_VERSION
            && entry.runner_version == env!("CARGO_PKG_VERSION")
            && entry.executable == executable
            && entry.stamp == *stamp
            && is_cacheable(entry.method);
        valid.then(|| (entry.method, entry.tests.into_iter().map(ListedTest::from).collect()))
    }

    /// Stores the listing of `executable`, listed while its file had `stamp` before and
    /// `after` once listing ended. Skipped (silently) when the two differ, when the file
    /// is too fresh to trust its timestamp, for methods that are not cacheable, and on any
    /// I/O error.
    pub fn store(
        &self,
        executable: &Utf8Path,
        before: &Stamp,
        after: Option<&Stamp>,
        method: ListMethod,
        tests: &[ListedTest],
    ) {
        if after != Some(before) || !before.settled(SystemTime::now()) || !is_cacheable(method) {
            return;
        }
        let entry = Entry {
            format: FORMAT_VERSION,
            runner_version: env!("CARGO_PKG_VERSION").to_owned(),
            executable: executable.to_owned(),
            stamp: before.clone(),
            method,
            tests: tests.iter().map(CachedTest::from).collect(),
        };
        let Ok(text) = serde_json::to_string(&entry) else {
            return;
        };
        let _ = self.write_atomically(&self.entry_path(executable), text.as_bytes());
    }

    /// `<dir>/<file name>-<hash of the full path>.json`.
    fn entry_path(&self, executable: &Utf8Path) -> Utf8PathBuf {
        let stem: String = executable
            .file_name()
            .unwrap_or("binary")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
            .take(64)
            .collect();
        self.dir.join(format!("{stem}-{:016x}.json", fnv1a(executable.as_str().as_bytes())))
    }

    /// Writes `bytes` to `path` through [`crate::files`] (a random temporary name in the
    /// cache directory, renamed over `path`).
    fn write_atomically(&self, path: &Utf8Path, bytes: &[u8]) -> std::io::Result<()> {
        crate::files::write_atomically(path.as_std_path(), bytes, crate::files::Durability::Cache)
    }
}

/// Whether a value of [`DISABLE_ENV`] turns the cache off.
fn disables(setting: Option<&str>) -> bool {
    setting.is_some_and(|value| {
        matches!(value.trim().to_ascii_lowercase().as_str(), "0" | "false" | "off" | "no")
    })
}

/// Only libtest listings are a function of the executable alone (see the module docs).
fn is_cacheable(method: ListMethod) -> bool {
    matches!(method, ListMethod::LibtestJson | ListMethod::LibtestTerse)
}

/// 64-bit FNV-1a: a stable hash for file names (the entry itself holds the full path).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use std::fs::File;

    use super::*;

    /// A cache directory and a fake executable with an old mtime.
    struct Setup {
        _temp: tempfile::TempDir,
        cache: ListCache,
        exe: Utf8PathBuf,
    }

    fn setup() -> Setup {
        let temp = tempfile::tempdir().expect("temp dir");
        let root = Utf8PathBuf::from_path_buf(temp.path().to_path_buf()).expect("utf-8 temp dir");
        let exe = root.join("deps").join("tiny-0123abcd");
        fs::create_dir_all(exe.parent().expect("parent")).expect("mkdir");
        fs::write(&exe, b"version one").expect("write exe");
        age(&exe, 60);
        Setup { _temp: temp, cache: ListCache::at(cache_dir(&root.join("target"))), exe }
    }

    /// Sets the file's mtime `secs` seconds into the past.
    fn age(path: &Utf8Path, secs: u64) {
        let file = File::options().write(true).open(path).expect("open");
        file.set_modified(SystemTime::now() - Duration::from_secs(secs)).expect("set mtime");
    }

    fn listing() -> Vec<ListedTest> {
        vec![
            ListedTest::named("a::plain", false),
            ListedTest {
                name: "a::slow".to_owned(),
                ignored: true,
                ignore_reason: Some(r#"slow, "quoted""#.to_owned()),
                source: Some(SourceLocation { file: "src/lib.rs".to_owned(), line: 12 }),
            },
        ]
    }

    fn store(cache: &ListCache, exe: &Utf8Path) -> Stamp {
        let stamp = Stamp::of(exe).expect("stamp");
        cache.store(exe, &stamp, Some(&stamp), ListMethod::LibtestJson, &listing());
        stamp
    }

    #[test]
    fn a_stored_listing_is_served_for_the_same_file() {
        let s = setup();
        let stamp = store(&s.cache, &s.exe);
        let hit = s.cache.lookup(&s.exe, &stamp);
        assert_eq!(hit, Some((ListMethod::LibtestJson, listing())));
        let entries = fs::read_dir(&s.cache.dir).expect("cache dir").count();
        assert_eq!(entries, 1, "one file per binary, no temporary files left");
    }

    #[test]
    fn a_miss_when_nothing_is_stored_or_the_entry_is_unreadable() {
        let s = setup();
        let stamp = Stamp::of(&s.exe).expect("stamp");
        assert_eq!(s.cache.lookup(&s.exe, &stamp), None);
        store(&s.cache, &s.exe);
        fs::write(s.cache.entry_path(&s.exe), "{ not json").expect("corrupt");
        assert_eq!(s.cache.lookup(&s.exe, &stamp), None);
    }

    #[test]
    fn a_rebuilt_binary_is_listed_again() {
        type Rebuild = fn(&Utf8Path);
        let cases: [(&str, Rebuild); 3] = [
            ("new contents, new size", |exe| fs::write(exe, b"version two, longer").expect("rewrite")),
            ("same size, new mtime", |exe| {
                fs::write(exe, b"version 001").expect("rewrite");
                age(exe, 30);
            }),
            ("replaced by a new file", |exe| {
                let fresh = exe.with_extension("new");
                fs::write(&fresh, b"version one").expect("write");
                age(&fresh, 60);
                fs::rename(&fresh, exe).expect("rename");
            }),
        ];
        for (what, rebuild) in cases {
            let s = setup();
            store(&s.cache, &s.exe);
            rebuild(&s.exe);
            let stamp = Stamp::of(&s.exe).expect("stamp");
            assert_eq!(s.cache.lookup(&s.exe, &stamp), None, "{what}");
        }
    }

    #[test]
    fn an_entry_belongs_to_one_path() {
        let s = setup();
        let stamp = store(&s.cache, &s.exe);
        let other = s.exe.with_file_name("other-0123abcd");
        assert_eq!(s.cache.lookup(&other, &stamp), None);
    }

    #[test]
    fn entries_of_another_format_or_runner_are_ignored() {
        let s = setup();
        let stamp = store(&s.cache, &s.exe);
        let path = s.cache.entry_path(&s.exe);
        let text = fs::read_to_string(&path).expect("entry");
        for (from, to) in [
            (format!("\"format\":{FORMAT_VERSION}"), "\"format\":999".to_owned()),
            (
                format!("\"runner_version\":\"{}\"", env!("CARGO_PKG_VERSION")),
                "\"runner_version\":\"0.0.0-old\"".to_owned(),
            ),
        ] {
            assert!(text.contains(&from), "{from} in {text}");
            fs::write(&path, text.replace(&from, &to)).expect("edit entry");
            assert_eq!(s.cache.lookup(&s.exe, &stamp), None, "{to}");
        }
    }

    #[test]
    fn nothing_is_stored_when_it_could_be_stale() {
        let s = setup();
        let stamp = Stamp::of(&s.exe).expect("stamp");
        let changed = Stamp { len: stamp.len + 1, ..stamp.clone() };
        s.cache.store(&s.exe, &stamp, Some(&changed), ListMethod::LibtestJson, &listing());
        s.cache.store(&s.exe, &stamp, None, ListMethod::LibtestJson, &listing());
        for method in [ListMethod::CustomList, ListMethod::Opaque, ListMethod::Rustdoc] {
            s.cache.store(&s.exe, &stamp, Some(&stamp), method, &listing());
        }
        fs::write(&s.exe, b"just linked").expect("rewrite");
        let fresh = Stamp::of(&s.exe).expect("stamp");
        s.cache.store(&s.exe, &fresh, Some(&fresh), ListMethod::LibtestJson, &listing());
        assert!(!s.cache.dir.exists(), "nothing was written");
    }

    #[test]
    fn settling_is_measured_from_the_mtime() {
        let stamp = Stamp { modified_secs: 1_000, modified_nanos: 500, ..Stamp::default() };
        let at = |secs: u64| UNIX_EPOCH + Duration::from_secs(secs);
        assert!(!stamp.settled(at(1_000)));
        assert!(!stamp.settled(at(1_001)));
        assert!(stamp.settled(at(1_003)));
    }

    #[test]
    fn the_env_variable_turns_the_cache_off() {
        let cases = [
            (None, false),
            (Some("1"), false),
            (Some("on"), false),
            (Some(""), false),
            (Some("0"), true),
            (Some("off"), true),
            (Some(" False "), true),
            (Some("no"), true),
        ];
        for (setting, disabled) in cases {
            assert_eq!(disables(setting), disabled, "{setting:?}");
        }
        assert_eq!(cache_dir(Utf8Path::new("/t")), "/t/testplan/list-cache");
    }

    #[test]
    fn entry_names_are_readable_and_distinct() {
        let cache = ListCache::at("/c".into());
        let a = cache.entry_path(Utf8Path::new("/w/target/debug/deps/tiny_00-0123"));
        let b = cache.entry_path(Utf8Path::new("/v/target/debug/deps/tiny_00-0123"));
        assert!(a.as_str().starts_with("/c/tiny_00-0123-"), "{a}");
        assert_ne!(a, b);
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
    }
}
