//! Command ids: every event that a command with an id records keeps that id with the
//! command's type, so that the same command sent again is recognised (accepted, changing
//! nothing) and an id reused by another type is refused. docs/commands.md, "Ids and
//! idempotency".

use super::{check_id, reject, Engine};
use crate::command::{Command, COMMAND_TYPES};
use crate::error::{Code, Rejection};
use crate::event::Event;
use crate::state::State;

impl Engine {
    /// Whether `id` was already used by a command of the same type (a resend: accept it
    /// and change nothing); an id used by another type is refused.
    pub(super) fn seen(&self, c: &Command, id: &str) -> Result<bool, Rejection> {
        check_id("id", id)?;
        match self.state.market.command_ids.get(id) {
            None => Ok(false),
            Some(ty) if ty == c.type_index() => Ok(true),
            Some(ty) => reject(
                Code::IdConflict,
                format!(
                    "command id `{id}` was used by a `{}` command; give each command its own id",
                    COMMAND_TYPES[ty as usize]
                ),
            ),
        }
    }
}

/// Enters the command id an event records, if any, before the event is applied.
pub(super) fn record(st: &mut State, ev: &Event) {
    if let Some((id, ty)) = event_id(ev) {
        st.market.command_ids.insert(id, ty);
    }
}

fn type_index(name: &str) -> Option<u8> {
    COMMAND_TYPES.iter().position(|t| *t == name).map(|i| i as u8)
}

/// The command id an event records, with the index of its command type.
pub(super) fn event_id(ev: &Event) -> Option<(&str, u8)> {
    let (id, ty) = match ev {
        Event::Followed { id, .. } => (id, "follow"),
        Event::CouponCreated(c) => (&c.id, "create_coupon"),
        Event::CouponClaimed { id, .. } => (id, "claim_coupon"),
        Event::FullcutCreated(c) => (&c.id, "create_fullcut"),
        Event::PriceCutCreated(c) => (&c.id, "create_price_cut"),
        Event::GroupDealCreated(c) => (&c.id, "create_group_deal"),
        Event::GroupOpened { id, .. } => (id, "open_group"),
        Event::GroupJoined { id, .. } => (id, "join_group"),
        Event::RedPacketCreated { def, .. } | Event::RedPacketCommitted { def, .. } => (&def.id, "create_red_packet"),
        Event::RedPacketGrabbed { id, .. } => (id, "grab_red_packet"),
        Event::LotteryCreated { def, .. } => (&def.id, "create_lottery"),
        Event::CheckoutReserved { id, .. } => (id, "checkout"),
        Event::CheckoutPaid { id, .. } => (id, "pay"),
        Event::CheckoutReleased { id: Some(id), .. } => (id, "cancel"),
        Event::Ticked { id, .. } => (id, "tick"),
        Event::ExperienceScoreSet { id, .. } => (id, "set_experience_score"),
        Event::ViolationRecorded { id, .. } => (id, "record_violation"),
        Event::BaselineLoaded { id, .. } => (id, "load_baseline"),
        Event::Settled { id, .. } => (id, "settle"),
        Event::RegistrationSet { id, .. } => (id, "set_registration"),
        Event::Identified { id, command } => return Some((id, type_index(command)?)),
        // The original commands record their optional id in an `identified` before their
        // events; a timeout's release and what a command records after its first event
        // carry none.
        Event::MerchantRegistered { .. }
        | Event::AnchorRegistered { .. }
        | Event::ProviderRegistered { .. }
        | Event::ProviderCertified { .. }
        | Event::ProviderBound { .. }
        | Event::ProviderUnbound { .. }
        | Event::Enrolled { .. }
        | Event::LiveStarted { .. }
        | Event::LiveEnded { .. }
        | Event::ViewerEntered { .. }
        | Event::ViewerLeft { .. }
        | Event::Interacted { .. }
        | Event::OrderPaid { .. }
        | Event::Refunded { .. }
        | Event::Commented { .. }
        | Event::GroupFormed { .. }
        | Event::GroupFailed { .. }
        | Event::RedPacketExpired { .. }
        | Event::LotteryDrawn { .. }
        | Event::CheckoutReleased { id: None, .. }
        | Event::DiscountsReturned { .. }
        | Event::KeyRecorded { .. }
        | Event::ContractCreated(_)
        | Event::TrafficPlanned(_)
        | Event::TrafficPlannedShale(_)
        | Event::ImpressionsServed { .. }
        | Event::ContractEnded { .. }
        | Event::PartitionEntry { .. } => return None,
    };
    Some((id, type_index(ty).expect("a command type")))
}
