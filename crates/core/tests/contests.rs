//! Property tests of the contests: over random streams of orders, refunds, bindings,
//! scores and violations, every board holds exactly the entrants that pass the gates, in
//! the documented order (score, then who reached it first, then id); every score equals
//! its definition recomputed from the orders; and replay gives the same digest. With
//! settlements mixed in: payouts never exceed a track's budget, a short budget is shared
//! out exactly, grants only ever shrink after they are made, and settling again changes
//! nothing.

use dacu_core::contest::board::{Board, Key};
use dacu_core::contest::{growth_bp, pid_name};
use dacu_core::digest::digest;
use dacu_core::festival::{self, Festival};
use dacu_core::{parse_line, Engine, Event, Ts};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;

const FESTIVAL: &str = r#"
[festival]
id = "race-test"
name_zh = "测试"
name_en = "Race test"
start = 2021-11-01
end = 2021-11-05

[registration]
opens = 2021-11-01
closes = 2021-11-05

[[anchor_tiers]]
id = "head"
name_zh = "头部"
name_en = "Head"
min_followers = 1000

[[anchor_tiers]]
id = "new"
name_zh = "新"
name_en = "New"
min_followers = 0

[[tracks]]
id = "anchor"
role = "anchor"
name_zh = "主播"
name_en = "Anchors"
budget_fen = 1_500

[[tracks]]
id = "brand"
role = "merchant"
name_zh = "品牌"
name_en = "Brands"
budget_fen = 2_500

[[tracks]]
id = "provider"
role = "provider"
name_zh = "服务商"
name_en = "Providers"
budget_fen = 1_200

[[programs]]
id = "race"
name_zh = "排位赛"
name_en = "Race"
track = "anchor"
roles = ["anchor"]

[[reward_tables]]
id = "r"

[[reward_tables.bands]]
rank_from = 1
rank_to = 2
items = [{ kind = "cash", amount_fen = 1000 }, { kind = "fentiao_credit", share_bp = 500, cap_fen = 150 }]

[[reward_tables.bands]]
min_value = 1
items = [{ kind = "fentiao_credit", share_bp = 300, cap_fen = 500 }]

[[contests]]
id = "gmv"
name_zh = "GMV"
name_en = "GMV"
track = "anchor"
program = "race"
metric = "gmv"
start = 2021-11-02
end = 2021-11-04
reward_table = "r"
gates = { min_experience_score = 4.3, no_violations = true, min_session_gmv_fen = 3000 }

[[contests]]
id = "heat_daily"
name_zh = "热度"
name_en = "Heat"
track = "brand"
metric = "heat"
start = 2021-11-01
end = 2021-11-05
period = "daily"
group_by = "category"
reward_table = "r"

[[contests]]
id = "growth"
name_zh = "增长"
name_en = "Growth"
track = "provider"
metric = "gmv_growth"
start = 2021-11-03
end = 2021-11-05
reward_table = "r"
growth = { baseline_start = 2021-11-01, baseline_end = 2021-11-03, floor_fen = 2000 }

[[challenges]]
id = "bigday"
name_zh = "BigDay"
name_en = "BigDay"
track = "anchor"
metric = "gmv"
start = 2021-11-01
end = 2021-11-05
period = "daily"
targets = [{ tier = "head", target_fen = 5000 }]
reward_table = "r"

[heat]
gmv_coefficient_bp = 10_000
category_coefficients_bp = { beauty = 15_000 }
daily_cap = 120
"#;

fn festival() -> Arc<Festival> {
    Arc::new(festival::parse(FESTIVAL).expect("valid"))
}

fn at(min: u32) -> String {
    Ts::parse("2021-11-01T00:00:00+08:00").unwrap().plus_ms(min as i64 * 60_000).to_string()
}

