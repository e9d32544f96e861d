//! `dacu settle`: one settlement, recorded in the log like any command.

use crate::table::Table;
use anyhow::Context;
use dacu_core::command::{Command, Settle};
use dacu_core::money::{fmt_bp, Fen};
use dacu_core::settle::view::budgets;
use dacu_core::settle::LineKind;
use dacu_core::Ts;
use std::path::Path;
use std::process::ExitCode;

/// What one settlement did, as `--json` prints it.
#[derive(serde::Serialize)]
pub struct Outcome {
    pub settled: bool,
    pub settlement: Option<u32>,
    pub at: Ts,
    pub boards_closed: u64,
    pub programs_closed: Vec<String>,
    pub awards: u64,
    pub clawbacks: u64,
    pub awarded_fen: i64,
    pub clawed_back_fen: i64,
    pub budgets: Vec<dacu_core::settle::view::TrackBudget>,
}

/// Settles `dir` at `at` (default: the latest time its events record) and returns what
/// the settlement did. A rejection (a time before the last settlement) is an error.
pub fn settle(dir: &mut dacu_log::DataDir, at: Option<Ts>, id: Option<String>) -> anyhow::Result<Outcome> {
    let st = dir.engine().state();
    let at = match at.or(st.contests.now) {
        Some(t) => t,
        None => anyhow::bail!("the data directory records no time yet; pass --at"),
    };
    let n = st.settlement.runs.len() as u32 + 1;
    let id = id.unwrap_or_else(|| format!("settle-{n}"));
    dir.execute(&Command::Settle(Settle { id, at }))
        .map_err(|r| anyhow::anyhow!("settlement refused: {} ({})", r.message, r.code.as_str()))?;
    dir.commit().context("committing the settlement")?;
    let st = dir.engine().state();
    let run = st.settlement.runs.last().filter(|r| r.n == n);
    let lines = run.map_or(&[][..], |r| &st.settlement.lines[r.first_line as usize..][..r.lines as usize]);
    Ok(Outcome {
        settled: run.is_some(),
        settlement: run.map(|r| r.n),
        at,
        boards_closed: run.map_or(0, |r| r.boards),
        programs_closed: run.map(|r| r.programs.clone()).unwrap_or_default(),
        awards: lines.iter().filter(|l| l.kind == LineKind::Award).count() as u64,
        clawbacks: lines.iter().filter(|l| l.kind == LineKind::Clawback).count() as u64,
        awarded_fen: run.map_or(0, |r| r.awarded_fen),
        clawed_back_fen: run.map_or(0, |r| r.clawed_back_fen),
        budgets: budgets(dir.festival(), st),
    })
}

pub fn render(o: &Outcome) -> String {
    let mut out = String::new();
    match o.settlement {
        Some(n) => {
            out += &format!(
                "settlement {n} at {}: {} board(s) closed, {} program(s) closed, {} award line(s), {} clawback line(s)\n",
                o.at,
                o.boards_closed,
                o.programs_closed.len(),
                o.awards,
                o.clawbacks
            );
            out += &format!("awarded {}, clawed back {}\n", Fen(o.awarded_fen), Fen(o.clawed_back_fen));
        }
        None => {
            out += &format!(
                "nothing to settle at {}: every board that ended by then is settled and nothing changed since\n",
                o.at
            );
        }
    }
    let mut t = Table::new(["track", "budget", "claimed", "paid", "remaining", "used", "impressions"])
        .right(&[1, 2, 3, 4, 5, 6]);
    for b in &o.budgets {
        t.row([
            b.track.clone(),
            Fen(b.budget_fen).to_string(),
            Fen(b.claimed_fen).to_string(),
            Fen(b.paid_fen).to_string(),
            Fen(b.remaining_fen).to_string(),
            fmt_bp(b.used_bp),
            b.impressions.to_string(),
        ]);
    }
    out += &format!("\nIncentive budgets\n{}", t.render());
    out
}

pub fn run(
    data: &Path,
    at: Option<&str>,
    id: Option<String>,
    json: bool,
    opts: dacu_log::Options,
) -> anyhow::Result<ExitCode> {
    let at = match at {
        Some(s) => Some(Ts::parse(s).map_err(|e| anyhow::anyhow!("--at: {e}"))?),
        None => None,
    };
    let mut dir = super::open_write(data, opts)?;
    let o = settle(&mut dir, at, id)?;
    let closed = super::close(dir)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&o)?);
    } else {
        print!("{}", render(&o));
    }
    Ok(closed.exit(ExitCode::SUCCESS))
}
