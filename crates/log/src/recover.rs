//! Recovery: from the files of a data directory to a state, and to the list of repairs
//! that only a writer may make. Reading changes nothing on disk; the writer
//! ([`crate::DataDir`]) carries out the [`Repair`]s afterwards.
//!
//! 1. Every segment's header is read: names and headers must agree, the log must start
//!    at event 1, and all segments must belong to one log (one log id).
//! 2. Snapshots are read newest first. One of another log is skipped with a warning;
//!    one of this log proves that its events were committed, even if it is unusable.
//! 3. The log is replayed from the snapshot (or from event 1): the chain value where the
//!    snapshot sits must equal the snapshot's, or the snapshot is skipped.
//! 4. The end of the log decides: a clean end; a torn tail of the last segment, which a
//!    writer cuts; or corruption, which is refused — or cut, with `truncate-corrupt`.
//!    A cut that would drop events a snapshot proves were committed is corruption.

use crate::chain::{self, Chain, LogId};
use crate::codec;
use crate::segment::{self, End, Header, HeaderProblem};
use crate::snapshot;
use crate::{io_err, OpenReport, Options, Recovery, StoreError};
use dacu_core::{Engine, Festival};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One segment file, its header read.
#[derive(Debug, Clone)]
pub(crate) struct Seg {
    pub first: u64,
    pub path: PathBuf,
    /// `None` when the file is shorter than a header (a creation cut short); only the last
    /// segment may be so.
    pub header: Option<Header>,
}

/// What a writer must do before appending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Repair {
    Truncate { path: PathBuf, len: u64 },
    RemoveSegment(PathBuf),
    RemoveSnapshot(PathBuf),
}

/// Where the log ends: the writer continues there.
#[derive(Debug, Clone)]
pub(crate) struct Tail {
    /// The last segment and the length of its committed prefix, or `None` for no segment.
    pub segment: Option<(Seg, u64)>,
    pub next_seq: u64,
    pub chain: Chain,
}

pub(crate) struct Recovered {
    pub engine: Engine,
    pub log_id: LogId,
    pub tail: Tail,
    pub repairs: Vec<Repair>,
    pub report: OpenReport,
}

/// Reads the segments' headers and checks that they form one log starting at event 1.
pub(crate) fn segments(log_dir: &Path) -> Result<(Vec<Seg>, LogId), StoreError> {
    let names = segment::list(log_dir).map_err(io_err(log_dir))?;
    let mut segs = Vec::with_capacity(names.len());
    let mut log_id = None;
    for (i, (first, path)) in names.iter().enumerate() {
        let bytes = read_prefix(path, segment::HEADER_LEN as usize)?;
        let corrupt = |reason: String| StoreError::Corrupt { path: path.clone(), offset: 0, reason };
        let header = match segment::parse_header(&bytes, *first) {
            Ok(h) => Some(h),
            Err(HeaderProblem::Short) if i + 1 == names.len() => None,
            Err(HeaderProblem::Short) => return Err(corrupt("the segment is shorter than its header".into())),
            Err(HeaderProblem::Bad(reason)) => return Err(corrupt(reason)),
        };
        if i == 0 && *first != 1 {
            return Err(corrupt(format!(
                "the log starts at event {first}: the segments holding events 1 to {} are missing",
                first - 1
            )));
        }
        if let Some(h) = &header {
            if h.version == segment::VERSION {
                match log_id {
                    None => log_id = Some(h.log_id),
                    Some(id) if id != h.log_id => {
                        return Err(corrupt(format!(
                            "the segment belongs to log {}, the segments before it to log {}",
                            chain::hex(&h.log_id),
                            chain::hex(&id)
                        )))
                    }
                    _ => {}
                }
            } else if log_id.is_some() {
                return Err(corrupt("a format 1 segment after a format 2 one".into()));
            }
        }
        segs.push(Seg { first: *first, path: path.clone(), header });
    }
    Ok((segs, log_id.unwrap_or([0; 16])))
}

fn read_prefix(path: &Path, n: usize) -> Result<Vec<u8>, StoreError> {
    use std::io::Read;
    let mut buf = Vec::with_capacity(n);
    std::fs::File::open(path).and_then(|f| f.take(n as u64).read_to_end(&mut buf)).map_err(io_err(path))?;
    Ok(buf)
}

