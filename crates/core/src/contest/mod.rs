//! Ranking contests (排位赛), challenges (挑战计划) and the heat value (热度值), kept live
//! as events are applied. docs/contests.md defines every rule here.
//!
//! A contest or challenge is a *race*. A race has one *tally* per board: the whole window,
//! or one per festival day (`period = "daily"`), and per merchant category when
//! `group_by = "category"`. A tally holds one record per participant that has contributed
//! (a sale in the window, a heat change, a baseline); the ranked ones — entrants that pass
//! the gates — are also kept in an ordered [`board::Board`].
//!
//! Nothing here reads a clock: the engine calls [`Contests::observe`] after it applies
//! each event, with the event's own time.

pub mod board;
pub mod rewards;
pub mod view;

use crate::event::Event;
use crate::festival::{Festival, Heat, Metric, Period, Role};
use crate::hash::{Map as HashMap, Set as HashSet};
use crate::intern::Interner;
use crate::time::{Day, Ts};
use board::{Board, Key};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

pub use crate::festival::score_hundredths;

/// A participant: its role and its index in that role's table.
pub type Pid = (Role, u32);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RaceKind {
    Contest,
    Challenge,
}

/// A contest or challenge as the festival file declares it, resolved for the engine.
#[derive(Debug, Clone)]
pub struct RaceDef {
    pub kind: RaceKind,
    /// Index in the festival's `contests` or `challenges`.
    pub index: usize,
    pub id: String,
    /// The track whose budget pays its rewards.
    pub track: String,
    pub role: Role,
    pub metric: Metric,
    pub program: Option<String>,
    pub start: Ts,
    pub end: Ts,
    pub daily: bool,
    pub by_category: bool,
    /// Gates: minimum experience score in hundredths, no violations, minimum GMV of one
    /// live session in the window.
    pub min_score_c: Option<i64>,
    pub no_violations: bool,
    pub min_session_fen: Option<i64>,
    /// Growth: baseline window and floor.
    pub growth: Option<(Ts, Ts, i64)>,
    /// Challenge targets: (anchor tier index or None for "all", target).
    pub targets: Vec<(Option<u32>, i64)>,
    pub reward_table: usize,
}

impl RaceDef {
    pub fn in_window(&self, t: Ts) -> bool {
        self.start <= t && t < self.end
    }

    /// The window's festival days: the days from the one holding `start` to the one
    /// holding `end - 1ms`.
    pub fn days(&self) -> (Day, Day) {
        (self.start.day(), self.end.plus_ms(-1).day())
    }

    pub fn has_day(&self, d: Day) -> bool {
        let (a, b) = self.days();
        a <= d && d <= b
    }

    /// The challenge target for a participant of `tier` (an anchor's tier; None for other
    /// roles): its tier's own target, else the "all" target.
    pub fn target(&self, tier: Option<u32>) -> Option<i64> {
        let own = tier.and_then(|t| self.targets.iter().find(|(x, _)| *x == Some(t)));
        own.or_else(|| self.targets.iter().find(|(x, _)| x.is_none())).map(|(_, v)| *v)
    }
}

