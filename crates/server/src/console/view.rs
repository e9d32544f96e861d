//! What the console's screens show, as JSON: the operator's whole festival (push topic
//! `console`) and one participant's own standing (push topic `participant:ROLE:ID`). Both
//! are read from the engine's state at one log position, plus the node's clock, which
//! only the phase clock and the alerts about closing boards use.

use dacu_core::contest::view::{Page, Status};
use dacu_core::festival::Role;
use dacu_core::settle::ledger::{lines, Select};
use dacu_core::state::State;
use dacu_core::view::{Baseline, ReportOptions};
use dacu_core::{Engine, Festival, Ts};
use serde_json::{json, Value};

/// What the console needs beside the state: the clock and the writer's queue.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub now: Ts,
    /// Festival milliseconds per real millisecond (1 on the system clock).
    pub speed: f64,
    pub queue_depth: usize,
    pub queue_cap: usize,
    pub baseline: Option<&'a Baseline>,
}

/// Hours of the GMV-by-hour series sent, ending at the latest hour with sales.
pub const HOURS_SHOWN: usize = 72;
/// Ranks of each board on the operator's screen.
pub const BOARD_ROWS: usize = 5;
/// Live sessions listed (the most viewers first).
pub const SESSIONS_SHOWN: usize = 12;
/// Alerts listed at most; the count says how many there were.
pub const ALERTS_SHOWN: usize = 20;
/// A board this close to its end (festival time) is about to close.
pub const CLOSING_SOON_MS: i64 = 3_600_000;
/// A budget with less than this share left (basis points) is near exhaustion.
pub const BUDGET_LOW_BP: i64 = 1_000;

/// The operator's screen.
pub fn operator(e: &Engine, cx: &Ctx<'_>) -> Value {
    let (f, st) = (e.festival(), e.state());
    let opts = ReportOptions { baseline: cx.baseline.cloned(), ..Default::default() };
    let r = dacu_core::view::report_with(f, st, &opts);
    let budgets = dacu_core::settle::view::budgets(f, st);
    let alerts = alerts(f, st, cx, &budgets);
    json!({
        "festival": {"id": f.festival.id, "name_zh": f.festival.name_zh, "name_en": f.festival.name_en,
                     "start": f.start(), "end": f.end()},
        "seq": st.events,
        "clock": clock(f, st, cx),
        "headline": {"gmv_fen": r.gmv, "gross_fen": r.gmv_gross, "refunded_fen": r.refunded,
                     "orders": r.orders, "buyers": r.buyers},
        "baseline": r.baseline,
        "year_on_year": r.year_on_year,
        "hours": hours(st),
        "days": r.gmv_by_day,
        "channels": r.gmv_by_channel,
        "brand_tiers": r.gmv_by_brand_tier,
        "anchor_tiers": r.gmv_by_anchor_tier,
        "boards": boards(f, st),
        "budgets": budgets,
        "benefits": r.consumer_benefits,
        "marketing": r.marketing,
        "sessions": live_sessions(st),
        "alerts": alerts,
        "settlements": r.settlements,
        "writer": {"queue_depth": cx.queue_depth, "queue_cap": cx.queue_cap},
    })
}

/// Today's phase in every calendar layer, the registration windows, and the next
/// boundary of any of them.
fn clock(f: &Festival, st: &State, cx: &Ctx<'_>) -> Value {
    let now = cx.now;
    let phases: Vec<Value> = f
        .phases
        .iter()
        .map(|p| {
            json!({"layer": p.layer, "id": p.id, "name_zh": p.name_zh, "name_en": p.name_en,
                   "start": p.start.0, "end": p.end.0, "current": p.start.0 <= now && now < p.end.0})
        })
        .collect();
    let registration: Vec<Value> = f
        .programs
        .iter()
        .map(|p| {
            let (opens, closes) = f.enroll_window(p);
            let closed_by_operator = st.registration_closed.get(&p.id);
            let open = opens <= now && now < closes && closed_by_operator.is_none();
            json!({"program": p.id, "name_zh": p.name_zh, "name_en": p.name_en, "opens": opens, "closes": closes,
                   "open": open, "closed_by_operator": closed_by_operator})
        })
        .collect();
    let mut bounds: Vec<Ts> = f.phases.iter().flat_map(|p| [p.start.0, p.end.0]).collect();
    bounds.extend([f.start(), f.end(), f.registration.opens.0, f.registration.closes.0]);
    let next = bounds.into_iter().filter(|t| *t > now).min();
    json!({"now": now, "speed": cx.speed, "phases": phases, "registration": registration, "next_boundary": next})
}

