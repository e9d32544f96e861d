//! Partitioned execution decides what the single writer decides: the same simulated
//! festival's live rooms, orders, refunds, coupon claims, red packets, grabs, ticks and
//! settlements run through 1, 2 and 4 partitions give every command the same answer,
//! every session the same figures, every merchant, anchor and provider the same sales and
//! buyers (summed over the partitions), every coupon the same claimed total, every user
//! the same claims and every red packet the same grabs and return as one engine; and the
//! partitions' logs, merged as a projection reads them, replay to the single writer's
//! state digest (the ledger, the budgets' spending and the wallets with it) and report,
//! with each packet's expiry in them once; the escrow never has more out than a coupon's
//! stock.

use dacu_core::command::{ClaimCoupon, Follow};
use dacu_core::contest::BoardKey;
use dacu_core::festival::Metric;
use dacu_core::{festival, parse_line, Command, Engine, Event, Festival, Rejection};
use dacu_part::boards;
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
    let (claims, _) = assert_same_with_packets(f, commands, n);
    claims
}

/// What a run did: red-packet grabs accepted, packets that expired, GMV boards merged
/// from partials and the standings on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Packets {
    grabbed: usize,
    expired: usize,
    boards: usize,
    standings: usize,
}

fn expiries(events: &[Event]) -> usize {
    events.iter().filter(|e| matches!(e, Event::RedPacketExpired { .. })).count()
}

