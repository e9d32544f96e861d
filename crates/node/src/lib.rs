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
mod writer;

pub use clock::{Clock, ManualClock, ScaledClock, SystemClock};
pub use config::{NodeConfig, Time};
pub use request::{KeyStatus, Keyed, Outcome, ReadError, Reply, ReplyFn, Request, Stamp, SubmitError};

use backend::{Log, Source};
use crossbeam_channel::{Sender, TrySendError};
use dacu_core::{Command, Engine};
use dacu_log::{DataDir, FileSnapshots, SnapshotStore, StoreError};
use shared::{Position, Shared};
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

/// A running node over one data directory, holding its exclusive lock.
pub struct Node {
    tx: Option<Sender<Request>>,
    shared: Arc<Shared>,
    writer: Option<JoinHandle<(Engine, dacu_log::Batcher, u64)>>,
    committer: Option<JoinHandle<Log>>,
    follower: Option<JoinHandle<(Result<(), String>, u64)>>,
    snapshots: Option<Arc<FileSnapshots>>,
    cfg: NodeConfig,
    /// What the directory is put back together with ([`Node::into_dir`]).
    path: std::path::PathBuf,
    opts: dacu_log::Options,
    lock: Option<std::fs::File>,
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

/// A node whose log is a JetStream stream: what [`Node::start_stream`] takes.
pub struct StreamStart {
    /// The state the stream's batches rebuilt.
    pub engine: Engine,
    pub log: dacu_jetstream::JetStreamLog,
    /// The read view's reader, from where the log's recovery ended.
    pub follow: dacu_jetstream::Follow,
    /// The node's own directory and the lock on it.
    pub path: std::path::PathBuf,
    pub lock: std::fs::File,
    /// The snapshot bucket ([`dacu_jetstream::Snapshots`]); without one no snapshot is
    /// written and a node recovers by reading the whole stream.
    pub snapshots: Option<Arc<dyn SnapshotStore>>,
    /// The snapshot the state was recovered from, by event seq (0 for none).
    pub last_snapshot_seq: u64,
}

/// What opening a stream found: where reading ended, the snapshot it started from, and
/// the snapshots it passed over.
pub struct StreamOpened {
    pub recovered: dacu_jetstream::Recovered,
    pub snapshot_seq: Option<u64>,
    pub warnings: Vec<String>,
}

impl StreamStart {
    /// Opens the stream at `url` for a node whose own directory is `path`, held by `lock`:
    /// the state from the newest good snapshot in the stream's bucket and the batches
    /// after it (or from the whole stream), the log to append to, and the read view's
    /// reader from where recovery ended. With `festival`, a stream that has none is
    /// created with it.
    pub fn open(
        url: &dacu_jetstream::LogUrl,
        opts: &dacu_jetstream::StreamOptions,
        festival: Option<&str>,
        path: &std::path::Path,
        lock: std::fs::File,
    ) -> Result<(StreamStart, StreamOpened), dacu_jetstream::Error> {
        let o = dacu_jetstream::JetStreamLog::open(url, opts, festival, Some(path))?;
        let follow = dacu_jetstream::Follow::open(url, opts, o.log.meta().log_id, &o.recovered, o.position.clone())?;
        let start = StreamStart {
            engine: o.engine,
            log: o.log,
            follow,
            path: path.to_path_buf(),
            lock,
            snapshots: o.snapshots.map(|s| Arc::new(s) as Arc<dyn SnapshotStore>),
            last_snapshot_seq: o.snapshot_seq.unwrap_or(0),
        };
        Ok((start, StreamOpened { recovered: o.recovered, snapshot_seq: o.snapshot_seq, warnings: o.warnings }))
    }
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

    fn start_with(parts: Start, cfg: NodeConfig) -> Result<Node, StoreError> {
        let durable = dacu_log::EventLog::durable_seq(&parts.log);
        let chain0 = parts.log.chain();
        let view = cfg.read_view.then(|| {
            let e = &parts.engine;
            RwLock::new(Engine::with_state(e.festival_arc(), e.state().clone()).expect("the engine's own state"))
        });
        let follow = parts.follow;
        // The view decodes the log as it grows; format 1 records need the festival's values.
        let format1 = parts.engine.festival().format1_context();
        let shared = Arc::new(Shared {
            durable: Position::new(durable),
            applied: Position::new(durable),
            view,
            poisoned: Mutex::new(None),
            view_failed: Mutex::new(None),
            stopping: false.into(),
            final_snapshot: true.into(),
        });
        let snapshots = parts.snapshots;
        let store: Option<Arc<dyn SnapshotStore>> =
            parts.store.or_else(|| snapshots.clone().map(|s| s as Arc<dyn SnapshotStore>));
        let (tx, rx) = crossbeam_channel::bounded(cfg.queue_requests);
        // One slot: the writer hands a batch over only when the committer is free.
        let handoff = Arc::new(handoff::Handoff::default());
        let writer_handoff = handoff.clone();
        let mut w = writer::Writer::new(parts.engine, parts.batcher, cfg.clone(), shared.clone());
        w.last_snapshot_seq = parts.last_snapshot_seq;
        if !cfg.read_view {
            w.snapshots = store.clone();
        }
        let spawn = |name: &str| std::thread::Builder::new().name(format!("dacu-{name}"));
        let writer = spawn("writer")
            .spawn(move || shared::fatal_on_panic("writer", move || w.run(rx, &writer_handoff)))
            .map_err(|e| io("the writer thread", e))?;
        let (log, sh) = (parts.log, shared.clone());
        let committer = spawn("commit")
            .spawn(move || shared::fatal_on_panic("commit", move || committer::run(log, &handoff, sh)))
            .map_err(|e| io("the commit thread", e))?;
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
            tx: Some(tx),
            shared,
            writer: Some(writer),
            committer: Some(committer),
            follower,
            snapshots,
            cfg,
            path: parts.path,
            opts: parts.opts,
            lock: Some(parts.lock),
        })
    }
}

