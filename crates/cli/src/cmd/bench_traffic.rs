//! `dacu bench traffic`: the guaranteed-traffic planners (HWM, SHALE, and the exact
//! optimum as a linear program on small instances) and the serving rule on a generated
//! instance (docs/traffic.md): planning time, serving decisions per second, and delivery
//! — under- and over-delivery, smoothness — when the supply that arrives differs from the
//! forecast, with the plan fixed and re-planned.

use super::bench_traffic_lp as lp;
use dacu_core::promo::SplitMix64;
use dacu_core::traffic::serve::{apportion, Entry, Served};
use dacu_core::traffic::{hwm, shale, Contract, Instance, Plan};
use serde_json::{json, Value};
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

/// How many times the re-planned runs plan (once at the start, then after each equal
/// share of the nodes has been served).
const REPLANS: usize = 10;

/// The fixed-plan runs answer the opportunities of the first `1/TIMED_EVERY` of the nodes
/// (a random sample: the generator's nodes are alike) one timed decision at a time, and
/// the rest as batches, which give the same answers.
const TIMED_EVERY: usize = 10;

/// A planner the bench compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Planner {
    Hwm,
    Shale,
    Lp,
}

impl Planner {
    const ALL: [Planner; 3] = [Planner::Hwm, Planner::Shale, Planner::Lp];

    fn name(self) -> &'static str {
        match self {
            Planner::Hwm => "hwm",
            Planner::Shale => "shale",
            Planner::Lp => "lp",
        }
    }

    /// Plans `inst`; the LP's solving figures too.
    fn plan(self, inst: &Instance) -> anyhow::Result<(Plan, Option<lp::Stats>)> {
        let invalid = |e| anyhow::anyhow!("the instance: {e:?}");
        Ok(match self {
            Planner::Hwm => (hwm::plan(inst).map_err(invalid)?, None),
            Planner::Shale => (shale::plan(inst).map_err(invalid)?, None),
            Planner::Lp => {
                let (p, s) = lp::plan(inst)?;
                (p, Some(s))
            }
        })
    }
}

/// The planners of `--planners` (comma-separated, each once, in the order given), or
/// `None` for the default: all three.
fn planners(list: Option<&str>) -> anyhow::Result<Vec<Planner>> {
    let Some(list) = list else { return Ok(Planner::ALL.to_vec()) };
    let mut out = Vec::new();
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let p = Planner::ALL.into_iter().find(|p| p.name() == name).ok_or_else(|| {
            anyhow::anyhow!("unknown planner `{name}`; `bench traffic` has: hwm, shale, lp (comma-separated)")
        })?;
        if !out.contains(&p) {
            out.push(p);
        }
    }
    anyhow::ensure!(!out.is_empty(), "--planners names none; `bench traffic` has: hwm, shale, lp (comma-separated)");
    Ok(out)
}

