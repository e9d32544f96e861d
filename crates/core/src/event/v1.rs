//! Event format 1, frozen: the events and records exactly as format 1 wrote them (the
//! schema of the builds before format 2), and their conversion into today's [`Event`](super::Event).
//! Nothing here may change: every byte of a format 1 log must keep decoding to the same
//! values. The small enums are copied too, so that a change to `kinds` cannot reach
//! format 1.
//!
//! This is the one place that derives what an event did not record, and only for format 1
//! records: where format 1 left a value to `apply`, [`Event::upgrade`] computes it by the
//! rule format 1's `apply` used, from the record and the festival's [`Context`].

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
    fn up(self) -> crate::kinds::BrandTier {
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
    fn up(self) -> crate::kinds::Channel {
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
    fn up(self) -> crate::kinds::InteractionKind {
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
    fn up(self) -> crate::kinds::Role {
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
    fn up(self) -> crate::kinds::ReleaseReason {
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
    fn up(self) -> crate::kinds::Method {
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
    fn up(self) -> crate::kinds::Layer {
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
    fn up(self) -> crate::kinds::LineKind {
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
    fn up(self) -> crate::kinds::PrizeKind {
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
    fn up(self) -> crate::kinds::RewardKind {
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
    fn up(self) -> super::LineRec {
        super::LineRec { sku: self.sku, qty: self.qty, price: self.price, paid: self.paid }
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
    fn up(self) -> super::CartLineRec {
        super::CartLineRec { merchant: self.merchant, sku: self.sku, qty: self.qty, price: self.price }
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
    fn up(self) -> Result<super::CouponDef, String> {
        use super::{AudienceRec as A, CouponScopeRec as S, CouponValueRec as V, ValidityRec as W};
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
        Ok(super::CouponDef {
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
    fn up(self) -> Result<super::FullcutDef, String> {
        let scope = match self.merchant {
            Some(merchant) if self.merchants.is_none() && self.platform_share_bp == 0 => {
                super::FullcutScopeRec::Store { merchant }
            }
            Some(_) => return Err("a store 满减 with merchants or a platform share".into()),
            None => super::FullcutScopeRec::CrossStore {
                merchants: self.merchants,
                platform_share_bp: self.platform_share_bp,
            },
        };
        let rule = match self.every {
            Some(step) => super::RuleRec::Every { step, off: self.off.unwrap_or(0), cap: self.cap },
            None => super::RuleRec::Tiers { tiers: self.tiers },
        };
        Ok(super::FullcutDef {
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
    fn up(self) -> super::PriceCutDef {
        super::PriceCutDef {
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
    fn up(self, ctx: &Context) -> super::GroupDealDef {
        super::GroupDealDef {
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
    fn up(self, ctx: &Context) -> Result<super::RedPacketDef, String> {
        Ok(super::RedPacketDef {
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
    fn shares(&self, seed: u64) -> Result<Vec<i64>, String> {
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
    fn up(self) -> super::PrizeRec {
        super::PrizeRec { kind: self.kind.up(), name: self.name, value: self.value, coupon: self.coupon }
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
    fn up(self) -> Result<super::LotteryDef, String> {
        use crate::promo::lottery;
        let secret = lottery::hex(&lottery::unhex_recorded(&self.secret).ok_or("the secret is not hex")?);
        Ok(super::LotteryDef {
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
fn party(s: &str) -> Result<super::PartyRec, String> {
    match s.split_once(':') {
        None if s == "platform" => Ok(super::PartyRec::Platform),
        Some(("merchant", id)) => Ok(super::PartyRec::Merchant(id.to_string())),
        Some(("anchor", id)) => Ok(super::PartyRec::Anchor(id.to_string())),
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
    fn up(self) -> super::DiscountRec {
        super::DiscountRec {
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
    fn up(self) -> super::QuoteRec {
        super::QuoteRec {
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
    fn up(self) -> super::ClosedBoardRec {
        super::ClosedBoardRec {
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
    fn up(self) -> super::LedgerLineRec {
        super::LedgerLineRec {
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
    fn up(self) -> super::KeyOutcomeRec {
        match self {
            KeyOutcome::Accepted { first_seq, last_seq } => super::KeyOutcomeRec::Accepted { first_seq, last_seq },
            KeyOutcome::Rejected { code, message } => super::KeyOutcomeRec::Rejected { code, message },
        }
    }
}

/// The events of format 1, in their variant order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    MerchantRegistered {
        merchant: String,
        name: String,
        brand_tier: BrandTier,
        category: String,
    },
    AnchorRegistered {
        anchor: String,
        name: String,
        followers: i64,
        merchant: Option<String>,
        tier: Option<String>,
    },
    ProviderRegistered {
        provider: String,
        name: String,
    },
    ProviderCertified {
        provider: String,
        at: Ts,
    },
    ProviderBound {
        provider: String,
        merchant: String,
        at: Ts,
    },
    ProviderUnbound {
        provider: String,
        merchant: String,
        at: Ts,
    },
    Enrolled {
        program: String,
        participant: String,
        role: Role,
        at: Ts,
    },
    LiveStarted {
        session: String,
        anchor: String,
        at: Ts,
    },
    LiveEnded {
        session: String,
        at: Ts,
    },
    ViewerEntered {
        session: String,
        user: String,
        at: Ts,
    },
    ViewerLeft {
        session: String,
        user: String,
        at: Ts,
    },
    Interacted {
        session: String,
        user: String,
        kind: InteractionKind,
        at: Ts,
    },
    OrderPaid {
        order: String,
        user: String,
        merchant: String,
        channel: Channel,
        session: Option<String>,
        anchor: Option<String>,
        provider: Option<String>,
        self_broadcast: bool,
        lines: Vec<LineRec>,
        at: Ts,
    },
    Refunded {
        order: String,
        amount: i64,
        at: Ts,
        #[serde(default)]
        refund_id: Option<String>,
    },
    Followed {
        id: String,
        anchor: String,
        user: String,
        at: Ts,
    },
    Commented {
        session: String,
        user: String,
        text: String,
        at: Ts,
    },
    CouponCreated(CouponDef),
    CouponClaimed {
        id: String,
        coupon: String,
        user: String,
        from: Ts,
        until: Ts,
        at: Ts,
    },
    FullcutCreated(FullcutDef),
    PriceCutCreated(PriceCutDef),
    GroupDealCreated(GroupDealDef),
    GroupOpened {
        id: String,
        group: String,
        deal: String,
        user: String,
        order: String,
        channel: Channel,
        session: Option<String>,
        deadline: Ts,
        at: Ts,
    },
    GroupJoined {
        id: String,
        group: String,
        user: String,
        order: String,
        at: Ts,
    },
    GroupFormed {
        group: String,
        at: Ts,
    },
    GroupFailed {
        group: String,
        refunded: i64,
        at: Ts,
    },
    RedPacketCreated {
        def: RedPacketDef,
        seed: u64,
    },
    RedPacketGrabbed {
        id: String,
        packet: String,
        user: String,
        amount: i64,
        at: Ts,
    },
    RedPacketExpired {
        packet: String,
        leftover: i64,
        at: Ts,
    },
    LotteryCreated {
        def: LotteryDef,
        commitment: String,
    },
    LotteryDrawn {
        lottery: String,
        eligible: Vec<String>,
        winners: Vec<String>,
        at: Ts,
    },
    CheckoutReserved {
        id: String,
        checkout: String,
        user: String,
        channel: Channel,
        session: Option<String>,
        pay_by: Ts,
        quote: QuoteRec,
        at: Ts,
    },
    CheckoutPaid {
        id: String,
        checkout: String,
        at: Ts,
    },
    CheckoutReleased {
        id: Option<String>,
        checkout: String,
        reason: ReleaseReason,
        at: Ts,
    },
    DiscountsReturned {
        order: String,
        returns: Vec<i64>,
        restored: Vec<u32>,
        at: Ts,
    },
    Ticked {
        id: String,
        at: Ts,
    },
    Identified {
        id: String,
        command: String,
    },
    ExperienceScoreSet {
        id: String,
        participant: String,
        role: Role,
        score_c: i64,
        at: Ts,
    },
    ViolationRecorded {
        id: String,
        violation: String,
        participant: String,
        role: Role,
        reason: String,
        at: Ts,
    },
    BaselineLoaded {
        id: String,
        contest: String,
        participant: String,
        baseline_fen: i64,
        at: Ts,
    },
    Settled {
        id: String,
        at: Ts,
        boards: Vec<ClosedBoardRec>,
        programs: Vec<String>,
        lines: Vec<LedgerLineRec>,
    },
    RedPacketCommitted {
        def: RedPacketDef,
        seed: u64,
        commitment: String,
        secret: String,
    },
    RegistrationSet {
        id: String,
        program: String,
        open: bool,
        at: Ts,
    },
    KeyRecorded {
        key: String,
        fingerprint: String,
        outcomes: Vec<KeyOutcome>,
        expires_at: Ts,
        at: Ts,
    },
}

/// What a format 1 record may need of the festival its log belongs to: the values format
/// 1's `apply` read from the festival file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// The festival's end.
    pub festival_end: Ts,
    /// `[checkout] group_time_limit_s`.
    pub group_time_limit_s: i64,
    /// The anchor tiers' ids, in the file's order.
    pub anchor_tiers: Vec<String>,
    /// The contests' ids with the role each ranks, in the file's order.
    pub contest_roles: Vec<(String, crate::kinds::Role)>,
    /// `[capacity] keys`.
    pub key_capacity: u64,
}

impl Event {
    /// Today's event for this format 1 record: the same fact, with what format 1's apply
    /// derived computed here by its rules (docs/log.md, "From format 1").
    pub fn upgrade(self, ctx: &Context) -> Result<super::Event, String> {
        use super::Event as E;
        Ok(match self {
            Event::MerchantRegistered { merchant, name, brand_tier, category } => {
                E::MerchantRegistered { merchant, name, brand_tier: brand_tier.up(), category }
            }
            Event::AnchorRegistered { anchor, name, followers, merchant, tier } => {
                // Format 1's apply found the tier's index among the festival's tiers.
                let tier = match tier {
                    Some(id) => {
                        let index = ctx.anchor_tiers.iter().position(|t| *t == id);
                        let index = index.ok_or_else(|| format!("unknown anchor tier `{id}`"))?;
                        Some(super::AnchorTierRec { id, index: index as u32 })
                    }
                    None => None,
                };
                E::AnchorRegistered { anchor, name, followers, merchant, tier }
            }
            Event::ProviderRegistered { provider, name } => E::ProviderRegistered { provider, name },
            Event::ProviderCertified { provider, at } => E::ProviderCertified { provider, at },
            Event::ProviderBound { provider, merchant, at } => E::ProviderBound { provider, merchant, at },
            Event::ProviderUnbound { provider, merchant, at } => E::ProviderUnbound { provider, merchant, at },
            Event::Enrolled { program, participant, role, at } => {
                E::Enrolled { program, participant, role: role.up(), at }
            }
            Event::LiveStarted { session, anchor, at } => E::LiveStarted { session, anchor, at },
            Event::LiveEnded { session, at } => E::LiveEnded { session, at },
            Event::ViewerEntered { session, user, at } => E::ViewerEntered { session, user, at },
            Event::ViewerLeft { session, user, at } => E::ViewerLeft { session, user, at },
            Event::Interacted { session, user, kind, at } => E::Interacted { session, user, kind: kind.up(), at },
            Event::OrderPaid {
                order,
                user,
                merchant,
                channel,
                session,
                anchor,
                provider,
                self_broadcast,
                lines,
                at,
            } => E::OrderPaid {
                order,
                user,
                merchant,
                channel: channel.up(),
                session,
                anchor,
                provider,
                self_broadcast,
                lines: lines.into_iter().map(LineRec::up).collect(),
                at,
            },
            Event::Refunded { order, amount, at, refund_id } => E::Refunded { order, amount, at, refund_id },
            Event::Followed { id, anchor, user, at } => E::Followed { id, anchor, user, at },
            Event::Commented { session, user, text, at } => E::Commented { session, user, text, at },
            Event::CouponCreated(d) => E::CouponCreated(d.up()?),
            Event::CouponClaimed { id, coupon, user, from, until, at } => {
                E::CouponClaimed { id, coupon, user, from, until, at }
            }
            Event::FullcutCreated(d) => E::FullcutCreated(d.up()?),
            Event::PriceCutCreated(d) => E::PriceCutCreated(d.up()),
            Event::GroupDealCreated(d) => E::GroupDealCreated(d.up(ctx)),
            Event::GroupOpened { id, group, deal, user, order, channel, session, deadline, at } => {
                E::GroupOpened { id, group, deal, user, order, channel: channel.up(), session, deadline, at }
            }
            Event::GroupJoined { id, group, user, order, at } => E::GroupJoined { id, group, user, order, at },
            Event::GroupFormed { group, at } => E::GroupFormed { group, at },
            Event::GroupFailed { group, refunded, at } => E::GroupFailed { group, refunded, at },
            Event::RedPacketCreated { def, seed } => {
                E::RedPacketCreated { shares: def.shares(seed)?, def: def.up(ctx)?, seed }
            }
            Event::RedPacketGrabbed { id, packet, user, amount, at } => {
                E::RedPacketGrabbed { id, packet, user, amount, at }
            }
            Event::RedPacketExpired { packet, leftover, at } => E::RedPacketExpired { packet, leftover, at },
            Event::LotteryCreated { def, commitment } => E::LotteryCreated { def: def.up()?, commitment },
            Event::LotteryDrawn { lottery, eligible, winners, at } => {
                // The grants depend on the state at the draw: left to apply (the event's doc).
                E::LotteryDrawn { lottery, eligible, winners, at, prize_grants: super::PrizeGrantsRec::Format1 }
            }
            Event::CheckoutReserved { id, checkout, user, channel, session, pay_by, quote, at } => {
                E::CheckoutReserved {
                    id,
                    checkout,
                    user,
                    channel: channel.up(),
                    session,
                    pay_by,
                    quote: quote.up(),
                    at,
                }
            }
            Event::CheckoutPaid { id, checkout, at } => E::CheckoutPaid { id, checkout, at },
            Event::CheckoutReleased { id, checkout, reason, at } => {
                E::CheckoutReleased { id, checkout, reason: reason.up(), at }
            }
            Event::DiscountsReturned { order, returns, restored, at } => {
                E::DiscountsReturned { order, returns, restored, at }
            }
            Event::Ticked { id, at } => E::Ticked { id, at },
            Event::Identified { id, command } => E::Identified { id, command },
            Event::ExperienceScoreSet { id, participant, role, score_c, at } => {
                E::ExperienceScoreSet { id, participant, role: role.up(), score_c, at }
            }
            Event::ViolationRecorded { id, violation, participant, role, reason, at } => {
                E::ViolationRecorded { id, violation, participant, role: role.up(), reason, at }
            }
            Event::BaselineLoaded { id, contest, participant, baseline_fen, at } => {
                // Format 1's apply ranked the participant in the contest's role.
                let role = ctx.contest_roles.iter().find(|(c, _)| *c == contest).map(|(_, r)| *r);
                let role =
                    role.ok_or_else(|| format!("a baseline for contest `{contest}`, which the festival lacks"))?;
                E::BaselineLoaded { id, contest, participant, role, baseline_fen, at }
            }
            Event::Settled { id, at, boards, programs, lines } => E::Settled {
                id,
                at,
                boards: boards.into_iter().map(ClosedBoardRec::up).collect(),
                programs,
                lines: lines.into_iter().map(LedgerLineRec::up).collect(),
            },
            Event::RedPacketCommitted { def, seed, commitment, secret } => {
                E::RedPacketCommitted { shares: def.shares(seed)?, def: def.up(ctx)?, seed, commitment, secret }
            }
            Event::RegistrationSet { id, program, open, at } => E::RegistrationSet { id, program, open, at },
            Event::KeyRecorded { key, fingerprint, outcomes, expires_at, at } => E::KeyRecorded {
                key,
                fingerprint,
                outcomes: outcomes.into_iter().map(KeyOutcome::up).collect(),
                expires_at,
                at,
                // Format 1's apply forgot by the festival's capacity.
                capacity: ctx.key_capacity,
            },
        })
    }
}
