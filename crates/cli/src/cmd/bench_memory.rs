//! `dacu bench memory`: how much of a data directory's resident state each table holds.
//! Opens the directory to read it (changing nothing), as a restart would load it, then drops the tables one at a time and reads
//! the resident size after each, with the allocator told to return what it freed.

use dacu_core::state::State;
use dacu_log::Options;
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;

/// The resident size now (VmRSS), in MiB, once the allocator has returned its free pages.
fn settle_rss() -> f64 {
    #[allow(unsafe_code, reason = "FFI: mi_collect; the workspace denies unsafe code elsewhere")]
    // SAFETY: mi_collect takes no pointers; it returns the allocator's free pages.
    unsafe {
        libmimalloc_sys::mi_collect(true)
    };
    super::bench::status_mib("VmRSS:")
}

type Table = (&'static str, fn(&mut State));

/// The tables in the order they are dropped; each takes its field, leaving an empty one.
fn tables() -> Vec<Table> {
    fn take<T: Default>(x: &mut T) {
        drop(std::mem::take(x));
    }
    vec![
        ("sessions: watch (viewer → watch time)", |s| s.sessions.iter_mut().for_each(|x| take(&mut x.watch))),
        ("market.follows", |s| take(&mut s.market.follows)),
        ("market.claims (coupon, user) → count", |s| take(&mut s.market.claims)),
        ("market.wallets", |s| take(&mut s.market.wallets)),
        ("market.command_ids", |s| take(&mut s.market.command_ids)),
        ("market.order_checkout", |s| take(&mut s.market.order_checkout)),
        ("market.pending_orders", |s| take(&mut s.market.pending_orders)),
        ("market.group_members", |s| take(&mut s.market.group_members)),
        ("market.checkouts", |s| take(&mut s.market.checkouts)),
        ("market.packets", |s| take(&mut s.market.packets)),
        ("market (the rest)", |s| take(&mut s.market)),
        ("orders", |s| take(&mut s.orders)),
        ("refund_ids", |s| take(&mut s.refund_ids)),
        ("sessions: present", |s| s.sessions.iter_mut().for_each(|x| take(&mut x.present))),
        ("sessions: unique_viewers", |s| s.sessions.iter_mut().for_each(|x| take(&mut x.unique_viewers))),
        ("sessions: products", |s| s.sessions.iter_mut().for_each(|x| take(&mut x.products))),
        ("sessions: curve", |s| s.sessions.iter_mut().for_each(|x| take(&mut x.curve))),
        ("sessions: buyers", |s| s.sessions.iter_mut().for_each(|x| take(&mut x.stats.buyers))),
        ("sessions (the rest) and session_ids", |s| {
            take(&mut s.sessions);
            take(&mut s.session_ids)
        }),
        ("contests: heat (participant, day)", |s| take(&mut s.contests.heat)),
        ("contests: boards' records and order", |s| {
            s.contests.races.iter_mut().flat_map(|r| r.boards.values_mut()).for_each(take)
        }),
        ("contests: races (the rest)", |s| take(&mut s.contests.races)),
        ("contests (the rest)", |s| take(&mut s.contests)),
        ("idempotency keys", |s| take(&mut s.keys)),
        ("traffic book", |s| take(&mut s.traffic)),
        ("settlement", |s| take(&mut s.settlement)),
        ("users (interner)", |s| take(&mut s.users)),
        ("skus (interner)", |s| take(&mut s.skus)),
        ("merchants, anchors, providers", |s| {
            take(&mut s.merchants);
            take(&mut s.anchors);
            take(&mut s.providers);
            take(&mut s.merchant_ids);
            take(&mut s.anchor_ids);
            take(&mut s.provider_ids)
        }),
        ("totals by tier, day and hour", |s| {
            take(&mut s.total);
            take(&mut s.by_brand_tier);
            take(&mut s.by_anchor_tier);
            take(&mut s.by_day);
            take(&mut s.by_hour)
        }),
    ]
}

/// How many entries the largest tables hold, to divide their rows by.
fn counts(s: &State) -> serde_json::Value {
    let m = &s.market;
    let held: usize = m.wallets.values().map(|w| w.coupons.len()).sum();
    let allowances: usize = m.wallets.values().map(|w| w.allowances.len()).sum();
    let discounts: usize = m.checkouts.iter().map(|c| c.quote.discounts.len()).sum();
    let lines: usize = m.checkouts.iter().map(|c| c.quote.lines.len()).sum();
    let c = &s.contests;
    let tallies: usize = c.races.iter().map(|r| r.boards.len()).sum();
    let recs: usize = c.races.iter().flat_map(|r| r.boards.values()).map(|t| t.recs.len()).sum();
    let ranked: usize = c.races.iter().flat_map(|r| r.boards.values()).map(|t| t.board.len()).sum();
    let session_fen: usize = c.races.iter().flat_map(|r| r.session_fen.values()).map(|m| m.len()).sum();
    json!({"wallets": m.wallets.len(), "held_coupons": held, "allowances": allowances,
           "claims": m.claims.len(), "checkouts": m.checkouts.len(), "checkout_lines": lines,
           "discounts": discounts, "order_checkout": m.order_checkout.len(), "follows": m.follows.len(),
           "packets": m.packets.len(), "board_tallies": tallies, "board_recs": recs, "ranked": ranked,
           "session_fen": session_fen, "heat_days": c.heat.len(), "refund_ids": s.refund_ids.len()})
}

pub fn memory(data: &Path) -> anyhow::Result<ExitCode> {
    let base = settle_rss();
    let (engine, _) = dacu_log::open_read(data, &Options::default())?;
    let opened = settle_rss();
    let mut state = engine.into_state();
    let (orders, users, sessions) = (state.orders.len(), state.users.len(), state.sessions.len());
    let mut rows = Vec::new();
    let mut before = settle_rss();
    let caches = opened - before;
    println!("open: {:.0} MiB resident ({:.0} MiB before opening); engine caches {caches:.0} MiB", opened, base);
    println!("{orders} orders, {users} users, {sessions} sessions");
    let counts = counts(&state);
    println!("counts: {counts}");
    println!("{:>10}  table", "MiB");
    for (name, f) in tables() {
        f(&mut state);
        let after = settle_rss();
        println!("{:>10.1}  {name}", before - after);
        rows.push(json!({"table": name, "mib": before - after}));
        before = after;
    }
    drop(state);
    let left = settle_rss();
    println!("{:>10.1}  (everything else)", before - left);
    println!(
        "{}",
        json!({"bench": "memory", "resident_mib": opened, "base_mib": base, "orders": orders, "users": users,
               "sessions": sessions, "counts": counts, "tables": rows, "rest_mib": before - left})
    );
    Ok(ExitCode::SUCCESS)
}
