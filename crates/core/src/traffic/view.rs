//! What the book shows: one contract (`dacu show contract`) and the festival's delivery
//! (the report's traffic section), with delivery curves against the target curves.

use super::book::ContractState;
use super::live::Ctx;
use crate::event::{ContractRec, ContractSourceRec};
use crate::festival::traffic::Grid;
use crate::festival::Festival;
use crate::state::State;
use crate::time::{Day, Ts};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
pub struct ContractView {
    #[serde(flatten)]
    pub rec: ContractRec,
    pub delivered: u64,
    pub remaining: u64,
    /// Delivered ÷ impressions, basis points.
    pub delivered_bp: i64,
    /// The target curve at the book's latest opportunity (or the window's end, once past).
    pub target_now: u64,
    pub ended: Option<EndedView>,
    /// Per festival day of the window: delivered that day, cumulative, and the target at
    /// the day's end.
    pub curve: Vec<CurvePoint>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EndedView {
    pub at: Ts,
    pub shortfall: u64,
    /// The make-good that took the shortfall; none: owed.
    pub make_good: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct CurvePoint {
    pub day: Day,
    pub delivered: u64,
    pub cumulative: u64,
    pub target: u64,
}

/// Delivery per incentive track (`platform` for contracts without one).
#[derive(Debug, Clone, Serialize)]
pub struct TrackDelivery {
    pub track: String,
    pub contracts: u64,
    pub promised: u64,
    pub delivered: u64,
    /// Shortfalls of ended contracts, made good or owed.
    pub shortfall: u64,
    pub owed: u64,
    pub curve: Vec<CurvePoint>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub opportunities: u64,
    pub served: u64,
    pub unsold: u64,
    pub plans: u64,
    pub contracts: u64,
    pub promised: u64,
    pub delivered: u64,
    /// Impressions of contracts that make good another's shortfall (also in `delivered`).
    pub made_good: u64,
    pub owed: u64,
    pub by_slot: Vec<(String, u64)>,
    /// Per segment: opportunities and impressions served.
    pub by_segment: Vec<(String, u64, u64)>,
    pub by_track: Vec<TrackDelivery>,
    pub by_source: BTreeMap<String, u64>,
}

fn source_name(s: &ContractSourceRec) -> &'static str {
    match s {
        ContractSourceRec::Festival => "festival",
        ContractSourceRec::Program { .. } => "program",
        ContractSourceRec::Settlement { .. } => "settlement",
        ContractSourceRec::MakeGood { .. } => "make_good",
    }
}

/// The book's latest time: its plan's, or its latest opportunity's day end.
fn now(st: &State) -> Option<Ts> {
    st.traffic.plan.as_ref().map(|p| p.at)
}

fn curve(ctx: &Ctx<'_>, c: &ContractState) -> Vec<CurvePoint> {
    let (first, last) = (c.rec.start.day(), c.rec.end.plus_ms(-1).day());
    let mut cumulative = 0u64;
    (first.0..=last.0)
        .map(|d| {
            let day = Day(d);
            let delivered = c.by_day.get(&day).copied().unwrap_or(0);
            cumulative += delivered;
            let target = ctx.target(&c.rec, Ts::start_of(day.next()));
            CurvePoint { day, delivered, cumulative, target }
        })
        .collect()
}

fn with_ctx<T>(f: &Festival, run: impl FnOnce(&Ctx<'_>) -> T) -> Option<T> {
    let config = f.traffic.as_ref()?;
    let grid = Grid::new(f, config);
    Some(run(&Ctx { festival: f, config, grid: &grid }))
}

pub fn contract(f: &Festival, st: &State, id: &str) -> Option<ContractView> {
    let c = st.traffic.contract(id)?;
    with_ctx(f, |ctx| {
        let at = now(st).map_or(c.rec.start, |t| t.min(c.rec.end));
        let at = if c.ended.is_some() { c.rec.end } else { at };
        ContractView {
            rec: c.rec.clone(),
            delivered: c.delivered,
            remaining: c.rec.impressions.saturating_sub(c.delivered),
            delivered_bp: crate::money::share_bp(c.delivered as i64, c.rec.impressions as i64),
            target_now: ctx.target(&c.rec, at),
            ended: c.ended.as_ref().map(|e| EndedView {
                at: e.at,
                shortfall: e.shortfall,
                make_good: e.make_good.clone(),
            }),
            curve: curve(ctx, c),
        }
    })
}

/// The festival's delivery; None without `[traffic]`.
pub fn delivery(f: &Festival, st: &State) -> Option<Delivery> {
    with_ctx(f, |ctx| {
        let b = &st.traffic;
        let mut tracks: BTreeMap<String, TrackDelivery> = BTreeMap::new();
        let mut by_source = BTreeMap::new();
        let mut made_good = 0;
        for c in &b.contracts {
            let name = c.rec.track.clone().unwrap_or_else(|| "platform".into());
            let t = tracks.entry(name.clone()).or_insert_with(|| TrackDelivery {
                track: name,
                contracts: 0,
                promised: 0,
                delivered: 0,
                shortfall: 0,
                owed: 0,
                curve: Vec::new(),
            });
            t.contracts += 1;
            t.delivered += c.delivered;
            if let Some(e) = &c.ended {
                t.shortfall += e.shortfall;
                t.owed += if e.make_good.is_none() { e.shortfall } else { 0 };
            }
            if let ContractSourceRec::MakeGood { .. } = c.rec.source {
                made_good += c.delivered;
            } else {
                // A make-good re-promises part of another's impressions: counted once.
                t.promised += c.rec.impressions;
            }
            *by_source.entry(source_name(&c.rec.source).to_string()).or_insert(0) += c.delivered;
        }
        for t in tracks.values_mut() {
            let mine: Vec<&ContractState> =
                b.contracts.iter().filter(|c| c.rec.track.as_deref().unwrap_or("platform") == t.track).collect();
            t.curve = track_curve(ctx, &mine);
        }
        Delivery {
            opportunities: b.opportunities,
            served: b.served,
            unsold: b.unsold,
            plans: b.plans,
            contracts: b.contracts.len() as u64,
            promised: tracks.values().map(|t| t.promised).sum(),
            delivered: b.served,
            made_good,
            owed: b.owed(),
            by_slot: b.by_slot.iter().map(|(s, x)| (s.clone(), x.total)).collect(),
            by_segment: b.by_segment.iter().map(|(s, (o, v))| (s.clone(), *o, *v)).collect(),
            by_track: tracks.into_values().collect(),
            by_source,
        }
    })
}

/// A track's daily curve: per festival day from its first contract's start to its last
/// one's end, impressions delivered (make-goods' included), cumulative, and the sum of its
/// contracts' targets at the day's end (a contract's target is 0 before its window and its
/// impressions after), make-goods left out.
fn track_curve(ctx: &Ctx<'_>, cs: &[&ContractState]) -> Vec<CurvePoint> {
    let (Some(first), Some(last)) =
        (cs.iter().map(|c| c.rec.start.day()).min(), cs.iter().map(|c| c.rec.end.plus_ms(-1).day()).max())
    else {
        return Vec::new();
    };
    let mut cumulative = 0u64;
    (first.0..=last.0)
        .map(|d| {
            let day = Day(d);
            let end = Ts::start_of(day.next());
            let delivered: u64 = cs.iter().filter_map(|c| c.by_day.get(&day)).sum();
            cumulative += delivered;
            // A make-good re-promises part of a contract whose whole target is counted
            // already (as `promised` counts it once): the curve ends at what was promised.
            let promised = cs.iter().filter(|c| !matches!(c.rec.source, ContractSourceRec::MakeGood { .. }));
            let target = promised.map(|c| ctx.target(&c.rec, end)).sum();
            CurvePoint { day, delivered, cumulative, target }
        })
        .collect()
}