/// Resolves the festival's contests and challenges (contests first, in file order).
pub fn race_defs(f: &Festival) -> Vec<RaceDef> {
    let role_of = |track: &str| f.tracks.iter().find(|t| t.id == track).map_or(Role::Merchant, |t| t.role);
    let window =
        |phase: &Option<String>, start: Option<crate::festival::When>, end: Option<crate::festival::When>| match phase
            .as_deref()
            .and_then(|p| f.phases.iter().find(|x| x.id == p))
        {
            Some(p) => (p.start.0, p.end.0),
            None => (start.map_or(f.start(), |w| w.0), end.map_or(f.end(), |w| w.0)),
        };
    let table = |id: &str| f.reward_tables.iter().position(|t| t.id == id).unwrap_or(0);
    // What contests and challenges share; each kind then fills in its own rules.
    #[allow(clippy::too_many_arguments, reason = "the inputs of one decision, passed as they are")]
    let base =
        |kind, index, id: &str, track: &str, metric, program: &Option<String>, win, period, reward_table: &str| {
            let (start, end) = win;
            RaceDef {
                kind,
                index,
                id: id.to_string(),
                track: track.to_string(),
                role: role_of(track),
                metric,
                program: program.clone(),
                start,
                end,
                daily: period == Period::Daily,
                by_category: false,
                min_score_c: None,
                no_violations: false,
                min_session_fen: None,
                growth: None,
                targets: Vec::new(),
                reward_table: table(reward_table),
            }
        };
    let mut out = Vec::new();
    for (i, c) in f.contests.iter().enumerate() {
        let win = window(&c.phase, c.start, c.end);
        out.push(RaceDef {
            by_category: c.group_by.as_deref() == Some("category"),
            min_score_c: c.gates.min_experience_score.and_then(score_hundredths),
            no_violations: c.gates.no_violations,
            min_session_fen: c.gates.min_session_gmv_fen,
            growth: c.growth.as_ref().map(|g| (g.baseline_start.0, g.baseline_end.0, g.floor_fen)),
            ..base(RaceKind::Contest, i, &c.id, &c.track, c.metric, &c.program, win, c.period, &c.reward_table)
        });
    }
    for (i, c) in f.challenges.iter().enumerate() {
        let win = window(&c.phase, c.start, c.end);
        out.push(RaceDef {
            targets: c
                .targets
                .iter()
                .map(|t| (f.anchor_tiers.iter().position(|x| x.id == t.tier).map(|x| x as u32), t.target_fen))
                .collect(),
            ..base(RaceKind::Challenge, i, &c.id, &c.track, c.metric, &c.program, win, c.period, &c.reward_table)
        });
    }
    out
}

/// Which board of a race: the festival day (daily races) and the category (grouped races).
pub type BoardKey = (Option<Day>, Option<u32>);

/// One participant's standing on one board.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rec {
    /// The metric: GMV (fen), heat points, or growth (bp).
    pub score: i64,
    /// When the score last changed: the tie-break "who reached it first".
    pub at: Ts,
    /// Counted GMV in the board's window: the base of share-of-sales rewards.
    pub sales: i64,
    /// Growth races: the GMV the provider's merchants made in the window.
    pub window_fen: i64,
    /// Challenges: when the target was reached (cleared if a refund takes it back below).
    pub reached: Option<Ts>,
    /// Whether the record is on the ordered board (an entrant that passes the gates).
    pub ranked: bool,
    #[serde(skip)]
    pub id: Option<Arc<str>>,
}

