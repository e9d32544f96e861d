//! The festival as declared in its TOML file. Field names here are the file's keys;
//! docs/festival.md documents each one.

pub use crate::kinds::{BrandTier, RewardKind, Role};
use crate::time::{Day, Ts};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

/// A point in time in the festival file: a TOML offset date-time, or a TOML local date
/// meaning 00:00 of that day in Asia/Shanghai. A local date-time without an offset is
/// refused because it would be ambiguous.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct When(pub Ts);

impl<'de> Deserialize<'de> for When {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<When, D::Error> {
        use serde::de::Error;
        let dt = toml::value::Datetime::deserialize(d)?;
        match (dt.date, dt.time, dt.offset) {
            (Some(date), None, None) => Day::from_ymd(date.year as i32, date.month, date.day)
                .map(|day| When(Ts::start_of(day)))
                .ok_or_else(|| D::Error::custom(format!("`{dt}` is not a calendar date"))),
            (Some(_), Some(_), Some(_)) => Ts::parse(&dt.to_string().replace(' ', "T"))
                .map(When)
                .map_err(|e| D::Error::custom(e.to_string())),
            _ => Err(D::Error::custom(format!(
                "`{dt}` needs an offset (e.g. 2021-10-20T00:00:00+08:00) or must be a plain date (2021-10-20, meaning 00:00 Asia/Shanghai)"
            ))),
        }
    }
}

impl Serialize for When {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Festival {
    pub festival: Meta,
    pub registration: Registration,
    #[serde(default)]
    pub phases: Vec<Phase>,
    #[serde(default)]
    pub anchor_tiers: Vec<AnchorTier>,
    #[serde(default)]
    pub tracks: Vec<Track>,
    #[serde(default)]
    pub programs: Vec<Program>,
    #[serde(default)]
    pub reward_tables: Vec<RewardTable>,
    #[serde(default)]
    pub contests: Vec<Contest>,
    #[serde(default)]
    pub challenges: Vec<Challenge>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heat: Option<Heat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support: Option<Support>,
    #[serde(default)]
    pub figures: Vec<Figure>,
    #[serde(default)]
    pub checkout: CheckoutPolicy,
    #[serde(default)]
    pub capacity: Capacity,
    /// Guaranteed traffic: supply and contracts (crate::festival::traffic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic: Option<super::traffic::TrafficConfig>,
}

/// `[capacity]`: how many entries each growing table may hold (defaults in
/// [`crate::limits::capacity`], each at most [`crate::limits::capacity::MAX`]). The
/// festival file is part of the data directory, so replay meets the same capacities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Capacity {
    pub ids: u64,
    pub users: u64,
    pub merchants: u64,
    pub anchors: u64,
    pub providers: u64,
    pub sessions: u64,
    pub viewers: u64,
    pub orders: u64,
    pub refunds: u64,
    pub products: u64,
    pub follows: u64,
    pub promotions: u64,
    pub claims: u64,
    pub groups: u64,
    pub checkouts: u64,
    /// Idempotency keys remembered at once; past it the oldest is forgotten first.
    pub keys: u64,
    /// Guaranteed-traffic contracts.
    pub contracts: u64,
}

impl Default for Capacity {
    fn default() -> Capacity {
        use crate::limits::capacity as c;
        Capacity {
            ids: c::IDS,
            users: c::USERS,
            merchants: c::MERCHANTS,
            anchors: c::ANCHORS,
            providers: c::PROVIDERS,
            sessions: c::SESSIONS,
            viewers: c::VIEWERS,
            orders: c::ORDERS,
            refunds: c::REFUNDS,
            products: c::PRODUCTS,
            follows: c::FOLLOWS,
            promotions: c::PROMOTIONS,
            claims: c::CLAIMS,
            groups: c::GROUPS,
            checkouts: c::CHECKOUTS,
            keys: c::KEYS,
            contracts: c::CONTRACTS,
        }
    }
}

