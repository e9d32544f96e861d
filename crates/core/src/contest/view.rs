//! Live queries over the races: a board's page (top N, around an entrant, by a list of
//! entrants, after a cursor), and one participant's progress in every race. Rewards are
//! provisional: what the band would pay if the race ended now.

use super::board::Key;
pub use super::rewards::{band_of, resolve, resolve_item, Reward};
use super::{pid_name, tier_of, BoardKey, Contests, Pid, RaceDef, RaceKind, Tally};
use crate::festival::{Band, Festival, Metric, RewardKind, Role};
use crate::state::State;
use crate::time::{Day, Ts};
use serde::Serialize;

/// Where a page of a board starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    /// The first `n` ranks.
    Top(usize),
    /// `n` ranks either side of the entrant.
    Around(String, usize),
    /// These entrants, in rank order.
    Owners(Vec<String>),
    /// `n` ranks after a cursor from an earlier page.
    After(String, usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Upcoming,
    Open,
    Closed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Upcoming => "upcoming",
            Status::Open => "open",
            Status::Closed => "closed",
        }
    }
}

/// What it takes to reach the next band.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// 1-based index of the band in the reward table.
    pub band: usize,
    /// The metric points still needed (0: already there but for the tie-break).
    pub points: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub rank: usize,
    pub id: String,
    pub score: i64,
    pub reached_at: Ts,
    pub sales_fen: i64,
    /// Challenges: this entrant's target and when it reached it on this board.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_fen: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_reached_at: Option<Ts>,
    /// 1-based band index, if the entrant is in one.
    pub band: Option<usize>,
    pub rewards: Vec<Reward>,
    /// Cash and 粉条 credit of `rewards`, in fen.
    pub reward_fen: i64,
    pub next_band: Option<Gap>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unranked {
    pub id: String,
    pub score: i64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BoardPage {
    pub race: String,
    pub kind: RaceKind,
    pub name_zh: String,
    pub name_en: String,
    pub metric: Metric,
    pub start: Ts,
    pub end: Ts,
    pub day: Option<Day>,
    pub group: Option<String>,
    pub status: Status,
    pub as_of: Option<Ts>,
    /// The settlement that closed the board (a challenge closes whole), if one has: its
    /// payouts are then in the ledger and `rewards` stay what the board would pay now.
    pub settled_by: Option<u32>,
    /// Entrants on the board (passing the gates).
    pub ranked: usize,
    pub rows: Vec<Row>,
    /// Owners asked for that are not ranked, with the reason.
    pub unranked: Vec<Unranked>,
    /// Pass to `Page::After` for the next page; None at the end.
    pub next_cursor: Option<String>,
}

/// Why a query could not be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QueryError(pub String);

fn err<T>(s: impl Into<String>) -> Result<T, QueryError> {
    Err(QueryError(s.into()))
}

pub fn cursor_of(k: &Key) -> String {
    format!("{}.{}.{}", k.score, k.at_ms, crate::hex(k.id.as_bytes()))
}

/// A cursor exactly as [`cursor_of`] writes it: decimal numbers without a sign or
/// leading zeros, the id in lowercase hex. Anything else (`+5`, `0A`) is refused rather
/// than read as some other cursor.
fn parse_cursor(s: &str) -> Option<Key> {
    let mut it = s.splitn(3, '.');
    let score = it.next()?.parse().ok()?;
    let at_ms = it.next()?.parse().ok()?;
    let bytes = crate::promo::lottery::unhex(it.next()?)?;
    let key = Key { score, at_ms, id: String::from_utf8(bytes).ok()?.into() };
    (cursor_of(&key) == s).then_some(key)
}

impl Contests {
    pub fn race_index(&self, id: &str) -> Option<usize> {
        self.defs.iter().position(|d| d.id == id)
    }

    /// The window of one board: the race's window, cut to its day for daily races.
    pub fn board_window(&self, ri: usize, key: BoardKey) -> (Ts, Ts) {
        let d = &self.defs[ri];
        match key.0 {
            Some(day) => (d.start.max(Ts::start_of(day)), d.end.min(Ts::start_of(day.next()))),
            None => (d.start, d.end),
        }
    }

    pub fn status(&self, ri: usize, key: BoardKey) -> Status {
        let (start, end) = self.board_window(ri, key);
        match self.now {
            Some(n) if n >= end => Status::Closed,
            Some(n) if n >= start => Status::Open,
            _ => Status::Upcoming,
        }
    }

    /// A daily race's default day: the day of "now", kept inside the window.
    pub fn default_day(&self, ri: usize) -> Option<Day> {
        let d = &self.defs[ri];
        let (a, b) = d.days();
        d.daily.then(|| self.now.map_or(a, |n| n.day()).clamp(a, b))
    }

    /// The board a summary shows for a race: its default board (the whole window, or a
    /// daily race's default day); for a race by category, the category with the most
    /// entrants that day (the lowest on ties). None when the race has no such board yet.
    pub fn shown_board(&self, ri: usize) -> Option<BoardKey> {
        self.find_board(ri, None, None).ok().or_else(|| {
            let day = self.default_day(ri);
            let group = self.races[ri]
                .boards
                .iter()
                .filter(|(k, _)| k.0 == day)
                .max_by_key(|(k, t)| (t.board.len(), std::cmp::Reverse(k.1)))
                .and_then(|(k, _)| k.1);
            group.map(|g| (day, Some(g)))
        })
    }

    /// Resolves a board from a day and a category name.
    pub fn find_board(&self, ri: usize, day: Option<Day>, group: Option<&str>) -> Result<BoardKey, QueryError> {
        let d = &self.defs[ri];
        let day = match (d.daily, day) {
            (false, Some(_)) => return err(format!("`{}` has one board for its whole window; drop the day", d.id)),
            (false, None) => None,
            (true, Some(x)) if d.has_day(x) => Some(x),
            (true, Some(x)) => {
                let (a, b) = d.days();
                return err(format!("`{}` has daily boards from {a} to {b}; {x} is outside", d.id));
            }
            (true, None) => self.default_day(ri),
        };
        let group = match (d.by_category, group) {
            (false, Some(_)) => return err(format!("`{}` has no boards by category; drop the group", d.id)),
            (false, None) => None,
            (true, g) => {
                let known: Vec<&str> = self.races[ri]
                    .boards
                    .keys()
                    .filter_map(|k| k.1)
                    .map(|c| self.categories.name(c))
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                match g.and_then(|g| self.categories.get(g)) {
                    Some(c) => Some(c),
                    None => {
                        return err(format!(
                            "`{}` has a board per category; give one of: {}",
                            d.id,
                            if known.is_empty() { "(none yet)".to_string() } else { known.join(", ") }
                        ))
                    }
                }
            }
        };
        Ok((day, group))
    }

    /// A page of one board.
    pub fn page(
        &self,
        f: &Festival,
        st: &State,
        ri: usize,
        key: BoardKey,
        page: &Page,
    ) -> Result<BoardPage, QueryError> {
        let d = &self.defs[ri];
        let empty = Tally::default();
        let t = self.races[ri].boards.get(&key).unwrap_or(&empty);
        let b = &t.board;
        let mut unranked = Vec::new();
        let (from, to) = match page {
            Page::Top(n) => (0, (*n).min(b.len())),
            Page::Around(id, n) => {
                let Some(p) = super::lookup(st, d.role, id).map(|p| p.1) else {
                    return err(format!("no {} `{id}` is registered", d.role.as_str()));
                };
                match t.recs.get(&p).filter(|r| r.ranked) {
                    Some(r) => {
                        let at = b.rank(&r.key()).expect("ranked records are on the board");
                        // Sizes saturate: `--top 18446744073709551615` means "all of them".
                        (at.saturating_sub(*n), at.saturating_add(*n).saturating_add(1).min(b.len()))
                    }
                    None => {
                        unranked.push(self.unranked(st, ri, t, p));
                        (0, 0)
                    }
                }
            }
            Page::After(c, n) => {
                let Some(k) = parse_cursor(c) else {
                    return err(format!("`{c}` is not a cursor this board gave"));
                };
                let start = b.count_before(&k) + usize::from(b.rank(&k).is_some());
                (start, start.saturating_add(*n).min(b.len()))
            }
            Page::Owners(ids) => {
                let mut ranks = Vec::new();
                for id in ids {
                    let Some(p) = super::lookup(st, d.role, id).map(|p| p.1) else {
                        return err(format!("no {} `{id}` is registered", d.role.as_str()));
                    };
                    match t.recs.get(&p).filter(|r| r.ranked) {
                        Some(r) => ranks.push(b.rank(&r.key()).expect("ranked records are on the board")),
                        None => unranked.push(self.unranked(st, ri, t, p)),
                    }
                }
                ranks.sort_unstable();
                ranks.dedup();
                let rows = ranks.iter().map(|&r| self.row(f, st, ri, t, r, b.nth(r).expect("a rank"))).collect();
                return Ok(self.page_of(f, st, ri, key, t, rows, unranked, None));
            }
        };
        let rows: Vec<Row> = b
            .iter_from(from)
            .take(to.saturating_sub(from))
            .enumerate()
            .map(|(i, k)| self.row(f, st, ri, t, from + i, k))
            .collect();
        let next = (to < b.len() && to > from).then(|| cursor_of(b.nth(to - 1).expect("a rank")));
        Ok(self.page_of(f, st, ri, key, t, rows, unranked, next))
    }

    #[allow(clippy::too_many_arguments, reason = "the inputs of one decision, passed as they are")]
    fn page_of(
        &self,
        f: &Festival,
        st: &State,
        ri: usize,
        key: BoardKey,
        t: &Tally,
        rows: Vec<Row>,
        unranked: Vec<Unranked>,
        next_cursor: Option<String>,
    ) -> BoardPage {
        let d = &self.defs[ri];
        let (name_zh, name_en) = race_names(f, d);
        let (start, end) = self.board_window(ri, key);
        let group = key.1.map(|c| self.categories.name(c).to_string());
        let closed = match d.kind {
            RaceKind::Contest => (d.id.clone(), key.0, group.clone()),
            RaceKind::Challenge => (d.id.clone(), None, None),
        };
        BoardPage {
            race: d.id.clone(),
            kind: d.kind,
            name_zh,
            name_en,
            metric: d.metric,
            start,
            end,
            day: key.0,
            group,
            status: self.status(ri, key),
            as_of: self.now,
            settled_by: st.settlement.closed_by.get(&closed).copied(),
            ranked: t.board.len(),
            rows,
            unranked,
            next_cursor,
        }
    }

    fn unranked(&self, st: &State, ri: usize, t: &Tally, p: u32) -> Unranked {
        let d = &self.defs[ri];
        let reason = self.gate_failure(st, ri, p).unwrap_or_else(|| "no contribution on this board yet".into());
        Unranked { id: pid_name(st, (d.role, p)).to_string(), score: t.recs.get(&p).map_or(0, |r| r.score), reason }
    }

    #[allow(clippy::too_many_arguments, reason = "the inputs of one decision, passed as they are")]
    fn row(&self, f: &Festival, st: &State, ri: usize, t: &Tally, rank0: usize, k: &Key) -> Row {
        let d = &self.defs[ri];
        let p = super::lookup(st, d.role, &k.id).map(|p| p.1).expect("board ids are registered");
        let rec = &t.recs[&p];
        let table = &f.reward_tables[d.reward_table].bands;
        let (band, rewards, next_band, target) = match d.kind {
            RaceKind::Contest => {
                let band = band_of(table, rank0 + 1, rec.score);
                let rewards = band.map(|i| resolve(&table[i], rec.sales)).unwrap_or_default();
                (band.map(|b| b + 1), rewards, next_gap(table, band, rec.score, &t.board), None)
            }
            RaceKind::Challenge => {
                let (band, rewards) = on_board(&self.challenge(f, st, ri, p), rec);
                (band, rewards, None, d.target(tier_of(st, (d.role, p))))
            }
        };
        Row {
            rank: rank0 + 1,
            id: k.id.to_string(),
            score: rec.score,
            reached_at: rec.at,
            sales_fen: rec.sales,
            target_fen: target,
            target_reached_at: rec.reached,
            band,
            reward_fen: money(&rewards),
            rewards,
            next_band: next_band.map(|(b, points)| Gap { band: b + 1, points }),
        }
    }

    /// A challenge for one participant: its value on each board, how many times the target
    /// was reached, its finishing place among those that reached it, and the rewards.
    pub fn challenge(&self, f: &Festival, st: &State, ri: usize, p: u32) -> ChallengeStatus {
        let d = &self.defs[ri];
        let target = d.target(tier_of(st, (d.role, p)));
        let r = &self.races[ri];
        let mut achieved = 0i64;
        let mut first: Option<Ts> = None;
        let mut best = 0i64;
        let mut sales = 0i64;
        for t in r.boards.values() {
            if let Some(rec) = t.recs.get(&p) {
                best = best.max(rec.score);
                sales += rec.sales;
                if let Some(at) = rec.reached {
                    achieved += 1;
                    first = Some(first.map_or(at, |x: Ts| x.min(at)));
                }
            }
        }
        let eligible = self.eligible(st, ri, p);
        // Finishing place: entrants that reached the target earlier (then lower id) go first.
        let place = match (eligible, first) {
            (true, Some(mine)) => {
                let my_id = pid_name(st, (d.role, p));
                let mut firsts: std::collections::BTreeMap<u32, Ts> = Default::default();
                for t in r.boards.values() {
                    for (q, rec) in &t.recs {
                        if let (Some(at), true) = (rec.reached, rec.ranked) {
                            let e = firsts.entry(*q).or_insert(at);
                            *e = (*e).min(at);
                        }
                    }
                }
                let ahead = firsts.iter().filter(|(q, at)| (**at, pid_name(st, (d.role, **q))) < (mine, my_id)).count();
                Some(ahead + 1)
            }
            _ => None,
        };
        let table = &f.reward_tables[d.reward_table].bands;
        let band = if eligible && achieved > 0 { band_of(table, place.unwrap_or(usize::MAX), achieved) } else { None };
        let rewards = band.map(|i| resolve(&table[i], sales)).unwrap_or_default();
        ChallengeStatus {
            target_fen: target,
            best,
            achieved,
            first_reached_at: first,
            place,
            remaining: target.map(|t| (t - best).max(0)),
            band: band.map(|b| b + 1),
            reward_fen: money(&rewards),
            rewards,
        }
    }

    /// One participant in every race of its role.
    pub fn progress(&self, f: &Festival, st: &State, pid: Pid) -> Progress {
        let mut races = Vec::new();
        for (ri, d) in self.defs.iter().enumerate() {
            if d.role != pid.0 {
                continue;
            }
            let r = &self.races[ri];
            let entrant = d.program.is_none() || r.enrolled.contains(&pid.1);
            let challenge = (d.kind == RaceKind::Challenge).then(|| self.challenge(f, st, ri, pid.1));
            let mut boards = Vec::new();
            for (key, t) in &r.boards {
                let Some(rec) = t.recs.get(&pid.1) else { continue };
                let rank0 = rec.ranked.then(|| t.board.rank(&rec.key()).expect("ranked records are on the board"));
                let (band, rewards, gap) = match (d.kind, rank0) {
                    (RaceKind::Contest, Some(r0)) => {
                        let table = &f.reward_tables[d.reward_table].bands;
                        let band = band_of(table, r0 + 1, rec.score);
                        let rewards = band.map(|i| resolve(&table[i], rec.sales)).unwrap_or_default();
                        (band.map(|b| b + 1), rewards, next_gap(table, band, rec.score, &t.board))
                    }
                    (RaceKind::Challenge, _) => {
                        let (band, rewards) = on_board(challenge.as_ref().expect("a challenge"), rec);
                        (band, rewards, None)
                    }
                    _ => (None, Vec::new(), None),
                };
                boards.push(BoardStanding {
                    day: key.0,
                    group: key.1.map(|c| self.categories.name(c).to_string()),
                    status: self.status(ri, *key),
                    rank: rank0.map(|r| r + 1),
                    of: t.board.len(),
                    score: rec.score,
                    reached_at: rec.at,
                    sales_fen: rec.sales,
                    band,
                    reward_fen: money(&rewards),
                    rewards,
                    next_band: gap.map(|(b, points)| Gap { band: b + 1, points }),
                });
            }
            let (name_zh, name_en) = race_names(f, d);
            races.push(RaceProgress {
                race: d.id.clone(),
                kind: d.kind,
                name_zh,
                name_en,
                metric: d.metric,
                entrant,
                not_ranked: self.gate_failure(st, ri, pid.1),
                baseline_fen: d.growth.map(|_| self.baseline(ri, pid.1)),
                boards,
                challenge,
            });
        }
        let mut heat: Vec<HeatStanding> = self
            .heat
            .iter()
            .filter(|((p, _), _)| *p == pid)
            .map(|((_, day), h)| HeatStanding {
                day: *day,
                heat: h.heat,
                gmv_fen: h.gmv.iter().map(|(_, g)| g).sum(),
                live_minutes: h.live_ms / 60_000,
                viewers: h.viewers,
                interactions: h.interactions,
            })
            .collect();
        heat.sort_by_key(|h| h.day);
        Progress {
            participant: pid_name(st, pid).to_string(),
            role: pid.0,
            tier: tier_of(st, pid).map(|t| f.anchor_tiers[t as usize].id.clone()),
            experience_score: self.scores.get(&pid).map(|c| *c as f64 / 100.0),
            violations: self
                .violations
                .iter()
                .filter(|(_, v)| v.participant == pid)
                .map(|(id, v)| ViolationView { id: id.clone(), reason: v.reason.clone(), at: v.at })
                .collect(),
            as_of: self.now,
            heat,
            races,
        }
    }
}

/// A challenge's band and rewards as one of its boards shows them. A challenge pays once,
/// for the whole challenge (its band comes from the entrant's finishing place and the
/// boards on which it reached its target), so a board shows that band and those rewards
/// only where the entrant reached its target on it: a day far below the target shows none.
/// `dacu leaderboard` and `dacu progress` agree by both using this.
fn on_board(c: &ChallengeStatus, rec: &super::Rec) -> (Option<usize>, Vec<Reward>) {
    match rec.reached {
        Some(_) => (c.band, c.rewards.clone()),
        None => (None, Vec::new()),
    }
}

/// A race's names (zh, en) from the festival file.
pub fn race_names(f: &Festival, d: &RaceDef) -> (String, String) {
    match d.kind {
        RaceKind::Contest => (f.contests[d.index].name_zh.clone(), f.contests[d.index].name_en.clone()),
        RaceKind::Challenge => (f.challenges[d.index].name_zh.clone(), f.challenges[d.index].name_en.clone()),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChallengeStatus {
    pub target_fen: Option<i64>,
    /// The best value on one board (the whole window, or the best day).
    pub best: i64,
    /// Boards on which the target is reached now: 0 or 1, or days for a daily challenge.
    pub achieved: i64,
    pub first_reached_at: Option<Ts>,
    /// Finishing place among entrants that reached the target (earliest first).
    pub place: Option<usize>,
    pub remaining: Option<i64>,
    /// 1-based band index, if the entrant is in one.
    pub band: Option<usize>,
    pub rewards: Vec<Reward>,
    pub reward_fen: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BoardStanding {
    pub day: Option<Day>,
    pub group: Option<String>,
    pub status: Status,
    pub rank: Option<usize>,
    pub of: usize,
    pub score: i64,
    pub reached_at: Ts,
    pub sales_fen: i64,
    pub band: Option<usize>,
    pub rewards: Vec<Reward>,
    pub reward_fen: i64,
    pub next_band: Option<Gap>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RaceProgress {
    pub race: String,
    pub kind: RaceKind,
    pub name_zh: String,
    pub name_en: String,
    pub metric: Metric,
    pub entrant: bool,
    /// Why the participant is not ranked, if it is not.
    pub not_ranked: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_fen: Option<i64>,
    pub boards: Vec<BoardStanding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challenge: Option<ChallengeStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeatStanding {
    pub day: Day,
    pub heat: i64,
    pub gmv_fen: i64,
    pub live_minutes: i64,
    pub viewers: u64,
    pub interactions: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ViolationView {
    pub id: String,
    pub reason: String,
    pub at: Ts,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    pub participant: String,
    pub role: Role,
    pub tier: Option<String>,
    pub experience_score: Option<f64>,
    pub violations: Vec<ViolationView>,
    pub as_of: Option<Ts>,
    pub heat: Vec<HeatStanding>,
    pub races: Vec<RaceProgress>,
}

/// The next band up and the points it needs: the band just before the current one in
/// file order (or the last band, for an entrant in none). A rank band needs one point more
/// than the entrant now at its last rank; a threshold band needs its `min_value`.
fn next_gap(bands: &[Band], current: Option<usize>, score: i64, board: &super::board::Board) -> Option<(usize, i64)> {
    let next = match current {
        Some(0) => return None,
        Some(i) => i - 1,
        None => bands.len().checked_sub(1)?,
    };
    let b = &bands[next];
    let points = match (b.rank_to, b.min_value) {
        (Some(to), _) => match board.nth(to as usize - 1) {
            // Scores reach i64::MAX (growth on a zero baseline): saturate, never wrap.
            Some(k) => k.score.saturating_sub(score).saturating_add(1).max(0),
            None => 0,
        },
        (_, Some(min)) => min.saturating_sub(score).max(0),
        _ => return None,
    };
    Some((next, points))
}

fn money(rs: &[Reward]) -> i64 {
    rs.iter()
        .filter(|r| matches!(r.kind, RewardKind::Cash | RewardKind::FentiaoCredit))
        .filter_map(|r| r.amount_fen)
        .sum()
}
