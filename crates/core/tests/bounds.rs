//! Property test of the running totals' bounds: random commands near the
//! limits — orders and carts at the largest sizes, refunds, checkouts with the deepest
//! discounts, lotteries worth the most, settlements — never leave a total negative,
//! wrapped or past `limits::TOTAL`; a refused command leaves the state digest as it was;
//! and replaying the events gives the live state.

use dacu_core::digest::digest;
use dacu_core::festival;
use dacu_core::limits::{ORDER_FEN, TOTAL};
use dacu_core::state::Stats;
use dacu_core::{parse_line, Engine, Event, Ts};
use proptest::prelude::*;
use std::sync::Arc;

const FESTIVAL: &str = r#"
[festival]
id = "near-bounds"
name_zh = "界限"
name_en = "Near the bounds"
start = 2021-11-01
end = 2021-11-08

[registration]
opens = 2021-11-01
closes = 2021-11-08

[[tracks]]
id = "anchor"
role = "anchor"
name_zh = "主播"
name_en = "Anchors"
budget_fen = 1_000_000_000_000

[[reward_tables]]
id = "r"

[[reward_tables.bands]]
rank_from = 1
rank_to = 3
items = [{ kind = "cash", amount_fen = 300_000_000_000_000 }, { kind = "fentiao_credit", share_bp = 10_000 }]

[[contests]]
id = "race"
name_zh = "排位赛"
name_en = "Race"
track = "anchor"
metric = "gmv"
start = 2021-11-01
end = 2021-11-05
reward_table = "r"
"#;

const SETUP: &[&str] = &[
    r#"{"type":"register_merchant","merchant":"m0","name":"M","brand_tier":"ska","category":"c"}"#,
    r#"{"type":"register_merchant","merchant":"m1","name":"N","brand_tier":"ka","category":"d"}"#,
    r#"{"type":"register_anchor","anchor":"a0","name":"A","followers":1}"#,
    r#"{"type":"register_anchor","anchor":"a1","name":"B","followers":1}"#,
    r#"{"type":"live_start","session":"s0","anchor":"a0","at":"2021-11-01T00:00:00+08:00"}"#,
    r#"{"type":"live_start","session":"s1","anchor":"a1","at":"2021-11-01T00:00:00+08:00"}"#,
    r#"{"type":"create_price_cut","id":"pc","cut":"all","merchant":"m0","sku":"k0","off":10000000000,"start":"2021-11-01T00:00:00+08:00","end":"2021-11-08T00:00:00+08:00","at":"2021-11-01T00:00:00+08:00"}"#,
];

/// Fills the festival-wide totals to 99% of their bound, so that the random commands
/// run into them: 99 shelf orders of 10^13 fen, 99 open checkouts each holding a 10^13
/// discount (and one a little less), 9 lotteries offering 10^14 each.
fn near_the_bounds() -> impl Iterator<Item = String> {
    let orders = (0..99).map(|i| {
        format!(
            r#"{{"type":"order_paid","order":"pre{i}","user":"v","merchant":"m1","channel":"shelf","lines":[{{"sku":"big","qty":1000,"price":10000000000,"paid":10000000000000}}],"at":"2021-11-01T00:00:00+08:00"}}"#
        )
    });
    // The last one leaves room for three of the random carts' 10^10 discounts.
    let carts = (0..100).map(|i| {
        let qty = if i < 99 { 1000 } else { 997 };
        format!(
            r#"{{"type":"checkout","id":"pre-co{i}","checkout":"pre{i}","user":"v","channel":"shelf","lines":[{{"merchant":"m0","sku":"k0","qty":{qty},"price":10000000000}}],"at":"2021-11-01T00:00:00+08:00"}}"#
        )
    });
    let lotteries = (0..9).map(|i| {
        format!(
            r#"{{"type":"create_lottery","id":"pre-l{i}","lottery":"pre{i}","session":"s0","issuer":"platform","prize":{{"kind":"cash","name":"c","value":10000000000}},"winners":10000,"draw_at":"2021-11-07T00:00:00+08:00","secret":"00112233445566778899aabbccddeeff","at":"2021-11-02T00:00:00+08:00"}}"#
        )
    });
    orders.chain(carts).chain(lotteries)
}

/// Quantities and prices at, near and past the limits.
const QTY: [i64; 4] = [1, 1000, 999_999, 1_000_000];
const PRICE: [i64; 4] = [1, 9_999_999_999, 10_000_000_000, 10_000_000_001];

