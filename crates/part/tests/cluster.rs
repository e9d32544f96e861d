//! Partitions under concurrent load: clients on several threads claim coupons through 1,
//! 2 and 4 partition threads, resending what is answered `Busy`. No coupon is claimed
//! beyond its stock, no user beyond the per-user limit, the escrow never has more out than
//! the stock at any position of its log, and no stock is stranded: a coupon whose demand
//! exceeds its stock is claimed to exactly its stock. And the simulated festival on
//! partition threads — definitions first, then one client per partition, each tick
//! and settlement sent to every partition once what came before it is answered — gets
//! the single engine's answer to every command (every tick's and settlement's events,
//! each packet's expiry among them once) and every red packet the same grabs and return,
//! and the partitions' logs replay to the single engine's state digest and report; a
//! tick refused in one partition is applied in none. A settlement sent while clients
//! keep writing on every partition is decided at a barrier: it pays what one engine
//! pays, every partition holds its ledger, and nothing the clients sent is lost or
//! applied twice.

mod common;

use common::{festival_commands, mini};
use dacu_core::{festival, parse_line, Code, Command, Event};
use dacu_part::escrow::peak_out;
use dacu_part::{Answer, Cluster, Partitioned};
use std::sync::Arc;

const USERS: u64 = 600;
const CLIENTS: u64 = 6;

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
            Answer::Unsupported(why) | Answer::Failed(why) => panic!("{why}"),
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

fn one_engine(e: &mut dacu_core::Engine, c: &Command) -> Result<Vec<Event>, dacu_core::Rejection> {
    let mut out = Vec::new();
    e.execute(c, &mut out).map(|()| out)
}

fn events_of(parts: &Partitioned) -> Vec<u64> {
    parts.parts.iter().map(|p| p.engine().state().events).collect()
}

