//! `dacu ingest`: applies a command stream to a data directory through the node runtime,
//! committing on size or time and optionally acknowledging each commit
//! (docs/cli.md#ingest).
//!
//! Two threads of its own beside the node's: one reads and parses the lines and submits
//! them in chunks; the calling thread reports each chunk's outcomes, in input order, once
//! the node says they are durable.

mod read;
mod secrets;

use anyhow::Context;
use dacu_core::{parse_line, Code};
use dacu_log::{DataDir, Options};
use dacu_node::{Node, NodeConfig, Outcome, Reply, Request};
use read::{Lines, Raw};
use serde_json::json;
use std::io::{self, Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The most commands applied between two commits. Each commit is one write and one
/// fsync; the commands in it are acknowledged (counted as accepted) only after it returns.
pub const BATCH: u64 = 8192;

/// A batch closes at most this long after its first line arrived, even while the input
/// is idle, so a slow producer's lines become durable and acknowledged promptly.
pub const DEFAULT_COMMIT_MS: u64 = 5;

/// The largest `--commit-ms`.
pub const MAX_COMMIT_MS: u64 = 10_000;

/// How `ingest` closes batches and whom it tells.
pub struct Config<'a> {
    /// Close a batch this many milliseconds after its first line (0: as soon as the lines
    /// read so far are applied).
    pub commit_ms: u64,
    /// One JSON line per commit: what is decided and durable (docs/cli.md#acknowledgements).
    pub acks: Option<Box<dyn Write + 'a>>,
}

impl Default for Config<'_> {
    fn default() -> Self {
        Config { commit_ms: DEFAULT_COMMIT_MS, acks: None }
    }
}

pub struct Args<'a> {
    pub data: &'a Path,
    pub festival: Option<&'a Path>,
    pub input: Option<&'a Path>,
    pub strict: bool,
    pub commit_ms: u64,
    /// `-` for standard output, else a file (or a FIFO, or `/dev/fd/N`).
    pub acks: Option<&'a Path>,
}

pub fn run(a: Args<'_>, opts: Options) -> anyhow::Result<ExitCode> {
    let snapshot_every = opts.snapshot_every;
    let (dir, rep) = DataDir::open_or_create(a.data, a.festival, opts)
        .with_context(|| format!("cannot open data directory {}", a.data.display()))?;
    super::warn(&rep);
    let reader: Box<dyn Read + Send> = match a.input {
        None => Box::new(io::stdin()),
        Some(p) if p == Path::new("-") => Box::new(io::stdin()),
        Some(p) => Box::new(std::fs::File::open(p).with_context(|| format!("cannot read {}", p.display()))?),
    };
    let acks: Option<Box<dyn Write>> = match a.acks {
        None => None,
        Some(p) if p == Path::new("-") => Some(Box::new(io::stdout())),
        Some(p) => Some(Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .with_context(|| format!("cannot write acknowledgements to {}", p.display()))?,
        )),
    };
    let cfg = Config { commit_ms: a.commit_ms, acks };
    let node = Node::start(dir, node_config(&cfg, snapshot_every)).context("starting the node")?;
    let fed = feed(&node, reader, &mut io::stderr(), &mut Vec::new(), cfg);
    let shut = node.shutdown();
    let s = match (fed, shut) {
        (Ok(s), Ok(down)) => {
            let closed = match down.snapshot {
                Ok(()) => super::Closed::Ok,
                Err(why) => super::Closed::SnapshotFailed(why),
            };
            println!("{}", json!({ "accepted": s.accepted, "rejected": s.rejected }));
            return Ok(closed.exit(if a.strict && s.rejected > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS }));
        }
        (Ok(s), Err(e)) => (s, anyhow::Error::from(e)),
        (Err((s, e)), _) => (s, e),
    };
    // Print what was durably accepted before the failure, then fail.
    println!("{}", json!({ "accepted": s.0.accepted, "rejected": s.0.rejected }));
    Err(s.1)
}

/// Chunks of input queued for the writer at most: enough to keep it busy, few enough
/// that memory stays flat and a chunk waits little.
const QUEUED_CHUNKS: usize = 4;

/// The node's settings for an ingest: batches by size or `--commit-ms`, no read view
/// (nothing reads during an ingest, and both cores go to parsing and the writer).
pub fn node_config(cfg: &Config<'_>, snapshot_every: u64) -> NodeConfig {
    NodeConfig {
        queue_requests: QUEUED_CHUNKS,
        batch_commands: BATCH as usize,
        batch_wait: Duration::from_millis(cfg.commit_ms),
        read_view: false,
        snapshot_every,
        ..NodeConfig::default()
    }
}

