//! `dacu ledger`: the payout ledger as CSV (one row per line) or JSON.

use dacu_core::settle::ledger::{ledger, lines, Select};
use dacu_core::settle::{kind_str, Line, Run, Unit};
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

/// Writes `lines` (each with its number in the whole ledger) as CSV.
pub fn write_csv(runs: &[Run], lines: &[(usize, &Line)], out: impl Write) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(COLUMNS)?;
    let opt = |x: Option<String>| x.unwrap_or_default();
    let text = |x: Option<&str>| x.map(text_cell).unwrap_or_default();
    for &(n, l) in lines {
        let run = &runs[l.settlement as usize - 1];
        w.write_record([
            l.settlement.to_string(),
            run.at.to_string(),
            n.to_string(),
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

pub fn run(data: &Path, json: bool, settlement: Option<u32>, opts: dacu_log::Options) -> anyhow::Result<ExitCode> {
    let dir = super::open(data, opts)?;
    let (f, st) = (dir.festival(), dir.engine().state());
    let sel = Select { settlement, participant: None };
    let stdout = std::io::stdout();
    if json {
        let doc = ledger(f, st, sel).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut out = stdout.lock();
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        let picked = lines(st, sel).map_err(|e| anyhow::anyhow!("{e}"))?;
        write_csv(&st.settlement.runs, &picked, stdout.lock())?;
    }
    Ok(ExitCode::SUCCESS)
}
