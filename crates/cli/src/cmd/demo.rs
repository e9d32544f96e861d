//! The README's main job: the 2021 116 festival, simulated, ingested durably, reported.

use super::simulate::progress_bar;
use anyhow::Context;
use dacu_core::view::{Baseline, Reference, ReportOptions};
use dacu_log::{DataDir, Options};
use dacu_sim::Scale;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

const FESTIVAL: &str = include_str!("../../../../festivals/kuaishou-116-2021.toml");

/// `$XDG_DATA_HOME/dacu/demo`, else `~/.local/share/dacu/demo`, else the temp dir.
pub fn default_data() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("dacu").join("demo")
}

/// The demo's directory at `data`, fresh: an earlier demo's is replaced (never a
/// directory the demo did not make, nor one in use).
pub fn fresh(data: &Path) -> anyhow::Result<DataDir> {
    crate::files::DEMO.fresh_data_dir(data, &[PREVIOUS, JULY], FESTIVAL)
}

/// The demo's default scale: the calibrated rehearsal at its smallest faithful scale
/// (docs/simulator.md), which fits the demo's minute.
pub const SCALE: &str = "1/400";

/// The previous festival's directory, inside the demo's.
const PREVIOUS: &str = "previous";
/// The reference month's directory, inside the demo's.
const JULY: &str = "july";

/// What simulating and ingesting one festival took.
struct Run {
    sim: dacu_sim::Summary,
    sim_s: f64,
    ingest: super::ingest::Summary,
    ingest_s: f64,
    rejections: Vec<u8>,
}

/// What the demo simulates: the generic festival at a number of commands, or a
/// calibrated profile at `1/units`.
#[derive(Clone, Copy)]
pub enum World<'a> {
    Generic(Scale),
    Profile(&'a dacu_sim::profile::Profile, u64),
}

/// `--scale`: `full` or `1/K` for the calibrated rehearsal, else a size of the generic
/// festival (small, medium, large or a number of commands).
pub fn parse_world(scale: &str) -> anyhow::Result<Option<u64>> {
    if scale == "full" || scale.starts_with("1/") {
        return super::simulate::parse_profile_scale(scale).map(Some);
    }
    super::simulate::parse_scale(scale).map(|_| None)
}

/// Simulates `world` into `out`, with a progress bar unless `quiet`.
pub fn simulate_world(
    f: &dacu_core::Festival,
    world: World<'_>,
    seed: u64,
    out: impl std::io::Write,
    quiet: bool,
) -> anyhow::Result<dacu_sim::Summary> {
    Ok(match world {
        World::Generic(scale) => {
            let pb = progress_bar(scale.commands(), "simulate", quiet);
            let sim = dacu_sim::simulate_with_progress(f, scale, seed, dacu_sim::Mix::Festival, out, |done, _| {
                pb.set_position(done)
            })?;
            pb.finish_and_clear();
            sim
        }
        World::Profile(p, units) => {
            let pb = progress_bar(0, "simulate", quiet);
            let w = dacu_sim::profile::simulate(p, f, units, seed, out, |done| pb.set_position(done))?;
            pb.finish_and_clear();
            dacu_sim::Summary {
                commands: w.commands,
                orders: w.orders,
                refunds: w.refunds,
                sessions: w.sessions,
                red_packets: w.red_packets,
                impressions: w.impressions,
                settlements: w.settlements,
                ..Default::default()
            }
        }
    })
}

/// Simulates the festival's activity into a workload file beside the data, then ingests
/// it durably (group commits, fsync per batch).
fn simulate_and_ingest(dir: DataDir, world: World<'_>, seed: u64, quiet: bool) -> anyhow::Result<(DataDir, Run)> {
    let workload = dir.path().join("workload.jsonl");
    let t0 = Instant::now();
    let sim = simulate_world(dir.festival(), world, seed, std::fs::File::create(&workload)?, quiet)?;
    let sim_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let pb = progress_bar(std::fs::metadata(&workload)?.len(), "ingest", quiet);
    let reader = pb.wrap_read(std::fs::File::open(&workload)?);
    let mut rejections = Vec::new();
    let (dir, ingest) = super::ingest::ingest(dir, reader, &mut rejections).map_err(|(_, e)| e)?;
    pb.finish_and_clear();
    std::fs::remove_file(&workload)?;
    Ok((dir, Run { sim, sim_s, ingest, ingest_s: t1.elapsed().as_secs_f64(), rejections }))
}

