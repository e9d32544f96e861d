//! `dacu ingest`: applies a command stream to a data directory, committing on size or
//! time and optionally acknowledging each commit (docs/cli.md#ingest).

mod read;
mod secrets;

use anyhow::Context;
use dacu_core::parse_line;
use dacu_log::{DataDir, Options};
use read::{Lines, Raw};
use serde_json::json;
use std::io::{self, Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
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
    let (mut dir, rep) = DataDir::open_or_create(a.data, a.festival, opts)
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
    let summary = ingest_with(&mut dir, reader, &mut io::stderr().lock(), &mut Vec::new(), cfg);
    let s = match summary {
        Ok(s) => s,
        Err((s, e)) => {
            // Print what was durably accepted before the failure, then fail.
            println!("{}", json!({ "accepted": s.accepted, "rejected": s.rejected }));
            return Err(e);
        }
    };
    for w in dir.take_warnings() {
        eprintln!("dacu: {w}");
    }
    let closed = super::close(dir)?;
    println!("{}", json!({ "accepted": s.accepted, "rejected": s.rejected }));
    Ok(closed.exit(if a.strict && s.rejected > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS }))
}

/// One rejection as printed on stderr, fields in this order.
#[derive(serde::Serialize)]
struct RejectedLine<'a> {
    line: u64,
    code: dacu_core::Code,
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

/// Lines parsed per message from the parse thread to the engine thread, at most.
const CHUNK_LINES: usize = 4096;

type Parsed = Result<dacu_core::Command, dacu_core::Rejection>;

/// Parsed lines: each line number with its command or why it could not be parsed, and
/// the last line number read (blank lines included).
#[derive(Default)]
struct Chunk {
    lines: Vec<(u64, Parsed)>,
    through_line: u64,
}

/// Applies every line of `reader` with the default commit policy and no acknowledgements.
/// Rejections go to `errors` as JSON lines. Commands count as accepted only once the
/// commit holding their events has returned. On a storage or read failure, returns what
/// was durably accepted so far with the error.
pub fn ingest(
    dir: &mut DataDir,
    reader: impl Read + Send,
    errors: &mut impl Write,
) -> Result<Summary, (Summary, anyhow::Error)> {
    ingest_with(dir, reader, errors, &mut Vec::new(), Config::default())
}

/// As [`ingest`], with a commit policy and acknowledgements, also recording how long each
/// batch that accepted anything took from its first line arriving to its fsync returning
/// (the latency a caller of that batch waits), in microseconds.
///
/// Two stages on two threads: one reads and parses JSON, the other decides, applies,
/// appends and commits, in input order. The channel between them is bounded, so memory
/// stays flat however long the input.
pub fn ingest_with(
    dir: &mut DataDir,
    reader: impl Read + Send,
    errors: &mut impl Write,
    batch_us: &mut Vec<u64>,
    cfg: Config<'_>,
) -> Result<Summary, (Summary, anyhow::Error)> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<io::Result<Chunk>>(8);
    std::thread::scope(|scope| {
        scope.spawn(move || parse_lines(Lines::new(reader), tx));
        let mut w = Committer {
            dir,
            errors: io::BufWriter::new(errors),
            acks: cfg.acks,
            commit_after: Duration::from_millis(cfg.commit_ms),
            batch_us,
            s: Summary::default(),
            pending: 0,
            decided_line: 0,
            acked_line: 0,
            batch_start: None,
        };
        let r = w.apply_all(rx);
        let _ = w.errors.flush();
        r.map(|()| w.s).map_err(|e| (w.s, e))
    })
}

/// The parse stage. A chunk goes to the engine when it is full or when the input has
/// nothing more buffered, so lines from a slow producer never wait for later ones.
fn parse_lines<R: Read>(mut lines: Lines<R>, tx: SyncSender<io::Result<Chunk>>) {
    let mut line_no = 0u64;
    loop {
        let mut chunk = Chunk { lines: Vec::with_capacity(CHUNK_LINES), through_line: line_no };
        let mut done = false;
        while chunk.lines.len() < CHUNK_LINES {
            let raw = match lines.next_line() {
                Ok(Some(raw)) => raw,
                Ok(None) => {
                    done = true;
                    break;
                }
                Err(e) => {
                    let _ = tx.send(Ok(chunk));
                    let _ = tx.send(Err(io::Error::new(e.kind(), format!("reading line {}: {e}", line_no + 1))));
                    return;
                }
            };
            line_no += 1;
            chunk.through_line = line_no;
            match decode(raw) {
                Ok(None) => {}
                Ok(Some(p)) => chunk.lines.push((line_no, p)),
                Err(e) => {
                    let _ = tx.send(Ok(chunk));
                    let _ = tx.send(Err(io::Error::new(e.kind(), format!("line {line_no}: {e}"))));
                    return;
                }
            }
            if !lines.has_buffered() {
                break;
            }
        }
        // A closed channel means the engine stopped (a failed commit): stop reading.
        if tx.send(Ok(chunk)).is_err() || done {
            return;
        }
    }
}

