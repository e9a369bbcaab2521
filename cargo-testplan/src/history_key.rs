//! The key a run's saved report and its daily-loop state are filed under
//! (`<target-dir>/testplan/runs/<key>.json`, `loop/<key>.json`): the profile, the partition,
//! and a short hash of every option that selects tests, so a run compares with the previous
//! run that selected the same way, and options that select nothing (`-j`, `--lf`) keep it.

use testplan_runner::partition;

use crate::cli::RunArgs;

/// The name of a run's history file: the profile, the partition, and a short hash of the
/// selection options when there are any, so a run compares with the previous run that
/// selected the same way.
pub fn history_key(profile: &str, args: &RunArgs) -> String {
    let mut key = profile.to_owned();
    if let Some(partition) = &args.partition.partition {
        key.push_str(&format!("+{partition}"));
    }
    let options = [
        ("m", args.plan.markers.clone().unwrap_or_default()),
        ("k", args.plan.keyword.clone().unwrap_or_default()),
        ("phase", args.plan.phase.join(",")),
        ("filter", args.filter.filters.join("\u{1}")),
        ("skip", args.filter.skip.join("\u{1}")),
        ("exact", if args.filter.exact { "yes".to_owned() } else { String::new() }),
        ("ignored", args.filter.run_ignored.map(|r| format!("{r:?}")).unwrap_or_default()),
        ("p", args.cargo.packages.join(",")),
        ("exclude", args.cargo.exclude.join(",")),
        ("workspace", flag(args.cargo.workspace)),
        ("targets", target_selection(&args.cargo)),
        ("features", args.cargo.features.join(",")),
        ("all-features", flag(args.cargo.all_features)),
        ("no-default-features", flag(args.cargo.no_default_features)),
        ("release", flag(args.cargo.release)),
        ("cargo-profile", args.cargo.cargo_profile.clone().unwrap_or_default()),
        ("target", args.cargo.target.clone().unwrap_or_default()),
        ("manifest", args.cargo.manifest_path.as_ref().map(ToString::to_string).unwrap_or_default()),
    ];
    let given: Vec<String> =
        options.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={v}")).collect();
    if !given.is_empty() {
        let hash = partition::stable_hash(&given.join("\u{0}"), "");
        key.push_str(&format!("+{:08x}", hash as u32));
    }
    key
}

fn flag(on: bool) -> String {
    if on { "yes".to_owned() } else { String::new() }
}

/// `--lib`, `--bins`, `--bin NAME`, `--tests`, `--test NAME`, ... as one key part.
fn target_selection(cargo: &crate::cli::CargoArgs) -> String {
    let flags = [
        ("lib", cargo.lib),
        ("bins", cargo.bins),
        ("tests", cargo.tests),
        ("examples", cargo.examples),
        ("benches", cargo.benches),
        ("all-targets", cargo.all_targets),
        ("doc", cargo.doc),
    ];
    let mut parts: Vec<String> =
        flags.iter().filter(|(_, on)| *on).map(|(name, _)| (*name).to_owned()).collect();
    parts.extend(cargo.bin.iter().map(|b| format!("bin:{b}")));
    parts.extend(cargo.test.iter().map(|t| format!("test:{t}")));
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};
    use crate::settings::profile_name;
    use crate::setup::Mode;

    fn key(extra: &[&str]) -> String {
        let argv = ["cargo-testplan", "run"].iter().chain(extra).copied();
        let Command::Run(args) = Cli::try_parse_from(argv).expect("parse").command else {
            panic!("not run");
        };
        history_key(&profile_name(&Mode::Profile("run".to_owned()), args.plan.profile.as_deref()), &args)
    }

    #[test]
    fn runs_compare_with_the_last_run_that_selected_alike() {
        assert_eq!(key(&[]), "run");
        assert_eq!(key(&["--profile", "nightly"]), "nightly");
        assert_eq!(key(&["--partition", "hash:1/2"]), "run+hash:1/2");
        assert_eq!(key(&["--no-fail-fast", "-j", "3"]), "run", "options that select nothing keep the key");
        for narrowing in [
            &["--test", "extra"][..],
            &["--lib"],
            &["--bin", "app"],
            &["--doc"],
            &["-F", "gpu"],
            &["--all-features"],
            &["--release"],
            &["--target", "x86_64-unknown-linux-musl"],
            &["-p", "app"],
        ] {
            assert_ne!(key(narrowing), "run", "{narrowing:?} selects other tests: its own key");
        }
        assert_ne!(key(&["--test", "a"]), key(&["--test", "b"]));
        assert_eq!(key(&["--lf", "--ff", "--sw", "--durations", "3"]), "run", "the daily loop keeps the key");
        let (slow, unit) = (key(&["-m", "slow"]), key(&["-m", "unit"]));
        assert!(slow.starts_with("run+") && slow != unit, "{slow} {unit}");
        assert_eq!(profile_name(&Mode::Phase("unit".to_owned()), None), "phase:unit");
    }
}
