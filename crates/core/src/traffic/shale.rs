//! The SHALE planner (Bharadwaj, Chen, Ma, Nagarajan, Tomlin, Vassilvitskii, Vee, Yang:
//! "SHALE: An Efficient Algorithm for Allocation of Guaranteed Display Advertising",
//! KDD'12), in integers. docs/traffic.md, "SHALE", states it formula by formula with a
//! worked example.
//!
//! SHALE plans like HWM, but first prices the supply. Each node `i` gets a price `β_i` and
//! each contract `j` a dual `α_j`; contract `j` would like the fraction
//! `g_ij(λ) = θ_j · max(0, 1 + λ)` of node `i` at `λ = α_j − β_i`, where `θ_j = d_j / S_j`
//! is its even share of its eligible supply. Stage one alternates, a fixed number of
//! times: every node's price so that the fractions wanted of it sum to at most 1, then
//! every contract's dual so that, at those prices, it would get its demand. Stage two is
//! HWM's greedy pass with the prices: in HWM's order, each contract takes
//! `min(remaining_i, g_ij(ζ_j − β_i))` of each node at the smallest `ζ_j` that covers its
//! demand. So a contract takes less from the nodes others need more (a high `β_i`) and
//! more from those nobody else wants, where HWM takes the same share of every node.
//!
//! Arithmetic: duals and fractions are integers in parts per billion, products in `u128`,
//! every rounding in the direction that keeps the plan valid (a node's price up, a take
//! down), and every tie by index; there are no floats, so a plan is the same on every
//! machine. The iteration count is fixed ([`Options::iterations`]) rather than a
//! convergence test, so the same instance always gives the same plan.

use super::{give_back, smallest_reaching, Instance, Invalid, Plan, PPB};

/// Stage one's iterations by default. The duals approach their fixed point slowly where
/// nodes are contended: on `dacu bench traffic --load-pct 100` (the default 1,000 nodes
/// and 10,000 contracts) the planned shortfall is 0.22% of demand after 0 iterations,
/// 0.12% after 20, 0.07% after 50 and 0.05% after 100 (HWM: 0.22%), at about 13 ms an
/// iteration on a 2-core VM; 50 keeps that instance's plan within 1 s.
pub const DEFAULT_ITERATIONS: u32 = 50;

/// The largest dual `α_j` by default, in parts per billion: the paper's under-delivery
/// penalty `p_j`, the same for every contract. Two contracts that each want all of one
/// node would raise their duals (and the node's price) without end; the cap stops them.
/// Caps of 1, 4 and 100 gave the same planned shortfall on `dacu bench traffic --nodes 100
/// --contracts 300 --load-pct 100`; 4 lets a contested contract ask for several times its
/// even share before it stops.
pub const DEFAULT_ALPHA_MAX_PPB: u64 = 4 * PPB;

/// The largest cap [`Options::alpha_max_ppb`] takes (a million times the whole): larger
/// caps are lowered to it, so that every dual and price fits the integer arithmetic.
pub const MAX_ALPHA_PPB: u64 = 1_000_000 * PPB;

/// SHALE's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Stage one's iterations (each: every node's price, then every contract's dual). 0
    /// prices the nodes once from `α = 0`.
    pub iterations: u32,
    /// The cap on every `α_j`, in parts per billion (at most [`MAX_ALPHA_PPB`]).
    pub alpha_max_ppb: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options { iterations: DEFAULT_ITERATIONS, alpha_max_ppb: DEFAULT_ALPHA_MAX_PPB }
    }
}

/// SHALE's plan and the duals it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Solution {
    pub plan: Plan,
    /// Per contract: `θ_j`, its even share of its eligible supply, in ppb (at most 10⁹).
    pub theta_ppb: Vec<u64>,
    /// Per contract: `α_j` after stage one, in ppb.
    pub alpha_ppb: Vec<u64>,
    /// Per node: `β_i`, its price from the final `α`s, in ppb.
    pub beta_ppb: Vec<u64>,
    /// Per contract: `ζ_j`, stage two's dual, in ppb; `None` for a contract that took all
    /// that remained on its nodes and still fell short (the paper's `ζ_j = ∞`).
    pub zeta_ppb: Vec<Option<i64>>,
}

/// Plans `inst` with SHALE and the default [`Options`].
pub fn plan(inst: &Instance) -> Result<Plan, Invalid> {
    solve(inst, Options::default()).map(|s| s.plan)
}

