//! Settlement (结算): closing the boards, challenges and programs whose windows have
//! ended, paying each entrant what its reward band says, within the tracks' budgets, and
//! clawing back what later refunds and violations take away. docs/settlement.md defines
//! every rule here.
//!
//! `plan` decides a settlement from the state (pure, deterministic); its result is
//! recorded whole in `Settled` events ([`parts`] splits a large one), and
//! `Settlements::apply` folds them in without recomputing anything, so replay gives the
//! same ledger bit for bit.

pub mod ledger;
pub mod parts;
pub mod view;

use crate::contest::rewards::{band_of, resolve_item};
use crate::contest::{lookup, pid_name, tier_of, BoardKey, Contests, RaceDef, RaceKind, Tables};
use crate::event as ev;
use crate::festival::{Band, Festival, RewardKind, Role};
pub use crate::kinds::LineKind;
use crate::time::{Day, Ts};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Ledger lines per `Settled` event, at most ([`parts`] also keeps each event within
/// [`crate::limits::SETTLED_PART_BYTES`]).
pub const LINES_PER_EVENT: usize = crate::limits::SETTLED_PART_LINES;

/// The unit of a reward item's quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Money: cash and 粉条 credit. Only money counts against a track's budget.
    Fen,
    /// Traffic packs.
    Impressions,
    /// Ad rebates: a rate on future ad spend.
    Bp,
    /// A slot, pendant, badge or gameplay: 1 granted, 0 revoked.
    Grant,
}

impl Unit {
    pub fn of(kind: RewardKind) -> Unit {
        match kind {
            RewardKind::Cash | RewardKind::FentiaoCredit => Unit::Fen,
            RewardKind::TrafficPack => Unit::Impressions,
            RewardKind::AdRebate => Unit::Bp,
            RewardKind::MainVenueSlot | RewardKind::Pendant | RewardKind::Badge | RewardKind::CustomGameplay => {
                Unit::Grant
            }
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Fen => "fen",
            Unit::Impressions => "impressions",
            Unit::Bp => "bp",
            Unit::Grant => "grant",
        }
    }
}

pub fn kind_str(k: RewardKind) -> &'static str {
    match k {
        RewardKind::Cash => "cash",
        RewardKind::FentiaoCredit => "fentiao_credit",
        RewardKind::TrafficPack => "traffic_pack",
        RewardKind::MainVenueSlot => "main_venue_slot",
        RewardKind::Pendant => "pendant",
        RewardKind::Badge => "badge",
        RewardKind::AdRebate => "ad_rebate",
        RewardKind::CustomGameplay => "custom_gameplay",
    }
}

/// One ledger line: one reward item of one payout, at one settlement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// The settlement (1, 2, …).
    pub settlement: u32,
    pub payout: String,
    pub kind: LineKind,
    pub race: String,
    pub day: Option<Day>,
    pub group: Option<String>,
    pub participant: String,
    pub role: Role,
    pub track: String,
    pub item: RewardKind,
    pub name: Option<String>,
    /// Rank on the board (contests) or finishing place (challenges) used for the band.
    pub rank: Option<u64>,
    /// The metric value: the board's score, or a challenge's best value.
    pub value: i64,
    /// 1-based band of the reward table.
    pub band: Option<u32>,
    /// What the rules entitle the entrant to, in the item's unit, before budget scaling.
    pub claim: i64,
    /// What this line grants (+) or takes back (−), in the item's unit.
    pub amount: i64,
    /// Budget scaling of an award: the track's remaining budget and the claims it had to
    /// cover (amount = the claim's largest-remainder share of `remaining`).
    pub scale: Option<(i64, i64)>,
    /// How the band and the amount were found, in words.
    pub rule: String,
}

/// A board (or a whole challenge) a settlement closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedBoard {
    pub race: String,
    pub day: Option<Day>,
    pub group: Option<String>,
    /// Entrants ranked (contests) or that reached the target (challenges) at closing.
    pub ranked: u64,
    /// Contests: the board's order at closing, down to one past the last rank band, as
    /// (participant, score, time reached). A later settlement re-ranks an entrant against
    /// it, so entrants that arrive late never push settled ones down.
    pub frozen: Vec<(String, i64, Ts)>,
}

