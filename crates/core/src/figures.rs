//! The figures of the source (`[[figures]]`): each computed from the data — this
//! festival's, the baseline's, or a reference month's — and, where the festival file gives
//! bounds (`min`, `max`), marked reproduced or not. docs/festival.md ("[[figures]]")
//! gives each metric's value and unit.

use crate::festival::{BrandTier, Festival, Figure, FigureMetric};
use crate::money::{fmt_bp, share_bp};
use crate::state::State;
use crate::view::{fmt_multiple, multiple_x100, Baseline, StatsView};
use serde::Serialize;
use std::collections::BTreeMap;

/// Another period's anchor-tier GMV shares by month, for figures about a month outside
/// this festival (the July reference of the 116 festival): computed from its data
/// directory ([`Reference::of`]) or loaded from a JSON file with these keys.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    pub festival: String,
    /// Month (`YYYY-MM`) → anchor tier id → share (basis points) of the GMV attributed to
    /// an anchor in that month, net of refunds.
    pub anchor_tier_share_bp: BTreeMap<String, BTreeMap<String, i64>>,
}

impl Reference {
    /// The shares of every month a festival's orders were paid in.
    pub fn of(f: &Festival, st: &State) -> Reference {
        let mut net: BTreeMap<String, BTreeMap<u32, i64>> = BTreeMap::new();
        for o in st.orders.values() {
            if let Some(t) = o.anchor_tier.get() {
                let month = o.at.day().to_string()[..7].to_string();
                *net.entry(month).or_default().entry(t).or_default() += (o.paid - o.refunded).0;
            }
        }
        let anchor_tier_share_bp = net
            .into_iter()
            .map(|(month, tiers)| {
                let all: i64 = tiers.values().sum();
                let shares = f
                    .anchor_tiers
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (t.id.clone(), share_bp(tiers.get(&(i as u32)).copied().unwrap_or(0), all)))
                    .collect();
                (month, shares)
            })
            .collect();
        Reference { festival: f.festival.id.clone(), anchor_tier_share_bp }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FigureView {
    pub id: String,
    pub text_en: String,
    pub text_zh: String,
    pub reported: String,
    /// The value computed from the data, as text, or None where it needs a baseline or a
    /// reference the report was not given.
    pub computed: Option<String>,
    /// The same value as a number in the metric's unit ([`unit`]).
    pub value: Option<i64>,
    /// `count`, `bp` (basis points) or `x100` (a multiple in hundredths).
    pub unit: &'static str,
    /// Whose data it was computed from: `festival`, `baseline` (with this festival's) or
    /// `reference`.
    pub source: Option<&'static str>,
    /// The bounds the festival file gives, as text ("≥ 9", "7.50×–8.50×").
    pub bounds: Option<String>,
    /// Whether the value falls within the bounds; None without a value or without bounds.
    pub reproduced: Option<bool>,
}

fn fmt_value(unit: &str, v: i64) -> String {
    match unit {
        "bp" => fmt_bp(v),
        "x100" => fmt_multiple(v),
        _ => v.to_string(),
    }
}

/// "≥ 9", "≤ 2.00×", "7.50×–8.50×".
pub fn fmt_bounds(unit: &str, min: Option<i64>, max: Option<i64>) -> Option<String> {
    match (min, max) {
        (Some(a), Some(b)) => Some(format!("{}–{}", fmt_value(unit, a), fmt_value(unit, b))),
        (Some(a), None) => Some(format!("≥ {}", fmt_value(unit, a))),
        (None, Some(b)) => Some(format!("≤ {}", fmt_value(unit, b))),
        (None, None) => None,
    }
}

/// What the figures read besides this festival's state.
pub struct Inputs<'a> {
    pub total: &'a StatsView,
    pub baseline: Option<&'a Baseline>,
    pub reference: Option<&'a Reference>,
}

/// Every figure of the festival file, computed and checked.
pub fn figures(f: &Festival, st: &State, x: &Inputs<'_>) -> Vec<FigureView> {
    f.figures.iter().map(|fig| figure(f, st, x, fig)).collect()
}

