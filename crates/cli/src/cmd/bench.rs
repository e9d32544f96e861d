//! `dacu bench`: throughput, latency and memory of dacu on simulated workloads. Results
//! print as a table and one JSON line; BENCHMARKS.md records them with the machine.

use super::simulate::{parse_scale, MixArg};
use anyhow::Context;
use dacu_log::{DataDir, Options};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Subcommand)]
pub enum What {
    /// Durable ingest: simulate a workload to a file (untimed), then ingest it into a
    /// fresh data directory, fsync per batch, and time it end to end.
    Ingest {
        #[arg(long, default_value = "festivals/kuaishou-116-2021.toml")]
        festival: PathBuf,
        #[arg(long, default_value = "medium")]
        scale: String,
        #[arg(long, value_enum, default_value_t = MixArg::Orders)]
        mix: MixArg,
        #[arg(long, default_value_t = 116)]
        seed: u64,
        /// Where to put the workload and the data directory (default: the temp dir). The
        /// data directory is kept for `bench replay` and `bench restart`.
        #[arg(long)]
        work: Option<PathBuf>,
        /// Also run these baseline designs on the same workload: redis, postgres, both
        /// (comma-separated), or none.
        #[arg(long, default_value = "none")]
        baselines: String,
        /// Ingest through a JetStream stream, nats://HOST:PORT/STREAM, instead of the data
        /// directory's files (docs/scale-out.md). The stream must be new.
        #[arg(long, value_name = "URL")]
        log: Option<String>,
        /// With --log: the replicas of the stream the bench creates (1 to 5).
        #[arg(long, default_value_t = 1)]
        replicas: usize,
    },
    /// Replay: rebuild a data directory's state from its log alone (no snapshot).
    Replay {
        #[arg(long)]
        data: PathBuf,
    },
    /// Restart: open a data directory as a restart does (newest snapshot + log tail).
    Restart {
        #[arg(long)]
        data: PathBuf,
    },
    /// Memory: open a data directory as a restart does, then drop its tables one at a
    /// time and report the resident memory each held.
    Memory {
        #[arg(long)]
        data: PathBuf,
    },
    /// Checkout quotes in-process: a 10-line cart across 3 merchants with 30 candidate
    /// promotions; latency percentiles over many quotes.
    Quote {
        #[arg(long, default_value = "festivals/kuaishou-116-2021.toml")]
        festival: PathBuf,
        #[arg(long, default_value_t = 200_000)]
        iterations: u64,
    },
    /// Red-packet grabs in-engine (parsed commands, no log); `--baselines redis` runs the
    /// Redis Lua design on the same grabs.
    Grabs {
        #[arg(long, default_value = "festivals/kuaishou-116-2021.toml")]
        festival: PathBuf,
        #[arg(long, default_value_t = 2_000_000)]
        count: u64,
        #[arg(long, default_value = "none")]
        baselines: String,
    },
    /// Leaderboards: score updates on one board of the engine's kind, top-100 and rank
    /// queries, and a full `leaderboard --top 100` page; `--baselines redis` runs the same
    /// updates as ZINCRBY on a Redis sorted set and times ZREVRANGE.
    Boards {
        #[arg(long, default_value_t = 100_000)]
        entrants: u64,
        #[arg(long, default_value_t = 10_000_000)]
        count: u64,
        #[arg(long, default_value_t = 100_000)]
        queries: u64,
        #[arg(long, default_value = "none")]
        baselines: String,
    },
    /// Settlement of a whole festival on a data directory: deciding it (not applied), the
    /// report, its HTML page and the ledger CSV; `--baselines postgres` ranks the same
    /// boards and prices their bands in one SQL query.
    Settle {
        #[arg(long)]
        data: PathBuf,
        #[arg(long, default_value_t = 5)]
        runs: usize,
        #[arg(long, default_value = "none")]
        baselines: String,
    },
    /// The node: how long a command waits for its durable reply, quiet, while a reader
    /// runs the festival report in a loop, and while snapshots are taken off the writer
    /// and on it. Appends bench orders to DIR (a `bench ingest` directory).
    Node {
        #[arg(long)]
        data: PathBuf,
        /// Seconds per phase.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// Clients submitting one command at a time each.
        #[arg(long, default_value_t = 4)]
        clients: usize,
    },
    /// A slow producer: one command every --interval-ms into `dacu ingest --acks -`, each
    /// timed from being written to being acknowledged as durable.
    Acks {
        #[arg(long, default_value = "festivals/example-mini.toml")]
        festival: PathBuf,
        #[arg(long, default_value_t = 100)]
        interval_ms: u64,
        #[arg(long, default_value_t = 100)]
        count: u64,
        #[arg(long, default_value_t = super::ingest::DEFAULT_COMMIT_MS)]
        commit_ms: u64,
        /// The bench's own directory (default: `dacu-bench` in the temp dir).
        #[arg(long)]
        work: Option<PathBuf>,
    },
    /// Guaranteed-traffic serving in-engine: `impression` commands on a festival with
    /// `[traffic]` (parsed, then decided and applied; no log), one opportunity a command
    /// and in batches: decisions/s.
    Impressions {
        #[arg(long, default_value = "festivals/kuaishou-116-2021.toml")]
        festival: PathBuf,
        /// Opportunities decided at each batch size.
        #[arg(long, default_value_t = 2_000_000)]
        count: u64,
        /// Opportunities a command (comma-separated).
        #[arg(long, default_value = "1,100,10000", value_delimiter = ',')]
        batches: Vec<u64>,
        /// The opportunities' time (inside the festival).
        #[arg(long, default_value = "2021-11-11T20:30:00+08:00")]
        at: String,
    },
    /// Coupon claims in-engine (parsed commands, no log); `--baselines redis` runs the
    /// Redis Lua design on the same claims.
    Claims {
        #[arg(long, default_value = "festivals/kuaishou-116-2021.toml")]
        festival: PathBuf,
        #[arg(long, default_value_t = 2_000_000)]
        count: u64,
        #[arg(long, default_value = "none")]
        baselines: String,
    },
    /// Coupon claims through 1, 2 and 4 partitions (the router, the escrow of stock, one
    /// engine per partition thread) against the single engine on the same claims.
    Partitions {
        #[arg(long, default_value = "festivals/kuaishou-116-2021.toml")]
        festival: PathBuf,
        #[arg(long, default_value_t = 1_000_000)]
        count: u64,
        /// Partition counts to run (comma-separated), 1 to 64 each.
        #[arg(long, default_value = "1,2,4", value_delimiter = ',')]
        partitions: Vec<u32>,
        /// Client threads sending the claims.
        #[arg(long, default_value_t = 2)]
        clients: usize,
        /// Then the simulated festival's partitionable commands, of about this many
        /// simulated (0: skip).
        #[arg(long, default_value_t = 200_000)]
        simulated: u64,
    },
    /// Guaranteed traffic: HWM, SHALE and the LP optimum plan a generated instance, then
    /// serving its supply at each forecast error (docs/traffic.md): planning time,
    /// decisions/s, under- and over-delivery, smoothness.
    Traffic {
        #[arg(long, default_value_t = 1_000)]
        nodes: usize,
        #[arg(long, default_value_t = 10_000)]
        contracts: usize,
        /// Total demand as a percentage of total forecast supply.
        #[arg(long, default_value_t = 70)]
        load_pct: u64,
        /// Forecast errors to serve at, in percent (comma-separated).
        #[arg(long, default_value = "0,10,25,50", value_delimiter = ',')]
        errors: Vec<u64>,
        #[arg(long, default_value_t = 116)]
        seed: u64,
        /// Planners to compare (comma-separated): hwm, shale, lp. Default all three, the
        /// LP only on an instance within its size limit (asked for, over it, an error).
        #[arg(long)]
        planners: Option<String>,
    },
}

