//! Regression: hex is exactly `[0-9a-f]` pairs wherever dacu reads it. The parser
//! used to be `u8::from_str_radix`, which takes a sign: a lottery secret `+0+1…+f` was
//! accepted and `dacu verify-draw` said "ok" to a record the reference code in
//! docs/lottery.md cannot check; board cursors took `+` and upper case too.

mod common;
use common::*;
use std::path::Path;

const SETUP: &str = r#"{"type":"register_merchant","merchant":"m1","name":"M","brand_tier":"ska","category":"beauty"}
{"type":"register_anchor","anchor":"a1","name":"A","followers":2000000,"merchant":"m1"}
{"type":"live_start","session":"s1","anchor":"a1","at":"2021-11-05T20:00:00+08:00"}
{"type":"viewer_enter","id":"v1","session":"s1","user":"u1","at":"2021-11-05T20:01:00+08:00"}
"#;

fn lottery(id: &str, secret: &str) -> String {
    format!(
        r#"{{"type":"create_lottery","id":"{id}","lottery":"{id}","session":"s1","issuer":"anchor:a1","prize":{{"kind":"goods","name":"x","value":1}},"winners":1,"in_room":false,"draw_at":"2021-11-05T20:30:00+08:00","secret":"{secret}","at":"2021-11-05T20:10:00+08:00"}}"#
    )
}

fn codes(o: &std::process::Output) -> Vec<String> {
    stderr(o)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| v["code"].as_str().unwrap().to_string())
        .collect()
}

fn ingest(data: &Path, text: &str) -> std::process::Output {
    let o = dacu_stdin(&["ingest", "--data", p(data), "--festival", p(&festival("example-mini.toml"))], text);
    assert!(o.status.success(), "{}", stderr(&o));
    o
}

#[test]
fn a_lottery_secret_must_be_lowercase_hex_digits() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let plus: String = (0..16).map(|i| format!("+{i:x}")).collect();
    let text = [
        SETUP.to_string(),
        lottery("L1", &plus),
        lottery("L2", "00112233445566778899AABBCCDDEEFF"),
        lottery("L3", "00112233445566778899aabbccddeef-"),
        lottery("L4", "00112233445566778899aabbccddeeff"),
    ]
    .join("\n");
    let o = ingest(&data, &(text + "\n"));
    assert_eq!(codes(&o), ["invalid_value", "invalid_value", "invalid_value"]);
    assert!(stderr(&o).contains("lowercase hex"), "{}", stderr(&o));
    assert_eq!(json(&o)["accepted"], 5);
}

#[test]
fn verify_draw_refuses_a_secret_that_is_not_plain_hex() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let tick = r#"{"type":"tick","id":"t1","at":"2021-11-05T20:31:00+08:00"}"#;
    ingest(&data, &format!("{SETUP}{}\n{tick}\n", lottery("L4", "000102030405060708090a0b0c0d0e0f")));
    let o = dacu(&["show", "--data", p(&data), "lottery", "L4"]);
    let mut record: serde_json::Value = json(&o);
    let file = dir.path().join("draw.json");
    std::fs::write(&file, record.to_string()).unwrap();
    assert!(dacu(&["verify-draw", p(&file)]).status.success());
    // The same bytes spelled with signs: SHA-256 of them is the commitment, yet the
    // record is not one the reference code can read, so it is not verified.
    let plus: String = (0..16).map(|i| format!("+{i:x}")).collect();
    record["secret"] = plus.into();
    std::fs::write(&file, record.to_string()).unwrap();
    let o = dacu(&["verify-draw", p(&file)]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("not hex"), "{}", stdout(&o));
}

#[test]
fn a_board_cursor_is_accepted_only_as_dacu_wrote_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let o = dacu(&[
        "ingest",
        "--data",
        p(&data),
        "--festival",
        p(&festival("example-mini.toml")),
        p(&example("contests-mini.jsonl")),
    ]);
    assert!(o.status.success());
    let first = json(&dacu(&["leaderboard", "--data", p(&data), "anchor_race", "--top", "1", "--json"]));
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let ok = dacu(&["leaderboard", "--data", p(&data), "anchor_race", "--after", &cursor, "--top", "1", "--json"]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    let (score, rest) = cursor.split_once('.').unwrap();
    let (at, hex) = rest.split_once('.').unwrap();
    let plus_pair = format!("{score}.{at}.+{}", &hex[1..]);
    for bad in [
        format!("+{cursor}"),
        format!("{score}.+{at}.{hex}"),
        format!("0{cursor}"),
        format!("{score}.{at}.{}", hex.to_ascii_uppercase()),
        plus_pair,
    ] {
        let o = dacu(&["leaderboard", "--data", p(&data), "anchor_race", "--after", &bad, "--top", "1", "--json"]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", stdout(&o));
        assert!(stderr(&o).contains("is not a cursor"), "{}", stderr(&o));
    }
}