/// Runs both stages of SHALE on `inst`.
pub fn solve(inst: &Instance, opts: Options) -> Result<Solution, Invalid> {
    inst.validate()?;
    let eligible_supply: Vec<u64> = (0..inst.contracts.len()).map(|j| inst.eligible_supply(j)).collect();
    let theta: Vec<u64> = inst.contracts.iter().zip(&eligible_supply).map(|(c, &s)| theta_ppb(c.demand, s)).collect();
    let at_node = contracts_by_node(inst, &theta);
    let alpha_max = opts.alpha_max_ppb.min(MAX_ALPHA_PPB);
    let mut alpha = vec![0u64; inst.contracts.len()];
    let mut beta = vec![0u64; inst.supply.len()];
    let mut scratch = Vec::new();
    for _ in 0..opts.iterations {
        price_nodes(&at_node, &alpha, &theta, &mut beta, &mut scratch);
        for (j, c) in inst.contracts.iter().enumerate() {
            if theta[j] > 0 {
                let a = contract_dual(&inst.supply, &beta, &c.eligible, eligible_supply[j], &mut scratch);
                alpha[j] = a.min(alpha_max);
            }
        }
    }
    price_nodes(&at_node, &alpha, &theta, &mut beta, &mut scratch);
    let (plan, zeta) = allocate(inst, &theta, &beta, &eligible_supply, planning_order(inst), None);
    Ok(Solution { plan, theta_ppb: theta, alpha_ppb: alpha, beta_ppb: beta, zeta_ppb: zeta })
}

/// HWM's planning order (docs/traffic.md, "HWM", step 1), which SHALE's stage two also
/// follows: higher priority first, then less eligible supply, then index.
pub fn planning_order(inst: &Instance) -> Vec<u32> {
    let mut keyed: Vec<(u8, u64, u32)> =
        (0..inst.contracts.len()).map(|j| (inst.contracts[j].priority, inst.eligible_supply(j), j as u32)).collect();
    keyed.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    keyed.into_iter().map(|(_, _, j)| j).collect()
}

/// `θ_j = ⌈min(d, S) · 10⁹ / S⌉`: the share of every eligible node that would cover the
/// demand evenly (all of it when the demand passes the supply), rounded up so that a
/// contract with any demand wants something; 0 with no demand or no supply.
fn theta_ppb(demand: u64, eligible_supply: u64) -> u64 {
    if demand == 0 || eligible_supply == 0 {
        return 0;
    }
    let wanted = u128::from(demand.min(eligible_supply)) * u128::from(PPB);
    wanted.div_ceil(u128::from(eligible_supply)) as u64
}

/// Per node: the contracts eligible there that want anything (`θ > 0`), by index.
fn contracts_by_node(inst: &Instance, theta: &[u64]) -> Vec<Vec<u32>> {
    let mut at_node = vec![Vec::new(); inst.supply.len()];
    for (j, c) in inst.contracts.iter().enumerate() {
        if theta[j] > 0 {
            for &i in &c.eligible {
                at_node[i as usize].push(j as u32);
            }
        }
    }
    at_node
}

/// Every node's price from the current duals.
fn price_nodes(at_node: &[Vec<u32>], alpha: &[u64], theta: &[u64], beta: &mut [u64], scratch: &mut Vec<(u64, u64)>) {
    for (i, cs) in at_node.iter().enumerate() {
        scratch.clear();
        scratch.extend(cs.iter().map(|&j| (PPB + alpha[j as usize], theta[j as usize])));
        beta[i] = node_price(scratch);
    }
}

/// The smallest integer `β ≥ 0` with `F(β) = Σ θ_j · max(0, 10⁹ + α_j − β) ≤ 10¹⁸`: the
/// fractions wanted of the node (in ppb, scaled by another 10⁹) sum to at most the whole.
/// `wants` holds `(10⁹ + α_j, θ_j)` per contract; it is sorted here. `F` falls piecewise
/// linearly, bending at each `10⁹ + α_j`: walking those from the highest, the segment
/// where `F` crosses 10¹⁸ gives `β` in closed form.
fn node_price(wants: &mut [(u64, u64)]) -> u64 {
    let whole = u128::from(PPB) * u128::from(PPB);
    if wants.iter().map(|&(b, t)| u128::from(b) * u128::from(t)).sum::<u128>() <= whole {
        return 0;
    }
    wants.sort_unstable_by(|x, y| y.cmp(x));
    let (mut theta_sum, mut weighted) = (0u128, 0u128);
    for k in 0..wants.len() {
        let (b, t) = wants[k];
        theta_sum += u128::from(t);
        weighted += u128::from(b) * u128::from(t);
        // F on the segment where exactly the first k + 1 contracts still want something:
        // weighted − β · theta_sum, down to the next bend (or 0). F(0) passes the whole,
        // so the last segment (down to 0) always crosses it.
        let next = wants.get(k + 1).map_or(0, |w| u128::from(w.0));
        if weighted - next * theta_sum > whole {
            break;
        }
    }
    (weighted - whole).div_ceil(theta_sum) as u64
}

