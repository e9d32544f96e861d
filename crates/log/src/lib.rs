//! dacu-log: durable data directories — the event log, snapshots and recovery.
//!
//! ```text
//! DIR/festival.toml              the festival file the directory was created from
//! DIR/LOCK                       the directory lock
//! DIR/log/{first_seq:020}.log    log segments: checksummed, hash-chained event records
//! DIR/snapshots/{seq:020}.snap   state snapshots, bound to the log they came from
//! ```
//!
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

pub mod chain;
pub mod codec;
pub mod dir;
pub mod io;
mod recover;
pub mod segment;
pub mod snapshot;

use chain::{Chain, LogId};
use dacu_core::festival::{self, Festival};
use dacu_core::{Code, Command, Engine, Event, Rejection};
use io::{Io, LogFile, RealIo};
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

/// The position range of one durable commit: events `first_seq..=last_seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    pub first_seq: u64,
    pub last_seq: u64,
}

struct Writer {
    file: Box<dyn LogFile>,
    path: PathBuf,
    /// Bytes of the segment that are committed and durable.
    committed_len: u64,
    /// The batch being built: framed records, not yet written.
    buf: Vec<u8>,
    /// Offset and payload CRC of the batch's last record.
    last_record: Option<(usize, u32)>,
    hasher: Option<chain::Hasher>,
    next_seq: u64,
    batch_first_seq: u64,
    /// The chain value after the last committed batch.
    chain: Chain,
    log_id: LogId,
}

