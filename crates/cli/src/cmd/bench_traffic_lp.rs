//! The exact optimum for `dacu bench traffic`: the same allocation as a linear program
//! (docs/traffic.md, "The linear program"), solved with microlp's simplex in two stages —
//! the least total shortfall, then, among the plans with that shortfall, the one whose
//! impressions lie least above each contract's proportional share of each node — and
//! rounded to whole impressions as a [`Plan`] that serving follows like HWM's or SHALE's.

use dacu_core::traffic::{shale, Instance, Plan, PPB};
use microlp::{ComparisonOp, OptimizationDirection, Problem, Variable};
use std::time::Instant;

/// The largest instance the LP plans, in eligible (node, contract) pairs (the sum of the
/// contracts' eligibility lists): 100 nodes × 300 contracts of the bench's generator has
/// about 7,000; at 20,000 the two stages take a few seconds in a release build.
pub const MAX_PAIRS: usize = 20_000;

/// Values within this of an integer count as that integer when rounding the LP's
/// solution (the simplex's round-off is far smaller; its feasibility tolerance is 10⁻⁷).
const EPS: f64 = 1e-6;

/// Eligible (node, contract) pairs of an instance: what [`MAX_PAIRS`] limits.
pub fn pairs(inst: &Instance) -> usize {
    inst.contracts.iter().map(|c| c.eligible.len()).sum()
}

/// What solving took, besides the plan.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub stage1_s: f64,
    pub stage2_s: f64,
    /// The largest distance of a solved `x_ij` from the nearest integer.
    pub fraction: f64,
}

/// One pair that can carry impressions: node `i`, contract `j` and the contract's
/// proportional share of the node, `t = ⌊d_j · s_i / S_j⌋`.
struct Pair {
    i: usize,
    j: usize,
    t: u64,
}

/// Plans `inst` with the linear program. Refuses an instance over [`MAX_PAIRS`].
pub fn plan(inst: &Instance) -> anyhow::Result<(Plan, Stats)> {
    inst.validate().map_err(|e| anyhow::anyhow!("the instance: {e:?}"))?;
    let have = pairs(inst);
    anyhow::ensure!(
        have <= MAX_PAIRS,
        "the linear program plans at most {MAX_PAIRS} eligible (node, contract) pairs; this instance has {have}"
    );
    // Pairs with supply and demand: the others carry nothing.
    let mut ps = Vec::new();
    for (j, c) in inst.contracts.iter().enumerate() {
        let sj = inst.eligible_supply(j);
        if c.demand == 0 || sj == 0 {
            continue;
        }
        for &i in &c.eligible {
            let s = inst.supply[i as usize];
            if s > 0 {
                let t = (u128::from(c.demand) * u128::from(s) / u128::from(sj)) as u64;
                ps.push(Pair { i: i as usize, j, t });
            }
        }
    }

    // Stage one: x_ij ≥ 0, u_j in [0, d_j]; Σ_j x_ij ≤ s_i, Σ_i x_ij + u_j = d_j; min Σ u_j.
    let t0 = Instant::now();
    let mut p1 = Problem::new(OptimizationDirection::Minimize);
    let x: Vec<Variable> = ps.iter().map(|_| p1.add_var(0.0, (0.0, f64::INFINITY))).collect();
    let u: Vec<Option<Variable>> =
        inst.contracts.iter().map(|c| (c.demand > 0).then(|| p1.add_var(1.0, (0.0, c.demand as f64)))).collect();
    let cols: Vec<Vec<Variable>> = x.iter().map(|&v| vec![v]).collect();
    add_rows(&mut p1, inst, &ps, &cols, &u);
    let s1 = p1.solve().map_err(|e| anyhow::anyhow!("the linear program, stage one: {e}"))?;
    let s1 = s1.into_solution().map_err(|_| anyhow::anyhow!("the linear program, stage one: no solution"))?;
    let shortfall = s1.objective();
    let stage1_s = t0.elapsed().as_secs_f64();

    // Stage two: x_ij = y_ij + e_ij with y_ij in [0, t_ij] and e_ij ≥ 0 (the part above
    // the proportional share); the same rows, Σ u_j ≤ stage one's optimum; min Σ e_ij.
    let t1 = Instant::now();
    let mut p2 = Problem::new(OptimizationDirection::Minimize);
    let ye: Vec<(Variable, Variable)> =
        ps.iter().map(|p| (p2.add_var(0.0, (0.0, p.t as f64)), p2.add_var(1.0, (0.0, f64::INFINITY)))).collect();
    let u2: Vec<Option<Variable>> =
        inst.contracts.iter().map(|c| (c.demand > 0).then(|| p2.add_var(0.0, (0.0, c.demand as f64)))).collect();
    let cols: Vec<Vec<Variable>> = ye.iter().map(|&(y, e)| vec![y, e]).collect();
    add_rows(&mut p2, inst, &ps, &cols, &u2);
    // The network's vertices are integral, so the optimum is a whole number of impressions.
    let all_u: Vec<(Variable, f64)> = u2.iter().flatten().map(|&v| (v, 1.0)).collect();
    if !all_u.is_empty() {
        p2.add_constraint(&all_u[..], ComparisonOp::Le, shortfall.round().max(0.0));
    }
    let s2 = p2.solve().map_err(|e| anyhow::anyhow!("the linear program, stage two: {e}"))?;
    let s2 = s2.into_solution().map_err(|_| anyhow::anyhow!("the linear program, stage two: no solution"))?;
    let raw: Vec<f64> = ye.iter().map(|&(y, e)| (s2.var_value(y) + s2.var_value(e)).max(0.0)).collect();
    let stage2_s = t1.elapsed().as_secs_f64();
    let fraction = raw.iter().map(|v| (v - v.round()).abs()).fold(0.0, f64::max);
    Ok((round(inst, &ps, &raw), Stats { stage1_s, stage2_s, fraction }))
}