// A settlement's boards and lines as `settled` records them (crate::event's records),
// and back.

impl From<&ClosedBoard> for ev::ClosedBoardRec {
    fn from(b: &ClosedBoard) -> ev::ClosedBoardRec {
        ev::ClosedBoardRec {
            race: b.race.clone(),
            day: b.day,
            group: b.group.clone(),
            ranked: b.ranked,
            frozen: b.frozen.clone(),
        }
    }
}

impl From<&ev::ClosedBoardRec> for ClosedBoard {
    fn from(b: &ev::ClosedBoardRec) -> ClosedBoard {
        ClosedBoard {
            race: b.race.clone(),
            day: b.day,
            group: b.group.clone(),
            ranked: b.ranked,
            frozen: b.frozen.clone(),
        }
    }
}

impl From<&Line> for ev::LedgerLineRec {
    fn from(l: &Line) -> ev::LedgerLineRec {
        ev::LedgerLineRec {
            settlement: l.settlement,
            payout: l.payout.clone(),
            kind: l.kind,
            race: l.race.clone(),
            day: l.day,
            group: l.group.clone(),
            participant: l.participant.clone(),
            role: l.role,
            track: l.track.clone(),
            item: l.item,
            name: l.name.clone(),
            rank: l.rank,
            value: l.value,
            band: l.band,
            claim: l.claim,
            amount: l.amount,
            scale: l.scale,
            rule: l.rule.clone(),
        }
    }
}

impl From<&ev::LedgerLineRec> for Line {
    fn from(l: &ev::LedgerLineRec) -> Line {
        Line {
            settlement: l.settlement,
            payout: l.payout.clone(),
            kind: l.kind,
            race: l.race.clone(),
            day: l.day,
            group: l.group.clone(),
            participant: l.participant.clone(),
            role: l.role,
            track: l.track.clone(),
            item: l.item,
            name: l.name.clone(),
            rank: l.rank,
            value: l.value,
            band: l.band,
            claim: l.claim,
            amount: l.amount,
            scale: l.scale,
            rule: l.rule.clone(),
        }
    }
}

/// What one payout has been granted of one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub item: RewardKind,
    pub name: Option<String>,
    /// The entitlement as last settled (before scaling).
    pub claim: i64,
    /// Net granted: awards less clawbacks.
    pub granted: i64,
}

/// An entrant's reward from one board (contests) or one challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payout {
    pub race: String,
    pub day: Option<Day>,
    pub group: Option<String>,
    pub participant: String,
    pub role: Role,
    pub track: String,
    /// The rank or place it was settled at.
    pub rank: Option<u64>,
    pub grants: Vec<Grant>,
    /// Indexes of its ledger lines.
    pub lines: Vec<u32>,
}

impl Payout {
    pub fn granted_fen(&self) -> i64 {
        self.grants.iter().filter(|g| Unit::of(g.item) == Unit::Fen).map(|g| g.granted).sum()
    }
}

/// One settlement run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    pub n: u32,
    pub id: String,
    pub at: Ts,
    pub boards: u64,
    pub programs: Vec<String>,
    pub first_line: u32,
    pub lines: u32,
    pub awarded_fen: i64,
    pub clawed_back_fen: i64,
}

/// Everything settlement keeps: the ledger and what it has closed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Settlements {
    pub runs: Vec<Run>,
    pub lines: Vec<Line>,
    pub payouts: BTreeMap<String, Payout>,
    /// Closed boards by (race, day, group); a challenge closes as (race, None, None).
    pub boards: BTreeMap<(String, Option<Day>, Option<String>), ClosedBoard>,
    /// The settlement that closed each board.
    pub closed_by: BTreeMap<(String, Option<Day>, Option<String>), u32>,
    /// Closed programs → the settlement that closed them.
    pub programs: BTreeMap<String, u32>,
    /// Net money granted per track, in fen.
    pub paid_fen: BTreeMap<String, i64>,
}

/// What a settlement reads: the races, the ledger so far, and the tables the races look
/// participants up in. [`crate::state::State`] answers it.
pub trait Books: Tables {
    fn contests(&self) -> &Contests;
    fn settlements(&self) -> &Settlements;
}

