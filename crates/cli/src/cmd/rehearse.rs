//! `dacu demo --serve`: a rehearsal (勤演练) you can watch. The 116 festival is simulated,
//! then played through `dacu serve` on an accelerated clock while the console shows it:
//! the commands go over HTTP (`POST /v1/commands`) as their festival time comes, the
//! service's clock runs at the speed that fits the festival into `--minutes`, and at the
//! end an operator's settlement closes every board. docs/console.md describes it.

use anyhow::Context;
use dacu_core::view::ReportOptions;
use dacu_core::Ts;
use dacu_node::Clock;
use dacu_server::tokens::Role;
use dacu_server::{config, Service};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

pub struct Args {
    pub data: Option<PathBuf>,
    pub scale: String,
    pub seed: u64,
    /// Real minutes the festival takes.
    pub minutes: f64,
    pub listen: String,
    /// Stop once settled, rather than serve until Ctrl-C.
    pub exit: bool,
}

/// Commands in one `POST /v1/commands` of the feeder at most.
/// (The service's `limits.batch_commands` default.)
const FEED_BATCH: usize = 10_000;

/// The workload, ordered by festival time: the simulator writes a live session's events
/// together, while the rehearsal must send each when the clock reaches it.
struct Workload {
    text: Vec<u8>,
    /// (time, start, end) of each line; lines without a time take the one before.
    lines: Vec<(Ts, usize, usize)>,
}

impl Workload {
    /// Lines are sent at their time, held within [`from`, `to`]: the simulator's
    /// deliberately bad lines with times far outside the festival go at its start or end.
    fn load(path: &Path, from: Ts, to: Ts) -> anyhow::Result<Workload> {
        let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let mut lines = Vec::new();
        let (mut start, mut last) = (0usize, from);
        for (i, b) in text.iter().enumerate() {
            if *b == b'\n' {
                last = line_time(&text[start..i]).map_or(last, |t| t.clamp(from, to));
                lines.push((last, start, i));
                start = i + 1;
            }
        }
        // A stable sort: lines of one time keep the simulator's order.
        lines.sort_by_key(|l| l.0);
        Ok(Workload { text, lines })
    }
}

