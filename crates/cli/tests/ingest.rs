//! `dacu ingest`, `show`, `report` and `digest` on the hand-computed example activity.
//! examples/example-mini.jsonl is commented in docs/cli.md; every number below is worked
//! out by hand from it.

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;

fn ingest_example(data: &Path) -> std::process::Output {
    dacu(&[
        "ingest",
        "--data",
        p(data),
        "--festival",
        p(&festival("example-mini.toml")),
        p(&example("example-mini.jsonl")),
    ])
}

fn show(data: &Path, kind: &str, id: &str) -> Value {
    let o = dacu(&["show", "--data", p(data), kind, id, "--json"]);
    assert!(o.status.success(), "show {kind} {id}: {}", stderr(&o));
    json(&o)
}

#[test]
fn ingest_counts_and_explains_rejections() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let o = ingest_example(&data);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), r#"{"accepted":32,"rejected":6}"#);
    let lines: Vec<Value> = stderr(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let got: Vec<(u64, &str)> =
        lines.iter().map(|l| (l["line"].as_u64().unwrap(), l["code"].as_str().unwrap())).collect();
    assert_eq!(
        got,
        [
            (33, "duplicate_order"),
            (34, "refund_exceeds_remaining"),
            (35, "not_eligible"),
            (36, "provider_not_certified"),
            (37, "session_not_allowed"),
            (38, "invalid_json"),
        ]
    );
    // Field order as documented: line, code, message.
    assert!(stderr(&o).lines().all(|l| l.starts_with("{\"line\":")), "{}", stderr(&o));
    assert!(lines[1]["message"].as_str().unwrap().contains("12000 fen left"), "{}", lines[1]);
}

#[test]
fn gmv_is_attributed_to_every_party() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(ingest_example(&data).status.success());

    // m1: o1 18000 (refunded 6000) + o2 5000.
    let m1 = show(&data, "merchant", "m1");
    assert_eq!(
        (m1["gmv"].as_i64(), m1["gmv_gross"].as_i64(), m1["refunded"].as_i64(), m1["orders"].as_u64()),
        (Some(17000), Some(23000), Some(6000), Some(2))
    );
    assert_eq!(m1["self_broadcast_gmv"], 5000);
    assert_eq!(m1["provider"], "p1");
    // m2 moved from p1 to p2 on 11-05: o3 (11-03) stays with p1, o4 (11-06) goes to p2.
    let m2 = show(&data, "merchant", "m2");
    assert_eq!((m2["gmv"].as_i64(), m2["orders"].as_u64()), (Some(5500), Some(2)));
    assert_eq!(m2["provider"], "p2");
    assert_eq!(m2["by_channel"]["shelf"]["gmv"], 5500);
    let m3 = show(&data, "merchant", "m3");
    assert_eq!(
        (m3["gmv"].as_i64(), m3["gmv_gross"].as_i64(), m3["refunded"].as_i64()),
        (Some(0), Some(20000), Some(20000))
    );

    let head = show(&data, "anchor", "a_head");
    assert_eq!(
        (head["gmv"].as_i64(), head["gmv_gross"].as_i64(), head["orders"].as_u64()),
        (Some(12000), Some(38000), Some(2))
    );
    assert_eq!(head["tier"], "head");
    assert_eq!(head["programs"], serde_json::json!(["anchor_race"]));
    let own = show(&data, "anchor", "a_own");
    assert_eq!(
        (own["gmv"].as_i64(), own["tier"].as_str(), own["merchant"].as_str()),
        (Some(5000), Some("new"), Some("m1"))
    );
    assert_eq!(show(&data, "anchor", "a_mid")["tier"], "mid");

    let p1 = show(&data, "provider", "p1");
    assert_eq!((p1["gmv"].as_i64(), p1["gmv_gross"].as_i64()), (Some(21500), Some(27500)));
    assert_eq!(p1["merchants_served"], serde_json::json!(["m1"]));
    assert_eq!(p1["provider_served_self_broadcast_gmv"], 5000);
    assert_eq!(show(&data, "provider", "p2")["gmv"], 1000);

    let s1 = show(&data, "session", "s1");
    assert_eq!(
        (s1["gmv"].as_i64(), s1["gmv_gross"].as_i64(), s1["orders"].as_u64()),
        (Some(12000), Some(38000), Some(2))
    );
    assert_eq!(
        (s1["unique_viewers"].as_u64(), s1["entries"].as_u64(), s1["peak_concurrent"].as_u64()),
        (Some(2), Some(2), Some(2))
    );
    // u1 watched 20:00–20:30, u2 20:05 until the stream ended at 21:00.
    assert_eq!(s1["watch_s"], 30 * 60 + 55 * 60);
    assert_eq!(s1["interactions"]["follow"], 1);
    assert_eq!(s1["end"], "2021-11-05T21:00:00+08:00");

    // A refund counts against the day the order was paid.
    assert_eq!(show(&data, "day", "2021-11-05")["gmv"], 17000);
    assert_eq!(show(&data, "day", "2021-11-03")["gmv"], 4500);
    assert_eq!(show(&data, "day", "2021-11-07")["gmv"], 0);
}