#[derive(Debug, Clone)]
enum Op {
    /// (order, merchant, session or shelf, lines of (sku, qty index, price index, paid bp), hour)
    Order(u8, u8, Option<u8>, Vec<(u8, usize, usize, i64)>, u32),
    Refund(u8, i64, u32),
    /// (checkout, qty index, hour)
    Checkout(u8, usize, u32),
    Pay(u8, u32),
    Cancel(u8, u32),
    Lottery(u8, i64),
    Settle(u32),
}

fn op() -> impl Strategy<Value = Op> {
    let hour = 0u32..(7 * 24);
    let line = (0u8..3, 0..QTY.len(), 0..PRICE.len(), prop_oneof![Just(10_000i64), 0i64..10_001]);
    prop_oneof![
        6 => (0u8..40, 0u8..2, proptest::option::of(0u8..2), proptest::collection::vec(line, 1..4), hour.clone())
            .prop_map(|(o, m, s, l, h)| Op::Order(o, m, s, l, h)),
        2 => (0u8..40, prop_oneof![Just(i64::MAX), 1i64..10_000_000_000_000], hour.clone())
            .prop_map(|(o, a, h)| Op::Refund(o, a, h)),
        3 => (0u8..30, 0..QTY.len(), hour.clone()).prop_map(|(c, q, h)| Op::Checkout(c, q, h)),
        2 => (0u8..30, hour.clone()).prop_map(|(c, h)| Op::Pay(c, h)),
        1 => (0u8..30, hour.clone()).prop_map(|(c, h)| Op::Cancel(c, h)),
        1 => (0u8..20, prop_oneof![Just(10_000_000_000i64), 0i64..10_000_000_001]).prop_map(|(l, v)| Op::Lottery(l, v)),
        1 => (96u32..(7 * 24)).prop_map(Op::Settle),
    ]
}

fn at(hour: u32) -> String {
    Ts::parse("2021-11-01T00:00:00+08:00").unwrap().plus_ms(hour as i64 * 3_600_000 + 1).to_string()
}

