//! Admission control: which jobs may run together. A job is admitted when, beside what
//! already runs,
//! - its slots fit in `-j` (a job wider than all slots takes them all);
//! - its memory estimate fits in what is left of the budget (the estimates of the running
//!   jobs are reserved until they end);
//! - nothing that must run alone is running, and it need not run alone itself;
//! - live memory is not near its limit (the scheduler says so: see `memory`).
//!
//! When nothing runs, the front job is always admitted, so a job larger than all slots or
//! the whole budget still runs — alone: a job over the budget reserves more than the budget,
//! so nothing else fits beside it, and the scheduler reports it (`TestOverBudget`).
//!
//! Admission is in planned order: a job that does not fit waits, and so do those behind it
//! (head-of-line), which keeps the order predictable and never starves a large job.
//!
//! Background jobs (doctest batches started before their phase, at a lower CPU priority)
//! have slots of their own, as many as `-j`, so they never take a slot from the current
//! phase; they share its memory budget but are admitted only when they fit beside what
//! runs *and* the current phase's next job (`keep_free`), never alone, never exclusive, and
//! never while memory is near its limit or something runs alone.

use super::job::Demand;

/// What an admitted job holds until it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Grant {
    /// Slots taken.
    pub slots: usize,
    /// Bytes reserved from the budget.
    pub memory: u64,
    /// Nothing else runs beside it.
    pub exclusive: bool,
    /// Its estimate is larger than the whole budget (it runs alone).
    pub over_budget: bool,
    /// Holds background slots.
    pub background: bool,
}

/// The state of admission: capacity and what running jobs hold.
#[derive(Debug)]
pub(crate) struct Admission {
    capacity: usize,
    background_capacity: usize,
    budget: Option<u64>,
    busy: usize,
    background_busy: usize,
    reserved: u64,
    running: usize,
    exclusive: bool,
}

impl Admission {
    /// `capacity` slots (at least 1; as many background slots) and an optional memory
    /// budget in bytes.
    pub fn new(capacity: usize, budget: Option<u64>) -> Self {
        Admission {
            capacity: capacity.max(1),
            background_capacity: capacity.max(1),
            budget,
            busy: 0,
            background_busy: 0,
            reserved: 0,
            running: 0,
            exclusive: false,
        }
    }

