use anyhow::Context;
use dacu_core::parse_line;
use dacu_log::{DataDir, Options};
use serde_json::json;
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::process::ExitCode;

/// Commands applied between two commits. Each commit is one write and one fsync; the
/// commands in it are acknowledged (counted as accepted) only after it returns.
pub const BATCH: u64 = 8192;

pub fn run(
    data: &Path,
    festival: Option<&Path>,
    input: Option<&Path>,
    strict: bool,
    opts: Options,
) -> anyhow::Result<ExitCode> {
    let (mut dir, rep) = DataDir::open_or_create(data, festival, opts)
        .with_context(|| format!("cannot open data directory {}", data.display()))?;
    super::warn(&rep);
    let reader: Box<dyn BufRead + Send> = match input {
        None => Box::new(BufReader::with_capacity(1 << 20, io::stdin())),
        Some(p) if p == Path::new("-") => Box::new(BufReader::with_capacity(1 << 20, io::stdin())),
        Some(p) => Box::new(BufReader::with_capacity(
            1 << 20,
            std::fs::File::open(p).with_context(|| format!("cannot read {}", p.display()))?,
        )),
    };
    let summary = ingest(&mut dir, reader, &mut io::stderr().lock());
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
    dir.close().context("closing the data directory")?;
    println!("{}", json!({ "accepted": s.accepted, "rejected": s.rejected }));
    Ok(if strict && s.rejected > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// One rejection as printed on stderr, fields in this order.
#[derive(serde::Serialize)]
struct RejectedLine<'a> {
    line: u64,
    code: dacu_core::Code,
    message: &'a str,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Summary {
    pub accepted: u64,
    pub rejected: u64,
}

/// Lines parsed per message from the parse thread to the engine thread.
const CHUNK_LINES: usize = 4096;

/// Parsed lines: (line number, the command or why it could not be parsed).
type Chunk = Vec<(u64, Result<dacu_core::Command, dacu_core::Rejection>)>;

/// Applies every line of `reader`; rejections go to `errors` as JSON lines. Commands count
/// as accepted only once the commit holding their events has returned. On a storage or
/// read failure, returns what was durably accepted so far with the error.
///
/// Two stages on two threads: one reads and parses JSON, the other decides, applies,
/// appends and commits, in input order. The channel between them is bounded, so memory
/// stays flat however long the input.
pub fn ingest(
    dir: &mut DataDir,
    reader: impl BufRead + Send,
    errors: &mut impl Write,
) -> Result<Summary, (Summary, anyhow::Error)> {
    ingest_timed(dir, reader, errors, &mut Vec::new())
}

/// As [`ingest`], also recording how long each commit batch took from its first command
/// to its fsync returning (the latency a caller of that batch waits), in microseconds.
pub fn ingest_timed(
    dir: &mut DataDir,
    reader: impl BufRead + Send,
    errors: &mut impl Write,
    batch_us: &mut Vec<u64>,
) -> Result<Summary, (Summary, anyhow::Error)> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<io::Result<Chunk>>(8);
    std::thread::scope(|scope| {
        scope.spawn(move || parse_lines(reader, tx));
        apply_chunks(dir, rx, errors, batch_us)
    })
}

fn parse_lines(mut reader: impl BufRead, tx: std::sync::mpsc::SyncSender<io::Result<Chunk>>) {
    let mut line = String::new();
    let mut line_no = 0u64;
    loop {
        let mut chunk = Vec::with_capacity(CHUNK_LINES);
        while chunk.len() < CHUNK_LINES {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    let _ = tx.send(Ok(chunk));
                    let _ = tx.send(Err(io::Error::new(e.kind(), format!("reading line {}: {e}", line_no + 1))));
                    return;
                }
            }
            line_no += 1;
            let text = line.trim_end_matches(['\n', '\r']);
            if text.trim().is_empty() {
                continue;
            }
            chunk.push((line_no, parse_line(text)));
        }
        let done = chunk.len() < CHUNK_LINES;
        // A closed channel means the engine stopped (a failed commit): stop reading.
        if tx.send(Ok(chunk)).is_err() || done {
            return;
        }
    }
}

fn apply_chunks(
    dir: &mut DataDir,
    rx: std::sync::mpsc::Receiver<io::Result<Chunk>>,
    errors: &mut impl Write,
    batch_us: &mut Vec<u64>,
) -> Result<Summary, (Summary, anyhow::Error)> {
    let mut s = Summary::default();
    let mut batch_start = std::time::Instant::now();
    let mut pending = 0u64;
    let mut errors = io::BufWriter::new(errors);
    for chunk in rx {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => return Err((s, e.into())),
        };
        for (line_no, parsed) in chunk {
            match parsed.and_then(|c| dir.execute(&c)) {
                Ok(()) => pending += 1,
                Err(r) => {
                    s.rejected += 1;
                    let _ = serde_json::to_writer(
                        &mut errors,
                        &RejectedLine { line: line_no, code: r.code, message: &r.message },
                    );
                    let _ = errors.write_all(b"\n");
                }
            }
            if pending == BATCH {
                if let Err(e) = dir.commit() {
                    return Err((s, e.into()));
                }
                s.accepted += pending;
                pending = 0;
                batch_us.push(batch_start.elapsed().as_micros() as u64);
                batch_start = std::time::Instant::now();
            }
        }
    }
    if let Err(e) = dir.commit() {
        return Err((s, e.into()));
    }
    s.accepted += pending;
    let _ = errors.flush();
    Ok(s)
}
