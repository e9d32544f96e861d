//! dacu-log: durable data directories — the event log, snapshots and recovery.
//!
//! ```text
//! DIR/festival.toml              the festival file the directory was created from
//! DIR/LOCK                       the directory lock
//! DIR/log/{first_seq:020}.log    log segments: checksummed, hash-chained event records
//! DIR/snapshots/{seq:020}.snap   state snapshots, bound to the log they came from
//! ```
//!
//! - [`store`]: the [`EventLog`] and [`SnapshotStore`] traits a writer goes through.
//! - [`batch`]: commit batches being built and sealed ([`Batcher`], [`SealedBatch`]).
//! - [`file_log`]: the file log, the default [`EventLog`].
//! - [`follow`]: reading a file log's durable batches as a writer appends them.
//! - [`segment`]: record framing, segment scanning, torn-tail and corruption detection.
//! - [`chain`]: the hash chain that names a log prefix, and the log's id.
//! - [`codec`]: the versioned binary encoding of events.
//! - [`snapshot`]: writing and checking snapshots.
//! - [`recover`](mod@recover): from the files to a state, and the repairs only a writer makes.
//! - [`dir`]: the lock, creation under it, and files written atomically.
//! - [`io`]: the file operations, injectable for fault tests.
//!
//! Readers ([`open_read`]) never change a byte of the directory. The writer
//! ([`DataDir`]) holds the directory's exclusive lock: [`DataDir::execute`] decides and
//! applies a command and buffers its events; [`DataDir::commit`] writes the buffered
//! batch, seals its last record as the commit and fsyncs once. A caller acknowledges
//! commands only after the commit that holds them returns. If a write or fsync fails,
//! the directory stops accepting anything: restart recovers the committed batches.

pub mod batch;
pub mod chain;
pub mod codec;
pub mod dir;
pub mod file_log;
pub mod follow;
pub mod io;
mod recover;
pub mod segment;
pub mod snapshot;
pub mod store;

pub use batch::{Batcher, SealedBatch};
pub use file_log::FileLog;
pub use snapshot::FileSnapshots;
pub use store::{Committed, EventLog, SnapshotStore};

use dacu_core::festival::{self, Festival};
use dacu_core::{Code, Command, Engine, Event, Rejection};
use io::{Io, RealIo};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const FESTIVAL_FILE: &str = "festival.toml";
pub const LOG_DIR: &str = "log";

/// A point where the fault tests can make an operation fail, or the process die, there
/// (feature `failpoints`; see tests/failpoints.rs). With a path, the enclosing function
/// returns a [`StoreError`]; without, an `io::Error`.
#[macro_export]
#[doc(hidden)]
macro_rules! fail_point {
    ($name:literal) => {
        #[cfg(feature = "failpoints")]
        fail::fail_point!($name, |_| Err(std::io::Error::other(concat!("injected failure at ", $name))));
    };
    ($name:literal, $path:expr) => {
        #[cfg(feature = "failpoints")]
        fail::fail_point!($name, |_| Err($crate::StoreError::Io {
            path: $path.to_path_buf(),
            source: std::io::Error::other(concat!("injected failure at ", $name)),
        }));
    };
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0} is not a dacu data directory (no {FESTIVAL_FILE}); create it by passing --festival FILE")]
    NotADataDir(PathBuf),
    #[error("{0} is not empty and is not a dacu data directory; give a new or empty directory")]
    NotEmpty(PathBuf),
    #[error("{path} already holds a different festival; use a new data directory for another festival")]
    FestivalMismatch { path: PathBuf },
    #[error("{path}: invalid festival file:\n{problems}")]
    BadFestival { path: PathBuf, problems: String },
    #[error("{path}: corrupt log at byte offset {offset}: {reason} (nothing was changed; to drop the damaged part and everything after it, open with --recovery truncate-corrupt)")]
    Corrupt { path: PathBuf, offset: u64, reason: String },
    #[error("the data directory failed a write earlier ({0}) and accepts nothing more; restart to recover the committed state")]
    Poisoned(String),
    #[error("{0} is in use by another dacu process; wait for it to finish")]
    Locked(PathBuf),
    #[error("everything was committed and is safe, but the snapshot could not be written ({0}); the next open replays more of the log")]
    SnapshotFailed(String),
    #[error("{url}: {reason}")]
    Remote { url: String, reason: String },
    #[error("{log}: another writer has appended to the log since this one last did; this writer accepts nothing more")]
    Overtaken { log: String },
    #[error("refused an append at event {got}: the log ends at event {} (another writer has taken over the log)", expected - 1)]
    Fenced { expected: u64, got: u64 },
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: path.to_path_buf(), source }
}

