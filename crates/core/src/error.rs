//! The one table of rejection codes. A code is stable once released: clients match on it.
//! docs/commands.md lists the same table.

use serde::Serialize;
use std::fmt;

macro_rules! codes {
    ($($variant:ident => $code:literal, $meaning:literal;)*) => {
        /// Why a command was rejected. A rejected command changes nothing.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code { $($variant,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable machine code.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// What the code means, for docs and `dacu codes`.
            pub fn meaning(self) -> &'static str {
                match self { $(Code::$variant => $meaning,)* }
            }
        }
    };
}

codes! {
    InvalidJson => "invalid_json", "The line is not one JSON object (or is not UTF-8).";
    LineTooLong => "line_too_long", "The line is longer than 1 MiB (1,048,576 bytes before its newline); it was skipped unread.";
    UnknownCommand => "unknown_command", "`type` is missing or names no command.";
    InvalidCommand => "invalid_command", "A field is missing, unknown, or of the wrong type for this command.";
    InvalidId => "invalid_id", "An id is empty or longer than 128 bytes.";
    InvalidTime => "invalid_time", "A time is not RFC 3339 with an offset.";
    InvalidValue => "invalid_value", "A number is out of its accepted range (negative, zero where it must be positive, or too large).";
    OutsideFestival => "outside_festival", "The time is outside the festival (`festival.start` ≤ at < `festival.end`).";
    DuplicateMerchant => "duplicate_merchant", "A merchant with this id is already registered.";
    DuplicateAnchor => "duplicate_anchor", "An anchor with this id is already registered.";
    DuplicateProvider => "duplicate_provider", "A provider with this id is already registered.";
    DuplicateSession => "duplicate_session", "A live session with this id already exists.";
    DuplicateOrder => "duplicate_order", "An order with this id was already paid.";
    UnknownMerchant => "unknown_merchant", "No merchant with this id is registered.";
    UnknownAnchor => "unknown_anchor", "No anchor with this id is registered.";
    UnknownProvider => "unknown_provider", "No provider with this id is registered.";
    UnknownSession => "unknown_session", "No live session with this id was started.";
    UnknownOrder => "unknown_order", "No order with this id was paid.";
    UnknownProgram => "unknown_program", "The festival file declares no program with this id.";
    UnknownParticipant => "unknown_participant", "No participant with this id is registered in a role the program admits.";
    AmbiguousParticipant => "ambiguous_participant", "The id is registered in several roles the program admits; give `role`.";
    AlreadyCertified => "already_certified", "The provider is already certified.";
    ProviderNotCertified => "provider_not_certified", "Only certified providers may serve merchants or enrol where certification is required.";
    AlreadyBound => "already_bound", "The merchant is already served by this provider.";
    NotBound => "not_bound", "The merchant is not served by this provider.";
    RegistrationNotOpen => "registration_not_open", "Enrolment is before the program's enrolment window opens.";
    RegistrationClosed => "registration_closed", "Enrolment is at or after the program's enrolment window closes.";
    NotEligible => "not_eligible", "The participant's role or tier is not admitted by the program, or the user does not meet a coupon's audience or a red packet's or lottery's eligibility.";
    AlreadyEnrolled => "already_enrolled", "The participant is already enrolled in the program.";
    SessionEnded => "session_ended", "The live session has ended.";
    SessionNotStarted => "session_not_started", "The time is before the live session started.";
    AnchorAlreadyLive => "anchor_already_live", "The anchor already has a live session that has not ended.";
    ViewerAlreadyInSession => "viewer_already_in_session", "The user is already in the live room.";
    ViewerNotInSession => "viewer_not_in_session", "The user is not in the live room.";
    SessionRequired => "session_required", "Channel \"live\" needs `session`.";
    SessionNotAllowed => "session_not_allowed", "Channel \"shelf\" takes no `session`.";
    EmptyOrder => "empty_order", "An order needs at least one line (at most 1000).";
    DuplicateSku => "duplicate_sku", "A SKU appears on two lines of one order; merge them into one line.";
    PaidExceedsList => "paid_exceeds_list", "A line's `paid` exceeds `qty × price`.";
    RefundExceedsRemaining => "refund_exceeds_remaining", "The refund is more than the order's paid amount not yet refunded.";
    RefundBeforeOrder => "refund_before_order", "The refund's time is before the order was paid.";
    DuplicateRefund => "duplicate_refund", "A refund with this `refund_id` was already applied.";
    IdConflict => "id_conflict", "The command `id` was already used by a command of another type.";
    DuplicatePromotion => "duplicate_promotion", "A coupon, 满减, price cut, group deal, group, red packet or lottery with this id already exists.";
    UnknownPromotion => "unknown_promotion", "No coupon, 满减, group deal, group, red packet or lottery with this id exists.";
    DuplicateCheckout => "duplicate_checkout", "A checkout with this id already exists.";
    UnknownCheckout => "unknown_checkout", "No checkout with this id exists.";
    PromotionNotActive => "promotion_not_active", "The time is before the promotion opens (claim window, deal window, red packet countdown).";
    PromotionEnded => "promotion_ended", "The promotion is over: its claim window closed, its deal ended, its group formed or failed, or its red packet expired.";
    SoldOut => "sold_out", "No stock left: every coupon was claimed or every red-packet share was grabbed.";
    LimitReached => "limit_reached", "The user has reached the per-user limit: coupon claims, one grab per red packet, one group per deal.";
    BudgetExhausted => "budget_exhausted", "The promotion's budget cannot cover this.";
    CheckoutNotOpen => "checkout_not_open", "The checkout was already paid, cancelled or timed out.";
    PaymentTimeout => "payment_timeout", "The payment came after the checkout's payment deadline.";
    UnknownContest => "unknown_contest", "The festival file declares no contest with this id that the command can use.";
    DuplicateViolation => "duplicate_violation", "A violation with this id is already recorded; violation ids are unique.";
    LimitExceeded => "limit_exceeded", "The command would take a running total past its bound (docs/commands.md, Limits): an order or cart over ¥100,000,000,000, the festival's GMV, a session's watch time, a promotion total or a ledger total over 10^15, or an event over 8 MiB (the log itself takes none over 16 MiB); nothing of it was applied.";
    Unavailable => "unavailable", "The data directory failed a write and accepts nothing until it is restarted; nothing of this command was applied.";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A rejected command: a stable code and a message saying what would be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("{code}: {message}")]
pub struct Rejection {
    pub code: Code,
    pub message: String,
}

impl Rejection {
    pub fn new(code: Code, message: impl Into<String>) -> Rejection {
        Rejection { code, message: message.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::BTreeSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()), "duplicate code {c}");
            assert!(c.as_str().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
            assert!(!c.meaning().is_empty());
        }
    }
}
