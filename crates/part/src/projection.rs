//! The projection (docs/scale-out.md, "The projection"): the partitions' logs merged into
//! one order and applied to one engine — the reads, and what a settlement is decided on.
//!
//! A partition's next entry waits while it is the copy of a definition the coordinator's
//! log has not yet given; among the entries that can go, the next is the one with the
//! earliest time (an entry without a time, a registration, takes its partition's time so
//! far), ties to the lower partition. Each partition's own order is kept, and nothing
//! comes before a definition it was decided after.
//!
//! [`Kept`] keeps the merge's place in every log between reads, so that a settlement
//! applies only what the logs gained since the last one rather than every log from its
//! start. At a settlement's barrier every partition has handed over its whole log, so the
//! entries before it are merged before any after it: the kept projection is the merge of
//! the logs cut at each barrier in turn.

use crate::partition::Logged;
use dacu_core::{Engine, Event, Festival, Ts};
use std::sync::Arc;

/// Where a merge is in each log.
pub(crate) struct Merge {
    next: Vec<usize>,
    clock: Vec<Ts>,
    /// Definitions given so far (from partition 0's log).
    given: usize,
}

impl Merge {
    pub(crate) fn new(n: usize) -> Merge {
        Merge { next: vec![0; n], clock: vec![Ts(i64::MIN); n], given: 0 }
    }

    /// Passes `emit` the events the logs hold beyond what this merge passed before, in
    /// the merged order. Each log must extend the one it saw before.
    pub(crate) fn advance(&mut self, logs: &[&[Logged]], mut emit: impl FnMut(&Event)) {
        while let Some(i) = self.pick(logs) {
            match &logs[i][self.next[i]] {
                Logged::Own(_, events) => events.iter().for_each(&mut emit),
                Logged::Definition(_, _, events) => {
                    events.iter().for_each(&mut emit);
                    self.given += 1;
                }
            }
            self.next[i] += 1;
        }
    }

    /// The partition whose next entry goes next, if any can.
    fn pick(&mut self, logs: &[&[Logged]]) -> Option<usize> {
        let mut best: Option<(Ts, usize)> = None;
        for (i, log) in logs.iter().enumerate() {
            // Copies of definitions already given are passed over.
            while let Some(Logged::Definition(k, ..)) = log.get(self.next[i]) {
                if i == 0 || *k >= self.given {
                    break;
                }
                self.next[i] += 1;
            }
            let at = match log.get(self.next[i]) {
                None => continue,
                Some(Logged::Definition(..)) if i != 0 => continue,
                Some(Logged::Own(at, _) | Logged::Definition(_, at, _)) => at,
            };
            let t = at.unwrap_or(self.clock[i]).max(self.clock[i]);
            if best.is_none_or(|(bt, _)| t < bt) {
                best = Some((t, i));
            }
        }
        let (t, i) = best?;
        self.clock[i] = t;
        Some(i)
    }
}

/// The events of the partitions' logs (by partition) in one order, as a projection
/// reading them merges them: [`crate::Partitioned::merged_events`].
pub(crate) fn merged(logs: &[&[Logged]]) -> Vec<Event> {
    let mut out = Vec::new();
    Merge::new(logs.len()).advance(logs, |e| out.push(e.clone()));
    out
}

/// One engine that applied the partitions' logs, merged.
pub(crate) fn projection(festival: Arc<Festival>, logs: &[&[Logged]]) -> Engine {
    let mut kept = Kept::new(festival, logs.len());
    kept.catch_up(logs);
    kept.engine
}

/// A projection kept between reads: it applies only what the logs gained since.
pub(crate) struct Kept {
    engine: Engine,
    merge: Merge,
}

impl Kept {
    pub(crate) fn new(festival: Arc<Festival>, n: usize) -> Kept {
        Kept { engine: Engine::new(festival), merge: Merge::new(n) }
    }

    /// Applies what the logs gained since the last call (each must extend the one it
    /// was before) and returns the engine.
    pub(crate) fn catch_up(&mut self, logs: &[&[Logged]]) -> &Engine {
        let engine = &mut self.engine;
        self.merge.advance(logs, |ev| engine.apply(ev).expect("the merged logs apply"));
        &self.engine
    }
}