/// Loads and validates a festival file, rendering problems as `FILE:LINE:COL: message`.
pub fn load_festival(path: &Path) -> Result<(Festival, String), StoreError> {
    let src = fs::read_to_string(path).map_err(io_err(path))?;
    let f = parse_festival(path, &src)?;
    Ok((f, src))
}

fn parse_festival(path: &Path, src: &str) -> Result<Festival, StoreError> {
    festival::parse(src).map_err(|problems| StoreError::BadFestival {
        path: path.to_path_buf(),
        problems: problems
            .iter()
            .map(|p| format!("{}:{}:{}: {}", path.display(), p.line, p.col, p.message))
            .collect::<Vec<_>>()
            .join("\n"),
    })
}

/// What to do about a damaged log on open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Recovery {
    /// A writer cuts an incomplete final batch (a torn write); any other damage is refused.
    #[default]
    Strict,
    /// A writer also cuts the log at the first corrupt record, dropping it and everything
    /// after it; a reader serves the part before it.
    TruncateCorrupt,
}

#[derive(Clone)]
pub struct Options {
    pub recovery: Recovery,
    /// Take a snapshot after this many events since the last one (0: only on close).
    pub snapshot_every: u64,
    /// Start a new segment once the current one reaches this size.
    pub segment_bytes: u64,
    /// Use snapshots when opening (verify turns this off to rebuild from the log alone).
    pub use_snapshots: bool,
    /// The largest encoded event a command may produce; at most (and by default)
    /// [`segment::MAX_RECORD_BYTES`], which readers enforce.
    pub max_event_bytes: usize,
    pub io: Arc<dyn Io>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            recovery: Recovery::Strict,
            snapshot_every: 5_000_000,
            segment_bytes: 256 << 20,
            use_snapshots: true,
            max_event_bytes: segment::MAX_RECORD_BYTES as usize,
            io: Arc::new(RealIo),
        }
    }
}

/// What opening a directory found and did.
#[derive(Debug, Default, Clone)]
pub struct OpenReport {
    /// The snapshot the state was loaded from, by sequence number.
    pub snapshot_seq: Option<u64>,
    pub events_replayed: u64,
    /// Bytes of the log past its usable end (cut by a writer, ignored by a reader).
    pub truncated_bytes: u64,
    /// What was found, skipped or repaired, for stderr.
    pub warnings: Vec<String>,
}

/// Opens a data directory to read it: the newest snapshot that fits the log, then the
/// log after it. Changes nothing on disk, and works on a read-only directory; damage a
/// writer would repair is reported and left alone. Fails while a writer holds the
/// directory.
pub fn open_read(path: &Path, opts: &Options) -> Result<(Engine, OpenReport), StoreError> {
    let _lock = dir::lock_shared(path)?;
    let festival = Arc::new(load_festival(&path.join(FESTIVAL_FILE))?.0);
    let r = recover::recover(path, festival, opts)?;
    let mut report = r.report;
    if !r.repairs.is_empty() {
        report.warnings.push(
            "nothing was changed: this command only reads; the next writer (ingest, settle) repairs the log".into(),
        );
    }
    Ok((r.engine, report))
}

/// Rebuilds the state from the log alone, ignoring snapshots and changing nothing on disk.
pub fn rebuild_from_log(path: &Path) -> Result<(Engine, OpenReport), StoreError> {
    open_read(path, &Options { use_snapshots: false, recovery: Recovery::Strict, ..Options::default() })
}

/// A data directory opened for writing, holding its exclusive lock: the engine, the batch
/// being built, the file log and the snapshots, driven from one thread. The node runtime
/// takes it apart ([`DataDir::into_parts`]) to run them on threads of their own.
pub struct DataDir {
    path: PathBuf,
    lock: fs::File,
    engine: Engine,
    batcher: Batcher,
    log: FileLog,
    snapshots: FileSnapshots,
    opts: Options,
    events: Vec<Event>,
    last_snapshot_seq: u64,
    warnings: Vec<String>,
}

