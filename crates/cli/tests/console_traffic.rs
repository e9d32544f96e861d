//! The console's guaranteed-traffic panel in a real headless Chromium, against the real
//! `dacu serve`: the operator's totals, tracks and curves are the report's, the contracts
//! most behind and those ended short are `dacu show contract`'s, a participant sees its
//! own contracts only, and an impression sent through the API moves the panel.

mod browser;
mod console_common;
mod serve_common;
use browser::{artifacts_dir, Browser};
use console_common::*;
use serde_json::{json, Value};
use serve_common::*;
use std::path::Path;

/// Guaranteed traffic for the example festival: one slot of 1,000 opportunities an hour;
/// `venue` runs from 11-02 to the end, `short` and `tight` end on 11-01 (ticked late
/// enough that `tight`'s make-good would have no time left: owed), every anchor enrolled
/// in the race gets `race-pack/‹anchor›`, and the winner of `early_race` (11-02) a
/// traffic pack of 100,000 impressions over 48 hours from its settlement.
const TRAFFIC: &str = r#"
[traffic]
make_good_hours = 24
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
impressions = 60000
start = 2021-11-02T00:00:00+08:00
end = 2021-11-08T00:00:00+08:00
[[traffic.contracts]]
id = "short"
slots = ["main_venue"]
impressions = 20000
start = 2021-11-01T00:00:00+08:00
end = 2021-11-02T00:00:00+08:00
[[traffic.contracts]]
id = "tight"
slots = ["main_venue"]
impressions = 5000
start = 2021-11-01T00:00:00+08:00
end = 2021-11-01T02:00:00+08:00
[[traffic.contracts]]
id = "race-pack"
program = "anchor_race"
slots = ["main_venue"]
impressions = 10000
start = 2021-11-02T00:00:00+08:00
end = 2021-11-06T00:00:00+08:00
[[traffic.grants]]
reward = "traffic_pack"
slots = ["main_venue"]
hours = 48

[[contests]]
id = "early_race"
name_zh = "早场排位赛"
name_en = "Early contest"
track = "anchor"
program = "anchor_race"
metric = "gmv"
start = 2021-11-02T00:00:00+08:00
end = 2021-11-03T00:00:00+08:00
reward_table = "race_rewards"
"#;

/// Every contract the traffic stream makes, by track, but the settlement's grant.
const CONTRACTS: [(&str, &str); 6] = [
    ("venue", "platform"),
    ("short", "platform"),
    ("tight", "platform"),
    ("short+mg1", "platform"),
    ("race-pack/a_head", "anchor"),
    ("race-pack/a_mid", "anchor"),
];

/// A data directory of the example festival with [`TRAFFIC`]: impressions on 11-01
/// (`tight` and `short` end short; the tick on 11-02 makes `short` good and leaves
/// `tight` owed), enrolments, a_head's live session and order on 11-02 (it wins
/// `early_race`), impressions on 11-02, the settlement of 11-03 01:00 (the grant),
/// impressions on 11-03 (`short+mg1` ends short too, owed, at the tick of 11-04), and one
/// on 11-04 at noon.
fn setup_traffic(dir: &Path) -> std::path::PathBuf {
    let base = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(FESTIVAL)).unwrap();
    let festival = dir.join("festival.toml");
    std::fs::write(&festival, format!("{base}\n{TRAFFIC}")).unwrap();
    let imp = |day: u32, hour: u32| {
        format!(
            "{{\"type\":\"impression\",\"slot\":\"main_venue\",\"segment\":\"all\",\"count\":1000,\"at\":\"2021-11-{day:02}T{hour:02}:30:00+08:00\"}}\n"
        )
    };
    let mut lines = String::new();
    for a in ["a_head", "a_mid"] {
        lines += &format!("{{\"type\":\"register_anchor\",\"anchor\":\"{a}\",\"name\":\"{a}\",\"followers\":1000}}\n");
    }
    (0..6).for_each(|h| lines += &imp(1, h));
    lines += "{\"type\":\"tick\",\"id\":\"t1\",\"at\":\"2021-11-02T03:00:00+08:00\"}\n";
    for a in ["a_head", "a_mid"] {
        lines += &format!(
            "{{\"type\":\"enroll\",\"program\":\"anchor_race\",\"participant\":\"{a}\",\"at\":\"2021-11-02T09:00:00+08:00\"}}\n"
        );
    }
    lines += r#"{"type":"register_merchant","merchant":"m1","name":"Peony Beauty","brand_tier":"ska","category":"beauty"}
{"type":"live_start","session":"s1","anchor":"a_head","at":"2021-11-02T10:00:00+08:00"}
{"type":"order_paid","order":"o1","user":"u1","merchant":"m1","channel":"live","session":"s1","lines":[{"sku":"m1-a","qty":1,"price":100000,"paid":100000}],"at":"2021-11-02T10:10:00+08:00"}
{"type":"live_end","session":"s1","at":"2021-11-02T11:00:00+08:00"}
"#;
    (10..16).for_each(|h| lines += &imp(2, h));
    lines += "{\"type\":\"settle\",\"id\":\"s-early\",\"at\":\"2021-11-03T01:00:00+08:00\"}\n";
    (10..14).for_each(|h| lines += &imp(3, h));
    lines += "{\"type\":\"tick\",\"id\":\"t2\",\"at\":\"2021-11-04T12:00:00+08:00\"}\n";
    lines += &imp(4, 12);
    let data = dir.join("d");
    let mut child = dacu()
        .args(["ingest", "--data"])
        .arg(&data)
        .arg("--festival")
        .arg(&festival)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), lines.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success() && out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    data
}