/// The snapshots of this log (header checked), newest first, with warnings for the rest.
fn snapshots(data: &Path, log_id: &LogId, report: &mut OpenReport) -> Result<Vec<snapshot::Meta>, StoreError> {
    let mut mine = Vec::new();
    for (_, path) in snapshot::list(data).map_err(io_err(data))? {
        match snapshot::read_meta(&path) {
            Ok(m) if m.log_id == *log_id => mine.push(m),
            Ok(m) => report.warnings.push(format!(
                "skipped snapshot {}: it was taken from another log (id {}), not this directory's (id {})",
                path.display(),
                chain::hex(&m.log_id),
                chain::hex(log_id)
            )),
            Err(why) => report.warnings.push(format!("skipped snapshot {}: {why}", path.display())),
        }
    }
    Ok(mine)
}

/// Loads a snapshot's state into an engine, refusing one that is inconsistent. A panic
/// while checking it (a state no dacu build wrote) is caught and refuses it too.
fn load(festival: &Arc<Festival>, meta: &snapshot::Meta) -> Result<Engine, String> {
    let state = snapshot::read_state(meta)?;
    let f = festival.clone();
    let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        state.check(&f).map_err(|e| format!("inconsistent state: {e}"))?;
        Engine::with_state(f, state).map_err(|e| e.to_string())
    }));
    checked.unwrap_or_else(|_| Err("inconsistent state (it failed its checks)".into()))
}

/// Recovers the state of the directory at `data` without changing anything on disk.
pub(crate) fn recover(data: &Path, festival: Arc<Festival>, opts: &Options) -> Result<Recovered, StoreError> {
    let log_dir = data.join(crate::LOG_DIR);
    let (segs, log_id) = segments(&log_dir)?;
    let mut report = OpenReport::default();
    let snaps = snapshots(data, &log_id, &mut report)?;
    let proven = snaps.first().map(|m| (m.seq, m.path.clone()));
    if segs.is_empty() {
        if let Some((seq, path)) = &proven {
            return Err(StoreError::Corrupt {
                path: log_dir,
                offset: 0,
                reason: format!(
                    "the log holds no segment, but snapshot {} shows {seq} events were committed",
                    path.display()
                ),
            });
        }
    }
    let mut candidates: Vec<Option<&snapshot::Meta>> =
        if opts.use_snapshots { snaps.iter().map(Some).collect() } else { Vec::new() };
    candidates.push(None);
    for cand in candidates {
        let mut limit = (u64::MAX, String::new());
        loop {
            let engine = match cand {
                None => Engine::new(festival.clone()),
                Some(m) => match load(&festival, m) {
                    Ok(e) => e,
                    Err(why) => {
                        report.warnings.push(format!("skipped snapshot {}: {why}", m.path.display()));
                        break;
                    }
                },
            };
            let mut rp = Replay {
                engine,
                format1: festival.format1_context(),
                snap: cand,
                reached: cand.is_none(),
                replayed: 0,
                limit: limit.clone(),
                failed: None,
            };
            let end = match rp.run(&segs, &log_id)? {
                Ok(end) => end,
                Err(why) => {
                    let m = cand.expect("only a snapshot can mismatch");
                    report.warnings.push(format!("skipped snapshot {}: {why}", m.path.display()));
                    break;
                }
            };
            if let (Some(failed), Recovery::TruncateCorrupt) = (rp.failed.take(), opts.recovery) {
                // A batch failed part way through being applied: replay again, stopping
                // before it, so that no part of it is served.
                limit = failed;
                continue;
            }
            report.snapshot_seq = cand.map(|m| m.seq);
            report.events_replayed = rp.replayed;
            let (tail, repairs) = decide_end(end, &segs, &snaps, proven.as_ref(), opts.recovery, &mut report)?;
            return Ok(Recovered { engine: rp.engine, log_id, tail, repairs, report });
        }
    }
    unreachable!("the last candidate, no snapshot, always decides")
}

/// How a replay ended: the segment index the log ends in, and its scan.
struct LogEnd {
    seg: usize,
    scan: segment::Scan,
}

