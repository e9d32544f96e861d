//! Guaranteed traffic in the engine: planning the open contracts over the festival's
//! supply grid, expanding a recorded plan into node allocations, and the pacing curve
//! (docs/traffic.md, "In the engine").
//!
//! A plan is recorded as a [`PlanRec`]: the planning order, each entry's demand, priority
//! and HWM share, the forecast correction and the supply already used. [`Ctx::expand`]
//! rebuilds the same instance from it and replays the shares ([`super::hwm::replay`]); a
//! SHALE plan also records its [`PricingRec`], and is replayed by [`super::shale::replay`].
//! So the engine that made a plan and one that restored it from a snapshot serve alike.

use super::book::Book;
use super::{hwm, shale, Contract, Instance, Plan, PPB};
use crate::event::{ContractRec, PlanEntryRec, PlanRec, PricingRec};
use crate::festival::traffic::{indexes, Grid, Planner, TrafficConfig};
use crate::festival::Festival;
use crate::kinds::Pacing;
use crate::time::Ts;

/// The plan in force, expanded: what each node gives each entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cache {
    /// The plan's nodes (global indexes), ascending: a local index is a place here.
    pub nodes: Vec<u32>,
    /// Per local node: the supply planned.
    pub supply: Vec<u64>,
    /// Per plan entry: the contract's index in the book.
    pub entry_contract: Vec<u32>,
    pub plan: Option<Plan>,
}

impl Cache {
    pub fn local(&self, node: u32) -> Option<usize> {
        self.nodes.binary_search(&node).ok()
    }
}

/// The contracts as a decision sees them: the book's, less those ending in it, plus those
/// it creates (indexes after the book's).
pub struct Contracts<'a> {
    pub book: &'a Book,
    pub new: &'a [ContractRec],
    pub ending: &'a [u32],
}

impl Contracts<'_> {
    pub fn len(&self) -> usize {
        self.book.contracts.len() + self.new.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Contract `i`: its record, what it has been delivered, whether it has ended.
    pub fn get(&self, i: u32) -> (&ContractRec, u64, bool) {
        let n = self.book.contracts.len();
        match self.book.contracts.get(i as usize) {
            Some(c) => (&c.rec, c.delivered, c.ended.is_some() || self.ending.contains(&i)),
            None => (&self.new[i as usize - n], 0, false),
        }
    }
}

/// One entry to plan: a contract, or a front-loaded contract's half.
struct Part {
    contract: u32,
    part: u8,
    demand: u64,
    priority: u8,
}

pub struct Ctx<'a> {
    pub festival: &'a Festival,
    pub config: &'a TrafficConfig,
    pub grid: &'a Grid,
}

