//! What the console's screens show, as JSON: the operator's whole festival (push topic
//! `console`) and one participant's own standing (push topic `participant:ROLE:ID`). Both
//! are read from the engine's state at one log position, plus the node's clock, which
//! only the phase clock and the alerts about closing boards use.

use dacu_core::contest::view::{Page, Status};
use dacu_core::event::ContractSourceRec;
use dacu_core::festival::traffic::Grid;
use dacu_core::festival::Role;
use dacu_core::settle::ledger::{lines, Select};
use dacu_core::settle::Line;
use dacu_core::state::State;
use dacu_core::traffic::book::ContractState;
use dacu_core::traffic::view::{CurvePoint, Delivery};
use dacu_core::view::ReportOptions;
use dacu_core::{Engine, Festival, Ts};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// What the console needs beside the state: the clock and the writer's queue.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub now: Ts,
    /// Festival milliseconds per real millisecond (1 on the system clock).
    pub speed: f64,
    pub queue_depth: usize,
    pub queue_cap: usize,
    pub report: &'a ReportOptions,
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
/// Points of a delivery curve sent at most: a longer window is thinned to every k-th day,
/// counted back from its last day (always sent).
pub const CURVE_POINTS: usize = 100;
/// Tracks of the guaranteed-traffic panel listed (in the report's order); the count says
/// how many there were.
pub const TRAFFIC_TRACKS_SHOWN: usize = 16;
/// Contracts listed as the most behind their target curve now.
pub const BEHIND_SHOWN: usize = 10;
/// Contracts listed that ended short of their promise, the latest first.
pub const ENDED_SHORT_SHOWN: usize = 10;
/// A participant's own contracts listed (the latest window start first).
pub const PARTICIPANT_CONTRACTS_SHOWN: usize = 12;

