//! dacu-log: a data directory holds the festival file it was created from and the event
//! log; opening it replays the log into a fresh engine.
//!
//! Layout of a data directory:
//!
//! ```text
//! DIR/festival.toml   the festival file, copied at creation, never changed
//! DIR/events.jsonl    one record per line: {"v":1,"event":{...}}
//! ```
//!
//! Appends are buffered and made durable by [`DataDir::commit`] (flush and fsync): a
//! caller acknowledges commands only after the commit that holds their events.

use dacu_core::event::Event;
use dacu_core::festival::{self, Festival};
use dacu_core::{Command, Engine, Rejection};
use serde_json::json;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const FESTIVAL_FILE: &str = "festival.toml";
pub const EVENTS_FILE: &str = "events.jsonl";
/// The record encoding version this build writes and reads.
pub const RECORD_VERSION: u64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{0} is not a dacu data directory (no {FESTIVAL_FILE}); create it by passing --festival FILE")]
    NotADataDir(PathBuf),
    #[error("{path} already holds a different festival; use a new data directory for another festival")]
    FestivalMismatch { path: PathBuf },
    #[error("{path}: invalid festival file:\n{problems}")]
    BadFestival { path: PathBuf, problems: String },
    #[error("{path}: corrupt record at byte offset {offset} (line {line}): {reason}")]
    Corrupt { path: PathBuf, offset: u64, line: u64, reason: String },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
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

/// What opening a directory found and did.
#[derive(Debug, Default, Clone)]
pub struct OpenReport {
    pub events_replayed: u64,
    /// Bytes of a torn final record that were cut off.
    pub truncated_bytes: u64,
}

pub struct DataDir {
    path: PathBuf,
    engine: Engine,
    writer: BufWriter<File>,
    pending: Vec<Event>,
    scratch: Vec<u8>,
}

impl DataDir {
    /// Opens DIR, creating it from `festival` when it holds no data directory yet. When
    /// both exist, the festival file must be the one the directory was created from.
    pub fn open_or_create(path: &Path, festival: Option<&Path>) -> Result<(DataDir, OpenReport), StoreError> {
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
            File::open(&tmp).and_then(|f| f.sync_all()).map_err(io_err(&tmp))?;
            fs::rename(&tmp, &fest_path).map_err(io_err(&fest_path))?;
        } else if let Some(src_path) = festival {
            let given = fs::read_to_string(src_path).map_err(io_err(src_path))?;
            let have = fs::read_to_string(&fest_path).map_err(io_err(&fest_path))?;
            if given != have {
                return Err(StoreError::FestivalMismatch { path: path.to_path_buf() });
            }
        }
        DataDir::open(path)
    }

    /// Opens an existing data directory and replays its log.
    pub fn open(path: &Path) -> Result<(DataDir, OpenReport), StoreError> {
        let fest_path = path.join(FESTIVAL_FILE);
        if !fest_path.exists() {
            return Err(StoreError::NotADataDir(path.to_path_buf()));
        }
        let (festival, _) = load_festival(&fest_path)?;
        let mut engine = Engine::new(Arc::new(festival));
        let log_path = path.join(EVENTS_FILE);
        let mut report = OpenReport::default();
        let file =
            OpenOptions::new().create(true).read(true).append(true).open(&log_path).map_err(io_err(&log_path))?;
        let valid_len = replay(&log_path, &file, &mut engine, &mut report)?;
        let len = file.metadata().map_err(io_err(&log_path))?.len();
        if valid_len < len {
            report.truncated_bytes = len - valid_len;
            file.set_len(valid_len).map_err(io_err(&log_path))?;
            file.sync_all().map_err(io_err(&log_path))?;
        }
        let mut f = file;
        f.seek(SeekFrom::End(0)).map_err(io_err(&log_path))?;
        Ok((
            DataDir {
                path: path.to_path_buf(),
                engine,
                writer: BufWriter::with_capacity(1 << 20, f),
                pending: Vec::new(),
                scratch: Vec::new(),
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

    /// Decides and applies a command; its events are written at the next `commit`.
    pub fn execute(&mut self, c: &Command) -> Result<(), Rejection> {
        let start = self.pending.len();
        self.engine.execute(c, &mut self.pending)?;
        for ev in &self.pending[start..] {
            self.scratch.clear();
            serde_json::to_writer(&mut self.scratch, &json!({ "v": RECORD_VERSION, "event": ev }))
                .expect("events serialize");
            self.scratch.push(b'\n');
            self.writer
                .write_all(&self.scratch)
                .map_err(|e| dacu_core::Rejection::new(dacu_core::Code::InvalidValue, format!("write failed: {e}")))?;
        }
        self.pending.clear();
        Ok(())
    }

    /// Makes every event executed so far durable (flush and fsync).
    pub fn commit(&mut self) -> Result<(), StoreError> {
        let p = self.path.join(EVENTS_FILE);
        self.writer.flush().map_err(io_err(&p))?;
        self.writer.get_ref().sync_data().map_err(io_err(&p))
    }
}

/// Replays records into `engine`; returns the byte length of the valid prefix. A final
/// line without its newline is a torn write and is not replayed; any other bad record is
/// corruption.
fn replay(path: &Path, file: &File, engine: &mut Engine, report: &mut OpenReport) -> Result<u64, StoreError> {
    let mut reader = BufReader::with_capacity(1 << 20, file.try_clone().map_err(io_err(path))?);
    let mut offset = 0u64;
    let mut line_no = 0u64;
    let mut buf = Vec::new();
    #[derive(serde::Deserialize)]
    struct Record {
        v: u64,
        event: Event,
    }
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf).map_err(io_err(path))?;
        if n == 0 {
            return Ok(offset);
        }
        line_no += 1;
        if buf.last() != Some(&b'\n') {
            return Ok(offset);
        }
        let corrupt = |reason: String| StoreError::Corrupt { path: path.to_path_buf(), offset, line: line_no, reason };
        let rec: Record = serde_json::from_slice(&buf).map_err(|e| corrupt(e.to_string()))?;
        if rec.v != RECORD_VERSION {
            return Err(corrupt(format!(
                "record version {} is not supported (this build reads {RECORD_VERSION})",
                rec.v
            )));
        }
        engine.apply(&rec.event).map_err(|e| corrupt(e.to_string()))?;
        report.events_replayed += 1;
        offset += n as u64;
    }
}