/// A payout's id: `RACE[@DAY][#GROUP]:PARTICIPANT`.
pub fn payout_id(race: &str, day: Option<Day>, group: Option<&str>, participant: &str) -> String {
    let mut s = race.to_string();
    if let Some(d) = day {
        s += &format!("@{d}");
    }
    if let Some(g) = group {
        s += &format!("#{g}");
    }
    s + ":" + participant
}

/// What a settlement would do now: the boards and programs it closes and its ledger lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub boards: Vec<ClosedBoard>,
    pub programs: Vec<String>,
    pub lines: Vec<Line>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.boards.is_empty() && self.programs.is_empty() && self.lines.is_empty()
    }
}

/// The end of a program's window: its phase's end, else the latest end of the contests
/// and challenges of the program, else the festival's end.
pub fn program_end(f: &Festival, defs: &[RaceDef], program: &str) -> Ts {
    let p = f.programs.iter().find(|p| p.id == program);
    if let Some(ph) = p.and_then(|p| p.phase.as_deref()).and_then(|ph| f.phases.iter().find(|x| x.id == ph)) {
        return ph.end.0;
    }
    defs.iter().filter(|d| d.program.as_deref() == Some(program)).map(|d| d.end).max().unwrap_or(f.end())
}

/// The last rank a table's rank bands reach (0 when it has none), and whether it has
/// threshold bands.
fn table_reach(bands: &[Band]) -> (u64, bool) {
    let last = bands.iter().filter_map(|b| b.rank_to).max().unwrap_or(0).max(0) as u64;
    (last, bands.iter().any(|b| b.min_value.is_some() && b.rank_to.is_none()))
}

fn band_words(bands: &[Band], i: usize) -> String {
    let b = &bands[i];
    match (b.rank_from, b.rank_to, b.min_value) {
        (Some(a), Some(z), _) if a == z => format!("band {} (rank {a})", i + 1),
        (Some(a), Some(z), _) => format!("band {} (ranks {a}–{z})", i + 1),
        (_, _, Some(m)) => format!("band {} (value ≥ {m})", i + 1),
        _ => format!("band {}", i + 1),
    }
}

/// One resolved item of an entitlement.
#[derive(Debug, Clone)]
struct Item {
    item: RewardKind,
    name: Option<String>,
    qty: i64,
    rule: String,
}

/// What an entrant is entitled to from a band, item by item (items of one kind and name
/// add up), skipping items worth nothing.
fn items(band: &Band, sales_fen: i64) -> Vec<Item> {
    let mut out: Vec<Item> = Vec::new();
    for it in &band.items {
        let r = resolve_item(it, sales_fen);
        let qty = match Unit::of(it.kind) {
            Unit::Fen => r.amount_fen.unwrap_or(0),
            Unit::Impressions => r.impressions.unwrap_or(0),
            Unit::Bp => r.rebate_bp.unwrap_or(0),
            Unit::Grant => 1,
        };
        if qty <= 0 {
            continue;
        }
        match out.iter_mut().find(|x| x.item == it.kind && x.name == it.name) {
            Some(x) => {
                x.qty += qty;
                x.rule += &format!(" + {}", r.rule);
            }
            None => out.push(Item { item: it.kind, name: it.name.clone(), qty, rule: r.rule }),
        }
    }
    out
}

/// One entrant's standing in a challenge.
#[derive(Debug, Clone, Copy, Default)]
struct ChallengeRec {
    best: i64,
    achieved: i64,
    first: Option<Ts>,
    sales: i64,
}

fn challenge_recs(st: &dyn Books, ri: usize) -> BTreeMap<u32, ChallengeRec> {
    let mut out: BTreeMap<u32, ChallengeRec> = BTreeMap::new();
    for t in st.contests().races[ri].boards.values() {
        for (p, rec) in &t.recs {
            let c = out.entry(*p).or_default();
            c.best = c.best.max(rec.score);
            c.sales += rec.sales;
            if let Some(at) = rec.reached {
                c.achieved += 1;
                c.first = Some(c.first.map_or(at, |x| x.min(at)));
            }
        }
    }
    out
}

