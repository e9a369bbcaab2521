//! Reporters: consumers of the executor's [`testplan_runner::events::Event`] stream.
