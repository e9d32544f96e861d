//! dacu-node: the long-running engine that the network service and a replicated log
//! stand on.
//!
//! ```text
//!  callers ──▶ bounded queue ──▶ writer ──batches──▶ committer ──▶ replies
//!                                (engine)            (EventLog:      │
//!                                                     write + fsync) └─▶ durable position
//!                                                                          │
//!  queries ──▶ read view (follower engine, applies the durable log) ◀──────┘ ──▶ snapshots
//! ```
//!
//! - [`request`]: requests, replies, outcomes and errors.
//! - [`config`]: every limit and default; where times come from.
//! - [`clock`]: the node's clock — the only place in dacu that reads the time.
//! - `writer`: the one thread that owns the engine; group commit by size or time.
//! - [`backend`]: where the log lives — the data directory's files or a JetStream stream.
//! - `committer`: durability through the [`dacu_log::EventLog`], then the replies.
//! - `handoff`: the one-slot hand-over of a batch from the writer to the committer.
//! - `follower`: the read view and the snapshots, off the writer.
//! - `stream`: what a stream node starts from ([`StreamStart`]).
//! - `tail`: a stream node's read view while another node leads, and the takeover.
//! - `shared`: positions the threads wait on.
//!
//! A caller's reply arrives only after the commit holding its command's events is
//! durable. Queries never run on the writer and never see state that is not durable; a
//! query may ask for "at least position P" to read its own write. docs/node.md describes
//! the runtime and its guarantees.

pub mod backend;
pub mod clock;
mod committer;
pub mod config;
mod follower;
mod handoff;
pub mod request;
mod shared;
mod stream;
mod tail;
mod writer;

pub use clock::{Clock, ManualClock, ScaledClock, SystemClock};
pub use config::{NodeConfig, Time};
pub use request::{KeyStatus, Keyed, Outcome, ReadError, Reply, ReplyFn, Request, Stamp, SubmitError};
pub use stream::{StreamOpened, StreamStart};

use backend::{Log, Source};
use crossbeam_channel::{Sender, TrySendError};
use dacu_core::{Command, Engine};
use dacu_log::{DataDir, FileSnapshots, SnapshotStore, StoreError};
use shared::Shared;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The exit code of a process whose writer, committer or read view panicked.
pub const FATAL_EXIT: i32 = 70;

/// How a node stopped.
#[derive(Debug)]
pub struct Shutdown {
    /// The last durable event.
    pub durable_seq: u64,
    /// The final snapshot: `Err` says why it failed (everything committed is safe).
    pub snapshot: Result<(), String>,
}

type WriterThread = JoinHandle<(Engine, dacu_log::Batcher, u64)>;

/// A running node over one data directory, holding its exclusive lock.
pub struct Node {
    /// The writer's queue: none while the node follows a stream another node writes.
    tx: RwLock<Option<Sender<Request>>>,
    shared: Arc<Shared>,
    writer: Mutex<Option<WriterThread>>,
    committer: Mutex<Option<JoinHandle<Log>>>,
    follower: Option<JoinHandle<(Result<(), String>, u64)>>,
    snapshots: Option<Arc<FileSnapshots>>,
    cfg: NodeConfig,
    /// What the directory is put back together with ([`Node::into_dir`]).
    path: std::path::PathBuf,
    opts: dacu_log::Options,
    lock: Option<std::fs::File>,
    /// The log is a stream (the node may follow, lead, step down and take over).
    stream: bool,
    /// Set when the node begins to stop: submissions are then refused as stopped.
    closing: std::sync::atomic::AtomicBool,
}

/// What a node starts from, whatever its log.
struct Start {
    engine: Engine,
    batcher: dacu_log::Batcher,
    log: Log,
    follow: Option<Source>,
    /// Where snapshots go (none for a stream node without a snapshot bucket).
    store: Option<Arc<dyn SnapshotStore>>,
    /// The data directory's snapshots (a file log's node), handed back by `into_dir`.
    snapshots: Option<Arc<FileSnapshots>>,
    last_snapshot_seq: u64,
    path: std::path::PathBuf,
    opts: dacu_log::Options,
    lock: std::fs::File,
}

impl Node {
    /// Starts the node's threads over a data directory opened for writing.
    pub fn start(dir: DataDir, cfg: NodeConfig) -> Result<Node, StoreError> {
        let parts = dir.into_parts();
        let durable = dacu_log::EventLog::durable_seq(&parts.log);
        let follow = match cfg.read_view {
            true => Some(Source::File(dacu_log::follow::Follow::from_end(&parts.path, durable, parts.log.chain())?)),
            false => None,
        };
        Node::start_with(
            Start {
                engine: parts.engine,
                batcher: parts.batcher,
                log: Log::File(parts.log),
                follow,
                store: None,
                snapshots: Some(Arc::new(parts.snapshots)),
                last_snapshot_seq: parts.last_snapshot_seq,
                path: parts.path,
                opts: parts.opts,
                lock: parts.lock,
            },
            cfg,
        )
    }