/// `[hour, paid_fen, refunded_fen, orders]` for the last [`HOURS_SHOWN`] hours that have
/// sales or lie between them, oldest first; `hour` is hours since 1970-01-01T00:00Z.
fn hours(st: &State) -> Vec<[i64; 4]> {
    let Some((&last, _)) = st.by_hour.last_key_value() else { return Vec::new() };
    let first = last - HOURS_SHOWN as i64 + 1;
    (first.max(*st.by_hour.keys().next().unwrap_or(&last))..=last)
        .map(|h| {
            let t = st.by_hour.get(&h).copied().unwrap_or_default();
            [h, t.money.gross.0, t.money.refunded.0, t.orders as i64]
        })
        .collect()
}

/// The top of every race's default board, with its bands.
fn boards(f: &Festival, st: &State) -> Vec<Value> {
    let c = &st.contests;
    let mut out = Vec::new();
    for ri in 0..c.defs.len() {
        let Some(key) = c.shown_board(ri) else { continue };
        if let Ok(p) = c.page(f, st, ri, key, &Page::Top(BOARD_ROWS)) {
            out.push(serde_json::to_value(p).expect("pages serialise"));
        }
    }
    out
}

/// Sessions live now, the most viewers first (then by id).
fn live_sessions(st: &State) -> Value {
    let mut live: Vec<(usize, &str, &dacu_core::state::Session)> = st
        .sessions
        .iter()
        .enumerate()
        .filter(|(_, s)| s.end.is_none())
        .map(|(i, s)| (s.present.len(), st.session_ids.name(i as u32), s))
        .collect();
    let count = live.len();
    live.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let rows: Vec<Value> = live
        .iter()
        .take(SESSIONS_SHOWN)
        .map(|(now, id, s)| {
            let buyers = s.stats.buyers.len() as i64;
            let viewers = s.unique_viewers.len() as i64;
            json!({"session": id, "anchor": st.anchor_ids.name(s.anchor), "viewers_now": now,
                   "unique_viewers": viewers, "gmv_fen": s.stats.gmv().0, "orders": s.stats.orders_total(),
                   "buyers": buyers, "conversion_bp": dacu_core::money::share_bp(buyers, viewers), "start": s.start})
        })
        .collect();
    json!({"live": count, "rows": rows})
}

/// What an operator should look at: budgets near exhaustion, coupons sold out, red
/// packets emptied (one line for all of them), boards about to close, a writer queue
/// filling up.
fn alerts(f: &Festival, st: &State, cx: &Ctx<'_>, budgets: &[dacu_core::settle::view::TrackBudget]) -> Value {
    let mut all: Vec<Value> = Vec::new();
    let mut push = |level: &str, code: &str, message: String| {
        all.push(json!({"level": level, "code": code, "message": message}));
    };
    if cx.queue_cap > 0 && cx.queue_depth * 2 >= cx.queue_cap {
        push(
            "critical",
            "writer_backpressure",
            format!("the writer's queue holds {} of {} requests", cx.queue_depth, cx.queue_cap),
        );
    }
    for b in budgets.iter().filter(|b| b.budget_fen > 0 && b.remaining_fen * 10_000 < b.budget_fen * BUDGET_LOW_BP) {
        push(
            "warning",
            "budget_low",
            format!(
                "track {} ({}) has {} of {} left",
                b.track,
                b.name_en,
                dacu_core::money::Fen(b.remaining_fen),
                dacu_core::money::Fen(b.budget_fen)
            ),
        );
    }
    let c = &st.contests;
    for ri in 0..c.defs.len() {
        let Ok(key) = c.find_board(ri, None, None) else { continue };
        let (_, end) = c.board_window(ri, key);
        if c.status(ri, key) == Status::Open && end > cx.now && end.0 - cx.now.0 <= CLOSING_SOON_MS {
            let (zh, en) = dacu_core::contest::view::race_names(f, &c.defs[ri]);
            push("info", "board_closing", format!("board {} {zh} ({en}) closes at {end}", c.defs[ri].id));
        }
    }
    let m = &st.market;
    for (i, cp) in m.coupons.iter().enumerate().filter(|(_, c)| c.stock > 0 && c.claimed >= c.stock) {
        push(
            "info",
            "coupon_sold_out",
            format!("coupon {} is sold out ({} claimed)", m.coupon_ids.name(i as u32), cp.claimed),
        );
    }
    // Emptied red packets are many in a busy festival: one line for them all.
    let emptied: Vec<&str> = (0..m.packets.len())
        .filter(|&i| m.packets[i].grabbers.len() as u64 >= m.packets[i].count as u64)
        .map(|i| m.packet_ids.name(i as u32))
        .collect();
    if let Some(last) = emptied.last() {
        push("info", "red_packet_emptied", format!("{} red packet(s) emptied, the latest {last}", emptied.len()));
    }
    let total = all.len();
    all.truncate(ALERTS_SHOWN);
    json!({"total": total, "rows": all})
}

