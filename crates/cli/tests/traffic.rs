//! Guaranteed traffic through the real binary: `dacu check` warns of a contract the
//! forecast cannot cover; impressions ingested are delivered and shown by `dacu show
//! contract` and `dacu report`; and `dacu serve` answers `POST /v1/impressions` and
//! `GET /v1/contracts/{id}`.

mod serve_common;
use serde_json::{json, Value};
use serve_common::*;
use std::path::Path;

const TRAFFIC: &str = r#"
[traffic]
[[traffic.slots]]
id = "main_venue"
name_zh = "主会场"
name_en = "Main venue"
per_hour = 1000
[[traffic.segments]]
id = "all"
name_zh = "全部"
name_en = "Everyone"
share_bp = 10000
[[traffic.contracts]]
id = "venue"
slots = ["main_venue"]
impressions = 30000
start = 2021-11-04T00:00:00+08:00
end = 2021-11-07T00:00:00+08:00
[[traffic.contracts]]
id = "tight"
slots = ["main_venue"]
impressions = 5000
start = 2021-11-01T00:00:00+08:00
end = 2021-11-01T02:00:00+08:00
"#;

fn festival_file(dir: &Path) -> std::path::PathBuf {
    let base = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(FESTIVAL)).unwrap();
    let path = dir.join("festival.toml");
    std::fs::write(&path, format!("{base}\n{TRAFFIC}")).unwrap();
    path
}

fn run(args: &[&str], input: Option<&str>) -> std::process::Output {
    let mut c = dacu();
    c.args(args);
    let mut child = c
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(i) = input {
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), i.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

#[test]
fn check_warns_of_a_contract_the_forecast_cannot_cover() {
    let tmp = tempfile::tempdir().unwrap();
    let f = festival_file(tmp.path());
    let out = run(&["check", f.to_str().unwrap()], None);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("Traffic contracts") && stdout.ends_with("OK\n"), "{stdout}");
    // Two hours of 1,000 cannot give 5,000: short by 3,000.
    assert!(stderr.contains("warning: traffic contract `tight` promises 5000 impressions"), "{stderr}");
    assert!(stderr.contains("short by 3000"), "{stderr}");
    assert!(!stderr.contains("`venue`"), "{stderr}");
}

#[test]
fn impressions_are_delivered_shown_reported_and_served_over_http() {
    let tmp = tempfile::tempdir().unwrap();
    let f = festival_file(tmp.path());
    let data = tmp.path().join("d");
    // Every hour of 11-04, at the forecast.
    let mut lines = String::new();
    for h in 0..24 {
        lines += &format!(
            "{{\"type\":\"impression\",\"slot\":\"main_venue\",\"segment\":\"all\",\"count\":1000,\"at\":\"2021-11-04T{h:02}:30:00+08:00\"}}\n"
        );
    }
    lines += "{\"type\":\"impression\",\"slot\":\"side\",\"segment\":\"all\",\"at\":\"2021-11-04T12:00:00+08:00\"}\n";
    let d = data.to_str().unwrap();
    let out = run(&["ingest", "--data", d, "--festival", f.to_str().unwrap()], Some(&lines));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("\"code\":\"unknown_slot\""), "{stderr}");

    let show = run(&["show", "--data", d, "contract", "venue", "--json"], None);
    assert!(show.status.success(), "{}", String::from_utf8_lossy(&show.stderr));
    let c: Value = serde_json::from_slice(&show.stdout).unwrap();
    // A third of its window's forecast has passed: a third of its impressions, within the
    // tolerance.
    let delivered = c["delivered"].as_u64().unwrap();
    assert!((9_500..=10_100).contains(&delivered), "{c}");
    assert_eq!(c["curve"][0]["delivered"].as_u64(), Some(delivered), "{c}");
    let missing = run(&["show", "--data", d, "contract", "nope"], None);
    assert_eq!(missing.status.code(), Some(1));

    let report = run(&["report", "--data", d, "--json"], None);
    let r: Value = serde_json::from_slice(&report.stdout).unwrap();
    let t = &r["traffic_delivery"];
    assert_eq!(t["opportunities"].as_u64(), Some(24_000), "{t}");
    assert_eq!(t["served"].as_u64(), Some(delivered), "{t}");
    assert_eq!(t["served"].as_u64().unwrap() + t["unsold"].as_u64().unwrap(), 24_000, "{t}");
    let text = run(&["report", "--data", d], None);
    assert!(String::from_utf8_lossy(&text.stdout).contains("Guaranteed traffic"));

    let tok = token(&data, "integration", None);
    let s = Server::start(&data, &[]);
    let r = s.post(&tok, "/v1/impressions", &json!({"slot": "main_venue", "segment": "all", "count": 400}));
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = r.json().unwrap();
    let served = body["events"]
        .as_array()
        .and_then(|evs| evs.iter().find_map(|e| e.get("impressions_served")))
        .unwrap_or_else(|| panic!("no impressions_served in {body}"))
        .clone();
    assert_eq!(served["count"].as_u64(), Some(400), "{served}");
    let shown: u64 = served["served"].as_array().unwrap().iter().map(|p| p[1].as_u64().unwrap()).sum();
    let last = body["last_seq"].as_u64().unwrap();
    let c: Value = s.get(&tok, &format!("/v1/contracts/venue?at_least={last}")).json().unwrap();
    assert_eq!(c["delivered"].as_u64(), Some(delivered + shown), "{c}");
    let r = s.post(&tok, "/v1/impressions", &json!({"slot": "main_venue", "segment": "nobody"}));
    assert_eq!(r.status().as_u16(), 404);
    s.stop();
}

