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
    let reader: Box<dyn BufRead> = match input {
        None => Box::new(BufReader::with_capacity(1 << 20, io::stdin().lock())),
        Some(p) if p == Path::new("-") => Box::new(BufReader::with_capacity(1 << 20, io::stdin().lock())),
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

/// Applies every line of `reader`; rejections go to `errors` as JSON lines. Commands count
/// as accepted only once the commit holding their events has returned. On a storage or
/// read failure, returns what was durably accepted so far with the error.
pub fn ingest(
    dir: &mut DataDir,
    mut reader: impl BufRead,
    errors: &mut impl Write,
) -> Result<Summary, (Summary, anyhow::Error)> {
    let mut s = Summary::default();
    let mut pending = 0u64;
    let mut line = String::new();
    let mut line_no = 0u64;
    let mut errors = io::BufWriter::new(errors);
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => return Err((s, anyhow::Error::new(e).context(format!("reading line {}", line_no + 1)))),
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
        }
    }
    if let Err(e) = dir.commit() {
        return Err((s, e.into()));
    }
    s.accepted += pending;
    let _ = errors.flush();
    Ok(s)
}