/// One participant's own screen: sales today and in total, every board it is on (rank,
/// gap to the place above and to the next band), its challenges, its earnings line by
/// line, and (an anchor) its sessions.
pub fn participant(e: &Engine, role: Role, id: &str, now: Ts) -> Option<Value> {
    let (f, st) = (e.festival(), e.state());
    let pid = dacu_core::contest::lookup(st, role, id)?;
    let stats = match role {
        Role::Merchant => &st.merchant(id)?.stats,
        Role::Anchor => &st.anchor(id)?.stats,
        Role::Provider => &st.provider(id)?.stats,
    };
    let progress = st.contests.progress(f, st, pid);
    let mut races = serde_json::to_value(&progress.races).expect("progress serialises");
    add_place_gaps(f, st, id, &mut races);
    let today = now.day();
    let heat_today = progress.heat.iter().find(|h| h.day == today).map(|h| h.gmv_fen);
    Some(json!({
        "participant": id,
        "role": role,
        "seq": st.events,
        "now": now,
        "gmv_fen": stats.gmv().0,
        "gross_fen": stats.total().gross.0,
        "orders": stats.orders_total(),
        "today": today,
        "gmv_today_fen": heat_today,
        "tier": progress.tier,
        "heat": progress.heat,
        "races": races,
        "earnings": earnings(st, role, id),
        "sessions": sessions_of(st, role, id),
    }))
}

/// Each board standing gains `gap_to_above`: the points to pass the entrant one place up
/// (null at rank 1 or unranked).
fn add_place_gaps(f: &Festival, st: &State, id: &str, races: &mut Value) {
    let c = &st.contests;
    for race in races.as_array_mut().into_iter().flatten() {
        let Some(ri) = race["race"].as_str().and_then(|r| c.race_index(r)) else { continue };
        for b in race["boards"].as_array_mut().into_iter().flatten() {
            let day = b["day"].as_str().and_then(dacu_core::Day::parse);
            let gap = (|| {
                let rank = b["rank"].as_u64().filter(|r| *r > 1)?;
                let key = c.find_board(ri, day, b["group"].as_str()).ok()?;
                let page = c.page(f, st, ri, key, &Page::Around(id.to_string(), 1)).ok()?;
                let above = page.rows.iter().find(|r| r.rank as u64 == rank - 1)?;
                Some(above.score.saturating_sub(b["score"].as_i64()?).saturating_add(1))
            })();
            b["gap_to_above"] = json!(gap);
        }
    }
}

/// The participant's ledger lines with their totals: awarded and clawed back, in fen
/// for money items. Provisional rewards are on the boards (`rewards`, `reward_fen`).
fn earnings(st: &State, role: Role, id: &str) -> Value {
    let picked = lines(st, Select { settlement: None, participant: Some((role, id)) }).unwrap_or_default();
    let money = |l: &dacu_core::settle::Line| dacu_core::settle::Unit::of(l.item) == dacu_core::settle::Unit::Fen;
    let awarded: i64 = picked.iter().filter(|(_, l)| money(l) && l.amount > 0).map(|(_, l)| l.amount).sum();
    let clawed: i64 = picked.iter().filter(|(_, l)| money(l) && l.amount < 0).map(|(_, l)| -l.amount).sum();
    let rows: Vec<Value> = picked
        .iter()
        .map(|(n, l)| {
            json!({"line": n, "settlement": l.settlement, "payout": l.payout, "kind": l.kind, "race": l.race,
                   "day": l.day, "item": l.item, "name": l.name, "unit": dacu_core::settle::Unit::of(l.item).as_str(),
                   "rank": l.rank, "band": l.band, "amount": l.amount, "rule": l.rule})
        })
        .collect();
    json!({"awarded_fen": awarded, "clawed_back_fen": clawed, "net_fen": awarded - clawed, "lines": rows})
}

/// An anchor's sessions, newest first; none for merchants and providers.
fn sessions_of(st: &State, role: Role, id: &str) -> Vec<Value> {
    if role != Role::Anchor {
        return Vec::new();
    }
    let Some(a) = st.anchor_ids.get(id) else { return Vec::new() };
    let mut v: Vec<(Ts, &str, &dacu_core::state::Session)> = st
        .sessions
        .iter()
        .enumerate()
        .filter(|(_, s)| s.anchor == a)
        .map(|(i, s)| (s.start, st.session_ids.name(i as u32), s))
        .collect();
    v.sort_by(|x, y| y.0.cmp(&x.0).then_with(|| x.1.cmp(y.1)));
    v.iter()
        .take(SESSIONS_SHOWN)
        .map(|(start, sid, s)| {
            json!({"session": sid, "start": start, "end": s.end, "gmv_fen": s.stats.gmv().0,
                   "orders": s.stats.orders_total(), "unique_viewers": s.unique_viewers.len()})
        })
        .collect()
}
