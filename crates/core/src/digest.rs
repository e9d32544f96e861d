//! The state digest: SHA-256 over a canonical encoding of the state, ordered by id, so
//! that two engines that applied the same events agree bit for bit.

use crate::state::{Money2, State, Stats};
use sha2::{Digest, Sha256};

struct Canon(Sha256);

impl Canon {
    fn u64(&mut self, x: u64) {
        self.0.update(x.to_le_bytes());
    }
    fn i64(&mut self, x: i64) {
        self.0.update(x.to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.0.update(s.as_bytes());
    }
    fn opt(&mut self, x: Option<&str>) {
        match x {
            Some(s) => {
                self.0.update([1]);
                self.str(s);
            }
            None => self.0.update([0]),
        }
    }
    fn money(&mut self, m: &Money2) {
        self.i64(m.gross.0);
        self.i64(m.refunded.0);
    }
    fn stats(&mut self, s: &Stats) {
        for m in &s.channel {
            self.money(m);
        }
        self.u64(s.orders[0]);
        self.u64(s.orders[1]);
        self.money(&s.self_broadcast);
        self.money(&s.provider_served);
        self.money(&s.provider_served_self_broadcast);
        self.u64(s.buyers.len() as u64);
    }
}

/// Sorted (name, index) pairs of an interner.
fn sorted(ids: &crate::state::Interner) -> Vec<(&str, usize)> {
    let mut v: Vec<(&str, usize)> = (0..ids.len()).map(|i| (ids.name(i as u32), i)).collect();
    v.sort_unstable();
    v
}

/// Hex SHA-256 of the canonical state.
pub fn digest(st: &State) -> String {
    let mut h = Canon(Sha256::new());
    h.str("dacu-state-v2");
    h.u64(st.events);
    let user = |u: u32| st.users.name(u);
    for (id, i) in sorted(&st.merchant_ids) {
        let m = &st.merchants[i];
        h.str(id);
        h.str(&m.name);
        h.str(m.brand_tier.as_str());
        h.str(&m.category);
        h.u64(m.bindings.len() as u64);
        for (at, p) in &m.bindings {
            h.i64(at.0);
            h.opt(p.map(|p| st.provider_ids.name(p)));
        }
        h.stats(&m.stats);
    }
    for (id, i) in sorted(&st.anchor_ids) {
        let a = &st.anchors[i];
        h.str(id);
        h.str(&a.name);
        h.i64(a.followers);
        h.opt(a.merchant.map(|m| st.merchant_ids.name(m)));
        h.i64(a.tier.map(i64::from).unwrap_or(-1));
        h.opt(a.live_session.map(|s| st.session_ids.name(s)));
        h.stats(&a.stats);
    }
    for (id, i) in sorted(&st.provider_ids) {
        let p = &st.providers[i];
        h.str(id);
        h.str(&p.name);
        h.i64(p.certified_at.map(|t| t.0).unwrap_or(i64::MIN));
        h.stats(&p.stats);
    }
    for (id, i) in sorted(&st.session_ids) {
        let s = &st.sessions[i];
        h.str(id);
        h.str(st.anchor_ids.name(s.anchor));
        h.i64(s.start.0);
        h.i64(s.end.map(|t| t.0).unwrap_or(i64::MIN));
        let mut present: Vec<(&str, i64)> = s.present.iter().map(|(u, t)| (user(*u), t.0)).collect();
        present.sort_unstable();
        h.u64(present.len() as u64);
        for (u, t) in present {
            h.str(u);
            h.i64(t);
        }
        h.u64(s.unique_viewers.len() as u64);
        h.u64(s.entries);
        h.u64(s.peak_concurrent);
        h.i64(s.watch_ms);
        for x in s.interactions {
            h.u64(x);
        }
        h.stats(&s.stats);
        h.i64(s.last_at.0);
        let cells: Vec<_> = s.curve.nonzero().collect();
        h.u64(cells.len() as u64);
        for (m, c) in cells {
            h.u64(m as u64);
            h.u64(c.entries as u64);
            h.u64(c.left as u64);
        }
        let mut products: Vec<(&str, &str, &crate::state::ProductTotals)> =
            s.products.iter().map(|(&(m, k), p)| (st.merchant_ids.name(m), st.skus.name(k), p)).collect();
        products.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        h.u64(products.len() as u64);
        for (m, k, p) in products {
            h.str(m);
            h.str(k);
            h.u64(p.orders);
            h.i64(p.qty);
            h.i64(p.paid.0);
        }
    }
    let mut orders: Vec<(&str, &crate::state::Order)> = st.orders.iter().map(|(k, v)| (&**k, v)).collect();
    orders.sort_unstable_by_key(|(k, _)| *k);
    h.u64(orders.len() as u64);
    for (id, o) in orders {
        h.str(id);
        h.str(user(o.user));
        h.str(st.merchant_ids.name(o.merchant));
        h.opt(o.anchor.get().map(|a| st.anchor_ids.name(a)));
        h.opt(o.provider.get().map(|p| st.provider_ids.name(p)));
        h.opt(o.session.get().map(|s| st.session_ids.name(s)));
        h.str(o.slices.channel.as_str());
        h.u64(o.slices.self_broadcast as u64);
        h.i64(o.at.0);
        h.i64(o.paid.0);
        h.i64(o.refunded.0);
    }
    let mut refund_ids: Vec<&str> = st.refund_ids.iter().map(|r| &**r).collect();
    refund_ids.sort_unstable();
    h.u64(refund_ids.len() as u64);
    for r in refund_ids {
        h.str(r);
    }
    for (program, members) in &st.enrolments {
        h.str(program);
        h.u64(members.len() as u64);
        let mut named: Vec<(&str, &str, i64)> = members
            .iter()
            .map(|((role, i), at)| {
                let ids = match role {
                    crate::festival::Role::Merchant => &st.merchant_ids,
                    crate::festival::Role::Anchor => &st.anchor_ids,
                    crate::festival::Role::Provider => &st.provider_ids,
                };
                (role.as_str(), ids.name(*i), at.0)
            })
            .collect();
        named.sort_unstable();
        for (r, id, at) in named {
            h.str(r);
            h.str(id);
            h.i64(at);
        }
    }
    h.stats(&st.total);
    for s in &st.by_brand_tier {
        h.stats(s);
    }
    for s in &st.by_anchor_tier {
        h.stats(s);
    }
    // `by_hour` is not hashed: it is a function of the orders (time, paid, refunded),
    // which are, and `dacu check` proves it adds up to the total.
    for (day, s) in &st.by_day {
        h.i64(day.0 as i64);
        h.stats(s);
    }
    market(&mut h, st);
    contests(&mut h, st);
    settlement(&mut h, st);
    keys(&mut h, st);
    traffic(&mut h, st);
    // Programs an operator closed; none hashes as before `set_registration` existed.
    if !st.registration_closed.is_empty() {
        h.str("registration-closed-v1");
        h.u64(st.registration_closed.len() as u64);
        for (program, at) in &st.registration_closed {
            h.str(program);
            h.i64(at.0);
        }
    }
    let out = h.0.finalize();
    crate::hex(&out)
}

/// An order-independent fingerprint of a large set (FxHash is deterministic): the
/// wrapping sum of each entry's hash.
fn set_sum<T: std::hash::Hash>(items: impl Iterator<Item = T>) -> (u64, u64) {
    use std::hash::{BuildHasher, BuildHasherDefault};
    let b = BuildHasherDefault::<rustc_hash::FxHasher>::default();
    items.fold((0, 0), |(n, sum), x| (n + 1, sum.wrapping_add(b.hash_one(x))))
}

/// Guaranteed traffic: each contract (creation order) with its delivery and end, the plan
/// in force with a SHALE plan's pricing, and what every node served under it (by node). A state without traffic
/// hashes as it did before it existed.
fn traffic(h: &mut Canon, st: &State) {
    let b = &st.traffic;
    if b.contracts.is_empty() && b.plan.is_none() && b.opportunities == 0 {
        return;
    }
    h.str("traffic-v1");
    h.u64(b.contracts.len() as u64);
    for c in &b.contracts {
        h.str(&c.rec.id);
        h.u64(c.rec.impressions);
        h.u64(c.delivered);
        match &c.ended {
            Some(e) => {
                h.u64(1);
                h.i64(e.at.0);
                h.u64(e.shortfall);
                h.opt(e.make_good.as_deref());
            }
            None => h.u64(0),
        }
    }
    h.u64(b.plans);
    h.u64(u64::from(b.dirty));
    match &b.plan {
        Some(p) => {
            h.i64(p.at.0);
            h.u64(u64::from(p.hour));
            h.u64(p.entries.len() as u64);
            for e in &p.entries {
                h.str(&e.contract);
                h.u64(e.demand);
                h.u64(e.share_ppb);
            }
        }
        None => h.u64(u64::MAX),
    }
    // A SHALE plan's pricing; an HWM plan hashes as before SHALE was in the engine.
    if let Some(p) = &b.pricing {
        h.str("shale-pricing-v1");
        h.u64(p.zeta_ppb.len() as u64);
        for z in &p.zeta_ppb {
            h.i64(z.unwrap_or(i64::MIN));
        }
        h.u64(p.prices.len() as u64);
        for (n, beta) in &p.prices {
            h.u64(u64::from(*n));
            h.u64(*beta);
        }
    }
    let mut nodes: Vec<_> = b.node_served.iter().collect();
    nodes.sort_unstable_by_key(|(n, _)| **n);
    h.u64(nodes.len() as u64);
    for (n, c) in nodes {
        h.u64(u64::from(*n));
        h.u64(c.unsold);
        for (j, k) in &c.served {
            h.u64(u64::from(*j));
            h.u64(*k);
        }
    }
    for x in [b.opportunities, b.served, b.unsold] {
        h.u64(x);
    }
}

/// The idempotency keys in their recording order (which decides what is forgotten next),
/// each with its record; a state without keys hashes as it did before they existed.
fn keys(h: &mut Canon, st: &State) {
    use crate::idempotency::KeyOutcome;
    if st.keys.is_empty() {
        return;
    }
    h.str("keys-v1");
    h.u64(st.keys.len() as u64);
    for (key, expires_at) in st.keys.order() {
        let Some(r) = st.keys.record_of(key).filter(|r| r.expires_at == expires_at) else {
            continue;
        };
        h.str(key);
        h.str(&r.fingerprint);
        h.i64(r.at.0);
        h.i64(r.expires_at.0);
        h.u64(r.outcomes.len() as u64);
        for o in &r.outcomes {
            match o {
                KeyOutcome::Accepted { first_seq, last_seq } => {
                    h.u64(0);
                    h.u64(*first_seq);
                    h.u64(*last_seq);
                }
                KeyOutcome::Rejected { code, message } => {
                    h.u64(1);
                    h.str(code);
                    h.str(message);
                }
            }
        }
    }
}

fn market(h: &mut Canon, st: &State) {
    use crate::market::{CheckoutState, GroupState, HeldState, Source};
    let m = &st.market;
    h.str("market-v1");
    // Tens of millions of command ids: an order-independent fingerprint (as for the other
    // large sets) instead of a sorted list; no ids hashes as it always did.
    let (n, sum) = m.command_ids.fingerprint();
    h.u64(n);
    if n > 0 {
        h.u64(sum);
    }
    let budget = |h: &mut Canon, b: &crate::market::Budget| {
        h.i64(b.cap.map_or(-1, |c| c.0));
        h.i64(b.spent.0);
        h.i64(b.reserved.0);
    };
    for (id, i) in sorted(&m.coupon_ids) {
        let c = &m.coupons[i];
        h.str(id);
        h.u64(c.claimed);
        h.u64(c.redeemed);
        h.i64(c.gmv.0);
        budget(h, &c.budget);
    }
    let mut users: Vec<(&str, u32)> = m.wallets.keys().map(|&u| (st.users.name(u), u)).collect();
    users.sort_unstable();
    h.u64(users.len() as u64);
    for (name, u) in users {
        let w = &m.wallets[&u];
        h.str(name);
        h.u64(w.coupons.len() as u64);
        for c in &w.coupons {
            h.str(m.coupon_ids.name(c.coupon));
            h.i64(c.claimed_at.0);
            h.i64(c.from.0);
            h.i64(c.until.0);
            match c.state {
                HeldState::Available => h.str("available"),
                HeldState::Reserved(x) => h.str(&format!("reserved:{}", m.checkout_ids.name(x))),
                HeldState::Redeemed(x) => h.str(&format!("redeemed:{}", m.checkout_ids.name(x))),
            }
        }
        h.u64(w.allowances.len() as u64);
        for a in &w.allowances {
            let Source::Packet(p) = a.source;
            h.str(m.packet_ids.name(p));
            h.i64(a.amount.0);
            h.i64(a.left.0);
            h.i64(a.until.0);
        }
    }
    for (id, i) in sorted(&m.fullcut_ids) {
        h.str(id);
        h.u64(m.fullcuts[i].used);
        budget(h, &m.fullcuts[i].budget);
    }
    for (id, i) in sorted(&m.cut_ids) {
        h.str(id);
        budget(h, &m.cuts[i].budget);
    }
    for (id, i) in sorted(&m.deal_ids) {
        let d = &m.deals[i];
        h.str(id);
        h.u64(d.formed);
        h.u64(d.failed);
        budget(h, &d.budget);
    }
    for (id, i) in sorted(&m.group_ids) {
        let g = &m.groups[i];
        h.str(id);
        match g.state {
            GroupState::Open => h.i64(0),
            GroupState::Formed(t) => h.i64(t.0),
            GroupState::Failed(t) => h.i64(-t.0),
        }
        h.u64(g.members.len() as u64);
        for mem in &g.members {
            h.str(user_name(st, mem.user));
            h.str(&mem.order);
        }
    }
    for (id, i) in sorted(&m.packet_ids) {
        let p = &m.packets[i];
        h.str(id);
        h.i64(p.granted.0);
        h.u64(p.grabbers.len() as u64);
        h.i64(p.returned.map_or(-1, |r| r.0));
        h.u64(p.said.len() as u64);
        if let Some(c) = &p.commitment {
            h.str(c);
        }
    }
    for (id, i) in sorted(&m.lottery_ids) {
        let l = &m.lotteries[i];
        h.str(id);
        h.u64(l.said.len() as u64);
        if let Some(d) = &l.drawn {
            h.i64(d.at.0);
            h.u64(d.eligible.len() as u64);
            for w in &d.winners {
                h.str(w);
            }
        }
    }
    for (id, i) in sorted(&m.checkout_ids) {
        let c = &m.checkouts[i];
        h.str(id);
        h.i64(c.quote.pay_total);
        match c.state {
            CheckoutState::Reserved => h.i64(0),
            CheckoutState::Paid(t) => h.i64(t.0),
            CheckoutState::Released(t, _) => h.i64(-t.0),
        }
        for r in &c.returned {
            h.i64(*r);
        }
    }
    let (n, sum) = set_sum(m.follows.iter().map(|(&(a, u), t)| (st.anchor_ids.name(a), st.users.name(u), t.0)));
    h.u64(n);
    h.u64(sum);
    let watch = st.sessions.iter().enumerate().flat_map(|(s, x)| x.watch.iter().map(move |(u, w)| (s as u32, u, w)));
    let (n, sum) = set_sum(watch.map(|(s, u, w)| (st.session_ids.name(s), st.users.name(u), w)));
    h.u64(n);
    h.u64(sum);
}

fn user_name(st: &State, u: u32) -> &str {
    st.users.name(u)
}

/// The races: every board in rank order (ranked entrants), every record by participant
/// id, heat by participant and day, scores and violations.
fn contests(h: &mut Canon, st: &State) {
    use crate::contest::pid_name;
    let c = &st.contests;
    h.str("contests-v1");
    for (d, r) in c.defs.iter().zip(&c.races) {
        h.str(&d.id);
        let mut enrolled: Vec<&str> = r.enrolled.iter().map(|p| pid_name(st, (d.role, *p))).collect();
        enrolled.sort_unstable();
        h.u64(enrolled.len() as u64);
        for e in enrolled {
            h.str(e);
        }
        for ((day, group), t) in &r.boards {
            h.i64(day.map_or(-1, |x| x.0 as i64));
            h.opt(group.map(|g| c.categories.name(g)));
            h.u64(t.board.len() as u64);
            for k in t.board.iter() {
                h.str(&k.id);
                h.i64(k.score);
                h.i64(k.at_ms);
            }
            let mut recs: Vec<(&str, &crate::contest::Rec)> =
                t.recs.iter().map(|(p, rec)| (pid_name(st, (d.role, *p)), rec)).collect();
            recs.sort_unstable_by_key(|(id, _)| *id);
            h.u64(recs.len() as u64);
            for (id, rec) in recs {
                h.str(id);
                h.i64(rec.score);
                h.i64(rec.at.0);
                h.i64(rec.sales);
                h.i64(rec.window_fen);
                h.i64(rec.reached.map_or(i64::MIN, |t| t.0));
                h.u64(rec.ranked as u64);
            }
        }
        let mut base: Vec<(&str, i64)> = r.base_fen.iter().map(|(m, v)| (st.merchant_ids.name(*m), *v)).collect();
        base.sort_unstable();
        for (m, v) in base {
            h.str(m);
            h.i64(v);
        }
        let mut loaded: Vec<(&str, i64)> = r.loaded_fen.iter().map(|(p, v)| (pid_name(st, (d.role, *p)), *v)).collect();
        loaded.sort_unstable();
        for (p, v) in loaded {
            h.str(p);
            h.i64(v);
        }
    }
    let mut heat: Vec<((&str, &str), i32, i64)> =
        c.heat.iter().map(|((p, day), hd)| ((p.0.as_str(), pid_name(st, *p)), day.0, hd.heat)).collect();
    heat.sort_unstable();
    h.u64(heat.len() as u64);
    for ((role, id), day, v) in heat {
        h.str(role);
        h.str(id);
        h.i64(day as i64);
        h.i64(v);
    }
    let mut scores: Vec<((&str, &str), i64)> =
        c.scores.iter().map(|(p, v)| ((p.0.as_str(), pid_name(st, *p)), *v)).collect();
    scores.sort_unstable();
    for ((role, id), v) in scores {
        h.str(role);
        h.str(id);
        h.i64(v);
    }
    for (id, v) in &c.violations {
        h.str(id);
        h.str(v.participant.0.as_str());
        h.str(pid_name(st, v.participant));
        h.i64(v.at.0);
    }
}

/// The settlement ledger: every run, closed board, closed program and line, in order.
/// Payouts and track totals are sums of the lines, so the lines cover them.
fn settlement(h: &mut Canon, st: &State) {
    let s = &st.settlement;
    h.str("settlement-v1");
    h.u64(s.runs.len() as u64);
    for r in &s.runs {
        h.str(&r.id);
        h.i64(r.at.0);
    }
    // JSON of fixed-layout structs is canonical: fields in declaration order, no maps.
    for b in s.boards.values() {
        h.str(&serde_json::to_string(b).expect("a closed board serialises"));
    }
    for (p, n) in &s.programs {
        h.str(p);
        h.u64(*n as u64);
    }
    h.u64(s.lines.len() as u64);
    for l in &s.lines {
        h.str(&serde_json::to_string(l).expect("a ledger line serialises"));
    }
}
