pub mod check;
pub mod codes;
pub mod demo;
pub mod digest;
pub mod ingest;
pub mod report;
pub mod show;

use anyhow::Context;
use dacu_log::DataDir;
use std::path::Path;

/// Opens a data directory for reading, reporting a torn tail on stderr.
pub fn open(data: &Path) -> anyhow::Result<DataDir> {
    let (dir, rep) = DataDir::open(data).with_context(|| format!("cannot open data directory {}", data.display()))?;
    if rep.truncated_bytes > 0 {
        eprintln!("dacu: {}: truncated a torn final record ({} bytes)", data.display(), rep.truncated_bytes);
    }
    Ok(dir)
}
