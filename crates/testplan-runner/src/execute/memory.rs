//! The memory guard: live memory and per-test process trees, sampled while tests run, and
//! the policy that reads them. docs/memory.md explains it for users.
//!
//! Every [`TICK`] (every [`TICK_FAST`] once memory is [`FAST_WATCH_FRACTION`] full) the
//! scheduler asks the guard to
//! - scan the process trees of the running tests ([`TreeRssScanner`]: one pass over
//!   `/proc`), so each test's RSS is known and a test past its memory limit is killed;
//! - sample live memory ([`crate::resources::MemoryWatch`]: the runner's cgroup, or
//!   MemAvailable) and classify it as a [`Level`]:
//!   - at [`ADMIT_STOP_FRACTION`] of the limit, no new test is admitted;
//!   - at [`STOP_FRACTION`] and still rising, with two or more tests running, the newest
//!     memory-growing test is stopped (SIGKILL to its group) and re-run alone later.
//!
//! The thresholds are fractions of the limit the sample is measured against (the cgroup's
//! limit, or MemTotal), so they scale with the machine.

use std::time::{Duration, Instant};

use super::LiveMemory;
use super::job::JobId;
use crate::resources::{MemorySample, TreeRssScanner};

/// Time between memory checks while memory is below [`FAST_WATCH_FRACTION`].
pub const TICK: Duration = Duration::from_millis(50);
/// Time between memory checks once memory is at [`FAST_WATCH_FRACTION`] or more.
pub const TICK_FAST: Duration = Duration::from_millis(10);
/// From this fraction of the limit on, memory is checked every [`TICK_FAST`].
pub const FAST_WATCH_FRACTION: f64 = 0.60;
/// From this fraction of the limit on, no new test is admitted (unless none is running).
pub const ADMIT_STOP_FRACTION: f64 = 0.85;
/// From this fraction of the limit on, while memory still rises and two or more tests run,
/// the newest memory-growing test is stopped and re-queued to run alone.
pub const STOP_FRACTION: f64 = 0.92;
/// Growth of a test's tree RSS smaller than this is noise.
const GROWTH_NOISE: u64 = 1 << 20;
/// A test that grew within this long counts as growing.
const RECENT_GROWTH: Duration = Duration::from_secs(1);

/// How full live memory is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    /// Below [`FAST_WATCH_FRACTION`].
    Calm,
    /// Watched closely: checks every [`TICK_FAST`].
    Watch,
    /// At [`ADMIT_STOP_FRACTION`]: admit nothing new.
    Full,
    /// At [`STOP_FRACTION`] and rising: stop a test.
    Critical,
}

/// The level of `sample`, given the memory in use at the previous tick.
pub(crate) fn level(sample: &MemorySample, previous_used: Option<u64>) -> Level {
    let fraction = sample.used_fraction();
    let rising = previous_used.is_none_or(|previous| sample.used > previous);
    if fraction >= STOP_FRACTION && rising {
        Level::Critical
    } else if fraction >= ADMIT_STOP_FRACTION {
        Level::Full
    } else if fraction >= FAST_WATCH_FRACTION {
        Level::Watch
    } else {
        Level::Calm
    }
}

/// A running test's tree RSS over time.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RssTrack {
    /// The latest scan, in bytes.
    pub last: u64,
    /// The largest scan, in bytes.
    pub peak: u64,
    /// The RSS growth is measured from: lowered at once, raised only by real growth, so
    /// slow steady growth adds up.
    mark: u64,
    grew_at: Option<Instant>,
}

impl RssTrack {
    /// Records a scan.
    pub fn update(&mut self, rss: u64, now: Instant) {
        if rss > self.mark.saturating_add(GROWTH_NOISE) {
            self.grew_at = Some(now);
            self.mark = rss;
        } else if rss < self.mark {
            self.mark = rss;
        }
        self.last = rss;
        self.peak = self.peak.max(rss);
    }

    /// Whether it grew recently. A test that started recently counts as growing whatever
    /// the scans saw: it may not even have been loaded when its process tree was last
    /// scanned, and a test that just started is the likeliest cause of a sudden rise.
    pub fn growing(&self, now: Instant, started: Instant) -> bool {
        let recent = |at: Instant| now.saturating_duration_since(at) <= RECENT_GROWTH;
        self.grew_at.is_some_and(recent) || recent(started)
    }
}

/// A running test the guard may stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Candidate {
    /// Its job.
    pub id: JobId,
    /// When it started.
    pub started: Instant,
    /// Whether its memory grew recently.
    pub growing: bool,
}

/// The test to stop when memory is critical: the newest that is growing, else the newest.
/// Stopping the newest loses the least work; a growing one is the likely cause.
pub(crate) fn choose_victim(candidates: &[Candidate]) -> Option<JobId> {
    let newest = |c: &&Candidate| (c.started, c.id);
    candidates
        .iter()
        .filter(|c| c.growing)
        .max_by_key(newest)
        .or_else(|| candidates.iter().max_by_key(newest))
        .map(|c| c.id)
}

/// The limit a test is killed at: its own (no more than the budget: more cannot be given to
/// it), else the run's default.
pub(crate) fn effective_limit(own: Option<u64>, budget: Option<u64>, default: Option<u64>) -> Option<u64> {
    match own {
        Some(own) => Some(budget.map_or(own, |budget| own.min(budget))),
        None => default,
    }
}

