//! The writer: the one thread that owns the engine. It takes requests from a bounded
//! queue, executes their commands in arrival order, and hands commit batches to the
//! committer: a batch is ready at `batch_commands` commands or `batch_wait` after its
//! first one, and is handed over as soon as the committer is free — while it is busy
//! with an fsync, the batch goes on growing (group commit). Replies travel with the
//! batch and are sent once it is durable.

use crate::config::{NodeConfig, Time};
use crate::handoff::Handoff;
use crate::request::{KeyStatus, Keyed, Outcome, Reply, ReplyFn, Request};
use crate::shared::Shared;
use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};
use dacu_core::idempotency::KeyOutcome;
use dacu_core::{command, Code, Command, Engine, Event, Rejection, Ts};
use dacu_log::{Batcher, SealedBatch, SnapshotStore};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest the writer sleeps with a batch open before looking at the queue again.
const MAX_SLEEP: Duration = Duration::from_millis(1);

/// What the committer makes durable and whom it then answers.
pub(crate) struct Work {
    pub batch: Option<SealedBatch>,
    pub replies: Vec<Pending>,
}

/// A request's answer, sent once the batch is durable.
pub(crate) struct Pending {
    reply: ReplyFn,
    outcomes: Vec<Outcome>,
    key: KeyStatus,
}

impl Work {
    /// Answers every request of the batch (on the committer, once it is durable).
    pub fn answer(self, durable_seq: u64, failed: Option<&str>) {
        for Pending { reply, mut outcomes, key } in self.replies {
            if let Some(why) = failed {
                for o in outcomes.iter_mut().filter(|o| o.is_accepted()) {
                    *o = Outcome::Rejected(unavailable(why));
                }
            }
            reply(Reply { outcomes, durable_seq, key });
        }
    }
}

