//! `Idempotency-Key` on writes, over HTTP against the real binary: the same key and
//! request get the recorded answer (also after a restart), another request with the key is
//! 422, a key still running is 409, and keys are scoped by token.

mod serve_common;
use serde_json::{json, Value};
use serve_common::*;
use std::sync::Barrier;

const SETUP: &str = r#"{"type":"register_merchant","merchant":"m1","name":"Beauty","brand_tier":"ska","category":"beauty"}
{"type":"create_coupon","id":"c-one","coupon":"one","issuer":"platform","scope":"platform","threshold":1000,"off":100,"stock":1,"claim_from":"2021-11-01T00:00:00+08:00","claim_until":"2021-11-08T00:00:00+08:00","valid_days":3,"at":"2021-11-01T00:00:00+08:00"}
{"type":"create_coupon","id":"c-many","coupon":"many","issuer":"platform","scope":"platform","threshold":1000,"off":100,"stock":1000,"claim_from":"2021-11-01T00:00:00+08:00","claim_until":"2021-11-08T00:00:00+08:00","valid_days":3,"at":"2021-11-01T00:00:00+08:00"}
"#;

/// Claims `coupon` for `user` with `key`: status, the `Idempotent-Replayed` header, body.
fn claim(s: &Server, t: &str, key: &str, coupon: &str, user: &str) -> (u16, bool, Value) {
    let r = s
        .http
        .post(format!("{}/v1/coupons/{coupon}/claims", s.url))
        .bearer_auth(t)
        .header("Idempotency-Key", key)
        .json(&json!({ "user": user, "id": format!("claim-{key}-{user}") }))
        .send()
        .unwrap();
    let replayed = r.headers().get("idempotent-replayed").is_some_and(|v| v == "true");
    (r.status().as_u16(), replayed, r.json().unwrap_or_default())
}

fn claims_of(s: &Server, t: &str, coupon: &str) -> u64 {
    let v: Value = s.get(t, &format!("/v1/coupons/{coupon}")).json().unwrap();
    v["claimed"].as_u64().unwrap_or_else(|| panic!("no `claimed` in {v}"))
}

#[test]
fn the_same_key_and_request_get_the_recorded_answer_also_after_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("d");
    prepare(&data, SETUP);
    let t = token(&data, "integration", None);
    let other = token(&data, "integration", None);
    let s = Server::start(&data, &[]);

    let (st, replay, first) = claim(&s, &t, "k-1", "one", "u1");
    assert_eq!((st, replay, first["status"].as_str()), (200, false, Some("accepted")), "{first}");
    assert!(first["events"].as_array().is_some_and(|e| !e.is_empty()), "{first}");
    let (st, replay, again) = claim(&s, &t, "k-1", "one", "u1");
    assert_eq!((st, replay, &again["replay"]), (200, true, &json!(true)), "{again}");
    assert_eq!((&again["first_seq"], &again["last_seq"]), (&first["first_seq"], &first["last_seq"]));

    // Another request under the same key: refused, nothing runs.
    let (st, _, p) = claim(&s, &t, "k-1", "one", "u2");
    assert_eq!((st, p["code"].as_str()), (422, Some("idempotency_key_reused")), "{p}");

    // A refusal is recorded too: the same problem again, marked as a replay.
    let (st, replay, sold) = claim(&s, &t, "k-2", "one", "u2");
    assert_eq!((st, replay, sold["code"].as_str()), (422, false, Some("sold_out")), "{sold}");
    let (st, replay, again) = claim(&s, &t, "k-2", "one", "u2");
    assert_eq!((st, replay, again["code"].as_str()), (422, true, Some("sold_out")), "{again}");

    // Keys are the caller's: another token's `k-1` is a new key.
    let (st, replay, p) = claim(&s, &other, "k-1", "one", "u3");
    assert_eq!((st, replay, p["code"].as_str()), (422, false, Some("sold_out")), "{p}");

    // A key that is not 1 to 255 visible characters is 400.
    let (st, _, p) = claim(&s, &t, &"x".repeat(256), "one", "u4");
    assert_eq!((st, p["code"].as_str()), (400, Some("bad_request")), "{p}");

    // The batch endpoint takes keys too.
    let batch = || {
        s.http
            .post(format!("{}/v1/commands", s.url))
            .bearer_auth(&t)
            .header("Idempotency-Key", "batch-1")
            .json(&json!([{"type":"claim_coupon","id":"b-1","coupon":"many","user":"u5"},
                          {"type":"claim_coupon","id":"b-2","coupon":"nope","user":"u5"}]))
            .send()
            .unwrap()
    };
    let b1: Value = batch().json().unwrap();
    let r = batch();
    assert_eq!(r.headers().get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    let b2: Value = r.json().unwrap();
    assert_eq!(b2["replay"], true, "{b2}");
    assert_eq!(b1["results"][0]["first_seq"], b2["results"][0]["first_seq"]);
    assert_eq!(b1["results"][1]["problem"]["code"], b2["results"][1]["problem"]["code"]);
    assert_eq!(claims_of(&s, &t, "one"), 1);

    // The record lives in the engine's state: a restart (and the replay of the log it
    // recovers from) keeps answering from it.
    assert!(s.stop().success());
    let s = Server::start(&data, &[]);
    let (st, replay, after) = claim(&s, &t, "k-1", "one", "u1");
    assert_eq!((st, replay), (200, true), "{after}");
    assert_eq!(after["first_seq"], first["first_seq"]);
    let (st, _, p) = claim(&s, &t, "k-1", "one", "u2");
    assert_eq!((st, p["code"].as_str()), (422, Some("idempotency_key_reused")));
    assert_eq!(claims_of(&s, &t, "one"), 1);
    assert_eq!(claims_of(&s, &t, "many"), 1);
    assert!(s.stop().success());
}

