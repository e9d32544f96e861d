//! The records events carry: the event schema's own structs, so that no command struct or
//! domain type is written to the log. Domain code converts to and from them (the `From`
//! impls live beside the domain types: `command`, `market`, `settle`); nothing here knows
//! those types. Like [`super::Event`], every struct is written by position in the log:
//! a change to a field is a new event format (docs/log.md, "Evolving the schema").

use crate::kinds::{Layer, LineKind, Method, PrizeKind, RewardKind, Role};
use crate::time::{Day, Ts};
use serde::{Deserialize, Serialize};

/// Who issues a promotion or bears its cost, resolved when it was created: the platform,
/// or a registered merchant or anchor by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyRec {
    Platform,
    Merchant(String),
    Anchor(String),
}

/// An anchor's tier as the registration found it: the tier's id and its index among the
/// festival file's `[[anchor_tiers]]` (file order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnchorTierRec {
    pub id: String,
    pub index: u32,
}

/// One line of a paid order: `price` is the list unit price, `paid` what the line paid,
/// both in fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineRec {
    pub sku: String,
    pub qty: i64,
    pub price: i64,
    pub paid: i64,
}

/// One line of a priced cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLineRec {
    pub merchant: String,
    pub sku: String,
    pub qty: i64,
    pub price: i64,
}

/// A coupon as `coupon_created` records it, every default resolved: who bears it, its
/// scope, its value and its validity as the claims and checkouts use them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouponDef {
    pub id: String,
    pub coupon: String,
    pub issuer: PartyRec,
    /// The issuer when the command named no bearer.
    pub bearer: PartyRec,
    pub scope: CouponScopeRec,
    pub value: CouponValueRec,
    pub stock: i64,
    pub per_user: i64,
    pub claim_from: Ts,
    pub claim_until: Ts,
    pub validity: ValidityRec,
    pub audience: AudienceRec,
    pub return_on_refund: bool,
    /// Fen, if capped.
    pub budget: Option<i64>,
    pub at: Ts,
}

/// What a coupon applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CouponScopeRec {
    Platform,
    Store { merchant: String },
    Skus { merchant: String, skus: Vec<String> },
    Category { category: String },
}

/// A coupon's value: 满 `threshold` 减 `off`, or `bp` basis points off (at most `cap`);
/// amounts in fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CouponValueRec {
    Off { threshold: i64, off: i64 },
    Percent { threshold: i64, bp: i64, cap: Option<i64> },
}

/// When a claimed coupon is valid: a fixed window, or for `valid_ms` from its claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValidityRec {
    Window { from: Ts, until: Ts },
    AfterClaim { valid_ms: i64 },
}

/// Who may claim a coupon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AudienceRec {
    Everyone,
    Followers { anchor: String },
    NewFollowers { anchor: String },
    Session { session: String },
}

/// A 满减 as `fullcut_created` records it: its scope and its rule resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FullcutDef {
    pub id: String,
    pub fullcut: String,
    pub scope: FullcutScopeRec,
    pub rule: RuleRec,
    pub start: Ts,
    pub end: Ts,
    /// Fen, if capped.
    pub budget: Option<i64>,
    pub at: Ts,
}

/// One store's 满减, or one across stores (`merchants` absent: every merchant), of whose
/// cost the platform bears `platform_share_bp`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FullcutScopeRec {
    Store { merchant: String },
    CrossStore { merchants: Option<Vec<String>>, platform_share_bp: i64 },
}

/// A 满减 rule: rising (threshold, off) tiers, or 每满 `step` 减 `off` up to `cap`; fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleRec {
    Tiers { tiers: Vec<(i64, i64)> },
    Every { step: i64, off: i64, cap: Option<i64> },
}

/// An item price cut as `price_cut_created` records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceCutDef {
    pub id: String,
    pub cut: String,
    pub merchant: String,
    pub sku: String,
    pub off: i64,
    pub start: Ts,
    pub end: Ts,
    pub budget: Option<i64>,
    pub at: Ts,
}

/// A group deal as `group_deal_created` records it, with the time limit resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupDealDef {
    pub id: String,
    pub deal: String,
    pub merchant: String,
    pub sku: String,
    pub price: i64,
    pub group_price: i64,
    pub size: i64,
    /// The deal's own limit, or the festival's `[checkout] group_time_limit_s`.
    pub time_limit_s: i64,
    pub start: Ts,
    pub end: Ts,
    pub budget: Option<i64>,
    pub at: Ts,
}

/// A red packet as its creation events record it (the seed and the shares beside it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedPacketDef {
    pub id: String,
    pub packet: String,
    pub session: String,
    pub issuer: PartyRec,
    pub total: i64,
    pub count: i64,
    pub split: Method,
    pub followers_only: bool,
    pub passphrase: Option<String>,
    pub min_watch_s: i64,
    pub opens_at: Ts,
    pub expires_at: Ts,
    pub usable_merchant: Option<String>,
    /// The command's `use_until`, or the festival's end.
    pub use_until: Ts,
    pub at: Ts,
}

/// A lottery's prize.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrizeRec {
    pub kind: PrizeKind,
    pub name: String,
    pub value: i64,
    pub coupon: Option<String>,
}

/// A lottery as `lottery_created` records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotteryDef {
    pub id: String,
    pub lottery: String,
    pub session: String,
    pub issuer: PartyRec,
    pub prize: PrizeRec,
    pub winners: i64,
    pub in_room: bool,
    pub followers_only: bool,
    pub passphrase: Option<String>,
    pub min_watch_s: i64,
    pub draw_at: Ts,
    /// Lowercase hex, two digits a byte: the spelling the draw and its verification use.
    pub secret: String,
    pub at: Ts,
}

