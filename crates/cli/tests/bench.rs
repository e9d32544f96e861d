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

/// The traffic bench at a tiny size: with the forecast exact, serving delivers exactly
/// what was planned (its under-delivery is the plan's shortfall, nothing is over-delivered,
/// and the bench's own conservation check passed); a bad size is refused.
#[test]
fn the_traffic_bench_delivers_its_plan_when_the_forecast_is_exact() {
    let o = dacu(&["bench", "traffic", "--nodes", "20", "--contracts", "60", "--errors", "0,25"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let json: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let runs = json["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["under_delivery_pct"], json["planned_shortfall_pct"], "{out}");
    for r in runs {
        assert_eq!(r["over_delivery_pct"], 0.0, "{out}");
    }
    assert_eq!(runs[0]["replanned_under_delivery_pct"], json["planned_shortfall_pct"], "{out}");
    let o = dacu(&["bench", "traffic", "--nodes", "0"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--nodes must be 1 to 1000000"), "{}", stderr(&o));
}
