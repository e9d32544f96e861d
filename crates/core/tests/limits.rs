//! Regression tests of "money never wraps": each repro that once wrapped a
//! total (or let settlement pay past a budget) is refused with `limit_exceeded` now, and the
//! refusal changes nothing.

use dacu_core::digest::digest;
use dacu_core::festival;
use dacu_core::limits::{ORDER_FEN, TOTAL};
use dacu_core::{parse_line, Code, Engine};
use std::sync::Arc;

/// A year-long festival with one anchor contest paying `amount_fen` to ranks 1–2 out of a
/// ¥100,000 budget.
fn festival_toml(amount_fen: &str) -> String {
    format!(
        r#"
[festival]
id = "limits"
name_zh = "界限"
name_en = "Limits"
start = 2021-01-01
end = 2022-01-01

[registration]
opens = 2021-01-01
closes = 2022-01-01

[[tracks]]
id = "anchor"
role = "anchor"
name_zh = "主播"
name_en = "Anchors"
budget_fen = 10_000_000

[[reward_tables]]
id = "r"

[[reward_tables.bands]]
rank_from = 1
rank_to = 2
items = [{{ kind = "cash", amount_fen = {amount_fen} }}]

[[contests]]
id = "race"
name_zh = "排位赛"
name_en = "Race"
track = "anchor"
metric = "gmv"
start = 2021-01-01
end = 2021-12-01
reward_table = "r"
"#
    )
}

fn engine(amount_fen: &str) -> Engine {
    Engine::new(Arc::new(festival::parse(&festival_toml(amount_fen)).expect("valid")))
}

fn ok(e: &mut Engine, line: &str) {
    let c = parse_line(line).unwrap_or_else(|r| panic!("{line}: {r}"));
    e.execute(&c, &mut Vec::new()).unwrap_or_else(|r| panic!("{line}: {r}"));
}

/// Executes a line that must be refused with `code`; the state must not change.
fn refused(e: &mut Engine, line: &str, code: Code) -> String {
    let before = digest(e.state());
    let mut out = Vec::new();
    let r = parse_line(line).and_then(|c| e.execute(&c, &mut out)).expect_err(line);
    assert_eq!(r.code, code, "{}", r.message);
    assert!(out.is_empty(), "a refused command left events behind");
    assert_eq!(digest(e.state()), before, "a refusal changed the state");
    r.message
}

const AT: &str = "2021-06-01T20:00:00+08:00";