/// The smallest integer `α ≥ 0` with `G(α) = Σ_i s_i · max(0, 10⁹ + α − β_i) ≥ S · 10⁹`:
/// at the nodes' prices, the contract's wanted fractions `θ · (1 + α − β_i)` cover its
/// demand `θ · S` (θ cancels). `G` rises piecewise linearly, bending at each `β_i − 10⁹`:
/// walking the nodes from the cheapest, the segment where `G` reaches `S · 10⁹` gives `α`.
fn contract_dual(supply: &[u64], beta: &[u64], eligible: &[u32], total: u64, scratch: &mut Vec<(u64, u64)>) -> u64 {
    scratch.clear();
    scratch
        .extend(eligible.iter().filter(|&&i| supply[i as usize] > 0).map(|&i| (beta[i as usize], supply[i as usize])));
    // Every node free: G(0) is the whole target already.
    if scratch.iter().all(|&(b, _)| b == 0) {
        return 0;
    }
    scratch.sort_unstable();
    let target = u128::from(total) * u128::from(PPB);
    let ppb = u128::from(PPB);
    let (mut supply_sum, mut weighted) = (0u128, 0u128);
    for k in 0..scratch.len() {
        let (b, s) = scratch[k];
        supply_sum += u128::from(s);
        weighted += u128::from(s) * u128::from(b);
        // With the k + 1 cheapest nodes active, G(α) = (10⁹ + α) · supply_sum − weighted,
        // valid up to the next node's bend, where 10⁹ + α reaches its price.
        let reached =
            scratch.get(k + 1).is_none_or(|&(next, _)| u128::from(next).max(ppb) * supply_sum - weighted >= target);
        if reached {
            let needed = (target + weighted).div_ceil(supply_sum);
            return needed.saturating_sub(ppb) as u64;
        }
    }
    0
}

/// Stage two of a recorded plan: the contracts in `order`, each at its recorded `ζ_j`
/// (`zeta_ppb`, per contract) under the recorded prices `beta_ppb` (per node), so no
/// search is needed and the plan comes out exactly as it was made.
pub fn replay(inst: &Instance, order: &[u32], beta_ppb: &[u64], zeta_ppb: &[Option<i64>]) -> Result<Plan, Invalid> {
    inst.validate()?;
    let n = inst.contracts.len();
    let mut seen = vec![false; n];
    let permutation =
        order.len() == n && order.iter().all(|&j| (j as usize) < n && !std::mem::replace(&mut seen[j as usize], true));
    if !permutation || zeta_ppb.len() != n || beta_ppb.len() != inst.supply.len() {
        return Err(Invalid::Eligible { contract: 0, why: "a recorded plan must give every contract and node once" });
    }
    let eligible_supply: Vec<u64> = (0..n).map(|j| inst.eligible_supply(j)).collect();
    let theta: Vec<u64> = inst.contracts.iter().zip(&eligible_supply).map(|(c, &s)| theta_ppb(c.demand, s)).collect();
    Ok(allocate(inst, &theta, beta_ppb, &eligible_supply, order.to_vec(), Some(zeta_ppb)).0)
}

