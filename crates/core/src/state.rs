//! The engine's state: entities and their running totals. Built only by applying events.
//! Lookups use hash maps with a random seed per map (crate::hash); anything that reaches
//! output is ordered by id first, so the seed never shows.

pub use crate::curve::{Curve, MinuteCounts, CURVE_MAX_MINUTE};
use crate::event::PartyRec;
use crate::hash::{Map as HashMap, Set as HashSet};
pub use crate::intern::{Interner, OptIdx};
use crate::kinds::{BrandTier, Channel, Role};
use crate::money::Fen;
use crate::party::Party;
use crate::time::{Day, Ts};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Gross paid and refunded money of one slice of sales.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money2 {
    pub gross: Fen,
    pub refunded: Fen,
}

impl Money2 {
    /// Counted GMV: paid minus refunded.
    pub fn net(&self) -> Fen {
        self.gross - self.refunded
    }
}

/// Running sales totals of one entity (merchant, anchor, provider, session, day, tier…).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Stats {
    /// Indexed by [`Channel::index`].
    pub channel: [Money2; 2],
    pub orders: [u64; 2],
    pub self_broadcast: Money2,
    pub provider_served: Money2,
    pub provider_served_self_broadcast: Money2,
    pub buyers: crate::users::UserSet,
}

/// Which slices an order belongs to, decided when it was paid.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Slices {
    pub channel: Channel,
    pub self_broadcast: bool,
    pub provider_served: bool,
}

impl Stats {
    pub fn total(&self) -> Money2 {
        Money2 {
            gross: self.channel[0].gross + self.channel[1].gross,
            refunded: self.channel[0].refunded + self.channel[1].refunded,
        }
    }

    pub fn gmv(&self) -> Fen {
        self.total().net()
    }

    pub fn orders_total(&self) -> u64 {
        self.orders[0] + self.orders[1]
    }

    fn slices_mut(&mut self, s: Slices) -> impl Iterator<Item = &mut Money2> {
        let sb = s.self_broadcast;
        let ps = s.provider_served;
        let [live, shelf] = &mut self.channel;
        let ch = if s.channel == Channel::Live { live } else { shelf };
        [
            Some(ch),
            sb.then_some(&mut self.self_broadcast),
            ps.then_some(&mut self.provider_served),
            (sb && ps).then_some(&mut self.provider_served_self_broadcast),
        ]
        .into_iter()
        .flatten()
    }

    pub fn add_paid(&mut self, s: Slices, user: u32, paid: Fen) {
        for m in self.slices_mut(s) {
            m.gross += paid;
        }
        self.orders[s.channel.index()] += 1;
        self.buyers.insert(user);
    }

    pub fn add_refund(&mut self, s: Slices, amount: Fen) {
        for m in self.slices_mut(s) {
            m.refunded += amount;
        }
    }
}

/// One hour of sales: see [`State::by_hour`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourTotals {
    pub money: Money2,
    pub orders: u64,
}

