//! The writer: the one thread that owns the engine. It takes requests from a bounded
//! queue, executes their commands in arrival order, and hands commit batches to the
//! committer: a batch is ready at `batch_commands` commands or `batch_wait` after its
//! first one, and is handed over as soon as the committer is free — while it is busy
//! with an fsync, the batch goes on growing (group commit). Replies travel with the
//! batch and are sent once it is durable.

use crate::config::{NodeConfig, Time};
use crate::request::{Outcome, Reply, ReplyFn, Request};
use crate::shared::Shared;
use crossbeam_channel::{Receiver, Select, Sender};
use dacu_core::{command, Code, Command, Engine, Event, Rejection, Ts};
use dacu_log::{Batcher, SealedBatch, SnapshotStore};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the committer makes durable and whom it then answers.
pub(crate) struct Work {
    pub batch: Option<SealedBatch>,
    pub replies: Vec<(ReplyFn, Vec<Outcome>)>,
}

impl Work {
    /// Answers every request of the batch (on the committer, once it is durable).
    pub fn answer(self, durable_seq: u64, failed: Option<&str>) {
        for (reply, mut outcomes) in self.replies {
            if let Some(why) = failed {
                for o in outcomes.iter_mut().filter(|o| o.is_accepted()) {
                    *o = Outcome::Rejected(unavailable(why));
                }
            }
            reply(Reply { outcomes, durable_seq });
        }
    }
}

pub(crate) fn unavailable(why: &str) -> Rejection {
    Rejection::new(
        Code::Unavailable,
        format!("the node failed to write its log ({why}) and accepts nothing until it is restarted; this command was not kept"),
    )
}

/// The batch being built.
#[derive(Default)]
struct Open {
    replies: Vec<(ReplyFn, Vec<Outcome>)>,
    commands: usize,
    since: Option<Instant>,
}

pub(crate) struct Writer {
    pub engine: Engine,
    pub batcher: Batcher,
    pub cfg: NodeConfig,
    pub shared: Arc<Shared>,
    /// Without a read view, the writer takes the periodic snapshots.
    pub snapshots: Option<Arc<dyn SnapshotStore>>,
    pub last_snapshot_seq: u64,
    events: Vec<Event>,
    /// The latest time recorded: stamps never go before it.
    last_at: Option<Ts>,
    /// The time of the last tick the writer issued.
    last_tick: Option<Ts>,
}

impl Writer {
    pub fn new(engine: Engine, batcher: Batcher, cfg: NodeConfig, shared: Arc<Shared>) -> Writer {
        let last_at = engine.state().contests.now;
        Writer {
            engine,
            batcher,
            cfg,
            shared,
            snapshots: None,
            last_snapshot_seq: 0,
            events: Vec::new(),
            last_at,
            last_tick: last_at,
        }
    }

    /// Runs until the queue is closed and drained; returns the engine, the batcher and
    /// the seq of the last snapshot it took.
    pub fn run(mut self, rx: Receiver<Request>, work_tx: Sender<Work>) -> (Engine, Batcher, u64) {
        let mut open = Open::default();
        loop {
            let ready = self.is_ready(&open);
            let mut sel = Select::new();
            let recv = sel.recv(&rx);
            let send = ready.then(|| sel.send(&work_tx));
            let op = match self.deadline(&open, ready) {
                Some(d) => sel.select_deadline(d),
                None => Ok(sel.select()),
            };
            let Ok(op) = op else {
                self.tick_if_due(&mut open);
                continue;
            };
            if Some(op.index()) == send {
                let work = self.seal(&mut open);
                if op.send(&work_tx, work).is_err() {
                    break;
                }
                self.snapshot_if_due(&work_tx);
                continue;
            }
            debug_assert_eq!(op.index(), recv);
            let Ok(req) = op.recv(&rx) else { break };
            self.take(req, &mut open);
            if open.commands >= self.cfg.batch_commands {
                // Full: wait for the committer rather than grow without bound.
                if work_tx.send(self.seal(&mut open)).is_err() {
                    break;
                }
                self.snapshot_if_due(&work_tx);
            }
        }
        if !open.replies.is_empty() || self.batcher.pending() > 0 {
            let _ = work_tx.send(self.seal(&mut open));
        }
        (self.engine, self.batcher, self.last_snapshot_seq)
    }