impl Node {
    /// Queues a request without waiting; a full queue is [`SubmitError::Full`].
    pub fn try_submit(&self, req: Request) -> Result<(), (SubmitError, Request)> {
        let tx = match self.check(&req) {
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
        match self.check(&req) {
            Ok(tx) => tx.send(req).map_err(|e| (SubmitError::Stopped, e.0)),
            Err(e) => Err((e, req)),
        }
    }

    fn check(&self, req: &Request) -> Result<&Sender<Request>, SubmitError> {
        let tx = self.tx.as_ref().ok_or(SubmitError::Stopped)?;
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
        self.tx.as_ref().map_or(0, |t| t.len())
    }

    /// Why the node accepts nothing more (a failed write), if it does not.
    pub fn poisoned(&self) -> Option<String> {
        self.shared.poisoned()
    }

    /// Stops taking requests, answers those queued, makes the last batch durable, lets the
    /// read view catch up, writes the final snapshot and releases the directory.
    pub fn shutdown(mut self) -> Result<Shutdown, StoreError> {
        let (stopped, log) = self.stop(true)?;
        Ok(Shutdown { durable_seq: dacu_log::EventLog::durable_seq(&log), snapshot: stopped.snapshot })
    }

    /// Stops as [`Node::shutdown`] does, without the final snapshot, and hands the data
    /// directory back to be driven from this thread (it snapshots when it is closed).
    pub fn into_dir(mut self) -> Result<DataDir, StoreError> {
        let (stopped, log) = self.stop(false)?;
        let Log::File(log) = log else {
            return Err(StoreError::Poisoned("a node whose log is a stream has no data directory to hand back".into()));
        };
        let snapshots = Arc::try_unwrap(self.snapshots.take().expect("a file log's node has snapshots"))
            .ok()
            .expect("threads joined");
        Ok(DataDir::from_parts(dacu_log::Parts {
            path: std::mem::take(&mut self.path),
            lock: self.lock.take().expect("running"),
            engine: stopped.engine,
            batcher: stopped.batcher,
            log,
            snapshots,
            opts: self.opts.clone(),
            last_snapshot_seq: stopped.last_snapshot_seq,
        }))
    }

    fn stop(&mut self, final_snapshot: bool) -> Result<(Stopped, Log), StoreError> {
        drop(self.tx.take());
        let joined = "a node thread exits or ends the process";
        let (engine, batcher, writer_snap) = self.writer.take().expect("running").join().expect(joined);
        let log = self.committer.take().expect("running").join().expect(joined);
        self.shared.final_snapshot.store(final_snapshot, std::sync::atomic::Ordering::SeqCst);
        self.shared.stopping.store(true, std::sync::atomic::Ordering::SeqCst);
        self.shared.durable.nudge();
        let durable_seq = dacu_log::EventLog::durable_seq(&log);
        let (snapshot, last_snapshot_seq) = match self.follower.take() {
            Some(h) => h.join().expect(joined),
            None if final_snapshot && engine.state().events > writer_snap && engine.state().events == durable_seq => {
                match self.snapshots.as_ref().map(|s| s.save(engine.state(), &log.chain())) {
                    Some(Ok(())) => (Ok(()), durable_seq),
                    Some(Err(e)) => (Err(e.to_string()), writer_snap),
                    None => (Ok(()), writer_snap),
                }
            }
            None => (Ok(()), writer_snap),
        };
        if let Some(why) = self.shared.poisoned() {
            return Err(StoreError::Poisoned(why));
        }
        Ok((Stopped { engine, batcher, snapshot, last_snapshot_seq }, log))
    }
}

/// What the threads leave when they stop.
struct Stopped {
    engine: Engine,
    batcher: dacu_log::Batcher,
    snapshot: Result<(), String>,
    last_snapshot_seq: u64,
}

impl Drop for Node {
    fn drop(&mut self) {
        if self.writer.is_some() {
            let _ = self.stop(true);
        }
    }
}

fn io(what: &str, e: std::io::Error) -> StoreError {
    StoreError::Io { path: what.into(), source: e }
}
