//! `dacu bench node`: how long a command waits for its durable reply while readers run a
//! heavy query in a loop, and while snapshots are taken — off the writer (the read view
//! takes them) and, for comparison, on it. `dacu bench acks`: a slow producer's lines
//! through `dacu ingest --acks`, each timed from being written to being acknowledged.

use super::bench::quantile;
use anyhow::Context;
use dacu_core::{parse_line, Command, Ts};
use dacu_log::{DataDir, Options};
use dacu_node::{Node, NodeConfig, Outcome};
use serde_json::json;
use std::io::{BufRead, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One phase of `bench node`.
struct Phase {
    name: &'static str,
    read_view: bool,
    snapshot_every: u64,
    report_loop: bool,
}

const PHASES: [Phase; 4] = [
    Phase { name: "quiet", read_view: true, snapshot_every: 0, report_loop: false },
    Phase { name: "report loop on the read view", read_view: true, snapshot_every: 0, report_loop: true },
    Phase { name: "snapshots off the writer", read_view: true, snapshot_every: 1, report_loop: false },
    Phase { name: "snapshots on the writer", read_view: false, snapshot_every: 1, report_loop: false },
];

pub fn node(data: &Path, seconds: f64, clients: usize) -> anyhow::Result<ExitCode> {
    let nonce = std::process::id();
    for (pi, phase) in PHASES.iter().enumerate() {
        let (dir, _) = DataDir::open(data, Options { snapshot_every: 0, ..Options::default() })
            .with_context(|| format!("opening {}", data.display()))?;
        let (merchant, at) = order_target(&dir)?;
        let events_before = dir.engine().state().events;
        let cfg =
            NodeConfig { read_view: phase.read_view, snapshot_every: phase.snapshot_every, ..NodeConfig::default() };
        let node = Arc::new(Node::start(dir, cfg)?);
        let stop = Arc::new(AtomicBool::new(false));
        let reports = Arc::new(AtomicU64::new(0));
        let reader = phase.report_loop.then(|| {
            let (node, stop, reports) = (node.clone(), stop.clone(), reports.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let _ = node.read(0, Duration::from_secs(1), |e| dacu_core::view::report(e.festival(), e.state()));
                    reports.fetch_add(1, Ordering::Relaxed);
                }
            })
        });
        let workers: Vec<_> = (0..clients)
            .map(|c| {
                let (node, stop, merchant) = (node.clone(), stop.clone(), merchant.clone());
                std::thread::spawn(move || {
                    let mut lat = Vec::new();
                    let mut i = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        let cmd = order(&format!("bench-{nonce}-{pi}-{c}-{i}"), &merchant, at);
                        let t = Instant::now();
                        let o = node.execute(cmd).expect("the node runs");
                        lat.push(t.elapsed().as_micros() as u64);
                        assert!(matches!(o, Outcome::Accepted { .. }), "{o:?}");
                        i += 1;
                    }
                    lat
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs_f64(seconds));
        stop.store(true, Ordering::Relaxed);
        let mut lat: Vec<u64> = workers.into_iter().flat_map(|w| w.join().expect("client")).collect();
        if let Some(r) = reader {
            r.join().expect("reader");
        }
        let node = Arc::into_inner(node).expect("clients done");
        let down = node.shutdown()?;
        lat.sort_unstable();
        let line = json!({"bench": "node", "phase": phase.name, "clients": clients, "seconds": seconds,
            "commands": lat.len(), "events": down.durable_seq - events_before,
            "commands_per_s": lat.len() as f64 / seconds, "reports": reports.load(Ordering::Relaxed),
            "latency_p50_us": quantile(&lat, 0.5), "latency_p99_us": quantile(&lat, 0.99),
            "latency_p999_us": quantile(&lat, 0.999), "latency_max_us": lat.last().copied().unwrap_or(0)});
        println!(
            "{:<32} {} commands ({:.0}/s) from {clients} clients; durable reply p50 {} µs, p99 {} µs, p99.9 {} µs, max {} µs; {} reports",
            phase.name,
            lat.len(),
            lat.len() as f64 / seconds,
            quantile(&lat, 0.5),
            quantile(&lat, 0.99),
            quantile(&lat, 0.999),
            lat.last().copied().unwrap_or(0),
            reports.load(Ordering::Relaxed)
        );
        println!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

/// A registered merchant and a time inside the festival for the bench's orders.
fn order_target(dir: &DataDir) -> anyhow::Result<(String, Ts)> {
    let st = dir.engine().state();
    anyhow::ensure!(!st.merchant_ids.is_empty(), "the data directory has no merchant to order from");
    let f = dir.festival();
    Ok((st.merchant_ids.name(0).to_string(), Ts(f.end().0 - 3_600_000)))
}

fn order(id: &str, merchant: &str, at: Ts) -> Command {
    parse_line(&format!(
        r#"{{"type":"order_paid","order":"{id}","user":"bench-user","merchant":"{merchant}","channel":"shelf","lines":[{{"sku":"bench","qty":1,"price":1000,"paid":1000}}],"at":"{at}"}}"#
    ))
    .expect("a valid order")
}

/// `dacu bench acks`: a producer that writes one command every `interval_ms` into a
/// `dacu ingest --acks -` child and times each line to its acknowledgement.
pub fn acks(festival: &Path, work: &Path, interval_ms: u64, count: u64, commit_ms: u64) -> anyhow::Result<ExitCode> {
    let scratch = crate::files::BENCH;
    scratch.check(work)?;
    std::fs::create_dir_all(work).with_context(|| format!("creating {}", work.display()))?;
    scratch.mark(work)?;
    let data = work.join("acks");
    if data.exists() {
        let _lock = dacu_log::dir::lock_exclusive(&data)?;
        std::fs::remove_dir_all(&data)?;
    }
    let (f, _) = dacu_log::load_festival(festival)?;
    let mut child = std::process::Command::new(std::env::current_exe()?)
        .args(["ingest", "--data"])
        .arg(&data)
        .arg("--festival")
        .arg(festival)
        .args(["--acks", "-", "--commit-ms", &commit_ms.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("starting dacu ingest")?;
    let mut stdin = child.stdin.take().expect("piped");
    let stdout = child.stdout.take().expect("piped");
    let sent: Arc<std::sync::Mutex<Vec<Instant>>> = Default::default();
    let acked = {
        let sent = sent.clone();
        std::thread::spawn(move || {
            let mut lat = Vec::new();
            let mut done = 0usize;
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
                let Some(through) = v["durable_through_line"].as_u64() else { continue };
                let now = Instant::now();
                let sent = sent.lock().expect("sent");
                // Line 1 registers the merchant; the timed lines follow.
                for t in sent.iter().take(through.saturating_sub(1) as usize).skip(done) {
                    lat.push(now.duration_since(*t).as_micros() as u64);
                }
                done = done.max(through.saturating_sub(1) as usize);
            }
            lat
        })
    };
    writeln!(
        stdin,
        r#"{{"type":"register_merchant","merchant":"m-acks","name":"Acks","brand_tier":"ka","category":"food"}}"#
    )?;
    stdin.flush()?;
    let at = Ts(f.start().0 + 3_600_000);
    for i in 0..count {
        std::thread::sleep(Duration::from_millis(interval_ms));
        let line = format!(
            r#"{{"type":"order_paid","order":"acks-{i}","user":"u","merchant":"m-acks","channel":"shelf","lines":[{{"sku":"s","qty":1,"price":100,"paid":100}}],"at":"{at}"}}"#
        );
        sent.lock().expect("sent").push(Instant::now());
        writeln!(stdin, "{line}")?;
        stdin.flush()?;
    }
    drop(stdin);
    let status = child.wait()?;
    anyhow::ensure!(status.success(), "dacu ingest failed: {status}");
    let mut lat = acked.join().expect("ack reader");
    anyhow::ensure!(lat.len() as u64 == count, "{} of {count} lines were acknowledged", lat.len());
    lat.sort_unstable();
    println!(
        "slow producer: {count} commands, one every {interval_ms} ms (--commit-ms {commit_ms}); written to acknowledged p50 {} µs, p99 {} µs, max {} µs",
        quantile(&lat, 0.5),
        quantile(&lat, 0.99),
        lat.last().copied().unwrap_or(0)
    );
    println!(
        "{}",
        json!({"bench": "acks", "count": count, "interval_ms": interval_ms, "commit_ms": commit_ms,
               "latency_p50_us": quantile(&lat, 0.5), "latency_p99_us": quantile(&lat, 0.99),
               "latency_max_us": lat.last().copied().unwrap_or(0)})
    );
    Ok(ExitCode::SUCCESS)
}