/// One rejection as printed on stderr, fields in this order.
#[derive(serde::Serialize)]
struct RejectedLine<'a> {
    line: u64,
    code: Code,
    message: &'a str,
}

/// One acknowledgement line, fields in this order.
#[derive(serde::Serialize)]
struct Ack {
    durable_through_line: u64,
    accepted: u64,
    rejected: u64,
    events: u64,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Summary {
    pub accepted: u64,
    pub rejected: u64,
}

/// Lines parsed into one request, at most.
const CHUNK_LINES: usize = 4096;

type Parsed = Result<dacu_core::Command, dacu_core::Rejection>;

/// What the reporter needs to know of a chunk besides its outcomes: each line's number
/// and, for a line that did not parse, why (the others have an outcome each, in order).
struct Record {
    lines: Vec<(u64, Option<dacu_core::Rejection>)>,
    /// Every line up to this one (blank lines included) was read into this chunk or an
    /// earlier one.
    through_line: u64,
    /// When the chunk's first line was read.
    started: Instant,
    /// A read error after the chunk's lines: the input stops there.
    error: Option<io::Error>,
}

/// Applies every line of `reader` through a node over `dir` with the default commit
/// policy, then hands the directory back. Rejections go to `errors` as JSON lines.
/// Commands count as accepted only once the commit holding their events is durable. On
/// a storage or read failure, returns what was durably accepted so far with the error.
pub fn ingest(
    dir: DataDir,
    reader: impl Read + Send,
    errors: &mut impl Write,
) -> Result<(DataDir, Summary), (Summary, anyhow::Error)> {
    let snapshot_every = Options::default().snapshot_every;
    let cfg = Config::default();
    let node = Node::start(dir, node_config(&cfg, snapshot_every)).map_err(|e| (Summary::default(), e.into()))?;
    let s = feed(&node, reader, errors, &mut Vec::new(), cfg);
    let dir = node.into_dir();
    match (s, dir) {
        (Ok(s), Ok(dir)) => Ok((dir, s)),
        (Ok(s), Err(e)) => Err((s, e.into())),
        (Err(e), _) => Err(e),
    }
}

/// Feeds every line of `reader` to `node`, reporting as [`ingest`] does, also recording
/// for each chunk of input how long it took from its first line being read to its
/// acknowledgement (the latency a producer of those lines waits), in microseconds.
pub fn feed(
    node: &Node,
    reader: impl Read + Send,
    errors: &mut impl Write,
    latency_us: &mut Vec<u64>,
    cfg: Config<'_>,
) -> Result<Summary, (Summary, anyhow::Error)> {
    // The reporter's queue is bounded by the node's: one entry per request in flight.
    let (tx, rx) = crossbeam_channel::unbounded::<(Record, Reply)>();
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let stop = &stop;
        let reading = scope.spawn(move || parse_lines(Lines::new(reader), node, tx, stop));
        let mut r = Reporter {
            errors: io::BufWriter::new(errors),
            acks: cfg.acks,
            latency_us,
            s: Summary::default(),
            acked_line: 0,
            failed: None,
        };
        r.report(rx);
        stop.store(true, Ordering::SeqCst);
        let _ = reading.join();
        let _ = r.errors.flush();
        match r.failed.take() {
            None => Ok(r.s),
            Some(e) => Err((r.s, e)),
        }
    })
}

/// The parse stage. A chunk goes to the node when it is full or when the input has
/// nothing more buffered, so lines from a slow producer never wait for later ones.
fn parse_lines<R: Read>(
    mut lines: Lines<R>,
    node: &Node,
    tx: crossbeam_channel::Sender<(Record, Reply)>,
    stop: &AtomicBool,
) {
    let mut line_no = 0u64;
    while !stop.load(Ordering::SeqCst) {
        let mut rec = Record { lines: Vec::new(), through_line: line_no, started: Instant::now(), error: None };
        let mut commands = Vec::with_capacity(CHUNK_LINES);
        let mut done = false;
        while rec.lines.len() < CHUNK_LINES {
            let raw = match lines.next_line() {
                Ok(Some(raw)) => raw,
                Ok(None) => {
                    done = true;
                    break;
                }
                Err(e) => {
                    rec.error = Some(io::Error::new(e.kind(), format!("reading line {}: {e}", line_no + 1)));
                    break;
                }
            };
            line_no += 1;
            rec.through_line = line_no;
            match decode(raw) {
                Ok(None) => {}
                Ok(Some(Ok(c))) => {
                    commands.push(c);
                    rec.lines.push((line_no, None));
                }
                Ok(Some(Err(r))) => rec.lines.push((line_no, Some(r))),
                Err(e) => {
                    rec.error = Some(io::Error::new(e.kind(), format!("line {line_no}: {e}")));
                    break;
                }
            }
            if !lines.has_buffered() {
                break;
            }
        }
        let stops = rec.error.is_some();
        let tx = tx.clone();
        let req = Request {
            commands,
            stamp: dacu_node::Stamp::None,
            want_events: false,
            key: None,
            reply: Box::new(move |reply| {
                let _ = tx.send((rec, reply));
            }),
        };
        // A node that stopped takes nothing more: the reporter says why.
        if node.submit(req).is_err() || done || stops {
            return;
        }
    }
}

