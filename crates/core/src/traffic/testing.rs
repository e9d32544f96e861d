//! What the planners' and the serving rule's property tests share: random instances, and
//! the checks every valid plan passes.

use super::{Contract, Instance, Plan};
use proptest::prelude::*;

/// Random instances: 1 to `nodes − 1` nodes of supply below `supply`, fewer than
/// `contracts` contracts, each demanding below `demand` from any subset of the nodes, at a
/// priority below `priorities` (at least 1).
pub fn instance(
    nodes: usize,
    supply: u64,
    contracts: usize,
    demand: u64,
    priorities: u8,
) -> impl Strategy<Value = Instance> {
    (1usize..nodes).prop_flat_map(move |n| {
        let supplies = proptest::collection::vec(0u64..supply, n);
        let one = (0u64..demand, proptest::collection::btree_set(0u32..n as u32, 0..=n), 0u8..priorities.max(1))
            .prop_map(|(demand, set, priority)| Contract { demand, eligible: set.into_iter().collect(), priority });
        (supplies, proptest::collection::vec(one, 0..contracts))
            .prop_map(|(supply, contracts)| Instance { supply, contracts })
    })
}

/// No node gives more than its supply; no contract gets anything from a node it is not
/// eligible for; each contract's allocations sum to its `planned`, and planned + shortfall
/// = demand.
pub fn check_plan(inst: &Instance, p: &Plan) -> Result<(), TestCaseError> {
    for (i, alloc) in p.by_node.iter().enumerate() {
        prop_assert!(alloc.iter().map(|(_, n)| n).sum::<u64>() <= inst.supply[i]);
        for (j, n) in alloc {
            prop_assert!(*n > 0);
            prop_assert!(inst.contracts[*j as usize].eligible.contains(&(i as u32)));
        }
    }
    for (j, c) in inst.contracts.iter().enumerate() {
        let got: u64 = (0..inst.supply.len()).map(|i| p.allocated(i, j as u32)).sum();
        prop_assert_eq!(got, p.planned[j]);
        prop_assert_eq!(p.planned[j] + p.shortfall[j], c.demand);
    }
    Ok(())
}