struct Replay<'a> {
    engine: Engine,
    /// What format 1 records leave to the festival file (crate::codec).
    format1: codec::Context,
    snap: Option<&'a snapshot::Meta>,
    /// Whether the replay has passed the snapshot's position (so events apply).
    reached: bool,
    replayed: u64,
    /// No event after this seq is applied; a batch beyond it fails with the reason.
    limit: (u64, String),
    /// A batch (its first seq − 1, and why) that failed after part of it was applied.
    failed: Option<(u64, String)>,
}

impl Replay<'_> {
    /// Replays the segments from the one that holds the event after the snapshot. The
    /// inner error says why the snapshot does not fit this log.
    fn run(&mut self, segs: &[Seg], log_id: &LogId) -> Result<Result<LogEnd, String>, StoreError> {
        let from = self.snap.map_or(0, |m| m.seq);
        let mut start = segs.iter().rposition(|s| s.first <= from + 1).unwrap_or(0);
        // A format 1 segment records no chain value: compute it from the start.
        if segs.iter().take(start + 1).any(|s| s.header.as_ref().is_some_and(|h| h.version == segment::v1::VERSION)) {
            start = 0;
        }
        let mut chain = match segs.get(start).and_then(|s| s.header.as_ref()) {
            Some(h) => h.chain.unwrap_or_else(|| chain::genesis(log_id)),
            None => chain::genesis(log_id),
        };
        let mut next_seq = segs.get(start).map_or(1, |s| s.first);
        if from == 0 {
            self.reached = true;
        }
        let mut last: Option<LogEnd> = None;
        for (i, seg) in segs.iter().enumerate().skip(start) {
            let corrupt = |reason: String| StoreError::Corrupt { path: seg.path.clone(), offset: 0, reason };
            if seg.first != next_seq {
                return Err(corrupt(format!(
                    "the segment starts at event {} but the one before it ends at event {}: events are missing",
                    seg.first,
                    next_seq - 1
                )));
            }
            let Some(header) = &seg.header else {
                // A last segment whose header was never completed holds nothing.
                last = Some(LogEnd {
                    seg: i,
                    scan: segment::Scan {
                        committed_len: 0,
                        last_seq: next_seq - 1,
                        chain,
                        end: End::Incomplete { at: 0 },
                    },
                });
                break;
            };
            if i > start && header.chain.is_some_and(|c| c != chain) {
                return Err(corrupt("the segment's header does not continue the chain of the one before it".into()));
            }
            let data = std::fs::read(&seg.path).map_err(io_err(&seg.path))?;
            let mut mismatch = None;
            let scan = segment::scan(&data, header, chain, |b| self.batch(b, &mut mismatch));
            if let Some(why) = mismatch {
                return Ok(Err(why));
            }
            next_seq = scan.last_seq + 1;
            chain = scan.chain;
            let ended = scan.end != End::Clean;
            if ended && !self.reached {
                // Damage below the snapshot: its chain cannot be checked. The replay from
                // an older snapshot, or from event 1, decides what the damage means.
                let m = self.snap.expect("not reached implies a snapshot");
                return Ok(Err(format!("the log is damaged before event {}", m.seq)));
            }
            last = Some(LogEnd { seg: i, scan });
            if ended {
                break;
            }
        }
        if !self.reached {
            let m = self.snap.expect("not reached implies a snapshot");
            return Ok(Err(format!("it holds {} events but the log ends at event {}", m.seq, next_seq - 1)));
        }
        Ok(Ok(last.unwrap_or(LogEnd {
            seg: 0,
            scan: segment::Scan { committed_len: 0, last_seq: 0, chain, end: End::Clean },
        })))
    }

    fn batch(&mut self, b: segment::Batch<'_>, mismatch: &mut Option<String>) -> Result<(), String> {
        let (first, last) = (b.records[0].0, b.records[b.records.len() - 1].0);
        if !self.reached {
            let m = self.snap.expect("not reached implies a snapshot");
            if last < m.seq {
                return Ok(());
            }
            if last > m.seq || b.chain != m.chain {
                *mismatch = Some(format!(
                    "it does not match this log at event {} (it was taken from another copy of the log, or from this log before it was cut)",
                    m.seq
                ));
                return Err("snapshot mismatch".into());
            }
            self.reached = true;
            return Ok(());
        }
        debug_assert!(first > self.engine.state().events);
        if last > self.limit.0 {
            return Err(self.limit.1.clone());
        }
        // Decode the whole batch before applying any of it: a batch is all or nothing.
        // Sized up front: collecting through a `Result` cannot see the length, and growing
        // a vector of a few thousand events by doubling copies megabytes per batch.
        let mut events = Vec::with_capacity(b.records.len());
        for (_, p) in b.records.iter() {
            events.push(codec::decode(p, &self.format1)?);
        }
        for ev in &events {
            if let Err(e) = self.engine.apply(ev) {
                let reason = e.to_string();
                self.failed = Some((first - 1, reason.clone()));
                return Err(reason);
            }
            self.replayed += 1;
        }
        Ok(())
    }
}