/// A data directory opened for writing, holding its exclusive lock.
pub struct DataDir {
    path: PathBuf,
    _lock: fs::File,
    engine: Engine,
    writer: Writer,
    opts: Options,
    poisoned: Option<String>,
    events: Vec<Event>,
    /// The encoded payloads of the command being executed, back to back.
    payloads: Vec<u8>,
    payload_ends: Vec<usize>,
    last_snapshot_seq: u64,
    warnings: Vec<String>,
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
        let writer = open_tail(path, r.tail, r.log_id, &opts)?;
        let last_snapshot_seq = report.snapshot_seq.unwrap_or(0);
        Ok((
            DataDir {
                path: path.to_path_buf(),
                _lock: lock,
                engine: r.engine,
                writer,
                opts,
                poisoned: None,
                events: Vec::new(),
                payloads: Vec::new(),
                payload_ends: Vec::new(),
                last_snapshot_seq,
                warnings: Vec::new(),
            },
            report,
        ))
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
        self.poisoned.is_some()
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
        if let Some(why) = &self.poisoned {
            return Err(Rejection::new(
                Code::Unavailable,
                format!("the data directory failed a write ({why}); restart it"),
            ));
        }
        self.events.clear();
        self.engine.decide(c, &mut self.events)?;
        self.payloads.clear();
        self.payload_ends.clear();
        let limit = self.opts.max_event_bytes.min(segment::MAX_RECORD_BYTES as usize);
        for ev in &self.events {
            let start = self.payloads.len();
            codec::encode(ev, &mut self.payloads);
            let n = self.payloads.len() - start;
            if n > limit {
                self.events.clear();
                return Err(Rejection::new(
                    Code::LimitExceeded,
                    format!(
                        "the command's event would take {n} bytes in the log, above the limit of {limit} bytes per event; split it into smaller commands"
                    ),
                ));
            }
            self.payload_ends.push(self.payloads.len());
        }
        for ev in &self.events {
            self.engine.apply(ev).expect("events from decide always apply");
        }
        let w = &mut self.writer;
        let mut start = 0;
        for &end in &self.payload_ends {
            let (at, crc) = segment::push_record(&mut w.buf, w.next_seq, &self.payloads[start..end]);
            w.hasher.get_or_insert_with(|| chain::Hasher::new(&w.chain)).add(w.next_seq, crc);
            w.last_record = Some((at, crc));
            w.next_seq += 1;
            start = end;
        }
        Ok(())
    }

    /// Writes the buffered batch and fsyncs once; returns the events it made durable, or
    /// `None` when nothing was pending. On failure the directory is poisoned.
    pub fn commit(&mut self) -> Result<Option<Committed>, StoreError> {
        if let Some(why) = &self.poisoned {
            return Err(StoreError::Poisoned(why.clone()));
        }
        let Some(last) = self.writer.last_record.take() else {
            return Ok(None);
        };
        let committed = Committed { first_seq: self.writer.batch_first_seq, last_seq: self.writer.next_seq - 1 };
        if let Err(e) = self.write_batch(last) {
            let why = e.to_string();
            // Best effort: cut the partial batch so the file ends at a commit. Recovery
            // drops an incomplete batch anyway.
            let w = &mut self.writer;
            let _ = w.file.truncate(w.committed_len);
            self.poisoned = Some(why);
            return Err(e);
        }
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

    fn write_batch(&mut self, last: (usize, u32)) -> Result<(), StoreError> {
        let log_dir = self.path.join(LOG_DIR);
        let w = &mut self.writer;
        let chain = w.hasher.take().expect("a pending batch has a hasher").finish();
        segment::seal(&mut w.buf, last.0, last.1, &chain);
        if w.committed_len >= self.opts.segment_bytes {
            // Rotate between batches: the new segment is named after the batch's first seq.
            let path = log_dir.join(segment::name(w.batch_first_seq));
            let file = new_segment(self.opts.io.as_ref(), &path, w.batch_first_seq, &w.log_id, &w.chain)?;
            w.file = file;
            w.path = path;
            w.committed_len = segment::HEADER_LEN;
        }
        w.file.write_all(&w.buf).map_err(io_err(&w.path))?;
        fail_point!("commit::before_sync", w.path);
        w.file.sync().map_err(io_err(&w.path))?;
        w.committed_len += w.buf.len() as u64;
        w.buf.clear();
        w.batch_first_seq = w.next_seq;
        w.chain = chain;
        Ok(())
    }

    /// Writes a snapshot of the committed state. Call only with nothing pending.
    pub fn snapshot(&mut self) -> Result<PathBuf, StoreError> {
        debug_assert!(self.writer.buf.is_empty(), "snapshot with uncommitted events");
        let w = &self.writer;
        let p = snapshot::write(self.opts.io.as_ref(), &self.path, self.engine.state(), &w.log_id, &w.chain)
            .map_err(io_err(&snapshot::dir(&self.path)))?;
        self.last_snapshot_seq = self.engine.state().events;
        Ok(p)
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

/// Creates a segment file holding only its header, durably.
fn new_segment(
    io: &dyn Io,
    path: &Path,
    first_seq: u64,
    log_id: &LogId,
    chain: &Chain,
) -> Result<Box<dyn LogFile>, StoreError> {
    let mut file = io.open_append(path).map_err(io_err(path))?;
    file.truncate(0).map_err(io_err(path))?;
    file.write_all(&segment::header(first_seq, log_id, chain)).map_err(io_err(path))?;
    fail_point!("segment::before_sync", path);
    file.sync().map_err(io_err(path))?;
    let log_dir = path.parent().expect("a segment is in log/");
    io.sync_dir(log_dir).map_err(io_err(log_dir))?;
    Ok(file)
}

/// Opens the end of the log for appending: the last segment, or a new one when there is
/// none, its header was never completed, or it is in format 1 (which is never appended to).
fn open_tail(path: &Path, tail: recover::Tail, log_id: LogId, opts: &Options) -> Result<Writer, StoreError> {
    let log_dir = path.join(LOG_DIR);
    fs::create_dir_all(&log_dir).map_err(io_err(&log_dir))?;
    let appendable = tail.segment.filter(|(s, _)| s.header.as_ref().is_some_and(|h| h.version == segment::VERSION));
    let (file, seg_path, committed_len, log_id, chain) = match appendable {
        Some((seg, len)) => {
            let file = opts.io.open_append(&seg.path).map_err(io_err(&seg.path))?;
            (file, seg.path, len, log_id, tail.chain)
        }
        None => {
            let (log_id, chain) = if tail.next_seq == 1 {
                // Nothing committed yet: a new log, with an identity of its own.
                let id = chain::new_log_id().map_err(io_err(&log_dir))?;
                (id, chain::genesis(&id))
            } else {
                (log_id, tail.chain)
            };
            let p = log_dir.join(segment::name(tail.next_seq));
            let file = new_segment(opts.io.as_ref(), &p, tail.next_seq, &log_id, &chain)?;
            (file, p, segment::HEADER_LEN, log_id, chain)
        }
    };
    Ok(Writer {
        file,
        path: seg_path,
        committed_len,
        buf: Vec::new(),
        last_record: None,
        hasher: None,
        next_seq: tail.next_seq,
        batch_first_seq: tail.next_seq,
        chain,
        log_id,
    })
}
