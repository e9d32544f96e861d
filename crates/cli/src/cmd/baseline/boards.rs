//! The Redis sorted-set design beside `dacu bench boards` (crate::cmd::bench_boards).

use super::market::pipelined;
use crate::cmd::bench::quantile;
use std::time::Instant;

/// The same updates as ZINCRBY on one sorted set, pipelined 1,000 at a time; then
/// ZREVRANGE 0 99 WITHSCORES round trips. Returns (updates/s, top-100 p50 µs, p99 µs).
pub fn redis_boards(start: &[i64], ups: &[(u32, i64)], queries: u64) -> anyhow::Result<(f64, f64, f64)> {
    let entrants = start.len() as u64;
    let client = redis::Client::open("redis://127.0.0.1:6379/")?;
    let mut con = client.get_connection()?;
    redis::cmd("DEL").arg("board").exec(&mut con)?;
    for chunk in (0..entrants).collect::<Vec<_>>().chunks(10_000) {
        let mut c = redis::cmd("ZADD");
        c.arg("board");
        for &e in chunk {
            c.arg(start[e as usize]).arg(format!("a{e}"));
        }
        c.exec(&mut con)?;
    }
    let secs = pipelined(&mut con, ups.len() as u64, |pipe, i| {
        let (e, d) = ups[i as usize];
        pipe.cmd("ZINCRBY").arg("board").arg(d).arg(format!("a{e}")).ignore();
    })?;
    let mut ns = Vec::with_capacity(queries as usize);
    for _ in 0..queries {
        let q = Instant::now();
        let top: Vec<(String, f64)> =
            redis::cmd("ZREVRANGE").arg("board").arg(0).arg(99).arg("WITHSCORES").query(&mut con)?;
        ns.push(q.elapsed().as_nanos() as u64);
        anyhow::ensure!(top.len() == 100, "redis returned {} rows", top.len());
    }
    ns.sort_unstable();
    redis::cmd("DEL").arg("board").exec(&mut con)?;
    Ok((ups.len() as f64 / secs, quantile(&ns, 0.5) as f64 / 1e3, quantile(&ns, 0.99) as f64 / 1e3))
}
