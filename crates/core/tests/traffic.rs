//! Guaranteed traffic in the engine (docs/traffic.md, "In the engine"): contracts from the
//! festival file, from enrolment and from make-goods; impressions served by the plan;
//! and the invariants — never outside a window or to an ineligible segment, never more
//! than promised, every opportunity counted once, replay and snapshots decide alike.

use dacu_core::digest::digest;
use dacu_core::state::State;
use dacu_core::{festival, parse_line, Code, Engine, Event, Festival};
use proptest::prelude::*;
use std::sync::Arc;

const TRAFFIC: &str = r#"
[festival]
id = "t"
name_zh = "t"
name_en = "t"
start = 2021-11-01
end = 2021-11-05
[registration]
opens = 2021-11-01
closes = 2021-11-04
[[tracks]]
id = "brand"
role = "merchant"
name_zh = "品牌"
name_en = "Brand"
budget_fen = 100
[[programs]]
id = "sbd"
name_zh = "超级品牌日"
name_en = "Super Brand Day"
track = "brand"
roles = ["merchant"]
[traffic]
tolerance_bp = 500
replan_every_h = 2
make_good_hours = 24
[[traffic.slots]]
id = "main_venue"
name_zh = "主会场"
name_en = "Main venue"
per_hour = 1000
[[traffic.slots]]
id = "feed"
name_zh = "116 精选"
name_en = "116 feed"
per_hour = 600
[[traffic.segments]]
id = "returning"
name_zh = "老客"
name_en = "Returning"
share_bp = 7000
[[traffic.segments]]
id = "new"
name_zh = "新客"
name_en = "New"
share_bp = 3000
[[traffic.peaks]]
start = 2021-11-03T20:00:00+08:00
end = 2021-11-04T00:00:00+08:00
multiple_bp = 30000
[[traffic.contracts]]
id = "venue"
slots = ["main_venue"]
impressions = 20000
start = 2021-11-01T00:00:00+08:00
end = 2021-11-03T00:00:00+08:00
[[traffic.contracts]]
id = "newcomers"
slots = ["main_venue", "feed"]
segments = ["new"]
impressions = 9000
start = 2021-11-02T00:00:00+08:00
end = 2021-11-04T00:00:00+08:00
pacing = "front_loaded"
priority = 7
[[traffic.contracts]]
id = "sbd-venue"
program = "sbd"
slots = ["main_venue"]
impressions = 5000
start = 2021-11-03T00:00:00+08:00
end = 2021-11-04T00:00:00+08:00
"#;

fn fest() -> Arc<Festival> {
    Arc::new(festival::parse(TRAFFIC).expect("the test festival is valid"))
}

/// The test festival planned by `planner` ("hwm" or "shale").
fn fest_planned_by(planner: &str) -> Arc<Festival> {
    let file = TRAFFIC.replace("replan_every_h = 2\n", &format!("replan_every_h = 2\nplanner = \"{planner}\"\n"));
    let f = festival::parse(&file).expect("the test festival is valid");
    assert_eq!(format!("{:?}", f.traffic.as_ref().unwrap().planner).to_lowercase(), planner);
    Arc::new(f)
}

/// Whether the log's plans were made by SHALE (and every one of them).
fn planned_by_shale(log: &[Event]) -> Option<bool> {
    let shale = log.iter().filter(|e| matches!(e, Event::TrafficPlannedShale(_))).count();
    let hwm = log.iter().filter(|e| matches!(e, Event::TrafficPlanned(_))).count();
    match (hwm, shale) {
        (0, 0) => None,
        (_, 0) => Some(false),
        (0, _) => Some(true),
        _ => panic!("one festival, one planner: {hwm} HWM plans and {shale} SHALE plans"),
    }
}

fn run(e: &mut Engine, line: &str, log: &mut Vec<Event>) -> Result<(), dacu_core::Rejection> {
    let c = parse_line(line).expect("a valid line");
    let mut out = Vec::new();
    e.execute(&c, &mut out)?;
    log.extend(out);
    Ok(())
}

fn at(hour: u32, minute: u32) -> String {
    let (day, h) = (1 + hour / 24, hour % 24);
    format!("2021-11-{day:02}T{h:02}:{minute:02}:00+08:00")
}