    /// Starts the node's threads over a JetStream stream (docs/scale-out.md). The read
    /// view is always on: it reads the stream back, and takes the snapshots into the
    /// stream's bucket.
    pub fn start_stream(s: StreamStart, mut cfg: NodeConfig) -> Result<Node, StoreError> {
        cfg.read_view = true;
        let batcher = dacu_log::Batcher::new(
            dacu_log::EventLog::durable_seq(&s.log) + 1,
            s.log.chain(),
            dacu_log::segment::MAX_RECORD_BYTES as usize,
        );
        Node::start_with(
            Start {
                engine: s.engine,
                batcher,
                log: Log::Stream(Box::new(s.log)),
                follow: Some(Source::Stream(Box::new(s.follow))),
                store: s.snapshots,
                snapshots: None,
                last_snapshot_seq: s.last_snapshot_seq,
                path: s.path,
                opts: dacu_log::Options::default(),
                lock: s.lock,
            },
            cfg,
        )
    }

    /// Starts a node over a JetStream stream that it only follows: its read view reads
    /// the stream to its end as another node writes it, it answers reads, and
    /// [`Node::take_over`] makes it the writer. `s.engine` becomes the read view.
    pub fn follow_stream(s: StreamStart, mut cfg: NodeConfig) -> Result<Node, StoreError> {
        cfg.read_view = true;
        let durable = dacu_log::EventLog::durable_seq(&s.log);
        let chain = s.log.chain();
        drop(s.log);
        let format1 = s.engine.festival().format1_context();
        let shared = Arc::new(Shared::new(durable, Some(RwLock::new(s.engine)), false));
        let f = follower::Follower {
            shared: shared.clone(),
            follow: Source::Stream(Box::new(s.follow)),
            snapshots: s.snapshots,
            snapshot_every: cfg.snapshot_every,
            last_snapshot_seq: s.last_snapshot_seq,
            chain,
            format1,
        };
        let follower = spawn("view")
            .spawn(move || shared::fatal_on_panic("read view", move || f.run()))
            .map_err(|e| io("the read-view thread", e))?;
        Ok(Node {
            tx: RwLock::new(None),
            shared,
            writer: Mutex::new(None),
            committer: Mutex::new(None),
            follower: Some(follower),
            snapshots: None,
            cfg,
            path: s.path,
            opts: dacu_log::Options::default(),
            lock: Some(s.lock),
            stream: true,
            closing: false.into(),
        })
    }

    fn start_with(parts: Start, cfg: NodeConfig) -> Result<Node, StoreError> {
        let stream = matches!(parts.log, Log::Stream(_));
        let durable = dacu_log::EventLog::durable_seq(&parts.log);
        let chain0 = parts.log.chain();
        let view = cfg.read_view.then(|| {
            let e = &parts.engine;
            RwLock::new(Engine::with_state(e.festival_arc(), e.state().clone()).expect("the engine's own state"))
        });
        let follow = parts.follow;
        // The view decodes the log as it grows; format 1 records need the festival's values.
        let format1 = parts.engine.festival().format1_context();
        let shared = Arc::new(Shared::new(durable, view, true));
        let snapshots = parts.snapshots;
        let store: Option<Arc<dyn SnapshotStore>> =
            parts.store.or_else(|| snapshots.clone().map(|s| s as Arc<dyn SnapshotStore>));
        let writer_store = (!cfg.read_view).then(|| store.clone()).flatten();
        let w = Writing { engine: parts.engine, batcher: parts.batcher, log: parts.log, snapshots: writer_store };
        let (tx, writer, committer) = spawn_writer(w, parts.last_snapshot_seq, &cfg, &shared)?;
        let follower = match follow {
            Some(follow) => {
                let f = follower::Follower {
                    shared: shared.clone(),
                    follow,
                    snapshots: store.clone(),
                    snapshot_every: cfg.snapshot_every,
                    last_snapshot_seq: parts.last_snapshot_seq,
                    chain: chain0,
                    format1,
                };
                Some(
                    spawn("view")
                        .spawn(move || shared::fatal_on_panic("read view", move || f.run()))
                        .map_err(|e| io("the read-view thread", e))?,
                )
            }
            None => None,
        };
        Ok(Node {
            tx: RwLock::new(Some(tx)),
            shared,
            writer: Mutex::new(Some(writer)),
            committer: Mutex::new(Some(committer)),
            follower,
            snapshots,
            cfg,
            path: parts.path,
            opts: parts.opts,
            lock: Some(parts.lock),
            stream,
            closing: false.into(),
        })
    }
}