impl Rec {
    pub fn key(&self) -> Key {
        Key { score: self.score, at_ms: self.at.0, id: self.id.clone().expect("ids are set when a record is made") }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Tally {
    pub recs: HashMap<u32, Rec>,
    #[serde(skip)]
    pub board: Board,
}

impl Tally {
    /// Sets `p`'s score at `at`, moving it on the board if it is ranked: one board update.
    /// A score that does not change keeps its time (the tie-break stays "who reached it
    /// first").
    pub fn set_score(&mut self, p: u32, score: i64, at: Ts) {
        let Some(rec) = self.recs.get_mut(&p) else { return };
        if rec.score == score {
            return;
        }
        if rec.ranked {
            let id = rec.id.as_deref().expect("ids are set when a record is made");
            self.board.rescore(&board::Probe { score: rec.score, at_ms: rec.at.0, id }, score, at.0);
        }
        rec.score = score;
        rec.at = at;
    }

    /// Adds a ranked record (benchmarks and tests build boards this way).
    pub fn insert_ranked(&mut self, p: u32, id: &str, score: i64, at: Ts) {
        let rec = Rec { score, at, sales: 0, window_fen: 0, reached: None, ranked: true, id: Some(id.into()) };
        self.board.insert(rec.key());
        self.recs.insert(p, rec);
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RaceState {
    /// Participants enrolled in the race's program.
    pub enrolled: HashSet<u32>,
    pub boards: BTreeMap<BoardKey, Tally>,
    /// Gate `min_session_gmv_fen`: GMV per participant per session in the window, and
    /// each participant's best session. Keyed by participant first, so that a refund
    /// rescans only its own participant's sessions.
    pub session_fen: HashMap<u32, HashMap<u32, i64>>,
    pub best_session_fen: HashMap<u32, i64>,
    /// Growth races: each merchant's GMV in the baseline window, the merchants each
    /// provider serves in the window, the providers of each merchant, loaded baselines.
    pub base_fen: HashMap<u32, i64>,
    pub served: HashMap<u32, BTreeSet<u32>>,
    pub providers_of: HashMap<u32, Vec<u32>>,
    pub loaded_fen: HashMap<u32, i64>,
}

/// One participant's heat inputs and heat on one festival day.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HeatDay {
    /// Counted GMV by merchant category.
    pub gmv: Vec<(u32, i64)>,
    pub live_ms: i64,
    pub viewers: u64,
    pub interactions: u64,
    pub heat: i64,
}

impl HeatDay {
    /// The day's heat (docs/contests.md, "Heat value").
    pub fn compute(&self, h: &Heat, coef_bp: &[i64]) -> i64 {
        let mut pts: i128 = 0;
        for &(c, g) in &self.gmv {
            let coef = coef_bp.get(c as usize).copied().unwrap_or(h.gmv_coefficient_bp);
            pts += (g as i128 * coef as i128).div_euclid(1_000_000);
        }
        if self.live_ms > 0 && self.live_ms >= h.live_min_minutes * 60_000 {
            pts += h.live_points as i128;
        }
        pts += h.viewer_points_per_100 as i128 * (self.viewers / 100) as i128;
        pts += h.interaction_points_per_100 as i128 * (self.interactions / 100) as i128;
        // A day's heat is capped at limits::HEAT_DAY, so a window's sum of days cannot
        // leave 64 bits whatever the inputs.
        let cap = crate::limits::HEAT_DAY as i128;
        let pts = pts.clamp(-cap, cap) as i64;
        if h.daily_cap > 0 {
            pts.min(h.daily_cap)
        } else {
            pts
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Violation {
    pub participant: Pid,
    pub reason: String,
    pub at: Ts,
}

/// Everything the contests, challenges and heat value keep.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Contests {
    #[serde(skip)]
    pub defs: Vec<RaceDef>,
    #[serde(skip)]
    by_role: [Vec<usize>; 3],
    /// Heat coefficient of each category index.
    #[serde(skip)]
    coef_bp: Vec<i64>,
    pub races: Vec<RaceState>,
    pub heat: HashMap<(Pid, Day), HeatDay>,
    /// Shopping-experience scores in hundredths.
    pub scores: HashMap<Pid, i64>,
    pub violations: BTreeMap<String, Violation>,
    pub violation_count: HashMap<Pid, u32>,
    pub categories: Interner,
    /// Category index of each merchant.
    pub merchant_category: Vec<u32>,
    /// The latest event time applied: "now" for the boards' status.
    pub now: Option<Ts>,
}

fn role_index(r: Role) -> usize {
    match r {
        Role::Merchant => 0,
        Role::Anchor => 1,
        Role::Provider => 2,
    }
}

/// What the races read of the engine's tables, and all they see of them: participants,
/// anchors' tiers and own merchants, sessions, paid orders and provider bindings. The
/// races observe events and look up the rest here; [`crate::state::State`] answers.
pub trait Tables {
    /// A registered participant's index in its role's table.
    fn find(&self, role: Role, id: &str) -> Option<u32>;
    /// A participant's id.
    fn id(&self, p: Pid) -> &str;
    /// An anchor's tier: an index into the festival's anchor tiers.
    fn anchor_tier(&self, anchor: u32) -> Option<u32>;
    /// The merchant whose own account the anchor is (brand self-broadcast).
    fn anchor_merchant(&self, anchor: u32) -> Option<u32>;
    /// A session by id: its anchor and its start.
    fn session(&self, id: &str) -> Option<(u32, Ts)>;
    /// A paid order by id, as the races count it.
    fn order(&self, id: &str) -> Option<Sold>;
    /// A merchant's provider bindings: (from, provider or none), ordered by time.
    fn bindings(&self, merchant: u32) -> &[(Ts, Option<u32>)];
}

/// A paid order as the races count it: who it is attributed to, when it was paid and
/// what was paid (before refunds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sold {
    pub merchant: u32,
    pub anchor: Option<u32>,
    pub provider: Option<u32>,
    pub session: Option<u32>,
    pub paid_at: Ts,
    pub paid_fen: i64,
}

/// The participant's id string.
pub fn pid_name(t: &dyn Tables, p: Pid) -> &str {
    t.id(p)
}

/// Growth in basis points against a floored baseline: ⌊(W − B′) × 10000 / B′⌋ with
/// B′ = max(B, floor).
pub fn growth_bp(window_fen: i64, base_fen: i64, floor_fen: i64) -> i64 {
    let b = base_fen.max(floor_fen).max(1) as i128;
    ((window_fen as i128 - b) * 10_000).div_euclid(b).clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// A sale (or, negative, a refund) as the races see it.
struct Sale {
    /// When the order was paid: which window and day it counts in.
    paid_at: Ts,
    /// When this change happened.
    at: Ts,
    amount: i64,
    session: Option<u32>,
    category: u32,
}

impl Contests {
    /// Resolves the festival's races and rebuilds what snapshots do not hold (the ordered
    /// boards and record ids). Called for a new state and after loading a snapshot.
    pub fn init(&mut self, f: &Festival, names: &dyn Tables) {
        self.defs = race_defs(f);
        self.races.resize_with(self.defs.len(), RaceState::default);
        self.by_role = Default::default();
        for (i, d) in self.defs.iter().enumerate() {
            self.by_role[role_index(d.role)].push(i);
        }
        self.coef_bp = (0..self.categories.len() as u32).map(|c| self.coef_of(f, c)).collect();
        for (d, r) in self.defs.iter().zip(&mut self.races) {
            for t in r.boards.values_mut() {
                t.board = Board::new();
                let mut ids: Vec<(&u32, &mut Rec)> = t.recs.iter_mut().collect();
                ids.sort_by_key(|(p, _)| **p);
                for (p, rec) in ids {
                    rec.id = Some(pid_name(names, (d.role, *p)).into());
                    if rec.ranked {
                        t.board.insert(rec.key());
                    }
                }
            }
        }
    }

    fn coef_of(&self, f: &Festival, c: u32) -> i64 {
        let h = f.heat.as_ref();
        let name = self.categories.name(c);
        h.and_then(|h| h.category_coefficients_bp.get(name).copied()).unwrap_or(h.map_or(0, |h| h.gmv_coefficient_bp))
    }

    /// Whether `p` is an entrant of race `ri` that passes its gates: on the ordered board.
    pub fn eligible(&self, st: &dyn Tables, ri: usize, p: u32) -> bool {
        self.gate_failure(st, ri, p).is_none()
    }

    /// Why `p` is not ranked in race `ri`, or None if it is.
    pub fn gate_failure(&self, st: &dyn Tables, ri: usize, p: u32) -> Option<String> {
        let d = &self.defs[ri];
        let r = &self.races[ri];
        let pid = (d.role, p);
        if let Some(prog) = &d.program {
            if !r.enrolled.contains(&p) {
                return Some(format!("not enrolled in program `{prog}`"));
            }
        }
        if d.kind == RaceKind::Challenge && d.target(tier_of(st, pid)).is_none() {
            return Some("no target for its tier".into());
        }
        if let Some(min) = d.min_score_c {
            match self.scores.get(&pid) {
                None => return Some(format!("no shopping-experience score (needs ≥ {})", hundredths(min))),
                Some(&s) if s < min => {
                    return Some(format!("shopping-experience score {} is below {}", hundredths(s), hundredths(min)))
                }
                _ => {}
            }
        }
        if d.no_violations {
            if let Some(&n) = self.violation_count.get(&pid).filter(|n| **n > 0) {
                return Some(format!("{n} violation(s) recorded"));
            }
        }
        if let Some(min) = d.min_session_fen {
            let best = r.best_session_fen.get(&p).copied().unwrap_or(0);
            if best < min {
                return Some(format!("best live session GMV {best} fen is below {min} fen"));
            }
        }
        // Growth needs sales to grow: a provider whose merchants sold nothing in the window
        // (or had it all refunded) would rank at −100% and could take a band.
        if d.growth.is_some() {
            let w = r.boards.get(&(None, None)).and_then(|t| t.recs.get(&p)).map_or(0, |x| x.window_fen);
            if w <= 0 {
                return Some("the merchants it serves have no counted GMV in the window: no growth to rank".into());
            }
        }
        None
    }

    /// Re-checks `p`'s place on every board of race `ri` after its eligibility may have
    /// changed.
    fn refresh(&mut self, st: &dyn Tables, ri: usize, p: u32) {
        let ok = self.eligible(st, ri, p);
        for t in self.races[ri].boards.values_mut() {
            if let Some(rec) = t.recs.get_mut(&p) {
                if rec.ranked != ok {
                    rec.ranked = ok;
                    if ok {
                        t.board.insert(rec.key());
                    } else {
                        t.board.remove(&rec.key());
                    }
                }
            }
        }
    }

    /// The record of `p` on board `key` of race `ri`, made if missing.
    fn rec(&mut self, st: &dyn Tables, ri: usize, key: BoardKey, p: u32, at: Ts) -> &mut Tally {
        let ranked =
            !self.races[ri].boards.get(&key).is_some_and(|t| t.recs.contains_key(&p)) && self.eligible(st, ri, p);
        let d = &self.defs[ri];
        let role = d.role;
        let initial = match d.growth {
            Some((_, _, floor)) => growth_bp(0, self.baseline(ri, p), floor),
            None => 0,
        };
        let t = self.races[ri].boards.entry(key).or_default();
        if !t.recs.contains_key(&p) {
            let rec = Rec {
                score: initial,
                at,
                sales: 0,
                window_fen: 0,
                reached: None,
                ranked,
                id: Some(pid_name(st, (role, p)).into()),
            };
            if ranked {
                t.board.insert(rec.key());
            }
            t.recs.insert(p, rec);
        }
        t
    }

    /// Sets a record's score, moving it on the board and keeping a challenge's reached time.
    fn set_score(&mut self, st: &dyn Tables, ri: usize, key: BoardKey, p: u32, score: i64, at: Ts) {
        let d = &self.defs[ri];
        let target = if d.kind == RaceKind::Challenge { d.target(tier_of(st, (d.role, p))) } else { None };
        let t = self.races[ri].boards.get_mut(&key).expect("the record exists");
        let rec = t.recs.get_mut(&p).expect("the record exists");
        if let Some(target) = target {
            if score >= target && rec.reached.is_none() {
                rec.reached = Some(at);
            } else if score < target {
                rec.reached = None;
            }
        }
        t.set_score(p, score, at);
    }

    fn board_key(&self, ri: usize, day: Day, category: u32) -> BoardKey {
        let d = &self.defs[ri];
        (d.daily.then_some(day), d.by_category.then_some(category))
    }

    /// The baseline of provider `p` in growth race `ri`: a loaded figure, else the
    /// baseline-window GMV of the merchants it serves in the window.
    pub fn baseline(&self, ri: usize, p: u32) -> i64 {
        let r = &self.races[ri];
        if let Some(&b) = r.loaded_fen.get(&p) {
            return b;
        }
        r.served.get(&p).map_or(0, |ms| ms.iter().map(|m| r.base_fen.get(m).copied().unwrap_or(0)).sum())
    }

    fn rescore_growth(&mut self, st: &dyn Tables, ri: usize, p: u32, at: Ts) {
        let Some((_, _, floor)) = self.defs[ri].growth else { return };
        let key: BoardKey = (None, None);
        let base = self.baseline(ri, p);
        let t = self.rec(st, ri, key, p, at);
        let w = t.recs[&p].window_fen;
        self.set_score(st, ri, key, p, growth_bp(w, base, floor), at);
    }

    fn sale(&mut self, st: &dyn Tables, pid: Pid, s: &Sale) {
        for k in 0..self.by_role[role_index(pid.0)].len() {
            let ri = self.by_role[role_index(pid.0)][k];
            let d = &self.defs[ri];
            let p = pid.1;
            if !d.in_window(s.paid_at) {
                continue;
            }
            let (metric, min_session) = (d.metric, d.min_session_fen);
            let key = self.board_key(ri, s.paid_at.day(), s.category);
            let t = self.rec(st, ri, key, p, s.at);
            let rec = t.recs.get_mut(&p).expect("made");
            rec.sales += s.amount;
            match metric {
                Metric::Gmv => {
                    let score = rec.score + s.amount;
                    self.set_score(st, ri, key, p, score, s.at);
                }
                Metric::GmvGrowth => {
                    let before = rec.window_fen;
                    rec.window_fen += s.amount;
                    let crossed = (before > 0) != (rec.window_fen > 0);
                    self.rescore_growth(st, ri, p, s.at);
                    if crossed {
                        self.refresh(st, ri, p);
                    }
                }
                Metric::Heat => {}
            }
            if let (Some(_), Some(sess)) = (min_session, s.session) {
                let r = &mut self.races[ri];
                let mine = r.session_fen.entry(p).or_default();
                let v = mine.entry(sess).or_insert(0);
                *v += s.amount;
                let best = if s.amount >= 0 {
                    (*v).max(r.best_session_fen.get(&p).copied().unwrap_or(0))
                } else {
                    mine.values().copied().max().unwrap_or(0)
                };
                r.best_session_fen.insert(p, best);
                self.refresh(st, ri, p);
            }
        }
    }

    /// A merchant's sale as a growth race's baseline sees it.
    fn base_sale(&mut self, st: &dyn Tables, m: u32, s: &Sale) {
        for ri in 0..self.defs.len() {
            let Some((bs, be, _)) = self.defs[ri].growth else { continue };
            if !(bs <= s.paid_at && s.paid_at < be) {
                continue;
            }
            *self.races[ri].base_fen.entry(m).or_insert(0) += s.amount;
            let provs = self.races[ri].providers_of.get(&m).cloned().unwrap_or_default();
            for p in provs {
                if !self.races[ri].loaded_fen.contains_key(&p) {
                    self.rescore_growth(st, ri, p, s.at);
                }
            }
        }
    }

    /// Adds to a participant's heat inputs on one day and passes the heat change on.
    fn heat_input(
        &mut self,
        f: &Festival,
        st: &dyn Tables,
        pid: Pid,
        day: Day,
        at: Ts,
        change: impl FnOnce(&mut HeatDay),
    ) {
        let Some(h) = f.heat.as_ref() else { return };
        let hd = self.heat.entry((pid, day)).or_default();
        change(hd);
        let new = hd.compute(h, &self.coef_bp);
        let delta = new - hd.heat;
        hd.heat = new;
        if delta == 0 {
            return;
        }
        for k in 0..self.by_role[role_index(pid.0)].len() {
            let ri = self.by_role[role_index(pid.0)][k];
            let d = &self.defs[ri];
            if d.metric != Metric::Heat || !d.has_day(day) {
                continue;
            }
            let cat = if d.by_category && pid.0 == Role::Merchant {
                self.merchant_category.get(pid.1 as usize).copied().unwrap_or(0)
            } else {
                0
            };
            let key = self.board_key(ri, day, cat);
            let t = self.rec(st, ri, key, pid.1, at);
            let score = t.recs[&pid.1].score + delta;
            self.set_score(st, ri, key, pid.1, score, at);
        }
    }

    fn category(&self, m: u32) -> u32 {
        self.merchant_category.get(m as usize).copied().unwrap_or(0)
    }

    /// Folds one applied event into the races. `new_viewer`: the event is a viewer's first
    /// entry into its session.
    pub fn observe(&mut self, f: &Festival, st: &dyn Tables, ev: &Event, new_viewer: bool) {
        if let Some(at) = event_time(ev) {
            self.now = Some(self.now.map_or(at, |n| n.max(at)));
        }
        match ev {
            Event::MerchantRegistered { category, .. } => {
                let before = self.categories.len();
                let c = self.categories.intern(category);
                if self.categories.len() > before {
                    let coef = self.coef_of(f, c);
                    self.coef_bp.push(coef);
                }
                self.merchant_category.push(c);
            }
            Event::Enrolled { program, participant, role, .. } => {
                let Some((_, p)) = lookup(st, *role, participant) else { return };
                for ri in 0..self.defs.len() {
                    if self.defs[ri].role == *role && self.defs[ri].program.as_deref() == Some(program.as_str()) {
                        self.races[ri].enrolled.insert(p);
                        self.refresh(st, ri, p);
                    }
                }
            }
            Event::OrderPaid { order, at, .. } => {
                if let Some(o) = st.order(order) {
                    self.order_change(f, st, &o, o.paid_fen, *at);
                }
            }
            Event::Refunded { order, amount, at, .. } => {
                if let Some(o) = st.order(order) {
                    self.order_change(f, st, &o, -*amount, *at);
                }
            }
            Event::LiveEnded { session, at } => {
                let Some((anchor, start)) = st.session(session) else { return };
                let mut from = start;
                while from < *at {
                    let day = from.day();
                    let next = Ts::start_of(day.next()).min(*at);
                    let ms = next.0 - from.0;
                    for pid in session_owners(st, anchor) {
                        self.heat_input(f, st, pid, day, *at, |h| h.live_ms += ms);
                    }
                    from = next;
                }
            }
            Event::ViewerEntered { session, at, .. } if new_viewer => {
                let Some((anchor, _)) = st.session(session) else { return };
                for pid in session_owners(st, anchor) {
                    self.heat_input(f, st, pid, at.day(), *at, |h| h.viewers += 1);
                }
            }
            Event::Interacted { session, at, .. } => {
                let Some((anchor, _)) = st.session(session) else { return };
                for pid in session_owners(st, anchor) {
                    self.heat_input(f, st, pid, at.day(), *at, |h| h.interactions += 1);
                }
            }
            Event::ProviderBound { merchant, at, .. } | Event::ProviderUnbound { merchant, at, .. } => {
                if let Some(m) = st.find(Role::Merchant, merchant) {
                    self.rebind(st, m, *at);
                }
            }
            Event::ExperienceScoreSet { participant, role, score_c, .. } => {
                if let Some(pid) = lookup(st, *role, participant) {
                    self.scores.insert(pid, *score_c);
                    self.refresh_all(st, pid);
                }
            }
            Event::ViolationRecorded { violation, participant, role, reason, at, .. } => {
                if let Some(pid) = lookup(st, *role, participant) {
                    self.violations
                        .insert(violation.clone(), Violation { participant: pid, reason: reason.clone(), at: *at });
                    *self.violation_count.entry(pid).or_insert(0) += 1;
                    self.refresh_all(st, pid);
                }
            }
            Event::BaselineLoaded { contest, participant, role, baseline_fen, at, .. } => {
                let Some(ri) = self.defs.iter().position(|d| d.kind == RaceKind::Contest && d.id == *contest) else {
                    return;
                };
                // The participant's role is the one the decision resolved.
                if let Some((_, p)) = lookup(st, *role, participant) {
                    self.races[ri].loaded_fen.insert(p, *baseline_fen);
                    self.rescore_growth(st, ri, p, *at);
                }
            }
            _ => {}
        }
    }

    fn refresh_all(&mut self, st: &dyn Tables, pid: Pid) {
        for ri in 0..self.defs.len() {
            if self.defs[ri].role == pid.0 {
                self.refresh(st, ri, pid.1);
            }
        }
    }

    /// An order paid (`amount` > 0) or refunded (`amount` < 0), for every participant it
    /// is attributed to.
    fn order_change(&mut self, f: &Festival, st: &dyn Tables, o: &Sold, amount: i64, at: Ts) {
        let category = self.category(o.merchant);
        let s = Sale { paid_at: o.paid_at, at, amount, session: o.session, category };
        let pids = [
            Some((Role::Merchant, o.merchant)),
            o.anchor.map(|a| (Role::Anchor, a)),
            o.provider.map(|p| (Role::Provider, p)),
        ];
        self.base_sale(st, o.merchant, &s);
        for pid in pids.into_iter().flatten() {
            self.sale(st, pid, &s);
            self.heat_input(f, st, pid, o.paid_at.day(), at, |h| {
                match h.gmv.iter_mut().find(|(c, _)| *c == category) {
                    Some((_, g)) => *g += amount,
                    None => h.gmv.push((category, amount)),
                }
            });
        }
    }

    /// A merchant's provider bindings changed: growth races re-derive which providers
    /// serve it in their window.
    fn rebind(&mut self, st: &dyn Tables, m: u32, at: Ts) {
        for ri in 0..self.defs.len() {
            if self.defs[ri].growth.is_none() {
                continue;
            }
            let (start, end) = (self.defs[ri].start, self.defs[ri].end);
            let b = st.bindings(m);
            let mut now: BTreeSet<u32> = BTreeSet::new();
            for (i, (from, p)) in b.iter().enumerate() {
                let until = b.get(i + 1).map_or(Ts(i64::MAX), |x| x.0);
                if let Some(p) = p {
                    if *from < end && until > start && from < &until {
                        now.insert(*p);
                    }
                }
            }
            let r = &mut self.races[ri];
            let before: BTreeSet<u32> = r.providers_of.get(&m).map(|v| v.iter().copied().collect()).unwrap_or_default();
            if before == now {
                continue;
            }
            for p in before.difference(&now) {
                if let Some(s) = r.served.get_mut(p) {
                    s.remove(&m);
                }
            }
            for p in now.difference(&before) {
                r.served.entry(*p).or_default().insert(m);
            }
            let touched: Vec<u32> = before.symmetric_difference(&now).copied().collect();
            r.providers_of.insert(m, now.into_iter().collect());
            for p in touched {
                self.rescore_growth(st, ri, p, at);
            }
        }
    }
}

fn hundredths(c: i64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

/// An anchor's tier; None for other roles.
pub fn tier_of(st: &dyn Tables, p: Pid) -> Option<u32> {
    match p.0 {
        Role::Anchor => st.anchor_tier(p.1),
        _ => None,
    }
}

/// A participant by role and id, if registered.
pub fn lookup(st: &dyn Tables, role: Role, id: &str) -> Option<Pid> {
    Some((role, st.find(role, id)?))
}

/// Who a live session's streaming counts for: its anchor, and the merchant whose own
/// account the anchor is (brand self-broadcast).
fn session_owners(st: &dyn Tables, anchor: u32) -> impl Iterator<Item = Pid> {
    [Some((Role::Anchor, anchor)), st.anchor_merchant(anchor).map(|m| (Role::Merchant, m))].into_iter().flatten()
}

/// The time an event records, if any, that moves the races' "now".
pub fn event_time(ev: &Event) -> Option<Ts> {
    match ev {
        Event::ProviderCertified { at, .. }
        | Event::ProviderBound { at, .. }
        | Event::ProviderUnbound { at, .. }
        | Event::Enrolled { at, .. }
        | Event::LiveStarted { at, .. }
        | Event::LiveEnded { at, .. }
        | Event::ViewerEntered { at, .. }
        | Event::ViewerLeft { at, .. }
        | Event::Interacted { at, .. }
        | Event::OrderPaid { at, .. }
        | Event::Refunded { at, .. }
        | Event::Followed { at, .. }
        | Event::Commented { at, .. }
        | Event::CouponClaimed { at, .. }
        | Event::GroupOpened { at, .. }
        | Event::GroupJoined { at, .. }
        | Event::GroupFormed { at, .. }
        | Event::GroupFailed { at, .. }
        | Event::RedPacketGrabbed { at, .. }
        | Event::RedPacketExpired { at, .. }
        | Event::LotteryDrawn { at, .. }
        | Event::CheckoutReserved { at, .. }
        | Event::CheckoutPaid { at, .. }
        | Event::CheckoutReleased { at, .. }
        | Event::DiscountsReturned { at, .. }
        | Event::Ticked { at, .. }
        | Event::ExperienceScoreSet { at, .. }
        | Event::ViolationRecorded { at, .. }
        | Event::BaselineLoaded { at, .. }
        | Event::RegistrationSet { at, .. } => Some(*at),
        Event::CouponCreated(c) => Some(c.at),
        Event::FullcutCreated(c) => Some(c.at),
        Event::PriceCutCreated(c) => Some(c.at),
        Event::GroupDealCreated(c) => Some(c.at),
        Event::RedPacketCreated { def, .. } | Event::RedPacketCommitted { def, .. } => Some(def.at),
        Event::LotteryCreated { def, .. } => Some(def.at),
        // Registrations carry no time; a settlement's time is when it was run, not when
        // anything on the boards happened.
        Event::MerchantRegistered { .. }
        | Event::AnchorRegistered { .. }
        | Event::ProviderRegistered { .. }
        | Event::Identified { .. }
        | Event::Settled { .. } => None,
        // A service's clock, not the festival's: it moves no contest.
        Event::KeyRecorded { .. } => None,
        // Guaranteed traffic is planned and served beside the races, never moving them.
        Event::ContractCreated(_)
        | Event::TrafficPlanned(_)
        | Event::TrafficPlannedShale(_)
        | Event::ImpressionsServed { .. }
        | Event::ContractEnded { .. } => None,
        Event::PartitionEntry { .. } => None,
    }
}
