//! The PostgreSQL batch design beside `dacu bench settle` (crate::cmd::bench_settle).

use crate::cmd::bench_settle::timed;
use dacu_core::contest::RaceKind;
use std::time::Instant;

/// The closed contest boards' ranked entrants in a table, each contest's rank bands in
/// another, and one query that ranks every board with a window function and prices each
/// entrant's band (cash, fixed and share-of-sales 粉条 credit): the core of a settlement
/// as a batch SQL job would do it, without challenges, budgets or clawbacks.
pub fn postgres_settle(
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
