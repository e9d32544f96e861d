//! Serving a plan: each impression opportunity at a node is answered with the contract to
//! show, or none, so that every contract's impressions at that node follow its planned
//! share of the node's opportunities as closely as whole impressions allow.
//!
//! The rule (docs/traffic.md, "Serving"): node i with forecast supply s has entries — the
//! contracts planned there, each with allocation a, in planning order, then "none" with
//! a_none = s − Σ a. An entry's j-th impression is **due** at (2j − 1)·s / (2a): its
//! allocation spread evenly over the node's opportunities, each due at the middle of its
//! stretch. Each opportunity goes to the entry whose next impression is due first (the
//! earliest entry on a tie), among entries with allocation left and not held back by a
//! cap. Once every entry has its allocation (past the forecast), the answer is none.
//! A batch of n opportunities is answered as n single ones would be, in O(m log s) for m
//! entries ([`apportion`]). No randomness: the same opportunities give the same answers.

use super::Plan;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// One entry of a node: a contract planned there, or "none".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Impressions planned for it at the node.
    pub alloc: u64,
    /// Impressions it has had at the node under this plan.
    pub served: u64,
    /// At most this many more now (pacing, eligibility); `u64::MAX` for no cap.
    pub cap: u64,
}

impl Entry {
    /// Impressions it may still take now.
    fn open(&self, given: u64) -> u64 {
        (self.alloc - self.served.min(self.alloc)).min(self.cap).saturating_sub(given)
    }
}

/// Whether unit `j` (1-based) of allocation `a` is due before unit `k` of allocation `b`:
/// (2j − 1)/(2a) < (2k − 1)/(2b), both scaled by the node's supply.
fn due_before(j: u64, a: u64, k: u64, b: u64) -> bool {
    u128::from(2 * j - 1) * u128::from(b) < u128::from(2 * k - 1) * u128::from(a)
}

/// Units of allocation `a` due at or before opportunity `t` of `s`: ⌊(2at + s) / 2s⌋, at
/// most `a`.
fn due_by(a: u64, t: u64, s: u64) -> u64 {
    let x = (2 * u128::from(a) * u128::from(t) + u128::from(s)) / (2 * u128::from(s));
    (x as u64).min(a)
}

/// Answers `n` opportunities at a node with supply `supply`: adds each entry's share to
/// `given` (parallel to `entries`) and returns the opportunities no entry could take.
/// Exactly what `n` single opportunities would give, one after the other.
pub fn apportion(entries: &[Entry], supply: u64, n: u64, given: &mut [u64]) -> u64 {
    given.iter_mut().for_each(|g| *g = 0);
    if supply == 0 || n == 0 {
        return n;
    }
    let mut left = n;
    if n > 1 {
        // Everything due by opportunity t, for the largest t whose total fits in n.
        let count = |t: u64| -> u64 {
            entries.iter().map(|e| due_by(e.alloc, t, supply).saturating_sub(e.served).min(e.cap)).sum()
        };
        let (mut lo, mut hi) = (0u64, supply);
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if count(mid) <= n {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        for (e, g) in entries.iter().zip(given.iter_mut()) {
            *g = due_by(e.alloc, lo, supply).saturating_sub(e.served).min(e.cap);
            left -= *g;
        }
    }
    // The rest one at a time: fewer than one per entry after the bulk.
    while left > 0 {
        let mut best: Option<usize> = None;
        for (x, e) in entries.iter().enumerate() {
            if e.open(given[x]) == 0 {
                continue;
            }
            let next = e.served + given[x] + 1;
            let earlier = match best {
                None => true,
                Some(b) => due_before(next, e.alloc, entries[b].served + given[b] + 1, entries[b].alloc),
            };
            if earlier {
                best = Some(x);
            }
        }
        let Some(b) = best else { break };
        given[b] += 1;
        left -= 1;
    }
    left
}

/// What one node has served under a plan.
#[derive(Debug, Clone, Default)]
pub struct NodeServed {
    /// Opportunities seen.
    pub seen: u64,
    /// Impressions served, parallel to the plan's `by_node` entry for this node.
    pub served: Vec<u64>,
    /// Opportunities answered with no contract.
    pub unsold: u64,
    /// Impressions the plan gives this node's contracts in all.
    pub planned: u64,
    /// The entries with allocation left, by their next unit's due point (made at the
    /// node's first decision): a single decision is O(log m), not a scan of the m entries.
    queue: BinaryHeap<Due>,
}

/// An entry's next unit in a node's queue: unit `j` (1-based) of allocation `a`, entry
/// `x` (the plan's contracts in order, then "none" last).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Due {
    j: u64,
    a: u64,
    x: u32,
}

