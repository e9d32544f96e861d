//! Read models: what `dacu show` and `dacu report` print. Built from the state on demand;
//! every list is ordered (by value then id, or by id) so output is deterministic.

use crate::command::{Channel, InteractionKind};
use crate::festival::{BrandTier, Festival, FigureMetric};
use crate::money::share_bp;
use crate::state::{Money2, State, Stats};
use crate::time::{Day, Ts};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChannelView {
    pub gmv: i64,
    pub gmv_gross: i64,
    pub refunded: i64,
    pub orders: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ByChannel {
    pub live: ChannelView,
    pub shelf: ChannelView,
}

/// Sales totals of one entity. Money in fen; `gmv` = `gmv_gross` − `refunded`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StatsView {
    pub gmv: i64,
    pub gmv_gross: i64,
    pub refunded: i64,
    pub orders: u64,
    pub buyers: u64,
    pub by_channel: ByChannel,
    pub self_broadcast_gmv: i64,
    pub provider_served_gmv: i64,
    pub provider_served_self_broadcast_gmv: i64,
}

impl StatsView {
    pub fn of(s: &Stats) -> StatsView {
        let ch = |c: Channel| {
            let m: &Money2 = &s.channel[c.index()];
            ChannelView { gmv: m.net().0, gmv_gross: m.gross.0, refunded: m.refunded.0, orders: s.orders[c.index()] }
        };
        let t = s.total();
        StatsView {
            gmv: t.net().0,
            gmv_gross: t.gross.0,
            refunded: t.refunded.0,
            orders: s.orders_total(),
            buyers: s.buyers.len() as u64,
            by_channel: ByChannel { live: ch(Channel::Live), shelf: ch(Channel::Shelf) },
            self_broadcast_gmv: s.self_broadcast.net().0,
            provider_served_gmv: s.provider_served.net().0,
            provider_served_self_broadcast_gmv: s.provider_served_self_broadcast.net().0,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct MerchantView {
    pub merchant: String,
    pub name: String,
    pub brand_tier: BrandTier,
    pub category: String,
    pub provider: Option<String>,
    pub programs: Vec<String>,
    #[serde(flatten)]
    pub stats: StatsView,
}

#[derive(Debug, Clone, Serialize)]
pub struct AnchorView {
    pub anchor: String,
    pub name: String,
    pub followers: i64,
    pub tier: Option<String>,
    pub merchant: Option<String>,
    pub live_session: Option<String>,
    pub programs: Vec<String>,
    #[serde(flatten)]
    pub stats: StatsView,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProviderView {
    pub provider: String,
    pub name: String,
    pub certified_at: Option<Ts>,
    pub merchants_served: Vec<String>,
    pub programs: Vec<String>,
    #[serde(flatten)]
    pub stats: StatsView,
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    pub session: String,
    pub anchor: String,
    pub start: Ts,
    pub end: Option<Ts>,
    pub unique_viewers: u64,
    pub entries: u64,
    pub viewers_now: u64,
    pub peak_concurrent: u64,
    /// Watch time of viewers who have left (or all, once the session ended).
    pub watch_s: i64,
    pub interactions: BTreeMap<&'static str, u64>,
    #[serde(flatten)]
    pub stats: StatsView,
}

#[derive(Debug, Clone, Serialize)]
pub struct DayView {
    pub day: Day,
    #[serde(flatten)]
    pub stats: StatsView,
}

fn programs_of(st: &State, role: crate::festival::Role, i: u32) -> Vec<String> {
    st.enrolments.iter().filter(|(_, m)| m.contains_key(&(role, i))).map(|(p, _)| p.clone()).collect()
}

pub fn merchant(f: &Festival, st: &State, id: &str) -> Option<MerchantView> {
    let _ = f;
    let i = st.merchant_ids.get(id)?;
    let m = &st.merchants[i as usize];
    Some(MerchantView {
        merchant: id.to_string(),
        name: m.name.clone(),
        brand_tier: m.brand_tier,
        category: m.category.clone(),
        provider: m.current_provider().map(|p| st.provider_ids.name(p).to_string()),
        programs: programs_of(st, crate::festival::Role::Merchant, i),
        stats: StatsView::of(&m.stats),
    })
}

pub fn anchor(f: &Festival, st: &State, id: &str) -> Option<AnchorView> {
    let i = st.anchor_ids.get(id)?;
    let a = &st.anchors[i as usize];
    Some(AnchorView {
        anchor: id.to_string(),
        name: a.name.clone(),
        followers: a.followers,
        tier: a.tier.map(|t| f.anchor_tiers[t as usize].id.clone()),
        merchant: a.merchant.map(|m| st.merchant_ids.name(m).to_string()),
        live_session: a.live_session.map(|s| st.session_ids.name(s).to_string()),
        programs: programs_of(st, crate::festival::Role::Anchor, i),
        stats: StatsView::of(&a.stats),
    })
}

pub fn provider(_f: &Festival, st: &State, id: &str) -> Option<ProviderView> {
    let i = st.provider_ids.get(id)?;
    let p = &st.providers[i as usize];
    let mut served: Vec<String> = st
        .merchants
        .iter()
        .enumerate()
        .filter(|(_, m)| m.current_provider() == Some(i))
        .map(|(mi, _)| st.merchant_ids.name(mi as u32).to_string())
        .collect();
    served.sort();
    Some(ProviderView {
        provider: id.to_string(),
        name: p.name.clone(),
        certified_at: p.certified_at,
        merchants_served: served,
        programs: programs_of(st, crate::festival::Role::Provider, i),
        stats: StatsView::of(&p.stats),
    })
}

pub fn session(_f: &Festival, st: &State, id: &str) -> Option<SessionView> {
    let s = st.session(id)?;
    Some(SessionView {
        session: id.to_string(),
        anchor: st.anchor_ids.name(s.anchor).to_string(),
        start: s.start,
        end: s.end,
        unique_viewers: s.unique_viewers.len() as u64,
        entries: s.entries,
        viewers_now: s.present.len() as u64,
        peak_concurrent: s.peak_concurrent,
        watch_s: s.watch_ms / 1000,
        interactions: InteractionKind::ALL.iter().map(|k| (k.as_str(), s.interactions[k.index()])).collect(),
        stats: StatsView::of(&s.stats),
    })
}

pub fn day(st: &State, d: Day) -> DayView {
    let empty = Stats::default();
    DayView { day: d, stats: StatsView::of(st.by_day.get(&d).unwrap_or(&empty)) }
}

#[derive(Debug, Clone, Serialize)]
pub struct Ranked {
    pub id: String,
    pub name: String,
    pub gmv: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct FigureView {
    pub id: String,
    pub text_en: String,
    pub text_zh: String,
    pub reported: String,
    /// The value computed from this festival's data, or None where it needs a baseline
    /// or data the directory does not hold (e.g. a month outside the festival).
    pub computed: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TierGmv {
    pub gmv: i64,
    pub share_bp: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub festival: String,
    pub events: u64,
    pub gmv: i64,
    pub gmv_gross: i64,
    pub refunded: i64,
    pub orders: u64,
    pub buyers: u64,
    pub gmv_by_channel: BTreeMap<&'static str, i64>,
    pub gmv_by_brand_tier: BTreeMap<&'static str, i64>,
    pub gmv_by_anchor_tier: BTreeMap<String, i64>,
    pub anchor_tier_share: BTreeMap<String, TierGmv>,
    pub self_broadcast_gmv: i64,
    pub provider_served_gmv: i64,
    pub provider_served_self_broadcast_gmv: i64,
    pub provider_served_self_broadcast_share_bp: i64,
    pub merchants: u64,
    pub merchants_served_by_providers: u64,
    pub merchants_served_share_bp: i64,
    pub anchors: u64,
    pub providers: u64,
    pub certified_providers: u64,
    pub sessions: u64,
    pub gmv_by_day: Vec<(Day, i64)>,
    pub top_merchants: Vec<Ranked>,
    pub top_anchors: Vec<Ranked>,
    pub top_providers: Vec<Ranked>,
    pub figures: Vec<FigureView>,
    pub marketing: crate::market::view::Summary,
}

/// Top `n` by GMV, ties by id ascending.
fn top<'a>(n: usize, items: impl Iterator<Item = (&'a str, &'a str, &'a Stats)>) -> Vec<Ranked> {
    let mut v: Vec<Ranked> =
        items.map(|(id, name, s)| Ranked { id: id.to_string(), name: name.to_string(), gmv: s.gmv().0 }).collect();
    v.sort_by(|a, b| b.gmv.cmp(&a.gmv).then_with(|| a.id.cmp(&b.id)));
    v.truncate(n);
    v
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
        if let Some(t) = o.anchor_tier {
            let net = (o.paid - o.refunded).0;
            all += net;
            if t == tier {
                mine += net;
            }
        }
    }
    (all > 0).then(|| share_bp(mine, all))
}

pub fn report(f: &Festival, st: &State) -> Report {
    let total = StatsView::of(&st.total);
    let tier_ids: Vec<&str> = f.anchor_tiers.iter().map(|t| t.id.as_str()).collect();
    let gmv_by_anchor_tier: BTreeMap<String, i64> =
        tier_ids.iter().zip(&st.by_anchor_tier).map(|(t, s)| (t.to_string(), s.gmv().0)).collect();
    let anchored: i64 = gmv_by_anchor_tier.values().sum();
    let anchor_tier_share = gmv_by_anchor_tier
        .iter()
        .map(|(t, g)| (t.clone(), TierGmv { gmv: *g, share_bp: share_bp(*g, anchored) }))
        .collect();
    let merchants = st.merchants.len() as u64;
    let served = st.merchants_served() as u64;
    let figures = f
        .figures
        .iter()
        .map(|fig| {
            let computed = match fig.metric {
                FigureMetric::SkaBrandsGmvAtLeast => {
                    let t = fig.threshold_fen.unwrap_or(0);
                    Some(
                        st.merchants
                            .iter()
                            .filter(|m| m.brand_tier == BrandTier::Ska && m.stats.gmv().0 >= t)
                            .count()
                            .to_string(),
                    )
                }
                FigureMetric::CertifiedProviders => Some(st.certified_providers().to_string()),
                FigureMetric::MerchantsServedShare => {
                    Some(crate::money::fmt_bp(share_bp(served as i64, merchants as i64)))
                }
                FigureMetric::AnchorTierGmvShare => {
                    let tier = fig.tier.as_deref().and_then(|t| tier_ids.iter().position(|x| *x == t));
                    tier.and_then(|ti| tier_share_in_month(st, ti as u32, fig.month.as_deref()))
                        .map(crate::money::fmt_bp)
                }
                FigureMetric::ProviderSelfBroadcastGrowth | FigureMetric::ProviderSelfBroadcastShareChange => None,
            };
            FigureView {
                id: fig.id.clone(),
                text_en: fig.text_en.clone(),
                text_zh: fig.text_zh.clone(),
                reported: fig.reported.clone(),
                computed,
            }
        })
        .collect();
    Report {
        festival: f.festival.id.clone(),
        events: st.events,
        gmv: total.gmv,
        gmv_gross: total.gmv_gross,
        refunded: total.refunded,
        orders: total.orders,
        buyers: total.buyers,
        gmv_by_channel: [("live", total.by_channel.live.gmv), ("shelf", total.by_channel.shelf.gmv)]
            .into_iter()
            .collect(),
        gmv_by_brand_tier: BrandTier::ALL.iter().map(|t| (t.as_str(), st.by_brand_tier[t.index()].gmv().0)).collect(),
        gmv_by_anchor_tier,
        anchor_tier_share,
        self_broadcast_gmv: total.self_broadcast_gmv,
        provider_served_gmv: total.provider_served_gmv,
        provider_served_self_broadcast_gmv: total.provider_served_self_broadcast_gmv,
        provider_served_self_broadcast_share_bp: share_bp(
            total.provider_served_self_broadcast_gmv,
            total.self_broadcast_gmv,
        ),
        merchants,
        merchants_served_by_providers: served,
        merchants_served_share_bp: share_bp(served as i64, merchants as i64),
        anchors: st.anchors.len() as u64,
        providers: st.providers.len() as u64,
        certified_providers: st.certified_providers() as u64,
        sessions: st.sessions.len() as u64,
        gmv_by_day: st.by_day.iter().map(|(d, s)| (*d, s.gmv().0)).collect(),
        top_merchants: top(
            10,
            st.merchants.iter().enumerate().map(|(i, m)| (st.merchant_ids.name(i as u32), m.name.as_str(), &m.stats)),
        ),
        top_anchors: top(
            10,
            st.anchors.iter().enumerate().map(|(i, a)| (st.anchor_ids.name(i as u32), a.name.as_str(), &a.stats)),
        ),
        top_providers: top(
            10,
            st.providers.iter().enumerate().map(|(i, p)| (st.provider_ids.name(i as u32), p.name.as_str(), &p.stats)),
        ),
        figures,
        marketing: crate::market::view::summary(st),
    }
}