    /// Changes the (foreground) slots, e.g. for the next phase.
    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity.max(1);
    }

    /// Admits `demand` if it fits now; `memory_full` is the live watch saying memory is near
    /// its limit (ignored when nothing runs: something must make progress).
    pub fn try_admit(&mut self, demand: Demand, memory_full: bool) -> Option<Grant> {
        let slots = demand.slots.clamp(1, self.capacity);
        let over_budget = self.budget.is_some_and(|budget| demand.memory > budget);
        let exclusive = demand.exclusive || over_budget;
        if self.running > 0 {
            let memory_fits = self.budget.is_none_or(|budget| self.reserved + demand.memory <= budget);
            let fits = !self.exclusive && !exclusive && !memory_full && memory_fits;
            if !fits || self.busy + slots > self.capacity {
                return None;
            }
        }
        let grant = Grant { slots, memory: demand.memory, exclusive, over_budget, background: false };
        Some(self.hold(grant))
    }

    /// Whether `demand` would be admitted now if live memory allowed it (no state changes).
    pub fn could_admit(&self, demand: Demand) -> bool {
        if self.running == 0 {
            return true;
        }
        let slots = demand.slots.clamp(1, self.capacity);
        let exclusive = demand.exclusive || self.budget.is_some_and(|budget| demand.memory > budget);
        let memory_fits = self.budget.is_none_or(|budget| self.reserved + demand.memory <= budget);
        !self.exclusive && !exclusive && memory_fits && self.busy + slots <= self.capacity
    }

    /// Admits a background job if it fits beside what runs with `keep_free` bytes of the
    /// budget left for the current phase's next job (see the module docs).
    pub fn try_admit_background(
        &mut self,
        demand: Demand,
        memory_full: bool,
        keep_free: u64,
    ) -> Option<Grant> {
        let slots = demand.slots.clamp(1, self.background_capacity);
        let memory_fits = self.budget.is_none_or(|budget| {
            self.reserved.saturating_add(demand.memory).saturating_add(keep_free) <= budget
        });
        let fits = !demand.exclusive && !self.exclusive && !memory_full && memory_fits;
        if !fits || self.background_busy + slots > self.background_capacity {
            return None;
        }
        let grant =
            Grant { slots, memory: demand.memory, exclusive: false, over_budget: false, background: true };
        Some(self.hold(grant))
    }

    fn hold(&mut self, grant: Grant) -> Grant {
        if grant.background {
            self.background_busy += grant.slots;
        } else {
            self.busy += grant.slots;
        }
        self.reserved = self.reserved.saturating_add(grant.memory);
        self.running += 1;
        self.exclusive |= grant.exclusive;
        grant
    }

    /// Returns what an ended job held.
    pub fn release(&mut self, grant: Grant) {
        if grant.background {
            self.background_busy = self.background_busy.saturating_sub(grant.slots);
        } else {
            self.busy = self.busy.saturating_sub(grant.slots);
        }
        self.reserved = self.reserved.saturating_sub(grant.memory);
        self.running = self.running.saturating_sub(1);
        if grant.exclusive {
            self.exclusive = false;
        }
    }

    /// Bytes reserved by running jobs.
    #[cfg(test)]
    pub fn reserved(&self) -> u64 {
        self.reserved
    }

    /// Jobs running.
    #[cfg(test)]
    pub fn running(&self) -> usize {
        self.running
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;

    fn demand(memory: u64) -> Demand {
        Demand::single(memory)
    }

    #[test]
    fn memory_and_slots_both_bound_admission() {
        let mut admission = Admission::new(4, Some(2 * GIB));
        let a = admission.try_admit(demand(GIB), false).expect("first");
        let b = admission.try_admit(demand(900 * MIB), false).expect("fits the budget");
        assert_eq!(admission.try_admit(demand(200 * MIB), false), None, "would pass the budget");
        admission.release(a);
        let c = admission.try_admit(demand(200 * MIB), false).expect("fits after a release");
        assert_eq!(admission.reserved(), 1100 * MIB);
        assert_eq!(admission.try_admit(demand(MIB), true), None, "live memory is full");
        admission.release(b);
        admission.release(c);
        assert_eq!((admission.reserved(), admission.running()), (0, 0));

        let mut slots = Admission::new(2, None);
        slots.try_admit(demand(100 * GIB), false).expect("no budget: memory is not checked");
        slots.try_admit(demand(100 * GIB), false).expect("second slot");
        assert_eq!(slots.try_admit(demand(0), false), None, "no slot left");
    }

    #[test]
    fn the_front_job_always_starts_when_nothing_runs() {
        let mut admission = Admission::new(2, Some(GIB));
        let grant = admission.try_admit(demand(3 * GIB), true).expect("alone, even when full");
        assert!(grant.over_budget && grant.exclusive);
        assert_eq!(admission.try_admit(demand(1), false), None, "nothing beside an over-budget job");
        admission.release(grant);
        let wide = admission.try_admit(Demand { slots: 9, memory: 0, exclusive: false }, false);
        assert_eq!(wide.map(|g| g.slots), Some(2), "a batch wider than -j takes every slot");
    }

    #[test]
    fn exclusive_jobs_run_alone() {
        let mut admission = Admission::new(4, Some(8 * GIB));
        let a = admission.try_admit(demand(MIB), false).expect("first");
        let serial = Demand { slots: 1, memory: MIB, exclusive: true };
        assert_eq!(admission.try_admit(serial, false), None, "waits for the running job");
        admission.release(a);
        let s = admission.try_admit(serial, false).expect("alone now");
        assert_eq!(admission.try_admit(demand(MIB), false), None, "nothing starts beside it");
        admission.release(s);
        assert!(admission.try_admit(demand(MIB), false).is_some());
    }

    #[test]
    fn background_jobs_have_their_own_slots_and_leave_memory_for_the_foreground() {
        let mut admission = Admission::new(2, Some(4 * GIB));
        let doc = Demand { slots: 2, memory: 2 * GIB, exclusive: false };
        let bg = admission.try_admit_background(doc, false, GIB).expect("fits with 1 GiB to spare");
        assert!(bg.background);
        assert_eq!(admission.try_admit_background(Demand::single(0), false, 0), None, "no background slot");
        let a = admission.try_admit(demand(GIB), false).expect("foreground slots are untouched");
        let b = admission.try_admit(demand(GIB), false).expect("second slot");
        assert_eq!(admission.try_admit(demand(0), false), None, "the foreground's slots are full");
        admission.release(bg);
        admission.release(a);
        admission.release(b);
        let refused = [
            (Demand { slots: 1, memory: GIB, exclusive: true }, false, 0),
            (demand(GIB), true, 0),
            (demand(3 * GIB), false, 2 * GIB),
            (demand(5 * GIB), false, 0),
        ];
        for (demand, full, keep_free) in refused {
            assert_eq!(admission.try_admit_background(demand, full, keep_free), None, "{demand:?}");
        }
        let alone =
            admission.try_admit(Demand { slots: 1, memory: 0, exclusive: true }, false).expect("alone");
        assert_eq!(admission.try_admit_background(demand(0), false, 0), None, "nothing beside a job alone");
        admission.release(alone);
        admission.set_capacity(1);
        admission.try_admit(demand(0), false).expect("one slot");
        assert_eq!(admission.try_admit(demand(0), false), None, "the new capacity holds");
    }

    /// xorshift64*: reproducible pseudo-random numbers without a dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n.max(1)
        }
    }

    /// A simulated schedule: jobs with random estimates (some larger than the budget, some
    /// exclusive) are admitted in order while they fit, and random running jobs end. At every
    /// step the running estimates stay within the budget unless one job runs alone, slots
    /// within `-j`, and every job eventually runs.
    #[test]
    fn a_simulated_schedule_never_exceeds_the_budget() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for case in 0..500 {
            let capacity = 1 + rng.below(8) as usize;
            let budget = 256 * MIB + rng.below(8 * GIB);
            let jobs: Vec<Demand> = (0..1 + rng.below(40))
                .map(|_| Demand {
                    slots: 1 + (rng.below(10) == 0) as usize * rng.below(4) as usize,
                    memory: rng.below(budget + budget / 2),
                    exclusive: rng.below(15) == 0,
                })
                .collect();
            let mut admission = Admission::new(capacity, Some(budget));
            let mut queue = jobs.iter().copied().collect::<std::collections::VecDeque<_>>();
            let mut running: Vec<(Demand, Grant)> = Vec::new();
            let mut started = 0;
            while !queue.is_empty() || !running.is_empty() {
                let full = rng.below(10) == 0;
                while let Some(&front) = queue.front() {
                    let could = admission.could_admit(front);
                    let Some(grant) = admission.try_admit(front, full) else {
                        assert!(full || !could, "case {case}: could_admit said yes");
                        break;
                    };
                    assert!(could, "case {case}: could_admit said no");
                    queue.pop_front();
                    running.push((front, grant));
                    started += 1;
                }
                let held: u64 = running.iter().map(|(d, _)| d.memory).sum();
                let slots: usize = running.iter().map(|(_, g)| g.slots).sum();
                let alone = running.iter().any(|(d, g)| d.exclusive || g.over_budget);
                assert!(running.len() == 1 || held <= budget, "case {case}: {held} > {budget}");
                assert!(slots <= capacity, "case {case}: {slots} slots > {capacity}");
                assert!(!alone || running.len() == 1, "case {case}: an exclusive job has company");
                assert!(!running.is_empty() || queue.is_empty(), "case {case}: stalled");
                if !running.is_empty() {
                    let (_, grant) = running.swap_remove(rng.below(running.len() as u64) as usize);
                    admission.release(grant);
                }
            }
            assert_eq!(started, jobs.len(), "case {case}");
            assert_eq!((admission.reserved(), admission.running()), (0, 0), "case {case}");
        }
    }
}
