//! Test lists made to order, for the tests of the planner, the executor and the reporters
//! (compiled for this crate's tests, and for other crates' tests with the `testing`
//! feature): one builder instead of a hand-built [`TestList`] in every test module, so a
//! field added to the model is defaulted in one place.

use std::sync::Arc;

use camino::Utf8PathBuf;

use crate::model::{BinaryIdx, ListMethod, PackageInfo, TargetKind, TestBinary, TestCase, TestList};

/// Builds a [`TestList`]: binaries of the current package, each followed by its tests.
///
/// Defaults: package `p` (version 0.1.0) at `/p`; a binary's target name is the package
/// name, its working directory the package root, its listing method libtest's JSON, no
/// executable and no variables; a test is neither ignored nor located.
#[derive(Debug)]
pub struct TestListBuilder {
    list: TestList,
    package: Arc<PackageInfo>,
}

impl Default for TestListBuilder {
    fn default() -> Self {
        TestListBuilder { list: TestList::default(), package: package("p", "p", "/p") }
    }
}

impl TestListBuilder {
    /// An empty list of package `p` at `/p`.
    pub fn new() -> Self {
        Self::default()
    }

    /// The workspace root; the target directory becomes `<root>/target`.
    pub fn workspace(mut self, root: &str) -> Self {
        self.list.workspace_root = root.into();
        self.list.target_dir = Utf8PathBuf::from(root).join("target");
        self
    }

    /// The package of the binaries added next: id `id`, name `name`, rooted at `root`.
    pub fn package(mut self, id: &str, name: &str, root: &str) -> Self {
        self.package = package(id, name, root);
        self
    }

    /// Adds a binary with id `id` of kind `kind` (its target named as the package).
    pub fn binary(self, id: &str, kind: TargetKind) -> Self {
        let target = self.package.name.clone();
        self.binary_named(id, &target, kind)
    }

    /// Adds a binary with id `id`, target name `target`, of kind `kind`.
    pub fn binary_named(mut self, id: &str, target: &str, kind: TargetKind) -> Self {
        self.list.binaries.push(test_binary(id, target, kind, &self.package));
        self
    }

    /// The last binary's executable.
    pub fn executable(self, path: &str) -> Self {
        self.edit_binary(|binary| binary.executable = Some(path.into()))
    }

    /// How the last binary was listed.
    pub fn list_method(self, method: ListMethod) -> Self {
        self.edit_binary(|binary| binary.list_method = method)
    }

    /// The last binary's run-time variables.
    pub fn env(self, vars: &[(&str, &str)]) -> Self {
        let vars: Vec<(String, String)> =
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        self.edit_binary(|binary| binary.env = Arc::new(vars))
    }

    /// Changes the last binary in any other way.
    pub fn edit_binary(mut self, edit: impl FnOnce(&mut TestBinary)) -> Self {
        if let Some(binary) = self.list.binaries.last_mut() {
            edit(binary);
        }
        self
    }

    /// Adds a test named `name` to the last binary.
    pub fn test(self, name: &str) -> Self {
        let binary = self.list.binaries.len().saturating_sub(1);
        self.test_in(binary, name)
    }

    /// Adds tests named `names` to the last binary.
    pub fn tests(self, names: &[&str]) -> Self {
        names.iter().fold(self, |builder, name| builder.test(name))
    }

    /// Adds a test named `name` to binary number `binary` (lists need not be grouped).
    pub fn test_in(self, binary: usize, name: &str) -> Self {
        self.test_case(test_case(binary, name))
    }

    /// Adds a test as given.
    pub fn test_case(mut self, case: TestCase) -> Self {
        self.list.tests.push(case);
        self
    }

    /// The list.
    pub fn build(self) -> TestList {
        self.list
    }
}

/// Package `name` with id `id`, version 0.1.0, rooted at `root`.
pub fn package(id: &str, name: &str, root: &str) -> Arc<PackageInfo> {
    let root = Utf8PathBuf::from(root);
    Arc::new(PackageInfo {
        id: id.to_owned(),
        name: name.to_owned(),
        version: "0.1.0".to_owned(),
        manifest_path: root.join("Cargo.toml"),
        root,
    })
}

/// A binary of `package` with the builder's defaults.
pub fn test_binary(id: &str, target: &str, kind: TargetKind, package: &Arc<PackageInfo>) -> TestBinary {
    TestBinary {
        id: id.to_owned(),
        package: package.clone(),
        target_name: target.to_owned(),
        kind,
        executable: None,
        custom_harness: false,
        cwd: package.root.clone(),
        env: Arc::new(Vec::new()),
        list_method: ListMethod::LibtestJson,
    }
}

/// Test `name` of binary number `binary`, not ignored, without a source location.
pub fn test_case(binary: usize, name: &str) -> TestCase {
    TestCase {
        binary: BinaryIdx(binary),
        name: name.to_owned(),
        ignored: false,
        ignore_reason: None,
        source: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TestIdx;

    #[test]
    fn binaries_take_their_tests_and_the_current_package() {
        let list = TestListBuilder::new()
            .workspace("/ws")
            .package("alpha 0.1.0", "alpha", "/ws/alpha")
            .binary("alpha", TargetKind::Lib)
            .executable("/ws/target/alpha-1")
            .env(&[("K", "V")])
            .tests(&["a", "b"])
            .binary_named("alpha::api", "api", TargetKind::Test)
            .list_method(ListMethod::LibtestTerse)
            .test("it")
            .test_in(0, "c")
            .build();
        assert_eq!((list.workspace_root.as_str(), list.target_dir.as_str()), ("/ws", "/ws/target"));
        let names: Vec<String> = (0..list.tests.len()).map(|i| list.display_name(TestIdx(i))).collect();
        assert_eq!(names, ["alpha a", "alpha b", "alpha::api it", "alpha c"]);
        let (lib, api) = (&list.binaries[0], &list.binaries[1]);
        assert_eq!((lib.target_name.as_str(), lib.cwd.as_str()), ("alpha", "/ws/alpha"));
        assert_eq!(lib.executable.as_deref().map(|p| p.as_str()), Some("/ws/target/alpha-1"));
        assert_eq!(*lib.env, [("K".to_owned(), "V".to_owned())]);
        assert_eq!((api.target_name.as_str(), api.list_method), ("api", ListMethod::LibtestTerse));
        assert_eq!(api.package.manifest_path.as_str(), "/ws/alpha/Cargo.toml");
        assert!(api.executable.is_none() && api.env.is_empty());
    }
}