#[test]
fn a_key_still_running_is_409_and_exactly_one_request_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("d");
    prepare(&data, SETUP);
    let t = token(&data, "integration", None);
    // A commit waits 300 ms for company, so the first request is still running while the
    // others arrive.
    let s = Server::start(&data, &["batch.wait_us=300000"]);
    let n = 16;
    let gate = Barrier::new(n);
    let answers: Vec<(u16, bool, Value)> = std::thread::scope(|scope| {
        let hs: Vec<_> = (0..n)
            .map(|_| {
                let (s, t, gate) = (&s, &t, &gate);
                scope.spawn(move || {
                    gate.wait();
                    claim(s, t, "same", "many", "u1")
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let fresh: Vec<_> = answers.iter().filter(|(st, replay, _)| *st == 200 && !replay).collect();
    assert_eq!(fresh.len(), 1, "{answers:?}");
    let busy = answers.iter().filter(|(st, _, v)| *st == 409 && v["code"] == "idempotency_key_in_flight").count();
    assert!(busy >= 1, "no request met the key in flight: {answers:?}");
    for (st, replay, v) in &answers {
        match st {
            200 if *replay => assert_eq!(v["first_seq"], fresh[0].2["first_seq"]),
            200 | 409 => {}
            _ => panic!("unexpected answer {st} {v}"),
        }
    }
    // Once it has answered, the key replays.
    let (st, replay, _) = claim(&s, &t, "same", "many", "u1");
    assert_eq!((st, replay), (200, true));
    assert_eq!(claims_of(&s, &t, "many"), 1);
    assert!(s.stop().success());
}

#[test]
fn an_operator_closes_enrolment_early_and_reopens_it_only_inside_the_file_s_window() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("d");
    prepare(&data, "{\"type\":\"register_anchor\",\"anchor\":\"a1\",\"name\":\"A\",\"followers\":100}\n{\"type\":\"register_anchor\",\"anchor\":\"a2\",\"name\":\"B\",\"followers\":100}\n");
    let op = token(&data, "operator", None);
    let s = Server::start(&data, &[]);
    let enroll =
        |a: &str, at: &str| s.command(&op, json!({"type":"enroll","program":"anchor_race","participant":a,"at":at}));
    let set = |path: &str, open: bool, at: &str| {
        let r = s.post(&op, path, &json!({"id": format!("reg-{open}-{at}"), "open": open, "at": at}));
        (r.status().as_u16(), r.json::<Value>().unwrap_or_default())
    };
    let path = "/v1/programs/anchor_race/registration";
    // Closed early: enrolment is refused until it is opened again.
    assert_eq!(set(path, false, "2021-11-02T10:00:00+08:00").0, 200);
    let (st, p) = enroll("a1", "2021-11-02T11:00:00+08:00");
    assert_eq!((st, p["code"].as_str()), (422, Some("registration_closed")), "{p}");
    assert!(p["detail"].as_str().unwrap().contains("closed by an operator"), "{p}");
    let (st, p) = set(path, false, "2021-11-02T12:00:00+08:00");
    assert_eq!((st, p["code"].as_str()), (409, Some("registration_unchanged")), "{p}");
    assert_eq!(set(path, true, "2021-11-02T13:00:00+08:00").0, 200);
    assert_eq!(enroll("a1", "2021-11-02T14:00:00+08:00").0, 200);
    // The file's window is the bound: `[registration]` closes on 11-06.
    let (st, p) = set(path, false, "2021-11-06T10:00:00+08:00");
    assert_eq!((st, p["code"].as_str()), (422, Some("registration_closed")), "{p}");
    // Every program at once.
    let (st, all) = set("/v1/registration", false, "2021-11-03T10:00:00+08:00");
    assert_eq!(st, 200, "{all}");
    assert!(all["events"].as_array().unwrap().len() >= 2, "{all}");
    let (st, p) = enroll("a2", "2021-11-03T11:00:00+08:00");
    assert_eq!((st, p["code"].as_str()), (422, Some("registration_closed")), "{p}");
    // A restart replays the closure.
    assert!(s.stop().success());
    let s = Server::start(&data, &[]);
    let r = s.command(
        &op,
        json!({"type":"enroll","program":"anchor_race","participant":"a2","at":"2021-11-03T12:00:00+08:00"}),
    );
    assert_eq!(r.1["code"].as_str(), Some("registration_closed"), "{:?}", r);
    assert!(s.stop().success());
}
