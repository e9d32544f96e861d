use anyhow::Context;
use dacu_core::parse_line;
use dacu_log::DataDir;
use serde_json::json;
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::process::ExitCode;

/// Commands applied between two commits (fsyncs). Each commit makes a batch durable.
const BATCH: u64 = 8192;

pub fn run(data: &Path, festival: Option<&Path>, input: Option<&Path>, strict: bool) -> anyhow::Result<ExitCode> {
    let (mut dir, rep) = DataDir::open_or_create(data, festival)
        .with_context(|| format!("cannot open data directory {}", data.display()))?;
    if rep.truncated_bytes > 0 {
        eprintln!("dacu: {}: truncated a torn final record ({} bytes)", data.display(), rep.truncated_bytes);
    }
    let reader: Box<dyn BufRead> = match input {
        None => Box::new(BufReader::with_capacity(1 << 20, io::stdin().lock())),
        Some(p) if p == Path::new("-") => Box::new(BufReader::with_capacity(1 << 20, io::stdin().lock())),
        Some(p) => Box::new(BufReader::with_capacity(
            1 << 20,
            std::fs::File::open(p).with_context(|| format!("cannot read {}", p.display()))?,
        )),
    };
    let summary = ingest(&mut dir, reader, &mut io::stderr().lock())?;
    println!("{}", json!({ "accepted": summary.accepted, "rejected": summary.rejected }));
    Ok(if strict && summary.rejected > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
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

/// Applies every line of `reader`; rejections go to `errors` as JSON lines. Commands count
/// as accepted only once the commit holding their events has returned.
pub fn ingest(dir: &mut DataDir, mut reader: impl BufRead, errors: &mut impl Write) -> anyhow::Result<Summary> {
    let mut s = Summary::default();
    let mut pending = 0u64;
    let mut line = String::new();
    let mut line_no = 0u64;
    let mut errors = io::BufWriter::new(errors);
    loop {
        line.clear();
        if reader.read_line(&mut line).context("reading commands")? == 0 {
            break;
        }
        line_no += 1;
        let text = line.trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() {
            continue;
        }
        match parse_line(text).and_then(|c| dir.execute(&c)) {
            Ok(()) => pending += 1,
            Err(r) => {
                s.rejected += 1;
                serde_json::to_writer(&mut errors, &RejectedLine { line: line_no, code: r.code, message: &r.message })?;
                errors.write_all(b"\n")?;
            }
        }
        if pending == BATCH {
            dir.commit()?;
            s.accepted += pending;
            pending = 0;
        }
    }
    dir.commit()?;
    s.accepted += pending;
    errors.flush()?;
    Ok(s)
}
