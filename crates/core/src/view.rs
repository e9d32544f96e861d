//! Read models: what `dacu show` and `dacu report` print. Built from the state on demand;
//! every list is ordered (by value then id, or by id) so output is deterministic.

use crate::command::{Channel, InteractionKind};
use crate::festival::{BrandTier, Festival, FigureMetric};
pub use crate::figures::{FigureView, Reference};
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
    /// SKA brands with GMV at or above each threshold (the figures' thresholds, or the
    /// ones the caller asked for).
    pub ska_brands_at_least: Vec<SkaCount>,
    /// Incentives granted by settlement against each track's budget.
    pub incentives: Vec<crate::settle::view::TrackBudget>,
    pub settlements: u64,
    pub programs: Vec<ProgramView>,
    pub consumer_benefits: Benefits,
    pub traffic: Traffic,
    /// Guaranteed traffic delivered, when the festival file has `[traffic]`.
    pub traffic_delivery: Option<crate::traffic::view::Delivery>,
    /// The previous festival's figures, when a baseline was given.
    pub baseline: Option<Baseline>,
    /// This festival against the baseline, where both have the figure.
    pub year_on_year: Vec<Multiple>,
    /// The reference the figures of months outside the festival were read from.
    pub reference: Option<Reference>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SkaCount {
    pub threshold_fen: i64,
    pub brands: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProgramView {
    pub program: String,
    pub name_zh: String,
    pub name_en: String,
    pub track: String,
    pub enrolled: u64,
    /// The settlement that closed it.
    pub closed_by: Option<u32>,
    /// Money granted by the program's contests and challenges (net of clawbacks).
    pub paid_fen: i64,
}

/// Benefits given to consumers, in fen. Discounts are those of paid checkouts, before any
/// refund gave part of them back (`returned_fen`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Benefits {
    pub red_packets_fen: i64,
    pub coupons_fen: i64,
    pub fullcut_fen: i64,
    pub price_cut_fen: i64,
    /// Group-price (拼团) subsidies of formed groups: (`price` − `group_price`) per member.
    pub group_price_fen: i64,
    pub lottery_prizes: u64,
    pub lottery_prizes_fen: i64,
    /// Red packets granted + coupon, 满减 and price-cut discounts + group-price subsidies +
    /// lottery prize value.
    pub total_fen: i64,
    pub returned_fen: i64,
}

/// Traffic granted by settlement: traffic-pack impressions and main-venue slots.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Traffic {
    pub impressions: i64,
    pub impressions_by_track: BTreeMap<String, i64>,
    pub main_venue_slots: u64,
}

/// A previous festival's figures: computed from its data directory, or loaded from a JSON
/// file with these keys (docs/report.md). Absent figures are skipped.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub festival: String,
    #[serde(default)]
    pub gmv_fen: Option<i64>,
    #[serde(default)]
    pub orders: Option<u64>,
    #[serde(default)]
    pub buyers: Option<u64>,
    #[serde(default)]
    pub self_broadcast_gmv_fen: Option<i64>,
    #[serde(default)]
    pub provider_served_self_broadcast_gmv_fen: Option<i64>,
    #[serde(default)]
    pub certified_providers: Option<u64>,
    #[serde(default)]
    pub traffic_impressions: Option<i64>,
    /// Anchor and brand tracks: what merchants' incentive funds paid.
    #[serde(default)]
    pub merchant_incentives_fen: Option<i64>,
    #[serde(default)]
    pub provider_incentives_fen: Option<i64>,
    #[serde(default)]
    pub consumer_benefits_fen: Option<i64>,
}

/// One year-on-year comparison: `multiple_x100` = ⌊this × 100 / baseline + ½⌋.
#[derive(Debug, Clone, Serialize)]
pub struct Multiple {
    pub figure: String,
    pub this_year: i64,
    pub baseline: i64,
    pub multiple_x100: i64,
    /// What the festival announced for this figure (`[support]`), if anything.
    pub announced_x: Option<i64>,
    /// Whether the multiple lands within `[support] tolerance_bp` of the announced one;
    /// None when nothing was announced.
    pub reproduced: Option<bool>,
    /// That tolerance (basis points of the announced multiple), when one was announced.
    pub tolerance_bp: Option<i64>,
}

/// `x / base` in hundredths, rounded half up; None when the base is not positive.
pub fn multiple_x100(x: i64, base: i64) -> Option<i64> {
    (base > 0).then(|| ((x as i128 * 200 + base as i128) / (2 * base as i128)) as i64)
}

