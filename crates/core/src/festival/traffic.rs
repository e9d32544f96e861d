//! `[traffic]`: the impression supply the festival forecasts and the guaranteed contracts
//! it promises (docs/traffic.md, "In the festival file"). Keys are the file's; the loader
//! checks them ([`validate`]).
//!
//! Supply is counted in **nodes**: one venue slot, in one clock hour of the festival, for
//! one audience segment. A node's forecast is the slot's `per_hour` scaled by the hour's
//! weight (the hour-of-day profile times any peak over it) and the segment's share.

use super::load::{key, Seg, V};
use super::model::{Festival, RewardKind, When};
pub use crate::kinds::Pacing;
use crate::time::Ts;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Milliseconds in a supply hour.
pub const HOUR_MS: i64 = 3_600_000;
/// A weight of 1 (the hour profile's and the peaks' unit): basis points.
pub const WEIGHT_ONE: u64 = 10_000;

/// Limits on `[traffic]` (docs/traffic.md, "Limits").
pub mod max {
    pub const SLOTS: usize = 32;
    pub const SEGMENTS: usize = 16;
    pub const PEAKS: usize = 64;
    pub const CONTRACTS: usize = 10_000;
    pub const GRANTS: usize = 32;
    /// A slot's forecast impressions per hour.
    pub const PER_HOUR: i64 = 1_000_000_000_000;
    /// A contract's impressions.
    pub const IMPRESSIONS: i64 = 1_000_000_000_000_000;
    /// An hour-profile weight or a peak multiple, in basis points (100×).
    pub const WEIGHT_BP: i64 = 1_000_000;
    pub const PRIORITY: i64 = 9;
    pub const HOURS: i64 = 24 * 366;
    /// Supply nodes (hours × slots × segments): a SHALE plan records a price per node,
    /// and this keeps that record within an event's budget.
    pub const NODES: u64 = 500_000;
    /// SHALE's stage-one iterations.
    pub const SHALE_ITERATIONS: i64 = 1_000;
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrafficConfig {
    pub slots: Vec<Slot>,
    pub segments: Vec<Segment>,
    /// 24 weights, one per hour of the day (Asia/Shanghai), in basis points: 10000 is the
    /// slot's `per_hour` as it stands. Default: 10000 each.
    #[serde(default = "flat_profile")]
    pub hour_profile_bp: Vec<i64>,
    #[serde(default)]
    pub peaks: Vec<Peak>,
    /// How far a contract's delivery may run ahead of its target curve, as a share of its
    /// impressions.
    #[serde(default = "default_tolerance_bp")]
    pub tolerance_bp: i64,
    /// A plan older than this many supply hours is made again at the next tick or
    /// impression.
    #[serde(default = "default_replan_every_h")]
    pub replan_every_h: i64,
    /// The planner every plan is made with (docs/traffic.md, "HWM" and "SHALE").
    #[serde(default)]
    pub planner: Planner,
    /// SHALE's stage-one iterations, when `planner` is `shale`.
    #[serde(default = "default_shale_iterations")]
    pub shale_iterations: i64,
    /// What happens to a contract's shortfall when its window ends.
    #[serde(default)]
    pub on_shortfall: OnShortfall,
    /// The window of a make-good contract, from the end of the one it makes good.
    #[serde(default = "default_make_good_h")]
    pub make_good_hours: i64,
    #[serde(default)]
    pub contracts: Vec<ContractSpec>,
    #[serde(default)]
    pub grants: Vec<GrantRule>,
}

fn flat_profile() -> Vec<i64> {
    vec![WEIGHT_ONE as i64; 24]
}
fn default_tolerance_bp() -> i64 {
    500
}
fn default_replan_every_h() -> i64 {
    1
}
fn default_shale_iterations() -> i64 {
    i64::from(crate::traffic::shale::DEFAULT_ITERATIONS)
}
fn default_make_good_h() -> i64 {
    72
}
fn default_priority() -> i64 {
    5
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Slot {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    /// Forecast impression opportunities per hour at weight 1.
    pub per_hour: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Segment {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    /// The segment's share of every slot's opportunities; the shares sum to 10000.
    pub share_bp: i64,
}

/// A multiple on every slot's forecast over `start..end` (the 11-11 peak).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Peak {
    pub start: When,
    pub end: When,
    pub multiple_bp: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Planner {
    /// High Water Mark: one pass, each contract the same share of every node it may use.
    #[default]
    Hwm,
    /// SHALE: the nodes priced first, so a contract leaves others the nodes they need.
    Shale,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnShortfall {
    /// A new contract for the shortfall, over `make_good_hours` from the window's end.
    #[default]
    MakeGood,
    /// The shortfall is recorded as owed and reported.
    Owe,
}

/// A contract the file declares: one, or with `program`, one per participant enrolled.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContractSpec {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    pub slots: Vec<String>,
    /// All segments when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments: Option<Vec<String>>,
    pub impressions: i64,
    /// The window: a phase id, or `start` and `end`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<When>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<When>,
    /// One contract per participant enrolled in this program, made at the enrolment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
    /// 0 to 9, higher planned first.
    #[serde(default = "default_priority")]
    pub priority: i64,
    #[serde(default)]
    pub pacing: Pacing,
}

/// How settlement's traffic grants become contracts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GrantRule {
    /// `traffic_pack` (its `impressions`) or `main_venue_slot` (`impressions` here, per slot).
    pub reward: RewardKind,
    pub slots: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments: Option<Vec<String>>,
    /// The window's length from the settlement, cut at the festival's end.
    pub hours: i64,
    /// Impressions per main-venue slot granted; not given for traffic packs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impressions: Option<i64>,
    #[serde(default = "default_priority")]
    pub priority: i64,
    #[serde(default)]
    pub pacing: Pacing,
    /// Shown only while the anchor it was granted to is live (for anchors).
    #[serde(default)]
    pub live_only: bool,
}

/// The supply grid of a festival: nodes, their forecasts and the hours' weights.
#[derive(Debug, Clone)]
pub struct Grid {
    /// The start of supply hour 0 (the festival's start, down to its hour).
    pub hour0: Ts,
    pub hours: u32,
    pub slots: u32,
    pub segments: u32,
    /// Per slot: forecast per hour at weight 1.
    per_hour: Vec<u64>,
    share_bp: Vec<u64>,
    /// Per hour: its weight in basis points (profile × peaks).
    weight_bp: Vec<u64>,
    /// Cumulative weights: `cum[h]` is the sum of the weights of hours before `h`.
    cum: Vec<u128>,
}

impl Grid {
    pub fn new(f: &Festival, t: &TrafficConfig) -> Grid {
        let hour0 = Ts(f.start().0.div_euclid(HOUR_MS) * HOUR_MS);
        let hours = ((f.end().0 - hour0.0 + HOUR_MS - 1) / HOUR_MS).max(0) as u32;
        let weight_bp: Vec<u64> = (0..hours)
            .map(|h| {
                let at = hour0.plus_ms(i64::from(h) * HOUR_MS);
                let local = (at.0 + crate::time::SHANGHAI_OFFSET_S * 1000).div_euclid(HOUR_MS).rem_euclid(24);
                let mut w = t.hour_profile_bp.get(local as usize).copied().unwrap_or(10_000).max(0) as u128;
                for p in t.peaks.iter().filter(|p| p.start.0 <= at && at < p.end.0) {
                    w = w * p.multiple_bp.max(0) as u128 / u128::from(WEIGHT_ONE);
                }
                w.min(u128::from(u64::MAX)) as u64
            })
            .collect();
        let mut cum = Vec::with_capacity(weight_bp.len() + 1);
        cum.push(0u128);
        for w in &weight_bp {
            cum.push(cum.last().copied().unwrap_or(0) + u128::from(*w));
        }
        Grid {
            hour0,
            hours,
            slots: t.slots.len() as u32,
            segments: t.segments.len() as u32,
            per_hour: t.slots.iter().map(|s| s.per_hour.max(0) as u64).collect(),
            share_bp: t.segments.iter().map(|s| s.share_bp.max(0) as u64).collect(),
            weight_bp,
            cum,
        }
    }

    /// The supply hour holding `at` (None outside the grid).
    pub fn hour_of(&self, at: Ts) -> Option<u32> {
        let h = (at.0 - self.hour0.0).div_euclid(HOUR_MS);
        (0..i64::from(self.hours)).contains(&h).then_some(h as u32)
    }

    pub fn hour_start(&self, h: u32) -> Ts {
        self.hour0.plus_ms(i64::from(h) * HOUR_MS)
    }

    pub fn nodes(&self) -> u64 {
        u64::from(self.hours) * u64::from(self.slots) * u64::from(self.segments)
    }

    /// Node `(hour, slot, segment)`'s index: hour-major.
    pub fn node(&self, hour: u32, slot: u32, segment: u32) -> u32 {
        (hour * self.slots + slot) * self.segments + segment
    }

    /// `(hour, slot, segment)` of a node index.
    pub fn parts(&self, node: u32) -> (u32, u32, u32) {
        let seg = node % self.segments;
        let rest = node / self.segments;
        (rest / self.slots, rest % self.slots, seg)
    }

    /// A node's forecast: ⌊per_hour × weight × share / 10⁸⌋.
    pub fn forecast(&self, node: u32) -> u64 {
        let (h, slot, seg) = self.parts(node);
        let x = u128::from(self.per_hour[slot as usize])
            * u128::from(self.weight_bp[h as usize])
            * u128::from(self.share_bp[seg as usize])
            / u128::from(WEIGHT_ONE * WEIGHT_ONE);
        x.min(u128::from(u64::MAX)) as u64
    }

    /// A slot's forecast over hours `h0..h1`, all segments: per_hour × weights / 10⁴.
    pub fn slot_forecast(&self, slot: u32, h0: u32, h1: u32) -> u128 {
        let (h0, h1) = (h0.min(self.hours) as usize, h1.min(self.hours) as usize);
        let w = self.cum[h1.max(h0)] - self.cum[h0];
        u128::from(self.per_hour[slot as usize]) * w / u128::from(WEIGHT_ONE)
    }

    /// The forecast's cumulative weight up to `at`: whole hours before it plus the
    /// elapsed fraction of its own hour, in basis-point milliseconds (weight × ms).
    pub fn weight_until(&self, at: Ts) -> u128 {
        let h = (at.0 - self.hour0.0).div_euclid(HOUR_MS);
        if h < 0 {
            return 0;
        }
        if h >= i64::from(self.hours) {
            return self.cum[self.hours as usize] * HOUR_MS as u128;
        }
        let into = (at.0 - self.hour0.0 - h * HOUR_MS) as u128;
        self.cum[h as usize] * HOUR_MS as u128 + u128::from(self.weight_bp[h as usize]) * into
    }
}

/// Resolves a list of ids against the declared ones (indexes, ascending, no repeats).
pub fn indexes(ids: &[String], declared: &[&str]) -> Option<Vec<u32>> {
    let mut v: Vec<u32> =
        ids.iter().map(|id| declared.iter().position(|d| d == id).map(|i| i as u32)).collect::<Option<_>>()?;
    v.sort_unstable();
    v.dedup();
    Some(v)
}

impl TrafficConfig {
    pub fn slot_ids(&self) -> Vec<&str> {
        self.slots.iter().map(|s| s.id.as_str()).collect()
    }

    pub fn segment_ids(&self) -> Vec<&str> {
        self.segments.iter().map(|s| s.id.as_str()).collect()
    }

    /// The contract a spec makes: for the file itself, or with a program's `id`, `source`
    /// and `track`, for one participant; none when the spec has no window.
    pub fn contract_rec(
        &self,
        f: &Festival,
        c: &ContractSpec,
        id: String,
        source: crate::event::ContractSourceRec,
        track: Option<String>,
        at: Ts,
    ) -> Option<crate::event::ContractRec> {
        let (start, end) = Self::window(f, c)?;
        Some(crate::event::ContractRec {
            id,
            source,
            track,
            slots: c.slots.clone(),
            segments: c.segments.clone().unwrap_or_else(|| self.segments.iter().map(|s| s.id.clone()).collect()),
            impressions: c.impressions.max(0) as u64,
            start,
            end,
            priority: c.priority.clamp(0, max::PRIORITY) as u8,
            pacing: c.pacing,
            live_anchor: None,
            at,
        })
    }

    /// A contract spec's window: its phase's, or its own `start`..`end`.
    pub fn window(f: &Festival, c: &ContractSpec) -> Option<(Ts, Ts)> {
        match (&c.phase, c.start, c.end) {
            (Some(p), None, None) => f.phases.iter().find(|x| &x.id == p).map(|x| (x.start.0, x.end.0)),
            (None, Some(s), Some(e)) => Some((s.0, e.0)),
            _ => None,
        }
    }
}

/// The checks of `[traffic]`.
pub(super) fn validate(f: &Festival, t: &TrafficConfig, v: &mut V<'_, '_>) {
    let at = |k: &str| vec![key("traffic"), key(k)];
    let slots = unique(v, "slots", t.slots.iter().map(|s| s.id.as_str()));
    let segments = unique(v, "segments", t.segments.iter().map(|s| s.id.as_str()));
    for (list, n, max) in [("slots", t.slots.len(), max::SLOTS), ("segments", t.segments.len(), max::SEGMENTS)] {
        if n == 0 || n > max {
            v.err(at(list), format!("`traffic.{list}` needs 1 to {max} entries, got {n}"));
        }
    }
    let hours = ((f.end().0 - f.start().0.div_euclid(HOUR_MS) * HOUR_MS + HOUR_MS - 1) / HOUR_MS).max(0) as u64;
    let nodes = hours * t.slots.len() as u64 * t.segments.len() as u64;
    if nodes > max::NODES {
        v.err(
            at("slots"),
            format!(
                "{hours} hours x {} slots x {} segments is {nodes} supply nodes; at most {} (fewer slots or segments)",
                t.slots.len(),
                t.segments.len(),
                max::NODES
            ),
        );
    }
    for (i, s) in t.slots.iter().enumerate() {
        v.range(item("slots", i, "per_hour"), s.per_hour, max::PER_HOUR, "`per_hour`");
    }
    let mut shares = 0i64;
    for (i, s) in t.segments.iter().enumerate() {
        v.bp(item("segments", i, "share_bp"), s.share_bp);
        shares += s.share_bp.clamp(0, 10_000);
    }
    if !t.segments.is_empty() && shares != 10_000 {
        v.err(at("segments"), format!("the segments' `share_bp` must sum to 10000, got {shares}"));
    }
    if t.hour_profile_bp.len() != 24 {
        v.err(at("hour_profile_bp"), format!("`hour_profile_bp` needs 24 weights, got {}", t.hour_profile_bp.len()));
    }
    for (i, w) in t.hour_profile_bp.iter().enumerate() {
        let p = vec![key("traffic"), key("hour_profile_bp"), Seg::Index(i)];
        v.range(p, *w, max::WEIGHT_BP, "an hour weight (basis points)");
    }
    validate_peaks(f, t, v);
    v.range(at("tolerance_bp"), t.tolerance_bp, 10_000, "`tolerance_bp`");
    v.range(at("shale_iterations"), t.shale_iterations, max::SHALE_ITERATIONS, "`shale_iterations`");
    for (k, h) in [("replan_every_h", t.replan_every_h), ("make_good_hours", t.make_good_hours)] {
        if !(1..=max::HOURS).contains(&h) {
            v.err(at(k), format!("`{k}` must be 1 to {} hours, got {h}", max::HOURS));
        }
    }
    validate_contracts(f, t, v, &slots, &segments);
    validate_grants(t, v, &slots, &segments);
}

fn item(list: &str, i: usize, k: &str) -> Vec<Seg> {
    vec![key("traffic"), key(list), Seg::Index(i), key(k)]
}

fn unique<'x>(v: &mut V<'_, '_>, list: &str, ids: impl Iterator<Item = &'x str>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for (i, id) in ids.enumerate() {
        v.id(item(list, i, "id"), id);
        if !seen.insert(id.to_string()) {
            v.err(item(list, i, "id"), format!("duplicate traffic {list} id `{id}`"));
        }
    }
    seen
}

fn validate_peaks(f: &Festival, t: &TrafficConfig, v: &mut V<'_, '_>) {
    if t.peaks.len() > max::PEAKS {
        v.err(vec![key("traffic"), key("peaks")], format!("at most {} peaks, got {}", max::PEAKS, t.peaks.len()));
    }
    let fest = (f.start(), f.end());
    for (i, p) in t.peaks.iter().enumerate() {
        let base = [key("traffic"), key("peaks"), Seg::Index(i)];
        v.window(&base, "start", "end", p.start.0, p.end.0, fest);
        v.range(item("peaks", i, "multiple_bp"), p.multiple_bp, max::WEIGHT_BP, "`multiple_bp`");
        if t.peaks[..i].iter().any(|q| q.start.0 < p.end.0 && p.start.0 < q.end.0) {
            v.err(item("peaks", i, "start"), "peaks must not overlap");
        }
    }
}

fn check_ids(v: &mut V<'_, '_>, path: Vec<Seg>, ids: &[String], declared: &BTreeSet<String>, what: &str) {
    if ids.is_empty() {
        v.err(path.clone(), format!("name at least one traffic {what}"));
    }
    for id in ids.iter().filter(|id| !declared.contains(*id)) {
        let known: Vec<&str> = declared.iter().map(String::as_str).collect();
        v.err(path.clone(), format!("unknown traffic {what} `{id}`; declared: {}", known.join(", ")));
    }
}

fn validate_contracts(
    f: &Festival,
    t: &TrafficConfig,
    v: &mut V<'_, '_>,
    slots: &BTreeSet<String>,
    segments: &BTreeSet<String>,
) {
    if t.contracts.len() > max::CONTRACTS {
        let n = t.contracts.len();
        v.err(vec![key("traffic"), key("contracts")], format!("at most {} contracts, got {n}", max::CONTRACTS));
    }
    let _ = unique(v, "contracts", t.contracts.iter().map(|c| c.id.as_str()));
    for (i, c) in t.contracts.iter().enumerate() {
        check_ids(v, item("contracts", i, "slots"), &c.slots, slots, "slot");
        if let Some(s) = &c.segments {
            check_ids(v, item("contracts", i, "segments"), s, segments, "segment");
        }
        if c.impressions < 1 || c.impressions > max::IMPRESSIONS {
            let msg = format!("`impressions` must be 1 to {}, got {}", max::IMPRESSIONS, c.impressions);
            v.err(item("contracts", i, "impressions"), msg);
        }
        v.range(item("contracts", i, "priority"), c.priority, max::PRIORITY, "`priority`");
        match (&c.phase, c.start, c.end) {
            (Some(p), None, None) if f.phases.iter().any(|x| &x.id == p) => {}
            (Some(p), None, None) => v.err(item("contracts", i, "phase"), format!("undefined phase `{p}`")),
            (None, Some(s), Some(e)) => {
                let base = [key("traffic"), key("contracts"), Seg::Index(i)];
                v.window(&base, "start", "end", s.0, e.0, (f.start(), f.end()));
            }
            _ => v.err(item("contracts", i, "id"), "give the window as `phase`, or as `start` and `end`"),
        }
        if let Some(p) = &c.program {
            if f.program(p).is_none() {
                v.err(item("contracts", i, "program"), format!("undefined program `{p}`"));
            }
        }
    }
}

fn validate_grants(t: &TrafficConfig, v: &mut V<'_, '_>, slots: &BTreeSet<String>, segments: &BTreeSet<String>) {
    if t.grants.len() > max::GRANTS {
        v.err(
            vec![key("traffic"), key("grants")],
            format!("at most {} grant rules, got {}", max::GRANTS, t.grants.len()),
        );
    }
    for (i, g) in t.grants.iter().enumerate() {
        check_ids(v, item("grants", i, "slots"), &g.slots, slots, "slot");
        if let Some(s) = &g.segments {
            check_ids(v, item("grants", i, "segments"), s, segments, "segment");
        }
        if !(1..=max::HOURS).contains(&g.hours) {
            v.err(item("grants", i, "hours"), format!("`hours` must be 1 to {}, got {}", max::HOURS, g.hours));
        }
        v.range(item("grants", i, "priority"), g.priority, max::PRIORITY, "`priority`");
        match (g.reward, g.impressions) {
            (RewardKind::TrafficPack, None) => {}
            (RewardKind::TrafficPack, Some(_)) => v.err(
                item("grants", i, "impressions"),
                "a traffic pack's impressions come from its reward; leave `impressions` out",
            ),
            (RewardKind::MainVenueSlot, Some(n)) if (1..=max::IMPRESSIONS).contains(&n) => {}
            (RewardKind::MainVenueSlot, _) => v.err(
                item("grants", i, "impressions"),
                format!("a main-venue slot needs `impressions` per slot, 1 to {}", max::IMPRESSIONS),
            ),
            _ => v.err(item("grants", i, "reward"), "`reward` must be \"traffic_pack\" or \"main_venue_slot\""),
        }
        if t.grants[..i].iter().any(|x| x.reward == g.reward) {
            v.err(item("grants", i, "reward"), "one grant rule per reward kind");
        }
    }
}