#[test]
fn a_tick_on_partition_threads_fires_each_packet_once_and_a_refused_one_changes_nothing() {
    let mut lines =
        vec![r#"{"type":"register_merchant","merchant":"m1","name":"Beauty","brand_tier":"ska","category":"beauty"}"#
            .to_string()];
    // Anchors a1 to a4 land in partitions 3, 2, 1 and 0 of 4 (1, 0, 1 and 0 of 2): the
    // order the packets are created in, which is the order they expire in, is not their
    // partitions' order.
    for j in 1..=4 {
        lines.push(format!(r#"{{"type":"register_anchor","anchor":"a{j}","name":"A{j}","followers":1}}"#));
        lines.push(format!(
            r#"{{"type":"live_start","session":"s{j}","anchor":"a{j}","at":"2021-11-01T09:00:00+08:00"}}"#
        ));
    }
    for j in 1..=4 {
        lines.push(format!(r#"{{"type":"create_red_packet","id":"cp{j}","packet":"rp{j}","session":"s{j}","issuer":"anchor:a{j}","total":500,"count":5,"split":"even","seed":{j},"opens_at":"2021-11-01T09:01:00+08:00","expires_at":"2021-11-01T12:00:00+08:00","at":"2021-11-01T09:00:30+08:00"}}"#));
    }
    lines.push(r#"{"type":"viewer_enter","session":"s2","user":"u1","at":"2021-11-01T10:00:00+08:00"}"#.into());
    lines.push(
        r#"{"type":"grab_red_packet","id":"g1","packet":"rp2","user":"u1","at":"2021-11-01T10:00:01+08:00"}"#.into(),
    );
    let commands: Vec<Command> = lines.iter().map(|l| parse_line(l).unwrap()).collect();
    // Its id is the grab's, which only rp2's partition knows: refused in every partition.
    let taken = parse_line(r#"{"type":"tick","id":"g1","at":"2021-11-02T00:00:00+08:00"}"#).unwrap();
    let tick = parse_line(r#"{"type":"tick","id":"t1","at":"2021-11-02T00:00:00+08:00"}"#).unwrap();
    for n in [1, 2, 4] {
        let mut one = dacu_core::Engine::new(mini());
        let mut set_up = Partitioned::new(mini(), n).unwrap();
        for c in &commands {
            let want = one_engine(&mut one, c);
            assert_eq!(set_up.execute(c).unwrap(), want, "{c:?} with {n}");
            assert!(want.is_ok(), "{want:?}");
        }
        let before = events_of(&set_up);
        let cluster = Cluster::start(set_up);
        match (cluster.submit(taken.clone()).recv().unwrap(), one_engine(&mut one, &taken)) {
            (Answer::Rejected(got), Err(want)) => assert_eq!(got, want, "with {n} partition threads"),
            other => panic!("{other:?}"),
        }
        let want = one_engine(&mut one, &tick).unwrap();
        let expired: Vec<&str> = want
            .iter()
            .filter_map(|e| match e {
                Event::RedPacketExpired { packet, .. } => Some(packet.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(expired, ["rp1", "rp2", "rp3", "rp4"], "the single writer fires them in the order created");
        match cluster.submit(tick.clone()).recv().unwrap() {
            Answer::Accepted(got) => assert_eq!(got, want, "the tick's answer with {n} partition threads"),
            other => panic!("{other:?}"),
        }
        let parts = cluster.stop();
        let after = events_of(&parts);
        assert_eq!(before.len(), after.len());
        for (p, (b, a)) in before.iter().zip(&after).enumerate() {
            let own = parts.parts[p].engine().state().market.packet_ids.names().count() as u64;
            // Each partition applied the tick's own record and its own packets' expiries,
            // nothing for the refused tick.
            assert_eq!(*a, b + 1 + own, "partition {p} of {n}");
        }
        let st = one.state();
        for packet in st.market.packet_ids.names() {
            let want = st.market.packets[st.market.packet_ids.get(packet).unwrap() as usize].returned;
            let holders: Vec<_> = parts
                .parts
                .iter()
                .filter_map(|p| {
                    let ps = p.engine().state();
                    ps.market.packet_ids.get(packet).map(|i| ps.market.packets[i as usize].returned)
                })
                .collect();
            assert_eq!(holders, [want], "{packet} returned once, where it lives, with {n}");
        }
    }
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
    let keyed = festival_commands(&f);
    assert!(keyed.len() > 5_000, "{}", keyed.len());
    let timed =
        keyed.iter().filter(|c| dacu_part::route::key(c) == dacu_part::route::Key::Coordinator && c.at().is_some());
    assert!(timed.count() > 10, "too few definitions among the festival's other commands to mean anything");
    let mut one = dacu_core::Engine::new(f.clone());
    let mut want = Vec::new();
    let mut ticks = Vec::new();
    for c in &keyed {
        let r = one_engine(&mut one, c);
        if let (Command::Tick(_) | Command::Settle(_), Ok(events)) = (c, &r) {
            ticks.push(events.clone());
        }
        want.push(r.map(|_| ()).map_err(|r| r.code));
    }
    let expiries = ticks.iter().flatten().filter(|e| matches!(e, Event::RedPacketExpired { .. })).count();
    assert!(
        ticks.len() > 5 && expiries > 5,
        "too few ticks and expiries to mean anything: {} / {expiries}",
        ticks.len()
    );
    assert!(
        one.state().settlement.lines.len() >= 3,
        "too few ledger lines to mean anything: {}",
        one.state().settlement.lines.len()
    );
    for n in [1, 2, 4] {
        let mut set_up = Partitioned::new(f.clone(), n).unwrap();
        set_up.record();
        let cluster = Cluster::start(set_up);
        let answers = cluster.run(&keyed, 64);
        let got_ticks: Vec<Vec<Event>> = keyed
            .iter()
            .zip(&answers)
            .filter_map(|(c, a)| match (c, a) {
                (Command::Tick(_) | Command::Settle(_), Answer::Accepted(events)) => Some(events.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(got_ticks, ticks, "the ticks' and settlements' answers with {n} partition threads");
        let got: Vec<_> = answers.into_iter().map(code).collect();
        let parts = cluster.stop();
        assert_eq!(got, want, "the answers with {n} partition threads");
        let merged = parts.projection();
        let digest = |e: &dacu_core::Engine| dacu_core::digest::digest(e.state());
        assert_eq!(digest(&merged), digest(&one), "the state of the partitions' logs with {n} threads");
        let report = |e: &dacu_core::Engine| serde_json::to_value(dacu_core::view::report(&f, e.state())).unwrap();
        assert_eq!(report(&merged), report(&one), "the report of the partitions' logs with {n} threads");
        let packets = keyed.iter().filter(|c| matches!(c, Command::GrabRedPacket(_))).count();
        assert!(packets > 50, "too few grabs to mean anything: {packets}");
        for (packet, at) in &parts.router.packets {
            let st = one.state();
            let want = &st.market.packets[st.market.packet_ids.get(packet).expect("created") as usize];
            let ps = parts.parts[at.partition as usize].engine().state();
            let got = &ps.market.packets[ps.market.packet_ids.get(packet).expect("where it was routed") as usize];
            let figures = |p: &dacu_core::market::Packet| (p.granted, p.grabbers.len(), p.returned);
            assert_eq!(figures(got), figures(want), "{packet} with {n}");
        }
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

#[test]
fn a_settlement_sent_while_clients_write_on_every_partition_is_decided_on_a_consistent_cut() {
    // The 2021 file: its first phase's boards close on 11-04, so the settlement on 11-05
    // pays them.
    let f = Arc::new(festival::parse(include_str!("../../../festivals/kuaishou-116-2021.toml")).expect("valid"));
    let all = festival_commands(&f);
    let mid = all.iter().position(|c| matches!(c, Command::Settle(k) if k.id == "mid")).expect("the mid settlement");
    let last = all.len() - 1;
    let before = &all[..mid];
    // What the clients keep sending while the settlement is decided: the rooms, orders,
    // claims and grabs after it — no definition or tick, which would wait for it, and no
    // refund: one of an order paid on a day the settlement closes changes that day's
    // board, so what the settlement pays would depend on where the cut fell, which one
    // engine given the commands in one order cannot say.
    let during: Vec<Command> = all[mid + 1..last]
        .iter()
        .filter(|c| !matches!(c, Command::Tick(_) | Command::Refund(_)))
        .filter(|c| dacu_part::route::key(c) != dacu_part::route::Key::Coordinator)
        .cloned()
        .collect();
    assert!(during.len() > 1_000, "too few commands during the settlement to mean anything: {}", during.len());
    let mut one = dacu_core::Engine::new(f.clone());
    let want_before: Vec<_> = before.iter().map(|c| one_engine(&mut one, c).map(|_| ()).map_err(|r| r.code)).collect();
    let want_mid = one_engine(&mut one, &all[mid]).expect("the single engine settles");
    let want_during: Vec<_> = during.iter().map(|c| one_engine(&mut one, c).map(|_| ()).map_err(|r| r.code)).collect();
    let want_last = one_engine(&mut one, &all[last]).expect("the single engine settles again");
    assert!(!want_mid.is_empty() && !want_last.is_empty());
    for n in [2, 4] {
        let mut set_up = Partitioned::new(f.clone(), n).unwrap();
        set_up.record();
        let cluster = Cluster::start(set_up);
        let got_before: Vec<_> = cluster.run(before, 64).into_iter().map(code).collect();
        assert_eq!(got_before, want_before, "before the settlement, with {n} partition threads");
        let (got_mid, got_during) = std::thread::scope(|s| {
            let clients = s.spawn(|| cluster.run(&during, 16));
            // Once the clients are well under way.
            let under_way = cluster.answered() + during.len() as u64 / 4;
            while cluster.answered() < under_way {
                std::thread::yield_now();
            }
            let settled = cluster.submit(all[mid].clone()).recv().unwrap();
            (settled, clients.join().unwrap())
        });
        match got_mid {
            Answer::Accepted(events) => assert_eq!(events, want_mid, "the settlement with {n} partition threads"),
            other => panic!("{other:?}"),
        }
        let got_during: Vec<_> = got_during.into_iter().map(code).collect();
        assert_eq!(got_during, want_during, "the commands sent during the settlement, with {n} partition threads");
        match cluster.submit(all[last].clone()).recv().unwrap() {
            Answer::Accepted(events) => assert_eq!(events, want_last, "the last settlement with {n} partition threads"),
            other => panic!("{other:?}"),
        }
        let parts = cluster.stop();
        // Every partition holds the ledger, once.
        for p in &parts.parts {
            let ledger = |e: &dacu_core::Engine| serde_json::to_value(&e.state().settlement.lines).unwrap();
            assert_eq!(ledger(p.engine()), ledger(&one), "partition {} of {n}: the ledger", p.index);
        }
        let st = one.state();
        for m in st.merchant_ids.names() {
            let of = dacu_part::merge::Of::Merchant;
            assert_eq!(parts.totals(of, m), dacu_part::merge::totals_in(&one, of, m), "{m} with {n}");
        }
    }
}

#[test]
fn a_command_id_reused_after_its_answer_is_decided_where_it_was_accepted() {
    let claim = |id: &str, user: &str| {
        let line = format!(
            r#"{{"type":"claim_coupon","id":"{id}","coupon":"c0","user":"{user}","at":"2021-11-05T20:00:00+08:00"}}"#
        );
        parse_line(&line).unwrap()
    };
    for n in [2, 4] {
        let cluster = Cluster::start(set_up(n, &[(100, 1)]));
        let first = cluster.submit(claim("k1", "u1")).recv().unwrap();
        assert!(matches!(&first, Answer::Accepted(ev) if !ev.is_empty()), "{first:?}");
        // Users in every partition: each reuse of `k1` is a resend to the single writer.
        for u in 2..20 {
            let again = cluster.submit(claim("k1", &format!("u{u}"))).recv().unwrap();
            assert!(matches!(&again, Answer::Accepted(ev) if ev.is_empty()), "u{u} with {n}: {again:?}");
        }
        let follow = r#"{"type":"follow","id":"k1","anchor":"a1","user":"u7","at":"2021-11-05T20:00:00+08:00"}"#;
        assert_eq!(code(cluster.submit(parse_line(follow).unwrap()).recv().unwrap()), Err(Code::IdConflict));
        let parts = cluster.stop();
        assert_eq!(parts.claimed("c0"), 1, "one claim with {n} partitions");
    }
}

#[test]
fn a_command_sent_right_after_a_definition_finds_it_applied_in_every_partition() {
    let create = |i: usize| {
        format!(
            r#"{{"type":"create_coupon","id":"cc{i}","coupon":"c{i}","issuer":"platform","scope":"platform","off":100,"stock":1000,"per_user":1,"claim_from":"2021-11-01T00:00:00+08:00","claim_until":"2021-11-08T00:00:00+08:00","valid_days":1,"at":"2021-11-01T00:00:00+08:00"}}"#
        )
    };
    for n in [2, 4] {
        let cluster = Cluster::start(Partitioned::new(mini(), n).unwrap());
        let mut sent = Vec::new();
        // Each coupon created, created again under another id (refused: the coupon
        // exists), and claimed at once by users in every partition, none waiting for an
        // answer.
        for i in 0..3 {
            sent.push((true, cluster.submit(parse_line(&create(i)).unwrap())));
            let again = create(i).replace(&format!(r#""id":"cc{i}""#), &format!(r#""id":"dup{i}""#));
            sent.push((false, cluster.submit(parse_line(&again).unwrap())));
            for u in 0..40 {
                let line = format!(
                    r#"{{"type":"claim_coupon","id":"k{i}-{u}","coupon":"c{i}","user":"u{u}","at":"2021-11-05T20:00:00+08:00"}}"#
                );
                sent.push((true, cluster.submit(parse_line(&line).unwrap())));
            }
        }
        for (k, (accepted, rx)) in sent.into_iter().enumerate() {
            match rx.recv().unwrap() {
                Answer::Accepted(ev) if accepted => assert!(!ev.is_empty(), "command {k} with {n}"),
                Answer::Rejected(_) if !accepted => {}
                other => panic!("command {k} with {n} partitions: {other:?}"),
            }
        }
        let parts = cluster.stop();
        for i in 0..3 {
            assert_eq!(parts.claimed(&format!("c{i}")), 40, "c{i} with {n} partitions");
        }
    }
}