/// One line as the engine stage gets it: `None` for a blank line, else the command with
/// what the shell fills in, or why the line is rejected. Fails only if the OS random
/// source does.
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

/// The engine stage: decides and applies lines in order, and commits a batch when it
/// holds `BATCH` accepted commands or `commit_after` has passed since its first line.
struct Committer<'d, 'a, E: Write> {
    dir: &'d mut DataDir,
    errors: io::BufWriter<E>,
    acks: Option<Box<dyn Write + 'a>>,
    commit_after: Duration,
    batch_us: &'d mut Vec<u64>,
    /// Durably accepted and rejected so far.
    s: Summary,
    /// Accepted into the open batch, not yet durable.
    pending: u64,
    /// Every line up to this one is decided.
    decided_line: u64,
    /// The last `durable_through_line` acknowledged.
    acked_line: u64,
    /// When the open batch's first line arrived; none while no line awaits a commit.
    batch_start: Option<Instant>,
}

impl<E: Write> Committer<'_, '_, E> {
    fn apply_all(&mut self, rx: Receiver<io::Result<Chunk>>) -> anyhow::Result<()> {
        loop {
            let next = match self.batch_start {
                None => rx.recv().ok(),
                Some(t0) => match rx.recv_timeout((t0 + self.commit_after).saturating_duration_since(Instant::now())) {
                    Ok(m) => Some(m),
                    Err(RecvTimeoutError::Timeout) => {
                        self.commit()?;
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => None,
                },
            };
            let Some(chunk) = next else { break };
            let chunk = chunk?;
            self.batch_start.get_or_insert_with(Instant::now);
            self.apply_chunk(chunk)?;
            if self.batch_start.is_some_and(|t0| t0.elapsed() >= self.commit_after) {
                self.commit()?;
            }
        }
        self.commit()
    }

    fn apply_chunk(&mut self, chunk: Chunk) -> anyhow::Result<()> {
        for (line_no, parsed) in chunk.lines {
            match parsed.and_then(|c| self.dir.execute(&c)) {
                Ok(()) => self.pending += 1,
                Err(r) => {
                    self.s.rejected += 1;
                    let _ = serde_json::to_writer(
                        &mut self.errors,
                        &RejectedLine { line: line_no, code: r.code, message: &r.message },
                    );
                    let _ = self.errors.write_all(b"\n");
                }
            }
            if self.pending == BATCH {
                self.decided_line = line_no;
                self.commit()?;
                self.batch_start = Some(Instant::now());
            }
        }
        self.decided_line = self.decided_line.max(chunk.through_line);
        Ok(())
    }

    /// Makes the open batch durable (one fsync, skipped when it accepted nothing), counts
    /// it, and acknowledges every line decided so far.
    fn commit(&mut self) -> anyhow::Result<()> {
        let started = self.batch_start.take();
        if self.pending > 0 {
            self.dir.commit()?;
            self.s.accepted += self.pending;
            self.pending = 0;
            if let Some(t0) = started {
                self.batch_us.push(t0.elapsed().as_micros() as u64);
            }
        }
        let _ = self.errors.flush();
        if self.decided_line <= self.acked_line {
            return Ok(());
        }
        self.acked_line = self.decided_line;
        if let Some(out) = self.acks.as_mut() {
            let ack = Ack {
                durable_through_line: self.decided_line,
                accepted: self.s.accepted,
                rejected: self.s.rejected,
                events: self.dir.engine().state().events,
            };
            let mut line = serde_json::to_vec(&ack).expect("an ack serialises");
            line.push(b'\n');
            out.write_all(&line).and_then(|()| out.flush()).context("writing an acknowledgement")?;
        }
        Ok(())
    }
}
