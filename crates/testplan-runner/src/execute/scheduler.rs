//! The coordinator: one loop on the calling thread that admits jobs in planned order while
//! their demand fits ([`Admission`]), starts them, and turns what the helper threads report
//! (output, batch events, exits) into events. Between messages it wakes at the nearest
//! deadline, at the memory guard's next tick, and at least every [`POLL`], to enforce
//! timeouts and memory limits, react to memory pressure and notice Ctrl-C.
//!
//! One scheduler serves a whole run. Each phase is a *lane* with its own queue, slots and
//! fail-fast state; [`Scheduler::run_lane`] runs the current phase to its end. Jobs marked
//! `background` (doctest batches of later phases, which are compile-bound) start early, at
//! a lower CPU priority and on background slots, while earlier phases run; their events are
//! held by the [`Emitter`] until their phase is current, so output and phase semantics are
//! those of phases run one after another. If the run stops before their phase, they are
//! killed and their results dropped ([`Scheduler::abandon_lanes_from`]); the caller
//! reports their tests not run.
//!
//! Phases also overlap at their seams: once the current phase has started all its jobs,
//! the slots its last running jobs leave idle take the next phases' jobs (in phase and
//! planned order, within `-j` and the memory budget, at normal priority), so a phase that
//! ends with one long test does not hold the machine idle. Their events are held like
//! background jobs', and a failed phase kills them the same way. A phase that runs one job
//! at a time or has a job that must run alone is never started early, and no job starts
//! early beside a phase that has one.
//!
//! A started job moves through named states ([`JobState`]: running, stopping, exited);
//! once it has exited and its output drained, [`settle`] says what happened — results,
//! tests rescheduled, jobs queued again — and the scheduler applies it in one place. The
//! scheduler asks a job's kind ([`super::job::Rules`]) whatever depends on it, and never
//! branches on the kind.
//!
//! Policy lives here, in [`settle`] and in [`super::memory`]; processes and signals are
//! behind [`super::process`] and [`crate::platform`], status rules in [`super::resolve`].

pub(crate) mod settle;

use std::collections::{BTreeMap, VecDeque};
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

use super::ExecuteOptions;
use super::admission::{Admission, Grant};
use super::emit::Emitter;
use super::error::{StartError, WaitError};
use super::job::{Job, JobId};
use super::memory::{self, Candidate, Guard, Level};
use super::process::{self, Capture, Msg};
use super::resolve::{self, KillReason};
use super::running::{JobState, Running};
use crate::cancel::CancelToken;
use crate::events::{Event, StopReason, TestResult, TestStatus};
use crate::platform::containment::JobGroup;
use crate::platform::{self, ExitInfo, SIGKILL};
use settle::{Requeue, SettleContext, Settled, Step};

/// Longest wait for a message, so cancellation is noticed promptly.
const POLL: Duration = Duration::from_millis(50);
/// On Ctrl-C the user is waiting: SIGKILL follows SIGTERM after at most this long.
const CANCEL_GRACE: Duration = Duration::from_secs(1);
/// How often killed groups are checked for being gone during the run.
const PRUNE_EVERY: Duration = Duration::from_millis(100);
/// How long `finish` waits at the end for killed groups to disappear.
const FINAL_REAP: Duration = Duration::from_secs(1);
/// With containment, how many of the jobs next in line have their process made ahead
/// ([`process::Parker`]), and below how many made ones the rest are made, together: moves
/// into cgroups made back to back share one RCU grace period, one at a time each waits for
/// its own.
const PARK_AHEAD: usize = 8;
/// See [`PARK_AHEAD`].
const PARK_REFILL_BELOW: usize = 2;

/// One phase's jobs and state.
#[derive(Debug, Default)]
struct Lane {
    /// Jobs to start in their phase, in order.
    queue: VecDeque<Job>,
    /// Jobs that may start before their phase (see the module docs), in order.
    background: VecDeque<Job>,
    /// Slots of the phase.
    jobs: usize,
    /// Set when the phase stopped starting tests.
    stopped: Option<StopReason>,
    /// The run stopped before this phase: nothing of it starts or is reported.
    abandoned: bool,
    /// Its jobs running now.
    running: usize,
    /// It has a job that must run alone: no background job starts beside the phase.
    has_exclusive: bool,
    /// When its first job started.
    first_start: Option<Instant>,
    /// When its latest job ended (its process exited).
    last_end: Option<Instant>,
}

