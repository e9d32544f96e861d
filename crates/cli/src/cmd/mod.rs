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
use dacu_log::{DataDir, Options};
use std::path::Path;

/// Opens a data directory, reporting on stderr what recovery skipped or cut.
pub fn open(data: &Path, opts: Options) -> anyhow::Result<DataDir> {
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