/// The guard's state: the samplers and what they last said.
#[derive(Debug)]
pub(crate) struct Guard {
    live: Option<LiveMemory>,
    scanner: TreeRssScanner,
    last: Option<MemorySample>,
    level: Level,
    /// Memory in use at the previous tick, to tell rising from falling.
    previous_used: Option<u64>,
    next_tick: Instant,
}

impl Guard {
    /// A guard sampling `live` (if any) and `/proc`.
    pub fn new(live: Option<LiveMemory>) -> Self {
        Guard {
            live,
            scanner: TreeRssScanner::new(),
            last: None,
            level: Level::Calm,
            previous_used: None,
            next_tick: Instant::now(),
        }
    }

    /// When the next tick is due.
    pub fn next_tick(&self) -> Instant {
        self.next_tick
    }

    /// The latest sample.
    pub fn last(&self) -> Option<MemorySample> {
        self.last
    }

    /// Samples live memory between ticks (before admitting a test), keeping the previous
    /// tick's figure as the reference for "rising".
    pub fn refresh(&mut self) -> Level {
        if let Some(sample) = self.live.as_ref().and_then(LiveMemory::sample) {
            self.level = level(&sample, self.previous_used);
            self.last = Some(sample);
        }
        self.level
    }

    /// One tick's sample of live memory; returns the new level.
    pub fn tick_sample(&mut self) -> Level {
        let level = self.refresh();
        self.previous_used = self.last.map(|s| s.used);
        level
    }

    /// The tree RSS of each group, in order.
    pub fn scan(&mut self, pgids: &[i32]) -> Vec<u64> {
        if pgids.is_empty() {
            return Vec::new();
        }
        self.scanner.scan(pgids).into_iter().map(|t| t.rss_bytes).collect()
    }

    /// Sets the next tick: soon when memory is filling up and tests run.
    pub fn schedule_next(&mut self, now: Instant, running: usize) {
        let fast = running > 0 && self.level >= Level::Watch;
        self.next_tick = now + if fast { TICK_FAST } else { TICK };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::SampleSource;

    fn sample(used: u64) -> MemorySample {
        MemorySample { used, limit: 1000, source: SampleSource::Cgroup }
    }

    #[test]
    fn levels_follow_the_documented_thresholds() {
        let cases = [
            (100, None, Level::Calm),
            (599, Some(0), Level::Calm),
            (600, Some(0), Level::Watch),
            (849, Some(0), Level::Watch),
            (850, Some(0), Level::Full),
            (919, Some(0), Level::Full),
            (920, Some(919), Level::Critical),
            (920, None, Level::Critical),
            // Full but not rising: wait for running tests to end rather than stop one.
            (950, Some(950), Level::Full),
            (950, Some(990), Level::Full),
            (1200, Some(1100), Level::Critical),
        ];
        for (used, previous, expected) in cases {
            assert_eq!(level(&sample(used), previous), expected, "{used} after {previous:?}");
        }
    }

    #[test]
    fn growth_adds_up_and_fades() {
        let start = Instant::now();
        let long_ago = start - Duration::from_secs(60);
        let mut track = RssTrack::default();
        track.update(10 << 20, start);
        assert!(track.growing(start, long_ago), "from nothing to 10 MiB is growth");
        let later = start + Duration::from_secs(5);
        assert!(!track.growing(later, long_ago));
        // 0.4 MiB per scan: noise each time, growth once it adds up past 1 MiB.
        let mut rss = 10 << 20;
        for i in 1..=3 {
            rss += 400 << 10;
            track.update(rss, later + Duration::from_millis(i));
        }
        assert!(track.growing(later + Duration::from_millis(3), long_ago));
        assert_eq!(track.peak, rss);
        track.update(1 << 20, later + Duration::from_secs(3));
        assert_eq!((track.last, track.peak), (1 << 20, rss));
        assert!(!track.growing(later + Duration::from_secs(3), long_ago));
        let unscanned = RssTrack::default();
        assert!(unscanned.growing(start, start), "a test that just started counts as growing");
        assert!(!unscanned.growing(later, start));
    }

    #[test]
    fn the_newest_growing_test_is_stopped() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let c = |id, ms, growing| Candidate { id: JobId(id), started: at(ms), growing };
        assert_eq!(choose_victim(&[c(0, 0, true), c(1, 10, false), c(2, 5, true)]), Some(JobId(2)));
        assert_eq!(choose_victim(&[c(0, 0, false), c(1, 10, false)]), Some(JobId(1)), "none grows: newest");
        assert_eq!(choose_victim(&[]), None);
    }

    #[test]
    fn limits_are_capped_by_the_budget() {
        assert_eq!(effective_limit(Some(4), Some(2), Some(2)), Some(2));
        assert_eq!(effective_limit(Some(1), Some(2), Some(2)), Some(1));
        assert_eq!(effective_limit(Some(4), None, None), Some(4));
        assert_eq!(effective_limit(None, Some(2), Some(2)), Some(2));
        assert_eq!(effective_limit(None, None, None), None);
    }
}
