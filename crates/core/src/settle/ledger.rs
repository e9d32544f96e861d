//! The payout ledger as JSON: what `dacu ledger --json` prints and `GET /v1/ledger`
//! answers. The CSV is the same lines and columns (docs/settlement.md).

use super::view::{budgets, TrackBudget};
use super::{Line, LineKind, Run, Unit};
use crate::festival::{Festival, RewardKind, Role};
use crate::state::State;
use crate::time::{Day, Ts};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Ledger<'a> {
    pub festival: &'a str,
    pub settlements: Vec<RunJson<'a>>,
    pub budgets: Vec<TrackBudget>,
    pub lines: Vec<LineJson<'a>>,
}

/// A settlement run in the JSON ledger: `first_line` is the ledger line number (from 1,
/// as the CSV's `line`) of its first line.
#[derive(Debug, Serialize)]
pub struct RunJson<'a> {
    pub n: u32,
    pub id: &'a str,
    pub at: Ts,
    pub boards: u64,
    pub programs: &'a [String],
    pub first_line: u32,
    pub lines: u32,
    pub awarded_fen: i64,
    pub clawed_back_fen: i64,
}

impl<'a> RunJson<'a> {
    fn of(r: &'a Run) -> RunJson<'a> {
        RunJson {
            n: r.n,
            id: &r.id,
            at: r.at,
            boards: r.boards,
            programs: &r.programs,
            first_line: r.first_line + 1,
            lines: r.lines,
            awarded_fen: r.awarded_fen,
            clawed_back_fen: r.clawed_back_fen,
        }
    }
}

/// One ledger line in the JSON ledger: the CSV's columns, by the same names and in the
/// same order, with the budget scaling as `scale` = [R, C] or null (docs/settlement.md).
#[derive(Debug, Serialize)]
pub struct LineJson<'a> {
    pub settlement: u32,
    pub settled_at: Ts,
    pub line: usize,
    pub payout: &'a str,
    pub kind: LineKind,
    pub race: &'a str,
    pub day: Option<Day>,
    pub group: Option<&'a str>,
    pub participant: &'a str,
    pub role: Role,
    pub track: &'a str,
    pub item: RewardKind,
    pub name: Option<&'a str>,
    pub unit: &'static str,
    pub rank: Option<u64>,
    pub value: i64,
    pub band: Option<u32>,
    pub claim: i64,
    pub amount: i64,
    pub scale: Option<(i64, i64)>,
    pub rule: &'a str,
    pub settle_id: &'a str,
}

/// Which lines of the ledger to give.
#[derive(Debug, Clone, Copy, Default)]
pub struct Select<'q> {
    /// One settlement's lines (numbered from 1), or every line.
    pub settlement: Option<u32>,
    /// Only this participant's lines.
    pub participant: Option<(Role, &'q str)>,
}

/// The lines `sel` picks, each with its number in the whole ledger (from 1).
pub fn lines<'a>(st: &'a State, sel: Select<'_>) -> Result<Vec<(usize, &'a Line)>, String> {
    let s = &st.settlement;
    let (first, lines): (usize, &[Line]) = match sel.settlement {
        None => (0, &s.lines),
        Some(n) => match s.runs.get((n as usize).wrapping_sub(1)) {
            Some(r) => (r.first_line as usize, &s.lines[r.first_line as usize..][..r.lines as usize]),
            None => return Err(format!("no settlement {n}; there are {} (numbered from 1)", s.runs.len())),
        },
    };
    let mine = |l: &Line| sel.participant.is_none_or(|(r, p)| l.role == r && l.participant == p);
    Ok(lines.iter().enumerate().filter(|(_, l)| mine(l)).map(|(i, l)| (first + i + 1, l)).collect())
}

/// The ledger document for the lines `sel` picks.
pub fn ledger<'a>(f: &'a Festival, st: &'a State, sel: Select<'_>) -> Result<Ledger<'a>, String> {
    let runs = &st.settlement.runs;
    let line = |(n, l): (usize, &'a Line)| {
        let run = &runs[l.settlement as usize - 1];
        LineJson {
            settlement: l.settlement,
            settled_at: run.at,
            line: n,
            payout: &l.payout,
            kind: l.kind,
            race: &l.race,
            day: l.day,
            group: l.group.as_deref(),
            participant: &l.participant,
            role: l.role,
            track: &l.track,
            item: l.item,
            name: l.name.as_deref(),
            unit: Unit::of(l.item).as_str(),
            rank: l.rank,
            value: l.value,
            band: l.band,
            claim: l.claim,
            amount: l.amount,
            scale: l.scale,
            rule: &l.rule,
            settle_id: &run.id,
        }
    };
    Ok(Ledger {
        festival: &f.festival.id,
        settlements: runs.iter().map(RunJson::of).collect(),
        budgets: budgets(f, st),
        lines: lines(st, sel)?.into_iter().map(line).collect(),
    })
}
