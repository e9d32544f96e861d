use crate::table::Table;
use dacu_core::festival::{self, Festival};
use dacu_core::money::Fen;
use dacu_core::Ts;
use serde::Serialize;
use std::path::Path;
use std::process::ExitCode;

#[derive(Serialize)]
struct Normalised<'a> {
    #[serde(flatten)]
    festival: &'a Festival,
    days: Vec<dacu_core::Day>,
}

pub fn run(file: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let src = std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let f = match festival::parse(&src) {
        Ok(f) => f,
        Err(problems) => {
            for p in &problems {
                eprintln!("{}:{}:{}: {}", file.display(), p.line, p.col, p.message);
            }
            eprintln!(
                "dacu: {} problem{} in {}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" },
                file.display()
            );
            return Ok(ExitCode::from(2));
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&Normalised { festival: &f, days: f.days() })?);
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", summary(&f));
    Ok(ExitCode::SUCCESS)
}

fn span(a: Ts, b: Ts) -> String {
    format!("{} → {}", a, b)
}

/// The wire name of a serde enum value.
fn label(v: &impl Serialize) -> String {
    serde_json::to_value(v).ok().and_then(|x| x.as_str().map(String::from)).unwrap_or_default()
}

pub fn summary(f: &Festival) -> String {
    let mut out = String::new();
    let m = &f.festival;
    out += &format!("{} · {} ({})\n", m.name_zh, m.name_en, m.id);
    out += &format!("  {}  ({} festival days, Asia/Shanghai)\n", span(m.start.0, m.end.0), f.days().len());
    out += &format!("  registration {}\n\n", span(f.registration.opens.0, f.registration.closes.0));
    let mut t = Table::new(["layer", "phase", "名称", "name", "start", "end"]);
    for p in &f.phases {
        t.row([
            p.layer.clone(),
            p.id.clone(),
            p.name_zh.clone(),
            p.name_en.clone(),
            p.start.0.to_string(),
            p.end.0.to_string(),
        ]);
    }
    out += &format!("Phases\n{}\n", t.render());
    let mut t = Table::new(["tier", "名称", "name", "min followers"]);
    for a in &f.anchor_tiers {
        t.row([a.id.clone(), a.name_zh.clone(), a.name_en.clone(), a.min_followers.to_string()]);
    }
    out += &format!("Anchor tiers\n{}\n", t.render());
    let mut t = Table::new(["track", "role", "名称", "budget"]);
    for tr in &f.tracks {
        t.row([tr.id.clone(), tr.role.as_str().to_string(), tr.name_zh.clone(), Fen(tr.budget_fen).to_string()]);
    }
    out += &format!("Tracks\n{}\n", t.render());
    let mut t = Table::new(["program", "名称", "track", "who may enrol", "enrolment"]);
    for p in &f.programs {
        let mut who: Vec<String> = p.roles.iter().map(|r| r.as_str().to_string()).collect();
        if let Some(bt) = &p.brand_tiers {
            who.push(format!("brand {}", bt.iter().map(|t| t.as_str()).collect::<Vec<_>>().join("/")));
        }
        if let Some(at) = &p.anchor_tiers {
            who.push(format!("tier {}", at.join("/")));
        }
        if p.require_certified {
            who.push("certified".into());
        }
        let (o, c) = f.enroll_window(p);
        t.row([p.id.clone(), p.name_zh.clone(), p.track.clone(), who.join(", "), format!("{} → {}", o.day(), c.day())]);
    }
    out += &format!("Programs\n{}\n", t.render());
    let mut t = Table::new(["contest", "名称", "track", "metric", "window", "reward table"]);
    for c in &f.contests {
        let window = c.phase.clone().unwrap_or_else(|| {
            format!(
                "{} → {}",
                c.start.map(|s| s.0.day().to_string()).unwrap_or_default(),
                c.end.map(|s| s.0.day().to_string()).unwrap_or_default()
            )
        });
        t.row([
            c.id.clone(),
            c.name_zh.clone(),
            c.track.clone(),
            label(&c.metric),
            format!("{window} ({})", label(&c.period)),
            c.reward_table.clone(),
        ]);
    }
    out += &format!("Contests\n{}\n", t.render());
    let mut t = Table::new(["challenge", "名称", "track", "targets", "reward table"]);
    for c in &f.challenges {
        let targets: Vec<String> = c.targets.iter().map(|x| format!("{} {}", x.tier, Fen(x.target_fen))).collect();
        t.row([c.id.clone(), c.name_zh.clone(), c.track.clone(), targets.join(", "), c.reward_table.clone()]);
    }
    out += &format!("Challenges\n{}\n", t.render());
    out += &format!(
        "Reward tables: {}\n",
        f.reward_tables.iter().map(|r| format!("{} ({} bands)", r.id, r.bands.len())).collect::<Vec<_>>().join(", ")
    );
    if !f.figures.is_empty() {
        out += &format!("Reported figures: {}\n", f.figures.len());
    }
    out += "OK\n";
    out
}
