//! The marketing tools through the engine: hand-computed scenarios (docs/checkout.md has
//! the same numbers worked out) and property tests of stock, budgets and red packets.

use dacu_core::market::{CheckoutState, GroupState, HeldState};
use dacu_core::promo::lottery;
use dacu_core::{digest::digest, festival, parse_line, Code, Engine, Event};
use proptest::prelude::*;
use std::sync::Arc;

fn engine() -> Engine {
    let f = festival::parse(include_str!("../../../festivals/example-mini.toml")).expect("valid");
    Engine::new(Arc::new(f))
}

fn run(e: &mut Engine, line: &str) -> Result<Vec<Event>, dacu_core::Rejection> {
    let c = parse_line(line)?;
    let mut out = Vec::new();
    e.execute(&c, &mut out)?;
    Ok(out)
}

fn ok(e: &mut Engine, lines: &[&str]) {
    for l in lines {
        run(e, l).unwrap_or_else(|r| panic!("{l}: {r}"));
    }
}

fn rejected(e: &mut Engine, line: &str, code: Code) -> String {
    let before = digest(e.state());
    let r = run(e, line).expect_err(line);
    assert_eq!(r.code, code, "{line}: {}", r.message);
    assert_eq!(digest(e.state()), before, "a rejection changed the state");
    r.message
}

const SETUP: &[&str] = &[
    r#"{"type":"register_merchant","merchant":"m1","name":"Beauty","brand_tier":"ska","category":"beauty"}"#,
    r#"{"type":"register_merchant","merchant":"m2","name":"Food","brand_tier":"ka","category":"food"}"#,
    r#"{"type":"register_anchor","anchor":"a1","name":"A","followers":50000}"#,
    r#"{"type":"live_start","session":"s1","anchor":"a1","at":"2021-11-05T20:00:00+08:00"}"#,
];

