//! The doctest result cache in a run (issue 17; the key and the store are
//! `testplan_runner::discover::doc_results`, whose docs say what the key covers).
//!
//! After the build and the plan, each phase's doctest batch — the doctests the phase runs,
//! one `cargo test --doc` — is looked up by its identity: the list's doctest command and
//! the sorted names of its doctests with their ignored flags. When the stored results,
//! taken under the same key, cover every doctest of the batch, the plan marks them
//! [`Action::Cached`]: the executor reports them (passed, or skipped as ignored, `cached`)
//! without compiling or running anything. Otherwise the batch runs, and afterwards:
//!
//! | the batch's results | the cache |
//! |---|---|
//! | every doctest passed (first time) or was ignored | stored, if the key did not change while it ran and no file was modified in the last 2 s |
//! | any failed, or passed only on a retry | forgotten |
//! | any did not end (interrupted, not run) | left as it was |
//!
//! `--no-cache` skips the lookup (every doctest runs); the results are stored or forgotten
//! as above, so the cache holds what this run saw. Not used with `--coverage` (a cached
//! doctest would cover nothing) or in a run from an archive (no workspace to key).

use std::collections::{BTreeMap, HashMap};

use camino::Utf8PathBuf;
use testplan_runner::cargo::{BuildOutput, Workspace};
use testplan_runner::discover::doc_results::{self, CachedDoctest, ResultKey};
use testplan_runner::events::{Event, TestStatus};
use testplan_runner::filter::{Action, PlannedTest};
use testplan_runner::model::{ListMethod, TargetKind, TestIdx, TestList};
use testplan_runner::plan::TestPlan;

use crate::pipeline::Pipeline;

/// The doctest batches of a run, and what becomes of their results.
#[derive(Debug)]
pub struct DoctestCache<'a> {
    dir: Utf8PathBuf,
    ws: &'a Workspace,
    build: &'a BuildOutput,
    /// The batches that run (not served from the cache).
    running: Vec<Batch>,
    /// The key they ran under.
    key: Option<ResultKey>,
}

/// One phase's doctests: its identity in the cache, its members and their outcomes.
#[derive(Debug)]
struct Batch {
    command: Vec<String>,
    members: HashMap<TestIdx, String>,
    outcomes: HashMap<TestIdx, Outcome>,
}

/// How a doctest of a running batch ended, as far as the cache cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// Passed at the first attempt, or ignored.
    Storable { ignored: bool },
    /// Failed, or passed only on a retry: the batch's results are forgotten.
    Failed,
    /// Did not end (not run, interrupted): nothing is stored.
    Unfinished,
}

/// Whether the cache may serve results to this run (`--no-cache` only stops the lookup).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Serve results whose key matches.
    Serve,
    /// Run every doctest (`--no-cache`).
    Skip,
}

impl<'a> DoctestCache<'a> {
    /// [`DoctestCache::apply`] for a run's pipeline: nothing from an archive (no
    /// workspace, no build). Results live beside the listing cache, under
    /// `<target-dir>/testplan/list-cache/doctest-results-<hash>.json`.
    pub fn for_run(
        pipeline: &'a Pipeline,
        build: Option<&'a BuildOutput>,
        list: &TestList,
        plan: &mut TestPlan,
        lookup: Lookup,
    ) -> Option<Self> {
        let ws = pipeline.loaded.workspace.as_ref()?;
        let dir = pipeline.loaded.target_dir.join("testplan").join("list-cache");
        Self::apply((ws, build?, dir), list, plan, lookup)
    }

