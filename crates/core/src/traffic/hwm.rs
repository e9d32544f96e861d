//! The High Water Mark planner (Chen, Berkhin, Anderson, Devanur: "Real-time bidding
//! algorithms for performance-based display ad allocation", and the HWM heuristic of
//! guaranteed delivery, EC'12), in integers. docs/traffic.md, "HWM", states it step by
//! step with a worked example.
//!
//! 1. Order the contracts: higher `priority` first; then less total eligible supply first
//!    (the most constrained contract chooses first); then by index.
//! 2. Every node starts with its forecast supply remaining.
//! 3. For each contract in order, find the smallest share α (parts per billion) such that
//!    taking `min(remaining_i, floor(supply_i × α / 10⁹))` from every eligible node covers
//!    the demand. If even α = 10⁹ (all that remains) does not, take all that remains and
//!    record the shortfall. Taking at the smallest α can pass the demand by a few
//!    impressions (each node's take is rounded down separately); the excess is given back
//!    one impression per node, from the last eligible node backwards.
//! 4. Subtract what the contract took from each node's remaining supply.

use super::{give_back, smallest_reaching, Instance, Invalid, Plan, PPB};

/// Plans `inst` with HWM.
pub fn plan(inst: &Instance) -> Result<Plan, Invalid> {
    inst.validate()?;
    let order = planning_order(inst);
    Ok(run(inst, order, None))
}

/// The plan HWM gives with the planning order and shares already known (a recorded
/// plan), made again without the search: the same takes, node by node.
pub fn replay(inst: &Instance, order: &[u32], shares_ppb: &[u64]) -> Result<Plan, Invalid> {
    inst.validate()?;
    let n = inst.contracts.len();
    let mut seen = vec![false; n];
    let ok = order.len() == n
        && shares_ppb.len() == n
        && order.iter().all(|&j| (j as usize) < n && !std::mem::replace(&mut seen[j as usize], true));
    if !ok {
        return Err(Invalid::Eligible { contract: 0, why: "the recorded order or shares do not match the contracts" });
    }
    Ok(run(inst, order.to_vec(), Some(shares_ppb)))
}

fn run(inst: &Instance, order: Vec<u32>, shares_ppb: Option<&[u64]>) -> Plan {
    let mut remaining = inst.supply.clone();
    let n = inst.contracts.len();
    let mut plan = Plan {
        order: order.clone(),
        share_ppb: vec![0; n],
        by_node: vec![Vec::new(); inst.supply.len()],
        planned: vec![0; n],
        shortfall: vec![0; n],
    };
    for &j in &order {
        let c = &inst.contracts[j as usize];
        let share = match shares_ppb {
            Some(s) => s[j as usize].min(PPB),
            None => share_for(&inst.supply, &remaining, &c.eligible, c.demand),
        };
        let takes = takes_at(&inst.supply, &remaining, &c.eligible, c.demand, share);
        let mut total = 0u64;
        for (&i, &t) in c.eligible.iter().zip(&takes) {
            if t > 0 {
                remaining[i as usize] -= t;
                plan.by_node[i as usize].push((j, t));
                total += t;
            }
        }
        plan.share_ppb[j as usize] = share;
        plan.planned[j as usize] = total;
        plan.shortfall[j as usize] = c.demand.saturating_sub(total);
    }
    plan
}

/// Contracts by priority (high first), then eligible supply (low first), then index.
fn planning_order(inst: &Instance) -> Vec<u32> {
    let mut keyed: Vec<(u8, u64, u32)> =
        (0..inst.contracts.len()).map(|j| (inst.contracts[j].priority, inst.eligible_supply(j), j as u32)).collect();
    keyed.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    keyed.into_iter().map(|(_, _, j)| j).collect()
}

/// What one node gives at share `ppb`: its proportional take, capped by what remains.
/// In 64 bits whenever the product fits (the same quotient), else in 128.
fn take_at(supply: u64, remaining: u64, ppb: u64) -> u64 {
    let proportional = match supply.checked_mul(ppb) {
        Some(p) => p / PPB,
        None => (u128::from(supply) * u128::from(ppb) / u128::from(PPB)) as u64,
    };
    proportional.min(remaining)
}

