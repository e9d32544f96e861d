//! `dacu bench settle`: deciding a settlement of a whole festival, the report and its HTML
//! page, and the ledger's CSV, on a data directory; `--baselines postgres` ranks the same
//! boards and prices their rank bands in SQL.

use super::bench::quantile;
use dacu_core::contest::RaceKind;
use dacu_core::settle::plan;
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

/// Runs `f` `n` times; the sorted durations in µs.
fn timed<T>(n: usize, mut f: impl FnMut() -> T) -> (Vec<u64>, T) {
    let mut us = Vec::with_capacity(n);
    let mut last = None;
    for _ in 0..n {
        let t = Instant::now();
        last = Some(f());
        us.push(t.elapsed().as_micros() as u64);
    }
    us.sort_unstable();
    (us, last.expect("n > 0"))
}

pub fn settle(data: &Path, runs: usize, baselines: &str) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(runs >= 1, "--runs must be at least 1");
    let dir = dacu_log::DataDir::open(data, dacu_log::Options::default())?.0;
    let (f, st) = (dir.festival(), dir.engine().state());
    let at = f.end();
    // The whole festival settled at once: the state as if no settlement had run yet.
    let fresh = dacu_core::state::State { settlement: Default::default(), ..st.clone() };
    let (plan_us, p) = timed(runs, || plan(f, &fresh, at, 1));
    drop(fresh);
    let ranked: u64 = p.boards.iter().map(|b| b.ranked).sum();
    // A later settlement on the directory as it is: mostly re-checking what was paid.
    let n = st.settlement.runs.len() as u32 + 1;
    let (again_us, again) = timed(runs, || plan(f, st, at, n));
    let (report_us, r) = timed(runs, || dacu_core::view::report(f, st));
    let (html_us, page) = timed(runs, || crate::html::render(f, &r));
    let (csv_us, _) =
        timed(runs, || super::ledger::write_csv(&st.settlement.runs, &st.settlement.lines, 0, std::io::sink()));
    let med = |v: &[u64]| quantile(v, 0.5);
    println!(
        "settle (decide, not applied): {} boards ({} ranked entrants), {} lines; median {} µs over {runs} runs",
        p.boards.len(),
        ranked,
        p.lines.len(),
        med(&plan_us)
    );
    println!(
        "a later settlement (re-checking {} payouts): {} lines; median {} µs",
        st.settlement.payouts.len(),
        again.lines.len(),
        med(&again_us)
    );
    println!(
        "report: median {} µs; HTML page ({} KiB): median {} µs; ledger CSV of {} lines: median {} µs",
        med(&report_us),
        page.len() / 1024,
        med(&html_us),
        st.settlement.lines.len(),
        med(&csv_us)
    );
    let mut out = json!({
        "bench": "settle", "events": st.events, "boards": p.boards.len(), "ranked": ranked,
        "lines": p.lines.len(), "plan_us": med(&plan_us), "recheck_payouts": st.settlement.payouts.len(),
        "recheck_us": med(&again_us), "report_us": med(&report_us),
        "html_us": med(&html_us), "html_bytes": page.len(), "ledger_lines": st.settlement.lines.len(),
        "ledger_csv_us": med(&csv_us),
    });
    for b in baselines.split(',').map(str::trim).filter(|b| !b.is_empty() && *b != "none") {
        match b {
            "postgres" => {
                let (load_s, us, paid) = postgres(f, st, at, runs)?;
                // The same money from dacu's plan: contest claims before budget scaling.
                let contests: i64 = p
                    .lines
                    .iter()
                    .filter(|l| dacu_core::settle::Unit::of(l.item) == dacu_core::settle::Unit::Fen)
                    .filter(|l| {
                        st.contests.race_index(&l.race).is_some_and(|ri| st.contests.defs[ri].kind == RaceKind::Contest)
                    })
                    .map(|l| l.claim)
                    .sum();
                println!(
                    "postgres: {ranked} entrants loaded in {load_s:.1} s (untimed); rank + band query median {} µs ({:.1}× dacu's whole settlement); contest money {paid} fen (dacu: {contests} fen)",
                    med(&us),
                    med(&us) as f64 / med(&plan_us).max(1) as f64
                );
                anyhow::ensure!(paid == contests, "postgres priced the contests at {paid} fen, dacu at {contests} fen");
                out["postgres_query_us"] = json!(med(&us));
                out["postgres_money_fen"] = json!(paid);
            }
            other => anyhow::bail!("unknown baseline `{other}`; `bench settle` has: postgres, none"),
        }
    }
    println!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// The closed contest boards' ranked entrants in a table, each contest's rank bands in