impl Lane {
    /// No new job of this lane may start (or be re-queued).
    fn closed(&self) -> bool {
        self.stopped.is_some() || self.abandoned
    }
}

/// Runs jobs to completion, emitting events.
pub(crate) struct Scheduler<'r, 's> {
    opts: &'r ExecuteOptions,
    cancel: &'r CancelToken,
    emit: &'r mut Emitter<'s>,
    lanes: Vec<Lane>,
    current: usize,
    next_id: usize,
    running: BTreeMap<JobId, Running>,
    admission: Admission,
    guard: Guard,
    /// Set when a test was stopped for memory pressure: what runs now does not leave room
    /// for more, whatever the estimates say, so nothing new starts beside it until a
    /// running test ends.
    pressure_pause: bool,
    /// Ctrl-C was handled.
    interrupted: bool,
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
    /// Groups killed after their leader exited, until they are seen gone.
    dying: Vec<i32>,
    next_prune: Instant,
    /// Makes the processes of the next jobs ahead, with containment (see [`PARK_AHEAD`]).
    parker: Option<process::Parker>,
    /// Jobs whose process is made and waits in its cgroup, by id.
    parked: BTreeMap<JobId, ParkedJob>,
}

/// A queued job whose process waits in its cgroup for the job's start.
struct ParkedJob {
    lane: usize,
    process: process::Parked,
    cgroup: JobGroup,
}

impl std::fmt::Debug for Scheduler<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("lanes", &self.lanes.len())
            .field("current", &self.current)
            .field("running", &self.running.len())
            .finish()
    }
}

impl<'r, 's> Scheduler<'r, 's> {
    /// A scheduler with no lanes yet; `jobs` (the most of any phase) sizes the background
    /// slots.
    pub fn new(
        jobs: usize,
        opts: &'r ExecuteOptions,
        cancel: &'r CancelToken,
        emit: &'r mut Emitter<'s>,
    ) -> Self {
        let (tx, rx) = mpsc::channel();
        Scheduler {
            opts,
            cancel,
            emit,
            lanes: Vec::new(),
            current: 0,
            next_id: 0,
            running: BTreeMap::new(),
            admission: Admission::new(jobs, opts.memory.budget),
            guard: Guard::new(opts.memory.live.clone()),
            pressure_pause: false,
            interrupted: false,
            tx,
            rx,
            dying: Vec::new(),
            next_prune: Instant::now(),
            parker: opts
                .containment
                .as_ref()
                .filter(|c| c.is_cgroup())
                .and_then(|_| process::Parker::new().ok()),
            parked: BTreeMap::new(),
        }
    }

    /// Adds a lane of `jobs` (started in the given order, `slots` at once) and returns its
    /// index. Jobs marked `background` may start before the lane is current.
    pub fn add_lane(&mut self, slots: usize, jobs: Vec<Job>) -> usize {
        let index = self.lanes.len();
        let mut lane = Lane { jobs: slots.max(1), ..Lane::default() };
        for mut job in jobs {
            job.id = self.fresh_id();
            job.lane = index;
            lane.has_exclusive |= job.demand.exclusive;
            if job.background { lane.background.push_back(job) } else { lane.queue.push_back(job) }
        }
        self.lanes.push(lane);
        index
    }

