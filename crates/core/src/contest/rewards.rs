//! Reward bands: which band of a reward table an entrant is in, and what its items are
//! worth for the entrant's sales. Settlement pays by these rules and the views show them,
//! so they live here, below both.

use crate::festival::{Band, RewardItem, RewardKind};
use serde::Serialize;

/// One reward item resolved for one entrant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reward {
    pub kind: RewardKind,
    /// Money (cash, 粉条 credit), in fen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount_fen: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impressions: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rebate_bp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// How the amount was computed.
    pub rule: String,
}

/// The band an entrant is in: the first band of the table, in file order, whose rank
/// range holds `rank` or whose `min_value` is at most `value`.
pub fn band_of(bands: &[Band], rank: usize, value: i64) -> Option<usize> {
    bands.iter().position(|b| match (b.rank_from, b.rank_to, b.min_value) {
        (Some(from), Some(to), _) => (from as usize..=to as usize).contains(&rank),
        (_, _, Some(min)) => value >= min,
        _ => false,
    })
}

/// Resolves a band's items for an entrant with `sales_fen` in the window.
pub fn resolve(band: &Band, sales_fen: i64) -> Vec<Reward> {
    band.items.iter().map(|i| resolve_item(i, sales_fen)).collect()
}

/// One item: cash and fixed 粉条 credit pay `amount_fen`; a share credit pays
/// ⌊max(sales, 0) × share_bp / 10000⌋, capped at `cap_fen`.
pub fn resolve_item(i: &RewardItem, sales_fen: i64) -> Reward {
    let mut r = Reward {
        kind: i.kind,
        amount_fen: None,
        impressions: None,
        rebate_bp: None,
        name: i.name.clone(),
        rule: String::new(),
    };
    match i.kind {
        RewardKind::Cash => {
            r.amount_fen = i.amount_fen;
            r.rule = "fixed".into();
        }
        RewardKind::FentiaoCredit => match (i.amount_fen, i.share_bp) {
            (Some(a), _) => {
                r.amount_fen = Some(a);
                r.rule = "fixed".into();
            }
            (None, Some(bp)) => {
                let raw = (sales_fen.max(0) as i128 * bp as i128 / 10_000) as i64;
                let amount = i.cap_fen.map_or(raw, |c| raw.min(c));
                r.amount_fen = Some(amount);
                r.rule = match i.cap_fen {
                    Some(c) => format!("{} × {} bp = {raw} fen, cap {c} fen", sales_fen.max(0), bp),
                    None => format!("{} × {} bp = {raw} fen", sales_fen.max(0), bp),
                };
            }
            (None, None) => r.rule = "no amount".into(),
        },
        RewardKind::TrafficPack => {
            r.impressions = i.impressions;
            r.rule = "fixed".into();
        }
        RewardKind::AdRebate => {
            r.rebate_bp = i.rebate_bp;
            r.rule = "rebate on ad spend".into();
        }
        RewardKind::MainVenueSlot | RewardKind::Pendant | RewardKind::Badge | RewardKind::CustomGameplay => {
            r.rule = "granted".into();
        }
    }
    r
}
