//! The README's main job: the 2021 116 festival, simulated, ingested durably, reported.

use super::simulate::progress_bar;
use anyhow::Context;
use dacu_log::{DataDir, Options};
use std::collections::BTreeMap;
use std::io::BufReader;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

const FESTIVAL: &str = include_str!("../../../../festivals/kuaishou-116-2021.toml");

/// `$XDG_DATA_HOME/dacu/demo`, else `~/.local/share/dacu/demo`, else the temp dir.
fn default_data() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("dacu").join("demo")
}

pub fn run(data: Option<PathBuf>, scale: &str, seed: u64, quiet: bool) -> anyhow::Result<ExitCode> {
    let scale = super::simulate::parse_scale(scale)?;
    let data = data.unwrap_or_else(default_data);
    if data.exists() {
        // Only ever remove a previous demo's data directory, never an arbitrary folder.
        anyhow::ensure!(
            data.join(dacu_log::FESTIVAL_FILE).exists(),
            "{} exists and is not a dacu data directory; pass --data with a new path",
            data.display()
        );
        std::fs::remove_dir_all(&data).with_context(|| format!("removing the previous demo in {}", data.display()))?;
    }
    std::fs::create_dir_all(&data).with_context(|| format!("creating {}", data.display()))?;
    let fest_path = data.join("source-festival.toml");
    std::fs::write(&fest_path, FESTIVAL)?;
    let (mut dir, _) = DataDir::open_or_create(&data, Some(&fest_path), Options::default())?;
    std::fs::remove_file(&fest_path)?;
    if !quiet {
        print!("{}", super::check::summary(dir.festival()));
        println!();
    }

    // 1. Simulate the festival's activity into a workload file beside the data.
    let workload = data.join("workload.jsonl");
    let t0 = Instant::now();
    let pb = progress_bar(scale.commands(), "simulate", quiet);
    let sim = dacu_sim::simulate_with_progress(
        dir.festival(),
        scale,
        seed,
        dacu_sim::Mix::Festival,
        std::fs::File::create(&workload)?,
        |done, _| pb.set_position(done),
    )?;
    pb.finish_and_clear();
    let sim_s = t0.elapsed().as_secs_f64();

    // 2. Ingest it durably: group commits, fsync per batch.
    let t1 = Instant::now();
    let pb = progress_bar(std::fs::metadata(&workload)?.len(), "ingest", quiet);
    let reader = BufReader::with_capacity(1 << 20, pb.wrap_read(std::fs::File::open(&workload)?));
    let mut rejections = Vec::new();
    let s = super::ingest::ingest(&mut dir, reader, &mut rejections).map_err(|(_, e)| e)?;
    pb.finish_and_clear();
    let ingest_s = t1.elapsed().as_secs_f64();
    let events = dir.engine().state().events;
    let festival = dir.engine().festival_arc();
    let r = dacu_core::view::report(&festival, dir.engine().state());
    let review =
        best_session(dir.engine().state()).and_then(|s| dacu_core::review::review(dir.engine().state(), &s, 1));
    let boards = top_of_boards(dir.festival(), dir.engine().state(), 3);
    dir.close()?;
    std::fs::remove_file(&workload)?;

    if !quiet {
        let mut by_code: BTreeMap<String, u64> = BTreeMap::new();
        for line in String::from_utf8_lossy(&rejections).lines() {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
                *by_code.entry(v["code"].as_str().unwrap_or("?").to_string()).or_default() += 1;
            }
        }
        println!(
            "Simulated {} commands ({} orders, {} refunds, {} live sessions) in {:.1} s; ingested durably in {:.1} s ({:.0} events/s).",
            sim.commands,
            sim.orders,
            sim.refunds,
            sim.sessions,
            sim_s,
            ingest_s,
            events as f64 / ingest_s
        );
        println!(
            "{} accepted, {} rejected — the simulator's deliberately bad lines, by code: {}",
            s.accepted,
            s.rejected,
            by_code.iter().map(|(c, n)| format!("{c} {n}")).collect::<Vec<_>>().join(", ")
        );
        println!();
    }
    print!("{}", super::report::render(&festival, &r));
    if !quiet {
        println!("Contests and challenges 排位赛 · 挑战计划 — the top 3 of each board (dacu leaderboard shows any page, dacu progress any participant)\n");
        for b in &boards {
            println!("{}", super::leaderboard::render(b));
        }
    }
    if let (Some(rv), false) = (&review, quiet) {
        println!("{}", super::review::render_brief(rv, &data));
    }
    if !quiet {
        println!("The data directory stays for exploring: dacu report --data {0} · dacu show --data {0} anchor a0 --json · dacu verify --data {0}", data.display());
    }
    Ok(ExitCode::SUCCESS)
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
        let Ok(key) = c.find_board(ri, None, None).or_else(|_| {
            let day = c.default_day(ri);
            let group = c.races[ri]
                .boards
                .iter()
                .filter(|(k, _)| k.0 == day)
                .max_by_key(|(k, t)| (t.board.len(), std::cmp::Reverse(k.1)))
                .and_then(|(k, _)| k.1);
            group.map(|g| (day, Some(g))).ok_or(())
        }) else {
            continue;
        };
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
