//! `dacu bench traffic`: the guaranteed-traffic planner and serving rule on a generated
//! instance (docs/traffic.md): planning time, serving decisions per second, and delivery
//! when the supply that arrives differs from the forecast.

use dacu_core::promo::SplitMix64;
use dacu_core::traffic::{hwm, serve::Served, Contract, Instance};
use serde_json::json;
use std::process::ExitCode;
use std::time::Instant;

/// A generated instance: `nodes` supply nodes of 1,000 to 100,000 forecast impressions;
/// `contracts` contracts, each eligible for 1 to 50 random nodes and demanding a random
/// 10–90% of their supply, scaled so that total demand is `load_pct` of total supply.
pub fn instance(nodes: usize, contracts: usize, load_pct: u64, seed: u64) -> Instance {
    let mut rng = SplitMix64(seed);
    let mut below = |n: u64| rng.next_u64() % n.max(1);
    let supply: Vec<u64> = (0..nodes).map(|_| 1_000 + below(99_001)).collect();
    let mut cs: Vec<Contract> = (0..contracts)
        .map(|_| {
            let k = 1 + below(50.min(nodes as u64)) as usize;
            let mut eligible: Vec<u32> = (0..k).map(|_| below(nodes as u64) as u32).collect();
            eligible.sort_unstable();
            eligible.dedup();
            let s: u64 = eligible.iter().map(|&i| supply[i as usize]).sum();
            let demand = s * (10 + below(81)) / 100;
            Contract { demand, eligible, priority: 0 }
        })
        .collect();
    let total_supply: u128 = supply.iter().map(|&s| u128::from(s)).sum();
    let total_demand: u128 = cs.iter().map(|c| u128::from(c.demand)).sum::<u128>().max(1);
    for c in &mut cs {
        c.demand = (u128::from(c.demand) * total_supply * u128::from(load_pct) / 100 / total_demand) as u64;
    }
    Instance { supply, contracts: cs }
}

/// The largest instance the bench generates, each way.
const MAX_SIZE: usize = 1_000_000;

pub fn traffic(nodes: usize, contracts: usize, load_pct: u64, errors: &[u64], seed: u64) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        (1..=MAX_SIZE).contains(&nodes) && contracts <= MAX_SIZE,
        "--nodes must be 1 to {MAX_SIZE} and --contracts at most {MAX_SIZE}"
    );
    anyhow::ensure!(errors.iter().all(|&e| e <= 100), "each --errors value is a percentage, 0 to 100");
    anyhow::ensure!(load_pct <= 1_000, "--load-pct is 0 to 1000 (percent of the forecast supply)");
    let inst = instance(nodes, contracts, load_pct, seed);
    let t0 = Instant::now();
    let plan = hwm::plan(&inst).map_err(|e| anyhow::anyhow!("the generated instance: {e:?}"))?;
    let plan_s = t0.elapsed().as_secs_f64();
    let demand: u64 = inst.contracts.iter().map(|c| c.demand).sum();
    let planned_short: u64 = plan.shortfall.iter().sum();
    println!(
        "traffic: {nodes} nodes, {contracts} contracts, demand {load_pct}% of supply; HWM plan in {:.1} ms, planned shortfall {:.3}% of demand",
        plan_s * 1e3,
        pct(planned_short, demand)
    );
    let mut rows = Vec::new();
    for &err in errors {
        let fixed = deliver(&inst, &plan, err, seed, 1)?;
        let replanned = deliver(&inst, &plan, err, seed, REPLANS)?;
        let (under, over) = fixed.misses(&inst);
        let (re_under, _) = replanned.misses(&inst);
        let rate = fixed.decisions as f64 / fixed.secs;
        println!(
            "  forecast error ±{err}%: {} opportunities, {rate:.0} decisions/s; under-delivery {:.3}% of demand ({:.3}% re-planned {REPLANS} times), over-delivery {:.3}%",
            fixed.decisions,
            pct(under, demand),
            pct(re_under, demand),
            pct(over, demand)
        );
        rows.push(json!({"error_pct": err, "decisions": fixed.decisions, "decisions_per_s": rate,
            "under_delivery_pct": pct(under, demand), "over_delivery_pct": pct(over, demand),
            "replanned_under_delivery_pct": pct(re_under, demand)}));
    }
    let out = json!({"bench": "traffic", "planner": "hwm", "nodes": nodes, "contracts": contracts, "load_pct": load_pct,
        "plan_s": plan_s, "planned_shortfall_pct": pct(planned_short, demand), "replans": REPLANS, "runs": rows});
    println!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// How many times the re-planned runs plan (once at the start, then after each equal
/// share of the nodes has been served).
const REPLANS: usize = 10;

/// What serving an instance delivered.
struct Delivery {
    delivered: Vec<u64>,
    decisions: u64,
    secs: f64,
}

impl Delivery {
    /// Under- and over-delivery against the demands, in impressions.
    fn misses(&self, inst: &Instance) -> (u64, u64) {
        let pairs = || inst.contracts.iter().zip(&self.delivered);
        (
            pairs().map(|(c, &d)| c.demand.saturating_sub(d)).sum(),
            pairs().map(|(c, &d)| d.saturating_sub(c.demand)).sum(),
        )
    }
}

/// Serves every node's actual opportunities (the forecast off by up to ±`err`%,
/// uniformly, seeded), node after node as if in time order; with `plans` > 1, re-plans
/// what is left (docs/traffic.md, "Re-planning") after each `1/plans` of the nodes.
fn deliver(
    inst: &Instance,
    first: &dacu_core::traffic::Plan,
    err: u64,
    seed: u64,
    plans: usize,
) -> anyhow::Result<Delivery> {
    let mut rng = SplitMix64(seed ^ err);
    let n = inst.supply.len();
    let mut plan = first.clone();
    let mut forecast = inst.supply.clone();
    let mut st = Served::new(&plan);
    let mut delivered = vec![0u64; inst.contracts.len()];
    let mut used = vec![0u64; n];
    let (mut decisions, mut unsold) = (0u64, 0u64);
    let block = n.div_ceil(plans.max(1));
    let t = Instant::now();
    for i in 0..n {
        if i > 0 && i % block == 0 && plans > 1 {
            let rest = inst.residual(&used, &delivered);
            plan = hwm::plan(&rest).map_err(|e| anyhow::anyhow!("the re-plan: {e:?}"))?;
            forecast = rest.supply;
            st = Served::new(&plan);
        }
        let s = inst.supply[i];
        let off = (rng.next_u64() % (2 * err + 1)) as i64 - err as i64;
        let actual = (s as i64 * (100 + off) / 100).max(0) as u64;
        for _ in 0..actual {
            match st.decide(&plan, i, forecast[i]) {
                Some(j) => delivered[j as usize] += 1,
                None => unsold += 1,
            }
            decisions += 1;
        }
        // The node's hour is over: none of its forecast is left to plan.
        used[i] = s;
    }
    let secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(delivered.iter().sum::<u64>() + unsold == decisions, "an impression was counted twice or lost");
    Ok(Delivery { delivered, decisions, secs })
}

fn pct(part: u64, whole: u64) -> f64 {
    part as f64 * 100.0 / whole.max(1) as f64
}
