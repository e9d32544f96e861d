//! Format 1's records and small enums, frozen, each with its conversion into today's
//! record (`up`). Nothing here may change (see the parent module).

use super::Context;
use crate::time::{Day, Ts};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BrandTier {
    Ska,
    Ka,
    None,
}

impl BrandTier {
    pub(super) fn up(self) -> crate::kinds::BrandTier {
        match self {
            BrandTier::Ska => crate::kinds::BrandTier::Ska,
            BrandTier::Ka => crate::kinds::BrandTier::Ka,
            BrandTier::None => crate::kinds::BrandTier::None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Live,
    Shelf,
}

impl Channel {
    pub(super) fn up(self) -> crate::kinds::Channel {
        match self {
            Channel::Live => crate::kinds::Channel::Live,
            Channel::Shelf => crate::kinds::Channel::Shelf,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InteractionKind {
    Comment,
    Like,
    Share,
    Follow,
}

impl InteractionKind {
    pub(super) fn up(self) -> crate::kinds::InteractionKind {
        match self {
            InteractionKind::Comment => crate::kinds::InteractionKind::Comment,
            InteractionKind::Like => crate::kinds::InteractionKind::Like,
            InteractionKind::Share => crate::kinds::InteractionKind::Share,
            InteractionKind::Follow => crate::kinds::InteractionKind::Follow,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Merchant,
    Anchor,
    Provider,
}

impl Role {
    pub(super) fn up(self) -> crate::kinds::Role {
        match self {
            Role::Merchant => crate::kinds::Role::Merchant,
            Role::Anchor => crate::kinds::Role::Anchor,
            Role::Provider => crate::kinds::Role::Provider,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseReason {
    Cancelled,
    Timeout,
}

impl ReleaseReason {
    pub(super) fn up(self) -> crate::kinds::ReleaseReason {
        match self {
            ReleaseReason::Cancelled => crate::kinds::ReleaseReason::Cancelled,
            ReleaseReason::Timeout => crate::kinds::ReleaseReason::Timeout,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Even,
    DoubleMean,
    LineCut,
}

impl Method {
    pub(super) fn up(self) -> crate::kinds::Method {
        match self {
            Method::Even => crate::kinds::Method::Even,
            Method::DoubleMean => crate::kinds::Method::DoubleMean,
            Method::LineCut => crate::kinds::Method::LineCut,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CouponScopeKind {
    Platform,
    Store,
    Skus,
    Category,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AudienceKind {
    Everyone,
    Followers,
    NewFollowers,
    Session,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FullcutScopeKind {
    Store,
    CrossStore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    PriceCut,
    StoreFullcut,
    StoreCoupon,
    CrossStoreFullcut,
    PlatformCoupon,
    RedPacket,
}

impl Layer {
    pub(super) fn up(self) -> crate::kinds::Layer {
        match self {
            Layer::PriceCut => crate::kinds::Layer::PriceCut,
            Layer::StoreFullcut => crate::kinds::Layer::StoreFullcut,
            Layer::StoreCoupon => crate::kinds::Layer::StoreCoupon,
            Layer::CrossStoreFullcut => crate::kinds::Layer::CrossStoreFullcut,
            Layer::PlatformCoupon => crate::kinds::Layer::PlatformCoupon,
            Layer::RedPacket => crate::kinds::Layer::RedPacket,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Award,
    Clawback,
}

impl LineKind {
    pub(super) fn up(self) -> crate::kinds::LineKind {
        match self {
            LineKind::Award => crate::kinds::LineKind::Award,
            LineKind::Clawback => crate::kinds::LineKind::Clawback,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrizeKind {
    Goods,
    Coupon,
    Cash,
}

impl PrizeKind {
    pub(super) fn up(self) -> crate::kinds::PrizeKind {
        match self {
            PrizeKind::Goods => crate::kinds::PrizeKind::Goods,
            PrizeKind::Coupon => crate::kinds::PrizeKind::Coupon,
            PrizeKind::Cash => crate::kinds::PrizeKind::Cash,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RewardKind {
    Cash,
    FentiaoCredit,
    TrafficPack,
    MainVenueSlot,
    Pendant,
    Badge,
    AdRebate,
    CustomGameplay,
}

impl RewardKind {
    pub(super) fn up(self) -> crate::kinds::RewardKind {
        match self {
            RewardKind::Cash => crate::kinds::RewardKind::Cash,
            RewardKind::FentiaoCredit => crate::kinds::RewardKind::FentiaoCredit,
            RewardKind::TrafficPack => crate::kinds::RewardKind::TrafficPack,
            RewardKind::MainVenueSlot => crate::kinds::RewardKind::MainVenueSlot,
            RewardKind::Pendant => crate::kinds::RewardKind::Pendant,
            RewardKind::Badge => crate::kinds::RewardKind::Badge,
            RewardKind::AdRebate => crate::kinds::RewardKind::AdRebate,
            RewardKind::CustomGameplay => crate::kinds::RewardKind::CustomGameplay,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineRec {
    pub sku: String,
    pub qty: i64,
    pub price: i64,
    pub paid: i64,
}

impl LineRec {
    pub(super) fn up(self) -> crate::event::LineRec {
        crate::event::LineRec { sku: self.sku, qty: self.qty, price: self.price, paid: self.paid }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLineRec {
    pub merchant: String,
    pub sku: String,
    pub qty: i64,
    pub price: i64,
}

impl CartLineRec {
    pub(super) fn up(self) -> crate::event::CartLineRec {
        crate::event::CartLineRec { merchant: self.merchant, sku: self.sku, qty: self.qty, price: self.price }
    }
}

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

impl CouponDef {
    /// As format 1's apply read it: the bearer defaults to the issuer; the value is `off`
    /// if given, else `percent_bp`; the validity is the window if both ends are given,
    /// else `valid_days` from the claim; the audience's anchor or session is looked up.
    pub(super) fn up(self) -> Result<crate::event::CouponDef, String> {
        use crate::event::{AudienceRec as A, CouponScopeRec as S, CouponValueRec as V, ValidityRec as W};
        let issuer = party(&self.issuer)?;
        let bearer = match &self.bearer {
            Some(b) => party(b)?,
            None => issuer.clone(),
        };
        let merchant = || self.merchant.clone().ok_or("a store or sku coupon without a merchant");
        let scope = match self.scope {
            CouponScopeKind::Platform => S::Platform,
            CouponScopeKind::Store => S::Store { merchant: merchant()? },
            CouponScopeKind::Skus => S::Skus { merchant: merchant()?, skus: self.skus.clone() },
            CouponScopeKind::Category => S::Category { category: self.category.clone().unwrap_or_default() },
        };
        let value = match (self.off, self.percent_bp) {
            (Some(off), _) => V::Off { threshold: self.threshold, off },
            (None, Some(bp)) => V::Percent { threshold: self.threshold, bp, cap: self.cap },
            _ => return Err("a coupon without a value".into()),
        };
        let validity = match (self.valid_from, self.valid_until, self.valid_days) {
            (Some(from), Some(until), _) => W::Window { from, until },
            (_, _, Some(days)) => W::AfterClaim { valid_ms: days * DAY_MS },
            _ => return Err("a coupon without a validity".into()),
        };
        // An audience without its anchor or session named the empty id, which no entity
        // has: applying it fails as format 1's apply did.
        let anchor = || self.anchor.clone().unwrap_or_default();
        let audience = match self.audience {
            AudienceKind::Everyone => A::Everyone,
            AudienceKind::Followers => A::Followers { anchor: anchor() },
            AudienceKind::NewFollowers => A::NewFollowers { anchor: anchor() },
            AudienceKind::Session => A::Session { session: self.session.clone().unwrap_or_default() },
        };
        Ok(crate::event::CouponDef {
            id: self.id,
            coupon: self.coupon,
            issuer,
            bearer,
            scope,
            value,
            stock: self.stock,
            per_user: self.per_user,
            claim_from: self.claim_from,
            claim_until: self.claim_until,
            validity,
            audience,
            return_on_refund: self.return_on_refund,
            budget: self.budget,
            at: self.at,
        })
    }
}

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

impl FullcutDef {
    /// As format 1's apply read it: a `merchant` makes it a store 满减 (its `merchants`
    /// and platform share were refused before), none a cross-store one; `every` makes the
    /// rule 每满 `every` 减 `off` (0 if absent), else the tiers.
    pub(super) fn up(self) -> Result<crate::event::FullcutDef, String> {
        let scope = match self.merchant {
            Some(merchant) if self.merchants.is_none() && self.platform_share_bp == 0 => {
                crate::event::FullcutScopeRec::Store { merchant }
            }
            Some(_) => return Err("a store 满减 with merchants or a platform share".into()),
            None => crate::event::FullcutScopeRec::CrossStore {
                merchants: self.merchants,
                platform_share_bp: self.platform_share_bp,
            },
        };
        let rule = match self.every {
            Some(step) => crate::event::RuleRec::Every { step, off: self.off.unwrap_or(0), cap: self.cap },
            None => crate::event::RuleRec::Tiers { tiers: self.tiers },
        };
        Ok(crate::event::FullcutDef {
            id: self.id,
            fullcut: self.fullcut,
            scope,
            rule,
            start: self.start,
            end: self.end,
            budget: self.budget,
            at: self.at,
        })
    }
}

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

impl PriceCutDef {
    pub(super) fn up(self) -> crate::event::PriceCutDef {
        crate::event::PriceCutDef {
            id: self.id,
            cut: self.cut,
            merchant: self.merchant,
            sku: self.sku,
            off: self.off,
            start: self.start,
            end: self.end,
            budget: self.budget,
            at: self.at,
        }
    }
}

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

impl GroupDealDef {
    /// A deal without its own time limit took the festival's.
    pub(super) fn up(self, ctx: &Context) -> crate::event::GroupDealDef {
        crate::event::GroupDealDef {
            id: self.id,
            deal: self.deal,
            merchant: self.merchant,
            sku: self.sku,
            price: self.price,
            group_price: self.group_price,
            size: self.size,
            time_limit_s: self.time_limit_s.unwrap_or(ctx.group_time_limit_s),
            start: self.start,
            end: self.end,
            budget: self.budget,
            at: self.at,
        }
    }
}

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

impl RedPacketDef {
    /// The issuer parsed; money usable until `use_until`, or the festival's end. (`seed`
    /// repeated the event's own, which the event keeps.)
    pub(super) fn up(self, ctx: &Context) -> Result<crate::event::RedPacketDef, String> {
        Ok(crate::event::RedPacketDef {
            id: self.id,
            packet: self.packet,
            session: self.session,
            issuer: party(&self.issuer)?,
            total: self.total,
            count: self.count,
            split: self.split.up(),
            followers_only: self.followers_only,
            passphrase: self.passphrase,
            min_watch_s: self.min_watch_s,
            opens_at: self.opens_at,
            expires_at: self.expires_at,
            usable_merchant: self.usable_merchant,
            use_until: self.use_until.unwrap_or(ctx.festival_end),
            at: self.at,
        })
    }

    /// The shares by format 1's rule: split from the seed at apply, by the split of
    /// docs/red-packets.md (`promo::redpacket::split`, which must keep giving format 1's
    /// shares for as long as format 1 is read).
    pub(super) fn shares(&self, seed: u64) -> Result<Vec<i64>, String> {
        let count = u32::try_from(self.count).map_err(|_| format!("a red packet of {} shares", self.count))?;
        let shares = crate::promo::redpacket::split(crate::money::Fen(self.total), count, self.split.up(), seed)
            .map_err(|e| e.to_string())?;
        Ok(shares.into_iter().map(|f| f.0).collect())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrizeRec {
    pub kind: PrizeKind,
    pub name: String,
    pub value: i64,
    pub coupon: Option<String>,
}

impl PrizeRec {
    pub(super) fn up(self) -> crate::event::PrizeRec {
        crate::event::PrizeRec { kind: self.kind.up(), name: self.name, value: self.value, coupon: self.coupon }
    }
}

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

impl LotteryDef {
    /// The issuer parsed, and the secret canonicalised as format 1's apply did: lowercase
    /// hex of its bytes, however the record spelled them (`promo::lottery::unhex_recorded`).
    pub(super) fn up(self) -> Result<crate::event::LotteryDef, String> {
        use crate::promo::lottery;
        let secret = lottery::hex(&lottery::unhex_recorded(&self.secret).ok_or("the secret is not hex")?);
        Ok(crate::event::LotteryDef {
            id: self.id,
            lottery: self.lottery,
            session: self.session,
            issuer: party(&self.issuer)?,
            prize: self.prize.up(),
            winners: self.winners,
            in_room: self.in_room,
            followers_only: self.followers_only,
            passphrase: self.passphrase,
            min_watch_s: self.min_watch_s,
            draw_at: self.draw_at,
            secret,
            at: self.at,
        })
    }
}

/// A party's wire name as format 1 recorded it: "platform", "merchant:ID" or "anchor:ID".
/// Whether the merchant or anchor is registered is for apply, as it was.
fn party(s: &str) -> Result<crate::event::PartyRec, String> {
    match s.split_once(':') {
        None if s == "platform" => Ok(crate::event::PartyRec::Platform),
        Some(("merchant", id)) => Ok(crate::event::PartyRec::Merchant(id.to_string())),
        Some(("anchor", id)) => Ok(crate::event::PartyRec::Anchor(id.to_string())),
        _ => Err(format!("`{s}` is not a party")),
    }
}

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscountRec {
    pub layer: Layer,
    pub promo: String,
    pub held: Option<u32>,
    pub amount: i64,
    pub lines: Vec<i64>,
    pub bearers: Vec<(String, i64)>,
}

impl DiscountRec {
    pub(super) fn up(self) -> crate::event::DiscountRec {
        crate::event::DiscountRec {
            layer: self.layer.up(),
            promo: self.promo,
            held: self.held,
            amount: self.amount,
            lines: self.lines,
            bearers: self.bearers,
        }
    }
}

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

impl QuoteRec {
    pub(super) fn up(self) -> crate::event::QuoteRec {
        crate::event::QuoteRec {
            lines: self.lines.into_iter().map(CartLineRec::up).collect(),
            pay: self.pay,
            discounts: self.discounts.into_iter().map(DiscountRec::up).collect(),
            list_total: self.list_total,
            discount_total: self.discount_total,
            pay_total: self.pay_total,
            optimal: self.optimal,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedBoardRec {
    pub race: String,
    pub day: Option<Day>,
    pub group: Option<String>,
    pub ranked: u64,
    pub frozen: Vec<(String, i64, Ts)>,
}

impl ClosedBoardRec {
    pub(super) fn up(self) -> crate::event::ClosedBoardRec {
        crate::event::ClosedBoardRec {
            race: self.race,
            day: self.day,
            group: self.group,
            ranked: self.ranked,
            frozen: self.frozen,
        }
    }
}

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

impl LedgerLineRec {
    pub(super) fn up(self) -> crate::event::LedgerLineRec {
        crate::event::LedgerLineRec {
            settlement: self.settlement,
            payout: self.payout,
            kind: self.kind.up(),
            race: self.race,
            day: self.day,
            group: self.group,
            participant: self.participant,
            role: self.role.up(),
            track: self.track,
            item: self.item.up(),
            name: self.name,
            rank: self.rank,
            value: self.value,
            band: self.band,
            claim: self.claim,
            amount: self.amount,
            scale: self.scale,
            rule: self.rule,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyOutcome {
    Accepted { first_seq: u64, last_seq: u64 },
    Rejected { code: String, message: String },
}

impl KeyOutcome {
    pub(super) fn up(self) -> crate::event::KeyOutcomeRec {
        match self {
            KeyOutcome::Accepted { first_seq, last_seq } => {
                crate::event::KeyOutcomeRec::Accepted { first_seq, last_seq }
            }
            KeyOutcome::Rejected { code, message } => crate::event::KeyOutcomeRec::Rejected { code, message },
        }
    }
}
