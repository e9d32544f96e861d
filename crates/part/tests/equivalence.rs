//! Partitioned execution decides what the single writer decides: the same simulated
//! festival's live rooms, orders, refunds, coupon claims and settlements run through 1, 2 and 4
//! partitions give every command the same answer, every session the same figures, every
//! merchant, anchor and provider the same sales and buyers (summed over the partitions),
//! every coupon the same claimed total and every user the same claims as one engine; and
//! the partitions' logs, merged as a projection reads them, replay to the single
//! writer's state digest (the ledger and the budgets' spending with it) and report; the escrow never has more out than
//! a coupon's stock.

use dacu_core::{festival, parse_line, Command, Engine, Event, Festival, Rejection};
use dacu_part::escrow::peak_out;
use dacu_part::merge::{totals_in, Of};
use dacu_part::partition::claims_in;
use dacu_part::Partitioned;
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::sync::Arc;

fn mini() -> Arc<Festival> {
    Arc::new(festival::parse(include_str!("../../../festivals/example-mini.toml")).expect("valid"))
}

fn single(e: &mut Engine, c: &Command) -> Result<Vec<Event>, Rejection> {
    let mut out = Vec::new();
    e.execute(c, &mut out).map(|()| out)
}

/// Runs `commands` on one engine and on `n` partitions; asserts the same answers and
/// the same claims; returns how many claims were accepted and refused as sold out.
fn assert_same(f: &Arc<Festival>, commands: &[Command], n: u32) -> (usize, usize) {
    let mut one = Engine::new(f.clone());
    let mut parts = Partitioned::new(f.clone(), n).unwrap();
    parts.record();
    let (mut claimed, mut sold_out) = (0, 0);
    for (i, c) in commands.iter().enumerate() {
        let want = single(&mut one, c);
        let got = parts.execute(c).expect("a partitioned command");
        assert_eq!(got, want, "command {i} ({}) with {n} partitions", c.type_name());
        if let Command::ClaimCoupon(_) = c {
            match &want {
                Ok(ev) if !ev.is_empty() => claimed += 1,
                Err(r) if r.code == dacu_core::Code::SoldOut => sold_out += 1,
                _ => {}
            }
        }
    }
    let st = one.state();
    for coupon in st.market.coupon_ids.names() {
        let ci = st.market.coupon_ids.get(coupon).unwrap();
        let stock = st.market.coupons[ci as usize].stock;
        assert_eq!(parts.claimed(coupon), st.market.coupons[ci as usize].claimed, "claimed of {coupon}");
        let peak = peak_out(parts.escrow.log()).get(coupon).copied().unwrap_or(0);
        assert!(peak <= stock, "{coupon}: {peak} out of a stock of {stock}");
        for user in st.users.names() {
            assert_eq!(parts.claims_of(user, coupon), claims_in(&one, user, coupon), "{user} {coupon}");
        }
    }
    for session in st.session_ids.names() {
        let want = &st.sessions[st.session_ids.get(session).unwrap() as usize];
        let p = &parts.parts[parts.session_partition(session) as usize];
        let ps = p.engine().state();
        let got = &ps.sessions[ps.session_ids.get(session).expect("the session is where it started") as usize];
        let figures = |s: &dacu_core::state::Session| {
            (s.start, s.end, s.entries, s.peak_concurrent, s.watch_ms, s.interactions, s.unique_viewers.len())
        };
        assert_eq!(figures(got), figures(want), "session {session} with {n} partitions");
    }
    for (of, ids) in [
        (Of::Merchant, st.merchant_ids.names().collect::<Vec<_>>()),
        (Of::Anchor, st.anchor_ids.names().collect()),
        (Of::Provider, st.provider_ids.names().collect()),
    ] {
        for id in ids {
            assert_eq!(parts.totals(of, id), totals_in(&one, of, id), "{of:?} {id} with {n} partitions");
        }
    }
    // A projection reading every partition's log rebuilds the single writer's report.
    let mut merged = Engine::new(f.clone());
    for e in parts.merged_events() {
        merged.apply(&e).expect("the merged events apply");
    }
    let report = |e: &Engine| serde_json::to_value(dacu_core::view::report(f, e.state())).unwrap();
    assert_eq!(report(&merged), report(&one), "the report of the merged events with {n} partitions");
    let ledger = &one.state().settlement;
    assert!(
        commands.iter().all(|c| !matches!(c, Command::Settle(_))) || !ledger.lines.is_empty(),
        "settlement paid nothing: the ledger proves little"
    );
    let digest = |e: &Engine| dacu_core::digest::digest(e.state());
    assert_eq!(digest(&merged), digest(&one), "the state of the merged events with {n} partitions");
    (claimed, sold_out)
}

