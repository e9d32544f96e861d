//! Events: the durable truth. Each records a fact the engine decided, with every value
//! derived at decision time (tiers, attribution) so that replay never re-derives them.
//! The binary encoding is versioned by the log (dacu-log's codec): a change to any event's
//! fields or variant order needs a new event format there.

use crate::command::{Channel, InteractionKind, Line};
use crate::festival::{BrandTier, Role};
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
}
