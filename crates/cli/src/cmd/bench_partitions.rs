//! `dacu bench partitions`: coupon claims through 1, 2 and 4 partition threads (dacu-part's
//! cluster: the router, the escrow of stock, one engine per partition), against the
//! single engine on the same claims in the same run.

use super::bench_market::{engine, parsed, time_execute};
use dacu_core::contest::BoardKey;
use dacu_core::festival::Metric;
use dacu_core::{Command, Engine, Festival};
use dacu_part::boards;
use dacu_part::escrow::{peak_out, Entry};
use dacu_part::route::{key, Key};
use dacu_part::{Answer, Cluster, Partitioned};
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::Instant;

/// Commands a client sends before it reads their answers.
const WINDOW: usize = 512;

fn coupon(count: u64) -> String {
    format!(
        r#"{{"type":"create_coupon","id":"c0","coupon":"p20","issuer":"platform","scope":"platform","threshold":19900,"off":2000,"stock":{count},"per_user":1,"claim_from":"2021-11-01T00:00:00+08:00","claim_until":"2021-11-12T00:00:00+08:00","valid_days":3,"at":"2021-11-01T00:00:00+08:00"}}"#
    )
}

fn claims(count: u64) -> anyhow::Result<Vec<Command>> {
    parsed((0..count).map(|i| {
        format!(
            r#"{{"type":"claim_coupon","id":"k{i}","coupon":"p20","user":"u{i}","at":"2021-11-11T20:00:00+08:00"}}"#
        )
    }))
}