/// A payout that awards both a traffic pack and a main-venue slot makes two contracts:
/// `settle-‹n›/‹payout›` and `settle-‹n›/‹payout›/2` (docs/traffic.md, "Contracts").
#[test]
fn a_payout_with_a_pack_and_a_slot_makes_two_contracts() {
    let tmp = tempfile::tempdir().unwrap();
    let grants = r#"
[[traffic.grants]]
reward = "traffic_pack"
slots = ["main_venue"]
hours = 48
[[traffic.grants]]
reward = "main_venue_slot"
slots = ["main_venue"]
hours = 48
impressions = 4000

[[reward_tables]]
id = "early_rewards"
[[reward_tables.bands]]
rank_from = 1
rank_to = 1
items = [
  { kind = "traffic_pack", impressions = 20_000 },
  { kind = "main_venue_slot", name = "主会场资源位" },
]

[[contests]]
id = "early_race"
name_zh = "早场排位赛"
name_en = "Early contest"
track = "anchor"
program = "anchor_race"
metric = "gmv"
start = 2021-11-02T00:00:00+08:00
end = 2021-11-03T00:00:00+08:00
reward_table = "early_rewards"
"#;
    let base = festival_file(tmp.path());
    let text = std::fs::read_to_string(&base).unwrap() + grants;
    std::fs::write(&base, text).unwrap();
    let f = base.to_str().unwrap();
    let data = tmp.path().join("d");
    let d = data.to_str().unwrap();
    let lines = r#"{"type":"register_anchor","anchor":"a1","name":"A","followers":1000}
{"type":"enroll","program":"anchor_race","participant":"a1","at":"2021-11-02T09:00:00+08:00"}
{"type":"register_merchant","merchant":"m1","name":"Peony Beauty","brand_tier":"ska","category":"beauty"}
{"type":"live_start","session":"s1","anchor":"a1","at":"2021-11-02T10:00:00+08:00"}
{"type":"order_paid","order":"o1","user":"u1","merchant":"m1","channel":"live","session":"s1","lines":[{"sku":"m1-a","qty":1,"price":100000,"paid":100000}],"at":"2021-11-02T10:10:00+08:00"}
{"type":"live_end","session":"s1","at":"2021-11-02T11:00:00+08:00"}
{"type":"settle","id":"s-early","at":"2021-11-03T01:00:00+08:00"}
{"type":"impression","slot":"main_venue","segment":"all","count":1000,"at":"2021-11-03T10:30:00+08:00"}
"#;
    let o = run(&["ingest", "--data", d, "--festival", f], Some(lines));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ledger: Value = serde_json::from_slice(&run(&["ledger", "--data", d, "--json"], None).stdout).unwrap();
    let award = |item: &str| {
        ledger["lines"].as_array().unwrap().iter().find(|l| l["item"] == item && l["participant"] == "a1").cloned()
    };
    let (pack, slot) = (award("traffic_pack").expect("a pack"), award("main_venue_slot").expect("a slot"));
    assert_eq!(pack["payout"], slot["payout"], "one payout, two award lines");
    let root = format!("settle-1/{}", pack["payout"].as_str().unwrap());
    let show = |id: &str| -> Value {
        let o = run(&["show", "--data", d, "contract", id, "--json"], None);
        assert!(o.status.success(), "{id}: {}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    assert_eq!(show(&root)["impressions"], 20_000);
    assert_eq!(show(&format!("{root}/2"))["impressions"], 4_000);
}
