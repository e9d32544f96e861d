//! dacu-log: durable data directories — the event log, snapshots and recovery.
//!
//! ```text
//! DIR/festival.toml              the festival file the directory was created from
//! DIR/log/{first_seq:020}.log    log segments: CRC-framed event records (segment.rs)
//! DIR/snapshots/{seq:020}.snap   state snapshots (snapshot.rs)
//! ```
//!
//! - [`segment`]: record framing, segment scanning, torn-tail and corruption detection.
//! - [`codec`]: the versioned binary encoding of events.
//! - [`snapshot`]: writing and checking snapshots.
//! - [`io`]: the file operations, injectable for fault tests.
//!
//! Durability: [`DataDir::execute`] decides and applies a command and buffers its events;
//! [`DataDir::commit`] writes the buffered batch, marks its last record as the commit and
//! fsyncs once. A caller acknowledges commands only after the commit that holds them
//! returns. If a write or fsync fails, the directory stops accepting anything: restart
//! recovers the committed batches.

pub mod codec;
pub mod io;
pub mod segment;
pub mod snapshot;

use dacu_core::festival::{self, Festival};
use dacu_core::{Code, Command, Engine, Event, Rejection};
use io::{Io, LogFile, RealIo};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const FESTIVAL_FILE: &str = "festival.toml";
pub const LOG_DIR: &str = "log";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0} is not a dacu data directory (no {FESTIVAL_FILE}); create it by passing --festival FILE")]
    NotADataDir(PathBuf),
    #[error("{path} already holds a different festival; use a new data directory for another festival")]
    FestivalMismatch { path: PathBuf },
    #[error("{path}: invalid festival file:\n{problems}")]
    BadFestival { path: PathBuf, problems: String },
    #[error("{path}: corrupt log at byte offset {offset}: {reason} (to drop everything from there on, open with --recovery truncate-corrupt)")]
    Corrupt { path: PathBuf, offset: u64, reason: String },
    #[error("the data directory failed a write earlier ({0}) and accepts nothing more; restart to recover the committed state")]
    Poisoned(String),
    #[error("{0} is in use by another dacu process; wait for it to finish")]
    Locked(PathBuf),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: path.to_path_buf(), source }
}

/// Loads and validates a festival file, rendering problems as `FILE:LINE:COL: message`.
pub fn load_festival(path: &Path) -> Result<(Festival, String), StoreError> {
    let src = fs::read_to_string(path).map_err(io_err(path))?;
    let f = festival::parse(&src).map_err(|problems| StoreError::BadFestival {
        path: path.to_path_buf(),
        problems: problems
            .iter()
            .map(|p| format!("{}:{}:{}: {}", path.display(), p.line, p.col, p.message))
            .collect::<Vec<_>>()
            .join("\n"),
    })?;
    Ok((f, src))
}

/// What to do about a damaged log on open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Recovery {
    /// Cut off an incomplete final batch (a torn write); refuse to open on any other damage.
    #[default]
    Strict,
    /// Also cut the log at the first corrupt record, dropping it and everything after it.
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
    pub io: Arc<dyn Io>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            recovery: Recovery::Strict,
            snapshot_every: 5_000_000,
            segment_bytes: 256 << 20,
            use_snapshots: true,
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
    /// Bytes cut from the end of the log (an incomplete final batch).
    pub truncated_bytes: u64,
    /// What was skipped or cut, for stderr.
    pub warnings: Vec<String>,
}

struct Writer {
    file: Box<dyn LogFile>,
    path: PathBuf,
    /// Bytes of the segment that are committed and durable.
    committed_len: u64,
    /// The batch being built: framed records, not yet written.
    buf: Vec<u8>,
    last_record: Option<usize>,
    next_seq: u64,
    batch_first_seq: u64,
}

pub struct DataDir {
    path: PathBuf,
    /// Held for the directory's lifetime: one process opens a data directory at a time.
    _lock: fs::File,
    engine: Engine,
    writer: Writer,
    opts: Options,
    poisoned: Option<String>,
    events: Vec<Event>,
    payload: Vec<u8>,
    last_snapshot_seq: u64,
    warnings: Vec<String>,
}

