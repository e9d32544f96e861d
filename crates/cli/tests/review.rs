//! `dacu review` through the real binary on examples/review-mini.jsonl: one half-hour
//! session whose every figure is worked out by hand in docs/metrics.md.

mod common;
use common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn ingest(dir: &Path) -> PathBuf {
    let data = dir.join("d");
    let o = dacu(&[
        "ingest",
        "--data",
        p(&data),
        "--festival",
        p(&festival("example-mini.toml")),
        p(&example("review-mini.jsonl")),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), r#"{"accepted":35,"rejected":0}"#, "{}", stderr(&o));
    data
}

fn review(data: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["review", "--data", p(data), "s1", "--json"];
    args.extend_from_slice(extra);
    let o = dacu(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    json(&o)
}

#[test]
fn the_hand_computed_session_review() {
    let dir = tempfile::tempdir().unwrap();
    let data = ingest(dir.path());
    let r = review(&data, &[]);
    assert_eq!(r["end"], "2021-11-05T20:30:00+08:00");
    assert_eq!((r["live"].clone(), r["duration_s"].clone()), (json!(false), json!(1800)));

    // 进人: u1, u2 (twice), u3, u5, u6; u2 and u7 follow during the session, u3 had
    // followed the day before and u8 follows after the end.
    assert_eq!(
        r["bring_in"],
        json!({"unique_viewers": 5, "entries": 6, "peak_concurrent": 4, "peak_viewers": 4, "viewers_now": 0,
               "new_followers": 2})
    );

    // 留人: u5 40 s, u6 570 s, u2 180 + 900 s, u3 1440 s, u1 1790 s.
    let k = &r["keep"];
    assert_eq!(k["watch_ms"], 4_920_000);
    assert_eq!(k["avg_watch_ms"], 984_000);
    assert_eq!(k["median_watch_ms"], 1_080_000, "u2's two stays together are the middle one");
    assert_eq!(k["interactions"], json!({"comment": 1, "follow": 2, "like": 1, "share": 1}));

    // 转化: ck1/m1 4500 (u1), o1 5700 − 2700 refunded (u3), o2 8000 (u4, never in the
    // room), o3 2000 (u1).
    assert_eq!(
        r["convert"],
        json!({
            "buyers": 3, "viewer_buyers": 2, "orders": 4,
            "gmv": 17_500, "gmv_gross": 20_200, "refunded": 2_700,
            "conversion_bp": 6000, "viewer_conversion_bp": 4000,
            "gpm": 2_916_666, "gmv_per_viewer": 3500, "avg_order_value": 4375
        })
    );

    // 盘福利: ck1 used the room coupon (¥10 off, borne by m1) and u1's red-packet share
    // (an even split of ¥10 in two, borne by a1); half the packet went back at expiry.
    let b = &r["benefits"];
    assert_eq!(b["checkouts_paid"], 1);
    assert_eq!(b["discounts_by_layer"], json!({"red_packet": 500, "store_coupon": 1000}));
    assert_eq!(b["discounts_by_bearer"], json!({"anchors": 500, "merchants": 1000}));
    assert_eq!(
        b["coupons"],
        json!({"redeemed": 1, "cost": 1000, "returned": 0, "orders": 1, "orders_gmv": 4500,
               "session_coupons": 1, "session_coupons_claimed": 1, "session_coupons_redeemed": 1})
    );
    assert_eq!(
        b["red_packets"],
        json!({"count": 1, "total": 1000, "granted": 500, "grabbers": 1, "expired": 1, "returned": 500})
    );
    assert_eq!(b["lotteries"], json!({"count": 1, "drawn": 1, "winners": 1, "prize_value": 5000}));

    // 盘货品: by paid at payment; o1's refund is not allocated to its lines.
    assert_eq!(r["products"], 3);
    assert_eq!(
        r["top_products"],
        json!([
            {"merchant": "m2", "sku": "tea", "paid": 8000, "qty": 1, "orders": 1},
            {"merchant": "m1", "sku": "lip", "paid": 7500, "qty": 3, "orders": 2},
            {"merchant": "m1", "sku": "mask", "paid": 4700, "qty": 5, "orders": 2},
        ])
    );

    // 盘亮点: minutes 0 to 30, viewers at each minute's end.
    let curve = r["curve"].as_array().unwrap();
    assert_eq!(curve.len(), 31);
    let viewers: Vec<i64> = curve.iter().map(|m| m["viewers"].as_i64().unwrap()).collect();
    let mut want = vec![2, 3, 3];
    want.extend([2; 12]); // minutes 3–14; u5's 40 s in minute 10 never reaches a minute's end
    want.extend([3; 5]); // 15–19: u2 is back
    want.extend([4; 5]); // 20–24: u6 enters
    want.extend([3; 5]); // 25–29: u3 left
    want.push(0); // 30: the end
    assert_eq!(viewers, want);
    let entries: Vec<(usize, i64)> = curve
        .iter()
        .enumerate()
        .filter(|(_, m)| m["entries"] != 0)
        .map(|(i, m)| (i, m["entries"].as_i64().unwrap()))
        .collect();
    assert_eq!(entries, [(0, 2), (1, 1), (10, 1), (15, 1), (20, 1)]);
    assert_eq!(
        curve[5],
        json!({"minute": 5, "at": "2021-11-05T20:05:00+08:00", "viewers": 2, "entries": 0,
                                "orders": 2, "paid": 10_200, "gmv": 7_500})
    );
    assert_eq!(curve.iter().map(|m| m["gmv"].as_i64().unwrap()).sum::<i64>(), 17_500);
    assert_eq!(r["highlights"]["peak_viewers"]["minute"], 20);
    let top: Vec<(i64, i64)> = r["highlights"]["top_gmv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["minute"].as_i64().unwrap(), m["gmv"].as_i64().unwrap()))
        .collect();
    assert_eq!(top, [(12, 8000), (5, 7500), (15, 2000)], "minute 5 paid more but lost ¥27 to a refund");

    // --top limits the list, not the count.
    let r2 = review(&data, &["--top", "1"]);
    assert_eq!(r2["top_products"].as_array().unwrap().len(), 1);
    assert_eq!(r2["products"], 3);

    // The text tables carry the same figures.
    let o = dacu(&["review", "--data", p(&data), "s1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    for needle in ["median per viewer      18m 00s", "¥29,166.66", "60.00%", "GMV #1        20:12"] {
        assert!(text.contains(needle), "missing `{needle}` in\n{text}");
    }
}

#[test]
fn an_unknown_session_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = ingest(dir.path());
    let o = dacu(&["review", "--data", p(&data), "s9", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).is_empty());
    assert!(stderr(&o).contains("no session `s9`"), "{}", stderr(&o));
}

#[test]
fn the_review_is_the_same_from_the_snapshot_and_from_the_log_alone() {
    let dir = tempfile::tempdir().unwrap();
    let data = ingest(dir.path());
    let snaps = data.join("snapshots");
    assert!(std::fs::read_dir(&snaps).unwrap().count() > 0, "ingest closes with a snapshot");
    let o = dacu(&["review", "--data", p(&data), "s1", "--json"]);
    assert!(o.status.success() && stderr(&o).is_empty(), "the snapshot was not used: {}", stderr(&o));
    let from_snapshot = json(&o);
    let digest = stdout(&dacu(&["digest", "--data", p(&data)]));
    std::fs::remove_dir_all(&snaps).unwrap();
    assert_eq!(review(&data, &[]), from_snapshot);
    assert_eq!(stdout(&dacu(&["digest", "--data", p(&data)])), digest);
}
