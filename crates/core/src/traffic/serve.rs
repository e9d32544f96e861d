//! Serving a plan: each impression opportunity at a node is answered with the contract to
//! show, or none, so that every contract's impressions at that node follow its planned
//! share of the node's opportunities as closely as whole impressions allow.
//!
//! The rule (docs/traffic.md, "Serving"): at the k-th opportunity of node i, with forecast
//! supply s, each contract j planned there for a_j impressions, and "none" counted as one
//! more entry with a_none = s − Σ a_j, the answer is the entry with the largest deficit
//! `a × k − served × s` (its planned share of the k opportunities so far, minus what it
//! got, scaled by s), the earliest in planning order on a tie, "none" last. An entry that
//! has had its whole allocation is not chosen again. Past the forecast (k > s) every
//! contract has had its allocation and the answer is "none" until the node is re-planned.
//! No randomness: the same opportunities give the same answers.

use super::Plan;

/// What one node has served under a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeServed {
    /// Opportunities seen.
    pub seen: u64,
    /// Impressions served, parallel to the plan's `by_node` entry for this node.
    pub served: Vec<u64>,
    /// Opportunities answered with no contract.
    pub unsold: u64,
    /// Impressions the plan gives this node's contracts in all.
    pub planned: u64,
}

/// The serving state of every node of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
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
                })
                .collect(),
        }
    }

    /// Answers the next opportunity at node `i` (forecast supply `supply`): the contract
    /// to show, or `None`; records it.
    pub fn decide(&mut self, plan: &Plan, i: usize, supply: u64) -> Option<u32> {
        let alloc = &plan.by_node[i];
        let st = &mut self.nodes[i];
        st.seen += 1;
        let k = i128::from(st.seen);
        let s = i128::from(supply);
        let mut best: Option<(usize, i128)> = None;
        for (x, &(_, a)) in alloc.iter().enumerate() {
            if st.served[x] >= a {
                continue;
            }
            let deficit = i128::from(a) * k - i128::from(st.served[x]) * s;
            if best.is_none_or(|(_, d)| deficit > d) {
                best = Some((x, deficit));
            }
        }
        let planned = st.planned;
        let none_left = supply.saturating_sub(planned).saturating_sub(st.unsold);
        if none_left > 0 {
            let none = i128::from(supply - planned) * k - i128::from(st.unsold) * s;
            if best.is_none_or(|(_, d)| none > d) {
                st.unsold += 1;
                return None;
            }
        }
        match best {
            Some((x, _)) => {
                st.served[x] += 1;
                Some(alloc[x].0)
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
    use crate::traffic::{hwm, Contract, Instance};
    use proptest::prelude::*;

    fn instance() -> impl Strategy<Value = Instance> {
        (1usize..6).prop_flat_map(|nodes| {
            let supply = proptest::collection::vec(0u64..400, nodes);
            let one = (0u64..800, proptest::collection::btree_set(0u32..nodes as u32, 0..=nodes))
                .prop_map(|(demand, set)| Contract { demand, eligible: set.into_iter().collect(), priority: 0 });
            (supply, proptest::collection::vec(one, 0..6))
                .prop_map(|(supply, contracts)| Instance { supply, contracts })
        })
    }

    proptest! {
        /// Served the forecast number of opportunities, every node gives each contract
        /// exactly its plan; at every step each contract is within one impression of its
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
                        prop_assert!(gap.abs() < i128::from(s), "node {i} entry {x} at {k}: {gap}");
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