impl Ord for Due {
    /// The heap's greatest is the unit due first, the earliest entry on a tie — the
    /// choice [`apportion`] makes for one opportunity.
    fn cmp(&self, o: &Self) -> Ordering {
        if due_before(self.j, self.a, o.j, o.a) {
            Ordering::Greater
        } else if due_before(o.j, o.a, self.j, self.a) {
            Ordering::Less
        } else {
            o.x.cmp(&self.x)
        }
    }
}

impl PartialOrd for Due {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// The serving state of every node of a plan.
#[derive(Debug, Clone)]
pub struct Served {
    pub nodes: Vec<NodeServed>,
}

impl Served {
    /// Nothing served yet.
    pub fn new(plan: &Plan) -> Served {
        Served {
            nodes: plan
                .by_node
                .iter()
                .map(|a| NodeServed {
                    seen: 0,
                    served: vec![0; a.len()],
                    unsold: 0,
                    planned: a.iter().map(|(_, n)| n).sum(),
                    queue: BinaryHeap::new(),
                })
                .collect(),
        }
    }

    /// Answers the next opportunity at node `i` (forecast supply `supply`): the contract
    /// to show, or `None`; records it. The same answers as [`apportion`] of one
    /// opportunity, without caps, but from a queue kept per node.
    pub fn decide(&mut self, plan: &Plan, i: usize, supply: u64) -> Option<u32> {
        self.decide_open(plan, i, supply, |_| true)
    }

    /// As [`Served::decide`], but a contract for which `open` says no is passed over, for
    /// good: it is dropped from the node's queue, as an entry whose cap has fallen to 0
    /// for the rest of the plan (a contract that has all it was promised).
    pub fn decide_open(&mut self, plan: &Plan, i: usize, supply: u64, open: impl Fn(u32) -> bool) -> Option<u32> {
        let alloc = &plan.by_node[i];
        let st = &mut self.nodes[i];
        if st.seen == 0 {
            let none = supply.saturating_sub(st.planned);
            let units = alloc.iter().map(|&(_, a)| a).chain([none]);
            st.queue = units.enumerate().filter(|&(_, a)| a > 0).map(|(x, a)| Due { j: 1, a, x: x as u32 }).collect();
        }
        st.seen += 1;
        let mut next = loop {
            match st.queue.pop() {
                None => {
                    st.unsold += 1;
                    return None;
                }
                Some(d) if alloc.get(d.x as usize).is_some_and(|&(c, _)| !open(c)) => continue,
                Some(d) => break d,
            }
        };
        if next.j < next.a {
            next.j += 1;
            st.queue.push(next);
        }
        match alloc.get(next.x as usize) {
            Some(&(contract, _)) => {
                st.served[next.x as usize] += 1;
                Some(contract)
            }
            None => {
                st.unsold += 1;
                None
            }
        }
    }

