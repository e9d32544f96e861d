//! `dacu ledger`: the payout ledger as CSV (one row per line) or JSON.

use dacu_core::festival::{RewardKind, Role};
use dacu_core::settle::view::{budgets, TrackBudget};
use dacu_core::settle::{kind_str, Line, LineKind, Run, Unit};
use dacu_core::{Day, Ts};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// The CSV header; docs/settlement.md describes each column.
pub const COLUMNS: [&str; 23] = [
    "settlement",
    "settled_at",
    "line",
    "payout",
    "kind",
    "race",
    "day",
    "group",
    "participant",
    "role",
    "track",
    "item",
    "name",
    "unit",
    "rank",
    "value",
    "band",
    "claim",
    "amount",
    "scale_remaining_fen",
    "scale_claims_fen",
    "rule",
    "settle_id",
];

/// A text cell as a spreadsheet will not run it: one that starts like a formula (`=`, `+`,
/// `-`, `@`, a tab or a carriage return) gets a leading `'`. Ids and names come from the
/// command stream, so `=HYPERLINK(…)` must not become a live link in the ledger. Numeric
/// cells never pass through here: a negative amount stays a number.
pub fn text_cell(s: &str) -> String {
    match s.bytes().next() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

/// Writes `lines` (the ledger from line number `first` + 1 on) as CSV.
pub fn write_csv(runs: &[Run], lines: &[Line], first: usize, out: impl Write) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(COLUMNS)?;
    let opt = |x: Option<String>| x.unwrap_or_default();
    let text = |x: Option<&str>| x.map(text_cell).unwrap_or_default();
    for (i, l) in lines.iter().enumerate() {
        let run = &runs[l.settlement as usize - 1];
        w.write_record([
            l.settlement.to_string(),
            run.at.to_string(),
            (first + i + 1).to_string(),
            text_cell(&l.payout),
            l.kind.as_str().to_string(),
            text_cell(&l.race),
            opt(l.day.map(|d| d.to_string())),
            text(l.group.as_deref()),
            text_cell(&l.participant),
            l.role.as_str().to_string(),
            text_cell(&l.track),
            kind_str(l.item).to_string(),
            text(l.name.as_deref()),
            Unit::of(l.item).as_str().to_string(),
            opt(l.rank.map(|r| r.to_string())),
            l.value.to_string(),
            opt(l.band.map(|b| b.to_string())),
            l.claim.to_string(),
            l.amount.to_string(),
            opt(l.scale.map(|s| s.0.to_string())),
            opt(l.scale.map(|s| s.1.to_string())),
            text_cell(&l.rule),
            text_cell(&run.id),
        ])?;
    }
    w.flush()?;
    Ok(())
}

#[derive(serde::Serialize)]
struct LedgerJson<'a> {
    festival: &'a str,
    settlements: Vec<RunJson<'a>>,
    budgets: Vec<TrackBudget>,
    lines: Vec<LineJson<'a>>,
}

/// A settlement run in the JSON ledger: `first_line` is the ledger line number (from 1,
/// as the CSV's `line`) of its first line.
#[derive(serde::Serialize)]
struct RunJson<'a> {
    n: u32,
    id: &'a str,
    at: Ts,
    boards: u64,
    programs: &'a [String],
    first_line: u32,
    lines: u32,
    awarded_fen: i64,
    clawed_back_fen: i64,
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
#[derive(serde::Serialize)]
struct LineJson<'a> {
    settlement: u32,
    settled_at: Ts,
    line: usize,
    payout: &'a str,
    kind: LineKind,
    race: &'a str,
    day: Option<Day>,
    group: Option<&'a str>,
    participant: &'a str,
    role: Role,
    track: &'a str,
    item: RewardKind,
    name: Option<&'a str>,
    unit: &'static str,
    rank: Option<u64>,
    value: i64,
    band: Option<u32>,
    claim: i64,
    amount: i64,
    scale: Option<(i64, i64)>,
    rule: &'a str,
    settle_id: &'a str,
}

/// `lines` (the ledger from line number `first` + 1 on) as JSON lines.
fn json_lines<'a>(runs: &'a [Run], lines: &'a [Line], first: usize) -> Vec<LineJson<'a>> {
    let line = |(i, l): (usize, &'a Line)| {
        let run = &runs[l.settlement as usize - 1];
        LineJson {
            settlement: l.settlement,
            settled_at: run.at,
            line: first + i + 1,
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
    lines.iter().enumerate().map(line).collect()
}

pub fn run(data: &Path, json: bool, settlement: Option<u32>, opts: dacu_log::Options) -> anyhow::Result<ExitCode> {
    let dir = super::open(data, opts)?;
    let (f, st) = (dir.festival(), dir.engine().state());
    let s = &st.settlement;
    let (first, lines): (usize, &[Line]) = match settlement {
        None => (0, &s.lines),
        Some(n) => match s.runs.get((n as usize).wrapping_sub(1)) {
            Some(r) => (r.first_line as usize, &s.lines[r.first_line as usize..][..r.lines as usize]),
            None => anyhow::bail!("no settlement {n}; this data directory has {} (numbered from 1)", s.runs.len()),
        },
    };
    let stdout = std::io::stdout();
    if json {
        let doc = LedgerJson {
            festival: &f.festival.id,
            settlements: s.runs.iter().map(RunJson::of).collect(),
            budgets: budgets(f, st),
            lines: json_lines(&s.runs, lines, first),
        };
        let mut out = stdout.lock();
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        write_csv(&s.runs, lines, first, stdout.lock())?;
    }
    Ok(ExitCode::SUCCESS)
}
