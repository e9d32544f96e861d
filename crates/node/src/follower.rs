//! The read view: a second engine that applies what the log has made durable, read back
//! from the log itself. Queries run against it under a read lock, never on the writer and
//! never on state that is not durable. It also takes the snapshots, so a snapshot costs
//! the writer nothing.

use crate::backend::Source;
use crate::shared::Shared;
use dacu_core::Event;
use dacu_log::{codec, SnapshotStore};
use std::sync::Arc;

/// Events applied under one write lock at most, so readers wait little.
const APPLY_EVENTS: usize = 65_536;

pub(crate) struct Follower {
    pub shared: Arc<Shared>,
    pub follow: Source,
    /// None when the log is a stream: snapshots there are not written yet (docs/scale-out.md).
    pub snapshots: Option<Arc<dyn SnapshotStore>>,
    pub snapshot_every: u64,
    pub last_snapshot_seq: u64,
    /// The chain value after the last applied event.
    pub chain: dacu_log::chain::Chain,
    /// What format 1 records leave to the festival file (dacu_log::codec).
    pub format1: codec::Context,
}

impl Follower {
    /// Follows the log until the node stops and the view has caught up; then, if `final`
    /// says so, snapshots. Returns that snapshot's result and the seq of the last one.
    pub fn run(mut self) -> (Result<(), String>, u64) {
        loop {
            let applied = self.shared.applied.get();
            let durable = self
                .shared
                .durable
                .wait_for(applied + 1, None, || self.shared.stopping() || self.shared.poisoned().is_some());
            if durable <= applied {
                if self.shared.stopping() || self.shared.poisoned().is_some() {
                    break;
                }
                continue;
            }
            if let Err(e) = self.catch_up(durable) {
                *self.shared.view_failed.lock().expect("view lock") = Some(e.clone());
                self.shared.applied.nudge();
                return (Err(e), self.last_snapshot_seq);
            }
            let _ = self.snapshot_if_due(false);
        }
        let r = if self.shared.final_snapshot() { self.snapshot_if_due(true) } else { Ok(()) };
        (r, self.last_snapshot_seq)
    }

    /// Applies every durable batch up to `through`, a bounded number of events per lock.
    fn catch_up(&mut self, through: u64) -> Result<(), String> {
        while self.follow.next_seq() <= through {
            let mut events: Vec<Event> = Vec::new();
            let mut last = None;
            let mut limit = through.min(self.follow.next_seq().saturating_add(APPLY_EVENTS as u64));
            loop {
                self.follow.read(limit, |records, c| {
                    for (_, payload) in records {
                        events.push(codec::decode(payload, &self.format1)?);
                    }
                    last = Some(c);
                    Ok(())
                })?;
                // A batch larger than the chunk is taken whole.
                if !events.is_empty() || limit == through {
                    break;
                }
                limit = through;
            }
            let Some(chain) = last else {
                return Err(format!("the log holds no whole batch up to durable event {through}"));
            };
            let view = self.shared.view.as_ref().expect("a follower has a view");
            let mut engine = view.write().expect("view lock");
            for ev in &events {
                engine.apply(ev).map_err(|e| e.to_string())?;
            }
            drop(engine);
            self.chain = chain;
            self.shared.applied.set(self.follow.next_seq() - 1);
        }
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