    /// Looks up each phase's doctest batch and marks the doctests of a hit
    /// [`Action::Cached`] in `plan`; `None` when the plan runs no doctests or the key
    /// cannot be computed (then nothing is cached).
    pub fn apply(
        (ws, build, dir): (&'a Workspace, &'a BuildOutput, Utf8PathBuf),
        list: &TestList,
        plan: &mut TestPlan,
        lookup: Lookup,
    ) -> Option<Self> {
        let command = list.doctest_command.as_ref()?.args.clone();
        let mut batches: Vec<(usize, Batch)> = Vec::new();
        for (index, phase) in plan.phases.iter().enumerate() {
            if phase.unavailable.is_none() {
                batches.extend(doctest_batch(list, &phase.planned, &command).map(|b| (index, b)));
            }
        }
        if batches.is_empty() {
            return None;
        }
        let key = doc_results::key(ws, build)?;
        let mut running = Vec::new();
        for (index, batch) in batches {
            let hit = (lookup == Lookup::Serve)
                .then(|| doc_results::lookup(&dir, &batch.command, &key))
                .flatten()
                .and_then(|stored| covering(&batch, stored));
            match hit {
                Some(cached) => mark_cached(&mut plan.phases[index].planned, &cached),
                None => running.push(batch),
            }
        }
        Some(DoctestCache { dir, ws, build, running, key: Some(key) })
    }

    /// Notes the outcome of a doctest of a running batch.
    pub fn observe(&mut self, event: &Event) {
        let Event::TestFinished { test, result } = event else { return };
        let Some(batch) = self.running.iter_mut().find(|b| b.members.contains_key(test)) else { return };
        let outcome = match &result.status {
            TestStatus::Passed if result.attempts <= 1 => Outcome::Storable { ignored: false },
            TestStatus::Skipped { .. } => Outcome::Storable { ignored: true },
            TestStatus::NotRun { .. } | TestStatus::Interrupted => Outcome::Unfinished,
            _ => Outcome::Failed,
        };
        batch.outcomes.insert(*test, outcome);
    }

    /// Stores the results of every batch that passed, forgets those of every batch that
    /// failed (see the module docs). The key is computed again, once: results are stored
    /// only if it did not change while the doctests ran.
    pub fn finish(self) {
        let mut after: Option<Option<ResultKey>> = None;
        for batch in &self.running {
            if batch.failed() {
                doc_results::forget(&self.dir, &batch.command);
                continue;
            }
            let (Some(results), Some(before)) = (batch.storable(), self.key.as_ref()) else { continue };
            let after = after.get_or_insert_with(|| doc_results::key(self.ws, self.build));
            doc_results::store(&self.dir, &batch.command, before, after.as_ref(), &results);
        }
    }
}

impl Batch {
    fn failed(&self) -> bool {
        self.outcomes.values().any(|o| *o == Outcome::Failed)
    }

    /// Every member's result, when each passed or was ignored.
    fn storable(&self) -> Option<Vec<CachedDoctest>> {
        let mut results = Vec::with_capacity(self.members.len());
        for (test, name) in &self.members {
            let Some(Outcome::Storable { ignored }) = self.outcomes.get(test) else { return None };
            results.push(CachedDoctest { name: name.clone(), ignored: *ignored });
        }
        results.sort_by(|a, b| a.name.cmp(&b.name));
        Some(results)
    }
}

/// The doctests `planned` runs, as a batch whose identity is the doctest command and their
/// sorted names with their ignored flags; `None` when it runs none.
fn doctest_batch(list: &TestList, planned: &[PlannedTest], command: &[String]) -> Option<Batch> {
    let members: HashMap<TestIdx, (String, bool)> = planned
        .iter()
        .filter(|p| is_doctest(list, p.test))
        .filter_map(|p| match p.action {
            Action::Run { ignored } => Some((p.test, (doc_results::doctest_name(list, p.test), ignored))),
            _ => None,
        })
        .collect();
    if members.is_empty() {
        return None;
    }
    let sorted: BTreeMap<&str, bool> =
        members.values().map(|(name, ignored)| (name.as_str(), *ignored)).collect();
    let mut identity = command.to_vec();
    identity.push("--".to_owned());
    identity.extend(sorted.iter().map(|(name, ignored)| format!("{name}\t{}", u8::from(*ignored))));
    let members = members.into_iter().map(|(test, (name, _))| (test, name)).collect();
    Some(Batch { command: identity, members, outcomes: HashMap::new() })
}

