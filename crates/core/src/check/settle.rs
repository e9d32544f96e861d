//! Consistency checks of the settlement ledger ([`crate::settle::Settlements`]): runs
//! that number 1, 2, … and cover the ledger's lines in order; lines and payouts that name
//! each other; every payout's closed board; every "closed by" naming a run; and the
//! ledger's totals per unit within the bound `decide` keeps them in.

use super::{count, day, ensure, index, range, time, At};
use crate::limits::TOTAL;
use crate::settle::{Payout, Run, Settlements, Unit};

pub(super) fn check(s: &Settlements) -> Result<(), String> {
    runs(s)?;
    lines(s)?;
    payouts(s)?;
    closed(s)?;
    s.paid_fen.iter().try_for_each(|(t, &v)| range(&format!("track `{t}`'s paid"), v, -TOTAL, TOTAL))
}

fn run(r: &Run, i: usize, first: u64) -> Result<(), String> {
    ensure(r.n as usize == i + 1, || format!("numbered {}", r.n))?;
    ensure(r.first_line as u64 == first, || format!("its lines start at {}, after {first} lines", r.first_line))?;
    time("at", r.at)?;
    count("boards", r.boards, TOTAL as u64)?;
    range("awarded", r.awarded_fen, -TOTAL, TOTAL)?;
    range("clawed back", r.clawed_back_fen, -TOTAL, TOTAL)
}

/// Runs 1, 2, …, each's lines following the one before's, all of them the ledger.
fn runs(s: &Settlements) -> Result<(), String> {
    let mut next = 0u64;
    for (i, r) in s.runs.iter().enumerate() {
        run(r, i, next).at(|| format!("settlement run {i}"))?;
        next += r.lines as u64;
    }
    let len = s.lines.len() as u64;
    ensure(next == len, || format!("the runs hold {next} lines, the ledger {len}"))
}

fn lines(s: &Settlements) -> Result<(), String> {
    for (i, l) in s.lines.iter().enumerate() {
        let here = || format!("ledger line {i}");
        range("settlement", l.settlement as i64, 1, s.runs.len() as i64).at(here)?;
        ensure(s.payouts.contains_key(&l.payout), || format!("no payout `{}`", l.payout)).at(here)?;
        range("amount", l.amount, -TOTAL, TOTAL).and(range("claim", l.claim, -TOTAL, TOTAL)).at(here)?;
        l.day.map_or(Ok(()), |d| day("day", d)).at(here)?;
    }
    Ok(())
}

fn payout(id: &str, p: &Payout, s: &Settlements) -> Result<(), String> {
    for &i in &p.lines {
        index("ledger line", i, s.lines.len())?;
        ensure(s.lines[i as usize].payout == id, || format!("ledger line {i} is another payout's"))?;
    }
    // Re-settling a contest payout re-ranks it against the frozen order of its board.
    let key = (p.race.clone(), p.day, p.group.clone());
    ensure(s.boards.contains_key(&key), || "its board was never closed".into())
}

/// Every payout's lines and board; granted and claimed totals per unit within
/// [`TOTAL`], as `decide` keeps them (views add them up).
fn payouts(s: &Settlements) -> Result<(), String> {
    let units = [Unit::Fen, Unit::Impressions, Unit::Bp, Unit::Grant];
    let (mut granted, mut claimed) = ([0i128; 4], [0i128; 4]);
    for (id, p) in &s.payouts {
        payout(id, p, s).at(|| format!("payout `{id}`"))?;
        for g in &p.grants {
            let u = units.iter().position(|x| *x == Unit::of(g.item)).expect("a unit");
            granted[u] += (g.granted as i128).abs();
            claimed[u] += (g.claim as i128).abs();
        }
    }
    for (u, (g, c)) in units.iter().zip(granted.iter().zip(&claimed)) {
        let most = (*g).max(*c);
        ensure(most <= TOTAL as i128, || format!("the ledger's total in {} is {most}, above {TOTAL}", u.as_str()))?;
    }
    Ok(())
}

/// Closed boards under their own (race, day, group), each closed by a run; closed
/// programs too.
fn closed(s: &Settlements) -> Result<(), String> {
    let runs = s.runs.len() as i64;
    for (key, b) in &s.boards {
        let here = || format!("closed board {key:?}");
        ensure(*key == (b.race.clone(), b.day, b.group.clone()), || "filed under another key".into()).at(here)?;
        ensure(s.closed_by.contains_key(key), || "closed by no settlement".into()).at(here)?;
        b.day.map_or(Ok(()), |d| day("day", d)).at(here)?;
        b.frozen.iter().try_for_each(|(_, _, t)| time("a frozen time", *t)).at(here)?;
    }
    for (key, &n) in &s.closed_by {
        let here = || format!("closed board {key:?}");
        ensure(s.boards.contains_key(key), || "not among the closed boards".into()).at(here)?;
        range("closed by", n as i64, 1, runs).at(here)?;
    }
    for (p, &n) in &s.programs {
        range("closed by", n as i64, 1, runs).at(|| format!("program `{p}`"))?;
    }
    Ok(())
}
