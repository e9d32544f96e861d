//! The read view: a second engine that applies what the log has made durable, read back
//! from the log itself. Queries run against it under a read lock, never on the writer and
//! never on state that is not durable. It also takes the snapshots, so a snapshot costs
//! the writer nothing.

use crate::backend::Source;
use crate::shared::Shared;
use dacu_core::Event;
use dacu_log::chain::Chain;
use dacu_log::{codec, SnapshotStore};
use std::sync::Arc;

pub(crate) use crate::tail::Promote;

/// Events applied under one write lock at most, so readers wait little.
pub(crate) const APPLY_EVENTS: usize = 65_536;

pub(crate) struct Follower {
    pub shared: Arc<Shared>,
    pub follow: Source,
    /// Where snapshots go (none: the node takes none).
    pub snapshots: Option<Arc<dyn SnapshotStore>>,
    pub snapshot_every: u64,
    pub last_snapshot_seq: u64,
    /// The chain value after the last applied event.
    pub chain: Chain,
    /// What format 1 records leave to the festival file (dacu_log::codec).
    pub format1: codec::Context,
}

impl Follower {
    /// Follows the log until the node stops and the view has caught up; then, if `final`
    /// says so, snapshots. Returns that snapshot's result and the seq of the last one.
    ///
    /// A stream node's view also follows while the node does not lead (crate::tail): it
    /// reads the stream to its end, and on a takeover hands the writer its state.
    pub fn run(mut self) -> (Result<(), String>, u64) {
        loop {
            if !self.shared.leading() {
                match self.tail() {
                    Ok(true) => return (Ok(()), self.last_snapshot_seq),
                    Ok(false) => continue,
                    Err(e) => return self.fail(e),
                }
            }
            let applied = self.shared.applied.get();
            let stop = || self.shared.stopping() || self.shared.poisoned().is_some();
            let durable = self.shared.durable.wait_for(applied + 1, None, stop);
            if durable <= applied {
                if self.shared.poisoned().is_some() && self.is_stream() && !self.shared.stopping() {
                    // Overtaken, or the lease lost: what the stream holds is still the
                    // truth, and the view goes on reading it as a follower's.
                    self.shared.leading.store(false, std::sync::atomic::Ordering::SeqCst);
                    continue;
                }
                if stop() {
                    break;
                }
                continue;
            }
            if let Err(e) = self.catch_up(durable) {
                return self.fail(e);
            }
            let _ = self.snapshot_if_due(false);
        }
        let r = if self.shared.final_snapshot() { self.snapshot_if_due(true) } else { Ok(()) };
        (r, self.last_snapshot_seq)
    }

    fn fail(&self, e: String) -> (Result<(), String>, u64) {
        *self.shared.view_failed.lock().expect("view lock") = Some(e.clone());
        self.shared.applied.nudge();
        (Err(e), self.last_snapshot_seq)
    }

    fn is_stream(&self) -> bool {
        matches!(self.follow, Source::Stream(_))
    }

    /// Applies every durable batch up to `through`, a bounded number of events per lock.
    fn catch_up(&mut self, through: u64) -> Result<(), String> {
        while self.follow.next_seq() <= through {
            let limit = through.min(self.follow.next_seq().saturating_add(APPLY_EVENTS as u64));
            let (events, last) = self.read_events(&[limit, through])?;
            let Some(chain) = last else {
                return Err(format!("the log holds no whole batch up to durable event {through}"));
            };
            self.apply(&events, chain)?;
        }
        Ok(())
    }

    /// Decodes the whole batches the log holds up to the first of `limits` that yields
    /// any (a batch larger than a bound is taken whole by the next): their events and the
    /// chain value after them (`None`: no whole batch).
    pub(crate) fn read_events(&mut self, limits: &[u64]) -> Result<(Vec<Event>, Option<Chain>), String> {
        let mut events: Vec<Event> = Vec::new();
        let mut last = None;
        for &through in limits {
            self.follow.read(through, |records, c| {
                for (_, payload) in records {
                    events.push(codec::decode(payload, &self.format1)?);
                }
                last = Some(c);
                Ok(())
            })?;
            if !events.is_empty() {
                break;
            }
        }
        Ok((events, last))
    }

    /// Applies `events` to the view under one write lock; the view is then at the log's
    /// next seq less one, with chain value `chain`.
    pub(crate) fn apply(&mut self, events: &[Event], chain: Chain) -> Result<(), String> {
        let view = self.shared.view.as_ref().expect("a follower has a view");
        let mut engine = view.write().expect("view lock");
        for ev in events {
            engine.apply(ev).map_err(|e| e.to_string())?;
        }
        drop(engine);
        self.chain = chain;
        self.shared.applied.set(self.follow.next_seq() - 1);
        Ok(())
    }

    fn snapshot_if_due(&mut self, last: bool) -> Result<(), String> {
        let applied = self.shared.applied.get();
        let chain = self.chain;
        let due = if last {
            applied > self.last_snapshot_seq
        } else {
            self.snapshot_every > 0 && applied - self.last_snapshot_seq >= self.snapshot_every
        };
        let Some(store) = self.snapshots.clone() else { return Ok(()) };
        if !due {
            return Ok(());
        }
        let view = self.shared.view.as_ref().expect("a follower has a view");
        let engine = view.read().expect("view lock");
        let t0 = std::time::Instant::now();
        let saved = store.save(engine.state(), &chain).map_err(|e| e.to_string());
        drop(engine);
        metrics::histogram!("dacu_snapshot_seconds").record(t0.elapsed().as_secs_f64());
        // A failed periodic snapshot is retried after the next interval; the log is intact.
        self.last_snapshot_seq = applied;
        if let (Err(e), false) = (&saved, last) {
            eprintln!("dacu: snapshot failed (the log is intact): {e}");
        }
        saved
    }
}
