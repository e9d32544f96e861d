//! Event format 1, frozen: the events and records exactly as format 1 wrote them (the
//! schema of the builds before format 2), and their conversion into today's [`Event`](super::Event).
//! Nothing here may change: every byte of a format 1 log must keep decoding to the same
//! values. The small enums are copied too, so that a change to `kinds` cannot reach
//! format 1.
//!
//! This is the one place that derives what an event did not record, and only for format 1
//! records: where format 1 left a value to `apply`, [`Event::upgrade`] computes it by the
//! rule format 1's `apply` used, from the record and the festival's [`Context`].
//!
//! - `records`: format 1's records and small enums, with their conversions;
//! - here: format 1's `Event` and its upgrade, with the festival's [`Context`].

mod records;

use crate::time::Ts;
pub use records::*;
use serde::{Deserialize, Serialize};

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