/// The `"at"` of a command line, if it has a valid one.
fn line_time(line: &[u8]) -> Option<Ts> {
    let s = std::str::from_utf8(line).ok()?;
    let i = s.find("\"at\":\"")? + 6;
    let end = s[i..].find('"')? + i;
    Ts::parse(&s[i..end]).ok()
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let units = super::demo::parse_world(&a.scale)?;
    anyhow::ensure!(
        a.minutes > 0.0 && a.minutes <= 24.0 * 60.0,
        "--minutes is how long the festival plays, above 0 and at most 1440, got {}",
        a.minutes
    );
    let data = a.data.clone().unwrap_or_else(super::demo::default_data);
    let dir = super::demo::fresh(&data)?;
    let festival = dir.engine().festival_arc();
    println!(
        "Rehearsal 彩排: {} ({}), played in {} minutes",
        festival.festival.name_zh, festival.festival.name_en, a.minutes
    );
    let profiles = dacu_sim::profile::profiles();
    let (world, report) = match units {
        Some(k) => {
            let [this, before, july] = &profiles;
            println!("The calibrated rehearsal at 1/{k}: {}", this.about);
            println!("The baseline, {}; the reference month, {}…", before.about, july.about);
            let before = super::demo::World::Profile(before, k);
            let baseline = super::demo::previous(&data, before, a.seed + 1, true)?;
            let reference = super::demo::reference_month(&data, july, k, a.seed + 2, true)?;
            let report = ReportOptions { baseline: Some(baseline), reference: Some(reference), ..Default::default() };
            (super::demo::World::Profile(this, k), report)
        }
        None => {
            let scale = super::simulate::parse_scale(&a.scale)?;
            println!("The previous festival (the year-on-year baseline)…");
            let prev = super::demo::World::Generic(dacu_sim::Scale::Commands((scale.commands() / 3).max(1_000)));
            let baseline = super::demo::previous(&data, prev, a.seed + 1, true)?;
            (super::demo::World::Generic(scale), ReportOptions { baseline: Some(baseline), ..Default::default() })
        }
    };
    let workload = data.join("workload.jsonl");
    let t0 = Instant::now();
    let out = std::io::BufWriter::new(std::fs::File::create(&workload)?);
    let sim = super::demo::simulate_world(dir.festival(), world, a.seed, out, true)?;
    dir.close()?;
    // The clock starts when registration opens or the festival starts, whichever is
    // first.
    let start = festival.registration.opens.0.min(festival.start());
    let work = Workload::load(&workload, start, festival.end())?;
    std::fs::remove_file(&workload)?;
    println!(
        "Simulated {} commands in {:.1} s; now playing them through the service.",
        sim.commands,
        t0.elapsed().as_secs_f64()
    );

    let span_ms = (festival.end().0 - start.0).max(1) as f64;
    let speed = (span_ms / (a.minutes * 60_000.0)).clamp(1.0, 1e6);
    let sets = vec![
        format!("listen=\"{}\"", a.listen),
        format!("clock.start=\"{start}\""),
        format!("clock.speed={speed}"),
        "limits.rate_per_token=0".to_string(),
    ];
    // Lines go half a real second ahead of the clock: the feeder's own lag must not let
    // the node's timers (ticked by the clock) expire a red packet or a group before the
    // commands of earlier times arrive.
    let lead_ms = (speed * 500.0) as i64;
    let cfg = config::load(None, std::iter::empty(), &sets).map_err(|e| anyhow::anyhow!("the settings: {e}"))?;
    let operator = super::token::create(&data, Role::Operator, None)?;
    let feeder = super::token::create(&data, Role::Integration, None)?;
    let anchor = best_anchor(&work);
    let anchor_token = match &anchor {
        Some(id) => {
            Some(super::token::create(&data, Role::Participant, Some((dacu_core::festival::Role::Anchor, id.clone())))?)
        }
        None => None,
    };
    let rt = super::serve::runtime(&cfg)?;
    let (service, _) = Service::open(&data, None, cfg, dacu_log::Options::default(), report)
        .map_err(|e| anyhow::anyhow!("cannot serve {}: {e}", data.display()))?;
    let listener = rt
        .block_on(tokio::net::TcpListener::bind(&a.listen))
        .with_context(|| format!("cannot listen on {}", a.listen))?;
    let url = format!("http://{}", listener.local_addr()?);
    println!();
    println!("The console 控制台 (operator): {url}/login?token={operator}");
    if let (Some(id), Some(t)) = (&anchor, &anchor_token) {
        println!("Anchor {id}'s own view 主播视角:   {url}/login?token={t}");
    }
    println!();
    // The feeder ends the service when it fails, or (with --exit) once settled.
    let stop = std::sync::Arc::new(tokio::sync::Notify::new());
    let clock = service.app().clock.clone();
    let run = {
        let (url, festival, stop, exit) = (url.clone(), festival.clone(), stop.clone(), a.exit);
        std::thread::spawn(move || -> anyhow::Result<()> {
            let played = play(&url, &feeder, &operator, &work, clock.as_ref(), festival.end(), lead_ms);
            if exit || played.is_err() {
                stop.notify_one();
            } else {
                println!("Serving until Ctrl-C.");
            }
            played
        })
    };
    let served = rt.block_on(service.run(listener, async move {
        tokio::select! {
            _ = stop.notified() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }));
    drop(rt);
    let fed = run.join().map_err(|_| anyhow::anyhow!("the feeder panicked"))?;
    served.context("serving")?;
    let down = service.stop().context("stopping")?;
    println!("Stopped at event {}; the data directory stays: dacu report --data {}", down.durable_seq, data.display());
    fed?;
    Ok(ExitCode::SUCCESS)
}

/// Feeds the workload, then settles at the festival's end.
fn play(
    url: &str,
    feeder: &str,
    operator: &str,
    work: &Workload,
    clock: &dyn Clock,
    end: Ts,
    lead_ms: i64,
) -> anyhow::Result<()> {
    let fed = feed(url, feeder, work, clock, lead_ms)?;
    let rejected: u64 = fed.rejected.values().sum();
    let codes: Vec<String> = fed.rejected.iter().map(|(c, n)| format!("{c} {n}")).collect();
    println!(
        "Fed {} commands: {} accepted, {rejected} rejected ({})",
        fed.accepted + rejected,
        fed.accepted,
        codes.join(", ")
    );
    println!("The feed ran at most {:.1} s of festival time behind the clock.", fed.behind_ms.max(0) as f64 / 1000.0);
    settle(url, operator, end)?;
    println!(
        "Settled at the festival's end; the console shows the settlement, the report is at {url}/v1/report?format=html"
    );
    Ok(())
}

/// The registered anchor with the most live sessions (the lowest id on ties): one whose
/// own view has something to show.
fn best_anchor(w: &Workload) -> Option<String> {
    let (mut registered, mut sessions) = (BTreeSet::new(), BTreeMap::<String, u64>::new());
    for &(_, s, e) in &w.lines {
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&w.text[s..e]) else { continue };
        let Some(anchor) = v["anchor"].as_str() else { continue };
        match v["type"].as_str() {
            Some("register_anchor") => {
                registered.insert(anchor.to_string());
            }
            Some("live_start") => *sessions.entry(anchor.to_string()).or_default() += 1,
            _ => {}
        }
    }
    sessions
        .into_iter()
        .filter(|(a, _)| registered.contains(a))
        .max_by(|x, y| x.1.cmp(&y.1).then_with(|| y.0.cmp(&x.0)))
        .map(|(a, _)| a)
}

