//! Escrow of a global resource (a coupon's stock): the coordinator leases *slabs* of it to
//! partitions, and a partition spends only what it holds (docs/scale-out.md, "Escrow").
//!
//! Every grant and every return is an [`Entry`] of the escrow's log, in the coordinator's
//! order. At every position of that log, what is out (granted less returned) is at most
//! the resource's total: whatever the partitions do, the festival never hands out more
//! than the total.

use std::collections::BTreeMap;

/// A slab is the total over `SLABS_PER_PARTITION × N` (at least 1): small enough that
/// little stock sits idle in one partition when another runs dry, large enough that a
/// partition asks the coordinator about once per that many claims.
pub const SLABS_PER_PARTITION: u64 = 8;

/// One change of a resource's escrow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Granted { resource: String, partition: u32, amount: u64 },
    Returned { resource: String, partition: u32, amount: u64 },
}

#[derive(Debug, Clone)]
struct Resource {
    total: u64,
    /// Granted less returned, per partition.
    out: Vec<u64>,
}

/// The coordinator's escrow of every resource.
#[derive(Debug, Clone)]
pub struct Escrow {
    partitions: u32,
    resources: BTreeMap<String, Resource>,
    log: Vec<Entry>,
}

impl Escrow {
    pub fn new(partitions: u32) -> Escrow {
        Escrow { partitions, resources: BTreeMap::new(), log: Vec::new() }
    }

    /// Puts a resource in escrow with its total (a coupon's `stock`); a resource defined
    /// before keeps its first total.
    pub fn define(&mut self, resource: &str, total: u64) {
        let n = self.partitions as usize;
        self.resources.entry(resource.to_string()).or_insert_with(|| Resource { total, out: vec![0; n] });
    }

    /// Grants `partition` a slab of `resource`: the policy's slab, or what is left when
    /// less; 0 when nothing is left (or the resource is unknown).
    pub fn grant(&mut self, resource: &str, partition: u32) -> u64 {
        let per = SLABS_PER_PARTITION * u64::from(self.partitions);
        let Some(r) = self.resources.get_mut(resource) else { return 0 };
        let left = r.total - r.out.iter().sum::<u64>();
        let amount = (r.total / per).max(1).min(left);
        if amount > 0 {
            r.out[partition as usize] += amount;
            self.log.push(Entry::Granted { resource: resource.to_string(), partition, amount });
        }
        amount
    }

    /// Takes back `amount` of what `partition` holds (at most what it was granted).
    pub fn give_back(&mut self, resource: &str, partition: u32, amount: u64) {
        let Some(r) = self.resources.get_mut(resource) else { return };
        let amount = amount.min(r.out[partition as usize]);
        if amount > 0 {
            r.out[partition as usize] -= amount;
            self.log.push(Entry::Returned { resource: resource.to_string(), partition, amount });
        }
    }

    /// Defines `resource` as recovered from the partitions' logs: `spent[p]` of it went to
    /// partition `p`'s accepted claims, and is out as granted; nothing else is.
    pub fn restore(&mut self, resource: &str, total: u64, spent: &[u64]) {
        self.define(resource, total);
        for (p, &amount) in spent.iter().enumerate().filter(|(_, a)| **a > 0) {
            let r = self.resources.get_mut(resource).expect("defined above");
            let amount = amount.min(r.total - r.out.iter().sum::<u64>());
            r.out[p] += amount;
            self.log.push(Entry::Granted { resource: resource.to_string(), partition: p as u32, amount });
        }
    }

    /// What no partition holds of `resource`.
    pub fn left(&self, resource: &str) -> u64 {
        self.resources.get(resource).map_or(0, |r| r.total - r.out.iter().sum::<u64>())
    }

    /// Granted less returned, per resource, at the end of the log.
    pub fn out(&self, resource: &str) -> u64 {
        self.resources.get(resource).map_or(0, |r| r.out.iter().sum())
    }

    /// The log of grants and returns, in order.
    pub fn log(&self) -> &[Entry] {
        &self.log
    }

    pub fn total(&self, resource: &str) -> Option<u64> {
        self.resources.get(resource).map(|r| r.total)
    }
}

/// Replays an escrow log: the largest amount out of each resource at any position, to
/// check against its total.
pub fn peak_out(log: &[Entry]) -> BTreeMap<String, u64> {
    let mut out: BTreeMap<String, i128> = BTreeMap::new();
    let mut peak: BTreeMap<String, u64> = BTreeMap::new();
    for e in log {
        let (r, d) = match e {
            Entry::Granted { resource, amount, .. } => (resource, i128::from(*amount)),
            Entry::Returned { resource, amount, .. } => (resource, -i128::from(*amount)),
        };
        let now = out.entry(r.clone()).or_default();
        *now += d;
        let p = peak.entry(r.clone()).or_default();
        *p = (*p).max(u64::try_from(*now).expect("never returned more than granted"));
    }
    peak
}
