//! `dacu bench` through the real binary, as built: a default build has no Redis or
//! PostgreSQL client, and says how to get one that has.

mod common;
use common::*;

/// Without the `baselines` feature, every bench that has a baseline refuses one before
/// doing anything (no work directory, no simulation), names the build that has it, and
/// exits 2; `--baselines none` still runs.
#[cfg(not(feature = "baselines"))]
#[test]
fn a_baseline_needs_a_build_with_the_baselines_feature() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    let f = festival("example-mini.toml");
    let runs: [&[&str]; 5] = [
        &["bench", "ingest", "--festival", p(&f), "--scale", "2000", "--work", p(&work), "--baselines", "redis"],
        &["bench", "grabs", "--festival", p(&f), "--count", "1000", "--baselines", "redis"],
        &["bench", "claims", "--festival", p(&f), "--count", "1000", "--baselines", "redis"],
        &["bench", "boards", "--entrants", "100", "--count", "1000", "--baselines", "redis"],
        &["bench", "settle", "--data", p(&work), "--baselines", "postgres"],
    ];
    for args in runs {
        let o = dacu(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stdout(&o));
        let err = stderr(&o);
        assert!(err.contains("built without the Redis and PostgreSQL baselines"), "{args:?}: {err}");
        assert!(err.contains(&format!("cargo run --release --features baselines -- bench {}", args[1])), "{err}");
        assert!(stdout(&o).is_empty(), "{args:?} ran: {}", stdout(&o));
    }
    assert!(!work.exists(), "bench ingest made its work directory before refusing");
    let o = dacu(&["bench", "claims", "--festival", p(&f), "--count", "1000", "--baselines", "none"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("coupon claims in-engine: 1000"), "{}", stdout(&o));
}

/// An unknown baseline is refused in any build, naming the ones the bench has.
#[test]
fn an_unknown_baseline_is_refused() {
    let f = festival("example-mini.toml");
    let o = dacu(&["bench", "grabs", "--festival", p(&f), "--count", "1000", "--baselines", "postgres"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown baseline `postgres`; `bench grabs` has: redis, none"), "{}", stderr(&o));
}

/// The traffic bench at a tiny size, all three planners: with the forecast exact, serving
/// delivers exactly what each planned (its under-delivery is the plan's shortfall, nothing
/// is over-delivered, and the bench's own conservation check passed); the LP's planned
/// shortfall is the least; a bad size or planner is refused, naming what is accepted.
#[test]
fn the_traffic_bench_delivers_its_plan_when_the_forecast_is_exact() {
    // Load 150%: demand the supply cannot cover, so the shortfalls are not all zero.
    for load in ["70", "150"] {
        let o =
            dacu(&["bench", "traffic", "--nodes", "20", "--contracts", "60", "--load-pct", load, "--errors", "0,25"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let out = stdout(&o);
        let json: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
        let planners = json["planners"].as_array().unwrap();
        let names: Vec<&str> = planners.iter().map(|p| p["planner"].as_str().unwrap()).collect();
        assert_eq!(names, ["hwm", "shale", "lp"], "{out}");
        assert_eq!(json["skipped"], serde_json::json!([]), "{out}");
        let short = |k: usize| planners[k]["planned_shortfall_pct"].as_f64().unwrap();
        for p in planners {
            let runs = p["runs"].as_array().unwrap();
            assert_eq!(runs.len(), 2);
            assert_eq!(runs[0]["under_delivery_pct"], p["planned_shortfall_pct"], "{out}");
            assert_eq!(runs[0]["replanned_under_delivery_pct"], p["planned_shortfall_pct"], "{out}");
            for r in runs {
                assert_eq!(r["over_delivery_pct"], 0.0, "{out}");
                assert_eq!(r["replanned_over_delivery_pct"], 0.0, "{out}");
                // The largest deviation from the curve ends at least at the shortfall.
                assert!(r["smoothness_pct"].as_f64().unwrap() >= r["under_delivery_pct"].as_f64().unwrap() - 1e-9);
                assert!(r["smoothness_max_pct"].as_f64().unwrap() <= 100.0 + 1e-9, "{out}");
            }
        }
        assert!(short(2) <= short(0) + 1e-12 && short(2) <= short(1) + 1e-12, "{out}");
        if load == "150" {
            assert!(short(2) > 0.0, "{out}");
        }
        assert!(out.contains("gap to the LP optimum"), "{out}");
    }
    let o = dacu(&["bench", "traffic", "--nodes", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--nodes must be 1 to 1000000"), "{}", stderr(&o));
    let o = dacu(&["bench", "traffic", "--nodes", "20", "--contracts", "60", "--planners", "hwm,foo"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown planner `foo`; `bench traffic` has: hwm, shale, lp"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
}

/// The LP has a size limit: by default a larger instance runs without it (saying so),
/// and asking for it there is refused before anything is planned.
#[test]
fn the_traffic_bench_skips_or_refuses_the_lp_above_its_limit() {
    // 3 nodes × 15,000 contracts: 23,930 eligible pairs, over the LP's 20,000; no demand,
    // so that serving (one decision costs a step per contract planned at the node) is quick.
    let args = ["bench", "traffic", "--nodes", "3", "--contracts", "15000", "--load-pct", "0", "--errors", "0"];
    let o = dacu(&[&args[..], &["--planners", "shale,lp"]].concat());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--planners lp: the linear program plans at most 20000"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
    let o = dacu(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("lp: skipped"), "{out}");
    let json: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(json["skipped"], serde_json::json!(["lp"]), "{out}");
    assert_eq!(json["planners"].as_array().unwrap().len(), 2, "{out}");
}

/// The impressions bench answers every opportunity once at each batch size, and refuses a
/// festival without `[traffic]` and a batch larger than the count.
#[test]
fn the_impressions_bench_answers_every_opportunity_once() {
    let f = festival("kuaishou-116-2021.toml");
    let o = dacu(&["bench", "impressions", "--festival", p(&f), "--count", "1200", "--batches", "1,12,1200"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let json: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let runs = json["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3, "{out}");
    for (r, batch) in runs.iter().zip([1u64, 12, 1200]) {
        assert_eq!(r["batch"], batch);
        assert_eq!(r["decisions"], 1200, "{r}");
        assert_eq!(r["commands"], 1200 / batch, "{r}");
        assert!(r["served"].as_u64().unwrap() <= 1200, "{r}");
    }
    let mini = festival("example-mini.toml");
    let o = dacu(&["bench", "impressions", "--festival", p(&mini), "--count", "10", "--batches", "1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("has no [traffic] section"), "{}", stderr(&o));
    let o = dacu(&["bench", "impressions", "--festival", p(&f), "--count", "10", "--batches", "11"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("each --batches value must be 1 to --count (10)"), "{}", stderr(&o));
}