pub fn partitions(
    festival_file: &Path,
    count: u64,
    counts: &[u32],
    clients: usize,
    simulated: u64,
) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(count >= 1, "--count must be at least 1");
    let cmds = claims(count)?;
    let mut e = engine(festival_file)?;
    let festival = e.festival_arc();
    super::bench_market::exec_line(&mut e, &coupon(count))?;
    let secs = time_execute(&mut e, &cmds)?;
    let single = count as f64 / secs;
    println!("one engine, one thread: {count} claims in {secs:.2} s = {single:.0} claims/s");
    let mut rows = Vec::new();
    for &n in counts {
        let mut set_up = Partitioned::new(festival.clone(), n).map_err(|e| anyhow::anyhow!(e))?;
        let c = dacu_core::parse_line(&coupon(count)).map_err(|r| anyhow::anyhow!("{r}"))?;
        set_up.execute(&c).map_err(|u| anyhow::anyhow!("{u}"))?.map_err(|r| anyhow::anyhow!("{r}"))?;
        let cluster = Cluster::start(set_up);
        let t0 = Instant::now();
        let (accepted, busy) = drive(&cluster, &cmds, clients.max(1));
        let secs = t0.elapsed().as_secs_f64();
        let parts = cluster.stop();
        anyhow::ensure!(accepted == count && parts.claimed("p20") == count, "not every claim landed");
        let peak = peak_out(parts.escrow.log()).get("p20").copied().unwrap_or(0);
        anyhow::ensure!(peak <= count, "the escrow had {peak} out of a stock of {count}");
        let grants = parts.escrow.log().iter().filter(|e| matches!(e, Entry::Granted { .. })).count();
        let returns = parts.escrow.log().len() - grants;
        let rate = count as f64 / secs;
        println!(
            "{n} partition(s), {clients} client thread(s): {count} claims in {secs:.2} s = {rate:.0} claims/s ({:.2}× one engine); {grants} slab grants, {returns} returns, {busy} busy answers resent",
            rate / single
        );
        rows.push(json!({"partitions": n, "seconds": secs, "per_second": rate, "ratio_to_single_engine": rate / single, "grants": grants, "returns": returns, "busy": busy, "grants_per_claim": grants as f64 / count as f64}));
    }
    println!(
        "{}",
        json!({"bench": "partitions", "claims": count, "clients": clients, "single_engine_per_second": single, "runs": rows})
    );
    if simulated > 0 {
        let src = super::bench_partitions_durable::source(festival_file)?;
        festival_run(festival, &src, counts, simulated)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The simulated festival's partitionable commands in one thread: the single engine, then
/// each partition count with its projection replayed, which must reach the single
/// engine's state digest.
fn festival_run(festival: Arc<Festival>, src: &str, counts: &[u32], commands: u64) -> anyhow::Result<()> {
    let mut buf = Vec::new();
    dacu_sim::simulate(&festival, dacu_sim::Scale::Commands(commands.max(1_000)), 116, &mut buf)?;
    let mut probe = dacu_part::router::Router::new(1);
    let mut cmds: Vec<Command> = String::from_utf8(buf)?
        .lines()
        .filter_map(|l| dacu_core::parse_line(l).ok())
        .filter(|c| probe.route(c, true).is_ok())
        .collect();
    // In time order, the order the projection merges in (docs/scale-out.md).
    cmds.sort_by_key(|c| c.at().unwrap_or(dacu_core::Ts(i64::MIN)));
    let mut one = Engine::new(festival.clone());
    let t0 = Instant::now();
    for c in &cmds {
        let _ = one.execute(c, &mut Vec::new());
    }
    let single = cmds.len() as f64 / t0.elapsed().as_secs_f64();
    let want = dacu_core::digest::digest(one.state());
    println!("simulated festival, {} partitionable commands, one engine: {single:.0} commands/s", cmds.len());
    let mut rows = Vec::new();
    for &n in counts {
        rows.push(festival_partitions(&festival, &cmds, n, single, &want)?);
    }
    let mut threads = Vec::new();
    for &n in counts {
        threads.push(festival_threads(&festival, &cmds, n, (single, &want))?);
    }
    let writer = super::bench_partitions_durable::single_writer(src, &cmds, WINDOW)?;
    let mut durable = Vec::new();
    for &n in counts {
        durable.push(super::bench_partitions_durable::row(src, &cmds, n, WINDOW, (writer, &want))?);
    }
    println!(
        "{}",
        json!({"bench": "partitions_festival", "commands": cmds.len(), "single_engine_per_second": single, "runs": rows, "threads": threads, "single_durable_writer_per_second": writer, "durable": durable})
    );
    Ok(())
}

/// The same commands on partition threads, all of them in their order through
/// [`Cluster::run`] (each definition, tick and settlement once everything before it is
/// answered, the rest from one client thread per partition), timed; the partitions' logs
/// then replay to the single engine's digest.
fn festival_threads(
    festival: &Arc<Festival>,
    cmds: &[Command],
    n: u32,
    (single, want): (f64, &str),
) -> anyhow::Result<serde_json::Value> {
    let mut set_up = Partitioned::new(festival.clone(), n).map_err(|e| anyhow::anyhow!(e))?;
    set_up.record();
    let cluster = Cluster::start(set_up);
    let t0 = Instant::now();
    let answers = cluster.run(cmds, WINDOW);
    let secs = t0.elapsed().as_secs_f64();
    let parts = cluster.stop();
    anyhow::ensure!(!answers.iter().any(|a| matches!(a, Answer::Unsupported(_))), "a command was not routed");
    let digest = dacu_core::digest::digest(parts.projection().state());
    anyhow::ensure!(
        digest == want,
        "{n} partition threads: the projection's digest {digest} is not the single engine's {want}"
    );
    let accepted = answers.iter().filter(|a| matches!(a, Answer::Accepted(_))).count();
    let in_order = cmds
        .iter()
        .filter(|c| matches!(c, Command::Tick(_) | Command::Settle(_)) || key(c) == Key::Coordinator)
        .count();
    let rate = cmds.len() as f64 / secs;
    println!(
        "  {n} partition thread(s), submitted in order, {WINDOW} unanswered at most: {} commands ({in_order} definitions, ticks and settlements) in {secs:.2} s = {rate:.0} commands/s ({:.2}× one engine), {accepted} accepted, digest equal",
        cmds.len(),
        rate / single
    );
    Ok(
        json!({"partitions": n, "commands": cmds.len(), "in_order": in_order, "seconds": secs, "per_second": rate, "ratio_to_single_engine": rate / single, "accepted": accepted}),
    )
}

fn festival_partitions(
    festival: &Arc<Festival>,
    cmds: &[Command],
    n: u32,
    single: f64,
    want: &str,
) -> anyhow::Result<serde_json::Value> {
    let mut parts = Partitioned::new(festival.clone(), n).map_err(|e| anyhow::anyhow!(e))?;
    parts.record();
    let t0 = Instant::now();
    let mut definitions = 0u64;
    for c in cmds {
        let r = parts.execute(c).map_err(|u| anyhow::anyhow!("{u}"))?;
        definitions += u64::from(r.is_ok() && key(c) == Key::Coordinator);
    }
    let rate = cmds.len() as f64 / t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let merged = parts.projection();
    let replay_s = t1.elapsed().as_secs_f64();
    anyhow::ensure!(dacu_core::digest::digest(merged.state()) == want, "the projection differs from one engine");
    let (boards, boards_s) = boards_from_partials(&parts, &merged)?;
    let events = merged.state().events;
    let grants = parts.escrow.log().len() as u64;
    let cross = (definitions + grants) as f64 / cmds.len() as f64;
    println!(
        "  {n} partition(s) in one thread: {rate:.0} commands/s ({:.2}× one engine); cross-partition {:.2}% of commands ({definitions} definitions copied to every partition, {grants} escrow entries); projection: {events} events in {replay_s:.2} s = {:.0} events/s, digest equal; {boards} GMV boards merged from partials in {:.2} ms, equal to the projection's",
        rate / single,
        cross * 100.0,
        events as f64 / replay_s,
        boards_s * 1e3
    );
    Ok(
        json!({"partitions": n, "per_second": rate, "ratio_to_single_engine": rate / single, "definitions": definitions, "escrow_entries": grants, "cross_fraction": cross, "projection_events": events, "projection_seconds": replay_s, "gmv_boards": boards, "boards_from_partials_seconds": boards_s}),
    )
}

/// Merges every GMV board of every race from the partitions' partials, timed, and checks
/// each against the projection's: how many boards, in how many seconds.
fn boards_from_partials(parts: &Partitioned, projection: &Engine) -> anyhow::Result<(usize, f64)> {
    let engines: Vec<&Engine> = parts.parts.iter().map(|p| p.engine()).collect();
    let c = &projection.state().contests;
    let gmv: Vec<usize> = (0..c.defs.len()).filter(|&ri| c.defs[ri].metric == Metric::Gmv).collect();
    let keys: Vec<(usize, BoardKey)> =
        gmv.iter().flat_map(|&ri| c.races[ri].boards.keys().map(move |k| (ri, *k))).collect();
    let t0 = Instant::now();
    let mut merged = Vec::with_capacity(keys.len());
    for &(ri, key) in &keys {
        merged.push(boards::merged(&engines, ri, key).map_err(|e| anyhow::anyhow!(e.0))?);
    }
    let secs = t0.elapsed().as_secs_f64();
    for (&(ri, key), got) in keys.iter().zip(&merged) {
        anyhow::ensure!(*got == boards::of_engine(projection, ri, key), "board {key:?} of race {ri} merged wrong");
    }
    Ok((keys.len(), secs))
}

/// Sends the claims from `clients` threads, each a window at a time, resending what is
/// answered busy; the claims accepted and the busy answers.
fn drive(cluster: &Cluster, cmds: &[Command], clients: usize) -> (u64, u64) {
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|c| {
                s.spawn(move || {
                    let mine: Vec<&Command> = cmds.iter().skip(c).step_by(clients).collect();
                    let (mut accepted, mut busy) = (0, 0);
                    for chunk in mine.chunks(WINDOW) {
                        let mut todo: Vec<&Command> = chunk.to_vec();
                        while !todo.is_empty() {
                            let sent: Vec<(&Command, Receiver<Answer>)> =
                                todo.iter().map(|c| (*c, cluster.submit((*c).clone()))).collect();
                            todo.clear();
                            for (c, rx) in sent {
                                match rx.recv() {
                                    Ok(Answer::Accepted(_)) => accepted += 1,
                                    Ok(Answer::Busy) => {
                                        busy += 1;
                                        todo.push(c);
                                    }
                                    _ => {}
                                }
                            }
                        }
                    }
                    (accepted, busy)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a client thread")).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    })
}
