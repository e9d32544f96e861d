//! Parties: who issues a promotion or bears its cost — the platform, a merchant or an
//! anchor — and their names on the wire (`platform`, `merchant:ID`, `anchor:ID`). A leaf
//! module: it knows only the id tables it is given.

use crate::error::{Code, Rejection};
use crate::intern::Interner;
use serde::{Deserialize, Serialize};

/// Who issues a promotion or bears its cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Party {
    Platform,
    Merchant(u32),
    Anchor(u32),
}

impl Party {
    /// "platform", "merchant:ID" or "anchor:ID".
    pub fn name(self, merchants: &Interner, anchors: &Interner) -> String {
        match self {
            Party::Platform => "platform".into(),
            Party::Merchant(m) => format!("merchant:{}", merchants.name(m)),
            Party::Anchor(a) => format!("anchor:{}", anchors.name(a)),
        }
    }

    /// The party a wire name gives, of a registered merchant or anchor; `field` names the
    /// command's field in the rejection.
    pub fn parse(merchants: &Interner, anchors: &Interner, field: &str, s: &str) -> Result<Party, Rejection> {
        let bad = || {
            Rejection::new(
                Code::InvalidValue,
                format!(
                    "`{field}` must be \"platform\", \"merchant:ID\" or \"anchor:ID\" of a registered one, got `{s}`"
                ),
            )
        };
        if s == "platform" {
            return Ok(Party::Platform);
        }
        let (kind, id) = s.split_once(':').ok_or_else(bad)?;
        match kind {
            "merchant" => merchants.get(id).map(Party::Merchant).ok_or_else(bad),
            "anchor" => anchors.get(id).map(Party::Anchor).ok_or_else(bad),
            _ => Err(bad()),
        }
    }
}