/// The simulated festival's commands that partitions take, with the coupons' stock cut
/// to `stock` so that they run out.
fn simulated(f: &Festival, seed: u64, stock: i64) -> Vec<Command> {
    let mut buf = Vec::new();
    dacu_sim::simulate(f, dacu_sim::Scale::Commands(60_000), seed, &mut buf).unwrap();
    let mut out = Vec::new();
    let mid = parse_line(r#"{"type":"settle","id":"mid","at":"2021-11-05T00:00:00+08:00"}"#).unwrap();
    let mut settled_mid = false;
    let mut probe = dacu_part::router::Router::new(1);
    for line in String::from_utf8(buf).unwrap().lines() {
        let Ok(mut c) = parse_line(line) else { continue };
        if let Command::CreateCoupon(k) = &mut c {
            k.stock = stock;
        }
        // What partitions take, as the router says.
        if probe.route(&c, true).is_err() {
            continue;
        }
        // Now and then the same order id again, as a shelf order (another partition than
        // its session's, most often): the single writer refuses it as a duplicate.
        let again = match &c {
            Command::OrderPaid(k) if k.session.is_some() && out.len() % 97 == 0 => {
                let mut k = k.clone();
                k.session = None;
                Some(Command::OrderPaid(k))
            }
            _ => None,
        };
        // A settlement once the first phase is over (its boards close on 11-04).
        if !settled_mid && c.at().is_some_and(|t| t >= mid.at().unwrap()) {
            out.push(mid.clone());
            settled_mid = true;
        }
        out.push(c);
        out.extend(again);
    }
    // In time order (a definition without a time first): the order a projection merges
    // the partitions' logs in (docs/scale-out.md, "The projection").
    out.sort_by_key(|c| c.at().unwrap_or(dacu_core::Ts(i64::MIN)));
    // Settlement after the festival: every contest closed and paid.
    out.push(parse_line(r#"{"type":"settle","id":"final","at":"2021-11-08T00:00:00+08:00"}"#).unwrap());
    out
}

#[test]
fn the_simulated_festivals_rooms_orders_and_claims_are_decided_alike_on_1_2_and_4_partitions() {
    let f116 = Arc::new(festival::parse(include_str!("../../../festivals/kuaishou-116-2021.toml")).expect("valid"));
    for (f, seed) in [(mini(), 7), (f116, 116)] {
        festival_alike(&f, &simulated(&f, seed, 40));
    }
}

fn festival_alike(f: &Arc<Festival>, commands: &[Command]) {
    let claims = commands.iter().filter(|c| matches!(c, Command::ClaimCoupon(_))).count();
    assert!(claims > 200, "too few claims to mean anything: {claims}");
    let entries = commands.iter().filter(|c| matches!(c, Command::ViewerEnter(_))).count();
    assert!(entries > 5_000, "too few viewers to mean anything: {entries}");
    let settles = commands.iter().filter(|c| matches!(c, Command::Settle(_))).count();
    assert!(settles >= 2, "the settlements during the festival and after it: {settles}");
    let enrolments = commands.iter().filter(|c| matches!(c, Command::Enroll(_))).count();
    assert!(enrolments > 10, "too few contest entrants to mean anything: {enrolments}");
    let refunds = commands.iter().filter(|c| matches!(c, Command::Refund(_))).count();
    assert!(refunds > 50, "too few refunds to mean anything: {refunds}");
    let mut seen = BTreeSet::new();
    for n in [1, 2, 4] {
        let (claimed, sold_out) = assert_same(f, commands, n);
        assert!(claimed > 0 && sold_out > 0, "the run must both claim and run out: {claimed} / {sold_out}");
        seen.insert((claimed, sold_out));
    }
    assert_eq!(seen.len(), 1);
}

#[test]
fn a_partitioned_command_outside_the_built_set_is_refused_and_changes_nothing() {
    let f = mini();
    let mut parts = Partitioned::new(f, 2).unwrap();
    let c = parse_line(r#"{"type":"tick","id":"t1","at":"2021-11-05T20:00:00+08:00"}"#).unwrap();
    let e = parts.execute(&c).unwrap_err();
    assert!(e.0.contains("`tick` is not partitioned yet"), "{e}");
    // A coupon for followers: follows recorded by a room's interactions live in the
    // room's partition, not the user's, so the audience cannot be checked there yet.
    parts.execute(&parse_line(SET_UP[0]).unwrap()).unwrap().unwrap();
    let before: Vec<u64> = parts.parts.iter().map(|p| p.engine().state().events).collect();
    let e = parts.execute(&parse_line(&coupon(0, 5, 1, true)).unwrap()).unwrap_err();
    assert!(e.0.contains("`create_coupon` is not partitioned yet"), "{e}");
    assert_eq!(parts.parts.iter().map(|p| p.engine().state().events).collect::<Vec<_>>(), before);
    assert_eq!(before, [1, 1], "a definition is in every partition");
    assert!(Partitioned::new(mini(), 0).is_err());
    assert!(Partitioned::new(mini(), 65).is_err());
}

const SET_UP: &[&str] = &[
    r#"{"type":"register_anchor","anchor":"a1","name":"A","followers":10}"#,
    r#"{"type":"register_merchant","merchant":"m1","name":"Beauty","brand_tier":"ska","category":"beauty"}"#,
];

fn coupon(i: usize, stock: u8, per_user: u8, followers: bool) -> String {
    let audience = if followers { r#","audience":"followers","anchor":"a1""# } else { "" };

    format!(
        r#"{{"type":"create_coupon","id":"cc{i}","coupon":"c{i}","issuer":"platform","scope":"platform","off":100,"stock":{stock},"per_user":{per_user}{audience},"claim_from":"2021-11-02T00:00:00+08:00","claim_until":"2021-11-06T00:00:00+08:00","valid_days":1,"at":"2021-11-01T00:00:00+08:00"}}"#
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any mix of claims, follows and resends, some outside the claim window: the same
    /// answers and claims on 1 to 4 partitions as on one engine.
    #[test]
    fn any_claims_are_decided_alike_on_any_number_of_partitions(
        coupons in prop::collection::vec((1u8..20, 1u8..4), 1..4),
        ops in prop::collection::vec((0u8..4, 0usize..4, 0u16..40, 0u8..5), 1..300),
        n in 1u32..5,
    ) {
        let mut lines: Vec<String> = SET_UP.iter().map(|s| s.to_string()).collect();
        for (i, (stock, per_user)) in coupons.iter().enumerate() {
            lines.push(coupon(i, *stock, *per_user, false));
        }
        let mut last_claim: Option<String> = None;
        for (k, (op, c, user, day)) in ops.iter().enumerate() {
            let at = format!("2021-11-0{}T10:00:00+08:00", 1 + day);
            let line = match (op, &last_claim) {
                (0, _) => format!(r#"{{"type":"follow","id":"f{k}","anchor":"a1","user":"u{user}","at":"{at}"}}"#),
                // A resend: the last claim again, word for word.
                (1, Some(l)) => l.clone(),
                _ => format!(r#"{{"type":"claim_coupon","id":"k{k}","coupon":"c{}","user":"u{user}","at":"{at}"}}"#, c % coupons.len()),
            };
            if line.contains("claim_coupon") {
                last_claim = Some(line.clone());
            }
            lines.push(line);
        }
        let commands: Vec<Command> = lines.iter().map(|l| parse_line(l).unwrap()).collect();
        assert_same(&mini(), &commands, n);
    }
}