pub fn traffic(
    nodes: usize,
    contracts: usize,
    load_pct: u64,
    errors: &[u64],
    seed: u64,
    planner_list: Option<&str>,
) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        (1..=MAX_SIZE).contains(&nodes) && contracts <= MAX_SIZE,
        "--nodes must be 1 to {MAX_SIZE} and --contracts at most {MAX_SIZE}"
    );
    anyhow::ensure!(errors.iter().all(|&e| e <= 100), "each --errors value is a percentage, 0 to 100");
    anyhow::ensure!(load_pct <= 1_000, "--load-pct is 0 to 1000 (percent of the forecast supply)");
    let mut chosen = planners(planner_list)?;
    let inst = instance(nodes, contracts, load_pct, seed);
    let pairs = lp::pairs(&inst);
    let mut skipped = Vec::new();
    if chosen.contains(&Planner::Lp) && pairs > lp::MAX_PAIRS {
        anyhow::ensure!(
            planner_list.is_none(),
            "--planners lp: the linear program plans at most {} eligible (node, contract) pairs and this instance has \
             {pairs}; use fewer --nodes or --contracts (100 nodes and 300 contracts have about 7,000)",
            lp::MAX_PAIRS
        );
        chosen.retain(|&p| p != Planner::Lp);
        skipped.push("lp");
    }

    let demand: u64 = inst.contracts.iter().map(|c| c.demand).sum();
    let eligible: Vec<u64> = (0..contracts).map(|j| inst.eligible_supply(j)).collect();
    // Per node, the contracts that may use it (for the target curves).
    let mut watch: Vec<Vec<u32>> = vec![Vec::new(); nodes];
    for (j, c) in inst.contracts.iter().enumerate() {
        for &i in &c.eligible {
            watch[i as usize].push(j as u32);
        }
    }
    let usable: u64 = (0..nodes).filter(|&i| !watch[i].is_empty()).map(|i| inst.supply[i]).sum();
    let covers = usable >= demand && inst.contracts.iter().zip(&eligible).all(|(c, &s)| s >= c.demand);
    println!(
        "traffic: {nodes} nodes, {contracts} contracts, {pairs} eligible pairs, demand {load_pct}% of supply \
         (eligible supply {} demand), seed {seed}",
        if covers { "covers" } else { "does not cover" }
    );
    if !skipped.is_empty() {
        println!(
            "  lp: skipped, this instance has {pairs} eligible pairs and the linear program plans at most {} \
             (--nodes 100 --contracts 300 has about 7,000)",
            lp::MAX_PAIRS
        );
    }
    let ctx = Ctx { inst: &inst, eligible: &eligible, watch: &watch, seed };

    let mut conserved = true;
    let mut results: Vec<(Planner, f64, Vec<Run>, Value)> = Vec::new();
    for &planner in &chosen {
        let t0 = Instant::now();
        let (plan, stats) = planner.plan(&inst)?;
        let plan_s = t0.elapsed().as_secs_f64();
        let planned_short = pct(plan.shortfall.iter().sum(), demand);
        let extra = match stats {
            Some(s) => format!(
                " (stage one {:.1} ms, stage two {:.1} ms; largest distance of a solved value from an integer {:.1e})",
                s.stage1_s * 1e3,
                s.stage2_s * 1e3,
                s.fraction
            ),
            None => String::new(),
        };
        println!(
            "  {}: plan in {:.1} ms, planned shortfall {planned_short:.3}% of demand{extra}",
            planner.name(),
            plan_s * 1e3
        );
        let mut runs = Vec::new();
        for &err in errors {
            let fixed = ctx.deliver(planner, &plan, err, 1)?;
            let replanned = ctx.deliver(planner, &plan, err, REPLANS)?;
            conserved &= fixed.conserved && replanned.conserved;
            let run = Run { err, fixed: ctx.measure(&fixed), replanned: ctx.measure(&replanned) };
            let rate = fixed.timed as f64 / fixed.secs.max(1e-9);
            let replan_s = replanned.replan_secs.iter().sum::<f64>() / replanned.replan_secs.len().max(1) as f64;
            println!(
                "    error ±{err}%: {} opportunities, {rate:.0} decisions/s ({} timed); plan fixed: {}; re-planned \
                 {REPLANS} times ({:.1} ms each): {}",
                fixed.decisions,
                fixed.timed,
                run.fixed,
                replan_s * 1e3,
                run.replanned
            );
            runs.push((run, fixed.decisions, fixed.timed, rate, replan_s));
        }
        let mut obj = json!({"planner": planner.name(), "plan_s": plan_s, "planned_shortfall_pct": planned_short});
        if let Some(s) = stats {
            obj["lp_stage1_s"] = json!(s.stage1_s);
            obj["lp_stage2_s"] = json!(s.stage2_s);
            obj["lp_max_fraction"] = json!(s.fraction);
        }
        let rows: Vec<Value> = runs
            .iter()
            .map(|(r, decisions, timed, rate, replan_s)| {
                json!({"error_pct": r.err, "decisions": decisions, "timed_decisions": timed, "decisions_per_s": rate,
                    "under_delivery_pct": r.fixed.under, "over_delivery_pct": r.fixed.over,
                    "smoothness_pct": r.fixed.smooth, "smoothness_max_pct": r.fixed.smooth_max,
                    "replanned_under_delivery_pct": r.replanned.under, "replanned_over_delivery_pct": r.replanned.over,
                    "replanned_smoothness_pct": r.replanned.smooth,
                    "replanned_smoothness_max_pct": r.replanned.smooth_max, "replan_s": replan_s})
            })
            .collect();
        obj["runs"] = json!(rows);
        results.push((planner, planned_short, runs.into_iter().map(|r| r.0).collect(), obj));
    }

    // Each planner against the exact optimum, in points of demand.
    if let Some((_, lp_short, lp_runs, _)) = results.iter().find(|r| r.0 == Planner::Lp).cloned() {
        println!("  gap to the LP optimum (points of demand; planned, then re-planned under-delivery per error):");
        for (planner, short, runs, obj) in &mut results {
            if *planner == Planner::Lp {
                continue;
            }
            let gaps: Vec<f64> =
                runs.iter().zip(&lp_runs).map(|(r, l)| r.replanned.under - l.replanned.under).collect();
            let shown: Vec<String> = runs.iter().zip(&gaps).map(|(r, g)| format!("±{}% {g:+.3}", r.err)).collect();
            println!("    {}: planned {:+.3}; re-planned {}", planner.name(), *short - lp_short, shown.join(", "));
            obj["planned_gap_to_lp_points"] = json!(*short - lp_short);
            for (row, g) in obj["runs"].as_array_mut().into_iter().flatten().zip(&gaps) {
                row["replanned_gap_to_lp_points"] = json!(g);
            }
        }
    }
    let objs: Vec<Value> = results.into_iter().map(|r| r.3).collect();
    let out = json!({"bench": "traffic", "nodes": nodes, "contracts": contracts, "load_pct": load_pct, "seed": seed,
        "pairs": pairs, "lp_max_pairs": lp::MAX_PAIRS, "eligible_supply_covers_demand": covers, "replans": REPLANS,
        "planners": objs, "skipped": skipped});
    println!("{out}");
    if !conserved {
        eprintln!("dacu: bench traffic: an opportunity was counted twice or lost (served + unsold ≠ opportunities)");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// One error level of one planner: the plan fixed, and re-planned.
#[derive(Debug, Clone, Copy)]
struct Run {
    err: u64,
    fixed: Measured,
    replanned: Measured,
}

/// A run's delivery, in percent: under- and over-delivery of total demand; smoothness,
/// the demand-weighted mean and the largest over the contracts of each contract's largest
/// deviation from its target curve as a share of its demand.
#[derive(Debug, Clone, Copy)]
struct Measured {
    under: f64,
    over: f64,
    smooth: f64,
    smooth_max: f64,
}

impl std::fmt::Display for Measured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "under {:.3}%, over {:.3}%, smoothness {:.3}% (max {:.1}%)",
            self.under, self.over, self.smooth, self.smooth_max
        )
    }
}

