//! `dacu bench impressions`: guaranteed-traffic serving through the engine. Parsed
//! `impression` commands are executed (decided, recorded as `impressions_served`, applied)
//! on a festival with `[traffic]`, one opportunity a command and in batches, so the
//! figure is the engine's decisions per second, not the serving rule's alone (that is
//! `dacu bench traffic`).

use dacu_core::{festival, parse_line, Engine, Event};
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

/// The largest `--count`: opportunities decided per batch size.
const MAX_COUNT: u64 = 100_000_000;

pub fn impressions(festival_file: &Path, count: u64, batches: &[u64], at: &str) -> anyhow::Result<ExitCode> {
    anyhow::ensure!((1..=MAX_COUNT).contains(&count), "--count must be 1 to {MAX_COUNT}");
    anyhow::ensure!(
        !batches.is_empty() && batches.iter().all(|b| (1..=count).contains(b)),
        "each --batches value must be 1 to --count ({count})"
    );
    let text = std::fs::read_to_string(festival_file)?;
    let f = festival::parse(&text).map_err(|p| anyhow::anyhow!("invalid festival file: {} problem(s)", p.len()))?;
    let Some(t) = f.traffic.as_ref() else {
        anyhow::bail!("{} has no [traffic] section: nothing to serve", festival_file.display());
    };
    let pairs: Vec<(String, String)> =
        t.slots.iter().flat_map(|s| t.segments.iter().map(move |g| (s.id.clone(), g.id.clone()))).collect();
    let f = Arc::new(f);
    let mut rows = Vec::new();
    for &batch in batches {
        let commands = count / batch;
        let lines = (0..commands).map(|i| {
            let (slot, segment) = &pairs[i as usize % pairs.len()];
            format!(
                r#"{{"type":"impression","id":"imp{i}","slot":"{slot}","segment":"{segment}","count":{batch},"at":"{at}"}}"#
            )
        });
        let cmds =
            lines.map(|l| parse_line(&l).map_err(|r| anyhow::anyhow!("{l}: {r}"))).collect::<Result<Vec<_>, _>>()?;
        let mut e = Engine::new(f.clone());
        let mut out = Vec::new();
        let (mut decided, mut served) = (0u64, 0u64);
        let t0 = Instant::now();
        for c in &cmds {
            out.clear();
            e.execute(c, &mut out).map_err(|r| anyhow::anyhow!("{r}"))?;
            for ev in &out {
                if let Event::ImpressionsServed { count, served: s, unsold, .. } = ev {
                    let shown: u64 = s.iter().map(|(_, n)| n).sum();
                    anyhow::ensure!(shown + unsold == *count, "an opportunity was counted twice or lost");
                    decided += count;
                    served += shown;
                }
            }
        }
        let secs = t0.elapsed().as_secs_f64();
        anyhow::ensure!(decided == commands * batch, "{decided} opportunities decided of {}", commands * batch);
        anyhow::ensure!(e.state().traffic.opportunities == decided, "the state counts other opportunities");
        let rate = decided as f64 / secs;
        println!(
            "impressions in-engine, {batch} a command: {decided} opportunities in {commands} commands, {secs:.2} s = {rate:.0} decisions/s ({:.0} commands/s); {served} shown",
            commands as f64 / secs
        );
        rows.push(json!({"batch": batch, "commands": commands, "decisions": decided, "served": served,
            "seconds": secs, "decisions_per_s": rate, "commands_per_s": commands as f64 / secs}));
    }
    println!(
        "{}",
        json!({"bench": "impressions", "festival": festival_file.display().to_string(), "at": at, "runs": rows})
    );
    Ok(ExitCode::SUCCESS)
}
