//! The one table of rejection codes. A code is stable once released: clients match on it.
//! Each code has a [`Kind`], so that a service maps kinds, not codes, to its statuses.
//! docs/commands.md lists the same tables (a test compares them).

use serde::Serialize;
use std::fmt;

macro_rules! codes {
    ($($variant:ident => $code:literal, $kind:ident, $meaning:literal;)*) => {
        /// Why a command was rejected. A rejected command changes nothing.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code { $($variant,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code whose machine name is `s`.
            pub fn from_name(s: &str) -> Option<Code> {
                Code::ALL.iter().copied().find(|c| c.as_str() == s)
            }

            /// The stable machine code.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// What the code means, for docs and `dacu codes`.
            pub fn meaning(self) -> &'static str {
                match self { $(Code::$variant => $meaning,)* }
            }

            /// What kind of rejection this is: one status per kind for a service.
            pub fn kind(self) -> Kind {
                match self { $(Code::$variant => Kind::$kind,)* }
            }
        }
    };
}

codes! {
    InvalidJson => "invalid_json", InvalidRequest, "The line is not one JSON object (or is not UTF-8).";
    LineTooLong => "line_too_long", Limit, "The line is longer than 1 MiB (1,048,576 bytes before its newline); it was skipped unread.";
    UnknownCommand => "unknown_command", InvalidRequest, "`type` is missing or names no command.";
    InvalidCommand => "invalid_command", InvalidRequest, "A field is missing, unknown, or of the wrong type for this command.";
    InvalidId => "invalid_id", InvalidRequest, "An id is empty or longer than 128 bytes.";
    InvalidTime => "invalid_time", InvalidRequest, "A time is not RFC 3339 with an offset.";
    InvalidValue => "invalid_value", InvalidRequest, "A number is out of its accepted range (negative, zero where it must be positive, or too large).";
    OutsideFestival => "outside_festival", Refused, "The time is outside the festival (`festival.start` ≤ at < `festival.end`).";
    DuplicateMerchant => "duplicate_merchant", Conflict, "A merchant with this id is already registered.";
    DuplicateAnchor => "duplicate_anchor", Conflict, "An anchor with this id is already registered.";
    DuplicateProvider => "duplicate_provider", Conflict, "A provider with this id is already registered.";
    DuplicateSession => "duplicate_session", Conflict, "A live session with this id already exists.";
    DuplicateOrder => "duplicate_order", Conflict, "An order with this id was already paid.";
    UnknownMerchant => "unknown_merchant", NotFound, "No merchant with this id is registered.";
    UnknownAnchor => "unknown_anchor", NotFound, "No anchor with this id is registered.";
    UnknownProvider => "unknown_provider", NotFound, "No provider with this id is registered.";
    UnknownSession => "unknown_session", NotFound, "No live session with this id was started.";
    UnknownOrder => "unknown_order", NotFound, "No order with this id was paid.";
    UnknownProgram => "unknown_program", NotFound, "The festival file declares no program with this id.";
    UnknownParticipant => "unknown_participant", NotFound, "No participant with this id is registered in a role the program admits.";
    AmbiguousParticipant => "ambiguous_participant", InvalidRequest, "The id is registered in several roles the program admits; give `role`.";
    AlreadyCertified => "already_certified", Conflict, "The provider is already certified.";
    ProviderNotCertified => "provider_not_certified", Refused, "Only certified providers may serve merchants or enrol where certification is required.";
    AlreadyBound => "already_bound", Conflict, "The merchant is already served by this provider.";
    NotBound => "not_bound", Conflict, "The merchant is not served by this provider.";
    RegistrationNotOpen => "registration_not_open", Refused, "Enrolment is before the program's enrolment window opens.";
    RegistrationClosed => "registration_closed", Refused, "Enrolment is at or after the program's enrolment window closes, or an operator closed it early (`set_registration`).";
    NotEligible => "not_eligible", Refused, "The participant's role or tier is not admitted by the program, or the user does not meet a coupon's audience or a red packet's or lottery's eligibility.";
    AlreadyEnrolled => "already_enrolled", Conflict, "The participant is already enrolled in the program.";
    SessionEnded => "session_ended", Conflict, "The live session has ended.";
    SessionNotStarted => "session_not_started", Refused, "The time is before the live session started.";
    AnchorAlreadyLive => "anchor_already_live", Conflict, "The anchor already has a live session that has not ended.";
    ViewerAlreadyInSession => "viewer_already_in_session", Conflict, "The user is already in the live room.";
    ViewerNotInSession => "viewer_not_in_session", Conflict, "The user is not in the live room.";
    SessionRequired => "session_required", InvalidRequest, "Channel \"live\" needs `session`.";
    SessionNotAllowed => "session_not_allowed", InvalidRequest, "Channel \"shelf\" takes no `session`.";
    EmptyOrder => "empty_order", InvalidRequest, "An order needs at least one line (at most 1000).";
    DuplicateSku => "duplicate_sku", InvalidRequest, "A SKU appears on two lines of one order; merge them into one line.";
    PaidExceedsList => "paid_exceeds_list", InvalidRequest, "A line's `paid` exceeds `qty × price`.";
    RefundExceedsRemaining => "refund_exceeds_remaining", Refused, "The refund is more than the order's paid amount not yet refunded.";
    RefundBeforeOrder => "refund_before_order", Refused, "The refund's time is before the order was paid.";
    DuplicateRefund => "duplicate_refund", Conflict, "A refund with this `refund_id` was already applied.";
    IdConflict => "id_conflict", Conflict, "The command `id` was already used by a command of another type.";
    DuplicatePromotion => "duplicate_promotion", Conflict, "A coupon, 满减, price cut, group deal, group, red packet or lottery with this id already exists.";
    UnknownPromotion => "unknown_promotion", NotFound, "No coupon, 满减, group deal, group, red packet or lottery with this id exists.";
    DuplicateCheckout => "duplicate_checkout", Conflict, "A checkout with this id already exists.";
    UnknownCheckout => "unknown_checkout", NotFound, "No checkout with this id exists.";
    PromotionNotActive => "promotion_not_active", Refused, "The time is before the promotion opens (claim window, deal window, red packet countdown).";
    PromotionEnded => "promotion_ended", Refused, "The promotion is over: its claim window closed, its deal ended, its group formed or failed, or its red packet expired.";
    SoldOut => "sold_out", Refused, "No stock left: every coupon was claimed or every red-packet share was grabbed.";
    LimitReached => "limit_reached", Refused, "The user has reached the per-user limit: coupon claims, one grab per red packet, one group per deal.";
    BudgetExhausted => "budget_exhausted", Refused, "The promotion's budget cannot cover this.";
    CheckoutNotOpen => "checkout_not_open", Conflict, "The checkout was already paid, cancelled or timed out.";
    PaymentTimeout => "payment_timeout", Refused, "The payment came after the checkout's payment deadline.";
    UnknownContest => "unknown_contest", NotFound, "The festival file declares no contest with this id that the command can use.";
    DuplicateViolation => "duplicate_violation", Conflict, "A violation with this id is already recorded; violation ids are unique.";
    LimitExceeded => "limit_exceeded", Limit, "The command would take a running total past its bound (docs/commands.md, Limits): an order or cart over ¥100,000,000,000, the festival's GMV, a session's watch time, a promotion total or a ledger total over 10^15, or an event over 8 MiB (the log itself takes none over 16 MiB); nothing of it was applied.";
    TooManyIds => "too_many_ids", Capacity, "The table of command ids is at its capacity (docs/festival.md, [capacity]); nothing of the command was applied.";
    TooManyUsers => "too_many_users", Capacity, "The table of users is at its capacity (docs/festival.md, [capacity]); nothing of the command was applied.";
    TooManyParticipants => "too_many_participants", Capacity, "The table of merchants, anchors or providers (each its own capacity) is at its capacity (docs/festival.md, [capacity]); nothing of the command was applied.";
    TooManySessions => "too_many_sessions", Capacity, "The table of live sessions is at its capacity (docs/festival.md, [capacity]); nothing of the command was applied.";
    TooManyViewers => "too_many_viewers", Capacity, "The table of (session, user) pairs of viewers is at its capacity (docs/festival.md, [capacity]); nothing of the command was applied.";
    TooManyOrders => "too_many_orders", Capacity, "The table of orders (paid, or waiting for their group) is at its capacity (docs/festival.md, [capacity]); nothing of the command was applied.";
    TooManyRefunds => "too_many_refunds", Capacity, "The table of refund ids is at its capacity (docs/festival.md, [capacity]); nothing of the command was applied.";
    TooManyProducts => "too_many_products", Capacity, "The table of SKU ids sold in live sessions is at its capacity (docs/festival.md, [capacity]); nothing of the command was applied.";
    TooManyFollows => "too_many_follows", Capacity, "The table of (anchor, user) follows is at its capacity (docs/festival.md, [capacity]); nothing of the command was applied.";
    TooManyPromotions => "too_many_promotions", Capacity, "The table of promotions of one tool (coupons, 满减, price cuts, group deals, red packets or lotteries) is at its capacity (docs/festival.md, [capacity]); nothing of the command was applied.";
    TooManyClaims => "too_many_claims", Capacity, "The table of (coupon, user) pairs holding a coupon is at its capacity (docs/festival.md, [capacity]); nothing of the command was applied.";
    TooManyGroups => "too_many_groups", Capacity, "The table of groups of group deals is at its capacity (docs/festival.md, [capacity]); nothing of the command was applied.";
    TooManyCheckouts => "too_many_checkouts", Capacity, "The table of checkouts is at its capacity (docs/festival.md, [capacity]); nothing of the command was applied.";
    RegistrationUnchanged => "registration_unchanged", Conflict, "Enrolment in the program is already open (or closed) as `set_registration` asks.";
    IdempotencyKeyReused => "idempotency_key_reused", Refused, "The idempotency key was already used for a different request (another body or path); send a new key for a new request.";
    TrafficNotConfigured => "traffic_not_configured", Refused, "The festival file has no `[traffic]` section, so there is no impression supply to serve.";
    UnknownSlot => "unknown_slot", NotFound, "The festival file's `[traffic]` declares no venue slot with this id.";
    UnknownSegment => "unknown_segment", NotFound, "The festival file's `[traffic]` declares no audience segment with this id.";
    TooManyContracts => "too_many_contracts", Capacity, "The table of guaranteed-traffic contracts is at its capacity (docs/festival.md, [capacity]); nothing of the command was applied.";
    Unavailable => "unavailable", Unavailable, "The data directory failed a write and accepts nothing until it is restarted; nothing of this command was applied.";
}