/// The first event of a push topic: its current value.
fn first_push(s: &Server, token: &str, topic: &str) -> Value {
    use std::io::BufRead;
    let r = s.get(token, &format!("/v1/events?topics={topic}"));
    assert_eq!(r.status().as_u16(), 200, "{topic}");
    let mut data = String::new();
    for line in std::io::BufReader::new(r).lines() {
        let line = line.unwrap();
        if let Some(v) = line.strip_prefix("data:") {
            data.push_str(v.trim());
        } else if line.is_empty() && !data.is_empty() {
            return serde_json::from_str(&data).unwrap();
        }
    }
    panic!("the stream of {topic} ended without an event");
}

#[test]
fn the_guaranteed_traffic_panel_shows_the_reports_delivery() {
    let tmp = tempfile::tempdir().unwrap();
    let data = setup_traffic(tmp.path());
    let d = data.to_str().unwrap();
    let report = cli_json(&["report", "--data", d, "--json"]);
    let want = &report["traffic_delivery"];
    // The grant: settlement 1's traffic-pack line to a_head.
    let ledger = cli_json(&["ledger", "--data", d, "--json"]);
    let line = ledger["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["item"] == "traffic_pack" && l["participant"] == "a_head")
        .unwrap_or_else(|| panic!("a_head wins a traffic pack: {ledger}"));
    let grant = format!("settle-1/{}", line["payout"].as_str().unwrap());
    let mut contracts: Vec<(&str, &str)> = CONTRACTS.to_vec();
    contracts.push((&grant, "anchor"));
    let shown: std::collections::BTreeMap<&str, Value> =
        contracts.iter().map(|(id, _)| (*id, cli_json(&["show", "--data", d, "contract", id, "--json"]))).collect();
    assert_eq!(shown[grant.as_str()]["impressions"], 100_000, "{}", shown[grant.as_str()]);
    let op = token(&data, "operator", None);
    let feed = token(&data, "integration", None);
    let s = Server::start(&data, &[]);

    // The operator's screen: the report's figures, and targets as `dacu show contract`.
    let v = first_push(&s, &op, "console");
    let t = &v["traffic"];
    for k in ["opportunities", "served", "unsold", "plans", "contracts", "promised", "delivered", "made_good", "owed"] {
        assert_eq!(t[k], want[k], "traffic.{k}: {t}");
    }
    assert!(t["owed"].as_u64().unwrap() > 0 && t["made_good"].as_u64().unwrap() > 0, "{t}");
    assert_eq!(t["make_goods"], 1, "{t}");
    // A track's target counts its own contracts, not their make-goods (which re-promise
    // part of a contract already counted in full).
    let own = |track: &str| -> Vec<&Value> {
        contracts.iter().filter(|c| c.1 == track && !c.0.contains("+mg")).map(|c| &shown[c.0]).collect()
    };
    let target_of = |track: &str| -> u64 { own(track).iter().map(|c| c["target_now"].as_u64().unwrap()).sum() };
    // A contract's target at a day's end: 0 before its window, its impressions after.
    let target_on = |c: &Value, day: &Value| -> u64 {
        let curve = c["curve"].as_array().unwrap();
        if let Some(p) = curve.iter().find(|p| p["day"] == *day) {
            return p["target"].as_u64().unwrap();
        }
        let before = day.as_str().unwrap() < curve[0]["day"].as_str().unwrap();
        if before {
            0
        } else {
            c["impressions"].as_u64().unwrap()
        }
    };
    let want_tracks = want["by_track"].as_array().unwrap();
    let tracks = t["tracks"].as_array().unwrap();
    assert_eq!(tracks.len(), want_tracks.len(), "{t}");
    assert_eq!(tracks.len(), 2, "{t}");
    for (x, w) in tracks.iter().zip(want_tracks) {
        for k in ["track", "contracts", "promised", "delivered", "shortfall", "owed"] {
            assert_eq!(x[k], w[k], "track {}: {k}", w["track"]);
        }
        // The report's curve, day by day; the target that of the track's own contracts.
        let (curve, want_curve) = (x["curve"].as_array().unwrap(), w["curve"].as_array().unwrap());
        assert_eq!(curve.len(), want_curve.len(), "{x}");
        for (p, q) in curve.iter().zip(want_curve) {
            for k in ["day", "delivered", "cumulative"] {
                assert_eq!(p[k], q[k], "{p} {q}");
            }
            let target: u64 = own(x["track"].as_str().unwrap()).iter().map(|c| target_on(c, &p["day"])).sum();
            assert_eq!(p["target"].as_u64(), Some(target), "{p}");
        }
        if x["track"] == "anchor" {
            assert_eq!(x["curve"], w["curve"], "no make-goods: the report's curve as it is");
        }
        // Once every contract of the track has ended, its target is what it promised.
        assert_eq!(curve.last().unwrap()["target"], x["promised"], "{x}");
        let target = target_of(x["track"].as_str().unwrap());
        assert_eq!(x["target_now"].as_u64(), Some(target), "{x}");
        let delivered = w["delivered"].as_i64().unwrap();
        assert_eq!(x["ahead"].as_i64(), Some(delivered - target as i64), "{x}");
        let promised = w["promised"].as_i64().unwrap();
        assert_eq!(x["delivered_bp"].as_i64(), Some((delivered * 20_000 + promised) / (2 * promised)), "{x}");
    }
    assert_eq!(t["target_now"].as_u64(), Some(target_of("platform") + target_of("anchor")), "{t}");
    // Behind their curve: every running contract whose target now is above its delivery,
    // the most behind first, each as `dacu show contract` has it.
    let behind: Vec<(&str, u64)> = contracts
        .iter()
        .map(|c| (c.0, &shown[c.0]))
        .filter(|(_, c)| c["ended"].is_null())
        .filter_map(|(id, c)| {
            c["target_now"].as_u64().unwrap().checked_sub(c["delivered"].as_u64().unwrap()).map(|g| (id, g))
        })
        .filter(|(_, g)| *g > 0)
        .collect();
    assert!(behind.iter().any(|(id, _)| *id == "venue"), "{behind:?}");
    let rows = t["behind"]["rows"].as_array().unwrap();
    assert_eq!(t["behind"]["total"].as_u64(), Some(behind.len() as u64), "{t}");
    assert_eq!(rows.len(), behind.len(), "{t}");
    for (i, r) in rows.iter().enumerate() {
        let c = &shown[r["contract"].as_str().unwrap()];
        assert_eq!(r["delivered"], c["delivered"], "{r}");
        assert_eq!(r["target_now"], c["target_now"], "{r}");
        assert_eq!(r["promised"], c["impressions"], "{r}");
        assert_eq!(r["end"], c["end"], "{r}");
        let gap = r["behind"].as_u64().unwrap();
        assert_eq!(gap, c["target_now"].as_u64().unwrap() - c["delivered"].as_u64().unwrap());
        if i > 0 {
            assert!(rows[i - 1]["behind"].as_u64().unwrap() >= gap, "the most behind first: {rows:?}");
        }
    }
    // Ended short: `short` made good by `short+mg1`; `tight` and `short+mg1` owed.
    let e = &t["ended_short"];
    assert_eq!((e["total"].as_u64(), e["made_good"].as_u64(), e["owed"].as_u64()), (Some(3), Some(1), Some(2)), "{e}");
    for r in e["rows"].as_array().unwrap() {
        let c = &shown[r["contract"].as_str().unwrap()];
        assert_eq!(r["delivered"], c["delivered"], "{r}");
        assert_eq!(r["shortfall"], c["ended"]["shortfall"], "{r}");
        assert_eq!(r["make_good"], c["ended"]["make_good"], "{r}");
        let owed = if c["ended"]["make_good"].is_null() { c["ended"]["shortfall"].clone() } else { json!(0) };
        assert_eq!(r["owed"], owed, "{r}");
    }
    let short = e["rows"].as_array().unwrap().iter().find(|r| r["contract"] == "short").unwrap();
    assert_eq!(short["make_good"], "short+mg1");
    assert_eq!(short["make_good_delivered"], shown["short+mg1"]["delivered"]);

    // A participant's screen: its own contracts — its enrolment's and its grant's, the
    // latest start first — as `dacu show contract` has them, and no other's.
    let p = first_push(&s, &op, "participant:anchor:a_head");
    let mine = p["traffic"]["contracts"].as_array().unwrap();
    assert_eq!(p["traffic"]["total"], 2, "{p}");
    let ids: Vec<&str> = mine.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [grant.as_str(), "race-pack/a_head"], "{p}");
    for (m, id) in mine.iter().zip(&ids) {
        let c = &shown[id];
        for k in ["impressions", "delivered", "target_now", "curve", "start", "end"] {
            assert_eq!(m[k], c[k], "{id}: {k}");
        }
    }
    assert!(mine.iter().map(|c| c["delivered"].as_u64().unwrap()).sum::<u64>() > 0, "{p}");
    let theirs = first_push(&s, &op, "participant:anchor:a_mid");
    let ids: Vec<&Value> = theirs["traffic"]["contracts"].as_array().unwrap().iter().map(|c| &c["id"]).collect();
    assert_eq!(ids, [&json!("race-pack/a_mid")], "{theirs}");
    let c = &shown["race-pack/a_head"];

    // The page: the panel with the same figures, a chart per track, the tables.
    let b = Browser::start();
    b.goto(&format!("{}/login?token={op}", s.url));
    b.wait_for("return document.querySelector('#traffic-promised')", WAIT);
    assert_eq!(b.eval("return document.getElementById('p-traffic').hidden"), false);
    for (css, k) in [("#traffic-promised", "promised"), ("#traffic-delivered", "delivered"), ("#traffic-owed", "owed")]
    {
        assert_eq!(data_num(&b, css, "n"), want[k].as_i64().unwrap(), "{css}");
    }
    assert_eq!(data_num(&b, "#traffic-ahead", "n"), t["ahead"].as_i64().unwrap());
    assert_eq!(b.text("#traffic-promised"), group(want["promised"].as_u64().unwrap()));
    for w in want_tracks {
        let css = format!("#traffic tr[data-track={}] td.delivered", w["track"].as_str().unwrap());
        assert_eq!(b.text(&css), group(w["delivered"].as_u64().unwrap()), "{css}");
    }
    let charts = "return document.querySelectorAll('#traffic .curve svg.chart polyline[data-line]').length";
    assert_eq!(b.eval(charts), 4, "a delivered and a target line per track");
    let first = rows[0]["contract"].as_str().unwrap();
    assert_eq!(b.text("#traffic-behind tr[data-contract] td"), first);
    let tight = b.text("#traffic-short tr[data-contract=tight]");
    assert!(tight.contains("owed"), "{tight}");
    let made = b.text("#traffic-short tr[data-contract=short]");
    assert!(made.contains("short+mg1"), "{made}");
    no_leaks(&b, "the console with traffic");
    b.eval("document.getElementById('p-traffic').scrollIntoView(); return true");
    b.screenshot(&artifacts_dir().join("console-traffic.png"));

    // An impression through the API moves the delivered figure without a reload.
    b.eval("window.__marker = 116; return true");
    let r: Value = s
        .post(&feed, "/v1/impressions", &json!({"slot": "main_venue", "segment": "all", "count": 500}))
        .json()
        .unwrap();
    let served: u64 = r["events"]
        .as_array()
        .and_then(|evs| evs.iter().find_map(|e| e.get("impressions_served")))
        .unwrap_or_else(|| panic!("no impressions_served in {r}"))["served"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[1].as_u64().unwrap())
        .sum();
    assert!(served > 0, "{r}");
    wait_num(&b, "#traffic-delivered", "n", want["delivered"].as_i64().unwrap() + served as i64);
    assert_eq!(b.eval("return window.__marker"), 116, "the page reloaded");

    // The participant's own page shows its contract.
    b.goto(&format!("{}/participants/anchor/a_head", s.url));
    b.wait_for("return document.querySelector('#p-traffic tr[data-contract]')", WAIT);
    let css = r#"#p-traffic tr[data-contract="race-pack/a_head"] td.delivered"#;
    b.wait_for(&format!("return document.querySelector('{css}')"), WAIT);
    assert!(data_num(&b, css, "n") >= c["delivered"].as_i64().unwrap());
    assert_eq!(b.eval("return document.querySelectorAll('#p-traffic tr[data-contract]').length"), 2);
    assert_eq!(b.eval("return document.querySelectorAll('#p-traffic svg.chart').length"), 2);
    no_leaks(&b, "the participant view with traffic");
    // On a laptop's screen too the tables scroll inside their panels, never the page.
    let small = Browser::with_size(1366, 768);
    small.goto(&format!("{}/login?token={op}", s.url));
    small.wait_for("return document.querySelector('#traffic-behind')", WAIT);
    let overflow = small.eval("return document.documentElement.scrollWidth - window.innerWidth");
    assert!(overflow.as_i64().unwrap() <= 0, "at 1366×768 the console is {overflow} px too wide");
    drop(small);
    b.eval("document.getElementById('p-traffic').scrollIntoView(); return true");
    b.screenshot(&artifacts_dir().join("console-participant-traffic.png"));
    let errors = b.console_errors();
    assert!(errors.is_empty(), "the pages logged errors: {errors:?}");
    drop(b);
    assert!(s.stop().success());
}

/// A count as the page prints it: thousands separated by commas.
fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