struct Planner<'a> {
    f: &'a Festival,
    st: &'a dyn Books,
    n: u32,
    plan: Plan,
    /// Challenge standings by race, computed once per settlement.
    challenges: BTreeMap<usize, BTreeMap<u32, ChallengeRec>>,
}

impl Planner<'_> {
    #[allow(clippy::too_many_arguments, reason = "the inputs of one decision, passed as they are")]
    fn award(
        &mut self,
        d: &RaceDef,
        key: (Option<Day>, Option<&str>),
        p: u32,
        rank: Option<u64>,
        value: i64,
        band: usize,
        band_rule: &str,
        sales: i64,
    ) {
        let bands = &self.f.reward_tables[d.reward_table].bands;
        let participant = pid_name(self.st, (d.role, p)).to_string();
        let payout = payout_id(&d.id, key.0, key.1, &participant);
        for it in items(&bands[band], sales) {
            self.plan.lines.push(Line {
                settlement: self.n,
                payout: payout.clone(),
                kind: LineKind::Award,
                race: d.id.clone(),
                day: key.0,
                group: key.1.map(str::to_string),
                participant: participant.clone(),
                role: d.role,
                track: d.track.clone(),
                item: it.item,
                name: it.name,
                rank,
                value,
                band: Some(band as u32 + 1),
                claim: it.qty,
                amount: it.qty,
                scale: None,
                rule: format!("{band_rule} → {}; {}", band_words(bands, band), it.rule),
            });
        }
    }

    /// Contest boards whose window has ended by `at` and that no settlement closed yet.
    fn close_contest(&mut self, ri: usize, at: Ts) {
        let (f, st) = (self.f, self.st);
        let c = st.contests();
        let d = &c.defs[ri];
        let bands = &f.reward_tables[d.reward_table].bands;
        let (last_rank, thresholds) = table_reach(bands);
        // By day, then category id (not the order categories were first seen in): the
        // order of the award lines decides who gets a budget's leftover fen.
        let mut boards: Vec<(&BoardKey, &crate::contest::Tally)> = c.races[ri].boards.iter().collect();
        boards.sort_by_key(|(k, _)| (k.0, k.1.map(|g| c.categories.name(g))));
        for (key, t) in boards {
            let (_, end) = c.board_window(ri, *key);
            let group = key.1.map(|g| c.categories.name(g).to_string());
            if end > at || st.settlements().boards.contains_key(&(d.id.clone(), key.0, group.clone())) {
                continue;
            }
            let n = t.board.len() as u64;
            let frozen_len = (last_rank + 1).min(n) as usize;
            let frozen: Vec<(String, i64, Ts)> =
                t.board.iter().take(frozen_len).map(|k| (k.id.to_string(), k.score, Ts(k.at_ms))).collect();
            self.plan.boards.push(ClosedBoard {
                race: d.id.clone(),
                day: key.0,
                group: group.clone(),
                ranked: n,
                frozen,
            });
            let upto = if thresholds { n } else { last_rank.min(n) };
            for (r0, k) in t.board.iter().take(upto as usize).enumerate() {
                let rank = r0 as u64 + 1;
                let Some(band) = band_of(bands, rank as usize, k.score) else { continue };
                let (_, p) = lookup(st, d.role, &k.id).expect("board ids are registered");
                let sales = t.recs[&p].sales;
                let rule = format!("rank {rank} of {n}, score {}", k.score);
                self.award(d, (key.0, group.as_deref()), p, Some(rank), k.score, band, &rule, sales);
            }
        }
    }

    /// A challenge whose window has ended by `at`, if no settlement closed it yet.
    fn close_challenge(&mut self, ri: usize, at: Ts) {
        let (f, st) = (self.f, self.st);
        let c = st.contests();
        let d = &c.defs[ri];
        if d.end > at || st.settlements().boards.contains_key(&(d.id.clone(), None, None)) {
            return;
        }
        let bands = &f.reward_tables[d.reward_table].bands;
        let recs = challenge_recs(st, ri);
        // Finishing order among eligible entrants that reached the target: earliest first,
        // then lower id.
        let mut finishers: Vec<(Ts, &str, u32)> = recs
            .iter()
            .filter(|(p, r)| r.achieved > 0 && c.eligible(st, ri, **p))
            .map(|(p, r)| (r.first.expect("reached"), pid_name(st, (d.role, *p)), *p))
            .collect();
        finishers.sort_unstable();
        self.plan.boards.push(ClosedBoard {
            race: d.id.clone(),
            day: None,
            group: None,
            ranked: finishers.len() as u64,
            frozen: Vec::new(),
        });
        for (i, (_, _, p)) in finishers.iter().enumerate() {
            let r = recs[p];
            let place = i as u64 + 1;
            let Some(band) = band_of(bands, place as usize, r.achieved) else { continue };
            let target = d.target(tier_of(st, (d.role, *p))).unwrap_or(0);
            let rule = format!(
                "place {place} of {}; target {target} reached on {} board(s), best {}",
                finishers.len(),
                r.achieved,
                r.best
            );
            self.award(d, (None, None), *p, Some(place), r.best, band, &rule, r.sales);
        }
    }

    /// What a settled payout's entrant is entitled to now: the band from its current
    /// gates, value and sales, and a rank no better than at closing (docs/settlement.md,
    /// "Clawbacks").
    fn entitlement_now(&mut self, po: &Payout) -> (Option<u64>, i64, Option<usize>, Vec<Item>, String) {
        let (f, st) = (self.f, self.st);
        let c = st.contests();
        let none = (None, 0, None, Vec::new(), String::new());
        let Some(ri) = c.race_index(&po.race) else { return none };
        let d = &c.defs[ri];
        let Some((_, p)) = lookup(st, d.role, &po.participant) else { return none };
        let bands = &f.reward_tables[d.reward_table].bands;
        if let Some(why) = c.gate_failure(st, ri, p) {
            return (None, 0, None, Vec::new(), format!("no longer ranked: {why}"));
        }
        match d.kind {
            RaceKind::Contest => {
                let cat = match &po.group {
                    Some(g) => match c.categories.get(g) {
                        Some(x) => Some(x),
                        None => return none,
                    },
                    None => None,
                };
                let key: BoardKey = (po.day, cat);
                let Some(rec) = c.races[ri].boards.get(&key).and_then(|t| t.recs.get(&p)) else { return none };
                let closed = &st.settlements().boards[&(po.race.clone(), po.day, po.group.clone())];
                let mine = rec.key();
                let ahead = closed
                    .frozen
                    .iter()
                    .filter(|(id, score, t)| {
                        id.as_str() != po.participant
                            && crate::contest::board::Key { score: *score, at_ms: t.0, id: id.as_str().into() } < mine
                    })
                    .count() as u64;
                let rank = (ahead + 1).max(po.rank.unwrap_or(0));
                let band = band_of(bands, rank as usize, rec.score);
                let its = band.map(|b| items(&bands[b], rec.sales)).unwrap_or_default();
                let rule = format!("now rank {rank} (no better than at closing), score {}", rec.score);
                (Some(rank), rec.score, band, its, rule)
            }
            RaceKind::Challenge => {
                let r = self
                    .challenges
                    .entry(ri)
                    .or_insert_with(|| challenge_recs(st, ri))
                    .get(&p)
                    .copied()
                    .unwrap_or_default();
                let place = po.rank.unwrap_or(u64::MAX);
                let band = if r.achieved > 0 { band_of(bands, place as usize, r.achieved) } else { None };
                let its = band.map(|b| items(&bands[b], r.sales)).unwrap_or_default();
                let rule = format!(
                    "place {place} (as at closing); target reached on {} board(s), best {}",
                    r.achieved, r.best
                );
                (Some(place), r.best, band, its, rule)
            }
        }
    }

    fn clawbacks(&mut self) {
        let st = self.st;
        for (id, po) in &st.settlements().payouts {
            let (rank, value, band, now, why) = self.entitlement_now(po);
            for g in &po.grants {
                if g.claim <= 0 {
                    continue;
                }
                let entitled: i64 = now.iter().filter(|x| x.item == g.item && x.name == g.name).map(|x| x.qty).sum();
                let claim = entitled.min(g.claim);
                if claim == g.claim {
                    continue;
                }
                // What stays granted keeps the proportion the award was scaled by.
                let keep = (g.granted as i128 * claim as i128 / g.claim as i128) as i64;
                self.plan.lines.push(Line {
                    settlement: self.n,
                    payout: id.clone(),
                    kind: LineKind::Clawback,
                    race: po.race.clone(),
                    day: po.day,
                    group: po.group.clone(),
                    participant: po.participant.clone(),
                    role: po.role,
                    track: po.track.clone(),
                    item: g.item,
                    name: g.name.clone(),
                    rank,
                    value,
                    band: band.map(|b| b as u32 + 1),
                    claim,
                    amount: keep - g.granted,
                    scale: None,
                    rule: format!(
                        "{why}; entitled to {claim} of the {} settled; keeps ⌊{} × {claim} / {}⌋ = {keep}",
                        g.claim, g.granted, g.claim
                    ),
                });
            }
        }
    }

    /// Scales each track's new money awards to what is left of its budget.
    fn scale(&mut self) {
        let st = self.st;
        for t in &self.f.tracks {
            let paid = st.settlements().paid_fen.get(&t.id).copied().unwrap_or(0);
            let clawed: i64 = self
                .plan
                .lines
                .iter()
                .filter(|l| l.kind == LineKind::Clawback && l.track == t.id && Unit::of(l.item) == Unit::Fen)
                .map(|l| l.amount)
                .sum();
            let remaining = (t.budget_fen - (paid + clawed)).max(0);
            let idx: Vec<usize> = (0..self.plan.lines.len())
                .filter(|&i| {
                    let l = &self.plan.lines[i];
                    l.kind == LineKind::Award && l.track == t.id && Unit::of(l.item) == Unit::Fen
                })
                .collect();
            let claims: Vec<i64> = idx.iter().map(|&i| self.plan.lines[i].claim).collect();
            // In 128 bits: many large claims may add up past 64 (such a settlement is then
            // refused by `check_totals`, but it must first be computed without wrapping).
            let total: i128 = claims.iter().map(|&c| c as i128).sum();
            if total <= remaining as i128 || idx.is_empty() {
                continue;
            }
            let total = i64::try_from(total).unwrap_or(i64::MAX);
            let parts = crate::money::apportion(remaining, &claims).expect("claims are positive");
            for (&i, part) in idx.iter().zip(parts) {
                let l = &mut self.plan.lines[i];
                l.amount = part;
                l.scale = Some((remaining, total));
                l.rule += &format!(
                    "; budget: track `{}` had {remaining} fen left for {total} fen of claims → largest-remainder share {part}",
                    t.id
                );
            }
        }
    }
}

