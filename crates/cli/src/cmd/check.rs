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
    // A contract the forecast cannot cover is a warning: the file is valid, the promise
    // is not kept unless supply beats the forecast.
    for x in dacu_core::traffic::live::feasibility(&f).iter().filter(|x| x.shortfall > 0) {
        eprintln!(
            "{}: warning: traffic contract `{}` promises {} impressions; planned with the others on the forecast it gets {} (eligible supply {}), short by {}",
            file.display(),
            x.contract,
            x.impressions,
            x.impressions - x.shortfall,
            x.eligible_supply,
            x.shortfall
        );
    }
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
    out += &traffic(f);
    out += "OK\n";
    out
}

/// The `[traffic]` section: slots and their forecast, and each declared contract against
/// the supply it may use.
fn traffic(f: &Festival) -> String {
    let Some(t) = &f.traffic else { return String::new() };
    let grid = festival::traffic::Grid::new(f, t);
    let mut out = String::new();
    let mut tab = Table::new(["slot", "名称", "per hour", "forecast, whole festival"]);
    for (i, s) in t.slots.iter().enumerate() {
        let total = grid.slot_forecast(i as u32, 0, grid.hours);
        tab.row([s.id.clone(), s.name_zh.clone(), s.per_hour.to_string(), total.to_string()]);
    }
    out += &format!("\nTraffic slots\n{}\n", tab.render());
    let segs: Vec<String> = t.segments.iter().map(|s| format!("{} {}%", s.id, s.share_bp as f64 / 100.0)).collect();
    out += &format!("Audience segments: {}\n", segs.join(", "));
    let mut tab = Table::new(["contract", "per", "impressions", "eligible supply", "short"]);
    for x in dacu_core::traffic::live::feasibility(f) {
        let per = x.program.map(|p| format!("{p} participant")).unwrap_or_else(|| "festival".into());
        tab.row([x.contract, per, x.impressions.to_string(), x.eligible_supply.to_string(), x.shortfall.to_string()]);
    }
    out += &format!("Traffic contracts\n{}\n", tab.render());
    out
}