pub fn run(data: Option<PathBuf>, scale: &str, seed: u64, quiet: bool) -> anyhow::Result<ExitCode> {
    let units = parse_world(scale)?;
    let profiles = units.map(|_| dacu_sim::profile::profiles());
    let data = data.unwrap_or_else(default_data);

    // 0. The previous festival, for the year-on-year figures, and (for the calibrated
    //    rehearsal) the July reference month. They live inside the demo's directory.
    let dir = fresh(&data)?;
    if !quiet {
        print!("{}", super::check::summary(dir.festival()));
        println!();
    }
    let (world, baseline, reference) = match (&profiles, units) {
        (Some([this, before, july]), Some(k)) => {
            if !quiet {
                println!(
                    "The calibrated rehearsal at 1/{k} (one simulated buyer stands for {k}): {}; the baseline, {}; the reference, {}",
                    this.about, before.about, july.about
                );
            }
            let baseline = previous(&data, World::Profile(before, k), seed + 1, quiet)?;
            let reference = reference_month(&data, july, k, seed + 2, quiet)?;
            (World::Profile(this, k), baseline, Some(reference))
        }
        _ => {
            let scale = super::simulate::parse_scale(scale)?;
            if !quiet {
                println!(
                    "The previous festival (the year-on-year baseline): a third of the activity, seed {}",
                    seed + 1
                );
            }
            let prev = World::Generic(Scale::Commands((scale.commands() / 3).max(1_000)));
            (World::Generic(scale), previous(&data, prev, seed + 1, quiet)?, None)
        }
    };

    // 1–2. This festival: simulate, ingest durably.
    let (mut dir, run) = simulate_and_ingest(dir, world, seed, quiet)?;
    let events = dir.engine().state().events;

    // 3. Settle at the festival's end: the boards the stream's own settlement left open,
    //    and clawbacks for the refunds and violations that came after it.
    let end = Some(dir.festival().end());
    let settled = super::settle::settle(&mut dir, end, Some("demo-final".into()))?;

    // 4. The report, with the HTML file beside the data.
    let festival = dir.engine().festival_arc();
    let st = dir.engine().state();
    let r = dacu_core::view::report_with(
        &festival,
        st,
        &ReportOptions { baseline: Some(baseline), reference, ..Default::default() },
    );
    let html = data.join("report.html");
    // The demo's own directory: written whole, through a temporary file and a rename.
    dacu_log::dir::write_atomic(&dacu_log::io::RealIo, &html, dacu_core::html::render(&festival, &r).as_bytes())
        .with_context(|| format!("writing {}", html.display()))?;
    let review = best_session(st).and_then(|s| dacu_core::review::review(st, &s, 1));
    let boards = top_of_boards(&festival, st, 3);
    let payout = largest_payout(st);
    let explained = payout.as_deref().and_then(|p| dacu_core::settle::view::explain(&festival, st, p, 5));
    let contract = largest_contract(st).and_then(|id| dacu_core::traffic::view::contract(&festival, st, &id));
    dir.close()?;

    if !quiet {
        let mut by_code: BTreeMap<String, u64> = BTreeMap::new();
        for line in String::from_utf8_lossy(&run.rejections).lines() {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
                *by_code.entry(v["code"].as_str().unwrap_or("?").to_string()).or_default() += 1;
            }
        }
        println!(
            "Simulated {} commands ({} orders, {} refunds, {} live sessions, {} settlement(s)) in {:.1} s; ingested durably in {:.1} s ({:.0} events/s).",
            run.sim.commands,
            run.sim.orders,
            run.sim.refunds,
            run.sim.sessions,
            run.sim.settlements,
            run.sim_s,
            run.ingest_s,
            events as f64 / run.ingest_s
        );
        println!(
            "{} accepted, {} rejected — the simulator's deliberately bad lines, by code: {}",
            run.ingest.accepted,
            run.ingest.rejected,
            by_code.iter().map(|(c, n)| format!("{c} {n}")).collect::<Vec<_>>().join(", ")
        );
        println!();
        println!("Final settlement 结算 (dacu settle; dacu ledger exports every line as CSV or JSON)");
        println!("{}", super::settle::render(&settled));
    }
    print!("{}", super::report::render(&festival, &r));
    if !quiet {
        println!("Contests and challenges 排位赛 · 挑战计划 — the top 3 of each board (dacu leaderboard shows any page, dacu progress any participant)\n");
        for b in &boards {
            println!("{}", super::leaderboard::render(b));
        }
        if let Some(e) = &explained {
            println!("The largest payout, explained (dacu explain --data {} {})\n", data.display(), e.payout);
            println!("{}", super::explain::render(e));
        }
    }
    if let (Some(c), false) = (&contract, quiet) {
        println!("{}", render_contract(c, &data));
    }
    if let (Some(rv), false) = (&review, quiet) {
        println!("{}", super::review::render_brief(rv, &data));
    }
    if !quiet {
        println!("The HTML report: {}", html.display());
        println!("The data directory stays for exploring: dacu report --data {0} --baseline {0}/previous --reference {0}/july · dacu ledger --data {0} · dacu show --data {0} anchor a0 --json · dacu verify --data {0}", data.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The previous festival, for the year-on-year figures, settled at its end, in the demo
/// directory's `previous`: the generic festival at a third of the activity, or the
/// calibrated baseline profile with its own festival file.
pub fn previous(data: &Path, world: World<'_>, seed: u64, quiet: bool) -> anyhow::Result<Baseline> {
    let prev_path = data.join(PREVIOUS);
    let src = match world {
        World::Profile(p, _) => p.festival_toml,
        World::Generic(_) => FESTIVAL,
    };
    let (prev, _) = DataDir::create_with(&prev_path, src, Options::default())?;
    let (mut prev, _) = simulate_and_ingest(prev, world, seed, quiet)?;
    let end = Some(prev.festival().end());
    super::settle::settle(&mut prev, end, Some("demo-final".into()))?;
    let mut baseline = Baseline::of(&dacu_core::view::report(prev.festival(), prev.engine().state()));
    baseline.festival = match world {
        World::Profile(p, k) => format!("{} (profile {} at 1/{k}, seed {seed})", p.festival_id, p.name),
        World::Generic(_) => format!("previous festival (simulated at 1/3 scale, seed {seed})"),
    };
    prev.close()?;
    Ok(baseline)
}

/// The reference month of the calibrated rehearsal, in the demo directory's `july`.
pub fn reference_month(
    data: &Path,
    p: &dacu_sim::profile::Profile,
    units: u64,
    seed: u64,
    quiet: bool,
) -> anyhow::Result<Reference> {
    let (dir, _) = DataDir::create_with(&data.join(JULY), p.festival_toml, Options::default())?;
    let (dir, _) = simulate_and_ingest(dir, World::Profile(p, units), seed, quiet)?;
    let mut r = Reference::of(dir.festival(), dir.engine().state());
    r.festival = format!("{} (profile {} at 1/{units}, seed {seed})", p.festival_id, p.name);
    dir.close()?;
    Ok(r)
}

/// The payout with the most money granted, the lowest id on ties.
fn largest_payout(st: &dacu_core::state::State) -> Option<String> {
    st.settlement
        .payouts
        .iter()
        .max_by(|a, b| a.1.granted_fen().cmp(&b.1.granted_fen()).then_with(|| b.0.cmp(a.0)))
        .map(|(id, _)| id.clone())
}

/// The first `n` ranks of every race's default board: the whole window, or the latest day
/// of a daily race; for a race by category, the category with the most entrants that day.
fn top_of_boards(
    f: &dacu_core::Festival,
    st: &dacu_core::state::State,
    n: usize,
) -> Vec<dacu_core::contest::view::BoardPage> {
    let c = &st.contests;
    let mut out = Vec::new();
    for ri in 0..c.defs.len() {
        let Some(key) = c.shown_board(ri) else { continue };
        if let Ok(p) = c.page(f, st, ri, key, &dacu_core::contest::view::Page::Top(n)) {
            out.push(p);
        }
    }
    out
}

/// The session with the most GMV, the lowest id on ties.
fn best_session(st: &dacu_core::state::State) -> Option<String> {
    (0..st.sessions.len() as u32)
        .map(|i| (st.sessions[i as usize].stats.gmv(), st.session_ids.name(i)))
        .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, id)| id.to_string())
}