impl Capacity {
    /// Every key with its value, in the file's order.
    pub fn entries(&self) -> [(&'static str, u64); 17] {
        [
            ("ids", self.ids),
            ("users", self.users),
            ("merchants", self.merchants),
            ("anchors", self.anchors),
            ("providers", self.providers),
            ("sessions", self.sessions),
            ("viewers", self.viewers),
            ("orders", self.orders),
            ("refunds", self.refunds),
            ("products", self.products),
            ("follows", self.follows),
            ("promotions", self.promotions),
            ("claims", self.claims),
            ("groups", self.groups),
            ("checkouts", self.checkouts),
            ("keys", self.keys),
            ("contracts", self.contracts),
        ]
    }
}

/// `[checkout]`: how promotions stack and how long payments and groups may take.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckoutPolicy {
    /// The stacking order; a layer left out does not apply.
    #[serde(default = "default_layers")]
    pub layers: Vec<crate::kinds::Layer>,
    #[serde(default = "default_payment_timeout_s")]
    pub payment_timeout_s: i64,
    #[serde(default = "default_group_time_limit_s")]
    pub group_time_limit_s: i64,
}

impl Default for CheckoutPolicy {
    fn default() -> CheckoutPolicy {
        CheckoutPolicy {
            layers: default_layers(),
            payment_timeout_s: default_payment_timeout_s(),
            group_time_limit_s: default_group_time_limit_s(),
        }
    }
}