const SETUP: &[&str] = &[
    r#"{"type":"register_merchant","merchant":"m0","name":"M0","brand_tier":"ska","category":"beauty"}"#,
    r#"{"type":"register_merchant","merchant":"m1","name":"M1","brand_tier":"ka","category":"food"}"#,
    r#"{"type":"register_merchant","merchant":"m2","name":"M2","brand_tier":"none","category":"beauty"}"#,
    r#"{"type":"register_anchor","anchor":"a0","name":"A0","followers":5000}"#,
    r#"{"type":"register_anchor","anchor":"a1","name":"A1","followers":10}"#,
    r#"{"type":"register_anchor","anchor":"a2","name":"A2","followers":2000,"merchant":"m0"}"#,
    r#"{"type":"register_provider","provider":"p0","name":"P0"}"#,
    r#"{"type":"register_provider","provider":"p1","name":"P1"}"#,
    r#"{"type":"certify_provider","provider":"p0","at":"2021-11-01T00:00:00+08:00"}"#,
    r#"{"type":"certify_provider","provider":"p1","at":"2021-11-01T00:00:00+08:00"}"#,
    r#"{"type":"live_start","session":"s0","anchor":"a0","at":"2021-11-01T00:00:00+08:00"}"#,
    r#"{"type":"live_start","session":"s1","anchor":"a1","at":"2021-11-01T00:00:00+08:00"}"#,
    r#"{"type":"live_start","session":"s2","anchor":"a2","at":"2021-11-01T00:00:00+08:00"}"#,
];

#[derive(Debug, Clone)]
enum Op {
    /// merchant, session (None: shelf), paid fen, minute
    Order(u8, Option<u8>, i64, u32),
    /// order number, fen, minute
    Refund(u16, i64, u32),
    Enroll(u8, u32),
    /// participant (a0..a2), hundredths
    Score(u8, u16),
    Violation(u8, u32),
    Bind(u8, u8, u32),
    Unbind(u8, u8, u32),
    Baseline(u8, i64),
    /// minute (up to a day past the festival's end)
    Settle(u32),
}

fn op() -> impl Strategy<Value = Op> {
    let t = 0u32..(4 * 24 * 60);
    prop_oneof![
        8 => (0u8..3, proptest::option::of(0u8..3), 0i64..4000, t.clone()).prop_map(|(m, s, p, t)| Op::Order(m, s, p, t)),
        3 => (0u16..40, 1i64..3000, t.clone()).prop_map(|(o, a, t)| Op::Refund(o, a, t)),
        2 => (0u8..3, t.clone()).prop_map(|(a, t)| Op::Enroll(a, t)),
        2 => (0u8..3, 400u16..460).prop_map(|(a, s)| Op::Score(a, s)),
        1 => (0u8..3, t.clone()).prop_map(|(a, t)| Op::Violation(a, t)),
        2 => (0u8..2, 0u8..3, t.clone()).prop_map(|(p, m, t)| Op::Bind(p, m, t)),
        1 => (0u8..2, 0u8..3, t).prop_map(|(p, m, t)| Op::Unbind(p, m, t)),
        1 => (0u8..2, 0i64..20_000).prop_map(|(p, b)| Op::Baseline(p, b)),
        2 => (0u32..(5 * 24 * 60)).prop_map(Op::Settle),
    ]
}