/// One line as the node gets it: `None` for a blank line, else the command with what
/// the shell fills in, or why the line is rejected. Fails only if the OS random source
/// does.
fn decode(raw: Raw<'_>) -> io::Result<Option<Parsed>> {
    Ok(Some(match raw {
        Raw::Text(text) if text.trim().is_empty() => return Ok(None),
        Raw::Text(text) => match parse_line(text) {
            Ok(mut c) => {
                secrets::fill(&mut c)?;
                Ok(c)
            }
            Err(r) => Err(r),
        },
        Raw::TooLong => Err(dacu_core::command::line_too_long()),
        Raw::NotUtf8(at) => Err(dacu_core::command::not_utf8(at)),
    }))
}

/// The report stage: each chunk's rejections on stderr and its counts, in input order,
/// and an acknowledgement once a commit has made lines durable.
struct Reporter<'d, 'a, E: Write> {
    errors: io::BufWriter<E>,
    acks: Option<Box<dyn Write + 'a>>,
    latency_us: &'d mut Vec<u64>,
    /// Durably accepted and rejected so far.
    s: Summary,
    /// The last `durable_through_line` acknowledged.
    acked_line: u64,
    /// Why ingest stops early (a failed write, a read error).
    failed: Option<anyhow::Error>,
}

impl<E: Write> Reporter<'_, '_, E> {
    fn report(&mut self, rx: crossbeam_channel::Receiver<(Record, Reply)>) {
        while let Ok(first) = rx.recv() {
            // Everything already answered goes under one acknowledgement.
            let mut last = self.chunk(first);
            while let Ok(next) = rx.try_recv() {
                last = self.chunk(next).or(last);
            }
            if let (Some((line, events)), None) = (last, &self.failed) {
                if let Err(e) = self.ack(line, events) {
                    self.failed = Some(e);
                }
            }
            // After a failure, the rest is drained unreported so the node can stop.
        }
    }

    /// Counts one chunk; returns its last line and the durable position to acknowledge.
    fn chunk(&mut self, (rec, reply): (Record, Reply)) -> Option<(u64, u64)> {
        if self.failed.is_some() {
            return None;
        }
        let mut outcomes = reply.outcomes.into_iter();
        for (line, parse_error) in rec.lines {
            let rejection = match parse_error {
                Some(r) => r,
                None => match outcomes.next().expect("one outcome per command") {
                    Outcome::Accepted { .. } => {
                        self.s.accepted += 1;
                        continue;
                    }
                    Outcome::Rejected(r) if r.code == Code::Unavailable => {
                        self.failed = Some(anyhow::anyhow!("{}", r.message));
                        return None;
                    }
                    Outcome::Rejected(r) => r,
                },
            };
            self.s.rejected += 1;
            let _ = serde_json::to_writer(
                &mut self.errors,
                &RejectedLine { line, code: rejection.code, message: &rejection.message },
            );
            let _ = self.errors.write_all(b"\n");
        }
        self.latency_us.push(rec.started.elapsed().as_micros() as u64);
        if let Some(e) = rec.error {
            self.failed = Some(e.into());
            return None;
        }
        Some((rec.through_line, reply.durable_seq))
    }

    fn ack(&mut self, line: u64, events: u64) -> anyhow::Result<()> {
        let _ = self.errors.flush();
        if line <= self.acked_line {
            return Ok(());
        }
        self.acked_line = line;
        let Some(out) = self.acks.as_mut() else { return Ok(()) };
        let ack = Ack { durable_through_line: line, accepted: self.s.accepted, rejected: self.s.rejected, events };
        let mut text = serde_json::to_vec(&ack).expect("an ack serialises");
        text.push(b'\n');
        out.write_all(&text).and_then(|()| out.flush()).context("writing an acknowledgement")
    }
}
