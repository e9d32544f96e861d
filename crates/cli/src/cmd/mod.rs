pub mod baseline;
pub mod bench;
pub mod bench_boards;
pub mod bench_impressions;
pub mod bench_market;
mod bench_memory;
pub mod bench_node;
pub mod bench_partitions;
pub mod bench_partitions_durable;
pub mod bench_settle;
pub mod bench_traffic;
mod bench_traffic_lp;
pub mod check;
pub mod codes;
pub mod demo;
pub mod digest;
pub mod explain;
pub mod ingest;
pub mod leaderboard;
pub mod ledger;
pub mod progress;
pub mod quote;
pub mod rehearse;
pub mod report;
pub mod review;
pub mod serve;
pub mod settle;
pub mod show;
pub mod simulate;
pub mod token;
pub mod verify;
pub mod verify_draw;

use anyhow::Context;
use dacu_core::{Engine, Festival};
use dacu_log::{DataDir, Options};
use std::path::Path;

/// A data directory opened to read: the state it serves, nothing held open.
pub struct ReadDir {
    engine: Engine,
}

impl ReadDir {
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn festival(&self) -> &Festival {
        self.engine.festival()
    }
}

/// Opens a data directory to read it, changing nothing on disk; reports on stderr what
/// recovery found.
pub fn open(data: &Path, opts: Options) -> anyhow::Result<ReadDir> {
    let (engine, rep) =
        dacu_log::open_read(data, &opts).with_context(|| format!("cannot open data directory {}", data.display()))?;
    warn(&rep);
    Ok(ReadDir { engine })
}

/// Opens a data directory to write it, reporting on stderr what recovery found and cut.
pub fn open_write(data: &Path, opts: Options) -> anyhow::Result<DataDir> {
    let (dir, rep) =
        DataDir::open(data, opts).with_context(|| format!("cannot open data directory {}", data.display()))?;
    warn(&rep);
    Ok(dir)
}

/// How a writer's clean close went, once everything was committed.
pub enum Closed {
    Ok,
    /// Everything is committed and safe, but the closing snapshot failed (a full disk):
    /// the next open replays more of the log. Exit [`SNAPSHOT_FAILED`].
    SnapshotFailed(String),
}

/// The exit code for "the data is safe, the closing snapshot failed".
pub const SNAPSHOT_FAILED: u8 = 3;

/// Closes a writer: a final commit (an error if it fails: data not written), then the
/// snapshot (a [`Closed::SnapshotFailed`] if that fails).
pub fn close(dir: DataDir) -> anyhow::Result<Closed> {
    match dir.close() {
        Ok(()) => Ok(Closed::Ok),
        Err(dacu_log::StoreError::SnapshotFailed(why)) => Ok(Closed::SnapshotFailed(why)),
        Err(e) => Err(e).context("closing the data directory"),
    }
}

impl Closed {
    /// Says a failed snapshot on stderr; the exit code to use instead of `code`.
    pub fn exit(self, code: std::process::ExitCode) -> std::process::ExitCode {
        match self {
            Closed::Ok => code,
            Closed::SnapshotFailed(why) => {
                eprintln!(
                    "dacu: everything was committed and is safe, but the closing snapshot could not be written ({why}); the next open replays the log instead"
                );
                std::process::ExitCode::from(SNAPSHOT_FAILED)
            }
        }
    }
}

pub fn warn(rep: &dacu_log::OpenReport) {
    for w in &rep.warnings {
        eprintln!("dacu: {w}");
    }
}