fn is_doctest(list: &TestList, test: TestIdx) -> bool {
    let binary = list.binary_of(test);
    binary.kind == TargetKind::Doc || binary.list_method == ListMethod::Rustdoc
}

/// Each member's cached result, when `stored` has one for every member.
fn covering(batch: &Batch, stored: Vec<CachedDoctest>) -> Option<HashMap<TestIdx, bool>> {
    let by_name: HashMap<String, bool> = stored.into_iter().map(|c| (c.name, c.ignored)).collect();
    batch.members.iter().map(|(test, name)| Some((*test, *by_name.get(name)?))).collect()
}

fn mark_cached(planned: &mut [PlannedTest], cached: &HashMap<TestIdx, bool>) {
    for p in planned.iter_mut() {
        if let Some(&ignored) = cached.get(&p.test) {
            p.action = Action::Cached { ignored };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(members: &[(usize, &str)]) -> Batch {
        Batch {
            command: vec!["test".to_owned(), "--doc".to_owned()],
            members: members.iter().map(|&(i, name)| (TestIdx(i), name.to_owned())).collect(),
            outcomes: HashMap::new(),
        }
    }

    fn cached(name: &str, ignored: bool) -> CachedDoctest {
        CachedDoctest { name: name.to_owned(), ignored }
    }

    #[test]
    fn stored_results_serve_a_batch_only_when_they_cover_every_member() {
        let b = batch(&[(0, "a: f"), (1, "a: g")]);
        let full = covering(&b, vec![cached("a: f", false), cached("a: g", true)]);
        assert_eq!(full, Some(HashMap::from([(TestIdx(0), false), (TestIdx(1), true)])));
        assert_eq!(covering(&b, vec![cached("a: f", false)]), None, "g has no result");
        assert_eq!(covering(&b, vec![cached("a: f", false), cached("b: g", false)]), None);
    }

    #[test]
    fn a_batch_is_storable_only_when_every_member_passed_or_was_ignored() {
        let mut b = batch(&[(0, "a: g"), (1, "a: f")]);
        assert_eq!(b.storable(), None, "no outcomes yet");
        b.outcomes.insert(TestIdx(0), Outcome::Storable { ignored: true });
        assert_eq!(b.storable(), None, "f has not finished");
        b.outcomes.insert(TestIdx(1), Outcome::Storable { ignored: false });
        assert_eq!(b.storable(), Some(vec![cached("a: f", false), cached("a: g", true)]));
        assert!(!b.failed());
        b.outcomes.insert(TestIdx(1), Outcome::Unfinished);
        assert_eq!((b.storable(), b.failed()), (None, false), "interrupted: left alone");
        b.outcomes.insert(TestIdx(1), Outcome::Failed);
        assert_eq!((b.storable(), b.failed()), (None, true), "failed: forgotten");
    }

    #[test]
    fn only_the_planned_runs_are_marked_cached() {
        let mut planned = vec![
            PlannedTest { test: TestIdx(0), action: Action::Run { ignored: false } },
            PlannedTest { test: TestIdx(1), action: Action::Run { ignored: true } },
            PlannedTest { test: TestIdx(2), action: Action::Skip { reason: "ignored".into() } },
        ];
        mark_cached(&mut planned, &HashMap::from([(TestIdx(0), false), (TestIdx(1), true)]));
        let actions: Vec<&Action> = planned.iter().map(|p| &p.action).collect();
        assert_eq!(
            actions,
            [
                &Action::Cached { ignored: false },
                &Action::Cached { ignored: true },
                &Action::Skip { reason: "ignored".into() }
            ]
        );
    }
}