fn setup(e: &mut Engine) {
    ok(e, r#"{"type":"register_merchant","merchant":"m1","name":"M","brand_tier":"ska","category":"c"}"#);
    ok(e, r#"{"type":"register_anchor","anchor":"a1","name":"A","followers":1}"#);
    ok(e, r#"{"type":"register_anchor","anchor":"a2","name":"B","followers":1}"#);
    ok(e, &format!(r#"{{"type":"live_start","session":"s1","anchor":"a1","at":"{AT}"}}"#));
    ok(e, &format!(r#"{{"type":"live_start","session":"s2","anchor":"a2","at":"{AT}"}}"#));
}

fn order(id: &str, session: &str, lines: &[(String, i64, i64, i64)]) -> String {
    let lines: Vec<String> = lines
        .iter()
        .map(|(sku, qty, price, paid)| format!(r#"{{"sku":"{sku}","qty":{qty},"price":{price},"paid":{paid}}}"#))
        .collect();
    format!(
        r#"{{"type":"order_paid","order":"{id}","user":"u1","merchant":"m1","channel":"live","session":"{session}","lines":[{}],"at":"{AT}"}}"#,
        lines.join(",")
    )
}

#[test]
fn an_order_of_a_thousand_maximal_lines_no_longer_wraps_the_gmv() {
    // Each line is inside the line limits (qty 10^6 × price 10^10, paid 10^16); together
    // they once came to 10^19 fen and GMV read −8,446,744,073,709,551,616.
    let mut e = engine("1000");
    setup(&mut e);
    let lines: Vec<_> =
        (0..1000).map(|i| (format!("k{i}"), 1_000_000, 10_000_000_000, 10_000_000_000_000_000)).collect();
    let m = refused(&mut e, &order("o1", "s1", &lines), Code::LimitExceeded);
    assert!(m.contains("at most 10000000000000 fen"), "{m}");
    assert_eq!(e.state().total.gmv().0, 0);
}

#[test]
fn orders_of_ten_quadrillion_fen_no_longer_wrap_the_festival_total() {
    // About 923 orders of 10^16 once wrapped the festival's GMV: each is refused now.
    let mut e = engine("1000");
    setup(&mut e);
    let big = vec![("k".to_string(), 1_000_000, 10_000_000_000, 10_000_000_000_000_000)];
    refused(&mut e, &order("o1", "s1", &big), Code::LimitExceeded);
    // The largest accepted order is 10^13; a hundred of them fill the 10^15 festival bound
    // exactly, and the next is refused, naming what is left.
    let max = vec![("k".to_string(), 1000, 10_000_000_000, ORDER_FEN)];
    for i in 0..100 {
        ok(&mut e, &order(&format!("o{i}"), if i % 2 == 0 { "s1" } else { "s2" }, &max));
    }
    assert_eq!(e.state().total.gmv().0, TOTAL);
    let m = refused(&mut e, &order("o100", "s1", &[("k".into(), 1, 1, 1)]), Code::LimitExceeded);
    assert!(m.contains("gross GMV") && m.contains("at most 0 more"), "{m}");
    // Every total the orders counted toward stayed positive and exact.
    let a1 = e.state().anchor("a1").unwrap();
    assert_eq!(a1.stats.gmv().0, TOTAL / 2);
    assert_eq!(e.state().merchant("m1").unwrap().stats.gmv().0, TOTAL);
}

#[test]
fn the_largest_checkouts_no_longer_wrap_a_coupons_gmv() {
    let mut e = engine("1000");
    setup(&mut e);
    let coupon = r#"{"type":"create_coupon","id":"c1","coupon":"cp","issuer":"platform","scope":"platform","percent_bp":100,"stock":100,"per_user":100,"claim_from":"2021-01-01T00:00:00+08:00","claim_until":"2021-12-01T00:00:00+08:00","valid_days":30,"at":"2021-06-01T00:00:00+08:00"}"#;
    ok(&mut e, coupon);
    ok(&mut e, &format!(r#"{{"type":"claim_coupon","id":"cl1","coupon":"cp","user":"u1","at":"{AT}"}}"#));
    // Ten carts of 100 lines × 10^6 × 10^10 once each added ~10^18 to the coupon's GMV.
    let lines: Vec<String> =
        (0..100).map(|i| format!(r#"{{"merchant":"m1","sku":"k{i}","qty":1000000,"price":10000000000}}"#)).collect();
    let cart = format!(
        r#"{{"type":"checkout","id":"co1","checkout":"c1","user":"u1","channel":"shelf","lines":[{}],"at":"{AT}"}}"#,
        lines.join(",")
    );
    let m = refused(&mut e, &cart, Code::LimitExceeded);
    assert!(m.contains("list total"), "{m}");
    // A cart at the bound is accepted and counts once toward the coupon's GMV.
    let cart = format!(
        r#"{{"type":"checkout","id":"co2","checkout":"c2","user":"u1","channel":"shelf","lines":[{{"merchant":"m1","sku":"k","qty":1000,"price":10000000000}}],"at":"{AT}"}}"#
    );
    ok(&mut e, &cart);
    ok(&mut e, &format!(r#"{{"type":"pay","id":"p2","checkout":"c2","at":"{AT}"}}"#));
    let cp = &e.state().market.coupons[0];
    assert_eq!(cp.gmv.0, ORDER_FEN - ORDER_FEN / 100);
}

#[test]
fn checkout_discounts_cannot_pass_their_festival_bound() {
    let mut e = engine("1000");
    setup(&mut e);
    // A price cut of the whole price: every checkout of 1000 units takes 10^13 fen off.
    ok(
        &mut e,
        r#"{"type":"create_price_cut","id":"pc","cut":"cut","merchant":"m1","sku":"k","off":10000000000,"start":"2021-01-01T00:00:00+08:00","end":"2021-12-01T00:00:00+08:00","at":"2021-06-01T00:00:00+08:00"}"#,
    );
    let cart = |n: u32| {
        format!(
            r#"{{"type":"checkout","id":"co{n}","checkout":"c{n}","user":"u1","channel":"shelf","lines":[{{"merchant":"m1","sku":"k","qty":1000,"price":10000000000}}],"at":"{AT}"}}"#
        )
    };
    for n in 0..100 {
        ok(&mut e, &cart(n));
    }
    assert_eq!(e.state().market.totals.discounts_fen, TOTAL);
    refused(&mut e, &cart(100), Code::LimitExceeded);
    // Cancelling a checkout gives its discount back to the bound.
    ok(&mut e, &format!(r#"{{"type":"cancel","id":"x0","checkout":"c0","at":"{AT}"}}"#));
    ok(&mut e, &cart(100));
}

#[test]
fn lottery_prizes_offered_cannot_pass_their_festival_bound() {
    let mut e = engine("1000");
    setup(&mut e);
    let lottery = |n: u32| {
        format!(
            r#"{{"type":"create_lottery","id":"l{n}","lottery":"lot{n}","session":"s1","issuer":"platform","prize":{{"kind":"cash","name":"cash","value":10000000000}},"winners":10000,"draw_at":"2021-06-02T00:00:00+08:00","secret":"00112233445566778899aabbccddeeff","at":"{AT}"}}"#
        )
    };
    // 10,000 winners × ¥100,000,000 = 10^14 per lottery: ten fill the bound.
    for n in 0..10 {
        ok(&mut e, &lottery(n));
    }
    let m = refused(&mut e, &lottery(10), Code::LimitExceeded);
    assert!(m.contains("prize value"), "{m}");
}

#[test]
fn a_sessions_watch_time_cannot_pass_its_bound() {
    let mut e = engine("1000");
    setup(&mut e);
    ok(&mut e, r#"{"type":"register_anchor","anchor":"a3","name":"C","followers":1}"#);
    ok(&mut e, r#"{"type":"live_start","session":"long","anchor":"a3","at":"2021-01-01T00:00:00+08:00"}"#);
    // Each stay is almost a year (3.1 × 10^10 ms): 32,000 of them pass 10^15 ms.
    let (enter, leave) = ("2021-01-01T00:00:00+08:00", "2021-12-31T23:59:59+08:00");
    let mut refused_at = None;
    for u in 0..40_000 {
        ok(&mut e, &format!(r#"{{"type":"viewer_enter","session":"long","user":"v{u}","at":"{enter}"}}"#));
        let line = format!(r#"{{"type":"viewer_leave","session":"long","user":"v{u}","at":"{leave}"}}"#);
        let c = parse_line(&line).unwrap();
        if let Err(r) = e.execute(&c, &mut Vec::new()) {
            assert_eq!(r.code, Code::LimitExceeded, "{}", r.message);
            refused_at = Some(u);
            break;
        }
    }
    let s = e.state().session("long").unwrap();
    assert!(refused_at.is_some_and(|u| u > 30_000), "{refused_at:?}");
    assert!(s.watch_ms <= TOTAL && s.watch_ms > TOTAL - 40_000_000_000, "{}", s.watch_ms);
    // Ending the session would count the open stay past the bound too.
    refused(&mut e, r#"{"type":"live_end","session":"long","at":"2021-12-31T23:59:59+08:00"}"#, Code::LimitExceeded);
}

#[test]
fn a_festival_file_amount_past_its_bound_fails_the_check_with_its_position() {
    // `amount_fen = 5_000_000_000_000_000_000` once passed `dacu check`.
    let problems = festival::parse(&festival_toml("5_000_000_000_000_000_000")).expect_err("out of bounds");
    assert_eq!(problems.len(), 1, "{problems:?}");
    let p = &problems[0];
    assert!(p.message.contains("at most 1000000000000000 fen"), "{}", p.message);
    let line = festival_toml("x").lines().position(|l| l.contains("amount_fen = x")).unwrap() + 1;
    assert_eq!(p.line, line);
    // The tracks' budgets together are bounded too.
    let two = festival_toml("1000").replace(
        "budget_fen = 10_000_000",
        "budget_fen = 600_000_000_000_000\n\n[[tracks]]\nid = \"b\"\nrole = \"merchant\"\nname_zh = \"b\"\nname_en = \"b\"\nbudget_fen = 600_000_000_000_000",
    );
    let problems = festival::parse(&two).expect_err("budgets too large together");
    assert!(problems.iter().any(|p| p.message.contains("add up to 1200000000000000")), "{problems:?}");
}

fn settle_two_winners(e: &mut Engine) -> Result<(), dacu_core::Rejection> {
    setup(e);
    ok(e, &order("o1", "s1", &[("k".into(), 1, 500, 500)]));
    ok(e, &order("o2", "s2", &[("k".into(), 1, 400, 400)]));
    let c = parse_line(r#"{"type":"settle","id":"st1","at":"2021-12-02T00:00:00+08:00"}"#).unwrap();
    e.execute(&c, &mut Vec::new())
}

#[test]
fn settlement_of_claims_far_above_the_budget_pays_exactly_the_budget() {
    // Two claims of ¥4 trillion against a ¥100,000 budget: shared out to the fen.
    let mut e = engine("400_000_000_000_000");
    settle_two_winners(&mut e).expect("settles");
    let paid = e.state().settlement.paid_fen["anchor"];
    assert_eq!(paid, 10_000_000);
    assert!(e.state().settlement.lines.iter().all(|l| l.amount > 0 && l.amount <= 5_000_000));
}

#[test]
fn a_settlement_whose_claims_pass_the_ledger_bound_is_refused_and_changes_nothing() {
    // Two claims at the file's bound (10^15 each) add up past the ledger's 10^15.
    let mut e = engine("1_000_000_000_000_000");
    let r = settle_two_winners(&mut e).expect_err("refused");
    assert_eq!(r.code, Code::LimitExceeded, "{}", r.message);
    assert!(r.message.contains("claimed total in fen"), "{}", r.message);
    assert!(e.state().settlement.lines.is_empty() && e.state().settlement.runs.is_empty());
}

#[test]
fn settlement_never_pays_past_the_budget_even_when_claims_pass_64_bits() {
    // The repro: `amount_fen = 5·10^18` for two winners once added up to a wrapped
    // (negative) claim total, so nothing was scaled and 2 × 5·10^18 was paid against
    // ¥100,000. A file that says so no longer loads; a festival built around the loader
    // settles without wrapping: it refuses, and pays nothing.
    let mut f = festival::parse(&festival_toml("1000")).expect("valid");
    f.reward_tables[0].bands[0].items[0].amount_fen = Some(5_000_000_000_000_000_000);
    let mut e = Engine::new(Arc::new(f));
    let r = settle_two_winners(&mut e).expect_err("refused");
    assert_eq!(r.code, Code::LimitExceeded, "{}", r.message);
    assert!(e.state().settlement.paid_fen.values().all(|&p| (0..=10_000_000).contains(&p)));
    assert!(e.state().settlement.lines.is_empty());
}
