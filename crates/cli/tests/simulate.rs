//! `dacu simulate` through the binary: deterministic, and every line it writes is either
//! accepted or one of its deliberately bad lines.

mod common;
use common::*;
use std::collections::BTreeSet;

#[test]
fn the_same_seed_writes_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let fest = festival("kuaishou-116-2021.toml");
    let run = |seed: &str, name: &str| {
        let out = dir.path().join(name);
        let o = dacu(&[
            "simulate",
            "--festival",
            p(&fest),
            "--scale",
            "30000",
            "--seed",
            seed,
            "--quiet",
            "--out",
            p(&out),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        std::fs::read(out).unwrap()
    };
    let (a, b, c) = (run("5", "a"), run("5", "b"), run("6", "c"));
    assert_eq!(a, b);
    assert_ne!(a, c);
    // Standard output carries the same stream.
    let o = dacu(&["simulate", "--festival", p(&fest), "--scale", "30000", "--seed", "5", "--quiet"]);
    assert_eq!(o.stdout, a);
}

#[test]
fn only_the_deliberately_bad_lines_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let fest = festival("kuaishou-116-2021.toml");
    let input = dir.path().join("w.jsonl");
    let o = dacu(&["simulate", "--festival", p(&fest), "--scale", "small", "--quiet", "--out", p(&input)]);
    assert!(o.status.success());
    // "simulated N commands: ... K deliberately bad lines"
    let said = stderr(&o);
    let bad: u64 =
        said.split(", ").find_map(|part| part.strip_suffix(" deliberately bad lines\n")?.parse().ok()).unwrap();
    let data = dir.path().join("d");
    let o = dacu(&["ingest", "--data", p(&data), "--festival", p(&fest), p(&input)]);
    let summary = json(&o);
    assert_eq!(summary["rejected"], bad, "{}", stderr(&o));
    let codes: BTreeSet<String> = stderr(&o)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["code"].as_str().unwrap().to_string())
        .collect();
    let expected: BTreeSet<String> = [
        "invalid_json",
        "unknown_command",
        "invalid_command",
        "duplicate_order",
        "unknown_merchant",
        "paid_exceeds_list",
        "refund_exceeds_remaining",
        "session_required",
        "outside_festival",
        "unknown_session",
        "invalid_time",
        "empty_order",
        "duplicate_merchant",
        "invalid_value",
        "invalid_id",
        "duplicate_sku",
        "session_not_allowed",
        "unknown_order",
        "unknown_anchor",
        "unknown_provider",
        "unknown_program",
        "refund_before_order",
        "duplicate_refund",
        "session_ended",
        "duplicate_anchor",
        "duplicate_provider",
        "duplicate_session",
        "already_certified",
        "already_bound",
        "provider_not_certified",
        "unknown_participant",
        "already_enrolled",
        "registration_not_open",
        "registration_closed",
        "session_not_started",
        "not_eligible",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(codes, expected);
    // The activity reaches every part of the report.
    let r = json(&dacu(&["report", "--data", p(&data), "--json"]));
    for key in ["self_broadcast_gmv", "provider_served_gmv", "refunded"] {
        assert!(r[key].as_i64().unwrap() > 0, "{key} is zero: {r}");
    }
    for tier in ["ska", "ka", "none"] {
        assert!(r["gmv_by_brand_tier"][tier].as_i64().unwrap() > 0, "no {tier} GMV");
    }
    for tier in ["head", "mid", "new"] {
        assert!(r["gmv_by_anchor_tier"][tier].as_i64().unwrap() > 0, "no {tier} anchor GMV");
    }
    assert!(r["gmv_by_channel"]["shelf"].as_i64().unwrap() > 0 && r["gmv_by_channel"]["live"].as_i64().unwrap() > 0);
}

/// `--traffic-error-pct` sets the impression supply's forecast error: at 0 every node's
/// opportunities are its forecast whatever the seed; at 25 the seed changes them, each
/// within a quarter of the forecast; above 100 is refused.
#[test]
fn the_traffic_error_is_the_flags() {
    let dir = tempfile::tempdir().unwrap();
    let fest = festival("kuaishou-116-2021.toml");
    let impressions = |seed: &str, err: &str| -> Vec<(String, u64)> {
        let out = dir.path().join(format!("s{seed}-{err}"));
        let o = dacu(&[
            "simulate",
            "--festival",
            p(&fest),
            "--scale",
            "2000",
            "--seed",
            seed,
            "--traffic-error-pct",
            err,
            "--quiet",
            "--out",
            p(&out),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        std::fs::read_to_string(out)
            .unwrap()
            .lines()
            .filter(|l| l.contains(r#""type":"impression""#))
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (v["id"].as_str().unwrap().to_string(), v["count"].as_u64().unwrap())
            })
            .collect()
    };
    let (a, b) = (impressions("1", "0"), impressions("2", "0"));
    assert!(a.len() > 1000, "{} impression lines", a.len());
    assert_eq!(a, b, "no error: the forecast itself, whatever the seed");
    let (c, d) = (impressions("1", "25"), impressions("2", "25"));
    assert_ne!(c, d, "the seed draws the errors");
    let forecast: std::collections::BTreeMap<&str, u64> = a.iter().map(|(id, n)| (id.as_str(), *n)).collect();
    for (id, n) in &c {
        let f = forecast.get(id.as_str()).copied().unwrap_or(0);
        // ⌊f × (100 + e) / 100⌋ for e in −25..=25.
        assert!((n + 1) * 100 > f * 75 && *n * 100 <= f * 125, "{id}: {n} against the forecast {f}");
    }
    let o = dacu(&["simulate", "--festival", p(&fest), "--traffic-error-pct", "101", "--quiet", "--out", "-"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--traffic-error-pct must be 0 to 100, got 101"), "{}", stderr(&o));
}