    fn is_ready(&self, open: &Open) -> bool {
        let pending = !open.replies.is_empty() || self.batcher.pending() > 0;
        pending
            && (open.commands >= self.cfg.batch_commands
                || open.since.is_none_or(|t| t.elapsed() >= self.cfg.batch_wait))
    }

    /// When to look again without a request: the open batch's deadline, the next timer.
    fn deadline(&self, open: &Open, ready: bool) -> Option<Instant> {
        let batch = (!ready).then_some(open.since).flatten().map(|t| t + self.cfg.batch_wait);
        let timer = match &self.cfg.time {
            Time::Clock(clock) => self
                .engine
                .state()
                .market
                .next_due_after(self.last_tick)
                .map(|due| Instant::now() + clock.until(due).min(Duration::from_secs(1))),
            Time::Recorded => None,
        };
        match (batch, timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn take(&mut self, req: Request, open: &mut Open) {
        let mut outcomes = Vec::with_capacity(req.commands.len());
        let clock = match &self.cfg.time {
            Time::Clock(c) if req.stamp.any() => Some(c.clone()),
            _ => None,
        };
        for (i, mut c) in req.commands.into_iter().enumerate() {
            if let (Some(clock), true) = (&clock, req.stamp.applies(i)) {
                let now = self.stamp(clock.now());
                if let Some(at) = c.at_mut() {
                    *at = now;
                }
            }
            outcomes.push(self.execute(&c, req.want_events));
        }
        open.commands += outcomes.len();
        open.since.get_or_insert_with(Instant::now);
        open.replies.push((req.reply, outcomes));
    }

    /// The time to stamp: the clock's, but never before the latest recorded one.
    fn stamp(&self, now: Ts) -> Ts {
        self.last_at.map_or(now, |t| t.max(now))
    }

    fn execute(&mut self, c: &Command, want_events: bool) -> Outcome {
        #[cfg(feature = "failpoints")]
        fail::fail_point!("node::writer::execute");
        if let Some(why) = self.shared.poisoned() {
            return Outcome::Rejected(unavailable(&why));
        }
        let first_seq = self.batcher.next_seq();
        match dacu_log::execute(&mut self.engine, &mut self.batcher, c, &mut self.events) {
            Ok(()) => {
                if let Some(at) = c.at() {
                    self.last_at = Some(self.last_at.map_or(at, |t| t.max(at)));
                }
                let events = if want_events { std::mem::take(&mut self.events) } else { Vec::new() };
                Outcome::Accepted { first_seq, last_seq: self.batcher.next_seq() - 1, events }
            }
            Err(r) => Outcome::Rejected(r),
        }
    }

    /// Issues a `tick` when a timer is due by the clock.
    fn tick_if_due(&mut self, open: &mut Open) {
        let Time::Clock(clock) = &self.cfg.time else { return };
        let now = self.stamp(clock.now());
        let due = self.engine.state().market.next_due_after(self.last_tick);
        if due.is_none_or(|d| d > now) || self.shared.poisoned().is_some() {
            return;
        }
        let tick = Command::Tick(command::Tick { id: format!("tick-{}", self.batcher.next_seq()), at: now });
        let outcome = self.execute(&tick, false);
        self.last_tick = Some(now);
        if outcome.is_accepted() {
            open.since.get_or_insert_with(Instant::now);
        }
    }

    fn seal(&mut self, open: &mut Open) -> Work {
        let open = std::mem::take(open);
        Work { batch: self.batcher.seal(), replies: open.replies }
    }

    /// Without a read view, the writer snapshots its own state once everything it
    /// handed over is durable (commits wait meanwhile).
    fn snapshot_if_due(&mut self, _work_tx: &Sender<Work>) {
        let Some(store) = &self.snapshots else { return };
        let seq = self.batcher.next_seq() - 1;
        if self.cfg.snapshot_every == 0 || seq - self.last_snapshot_seq < self.cfg.snapshot_every {
            return;
        }
        let durable = self.shared.durable.wait_for(seq, None, || self.shared.poisoned().is_some());
        if durable < seq {
            return;
        }
        match store.save(self.engine.state(), &self.batcher.chain()) {
            Ok(()) => self.last_snapshot_seq = seq,
            Err(e) => {
                // The log is intact; retried after the next interval.
                eprintln!("dacu: snapshot failed (the log is intact): {e}");
                self.last_snapshot_seq = seq;
            }
        }
    }
}
