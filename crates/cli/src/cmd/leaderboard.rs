//! `dacu leaderboard`: one board of a contest or challenge, live.

use crate::table::Table;
use dacu_core::contest::view::{BoardPage, Page, Reward};
use dacu_core::festival::{Metric, RewardKind};
use dacu_core::money::{fmt_bp, Fen};
use dacu_core::Day;
use std::path::Path;
use std::process::ExitCode;

pub struct Args {
    pub race: String,
    pub top: Option<usize>,
    pub around: Option<String>,
    pub owners: Option<String>,
    pub after: Option<String>,
    pub day: Option<String>,
    pub group: Option<String>,
    pub json: bool,
}

pub fn run(data: &Path, a: Args, opts: dacu_log::Options) -> anyhow::Result<ExitCode> {
    let dir = super::open(data, opts)?;
    let (f, st) = (dir.festival(), dir.engine().state());
    let c = &st.contests;
    let Some(ri) = c.race_index(&a.race) else {
        let ids: Vec<&str> = c.defs.iter().map(|d| d.id.as_str()).collect();
        anyhow::bail!("no contest or challenge `{}`; the festival declares: {}", a.race, ids.join(", "));
    };
    let day = match &a.day {
        Some(d) => Some(Day::parse(d).ok_or_else(|| anyhow::anyhow!("`{d}` is not a date; give YYYY-MM-DD"))?),
        None => None,
    };
    let n = a.top.unwrap_or(20);
    let page = match (&a.around, &a.owners, &a.after) {
        (Some(id), None, None) => Page::Around(id.clone(), a.top.unwrap_or(5)),
        (None, Some(list), None) => Page::Owners(list.split(',').map(|s| s.trim().to_string()).collect()),
        (None, None, Some(cur)) => Page::After(cur.clone(), n),
        (None, None, None) => Page::Top(n),
        _ => anyhow::bail!("give at most one of --around, --owners and --after"),
    };
    let key = c.find_board(ri, day, a.group.as_deref())?;
    let p = c.page(f, st, ri, key, &page)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&p)?);
    } else {
        print!("{}", render(&p));
    }
    Ok(ExitCode::SUCCESS)
}

/// A score in the metric's unit: GMV in yuan, heat in points, growth as a percentage.
pub fn score(m: Metric, v: i64) -> String {
    match m {
        Metric::Gmv => Fen(v).to_string(),
        Metric::Heat => format!("{v} pts"),
        Metric::GmvGrowth => format!("{}{}", if v >= 0 { "+" } else { "" }, fmt_bp(v)),
    }
}

/// What the next band needs, in the metric's unit: "+¥12.00", "+300 pts", "+4.45 pp".
pub fn gap(m: Metric, g: &dacu_core::contest::view::Gap) -> String {
    let v = match m {
        Metric::GmvGrowth => format!("{} pp", fmt_bp(g.points).trim_end_matches('%')),
        _ => score(m, g.points),
    };
    format!("+{v} → band {}", g.band)
}

/// Rewards in one cell: money in yuan, traffic in impressions, the rest by name.
pub fn rewards(rs: &[Reward]) -> String {
    let parts: Vec<String> = rs
        .iter()
        .map(|r| match r.kind {
            RewardKind::Cash => format!("cash {}", Fen(r.amount_fen.unwrap_or(0))),
            RewardKind::FentiaoCredit => format!("粉条 {}", Fen(r.amount_fen.unwrap_or(0))),
            RewardKind::TrafficPack => format!("traffic {}", r.impressions.unwrap_or(0)),
            RewardKind::AdRebate => format!("ad rebate {}", fmt_bp(r.rebate_bp.unwrap_or(0))),
            RewardKind::MainVenueSlot => "main-venue slot".into(),
            RewardKind::Pendant => "pendant".into(),
            RewardKind::Badge => "badge".into(),
            RewardKind::CustomGameplay => "custom gameplay".into(),
        })
        .collect();
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

/// What the band column of a challenge's board means (docs/contests.md, "Challenges").
pub const CHALLENGE_BAND_NOTE: &str = "  challenge band: the band of the whole challenge (one payout, by finishing place and boards reached), shown on the boards where the entrant reached its target\n";

pub fn render(p: &BoardPage) -> String {
    let mut out = format!("{} · {} ({})\n", p.name_zh, p.name_en, p.race);
    let mut scope = format!("window {} → {}", p.start, p.end);
    if let Some(d) = p.day {
        scope += &format!(" · day {d}");
    }
    if let Some(g) = &p.group {
        scope += &format!(" · category {g}");
    }
    let status = p.status.as_str();
    let settled = match p.settled_by {
        Some(n) => format!("settled by settlement {n} (dacu ledger, dacu explain show the payouts)"),
        None => "rewards are provisional until settled".to_string(),
    };
    out += &format!(
        "{scope} · {status} as of {} · {} ranked · {settled}\n",
        p.as_of.map_or("-".into(), |t| t.to_string()),
        p.ranked
    );
    let challenge = p.rows.iter().any(|r| r.target_fen.is_some());
    let mut t = if challenge {
        Table::new(["rank", "id", "value", "target", "reached at", "challenge band", "rewards if it ended now"])
            .right(&[0, 2, 3])
    } else {
        Table::new(["rank", "id", "score", "reached at", "sales", "band", "rewards if it ended now", "next band needs"])
            .right(&[0, 2, 4, 7])
    };
    for r in &p.rows {
        let band = r.band.map_or("-".into(), |b| b.to_string());
        if challenge {
            t.row([
                r.rank.to_string(),
                r.id.clone(),
                score(p.metric, r.score),
                r.target_fen.map_or("-".into(), |x| score(p.metric, x)),
                r.target_reached_at.map_or("-".into(), |x| x.to_string()),
                band,
                rewards(&r.rewards),
            ]);
        } else {
            t.row([
                r.rank.to_string(),
                r.id.clone(),
                score(p.metric, r.score),
                r.reached_at.to_string(),
                Fen(r.sales_fen).to_string(),
                band,
                rewards(&r.rewards),
                r.next_band.as_ref().map_or("-".into(), |g| gap(p.metric, g)),
            ]);
        }
    }
    out += &t.render();
    if challenge {
        out += CHALLENGE_BAND_NOTE;
    }
    for u in &p.unranked {
        out += &format!("  not ranked: {} ({}; score {})\n", u.id, u.reason, score(p.metric, u.score));
    }
    if let Some(c) = &p.next_cursor {
        out += &format!("  next page: --after {c}\n");
    }
    out
}