/// What a lottery's draw puts into the winners' wallets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrizeGrantsRec {
    /// The prize is not a coupon: nothing enters a wallet.
    Nothing,
    /// A coupon prize: the first `granted` winners (in the draw's order) get the coupon,
    /// as many as its stock had left, each valid `from`..`until`.
    Coupons { granted: u32, from: Ts, until: Ts },
    /// Only in an event converted from format 1, which did not record the grants: they
    /// depend on the state at the draw, which the log's codec cannot see, so applying the
    /// event grants them by format 1's rule (engine/market/lottery.rs, `format1_grants`).
    Format1,
}

/// What one command of a keyed request came to, as the service answered it: accepted,
/// with its events at the log positions `first_seq..=last_seq`, or rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyOutcomeRec {
    Accepted { first_seq: u64, last_seq: u64 },
    Rejected { code: String, message: String },
}

/// One discount of a quote: its layer, its promotion, the wallet entry it used, its
/// amount in fen, per cart line, and who bears it (party name, fen).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscountRec {
    pub layer: Layer,
    pub promo: String,
    pub held: Option<u32>,
    pub amount: i64,
    pub lines: Vec<i64>,
    pub bearers: Vec<(String, i64)>,
}

/// A priced cart as `checkout_reserved` records it: what each line pays, and every
/// discount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteRec {
    pub lines: Vec<CartLineRec>,
    pub pay: Vec<i64>,
    pub discounts: Vec<DiscountRec>,
    pub list_total: i64,
    pub discount_total: i64,
    pub pay_total: i64,
    pub optimal: bool,
}

/// A board (or a whole challenge) a settlement closed, with its frozen order
/// (participant, score, time reached).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedBoardRec {
    pub race: String,
    pub day: Option<Day>,
    pub group: Option<String>,
    pub ranked: u64,
    pub frozen: Vec<(String, i64, Ts)>,
}

/// One ledger line of a settlement (docs/settlement.md, "The ledger").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerLineRec {
    pub settlement: u32,
    pub payout: String,
    pub kind: LineKind,
    pub race: String,
    pub day: Option<Day>,
    pub group: Option<String>,
    pub participant: String,
    pub role: Role,
    pub track: String,
    pub item: RewardKind,
    pub name: Option<String>,
    pub rank: Option<u64>,
    pub value: i64,
    pub band: Option<u32>,
    pub claim: i64,
    pub amount: i64,
    pub scale: Option<(i64, i64)>,
    pub rule: String,
}

/// Where a guaranteed-traffic contract came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContractSourceRec {
    /// A `[[traffic.contracts]]` entry of the festival file without `program`.
    Festival,
    /// A `[[traffic.contracts]]` entry with `program`: one per participant enrolled.
    Program { program: String, participant: String, role: Role },
    /// A traffic grant of settlement `settlement` (its ledger line's payout).
    Settlement { settlement: u32, payout: String, participant: String, role: Role },
    /// The shortfall of contract `of`, made good.
    MakeGood { of: String },
}

/// A guaranteed-traffic contract: `impressions` from the nodes of `slots` × `segments`
/// in `start..end` (docs/traffic.md, "Contracts").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractRec {
    pub id: String,
    pub source: ContractSourceRec,
    /// The incentive track it counts toward (the program's or the grant's), if any.
    pub track: Option<String>,
    pub slots: Vec<String>,
    pub segments: Vec<String>,
    pub impressions: u64,
    pub start: Ts,
    pub end: Ts,
    pub priority: u8,
    pub pacing: crate::kinds::Pacing,
    /// Shown only while this anchor is live.
    pub live_anchor: Option<String>,
    pub at: Ts,
}

/// One contract's part of a plan, in planning order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanEntryRec {
    pub contract: String,
    /// 0: the whole remaining window; 1 and 2: a front-loaded contract's first and second
    /// half (by forecast weight).
    pub part: u8,
    /// Impressions this entry was planned to find.
    pub demand: u64,
    /// The planning priority: 2 × the contract's priority, +1 when behind its curve.
    pub priority: u8,
    /// Its HWM share of every eligible node, parts per billion.
    pub share_ppb: u64,
}

/// A plan of guaranteed traffic: what `dacu_core::traffic` planned at `at` for the supply
/// hours from `hour` on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanRec {
    pub at: Ts,
    /// The first supply hour planned (the hour holding `at`).
    pub hour: u32,
    /// Per slot (file order): observed ÷ forecast opportunities so far, in ppb, applied to
    /// the forecast of the hours planned.
    pub correction_ppb: Vec<u64>,
    /// Opportunities already seen at nodes of hour `hour`, taken off their supply.
    pub used: Vec<(u32, u64)>,
    pub entries: Vec<PlanEntryRec>,
}

/// What SHALE's stage two needs to repeat a plan exactly (docs/traffic.md, "SHALE"):
/// each entry's `ζ` and the nodes' prices `β`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricingRec {
    /// Per entry of the plan, in its order: `ζ` in ppb; none for an entry that took all
    /// that remained on its nodes.
    pub zeta_ppb: Vec<Option<i64>>,
    /// The nodes with a price above 0: (node, `β` in ppb), ascending by node.
    pub prices: Vec<(u32, u64)>,
}

/// A plan made by SHALE: the plan (each entry's `share_ppb` is the share it realised),
/// and its pricing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShalePlanRec {
    pub plan: PlanRec,
    pub pricing: PricingRec,
}