/// As [`assert_same`], and every red packet the same in its partition as in one engine;
/// also what the run's packets did.
fn assert_same_with_packets(f: &Arc<Festival>, commands: &[Command], n: u32) -> ((usize, usize), Packets) {
    let mut one = Engine::new(f.clone());
    let mut parts = Partitioned::new(f.clone(), n).unwrap();
    parts.record();
    let (mut claimed, mut sold_out) = (0, 0);
    let mut packets = Packets { grabbed: 0, expired: 0, boards: 0, standings: 0 };
    for (i, c) in commands.iter().enumerate() {
        let want = single(&mut one, c);
        let got = parts.execute(c).expect("a partitioned command");
        assert_eq!(got, want, "command {i} ({}) with {n} partitions", c.type_name());
        match (c, &want) {
            (Command::GrabRedPacket(_), Ok(ev)) if !ev.is_empty() => packets.grabbed += 1,
            (Command::Tick(_), Ok(ev)) => packets.expired += expiries(ev),
            _ => {}
        }
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
    assert_packets(&one, &parts, n);
    (packets.boards, packets.standings) = assert_boards(&one, &parts, n);
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
    let merged_events = parts.merged_events();
    // Each packet's expiry, and with it the return of what was not grabbed, once: not
    // once per partition that applied the tick.
    assert_eq!(expiries(&merged_events), packets.expired, "expiries in the merged logs with {n} partitions");
    for e in &merged_events {
        merged.apply(e).expect("the merged events apply");
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
    ((claimed, sold_out), packets)
}

/// Every GMV board of every race, merged from the partitions' partials, is the single
/// writer's, entrant for entrant (score, time reached, sales) and in the same order; a
/// heat or growth board is refused, not merged wrong.
fn assert_boards(one: &Engine, parts: &Partitioned, n: u32) -> (usize, usize) {
    let engines: Vec<&Engine> = parts.parts.iter().map(|p| p.engine()).collect();
    let c = &one.state().contests;
    let (mut boards, mut standings, mut split) = (0, 0, 0);
    for (ri, def) in c.defs.iter().enumerate() {
        let mut keys: BTreeSet<BoardKey> = c.races[ri].boards.keys().copied().collect();
        for e in &engines {
            keys.extend(e.state().contests.races[ri].boards.keys().copied());
        }
        for key in keys {
            let got = boards::merged(&engines, ri, key);
            if def.metric != Metric::Gmv {
                assert!(got.is_err(), "race {} ({:?}) is not merged from partials", def.id, def.metric);
                continue;
            }
            let want = boards::of_engine(one, ri, key);
            assert_eq!(got.unwrap(), want, "board {key:?} of race {} with {n} partitions", def.id);
            boards += 1;
            standings += want.len();
            // Entrants whose score more than one partition holds a part of.
            split += want
                .iter()
                .filter(|s| {
                    let holds = |e: &&&Engine| {
                        let t = e.state().contests.races[ri].boards.get(&key);
                        t.is_some_and(|t| t.recs.values().any(|r| r.id.as_deref() == Some(&*s.id) && r.score != 0))
                    };
                    engines.iter().filter(holds).count() > 1
                })
                .count();
        }
    }
    // An anchor's GMV is made in its sessions, which live in its partition; a merchant's
    // in many anchors' sessions and on its shelf.
    let merchants_by_gmv = c.defs.iter().any(|d| d.metric == Metric::Gmv && d.role == dacu_core::kinds::Role::Merchant);
    assert!(
        n == 1 || !merchants_by_gmv || split > 0,
        "{split} entrants' scores split over {n} partitions: the merge proves little"
    );
    (boards, standings)
}

/// Every red packet the single writer holds, in the partition its grabs went to: the
/// same shares grabbed, by the same users, and the same return at expiry; and in no
/// other partition.
fn assert_packets(one: &Engine, parts: &Partitioned, n: u32) {
    let st = one.state();
    for packet in st.market.packet_ids.names() {
        let figures = |e: &Engine| {
            let st = e.state();
            let p = &st.market.packets[st.market.packet_ids.get(packet)? as usize];
            let grabbers: BTreeSet<String> = p.grabbers.iter().map(|u| st.users.name(u).to_string()).collect();
            Some((p.granted.0, grabbers, p.returned.map(|r| r.0)))
        };
        let home = parts.router.packet(packet);
        for p in &parts.parts {
            let got = figures(p.engine());
            if p.index == home {
                assert_eq!(got, figures(one), "red packet {packet} with {n} partitions");
            } else {
                assert_eq!(got, None, "red packet {packet} is only in partition {home} of {n}");
            }
        }
    }
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
    let mut last_claim: Option<ClaimCoupon> = None;
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
        // Now and then an earlier claim's id again on another user's claim (a resend to
        // the single writer: accepted, nothing changes) or on a follow (refused as an id
        // of another type): decided where the id was accepted, not where the user lives.
        let reused = match &c {
            Command::ClaimCoupon(k) => {
                let earlier = last_claim.replace(k.clone());
                earlier.filter(|_| out.len() % 89 == 0).map(|e| {
                    if out.len() % 2 == 0 {
                        Command::ClaimCoupon(ClaimCoupon { id: e.id, ..k.clone() })
                    } else {
                        Command::Follow(Follow { id: e.id, anchor: "nobody".into(), user: k.user.clone(), at: k.at })
                    }
                })
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
        out.extend(reused);
    }
    // In time order (a definition without a time first): the order a projection merges
    // the partitions' logs in (docs/scale-out.md, "The projection").
    out.sort_by_key(|c| c.at().unwrap_or(dacu_core::Ts(i64::MIN)));
    // Settlement after the festival: every contest closed and paid.
    out.push(parse_line(r#"{"type":"settle","id":"final","at":"2021-11-08T00:00:00+08:00"}"#).unwrap());
    out
}

#[test]
fn the_simulated_festivals_rooms_orders_claims_packets_and_ticks_are_decided_alike_on_1_2_and_4_partitions() {
    let text = include_str!("../../../festivals/kuaishou-116-2021.toml");
    let f116 = Arc::new(festival::parse(text).expect("valid"));
    // The brands ranked by GMV rather than heat: a brand sells in many anchors' rooms and
    // on its shelf, so its score is split over partitions and its boards are merged.
    let brands_by_gmv = text.replace(r#"metric = "heat""#, r#"metric = "gmv""#);
    let f116_gmv = Arc::new(festival::parse(&brands_by_gmv).expect("valid"));
    for (f, seed) in [(mini(), 7), (f116, 116), (f116_gmv, 116)] {
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
    let packets = commands.iter().filter(|c| matches!(c, Command::CreateRedPacket(_))).count();
    assert!(packets > 5, "too few red packets to mean anything: {packets}");
    let ticks = commands.iter().filter(|c| matches!(c, Command::Tick(_))).count();
    assert!(ticks > 5, "too few ticks to mean anything: {ticks}");
    let mut seen = BTreeSet::new();
    for n in [1, 2, 4] {
        let ((claimed, sold_out), p) = assert_same_with_packets(f, commands, n);
        assert!(claimed > 0 && sold_out > 0, "the run must both claim and run out: {claimed} / {sold_out}");
        assert!(p.grabbed > 50 && p.expired > 5, "the packets must be grabbed and expire: {p:?}");
        assert!(p.boards >= 3 && p.standings >= 10, "too few boards to mean anything: {p:?}");
        seen.insert((claimed, sold_out, p));
    }
    assert_eq!(seen.len(), 1);
}

#[test]
fn a_partitioned_command_outside_the_built_set_is_refused_and_changes_nothing() {
    let f = mini();
    let mut parts = Partitioned::new(f, 2).unwrap();
    let c = parse_line(r#"{"type":"cancel","id":"x1","checkout":"k1","at":"2021-11-05T20:00:00+08:00"}"#).unwrap();
    let e = parts.execute(&c).unwrap_err();
    assert!(e.0.starts_with("`cancel` is not partitioned yet: partitioned execution takes register_merchant"), "{e}");
    assert!(e.0.contains("create_red_packet, grab_red_packet and tick"), "{e}");
    // docs/scale-out.md quotes this refusal word for word.
    let doc = include_str!("../../../docs/scale-out.md").split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(doc.contains(&format!("`` {e} ``")), "docs/scale-out.md does not quote: {e}");
    // A coupon for followers: an anchor's follows live in the anchor's partition, a claim
    // in the user's, so the audience cannot be checked there yet.
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

/// Anchors a1 to a4 (with 4 partitions, one in each), each live in its session s1 to s4
/// from 11-01 09:00.
fn rooms() -> Vec<String> {
    let mut lines = vec![SET_UP[1].to_string()];
    for j in 1..=4 {
        lines.push(format!(r#"{{"type":"register_anchor","anchor":"a{j}","name":"A{j}","followers":10}}"#));
        lines.push(format!(
            r#"{{"type":"live_start","session":"s{j}","anchor":"a{j}","at":"2021-11-01T09:00:00+08:00"}}"#
        ));
    }
    lines
}

/// Red packet `rp{packet}` in session `s{session}`: `count` shares, expiring at 12:00 on
/// 11-0`expires`, for those who comment the passphrase if `passphrase`.
fn packet_line(id: &str, packet: u32, session: u32, (count, expires, passphrase): (u8, u8, bool)) -> String {
    let total = u32::from(count) * 100 + packet * 7;
    let pass = if passphrase { r#","passphrase":"口令""# } else { "" };
    format!(
        r#"{{"type":"create_red_packet","id":"{id}","packet":"rp{packet}","session":"s{session}","issuer":"anchor:a{session}","total":{total},"count":{count},"split":"double_mean","seed":{packet}{pass},"opens_at":"2021-11-01T09:01:00+08:00","expires_at":"2021-11-0{expires}T12:00:00+08:00","at":"2021-11-01T09:00:30+08:00"}}"#
    )
}

/// The commands (one a line) of one generated operation on rooms, packets and time, at
/// `at`. `last` is the last grab, as (its time, its id, its line).
fn packet_op(k: usize, (op, j, user): (u8, u32, u16), at: &str, last: &Option<(String, String, String)>) -> String {
    let (s, u) = (format!("s{j}"), format!("u{user}"));
    match (op, last) {
        (0 | 1, _) => format!(r#"{{"type":"viewer_enter","session":"{s}","user":"{u}","at":"{at}"}}"#),
        (2, _) => format!(r#"{{"type":"viewer_leave","session":"{s}","user":"{u}","at":"{at}"}}"#),
        (3, _) => format!(r#"{{"type":"grab_red_packet","id":"g{k}","packet":"rp{j}","user":"{u}","at":"{at}"}}"#),
        // In, the passphrase said, and a grab, one line each.
        (4, _) => [0, 5, 3].map(|op| packet_op(k, (op, j, user), at, last)).join("\n"),
        (5, _) => format!(
            r#"{{"type":"interaction","session":"{s}","user":"{u}","kind":"comment","text":"口令","at":"{at}"}}"#
        ),
        // A resend of the last grab, word for word.
        (6, Some((_, _, line))) => line.clone(),
        // A packet never created.
        (6, None) => format!(r#"{{"type":"grab_red_packet","id":"g{k}","packet":"rp9","user":"{u}","at":"{at}"}}"#),
        // A packet id created before, again in another session: a duplicate.
        (7, _) => packet_line(&format!("cq{k}"), j, j % 4 + 1, (2, 3, false)),
        (8, _) => format!(r#"{{"type":"follow","id":"f{k}","anchor":"a{j}","user":"{u}","at":"{at}"}}"#),
        // A follow from the room: in the session's partition, its anchor's, as a
        // `follow` of that anchor is.
        (10, _) => format!(r#"{{"type":"interaction","session":"{s}","user":"{u}","kind":"follow","at":"{at}"}}"#),
        // A tick whose id the last grab took: refused where that grab was decided, so in
        // every partition.
        (9, Some((_, id, _))) => format!(r#"{{"type":"tick","id":"{id}","at":"{at}"}}"#),
        _ => format!(r#"{{"type":"tick","id":"t{k}","at":"{at}"}}"#),
    }
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

    /// Rooms in every partition, each with a red packet (every other one for followers),
    /// and any mix of entries, exits, passphrases, follows (by `follow` and from the
    /// room), grabs (resent, or of a packet never created), packets created
    /// again and ticks (one with a grab's id), in time order: the same answers, the same
    /// packets and the same merged state and report on 1 to 4 partitions as on one engine.
    #[test]
    fn any_grabs_and_ticks_are_decided_alike_on_any_number_of_partitions(
        packets in prop::collection::vec((1u8..6, 1u8..8, any::<bool>()), 4),
        ops in prop::collection::vec((0u8..12, 1u32..5, 0u16..6, 0u8..6), 1..200),
        n in 1u32..5,
    ) {
        let mut lines = rooms();
        for (j, p) in (1..).zip(&packets) {
            let line = packet_line(&format!("cp{j}"), j, j, *p);
            // Every other packet for the anchor's followers: decided where the anchor's
            // follows all are.
            let line = if j % 2 == 0 { line.replace(r#""seed""#, r#""followers_only":true,"seed""#) } else { line };
            lines.push(line);
        }
        let mut timed: Vec<(String, String)> = Vec::new();
        let mut last: Option<(String, String, String)> = None;
        for (k, (op, j, user, day)) in ops.iter().enumerate() {
            let at = format!("2021-11-0{}T10:{:02}:{:02}+08:00", 1 + day, k / 60, k % 60);
            let line = packet_op(k, (*op, *j, *user), &at, &last);
            let at = match (op, &last) {
                (6, Some((t, _, _))) => t.clone(),
                _ => at,
            };
            if line.contains("grab_red_packet") && *op != 6 {
                let grab = line.lines().last().expect("a line").to_string();
                last = Some((at.clone(), format!("g{k}"), grab));
            }
            timed.push((at, line));
        }
        // One time zone and one format: the text sorts as the times do.
        timed.sort_by(|a, b| a.0.cmp(&b.0));
        lines.extend(timed.iter().flat_map(|(_, l)| l.lines().map(str::to_string)));
        let commands: Vec<Command> = lines.iter().map(|l| parse_line(l).unwrap()).collect();
        assert_same_with_packets(&mini(), &commands, n);
    }
}
