pub mod baseline;
pub mod bench;
pub mod bench_boards;
pub mod bench_market;
pub mod bench_settle;
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
pub mod report;
pub mod review;
pub mod settle;
pub mod show;
pub mod simulate;
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

pub fn warn(rep: &dacu_log::OpenReport) {
    for w in &rep.warnings {
        eprintln!("dacu: {w}");
    }
}