/// What a writer starts from.
struct Writing {
    engine: Engine,
    batcher: dacu_log::Batcher,
    log: Log,
    /// Where the writer snapshots (a node without a read view); none: the view does.
    snapshots: Option<Arc<dyn SnapshotStore>>,
}

fn spawn(name: &str) -> std::thread::Builder {
    std::thread::Builder::new().name(format!("dacu-{name}"))
}

/// Starts the writer and the committer; the writer's queue.
fn spawn_writer(
    w: Writing,
    last_snapshot_seq: u64,
    cfg: &NodeConfig,
    shared: &Arc<Shared>,
) -> Result<(Sender<Request>, WriterThread, JoinHandle<Log>), StoreError> {
    let (tx, rx) = crossbeam_channel::bounded(cfg.queue_requests);
    // One slot: the writer hands a batch over only when the committer is free.
    let handoff = Arc::new(handoff::Handoff::default());
    let writer_handoff = handoff.clone();
    let mut writer = writer::Writer::new(w.engine, w.batcher, cfg.clone(), shared.clone());
    writer.last_snapshot_seq = last_snapshot_seq;
    writer.snapshots = w.snapshots;
    let writer = spawn("writer")
        .spawn(move || shared::fatal_on_panic("writer", move || writer.run(rx, &writer_handoff)))
        .map_err(|e| io("the writer thread", e))?;
    let (log, sh) = (w.log, shared.clone());
    let committer = spawn("commit")
        .spawn(move || shared::fatal_on_panic("commit", move || committer::run(log, &handoff, sh)))
        .map_err(|e| io("the commit thread", e))?;
    Ok((tx, writer, committer))
}

/// A node that leads writes; one that follows reads the stream another node writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Leader,
    Follower,
}

impl Node {
    /// Whether this node writes its log: its view follows a writer's position and the
    /// writer takes requests (during a takeover the first holds a moment before the second).
    pub fn role(&self) -> Role {
        if self.shared.leading() && self.tx.read().expect("queue lock").is_some() {
            Role::Leader
        } else {
            Role::Follower
        }
    }

    /// A follower's distance from the end of its stream, in events (0 for a leader, and
    /// for a follower at the end).
    pub fn lag_events(&self) -> u64 {
        if self.shared.leading() {
            0
        } else {
            self.shared.lag_events.load(Ordering::Relaxed)
        }
    }

    /// Makes a stream node that follows the stream its writer (docs/scale-out.md,
    /// "Failover"): the read view reads to the end of the stream and publishes a marker
    /// there with `holder` (fencing any writer before it), the writer starts from a copy
    /// of the view's state. Returns the marker's stream sequence (0 when the node already
    /// led). A writer that failed before is let go first.
    pub fn take_over(&self, holder: &str) -> Result<u64, String> {
        if self.shared.leading() {
            return Ok(0);
        }
        self.retire_writer();
        let (reply, rx) = crossbeam_channel::bounded(1);
        *self.shared.promote.lock().expect("promote lock") = Some(tail::Promote { holder: holder.to_string(), reply });
        let p = loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(r) => break r?,
                Err(_) => {
                    if let Some(why) = self.shared.view_failed.lock().expect("view lock").clone() {
                        return Err(format!("the read view stopped: {why}"));
                    }
                    if self.shared.stopping() {
                        return Err("the node is stopping".into());
                    }
                }
            }
        };
        let batcher = dacu_log::Batcher::new(
            dacu_log::EventLog::durable_seq(&p.log) + 1,
            p.log.chain(),
            dacu_log::segment::MAX_RECORD_BYTES as usize,
        );
        let w = Writing { engine: p.engine, batcher, log: Log::Stream(Box::new(p.log)), snapshots: None };
        let last_snapshot_seq = 0;
        let (tx, writer, committer) =
            spawn_writer(w, last_snapshot_seq, &self.cfg, &self.shared).map_err(|e| e.to_string())?;
        *self.writer.lock().expect("writer handle") = Some(writer);
        *self.committer.lock().expect("committer handle") = Some(committer);
        *self.tx.write().expect("queue lock") = Some(tx);
        self.shared.leading.store(true, Ordering::SeqCst);
        Ok(p.marker_seq)
    }

    /// Stops writing (another node holds the lease): queued requests are refused, and the
    /// read view goes on reading the stream as a follower's.
    pub fn step_down(&self, why: &str) {
        if self.shared.leading() && self.stream {
            self.shared.poison(format!("no longer the leader: {why}"));
        }
    }

    /// Closes the queue of a writer that failed, waits for its threads, and clears the
    /// failure: the node may lead again.
    fn retire_writer(&self) {
        drop(self.tx.write().expect("queue lock").take());
        let joined = "a node thread exits or ends the process";
        if let Some(w) = self.writer.lock().expect("writer handle").take() {
            drop(w.join().expect(joined));
        }
        if let Some(c) = self.committer.lock().expect("committer handle").take() {
            drop(c.join().expect(joined));
        }
        *self.shared.poisoned.lock().expect("poison lock") = None;
    }
}