impl DataDir {
    /// Opens DIR, creating it from `festival` when it holds no data directory yet. When
    /// both exist, the festival file must be the one the directory was created from.
    pub fn open_or_create(
        path: &Path,
        festival: Option<&Path>,
        opts: Options,
    ) -> Result<(DataDir, OpenReport), StoreError> {
        let fest_path = path.join(FESTIVAL_FILE);
        if !fest_path.exists() {
            let Some(src_path) = festival else {
                return Err(StoreError::NotADataDir(path.to_path_buf()));
            };
            let (_, src) = load_festival(src_path)?;
            fs::create_dir_all(path).map_err(io_err(path))?;
            // Write then rename, so a crash never leaves a half-written festival file.
            let tmp = path.join("festival.toml.tmp");
            fs::write(&tmp, &src).map_err(io_err(&tmp))?;
            fs::File::open(&tmp).and_then(|f| f.sync_all()).map_err(io_err(&tmp))?;
            fs::rename(&tmp, &fest_path).map_err(io_err(&fest_path))?;
            opts.io.sync_dir(path).map_err(io_err(path))?;
        } else if let Some(src_path) = festival {
            let given = fs::read_to_string(src_path).map_err(io_err(src_path))?;
            let have = fs::read_to_string(&fest_path).map_err(io_err(&fest_path))?;
            if given != have {
                return Err(StoreError::FestivalMismatch { path: path.to_path_buf() });
            }
        }
        DataDir::open(path, opts)
    }