/// Decides what the end of the log means and what a writer must repair.
fn decide_end(
    end: LogEnd,
    segs: &[Seg],
    snaps: &[snapshot::Meta],
    proven: Option<&(u64, PathBuf)>,
    recovery: Recovery,
    report: &mut OpenReport,
) -> Result<(Tail, Vec<Repair>), StoreError> {
    let LogEnd { seg: i, scan } = end;
    let mut repairs = Vec::new();
    let tail =
        |len| Tail { segment: segs.get(i).map(|s| (s.clone(), len)), next_seq: scan.last_seq + 1, chain: scan.chain };
    let below_proof = proven.filter(|(seq, _)| scan.last_seq < *seq);
    if scan.end == End::Clean && below_proof.is_none() {
        return Ok((tail(scan.committed_len), repairs));
    }
    let seg = &segs[i];
    let is_last = i + 1 == segs.len();
    let file_len = std::fs::metadata(&seg.path).map_err(io_err(&seg.path))?.len();
    let cut_bytes = file_len - scan.committed_len;
    let torn = matches!(scan.end, End::Incomplete { .. }) && is_last;
    if torn && below_proof.is_none() {
        if cut_bytes > 0 {
            report.truncated_bytes += cut_bytes;
            report.warnings.push(format!(
                "{}: an incomplete final batch of {cut_bytes} bytes at offset {} (a torn write)",
                seg.path.display(),
                scan.committed_len
            ));
        }
        repairs.push(Repair::Truncate { path: seg.path.clone(), len: scan.committed_len });
        return Ok((tail(scan.committed_len), repairs));
    }
    let (at, reason) = match &scan.end {
        End::Clean => (file_len, "the log ends here".to_string()),
        End::Incomplete { at } if is_last => (*at, "an incomplete final batch".into()),
        End::Incomplete { at } => (*at, "an incomplete batch in a segment that is not the last".into()),
        End::Corrupt { at, reason } => (*at, reason.clone()),
    };
    let reason = match below_proof {
        Some((seq, path)) => format!(
            "{reason}; the log ends at event {}, but snapshot {} shows events through {seq} were committed \
             (the log lost them, or the snapshot was copied from another copy of this directory)",
            scan.last_seq,
            path.display()
        ),
        None => reason,
    };
    if recovery != Recovery::TruncateCorrupt {
        return Err(StoreError::Corrupt { path: seg.path.clone(), offset: at, reason });
    }
    // Snapshots above the cut go first, then later segments from the last back, then the
    // cut itself: a crash between any two steps leaves a directory that the same repair
    // finishes, never one whose snapshot outruns its log or whose segments have a gap.
    for m in snaps.iter().filter(|m| m.seq > scan.last_seq) {
        report.warnings.push(format!(
            "{}: holds events the log no longer has (through {}; the log ends at event {})",
            m.path.display(),
            m.seq,
            scan.last_seq
        ));
        repairs.push(Repair::RemoveSnapshot(m.path.clone()));
    }
    if scan.end != End::Clean {
        let later: u64 = segs[i + 1..].iter().map(|s| std::fs::metadata(&s.path).map_or(0, |m| m.len())).sum();
        report.truncated_bytes += cut_bytes + later;
        report.warnings.push(format!(
            "{}: everything from offset {} on is dropped ({reason}), and {} later segment(s)",
            seg.path.display(),
            scan.committed_len,
            segs.len() - i - 1
        ));
        repairs.extend(segs[i + 1..].iter().rev().map(|s| Repair::RemoveSegment(s.path.clone())));
        repairs.push(Repair::Truncate { path: seg.path.clone(), len: scan.committed_len });
    }
    Ok((tail(scan.committed_len), repairs))
}
