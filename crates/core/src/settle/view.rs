//! Read models over the settlement ledger: budgets per track, and one payout explained
//! down to the days and orders that made it.

use super::{Grant, Line, LineKind, Unit};
use crate::contest::{lookup, RaceKind};
use crate::festival::{Festival, Metric, Role};
use crate::state::State;
use crate::time::{Day, Ts};
use serde::Serialize;
use std::collections::BTreeMap;

/// One track's incentive budget against what settlement granted.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TrackBudget {
    pub track: String,
    pub role: Role,
    pub name_zh: String,
    pub name_en: String,
    pub budget_fen: i64,
    /// What the rules entitled entrants to, before budget scaling (net of clawbacks).
    pub claimed_fen: i64,
    /// Net money granted: awards less clawbacks. Never more than `budget_fen`.
    pub paid_fen: i64,
    pub remaining_fen: i64,
    pub used_bp: i64,
    pub impressions: i64,
    pub payouts: u64,
}

pub fn budgets(f: &Festival, st: &State) -> Vec<TrackBudget> {
    let s = &st.settlement;
    f.tracks
        .iter()
        .map(|t| {
            let paid = s.paid_fen.get(&t.id).copied().unwrap_or(0);
            let claimed: i64 = s
                .payouts
                .values()
                .filter(|p| p.track == t.id)
                .flat_map(|p| &p.grants)
                .filter(|g| Unit::of(g.item) == Unit::Fen)
                .map(|g| g.claim)
                .sum();
            TrackBudget {
                track: t.id.clone(),
                role: t.role,
                name_zh: t.name_zh.clone(),
                name_en: t.name_en.clone(),
                budget_fen: t.budget_fen,
                claimed_fen: claimed,
                paid_fen: paid,
                remaining_fen: t.budget_fen - paid,
                used_bp: crate::money::share_bp(paid, t.budget_fen),
                impressions: s.granted(&t.id, Unit::Impressions),
                payouts: s.payouts.values().filter(|p| p.track == t.id && p.granted_fen() > 0).count() as u64,
            }
        })
        .collect()
}

/// One festival day's part of a payout's metric.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DayPart {
    pub day: Day,
    pub orders: u64,
    pub gmv_fen: i64,
    /// Heat races: the participant's heat that day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heat: Option<i64>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OrderPart {
    pub order: String,
    pub at: Ts,
    pub paid_fen: i64,
    pub refunded_fen: i64,
    pub net_fen: i64,
}

/// A payout explained: the race and board, the entrant's standing, the rule that set each
/// amount, any budget scaling and clawbacks, and the days and orders behind the value.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Explain {
    pub payout: String,
    pub race: String,
    pub race_kind: RaceKind,
    pub name_zh: String,
    pub name_en: String,
    pub metric: Metric,
    pub track: String,
    pub window_start: Ts,
    pub window_end: Ts,
    pub day: Option<Day>,
    pub group: Option<String>,
    pub participant: String,
    pub role: Role,
    /// Rank (contests) or finishing place (challenges) at settlement.
    pub rank: Option<u64>,
    /// Entrants ranked on the board (contests) or that reached the target (challenges)
    /// when it closed.
    pub of: u64,
    pub band: Option<u32>,
    /// The metric value at settlement and now.
    pub value_settled: i64,
    pub value_now: i64,
    /// Growth races: the baseline the growth is measured against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_fen: Option<i64>,
    pub grants: Vec<Grant>,
    pub granted_fen: i64,
    pub lines: Vec<Line>,
    pub days: Vec<DayPart>,
    /// Orders that count toward the value, by time; `orders_total` of them in all.
    pub orders: Vec<OrderPart>,
    pub orders_total: u64,
}

