//! The small enums that commands, events, the state and the festival file share: a leaf
//! module, so that the event schema can use them without depending on any of those.
//! Their old homes re-export them (`command::Channel`, `festival::Role`, …).
//!
//! Each serialises by its snake_case name in JSON, and by its declaration index in the
//! log (postcard): never reorder or remove a variant (docs/log.md, "The event payload").

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Live,
    Shelf,
}

impl Channel {
    pub fn index(self) -> usize {
        self as usize
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Live => "live",
            Channel::Shelf => "shelf",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InteractionKind {
    Comment,
    Like,
    Share,
    Follow,
}

impl InteractionKind {
    pub const ALL: [InteractionKind; 4] =
        [InteractionKind::Comment, InteractionKind::Like, InteractionKind::Share, InteractionKind::Follow];
    pub fn index(self) -> usize {
        self as usize
    }
    pub fn as_str(self) -> &'static str {
        match self {
            InteractionKind::Comment => "comment",
            InteractionKind::Like => "like",
            InteractionKind::Share => "share",
            InteractionKind::Follow => "follow",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Merchant,
    Anchor,
    Provider,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Merchant => "merchant",
            Role::Anchor => "anchor",
            Role::Provider => "provider",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BrandTier {
    Ska,
    Ka,
    None,
}

impl BrandTier {
    pub const ALL: [BrandTier; 3] = [BrandTier::Ska, BrandTier::Ka, BrandTier::None];
    pub fn as_str(self) -> &'static str {
        match self {
            BrandTier::Ska => "ska",
            BrandTier::Ka => "ka",
            BrandTier::None => "none",
        }
    }
    pub fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RewardKind {
    /// Cash in fen: `amount_fen`.
    Cash,
    /// 粉条 promotion credit: fixed `amount_fen`, or `share_bp` of the entrant's sales in
    /// the window capped at `cap_fen`.
    FentiaoCredit,
    /// Traffic pack: `impressions`.
    TrafficPack,
    /// A main-venue (主会场) slot: `name`.
    MainVenueSlot,
    /// An avatar pendant: `name`.
    Pendant,
    /// A badge: `name`.
    Badge,
    /// Ad spend rebate: `rebate_bp`.
    AdRebate,
    /// Custom live-room gameplay (直播间定制玩法): `name`.
    CustomGameplay,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
    pub const ALL: [Layer; 6] = [
        Layer::PriceCut,
        Layer::StoreFullcut,
        Layer::StoreCoupon,
        Layer::CrossStoreFullcut,
        Layer::PlatformCoupon,
        Layer::RedPacket,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::PriceCut => "price_cut",
            Layer::StoreFullcut => "store_fullcut",
            Layer::StoreCoupon => "store_coupon",
            Layer::CrossStoreFullcut => "cross_store_fullcut",
            Layer::PlatformCoupon => "platform_coupon",
            Layer::RedPacket => "red_packet",
        }
    }
    /// Store layers act within one merchant; they must all come before the others.
    pub fn is_store(self) -> bool {
        matches!(self, Layer::PriceCut | Layer::StoreFullcut | Layer::StoreCoupon)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrizeKind {
    Goods,
    Coupon,
    Cash,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseReason {
    Cancelled,
    Timeout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Equal shares; the remainder goes one fen each to the first shares.
    Even,
    /// 二倍均值: each share is uniform in [1, 2 × the mean of what is left], capped so
    /// that every later share can still get 1 fen; the last share takes the rest.
    DoubleMean,
    /// 线段切割: `count − 1` distinct cut points uniform in [1, total − 1]; the shares are
    /// the lengths between consecutive cuts.
    LineCut,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CouponScopeKind {
    Platform,
    Store,
    Skus,
    Category,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AudienceKind {
    #[default]
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
pub enum LineKind {
    /// A board or challenge settled for the first time.
    Award,
    /// A later settlement found the entrant entitled to less.
    Clawback,
}

impl LineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Award => "award",
            LineKind::Clawback => "clawback",
        }
    }
}

/// How a guaranteed-traffic contract's target curve runs over its window
/// (docs/traffic.md, "Pacing").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pacing {
    /// The target follows the forecast: equal shares of every eligible opportunity.
    #[default]
    Even,
    /// Three quarters of the impressions in the first half of the window's forecast.
    FrontLoaded,
}

impl Pacing {
    pub fn as_str(self) -> &'static str {
        match self {
            Pacing::Even => "even",
            Pacing::FrontLoaded => "front_loaded",
        }
    }
}