/// The contract's share: the smallest whose takes reach the demand, or all (10⁹).
///
/// The search starts where the answer must be: no share below
/// `floor(demand × 10⁹ / Σ supply)` can reach the demand (each take is at most
/// `supply × share / 10⁹`), and when little is capped the answer lies within about one
/// impression per node above it. So a window is grown from there by doubling until its
/// top reaches the demand, then bisected — the same smallest share as bisecting all of
/// [0, 10⁹] (the total is monotone in the share), in a few evaluations instead of thirty.
fn share_for(supply: &[u64], remaining: &[u64], eligible: &[u32], demand: u64) -> u64 {
    let total_at =
        |ppb: u64| -> u64 { eligible.iter().map(|&i| take_at(supply[i as usize], remaining[i as usize], ppb)).sum() };
    if total_at(PPB) < demand {
        return PPB;
    }
    let eligible_supply: u128 = eligible.iter().map(|&i| u128::from(supply[i as usize])).sum();
    // total_at(PPB) ≥ demand > 0 means some supply; demand 0 is met at share 0.
    let floor = (u128::from(demand) * u128::from(PPB)).checked_div(eligible_supply).unwrap_or(0);
    let mut lo = (floor as u64).min(PPB);
    let mut step = ((eligible.len() as u128 * u128::from(PPB)).checked_div(eligible_supply).unwrap_or(0) as u64).max(1);
    let mut hi = lo.saturating_add(step).min(PPB);
    while total_at(hi) < demand {
        lo = hi + 1;
        step = step.saturating_mul(2);
        hi = lo.saturating_add(step).min(PPB);
    }
    // Every share below `lo` falls short and `hi` reaches the demand.
    smallest_reaching(lo as i64, hi as i64, |a| total_at(a as u64) >= demand) as u64
}

