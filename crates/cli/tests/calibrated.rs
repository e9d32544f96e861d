//! The calibrated rehearsal (docs/simulator.md, "Calibrated profiles"): the 2021 festival,
//! its 2020 baseline and its July reference month simulated at the smallest faithful
//! scale, ingested and settled by the real binary; `dacu report --json` computes every
//! figure of the source within the bounds the festival file gives, for two seeds.

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;

/// The smallest scale at which every figure still lands within its bounds for any seed
/// (docs/simulator.md says why).
const SCALE: &str = "1/400";

/// Simulates `profile` into a fresh data directory of its own festival, and settles it.
fn world(tmp: &Path, profile: &str, festival: &str, seed: u64) -> std::path::PathBuf {
    let data = tmp.join(profile);
    let work = tmp.join(format!("{profile}.jsonl"));
    let s = seed.to_string();
    let o = dacu(&["simulate", "--profile", profile, "--scale", SCALE, "--seed", &s, "--quiet", "--out", p(&work)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = dacu(&["ingest", "--strict", "--data", p(&data), "--festival", p(&common::festival(festival)), p(&work)]);
    assert!(o.status.success(), "every line of a profile is accepted: {}{}", stdout(&o), stderr(&o));
    let o = dacu(&["settle", "--data", p(&data)]);
    assert!(o.status.success(), "{}", stderr(&o));
    data
}

fn rehearse(seed: u64) -> Value {
    let tmp = tempfile::tempdir().unwrap();
    let before = world(tmp.path(), "kuaishou-2020", "kuaishou-116-2020.toml", seed + 1);
    let july = world(tmp.path(), "kuaishou-2021-07", "kuaishou-2021-07.toml", seed + 2);
    let this = world(tmp.path(), "kuaishou-2021", "kuaishou-116-2021.toml", seed);
    let o = dacu(&["report", "--json", "--data", p(&this), "--baseline", p(&before), "--reference", p(&july)]);
    assert!(o.status.success(), "{}", stderr(&o));
    json(&o)
}

fn check(r: &Value, seed: u64) {
    let figures = r["figures"].as_array().unwrap();
    assert_eq!(figures.len(), 7, "the 2021 file's seven figures");
    for x in figures {
        assert!(x["value"].is_i64(), "seed {seed}: {} is computed from the data: {x}", x["id"]);
        assert_eq!(x["reproduced"], true, "seed {seed}: {} within {}: {x}", x["id"], x["bounds"]);
    }
    let july = figures.iter().find(|x| x["id"] == "mid_anchor_july_share").unwrap();
    assert_eq!(july["source"], "reference", "July is outside the festival: read from the reference");
    let announced: Vec<&Value> =
        r["year_on_year"].as_array().unwrap().iter().filter(|m| m["announced_x"].is_i64()).collect();
    let names: Vec<&str> = announced.iter().map(|m| m["figure"].as_str().unwrap()).collect();
    assert_eq!(names, ["traffic_impressions", "merchant_incentives_fen", "consumer_benefits_fen"]);
    for m in announced {
        assert_eq!(m["reproduced"], true, "seed {seed}: {} at {}× of announced: {m}", m["figure"], m["multiple_x100"]);
        // The mark is what the numbers say: within 10% of the announced multiple.
        let (x, a) = (m["multiple_x100"].as_i64().unwrap(), m["announced_x"].as_i64().unwrap() * 100);
        assert!((x - a).abs() * 10 <= a, "{m}");
    }
    let provider = r["incentives"].as_array().unwrap().iter().find(|t| t["track"] == "provider").unwrap();
    assert_eq!(provider["budget_fen"], 1_000_000_000, "the provider track's ¥10,000,000");
}

#[test]
fn the_2021_rehearsal_reproduces_every_figure_of_the_source_for_two_seeds() {
    for seed in [116, 2021] {
        let r = rehearse(seed);
        check(&r, seed);
    }
}

#[test]
fn a_profile_is_the_same_for_the_same_seed_and_another_for_another() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |seed: &str, name: &str| {
        let out = tmp.path().join(name);
        let o = dacu(&[
            "simulate",
            "--profile",
            "kuaishou-2021-07",
            "--scale",
            "1/2000",
            "--seed",
            seed,
            "--quiet",
            "--out",
            p(&out),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        std::fs::read(out).unwrap()
    };
    let (a, b, c) = (run("1", "a"), run("1", "b"), run("2", "c"));
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn a_bad_profile_or_scale_is_refused_with_what_would_be_accepted() {
    let o = dacu(&["simulate", "--profile", "tmall-2020"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("kuaishou-2021, kuaishou-2020, kuaishou-2021-07"), "{}", stderr(&o));
    for bad in ["1/0", "1/x", "half", "1/100000"] {
        let o = dacu(&["simulate", "--profile", "kuaishou-2021", "--scale", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", stderr(&o));
        assert!(stderr(&o).contains("`full` or `1/K`"), "{bad}: {}", stderr(&o));
    }
}
