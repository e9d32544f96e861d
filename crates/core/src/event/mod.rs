//! Events: the durable truth. Each records a fact the engine decided, with every value
//! derived at decision time — parties, the festival file's defaults, tiers, attribution,
//! deadlines, validity windows, a red packet's shares, a lottery's coupon grants — so
//! that applying an event reads only the event and the state earlier events built.
//!
//! The event schema is a leaf of its own: it uses only the leaf modules (`kinds`, `time`)
//! and defines every record an event carries ([`records`]), so that a change to a command
//! or a domain type cannot change the log's format unnoticed. Domain code converts to and
//! from the records. The binary encoding is versioned by the log (dacu-log's codec): a
//! change to any event's fields or variant order needs a new event format there, and a
//! frozen copy of the schema before it, as [`v1`] is of format 1.

pub mod records;
pub mod v1;

pub use records::*;

use crate::kinds::{BrandTier, Channel, InteractionKind, ReleaseReason, Role};
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
        /// The tier its follower count reached, decided at registration.
        tier: Option<AnchorTierRec>,
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
    // ---- Issue 5: marketing tools and checkout. Appended only: the variant index is
    // the binary tag. Creation events carry the tool's definition ([`records`]).
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
    CouponCreated(CouponDef),
    /// `from`..`until` is the held coupon's validity, decided at the claim.
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
        /// Every share in fen, in grab order, split from `seed` at creation; they sum to
        /// `def.total`.
        shares: Vec<i64>,
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
        /// What the prize puts into wallets, decided at the draw. `Format1` only in an
        /// event converted from format 1: the one value apply still derives.
        prize_grants: PrizeGrantsRec,
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
        /// The role the contest ranks.
        role: Role,
        baseline_fen: i64,
        at: Ts,
    },
    // ---- Issue 7: settlement.
    /// A settlement: the boards and programs it closed and its ledger lines, decided in
    /// full so that replay never recomputes a payout.
    Settled {
        id: String,
        at: Ts,
        boards: Vec<ClosedBoardRec>,
        programs: Vec<String>,
        lines: Vec<LedgerLineRec>,
    },
    // Red packets by commit and reveal.
    /// A packet split by the seed derived from `secret` (lowercase hex), with `commitment`
    /// = hex(SHA-256(secret)) published from the start; views reveal the secret only once
    /// the packet is finished. docs/red-packets.md.
    RedPacketCommitted {
        def: RedPacketDef,
        seed: u64,
        commitment: String,
        secret: String,
        /// As in `red_packet_created`.
        shares: Vec<i64>,
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
        outcomes: Vec<KeyOutcomeRec>,
        expires_at: Ts,
        at: Ts,
        /// The festival's `[capacity] keys` when it was decided: recording forgets the
        /// oldest keys beyond it.
        capacity: u64,
    },
    // Guaranteed traffic (docs/traffic.md).
    ContractCreated(ContractRec),
    /// A re-plan: every open contract's share of the supply to come.
    TrafficPlanned(PlanRec),
    /// `count` impression opportunities at `node` (slot × hour × segment) and what each
    /// contract was shown, in planning order; `unsold` were answered with none.
    ImpressionsServed {
        slot: String,
        segment: String,
        node: u32,
        /// The supply hour of `at` (hours since the festival's first).
        hour: u32,
        count: u64,
        served: Vec<(String, u64)>,
        unsold: u64,
        at: Ts,
    },
    /// A contract's window ended: what it got, and where its shortfall went.
    ContractEnded {
        contract: String,
        delivered: u64,
        shortfall: u64,
        /// The make-good contract created for the shortfall (the next event), if any;
        /// otherwise a shortfall is owed.
        make_good: Option<String>,
        at: Ts,
    },
    /// A re-plan made with SHALE (`[traffic] planner = "shale"`): the plan and the prices
    /// that repeat it.
    TrafficPlannedShale(ShalePlanRec),
    /// Where one entry of a partition's log begins (docs/scale-out.md, "Durable
    /// partitions"): the time of the command it records, and for a definition (or a
    /// partition's copy of one) its number among the festival's definitions, counted from
    /// 0. The entry's events follow it. A single writer's log holds none, and applying one
    /// changes nothing but the count of events.
    PartitionEntry {
        at: Option<Ts>,
        definition: Option<u64>,
    },
}

/// An event's size in the log's encoding: one format byte, then the event in postcard
/// ([`crate::limits::EVENT_BYTES`] bounds it).
pub fn encoded_bytes(ev: &Event) -> usize {
    1 + postcard::experimental::serialized_size(ev).expect("events serialise")
}
