//! Consistency checks of the races ([`crate::contest::Contests`]): one race state per
//! race the festival declares; every participant, merchant, session and category index;
//! board keys of the race's shape (a day for daily races, inside the window; a category
//! for races by category); the ordered boards, once built, holding exactly the ranked
//! records; and scores, sales and heat within the bounds the engine keeps.

use super::{count, day, ensure, index, opt_time, range, sum_within, time, At, Lens};
use crate::contest::{growth_bp, race_defs, BoardKey, Contests, HeatDay, RaceDef, RaceState, Rec, Tally};
use crate::festival::{Festival, Metric};
use crate::limits::{HEAT_DAY, TOTAL};
use crate::state::State;

/// A heat race adds up a participant's heat over at most a festival's 366 days.
const HEAT_SCORE: i64 = 367 * HEAT_DAY;

pub(super) fn check(st: &State, f: &Festival, n: &Lens) -> Result<(), String> {
    let c = &st.contests;
    let defs = race_defs(f);
    ensure(c.races.len() == defs.len(), || {
        format!("{} race states, the festival declares {} contests and challenges", c.races.len(), defs.len())
    })?;
    categories(c, n)?;
    inputs(c, n)?;
    for (d, r) in defs.iter().zip(&c.races) {
        race(d, r, st, n).at(|| format!("race `{}`", d.id))?;
    }
    Ok(())
}

/// One category per merchant, in the merchants' order.
fn categories(c: &Contests, n: &Lens) -> Result<(), String> {
    let (have, want) = (c.merchant_category.len(), n.merchants);
    ensure(have == want, || format!("categories of {have} merchants, for {want} merchants"))?;
    c.merchant_category.iter().try_for_each(|&k| index("category", k, c.categories.len()))
}

fn heat_day(h: &HeatDay, categories: usize) -> Result<(), String> {
    h.gmv.iter().try_for_each(|&(k, _)| index("category", k, categories))?;
    sum_within("the day's GMV by category", h.gmv.iter().map(|&(_, g)| g))?;
    range("live_ms", h.live_ms, 0, TOTAL)?;
    count("viewers", h.viewers, TOTAL as u64)?;
    count("interactions", h.interactions, TOTAL as u64)?;
    range("heat", h.heat, -HEAT_DAY, HEAT_DAY)
}

/// Heat, shopping-experience scores and violations: by existing participants.
fn inputs(c: &Contests, n: &Lens) -> Result<(), String> {
    for (&(p, d), h) in &c.heat {
        let here = || format!("the heat of {} {} on day {}", p.0.as_str(), p.1, d.0);
        n.pid(p).and(day("day", d)).and(heat_day(h, c.categories.len())).at(here)?;
    }
    for (&p, &s) in &c.scores {
        n.pid(p).and(range("score (hundredths)", s, 0, 500)).at(|| "a shopping-experience score".into())?;
    }
    for (id, v) in &c.violations {
        n.pid(v.participant).and(time("at", v.at)).at(|| format!("violation `{id}`"))?;
    }
    // Each recorded violation counts once, for its participant.
    let recorded = c.violations.len() as u64;
    for (&p, &k) in &c.violation_count {
        n.pid(p).and(count("violations", k as u64, recorded)).at(|| "a violation count".into())?;
    }
    opt_time("now", c.now)
}

fn race(d: &RaceDef, r: &RaceState, st: &State, n: &Lens) -> Result<(), String> {
    r.enrolled.iter().try_for_each(|&p| n.of_role(d.role, p)).at(|| "enrolled".into())?;
    for (key, t) in &r.boards {
        board_key(d, *key, st.contests.categories.len()).at(|| format!("board {key:?}"))?;
        tally(d, t, st, n).at(|| format!("board {key:?}"))?;
    }
    for (&p, mine) in &r.session_fen {
        n.of_role(d.role, p)?;
        for (&s, &v) in mine {
            index("session", s, n.sessions).and(range("GMV", v, -TOTAL, TOTAL))?;
        }
    }
    for (&p, &v) in &r.best_session_fen {
        n.of_role(d.role, p).and(range("best session GMV", v, -TOTAL, TOTAL))?;
    }
    growth(d, r, n)
}