/// Peak resident memory of this process (VmHWM), in MiB.
pub fn peak_rss_mib() -> f64 {
    status_mib("VmHWM:")
}

/// A memory field of this process's `/proc/self/status` (`VmHWM:`, `VmRSS:`), in MiB; 0
/// where it cannot be read.
pub fn status_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kib| kib / 1024.0)
        .unwrap_or(0.0)
}

/// The q-quantile (0..=1) of sorted values.
pub fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

pub fn run(what: What) -> anyhow::Result<ExitCode> {
    match what {
        What::Ingest { festival, scale, mix, seed, work, baselines, log, replicas } => {
            let log = log.map(|url| (url, replicas));
            ingest(&festival, &scale, mix, seed, work, &baselines, log.as_ref().map(|(u, r)| (u.as_str(), *r)))
        }
        What::Replay { data } => replay(&data),
        What::Node { data, seconds, clients } => super::bench_node::node(&data, seconds, clients.max(1)),
        What::Acks { festival, interval_ms, count, commit_ms, work } => {
            let work = work.unwrap_or_else(|| std::env::temp_dir().join("dacu-bench"));
            super::bench_node::acks(&festival, &work, interval_ms, count, commit_ms)
        }
        What::Restart { data } => restart(&data),
        What::Memory { data } => super::bench_memory::memory(&data),
        What::Quote { festival, iterations } => super::bench_market::quote(&festival, iterations),
        What::Grabs { festival, count, baselines } => super::bench_market::grabs(&festival, count, &baselines),
        What::Boards { entrants, count, queries, baselines } => {
            super::bench_boards::boards(entrants, count, queries, &baselines)
        }
        What::Settle { data, runs, baselines } => super::bench_settle::settle(&data, runs, &baselines),
        What::Impressions { festival, count, batches, at } => {
            super::bench_impressions::impressions(&festival, count, &batches, &at)
        }
        What::Claims { festival, count, baselines } => super::bench_market::claims(&festival, count, &baselines),
        What::Partitions { festival, count, partitions, clients, simulated } => {
            super::bench_partitions::partitions(&festival, count, &partitions, clients, simulated)
        }
        What::Traffic { nodes, contracts, load_pct, errors, seed, planners } => {
            super::bench_traffic::traffic(nodes, contracts, load_pct, &errors, seed, planners.as_deref())
        }
    }
}

