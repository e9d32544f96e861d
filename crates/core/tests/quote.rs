//! The checkout price search against brute force on random problems, and the exactness of
//! every discount's apportionment.

use dacu_core::market::quote::*;
use proptest::prelude::*;

fn rule() -> impl Strategy<Value = Rule> {
    prop_oneof![
        proptest::collection::vec((1i64..400, 1i64..60), 1..4).prop_map(|mut v| {
            // Rising tiers, as the engine requires.
            v.sort();
            let mut out: Vec<(i64, i64)> = Vec::new();
            for (th, off) in v {
                let (pt, po) = out.last().copied().unwrap_or((0, 0));
                out.push((th.max(pt + 1), off.max(po + 1)));
            }
            Rule::Tiers(out)
        }),
        (1i64..300, 1i64..50, proptest::option::of(1i64..200)).prop_map(|(step, off, cap)| Rule::Every {
            step,
            off,
            cap
        }),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        (0i64..400, 1i64..80).prop_map(|(threshold, off)| Value::Off { threshold, off }),
        (0i64..400, 1i64..5000, proptest::option::of(1i64..100)).prop_map(|(threshold, bp, cap)| Value::Percent {
            threshold,
            bp,
            cap
        }),
    ]
}

fn key(rank: u32) -> impl Strategy<Value = Key> {
    (0i64..3, 0i64..3).prop_map(move |(expiry, claimed)| Key { expiry, claimed, rank })
}

fn budget() -> impl Strategy<Value = Option<i64>> {
    proptest::option::weighted(0.2, 1i64..60)
}