impl Ctx<'_> {
    /// The supply hours a contract's window touches: `[first, last + 1)`.
    fn window_hours(&self, rec: &ContractRec) -> (u32, u32) {
        let g = self.grid;
        let first = g.hour_of(rec.start).unwrap_or(if rec.start < g.hour0 { 0 } else { g.hours });
        let last = g.hour_of(rec.end.plus_ms(-1)).map_or(if rec.end <= g.hour0 { 0 } else { g.hours }, |h| h + 1);
        (first, last.max(first))
    }

    /// The forecast weight of a contract's window up to `at`, and in all.
    fn progress(&self, rec: &ContractRec, at: Ts) -> (u128, u128) {
        let g = self.grid;
        let w0 = g.weight_until(rec.start);
        let total = g.weight_until(rec.end).saturating_sub(w0);
        let done = g.weight_until(at.clamp(rec.start, rec.end)).saturating_sub(w0);
        (done, total)
    }

    /// The target curve: impressions a contract should have by `at` (docs/traffic.md,
    /// "Pacing").
    pub fn target(&self, rec: &ContractRec, at: Ts) -> u64 {
        let (done, total) = self.progress(rec, at);
        let d = u128::from(rec.impressions);
        if total == 0 {
            return if at >= rec.end { rec.impressions } else { 0 };
        }
        let t = match rec.pacing {
            Pacing::Even => d * done / total,
            Pacing::FrontLoaded if 2 * done <= total => 3 * d * done / (2 * total),
            Pacing::FrontLoaded => d * (total + done) / (2 * total),
        };
        t.min(d) as u64
    }

    /// How many more impressions contract `rec` may take at `at`: none outside its window,
    /// once ended, or while its live-room anchor is off air; otherwise up to its target
    /// plus the tolerance.
    pub fn cap(&self, rec: &ContractRec, delivered: u64, ended: bool, live: bool, at: Ts) -> u64 {
        if ended || at < rec.start || at >= rec.end || !live {
            return 0;
        }
        let slack = u128::from(rec.impressions) * self.config.tolerance_bp as u128 / 10_000;
        let allowed = (u128::from(self.target(rec, at)) + slack).min(u128::from(rec.impressions)) as u64;
        allowed.saturating_sub(delivered)
    }

    /// Behind its curve by more than the tolerance.
    fn behind(&self, rec: &ContractRec, delivered: u64, at: Ts) -> bool {
        let slack = (u128::from(rec.impressions) * self.config.tolerance_bp as u128 / 10_000) as u64;
        delivered.saturating_add(slack) < self.target(rec, at)
    }

    /// The first hour of a front-loaded contract's second half: the hour at whose start
    /// half of the window's forecast weight has passed.
    fn mid_hour(&self, rec: &ContractRec) -> u32 {
        let (first, last) = self.window_hours(rec);
        let (lo_w, total) = (self.grid.weight_until(rec.start), self.progress(rec, rec.end).1);
        let (mut lo, mut hi) = (first, last);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let w = self.grid.weight_until(self.grid.hour_start(mid)).saturating_sub(lo_w);
            if 2 * w >= total {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        lo.max(first + 1).min(last)
    }

    /// A part's supply hours from `hour` on.
    fn part_hours(&self, rec: &ContractRec, part: u8, hour: u32) -> (u32, u32) {
        let (first, last) = self.window_hours(rec);
        let (a, b) = match part {
            1 => (first, self.mid_hour(rec)),
            2 => (self.mid_hour(rec), last),
            _ => (first, last),
        };
        (a.max(hour), b.max(a.max(hour)))
    }

    /// A part's eligible nodes from `hour` on, ascending.
    fn eligible(&self, rec: &ContractRec, part: u8, hour: u32) -> Vec<u32> {
        let (slots, segs) = (self.config.slot_ids(), self.config.segment_ids());
        let slot_ix = indexes(&rec.slots, &slots).unwrap_or_default();
        let seg_ix = indexes(&rec.segments, &segs).unwrap_or_default();
        let (a, b) = self.part_hours(rec, part, hour);
        let mut v = Vec::with_capacity((b - a) as usize * slot_ix.len() * seg_ix.len());
        for h in a..b {
            for &s in &slot_ix {
                for &g in &seg_ix {
                    v.push(self.grid.node(h, s, g));
                }
            }
        }
        v
    }

    /// Per slot: opportunities seen over forecast in the hours before `hour`, in ppb
    /// (between a tenth and ten times); 10⁹ before a slot has a whole hour seen.
    pub fn correction(&self, book: &Book, hour: u32) -> Vec<u64> {
        self.config
            .slots
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let Some(seen) = book.by_slot.get(&s.id).filter(|x| x.first_hour < hour) else {
                    return PPB;
                };
                let done = seen.total - if seen.last_hour >= hour { seen.in_last_hour } else { 0 };
                let forecast = self.grid.slot_forecast(i as u32, seen.first_hour, hour);
                if forecast == 0 {
                    return PPB;
                }
                let r = u128::from(done) * u128::from(PPB) / forecast;
                r.clamp(u128::from(PPB / 10), u128::from(10 * PPB)) as u64
            })
            .collect()
    }

    /// The entries to plan at `at`: every open contract with impressions left and
    /// supply hours ahead.
    fn parts(&self, cs: &Contracts<'_>, at: Ts, hour: u32) -> Vec<Part> {
        let mut out = Vec::new();
        for i in 0..cs.len() as u32 {
            let (rec, delivered, ended) = cs.get(i);
            let left = rec.impressions.saturating_sub(delivered);
            if ended || left == 0 || rec.end <= at {
                continue;
            }
            let priority = rec.priority.saturating_mul(2) + u8::from(self.behind(rec, delivered, at));
            let split = rec.pacing == Pacing::FrontLoaded && hour < self.mid_hour(rec);
            if split {
                let first = (u128::from(rec.impressions) * 3 / 4) as u64;
                let first = first.saturating_sub(delivered).min(left);
                out.push(Part { contract: i, part: 1, demand: first, priority });
                out.push(Part { contract: i, part: 2, demand: left - first, priority });
            } else {
                out.push(Part { contract: i, part: 0, demand: left, priority });
            }
        }
        out.retain(|p| p.demand > 0);
        out
    }

    /// The planning instance of `parts`: their nodes' corrected forecast, less `used`.
    fn instance(
        &self,
        cs: &Contracts<'_>,
        parts: &[Part],
        hour: u32,
        correction: &[u64],
        used: &[(u32, u64)],
    ) -> (Instance, Vec<u32>) {
        let eligible: Vec<Vec<u32>> = parts.iter().map(|p| self.eligible(cs.get(p.contract).0, p.part, hour)).collect();
        // The union of the parts' nodes, ascending, and each node's place in it: marks on
        // the grid (at most `max::NODES`), not a sort of every part's list — a plan of a
        // thousand festival-long contracts lists a million (node, part) pairs.
        let grid_nodes = self.grid.nodes() as usize;
        let mut place = vec![u32::MAX; grid_nodes];
        for &n in eligible.iter().flatten() {
            place[n as usize] = 0;
        }
        let mut nodes = Vec::new();
        for (n, p) in place.iter_mut().enumerate() {
            if *p == 0 {
                *p = nodes.len() as u32;
                nodes.push(n as u32);
            }
        }
        let supply = nodes
            .iter()
            .map(|&n| {
                let slot = self.grid.parts(n).1 as usize;
                let f = u128::from(self.grid.forecast(n)) * u128::from(correction[slot]) / u128::from(PPB);
                let u = used.iter().find(|(x, _)| *x == n).map_or(0, |(_, k)| *k);
                (f.min(u128::from(u64::MAX)) as u64).saturating_sub(u)
            })
            .collect();
        let contracts = parts
            .iter()
            .zip(eligible)
            .map(|(p, el)| Contract {
                demand: p.demand,
                eligible: el.iter().map(|&n| place[n as usize]).collect(),
                priority: p.priority,
            })
            .collect();
        (Instance { supply, contracts }, nodes)
    }

    /// Plans the open contracts at `at` with HWM.
    pub fn make(&self, cs: &Contracts<'_>, at: Ts) -> Made {
        let hour = self.grid.hour_of(at).unwrap_or(self.grid.hours);
        let correction = self.correction(cs.book, hour);
        let used: Vec<(u32, u64)> = match &cs.book.hour_seen {
            (h, seen) if *h == hour => seen.iter().map(|(n, k)| (*n, *k)).collect(),
            _ => Vec::new(),
        };
        let parts = self.parts(cs, at, hour);
        let (inst, nodes) = self.instance(cs, &parts, hour, &correction, &used);
        let (plan, pricing) = self.plan(&inst, &nodes);
        let entries = plan
            .order
            .iter()
            .map(|&j| {
                let p = &parts[j as usize];
                PlanEntryRec {
                    contract: cs.get(p.contract).0.id.clone(),
                    part: p.part,
                    demand: p.demand,
                    priority: p.priority,
                    share_ppb: plan.share_ppb[j as usize],
                }
            })
            .collect();
        Made { rec: PlanRec { at, hour, correction_ppb: correction, used, entries }, pricing }
    }

    /// Plans `inst` with the festival's planner; SHALE's plan comes with the pricing that
    /// repeats it, per entry in planning order and per node of `nodes` (the instance's).
    fn plan(&self, inst: &Instance, nodes: &[u32]) -> (Plan, Option<PricingRec>) {
        match self.config.planner {
            Planner::Hwm => (hwm::plan(inst).expect("instances built here are valid"), None),
            Planner::Shale => {
                let opts = shale::Options { iterations: self.config.shale_iterations as u32, ..Default::default() };
                let s = shale::solve(inst, opts).expect("instances built here are valid");
                let zeta_ppb = s.plan.order.iter().map(|&j| s.zeta_ppb[j as usize]).collect();
                let prices = nodes.iter().zip(&s.beta_ppb).filter(|(_, &b)| b > 0).map(|(&n, &b)| (n, b)).collect();
                (s.plan, Some(PricingRec { zeta_ppb, prices }))
            }
        }
    }

    /// The node allocations of a recorded plan (with its pricing, when SHALE made it).
    pub fn expand(
        &self,
        cs: &Contracts<'_>,
        rec: &PlanRec,
        pricing: Option<&PricingRec>,
        index_of: impl Fn(&str) -> Option<u32>,
    ) -> Cache {
        let n = rec.entries.len();
        let (mut parts, mut shares, mut zeta) = (Vec::with_capacity(n), Vec::with_capacity(n), Vec::new());
        for (k, e) in rec.entries.iter().enumerate() {
            let Some(contract) = index_of(&e.contract) else { continue };
            parts.push(Part { contract, part: e.part, demand: e.demand, priority: e.priority });
            shares.push(e.share_ppb);
            if let Some(p) = pricing {
                zeta.push(p.zeta_ppb.get(k).copied().flatten());
            }
        }
        let (inst, nodes) = self.instance(cs, &parts, rec.hour, &rec.correction_ppb, &rec.used);
        let order: Vec<u32> = (0..parts.len() as u32).collect();
        let plan = match pricing {
            None => hwm::replay(&inst, &order, &shares).ok(),
            Some(p) => {
                let price = |n: &u32| p.prices.binary_search_by_key(n, |x| x.0).map_or(0, |k| p.prices[k].1);
                let beta: Vec<u64> = nodes.iter().map(price).collect();
                shale::replay(&inst, &order, &beta, &zeta).ok()
            }
        };
        Cache { nodes, supply: inst.supply, entry_contract: parts.iter().map(|p| p.contract).collect(), plan }
    }
}