fn line_of(op: &Op, n: usize) -> String {
    match op {
        Op::Order(o, m, s, lines, h) => {
            let lines: Vec<String> = lines
                .iter()
                .map(|&(k, q, p, bp)| {
                    let (qty, price) = (QTY[q], PRICE[p]);
                    let paid = (qty as i128 * price as i128 * bp as i128 / 10_000) as i64;
                    format!(r#"{{"sku":"k{k}","qty":{qty},"price":{price},"paid":{paid}}}"#)
                })
                .collect();
            let (channel, session) = match s {
                Some(s) => ("live", format!(r#","session":"s{s}""#)),
                None => ("shelf", String::new()),
            };
            format!(
                r#"{{"type":"order_paid","order":"o{o}","user":"u","merchant":"m{m}","channel":"{channel}"{session},"lines":[{}],"at":"{}"}}"#,
                lines.join(","),
                at(*h)
            )
        }
        Op::Refund(o, amount, h) => {
            format!(r#"{{"type":"refund","order":"o{o}","amount":{amount},"at":"{}"}}"#, at(*h))
        }
        Op::Checkout(c, q, h) => format!(
            r#"{{"type":"checkout","id":"co{n}","checkout":"c{c}","user":"u","channel":"shelf","lines":[{{"merchant":"m0","sku":"k0","qty":{},"price":10000000000}},{{"merchant":"m1","sku":"k1","qty":1,"price":10000000000}}],"at":"{}"}}"#,
            QTY[*q],
            at(*h)
        ),
        Op::Pay(c, h) => format!(r#"{{"type":"pay","id":"p{n}","checkout":"c{c}","at":"{}"}}"#, at(*h)),
        Op::Cancel(c, h) => format!(r#"{{"type":"cancel","id":"x{n}","checkout":"c{c}","at":"{}"}}"#, at(*h)),
        Op::Lottery(l, value) => format!(
            r#"{{"type":"create_lottery","id":"l{n}","lottery":"lot{l}","session":"s0","issuer":"platform","prize":{{"kind":"cash","name":"c","value":{value}}},"winners":10000,"draw_at":"2021-11-07T00:00:00+08:00","secret":"00112233445566778899aabbccddeeff","at":"2021-11-02T00:00:00+08:00"}}"#
        ),
        Op::Settle(h) => format!(r#"{{"type":"settle","id":"st{n}","at":"{}"}}"#, at(*h)),
    }
}

/// A sales total is whole: nothing negative, refunds within the gross, within the bound.
fn whole(what: &str, s: &Stats) -> Result<(), TestCaseError> {
    let t = s.total();
    prop_assert!(t.gross.0 >= 0 && t.refunded.0 >= 0, "{what}: {t:?}");
    prop_assert!(t.refunded <= t.gross && t.gross.0 <= TOTAL, "{what}: {t:?}");
    for m in [s.self_broadcast, s.provider_served, s.provider_served_self_broadcast] {
        prop_assert!(m.gross.0 >= 0 && m.refunded <= m.gross && m.gross <= t.gross, "{what}: {m:?}");
    }
    Ok(())
}

fn check_totals(e: &Engine) -> Result<(), TestCaseError> {
    let st = e.state();
    whole("festival", &st.total)?;
    for (i, m) in st.merchants.iter().enumerate() {
        whole(&format!("merchant {i}"), &m.stats)?;
    }
    for (i, a) in st.anchors.iter().enumerate() {
        whole(&format!("anchor {i}"), &a.stats)?;
    }
    for (i, s) in st.sessions.iter().enumerate() {
        whole(&format!("session {i}"), &s.stats)?;
        prop_assert!(s.products.values().all(|p| (0..=TOTAL).contains(&p.qty) && p.paid.0 >= 0));
    }
    for (d, s) in &st.by_day {
        whole(&format!("day {d}"), s)?;
    }
    // The marketing tools' festival-wide sums: bounded, and what the state implies.
    let m = &st.market;
    let t = m.totals;
    for v in [t.packets_fen, t.prizes_fen, t.discounts_fen, t.subsidies_fen] {
        prop_assert!((0..=TOTAL).contains(&v), "{t:?}");
    }
    let mut rebuilt = m.clone();
    rebuilt.rebuild_totals();
    prop_assert_eq!(rebuilt.totals, t);
    for c in &m.coupons {
        prop_assert!((0..=TOTAL).contains(&c.gmv.0));
    }
    for b in m.cuts.iter().map(|c| c.budget) {
        prop_assert!(b.spent.0 >= 0 && b.reserved.0 >= 0 && b.spent.0 + b.reserved.0 <= TOTAL, "{b:?}");
    }
    // Boards: GMV scores and sales are parts of the festival's GMV.
    for r in &st.contests.races {
        for t in r.boards.values() {
            prop_assert!(t.recs.values().all(|x| (0..=TOTAL).contains(&x.score) && (0..=TOTAL).contains(&x.sales)));
        }
    }
    // Settlement never pays more than the budget.
    let paid = st.settlement.paid_fen.get("anchor").copied().unwrap_or(0);
    prop_assert!((0..=1_000_000_000_000).contains(&paid), "paid {paid}");
    prop_assert!(st.settlement.lines.iter().all(|l| l.claim >= 0 && l.claim <= 2 * TOTAL));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn commands_near_the_bounds_never_wrap_a_total_and_refusals_change_nothing(
        ops in proptest::collection::vec(op(), 1..70)
    ) {
        let f = Arc::new(festival::parse(FESTIVAL).expect("valid"));
        let mut e = Engine::new(f.clone());
        let mut log: Vec<Event> = Vec::new();
        for l in SETUP.iter().map(|l| l.to_string()).chain(near_the_bounds()) {
            e.execute(&parse_line(&l).unwrap(), &mut log).unwrap();
        }
        for (n, op) in ops.iter().enumerate() {
            let c = parse_line(&line_of(op, n)).unwrap();
            let before = digest(e.state());
            let start = log.len();
            if e.execute(&c, &mut log).is_err() {
                prop_assert_eq!(log.len(), start, "a refused command left events");
                prop_assert_eq!(digest(e.state()), before, "a refused command changed the state");
            }
            check_totals(&e)?;
        }
        // Orders past the per-order bound are always refused.
        for o in e.state().orders.values() {
            prop_assert!((0..=ORDER_FEN).contains(&o.paid.0));
        }
        let mut replay = Engine::new(f);
        for ev in &log {
            replay.apply(ev).unwrap();
        }
        prop_assert_eq!(digest(replay.state()), digest(e.state()));
    }
}
