//! Every `dacu bench` at a tiny scale through the real binary: each completes, and its own
//! cross-checks hold — each bench exits non-zero when they fail (a baseline's GMV or
//! payouts differing from dacu's, a red packet's shares not emptied, a claim lost, a
//! board losing an entrant, a line acknowledged twice or not at all). In a build with the
//! `baselines` feature the Redis and PostgreSQL designs run too, on this machine's servers.
//! Nothing here asserts a time. (`bench traffic` and `bench impressions`: tests/bench.rs.)

mod common;
use common::*;
use serde_json::Value;

/// The baselines a bench runs here: its own, where the build has them.
fn baselines(these: &'static str) -> &'static str {
    if cfg!(feature = "baselines") {
        these
    } else {
        "none"
    }
}

/// Runs a bench that must succeed; its JSON lines, by their `bench` field.
fn bench(args: &[&str]) -> Vec<Value> {
    let o = dacu(args);
    assert!(o.status.success(), "{args:?}: {}\n{}", stderr(&o), stdout(&o));
    let out = stdout(&o);
    let lines: Vec<Value> =
        out.lines().filter(|l| l.starts_with('{')).map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!lines.is_empty(), "{args:?} printed no JSON: {out}");
    lines
}

fn named<'a>(lines: &'a [Value], name: &str) -> &'a Value {
    lines.iter().find(|v| v["bench"] == name).unwrap_or_else(|| panic!("no `{name}` line in {lines:?}"))
}

#[test]
fn every_bench_completes_at_a_tiny_scale_with_its_cross_checks() {
    let tmp = tempfile::tempdir().unwrap();
    let mini = festival("example-mini.toml");
    // The in-engine market benches set their workloads on 11-11.
    let f116 = festival("kuaishou-116-2021.toml");
    let work = tmp.path().join("work");
    let data = work.join("data");
    let data = p(&data);

    let ingest = bench(&[
        "bench",
        "ingest",
        "--festival",
        p(&mini),
        "--scale",
        "3000",
        "--work",
        p(&work),
        "--baselines",
        baselines("redis,postgres"),
    ]);
    let i = named(&ingest, "ingest");
    assert!(i["events"].as_u64().unwrap() > 0 && i["orders"].as_u64().unwrap() > 0, "{i}");
    if cfg!(feature = "baselines") {
        let runs: Vec<&Value> = ingest.iter().filter(|v| v["bench"] == "baseline").collect();
        assert_eq!(runs.len(), 2, "{ingest:?}");
        for r in runs {
            assert_eq!(r["gmv"], r["dacu_gmv"], "{r}");
        }
    }
    for what in ["replay", "restart"] {
        bench(&["bench", what, "--data", data]);
    }
    let memory = bench(&["bench", "memory", "--data", data]);
    let m = named(&memory, "memory");
    let orders = m["orders"].as_u64().unwrap();
    assert!(orders > 0 && orders <= i["orders"].as_u64().unwrap(), "{m}");
    assert!(m["tables"].as_array().unwrap().iter().all(|t| t["mib"].as_f64().is_some()), "{m}");
    bench(&["bench", "quote", "--festival", p(&f116), "--iterations", "200"]);
    bench(&["bench", "grabs", "--festival", p(&f116), "--count", "2000", "--baselines", baselines("redis")]);
    bench(&["bench", "claims", "--festival", p(&f116), "--count", "2000", "--baselines", baselines("redis")]);
    let parts = bench(&[
        "bench",
        "partitions",
        "--festival",
        p(&f116),
        "--count",
        "3001",
        "--partitions",
        "1,3",
        "--simulated",
        "3000",
    ]);
    let festival = named(&parts, "partitions_festival");
    assert!(festival["commands"].as_u64().unwrap() > 1_000, "{festival}");
    let runs = named(&parts, "partitions")["runs"].as_array().unwrap().clone();
    assert_eq!(runs.iter().map(|r| r["partitions"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 3]);
    let bad = dacu(&["bench", "partitions", "--festival", p(&f116), "--count", "10", "--partitions", "0"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("partitions must be 1 to 64"), "{}", stderr(&bad));
    let boards = ["--entrants", "100", "--count", "2000", "--queries", "100"];
    bench(&[&["bench", "boards"][..], &boards, &["--baselines", baselines("redis")]].concat());
    bench(&["bench", "settle", "--data", data, "--runs", "1", "--baselines", baselines("postgres")]);
    bench(&["bench", "node", "--data", data, "--seconds", "0.3", "--clients", "2"]);
    let acks = tmp.path().join("acks");
    bench(&["bench", "acks", "--festival", p(&mini), "--count", "20", "--interval-ms", "1", "--work", p(&acks)]);
}