    /// Opens an existing data directory: the newest valid snapshot, then the log's tail.
    pub fn open(path: &Path, opts: Options) -> Result<(DataDir, OpenReport), StoreError> {
        let (lock, festival) = lock_and_load(path)?;
        let log_dir = path.join(LOG_DIR);
        fs::create_dir_all(&log_dir).map_err(io_err(&log_dir))?;
        let mut report = OpenReport::default();

        // Candidates, newest first, then no snapshot at all. A snapshot is used only if it
        // reads back cleanly and the log reaches at least as far as it does: never serve a
        // state the log cannot back.
        let mut candidates: Vec<Option<(u64, PathBuf)>> = Vec::new();
        if opts.use_snapshots {
            candidates.extend(snapshot::list(path).map_err(io_err(path))?.into_iter().map(Some));
        }
        candidates.push(None);
        let mut found = None;
        for candidate in candidates {
            let mut engine = match &candidate {
                None => Engine::new(festival.clone()),
                Some((_, snap)) => {
                    match snapshot::read(snap)
                        .and_then(|st| Engine::with_state(festival.clone(), st).map_err(|e| e.to_string()))
                    {
                        Ok(e) => e,
                        Err(why) => {
                            report.warnings.push(format!("skipped snapshot {}: {why}", snap.display()));
                            continue;
                        }
                    }
                }
            };
            let from_seq = engine.state().events;
            let segments = segment::list(&log_dir).map_err(io_err(&log_dir))?;
            let mut attempt = OpenReport::default();
            let (seg_path, committed_len, next_seq) =
                replay(&segments, &mut engine, from_seq, opts.recovery, false, &mut attempt)?;
            report.truncated_bytes += attempt.truncated_bytes;
            report.warnings.append(&mut attempt.warnings);
            if let Some((seq, snap)) = &candidate {
                if next_seq - 1 < *seq {
                    report.warnings.push(format!(
                        "skipped snapshot {}: it holds {seq} events but the log ends at event {}",
                        snap.display(),
                        next_seq - 1
                    ));
                    continue;
                }
                report.snapshot_seq = Some(*seq);
            }
            report.events_replayed = attempt.events_replayed;
            found = Some((engine, seg_path, committed_len, next_seq));
            break;
        }
        let (engine, seg_path, committed_len, next_seq) = found.expect("the no-snapshot candidate always succeeds");
        let (seg_path, committed_len) = match seg_path {
            Some(p) => (p, committed_len),
            None => {
                let p = log_dir.join(segment::name(next_seq));
                (p, 0)
            }
        };
        let mut file = opts.io.open_append(&seg_path).map_err(io_err(&seg_path))?;
        let committed_len = if committed_len < segment::HEADER_LEN {
            file.truncate(0).map_err(io_err(&seg_path))?;
            file.write_all(&segment::header()).and_then(|_| file.sync()).map_err(io_err(&seg_path))?;
            opts.io.sync_dir(&log_dir).map_err(io_err(&log_dir))?;
            segment::HEADER_LEN
        } else {
            committed_len
        };
        let last_snapshot_seq = report.snapshot_seq.unwrap_or(0);
        let writer = Writer {
            file,
            path: seg_path,
            committed_len,
            buf: Vec::new(),
            last_record: None,
            next_seq,
            batch_first_seq: next_seq,
        };
        Ok((
            DataDir {
                path: path.to_path_buf(),
                _lock: lock,
                engine,
                writer,
                opts,
                poisoned: None,
                events: Vec::new(),
                payload: Vec::new(),
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

    /// Decides and applies a command and buffers its events for the next `commit`.
    /// Nothing is durable, and nothing may be acknowledged, until that commit returns.
    pub fn execute(&mut self, c: &Command) -> Result<(), Rejection> {
        if let Some(why) = &self.poisoned {
            return Err(Rejection::new(
                Code::Unavailable,
                format!("the data directory failed a write ({why}); restart it"),
            ));
        }
        self.events.clear();
        self.engine.execute(c, &mut self.events)?;
        let w = &mut self.writer;
        for ev in &self.events {
            self.payload.clear();
            codec::encode(ev, &mut self.payload);
            w.last_record = Some(segment::push_record(&mut w.buf, w.next_seq, 0, &self.payload));
            w.next_seq += 1;
        }
        Ok(())
    }

    /// Writes the buffered batch and fsyncs once. On failure the directory is poisoned.
    pub fn commit(&mut self) -> Result<(), StoreError> {
        if let Some(why) = &self.poisoned {
            return Err(StoreError::Poisoned(why.clone()));
        }
        let Some(last) = self.writer.last_record.take() else {
            return Ok(());
        };
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
        Ok(())
    }

    fn write_batch(&mut self, last: usize) -> Result<(), StoreError> {
        let log_dir = self.path.join(LOG_DIR);
        let w = &mut self.writer;
        segment::mark_commit(&mut w.buf, last);
        if w.committed_len >= self.opts.segment_bytes {
            // Rotate between batches: the new segment is named after the batch's first seq.
            let path = log_dir.join(segment::name(w.batch_first_seq));
            let mut file = self.opts.io.open_append(&path).map_err(io_err(&path))?;
            file.write_all(&segment::header()).and_then(|_| file.sync()).map_err(io_err(&path))?;
            self.opts.io.sync_dir(&log_dir).map_err(io_err(&log_dir))?;
            w.file = file;
            w.path = path;
            w.committed_len = segment::HEADER_LEN;
        }
        w.file.write_all(&w.buf).map_err(io_err(&w.path))?;
        w.file.sync().map_err(io_err(&w.path))?;
        w.committed_len += w.buf.len() as u64;
        w.buf.clear();
        w.batch_first_seq = w.next_seq;
        Ok(())
    }

    /// Writes a snapshot of the committed state. Call only with nothing pending.
    pub fn snapshot(&mut self) -> Result<PathBuf, StoreError> {
        debug_assert!(self.writer.buf.is_empty(), "snapshot with uncommitted events");
        let p = snapshot::write(self.opts.io.as_ref(), &self.path, self.engine.state()).map_err(io_err(&self.path))?;
        self.last_snapshot_seq = self.engine.state().events;
        Ok(p)
    }

    /// Commits what is pending and writes a snapshot: a clean shutdown.
    pub fn close(mut self) -> Result<(), StoreError> {
        self.commit()?;
        if self.engine.state().events > self.last_snapshot_seq {
            self.snapshot()?;
        }
        Ok(())
    }
}

/// Locks a data directory and loads the festival it was created from.
fn lock_and_load(path: &Path) -> Result<(fs::File, Arc<Festival>), StoreError> {
    let fest_path = path.join(FESTIVAL_FILE);
    if !fest_path.exists() {
        return Err(StoreError::NotADataDir(path.to_path_buf()));
    }
    let lock = lock(path)?;
    Ok((lock, Arc::new(load_festival(&fest_path)?.0)))
}

/// Takes the directory's exclusive lock (`DIR/LOCK`, flock), failing at once if held.
fn lock(path: &Path) -> Result<fs::File, StoreError> {
    let p = path.join("LOCK");
    let f = fs::OpenOptions::new().create(true).truncate(false).write(true).open(&p).map_err(io_err(&p))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(fs::TryLockError::WouldBlock) => Err(StoreError::Locked(path.to_path_buf())),
        Err(fs::TryLockError::Error(e)) => Err(StoreError::Io { path: p, source: e }),
    }
}

/// Replays segments into `engine`, applying only events after `from_seq`. Returns the
/// last segment's path, its committed length and the next sequence number. With
/// `read_only`, nothing on disk is changed (verify).
fn replay(
    segments: &[(u64, PathBuf)],
    engine: &mut Engine,
    from_seq: u64,
    recovery: Recovery,
    read_only: bool,
    report: &mut OpenReport,
) -> Result<(Option<PathBuf>, u64, u64), StoreError> {
    let mut next_seq = 1;
    // Segments that end before `from_seq` need not be read: their successor starts at or
    // before from_seq + 1.
    let start = segments.iter().rposition(|(first, _)| *first <= from_seq + 1).unwrap_or(0);
    if let Some((first, _)) = segments.get(start) {
        next_seq = *first;
    }
    let mut last = (None, 0u64);
    for (i, (first, path)) in segments.iter().enumerate().skip(start) {
        if *first != next_seq {
            return Err(StoreError::Corrupt {
                path: path.clone(),
                offset: 0,
                reason: format!("segment starts at event {first} but the previous one ended at {}", next_seq - 1),
            });
        }
        let data = fs::read(path).map_err(io_err(path))?;
        let is_last = i + 1 == segments.len();
        let scan = segment::scan(&data, *first, |batch| {
            for (seq, payload) in batch {
                if *seq <= from_seq {
                    continue;
                }
                let ev = codec::decode(payload)?;
                engine.apply(&ev).map_err(|e| e.to_string())?;
                report.events_replayed += 1;
            }
            Ok(())
        });
        next_seq = scan.last_seq + 1;
        let cut = match &scan.end {
            segment::End::Clean => None,
            segment::End::Incomplete { at } if is_last => {
                report.truncated_bytes += data.len() as u64 - at;
                report.warnings.push(format!(
                    "{}: cut an incomplete final batch of {} bytes at offset {at} (a torn write)",
                    path.display(),
                    data.len() as u64 - at
                ));
                Some(*at)
            }
            segment::End::Incomplete { at } | segment::End::Corrupt { at, .. } => {
                let reason = match &scan.end {
                    segment::End::Corrupt { reason, .. } => reason.clone(),
                    _ => "incomplete batch in a segment that is not the last".into(),
                };
                if recovery != Recovery::TruncateCorrupt {
                    return Err(StoreError::Corrupt { path: path.clone(), offset: *at, reason });
                }
                report.warnings.push(format!(
                    "{}: dropped everything from offset {at} on ({reason}), and {} later segment(s)",
                    path.display(),
                    segments.len() - i - 1
                ));
                report.truncated_bytes += data.len() as u64 - scan.committed_len;
                if !read_only {
                    for (_, later) in &segments[i + 1..] {
                        fs::remove_file(later).map_err(io_err(later))?;
                    }
                }
                Some(scan.committed_len)
            }
        };
        if let Some(len) = cut {
            if !read_only {
                let f = fs::OpenOptions::new().write(true).open(path).map_err(io_err(path))?;
                f.set_len(len).and_then(|_| f.sync_all()).map_err(io_err(path))?;
            }
            last = (Some(path.clone()), len);
            if recovery == Recovery::TruncateCorrupt && !is_last {
                break;
            }
        } else {
            last = (Some(path.clone()), data.len() as u64);
        }
    }
    Ok((last.0, last.1, next_seq))
}

/// Rebuilds the state from the log alone, ignoring snapshots and changing nothing on disk.
pub fn rebuild_from_log(path: &Path) -> Result<(Engine, OpenReport), StoreError> {
    let (_lock, festival) = lock_and_load(path)?;
    let log_dir = path.join(LOG_DIR);
    let segments = segment::list(&log_dir).map_err(io_err(&log_dir))?;
    let mut engine = Engine::new(festival);
    let mut report = OpenReport::default();
    replay(&segments, &mut engine, 0, Recovery::Strict, true, &mut report)?;
    Ok((engine, report))
}
