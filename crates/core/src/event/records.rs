//! The records events carry: the event schema's own structs, so that no command struct or
//! domain type is written to the log. Domain code converts to and from them (the `From`
//! impls live beside the domain types: `command`, `market`, `settle`); nothing here knows
//! those types. Like [`super::Event`], every struct is written by position in the log:
//! a change to a field is a new event format (docs/log.md, "Evolving the schema").

use crate::kinds::Role;
use crate::kinds::{AudienceKind, CouponScopeKind, FullcutScopeKind, Layer, LineKind, Method, PrizeKind, RewardKind};
use crate::time::{Day, Ts};
use serde::{Deserialize, Serialize};

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

/// A coupon as `coupon_created` records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouponDef {
    pub id: String,
    pub coupon: String,
    pub issuer: String,
    pub bearer: Option<String>,
    pub scope: CouponScopeKind,
    pub merchant: Option<String>,
    pub skus: Vec<String>,
    pub category: Option<String>,
    pub threshold: i64,
    pub off: Option<i64>,
    pub percent_bp: Option<i64>,
    pub cap: Option<i64>,
    pub stock: i64,
    pub per_user: i64,
    pub claim_from: Ts,
    pub claim_until: Ts,
    pub valid_from: Option<Ts>,
    pub valid_until: Option<Ts>,
    pub valid_days: Option<i64>,
    pub audience: AudienceKind,
    pub anchor: Option<String>,
    pub session: Option<String>,
    pub return_on_refund: bool,
    pub budget: Option<i64>,
    pub at: Ts,
}

/// A 满减 as `fullcut_created` records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FullcutDef {
    pub id: String,
    pub fullcut: String,
    pub scope: FullcutScopeKind,
    pub merchant: Option<String>,
    pub merchants: Option<Vec<String>>,
    pub tiers: Vec<(i64, i64)>,
    pub every: Option<i64>,
    pub off: Option<i64>,
    pub cap: Option<i64>,
    pub platform_share_bp: i64,
    pub start: Ts,
    pub end: Ts,
    pub budget: Option<i64>,
    pub at: Ts,
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

/// A group deal as `group_deal_created` records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupDealDef {
    pub id: String,
    pub deal: String,
    pub merchant: String,
    pub sku: String,
    pub price: i64,
    pub group_price: i64,
    pub size: i64,
    pub time_limit_s: Option<i64>,
    pub start: Ts,
    pub end: Ts,
    pub budget: Option<i64>,
    pub at: Ts,
}

/// A red packet as its creation events record it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedPacketDef {
    pub id: String,
    pub packet: String,
    pub session: String,
    pub issuer: String,
    pub total: i64,
    pub count: i64,
    pub split: Method,
    pub seed: Option<u64>,
    pub followers_only: bool,
    pub passphrase: Option<String>,
    pub min_watch_s: i64,
    pub opens_at: Ts,
    pub expires_at: Ts,
    pub usable_merchant: Option<String>,
    pub use_until: Option<Ts>,
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
    pub issuer: String,
    pub prize: PrizeRec,
    pub winners: i64,
    pub in_room: bool,
    pub followers_only: bool,
    pub passphrase: Option<String>,
    pub min_watch_s: i64,
    pub draw_at: Ts,
    pub secret: String,
    pub at: Ts,
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
