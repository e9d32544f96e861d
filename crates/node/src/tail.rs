//! The read view of a stream node that does not lead: it reads the stream to its end as
//! the leader appends, and, when the node takes the lease over, makes the node the
//! stream's writer from where it stands (docs/scale-out.md, "Failover").
//!
//! A takeover publishes a marker at the end of the stream, fenced on the last message
//! the view read. Once it is stored, the view's state holds every batch the stream
//! holds, and the old leader's next publish — fenced on a position before the marker —
//! is refused. When the stream grew in between, the view reads on and tries again.

use crate::backend::Source;
use crate::follower::{Follower, APPLY_EVENTS};
use dacu_core::Engine;
use dacu_jetstream::JetStreamLog;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// How long a follower at the end of the stream waits before looking again.
const POLL: Duration = Duration::from_millis(5);
/// How often a follower behind the end asks where the end is (for its lag).
const LAG_EVERY: Duration = Duration::from_millis(250);
/// Markers tried before a takeover gives up (each try follows the stream's growth).
const CLAIM_ATTEMPTS: u32 = 1000;

/// A takeover asked of the read view: the marker's payload, and where the writer's
/// parts go.
pub(crate) struct Promote {
    pub holder: String,
    pub reply: crossbeam_channel::Sender<Result<Promoted, String>>,
}

/// What a writer starts from after a takeover.
pub(crate) struct Promoted {
    pub engine: Engine,
    pub log: JetStreamLog,
    /// The marker's stream sequence.
    pub marker_seq: u64,
}

impl Follower {
    /// Follows the stream until the node stops (`Ok(true)`) or leads (`Ok(false)`).
    pub(crate) fn tail(&mut self) -> Result<bool, String> {
        let mut lag_at: Option<Instant> = None;
        loop {
            if self.shared.stopping() {
                return Ok(true);
            }
            let asked = self.shared.promote.lock().expect("promote lock").take();
            if let Some(p) = asked {
                let r = self.promote(&p.holder);
                let led = r.is_ok();
                // The view follows the writer's durable position from here on.
                self.shared.leading.store(led, Ordering::SeqCst);
                let _ = p.reply.send(r);
                if led {
                    return Ok(false);
                }
            }
            let read = self.read_available()?;
            if read == 0 {
                self.shared.lag_events.store(0, Ordering::Relaxed);
                std::thread::sleep(POLL);
            } else if lag_at.is_none_or(|t| t.elapsed() >= LAG_EVERY) {
                lag_at = Some(Instant::now());
                self.measure_lag();
            }
        }
    }

    fn measure_lag(&self) {
        let Source::Stream(f) = &self.follow else { return };
        if let Ok(last) = f.last_event() {
            let lag = last.saturating_sub(self.shared.applied.get());
            self.shared.lag_events.store(lag, Ordering::Relaxed);
        }
    }

    /// Applies the whole batches the stream holds now, a bounded number of events per
    /// lock; the events applied.
    fn read_available(&mut self) -> Result<u64, String> {
        let mut total = 0;
        loop {
            let limit = self.follow.next_seq().saturating_add(APPLY_EVENTS as u64);
            let (events, last) = self.read_events(&[limit, u64::MAX])?;
            let Some(chain) = last else { return Ok(total) };
            self.apply(&events, chain)?;
            // A follower's durable position is what it has read of the stream.
            self.shared.durable.set(self.shared.applied.get());
            total += events.len() as u64;
        }
    }

    /// Reads to the end of the stream and claims it with a marker; then the writer's
    /// engine (a copy of the view's) and its log, fenced on the marker.
    fn promote(&mut self, holder: &str) -> Result<Promoted, String> {
        let Source::Stream(_) = &self.follow else {
            return Err("a node whose log is its data directory always leads".into());
        };
        let mut marker = None;
        for _ in 0..CLAIM_ATTEMPTS {
            self.read_available()?;
            let Source::Stream(f) = &mut self.follow else { unreachable!("checked above") };
            if let Some(seq) = f.claim_end(holder).map_err(|e| e.to_string())? {
                marker = Some(seq);
                break;
            }
        }
        let marker_seq = marker.ok_or("the stream kept growing: another writer is still appending")?;
        let Source::Stream(f) = &self.follow else { unreachable!("checked above") };
        let applied = self.shared.applied.get();
        let log =
            JetStreamLog::resume(f.url(), f.opts(), marker_seq, applied, self.chain).map_err(|e| e.to_string())?;
        let view = self.shared.view.as_ref().expect("a follower has a view");
        let v = view.read().expect("view lock");
        let engine = Engine::with_state(v.festival_arc(), v.state().clone()).map_err(|e| e.to_string())?;
        drop(v);
        self.shared.lag_events.store(0, Ordering::Relaxed);
        Ok(Promoted { engine, log, marker_seq })
    }
}