/// The kinds of rejection: what went wrong in terms a transport can act on without
/// knowing every code. docs/commands.md gives the HTTP status a service answers each with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Malformed, out of range or incomplete: refused again whatever the state.
    InvalidRequest,
    /// Names an id that does not exist.
    NotFound,
    /// Clashes with what already happened (a duplicate, already done, a closed record).
    Conflict,
    /// Well formed, but a rule of the festival refuses it (a window, stock, a budget…).
    Refused,
    /// Larger than a bound of the engine.
    Limit,
    /// Would add an entry to a table that is at its capacity.
    Capacity,
    /// The engine accepts nothing for now.
    Unavailable,
}

impl Kind {
    pub const ALL: &'static [Kind] = &[
        Kind::InvalidRequest,
        Kind::NotFound,
        Kind::Conflict,
        Kind::Refused,
        Kind::Limit,
        Kind::Capacity,
        Kind::Unavailable,
    ];

    /// The stable machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::InvalidRequest => "invalid_request",
            Kind::NotFound => "not_found",
            Kind::Conflict => "conflict",
            Kind::Refused => "refused",
            Kind::Limit => "limit",
            Kind::Capacity => "capacity",
            Kind::Unavailable => "unavailable",
        }
    }

    /// What the kind means, for docs and `dacu codes`.
    pub fn meaning(self) -> &'static str {
        match self {
            Kind::InvalidRequest => "The command cannot be understood as sent: malformed, a value out of its range, or incomplete. Sent again unchanged, it is refused again whatever the state.",
            Kind::NotFound => "The command names an id that nothing registered, created or declared (in the state or the festival file).",
            Kind::Conflict => "The command clashes with what already happened: its id is taken, the thing is already done, or the record is in a state that excludes it (an ended session, a closed checkout, a viewer not in the room).",
            Kind::Refused => "The command is well formed and its ids exist, but a rule of the festival refuses it: a time window, eligibility, stock, a per-user limit, a budget, or an amount beyond what remains.",
            Kind::Limit => "The line, or what the command would add, is larger than a bound of the engine (docs/commands.md, Limits). Sent again unchanged, it is refused again.",
            Kind::Capacity => "The command would add an entry (a user, an order, an id, …) to a table that holds as many as the festival's `[capacity]` allows. What is already recorded keeps working; raising the capacity needs a new festival file.",
            Kind::Unavailable => "The engine accepts nothing for now (a write failed); nothing of the command was applied. Send it again after the restart.",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
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

    /// The rows of the markdown table whose header row is `header`, split into cells.
    fn table(page: &str, header: &str) -> Vec<Vec<String>> {
        let start = page.find(header).unwrap_or_else(|| panic!("no table `{header}` in docs/commands.md"));
        page[start..]
            .lines()
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|l| l.trim_matches('|').split(" | ").map(|c| c.trim().to_string()).collect())
            .collect()
    }

    /// docs/commands.md lists every code with its kind and meaning, and every kind, as the
    /// table here has them, in the same order; every kind has a code.
    #[test]
    fn the_docs_list_every_code_and_kind() {
        let page = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/commands.md"))
            .expect("docs/commands.md");
        let want: Vec<Vec<String>> = Code::ALL
            .iter()
            .map(|c| vec![format!("`{c}`"), format!("`{}`", c.kind()), c.meaning().to_string()])
            .collect();
        assert_eq!(table(&page, "| code | kind | meaning |"), want);
        let kinds = table(&page, "| kind | meaning | HTTP status |");
        assert_eq!(kinds.len(), Kind::ALL.len());
        for (row, k) in kinds.iter().zip(Kind::ALL) {
            assert_eq!((&row[0], &row[1]), (&format!("`{k}`"), &k.meaning().to_string()));
            assert!(Code::ALL.iter().any(|c| c.kind() == *k), "no code of kind {k}");
        }
    }
}
