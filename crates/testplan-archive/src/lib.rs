//! The build archive of cargo-testplan: build once, run shards anywhere.
//!
//! `cargo testplan archive -o FILE` writes everything a shard job needs to run tests without
//! cargo, a toolchain or a second build; `cargo testplan run --archive FILE
//! [--workspace-remap DIR]` reads it back. This crate owns the format, writing
//! ([`write_archive`]), reading ([`read_archive`]) and the path remapping that turns the
//! build machine's test list into one for the run machine ([`Archive::into_test_list`]).
//!
//! # Format, version 1
//!
//! A tar stream (ustar/GNU headers, the `tar` crate) compressed with Zstandard (the `zstd`
//! crate), conventionally named `*.tar.zst`: the format nextest's archives use, readable
//! with `tar --zstd -tf FILE`. Entries, in this order:
//!
//! 1. `testplan-archive.json`, always first, so a reader checks the format and version before
//!    unpacking anything: a [`Manifest`] as JSON. Its `format` is `cargo-testplan-archive`
//!    and its `version` is [`FORMAT_VERSION`]; a reader refuses another `format`
//!    ([`ArchiveError::Foreign`]) and a higher `version` ([`ArchiveError::TooNew`]).
//! 2. `target/<path>`: regular files of the build's target directory, at their path relative
//!    to it (`target/debug/deps/geometry-0123abcd`), with their mode (the executable bit);
//!    a file with holes (linkers leave some) is a GNU sparse entry. Nothing else: no
//!    symlinks, no absolute paths, no `..`, and every file named in the manifest's `files`
//!    must be present.
//!
//! What is archived (see [`collect`]), after nextest's `cargo nextest archive`:
//!
//! - every test executable of the test list;
//! - the binaries named by `CARGO_BIN_EXE_<name>` (integration tests run them);
//! - the top-level files of each build script's `OUT_DIR` (one level deep, as nextest: deep
//!   trees of C builds would bloat the archive for files tests rarely read);
//! - the files of the native library directories (`cargo::rustc-link-search`) inside the
//!   target directory that the dynamic library search path names;
//! - the Rust dynamic libraries (`dylib` crates) in the profile's `deps` directory that a
//!   test executable or another archived library needs (`DT_NEEDED`), found by the
//!   `lib*.so` names in their dynamic string tables; proc-macro libraries, needed only by
//!   the compiler, are left out.
//!
//! The manifest holds the test list exactly as discovery made it (binaries with their
//! environment, working directory and listing method; tests with their ignore reason and
//! source location), so a shard job neither builds nor lists; the workspace root and target
//! directory of the build, against which paths are remapped at run time; the cargo options
//! of the build (for doctests, which only cargo can run); and the build machine's inherited
//! dynamic library search path, which is replaced by the run machine's.
//!
//! Not archived: the source tree (a shard job checks out the same revision: tests read
//! fixtures relative to `CARGO_MANIFEST_DIR`), the toolchain's own libraries (only a test
//! built with `-C prefer-dynamic` needs them), and doctests, which rustdoc compiles when
//! they run. Paths a test compiled in with `env!` (`env!("CARGO_BIN_EXE_x")`,
//! `env!("CARGO_MANIFEST_DIR")`) keep the build machine's value; the same values read at run
//! time (`std::env::var`) are remapped. `CARGO` keeps the build machine's cargo path: a run
//! machine may have no cargo at all, and a test that runs `$CARGO` needs the toolchain anyway.

mod collect;
mod error;
mod manifest;
mod read;
mod remap;
mod write;

pub use error::ArchiveError;
pub use manifest::{FORMAT_NAME, FORMAT_VERSION, MANIFEST_NAME, Manifest};
pub use read::{Archive, read_archive, read_archive_with};
pub use remap::PathRemap;
pub use write::{ArchiveSummary, write_archive};

#[cfg(test)]
mod tests;
