//! Figures merged from the partitions: a merchant's, anchor's or provider's sales are
//! sums of exact integers over the partitions that recorded its orders, and its buyers the
//! union of each partition's (by user id, since each partition numbers users its own way).

use crate::partition::Partitioned;
use dacu_core::state::{Money2, Stats};
use dacu_core::Engine;
use std::collections::BTreeSet;

/// Whose sales.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Of {
    Merchant,
    Anchor,
    Provider,
}

/// Sales figures, as [`Stats`] holds them, with the buyers by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    /// Per channel (live, shelf).
    pub channel: [Money2; 2],
    pub orders: [u64; 2],
    pub self_broadcast: Money2,
    pub provider_served: Money2,
    pub provider_served_self_broadcast: Money2,
    pub buyers: BTreeSet<String>,
}

fn add(a: &mut Money2, b: &Money2) {
    a.gross.0 += b.gross.0;
    a.refunded.0 += b.refunded.0;
}

impl Totals {
    /// One engine's figures.
    pub fn of(e: &Engine, s: &Stats) -> Totals {
        let users = &e.state().users;
        Totals {
            channel: s.channel,
            orders: s.orders,
            self_broadcast: s.self_broadcast,
            provider_served: s.provider_served,
            provider_served_self_broadcast: s.provider_served_self_broadcast,
            buyers: s.buyers.iter().map(|u| users.name(u).to_string()).collect(),
        }
    }

    fn add(&mut self, o: Totals) {
        for c in 0..2 {
            add(&mut self.channel[c], &o.channel[c]);
            self.orders[c] += o.orders[c];
        }
        add(&mut self.self_broadcast, &o.self_broadcast);
        add(&mut self.provider_served, &o.provider_served);
        add(&mut self.provider_served_self_broadcast, &o.provider_served_self_broadcast);
        self.buyers.extend(o.buyers);
    }
}

/// The figures of `id` in one engine, if it knows it.
pub fn totals_in(e: &Engine, of: Of, id: &str) -> Option<Totals> {
    let st = e.state();
    let stats = match of {
        Of::Merchant => &st.merchants[st.merchant_ids.get(id)? as usize].stats,
        Of::Anchor => &st.anchors[st.anchor_ids.get(id)? as usize].stats,
        Of::Provider => &st.providers[st.provider_ids.get(id)? as usize].stats,
    };
    Some(Totals::of(e, stats))
}

impl Partitioned {
    /// The figures of `id` over every partition.
    pub fn totals(&self, of: Of, id: &str) -> Option<Totals> {
        let mut sum: Option<Totals> = None;
        for p in &self.parts {
            if let Some(t) = totals_in(p.engine(), of, id) {
                sum.get_or_insert_with(Totals::default).add(t);
            }
        }
        sum
    }
}
