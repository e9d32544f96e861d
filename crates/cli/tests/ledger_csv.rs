//! Regression: the ledger CSV wrote ids such as `=HYPERLINK(…)` as they came, so a
//! spreadsheet opening it ran them as formulas. Text cells that start like a formula get a
//! leading `'`; numbers, negative amounts included, are written as they are.

mod common;
use common::*;

/// examples/contests-mini.jsonl with anchor `a_new` renamed to a formula.
const FORMULA: &str = r#"=HYPERLINK("http://example.invalid","x")"#;

fn renamed(file: &str) -> String {
    let text = std::fs::read_to_string(example(file)).unwrap();
    text.replace("\"a_new\"", &serde_json::to_string(FORMULA).unwrap())
}

#[test]
fn ledger_csv_neutralises_formula_cells_but_not_negative_amounts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let fest = festival("example-mini.toml");
    let o = dacu_stdin(&["ingest", "--data", p(&data), "--festival", p(&fest)], &renamed("contests-mini.jsonl"));
    assert!(o.status.success(), "{}", stderr(&o));
    let o = dacu(&["settle", "--data", p(&data), "--at", "2021-11-08T00:00:00+08:00", "--id", "@first"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // A late violation by the renamed anchor: the second settlement claws its award back.
    let late = std::fs::read_to_string(example("settle-mini-late.jsonl"))
        .unwrap()
        .replace("\"participant\":\"a_new\"", &format!("\"participant\":{}", serde_json::to_string(FORMULA).unwrap()));
    let o = dacu_stdin(&["ingest", "--data", p(&data)], &late);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = dacu(&["settle", "--data", p(&data), "--at", "2021-11-09T00:00:00+08:00", "--id=-second"]);
    assert!(o.status.success(), "{}", stderr(&o));

    let o = dacu(&["ledger", "--data", p(&data)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut r = csv::Reader::from_reader(o.stdout.as_slice());
    let head = r.headers().unwrap().clone();
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let mine: Vec<_> = rows.iter().filter(|row| row[col("participant")].contains("HYPERLINK")).collect();
    assert!(mine.len() >= 2, "an award and a clawback: {rows:?}");
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            let numeric = ["settlement", "line", "rank", "value", "band", "claim", "amount"].contains(&&head[i])
                || head[i].starts_with("scale_");
            if !numeric {
                assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "{}: {cell}", &head[i]);
            }
        }
    }
    assert!(mine.iter().all(|row| row[col("participant")] == format!("'{FORMULA}")));
    let clawback = mine.iter().find(|row| &row[col("kind")] == "clawback").expect("a clawback line");
    assert!(clawback[col("amount")].starts_with('-'), "a negative amount stays a number");
    assert!(clawback[col("amount")].parse::<i64>().unwrap() < 0);
    assert_eq!(&clawback[col("settle_id")], "'-second");
    assert!(rows.iter().any(|row| &row[col("settle_id")] == "'@first"));
    // The JSON ledger keeps the ids as they are.
    let v = json(&dacu(&["ledger", "--data", p(&data), "--json"]));
    assert!(v["lines"].as_array().unwrap().iter().any(|l| l["participant"] == FORMULA));
}