/// another, and one query that ranks every board with a window function and prices each
/// entrant's band (cash, fixed and share-of-sales 粉条 credit): the core of a settlement
/// as a batch SQL job would do it, without challenges, budgets or clawbacks.
fn postgres(
    f: &dacu_core::Festival,
    st: &dacu_core::state::State,
    at: dacu_core::Ts,
    runs: usize,
) -> anyhow::Result<(f64, Vec<u64>, i64)> {
    use dacu_core::festival::RewardKind;
    let mut db = postgres::Client::connect("host=127.0.0.1 user=postgres dbname=postgres", postgres::NoTls)?;
    db.batch_execute(
        "DROP TABLE IF EXISTS dacu_bench_entries, dacu_bench_bands;
         CREATE TABLE dacu_bench_entries (race int NOT NULL, board int NOT NULL, participant text NOT NULL,
                                          score bigint NOT NULL, at_ms bigint NOT NULL, sales bigint NOT NULL);
         CREATE TABLE dacu_bench_bands (race int NOT NULL, rank_from bigint NOT NULL, rank_to bigint NOT NULL,
                                        fixed_fen bigint NOT NULL, share_bp bigint NOT NULL, cap_fen bigint NOT NULL);",
    )?;
    let t0 = Instant::now();
    let c = &st.contests;
    let mut tx = db.transaction()?;
    let ins = tx.prepare("INSERT INTO dacu_bench_entries VALUES ($1, $2, $3, $4, $5, $6)")?;
    let band = tx.prepare("INSERT INTO dacu_bench_bands VALUES ($1, $2, $3, $4, $5, $6)")?;
    for (ri, d) in c.defs.iter().enumerate() {
        if d.kind != RaceKind::Contest {
            continue;
        }
        for b in &f.reward_tables[d.reward_table].bands {
            let (Some(from), Some(to)) = (b.rank_from, b.rank_to) else { continue };
            let money = |k: RewardKind| b.items.iter().filter(move |i| i.kind == k);
            let fixed: i64 =
                money(RewardKind::Cash).chain(money(RewardKind::FentiaoCredit)).filter_map(|i| i.amount_fen).sum();
            let share = money(RewardKind::FentiaoCredit).find(|i| i.amount_fen.is_none());
            let (bp, cap) = share.map_or((0, 0), |i| (i.share_bp.unwrap_or(0), i.cap_fen.unwrap_or(i64::MAX)));
            tx.execute(&band, &[&(ri as i32), &from, &to, &fixed, &bp, &cap])?;
        }
        for (bi, (key, t)) in c.races[ri].boards.iter().enumerate() {
            if c.board_window(ri, *key).1 > at {
                continue;
            }
            for k in t.board.iter() {
                let p = dacu_core::contest::lookup(st, d.role, &k.id).expect("registered").1;
                tx.execute(&ins, &[&(ri as i32), &(bi as i32), &&*k.id, &k.score, &k.at_ms, &t.recs[&p].sales])?;
            }
        }
    }
    tx.commit()?;
    db.batch_execute("ANALYZE dacu_bench_entries; ANALYZE dacu_bench_bands;")?;
    let load_s = t0.elapsed().as_secs_f64();
    let q = db.prepare(
        "WITH ranked AS (
           SELECT race, board, participant, sales,
                  row_number() OVER (PARTITION BY race, board ORDER BY score DESC, at_ms, participant) AS rank
           FROM dacu_bench_entries)
         SELECT coalesce(sum(b.fixed_fen + least(greatest(r.sales, 0) * b.share_bp / 10000, b.cap_fen)), 0)::bigint
         FROM ranked r JOIN dacu_bench_bands b ON b.race = r.race AND r.rank BETWEEN b.rank_from AND b.rank_to",
    )?;
    let mut paid = 0i64;
    let (us, _) = timed(runs, || {
        paid = db.query_one(&q, &[]).map(|row| row.get(0)).unwrap_or(-1);
    });
    Ok((load_s, us, paid))
}
