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