fn figure(f: &Festival, st: &State, x: &Inputs<'_>, fig: &Figure) -> FigureView {
    let unit = fig.metric.unit();
    let (value, source, computed) = match compute(f, st, x, fig) {
        Some((v, source, text)) => (Some(v), Some(source), Some(text.unwrap_or_else(|| fmt_value(unit, v)))),
        None => (None, None, None),
    };
    let has_bounds = fig.min.is_some() || fig.max.is_some();
    let reproduced =
        value.filter(|_| has_bounds).map(|v| fig.min.is_none_or(|lo| v >= lo) && fig.max.is_none_or(|hi| v <= hi));
    FigureView {
        id: fig.id.clone(),
        text_en: fig.text_en.clone(),
        text_zh: fig.text_zh.clone(),
        reported: fig.reported.clone(),
        computed,
        value,
        unit,
        source,
        bounds: fmt_bounds(unit, fig.min, fig.max),
        reproduced,
    }
}

/// (value, source, text when it says more than the value).
fn compute(f: &Festival, st: &State, x: &Inputs<'_>, fig: &Figure) -> Option<(i64, &'static str, Option<String>)> {
    let total = x.total;
    match fig.metric {
        FigureMetric::SkaBrandsGmvAtLeast => {
            let t = fig.threshold_fen.unwrap_or(0);
            let n = st.merchants.iter().filter(|m| m.brand_tier == BrandTier::Ska && m.stats.gmv().0 >= t).count();
            Some((n as i64, "festival", None))
        }
        FigureMetric::CertifiedProviders => Some((st.certified_providers() as i64, "festival", None)),
        FigureMetric::MerchantsServedShare => {
            Some((share_bp(st.merchants_served() as i64, st.merchants.len() as i64), "festival", None))
        }
        FigureMetric::AnchorTierGmvShare => {
            let tier = fig.tier.as_deref()?;
            let ti = f.anchor_tiers.iter().position(|t| t.id == tier)? as u32;
            if let Some(v) = tier_share_in_month(st, ti, fig.month.as_deref()) {
                return Some((v, "festival", None));
            }
            // A month this festival has no anchor sales in: the reference's, if it has.
            let r = x.reference?;
            let month = fig.month.as_deref()?;
            let v = *r.anchor_tier_share_bp.get(month)?.get(tier)?;
            Some((v, "reference", Some(format!("{} (reference {})", fmt_bp(v), r.festival))))
        }
        FigureMetric::ProviderSelfBroadcastGrowth => {
            let base = x.baseline?.provider_served_self_broadcast_gmv_fen?;
            Some((multiple_x100(total.provider_served_self_broadcast_gmv, base)?, "baseline", None))
        }
        FigureMetric::ProviderSelfBroadcastShareChange => {
            let b = x.baseline?;
            let before = share_bp(b.provider_served_self_broadcast_gmv_fen?, b.self_broadcast_gmv_fen?);
            let now = share_bp(total.provider_served_self_broadcast_gmv, total.self_broadcast_gmv);
            let m = multiple_x100(now, before)?;
            Some((m, "baseline", Some(format!("{} → {} ({})", fmt_bp(before), fmt_bp(now), fmt_multiple(m)))))
        }
    }
}

/// Share (bp) of anchor-attributed GMV that anchors of `tier` made, over orders paid in
/// `month` (YYYY-MM, Asia/Shanghai) or over the whole festival. None when no anchor sold
/// anything in that month.
fn tier_share_in_month(st: &State, tier: u32, month: Option<&str>) -> Option<i64> {
    let (mut mine, mut all) = (0i64, 0i64);
    for o in st.orders.values() {
        if month.is_some_and(|m| !o.at.day().to_string().starts_with(m)) {
            continue;
        }
        if let Some(t) = o.anchor_tier.get() {
            let net = (o.paid - o.refunded).0;
            all += net;
            if t == tier {
                mine += net;
            }
        }
    }
    (all > 0).then(|| share_bp(mine, all))
}

/// Whether a year-on-year multiple lands within `tolerance_bp` of what was announced
/// (|multiple − announced| ≤ announced × tolerance): None when nothing was announced.
pub fn multiple_reproduced(multiple_x100: i64, announced_x: Option<i64>, tolerance_bp: i64) -> Option<bool> {
    let a = announced_x? as i128 * 100;
    Some(((multiple_x100 as i128 - a).abs()) * 10_000 <= a * tolerance_bp as i128)
}