/// The operator's screen.
pub fn operator(e: &Engine, cx: &Ctx<'_>) -> Value {
    let (f, st) = (e.festival(), e.state());
    let r = dacu_core::view::report_with(f, st, cx.report);
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
        "figures": r.figures,
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
        "traffic": traffic(f, st, r.traffic_delivery.as_ref()),
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

/// The book's time, as `dacu show contract` reads a contract's target: when the plan in
/// force was made (None before the first plan).
fn book_now(st: &State) -> Option<Ts> {
    st.traffic.plan.as_ref().map(|p| p.at)
}

/// The time a contract's target is read at: the book's time within its window, its end
/// once ended, its start before any plan (as `dacu_core::traffic::view::contract`).
fn target_at(c: &ContractState, now: Option<Ts>) -> Ts {
    if c.ended.is_some() {
        return c.rec.end;
    }
    now.map_or(c.rec.start, |t| t.min(c.rec.end))
}

fn track_of(c: &ContractState) -> &str {
    c.rec.track.as_deref().unwrap_or("platform")
}

fn source_of(s: &ContractSourceRec) -> Value {
    match s {
        ContractSourceRec::Festival => json!({"kind": "festival"}),
        ContractSourceRec::Program { program, participant, role } => {
            json!({"kind": "program", "program": program, "participant": participant, "role": role})
        }
        ContractSourceRec::Settlement { settlement, payout, participant, role } => json!({"kind": "settlement",
            "settlement": settlement, "payout": payout, "participant": participant, "role": role}),
        ContractSourceRec::MakeGood { of } => json!({"kind": "make_good", "of": of}),
    }
}

/// At most [`CURVE_POINTS`] of a curve: every k-th point counted back from the last.
fn thin(curve: &[CurvePoint]) -> Vec<CurvePoint> {
    let step = curve.len().div_ceil(CURVE_POINTS).max(1);
    let last = curve.len().saturating_sub(1);
    curve.iter().enumerate().filter(|(i, _)| (last - i).is_multiple_of(step)).map(|(_, p)| *p).collect()
}

/// The most `n` of `v` by `better` (first = most), in that order, without sorting all of
/// them.
fn top<T>(mut v: Vec<T>, n: usize, better: impl Fn(&T, &T) -> std::cmp::Ordering) -> Vec<T> {
    if v.len() > n && n > 0 {
        v.select_nth_unstable_by(n - 1, &better);
    }
    v.truncate(n);
    v.sort_by(better);
    v
}

/// Guaranteed traffic (docs/console.md, "Guaranteed traffic"): the report's delivery
/// totals and tracks, each track's target now and its curve, the contracts most behind
/// their curve and those that ended short. Null without `[traffic]`.
fn traffic(f: &Festival, st: &State, d: Option<&Delivery>) -> Value {
    let (Some(config), Some(d)) = (f.traffic.as_ref(), d) else { return Value::Null };
    let grid = Grid::new(f, config);
    let ctx = dacu_core::traffic::live::Ctx { festival: f, config, grid: &grid };
    let b = &st.traffic;
    let now = book_now(st);
    // A track's target counts the contracts it promised, not their make-goods: a make-good
    // re-promises part of a contract whose whole target is already counted (as the
    // report's curve and `promised` count it once). Per track: that target now.
    let mut own: BTreeMap<&str, u64> = BTreeMap::new();
    let (mut behind, mut short) = (Vec::new(), Vec::new());
    let (mut beyond_tolerance, mut make_goods, mut made_good_count, mut owed_count) = (0u64, 0u64, 0u64, 0u64);
    for c in &b.contracts {
        let target = ctx.target(&c.rec, target_at(c, now));
        let t = own.entry(track_of(c)).or_default();
        if let ContractSourceRec::MakeGood { .. } = c.rec.source {
            make_goods += 1;
        } else {
            *t += target;
        }
        match &c.ended {
            Some(e) if e.shortfall > 0 => {
                if e.make_good.is_some() {
                    made_good_count += 1;
                } else {
                    owed_count += 1;
                }
                short.push(c);
            }
            None if target > c.delivered => {
                let slack =
                    (u128::from(c.rec.impressions) * u128::from(config.tolerance_bp.max(0) as u64) / 10_000) as u64;
                beyond_tolerance += u64::from(c.delivered.saturating_add(slack) < target);
                behind.push((target - c.delivered, target, c));
            }
            _ => {}
        }
    }
    let names: BTreeMap<&str, (&str, &str)> =
        f.tracks.iter().map(|t| (t.id.as_str(), (t.name_zh.as_str(), t.name_en.as_str()))).collect();
    let tracks: Vec<Value> = d
        .by_track
        .iter()
        .take(TRAFFIC_TRACKS_SHOWN)
        .map(|t| {
            let target = own.get(t.track.as_str()).copied().unwrap_or(0);
            let curve = thin(&t.curve);
            let (zh, en) = names.get(t.track.as_str()).copied().unwrap_or(("平台", "Platform"));
            json!({"track": t.track, "name_zh": zh, "name_en": en, "contracts": t.contracts,
                   "promised": t.promised, "delivered": t.delivered,
                   "delivered_bp": share(t.delivered, t.promised), "target_now": target,
                   "ahead": signed(t.delivered) - signed(target), "shortfall": t.shortfall, "owed": t.owed,
                   "curve_days": t.curve.len(), "curve": curve})
        })
        .collect();
    let behind_total = behind.len();
    let behind = top(behind, BEHIND_SHOWN, |x, y| y.0.cmp(&x.0).then_with(|| x.2.rec.id.cmp(&y.2.rec.id)));
    let behind_rows: Vec<Value> = behind
        .iter()
        .map(|(gap, target, c)| {
            json!({"contract": c.rec.id, "source": source_of(&c.rec.source), "track": track_of(c),
                   "promised": c.rec.impressions, "delivered": c.delivered, "target_now": target, "behind": gap,
                   "delivered_bp": share(c.delivered, c.rec.impressions), "start": c.rec.start, "end": c.rec.end})
        })
        .collect();
    let short_total = short.len();
    let at = |c: &ContractState| c.ended.as_ref().map_or(c.rec.end, |e| e.at);
    let short = top(short, ENDED_SHORT_SHOWN, |x, y| at(y).cmp(&at(x)).then_with(|| x.rec.id.cmp(&y.rec.id)));
    let short_rows: Vec<Value> = short
        .iter()
        .filter_map(|c| {
            let e = c.ended.as_ref()?;
            let mg = e.make_good.as_deref().and_then(|id| b.contract(id));
            Some(json!({"contract": c.rec.id, "source": source_of(&c.rec.source), "track": track_of(c),
                   "promised": c.rec.impressions, "delivered": c.delivered, "shortfall": e.shortfall,
                   "end": c.rec.end, "ended_at": e.at, "make_good": e.make_good,
                   "make_good_delivered": mg.map(|m| m.delivered), "make_good_end": mg.map(|m| m.rec.end),
                   "owed": if e.make_good.is_none() { e.shortfall } else { 0 }}))
        })
        .collect();
    let target: u64 = own.values().sum();
    json!({
        "now": now,
        "today": now.map(|t| t.day()),
        "tolerance_bp": config.tolerance_bp,
        "opportunities": d.opportunities, "served": d.served, "unsold": d.unsold, "plans": d.plans,
        "contracts": d.contracts, "promised": d.promised, "delivered": d.delivered,
        "delivered_bp": share(d.delivered, d.promised), "target_now": target,
        "ahead": signed(d.delivered) - signed(target),
        "shortfall": d.by_track.iter().map(|t| t.shortfall).sum::<u64>(),
        "owed": d.owed, "made_good": d.made_good, "make_goods": make_goods,
        "tracks_total": d.by_track.len(), "tracks": tracks,
        "behind": {"total": behind_total, "beyond_tolerance": beyond_tolerance, "rows": behind_rows},
        "ended_short": {"total": short_total, "made_good": made_good_count, "owed": owed_count, "rows": short_rows},
    })
}

/// Impressions as a signed figure (they never reach 2⁶³).
fn signed(x: u64) -> i64 {
    x.min(i64::MAX as u64) as i64
}

/// `part ÷ whole` in basis points.
fn share(part: u64, whole: u64) -> i64 {
    dacu_core::money::share_bp(signed(part), signed(whole))
}

/// A participant's own contracts: its enrolments' (`‹spec›/‹id›` for each of the file's
/// program contracts), its settlement grants' (`settle-‹n›/‹payout›` for each of its
/// ledger lines, then `…/2`, `…/3` while they exist) and their make-goods (`‹root›+mg‹k›`), each found by id — no scan of the
/// book. As `GET /v1/contracts/{id}`; null without `[traffic]`.
fn contracts_of(f: &Festival, st: &State, role: Role, id: &str, ledger: &[(usize, &Line)]) -> Value {
    let Some(config) = f.traffic.as_ref() else { return Value::Null };
    let b = &st.traffic;
    let mine = |c: &ContractState| match &c.rec.source {
        ContractSourceRec::Program { participant, role: r, .. }
        | ContractSourceRec::Settlement { participant, role: r, .. } => participant == id && *r == role,
        _ => false,
    };
    let mut roots: Vec<String> = config
        .contracts
        .iter()
        .filter(|c| c.program.is_some())
        .map(|c| format!("{}/{id}", c.id))
        .chain(ledger.iter().map(|(_, l)| format!("settle-{}/{}", l.settlement, l.payout)))
        .collect();
    roots.sort();
    roots.dedup();
    // A payout's second and later grants: ‹settle root›/2, /3, …
    let more: Vec<String> = roots
        .iter()
        .filter(|r| r.starts_with("settle-"))
        .flat_map(|r| (2..).map(move |k| format!("{r}/{k}")).take_while(|x| b.contract(x).is_some()))
        .collect();
    roots.extend(more);
    let mut found: Vec<&ContractState> = Vec::new();
    for root in roots {
        let Some(c) = b.contract(&root).filter(|c| mine(c)) else { continue };
        found.push(c);
        // A make-good of a make-good keeps the root: ‹root›+mg1, ‹root›+mg2, … A make-good
        // takes the first depth not taken, so every name below the chain's last exists;
        // one may be another participant's (an id like `m1+mg1`) and is passed over.
        for k in 1.. {
            let Some(m) = b.contract(&format!("{root}+mg{k}")) else { break };
            if made_good_from(b, m, &root) {
                found.push(m);
            }
        }
    }
    let total = found.len();
    let shown = top(found, PARTICIPANT_CONTRACTS_SHOWN, |x, y| {
        y.rec.start.cmp(&x.rec.start).then_with(|| x.rec.id.cmp(&y.rec.id))
    });
    let rows: Vec<Value> = shown
        .iter()
        .filter_map(|c| dacu_core::traffic::view::contract(f, st, &c.rec.id))
        .map(|mut v| {
            v.curve = thin(&v.curve);
            let mut x = serde_json::to_value(&v).expect("contracts serialise");
            x["ahead"] = json!(signed(v.delivered) - signed(v.target_now));
            x
        })
        .collect();
    let now = book_now(st);
    json!({"now": now, "today": now.map(|t| t.day()), "total": total, "contracts": rows})
}

/// Whether `c` is a make-good whose chain of shortfalls starts at the contract `root`.
fn made_good_from<'a>(b: &'a dacu_core::traffic::book::Book, mut c: &'a ContractState, root: &str) -> bool {
    // Each step goes to a contract created earlier, so the chain is at most the book long.
    for _ in 0..b.contracts.len() {
        let ContractSourceRec::MakeGood { of } = &c.rec.source else { return false };
        if of == root {
            return true;
        }
        let Some(parent) = b.contract(of) else { return false };
        c = parent;
    }
    false
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
    let picked = lines(st, Select { settlement: None, participant: Some((role, id)) }).unwrap_or_default();
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
        "earnings": earnings(&picked),
        "traffic": contracts_of(f, st, role, id, &picked),
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
fn earnings(picked: &[(usize, &Line)]) -> Value {
    let money = |l: &Line| dacu_core::settle::Unit::of(l.item) == dacu_core::settle::Unit::Fen;
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
