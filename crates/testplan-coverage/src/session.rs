//! One coverage run: the phases' profiles merged and exported in plan order, each phase's
//! own coverage and the cumulative coverage after it.
//!
//! After phase N: the phase's own profile is its raw profiles merged; the cumulative profile
//! is phase N's merged with the cumulative profile after phase N−1 (llvm-profdata adds
//! counts); each is exported against every instrumented binary. A phase whose tests wrote
//! no profile covers nothing and leaves the cumulative figures as they were, without
//! running llvm-cov again.

use camino::Utf8PathBuf;

use crate::error::CoverageError;
use crate::export::export;
use crate::model::CoverageData;
use crate::profiles::{self, ProfileLayout};
use crate::sources::SourceFilter;
use crate::tools::LlvmTools;

/// What one phase covered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhaseCoverage {
    /// The phase's name.
    pub phase: String,
    /// What the phase's own tests covered.
    pub own: CoverageData,
    /// What this phase and every phase before it covered together.
    pub cumulative: CoverageData,
    /// Raw profiles merged.
    pub profiles: usize,
    /// Empty raw profiles (processes killed while writing): coverage lost.
    pub lost_profiles: usize,
}

/// The state of a coverage run between phases.
#[derive(Debug)]
pub struct CoverageRun {
    tools: LlvmTools,
    layout: ProfileLayout,
    objects: Vec<Utf8PathBuf>,
    filter: SourceFilter,
    /// The cumulative profile and figures after the last finished phase.
    cumulative: Option<(Utf8PathBuf, CoverageData)>,
}

impl CoverageRun {
    /// A run reading `layout`'s profiles against `objects` (every instrumented test binary,
    /// the binaries tests run, the workspace's libraries).
    pub fn new(
        tools: LlvmTools,
        layout: ProfileLayout,
        objects: Vec<Utf8PathBuf>,
        filter: SourceFilter,
    ) -> Result<CoverageRun, CoverageError> {
        if objects.is_empty() {
            return Err(CoverageError::NoObjects);
        }
        Ok(CoverageRun { tools, layout, objects, filter, cumulative: None })
    }

    /// The profile directory layout (for `LLVM_PROFILE_FILE` of each phase).
    pub fn layout(&self) -> &ProfileLayout {
        &self.layout
    }

    /// Merges and exports phase number `index` (from 0) named `phase`; call in plan order.
    pub fn finish_phase(&mut self, index: usize, phase: &str) -> Result<PhaseCoverage, CoverageError> {
        let found = profiles::collect(&self.layout.phase_dir(index, phase))?;
        let (own, cumulative) = match (&self.cumulative, found.files.is_empty()) {
            (Some((_, before)), true) => (before.zeroed(), before.clone()),
            _ => self.merge_phase(index, phase, &found.files)?,
        };
        Ok(PhaseCoverage {
            phase: phase.to_owned(),
            own,
            cumulative,
            profiles: found.files.len(),
            lost_profiles: found.empty,
        })
    }

    /// The cumulative figures after the last finished phase: the run's total.
    pub fn total(&self) -> Option<&CoverageData> {
        self.cumulative.as_ref().map(|(_, data)| data)
    }

    /// What llvm-cov's HTML report of the run is made from.
    pub fn html_inputs(&self) -> crate::html::HtmlInputs {
        let sources = self.total().map(|data| data.files.keys().map(|f| data.root.join(f)).collect());
        crate::html::HtmlInputs {
            tools: Some(self.tools.clone()),
            profile: self.cumulative.as_ref().map(|(profile, _)| profile.clone()),
            objects: self.objects.clone(),
            sources: sources.unwrap_or_default(),
        }
    }

    fn merge_phase(
        &mut self,
        index: usize,
        phase: &str,
        files: &[Utf8PathBuf],
    ) -> Result<(CoverageData, CoverageData), CoverageError> {
        let own_profile = self.layout.merged(index, phase, false);
        profiles::merge(&self.tools, &self.layout, files, &own_profile)?;
        let own = export(&self.tools, &own_profile, &self.objects, &self.filter)?;
        let cumulative = match self.cumulative.take() {
            None => (own_profile, own.clone()),
            Some((before, _)) => {
                let total = self.layout.merged(index, phase, true);
                profiles::merge(&self.tools, &self.layout, &[before, own_profile], &total)?;
                let data = export(&self.tools, &total, &self.objects, &self.filter)?;
                (total, data)
            }
        };
        let figures = cumulative.1.clone();
        self.cumulative = Some(cumulative);
        Ok((own, figures))
    }
}