/// A growth race's inputs: baselines by merchant and by participant, who serves whom.
fn growth(d: &RaceDef, r: &RaceState, n: &Lens) -> Result<(), String> {
    r.base_fen.keys().try_for_each(|&m| index("merchant", m, n.merchants))?;
    sum_within("the merchants' baseline GMV", r.base_fen.values().copied())?;
    // Providers, scored as the race's entrants.
    let provider = |p: u32| index("provider", p, n.providers).and(n.of_role(d.role, p));
    for (&p, ms) in &r.served {
        provider(p)?;
        ms.iter().try_for_each(|&m| index("merchant", m, n.merchants))?;
    }
    for (&m, ps) in &r.providers_of {
        index("merchant", m, n.merchants)?;
        ps.iter().try_for_each(|&p| provider(p))?;
    }
    for (&p, &b) in &r.loaded_fen {
        // `load_baseline` takes 0 to 10^15 fen, the bound of every running total.
        n.of_role(d.role, p).and(range("a loaded baseline", b, 0, TOTAL))?;
    }
    Ok(())
}

/// The board a race keeps: a day inside the window for daily races (none otherwise), a
/// category for races by category (none otherwise; growth is scored on the whole-window
/// board whatever the grouping).
fn board_key(d: &RaceDef, key: BoardKey, categories: usize) -> Result<(), String> {
    match key.0 {
        Some(x) => ensure(d.daily && d.has_day(x), || format!("day {} is not a day of this race", x.0))?,
        None => ensure(!d.daily, || "a daily race's board has no day".into())?,
    }
    match key.1 {
        Some(k) if d.by_category => index("category", k, categories),
        Some(_) => Err("the race has no boards by category".into()),
        None => ensure(!d.by_category || d.growth.is_some(), || "a race by category has a board without one".into()),
    }
}

fn rec(d: &RaceDef, r: &Rec) -> Result<(), String> {
    // Growth is ⌊(W − B′) × 10000 / B′⌋ with 0 ≤ W ≤ TOTAL and B′ at least the race's
    // floor: from −100% up to what the floor allows.
    let floor = d.growth.map_or(0, |g| g.2);
    let (lo, hi) = match d.metric {
        Metric::GmvGrowth => (-10_000, growth_bp(TOTAL, 0, floor)),
        Metric::Heat => (-HEAT_SCORE, HEAT_SCORE),
        Metric::Gmv => (-TOTAL, TOTAL),
    };
    range("score", r.score, lo, hi)?;
    time("at", r.at)?;
    range("sales", r.sales, -TOTAL, TOTAL)?;
    range("window GMV", r.window_fen, -TOTAL, TOTAL)?;
    opt_time("reached", r.reached)
}

/// The records of one board, by existing participants; its ordered board, once built
/// (the engine builds it from the ranked records when it loads a state), holds exactly
/// the ranked records' keys.
fn tally(d: &RaceDef, t: &Tally, st: &State, n: &Lens) -> Result<(), String> {
    let mut ranked = 0;
    for (&p, r) in &t.recs {
        n.of_role(d.role, p).and(rec(d, r)).at(|| format!("the record of {} {p}", d.role.as_str()))?;
        ranked += usize::from(r.ranked);
    }
    t.board.check()?;
    if t.board.is_empty() {
        return Ok(());
    }
    ensure(t.board.len() == ranked, || format!("{} keys on the board for {ranked} ranked records", t.board.len()))?;
    for k in t.board.iter() {
        let r = crate::contest::lookup(st, d.role, &k.id).and_then(|(_, p)| t.recs.get(&p));
        let same = r.is_some_and(|r| r.ranked && r.score == k.score && r.at.0 == k.at_ms);
        ensure(same, || format!("the board's key of `{}` is not its ranked record's", k.id))?;
    }
    Ok(())
}