/// The take from each eligible node (in `eligible`'s order) at `share`, with the
/// rounding's excess over `demand` given back.
fn takes_at(supply: &[u64], remaining: &[u64], eligible: &[u32], demand: u64, share: u64) -> Vec<u64> {
    let mut takes: Vec<u64> =
        eligible.iter().map(|&i| take_at(supply[i as usize], remaining[i as usize], share)).collect();
    give_back(&mut takes, demand);
    takes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::Contract;
    use proptest::prelude::*;

    fn contract(demand: u64, eligible: &[u32]) -> Contract {
        Contract { demand, eligible: eligible.to_vec(), priority: 0 }
    }

    /// The worked example of docs/traffic.md, "HWM".
    #[test]
    fn the_worked_example() {
        let inst = Instance {
            supply: vec![400, 400, 200],
            contracts: vec![contract(300, &[0, 1, 2]), contract(200, &[2]), contract(500, &[0, 1])],
        };
        let p = plan(&inst).unwrap();
        // B (200 eligible) first, then C (800), then A (1,000).
        assert_eq!(p.order, vec![1, 2, 0]);
        assert_eq!(p.share_ppb, vec![375_000_000, PPB, 625_000_000]);
        assert_eq!(p.by_node, vec![vec![(2, 250), (0, 150)], vec![(2, 250), (0, 150)], vec![(1, 200)]]);
        assert_eq!(p.shortfall, vec![0, 0, 0]);
    }

    #[test]
    fn a_contract_short_of_supply_takes_all_and_records_the_rest() {
        let inst = Instance { supply: vec![100, 50], contracts: vec![contract(400, &[0, 1])] };
        let p = plan(&inst).unwrap();
        assert_eq!((p.planned[0], p.shortfall[0], p.share_ppb[0]), (150, 250, PPB));
    }

    /// A re-plan moves what a short node could not give to the supply still to come.
    #[test]
    fn a_replan_covers_a_short_node_from_the_rest() {
        let inst = Instance { supply: vec![100, 100], contracts: vec![contract(100, &[0, 1])] };
        let p = plan(&inst).unwrap();
        assert_eq!(p.by_node, vec![vec![(0, 50)], vec![(0, 50)]]);
        // Node 0 had only 20 opportunities, all shown; its hour is over.
        let rest = inst.residual(&[100, 0], &[20]);
        assert_eq!((rest.supply.clone(), rest.contracts[0].demand), (vec![0, 100], 80));
        let p2 = plan(&rest).unwrap();
        assert_eq!((p2.by_node[1].clone(), p2.shortfall[0]), (vec![(0, 80)], 0));
        // Past its demand, a contract has nothing left to plan.
        assert_eq!(inst.residual(&[0, 0], &[150]).contracts[0].demand, 0);
    }

    #[test]
    fn bad_eligibility_is_refused() {
        let inst = Instance { supply: vec![1], contracts: vec![contract(1, &[0, 0])] };
        assert!(plan(&inst).is_err());
        let inst = Instance { supply: vec![1], contracts: vec![contract(1, &[1])] };
        assert!(plan(&inst).is_err());
    }

    fn instance() -> impl Strategy<Value = Instance> {
        crate::traffic::testing::instance(12, 10_000, 10, 20_000, 3)
    }

    /// The smallest share by bisecting all of [0, 10⁹] in 128 bits: what `share_for`'s
    /// narrowed search and 64-bit takes must agree with.
    fn share_by_full_bisection(supply: &[u64], remaining: &[u64], eligible: &[u32], demand: u64) -> u64 {
        let total_at = |ppb: u64| -> u64 {
            eligible
                .iter()
                .map(|&i| {
                    let s = u128::from(supply[i as usize]);
                    ((s * u128::from(ppb) / u128::from(PPB)) as u64).min(remaining[i as usize])
                })
                .sum()
        };
        if total_at(PPB) < demand {
            return PPB;
        }
        let (mut lo, mut hi) = (0u64, PPB);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if total_at(mid) >= demand {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        lo
    }

    proptest! {
        /// The narrowed search finds the share the full bisection finds, with supplies
        /// small and large (past 64 bits once multiplied), remaining capped or not.
        #[test]
        fn the_narrowed_search_finds_the_smallest_share(
            nodes in proptest::collection::vec((prop_oneof![0u64..1_000, 0u64..100_000_000, any::<u64>()], 0u64..=100), 1..12),
            demand_pct in 0u64..=120,
        ) {
            let supply: Vec<u64> = nodes.iter().map(|n| n.0 >> 8).collect();
            let remaining: Vec<u64> = nodes.iter().map(|&(s, pct)| ((u128::from(s >> 8) * u128::from(pct)) / 100) as u64).collect();
            let eligible: Vec<u32> = (0..supply.len() as u32).collect();
            let total: u128 = remaining.iter().map(|&r| u128::from(r)).sum();
            let demand = (total * u128::from(demand_pct) / 100).min(u128::from(u64::MAX / 4)) as u64;
            prop_assert_eq!(
                share_for(&supply, &remaining, &eligible, demand),
                share_by_full_bisection(&supply, &remaining, &eligible, demand)
            );
        }

        /// No node gives more than its supply; no contract gets more than its demand or
        /// anything from a node it is not eligible for; planned + shortfall = demand.
        #[test]
        fn plans_respect_supply_demand_and_eligibility(inst in instance()) {
            let p = plan(&inst).unwrap();
            crate::traffic::testing::check_plan(&inst, &p)?;
        }

        /// A recorded plan's order and shares make the same plan again.
        #[test]
        fn replaying_the_shares_gives_the_same_plan(inst in instance()) {
            let p = plan(&inst).unwrap();
            prop_assert_eq!(replay(&inst, &p.order, &p.share_ppb).unwrap(), p);
        }

        /// A contract falls short only when the nodes it may use have nothing left.
        #[test]
        fn a_shortfall_means_its_supply_is_used_up(inst in instance()) {
            let p = plan(&inst).unwrap();
            for (j, c) in inst.contracts.iter().enumerate() {
                if p.shortfall[j] > 0 {
                    for &i in &c.eligible {
                        let used: u64 = p.by_node[i as usize].iter().map(|(_, n)| n).sum();
                        prop_assert_eq!(used, inst.supply[i as usize], "node {} has supply left", i);
                    }
                }
            }
        }
    }
}
