//! The marketing tools' state: coupons and wallets, 满减, item price cuts, 拼团 group
//! deals, live-room red packets, lotteries, and checkouts. Built only by applying events
//! (engine/market.rs); [`quote`] prices a cart.

pub mod ids;
pub mod quote;
pub mod view;

pub use crate::command::CartLine;
use crate::event as ev;
use crate::hash::{Map as HashMap, Set as HashSet};
use crate::intern::Interner;
use crate::kinds::{Channel, Method};
pub use crate::kinds::{PrizeKind, ReleaseReason};
use crate::money::Fen;
pub use crate::party::Party;
use crate::time::Ts;
use quote::{Layer, Rule, Value};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use thin_vec::ThinVec;

/// A running subsidy account: what was spent (redeemed, net of refunds) and what is held
/// by open checkouts, against an optional cap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    pub cap: Option<Fen>,
    pub spent: Fen,
    pub reserved: Fen,
}

impl Budget {
    /// What may still be committed (`None`: no cap).
    pub fn left(&self) -> Option<i64> {
        self.cap.map(|c| (c - self.spent - self.reserved).0.max(0))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CouponScope {
    Platform,
    Store(u32),
    Skus(u32, Vec<String>),
    Category(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Validity {
    Window {
        from: Ts,
        until: Ts,
    },
    /// Valid from the claim for this many days (ms).
    AfterClaim {
        ms: i64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Audience {
    Everyone,
    Followers(u32),
    NewFollowers(u32),
    Session(u32),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Coupon {
    pub issuer: Party,
    pub bearer: Party,
    pub scope: CouponScope,
    pub value: Value,
    pub stock: u64,
    pub claimed: u64,
    pub per_user: u32,
    pub claim_from: Ts,
    pub claim_until: Ts,
    pub validity: Validity,
    pub audience: Audience,
    pub return_on_refund: bool,
    pub budget: Budget,
    pub redeemed: u64,
    /// Buyer-paid total of the checkouts that redeemed it, at payment (refunds do not
    /// reduce it).
    pub gmv: Fen,
}

impl Coupon {
    /// The layer a coupon is chosen in: store and SKU coupons per merchant, platform and
    /// category coupons once per checkout.
    pub fn layer(&self) -> Layer {
        match self.scope {
            CouponScope::Store(_) | CouponScope::Skus(..) => Layer::StoreCoupon,
            CouponScope::Platform | CouponScope::Category(_) => Layer::PlatformCoupon,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HeldState {
    Available,
    Reserved(u32),
    Redeemed(u32),
}

/// A coupon in a wallet.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Held {
    pub coupon: u32,
    pub claimed_at: Ts,
    pub from: Ts,
    pub until: Ts,
    pub state: HeldState,
}

/// Where a wallet's deduction money came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    Packet(u32),
}

/// Red-packet money in a wallet: a deduction usable at checkout.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Allowance {
    pub source: Source,
    pub amount: Fen,
    pub left: Fen,
    /// Usable on this merchant's goods only, or anywhere.
    pub merchant: Option<u32>,
    pub got_at: Ts,
    pub until: Ts,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Wallet {
    // Thin vectors (one pointer each, the length and capacity beside the items) because a
    // wallet is kept per user, millions of them, and most hold one kind only: an empty one
    // costs a pointer, where a vector costs three words.
    pub coupons: ThinVec<Held>,
    pub allowances: ThinVec<Allowance>,
}

/// Pushes onto a wallet's list, making room for exactly one more when it is full. Most
/// users hold one or two coupons; a vector's first push would reserve four, and with
/// millions of users the three empty places were the largest part of a claim's memory.
pub(crate) fn push_one<T>(v: &mut ThinVec<T>, x: T) {
    if v.len() == v.capacity() && v.len() < 4 {
        v.reserve_exact(1);
    }
    v.push(x);
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fullcut {
    /// One merchant (store 满减) or a set of merchants (跨店满减; `None` = every merchant).
    pub merchant: Option<u32>,
    pub merchants: Option<BTreeSet<u32>>,
    pub rule: Rule,
    /// Cross-store: the platform's share of the cost in basis points.
    pub platform_share_bp: i64,
    pub start: Ts,
    pub end: Ts,
    pub budget: Budget,
    pub used: u64,
}

impl Fullcut {
    pub fn is_cross(&self) -> bool {
        self.merchant.is_none()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PriceCut {
    pub merchant: u32,
    pub sku: String,
    pub off_unit: Fen,
    pub start: Ts,
    pub end: Ts,
    pub budget: Budget,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupDeal {
    pub merchant: u32,
    pub sku: String,
    pub price: Fen,
    pub group_price: Fen,
    pub size: u32,
    pub limit_ms: i64,
    pub start: Ts,
    pub end: Ts,
    pub budget: Budget,
    pub formed: u64,
    pub failed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupState {
    Open,
    Formed(Ts),
    Failed(Ts),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Member {
    pub user: u32,
    pub order: String,
    pub at: Ts,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    pub deal: u32,
    pub channel: Channel,
    pub session: Option<u32>,
    pub members: Vec<Member>,
    pub opened: Ts,
    pub deadline: Ts,
    pub state: GroupState,
}

/// Who may take part in a red packet or a lottery.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Eligibility {
    /// Must be in the live room (red packets always require it).
    pub in_room: bool,
    pub followers_only: bool,
    pub passphrase: Option<String>,
    pub min_watch_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Packet {
    pub session: u32,
    pub issuer: Party,
    pub total: Fen,
    pub count: u32,
    pub method: Method,
    pub seed: u64,
    /// hex(SHA-256(secret)) for a packet created with a secret; `None` for one with a seed.
    pub commitment: Option<String>,
    /// The secret (lowercase hex), kept from views until the packet is finished.
    pub secret: Option<String>,
    pub shares: Vec<i64>,
    pub grabbers: crate::users::UserSet,
    pub granted: Fen,
    pub eligibility: Eligibility,
    pub opens_at: Ts,
    pub expires_at: Ts,
    pub use_merchant: Option<u32>,
    pub use_until: Ts,
    /// Set at expiry: what went back to the issuer.
    pub returned: Option<Fen>,
    /// Users who commented the passphrase after the packet was created.
    pub said: HashSet<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prize {
    pub kind: PrizeKind,
    pub name: String,
    pub value: Fen,
    pub coupon: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Drawn {
    pub at: Ts,
    pub eligible: Vec<String>,
    pub winners: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Lottery {
    pub session: u32,
    pub issuer: Party,
    pub prize: Prize,
    pub winners: u32,
    pub eligibility: Eligibility,
    pub draw_at: Ts,
    pub commitment: String,
    /// Hex; published only with the draw.
    pub secret: String,
    pub said: HashSet<u32>,
    pub drawn: Option<Drawn>,
}

/// One discount of a checkout as recorded: what, who bears it, and per line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discount {
    pub layer: Layer,
    /// The promotion: coupon, fullcut, price-cut or packet id.
    pub promo: String,
    /// The wallet entry used (coupons and allowances).
    pub held: Option<u32>,
    pub amount: i64,
    /// Per cart line, summing to `amount`.
    pub lines: Vec<i64>,
    /// Cost split (party, fen); sums to `amount`.
    pub bearers: Vec<(String, i64)>,
}

/// A priced cart: the lines, what each pays, and every discount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub lines: Vec<CartLine>,
    pub pay: Vec<i64>,
    pub discounts: Vec<Discount>,
    pub list_total: i64,
    pub discount_total: i64,
    pub pay_total: i64,
    pub optimal: bool,
}

impl Quote {
    /// The cart's merchants, by id: one order each when the checkout is paid.
    pub fn merchants(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.lines.iter().map(|l| l.merchant.as_str()).collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

// A quote as `checkout_reserved` records it (crate::event's records), and back.

impl From<&Discount> for ev::DiscountRec {
    fn from(d: &Discount) -> ev::DiscountRec {
        ev::DiscountRec {
            layer: d.layer,
            promo: d.promo.clone(),
            held: d.held,
            amount: d.amount,
            lines: d.lines.clone(),
            bearers: d.bearers.clone(),
        }
    }
}

impl From<&ev::DiscountRec> for Discount {
    fn from(d: &ev::DiscountRec) -> Discount {
        Discount {
            layer: d.layer,
            promo: d.promo.clone(),
            held: d.held,
            amount: d.amount,
            lines: d.lines.clone(),
            bearers: d.bearers.clone(),
        }
    }
}

impl From<&Quote> for ev::QuoteRec {
    fn from(q: &Quote) -> ev::QuoteRec {
        ev::QuoteRec {
            lines: q.lines.iter().map(ev::CartLineRec::from).collect(),
            pay: q.pay.clone(),
            discounts: q.discounts.iter().map(ev::DiscountRec::from).collect(),
            list_total: q.list_total,
            discount_total: q.discount_total,
            pay_total: q.pay_total,
            optimal: q.optimal,
        }
    }
}

impl From<&ev::QuoteRec> for Quote {
    fn from(q: &ev::QuoteRec) -> Quote {
        Quote {
            lines: q.lines.iter().map(CartLine::from).collect(),
            pay: q.pay.clone(),
            discounts: q.discounts.iter().map(Discount::from).collect(),
            list_total: q.list_total,
            discount_total: q.discount_total,
            pay_total: q.pay_total,
            optimal: q.optimal,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CheckoutState {
    Reserved,
    Paid(Ts),
    Released(Ts, ReleaseReason),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checkout {
    pub user: u32,
    pub channel: Channel,
    pub session: Option<u32>,
    pub at: Ts,
    pub pay_by: Ts,
    pub quote: Quote,
    pub state: CheckoutState,
    /// Per discount, what refunds have returned so far.
    pub returned: Vec<i64>,
}

impl Checkout {
    /// The order id of one merchant's part of a checkout.
    pub fn order_id(checkout: &str, merchant: &str) -> String {
        format!("{checkout}/{merchant}")
    }
}

/// Timer kinds, in the order due timers of equal time fire.
pub mod timer {
    pub const CHECKOUT: u8 = 0;
    pub const GROUP: u8 = 1;
    pub const PACKET: u8 = 2;
    pub const LOTTERY: u8 = 3;
}

/// What a passphrase comment in a session counts toward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    Packet(u32),
    Lottery(u32),
}

/// Everything the marketing tools keep.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Market {
    /// Command id → command type, so a repeated id is recognised (idempotency).
    pub command_ids: ids::CommandIds,
    pub coupon_ids: Interner,
    pub coupons: Vec<Coupon>,
    /// (coupon, user) → claims so far.
    pub claims: HashMap<(u32, u32), u32>,
    pub wallets: HashMap<u32, Wallet>,
    pub fullcut_ids: Interner,
    pub fullcuts: Vec<Fullcut>,
    /// merchant → its store 满减.
    pub fullcuts_by_merchant: HashMap<u32, Vec<u32>>,
    /// Cross-store 满减, in creation order.
    pub cross_fullcuts: Vec<u32>,
    pub cut_ids: Interner,
    pub cuts: Vec<PriceCut>,
    /// (merchant, sku) → price cuts on it.
    pub cuts_by_sku: HashMap<(u32, Box<str>), Vec<u32>>,
    pub deal_ids: Interner,
    pub deals: Vec<GroupDeal>,
    pub group_ids: Interner,
    pub groups: Vec<Group>,
    /// (deal, user) pairs that have joined a group of the deal.
    pub group_members: HashSet<(u32, u32)>,
    pub packet_ids: Interner,
    pub packets: Vec<Packet>,
    pub lottery_ids: Interner,
    pub lotteries: Vec<Lottery>,
    pub checkout_ids: Interner,
    pub checkouts: Vec<Checkout>,
    /// Order id of a checkout's merchant part → checkout.
    pub order_checkout: HashMap<Box<str>, u32>,
    /// Order ids taken by group members whose group has not formed yet.
    pub pending_orders: HashSet<Box<str>>,
    /// (anchor, user) → when the user followed.
    pub follows: HashMap<(u32, u32), Ts>,
    /// session → passphrase targets.
    pub passphrases: HashMap<u32, Vec<(String, Target)>>,
    /// (due, kind, index): what a tick fires, in order.
    pub timers: BTreeSet<(Ts, u8, u32)>,
    /// Festival-wide sums that `decide` keeps within [`crate::limits::TOTAL`]. Not saved
    /// in snapshots (the snapshot format stays as it is): [`Market::rebuild_totals`]
    /// derives them from the rest of the state when a snapshot is loaded.
    #[serde(skip)]
    pub totals: Totals,
}

/// Festival-wide sums of the marketing tools, each an upper bound of what a report adds up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Σ `total` of every red packet created.
    pub packets_fen: i64,
    /// Σ `winners` × prize value of every lottery created: the most its prizes are worth.
    pub prizes_fen: i64,
    /// Σ `discount_total` of every checkout reserved or paid (not released).
    pub discounts_fen: i64,
    /// Σ spent and reserved of every group deal: the group-price subsidies held or given.
    pub subsidies_fen: i64,
}

impl Packet {
    /// Every share is grabbed, or the packet expired at a tick: nothing is left to steer,
    /// so its seed, secret and shares may be shown.
    pub fn finished(&self) -> bool {
        self.returned.is_some() || self.grabbers.len() >= self.count as usize
    }
}

impl Market {
    /// The festival-wide sums as the rest of the state implies them.
    pub fn rebuild_totals(&mut self) {
        let discounts = self
            .checkouts
            .iter()
            .filter(|c| !matches!(c.state, CheckoutState::Released(..)))
            .map(|c| c.quote.discount_total)
            .sum();
        self.totals = Totals {
            packets_fen: self.packets.iter().map(|p| p.total.0).sum(),
            prizes_fen: self.lotteries.iter().map(|l| l.winners as i64 * l.prize.value.0).sum(),
            discounts_fen: discounts,
            subsidies_fen: self.deals.iter().map(|d| (d.budget.spent + d.budget.reserved).0).sum(),
        };
    }

    pub fn wallet(&self, user: u32) -> Option<&Wallet> {
        self.wallets.get(&user)
    }

    /// The due time of the first timer after `after` (of every timer with `None`): when a
    /// `tick` next has something to fire. A tick at `at` fires every timer due by `at`.
    pub fn next_due_after(&self, after: Option<Ts>) -> Option<Ts> {
        let from = after.map_or(i64::MIN, |t| t.0.saturating_add(1));
        self.timers.range((Ts(from), 0, 0)..).next().map(|t| t.0)
    }
}