fn default_layers() -> Vec<crate::kinds::Layer> {
    crate::kinds::Layer::ALL.to_vec()
}
fn default_payment_timeout_s() -> i64 {
    900
}
fn default_group_time_limit_s() -> i64 {
    86_400
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meta {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    /// Only "Asia/Shanghai" is accepted: festival days are its calendar days.
    #[serde(default = "default_tz")]
    pub timezone: String,
    pub start: When,
    /// Exclusive.
    pub end: When,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

fn default_tz() -> String {
    "Asia/Shanghai".to_string()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Registration {
    pub opens: When,
    /// Exclusive.
    pub closes: When,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Phase {
    pub id: String,
    /// Phases of one layer never overlap; layers are independent calendars.
    pub layer: String,
    pub name_zh: String,
    pub name_en: String,
    pub start: When,
    /// Exclusive.
    pub end: When,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AnchorTier {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    /// An anchor belongs to the tier with the highest `min_followers` not above its
    /// follower count at registration.
    pub min_followers: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Track {
    pub id: String,
    pub role: Role,
    pub name_zh: String,
    pub name_en: String,
    pub budget_fen: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Program {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub track: String,
    /// Which participant roles may enrol.
    pub roles: Vec<Role>,
    /// Merchants must have one of these brand tiers (all tiers when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand_tiers: Option<Vec<BrandTier>>,
    /// Anchors must be in one of these tiers (all tiers when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor_tiers: Option<Vec<String>>,
    /// Providers must be certified before they enrol.
    #[serde(default)]
    pub require_certified: bool,
    /// Defaults to the registration window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enroll_opens: Option<When>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enroll_closes: Option<When>,
    /// The phase the program runs in, if it is tied to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(default)]
    pub benefits: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RewardTable {
    pub id: String,
    pub bands: Vec<Band>,
}

/// A reward band: by rank (`rank_from..=rank_to`) or by threshold (`min_value`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Band {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank_from: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank_to: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_value: Option<i64>,
    pub items: Vec<RewardItem>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RewardItem {
    pub kind: RewardKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_fen: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_bp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap_fen: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impressions: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rebate_bp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Gmv,
    Heat,
    GmvGrowth,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// One board over the whole window.
    #[default]
    Whole,
    /// One board per festival day of the window.
    Daily,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Gates {
    /// Minimum shopping-experience score, 0.00 to 5.00 (two decimals at most).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_experience_score: Option<f64>,
    #[serde(default)]
    pub no_violations: bool,
    /// The entrant needs one live session whose GMV reaches this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_session_gmv_fen: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Growth {
    pub baseline_start: When,
    pub baseline_end: When,
    /// The baseline is raised to at least this, so a tiny baseline cannot dominate.
    pub floor_fen: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Contest {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub track: String,
    /// Entrants are the participants enrolled in this program.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
    pub metric: Metric,
    /// The window: a phase id, or `start` and `end`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<When>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<When>,
    #[serde(default)]
    pub period: Period,
    /// `category`: a separate board per merchant category (industry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<String>,
    #[serde(default)]
    pub gates: Gates,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub growth: Option<Growth>,
    pub reward_table: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Target {
    pub tier: String,
    pub target_fen: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Challenge {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub track: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
    pub metric: Metric,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<When>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<When>,
    /// `daily`: the target must be reached within one festival day (BigDay).
    #[serde(default)]
    pub period: Period,
    pub targets: Vec<Target>,
    pub reward_table: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Heat {
    /// Heat points per yuan of GMV, in basis points (10000 = 1 point per yuan).
    pub gmv_coefficient_bp: i64,
    /// Per-category overrides of `gmv_coefficient_bp`.
    #[serde(default)]
    pub category_coefficients_bp: BTreeMap<String, i64>,
    /// Points for a day with live time of at least `live_min_minutes`.
    #[serde(default)]
    pub live_points: i64,
    #[serde(default)]
    pub live_min_minutes: i64,
    /// Points per 100 unique viewers in the day.
    #[serde(default)]
    pub viewer_points_per_100: i64,
    /// Points per 100 interactions in the day.
    #[serde(default)]
    pub interaction_points_per_100: i64,
    /// Cap on one participant's heat in one day (0 = no cap).
    #[serde(default)]
    pub daily_cap: i64,
}

/// The scale of support against the previous festival, as announced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Support {
    #[serde(default)]
    pub traffic_multiple: i64,
    #[serde(default)]
    pub merchant_incentive_multiple: i64,
    #[serde(default)]
    pub consumer_benefit_multiple: i64,
    #[serde(default)]
    pub provider_incentive_fen: i64,
    #[serde(default)]
    pub main_venue_guaranteed_traffic: bool,
    /// How far (basis points of the announced multiple) a year-on-year multiple may land
    /// from the announced one and count as reproduced.
    #[serde(default = "default_multiple_tolerance_bp")]
    pub tolerance_bp: i64,
}

/// `[support] tolerance_bp` by default: ±10%.
pub const DEFAULT_MULTIPLE_TOLERANCE_BP: i64 = 1_000;

fn default_multiple_tolerance_bp() -> i64 {
    DEFAULT_MULTIPLE_TOLERANCE_BP
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FigureMetric {
    /// How many SKA brands have GMV of at least `threshold_fen`.
    SkaBrandsGmvAtLeast,
    /// Certified service providers.
    CertifiedProviders,
    /// Share of merchants served by a provider (basis points).
    MerchantsServedShare,
    /// Provider-served brand self-broadcast GMV against the baseline (multiple).
    ProviderSelfBroadcastGrowth,
    /// Provider-served share of all brand self-broadcast GMV against the baseline.
    ProviderSelfBroadcastShareChange,
    /// GMV share of anchors of `tier` in `month` (YYYY-MM), basis points.
    AnchorTierGmvShare,
}

impl FigureMetric {
    /// The unit of the metric's value: `count`, `bp` (basis points) or `x100` (a multiple
    /// in hundredths).
    pub fn unit(self) -> &'static str {
        match self {
            FigureMetric::SkaBrandsGmvAtLeast | FigureMetric::CertifiedProviders => "count",
            FigureMetric::MerchantsServedShare | FigureMetric::AnchorTierGmvShare => "bp",
            FigureMetric::ProviderSelfBroadcastGrowth | FigureMetric::ProviderSelfBroadcastShareChange => "x100",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Figure {
    pub id: String,
    pub text_zh: String,
    pub text_en: String,
    pub metric: FigureMetric,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_fen: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<String>,
    /// What the source reported, as text ("9", ">15%", "8x").
    pub reported: String,
    /// The bounds within which the computed value reproduces what was reported, inclusive,
    /// in the metric's unit (a count, basis points, or a multiple in hundredths).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
}