/// Each node's supply row (`≤ s_i`) and each contract's demand row (`+ u_j = d_j`), with
/// `cols[k]` the variables that carry pair `k`'s impressions.
fn add_rows(p: &mut Problem, inst: &Instance, ps: &[Pair], cols: &[Vec<Variable>], u: &[Option<Variable>]) {
    let mut node = vec![Vec::new(); inst.supply.len()];
    let mut contract = vec![Vec::new(); inst.contracts.len()];
    for (pair, vs) in ps.iter().zip(cols) {
        for &v in vs {
            node[pair.i].push((v, 1.0));
            contract[pair.j].push((v, 1.0));
        }
    }
    for (i, row) in node.iter().enumerate() {
        if !row.is_empty() {
            p.add_constraint(&row[..], ComparisonOp::Le, inst.supply[i] as f64);
        }
    }
    for (j, mut row) in contract.into_iter().enumerate() {
        if let Some(v) = u[j] {
            row.push((v, 1.0));
            p.add_constraint(&row[..], ComparisonOp::Eq, inst.contracts[j].demand as f64);
        }
    }
}

/// The LP's values as whole impressions: each `⌊x + 10⁻⁶⌋`, cut where round-off would
/// pass a node's supply or a contract's demand (pairs in contract order, nodes
/// ascending); then each contract in index order is brought up to `⌊Σ_i x_ij + 10⁻⁶⌋`
/// (at most its demand) one impression at a time, over its pairs by largest fractional
/// part first (then lower node), on nodes with supply left, pass after pass.
fn round(inst: &Instance, ps: &[Pair], raw: &[f64]) -> Plan {
    let (n, m) = (inst.supply.len(), inst.contracts.len());
    let mut used = vec![0u64; n];
    let mut got = vec![0u64; m];
    let mut a = vec![0u64; ps.len()];
    let mut want = vec![0f64; m];
    for (k, p) in ps.iter().enumerate() {
        let v = ((raw[k] + EPS).floor() as u64)
            .min(inst.supply[p.i] - used[p.i])
            .min(inst.contracts[p.j].demand - got[p.j]);
        a[k] = v;
        used[p.i] += v;
        got[p.j] += v;
        want[p.j] += raw[k];
    }
    let mut by_contract: Vec<Vec<usize>> = vec![Vec::new(); m];
    for (k, p) in ps.iter().enumerate() {
        by_contract[p.j].push(k);
    }
    for j in 0..m {
        let target = ((want[j] + EPS).floor() as u64).min(inst.contracts[j].demand);
        if got[j] >= target {
            continue;
        }
        let mut ks = by_contract[j].clone();
        let frac = |k: usize| raw[k] - a[k] as f64;
        ks.sort_by(|&x, &y| frac(y).total_cmp(&frac(x)).then(ps[x].i.cmp(&ps[y].i)));
        loop {
            let before = got[j];
            for &k in &ks {
                if got[j] == target {
                    break;
                }
                let i = ps[k].i;
                if used[i] < inst.supply[i] {
                    a[k] += 1;
                    used[i] += 1;
                    got[j] += 1;
                }
            }
            if got[j] == target || got[j] == before {
                break;
            }
        }
    }
    // The plan, in HWM's planning order, as HWM and SHALE give theirs.
    let order = shale::planning_order(inst);
    let mut rank = vec![0usize; m];
    for (r, &j) in order.iter().enumerate() {
        rank[j as usize] = r;
    }
    let mut by_node: Vec<Vec<(u32, u64)>> = vec![Vec::new(); n];
    for (k, p) in ps.iter().enumerate() {
        if a[k] > 0 {
            by_node[p.i].push((p.j as u32, a[k]));
        }
    }
    for entries in &mut by_node {
        entries.sort_by_key(|&(j, _)| rank[j as usize]);
    }
    let shortfall: Vec<u64> = inst.contracts.iter().zip(&got).map(|(c, &g)| c.demand - g).collect();
    let share_ppb = (0..m)
        .map(|j| {
            let sj = inst.eligible_supply(j);
            if shortfall[j] > 0 || sj == 0 {
                PPB
            } else {
                (u128::from(got[j]) * u128::from(PPB) / u128::from(sj)) as u64
            }
        })
        .collect();
    Plan { order, share_ppb, by_node, planned: got, shortfall }
}