#[test]
fn coupon_stock_limits_and_idempotent_ids() {
    let mut e = engine();
    ok(&mut e, SETUP);
    ok(
        &mut e,
        &[
            r#"{"type":"create_coupon","id":"c-1","coupon":"p10","issuer":"platform","scope":"platform","threshold":10000,"off":1000,"stock":2,"claim_from":"2021-11-01T00:00:00+08:00","claim_until":"2021-11-08T00:00:00+08:00","valid_days":3,"at":"2021-11-01T00:00:00+08:00"}"#,
            r#"{"type":"claim_coupon","id":"k-1","coupon":"p10","user":"u1","at":"2021-11-05T10:00:00+08:00"}"#,
        ],
    );
    // The same id again: accepted, nothing more happens.
    let before = digest(e.state());
    assert!(run(
        &mut e,
        r#"{"type":"claim_coupon","id":"k-1","coupon":"p10","user":"u1","at":"2021-11-05T10:00:00+08:00"}"#
    )
    .unwrap()
    .is_empty());
    assert_eq!(digest(e.state()), before);
    rejected(&mut e, r#"{"type":"tick","id":"k-1","at":"2021-11-05T10:00:00+08:00"}"#, Code::IdConflict);
    // The original commands take an optional id too: a resent order is recognised.
    let order = r#"{"type":"order_paid","id":"o-1","order":"o1","user":"u1","merchant":"m1","channel":"shelf","lines":[{"sku":"a","qty":1,"price":100,"paid":100}],"at":"2021-11-05T10:00:00+08:00"}"#;
    assert!(matches!(run(&mut e, order).unwrap()[0], Event::Identified { .. }));
    let before = digest(e.state());
    assert!(run(&mut e, order).unwrap().is_empty());
    assert_eq!(digest(e.state()), before);
    assert_eq!(e.state().total.gmv().0, 100);
    rejected(
        &mut e,
        r#"{"type":"live_end","id":"o-1","session":"s1","at":"2021-11-05T21:00:00+08:00"}"#,
        Code::IdConflict,
    );
    rejected(
        &mut e,
        r#"{"type":"claim_coupon","id":"k-2","coupon":"p10","user":"u1","at":"2021-11-05T10:00:00+08:00"}"#,
        Code::LimitReached,
    );
    ok(&mut e, &[r#"{"type":"claim_coupon","id":"k-3","coupon":"p10","user":"u2","at":"2021-11-05T10:00:00+08:00"}"#]);
    rejected(
        &mut e,
        r#"{"type":"claim_coupon","id":"k-4","coupon":"p10","user":"u3","at":"2021-11-05T10:00:00+08:00"}"#,
        Code::SoldOut,
    );
    rejected(
        &mut e,
        r#"{"type":"claim_coupon","id":"k-5","coupon":"nope","user":"u3","at":"2021-11-05T10:00:00+08:00"}"#,
        Code::UnknownPromotion,
    );
    // Validity: 3 days from the claim.
    let st = e.state();
    let u1 = st.users.get("u1").unwrap();
    let held = &st.market.wallets[&u1].coupons[0];
    assert_eq!(held.until.0 - held.from.0, 3 * 86_400_000);
}

/// The worked example of docs/checkout.md.
const CHECKOUT_SETUP: &[&str] = &[
    r#"{"type":"create_fullcut","id":"f-1","fullcut":"m1-tiers","scope":"store","merchant":"m1","tiers":[[19900,2000],[29900,4000]],"start":"2021-11-01T00:00:00+08:00","end":"2021-11-08T00:00:00+08:00","at":"2021-11-01T00:00:00+08:00"}"#,
    r#"{"type":"create_fullcut","id":"f-2","fullcut":"cross300","scope":"cross_store","every":30000,"off":4000,"platform_share_bp":5000,"start":"2021-11-01T00:00:00+08:00","end":"2021-11-08T00:00:00+08:00","at":"2021-11-01T00:00:00+08:00"}"#,
    r#"{"type":"create_coupon","id":"c-1","coupon":"p10","issuer":"platform","scope":"platform","threshold":10000,"off":1000,"stock":100,"claim_from":"2021-11-01T00:00:00+08:00","claim_until":"2021-11-08T00:00:00+08:00","valid_days":3,"at":"2021-11-01T00:00:00+08:00"}"#,
    r#"{"type":"claim_coupon","id":"k-1","coupon":"p10","user":"u1","at":"2021-11-05T10:00:00+08:00"}"#,
];

const CART: &str =
    r#"[{"merchant":"m1","sku":"a","qty":1,"price":25000},{"merchant":"m2","sku":"b","qty":1,"price":10000}]"#;

#[test]
fn checkout_pay_refund_worked_example() {
    let mut e = engine();
    ok(&mut e, SETUP);
    ok(&mut e, CHECKOUT_SETUP);
    let line = format!(
        r#"{{"type":"checkout","id":"x-1","checkout":"ck1","user":"u1","channel":"shelf","lines":{CART},"at":"2021-11-05T11:00:00+08:00"}}"#
    );
    ok(&mut e, &[&line]);
    let co = &e.state().market.checkouts[0];
    let q = &co.quote;
    assert_eq!(q.list_total, 35_000);
    assert_eq!(q.pay_total, 28_000);
    assert_eq!(q.pay, vec![19_515, 8_485]);
    let amounts: Vec<(&str, i64, &[i64])> =
        q.discounts.iter().map(|d| (d.promo.as_str(), d.amount, d.lines.as_slice())).collect();
    assert_eq!(
        amounts,
        vec![
            ("m1-tiers", 2_000, &[2_000, 0][..]),
            ("cross300", 4_000, &[2_788, 1_212][..]),
            ("p10", 1_000, &[697, 303][..])
        ]
    );
    let cross = &q.discounts[1];
    assert_eq!(
        cross.bearers,
        vec![("platform".to_string(), 2_000), ("merchant:m1".to_string(), 1_394), ("merchant:m2".to_string(), 606)]
    );
    let u1 = e.state().users.get("u1").unwrap();
    assert_eq!(e.state().market.wallets[&u1].coupons[0].state, HeldState::Reserved(0));
    // Paying counts the buyer-paid amounts as GMV, one order per merchant.
    ok(&mut e, &[r#"{"type":"pay","id":"x-2","checkout":"ck1","at":"2021-11-05T11:05:00+08:00"}"#]);
    let st = e.state();
    assert_eq!(st.merchant("m1").unwrap().stats.gmv().0, 19_515);
    assert_eq!(st.merchant("m2").unwrap().stats.gmv().0, 8_485);
    assert_eq!(st.market.coupons[0].redeemed, 1);
    assert_eq!(st.market.fullcuts[1].budget.spent.0, 4_000);
    rejected(
        &mut e,
        r#"{"type":"pay","id":"x-3","checkout":"ck1","at":"2021-11-05T11:06:00+08:00"}"#,
        Code::CheckoutNotOpen,
    );
    // Refund m2's order fully: its shares of the cross-store 满减 and the coupon return;
    // the coupon stays used because m1's order still stands.
    ok(
        &mut e,
        &[r#"{"type":"refund","order":"ck1/m2","amount":8485,"refund_id":"r1","at":"2021-11-06T10:00:00+08:00"}"#],
    );
    let st = e.state();
    assert_eq!(st.market.checkouts[0].returned, vec![0, 1_212, 303]);
    assert_eq!(st.market.fullcuts[1].budget.spent.0, 4_000 - 1_212);
    assert_eq!(st.market.wallets[&u1].coupons[0].state, HeldState::Redeemed(0));
    // Half of m1's order: half of each of its shares (rounded down, cumulatively).
    ok(
        &mut e,
        &[r#"{"type":"refund","order":"ck1/m1","amount":9757,"refund_id":"r2","at":"2021-11-06T10:00:00+08:00"}"#],
    );
    assert_eq!(e.state().market.checkouts[0].returned, vec![999, 1_212 + 1_393, 303 + 348]);
    ok(
        &mut e,
        &[r#"{"type":"refund","order":"ck1/m1","amount":9758,"refund_id":"r3","at":"2021-11-06T10:00:00+08:00"}"#],
    );
    let st = e.state();
    let returned = &st.market.checkouts[0].returned;
    assert_eq!(returned, &vec![2_000, 4_000, 1_000], "a full refund returns every discount exactly");
    assert_eq!(st.market.wallets[&u1].coupons[0].state, HeldState::Available, "returned to the wallet");
    assert_eq!(st.market.fullcuts[1].budget.spent.0, 0);
}

#[test]
fn cancel_and_payment_timeout_release_everything() {
    let mut e = engine();
    ok(&mut e, SETUP);
    ok(&mut e, CHECKOUT_SETUP);
    let ck = |id: &str, ck: &str| {
        format!(
            r#"{{"type":"checkout","id":"{id}","checkout":"{ck}","user":"u1","channel":"shelf","lines":{CART},"at":"2021-11-05T11:00:00+08:00"}}"#
        )
    };
    ok(&mut e, &[&ck("x-1", "ck1")]);
    // The coupon is held by ck1: a second checkout cannot use it.
    ok(&mut e, &[&ck("x-2", "ck2")]);
    assert!(e.state().market.checkouts[1].quote.discounts.iter().all(|d| d.promo != "p10"));
    ok(&mut e, &[r#"{"type":"cancel","id":"x-3","checkout":"ck2","at":"2021-11-05T11:01:00+08:00"}"#]);
    // 900 s to pay: too late is refused, and a tick releases it.
    rejected(
        &mut e,
        r#"{"type":"pay","id":"x-4","checkout":"ck1","at":"2021-11-05T11:15:01+08:00"}"#,
        Code::PaymentTimeout,
    );
    let evs = run(&mut e, r#"{"type":"tick","id":"t-1","at":"2021-11-05T12:00:00+08:00"}"#).unwrap();
    assert!(matches!(evs[0], Event::CheckoutReleased { .. }), "{evs:?}");
    let st = e.state();
    assert!(matches!(st.market.checkouts[0].state, CheckoutState::Released(..)));
    let u1 = st.users.get("u1").unwrap();
    assert_eq!(st.market.wallets[&u1].coupons[0].state, HeldState::Available);
    assert_eq!(st.market.fullcuts[1].budget.reserved.0, 0);
    assert_eq!(st.total.gmv().0, 0);
}

#[test]
fn group_deals_form_or_fail_and_refund() {
    let mut e = engine();
    ok(&mut e, SETUP);
    ok(
        &mut e,
        &[
            r#"{"type":"create_group_deal","id":"g-0","deal":"d1","merchant":"m2","sku":"rice","price":5000,"group_price":3000,"size":3,"start":"2021-11-01T00:00:00+08:00","end":"2021-11-08T00:00:00+08:00","budget":8000,"at":"2021-11-01T00:00:00+08:00"}"#,
            r#"{"type":"open_group","id":"g-1","group":"G1","deal":"d1","user":"u1","order":"o1","at":"2021-11-05T10:00:00+08:00"}"#,
            r#"{"type":"join_group","id":"g-2","group":"G1","user":"u2","order":"o2","at":"2021-11-05T11:00:00+08:00"}"#,
        ],
    );
    assert_eq!(e.state().total.gmv().0, 0, "no GMV before the group forms");
    rejected(
        &mut e,
        r#"{"type":"join_group","id":"g-3","group":"G1","user":"u2","order":"o3","at":"2021-11-05T11:00:00+08:00"}"#,
        Code::LimitReached,
    );
    rejected(
        &mut e,
        r#"{"type":"order_paid","order":"o2","user":"u9","merchant":"m2","channel":"shelf","lines":[{"sku":"x","qty":1,"price":1,"paid":1}],"at":"2021-11-05T11:00:00+08:00"}"#,
        Code::DuplicateOrder,
    );
    ok(
        &mut e,
        &[r#"{"type":"join_group","id":"g-4","group":"G1","user":"u3","order":"o3","at":"2021-11-05T12:00:00+08:00"}"#],
    );
    let st = e.state();
    assert!(matches!(st.market.groups[0].state, GroupState::Formed(_)));
    assert_eq!(st.total.gmv().0, 9_000);
    assert_eq!(st.market.deals[0].budget.spent.0, 6_000);
    // Budget 8,000: 2,000 left, one member's subsidy; a group of three cannot open.
    rejected(
        &mut e,
        r#"{"type":"open_group","id":"g-5","group":"G2","deal":"d1","user":"u4","order":"o4","at":"2021-11-05T13:00:00+08:00"}"#,
        Code::BudgetExhausted,
    );
    ok(
        &mut e,
        &[
            r#"{"type":"create_group_deal","id":"g-6","deal":"d2","merchant":"m2","sku":"oil","price":5000,"group_price":3000,"size":2,"start":"2021-11-01T00:00:00+08:00","end":"2021-11-08T00:00:00+08:00","at":"2021-11-01T00:00:00+08:00"}"#,
        ],
    );
    ok(
        &mut e,
        &[
            r#"{"type":"open_group","id":"g-7","group":"G2","deal":"d2","user":"u4","order":"o4","at":"2021-11-05T13:00:00+08:00"}"#,
        ],
    );
    // 24 h later the group fails: the member's money goes back, nothing counted.
    let evs = run(&mut e, r#"{"type":"tick","id":"t-1","at":"2021-11-06T13:00:00+08:00"}"#).unwrap();
    assert!(matches!(&evs[0], Event::GroupFailed { refunded: 3000, .. }), "{evs:?}");
    let st = e.state();
    assert_eq!(st.total.gmv().0, 9_000);
    assert_eq!(st.market.deals[1].budget.reserved.0, 0);
    assert_eq!(st.market.deals[1].failed, 1);
    // The failed group's member may open another group of the deal.
    ok(
        &mut e,
        &[
            r#"{"type":"open_group","id":"g-8","group":"G3","deal":"d2","user":"u4","order":"o5","at":"2021-11-07T13:00:00+08:00"}"#,
        ],
    );
    // An empty cart is refused, not a crash.
    rejected(
        &mut e,
        r#"{"type":"checkout","id":"x-0","checkout":"ck0","user":"u1","channel":"shelf","lines":[],"at":"2021-11-05T11:00:00+08:00"}"#,
        Code::EmptyOrder,
    );
}

#[test]
fn red_packets_need_eligibility_and_always_add_up() {
    let mut e = engine();
    ok(&mut e, SETUP);
    for u in ["u1", "u2", "u3", "u4"] {
        ok(
            &mut e,
            &[&format!(r#"{{"type":"viewer_enter","session":"s1","user":"{u}","at":"2021-11-05T20:01:00+08:00"}}"#)],
        );
    }
    ok(
        &mut e,
        &[
            r#"{"type":"create_red_packet","id":"p-1","packet":"RP1","session":"s1","issuer":"anchor:a1","total":1000,"count":3,"split":"double_mean","seed":11273820869629918004,"passphrase":"116快乐","opens_at":"2021-11-05T20:05:00+08:00","expires_at":"2021-11-05T21:00:00+08:00","at":"2021-11-05T20:02:00+08:00"}"#,
        ],
    );
    rejected(
        &mut e,
        r#"{"type":"grab_red_packet","id":"g-1","packet":"RP1","user":"u1","at":"2021-11-05T20:04:00+08:00"}"#,
        Code::PromotionNotActive,
    );
    rejected(
        &mut e,
        r#"{"type":"grab_red_packet","id":"g-1","packet":"RP1","user":"u1","at":"2021-11-05T20:06:00+08:00"}"#,
        Code::NotEligible,
    );
    for u in ["u1", "u2", "u3", "u4"] {
        ok(
            &mut e,
            &[&format!(
                r#"{{"type":"interaction","session":"s1","user":"{u}","kind":"comment","text":"116快乐","at":"2021-11-05T20:03:00+08:00"}}"#
            )],
        );
    }
    for (i, u) in ["u1", "u2", "u3"].iter().enumerate() {
        ok(
            &mut e,
            &[&format!(
                r#"{{"type":"grab_red_packet","id":"g-{i}","packet":"RP1","user":"{u}","at":"2021-11-05T20:06:00+08:00"}}"#
            )],
        );
    }
    rejected(
        &mut e,
        r#"{"type":"grab_red_packet","id":"g-9","packet":"RP1","user":"u4","at":"2021-11-05T20:06:00+08:00"}"#,
        Code::SoldOut,
    );
    let p = &e.state().market.packets[0];
    assert_eq!(p.granted.0, 1000);
    assert_eq!(
        p.shares,
        dacu_core::promo::redpacket::split(
            dacu_core::Fen(1000),
            3,
            dacu_core::promo::redpacket::Method::DoubleMean,
            11273820869629918004
        )
        .unwrap()
        .iter()
        .map(|f| f.0)
        .collect::<Vec<_>>()
    );
    // A second packet half grabbed: at expiry the rest returns to the issuer.
    ok(
        &mut e,
        &[
            r#"{"type":"create_red_packet","id":"p-2","packet":"RP2","session":"s1","issuer":"merchant:m1","total":500,"count":5,"split":"line_cut","secret":"000102030405060708090a0b0c0d0e0f","min_watch_s":60,"usable_merchant":"m1","opens_at":"2021-11-05T20:05:00+08:00","expires_at":"2021-11-05T21:00:00+08:00","at":"2021-11-05T20:02:00+08:00"}"#,
            r#"{"type":"grab_red_packet","id":"h-1","packet":"RP2","user":"u1","at":"2021-11-05T20:06:00+08:00"}"#,
            r#"{"type":"grab_red_packet","id":"h-2","packet":"RP2","user":"u2","at":"2021-11-05T20:06:00+08:00"}"#,
            r#"{"type":"tick","id":"t-1","at":"2021-11-05T21:00:00+08:00"}"#,
        ],
    );
    let p = &e.state().market.packets[1];
    assert_eq!(p.granted.0 + p.returned.unwrap().0, 500);
    rejected(
        &mut e,
        r#"{"type":"grab_red_packet","id":"h-3","packet":"RP2","user":"u3","at":"2021-11-05T20:59:00+08:00"}"#,
        Code::PromotionEnded,
    );
    // The money is a deduction at checkout: RP2's share only on m1's goods.
    let u1 = e.state().users.get("u1").unwrap();
    let money: i64 = e.state().market.wallets[&u1].allowances.iter().map(|a| a.left.0).sum();
    ok(
        &mut e,
        &[
            r#"{"type":"checkout","id":"x-1","checkout":"ck1","user":"u1","channel":"live","session":"s1","lines":[{"merchant":"m1","sku":"a","qty":1,"price":100000}],"at":"2021-11-05T20:30:00+08:00"}"#,
        ],
    );
    let q = &e.state().market.checkouts[0].quote;
    assert_eq!(q.pay_total, 100_000 - money);
    assert_eq!(
        q.discounts.iter().map(|d| d.bearers[0].0.as_str()).collect::<Vec<_>>(),
        vec!["merchant:m1", "anchor:a1"]
    );
}

#[test]
fn lottery_draws_are_verifiable() {
    let mut e = engine();
    ok(&mut e, SETUP);
    for (i, u) in ["u1", "u2", "u3", "u4", "u5"].iter().enumerate() {
        ok(
            &mut e,
            &[&format!(r#"{{"type":"viewer_enter","session":"s1","user":"{u}","at":"2021-11-05T20:0{i}:00+08:00"}}"#)],
        );
    }
    let secret = "00112233445566778899aabbccddeeff";
    ok(
        &mut e,
        &[
            &format!(
                r#"{{"type":"create_lottery","id":"l-1","lottery":"L1","session":"s1","issuer":"anchor:a1","prize":{{"kind":"goods","name":"福袋","value":9900}},"winners":2,"min_watch_s":120,"draw_at":"2021-11-05T20:10:00+08:00","secret":"{secret}","at":"2021-11-05T20:01:00+08:00"}}"#
            ),
            r#"{"type":"viewer_leave","session":"s1","user":"u1","at":"2021-11-05T20:05:00+08:00"}"#,
        ],
    );
    let evs = run(&mut e, r#"{"type":"tick","id":"t-1","at":"2021-11-05T20:10:00+08:00"}"#).unwrap();
    let Event::LotteryDrawn { eligible, winners, .. } = &evs[0] else { panic!("{evs:?}") };
    // u1 left; u5 entered at 20:04 and has watched 6 min; all others more than 2 min.
    assert_eq!(eligible, &["u2", "u3", "u4", "u5"]);
    let l = &e.state().market.lotteries[0];
    let rec = lottery::DrawRecord {
        lottery: "L1".into(),
        commitment: l.commitment.clone(),
        secret: secret.into(),
        winners_wanted: 2,
        eligible: eligible.clone(),
        winners: winners.clone(),
    };
    assert_eq!(lottery::verify(&rec), Ok(()));
    assert_eq!(winners.len(), 2);
}

// ---- Properties over random command streams.

fn stream() -> impl Strategy<Value = Vec<String>> {
    let users = 6;
    proptest::collection::vec((0u8..8, 0..users, 0i64..6, 1i64..40_000), 1..120).prop_map(move |ops| {
        let mut v: Vec<String> = SETUP.iter().map(|s| s.to_string()).collect();
        v.extend(CHECKOUT_SETUP.iter().map(|s| s.to_string()));
        v.push(r#"{"type":"create_coupon","id":"c-2","coupon":"m1c","issuer":"merchant:m1","scope":"store","merchant":"m1","threshold":0,"percent_bp":1500,"cap":3000,"stock":4,"per_user":2,"budget":5000,"claim_from":"2021-11-01T00:00:00+08:00","claim_until":"2021-11-08T00:00:00+08:00","valid_days":1,"return_on_refund":false,"at":"2021-11-01T00:00:00+08:00"}"#.into());
        v.push(r#"{"type":"create_red_packet","id":"p-1","packet":"RP","session":"s1","issuer":"platform","total":3001,"count":4,"split":"double_mean","seed":1,"opens_at":"2021-11-05T20:00:00+08:00","expires_at":"2021-11-05T23:00:00+08:00","at":"2021-11-05T20:00:00+08:00"}"#.into());
        for (n, (op, u, k, x)) in ops.into_iter().enumerate() {
            let at = format!("2021-11-05T{:02}:{:02}:00+08:00", 20 + n / 60, n % 60);
            let user = format!("u{u}");
            v.push(match op {
                0 => format!(r#"{{"type":"claim_coupon","id":"q{n}","coupon":"m1c","user":"{user}","at":"{at}"}}"#),
                1 => format!(r#"{{"type":"viewer_enter","session":"s1","user":"{user}","at":"{at}"}}"#),
                2 => format!(r#"{{"type":"grab_red_packet","id":"q{n}","packet":"RP","user":"{user}","at":"{at}"}}"#),
                3 => format!(
                    r#"{{"type":"checkout","id":"q{n}","checkout":"ck{n}","user":"{user}","channel":"shelf","lines":[{{"merchant":"m1","sku":"a","qty":1,"price":{x}}},{{"merchant":"m2","sku":"b","qty":{q},"price":9000}}],"at":"{at}"}}"#,
                    q = k + 1
                ),
                4 => format!(r#"{{"type":"pay","id":"q{n}","checkout":"ck{}","at":"{at}"}}"#, n as i64 - 1 - k),
                5 => format!(r#"{{"type":"cancel","id":"q{n}","checkout":"ck{}","at":"{at}"}}"#, n as i64 - 1 - k),
                6 => format!(
                    r#"{{"type":"refund","order":"ck{}/m{}","amount":{},"refund_id":"r{n}","at":"{at}"}}"#,
                    n as i64 - 2 - k,
                    1 + u % 2,
                    x % 9000 + 1
                ),
                _ => format!(r#"{{"type":"tick","id":"q{n}","at":"{at}"}}"#),
            });
        }
        v
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn stock_budgets_and_packets_hold_and_replay_matches(lines in stream()) {
        let mut e = engine();
        let mut events = Vec::new();
        for l in &lines {
            let c = parse_line(l).unwrap();
            let before = digest(e.state());
            let start = events.len();
            if e.execute(&c, &mut events).is_err() {
                events.truncate(start);
                prop_assert_eq!(digest(e.state()), before);
            }
            let m = &e.state().market;
            for c in &m.coupons {
                prop_assert!(c.claimed <= c.stock, "coupon oversold");
                if let Some(cap) = c.budget.cap {
                    prop_assert!(c.budget.spent + c.budget.reserved <= cap, "coupon budget exceeded");
                }
                prop_assert!(c.budget.spent.0 >= 0 && c.budget.reserved.0 >= 0);
            }
            for f in &m.fullcuts {
                prop_assert!(f.budget.spent.0 >= 0 && f.budget.reserved.0 >= 0);
            }
            for p in &m.packets {
                prop_assert!(p.granted <= p.total);
                prop_assert!(p.grabbers.len() <= p.count as usize);
                if let Some(r) = p.returned {
                    prop_assert_eq!(p.granted + r, p.total);
                }
            }
            for w in m.wallets.values() {
                for a in &w.allowances {
                    prop_assert!(a.left.0 >= 0 && a.left <= a.amount, "red-packet money out of range");
                }
            }
            // Money: every checkout's lines pay what the quote says, never below zero.
            for co in &m.checkouts {
                let q = &co.quote;
                prop_assert_eq!(q.pay.iter().sum::<i64>(), q.pay_total);
                prop_assert_eq!(q.list_total - q.discounts.iter().map(|d| d.amount).sum::<i64>(), q.pay_total);
                for d in &q.discounts {
                    prop_assert_eq!(d.bearers.iter().map(|b| b.1).sum::<i64>(), d.amount);
                }
                for (r, d) in co.returned.iter().zip(&q.discounts) {
                    prop_assert!(*r >= 0 && *r <= d.amount);
                }
            }
        }
        let mut replay = engine();
        for ev in &events {
            replay.apply(ev).unwrap();
        }
        prop_assert_eq!(digest(replay.state()), digest(e.state()));
    }
}