fn ingest(
    festival: &Path,
    scale: &str,
    mix: MixArg,
    seed: u64,
    work: Option<PathBuf>,
    baselines: &str,
    log: Option<(&str, usize)>,
) -> anyhow::Result<ExitCode> {
    let baselines = super::baseline::wanted(baselines, &["redis", "postgres"], "ingest")?;
    anyhow::ensure!(log.is_none() || baselines.is_empty(), "--log and --baselines go in separate runs");
    let (f, _) = dacu_log::load_festival(festival)?;
    let scale = parse_scale(scale)?;
    let work = work.unwrap_or_else(|| std::env::temp_dir().join("dacu-bench"));
    // The work directory is the bench's own: made by it, or refused.
    let scratch = crate::files::BENCH;
    scratch.check(&work)?;
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    scratch.mark(&work)?;
    let input = work.join("workload.jsonl");
    let data = work.join("data");
    let sim = dacu_sim::simulate_with_progress(&f, scale, seed, mix.into(), std::fs::File::create(&input)?, |_, _| {})?;
    if data.exists() {
        let _lock =
            dacu_log::dir::lock_exclusive(&data).with_context(|| format!("cannot replace {}", data.display()))?;
        std::fs::remove_dir_all(&data).with_context(|| format!("removing {}", data.display()))?;
    }
    let bytes = std::fs::metadata(&input)?.len();
    // Flush every dirty page on the machine (the workload just written, earlier runs'
    // files) so that background writeback does not slow this run's fsyncs.
    #[cfg(unix)]
    #[allow(unsafe_code, reason = "FFI: sync(2); the workspace denies unsafe code elsewhere")]
    // SAFETY: sync(2) takes no arguments and cannot fail.
    unsafe {
        libc::sync();
    }

    let t0 = Instant::now();
    let reader = std::fs::File::open(&input)?;
    let mut batch_us = Vec::new();
    let cfg = super::ingest::Config::default();
    let node_cfg = super::ingest::node_config(&cfg, Options::default().snapshot_every);
    let node = match log {
        None => {
            let (dir, _) = DataDir::open_or_create(&data, Some(festival), Options::default())?;
            dacu_node::Node::start(dir, node_cfg)?
        }
        Some((url, replicas)) => stream_node(url, replicas, festival, &work.join("node"), node_cfg)?,
    };
    let s = super::ingest::feed(&node, reader, &mut std::io::sink(), &mut batch_us, cfg).map_err(|(_, e)| e)?;
    let (ingest_s, events, close_s) = match log {
        None => {
            let dir = node.into_dir()?;
            let ingest_s = t0.elapsed().as_secs_f64();
            let events = dir.engine().state().events;
            let t1 = Instant::now();
            dir.close()?;
            (ingest_s, events, t1.elapsed().as_secs_f64())
        }
        // A stream node's close is its shutdown: the last commit, then the final snapshot
        // into the stream's bucket.
        Some(_) => {
            let ingest_s = t0.elapsed().as_secs_f64();
            let t1 = Instant::now();
            let down = node.shutdown()?;
            down.snapshot.map_err(|e| anyhow::anyhow!("the final snapshot failed: {e}"))?;
            (ingest_s, down.durable_seq, t1.elapsed().as_secs_f64())
        }
    };
    batch_us.sort_unstable();
    let out = json!({
        "bench": "ingest",
        "commands": sim.commands,
        "orders": sim.orders,
        "input_mib": bytes as f64 / 1048576.0,
        "accepted": s.accepted,
        "rejected": s.rejected,
        "events": events,
        "ingest_s": ingest_s,
        "events_per_s": events as f64 / ingest_s,
        "commands_per_s": sim.commands as f64 / ingest_s,
        "batch_commands": super::ingest::BATCH,
        "batch_latency_p50_us": quantile(&batch_us, 0.5),
        "batch_latency_p99_us": quantile(&batch_us, 0.99),
        "close_with_snapshot_s": close_s,
        "peak_rss_mib": peak_rss_mib(),
        "data": if log.is_none() { data.clone() } else { work.join("node") },
        "log": log.map_or("file", |(u, _)| u),
        "replicas": log.map_or(0, |(_, r)| r),
    });
    println!(
        "durable ingest: {} commands ({:.0} MiB), {} events in {:.2} s = {:.0} events/s; batch (at most {} commands or {} ms) p50 {} µs, p99 {} µs; snapshot on close {:.2} s; peak RSS {:.0} MiB",
        sim.commands,
        bytes as f64 / 1048576.0,
        events,
        ingest_s,
        events as f64 / ingest_s,
        super::ingest::BATCH,
        super::ingest::DEFAULT_COMMIT_MS,
        quantile(&batch_us, 0.5),
        quantile(&batch_us, 0.99),
        close_s,
        peak_rss_mib()
    );
    println!("{out}");
    if !baselines.is_empty() {
        let dacu_gmv = dacu_core::view::report(&f, dir_state(&data)?.engine().state()).gmv;
        // Same workload file, so the ratio is simply how much longer the baseline took.
        for name in baselines {
            let run = match name {
                "redis" => super::baseline::redis_ingest(&input, (f.start(), f.end()))?,
                _ => super::baseline::postgres_ingest(&input, (f.start(), f.end()))?,
            };
            let mut lat = run.latency_us.clone();
            lat.sort_unstable();
            let rate = run.events as f64 / run.seconds;
            println!(
                "{}: {} order events in {:.2} s = {:.0} events/s; p50 {} µs, p99 {} µs per {}; GMV {} (dacu {}); dacu/{} = {:.1}x",
                run.name,
                run.events,
                run.seconds,
                rate,
                quantile(&lat, 0.5),
                quantile(&lat, 0.99),
                if run.name == "redis" { "pipeline of 1,000 orders" } else { "transaction" },
                run.gmv,
                dacu_gmv,
                run.name,
                run.seconds / ingest_s
            );
            println!(
                "{}",
                json!({"bench": "baseline", "name": run.name, "events": run.events, "seconds": run.seconds, "events_per_s": rate,
                       "latency_p50_us": quantile(&lat, 0.5), "latency_p99_us": quantile(&lat, 0.99), "gmv": run.gmv, "dacu_gmv": dacu_gmv,
                       "dacu_ratio": run.seconds / ingest_s})
            );
            anyhow::ensure!(
                run.gmv == dacu_gmv,
                "{} ended with GMV {} but dacu with {}: the workloads differ",
                run.name,
                run.gmv,
                dacu_gmv
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A node on a new JetStream stream, its own directory at `dir` (made by the bench).
fn stream_node(
    url: &str,
    replicas: usize,
    festival: &Path,
    dir: &Path,
    cfg: dacu_node::NodeConfig,
) -> anyhow::Result<dacu_node::Node> {
    anyhow::ensure!((1..=5).contains(&replicas), "--replicas must be 1 to 5, got {replicas}");
    let url = dacu_jetstream::LogUrl::parse(url).map_err(|e| anyhow::anyhow!("--log: {e}"))?;
    let src = std::fs::read_to_string(festival).with_context(|| format!("cannot read {}", festival.display()))?;
    let opts = dacu_jetstream::StreamOptions { replicas, ..Default::default() };
    if dir.exists() {
        let _lock = dacu_log::dir::lock_exclusive(dir).with_context(|| format!("cannot replace {}", dir.display()))?;
        std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    let lock = dacu_jetstream::node_dir::open(dir, &url)?;
    let (start, opened) = dacu_node::StreamStart::open(&url, &opts, Some(&src), dir, lock)?;
    anyhow::ensure!(opened.recovered.stream_last <= 1, "{url} already holds a log; give the bench a new stream name");
    Ok(dacu_node::Node::start_stream(start, cfg)?)
}

fn dir_state(data: &Path) -> anyhow::Result<DataDir> {
    Ok(DataDir::open(data, Options::default())?.0)
}

fn replay(data: &Path) -> anyhow::Result<ExitCode> {
    let t0 = Instant::now();
    let (engine, rep) = dacu_log::rebuild_from_log(data)?;
    let s = t0.elapsed().as_secs_f64();
    let events = engine.state().events;
    println!(
        "replay: {events} events in {s:.2} s = {:.0} events/s; peak RSS {:.0} MiB",
        events as f64 / s,
        peak_rss_mib()
    );
    println!(
        "{}",
        json!({"bench": "replay", "events": events, "replayed": rep.events_replayed, "seconds": s, "events_per_s": events as f64 / s, "peak_rss_mib": peak_rss_mib()})
    );
    Ok(ExitCode::SUCCESS)
}

fn restart(data: &Path) -> anyhow::Result<ExitCode> {
    let t0 = Instant::now();
    let (dir, rep) = DataDir::open(data, Options::default())?;
    let s = t0.elapsed().as_secs_f64();
    let events = dir.engine().state().events;
    println!(
        "restart: {events} events (snapshot at {}, {} replayed) in {s:.2} s; peak RSS {:.0} MiB",
        rep.snapshot_seq.map(|x| x.to_string()).unwrap_or_else(|| "none".into()),
        rep.events_replayed,
        peak_rss_mib()
    );
    println!(
        "{}",
        json!({"bench": "restart", "events": events, "snapshot_seq": rep.snapshot_seq, "replayed": rep.events_replayed, "seconds": s, "peak_rss_mib": peak_rss_mib()})
    );
    Ok(ExitCode::SUCCESS)
}