/// Decides settlement number `n` at `at` from the state: clawbacks on what earlier
/// settlements paid, then the boards, challenges and programs whose windows ended by
/// `at`, with new money scaled to each track's remaining budget.
pub fn plan(f: &Festival, st: &dyn Books, at: Ts, n: u32) -> Plan {
    let mut pl = Planner { f, st, n, plan: Plan::default(), challenges: BTreeMap::new() };
    pl.clawbacks();
    for ri in 0..st.contests().defs.len() {
        match st.contests().defs[ri].kind {
            RaceKind::Contest => pl.close_contest(ri, at),
            RaceKind::Challenge => pl.close_challenge(ri, at),
        }
    }
    pl.scale();
    for p in &f.programs {
        if !st.settlements().programs.contains_key(&p.id) && program_end(f, &st.contests().defs, &p.id) <= at {
            pl.plan.programs.push(p.id.clone());
        }
    }
    pl.plan
}

impl Settlements {
    /// Folds in a `Settled` event.
    pub fn apply(
        &mut self,
        id: &str,
        at: Ts,
        boards: &[ev::ClosedBoardRec],
        programs: &[String],
        lines: &[ev::LedgerLineRec],
    ) {
        // A continuation: the next part of the settlement the previous event began.
        let more = self.runs.last().is_some_and(|r| r.id == id && r.at == at);
        if !more {
            self.runs.push(Run {
                n: self.runs.len() as u32 + 1,
                id: id.to_string(),
                at,
                boards: 0,
                programs: Vec::new(),
                first_line: self.lines.len() as u32,
                lines: 0,
                awarded_fen: 0,
                clawed_back_fen: 0,
            });
        }
        let n = self.runs.len() as u32;
        let (mut awarded, mut clawed) = (0i64, 0i64);
        let mut new_boards = 0u64;
        for b in boards {
            let key = (b.race.clone(), b.day, b.group.clone());
            // A board this settlement already closed in an earlier part continues: its
            // frozen order goes on where that part's stopped.
            if more && self.closed_by.get(&key) == Some(&n) {
                if let Some(prev) = self.boards.get_mut(&key) {
                    prev.frozen.extend_from_slice(&b.frozen);
                    continue;
                }
            }
            self.closed_by.insert(key.clone(), n);
            self.boards.insert(key, ClosedBoard::from(b));
            new_boards += 1;
        }
        for p in programs {
            self.programs.insert(p.clone(), n);
        }
        for l in lines {
            let li = self.lines.len() as u32;
            let po = self.payouts.entry(l.payout.clone()).or_insert_with(|| Payout {
                race: l.race.clone(),
                day: l.day,
                group: l.group.clone(),
                participant: l.participant.clone(),
                role: l.role,
                track: l.track.clone(),
                rank: l.rank,
                grants: Vec::new(),
                lines: Vec::new(),
            });
            po.lines.push(li);
            match po.grants.iter_mut().find(|g| g.item == l.item && g.name == l.name) {
                Some(g) => {
                    g.claim = l.claim;
                    g.granted += l.amount;
                }
                None => po.grants.push(Grant { item: l.item, name: l.name.clone(), claim: l.claim, granted: l.amount }),
            }
            if Unit::of(l.item) == Unit::Fen {
                *self.paid_fen.entry(l.track.clone()).or_insert(0) += l.amount;
                match l.kind {
                    LineKind::Award => awarded += l.amount,
                    LineKind::Clawback => clawed -= l.amount,
                }
            }
            self.lines.push(Line::from(l));
        }
        let run = self.runs.last_mut().expect("pushed above");
        run.boards += new_boards;
        run.programs.extend_from_slice(programs);
        run.lines += lines.len() as u32;
        run.awarded_fen += awarded;
        run.clawed_back_fen += clawed;
    }