/// The hour `at` falls in: whole hours since 1970-01-01T00:00Z, floored. (Asia/Shanghai is
/// a whole number of hours from UTC, so these are its clock hours too.)
pub fn hour_of(at: Ts) -> i64 {
    at.0.div_euclid(3_600_000)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Merchant {
    pub name: String,
    pub brand_tier: BrandTier,
    pub category: String,
    /// Provider binding history: (from, provider or none), ordered by time.
    pub bindings: Vec<(Ts, Option<u32>)>,
    pub stats: Stats,
}

impl Merchant {
    /// The provider serving the merchant at `at`.
    pub fn provider_at(&self, at: Ts) -> Option<u32> {
        let i = self.bindings.partition_point(|(t, _)| *t <= at);
        if i == 0 {
            None
        } else {
            self.bindings[i - 1].1
        }
    }

    /// The provider serving the merchant after every recorded binding.
    pub fn current_provider(&self) -> Option<u32> {
        self.bindings.last().and_then(|b| b.1)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Anchor {
    pub name: String,
    pub followers: i64,
    /// The merchant whose own account this is (brand self-broadcast), if any.
    pub merchant: Option<u32>,
    /// Index into the festival's anchor tiers, if the file declares tiers.
    pub tier: Option<u32>,
    pub live_session: Option<u32>,
    pub stats: Stats,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Provider {
    pub name: String,
    pub certified_at: Option<Ts>,
    pub stats: Stats,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub anchor: u32,
    pub start: Ts,
    pub end: Option<Ts>,
    /// Users in the room now, with the time they entered.
    pub present: crate::small_map::SmallMap<u32, Ts>,
    pub unique_viewers: crate::users::UserSet,
    /// Each viewer's watch time up to their last leave.
    pub watch: crate::watch::WatchTimes,
    pub entries: u64,
    pub peak_concurrent: u64,
    pub watch_ms: i64,
    pub interactions: [u64; 4],
    pub stats: Stats,
    /// The latest time among the session's own events: its start and end, viewer entries
    /// and leaves, interactions and comments, and orders paid in it. An ongoing session's
    /// open stays are counted up to here.
    pub last_at: Ts,
    /// Entries and finished stays per minute since the start: the review's viewer curve.
    pub curve: Curve,
    /// (merchant, sku index into [`State::skus`]) → what the session's orders bought.
    pub products: crate::small_map::SmallMap<(u32, u32), ProductTotals>,
}

impl Session {
    pub fn new(anchor: u32, start: Ts) -> Session {
        Session {
            anchor,
            start,
            end: None,
            present: Default::default(),
            unique_viewers: Default::default(),
            watch: Default::default(),
            entries: 0,
            peak_concurrent: 0,
            watch_ms: 0,
            interactions: [0; 4],
            stats: Stats::default(),
            last_at: start,
            curve: Curve::default(),
            products: Default::default(),
        }
    }

    /// The minute since the start that `at` falls in (minute m covers
    /// [start + m min, start + (m + 1) min)); times before the start count as minute 0.
    pub fn minute_of(&self, at: Ts) -> u32 {
        minute_of(self.start, at)
    }

    /// Records an event time of the session.
    pub fn touch(&mut self, at: Ts) {
        self.last_at = self.last_at.max(at);
    }

    /// Where the session's review stops: its end, or for an ongoing session the latest
    /// recorded time (`last_at`).
    pub fn close_at(&self) -> Ts {
        self.end.unwrap_or(self.last_at)
    }
}

pub const MINUTE_MS: i64 = 60_000;

/// The minute since `start` that `at` falls in, floored; 0 for times before `start`.
pub fn minute_of(start: Ts, at: Ts) -> u32 {
    ((at.0 - start.0).max(0) / MINUTE_MS).min(u32::MAX as i64) as u32
}

/// What a session's orders bought of one SKU: at payment, before refunds (a refund is
/// order-level and names no line).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductTotals {
    /// Orders with a line of the SKU.
    pub orders: u64,
    pub qty: i64,
    /// The lines' `paid`.
    pub paid: Fen,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Order {
    pub user: u32,
    pub merchant: u32,
    // Four-byte options: the order table is among the largest (docs/architecture.md).
    pub anchor: OptIdx,
    pub provider: OptIdx,
    pub session: OptIdx,
    pub anchor_tier: OptIdx,
    pub slices: Slices,
    pub at: Ts,
    pub paid: Fen,
    pub refunded: Fen,
}

/// Everything the engine knows. Fields are public for queries; only `apply` mutates.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct State {
    pub merchant_ids: Interner,
    pub merchants: Vec<Merchant>,
    pub anchor_ids: Interner,
    pub anchors: Vec<Anchor>,
    pub provider_ids: Interner,
    pub providers: Vec<Provider>,
    pub session_ids: Interner,
    pub sessions: Vec<Session>,
    pub users: Interner,
    /// SKU ids of the lines of live orders (for the sessions' product totals).
    pub skus: Interner,
    pub orders: HashMap<Box<str>, Order>,
    /// Ids of applied refunds that carried one, so a repeated refund is refused.
    pub refund_ids: HashSet<Box<str>>,
    /// program id → (role, participant index) → enrolment time.
    pub enrolments: BTreeMap<String, BTreeMap<(Role, u32), Ts>>,
    /// Programs whose enrolment an operator closed early, with the time it closed.
    pub registration_closed: BTreeMap<String, Ts>,
    pub total: Stats,
    pub by_brand_tier: [Stats; 3],
    /// Indexed by the festival's anchor tier index.
    pub by_anchor_tier: Vec<Stats>,
    pub by_day: BTreeMap<Day, Stats>,
    /// Paid and refunded money and orders per clock hour ([`hour_of`]) the orders were
    /// paid in: the console's GMV-by-hour chart. A refund reduces the hour its order was
    /// paid in, as it does the day.
    pub by_hour: BTreeMap<i64, HourTotals>,
    /// The marketing tools: coupons, wallets, 满减, group deals, red packets, lotteries,
    /// checkouts.
    pub market: crate::market::Market,
    /// Ranking contests, challenges and the heat value.
    /// Boxed so that the engine can swap it out while the contests observe an event
    /// (crate::engine, `apply`): moving the pointer, not the struct's several hundred
    /// bytes twice per event.
    pub contests: Box<crate::contest::Contests>,
    /// Settlement: the payout ledger and what it has closed.
    pub settlement: crate::settle::Settlements,
    /// Idempotency keys a service recorded, with what it answered.
    pub keys: crate::idempotency::Keys,
    /// Guaranteed traffic: contracts, the plan in force, delivery.
    pub traffic: crate::traffic::book::Book,
    /// Number of events applied.
    pub events: u64,
    /// Distinct (session, user) viewer pairs: the sessions' `unique_viewers`, added up,
    /// for the `viewers` capacity. Derived, so not saved: [`State::count_viewers`].
    #[serde(skip)]
    pub viewer_pairs: u64,
}

impl State {
    pub fn new(anchor_tiers: usize) -> State {
        State { by_anchor_tier: vec![Stats::default(); anchor_tiers], ..State::default() }
    }

    /// Recounts [`State::viewer_pairs`] (after loading a saved state).
    pub fn count_viewers(&mut self) {
        self.viewer_pairs = self.sessions.iter().map(|s| s.unique_viewers.len() as u64).sum();
    }

    pub fn merchant(&self, id: &str) -> Option<&Merchant> {
        self.merchant_ids.get(id).map(|i| &self.merchants[i as usize])
    }

    pub fn anchor(&self, id: &str) -> Option<&Anchor> {
        self.anchor_ids.get(id).map(|i| &self.anchors[i as usize])
    }

    pub fn provider(&self, id: &str) -> Option<&Provider> {
        self.provider_ids.get(id).map(|i| &self.providers[i as usize])
    }

    pub fn session(&self, id: &str) -> Option<&Session> {
        self.session_ids.get(id).map(|i| &self.sessions[i as usize])
    }

    pub fn certified_providers(&self) -> usize {
        self.providers.iter().filter(|p| p.certified_at.is_some()).count()
    }

    pub fn merchants_served(&self) -> usize {
        self.merchants.iter().filter(|m| m.current_provider().is_some()).count()
    }
}

impl State {
    /// "platform", "merchant:ID" or "anchor:ID".
    pub fn party_name(&self, p: Party) -> String {
        p.name(&self.merchant_ids, &self.anchor_ids)
    }

    /// The party a wire name gives (`field` names the command's field in the rejection).
    pub fn parse_party(&self, field: &str, s: &str) -> Result<Party, crate::error::Rejection> {
        Party::parse(&self.merchant_ids, &self.anchor_ids, field, s)
    }

    /// A party as events record it: by id, parsed and checked once, when decided.
    pub fn party_rec(&self, p: Party) -> PartyRec {
        match p {
            Party::Platform => PartyRec::Platform,
            Party::Merchant(m) => PartyRec::Merchant(self.merchant_ids.name(m).to_string()),
            Party::Anchor(a) => PartyRec::Anchor(self.anchor_ids.name(a).to_string()),
        }
    }

    /// The party an event records (applying it looks the id up; nothing is parsed).
    pub fn party_of(&self, p: &PartyRec) -> Result<Party, String> {
        let get = |ids: &Interner, id: &str, what: &str| ids.get(id).ok_or_else(|| format!("unknown {what} `{id}`"));
        Ok(match p {
            PartyRec::Platform => Party::Platform,
            PartyRec::Merchant(m) => Party::Merchant(get(&self.merchant_ids, m, "merchant")?),
            PartyRec::Anchor(a) => Party::Anchor(get(&self.anchor_ids, a, "anchor")?),
        })
    }
}

/// The races look participants, sessions, orders and bindings up here.
impl crate::contest::Tables for State {
    fn find(&self, role: Role, id: &str) -> Option<u32> {
        match role {
            Role::Merchant => self.merchant_ids.get(id),
            Role::Anchor => self.anchor_ids.get(id),
            Role::Provider => self.provider_ids.get(id),
        }
    }

    fn id(&self, p: crate::contest::Pid) -> &str {
        match p.0 {
            Role::Merchant => self.merchant_ids.name(p.1),
            Role::Anchor => self.anchor_ids.name(p.1),
            Role::Provider => self.provider_ids.name(p.1),
        }
    }

    fn anchor_tier(&self, anchor: u32) -> Option<u32> {
        self.anchors.get(anchor as usize).and_then(|a| a.tier)
    }

    fn anchor_merchant(&self, anchor: u32) -> Option<u32> {
        self.anchors[anchor as usize].merchant
    }

    fn session(&self, id: &str) -> Option<(u32, Ts)> {
        let s = &self.sessions[self.session_ids.get(id)? as usize];
        Some((s.anchor, s.start))
    }

    fn order(&self, id: &str) -> Option<crate::contest::Sold> {
        let o = self.orders.get(id)?;
        Some(crate::contest::Sold {
            merchant: o.merchant,
            anchor: o.anchor.get(),
            provider: o.provider.get(),
            session: o.session.get(),
            paid_at: o.at,
            paid_fen: o.paid.0,
        })
    }

    fn bindings(&self, merchant: u32) -> &[(Ts, Option<u32>)] {
        &self.merchants[merchant as usize].bindings
    }
}

/// A settlement reads the races and the ledger here.
impl crate::settle::Books for State {
    fn contests(&self) -> &crate::contest::Contests {
        &self.contests
    }

    fn settlements(&self) -> &crate::settle::Settlements {
        &self.settlement
    }
}