impl Node {
    /// Queues a request without waiting; a full queue is [`SubmitError::Full`].
    pub fn try_submit(&self, req: Request) -> Result<(), (SubmitError, Request)> {
        let tx = self.tx.read().expect("queue lock");
        let tx = match self.check(&req, tx.as_ref()) {
            Ok(tx) => tx,
            Err(e) => return Err((e, req)),
        };
        let req = match tx.try_send(req) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Full(r)) => return Err((SubmitError::Full { capacity: self.cfg.queue_requests }, r)),
            Err(TrySendError::Disconnected(r)) => r,
        };
        Err((SubmitError::Stopped, req))
    }

    /// Queues a request, waiting for room in the queue.
    pub fn submit(&self, req: Request) -> Result<(), (SubmitError, Request)> {
        let tx = self.tx.read().expect("queue lock");
        match self.check(&req, tx.as_ref()) {
            Ok(tx) => tx.send(req).map_err(|e| (SubmitError::Stopped, e.0)),
            Err(e) => Err((e, req)),
        }
    }

    fn check<'a>(&self, req: &Request, tx: Option<&'a Sender<Request>>) -> Result<&'a Sender<Request>, SubmitError> {
        let tx = match tx {
            _ if self.closing.load(Ordering::SeqCst) => return Err(SubmitError::Stopped),
            Some(tx) if self.shared.leading() => tx,
            _ => return Err(SubmitError::NotLeader),
        };
        if req.commands.len() > self.cfg.max_request_commands {
            return Err(SubmitError::TooLarge { commands: req.commands.len(), limit: self.cfg.max_request_commands });
        }
        if req.stamp.any() && matches!(self.cfg.time, Time::Recorded) {
            return Err(SubmitError::NoClock);
        }
        Ok(tx)
    }

    /// Executes one command and waits until it is durable (or rejected).
    pub fn execute(&self, c: Command) -> Result<Outcome, SubmitError> {
        self.run(c, false)
    }

    /// As [`Node::execute`], the command's `at` stamped by the node's clock.
    pub fn execute_stamped(&self, c: Command) -> Result<Outcome, SubmitError> {
        self.run(c, true)
    }

    fn run(&self, c: Command, stamp: bool) -> Result<Outcome, SubmitError> {
        let (mut req, rx) = Request::with_channel(vec![c]);
        req.stamp = if stamp { Stamp::All } else { Stamp::None };
        req.want_events = true;
        self.submit(req).map_err(|(e, _)| e)?;
        let reply = rx.recv().map_err(|_| SubmitError::Stopped)?;
        Ok(reply.outcomes.into_iter().next().expect("one outcome per command"))
    }

    /// Runs `f` on the read view once it holds at least the events up to `at_least`,
    /// waiting at most `wait` for it to get there.
    pub fn read<T>(&self, at_least: u64, wait: Duration, f: impl FnOnce(&Engine) -> T) -> Result<T, ReadError> {
        let view = self.shared.view.as_ref().ok_or(ReadError::NoView)?;
        let failed = || self.shared.view_failed.lock().expect("view lock").clone();
        let applied = self.shared.applied.wait_for(at_least, Some(Instant::now() + wait), || failed().is_some());
        if let Some(why) = failed() {
            return Err(ReadError::Failed(why));
        }
        if applied < at_least {
            return Err(ReadError::NotYet { applied, wanted: at_least });
        }
        let engine = view.read().expect("view lock");
        Ok(f(&engine))
    }

    /// The read view now, if it already holds `at_least`, has not failed, and is not being
    /// written: for a read of microseconds, which [`Node::read`]'s waiting would cost more
    /// than. `None` otherwise; [`Node::read`] then waits, or says why not.
    pub fn try_view(&self, at_least: u64) -> Option<std::sync::RwLockReadGuard<'_, Engine>> {
        let view = self.shared.view.as_ref()?;
        if self.shared.view_failed.lock().expect("view lock").is_some() || self.shared.applied.get() < at_least {
            return None;
        }
        view.try_read().ok()
    }

    /// The last durable event.
    pub fn durable_seq(&self) -> u64 {
        self.shared.durable.get()
    }

    /// The last event the read view holds.
    pub fn applied_seq(&self) -> u64 {
        self.shared.applied.get()
    }

    /// Requests waiting in the queue.
    pub fn queued(&self) -> usize {
        self.tx.read().expect("queue lock").as_ref().map_or(0, |t| t.len())
    }

    /// Why the node accepts nothing more (a failed write), if it does not. A stream node
    /// whose writer failed follows the stream instead: it is not failed.
    pub fn poisoned(&self) -> Option<String> {
        match self.stream && !self.shared.leading() {
            true => None,
            false => self.shared.poisoned(),
        }
    }

    /// Stops taking requests, answers those queued, makes the last batch durable, lets the
    /// read view catch up, writes the final snapshot and releases the directory.
    pub fn shutdown(mut self) -> Result<Shutdown, StoreError> {
        let (stopped, _) = self.stop(true)?;
        Ok(Shutdown { durable_seq: stopped.durable_seq, snapshot: stopped.snapshot })
    }

    /// Stops as [`Node::shutdown`] does, without the final snapshot, and hands the data
    /// directory back to be driven from this thread (it snapshots when it is closed).
    pub fn into_dir(mut self) -> Result<DataDir, StoreError> {
        let (stopped, log) = self.stop(false)?;
        let (Some(Log::File(log)), Some((engine, batcher))) = (log, stopped.wrote) else {
            return Err(StoreError::Poisoned("a node whose log is a stream has no data directory to hand back".into()));
        };
        let snapshots = Arc::try_unwrap(self.snapshots.take().expect("a file log's node has snapshots"))
            .ok()
            .expect("threads joined");
        Ok(DataDir::from_parts(dacu_log::Parts {
            path: std::mem::take(&mut self.path),
            lock: self.lock.take().expect("running"),
            engine,
            batcher,
            log,
            snapshots,
            opts: self.opts.clone(),
            last_snapshot_seq: stopped.last_snapshot_seq,
        }))
    }

    fn stop(&mut self, final_snapshot: bool) -> Result<(Stopped, Option<Log>), StoreError> {
        self.closing.store(true, Ordering::SeqCst);
        drop(self.tx.get_mut().expect("queue lock").take());
        let joined = "a node thread exits or ends the process";
        let wrote = self.writer.get_mut().expect("writer handle").take().map(|w| w.join().expect(joined));
        let log = self.committer.get_mut().expect("committer handle").take().map(|c| c.join().expect(joined));
        self.shared.final_snapshot.store(final_snapshot, Ordering::SeqCst);
        self.shared.stopping.store(true, Ordering::SeqCst);
        self.shared.durable.nudge();
        let durable_seq = log.as_ref().map_or(self.shared.durable.get(), dacu_log::EventLog::durable_seq);
        let writer_snap = wrote.as_ref().map_or(0, |w| w.2);
        let (snapshot, last_snapshot_seq) = match (self.follower.take(), &wrote, &log) {
            (Some(h), _, _) => h.join().expect(joined),
            (None, Some((engine, _, _)), Some(log))
                if final_snapshot && engine.state().events > writer_snap && engine.state().events == durable_seq =>
            {
                match self.snapshots.as_ref().map(|s| s.save(engine.state(), &log.chain())) {
                    Some(Ok(())) => (Ok(()), durable_seq),
                    Some(Err(e)) => (Err(e.to_string()), writer_snap),
                    None => (Ok(()), writer_snap),
                }
            }
            _ => (Ok(()), writer_snap),
        };
        if let Some(why) = self.poisoned() {
            return Err(StoreError::Poisoned(why));
        }
        let stopped = Stopped { wrote: wrote.map(|(e, b, _)| (e, b)), snapshot, last_snapshot_seq, durable_seq };
        Ok((stopped, log))
    }
}

/// What the threads leave when they stop.
struct Stopped {
    /// The writer's engine and batcher (none for a node that was following).
    wrote: Option<(Engine, dacu_log::Batcher)>,
    durable_seq: u64,
    snapshot: Result<(), String>,
    last_snapshot_seq: u64,
}

impl Drop for Node {
    fn drop(&mut self) {
        if !self.closing.load(Ordering::SeqCst) {
            let _ = self.stop(true);
        }
    }
}

fn io(what: &str, e: std::io::Error) -> StoreError {
    StoreError::Io { path: what.into(), source: e }
}
