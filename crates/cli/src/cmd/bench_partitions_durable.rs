//! `dacu bench partitions`' durable rows: the simulated festival on partition threads
//! whose logs are data directories (dacu-part's durable partitions, each answer after the
//! fsync of the commit that holds it), against one durable writer committing as often on
//! the same commands; then the partitions reopened from their directories alone, timed,
//! whose projection must reach the single engine's digest.

use dacu_core::Command;
use dacu_part::{durable, Answer, Cluster};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What the rows compare against: one durable writer on the same commands, committing
/// every `window` commands (a full group commit of the partitions' window).
pub fn single_writer(src: &str, cmds: &[Command], window: usize) -> anyhow::Result<f64> {
    let dir = Scratch::new("single")?;
    let (mut d, _) = dacu_log::DataDir::create_with(&dir.0, src, dacu_log::Options::default())?;
    let t0 = Instant::now();
    for chunk in cmds.chunks(window.max(1)) {
        for c in chunk {
            let _ = d.execute(c);
        }
        d.commit()?;
    }
    let rate = cmds.len() as f64 / t0.elapsed().as_secs_f64();
    drop(d);
    println!("  one durable writer, a commit every {window} commands: {rate:.0} commands/s ({} commands)", cmds.len());
    Ok(rate)
}

/// One row: `n` durable partitions through [`Cluster::run`], then reopened.
pub fn row(
    src: &str,
    cmds: &[Command],
    n: u32,
    window: usize,
    (single, want): (f64, &str),
) -> anyhow::Result<serde_json::Value> {
    let dir = Scratch::new(&format!("p{n}"))?;
    let set_up = durable::open(&dir.0, Some(src), n, dacu_log::Options::default).map_err(|e| anyhow::anyhow!(e))?;
    let cluster = Cluster::start(set_up);
    let t0 = Instant::now();
    let answers = cluster.run(cmds, window);
    let secs = t0.elapsed().as_secs_f64();
    drop(cluster.stop());
    anyhow::ensure!(
        !answers.iter().any(|a| matches!(a, Answer::Unsupported(_) | Answer::Failed(_))),
        "a command was not routed, or a partition's log failed"
    );
    let t1 = Instant::now();
    let reopened = durable::open(&dir.0, None, n, dacu_log::Options::default).map_err(|e| anyhow::anyhow!(e))?;
    let projection = reopened.projection();
    let reopen_s = t1.elapsed().as_secs_f64();
    let digest = dacu_core::digest::digest(projection.state());
    anyhow::ensure!(
        digest == want,
        "{n} durable partitions reopened: digest {digest} is not the single engine's {want}"
    );
    let logged: u64 = reopened.parts.iter().map(|p| p.engine().state().events).sum();
    let rate = cmds.len() as f64 / secs;
    println!(
        "  {n} durable partition thread(s), {window} unanswered at most: {rate:.0} commands/s ({:.2}× one durable writer); reopened from {logged} logged events with the projection in {reopen_s:.2} s, digest equal",
        rate / single
    );
    Ok(
        json!({"partitions": n, "seconds": secs, "per_second": rate, "ratio_to_single_writer": rate / single, "logged_events": logged, "reopen_seconds": reopen_s}),
    )
}

/// A directory the bench creates under the system's temporary directory and removes
/// when done (it holds nothing else).
struct Scratch(PathBuf);

impl Scratch {
    fn new(what: &str) -> anyhow::Result<Scratch> {
        let path = std::env::temp_dir().join(format!("dacu-bench-partitions-{}-{what}", std::process::id()));
        anyhow::ensure!(!path.exists(), "{} exists already; remove it or run again", path.display());
        std::fs::create_dir(&path)?;
        Ok(Scratch(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The festival file's text, as the partitions' directories are created from it.
pub fn source(festival_file: &Path) -> anyhow::Result<String> {
    Ok(std::fs::read_to_string(festival_file)?)
}