/// "8.12×".
pub fn fmt_multiple(x100: i64) -> String {
    format!("{}.{:02}×", x100 / 100, x100.rem_euclid(100))
}

impl Baseline {
    /// The baseline figures a festival's own report gives.
    pub fn of(r: &Report) -> Baseline {
        let tracks = |merchant: bool| -> i64 {
            r.incentives
                .iter()
                .filter(|t| (t.role != crate::festival::Role::Provider) == merchant)
                .map(|t| t.paid_fen)
                .sum()
        };
        Baseline {
            festival: r.festival.clone(),
            gmv_fen: Some(r.gmv),
            orders: Some(r.orders),
            buyers: Some(r.buyers),
            self_broadcast_gmv_fen: Some(r.self_broadcast_gmv),
            provider_served_self_broadcast_gmv_fen: Some(r.provider_served_self_broadcast_gmv),
            certified_providers: Some(r.certified_providers),
            // Traffic support is what was delivered, where the festival delivers it;
            // otherwise what settlement granted.
            traffic_impressions: Some(
                r.traffic_delivery.as_ref().map_or(r.traffic.impressions, |d| d.delivered as i64),
            ),
            merchant_incentives_fen: Some(tracks(true)),
            provider_incentives_fen: Some(tracks(false)),
            consumer_benefits_fen: Some(r.consumer_benefits.total_fen),
        }
    }
}

/// What the caller may add to the report.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// SKA thresholds to count brands at (default: the festival's figures' thresholds).
    pub ska_thresholds_fen: Option<Vec<i64>>,
    pub baseline: Option<Baseline>,
    /// Another period's anchor-tier shares by month, for figures about a month outside
    /// this festival.
    pub reference: Option<Reference>,
}

/// Top `n` by GMV, ties by id ascending.
fn top<'a>(n: usize, items: impl Iterator<Item = (&'a str, &'a str, &'a Stats)>) -> Vec<Ranked> {
    let mut v: Vec<Ranked> =
        items.map(|(id, name, s)| Ranked { id: id.to_string(), name: name.to_string(), gmv: s.gmv().0 }).collect();
    v.sort_by(|a, b| b.gmv.cmp(&a.gmv).then_with(|| a.id.cmp(&b.id)));
    v.truncate(n);
    v
}

fn benefits(st: &State, m: &crate::market::view::Summary) -> Benefits {
    let layer = |names: &[&str]| -> i64 { names.iter().filter_map(|n| m.discounts_by_layer.get(n)).sum() };
    let mut b = Benefits {
        red_packets_fen: m.red_packet_granted,
        coupons_fen: layer(&["store_coupon", "platform_coupon"]),
        fullcut_fen: layer(&["store_fullcut", "cross_store_fullcut"]),
        price_cut_fen: layer(&["price_cut"]),
        // A formed group's subsidy is spent from its deal's budget account (which counts
        // with or without a cap); an open group's is only held.
        group_price_fen: st.market.deals.iter().map(|d| d.budget.spent.0).sum(),
        returned_fen: m.discounts_returned,
        ..Benefits::default()
    };
    for l in &st.market.lotteries {
        if let Some(d) = &l.drawn {
            b.lottery_prizes += d.winners.len() as u64;
            b.lottery_prizes_fen += d.winners.len() as i64 * l.prize.value.0;
        }
    }
    b.total_fen =
        b.red_packets_fen + b.coupons_fen + b.fullcut_fen + b.price_cut_fen + b.group_price_fen + b.lottery_prizes_fen;
    b
}

fn traffic(st: &State) -> Traffic {
    use crate::festival::RewardKind;
    let mut t = Traffic::default();
    for p in st.settlement.payouts.values() {
        for g in &p.grants {
            match g.item {
                RewardKind::TrafficPack => {
                    t.impressions += g.granted;
                    *t.impressions_by_track.entry(p.track.clone()).or_default() += g.granted;
                }
                RewardKind::MainVenueSlot => t.main_venue_slots += g.granted.max(0) as u64,
                _ => {}
            }
        }
    }
    t
}

