//! Events: the durable truth. Each records a fact the engine decided, with every value
//! derived at decision time (tiers, attribution) so that replay never re-derives them.
//! The binary encoding is versioned by the log (dacu-log's codec): a change to any event's
//! fields or variant order needs a new event format there.

use crate::command::{self as cmd, Channel, InteractionKind, Line};
use crate::festival::{BrandTier, Role};
use crate::market::{Quote, ReleaseReason};
use crate::time::Ts;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
// Externally tagged, and no skipped fields: the binary log format (postcard) is not
// self-describing, so every field is always written in declaration order.
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
    /// `anchor` and `provider` are the attribution decided when the order was paid.
    OrderPaid {
        order: String,
        user: String,
        merchant: String,
        channel: Channel,
        session: Option<String>,
        anchor: Option<String>,
        provider: Option<String>,
        self_broadcast: bool,
        lines: Vec<Line>,
        at: Ts,
    },
    Refunded {
        order: String,
        amount: i64,
        at: Ts,
        #[serde(default)]
        refund_id: Option<String>,
    },
    // ---- Issue 5: marketing tools and checkout. Appended only: the variant index is
    // the binary tag. Creation events carry the validated command itself.
    Followed {
        id: String,
        anchor: String,
        user: String,
        at: Ts,
    },
    /// A comment with text (an `interaction` of kind comment that carried `text`).
    Commented {
        session: String,
        user: String,
        text: String,
        at: Ts,
    },
    CouponCreated(cmd::CreateCoupon),
    /// `from`..`until` is the held coupon's validity, decided at the claim.
    CouponClaimed {
        id: String,
        coupon: String,
        user: String,
        from: Ts,
        until: Ts,
        at: Ts,
    },
    FullcutCreated(cmd::CreateFullcut),
    PriceCutCreated(cmd::CreatePriceCut),
    GroupDealCreated(cmd::CreateGroupDeal),
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
    /// Followed by one `OrderPaid` per member.
    GroupFormed {
        group: String,
        at: Ts,
    },
    /// Every member's payment goes back; nothing counted toward GMV.
    GroupFailed {
        group: String,
        refunded: i64,
        at: Ts,
    },
    /// A packet split by a seed (given, or derived from its id by builds before
    /// `red_packet_committed`).
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
        def: cmd::CreateLottery,
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
        quote: Quote,
        at: Ts,
    },
    /// Followed by one `OrderPaid` per merchant of the cart.
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
    /// After a `Refunded` of a checkout's order: what each discount gives back
    /// (`returns[i]` for the checkout's discount i) and the wallet coupons restored.
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
    /// A command of the original set sent with an `id`: recorded so that a resend is
    /// recognised. Precedes that command's own events.
    Identified {
        id: String,
        command: String,
    },
    // ---- Issue 6: contest inputs.
    /// A shopping-experience score, in hundredths (4.30 → 430).
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
    /// A growth contest's baseline for one entrant, replacing the computed one.
    BaselineLoaded {
        id: String,
        contest: String,
        participant: String,
        baseline_fen: i64,
        at: Ts,
    },
    // ---- Issue 7: settlement.
    /// A settlement: the boards and programs it closed and its ledger lines, decided in
    /// full so that replay never recomputes a payout.
    Settled {
        id: String,
        at: Ts,
        boards: Vec<crate::settle::ClosedBoard>,
        programs: Vec<String>,
        lines: Vec<crate::settle::Line>,
    },
    // Red packets by commit and reveal.
    /// A packet split by the seed derived from `secret` (lowercase hex), with `commitment`
    /// = hex(SHA-256(secret)) published from the start; views reveal the secret only once
    /// the packet is finished. `def.seed` is `None`. docs/red-packets.md.
    RedPacketCommitted {
        def: RedPacketDef,
        seed: u64,
        commitment: String,
        secret: String,
    },
    // Operators.
    /// An operator closed enrolment in `program` early (`open` false) or opened it again
    /// (`open` true), within the window the festival file gives it.
    RegistrationSet {
        id: String,
        program: String,
        open: bool,
        at: Ts,
    },
    // Services.
    /// A service answered a request sent with an idempotency key: the outcome of each of
    /// its commands, remembered until `expires_at` (docs/api.md, "Idempotency"). `key` is
    /// scoped by the service (it names the caller). Follows the request's own events.
    KeyRecorded {
        key: String,
        fingerprint: String,
        outcomes: Vec<crate::idempotency::KeyOutcome>,
        expires_at: Ts,
        at: Ts,
    },
}

/// A red packet as its creation events record it: the fields of `create_red_packet`
/// before the command took `secret`, in that order — frozen, since event format 1 writes
/// them by position (log.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedPacketDef {
    pub id: String,
    pub packet: String,
    pub session: String,
    pub issuer: String,
    pub total: i64,
    pub count: i64,
    pub split: crate::promo::redpacket::Method,
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

impl From<&cmd::CreateRedPacket> for RedPacketDef {
    fn from(k: &cmd::CreateRedPacket) -> RedPacketDef {
        RedPacketDef {
            id: k.id.clone(),
            packet: k.packet.clone(),
            session: k.session.clone(),
            issuer: k.issuer.clone(),
            total: k.total,
            count: k.count,
            split: k.split,
            seed: k.seed,
            followers_only: k.followers_only,
            passphrase: k.passphrase.clone(),
            min_watch_s: k.min_watch_s,
            opens_at: k.opens_at,
            expires_at: k.expires_at,
            usable_merchant: k.usable_merchant.clone(),
            use_until: k.use_until,
            at: k.at,
        }
    }
}

/// An event's size in the log's encoding: one format byte, then the event in postcard
/// ([`crate::limits::EVENT_BYTES`] bounds it).
pub fn encoded_bytes(ev: &Event) -> usize {
    1 + postcard::experimental::serialized_size(ev).expect("events serialise")
}