fn problem() -> impl Strategy<Value = Problem> {
    (1usize..=3)
        .prop_flat_map(|slots| {
            let lines = proptest::collection::vec((0..slots, 1i64..4, 1i64..200), 1..6);
            (Just(slots), lines).prop_flat_map(|(slots, lines)| {
                let n = lines.len();
                let mask_all = (1u32 << slots) - 1;
                (
                    Just(slots),
                    Just(lines),
                    proptest::collection::vec((0..n, 1i64..30, budget()), 0..3),
                    proptest::collection::vec((0..slots, rule(), budget(), key(0)), 0..4),
                    proptest::collection::vec((0..slots, proptest::option::of(0..n), value(), budget(), key(0)), 0..5),
                    proptest::collection::vec((1..=mask_all, rule(), budget(), key(0)), 0..3),
                    proptest::collection::vec((1..=mask_all, value(), budget(), key(0)), 0..3),
                    proptest::collection::vec((proptest::option::of(0..slots), 1i64..150), 0..3),
                    0usize..4,
                )
            })
        })
        .prop_map(|(slots, lines, cuts, fulls, coupons, cross, plat, allow, policy)| {
            let lines: Vec<QLine> = lines.into_iter().map(|(slot, qty, price)| QLine { slot, qty, price }).collect();
            let mut seen = std::collections::BTreeSet::new();
            let price_cuts = cuts
                .into_iter()
                .filter(|c| seen.insert(c.0))
                .map(|(line, off_unit, budget)| PriceCutC { line, off_unit, budget })
                .collect();
            let rank = |mut k: Key, i: usize| {
                k.rank = i as u32;
                k
            };
            let fullcuts = fulls
                .into_iter()
                .enumerate()
                .map(|(i, (slot, rule, budget, k))| FullcutC { slot, rule, budget, key: rank(k, i) })
                .collect();
            let coupons = coupons
                .into_iter()
                .enumerate()
                .map(|(i, (slot, line, value, budget, k))| {
                    // An item coupon scopes lines of its own merchant.
                    let scoped: Option<Vec<usize>> = line.map(|l| {
                        let mine: Vec<usize> = (0..lines.len()).filter(|&x| lines[x].slot == slot).collect();
                        if mine.contains(&l) {
                            vec![l]
                        } else {
                            mine
                        }
                    });
                    CouponC { slot, lines: scoped.filter(|v| !v.is_empty()), value, budget, key: rank(k, i) }
                })
                .collect();
            let cross = cross
                .into_iter()
                .enumerate()
                .map(|(i, (slots, rule, budget, k))| CrossC { slots, rule, budget, key: rank(k, i) })
                .collect();
            let platform = plat
                .into_iter()
                .enumerate()
                .map(|(i, (slots, value, budget, k))| PlatformC { slots, value, budget, key: rank(k, i) })
                .collect();
            let mut allowances: Vec<AllowanceC> =
                allow.into_iter().map(|(slot, left)| AllowanceC { slot, left }).collect();
            allowances.sort_by_key(|a| a.slot.is_none());
            let layers = match policy {
                0 => Layer::ALL.to_vec(),
                1 => vec![Layer::StoreCoupon, Layer::StoreFullcut, Layer::PlatformCoupon, Layer::CrossStoreFullcut],
                2 => vec![Layer::PriceCut, Layer::StoreFullcut, Layer::CrossStoreFullcut, Layer::RedPacket],
                _ => vec![Layer::StoreCoupon, Layer::PriceCut, Layer::PlatformCoupon, Layer::RedPacket],
            };
            Problem {
                lines,
                slots,
                policy: Policy { layers },
                price_cuts,
                fullcuts,
                coupons,
                cross,
                platform,
                allowances,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn the_search_finds_the_brute_force_optimum(p in problem()) {
        let fast = optimize(&p);
        let slow = brute_force(&p);
        prop_assert!(fast.optimal);
        prop_assert_eq!(&fast.choice, &slow.choice, "pay {} vs {}", fast.pay_total, slow.pay_total);
        prop_assert_eq!(fast, slow);
    }

    #[test]
    fn every_discount_is_apportioned_exactly(p in problem()) {
        let q = optimize(&p);
        let list: i64 = q.list.iter().sum();
        let discounts: i64 = q.applied.iter().map(|a| a.amount).sum();
        prop_assert_eq!(list - discounts, q.pay_total);
        for a in &q.applied {
            prop_assert!(a.amount > 0);
            prop_assert_eq!(a.lines.iter().sum::<i64>(), a.amount);
            prop_assert!(a.lines.iter().all(|&x| x >= 0));
        }
        for (n, &pay) in q.pay.iter().enumerate() {
            let off: i64 = q.applied.iter().map(|a| a.lines[n]).sum();
            prop_assert_eq!(q.list[n] - off, pay);
            prop_assert!(pay >= 0, "a line pays less than nothing");
        }
        // Budgets cap their promotion's discount.
        for a in &q.applied {
            let cap = match a.layer {
                Layer::PriceCut => p.price_cuts[a.index].budget,
                Layer::StoreFullcut => p.fullcuts[a.index].budget,
                Layer::StoreCoupon => p.coupons[a.index].budget,
                Layer::CrossStoreFullcut => p.cross[a.index].budget,
                Layer::PlatformCoupon => p.platform[a.index].budget,
                Layer::RedPacket => Some(p.allowances[a.index].left),
            };
            prop_assert!(cap.is_none_or(|c| a.amount <= c));
        }
    }
}

#[test]
fn thresholds_are_checked_after_earlier_layers() {
    // One merchant, ¥300 of goods; store 满299减40; a platform coupon 满280减30.
    // After the store cut the amount is 260 < 280, so the platform coupon cannot stack
    // with it: the best is the store cut alone (40) versus the coupon alone (30).
    let p = Problem {
        lines: vec![QLine { slot: 0, qty: 1, price: 30_000 }],
        slots: 1,
        fullcuts: vec![FullcutC {
            slot: 0,
            rule: Rule::Tiers(vec![(19_900, 2_000), (29_900, 4_000)]),
            budget: None,
            key: Key::default(),
        }],
        platform: vec![PlatformC {
            slots: 1,
            value: Value::Off { threshold: 28_000, off: 3_000 },
            budget: None,
            key: Key::default(),
        }],
        ..Default::default()
    };
    let q = optimize(&p);
    assert_eq!(q.pay_total, 26_000);
    assert_eq!(q.choice.fullcut, vec![Some(0)]);
    assert_eq!(q.choice.platform, None);
}

#[test]
fn cross_store_fullcut_spreads_by_merchant_then_line() {
    // Two merchants ¥200 and ¥100; 每满300减40 across stores: 40 split 2:1 → 27 / 13
    // (26.67 and 13.33: the larger remainder gets the spare fen).
    let p = Problem {
        lines: vec![
            QLine { slot: 0, qty: 1, price: 12_000 },
            QLine { slot: 0, qty: 1, price: 8_000 },
            QLine { slot: 1, qty: 1, price: 10_000 },
        ],
        slots: 2,
        cross: vec![CrossC {
            slots: 0b11,
            rule: Rule::Every { step: 30_000, off: 4_000, cap: None },
            budget: None,
            key: Key::default(),
        }],
        ..Default::default()
    };
    let q = optimize(&p);
    assert_eq!(q.pay_total, 26_000);
    let a = &q.applied[0];
    assert_eq!(a.lines[0] + a.lines[1], 2_667);
    assert_eq!(a.lines[2], 1_333);
    assert_eq!(a.lines, vec![1_600, 1_067, 1_333]);
}

#[test]
fn equal_prices_break_ties_by_value_then_expiry() {
    // Two identical ¥10 coupons: the one expiring first is used.
    let coupon = |expiry, rank| CouponC {
        slot: 0,
        lines: None,
        value: Value::Off { threshold: 0, off: 1_000 },
        budget: None,
        key: Key { expiry, claimed: 0, rank },
    };
    let p = Problem {
        lines: vec![QLine { slot: 0, qty: 1, price: 5_000 }],
        slots: 1,
        coupons: vec![coupon(9, 0), coupon(5, 1)],
        ..Default::default()
    };
    assert_eq!(optimize(&p).choice.coupon, vec![Some(1)]);
    // Red-packet money covering everything: coupons still go first, keeping the money.
    let mut p = p;
    p.allowances = vec![AllowanceC { slot: None, left: 10_000 }];
    let q = optimize(&p);
    assert_eq!(q.pay_total, 0);
    assert_eq!(q.allowance_used, 4_000);
}