    /// Impressions served to contract `j` at node `i`.
    pub fn served(&self, plan: &Plan, i: usize, j: u32) -> u64 {
        plan.by_node[i].iter().zip(&self.nodes[i].served).find(|((c, _), _)| *c == j).map_or(0, |(_, n)| *n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::{hwm, Instance};
    use proptest::prelude::*;

    fn instance() -> impl Strategy<Value = Instance> {
        crate::traffic::testing::instance(6, 400, 6, 800, 1)
    }

    fn entries() -> impl Strategy<Value = (Vec<Entry>, u64)> {
        (proptest::collection::vec((0u64..60, 0u64..70, 0u64..80), 1..6), 0u64..40).prop_map(|(v, extra)| {
            let es: Vec<Entry> = v
                .into_iter()
                .map(|(alloc, served, cap)| Entry {
                    alloc,
                    served: served.min(alloc),
                    cap: if cap > 60 { u64::MAX } else { cap },
                })
                .collect();
            let supply = es.iter().map(|e| e.alloc).sum::<u64>() + extra;
            (es, supply)
        })
    }

    proptest! {
        /// A batch of n gives what n single opportunities give one after the other, and
        /// never more than an entry's allocation or cap.
        #[test]
        fn a_batch_is_its_singles((es, supply) in entries(), n in 0u64..200) {
            let mut batch = vec![0; es.len()];
            let beyond = apportion(&es, supply, n, &mut batch);
            let mut one = es.clone();
            let mut singles = vec![0u64; es.len()];
            let mut unanswered = 0;
            for _ in 0..n {
                let mut g = vec![0; es.len()];
                unanswered += apportion(&one, supply, 1, &mut g);
                for (x, gx) in g.iter().enumerate() {
                    singles[x] += gx;
                    one[x].served += gx;
                    if one[x].cap != u64::MAX {
                        one[x].cap -= gx;
                    }
                }
            }
            prop_assert_eq!(&batch, &singles);
            prop_assert_eq!(beyond, unanswered);
            prop_assert_eq!(batch.iter().sum::<u64>() + beyond, n);
            for (e, g) in es.iter().zip(&batch) {
                prop_assert!(e.served + g <= e.alloc.max(e.served));
                prop_assert!(*g <= e.cap);
            }
        }

        /// A node's queue answers exactly as [`apportion`] of one opportunity at a time.
        #[test]
        fn decide_is_apportion_one_at_a_time(inst in instance(), extra in 0u64..5) {
            let plan = hwm::plan(&inst).unwrap();
            let mut st = Served::new(&plan);
            for (i, &s) in inst.supply.iter().enumerate() {
                let alloc = &plan.by_node[i];
                let planned: u64 = alloc.iter().map(|(_, a)| a).sum();
                let mut es: Vec<Entry> = alloc.iter().map(|&(_, a)| Entry { alloc: a, served: 0, cap: u64::MAX }).collect();
                es.push(Entry { alloc: s.saturating_sub(planned), served: 0, cap: u64::MAX });
                for _ in 0..s + extra {
                    let mut g = vec![0; es.len()];
                    apportion(&es, s, 1, &mut g);
                    let want = g.iter().position(|&x| x > 0);
                    if let Some(x) = want {
                        es[x].served += 1;
                    }
                    let got = st.decide(&plan, i, s);
                    prop_assert_eq!(got, want.filter(|&x| x < alloc.len()).map(|x| alloc[x].0));
                }
            }
        }

        /// Served the forecast number of opportunities, every node gives each contract
        /// exactly its plan; at every step each contract is less than two impressions from its
        /// planned share of the opportunities so far; past the forecast, nothing more.
        #[test]
        fn serving_follows_the_plan_and_ends_exactly_on_it(inst in instance()) {
            let plan = hwm::plan(&inst).unwrap();
            let mut st = Served::new(&plan);
            for (i, &s) in inst.supply.iter().enumerate() {
                for k in 1..=s {
                    st.decide(&plan, i, s);
                    for (x, &(_, a)) in plan.by_node[i].iter().enumerate() {
                        let gap = i128::from(a) * i128::from(k) - i128::from(st.nodes[i].served[x]) * i128::from(s);
                        prop_assert!(gap.abs() < 2 * i128::from(s), "node {i} entry {x} at {k}: {gap}");
                    }
                }
                for &(j, a) in &plan.by_node[i] {
                    prop_assert_eq!(st.served(&plan, i, j), a);
                }
                for _ in 0..3 {
                    prop_assert_eq!(st.decide(&plan, i, s), None);
                }
            }
        }
    }
}
