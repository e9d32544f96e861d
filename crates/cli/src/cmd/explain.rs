//! `dacu explain`: one payout, from the board it came from to the orders behind it.

use crate::table::Table;
use dacu_core::festival::RewardKind;
use dacu_core::money::Fen;
use dacu_core::settle::view::{explain, payouts_like, Explain};
use dacu_core::settle::{kind_str, Unit};
use std::path::Path;
use std::process::ExitCode;

fn qty(unit: Unit, x: i64) -> String {
    match unit {
        Unit::Fen => Fen(x).to_string(),
        Unit::Impressions => format!("{x} impressions"),
        Unit::Bp => dacu_core::money::fmt_bp(x),
        Unit::Grant => if x > 0 { "granted" } else { "revoked" }.to_string(),
    }
}

/// `cash`, or `fentiao_credit 商业化激励包` with the item's name.
fn item_label(kind: RewardKind, name: &Option<String>) -> String {
    match name {
        Some(n) => format!("{} {n}", kind_str(kind)),
        None => kind_str(kind).to_string(),
    }
}

pub fn render(e: &Explain) -> String {
    let mut out = String::new();
    let kind = match e.race_kind {
        dacu_core::contest::RaceKind::Contest => "contest",
        dacu_core::contest::RaceKind::Challenge => "challenge",
    };
    out += &format!("payout {}\n", e.payout);
    // The metric as the festival file spells it (`gmv`, `heat`, `gmv_growth`).
    let metric = serde_json::to_value(e.metric).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    out += &format!("  {kind} `{}` {} · {} (track `{}`, metric {metric})\n", e.race, e.name_zh, e.name_en, e.track);
    out += &format!("  window {} → {} (end exclusive)", e.window_start, e.window_end);
    if let Some(d) = e.day {
        out += &format!(", day {d}");
    }
    if let Some(g) = &e.group {
        out += &format!(", group {g}");
    }
    out += "\n";
    out += &format!("  entrant {} ({})\n", e.participant, e.role.as_str());
    let place = if kind == "contest" { "rank" } else { "place" };
    out += &format!(
        "  {place} {} of {}, band {}, value {} at settlement, {} now\n",
        e.rank.map_or("-".into(), |r| r.to_string()),
        e.of,
        e.band.map_or("-".into(), |b| b.to_string()),
        e.value_settled,
        e.value_now
    );
    if let Some(b) = e.baseline_fen {
        out += &format!("  baseline {}\n", Fen(b));
    }
    let mut t = Table::new(["settlement", "line", "item", "claim", "amount", "rule"]).right(&[0, 3, 4]);
    for l in &e.lines {
        let unit = Unit::of(l.item);
        let item = item_label(l.item, &l.name);
        t.row([
            l.settlement.to_string(),
            l.kind.as_str().to_string(),
            item,
            qty(unit, l.claim),
            qty(unit, l.amount),
            l.rule.clone(),
        ]);
    }
    out += &format!("\nLedger lines\n{}", t.render());
    let mut t = Table::new(["item", "claim", "granted"]).right(&[1, 2]);
    for g in &e.grants {
        let unit = Unit::of(g.item);
        let item = item_label(g.item, &g.name);
        t.row([item, qty(unit, g.claim), qty(unit, g.granted)]);
    }
    out += &format!("\nNet (money granted {})\n{}", Fen(e.granted_fen), t.render());
    if !e.days.is_empty() {
        let heat = e.days.iter().any(|d| d.heat.is_some());
        let mut t = Table::new(["day", "orders", "GMV", "heat"]).right(&[1, 2, 3]);
        for d in &e.days {
            t.row([
                d.day.to_string(),
                d.orders.to_string(),
                Fen(d.gmv_fen).to_string(),
                d.heat.map_or(if heat { "0".into() } else { "-".into() }, |h| h.to_string()),
            ]);
        }
        out += &format!("\nContributing days\n{}", t.render());
    }
    if e.orders_total > 0 {
        let mut t = Table::new(["order", "paid at", "paid", "refunded", "net"]).right(&[2, 3, 4]);
        for o in &e.orders {
            t.row([
                o.order.clone(),
                o.at.to_string(),
                Fen(o.paid_fen).to_string(),
                Fen(o.refunded_fen).to_string(),
                Fen(o.net_fen).to_string(),
            ]);
        }
        let shown = if (e.orders.len() as u64) < e.orders_total {
            format!(" (the {} largest of {})", e.orders.len(), e.orders_total)
        } else {
            format!(" ({})", e.orders_total)
        };
        out += &format!("\nContributing orders{shown}\n{}", t.render());
    }
    out
}

pub fn run(data: &Path, payout: &str, json: bool, orders: usize, opts: dacu_log::Options) -> anyhow::Result<ExitCode> {
    let dir = super::open(data, opts)?;
    let (f, st) = (dir.festival(), dir.engine().state());
    let Some(e) = explain(f, st, payout, orders) else {
        let race = payout.split([':', '@', '#']).next().unwrap_or("");
        let like = payouts_like(st, race, 5);
        eprintln!(
            "dacu: no payout `{payout}`; payout ids are RACE[@DAY][#GROUP]:PARTICIPANT as `dacu ledger` lists them{}",
            if like.is_empty() { String::new() } else { format!(", e.g. {}", like.join(", ")) }
        );
        return Ok(ExitCode::from(1));
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&e)?);
    } else {
        print!("{}", render(&e));
    }
    Ok(ExitCode::SUCCESS)
}