/// A plan as the engine records it: HWM's alone, or SHALE's with its pricing.
pub struct Made {
    pub rec: PlanRec,
    pub pricing: Option<PricingRec>,
}

impl Made {
    pub fn event(self) -> crate::event::Event {
        use crate::event::{Event, ShalePlanRec};
        match self.pricing {
            None => Event::TrafficPlanned(self.rec),
            Some(pricing) => Event::TrafficPlannedShale(ShalePlanRec { plan: self.rec, pricing }),
        }
    }
}

/// What `dacu check` says of one contract the file declares: its eligible forecast
/// supply, and what a plan of all of them at the festival's start leaves it short.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Feasibility {
    pub contract: String,
    /// The program it is made per participant for (checked as one participant).
    pub program: Option<String>,
    pub impressions: u64,
    pub eligible_supply: u64,
    pub shortfall: u64,
}

/// Plans the file's contracts together (a program's as one participant's) on the
/// forecast, as the engine would at the festival's start.
pub fn feasibility(f: &Festival) -> Vec<Feasibility> {
    let Some(config) = f.traffic.as_ref() else { return Vec::new() };
    let grid = Grid::new(f, config);
    let ctx = Ctx { festival: f, config, grid: &grid };
    let source = || crate::event::ContractSourceRec::Festival;
    let recs: Vec<ContractRec> = config
        .contracts
        .iter()
        .filter_map(|c| config.contract_rec(f, c, c.id.clone(), source(), None, f.start()))
        .collect();
    let book = Book::default();
    let cs = Contracts { book: &book, new: &recs, ending: &[] };
    let made = ctx.make(&cs, f.start());
    let cache =
        ctx.expand(&cs, &made.rec, made.pricing.as_ref(), |id| recs.iter().position(|c| c.id == id).map(|i| i as u32));
    let mut planned = vec![0u64; recs.len()];
    if let Some(p) = &cache.plan {
        for (e, &c) in cache.entry_contract.iter().enumerate() {
            planned[c as usize] += p.planned[e];
        }
    }
    let program = |id: &str| config.contracts.iter().find(|c| c.id == id).and_then(|c| c.program.clone());
    recs.iter()
        .zip(planned)
        .map(|(r, got)| {
            let eligible_supply = ctx.eligible(r, 0, 0).iter().map(|&n| grid.forecast(n)).sum();
            Feasibility {
                contract: r.id.clone(),
                program: program(&r.id),
                impressions: r.impressions,
                eligible_supply,
                shortfall: r.impressions.saturating_sub(got),
            }
        })
        .collect()
}
