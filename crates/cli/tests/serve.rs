//! `dacu serve` through HTTP: the command endpoint in its three shapes, problems, tokens,
//! a clean stop, and no over-redemption under 64 concurrent clients.

mod serve_common;
use serde_json::{json, Value};
use serve_common::*;
use std::sync::Barrier;

const SETUP: &str = r#"{"type":"register_merchant","merchant":"m1","name":"Beauty","brand_tier":"ska","category":"beauty"}
{"type":"register_merchant","merchant":"m2","name":"Food","brand_tier":"ka","category":"food"}
{"type":"register_anchor","anchor":"a1","name":"A","followers":50000}
{"type":"live_start","session":"s1","anchor":"a1","at":"2021-11-05T09:00:00+08:00"}
"#;

fn served() -> (tempfile::TempDir, Server, String) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("d");
    prepare(&data, SETUP);
    let t = token(&data, "integration", None);
    let s = Server::start(&data, &[]);
    (tmp, s, t)
}

#[test]
fn commands_come_as_one_object_an_array_or_ndjson_and_are_answered_after_the_commit() {
    let (_tmp, s, t) = served();
    assert_eq!(s.http.get(format!("{}/readyz", s.url)).send().unwrap().status(), 200);
    // One object: its result, with the log positions of its events; the time stamped.
    let (st, r) = s.command(&t, json!({"type":"viewer_enter","id":"v1","session":"s1","user":"u1"}));
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["status"], "accepted");
    let seq = r["last_seq"].as_u64().unwrap();
    let entered = r["events"].as_array().unwrap().iter().find_map(|e| e["viewer_entered"]["at"].as_str()).unwrap();
    assert!(entered.starts_with("2021-11-05T10:0"), "{r}");
    // A rejected one: a problem document with the engine's code, kind and a pointer.
    let (st, p) = s.command(&t, json!({"type":"viewer_enter","id":"v2","session":"nope","user":"u1"}));
    assert_eq!(st, 404, "{p}");
    assert_eq!((p["code"].as_str(), p["kind"].as_str()), (Some("unknown_session"), Some("not_found")));
    assert!(p["request_id"].is_string() && p["type"] == "urn:dacu:problem:unknown_session", "{p}");
    // An array: one result each, in order, and the durable position.
    let r: Value = s
        .post(
            &t,
            "/v1/commands",
            &json!([
                {"type":"viewer_enter","id":"v3","session":"s1","user":"u2"},
                {"type":"viewer_enter","id":"v4","session":"s1","user":"u2"},
                {"type":"no_such_command"}
            ]),
        )
        .json()
        .unwrap();
    let res = r["results"].as_array().unwrap();
    assert_eq!(res.len(), 3);
    assert_eq!(res[0]["status"], "accepted");
    assert_eq!(res[1]["problem"]["code"], "viewer_already_in_session");
    assert_eq!(res[2]["problem"]["code"], "unknown_command");
    assert!(r["durable_seq"].as_u64().unwrap() > seq);
    // NDJSON.
    let body = "{\"type\":\"viewer_leave\",\"id\":\"v5\",\"session\":\"s1\",\"user\":\"u1\"}\n\n{\"type\":\"viewer_leave\",\"id\":\"v6\",\"session\":\"s1\",\"user\":\"u2\"}\n";
    let r: Value = s
        .http
        .post(format!("{}/v1/commands", s.url))
        .bearer_auth(&t)
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(r["results"].as_array().unwrap().len(), 2, "{r}");
    // NDJSON with `events=false`: positions only. A line with its time, one stamped, and
    // one refused.
    let body = concat!(
        "{\"type\":\"viewer_enter\",\"id\":\"v7\",\"session\":\"s1\",\"user\":\"u7\",\"at\":\"2021-11-05T10:00:00+08:00\"}\n",
        "{\"type\":\"viewer_enter\",\"id\":\"v8\",\"session\":\"s1\",\"user\":\"u8\"}\n",
        "{\"type\":\"viewer_enter\",\"id\":\"v9\",\"session\":\"nope\",\"user\":\"u9\",\"at\":\"2021-11-05T10:00:00+08:00\"}\n",
    );
    let quiet: Value = s
        .http
        .post(format!("{}/v1/commands?events=false", s.url))
        .bearer_auth(&t)
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let res = quiet["results"].as_array().unwrap();
    assert_eq!((res[0]["status"].as_str(), res[1]["status"].as_str()), (Some("accepted"), Some("accepted")), "{quiet}");
    assert!(res[0].get("events").is_none() && res[0]["last_seq"].is_u64(), "{quiet}");
    assert_eq!(res[2]["problem"]["code"], "unknown_session", "{quiet}");
    // A read at the last write's position sees it (the quiet batch's viewers included).
    let last = res[1]["last_seq"].as_u64().unwrap();
    let sess: Value = s.get(&t, &format!("/v1/sessions/s1?at_least={last}")).json().unwrap();
    assert_eq!(sess["unique_viewers"], 4, "{sess}");
    // A clean stop: exit 0, and the directory verifies.
    assert!(s.stop().success());
    let v = dacu().args(["verify", "--data"]).arg(_tmp.path().join("d")).output().unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
}

