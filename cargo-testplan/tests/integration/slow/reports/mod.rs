//! Phase summaries, reports, progress, baselines and shards (the phase-summaries issue),
//! checked on real runs of the fixtures. The renderers themselves are snapshot-tested from
//! synthetic events in `testplan-reporter`; these tests are the few end-to-end ones.

mod baseline;
mod faults;
pub(super) mod json_schema;
mod outputs;
mod redact;
mod shards;
mod terminal;
mod untrusted;
