//! Boards merged from the partitions' partials (docs/scale-out.md, "Boards from
//! partials"): a GMV board without replaying any log.
//!
//! Each partition keeps, per race, board and entrant, the figures of the orders it
//! decided: a partial score (counted GMV), the time it last changed, the counted sales,
//! and whether the entrant passes the gates there. A GMV score is a sum of exact integers,
//! so the entrant's score is the sum of its partials; every change of a partial changes
//! the sum, so the time the summed score was reached is the latest of the partials'
//! times; the gates read definitions every partition holds alike, but for the best live
//! session's GMV, which a session's partition holds whole, so an entrant is ranked where
//! any partition ranks it. Sorted as one engine sorts (higher score, then earlier time,
//! then lower id), the merged board is one engine's, entrant for entrant and rank for rank.
//! The one exception: an order of 0 fen that makes an entrant's first record in a
//! partition stamps it with its time though no score changed, so the merged time can be
//! later than one engine's, and a tie between equal scores rank differently.
//!
//! Heat and growth are not sums (a day's heat has thresholds and a cap; growth is a
//! ratio to a baseline), so their boards are not merged here: [`merged`] refuses them.

use dacu_core::contest::BoardKey;
use dacu_core::festival::Metric;
use dacu_core::{Engine, Ts};
use std::collections::BTreeMap;

/// One entrant on a board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub id: String,
    pub score: i64,
    /// When it reached its score: the tie-break.
    pub at: Ts,
    /// Counted sales: the base of share-of-sales rewards.
    pub sales: i64,
}

/// Why a board cannot be merged from partials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotMerged(pub String);

/// The ranked entrants of board `key` of race `race` (an index into the festival's
/// contests, then challenges) over the partitions' engines, in rank order.
pub fn merged(parts: &[&Engine], race: usize, key: BoardKey) -> Result<Vec<Standing>, NotMerged> {
    let Some(first) = parts.first() else { return Ok(Vec::new()) };
    let c = &first.state().contests;
    let def =
        c.defs.get(race).ok_or_else(|| NotMerged(format!("no race {race}: the festival has {}", c.defs.len())))?;
    if def.metric != Metric::Gmv {
        return Err(NotMerged(format!(
            "race `{}` ranks by {:?}, which is not a sum of the partitions' figures: only GMV boards are merged",
            def.id, def.metric
        )));
    }
    // By id: each partition numbers entrants in its own table order, and an id is what
    // every partition shares.
    let mut sum: BTreeMap<&str, (Standing, bool)> = BTreeMap::new();
    for e in parts {
        let Some(tally) = e.state().contests.races.get(race).and_then(|r| r.boards.get(&key)) else { continue };
        for rec in tally.recs.values() {
            let id = rec.id.as_deref().expect("ids are set when a record is made");
            let (s, ranked) = sum
                .entry(id)
                .or_insert_with(|| (Standing { id: id.to_string(), score: 0, at: rec.at, sales: 0 }, false));
            s.score += rec.score;
            s.sales += rec.sales;
            s.at = s.at.max(rec.at);
            *ranked |= rec.ranked;
        }
    }
    let mut out: Vec<Standing> = sum.into_values().filter(|(_, ranked)| *ranked).map(|(s, _)| s).collect();
    out.sort_unstable_by(|a, b| b.score.cmp(&a.score).then(a.at.cmp(&b.at)).then_with(|| a.id.cmp(&b.id)));
    Ok(out)
}

/// The ranked entrants of one engine's board, in rank order: what [`merged`] is checked
/// against.
pub fn of_engine(e: &Engine, race: usize, key: BoardKey) -> Vec<Standing> {
    let st = e.state();
    let Some(tally) = st.contests.races.get(race).and_then(|r| r.boards.get(&key)) else { return Vec::new() };
    let sales: BTreeMap<&str, i64> =
        tally.recs.values().map(|r| (r.id.as_deref().expect("ids are set"), r.sales)).collect();
    tally
        .board
        .iter()
        .map(|k| Standing {
            id: k.id.to_string(),
            score: k.score,
            at: Ts(k.at_ms),
            sales: sales.get(&*k.id).copied().unwrap_or(0),
        })
        .collect()
}
