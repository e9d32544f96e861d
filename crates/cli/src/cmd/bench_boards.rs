//! `dacu bench boards`: leaderboard updates and top-100 queries on the engine's boards,
//! and the Redis sorted-set design on the same updates.

use super::bench::quantile;
use dacu_core::contest::view::Page;
use dacu_core::contest::Tally;
use dacu_core::Ts;
use serde_json::json;
use std::process::ExitCode;
use std::time::Instant;

/// A small deterministic generator (xorshift64*), so both designs see the same updates.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// The updates: (entrant, score increment in fen). Popular entrants sell more often (the
/// square of a uniform draw skews toward the head), as in a real board.
fn updates(entrants: u64, count: u64) -> Vec<(u32, i64)> {
    let mut r = Rng(0x116_2021);
    (0..count)
        .map(|_| {
            let x = r.next() % entrants;
            let e = x * x / entrants;
            (e as u32, 100 + (r.next() % 50_000) as i64)
        })
        .collect()
}

pub fn boards(entrants: u64, count: u64, queries: u64, baselines: &str) -> anyhow::Result<ExitCode> {
    let baselines = super::baseline::wanted(baselines, &["redis"], "boards")?;
    anyhow::ensure!(entrants >= 100, "--entrants must be at least 100");
    let ups = updates(entrants, count);
    let mut start_scores = Vec::new();
    let t0 = Ts::parse("2021-11-11T00:00:00+08:00")?;
    let mut t = Tally::default();
    // Entrants start spread out, as a board is some days into a contest: distinct
    // scores up to ¥10,000, reached at distinct times.
    let mut r = Rng(0x2021_1111);
    let mut score: Vec<i64> = (0..entrants).map(|_| (r.next() % 1_000_000) as i64).collect();
    for e in 0..entrants as u32 {
        t.insert_ranked(e, &format!("a{e}"), score[e as usize], t0.plus_ms(-(e as i64) - 1));
    }
    start_scores.extend_from_slice(&score);
    // Board updates: each is one entrant's new score and its move on the ordered board,
    // through the same call the engine makes for every board an order touches.
    let start = Instant::now();
    for (i, &(e, d)) in ups.iter().enumerate() {
        let s = &mut score[e as usize];
        *s += d;
        t.set_score(e, *s, t0.plus_ms(i as i64));
    }
    let secs = start.elapsed().as_secs_f64();
    let rate = count as f64 / secs;
    anyhow::ensure!(t.board.len() == entrants as usize, "the board lost entrants");
    let best = t.board.nth(0).map(|k| k.score).unwrap_or(0);
    anyhow::ensure!(best == *score.iter().max().unwrap_or(&0), "the top of the board is not the best score");

    // Top-100 queries: the ids and scores of the first 100 ranks.
    let mut ns = Vec::with_capacity(queries as usize);
    let mut checksum = 0i64;
    for _ in 0..queries {
        let q = Instant::now();
        let top: Vec<(&str, i64)> = t.board.iter().take(100).map(|k| (&*k.id, k.score)).collect();
        ns.push(q.elapsed().as_nanos() as u64);
        checksum = checksum.wrapping_add(top[99].1);
    }
    ns.sort_unstable();
    let (p50, p99) = (quantile(&ns, 0.5), quantile(&ns, 0.99));
    // Rank of one entrant (the "my rank" query).
    let mut rank_ns = Vec::with_capacity(queries as usize);
    let mut r = Rng(7);
    for _ in 0..queries {
        let e = (r.next() % entrants) as u32;
        let k = t.recs[&e].key();
        let q = Instant::now();
        let rank = t.board.rank(&k);
        rank_ns.push(q.elapsed().as_nanos() as u64);
        checksum = checksum.wrapping_add(rank.unwrap_or(0) as i64);
    }
    rank_ns.sort_unstable();
    let (r50, r99) = (quantile(&rank_ns, 0.5), quantile(&rank_ns, 0.99));
    println!("board: {entrants} entrants, {count} score updates (skewed to the head), then {queries} queries");
    println!("  updates: {count} in {secs:.2} s = {rate:.0} updates/s");
    println!("  top-100 (ids and scores): p50 {:.2} µs, p99 {:.2} µs", p50 as f64 / 1e3, p99 as f64 / 1e3);
    println!("  one entrant's rank: p50 {:.2} µs, p99 {:.2} µs", r50 as f64 / 1e3, r99 as f64 / 1e3);
    let mut out = json!({
        "bench": "boards", "entrants": entrants, "updates": count, "seconds": secs, "updates_per_second": rate,
        "top100_p50_us": p50 as f64 / 1e3, "top100_p99_us": p99 as f64 / 1e3,
        "rank_p50_us": r50 as f64 / 1e3, "rank_p99_us": r99 as f64 / 1e3, "checksum": checksum,
    });
    // The full page as `dacu leaderboard --top 100` builds it: rows with bands, provisional
    // rewards and gaps, on the 116 festival's anchor contest.
    let page_ns = page_latency(entrants.min(100_000), queries.min(20_000))?;
    println!(
        "  `leaderboard --top 100` page (rows, bands, rewards, gaps): p50 {:.2} µs, p99 {:.2} µs",
        page_ns.0, page_ns.1
    );
    out["page100_p50_us"] = json!(page_ns.0);
    out["page100_p99_us"] = json!(page_ns.1);
    if baselines.contains(&"redis") {
        let (rrate, q50, q99) = super::baseline::redis_boards(&start_scores, &ups, queries.min(20_000))?;
        println!(
            "  redis sorted set (ZINCRBY pipelined 1,000; ZREVRANGE 0 99 WITHSCORES per query): {rrate:.0} updates/s; top-100 p50 {q50:.2} µs, p99 {q99:.2} µs; dacu ÷ redis: updates {:.1}×, top-100 p99 {:.1}× faster",
            rate / rrate,
            q99 / (p99 as f64 / 1e3)
        );
        out["redis_updates_per_second"] = json!(rrate);
        out["redis_top100_p50_us"] = json!(q50);
        out["redis_top100_p99_us"] = json!(q99);
        out["ratio_updates_to_redis"] = json!(rate / rrate);
    }
    println!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// p50 and p99 (µs) of a full top-100 page of the 116 festival's anchor contest, with
/// `entrants` enrolled anchors that all passed the gates and sold.
fn page_latency(entrants: u64, queries: u64) -> anyhow::Result<(f64, f64)> {
    use dacu_core::{festival, parse_line, Engine};
    let f = festival::parse(include_str!("../../../../festivals/kuaishou-116-2021.toml"))
        .map_err(|_| anyhow::anyhow!("the bundled festival is invalid"))?;
    let mut e = Engine::new(std::sync::Arc::new(f));
    let mut run = |l: String| -> anyhow::Result<()> {
        let c = parse_line(&l).map_err(|r| anyhow::anyhow!("{l}: {r}"))?;
        e.execute(&c, &mut Vec::new()).map_err(|r| anyhow::anyhow!("{l}: {r}"))
    };
    run(r#"{"type":"register_merchant","merchant":"m","name":"M","brand_tier":"ka","category":"beauty"}"#.into())?;
    let at = "2021-10-21T10:00:00+08:00";
    for a in 0..entrants {
        run(format!(r#"{{"type":"register_anchor","anchor":"a{a}","name":"A","followers":{}}}"#, a * 37 % 2_000_000))?;
        run(format!(r#"{{"type":"enroll","program":"anchor_ranking","participant":"a{a}","at":"{at}"}}"#))?;
        run(format!(r#"{{"type":"set_experience_score","id":"s{a}","participant":"a{a}","score":4.8,"at":"{at}"}}"#))?;
        run(format!(r#"{{"type":"live_start","session":"s{a}","anchor":"a{a}","at":"{at}"}}"#))?;
        run(format!(
            r#"{{"type":"order_paid","order":"o{a}","user":"u","merchant":"m","channel":"live","session":"s{a}","lines":[{{"sku":"k","qty":1,"price":1000000,"paid":{}}}],"at":"{at}"}}"#,
            1000 + a * 7919 % 900_000
        ))?;
    }
    let st = e.state();
    let c = &st.contests;
    let ri = c.race_index("anchor_ranking").ok_or_else(|| anyhow::anyhow!("no anchor_ranking contest"))?;
    let key = c.find_board(ri, None, None)?;
    let mut ns = Vec::with_capacity(queries as usize);
    for _ in 0..queries {
        let q = Instant::now();
        let p = c.page(e.festival(), st, ri, key, &Page::Top(100))?;
        ns.push(q.elapsed().as_nanos() as u64);
        anyhow::ensure!(p.rows.len() == 100.min(entrants as usize), "a short page");
    }
    ns.sort_unstable();
    Ok((quantile(&ns, 0.5) as f64 / 1e3, quantile(&ns, 0.99) as f64 / 1e3))
}