fn programs(f: &Festival, st: &State) -> Vec<ProgramView> {
    f.programs
        .iter()
        .map(|p| {
            let races: Vec<&str> = st
                .contests
                .defs
                .iter()
                .filter(|d| d.program.as_deref() == Some(p.id.as_str()))
                .map(|d| d.id.as_str())
                .collect();
            ProgramView {
                program: p.id.clone(),
                name_zh: p.name_zh.clone(),
                name_en: p.name_en.clone(),
                track: p.track.clone(),
                enrolled: st.enrolments.get(&p.id).map_or(0, |m| m.len() as u64),
                closed_by: st.settlement.programs.get(&p.id).copied(),
                paid_fen: st
                    .settlement
                    .payouts
                    .values()
                    .filter(|po| races.contains(&po.race.as_str()))
                    .map(|po| po.granted_fen())
                    .sum(),
            }
        })
        .collect()
}

fn year_on_year(f: &Festival, r: &Report, b: &Baseline) -> Vec<Multiple> {
    let this = Baseline::of(r);
    let support = f.support.as_ref();
    let announced = |x: Option<i64>| x.filter(|v| *v > 0);
    let tolerance_bp = support.map_or(crate::festival::DEFAULT_MULTIPLE_TOLERANCE_BP, |s| s.tolerance_bp);
    // (figure, this festival, baseline, announced multiple)
    type Row<'a> = (&'a str, Option<i64>, Option<i64>, Option<i64>);
    let rows: [Row<'_>; 8] = [
        ("gmv_fen", this.gmv_fen, b.gmv_fen, None),
        ("orders", this.orders.map(|x| x as i64), b.orders.map(|x| x as i64), None),
        ("buyers", this.buyers.map(|x| x as i64), b.buyers.map(|x| x as i64), None),
        (
            "provider_served_self_broadcast_gmv_fen",
            this.provider_served_self_broadcast_gmv_fen,
            b.provider_served_self_broadcast_gmv_fen,
            None,
        ),
        ("traffic_impressions", this.traffic_impressions, b.traffic_impressions, support.map(|s| s.traffic_multiple)),
        (
            "merchant_incentives_fen",
            this.merchant_incentives_fen,
            b.merchant_incentives_fen,
            support.map(|s| s.merchant_incentive_multiple),
        ),
        ("provider_incentives_fen", this.provider_incentives_fen, b.provider_incentives_fen, None),
        (
            "consumer_benefits_fen",
            this.consumer_benefits_fen,
            b.consumer_benefits_fen,
            support.map(|s| s.consumer_benefit_multiple),
        ),
    ];
    rows.into_iter()
        .filter_map(|(name, x, base, ann)| {
            let (x, base) = (x?, base?);
            Some(Multiple {
                figure: name.to_string(),
                this_year: x,
                baseline: base,
                multiple_x100: multiple_x100(x, base)?,
                announced_x: announced(ann),
                reproduced: crate::figures::multiple_reproduced(multiple_x100(x, base)?, announced(ann), tolerance_bp),
                tolerance_bp: announced(ann).map(|_| tolerance_bp),
            })
        })
        .collect()
}

/// The report without a baseline, at the festival's own SKA thresholds.
pub fn report(f: &Festival, st: &State) -> Report {
    report_with(f, st, &ReportOptions::default())
}

pub fn report_with(f: &Festival, st: &State, opts: &ReportOptions) -> Report {
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
    let figures = crate::figures::figures(
        f,
        st,
        &crate::figures::Inputs { total: &total, baseline: opts.baseline.as_ref(), reference: opts.reference.as_ref() },
    );
    let marketing = crate::market::view::summary(st);
    let mut r = Report {
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
        ska_brands_at_least: opts
            .ska_thresholds_fen
            .clone()
            .unwrap_or_else(|| {
                f.figures
                    .iter()
                    .filter(|x| x.metric == FigureMetric::SkaBrandsGmvAtLeast)
                    .filter_map(|x| x.threshold_fen)
                    .collect()
            })
            .into_iter()
            .map(|t| SkaCount {
                threshold_fen: t,
                brands: st.merchants.iter().filter(|m| m.brand_tier == BrandTier::Ska && m.stats.gmv().0 >= t).count()
                    as u64,
            })
            .collect(),
        incentives: crate::settle::view::budgets(f, st),
        settlements: st.settlement.runs.len() as u64,
        programs: programs(f, st),
        consumer_benefits: benefits(st, &marketing),
        marketing,
        traffic: traffic(st),
        traffic_delivery: crate::traffic::view::delivery(f, st),
        baseline: opts.baseline.clone(),
        year_on_year: Vec::new(),
        reference: opts.reference.clone(),
    };
    if let Some(b) = &opts.baseline {
        r.year_on_year = year_on_year(f, &r, b);
    }
    r
}
