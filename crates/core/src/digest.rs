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
    h.str("dacu-state-v1");
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
    }
    let mut orders: Vec<(&str, &crate::state::Order)> = st.orders.iter().map(|(k, v)| (&**k, v)).collect();
    orders.sort_unstable_by_key(|(k, _)| *k);
    h.u64(orders.len() as u64);
    for (id, o) in orders {
        h.str(id);
        h.str(user(o.user));
        h.str(st.merchant_ids.name(o.merchant));
        h.opt(o.anchor.map(|a| st.anchor_ids.name(a)));
        h.opt(o.provider.map(|p| st.provider_ids.name(p)));
        h.opt(o.session.map(|s| st.session_ids.name(s)));
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
    for (day, s) in &st.by_day {
        h.i64(day.0 as i64);
        h.stats(s);
    }
    let out = h.0.finalize();
    out.iter().map(|b| format!("{b:02x}")).collect()
}
