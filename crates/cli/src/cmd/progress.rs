//! `dacu progress`: one participant in every contest and challenge of its role.

use super::leaderboard::{gap, rewards, score, CHALLENGE_BAND_NOTE};
use crate::table::Table;
use dacu_core::contest::view::Progress;
use dacu_core::contest::RaceKind;
use dacu_core::festival::Role;
use dacu_core::money::Fen;
use std::path::Path;
use std::process::ExitCode;

pub fn run(
    data: &Path,
    participant: &str,
    role: Option<Role>,
    json: bool,
    opts: dacu_log::Options,
) -> anyhow::Result<ExitCode> {
    let dir = super::open(data, opts)?;
    let (f, st) = (dir.festival(), dir.engine().state());
    let found: Vec<(Role, u32)> = [Role::Merchant, Role::Anchor, Role::Provider]
        .into_iter()
        .filter(|r| role.is_none_or(|x| x == *r))
        .filter_map(|r| dacu_core::contest::lookup(st, r, participant))
        .collect();
    let pid = match found.as_slice() {
        [] => {
            eprintln!("dacu: no participant `{participant}` in {}", data.display());
            return Ok(ExitCode::from(1));
        }
        [one] => *one,
        _ => anyhow::bail!("`{participant}` is registered in several roles; add --role"),
    };
    let p = st.contests.progress(f, st, pid);
    if json {
        println!("{}", serde_json::to_string_pretty(&p)?);
    } else {
        print!("{}", render(&p));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn render(p: &Progress) -> String {
    let mut out = format!("{} ({}", p.participant, p.role.as_str());
    if let Some(t) = &p.tier {
        out += &format!(", tier {t}");
    }
    out += &format!(
        ") · experience score {} · {} violation(s) · as of {}\n\n",
        p.experience_score.map_or("-".into(), |s| format!("{s:.2}")),
        p.violations.len(),
        p.as_of.map_or("-".into(), |t| t.to_string())
    );
    for r in &p.races {
        out += &format!("{} · {} ({}, {:?})", r.name_zh, r.name_en, r.race, r.kind);
        match (&r.not_ranked, r.entrant) {
            (_, false) => out += " — not entered\n",
            (Some(why), true) => out += &format!(" — not ranked: {why}\n"),
            (None, true) => out += "\n",
        }
        if let Some(b) = r.baseline_fen {
            out += &format!("  baseline {}\n", Fen(b));
        }
        if let (RaceKind::Challenge, Some(c)) = (r.kind, &r.challenge) {
            out += &format!(
                "  target {} · best {} · reached {} time(s) · remaining {} · rewards if it ended now: {}\n",
                c.target_fen.map_or("-".into(), |x| score(r.metric, x)),
                score(r.metric, c.best),
                c.achieved,
                c.remaining.map_or("-".into(), |x| score(r.metric, x)),
                rewards(&c.rewards)
            );
        }
        if r.boards.is_empty() {
            continue;
        }
        let mut t = Table::new([
            "board",
            "status",
            "rank",
            "score",
            "sales",
            "band",
            "rewards if it ended now",
            "next band needs",
        ])
        .right(&[2, 3, 4, 7]);
        for b in &r.boards {
            let mut board = b.day.map_or("whole window".to_string(), |d| d.to_string());
            if let Some(g) = &b.group {
                board += &format!(" · {g}");
            }
            t.row([
                board,
                b.status.as_str().to_string(),
                b.rank.map_or("-".into(), |x| format!("{x}/{}", b.of)),
                score(r.metric, b.score),
                Fen(b.sales_fen).to_string(),
                b.band.map_or("-".into(), |x| x.to_string()),
                rewards(&b.rewards),
                b.next_band.as_ref().map_or("-".into(), |g| gap(r.metric, g)),
            ]);
        }
        out += &t.render();
        if r.kind == RaceKind::Challenge {
            out += CHALLENGE_BAND_NOTE;
        }
    }
    if !p.heat.is_empty() {
        let mut t = Table::new(["day", "heat", "GMV", "live min", "viewers", "interactions"]).right(&[1, 2, 3, 4, 5]);
        for h in &p.heat {
            t.row([
                h.day.to_string(),
                h.heat.to_string(),
                Fen(h.gmv_fen).to_string(),
                h.live_minutes.to_string(),
                h.viewers.to_string(),
                h.interactions.to_string(),
            ]);
        }
        out += &format!("\nHeat value by day 热度值\n{}", t.render());
    }
    out
}