#[test]
fn the_report_adds_up() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(ingest_example(&data).status.success());
    let o = dacu(&["report", "--data", p(&data), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = json(&o);
    assert_eq!(r["gmv"], 22500);
    assert_eq!(r["gmv_gross"], 48500);
    assert_eq!(r["refunded"], 26000);
    assert_eq!(r["gmv_by_channel"], serde_json::json!({"live": 17000, "shelf": 5500}));
    assert_eq!(r["gmv_by_brand_tier"], serde_json::json!({"ska": 17000, "ka": 5500, "none": 0}));
    assert_eq!(r["gmv_by_anchor_tier"], serde_json::json!({"head": 12000, "mid": 0, "new": 5000}));
    assert_eq!(r["self_broadcast_gmv"], 5000);
    assert_eq!(r["provider_served_self_broadcast_gmv"], 5000);
    assert_eq!(r["provider_served_gmv"], 22500);
    assert_eq!(r["merchants"], 3);
    assert_eq!(r["merchants_served_by_providers"], 2);
    assert_eq!(r["certified_providers"], 2);
    assert_eq!(r["buyers"], 4);
    assert_eq!(r["top_anchors"][0]["id"], "a_head");
    // The SKA figure: m1 has ¥170 of GMV, over the ¥1,000 threshold? No: 17000 fen < 100000.
    assert_eq!(r["figures"][0]["computed"], "0");

    let text = dacu(&["report", "--data", p(&data)]);
    assert!(text.status.success());
    assert!(stdout(&text).contains("¥225.00"), "{}", stdout(&text));
}

#[test]
fn a_data_directory_reopens_to_the_same_digest_and_keeps_appending() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(ingest_example(&data).status.success());
    let d1 = stdout(&dacu(&["digest", "--data", p(&data)]));
    let d2 = stdout(&dacu(&["digest", "--data", p(&data)]));
    assert_eq!(d1, d2);
    assert!(d1.ends_with(" events=32\n"), "{d1}");

    // The same commands through stdin in two halves give the same digest.
    let all = std::fs::read_to_string(example("example-mini.jsonl")).unwrap();
    let lines: Vec<&str> = all.lines().collect();
    let other = dir.path().join("e");
    let a = dacu_stdin(
        &["ingest", "--data", p(&other), "--festival", p(&festival("example-mini.toml"))],
        &(lines[..20].join("\n") + "\n"),
    );
    assert_eq!(stdout(&a).trim(), r#"{"accepted":20,"rejected":0}"#, "{}", stderr(&a));
    let b = dacu_stdin(&["ingest", "--data", p(&other), "-"], &(lines[20..].join("\n") + "\n"));
    assert_eq!(stdout(&b).trim(), r#"{"accepted":12,"rejected":6}"#);
    assert_eq!(stdout(&dacu(&["digest", "--data", p(&other)])), d1);

    // Re-ingesting the same file rejects every command: nothing counts twice.
    let again = ingest_example(&data);
    assert_eq!(stdout(&again).trim(), r#"{"accepted":0,"rejected":38}"#);
    assert_eq!(stdout(&dacu(&["digest", "--data", p(&data)])), d1);
}

#[test]
fn strict_mode_and_usage_errors_have_their_own_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let o = dacu(&[
        "ingest",
        "--strict",
        "--data",
        p(&data),
        "--festival",
        p(&festival("example-mini.toml")),
        p(&example("example-mini.jsonl")),
    ]);
    assert_eq!(o.status.code(), Some(1));
    // Without a festival a new directory cannot be created.
    let o = dacu(&["ingest", "--data", p(&dir.path().join("none")), p(&example("example-mini.jsonl"))]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--festival"), "{}", stderr(&o));
    // Another festival cannot be poured into an existing directory.
    let o = dacu(&[
        "ingest",
        "--data",
        p(&data),
        "--festival",
        p(&festival("kuaishou-116-2021.toml")),
        p(&example("example-mini.jsonl")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("different festival"), "{}", stderr(&o));
    // Unknown ids exit 1 with a message.
    let o = dacu(&["show", "--data", p(&data), "merchant", "nobody", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no merchant `nobody`"));
}

#[test]
fn the_demo_runs_the_116_festival() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let o = dacu(&["demo", "--scale", "small", "--data", p(&data)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("快手116品质购物节"), "{out}");
    assert!(out.contains("By anchor tier"), "{out}");
    assert!(out.contains("ingested durably"), "{out}");
    // The directory it leaves serves the same state a replay of its log gives.
    let v = dacu(&["verify", "--data", p(&data)]);
    assert!(v.status.success(), "{}", stdout(&v));
    let r = json(&dacu(&["report", "--data", p(&data), "--json"]));
    assert!(r["gmv"].as_i64().unwrap() > 0);
    assert!(r["self_broadcast_gmv"].as_i64().unwrap() > 0);
    assert!(r["merchants_served_by_providers"].as_u64().unwrap() > 0);
    // Running it again starts afresh rather than piling onto the old directory.
    let again = dacu(&["demo", "--quiet", "--scale", "small", "--data", p(&data)]);
    assert!(again.status.success());
    assert_eq!(json(&dacu(&["report", "--data", p(&data), "--json"]))["events"], r["events"]);
}

#[test]
fn an_order_that_would_wrap_the_gmv_is_refused_with_limit_exceeded() {
    // A thousand lines within the line limits (qty 10^6 × price 10^10, paid 10^16 each)
    // once made the festival's GMV −8,446,744,073,709,551,616.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let lines: Vec<String> = (0..1000)
        .map(|i| format!(r#"{{"sku":"k{i}","qty":1000000,"price":10000000000,"paid":10000000000000000}}"#))
        .collect();
    let stream = format!(
        "{}\n{}\n",
        r#"{"type":"register_merchant","merchant":"m1","name":"M","brand_tier":"ska","category":"c"}"#,
        format_args!(
            r#"{{"type":"order_paid","order":"o1","user":"u","merchant":"m1","channel":"shelf","lines":[{}],"at":"2021-11-05T10:00:00+08:00"}}"#,
            lines.join(",")
        )
    );
    let o = dacu_stdin(&["ingest", "--data", p(&data), "--festival", p(&festival("example-mini.toml")), "-"], &stream);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), r#"{"accepted":1,"rejected":1}"#);
    assert!(stderr(&o).contains(r#""line":2,"code":"limit_exceeded""#), "{}", stderr(&o));
    let r = dacu(&["report", "--data", p(&data), "--json"]);
    assert_eq!(json(&r)["gmv"], 0);
}