fn line(n: usize, op: &Op) -> String {
    match op {
        Op::Order(m, Some(s), paid, t) => format!(
            r#"{{"type":"order_paid","order":"o{n}","user":"u{}","merchant":"m{m}","channel":"live","session":"s{s}","lines":[{{"sku":"k","qty":1,"price":5000,"paid":{paid}}}],"at":"{}"}}"#,
            n % 5,
            at(*t)
        ),
        Op::Order(m, None, paid, t) => format!(
            r#"{{"type":"order_paid","order":"o{n}","user":"u{}","merchant":"m{m}","channel":"shelf","lines":[{{"sku":"k","qty":1,"price":5000,"paid":{paid}}}],"at":"{}"}}"#,
            n % 5,
            at(*t)
        ),
        Op::Refund(o, amount, t) => {
            format!(r#"{{"type":"refund","order":"o{o}","amount":{amount},"at":"{}"}}"#, at(*t))
        }
        Op::Enroll(a, t) => format!(r#"{{"type":"enroll","program":"race","participant":"a{a}","at":"{}"}}"#, at(*t)),
        Op::Score(a, s) => format!(
            r#"{{"type":"set_experience_score","id":"s{n}","participant":"a{a}","score":{}.{:02},"at":"{}"}}"#,
            s / 100,
            s % 100,
            at(0)
        ),
        Op::Violation(a, t) => format!(
            r#"{{"type":"record_violation","id":"v{n}","violation":"v{n}","participant":"a{a}","reason":"r","at":"{}"}}"#,
            at(*t)
        ),
        Op::Bind(p, m, t) => {
            format!(r#"{{"type":"bind_provider","provider":"p{p}","merchant":"m{m}","at":"{}"}}"#, at(*t))
        }
        Op::Unbind(p, m, t) => {
            format!(r#"{{"type":"unbind_provider","provider":"p{p}","merchant":"m{m}","at":"{}"}}"#, at(*t))
        }
        Op::Baseline(p, b) => format!(
            r#"{{"type":"load_baseline","id":"b{n}","contest":"growth","participant":"p{p}","baseline_fen":{b},"at":"{}"}}"#,
            at(0)
        ),
        Op::Settle(t) => format!(r#"{{"type":"settle","id":"st{n}","at":"{}"}}"#, at(*t)),
    }
}

/// An order as the events tell it.
struct Sold {
    merchant: String,
    anchor: Option<String>,
    provider: Option<String>,
    session: Option<String>,
    at: Ts,
    net: i64,
}

fn run(ops: &[Op]) -> (Engine, Vec<Event>) {
    let mut e = Engine::new(festival());
    let mut log = Vec::new();
    let lines: Vec<String> =
        SETUP.iter().map(|s| s.to_string()).chain(ops.iter().enumerate().map(|(n, o)| line(n, o))).collect();
    for l in &lines {
        let c = parse_line(l).expect("well-formed");
        let mut out = Vec::new();
        if e.execute(&c, &mut out).is_ok() {
            log.extend(out);
        }
    }
    (e, log)
}

/// The documented order, written out independently of `Key`'s `Ord`: higher score, then
/// earlier time, then lower id.
fn board_of(recs: &[Key]) -> Vec<Key> {
    let mut v = recs.to_vec();
    v.sort_by(|a, b| (std::cmp::Reverse(a.score), a.at_ms, &*a.id).cmp(&(std::cmp::Reverse(b.score), b.at_ms, &*b.id)));
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn boards_hold_the_eligible_entrants_in_order_and_scores_match_their_definition(
        ops in proptest::collection::vec(op(), 1..80)
    ) {
        let (e, log) = run(&ops);
        let st = e.state();
        let c = &st.contests;

        // Every board: exactly the records that pass the gates, sorted by the documented key.
        for (ri, (d, r)) in c.defs.iter().zip(&c.races).enumerate() {
            for t in r.boards.values() {
                let mut want = Vec::new();
                for (p, rec) in &t.recs {
                    prop_assert_eq!(rec.ranked, c.eligible(st, ri, *p), "{} {}", d.id, pid_name(st, (d.role, *p)));
                    if rec.ranked {
                        want.push(rec.key());
                    }
                }
                let got: Vec<Key> = t.board.iter().cloned().collect();
                prop_assert_eq!(&got, &board_of(&want), "{}", d.id);
                for (i, k) in got.iter().enumerate() {
                    prop_assert_eq!(t.board.rank(k), Some(i));
                }
            }
        }

        // Scores from their definitions, recomputed from the events.
        let mut orders: BTreeMap<String, Sold> = BTreeMap::new();
        for ev in &log {
            match ev {
                Event::OrderPaid { order, merchant, anchor, provider, session, lines, at, .. } => {
                    orders.insert(order.clone(), Sold {
                        merchant: merchant.clone(), anchor: anchor.clone(), provider: provider.clone(),
                        session: session.clone(), at: *at, net: lines.iter().map(|l| l.paid).sum(),
                    });
                }
                Event::Refunded { order, amount, .. } => orders.get_mut(order).unwrap().net -= amount,
                _ => {}
            }
        }
        let ts = |s: &str| Ts::parse(s).unwrap();
        // gmv: anchors' net GMV of orders paid in [11-02, 11-04).
        let gi = c.race_index("gmv").unwrap();
        let mut want: BTreeMap<String, i64> = BTreeMap::new();
        let mut sessions: BTreeMap<(String, String), i64> = BTreeMap::new();
        for o in orders.values() {
            if let Some(a) = &o.anchor {
                if o.at >= ts("2021-11-02T00:00:00+08:00") && o.at < ts("2021-11-04T00:00:00+08:00") {
                    *want.entry(a.clone()).or_default() += o.net;
                    *sessions.entry((a.clone(), o.session.clone().unwrap())).or_default() += o.net;
                }
            }
        }
        let whole = c.races[gi].boards.get(&(None, None));
        for (a, v) in &want {
            let p = st.anchor_ids.get(a).unwrap();
            prop_assert_eq!(whole.and_then(|t| t.recs.get(&p)).map(|r| r.score), Some(*v), "gmv of {}", a);
            let best = sessions.iter().filter(|((x, _), _)| x == a).map(|(_, v)| *v).max().unwrap_or(0);
            prop_assert_eq!(c.races[gi].best_session_fen.get(&p).copied().unwrap_or(0), best, "best session of {}", a);
        }

        // heat_daily: per merchant per day, min(cap, ⌊GMV × coef / 1e6⌋), on its category's board.
        let hi = c.race_index("heat_daily").unwrap();
        let mut day_gmv: BTreeMap<(String, dacu_core::Day), i64> = BTreeMap::new();
        for o in orders.values() {
            *day_gmv.entry((o.merchant.clone(), o.at.day())).or_default() += o.net;
        }
        for ((m, day), g) in &day_gmv {
            let mi = st.merchant_ids.get(m).unwrap();
            let cat = &st.merchants[mi as usize].category;
            let coef = if cat == "beauty" { 15_000 } else { 10_000 };
            let heat = (g * coef).div_euclid(1_000_000).min(120);
            let key = (Some(*day), c.categories.get(cat));
            let got = c.races[hi].boards.get(&key).and_then(|t| t.recs.get(&mi)).map_or(0, |r| r.score);
            prop_assert_eq!(got, heat, "heat of {} on {}", m, day);
        }

        // growth: W over the window, baseline = loaded, else the served merchants' baseline GMV.
        let gr = c.race_index("growth").unwrap();
        for (pi, rec) in c.races[gr].boards.get(&(None, None)).map(|t| t.recs.iter().collect::<Vec<_>>()).unwrap_or_default() {
            let pname = st.provider_ids.name(*pi).to_string();
            let w: i64 = orders.values()
                .filter(|o| o.provider.as_deref() == Some(&pname) && o.at >= ts("2021-11-03T00:00:00+08:00"))
                .map(|o| o.net).sum();
            prop_assert_eq!(rec.window_fen, w);
            let base = c.baseline(gr, *pi);
            prop_assert_eq!(rec.score, growth_bp(w, base, 2000));
        }

        // Replay of the events gives the same digest.
        let mut again = Engine::new(festival());
        for ev in &log {
            again.apply(ev).unwrap();
        }
        prop_assert_eq!(digest(again.state()), digest(st));
    }

    #[test]
    fn settlement_stays_within_budgets_shares_shortfalls_exactly_and_only_claws_back(
        ops in proptest::collection::vec(op(), 1..80)
    ) {
        use dacu_core::settle::{LineKind, Unit};
        let (mut e, mut log) = run(&ops);
        // A final settlement after the festival closes everything and claws back what
        // the stream took away.
        let fin = parse_line(&format!(r#"{{"type":"settle","id":"final","at":"{}"}}"#, at(6 * 24 * 60))).unwrap();
        let mut out = Vec::new();
        e.execute(&fin, &mut out).unwrap();
        log.extend(out);
        let f = festival();
        let st = e.state();
        let s = &st.settlement;
        prop_assert!(!s.runs.is_empty() || s.lines.is_empty());
        for t in &f.tracks {
            let money = |l: &&dacu_core::settle::Line| l.track == t.id && Unit::of(l.item) == Unit::Fen;
            let mut paid = 0i64;
            for r in &s.runs {
                let lines = &s.lines[r.first_line as usize..][..r.lines as usize];
                let awards: Vec<_> = lines.iter().filter(money).filter(|l| l.kind == LineKind::Award).collect();
                let claws: i64 = lines.iter().filter(money).filter(|l| l.kind == LineKind::Clawback).map(|l| l.amount).sum();
                let remaining = t.budget_fen - (paid + claws);
                match awards.first().and_then(|l| l.scale) {
                    Some((rem, total)) => {
                        // A shortfall: the remaining budget is shared out exactly.
                        prop_assert_eq!(rem, remaining);
                        prop_assert!(total > rem);
                        prop_assert_eq!(awards.iter().map(|l| l.claim).sum::<i64>(), total);
                        prop_assert_eq!(awards.iter().map(|l| l.amount).sum::<i64>(), rem);
                        for l in &awards {
                            prop_assert_eq!(l.scale, Some((rem, total)));
                            prop_assert!(0 <= l.amount && l.amount <= l.claim);
                        }
                    }
                    None => {
                        for l in &awards {
                            prop_assert_eq!(l.amount, l.claim);
                        }
                        prop_assert!(awards.iter().map(|l| l.amount).sum::<i64>() <= remaining);
                    }
                }
                paid += claws + awards.iter().map(|l| l.amount).sum::<i64>();
                prop_assert!(0 <= paid && paid <= t.budget_fen, "track {} paid {} of {}", t.id, paid, t.budget_fen);
            }
            prop_assert_eq!(s.paid_fen.get(&t.id).copied().unwrap_or(0), paid);
        }
        // Each grant: one award, then clawbacks that never add and never go below zero.
        for (id, po) in &s.payouts {
            for g in &po.grants {
                let lines: Vec<_> = po.lines.iter().map(|&i| &s.lines[i as usize])
                    .filter(|l| l.item == g.item && l.name == g.name).collect();
                prop_assert_eq!(lines[0].kind, LineKind::Award, "{}", id);
                let (mut granted, mut claim) = (0i64, i64::MAX);
                for l in &lines {
                    prop_assert!(l.kind == LineKind::Award || l.amount <= 0);
                    prop_assert!(l.claim <= claim);
                    claim = l.claim;
                    granted += l.amount;
                    prop_assert!(granted >= 0);
                }
                prop_assert_eq!(granted, g.granted);
            }
            // An entrant the gates now refuse keeps nothing.
            let ri = st.contests.race_index(&po.race).unwrap();
            let p = dacu_core::contest::lookup(st, po.role, &po.participant).unwrap().1;
            if st.contests.gate_failure(st, ri, p).is_some() {
                prop_assert!(po.grants.iter().all(|g| g.granted == 0), "{} kept {:?}", id, po.grants);
            }
        }
        // Settling again changes nothing.
        let before = digest(st);
        let again = parse_line(&format!(r#"{{"type":"settle","id":"again","at":"{}"}}"#, at(7 * 24 * 60))).unwrap();
        let mut out = Vec::new();
        e.execute(&again, &mut out).unwrap();
        prop_assert!(out.is_empty(), "{:?}", out);
        prop_assert_eq!(digest(e.state()), before.clone());
        // Replay gives the same ledger.
        let mut replay = Engine::new(festival());
        for ev in &log {
            replay.apply(ev).unwrap();
        }
        prop_assert_eq!(digest(replay.state()), before);
    }

    // Enough entrants that the board spans several blocks.
    #[test]
    fn the_board_agrees_with_a_sorted_list_under_any_updates(
        ops in proptest::collection::vec((0u8..250, -50i64..50, 0i64..5), 1..1500)
    ) {
        let mut b = Board::new();
        let mut model: BTreeMap<u8, Key> = BTreeMap::new();
        for (who, delta, dt) in ops {
            let id: Arc<str> = format!("e{who:02}").into();
            match model.get(&who).cloned() {
                None => {
                    let k = Key { score: delta, at_ms: dt, id };
                    prop_assert!(b.insert(k.clone()));
                    model.insert(who, k);
                }
                Some(old) if delta == 0 => {
                    prop_assert!(b.remove(&old));
                    model.remove(&who);
                }
                Some(old) => {
                    let k = Key { score: old.score + delta, at_ms: old.at_ms + dt, id };
                    prop_assert!(b.update(&old, k.clone()));
                    model.insert(who, k);
                }
            }
            let want = board_of(&model.values().cloned().collect::<Vec<_>>());
            let got: Vec<Key> = b.iter().cloned().collect();
            prop_assert_eq!(b.len(), want.len());
            prop_assert_eq!(&got, &want);
        }
        let want = board_of(&model.values().cloned().collect::<Vec<_>>());
        for (i, k) in want.iter().enumerate() {
            prop_assert_eq!(b.rank(k), Some(i));
            prop_assert_eq!(b.nth(i), Some(k));
            prop_assert_eq!(b.count_before(k), i);
            prop_assert_eq!(b.iter_from(i).next(), Some(k));
        }
    }
}

/// The problems `check` reports for a festival file.
fn problems(src: &str) -> Vec<String> {
    match festival::parse(src) {
        Ok(_) => Vec::new(),
        Err(ps) => ps.into_iter().map(|p| p.message).collect(),
    }
}

#[test]
fn the_file_refuses_races_the_engine_could_not_score() {
    assert!(problems(FESTIVAL).is_empty());
    let no_heat = &FESTIVAL[..FESTIVAL.find("[heat]").unwrap()];
    assert!(problems(no_heat).iter().any(|m| m.contains("needs a [heat] table")), "{:?}", problems(no_heat));
    let daily_growth = FESTIVAL.replace("metric = \"gmv_growth\"", "metric = \"gmv_growth\"\nperiod = \"daily\"");
    assert!(problems(&daily_growth).iter().any(|m| m.contains("ranks the whole window")));
    let grouped = FESTIVAL.replace("metric = \"gmv_growth\"", "metric = \"gmv_growth\"\ngroup_by = \"category\"");
    assert!(problems(&grouped).iter().any(|m| m.contains("needs a merchant track")));
    let tiered = format!(
        "{FESTIVAL}\n[[challenges]]\nid = \"b\"\nname_zh = \"b\"\nname_en = \"b\"\ntrack = \"brand\"\nmetric = \"gmv\"\nstart = 2021-11-01\nend = 2021-11-05\ntargets = [{{ tier = \"head\", target_fen = 1 }}]\nreward_table = \"r\"\n"
    );
    assert!(problems(&tiered).iter().any(|m| m.contains("only anchors have tiers")), "{:?}", problems(&tiered));
}

/// The settlement property is only as good as its streams: they must reach awards that a
/// short budget scales, and clawbacks of settled payouts.
#[test]
fn the_generator_reaches_scaled_awards_and_clawbacks() {
    use dacu_core::settle::LineKind;
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = proptest::collection::vec(op(), 40..80);
    let (mut scaled, mut clawbacks, mut awards, mut late) = (0, 0, 0, 0);
    for _ in 0..150 {
        let ops = strategy.new_tree(&mut runner).unwrap().current();
        let (mut e, log) = run(&ops);
        if let Some(i) = log.iter().position(|ev| matches!(ev, Event::Settled { .. })) {
            late += log[i..]
                .iter()
                .filter(|ev| matches!(ev, Event::Refunded { .. } | Event::ViolationRecorded { .. }))
                .count();
        }
        let fin = parse_line(&format!(r#"{{"type":"settle","id":"final","at":"{}"}}"#, at(6 * 24 * 60))).unwrap();
        e.execute(&fin, &mut Vec::new()).unwrap();
        let s = &e.state().settlement;
        awards += s.lines.iter().filter(|l| l.kind == LineKind::Award).count();
        scaled += s.lines.iter().filter(|l| l.scale.is_some()).count();
        clawbacks += s.lines.iter().filter(|l| l.kind == LineKind::Clawback).count();
    }
    assert!(
        awards > 100 && scaled > 20 && clawbacks > 15,
        "awards {awards}, scaled {scaled}, clawbacks {clawbacks} late {late}"
    );
}