/// A recorded outcome as a reply carries it.
fn replayed(o: &KeyOutcome) -> Outcome {
    match o {
        KeyOutcome::Accepted { first_seq, last_seq } => {
            Outcome::Accepted { first_seq: *first_seq, last_seq: *last_seq, events: Vec::new() }
        }
        KeyOutcome::Rejected { code, message } => {
            // A code this build no longer knows is still refused; `unavailable` is the
            // kind that says "decided elsewhere" least wrongly.
            let code = Code::from_name(code).unwrap_or(Code::Unavailable);
            Outcome::Rejected(Rejection::new(code, message.clone()))
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
    replies: Vec<Pending>,
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
    ///
    /// The writer executes what is queued, then waits: for the first request when
    /// nothing is open, for `batch_wait` after the batch's first command, and for the
    /// committer when it is still busy. It listens to the queue only while nothing is
    /// open, so under load it wakes once per batch, not once per request; requests that
    /// arrive meanwhile wait in the queue and join the batch in one drain.
    pub fn run(mut self, rx: Receiver<Request>, handoff: &Handoff) -> (Engine, Batcher, u64) {
        let mut open = Open::default();
        let mut closed = false;
        loop {
            closed |= self.drain(&rx, &mut open);
            self.tick_if_due(&mut open);
            if open.replies.is_empty() && self.batcher.pending() == 0 {
                if closed {
                    break;
                }
                match self.wait_first(&rx) {
                    Ok(Some(req)) => self.take(req, &mut open),
                    Ok(None) => {}
                    Err(()) => closed = true,
                }
                continue;
            }
            if open.commands < self.cfg.batch_commands && !closed {
                let ready_at = open.since.map(|t| t + self.cfg.batch_wait);
                if let Some(wait) = ready_at.and_then(|t| t.checked_duration_since(Instant::now())) {
                    if !wait.is_zero() {
                        // Asleep, the writer does not see the queue: a long `batch_wait`
                        // is slept in slices, so a batch that fills meanwhile goes soon.
                        if rx.is_empty() {
                            std::thread::sleep(wait.min(MAX_SLEEP));
                        }
                        continue;
                    }
                }
                if !handoff.is_free() {
                    // Drain again afterwards: what came meanwhile joins this batch.
                    handoff.wait_free();
                    continue;
                }
            }
            handoff.give(self.seal(&mut open));
            self.snapshot_if_due();
        }
        handoff.close();
        (self.engine, self.batcher, self.last_snapshot_seq)
    }

    /// Executes the queued requests, up to a full batch; true once the queue is closed
    /// and empty.
    fn drain(&mut self, rx: &Receiver<Request>, open: &mut Open) -> bool {
        while open.commands < self.cfg.batch_commands {
            match rx.try_recv() {
                Ok(req) => self.take(req, open),
                Err(TryRecvError::Empty) => return false,
                Err(TryRecvError::Disconnected) => return true,
            }
        }
        false
    }

    /// Waits for a request with nothing open: `Ok(None)` when a timer is due first,
    /// `Err` when the queue is closed.
    fn wait_first(&self, rx: &Receiver<Request>) -> Result<Option<Request>, ()> {
        let timer = match &self.cfg.time {
            Time::Clock(clock) => self
                .engine
                .state()
                .market
                .next_due_after(self.last_tick)
                .map(|due| Instant::now() + clock.until(due).min(Duration::from_secs(1))),
            Time::Recorded => None,
        };
        match timer {
            Some(d) => match rx.recv_deadline(d) {
                Ok(req) => Ok(Some(req)),
                Err(RecvTimeoutError::Timeout) => Ok(None),
                Err(RecvTimeoutError::Disconnected) => Err(()),
            },
            None => rx.recv().map(Some).map_err(|_| ()),
        }
    }

    fn take(&mut self, req: Request, open: &mut Open) {
        let (outcomes, key) = match &req.key {
            Some(k) => match self.recorded(k, req.commands.len()) {
                Some(answer) => answer,
                None => {
                    let k = k.clone();
                    let outcomes = self.run_commands(req.commands, &req.stamp, req.want_events);
                    self.record_key(&k, &outcomes);
                    (outcomes, KeyStatus::Fresh)
                }
            },
            None => (self.run_commands(req.commands, &req.stamp, req.want_events), KeyStatus::Fresh),
        };
        open.commands += outcomes.len();
        open.since.get_or_insert_with(Instant::now);
        open.replies.push(Pending { reply: req.reply, outcomes, key });
    }

    /// The node's time for idempotency keys: the clock's (never before the latest
    /// recorded time), or the latest recorded time on a node without a clock.
    fn key_time(&self) -> Ts {
        match &self.cfg.time {
            Time::Clock(c) => self.stamp(c.now()),
            Time::Recorded => self.last_at.unwrap_or(Ts(0)),
        }
    }

    /// The answer a key already recorded gives: its outcomes for the same request, a
    /// refusal for another; `None` for a key not recorded (or expired).
    fn recorded(&self, k: &Keyed, commands: usize) -> Option<(Vec<Outcome>, KeyStatus)> {
        let rec = self.engine.state().keys.get(&k.key, self.key_time())?;
        if rec.fingerprint != k.fingerprint {
            let r = Rejection::new(
                Code::IdempotencyKeyReused,
                "this idempotency key was used for a different request (another body or path) within its window; send a new key for a new request",
            );
            return Some((vec![Outcome::Rejected(r); commands.max(1)], KeyStatus::Mismatch));
        }
        let outcomes = rec.outcomes.iter().map(replayed).collect();
        Some((outcomes, KeyStatus::Replay))
    }

    /// Records what a fresh key's request came to, in the same batch as its events. A
    /// record that cannot be made (one over the event limit) leaves the key unrecorded:
    /// the commands stand, and a resend is decided afresh, as without a key.
    fn record_key(&mut self, k: &Keyed, outcomes: &[Outcome]) {
        if self.shared.poisoned().is_some() {
            return;
        }
        let at = self.key_time();
        let recorded = outcomes
            .iter()
            .map(|o| match o {
                Outcome::Accepted { first_seq, last_seq, .. } => {
                    KeyOutcome::Accepted { first_seq: *first_seq, last_seq: *last_seq }
                }
                Outcome::Rejected(r) => {
                    KeyOutcome::Rejected { code: r.code.as_str().to_string(), message: r.message.clone() }
                }
            })
            .collect();
        let expires_at = Ts(at.0.saturating_add(k.window_ms.max(1)));
        let r = dacu_log::execute_with(&mut self.engine, &mut self.batcher, &mut self.events, |e, out| {
            e.decide_key(&k.key, &k.fingerprint, recorded, expires_at, at, out)
        });
        if let Err(r) = r {
            metrics::counter!("dacu_keys_unrecorded_total").increment(1);
            eprintln!("dacu: idempotency key not recorded ({}): {}", r.code, r.message);
        }
    }

    fn run_commands(
        &mut self,
        commands: Vec<Command>,
        stamp: &crate::request::Stamp,
        want_events: bool,
    ) -> Vec<Outcome> {
        let mut outcomes = Vec::with_capacity(commands.len());
        let clock = match &self.cfg.time {
            Time::Clock(c) if stamp.any() => Some(c.clone()),
            _ => None,
        };
        for (i, mut c) in commands.into_iter().enumerate() {
            if let (Some(clock), true) = (&clock, stamp.applies(i)) {
                let now = self.stamp(clock.now());
                if let Some(at) = c.at_mut() {
                    *at = now;
                }
            }
            outcomes.push(self.execute(&c, want_events));
        }
        outcomes
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
    fn snapshot_if_due(&mut self) {
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