/// A writer's data directory taken apart (see [`DataDir::into_parts`]).
pub struct Parts {
    pub path: PathBuf,
    /// The exclusive lock: held as long as this file is open.
    pub lock: fs::File,
    pub engine: Engine,
    pub batcher: Batcher,
    pub log: FileLog,
    pub snapshots: FileSnapshots,
    pub opts: Options,
    /// The seq of the newest snapshot (0 when there is none).
    pub last_snapshot_seq: u64,
}

impl DataDir {
    /// Opens DIR for writing, creating it from `festival` when it holds no data directory
    /// yet. When both exist, the festival file must be the one the directory was created
    /// from. Creation happens under the directory's lock.
    pub fn open_or_create(
        path: &Path,
        festival: Option<&Path>,
        opts: Options,
    ) -> Result<(DataDir, OpenReport), StoreError> {
        match festival {
            None => DataDir::open(path, opts),
            Some(src_path) => {
                let (_, src) = load_festival(src_path)?;
                DataDir::create_with(path, &src, opts)
            }
        }
    }

    /// Opens DIR for writing, creating it from the festival source `src` if it holds no
    /// data directory yet; an existing one must hold the same festival.
    pub fn create_with(path: &Path, src: &str, opts: Options) -> Result<(DataDir, OpenReport), StoreError> {
        parse_festival(&path.join(FESTIVAL_FILE), src)?;
        let lock = dir::create_locked(path, src, opts.io.as_ref())?;
        DataDir::open_locked(path, lock, opts)
    }

    /// Opens an existing data directory for writing: recovers it, makes the repairs
    /// recovery found necessary (saying so in the report), and continues the log.
    pub fn open(path: &Path, opts: Options) -> Result<(DataDir, OpenReport), StoreError> {
        if !path.join(FESTIVAL_FILE).exists() {
            return Err(StoreError::NotADataDir(path.to_path_buf()));
        }
        let lock = dir::lock_exclusive(path)?;
        DataDir::open_locked(path, lock, opts)
    }

    fn open_locked(path: &Path, lock: fs::File, opts: Options) -> Result<(DataDir, OpenReport), StoreError> {
        let festival = Arc::new(load_festival(&path.join(FESTIVAL_FILE))?.0);
        let r = recover::recover(path, festival, &opts)?;
        let mut report = r.report;
        repair(path, &r.repairs, &opts, &mut report)?;
        dir::tidy_snapshots(path, &mut report)?;
        let log = FileLog::continue_at(path, r.tail, r.log_id, &opts)?;
        let batcher = Batcher::new(log.durable_seq() + 1, log.chain(), opts.max_event_bytes);
        let snapshots = FileSnapshots { io: opts.io.clone(), data: path.to_path_buf(), log_id: log.log_id() };
        let last_snapshot_seq = report.snapshot_seq.unwrap_or(0);
        Ok((
            DataDir {
                path: path.to_path_buf(),
                lock,
                engine: r.engine,
                batcher,
                log,
                snapshots,
                opts,
                events: Vec::new(),
                last_snapshot_seq,
                warnings: Vec::new(),
            },
            report,
        ))
    }

    /// Takes the directory apart, for a runtime that drives its pieces on threads of
    /// their own. Nothing may be pending.
    pub fn into_parts(self) -> Parts {
        debug_assert_eq!(self.batcher.pending(), 0, "into_parts with events pending");
        Parts {
            path: self.path,
            lock: self.lock,
            engine: self.engine,
            batcher: self.batcher,
            log: self.log,
            snapshots: self.snapshots,
            opts: self.opts,
            last_snapshot_seq: self.last_snapshot_seq,
        }
    }

