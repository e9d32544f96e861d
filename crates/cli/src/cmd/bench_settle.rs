//! `dacu bench settle`: deciding a settlement of a whole festival, the report and its HTML
//! page, and the ledger's CSV, on a data directory; `--baselines postgres` ranks the same
//! boards and prices their rank bands in SQL (crate::cmd::baseline).

use super::bench::quantile;
use dacu_core::contest::RaceKind;
use dacu_core::settle::plan;
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

/// Runs `f` `n` times; the sorted durations in µs.
pub fn timed<T>(n: usize, mut f: impl FnMut() -> T) -> (Vec<u64>, T) {
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
    let baselines = super::baseline::wanted(baselines, &["postgres"], "settle")?;
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
    let (html_us, page) = timed(runs, || dacu_core::html::render(f, &r));
    let all: Vec<(usize, &dacu_core::settle::Line)> =
        st.settlement.lines.iter().enumerate().map(|(i, l)| (i + 1, l)).collect();
    let (csv_us, _) = timed(runs, || super::ledger::write_csv(&st.settlement.runs, &all, std::io::sink()));
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
    if baselines.contains(&"postgres") {
        let (load_s, us, paid) = super::baseline::postgres_settle(f, st, at, runs)?;
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
    println!("{out}");
    Ok(ExitCode::SUCCESS)
}
