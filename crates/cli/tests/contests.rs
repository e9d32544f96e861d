//! Ranking contests and challenges through the real binary, on hand-computed numbers:
//! examples/contests-mini.jsonl against festivals/example-mini.toml, then the late events
//! of examples/contests-mini-late.jsonl (a violation, a refund, a loaded baseline).

mod common;
use common::*;
use serde_json::{json, Value};
use std::path::Path;

fn board(data: &Path, args: &[&str]) -> Value {
    let mut a = vec!["leaderboard", "--data", p(data)];
    a.extend_from_slice(args);
    a.push("--json");
    let o = dacu(&a);
    assert!(o.status.success(), "leaderboard {args:?}: {}", stderr(&o));
    json(&o)
}

fn ids_scores(v: &Value) -> Vec<(String, i64)> {
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r["score"].as_i64().unwrap()))
        .collect()
}

fn ingest(data: &Path, file: &str) -> (String, String) {
    let o = dacu(&["ingest", "--data", p(data), "--festival", p(&festival("example-mini.toml")), p(&example(file))]);
    assert!(o.status.success(), "{}", stderr(&o));
    (stdout(&o).trim().to_string(), stderr(&o))
}

#[test]
fn boards_ties_gates_growth_and_challenges_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let (counts, rejected) = ingest(&data, "contests-mini.jsonl");
    assert_eq!(counts, r#"{"accepted":29,"rejected":2}"#);
    assert!(rejected.contains(r#""line":30,"code":"unknown_contest""#), "{rejected}");
    assert!(rejected.contains(r#""line":31,"code":"invalid_value""#), "{rejected}");

    // Anchor race (GMV over 11-04..11-08): a_head 20,000 + 35,000 yuan; a_mid and a_new
    // tie at ¥8,000, and a_mid reached it first (11-05 20:20 against 11-06 20:10).
    let b = board(&data, &["anchor_race"]);
    assert_eq!(ids_scores(&b), [("a_head".into(), 5_500_000), ("a_mid".into(), 800_000), ("a_new".into(), 800_000)]);
    let rows = b["rows"].as_array().unwrap();
    assert_eq!(rows[1]["reached_at"], "2021-11-05T20:20:00+08:00");
    assert_eq!(rows[0]["band"], 1);
    assert_eq!(rows[0]["reward_fen"], 1_000_000);
    assert_eq!(rows[2]["band"], 2);
    assert_eq!(rows[2]["reward_fen"], 300_000);
    // The next band (rank 1) needs one fen more than a_head's ¥55,000.
    assert_eq!(rows[1]["next_band"], json!({"band": 1, "points": 4_700_001}));
    assert_eq!(b["status"], "open");

    // Pages: around an entrant, a list of entrants, and a cursor.
    let around = board(&data, &["anchor_race", "--around", "a_new", "--top", "1"]);
    assert_eq!(
        around["rows"].as_array().unwrap().iter().map(|r| r["rank"].as_u64().unwrap()).collect::<Vec<_>>(),
        [2, 3]
    );
    let owners = board(&data, &["anchor_race", "--owners", "a_new,a_head"]);
    assert_eq!(ids_scores(&owners).iter().map(|x| x.0.as_str()).collect::<Vec<_>>(), ["a_head", "a_new"]);
    let first = board(&data, &["anchor_race", "--top", "1"]);
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let second = board(&data, &["anchor_race", "--after", &cursor, "--top", "1"]);
    assert_eq!(second["rows"][0]["id"], "a_mid");
    assert_eq!(second["rows"][0]["rank"], 2);

    // Provider race: growth against the served merchants' baseline (11-01..11-04), floored
    // at ¥1,000. p1: (2,800,000 − max(30,000, 100,000)) × 10000 / 100,000 = 270,000 bp.
    // p2: (4,300,000 − 150,000) × 10000 / 150,000 = 276,666 bp (rounded down).
    let g = board(&data, &["provider_race"]);
    assert_eq!(ids_scores(&g), [("p2".into(), 276_666), ("p1".into(), 270_000)]);
    assert_eq!(g["rows"][1]["next_band"]["points"], 6_667);

    // BigDay: a_head sold ¥55,000 on 11-05 against a ¥50,000 target, reached at 20:30.
    let d = board(&data, &["head_bigday", "--day", "2021-11-05"]);
    assert_eq!(d["rows"][0]["target_fen"], 5_000_000);
    assert_eq!(d["rows"][0]["target_reached_at"], "2021-11-05T20:30:00+08:00");
    assert_eq!(d["rows"][0]["rewards"][0]["rebate_bp"], 500);
    assert_eq!(d["status"], "closed");

    // Late: a_new's violation takes it off the gated board; the second violation reuses
    // the id and is refused; the refund of o3 drops a_head below the BigDay target; a
    // loaded baseline of ¥10,000 for p1 gives (2,800,000 − 1,000,000) × 10000 / 1,000,000.
    let (counts, rejected) = ingest(&data, "contests-mini-late.jsonl");
    assert_eq!(counts, r#"{"accepted":4,"rejected":1}"#);
    assert!(rejected.contains(r#""line":2,"code":"duplicate_violation""#), "{rejected}");
    let b = board(&data, &["anchor_race"]);
    assert_eq!(ids_scores(&b), [("a_head".into(), 4_500_000), ("a_mid".into(), 800_000)]);
    assert_eq!(b["rows"][0]["reached_at"], "2021-11-07T10:00:00+08:00");
    let g = board(&data, &["provider_race"]);
    assert_eq!(ids_scores(&g), [("p2".into(), 210_000), ("p1".into(), 18_000)]);

    let o = dacu(&["progress", "--data", p(&data), "a_head", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let prog = json(&o);
    let bigday = prog["races"].as_array().unwrap().iter().find(|r| r["race"] == "head_bigday").unwrap();
    assert_eq!(bigday["challenge"]["achieved"], 0);
    assert_eq!(bigday["challenge"]["best"], 4_500_000);
    assert_eq!(bigday["challenge"]["remaining"], 500_000);
    assert_eq!(bigday["challenge"]["rewards"], json!([]));
    // Heat on 11-05: ¥45,000 after the refund at 1 point per yuan, plus 100 points for
    // 90 minutes live (at least 60).
    assert_eq!(
        prog["heat"][0],
        json!({"day": "2021-11-05", "heat": 45_100, "gmv_fen": 4_500_000, "live_minutes": 90, "viewers": 0, "interactions": 0})
    );

    let o = dacu(&["progress", "--data", p(&data), "a_new", "--json"]);
    let prog = json(&o);
    let race = prog["races"].as_array().unwrap().iter().find(|r| r["race"] == "anchor_race").unwrap();
    assert_eq!(race["not_ranked"], "1 violation(s) recorded");
    assert_eq!(prog["violations"][0]["id"], "v1");

    // The text views render, an unknown race is a usage error, and replay agrees.
    let o = dacu(&["leaderboard", "--data", p(&data), "anchor_race"]);
    assert!(stdout(&o).contains("a_head"), "{}", stdout(&o));
    let o = dacu(&["leaderboard", "--data", p(&data), "no_such_race"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("anchor_race"), "{}", stderr(&o));
    let o = dacu(&["progress", "--data", p(&data), "nobody"]);
    assert_eq!(o.status.code(), Some(1));
    let o = dacu(&["verify", "--data", p(&data)]);
    assert!(o.status.success(), "{}", stdout(&o));
}

#[test]
fn a_page_size_of_u64_max_lists_the_rest_of_the_board_and_the_challenge_band_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    ingest(&data, "contests-mini.jsonl");
    let max = u64::MAX.to_string();
    let first = board(&data, &["anchor_race", "--top", "1"]);
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    // Once: no rows and no cursor after `--after`, and the entrant itself left out of
    // `--around`.
    let rest = board(&data, &["anchor_race", "--after", &cursor, "--top", &max]);
    assert_eq!(ids_scores(&rest).iter().map(|x| x.0.as_str()).collect::<Vec<_>>(), ["a_mid", "a_new"]);
    assert_eq!(rest["next_cursor"], Value::Null);
    let around = board(&data, &["anchor_race", "--around", "a_mid", "--top", &max]);
    assert_eq!(ids_scores(&around).len(), 3);
    // A challenge's board says what its band column means.
    let o = dacu(&["leaderboard", "--data", p(&data), "head_bigday", "--day", "2021-11-05"]);
    assert!(stdout(&o).contains("challenge band: the band of the whole challenge"), "{}", stdout(&o));
}
