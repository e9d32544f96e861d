//! Settlement, the ledger, `explain` and the report through the real binary, on numbers
//! worked out by hand (docs/settlement.md walks through the same case):
//! examples/contests-mini.jsonl against festivals/example-mini.toml, settled when the
//! battle phase ends, then examples/settle-mini-late.jsonl (refunds and a violation that
//! arrive after the settlement) and a second settlement that claws back.

mod common;
use common::*;
use serde_json::{json, Value};
use std::path::Path;

fn ok(args: &[&str]) -> std::process::Output {
    let o = dacu(args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    o
}

fn settle(data: &Path, at: &str) -> Value {
    json(&ok(&["settle", "--data", p(data), "--at", at, "--json"]))
}

fn ingest(data: &Path, festival_file: &Path, file: &str) {
    ok(&["ingest", "--data", p(data), "--festival", p(festival_file), p(&example(file))]);
}

fn digest(data: &Path) -> String {
    stdout(&ok(&["digest", "--data", p(data)]))
}

/// (payout, kind, item, claim, amount) of each ledger line.
fn lines(data: &Path) -> Vec<(String, String, String, i64, i64)> {
    let v = json(&ok(&["ledger", "--data", p(data), "--json"]));
    v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["payout"].as_str().unwrap().to_string(),
                l["kind"].as_str().unwrap().to_string(),
                l["item"].as_str().unwrap().to_string(),
                l["claim"].as_i64().unwrap(),
                l["amount"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn line(payout: &str, kind: &str, item: &str, claim: i64, amount: i64) -> (String, String, String, i64, i64) {
    (payout.into(), kind.into(), item.into(), claim, amount)
}

#[test]
fn settlement_pays_exactly_once_and_claws_back_after_late_refunds() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    ingest(&data, &festival("example-mini.toml"), "contests-mini.jsonl");

    // Before any window ends there is nothing to settle, and nothing is recorded.
    let before = digest(&data);
    let s = settle(&data, "2021-11-06T00:00:00+08:00");
    assert_eq!(s["settled"], false);
    assert_eq!(digest(&data), before);

    // The battle phase (and every race) ends at 11-08 00:00.
    let s = settle(&data, "2021-11-08T00:00:00+08:00");
    assert_eq!(s["settlement"], 1);
    assert_eq!(s["boards_closed"], 3);
    // Anchor race: a_head rank 1 (¥10,000 + 100,000 impressions), a_mid and a_new ranks 2
    // and 3 (¥3,000 each). Provider race: p2 276,666 bp, p1 270,000 bp. BigDay: a_head
    // reached ¥50,000 on 11-05 (ad rebate 500 bp).
    let want = vec![
        line("anchor_race:a_head", "award", "cash", 1_000_000, 1_000_000),
        line("anchor_race:a_head", "award", "traffic_pack", 100_000, 100_000),
        line("anchor_race:a_mid", "award", "cash", 300_000, 300_000),
        line("anchor_race:a_new", "award", "cash", 300_000, 300_000),
        line("provider_race:p2", "award", "cash", 1_000_000, 1_000_000),
        line("provider_race:p2", "award", "traffic_pack", 100_000, 100_000),
        line("provider_race:p1", "award", "cash", 300_000, 300_000),
        line("head_bigday:a_head", "award", "ad_rebate", 500, 500),
    ];
    assert_eq!(lines(&data), want);
    assert_eq!(s["awarded_fen"], 2_900_000);
    let anchor = &s["budgets"][0];
    assert_eq!((anchor["track"].as_str(), anchor["paid_fen"].as_i64()), (Some("anchor"), Some(1_600_000)));

    // Settling twice pays nothing new and changes nothing.
    let after = digest(&data);
    assert_eq!(settle(&data, "2021-11-08T00:00:00+08:00")["settled"], false);
    assert_eq!(settle(&data, "2021-11-20T00:00:00+08:00")["settled"], false);
    assert_eq!(digest(&data), after);
    assert_eq!(lines(&data), want);

    // Late: o3 (¥35,000, a_head's session, merchant m2 of p2) refunded in full, ¥17,000
    // of o1 (a_head, m1 of p1) refunded, a violation by a_new.
    ingest(&data, &festival("example-mini.toml"), "settle-mini-late.jsonl");
    let s = settle(&data, "2021-11-09T00:00:00+08:00");
    assert_eq!(s["settlement"], 2);
    assert_eq!(s["boards_closed"], 0);
    // a_head: ¥55,000 → ¥3,000, behind a_mid and a_new as they stood at closing: rank 3,
    // band 2 (¥3,000 cash, no traffic): keeps ⌊1,000,000 × 300,000 / 1,000,000⌋.
    // a_new: a violation fails the no-violations gate: all of it back.
    // BigDay: 11-05 now ¥3,000 < ¥50,000 target: the rebate is revoked.
    // p2: W = ¥8,000 against B′ = ¥1,500: 43,333 bp, behind p1's 270,000 at closing:
    // rank 2. p1 (now 100,000 bp) keeps rank 2 and its ¥3,000.
    let mut want2 = want.clone();
    want2.extend([
        line("anchor_race:a_head", "clawback", "cash", 300_000, -700_000),
        line("anchor_race:a_head", "clawback", "traffic_pack", 0, -100_000),
        line("anchor_race:a_new", "clawback", "cash", 0, -300_000),
        line("head_bigday:a_head", "clawback", "ad_rebate", 0, -500),
        line("provider_race:p2", "clawback", "cash", 300_000, -700_000),
        line("provider_race:p2", "clawback", "traffic_pack", 0, -100_000),
    ]);
    assert_eq!(lines(&data), want2);
    assert_eq!(s["clawed_back_fen"], 1_700_000);
    assert_eq!(s["budgets"][0]["paid_fen"], 600_000);
    assert_eq!(s["budgets"][2]["paid_fen"], 600_000);
    // And again: nothing more to claw back.
    assert_eq!(settle(&data, "2021-11-10T00:00:00+08:00")["settled"], false);

    // A settlement may not go back in time.
    let o = dacu(&["settle", "--data", p(&data), "--at", "2021-11-08T12:00:00+08:00"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is before settlement 2"), "{}", stderr(&o));

    // explain: the race, window, standing, lines, and the orders and days behind it.
    let e = json(&ok(&["explain", "--data", p(&data), "anchor_race:a_head", "--json"]));
    assert_eq!(e["race_kind"], "contest");
    assert_eq!(e["window_start"], "2021-11-04T00:00:00+08:00");
    assert_eq!(e["window_end"], "2021-11-08T00:00:00+08:00");
    assert_eq!((e["rank"].as_i64(), e["of"].as_i64(), e["band"].as_i64()), (Some(1), Some(3), Some(1)));
    assert_eq!((e["value_settled"].as_i64(), e["value_now"].as_i64()), (Some(5_500_000), Some(300_000)));
    assert_eq!(e["granted_fen"], 300_000);
    assert_eq!(e["lines"].as_array().unwrap().len(), 4);
    let rule = e["lines"][2]["rule"].as_str().unwrap();
    assert!(rule.contains("keeps ⌊1000000 × 300000 / 1000000⌋ = 300000"), "{rule}");
    let orders: Vec<(&str, i64)> = e["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["order"].as_str().unwrap(), o["net_fen"].as_i64().unwrap()))
        .collect();
    assert_eq!(orders, [("o1", 300_000), ("o3", 0)]);
    assert_eq!(e["days"], json!([{"day": "2021-11-05", "orders": 2, "gmv_fen": 300_000}]));
    let text = stdout(&ok(&["explain", "--data", p(&data), "provider_race:p2"]));
    assert!(text.contains("rank 1 of 2, band 1, value 276666 at settlement, 43333 now"), "{text}");
    let o = dacu(&["explain", "--data", p(&data), "anchor_race:nobody"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("e.g. anchor_race:a_head"), "{}", stderr(&o));

    // The CSV ledger: a header and one row per line, the rule quoted when it has commas.
    let csv = stdout(&ok(&["ledger", "--data", p(&data)]));
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 1 + 14);
    assert!(rows[0].starts_with("settlement,settled_at,line,payout,kind,race,"));
    assert!(rows[1].starts_with("1,2021-11-08T00:00:00+08:00,1,anchor_race:a_head,award,anchor_race,,,a_head,anchor,anchor,cash,,fen,1,5500000,1,1000000,1000000,,,\"rank 1 of 3"), "{}", rows[1]);
    let only2 = stdout(&ok(&["ledger", "--data", p(&data), "--settlement", "2"]));
    assert_eq!(only2.lines().count(), 1 + 6);
    assert!(only2.lines().nth(1).unwrap().starts_with("2,2021-11-09T00:00:00+08:00,9,"));

    // Replay of the log gives the state the directory serves.
    ok(&["verify", "--data", p(&data)]);
}

#[test]
fn a_short_budget_is_shared_pro_rata_by_largest_remainder() {
    let dir = tempfile::tempdir().unwrap();
    // The anchor track's budget cut to ¥10,000.01 against ¥16,000 of claims.
    let src = std::fs::read_to_string(festival("example-mini.toml")).unwrap();
    let short = src.replacen("budget_fen = 10_000_000", "budget_fen = 1_000_001", 1);
    assert_ne!(short, src);
    let fest = dir.path().join("short.toml");
    std::fs::write(&fest, short).unwrap();
    let data = dir.path().join("d");
    ingest(&data, &fest, "contests-mini.jsonl");
    let s = settle(&data, "2021-11-08T00:00:00+08:00");
    // Quotas 1,000,001 × (1,000,000 | 300,000 | 300,000) / 1,600,000 = 625,000.625,
    // 187,500.1875, 187,500.1875: floors 625,000 + 187,500 + 187,500; the fen left over
    // goes to the largest remainder (a_head's .625).
    let v = json(&ok(&["ledger", "--data", p(&data), "--json"]));
    let cash: Vec<(&str, i64, i64, Value)> = v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["track"] == "anchor" && l["item"] == "cash")
        .map(|l| {
            (
                l["participant"].as_str().unwrap(),
                l["claim"].as_i64().unwrap(),
                l["amount"].as_i64().unwrap(),
                l["scale"].clone(),
            )
        })
        .collect();
    assert_eq!(
        cash,
        [
            ("a_head", 1_000_000, 625_001, json!([1_000_001, 1_600_000])),
            ("a_mid", 300_000, 187_500, json!([1_000_001, 1_600_000])),
            ("a_new", 300_000, 187_500, json!([1_000_001, 1_600_000])),
        ]
    );
    assert_eq!(s["budgets"][0]["paid_fen"], 1_000_001);
    assert_eq!(s["budgets"][0]["remaining_fen"], 0);
    // The provider track had room: paid in full.
    assert_eq!(s["budgets"][2]["paid_fen"], 1_300_000);

    // The report: incentives against budgets, and year on year against the other
    // directory (the same activity with the late refunds) and against a figures file.
    let r = json(&ok(&["report", "--data", p(&data), "--json"]));
    assert_eq!(r["incentives"][0]["paid_fen"], 1_000_001);
    assert_eq!(r["incentives"][0]["used_bp"], 10_000);
    assert_eq!(r["settlements"], 1);
    assert_eq!(r["traffic"]["impressions"], 200_000);
    assert_eq!(r["ska_brands_at_least"], json!([{"threshold_fen": 100_000, "brands": 1}]));
    let base = dir.path().join("base.json");
    std::fs::write(&base, r#"{"festival": "2020", "gmv_fen": 3640000, "merchant_incentives_fen": 500000}"#).unwrap();
    let html = dir.path().join("r.html");
    let r = json(&ok(&["report", "--data", p(&data), "--json", "--baseline", p(&base), "--html", p(&html)]));
    assert_eq!(r["baseline"]["festival"], "2020");
    let yoy: Vec<(&str, i64)> = r["year_on_year"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["figure"].as_str().unwrap(), m["multiple_x100"].as_i64().unwrap()))
        .collect();
    // GMV ¥72,800 against ¥36,400; merchant incentives ¥10,000.01 against ¥5,000.
    assert_eq!(yoy, [("gmv_fen", 200), ("merchant_incentives_fen", 200)]);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!doctype html>") && page.contains("<svg"), "{}", &page[..200.min(page.len())]);
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"festival": "2020", "gmv": 1}"#).unwrap();
    let o = dacu(&["report", "--data", p(&data), "--baseline", p(&bad)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is not a baseline"), "{}", stderr(&o));
}

#[test]
fn ledger_json_lines_carry_the_csv_columns_and_count_lines_from_one() {
    // `--json` lines once lacked `line`, `settled_at`, `unit` and `settle_id`, and the runs'
    // `first_line` counted from 0 while the CSV's `line` counts from 1.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    ingest(&data, &festival("example-mini.toml"), "contests-mini.jsonl");
    settle(&data, "2021-11-08T00:00:00+08:00");
    ingest(&data, &festival("example-mini.toml"), "settle-mini-late.jsonl");
    settle(&data, "2021-11-09T00:00:00+08:00");
    let v = json(&ok(&["ledger", "--data", p(&data), "--json"]));
    let csv = stdout(&ok(&["ledger", "--data", p(&data)]));
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let lines = v["lines"].as_array().unwrap();
    assert_eq!(lines.len(), rows.len());
    for (l, row) in lines.iter().zip(&rows) {
        let keys: Vec<&str> = l.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        let mut want: Vec<&str> = header.iter().map(|h| h.as_str()).filter(|h| !h.starts_with("scale_")).collect();
        want.push("scale");
        let mut got = keys.clone();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want);
        for (col, cell) in header.iter().zip(row.iter()) {
            let j = match col.as_str() {
                "scale_remaining_fen" => l["scale"][0].clone(),
                "scale_claims_fen" => l["scale"][1].clone(),
                c => l[c].clone(),
            };
            let text = match &j {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(text, cell, "column {col}");
        }
    }
    // Runs: the first line of each, numbered as the CSV numbers it.
    let runs = v["settlements"].as_array().unwrap();
    assert_eq!(runs[0]["first_line"], 1);
    assert_eq!(runs[1]["first_line"], 1 + runs[0]["lines"].as_u64().unwrap());
    assert_eq!(lines[runs[1]["first_line"].as_u64().unwrap() as usize - 1]["settlement"], 2);
    // `--settlement 2` keeps the ledger's numbering.
    let two = json(&ok(&["ledger", "--data", p(&data), "--json", "--settlement", "2"]));
    assert_eq!(two["lines"][0]["line"], runs[1]["first_line"]);
    assert_eq!(two["lines"][0]["settle_id"], "settle-2");
}
