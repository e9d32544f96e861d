//! The marketing tools through the real binary: examples/marketing-mini.jsonl is the
//! worked example of docs/checkout.md plus a red packet, a lottery and two groups.

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;

fn show(data: &Path, kind: &str, id: &str) -> Value {
    let o = dacu(&["show", "--data", p(data), kind, id, "--json"]);
    assert!(o.status.success(), "show {kind} {id}: {}", stderr(&o));
    json(&o)
}

#[test]
fn checkout_red_packet_lottery_and_groups_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let o = dacu(&[
        "ingest",
        "--data",
        p(&data),
        "--festival",
        p(&festival("example-mini.toml")),
        p(&example("marketing-mini.jsonl")),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Line 9 repeats line 8's id (accepted, nothing more); line 10 is a second claim over
    // the per-user limit; line 18 grabs before commenting the passphrase.
    assert_eq!(stdout(&o).trim(), r#"{"accepted":24,"rejected":2}"#);
    let codes: Vec<(u64, String)> = stderr(&o)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| (v["line"].as_u64().unwrap(), v["code"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(codes, [(10, "limit_reached".to_string()), (18, "not_eligible".to_string())]);

    let ck = show(&data, "checkout", "ck1");
    assert_eq!(ck["state"], "paid");
    assert_eq!(ck["quote"]["pay_total"], 28_000);
    assert_eq!(ck["quote"]["pay"], serde_json::json!([19_515, 8_485]));
    assert_eq!(ck["returned"], serde_json::json!([0, 1_212, 303]));
    let m1 = show(&data, "merchant", "m1");
    assert_eq!(m1["gmv"], 19_515, "{m1}");

    let w = show(&data, "wallet", "u1");
    assert_eq!(w["coupons"][0]["state"], "redeemed");
    let rp = show(&data, "red-packet", "RP1");
    assert_eq!(rp["granted"].as_i64().unwrap() + rp["returned"].as_i64().unwrap(), 1000);
    assert_eq!(w["red_packet_money_left"], rp["granted"]);

    // Group G1 formed (two orders of ¥30 counted); G2 failed at its deadline.
    assert_eq!(show(&data, "group", "G1")["state"], "formed");
    assert_eq!(show(&data, "group", "G2")["state"], "failed");
    // m2: its checkout order fully refunded, plus the formed group's two orders.
    assert_eq!(show(&data, "merchant", "m2")["gmv"], 6_000);

    // The lottery's record verifies; a tampered one does not.
    let lot = show(&data, "lottery", "L1");
    assert_eq!(lot["eligible"], serde_json::json!(["u1", "u2", "u3"]));
    let file = dir.path().join("draw.json");
    std::fs::write(&file, lot.to_string()).unwrap();
    let o = dacu(&["verify-draw", p(&file)]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let mut bad = lot.clone();
    bad["winners"] = serde_json::json!(["u3", "u9"]);
    std::fs::write(&file, bad.to_string()).unwrap();
    let o = dacu(&["verify-draw", p(&file)]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));

    // A quote prices without changing anything: u1's coupon is used, so the 满减 apply
    // and then u1's red-packet money.
    let cart = dir.path().join("cart.json");
    std::fs::write(
        &cart,
        r#"[{"merchant":"m1","sku":"a","qty":1,"price":25000},{"merchant":"m2","sku":"b","qty":1,"price":10000}]"#,
    )
    .unwrap();
    let before = stdout(&dacu(&["digest", "--data", p(&data)]));
    let o = dacu(&["quote", "--data", p(&data), "--user", "u1", "--at", "2021-11-07T10:00:00+08:00", p(&cart)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let q = json(&o);
    let layers: Vec<&str> = q["discounts"].as_array().unwrap().iter().map(|d| d["layer"].as_str().unwrap()).collect();
    assert_eq!(layers, ["store_fullcut", "cross_store_fullcut", "red_packet"]);
    assert_eq!(q["pay_total"].as_i64().unwrap(), 35_000 - 2_000 - 4_000 - w["red_packet_money_left"].as_i64().unwrap());
    assert_eq!(stdout(&dacu(&["digest", "--data", p(&data)])), before);
}