/// Sends every line when the service's clock reaches its time, in batches; the counts
/// of accepted and rejected commands.
fn feed(url: &str, token: &str, w: &Workload, clock: &dyn Clock, lead_ms: i64) -> anyhow::Result<Fed> {
    let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build()?;
    let (mut next, mut fed) = (0usize, Fed::default());
    let mut shown = Instant::now();
    while next < w.lines.len() {
        let now = clock.now();
        let horizon = Ts(now.0.saturating_add(lead_ms));
        let due = w.lines[next..].iter().take(FEED_BATCH).take_while(|l| l.0 <= horizon).count();
        if due == 0 {
            std::thread::sleep(clock.until(Ts(w.lines[next].0 .0 - lead_ms)).min(Duration::from_millis(50)));
            continue;
        }
        // How far behind the clock the stream is: its first line's time against now.
        fed.behind_ms = fed.behind_ms.max(now.0 - w.lines[next].0 .0);
        let mut body = Vec::new();
        for &(_, s, e) in &w.lines[next..next + due] {
            body.extend_from_slice(&w.text[s..e]);
            body.push(b'\n');
        }
        let r = http
            .post(format!("{url}/v1/commands?events=false"))
            .bearer_auth(token)
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()?;
        let status = r.status();
        let v: serde_json::Value = r.json()?;
        if status.as_u16() == 503 {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        anyhow::ensure!(status.is_success(), "the service refused a batch: {status} {v}");
        for res in v["results"].as_array().into_iter().flatten() {
            if res["status"] == "accepted" {
                fed.accepted += 1;
            } else {
                let code = res["problem"]["code"].as_str().unwrap_or("?").to_string();
                *fed.rejected.entry(code).or_default() += 1;
            }
        }
        next += due;
        if shown.elapsed() >= Duration::from_secs(10) {
            println!("  festival time {now}: {next} of {} commands fed", w.lines.len());
            shown = Instant::now();
        }
    }
    Ok(fed)
}

/// What the service answered the feeder.
#[derive(Debug, Default)]
struct Fed {
    accepted: u64,
    /// Rejections by code.
    rejected: BTreeMap<String, u64>,
    /// The most festival time a line was sent after its own (the feeder's lag).
    behind_ms: i64,
}

/// The operator's final settlement, through the API.
fn settle(url: &str, token: &str, at: Ts) -> anyhow::Result<()> {
    let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(120)).build()?;
    let r = http
        .post(format!("{url}/v1/settle"))
        .bearer_auth(token)
        .json(&serde_json::json!({"id": "rehearsal-final", "at": at.to_string()}))
        .send()?;
    let status = r.status();
    let v: serde_json::Value = r.json()?;
    anyhow::ensure!(status.is_success(), "the final settlement was refused: {status} {v}");
    Ok(())
}