    /// The event stream, for the run's and phases' own events.
    pub fn emitter(&mut self) -> &mut Emitter<'s> {
        self.emit
    }

    /// When lane `index`'s first job started, if one did (before the lane was current,
    /// for background jobs).
    pub fn lane_started_at(&self, index: usize) -> Option<Instant> {
        self.lanes.get(index).and_then(|lane| lane.first_start)
    }

    /// When lane `index`'s latest job ended, if one did (a background job may end long
    /// before its phase is reported).
    pub fn lane_ended_at(&self, index: usize) -> Option<Instant> {
        self.lanes.get(index).and_then(|lane| lane.last_end)
    }

    fn fresh_id(&mut self) -> JobId {
        self.next_id += 1;
        JobId(self.next_id)
    }

    /// Runs lane `index` (now current) until every job of it has ended or the run stops;
    /// later lanes' background jobs run meanwhile. Returns why the lane stopped early, if
    /// it did.
    pub fn run_lane(&mut self, index: usize) -> Option<StopReason> {
        self.current = index;
        self.emit.set_current(index);
        // Its background jobs are foreground now: back to normal priority where the runner
        // may raise it again (ordinary users may not: they keep the lower priority, which
        // only matters when something else competes for the CPU).
        for running in self.running.values().filter(|r| r.job.lane == index && r.grant.background) {
            let _ = platform::set_group_priority(running.pgid, 0);
        }
        let lane = &mut self.lanes[index];
        self.admission.set_capacity(lane.jobs);
        // Its background jobs that have not started yet start first: they are the long ones.
        while let Some(job) = lane.background.pop_back() {
            lane.queue.push_front(job);
        }
        loop {
            self.check_cancel(Instant::now());
            self.start_admitted();
            let lane = &self.lanes[index];
            if lane.queue.is_empty() && lane.running == 0 {
                break;
            }
            self.park_ahead();
            self.step();
        }
        self.lanes[index].stopped
    }

    /// Kills the running jobs of lanes `from` and later, drops their queues and their
    /// events (the caller reports their tests), and waits for them to end.
    pub fn abandon_lanes_from(&mut self, from: usize) {
        let escalate_at = Instant::now() + self.opts.kill_grace.min(CANCEL_GRACE);
        for index in from..self.lanes.len() {
            self.abandon_lane(index);
        }
        for running in self.running.values_mut().filter(|r| r.job.lane >= from && r.is_active()) {
            running.start_kill(KillReason::Interrupted, escalate_at);
        }
        while self.running.values().any(|r| r.job.lane >= from) {
            self.step();
        }
    }

    /// The one place a lane is abandoned: the run stopped before its phase, so nothing of
    /// it starts or is reported (its running jobs are stopped by the caller).
    fn abandon_lane(&mut self, index: usize) {
        let lane = &mut self.lanes[index];
        lane.abandoned = true;
        lane.queue.clear();
        lane.background.clear();
        self.emit.discard(index);
        self.cancel_parked(|lane| lane == index);
    }

    /// Waits for every job still running (only killed ones can be) and for killed groups to
    /// disappear. When it returns, every process the scheduler started has been reaped and
    /// every group it had to kill is gone (or was sent SIGKILL for up to [`FINAL_REAP`]).
    pub fn finish(mut self) {
        if !self.running.is_empty() {
            self.abandon_lanes_from(0);
        }
        self.cancel_parked(|_| true);
        self.reap_dying(FINAL_REAP);
    }

    /// One turn of the loop: wait for a message or a deadline, then act on it.
    fn step(&mut self) {
        self.wait_and_handle();
        let now = Instant::now();
        self.supervise(now);
        self.watch_memory(now);
        self.finish_completed(now);
    }

    fn start_admitted(&mut self) {
        let current = self.current;
        // Live memory is sampled only when a job could start beside running ones (a fresh
        // look: the last tick may predate a test's exit or its growth), not on every wake-up.
        let mut memory_full: Option<bool> = None;
        // In planned order: a job that does not fit yet waits, and so do those behind it.
        while !self.lanes[current].closed() && self.start_front(current, &mut memory_full) {}
        if self.may_look_ahead() {
            self.start_lookahead(&mut memory_full);
        }
        if self.has_background_queued() {
            let full = memory_full.unwrap_or_else(|| self.memory_full());
            self.start_background(full);
        }
    }

    /// The current phase has started all its jobs and some still run (its tail), it may go
    /// on, and nothing in it must run alone: its idle slots may take the next phases' jobs.
    fn may_look_ahead(&self) -> bool {
        let lane = &self.lanes[self.current];
        lane.queue.is_empty()
            && lane.running > 0
            && !lane.closed()
            && !lane.has_exclusive
            && !self.interrupted
    }

    /// Starts jobs of the next phases, in phase and planned order, on the foreground slots
    /// the current phase's tail leaves idle, within the memory budget (see the module
    /// docs). It stops at the first job that does not fit, and before a phase that runs one
    /// job at a time or has a job that must run alone, so no phase is overtaken.
    fn start_lookahead(&mut self, memory_full: &mut Option<bool>) {
        for index in self.current + 1..self.lanes.len() {
            let lane = &self.lanes[index];
            if lane.closed() || lane.has_exclusive || lane.jobs < 2 {
                return;
            }
            while !self.lanes[index].queue.is_empty() {
                let lane = &self.lanes[index];
                if lane.running >= lane.jobs || !self.start_front(index, memory_full) {
                    return;
                }
            }
        }
    }

    /// Starts the front job of lane `index` if it is admitted now (live memory sampled at
    /// most once per caller, lazily, into `memory_full`); false when nothing started.
    fn start_front(&mut self, index: usize, memory_full: &mut Option<bool>) -> bool {
        let Some(demand) = self.lanes[index].queue.front().map(|job| job.demand) else { return false };
        if !self.admission.could_admit(demand) {
            return false;
        }
        let full = match *memory_full {
            Some(full) => full,
            None => *memory_full.insert(self.memory_full()),
        };
        let Some(grant) = self.admission.try_admit(demand, full) else { return false };
        let Some(job) = self.lanes[index].queue.pop_front() else { return false };
        self.start_job(job, grant);
        true
    }

    /// Whether live memory is too full to start anything beside what runs.
    fn memory_full(&mut self) -> bool {
        !self.running.is_empty() && (self.pressure_pause || self.guard.refresh() >= Level::Full)
    }

    fn has_background_queued(&self) -> bool {
        self.lanes.iter().skip(self.current + 1).any(|lane| !lane.background.is_empty())
    }

    /// Background jobs of later lanes, in lane order, while they fit (see [`Admission`]).
    fn start_background(&mut self, memory_full: bool) {
        let current = &self.lanes[self.current];
        if current.has_exclusive || self.interrupted {
            return;
        }
        let keep_free = current.queue.front().map_or(0, |job| job.demand.memory);
        for index in self.current + 1..self.lanes.len() {
            while !self.lanes[index].closed() {
                let Some(front) = self.lanes[index].background.front() else { break };
                let Some(grant) = self.admission.try_admit_background(front.demand, memory_full, keep_free)
                else {
                    return;
                };
                let Some(job) = self.lanes[index].background.pop_front() else { break };
                self.start_job(job, grant);
            }
        }
    }

    fn start_job(&mut self, job: Job, grant: Grant) {
        let lane = job.lane;
        if grant.over_budget
            && let (Some(&test), Some(budget)) = (job.tests.first(), self.opts.memory.budget)
        {
            let event = Event::TestOverBudget { test, estimate: job.demand.memory, budget };
            self.emit.event_in(lane, event);
        }
        // A libtest batch's tests start one by one, as its output says.
        if !job.rules().sequential() {
            for &test in &job.tests {
                self.emit.started_in(lane, test);
            }
        }
        let limit = self.job_limit(&job);
        let parked = self.parked.remove(&job.id);
        let outcome = match parked {
            Some(parked) if !grant.background => self.unpark(&job, parked),
            parked => {
                if let Some(parked) = parked {
                    cancel(parked);
                }
                let cgroup = self.job_cgroup(&job, limit);
                cgroup.and_then(|cgroup| Ok((self.spawn(&job, &grant, cgroup.as_ref())?, cgroup)))
            }
        };
        match outcome {
            Ok((started, cgroup)) => {
                let lane = &mut self.lanes[lane];
                lane.running += 1;
                lane.first_start.get_or_insert(started.at);
                let mut running = Running::new(job, started, grant, limit);
                running.cgroup = cgroup;
                self.running.insert(running.job.id, running);
            }
            Err(why) => {
                self.admission.release(grant);
                self.fail_to_start(&job, &why);
            }
        }
    }

    /// Starts the job's process (in `cgroup`, when it has one).
    fn spawn(
        &self,
        job: &Job,
        grant: &Grant,
        cgroup: Option<&JobGroup>,
    ) -> Result<process::Started, StartError> {
        let spec = job.command.as_ref().map_err(Clone::clone)?;
        let procs = cgroup.map(|g| g.procs_path().clone());
        let capture = self.capture_for(job);
        process::start(job.id, spec, capture, &self.tx, (grant.background, self.inherits_output(job)), procs)
            .map_err(|e| spawn_error(job, e))
    }

    /// Lets a parked job's process run (see [`process::Parker`]).
    fn unpark(
        &self,
        job: &Job,
        parked: ParkedJob,
    ) -> Result<(process::Started, Option<JobGroup>), StartError> {
        let ParkedJob { process, cgroup, .. } = parked;
        match process.go(&self.tx) {
            Ok(started) => Ok((started, Some(cgroup))),
            Err(e) => {
                cgroup.remove();
                Err(spawn_error(job, e))
            }
        }
    }

    /// Makes the processes of the next [`PARK_AHEAD`] jobs in line (current phase first,
    /// then the next phases' in order) that have none yet, each in its own cgroup, so their
    /// start does not wait for the kernel's cgroup move. A job that cannot be parked is
    /// started the usual way when its turn comes, and reports its error then.
    fn park_ahead(&mut self) {
        let Some(parker) = &self.parker else { return };
        if self.interrupted {
            return;
        }
        let (made, next): (Vec<&Job>, Vec<&Job>) = self.lanes[self.current..]
            .iter()
            .filter(|lane| !lane.closed())
            .flat_map(|lane| lane.queue.iter())
            .take(PARK_AHEAD)
            .partition(|job| self.parked.contains_key(&job.id));
        if made.len() >= PARK_REFILL_BELOW {
            return;
        }
        let mut parked = Vec::new();
        let parkable = next
            .into_iter()
            .filter_map(|job| Some((job, job.command.as_ref().ok().filter(|s| parkable(s))?)));
        for (job, spec) in parkable {
            let Ok(Some(cgroup)) = self.job_cgroup(job, self.job_limit(job)) else { continue };
            let (capture, inherit) = (self.capture_for(job), self.inherits_output(job));
            match parker.park(job.id, spec, capture, &self.tx, inherit, cgroup.procs_path().clone()) {
                Ok(process) => parked.push((job.id, ParkedJob { lane: job.lane, process, cgroup })),
                Err(_) => cgroup.remove(),
            }
        }
        self.parked.extend(parked);
    }

    /// Ends the parked processes of the lanes `which` selects and removes their cgroups.
    fn cancel_parked(&mut self, which: impl Fn(usize) -> bool) {
        let ids: Vec<JobId> = self.parked.iter().filter(|(_, p)| which(p.lane)).map(|(id, _)| *id).collect();
        for id in ids {
            if let Some(parked) = self.parked.remove(&id) {
                cancel(parked);
            }
        }
    }

    /// The memory limit of `job`'s process (its cgroup's, with containment).
    fn job_limit(&self, job: &Job) -> Option<u64> {
        job.rules().memory_limit(job.memory_limit, &self.opts.memory)
    }

    /// Whether `job`'s output goes to the runner's own streams (`--no-capture`); batches
    /// keep theirs: their results are read from it.
    fn inherits_output(&self, job: &Job) -> bool {
        self.opts.no_capture && job.rules().may_inherit_output()
    }

    /// A new capture for `job`'s output.
    fn capture_for(&self, job: &Job) -> Capture {
        Capture::new(
            self.opts.output_head,
            self.opts.output_tail,
            job.rules().parser(self.opts.output_head, self.opts.output_tail),
        )
    }

    /// A cgroup for `job` when the run has containment (an error fails the job's start: a
    /// test must not run uncontained where containment was promised).
    fn job_cgroup(&self, job: &Job, limit: Option<u64>) -> Result<Option<JobGroup>, StartError> {
        let Some(containment) = &self.opts.containment else { return Ok(None) };
        containment.job_group(job.id.0, limit).map_err(|e| StartError::Cgroup(std::sync::Arc::new(e)))
    }

    fn fail_to_start(&mut self, job: &Job, why: &StartError) {
        for &test in &job.tests {
            if job.rules().sequential() {
                self.emit.started_in(job.lane, test);
            }
            let mut result = TestResult::not_started(TestStatus::Failed { exit_code: None });
            resolve::append_note(&mut result.output, &why.to_string());
            self.emit.finished_in(job.lane, test, result);
        }
        self.on_failure(job.lane);
    }

    /// Blocks for the next message (bounded by the nearest deadline and the memory guard's
    /// next tick), then drains the rest.
    fn wait_and_handle(&mut self) {
        let now = Instant::now();
        let tick = (!self.running.is_empty()).then(|| self.guard.next_tick());
        let nearest = self.running.values().filter_map(Running::next_deadline).chain(tick).min();
        let timeout = nearest.map_or(POLL, |at| at.saturating_duration_since(now).min(POLL));
        // A timeout is the normal way to wake for deadlines; disconnection cannot happen
        // while the scheduler holds a sender.
        let Ok(first) = self.rx.recv_timeout(timeout) else { return };
        self.handle(first);
        while let Ok(msg) = self.rx.try_recv() {
            self.handle(msg);
        }
    }

    fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::Exited { job, exit, at } => self.on_exit(job, exit, at),
            Msg::Progress { job } => self.on_progress(job),
            Msg::OutputClosed { job } => {
                if let Some(running) = self.running.get_mut(&job) {
                    running.output_closed = true;
                }
            }
        }
    }

    fn on_exit(&mut self, job: JobId, exit: Result<ExitInfo, WaitError>, at: Instant) {
        let Some(running) = self.running.get_mut(&job) else { return };
        let report = running.cgroup.as_ref().map(JobGroup::report);
        running.cgroup_peak = report.as_ref().and_then(|report| report.resident_peak());
        running.exited(exit, at, report.as_ref().and_then(oom_kill_reason));
        if running.cgroup.as_ref().is_some_and(|group| group.kill_all() > 0) {
            // Processes that left the process group (setsid daemons, setpgid children)
            // outlived it: killed, and reported as a leak.
            running.leaked |= running.stop_reason().is_none();
        }
        if platform::group_alive(running.pgid) {
            // Processes the test started outlived it. They must not outlive the run, and
            // they may hold the output pipe open. Only a test the runner did not already
            // stop counts as leaking.
            let _ = platform::kill_group(running.pgid, SIGKILL);
            running.leaked = running.stop_reason().is_none();
            self.dying.push(running.pgid);
        }
    }

    fn on_progress(&mut self, job: JobId) {
        let Some(running) = self.running.get_mut(&job) else { return };
        let events = process::lock(&running.capture).take_results();
        let lane = running.job.lane;
        let mut settled = Settled::default();
        settle::apply_batch_events(running, events, self.opts.retries, &mut settled);
        self.apply(lane, settled);
    }

    /// Timeouts and SIGKILL escalation; slow notices; periodic pruning of groups seen gone.
    fn supervise(&mut self, now: Instant) {
        for running in self.running.values_mut().filter(|r| r.is_live()) {
            if let Some(after) = self.opts.slow_after
                && running.is_active()
                && let Some((test, at, passed)) = running.next_slow(after).filter(|&(_, at, _)| now >= at)
                // At its timeout a test is reported timed out instead.
                && at < running.timeout_at()
            {
                running.slow = Some((test, passed));
                let elapsed =
                    at.saturating_duration_since(running.timed_test().map_or(at, |(_, since)| since));
                self.emit.event_in(running.job.lane, Event::TestSlow { test, elapsed });
            }
            let timed_out = now >= running.timeout_at();
            if running.is_active() && timed_out {
                running.start_kill(KillReason::Timeout, now + self.opts.kill_grace);
            } else if let JobState::Stopping(kill) = &mut running.state
                && !kill.escalated
                && now >= kill.escalate_at
            {
                let _ = platform::kill_group(running.pgid, SIGKILL);
                kill.escalated = true;
            }
        }
        if now >= self.next_prune {
            // Forget groups as soon as they are gone, so a recycled id is never signalled.
            self.dying.retain(|&pgid| platform::group_alive(pgid));
            self.next_prune = now + PRUNE_EVERY;
        }
    }

    /// The memory guard's tick: tree RSS of every running test (killing those past their
    /// limit), then live memory (stopping a test when it is critical). See [`memory`].
    fn watch_memory(&mut self, now: Instant) {
        if now < self.guard.next_tick() || self.running.is_empty() {
            return;
        }
        let live: Vec<(JobId, i32)> =
            self.running.iter().filter(|(_, r)| r.is_live()).map(|(id, r)| (*id, r.pgid)).collect();
        let pgids: Vec<i32> = live.iter().map(|&(_, pgid)| pgid).collect();
        let scanned = self.guard.scan(&pgids);
        for (&(id, _), &rss) in live.iter().zip(&scanned) {
            let Some(running) = self.running.get_mut(&id) else { continue };
            running.rss.update(rss, now);
            // A test being stopped for another reason than Ctrl-C is still judged by its
            // limit: past it, that is its status.
            let judged = !matches!(
                running.stop_reason(),
                Some(KillReason::MemoryLimit { .. } | KillReason::Interrupted)
            );
            if let Some(limit) = running.limit
                && rss > limit
                && judged
            {
                running.kill_now(KillReason::MemoryLimit { peak: rss, limit }, now);
            }
        }
        if self.guard.tick_sample() == Level::Critical {
            self.stop_for_pressure(now);
        }
        let active = self.running.values().filter(|r| r.is_live()).count();
        self.guard.schedule_next(now, active);
    }

    /// Memory is critical: unless only one job runs (its own limit governs it) or a job
    /// stopped earlier is still going away, stop the newest memory-growing job; its test
    /// (a batch: its running test) will run again alone.
    fn stop_for_pressure(&mut self, now: Instant) {
        let active = self.running.values().filter(|r| r.is_active()).count();
        if active < 2 || self.running.values().any(Running::is_pressure_stop_in_flight) {
            return;
        }
        let candidates: Vec<Candidate> = self
            .running
            .iter()
            .filter(|(_, r)| r.is_active() && r.job.stoppable_for_pressure())
            .map(|(id, r)| Candidate { id: *id, started: r.started, growing: r.rss.growing(now, r.started) })
            .collect();
        let (Some(victim), Some(sample)) = (memory::choose_victim(&candidates), self.guard.last()) else {
            return;
        };
        if let Some(running) = self.running.get_mut(&victim) {
            running.kill_now(KillReason::MemoryPressure { used: sample.used, limit: sample.limit }, now);
            self.pressure_pause = true;
        }
    }

    /// Ctrl-C: the current lane stops, later lanes are abandoned, and every running job is
    /// stopped.
    fn check_cancel(&mut self, now: Instant) {
        if !self.cancel.is_cancelled() || self.interrupted {
            return;
        }
        self.interrupted = true;
        self.stop(self.current, StopReason::Interrupted);
        for index in self.current + 1..self.lanes.len() {
            self.abandon_lane(index);
        }
        let escalate_at = now + self.opts.kill_grace.min(CANCEL_GRACE);
        for running in self.running.values_mut().filter(|r| r.is_live()) {
            match &mut running.state {
                // Already being stopped: keep its status, but do not make the user wait.
                JobState::Stopping(kill) => kill.escalate_at = kill.escalate_at.min(escalate_at),
                _ => running.start_kill(KillReason::Interrupted, escalate_at),
            }
        }
    }

    /// Lane `index` starts nothing more; its jobs not started are reported not run.
    fn stop(&mut self, index: usize, reason: StopReason) {
        let lane = &mut self.lanes[index];
        if lane.closed() {
            return;
        }
        lane.stopped = Some(reason);
        self.emit.event_in(index, Event::Stopping { reason });
        let lane = &mut self.lanes[index];
        let queued: Vec<Job> = lane.queue.drain(..).chain(lane.background.drain(..)).collect();
        self.cancel_parked(|lane| lane == index);
        for Job { tests, if_stopped, .. } in queued {
            match (if_stopped, tests.as_slice()) {
                (Some(result), &[test]) => self.emit.finished_in(index, test, *result),
                _ => tests.into_iter().for_each(|test| self.emit.not_run_in(index, test, reason)),
            }
        }
    }

    fn on_failure(&mut self, lane: usize) {
        if self.opts.fail_fast && self.emit.failures_seen() >= self.opts.max_fail.max(1) {
            self.stop(lane, StopReason::FailFast);
        }
    }

    /// Why lane `index` cannot take new work (for reporting what will not run).
    fn lane_stop_reason(&self, index: usize) -> Option<StopReason> {
        let lane = &self.lanes[index];
        lane.stopped.or(lane.abandoned.then_some(StopReason::Interrupted))
    }

    /// Applies what a job's end (or progress) decided: its events, in order, then the jobs
    /// to queue again, then fail-fast.
    fn apply(&mut self, lane: usize, settled: Settled) {
        for step in settled.steps {
            match step {
                Step::Started(test) => self.emit.started_in(lane, test),
                Step::Finished(test, result) => self.emit.finished_in(lane, test, result),
                Step::Rescheduled(test, reason) => {
                    self.emit.event_in(lane, Event::TestRescheduled { test, reason })
                }
                Step::NotRun(test, reason) => self.emit.not_run_in(lane, test, reason),
            }
        }
        for requeue in settled.queue {
            match requeue {
                Requeue::Front(jobs) => self.requeue_front(lane, jobs),
                Requeue::Back(job) => {
                    let job = Job { id: self.fresh_id(), ..job };
                    self.lanes[lane].queue.push_back(job);
                }
            }
        }
        if settled.failed {
            self.on_failure(lane);
        }
    }

    /// Puts jobs back at the front of their lane, in the given order, with fresh ids.
    fn requeue_front(&mut self, lane: usize, jobs: Vec<Job>) {
        for mut job in jobs.into_iter().rev() {
            job.id = self.fresh_id();
            self.lanes[lane].queue.push_front(job);
        }
    }

    fn finish_completed(&mut self, now: Instant) {
        let done: Vec<JobId> =
            self.running.iter().filter(|(_, r)| r.is_complete(now)).map(|(id, _)| *id).collect();
        for id in done {
            if let Some(running) = self.running.remove(&id) {
                self.complete(running, now);
            }
        }
    }

    /// A job that ended and whose output drained: its slot and memory are released, and
    /// what happened is settled and applied (unless its lane was abandoned).
    fn complete(&mut self, mut running: Running, now: Instant) {
        let cgroup = running.cgroup.take();
        let contained = cgroup.is_some();
        // Removed after the job is settled: its figures were read at exit.
        let _remove = RemoveOnDrop(cgroup);
        if !running.output_closed && running.stop_reason().is_none() && !contained {
            // Without a cgroup (which finds every process precisely), a process outside the
            // test's group still holding its output pipe a second after it ended is a leak
            // the runner cannot kill, but reports (nextest's pipe rule, with a longer grace).
            running.leaked = true;
        }
        self.admission.release(running.grant);
        let lane = running.job.lane;
        self.lanes[lane].running -= 1;
        let ended = running.exit().map_or(now, |exit| exit.at);
        let last_end = &mut self.lanes[lane].last_end;
        *last_end = Some(last_end.map_or(ended, |at| at.max(ended)));
        self.pressure_pause &= matches!(running.stop_reason(), Some(KillReason::MemoryPressure { .. }));
        if self.lanes[lane].abandoned {
            return;
        }
        let ctx = SettleContext { stop: self.lane_stop_reason(lane), retries: self.opts.retries };
        let settled = settle::settle(running, &ctx);
        self.apply(lane, settled);
    }

    /// Waits (up to `limit`) for killed groups to disappear, re-sending SIGKILL.
    fn reap_dying(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            self.dying.retain(|&pgid| platform::group_alive(pgid));
            if self.dying.is_empty() || Instant::now() >= deadline {
                return;
            }
            for &pgid in &self.dying {
                let _ = platform::kill_group(pgid, SIGKILL);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Why the kernel stopped a job in its cgroup, if it did: at its own limit a memory
/// failure (a batch's running test then runs alone, judged by its own limit); below it an
/// enclosing group ran out — memory pressure, so it runs again alone.
fn oom_kill_reason(report: &crate::platform::containment::GroupReport) -> Option<KillReason> {
    if report.oom_kills == 0 {
        return None;
    }
    Some(match (report.own_limit_hit(), report.limit) {
        (true, Some(limit)) => KillReason::MemoryLimit { peak: report.peak.unwrap_or(limit), limit },
        _ => KillReason::MemoryPressure { used: report.peak.unwrap_or(0), limit: report.limit.unwrap_or(0) },
    })
}

/// Why `job`'s process could not be started.
fn spawn_error(job: &Job, err: std::io::Error) -> StartError {
    let program = job.command.as_ref().map(|spec| spec.program.to_string()).unwrap_or_default();
    StartError::Spawn { program, source: std::sync::Arc::new(err) }
}

/// Whether a job run by `spec` may be parked: its program is a file that exists now. A
/// parked process cannot report an `exec` error (it would end with SIGABRT), so a program
/// found through `PATH` (`cargo` for doctest batches) or missing starts the usual way,
/// where a failure to start says why.
fn parkable(spec: &crate::model::RunCommand) -> bool {
    spec.program.is_absolute() && spec.program.is_file()
}

/// Ends a parked process and removes its cgroup.
fn cancel(parked: ParkedJob) {
    parked.process.cancel();
    parked.cgroup.remove();
}

/// Removes a job's cgroup when dropped (after its job is settled, on every path).
struct RemoveOnDrop(Option<JobGroup>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(group) = self.0.take() {
            group.remove();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parkable;
    use crate::model::RunCommand;

    fn run(program: &str) -> RunCommand {
        RunCommand { program: program.into(), args: Vec::new(), cwd: "/".into(), env: Default::default() }
    }

    #[test]
    fn only_programs_that_exist_as_files_are_parked() {
        let exe = std::env::current_exe().expect("current exe");
        assert!(parkable(&run(exe.to_str().expect("utf-8 path"))));
        assert!(!parkable(&run("cargo")), "found through PATH");
        assert!(!parkable(&run("/nonexistent/testplan/bin")), "missing");
        assert!(!parkable(&run("/")), "a directory");
    }
}