#[test]
fn bad_requests_and_missing_tokens_are_problems_that_say_what_would_be_accepted() {
    let (_tmp, s, t) = served();
    let r = s.http.post(format!("{}/v1/commands", s.url)).body("{}").send().unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = s.http.post(format!("{}/v1/commands", s.url)).bearer_auth(&t).body("{not json").send().unwrap();
    assert_eq!(r.status(), 400);
    let p: Value = r.json().unwrap();
    assert!(p["detail"].as_str().unwrap().contains("not a JSON command object"), "{p}");
    let r = s.get(&t, "/v1/no-such-thing");
    assert_eq!(r.status(), 404);
    // An integration token may not make tokens; an operator may.
    let r = s.post(&t, "/v1/tokens", &json!({"role":"operator"}));
    assert_eq!(r.status(), 403);
    let r = s.get(&t, "/v1/report");
    assert_eq!(r.status(), 200);
}

/// Runs `n` clients at once (released together), each sending its own command.
fn at_once(s: &Server, t: &str, n: usize, cmd: impl Fn(usize) -> Value + Sync) -> Vec<(u16, Value)> {
    let gate = Barrier::new(n);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let (gate, cmd) = (&gate, &cmd);
                scope.spawn(move || {
                    let body = cmd(i);
                    gate.wait();
                    s.command(t, body)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn codes(results: &[(u16, Value)]) -> std::collections::BTreeMap<String, usize> {
    let mut m = std::collections::BTreeMap::new();
    for (st, r) in results {
        let k = if *st == 200 { "accepted".to_string() } else { r["code"].as_str().unwrap_or("?").to_string() };
        *m.entry(k).or_insert(0) += 1;
    }
    m
}

#[test]
fn sixty_four_clients_never_over_redeem_a_coupon_a_checkout_or_a_red_packet() {
    let (_tmp, s, t) = served();
    let coupon = |id: &str, stock: u32| {
        json!({"type":"create_coupon","id":format!("c-{id}"),"coupon":id,"issuer":"platform","scope":"platform","threshold":1000,"off":100,
               "stock":stock,"claim_from":"2021-11-01T00:00:00+08:00","claim_until":"2021-11-08T00:00:00+08:00","valid_days":3})
    };
    for c in [coupon("one", 1), coupon("five", 5), coupon("mine", 100)] {
        assert_eq!(s.command(&t, c).0, 200);
    }
    // Stock 1: exactly one of 64 claims; stock 5: exactly five.
    for (id, stock) in [("one", 1), ("five", 5)] {
        let r = at_once(
            &s,
            &t,
            64,
            |i| json!({"type":"claim_coupon","id":format!("k-{id}-{i}"),"coupon":id,"user":format!("u{i}")}),
        );
        let c = codes(&r);
        assert_eq!(c.get("accepted"), Some(&stock), "{c:?}");
        assert_eq!(c.get("sold_out"), Some(&(64 - stock)), "{c:?}");
        let v: Value = s.get(&t, &format!("/v1/coupons/{id}")).json().unwrap();
        assert_eq!(v["claimed"], stock, "{v}");
    }
    // One claimed coupon, 64 checkouts at once: exactly one gets to spend it.
    assert_eq!(s.command(&t, json!({"type":"claim_coupon","id":"k-mine","coupon":"mine","user":"buyer"})).0, 200);
    let r = at_once(&s, &t, 64, |i| {
        json!({"type":"checkout","id":format!("x-{i}"),"checkout":format!("ck{i}"),"user":"buyer","channel":"shelf",
               "lines":[{"merchant":"m1","sku":"a","qty":1,"price":5000}]})
    });
    assert!(r.iter().all(|(st, _)| *st == 200), "{r:?}");
    let spent = r.iter().filter(|(_, v)| v.to_string().contains("\"promo\":\"mine\"")).count();
    assert_eq!(spent, 1, "the coupon was reserved by {spent} checkouts");
    // A red packet of 10 shares, 64 viewers grabbing at once: exactly 10, summing to it.
    for i in 0..64 {
        let (st, r) =
            s.command(&t, json!({"type":"viewer_enter","id":format!("ve{i}"),"session":"s1","user":format!("g{i}")}));
        assert_eq!(st, 200, "{r}");
    }
    let packet = json!({"type":"create_red_packet","id":"p-rp","packet":"RP","session":"s1","issuer":"anchor:a1","total":10000,"count":10,
        "split":"double_mean","secret":"00112233445566778899aabbccddeeff","opens_at":"2021-11-05T09:30:00+08:00","expires_at":"2021-11-05T23:00:00+08:00","at":"2021-11-05T09:20:00+08:00"});
    let (st, r) = s.command(&t, packet);
    assert_eq!(st, 200, "{r}");
    let r = at_once(
        &s,
        &t,
        64,
        |i| json!({"type":"grab_red_packet","id":format!("gr{i}"),"packet":"RP","user":format!("g{i}")}),
    );
    let c = codes(&r);
    assert_eq!(c.get("accepted"), Some(&10), "{c:?}");
    let total: i64 = r
        .iter()
        .filter(|(st, _)| *st == 200)
        .map(|(_, v)| {
            v["events"].as_array().unwrap().iter().find_map(|e| e["red_packet_grabbed"]["amount"].as_i64()).unwrap()
        })
        .sum();
    assert_eq!(total, 10_000);
    assert!(s.stop().success());
}

#[test]
fn after_a_kill_under_load_every_acknowledged_claim_is_there_and_no_refused_one() {
    let (tmp, s, t) = served();
    let c = json!({"type":"create_coupon","id":"c-big","coupon":"big","issuer":"platform","scope":"platform","threshold":1000,"off":100,
                   "stock":1000000,"claim_from":"2021-11-01T00:00:00+08:00","claim_until":"2021-11-08T00:00:00+08:00","valid_days":3});
    assert_eq!(s.command(&t, c).0, 200);
    let answers = claims_until_killed(&s, &t, || {});
    drop(s);
    let (ok, refused) = split_claims(&answers);
    assert!(ok.len() > 50, "too few claims before the kill: {}", ok.len());
    // Restart: recovery keeps every acknowledged batch.
    let s = Server::start(&tmp.path().join("d"), &[]);
    assert_claims(&s, &t, &ok, &refused);
    assert!(s.stop().success());
    let v = dacu().args(["verify", "--data"]).arg(tmp.path().join("d")).output().unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
}

#[test]
fn resource_endpoints_are_the_commands_they_stand_for() {
    let (_tmp, s, t) = served();
    let coupon = json!({"type":"create_coupon","id":"c-r","coupon":"r10","issuer":"platform","scope":"platform","threshold":1000,"off":100,
                        "stock":10,"claim_from":"2021-11-01T00:00:00+08:00","claim_until":"2021-11-08T00:00:00+08:00","valid_days":3});
    assert_eq!(s.command(&t, coupon).0, 200);
    // A claim with an Idempotency-Key, sent twice: the second records nothing.
    let claim = || {
        s.http
            .post(format!("{}/v1/coupons/r10/claims", s.url))
            .bearer_auth(&t)
            .header("Idempotency-Key", "claim-u1")
            .json(&json!({"user":"u1"}))
            .send()
            .unwrap()
    };
    let first: Value = claim().json().unwrap();
    assert_eq!(first["status"], "accepted", "{first}");
    assert!(first["last_seq"].as_u64() >= first["first_seq"].as_u64());
    let again: Value = claim().json().unwrap();
    assert_eq!(again["status"], "accepted", "{again}");
    assert_eq!(again["replay"], true, "{again}");
    assert_eq!((&again["first_seq"], &again["last_seq"]), (&first["first_seq"], &first["last_seq"]), "{again}");
    assert!(again.get("events").is_none(), "a replay repeats no events: {again}");
    // A body that contradicts the path is refused.
    let r = s.post(&t, "/v1/coupons/r10/claims", &json!({"user":"u2","coupon":"other"}));
    assert_eq!(r.status(), 400);
    // Quote, checkout, pay: the price the quote gave is the price paid.
    let lines = json!([{"merchant":"m1","sku":"a","qty":2,"price":3000}]);
    let q: Value = s.post(&t, "/v1/quote", &json!({"user":"u1","lines":lines})).json().unwrap();
    assert_eq!(q["pay_total"], 5900, "{q}");
    let ck: Value = s
        .post(&t, "/v1/checkouts", &json!({"id":"x-r","checkout":"ckr","user":"u1","channel":"shelf","lines":lines}))
        .json()
        .unwrap();
    assert_eq!(ck["status"], "accepted", "{ck}");
    let paid: Value = s.post(&t, "/v1/checkouts/ckr/pay", &json!({"id":"pay-r"})).json().unwrap();
    assert_eq!(paid["status"], "accepted", "{paid}");
    // Reads wait for the write's position: the read view may not have applied it yet.
    let c: Value = s.get(&t, &format!("/v1/checkouts/ckr?at_least={}", paid["last_seq"])).json().unwrap();
    assert!(c.to_string().contains("5900"), "{c}");
    // A viewer enters and leaves a room; a comment; an order and a refund fed in.
    assert_eq!(s.post(&t, "/v1/sessions/s1/viewers", &json!({"user":"v9"})).status(), 200);
    assert_eq!(
        s.post(&t, "/v1/sessions/s1/interactions", &json!({"user":"v9","kind":"comment","text":"hi"})).status(),
        200
    );
    let r = s.http.delete(format!("{}/v1/sessions/s1/viewers/v9", s.url)).bearer_auth(&t).send().unwrap();
    assert_eq!(r.status(), 200);
    let o = json!({"order":"o-r","user":"u3","merchant":"m2","channel":"shelf","lines":[{"sku":"k","qty":1,"price":1000,"paid":1000}]});
    assert_eq!(s.post(&t, "/v1/orders", &o).status(), 200);
    let r: Value = s.post(&t, "/v1/refunds", &json!({"order":"o-r","amount":400,"refund_id":"rf"})).json().unwrap();
    assert_eq!(r["status"], "accepted", "{r}");
    let m: Value = s.get(&t, &format!("/v1/merchants/m2?at_least={}", r["last_seq"])).json().unwrap();
    assert!(m.to_string().contains("600"), "{m}");
}

/// Reads server-sent events from `r` until `n` events have arrived: (event, id, data).
fn sse_events(r: reqwest::blocking::Response, n: usize) -> Vec<(String, u64, Value)> {
    use std::io::BufRead;
    let mut out = Vec::new();
    let (mut ev, mut id, mut data) = (String::new(), 0u64, String::new());
    for line in std::io::BufReader::new(r).lines() {
        let line = line.unwrap();
        if let Some(v) = line.strip_prefix("event:") {
            ev = v.trim().to_string();
        } else if let Some(v) = line.strip_prefix("id:") {
            id = v.trim().parse().unwrap();
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push_str(v.trim());
        } else if line.is_empty() && !ev.is_empty() {
            out.push((std::mem::take(&mut ev), id, serde_json::from_str(&std::mem::take(&mut data)).unwrap()));
            if out.len() == n {
                break;
            }
        }
    }
    out
}

#[test]
fn live_push_sends_each_topics_latest_value_with_its_log_position_and_resumes_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("d");
    prepare(&data, SETUP);
    let t = token(&data, "integration", None);
    let anchor = token(&data, "participant", Some(("anchor", "a1")));
    let s = Server::start(&data, &[]);
    let subscribe = |last: Option<u64>| {
        let mut r = s.http.get(format!("{}/v1/events?topics=totals,session:s1", s.url)).bearer_auth(&t);
        if let Some(p) = last {
            r = r.header("Last-Event-ID", p.to_string());
        }
        r.send().unwrap()
    };
    let r = subscribe(None);
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    // First, the current value of each topic.
    let first = sse_events(r, 2);
    assert_eq!(first.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(), ["totals", "session:s1"]);
    let p0 = first[0].1;
    // Then an update after an order: a later position and the new totals.
    let r = subscribe(Some(p0));
    let o = json!({"order":"o-push","user":"u1","merchant":"m1","channel":"shelf","lines":[{"sku":"k","qty":1,"price":1000,"paid":800}]});
    let (st, res) = s.command(
        &t,
        json!({"type":"order_paid","order":"o-push","user":"u1","merchant":"m1","channel":"shelf","lines":o["lines"]}),
    );
    assert_eq!(st, 200, "{res}");
    let at = res["last_seq"].as_u64().unwrap();
    let next = sse_events(r, 1);
    assert_eq!(next[0].0, "totals", "{next:?}");
    assert!(next[0].1 >= at, "{next:?}");
    assert_eq!(next[0].2["gmv_fen"], 800);
    // Resuming from the latest position sends nothing old: the next event is a new one.
    let r = subscribe(Some(next[0].1));
    let (st, _) = s.command(
        &t,
        json!({"type":"order_paid","order":"o-push2","user":"u1","merchant":"m1","channel":"shelf","lines":o["lines"]}),
    );
    assert_eq!(st, 200);
    let again = sse_events(r, 1);
    assert!(again[0].1 > next[0].1, "a repeat: {again:?}");
    assert_eq!(again[0].2["gmv_fen"], 1600);
    // A participant may not follow the festival's totals, but may follow its own session;
    // a bad topic is a 400.
    let r = s.http.get(format!("{}/v1/events?topics=totals", s.url)).bearer_auth(&anchor).send().unwrap();
    assert_eq!(r.status(), 403);
    let r = s.http.get(format!("{}/v1/events?topics=session:s1", s.url)).bearer_auth(&anchor).send().unwrap();
    assert_eq!(r.status(), 200);
    drop(r);
    let r = s.http.get(format!("{}/v1/events?topics=nope", s.url)).bearer_auth(&t).send().unwrap();
    assert_eq!(r.status(), 400);
    assert!(s.stop().success(), "stopping with live streams open");
}