/// What serving an instance delivered.
struct Delivery {
    delivered: Vec<u64>,
    /// Per contract, its largest deviation from its target curve, in impressions.
    deviation: Vec<f64>,
    decisions: u64,
    /// Opportunities answered one timed decision at a time, and the time they took.
    timed: u64,
    secs: f64,
    /// Time of each re-plan.
    replan_secs: Vec<f64>,
    /// Every opportunity was answered once: served or unsold.
    conserved: bool,
}

/// The instance and what every run of it shares.
struct Ctx<'a> {
    inst: &'a Instance,
    /// Per contract, its eligible forecast supply `S_j`.
    eligible: &'a [u64],
    /// Per node, the contracts eligible there.
    watch: &'a [Vec<u32>],
    seed: u64,
}

impl Ctx<'_> {
    fn measure(&self, d: &Delivery) -> Measured {
        let demand: u64 = self.inst.contracts.iter().map(|c| c.demand).sum();
        let pairs = || self.inst.contracts.iter().zip(&d.delivered);
        let under = pairs().map(|(c, &got)| c.demand.saturating_sub(got)).sum();
        let over = pairs().map(|(c, &got)| got.saturating_sub(c.demand)).sum();
        let smooth = d.deviation.iter().sum::<f64>() * 100.0 / demand.max(1) as f64;
        let smooth_max = self
            .inst
            .contracts
            .iter()
            .zip(&d.deviation)
            .filter(|(c, _)| c.demand > 0)
            .map(|(c, &dev)| dev * 100.0 / c.demand as f64)
            .fold(0.0, f64::max);
        Measured { under: pct(under, demand), over: pct(over, demand), smooth, smooth_max }
    }

    /// Serves every node's actual opportunities (the forecast off by up to ±`err`%,
    /// uniformly, seeded: the same draws for every planner), node after node as if in
    /// time order. With `plans` = 1 the plan is fixed, and the opportunities of the first
    /// tenth of the nodes ([`TIMED_EVERY`]) are timed single decisions; with more,
    /// `planner` re-plans what is left (docs/traffic.md, "Re-planning") after each
    /// `1/plans` of the nodes. Every other node's opportunities are answered as one batch
    /// (exactly its single decisions, docs/traffic.md, "Serving"). As in the engine, a
    /// contract that has its demand is passed over, and the opportunities past a node's
    /// forecast catch the contracts planned there up to their target curves ([`Ctx::catch_up`]).
    /// After each node, every contract eligible there is compared with its target curve.
    fn deliver(&self, planner: Planner, first: &Plan, err: u64, plans: usize) -> anyhow::Result<Delivery> {
        let inst = self.inst;
        let mut rng = SplitMix64(self.seed ^ err);
        let n = inst.supply.len();
        let m = inst.contracts.len();
        let mut plan = first.clone();
        let mut forecast = inst.supply.clone();
        let mut st = Served::new(&plan);
        let mut delivered = vec![0u64; m];
        let mut used = vec![0u64; n];
        let mut seen = vec![0u64; m];
        let mut deviation = vec![0f64; m];
        let (mut decisions, mut unsold, mut timed, mut secs) = (0u64, 0u64, 0u64, 0f64);
        let singles = if plans == 1 { n.div_ceil(TIMED_EVERY) } else { 0 };
        let mut replan_secs = Vec::new();
        let block = n.div_ceil(plans.max(1));
        let mut given = Vec::new();
        for i in 0..n {
            if i > 0 && i % block == 0 && plans > 1 {
                let rest = inst.residual(&used, &delivered);
                let t = Instant::now();
                plan = planner.plan(&rest).map_err(|e| e.context("the re-plan"))?.0;
                replan_secs.push(t.elapsed().as_secs_f64());
                forecast = rest.supply;
                st = Served::new(&plan);
            }
            let s = inst.supply[i];
            let off = (rng.next_u64() % (2 * err + 1)) as i64 - err as i64;
            let actual = (s as i64 * (100 + off) / 100).max(0) as u64;
            if i < singles {
                let t = Instant::now();
                for _ in 0..actual {
                    // A contract with all its demand is passed over, as the engine's cap does.
                    let open = |j: u32| delivered[j as usize] < inst.contracts[j as usize].demand;
                    match st.decide_open(&plan, i, forecast[i], open) {
                        Some(j) => delivered[j as usize] += 1,
                        None => unsold += 1,
                    }
                }
                secs += t.elapsed().as_secs_f64();
                timed += actual;
                // The node's queue holds exactly its forecast: the rest went unanswered.
                let beyond = actual.saturating_sub(forecast[i]);
                unsold -= beyond - self.catch_up(&plan.by_node[i], i, &seen, &mut delivered, beyond);
            } else {
                // The node's entries as `Served::decide_open` makes them, nothing served yet,
                // each capped at its contract's demand left.
                let alloc = &plan.by_node[i];
                let planned: u64 = alloc.iter().map(|(_, a)| a).sum();
                let left = |j: u32| inst.contracts[j as usize].demand.saturating_sub(delivered[j as usize]);
                let mut entries: Vec<Entry> =
                    alloc.iter().map(|&(j, a)| Entry { alloc: a, served: 0, cap: left(j) }).collect();
                entries.push(Entry { alloc: forecast[i].saturating_sub(planned), served: 0, cap: u64::MAX });
                given.resize(entries.len(), 0);
                let beyond = apportion(&entries, forecast[i], actual, &mut given);
                for (&(j, _), &g) in alloc.iter().zip(&given) {
                    delivered[j as usize] += g;
                }
                unsold += given[alloc.len()] + self.catch_up(alloc, i, &seen, &mut delivered, beyond);
            }
            decisions += actual;
            // The node's hour is over: none of its forecast is left to plan.
            used[i] = s;
            for &j in &self.watch[i] {
                let j = j as usize;
                seen[j] += s;
                let (d, sj) = (inst.contracts[j].demand, self.eligible[j]);
                let off = i128::from(delivered[j]) * i128::from(sj) - i128::from(d) * i128::from(seen[j]);
                deviation[j] = deviation[j].max(off.unsigned_abs() as f64 / sj.max(1) as f64);
            }
        }
        let conserved = delivered.iter().sum::<u64>() + unsold == decisions;
        Ok(Delivery { delivered, deviation, decisions, timed, secs, replan_secs, conserved })
    }
}

impl Ctx<'_> {
    /// The engine's catching up (docs/traffic.md, "Pacing"): the opportunities of node
    /// `i` past its forecast go to the contracts planned there, in planning order, each up
    /// to its target curve at the node's end; returns those left unsold.
    fn catch_up(&self, alloc: &[(u32, u64)], i: usize, seen: &[u64], delivered: &mut [u64], mut left: u64) -> u64 {
        let s = self.inst.supply[i];
        for &(j, _) in alloc {
            if left == 0 {
                break;
            }
            let j = j as usize;
            let (d, sj) = (self.inst.contracts[j].demand, self.eligible[j].max(1));
            let target = (u128::from(d) * u128::from(seen[j] + s) / u128::from(sj)) as u64;
            let take = target.saturating_sub(delivered[j]).min(left);
            delivered[j] += take;
            left -= take;
        }
        left
    }
}

fn pct(part: u64, whole: u64) -> f64 {
    part as f64 * 100.0 / whole.max(1) as f64
}