/// Stage two: HWM's greedy pass with the prices, in `order`. Each `ζ_j` is searched for,
/// or with `fixed` (per contract), taken from it. Returns the plan and each `ζ_j`.
fn allocate(
    inst: &Instance,
    theta: &[u64],
    beta: &[u64],
    eligible_supply: &[u64],
    order: Vec<u32>,
    fixed: Option<&[Option<i64>]>,
) -> (Plan, Vec<Option<i64>>) {
    let n = inst.contracts.len();
    let mut remaining = inst.supply.clone();
    let mut zeta = vec![Some(-(PPB as i64)); n];
    let mut plan = Plan {
        order: order.clone(),
        share_ppb: vec![0; n],
        by_node: vec![Vec::new(); inst.supply.len()],
        planned: vec![0; n],
        shortfall: vec![0; n],
    };
    for &j in &order {
        let ju = j as usize;
        let c = &inst.contracts[ju];
        let (z, takes) = match fixed {
            Some(zs) => (zs[ju], take_fixed(&inst.supply, &remaining, beta, &c.eligible, theta[ju], c.demand, zs[ju])),
            None => take_for(&inst.supply, &remaining, beta, &c.eligible, theta[ju], c.demand),
        };
        let mut total = 0u64;
        for (&i, &t) in c.eligible.iter().zip(&takes) {
            if t > 0 {
                remaining[i as usize] -= t;
                plan.by_node[i as usize].push((j, t));
                total += t;
            }
        }
        zeta[ju] = z;
        plan.planned[ju] = total;
        plan.shortfall[ju] = c.demand.saturating_sub(total);
        plan.share_ppb[ju] = if plan.shortfall[ju] > 0 {
            PPB
        } else {
            (u128::from(total) * u128::from(PPB) / u128::from(eligible_supply[ju].max(1))) as u64
        };
    }
    (plan, zeta)
}

/// One node's take at `ζ`: `min(remaining, ⌊s · x / 10⁹⌋)` with the wanted fraction
/// `x = min(10⁹, ⌊θ · max(0, 10⁹ + ζ − β) / 10⁹⌋)`.
fn take_at(supply: u64, remaining: u64, beta: u64, theta: u64, zeta: i64) -> u64 {
    let level = i128::from(PPB) + i128::from(zeta) - i128::from(beta);
    if level <= 0 {
        return 0;
    }
    let x = (u128::from(theta) * level as u128 / u128::from(PPB)).min(u128::from(PPB));
    ((u128::from(supply) * x / u128::from(PPB)) as u64).min(remaining)
}

/// A contract's `ζ` and its take from each eligible node (in `eligible`'s order), summing
/// to `min(demand, all that remains on them)`.
fn take_for(
    supply: &[u64],
    remaining: &[u64],
    beta: &[u64],
    eligible: &[u32],
    theta: u64,
    demand: u64,
) -> (Option<i64>, Vec<u64>) {
    let left: u64 = eligible.iter().map(|&i| remaining[i as usize]).sum();
    if left < demand {
        return (None, take_fixed(supply, remaining, beta, eligible, theta, demand, None));
    }
    let total_at = |z: i64| -> u64 {
        eligible.iter().map(|&i| take_at(supply[i as usize], remaining[i as usize], beta[i as usize], theta, z)).sum()
    };
    // At ζ = max β + ⌈10¹⁸ / θ⌉ − 10⁹ every node's wanted fraction is the whole, so the
    // takes are all that remains, which covers the demand: the smallest ζ lies below.
    let max_beta = eligible.iter().map(|&i| beta[i as usize]).max().unwrap_or(0);
    let (lo, mut hi) = (-(PPB as i64), -(PPB as i64));
    if theta > 0 {
        hi = (max_beta + (PPB * PPB).div_ceil(theta)) as i64 - PPB as i64;
    }
    let lo = smallest_reaching(lo, hi, |z| total_at(z) >= demand);
    (Some(lo), take_fixed(supply, remaining, beta, eligible, theta, demand, Some(lo)))
}

