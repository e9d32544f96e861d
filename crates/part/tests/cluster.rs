//! Partitions under concurrent load: clients on several threads claim coupons through 1,
//! 2 and 4 partition threads, resending what is answered `Busy`. No coupon is claimed
//! beyond its stock, no user beyond the per-user limit, the escrow never has more out than
//! the stock at any position of its log, and no stock is stranded: a coupon whose demand
//! exceeds its stock is claimed to exactly its stock. And the simulated festival on
//! partition threads — definitions first, then one client per partition — gets the
//! single engine's answer to every command.

use dacu_core::{festival, parse_line, Code, Command, Festival};
use dacu_part::escrow::peak_out;
use dacu_part::{Answer, Cluster, Partitioned};
use std::sync::Arc;

const USERS: u64 = 600;
const CLIENTS: u64 = 6;

fn mini() -> Arc<Festival> {
    Arc::new(festival::parse(include_str!("../../../festivals/example-mini.toml")).expect("valid"))
}

fn set_up(n: u32, coupons: &[(u64, u64)]) -> Partitioned {
    let mut p = Partitioned::new(mini(), n).unwrap();
    for (i, (stock, per_user)) in coupons.iter().enumerate() {
        let line = format!(
            r#"{{"type":"create_coupon","id":"cc{i}","coupon":"c{i}","issuer":"platform","scope":"platform","off":100,"stock":{stock},"per_user":{per_user},"claim_from":"2021-11-01T00:00:00+08:00","claim_until":"2021-11-08T00:00:00+08:00","valid_days":1,"at":"2021-11-01T00:00:00+08:00"}}"#
        );
        p.execute(&parse_line(&line).unwrap()).unwrap().unwrap();
    }
    p
}

/// Each client claims every coupon, `per_user + 1` times, for its share of the users,
/// resending on `Busy`; the accepted claims.
fn load(cluster: &Cluster, coupons: usize, tries: u64) -> u64 {
    std::thread::scope(|s| {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|client| {
                s.spawn(move || {
                    let mut accepted = 0;
                    for u in (client..USERS).step_by(CLIENTS as usize) {
                        for c in 0..coupons {
                            for t in 0..tries {
                                let line = format!(
                                    r#"{{"type":"claim_coupon","id":"k{u}-{c}-{t}","coupon":"c{c}","user":"u{u}","at":"2021-11-05T20:00:00+08:00"}}"#
                                );
                                accepted += claim(cluster, parse_line(&line).unwrap());
                            }
                        }
                    }
                    accepted
                })
            })
            .collect();
        clients.into_iter().map(|c| c.join().unwrap()).sum()
    })
}

fn claim(cluster: &Cluster, c: Command) -> u64 {
    for _ in 0..10_000 {
        match cluster.submit(c.clone()).recv().unwrap() {
            Answer::Accepted(_) => return 1,
            Answer::Rejected(r) => {
                assert!(matches!(r.code, Code::SoldOut | Code::LimitReached), "{r:?}");
                return 0;
            }
            Answer::Busy => std::thread::yield_now(),
            Answer::Unsupported(why) => panic!("{why}"),
        }
    }
    panic!("still busy after 10,000 resends");
}

#[test]
fn under_concurrent_claims_no_coupon_is_exceeded_and_none_is_stranded() {
    // Stock below demand (600 users × per_user), one at it, one above it.
    let coupons = [(500u64, 2u64), (1_200, 2), (2_000, 1)];
    for n in [1, 2, 4] {
        let cluster = Cluster::start(set_up(n, &coupons));
        let accepted = load(&cluster, coupons.len(), 3);
        let parts = cluster.stop();
        let mut want_total = 0;
        for (i, (stock, per_user)) in coupons.iter().enumerate() {
            let coupon = format!("c{i}");
            let want = (*stock).min(USERS * per_user);
            assert_eq!(parts.claimed(&coupon), want, "{coupon} with {n} partitions");
            let peak = peak_out(parts.escrow.log()).get(&coupon).copied().unwrap_or(0);
            assert!(peak <= *stock, "{coupon}: {peak} out of {stock}");
            for u in 0..USERS {
                assert!(u64::from(parts.claims_of(&format!("u{u}"), &coupon)) <= *per_user);
            }
            want_total += want;
        }
        assert_eq!(accepted, want_total, "the answers and the state disagree with {n} partitions");
    }
}

/// The simulated festival's partitionable commands in time order, settlements left out
/// (they are decided on a projection): definitions first, then the rest.
fn festival_commands(f: &Festival) -> (Vec<Command>, Vec<Command>) {
    let mut buf = Vec::new();
    dacu_sim::simulate(f, dacu_sim::Scale::Commands(30_000), 3, &mut buf).unwrap();
    let mut probe = dacu_part::router::Router::new(1);
    let mut cmds: Vec<Command> = String::from_utf8(buf)
        .unwrap()
        .lines()
        .filter_map(|l| parse_line(l).ok())
        .filter(|c| probe.route(c, false).is_ok())
        .collect();
    cmds.sort_by_key(|c| c.at().unwrap_or(dacu_core::Ts(i64::MIN)));
    cmds.into_iter().partition(|c| dacu_part::route::key(c) == dacu_part::route::Key::Coordinator)
}

fn code(a: Answer) -> Result<(), Code> {
    match a {
        Answer::Accepted(_) => Ok(()),
        Answer::Rejected(r) => Err(r.code),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_simulated_festival_on_partition_threads_decides_as_one_engine() {
    let f = mini();
    let (definitions, keyed) = festival_commands(&f);
    assert!(keyed.len() > 5_000, "{}", keyed.len());
    let mut one = dacu_core::Engine::new(f.clone());
    let mut want = Vec::new();
    for c in definitions.iter().chain(&keyed) {
        want.push(one.execute(c, &mut Vec::new()).map_err(|r| r.code));
    }
    for n in [1, 2, 4] {
        let cluster = Cluster::start(Partitioned::new(f.clone(), n).unwrap());
        let mut got: Vec<_> = definitions.iter().map(|c| code(cluster.submit(c.clone()).recv().unwrap())).collect();
        got.extend(cluster.run(&keyed, 64).into_iter().map(code));
        let parts = cluster.stop();
        assert_eq!(got, want, "the answers with {n} partition threads");
        let st = one.state();
        for m in st.merchant_ids.names() {
            let of = dacu_part::merge::Of::Merchant;
            assert_eq!(parts.totals(of, m), dacu_part::merge::totals_in(&one, of, m), "{m} with {n}");
        }
        for coupon in st.market.coupon_ids.names() {
            let ci = st.market.coupon_ids.get(coupon).unwrap() as usize;
            assert_eq!(parts.claimed(coupon), st.market.coupons[ci].claimed, "{coupon} with {n}");
        }
    }
}