    /// Net granted per track and unit.
    pub fn granted(&self, track: &str, unit: Unit) -> i64 {
        self.payouts
            .values()
            .filter(|p| p.track == track)
            .flat_map(|p| &p.grants)
            .filter(|g| Unit::of(g.item) == unit)
            .map(|g| g.granted)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: u32, payout: &str, amount: i64) -> ev::LedgerLineRec {
        ev::LedgerLineRec {
            settlement: n,
            payout: payout.into(),
            kind: LineKind::Award,
            race: "r".into(),
            day: None,
            group: None,
            participant: payout.into(),
            role: Role::Anchor,
            track: "t".into(),
            item: RewardKind::Cash,
            name: None,
            rank: Some(1),
            value: 1,
            band: Some(1),
            claim: amount,
            amount,
            scale: None,
            rule: String::new(),
        }
    }

    #[test]
    fn events_of_one_settlement_fold_into_one_run() {
        let mut s = Settlements::default();
        let at = Ts(1);
        s.apply("s1", at, &[], &["p".into()], &[line(1, "a", 5), line(1, "b", 7)]);
        s.apply("s1", at, &[], &[], &[line(1, "c", 11)]);
        s.apply("s2", Ts(2), &[], &[], &[line(2, "d", 13)]);
        assert_eq!(s.runs.len(), 2);
        let r = &s.runs[0];
        assert_eq!((r.n, r.first_line, r.lines, r.awarded_fen), (1, 0, 3, 23));
        assert_eq!(r.programs, ["p"]);
        assert_eq!((s.runs[1].n, s.runs[1].first_line, s.runs[1].lines), (2, 3, 1));
        assert_eq!(s.paid_fen["t"], 36);
        assert_eq!(s.programs["p"], 1);
    }

    #[test]
    fn payout_ids_name_the_board() {
        let d = Day::parse("2021-11-11");
        assert_eq!(payout_id("r", None, None, "a1"), "r:a1");
        assert_eq!(payout_id("r", d, Some("beauty"), "m1"), "r@2021-11-11#beauty:m1");
    }
}