/// A contract's takes at `ζ` (none: all that remains on its nodes), the excess given
/// back: how [`take_for`] takes at the `ζ` it finds, and how a recorded plan is replayed.
fn take_fixed(
    supply: &[u64],
    remaining: &[u64],
    beta: &[u64],
    eligible: &[u32],
    theta: u64,
    demand: u64,
    zeta: Option<i64>,
) -> Vec<u64> {
    let Some(z) = zeta else { return eligible.iter().map(|&i| remaining[i as usize]).collect() };
    let mut takes: Vec<u64> = eligible
        .iter()
        .map(|&i| take_at(supply[i as usize], remaining[i as usize], beta[i as usize], theta, z))
        .collect();
    give_back(&mut takes, demand);
    takes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::{hwm, Contract};
    use proptest::prelude::*;

    fn contract(demand: u64, eligible: &[u32]) -> Contract {
        Contract { demand, eligible: eligible.to_vec(), priority: 0 }
    }

    fn with_iterations(iterations: u32) -> Options {
        Options { iterations, ..Options::default() }
    }

    /// The worked example of docs/traffic.md, "SHALE": where HWM leaves B 10 short, two
    /// iterations of SHALE price node 1 high enough that A leaves B what it needs.
    #[test]
    fn the_worked_example() {
        let inst =
            Instance { supply: vec![100, 100, 100], contracts: vec![contract(100, &[0, 1]), contract(160, &[1, 2])] };
        assert_eq!(hwm::plan(&inst).unwrap().shortfall, vec![0, 10]);
        let s = solve(&inst, with_iterations(0)).unwrap();
        assert_eq!(s.theta_ppb, vec![500_000_000, 800_000_000]);
        assert_eq!((s.alpha_ppb.clone(), s.beta_ppb.clone()), (vec![0, 0], vec![0, 230_769_231, 0]));
        assert_eq!(s.plan.shortfall, vec![0, 4]);
        let s = solve(&inst, with_iterations(1)).unwrap();
        assert_eq!(s.alpha_ppb, vec![115_384_616, 115_384_616]);
        assert_eq!(s.beta_ppb, vec![0, 346_153_847, 0]);
        assert_eq!(s.zeta_ppb, vec![Some(180_000_000), None]);
        assert_eq!(s.plan.by_node, vec![vec![(0, 59)], vec![(0, 41), (1, 59)], vec![(1, 100)]]);
        assert_eq!(s.plan.shortfall, vec![0, 1]);
        let s = solve(&inst, with_iterations(2)).unwrap();
        assert_eq!(s.alpha_ppb, vec![173_076_924, 173_076_924]);
        assert_eq!(s.beta_ppb, vec![0, 403_846_155, 0]);
        assert_eq!(s.zeta_ppb, vec![Some(203_846_155), Some(250_000_000)]);
        assert_eq!(s.plan.order, vec![0, 1]);
        assert_eq!(s.plan.by_node, vec![vec![(0, 60)], vec![(0, 40), (1, 60)], vec![(1, 100)]]);
        assert_eq!((s.plan.planned.clone(), s.plan.shortfall.clone()), (vec![100, 160], vec![0, 0]));
        assert_eq!(s.plan.share_ppb, vec![500_000_000, 800_000_000]);
        // The default iterations plan it in full too.
        assert_eq!(plan(&inst).unwrap().shortfall, vec![0, 0]);
    }

    #[test]
    fn a_contract_short_of_supply_takes_all_and_records_the_rest() {
        let inst = Instance { supply: vec![100, 50], contracts: vec![contract(400, &[0, 1])] };
        let s = solve(&inst, Options::default()).unwrap();
        assert_eq!((s.plan.planned[0], s.plan.shortfall[0], s.plan.share_ppb[0]), (150, 250, PPB));
        assert_eq!((s.theta_ppb[0], s.zeta_ppb[0]), (PPB, None));
    }

    /// Two contracts that each want all of the one node they share: their duals would rise
    /// without end, so they stop at the cap; the node still gives what it has.
    #[test]
    fn duals_stop_at_the_cap() {
        let inst = Instance { supply: vec![100], contracts: vec![contract(100, &[0]), contract(100, &[0])] };
        let s = solve(&inst, Options { iterations: 50, alpha_max_ppb: 3 * PPB }).unwrap();
        assert_eq!(s.alpha_ppb, vec![3 * PPB, 3 * PPB]);
        assert_eq!(s.beta_ppb, vec![3 * PPB + PPB / 2]);
        assert_eq!((s.plan.planned.clone(), s.plan.shortfall.clone()), (vec![100, 0], vec![0, 100]));
        let huge = solve(&inst, Options { iterations: 3, alpha_max_ppb: u64::MAX }).unwrap();
        assert!(huge.alpha_ppb.iter().all(|&a| a <= MAX_ALPHA_PPB));
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

    fn options() -> impl Strategy<Value = Options> {
        (0u32..30, 0u64..8 * PPB).prop_map(|(iterations, alpha_max_ppb)| Options { iterations, alpha_max_ppb })
    }

    /// Contracts on disjoint nodes, each demanding at most its eligible supply.
    fn disjoint() -> impl Strategy<Value = Instance> {
        proptest::collection::vec((proptest::collection::vec(0u64..10_000, 1..6), 0u32..=100), 0..8).prop_map(|cs| {
            let mut inst = Instance { supply: Vec::new(), contracts: Vec::new() };
            for (supply, pct) in cs {
                let first = inst.supply.len() as u32;
                let eligible: Vec<u32> = (first..first + supply.len() as u32).collect();
                let demand = supply.iter().sum::<u64>() * u64::from(pct) / 100;
                inst.supply.extend(supply);
                inst.contracts.push(Contract { demand, eligible, priority: 0 });
            }
            inst
        })
    }

    proptest! {
        /// No node gives more than its supply; no contract gets more than its demand or
        /// anything from a node it is not eligible for; planned + shortfall = demand.
        #[test]
        fn plans_respect_supply_demand_and_eligibility(inst in instance(), opts in options()) {
            let p = solve(&inst, opts).unwrap().plan;
            prop_assert_eq!(p.order.clone(), planning_order(&inst));
            crate::traffic::testing::check_plan(&inst, &p)?;
        }

        /// A plan replayed from its order, prices and ζs (what the engine records) is
        /// the plan that was made.
        #[test]
        fn replaying_the_pricing_repeats_the_plan(inst in instance(), opts in options()) {
            let s = solve(&inst, opts).unwrap();
            let again = replay(&inst, &s.plan.order, &s.beta_ppb, &s.zeta_ppb).unwrap();
            prop_assert_eq!(again, s.plan);
        }

        /// As with HWM, a contract falls short only when the nodes it may use have
        /// nothing left: stage two's last resort is all that remains.
        #[test]
        fn a_shortfall_means_its_supply_is_used_up(inst in instance(), opts in options()) {
            let p = solve(&inst, opts).unwrap().plan;
            for (j, c) in inst.contracts.iter().enumerate() {
                if p.shortfall[j] > 0 {
                    for &i in &c.eligible {
                        let used: u64 = p.by_node[i as usize].iter().map(|(_, n)| n).sum();
                        prop_assert_eq!(used, inst.supply[i as usize], "node {} has supply left", i);
                    }
                }
            }
        }

        /// Contracts that share no node and each fit their own supply are planned in full.
        #[test]
        fn disjoint_contracts_that_fit_are_planned_in_full(inst in disjoint(), opts in options()) {
            let p = solve(&inst, opts).unwrap().plan;
            prop_assert!(p.shortfall.iter().all(|&s| s == 0), "{:?}", p.shortfall);
        }

        /// Each price is the smallest that keeps the fractions wanted of its node within
        /// the whole, and each dual the smallest (up to the cap) at which its contract's
        /// wanted fractions cover its demand.
        #[test]
        fn prices_and_duals_are_the_smallest_that_balance(inst in instance(), opts in options()) {
            let s = solve(&inst, opts).unwrap();
            let whole = u128::from(PPB) * u128::from(PPB);
            let wanted = |i: usize, beta: u64| -> u128 {
                inst.contracts.iter().enumerate().filter(|(_, c)| c.eligible.contains(&(i as u32)))
                    .map(|(j, _)| u128::from(s.theta_ppb[j]) * u128::from((PPB + s.alpha_ppb[j]).saturating_sub(beta)))
                    .sum()
            };
            for i in 0..inst.supply.len() {
                prop_assert!(wanted(i, s.beta_ppb[i]) <= whole);
                prop_assert!(s.beta_ppb[i] == 0 || wanted(i, s.beta_ppb[i] - 1) > whole);
            }
            if opts.iterations == 0 {
                return Ok(());
            }
            // The duals balance the prices of the last iteration, which are those of the
            // final α's previous values: recompute them from one iteration fewer.
            let before = solve(&inst, Options { iterations: opts.iterations - 1, ..opts }).unwrap();
            for (j, c) in inst.contracts.iter().enumerate().filter(|&(j, _)| s.theta_ppb[j] > 0) {
                let covers = |alpha: u64| -> bool {
                    let g: u128 = c.eligible.iter().map(|&i| u128::from(inst.supply[i as usize])
                        * u128::from((PPB + alpha).saturating_sub(before.beta_ppb[i as usize]))).sum();
                    g >= u128::from(inst.eligible_supply(j)) * u128::from(PPB)
                };
                let a = s.alpha_ppb[j];
                prop_assert!(covers(a) || a == opts.alpha_max_ppb.min(MAX_ALPHA_PPB));
                prop_assert!(a == 0 || !covers(a - 1));
            }
        }
    }
}