    /// Puts a directory taken apart back together (the node hands it back this way).
    pub fn from_parts(p: Parts) -> DataDir {
        DataDir {
            path: p.path,
            lock: p.lock,
            engine: p.engine,
            batcher: p.batcher,
            log: p.log,
            snapshots: p.snapshots,
            opts: p.opts,
            events: Vec::new(),
            last_snapshot_seq: p.last_snapshot_seq,
            warnings: Vec::new(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn festival(&self) -> &Festival {
        self.engine.festival()
    }

    /// Problems that did not stop the directory (a failed periodic snapshot), for stderr.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    pub fn is_poisoned(&self) -> bool {
        self.log.is_poisoned()
    }

    /// The events of the last command `execute` accepted.
    pub fn last_events(&self) -> &[Event] {
        &self.events
    }

    /// Decides and applies a command and buffers its events for the next `commit`.
    /// Nothing is durable, and nothing may be acknowledged, until that commit returns. A
    /// command whose events the log could not hold is rejected (`limit_exceeded`) before
    /// anything is applied.
    pub fn execute(&mut self, c: &Command) -> Result<(), Rejection> {
        if self.log.is_poisoned() {
            return Err(Rejection::new(
                Code::Unavailable,
                "the data directory failed a write and accepts nothing more; restart it",
            ));
        }
        execute(&mut self.engine, &mut self.batcher, c, &mut self.events)
    }

    /// Writes the buffered batch and fsyncs once; returns the events it made durable, or
    /// `None` when nothing was pending. On failure the directory is poisoned.
    pub fn commit(&mut self) -> Result<Option<Committed>, StoreError> {
        if self.log.is_poisoned() {
            return Err(StoreError::Poisoned("an earlier write failed".into()));
        }
        let Some(batch) = self.batcher.seal() else {
            return Ok(None);
        };
        let committed = self.log.append(&batch)?;
        if self.opts.snapshot_every > 0
            && self.engine.state().events - self.last_snapshot_seq >= self.opts.snapshot_every
        {
            // The batch is durable whatever happens here: the log is the truth and a
            // snapshot only shortens the next start. A failure is reported, not fatal, and
            // retried after the next interval.
            if let Err(e) = self.snapshot() {
                self.last_snapshot_seq = self.engine.state().events;
                self.warnings.push(format!("snapshot failed (the log is intact): {e}"));
            }
        }
        Ok(Some(committed))
    }

    /// Writes a snapshot of the committed state. Call only with nothing pending.
    pub fn snapshot(&mut self) -> Result<(), StoreError> {
        debug_assert_eq!(self.batcher.pending(), 0, "snapshot with uncommitted events");
        self.snapshots.save(self.engine.state(), &self.log.chain())?;
        self.last_snapshot_seq = self.engine.state().events;
        Ok(())
    }

    /// Commits what is pending and writes a snapshot: a clean shutdown. A failed snapshot
    /// is [`StoreError::SnapshotFailed`]: everything committed is safe.
    pub fn close(mut self) -> Result<(), StoreError> {
        self.commit()?;
        if self.engine.state().events > self.last_snapshot_seq {
            self.snapshot().map_err(|e| StoreError::SnapshotFailed(e.to_string()))?;
        }
        Ok(())
    }
}

/// Decides `c`, frames its events (refusing it whole if one is too large for the log),
/// then applies them. `events` holds them afterwards.
pub fn execute(
    engine: &mut Engine,
    batcher: &mut Batcher,
    c: &Command,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    execute_with(engine, batcher, events, |e, out| e.decide(c, out))
}

/// As [`execute`], for events that `decide` pushes (a record the engine makes for its
/// host, such as an idempotency key's).
pub fn execute_with(
    engine: &mut Engine,
    batcher: &mut Batcher,
    events: &mut Vec<Event>,
    decide: impl FnOnce(&Engine, &mut Vec<Event>) -> Result<(), Rejection>,
) -> Result<(), Rejection> {
    events.clear();
    decide(engine, events)?;
    if let Err(r) = batcher.append(events) {
        events.clear();
        return Err(r);
    }
    for ev in events.iter() {
        engine.apply(ev).expect("events from decide always apply");
    }
    Ok(())
}

/// Carries out recovery's repairs, each said in the report.
fn repair(path: &Path, repairs: &[recover::Repair], opts: &Options, report: &mut OpenReport) -> Result<(), StoreError> {
    use recover::Repair;
    // In the order recovery gives: see `recover::decide_end`.
    for r in repairs {
        match r {
            Repair::Truncate { path: p, len } => {
                let f = fs::OpenOptions::new().write(true).open(p).map_err(io_err(p))?;
                if f.metadata().map_err(io_err(p))?.len() > *len {
                    f.set_len(*len).and_then(|_| f.sync_all()).map_err(io_err(p))?;
                    report.warnings.push(format!("cut {} to {len} bytes", p.display()));
                    fail_point!("repair::after_cut", p);
                }
            }
            Repair::RemoveSegment(p) | Repair::RemoveSnapshot(p) => {
                fs::remove_file(p).map_err(io_err(p))?;
                report.warnings.push(format!("removed {}", p.display()));
                fail_point!("repair::after_remove", p);
            }
        }
    }
    if !repairs.is_empty() {
        for d in [path.join(LOG_DIR), snapshot::dir(path)] {
            if d.exists() {
                opts.io.sync_dir(&d).map_err(io_err(&d))?;
            }
        }
    }
    Ok(())
}