/// The guaranteed-traffic contract promising the most impressions (then the first made).
fn largest_contract(st: &dacu_core::state::State) -> Option<String> {
    let cs = &st.traffic.contracts;
    cs.iter().enumerate().max_by_key(|(i, c)| (c.rec.impressions, std::cmp::Reverse(*i))).map(|(_, c)| c.rec.id.clone())
}

/// A contract's delivery day by day against its target curve, as the demo shows it.
fn render_contract(c: &dacu_core::traffic::view::ContractView, data: &Path) -> String {
    let mut t = crate::table::Table::new(["day", "delivered", "cumulative", "target", "ahead"]).right(&[1, 2, 3, 4]);
    for p in &c.curve {
        let ahead = p.cumulative as i128 - p.target as i128;
        t.row([
            p.day.to_string(),
            p.delivered.to_string(),
            p.cumulative.to_string(),
            p.target.to_string(),
            format!("{ahead:+}"),
        ]);
    }
    let end = match &c.ended {
        Some(e) if e.shortfall == 0 => "delivered in full".to_string(),
        Some(e) => format!(
            "ended {} short ({})",
            e.shortfall,
            e.make_good.as_deref().map_or("owed".to_string(), |m| format!("made good by {m}"))
        ),
        None => format!("{} to go", c.remaining),
    };
    format!(
        "Guaranteed traffic 确定性流量 — the largest contract, `{}` (dacu show --data {} contract {}): {} of {} impressions ({}.{:02}%), {end}\n\n{}",
        c.rec.id,
        data.display(),
        c.rec.id,
        c.delivered,
        c.rec.impressions,
        c.delivered_bp / 100,
        c.delivered_bp % 100,
        t.render()
    )
}