/// Explains payout `id`, listing at most `max_orders` orders (the largest by net amount,
/// then shown by time; 0 lists all).
pub fn explain(f: &Festival, st: &State, id: &str, max_orders: usize) -> Option<Explain> {
    let s = &st.settlement;
    let po = s.payouts.get(id)?;
    let c = &st.contests;
    let ri = c.race_index(&po.race)?;
    let d = &c.defs[ri];
    let (_, p) = lookup(st, d.role, &po.participant)?;
    let (start, end) = match d.kind {
        RaceKind::Contest => {
            let cat = po.group.as_deref().and_then(|g| c.categories.get(g));
            c.board_window(ri, (po.day, cat))
        }
        RaceKind::Challenge => (d.start, d.end),
    };
    let (name_zh, name_en) = crate::contest::view::race_names(f, d);
    let lines: Vec<Line> = po.lines.iter().map(|&i| s.lines[i as usize].clone()).collect();
    let first = lines.iter().find(|l| l.kind == LineKind::Award);
    let closed = s.boards.get(&(po.race.clone(), po.day, po.group.clone()));
    let value_now = match d.kind {
        RaceKind::Contest => {
            let cat = po.group.as_deref().and_then(|g| c.categories.get(g));
            c.races[ri].boards.get(&(po.day, cat)).and_then(|t| t.recs.get(&p)).map_or(0, |r| r.score)
        }
        RaceKind::Challenge => {
            c.races[ri].boards.values().filter_map(|t| t.recs.get(&p)).map(|r| r.score).max().unwrap_or(0)
        }
    };
    // The orders attributed to the entrant in its role, paid in the window.
    let mut orders: Vec<OrderPart> = st
        .orders
        .iter()
        .filter(|(_, o)| {
            start <= o.at
                && o.at < end
                && match d.role {
                    Role::Merchant => o.merchant == p,
                    Role::Anchor => o.anchor.get() == Some(p),
                    Role::Provider => o.provider.get() == Some(p),
                }
        })
        .map(|(id, o)| OrderPart {
            order: id.to_string(),
            at: o.at,
            paid_fen: o.paid.0,
            refunded_fen: o.refunded.0,
            net_fen: (o.paid - o.refunded).0,
        })
        .collect();
    let mut days: BTreeMap<Day, DayPart> = BTreeMap::new();
    for o in &orders {
        let e = days.entry(o.at.day()).or_insert(DayPart { day: o.at.day(), orders: 0, gmv_fen: 0, heat: None });
        e.orders += 1;
        e.gmv_fen += o.net_fen;
    }
    if d.metric == Metric::Heat {
        let mut day = start.day();
        while Ts::start_of(day) < end {
            if let Some(h) = c.heat.get(&((d.role, p), day)) {
                days.entry(day).or_insert(DayPart { day, orders: 0, gmv_fen: 0, heat: None }).heat = Some(h.heat);
            }
            day = day.next();
        }
    }
    let total = orders.len() as u64;
    if max_orders > 0 && orders.len() > max_orders {
        orders.sort_unstable_by(|a, b| b.net_fen.cmp(&a.net_fen).then_with(|| a.order.cmp(&b.order)));
        orders.truncate(max_orders);
    }
    orders.sort_unstable_by(|a, b| a.at.cmp(&b.at).then_with(|| a.order.cmp(&b.order)));
    Some(Explain {
        payout: id.to_string(),
        race: po.race.clone(),
        race_kind: d.kind,
        name_zh,
        name_en,
        metric: d.metric,
        track: po.track.clone(),
        window_start: start,
        window_end: end,
        day: po.day,
        group: po.group.clone(),
        participant: po.participant.clone(),
        role: po.role,
        rank: po.rank,
        of: closed.map_or(0, |b| b.ranked),
        band: first.and_then(|l| l.band),
        value_settled: first.map_or(0, |l| l.value),
        value_now,
        baseline_fen: d.growth.map(|_| c.baseline(ri, p)),
        granted_fen: po.granted_fen(),
        grants: po.grants.clone(),
        lines,
        days: days.into_values().collect(),
        orders,
        orders_total: total,
    })
}

/// Payout ids that start with `prefix`, for suggestions when an id is not found.
pub fn payouts_like<'a>(st: &'a State, prefix: &str, n: usize) -> Vec<&'a str> {
    st.settlement.payouts.keys().filter(|k| k.starts_with(prefix)).take(n).map(|k| k.as_str()).collect()
}