/// The forecast of one node of the test festival.
fn forecast(slot: usize, seg: usize, hour: u32) -> u64 {
    let per = [1000u64, 600][slot];
    let share = [7000u64, 3000][seg];
    let peak = if (68..72).contains(&hour) { 3 } else { 1 };
    per * share * peak / 10_000
}

/// Sends every hour's opportunities (forecast × (100 + error%) / 100) in `batches`
/// batches per node, with a tick each hour; returns the log.
fn festival_of_impressions(e: &mut Engine, error: &[i64], batches: u64) -> Vec<Event> {
    let mut log = Vec::new();
    run(
        e,
        r#"{"type":"register_merchant","merchant":"m1","name":"M","brand_tier":"ska","category":"beauty"}"#,
        &mut log,
    )
    .unwrap();
    run(e, &format!(r#"{{"type":"enroll","program":"sbd","participant":"m1","at":"{}"}}"#, at(1, 0)), &mut log)
        .unwrap();
    for hour in 0..96u32 {
        run(e, &format!(r#"{{"type":"tick","id":"t{hour}","at":"{}"}}"#, at(hour, 0)), &mut log).unwrap();
        // In time order: each batch time, every node.
        for b in 0..batches {
            for (slot, slot_id) in ["main_venue", "feed"].iter().enumerate() {
                for (seg, seg_id) in ["returning", "new"].iter().enumerate() {
                    let err = error[(hour as usize + slot * 2 + seg) % error.len()];
                    let n = (forecast(slot, seg, hour) as i64 * (100 + err) / 100).max(0) as u64;
                    let count = n / batches + u64::from(b < n % batches);
                    if count == 0 {
                        continue;
                    }
                    let line = format!(
                        r#"{{"type":"impression","slot":"{slot_id}","segment":"{seg_id}","count":{count},"at":"{}"}}"#,
                        at(hour, (10 + 40 * b / batches) as u32)
                    );
                    run(e, &line, &mut log).unwrap();
                }
            }
        }
    }
    run(e, r#"{"type":"tick","id":"end","at":"2021-11-05T00:00:00+08:00"}"#, &mut log).unwrap();
    log
}

fn replay(f: &Arc<Festival>, log: &[Event]) -> Engine {
    let mut e = Engine::new(f.clone());
    for ev in log {
        e.apply(ev).expect("a recorded event applies");
    }
    e
}

/// Every served impression is inside its contract's window, on an eligible slot and
/// segment, and no contract gets more than it was promised; served + unsold is every
/// opportunity.
fn check_invariants(st: &State, log: &[Event]) -> Result<(), TestCaseError> {
    let (mut opportunities, mut counted) = (0u64, 0u64);
    for ev in log {
        if let Event::ImpressionsServed { slot, segment, count, served, unsold, at, .. } = ev {
            opportunities += count;
            counted += unsold + served.iter().map(|(_, n)| n).sum::<u64>();
            for (id, _) in served {
                let c = &st.traffic.contract(id).expect("a known contract").rec;
                prop_assert!(c.start <= *at && *at < c.end, "{id} served at {at} outside its window");
                prop_assert!(c.slots.contains(slot) && c.segments.contains(segment), "{id} on {slot}/{segment}");
            }
        }
    }
    prop_assert_eq!(opportunities, counted);
    prop_assert_eq!(st.traffic.opportunities, opportunities);
    prop_assert_eq!(st.traffic.served + st.traffic.unsold, opportunities);
    let delivered: u64 = st.traffic.contracts.iter().map(|c| c.delivered).sum();
    prop_assert_eq!(delivered, st.traffic.served);
    for c in &st.traffic.contracts {
        prop_assert!(c.delivered <= c.rec.impressions, "{} got {} of {}", c.rec.id, c.delivered, c.rec.impressions);
    }
    Ok(())
}

#[test]
fn the_forecast_arriving_delivers_every_contract() {
    for planner in ["hwm", "shale"] {
        forecast_arriving_delivers_every_contract(planner);
    }
}

fn forecast_arriving_delivers_every_contract(planner: &str) {
    let f = fest_planned_by(planner);
    let mut e = Engine::new(f.clone());
    let log = festival_of_impressions(&mut e, &[0], 3);
    assert_eq!(planned_by_shale(&log), Some(planner == "shale"));
    assert_eq!(digest(replay(&f, &log).state()), digest(e.state()));
    let st = e.state();
    check_invariants(st, &log).unwrap();
    let ids: Vec<&str> = st.traffic.contracts.iter().map(|c| c.rec.id.as_str()).collect();
    assert_eq!(ids, ["sbd-venue/m1", "venue", "newcomers"], "the enrolment's contract, then the file's");
    for c in &st.traffic.contracts {
        assert_eq!(c.delivered, c.rec.impressions, "{} delivered in full", c.rec.id);
        let end = c.ended.as_ref().expect("every window ended by the last tick");
        assert_eq!((end.shortfall, end.make_good.as_deref()), (0, None));
    }
    assert!(st.traffic.plans > 1, "re-planned as the hours passed");
}

#[test]
fn a_shortfall_becomes_a_make_good_that_is_delivered() {
    let f = fest();
    let mut e = Engine::new(f.clone());
    // Every node runs at 30% of its forecast: the main venue's 48 hours bring 14,400
    // opportunities for the venue contract's 20,000.
    let log = festival_of_impressions(&mut e, &[-70], 1);
    let st = e.state();
    check_invariants(st, &log).unwrap();
    let venue = st.traffic.contract("venue").unwrap();
    let ended = venue.ended.as_ref().unwrap();
    assert!(ended.shortfall > 0, "the venue contract fell short");
    assert_eq!(ended.make_good.as_deref(), Some("venue+mg1"));
    let mg = st.traffic.contract("venue+mg1").unwrap();
    assert_eq!((mg.rec.impressions, mg.rec.start), (ended.shortfall, venue.rec.end));
    assert!(mg.delivered > 0, "the make-good was served");
}

/// Ids are the clients': a participant called `m1+mg1` holds the name `m1`'s make-good
/// would take, so the make-good takes the next free depth (and that participant's own
/// make-good the one after), and nothing collides.
#[test]
fn a_make_good_never_takes_an_id_that_is_already_held() {
    let f = fest();
    let mut e = Engine::new(f.clone());
    let mut log = Vec::new();
    for m in ["m2", "m2+mg1"] {
        let reg = format!(
            r#"{{"type":"register_merchant","merchant":"{m}","name":"M","brand_tier":"ska","category":"beauty"}}"#
        );
        run(&mut e, &reg, &mut log).unwrap();
        let enrol = format!(r#"{{"type":"enroll","program":"sbd","participant":"{m}","at":"{}"}}"#, at(1, 0));
        run(&mut e, &enrol, &mut log).unwrap();
    }
    // No opportunity at all: every contract ends short.
    for (hour, day) in [(0, "2021-11-03T12:00:00+08:00"), (1, "2021-11-04T00:00:00+08:00")] {
        run(&mut e, &format!(r#"{{"type":"tick","id":"t{hour}","at":"{day}"}}"#), &mut log).unwrap();
    }
    let b = &e.state().traffic;
    let end = |id: &str| b.contract(id).unwrap().ended.as_ref().unwrap().make_good.clone();
    assert_eq!(end("sbd-venue/m2").as_deref(), Some("sbd-venue/m2+mg2"));
    assert_eq!(end("sbd-venue/m2+mg1").as_deref(), Some("sbd-venue/m2+mg3"));
    let mg = b.contract("sbd-venue/m2+mg2").unwrap();
    assert!(matches!(&mg.rec.source, dacu_core::event::ContractSourceRec::MakeGood { of } if of == "sbd-venue/m2"));
    e.state().check(&f).unwrap();
    assert_eq!(digest(e.state()), digest(replay(&f, &log).state()));
}

#[test]
fn pacing_never_runs_ahead_of_the_curve_by_more_than_the_tolerance() {
    let f = fest();
    let mut e = Engine::new(f.clone());
    // Supply far above the forecast would let a contract run ahead.
    let log = festival_of_impressions(&mut e, &[150], 2);
    let mut replayed = Engine::new(f.clone());
    for ev in &log {
        replayed.apply(ev).unwrap();
        if let Event::ImpressionsServed { at, .. } = ev {
            for c in &replayed.state().traffic.contracts {
                // The curve at the opportunity's time, plus the 5% tolerance.
                let cap = target_of(&f, &c.rec, *at) + c.rec.impressions / 20;
                assert!(c.delivered <= cap, "{} at {at}: {} > {cap}", c.rec.id, c.delivered);
            }
        }
    }
}

fn target_of(f: &Festival, rec: &dacu_core::event::ContractRec, at: dacu_core::Ts) -> u64 {
    let t = f.traffic.as_ref().unwrap();
    let grid = festival::traffic::Grid::new(f, t);
    let ctx = dacu_core::traffic::live::Ctx { festival: f, config: t, grid: &grid };
    ctx.target(rec, at)
}

#[test]
fn bad_impressions_are_refused_and_change_nothing() {
    let f = fest();
    let mut e = Engine::new(f.clone());
    let mut log = Vec::new();
    let before = digest(e.state());
    let cases = [
        (
            r#"{"type":"impression","slot":"nowhere","segment":"new","at":"2021-11-01T10:00:00+08:00"}"#,
            Code::UnknownSlot,
        ),
        (
            r#"{"type":"impression","slot":"feed","segment":"old","at":"2021-11-01T10:00:00+08:00"}"#,
            Code::UnknownSegment,
        ),
        (
            r#"{"type":"impression","slot":"feed","segment":"new","count":0,"at":"2021-11-01T10:00:00+08:00"}"#,
            Code::InvalidValue,
        ),
        (
            r#"{"type":"impression","slot":"feed","segment":"new","at":"2021-12-01T10:00:00+08:00"}"#,
            Code::OutsideFestival,
        ),
    ];
    for (line, code) in cases {
        assert_eq!(run(&mut e, line, &mut log).unwrap_err().code, code, "{line}");
    }
    assert_eq!(digest(e.state()), before);
    let plain = festival::parse(&TRAFFIC[..TRAFFIC.find("[traffic]").unwrap()]).unwrap();
    let mut e = Engine::new(Arc::new(plain));
    let line = r#"{"type":"impression","slot":"feed","segment":"new","at":"2021-11-01T10:00:00+08:00"}"#;
    assert_eq!(run(&mut e, line, &mut log).unwrap_err().code, Code::TrafficNotConfigured);
}

/// Ten hours of supply at a tenth of the forecast leave the venue contract far behind its
/// curve; one batch of ten times a node's forecast then catches it up exactly to the
/// curve at the hour's end — more than the node's whole forecast could give by the plan
/// — and leaves the rest unsold.
#[test]
fn surplus_supply_catches_a_contract_up_to_its_curve() {
    let f = fest();
    let mut e = Engine::new(f.clone());
    let mut log = Vec::new();
    for hour in 0..10u32 {
        run(&mut e, &format!(r#"{{"type":"tick","id":"t{hour}","at":"{}"}}"#, at(hour, 0)), &mut log).unwrap();
        for (slot, slot_id) in ["main_venue", "feed"].iter().enumerate() {
            for (seg, seg_id) in ["returning", "new"].iter().enumerate() {
                let count = forecast(slot, seg, hour) / 10;
                let line = format!(
                    r#"{{"type":"impression","slot":"{slot_id}","segment":"{seg_id}","count":{count},"at":"{}"}}"#,
                    at(hour, 10)
                );
                run(&mut e, &line, &mut log).unwrap();
            }
        }
    }
    let before = e.state().traffic.contract("venue").unwrap().delivered;
    let count = 10 * forecast(0, 0, 10);
    let line = format!(
        r#"{{"type":"impression","slot":"main_venue","segment":"returning","count":{count},"at":"{}"}}"#,
        at(10, 50)
    );
    let mut out = Vec::new();
    run(&mut e, &line, &mut out).unwrap();
    let Some(Event::ImpressionsServed { at: when, unsold, .. }) = out.last() else { panic!("served: {out:?}") };
    let venue = e.state().traffic.contract("venue").unwrap();
    // Caught up to the curve at the supply hour's end, 11:00.
    let target = target_of(&f, &venue.rec, when.plus_ms(10 * 60_000));
    assert_eq!(Some(when.plus_ms(10 * 60_000)), dacu_core::Ts::parse(&at(11, 0)).ok());
    assert!(before < target, "behind its curve before the surplus: {before} < {target}");
    assert_eq!(venue.delivered, target, "caught up to the curve, not past it");
    assert!(venue.delivered - before > forecast(0, 0, 10), "more than the plan could give: {before} -> {target}");
    assert!(*unsold > 0 && *unsold < count, "the rest unsold: {unsold}");
}

/// The same opportunities at one node and time, as one batch or as single opportunities,
/// get the same answers through the engine, catching up included.
fn batch_and_singles(f: &Arc<Festival>, log: &[Event], line: &str, n: u64) -> Result<(), TestCaseError> {
    let (mut a, mut b) = (replay(f, log), replay(f, log));
    let (mut la, mut lb) = (Vec::new(), Vec::new());
    let batch = line.replace("COUNT", &n.to_string());
    let ra = run(&mut a, &batch, &mut la).map_err(|r| r.code);
    let mut rb = Ok(());
    for _ in 0..n {
        rb = rb.and(run(&mut b, &line.replace("COUNT", "1"), &mut lb).map_err(|r| r.code));
    }
    prop_assert_eq!(ra, rb);
    let (ta, tb) = (&a.state().traffic, &b.state().traffic);
    let delivered = |t: &dacu_core::traffic::book::Book| t.contracts.iter().map(|c| c.delivered).collect::<Vec<_>>();
    prop_assert_eq!(delivered(ta), delivered(tb));
    prop_assert_eq!(&ta.node_served, &tb.node_served);
    prop_assert_eq!((ta.served, ta.unsold), (tb.served, tb.unsold));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn a_batch_of_impressions_is_its_singles(
        errors in prop::collection::vec(-60i64..20, 1..5),
        cut in 0.2f64..0.7,
        n in 1u64..2500,
        minute in 0u32..60,
        slot in 0usize..2,
        shale in any::<bool>(),
    ) {
        let f = fest_planned_by(if shale { "shale" } else { "hwm" });
        let mut e = Engine::new(f.clone());
        let log = festival_of_impressions(&mut e, &errors, 1);
        let k = (log.len() as f64 * cut) as usize;
        let line = format!(
            r#"{{"type":"impression","slot":"{}","segment":"returning","count":COUNT,"at":"2021-11-03T21:{minute:02}:00+08:00"}}"#,
            ["main_venue", "feed"][slot]
        );
        batch_and_singles(&f, &log[..k], &line, n)?;
    }

    /// With supply off its forecast by random errors and opportunities in random batches:
    /// the invariants hold, replaying the log gives the same digest, and an engine
    /// restored from a snapshot of the state part-way decides the rest exactly alike.
    #[test]
    fn serving_is_safe_and_replays(
        errors in prop::collection::vec(-60i64..80, 1..7),
        batches in 1u64..4,
        cut in 0.1f64..0.9,
        shale in any::<bool>(),
    ) {
        let f = fest_planned_by(if shale { "shale" } else { "hwm" });
        let mut e = Engine::new(f.clone());
        let log = festival_of_impressions(&mut e, &errors, batches);
        check_invariants(e.state(), &log)?;
        prop_assert_eq!(planned_by_shale(&log), Some(shale));
        prop_assert_eq!(digest(replay(&f, &log).state()), digest(e.state()));

        // Restore part-way from a snapshot of the state and decide the rest again.
        let k = (log.len() as f64 * cut) as usize;
        let part = replay(&f, &log[..k]);
        let bytes = postcard::to_allocvec(part.state()).unwrap();
        let restored: State = postcard::from_bytes(&bytes).unwrap();
        let restored = Engine::with_state(f.clone(), restored).unwrap();
        let straight = replay(&f, &log[..k]);
        let mut a = restored;
        let mut b = straight;
        let line = r#"{"type":"impression","slot":"main_venue","segment":"returning","count":500,"at":"2021-11-04T23:30:00+08:00"}"#;
        let (mut la, mut lb) = (Vec::new(), Vec::new());
        let ra = run(&mut a, line, &mut la).map_err(|r| r.code);
        let rb = run(&mut b, line, &mut lb).map_err(|r| r.code);
        prop_assert_eq!(ra, rb);
        prop_assert_eq!(la, lb);
        prop_assert_eq!(digest(a.state()), digest(b.state()));
    }
}
