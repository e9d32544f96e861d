//! The service's limits, each at the limit and one past it: body size, commands per batch,
//! the per-token rate, and the writer's queue.

mod serve_common;
use serde_json::{json, Value};
use serve_common::*;

const SETUP: &str = "{\"type\":\"register_merchant\",\"merchant\":\"m1\",\"name\":\"M\",\"brand_tier\":\"ka\",\"category\":\"food\"}\n{\"type\":\"register_anchor\",\"anchor\":\"a1\",\"name\":\"A\",\"followers\":10}\n{\"type\":\"live_start\",\"session\":\"s1\",\"anchor\":\"a1\",\"at\":\"2021-11-05T09:00:00+08:00\"}\n";

fn setup(sets: &[&str]) -> (tempfile::TempDir, Server, String) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("d");
    prepare(&data, SETUP);
    let t = token(&data, "integration", None);
    (tmp, Server::start(&data, sets), t)
}

fn enter(i: usize) -> Value {
    json!({"type":"viewer_enter","id":format!("v{i}"),"session":"s1","user":format!("u{i}")})
}

#[test]
fn a_body_at_the_size_limit_is_read_and_one_byte_more_is_413() {
    let (_t, s, t) = setup(&["limits.body_bytes=300"]);
    let body = |n: usize| {
        // A command object padded with spaces to exactly n bytes.
        let base = enter(1).to_string();
        format!("{base}{}", " ".repeat(n - base.len()))
    };
    let send = |b: String| s.http.post(format!("{}/v1/commands", s.url)).bearer_auth(&t).body(b).send().unwrap();
    assert_eq!(send(body(300)).status(), 200);
    let r = send(body(301));
    assert_eq!(r.status(), 413);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    assert_eq!(r.json::<Value>().unwrap()["code"], "too_large");
}

#[test]
fn a_batch_at_the_command_limit_runs_and_one_more_is_413() {
    let (_t, s, t) = setup(&["limits.batch_commands=3"]);
    let r = s.post(&t, "/v1/commands", &json!([enter(1), enter(2), enter(3)]));
    assert_eq!(r.status(), 200);
    let ran: Value = r.json().unwrap();
    let last = ran["results"][2]["last_seq"].as_u64().unwrap();
    let r = s.post(&t, "/v1/commands", &json!([enter(4), enter(5), enter(6), enter(7)]));
    assert_eq!(r.status(), 413);
    let p: Value = r.json().unwrap();
    assert!(p["detail"].as_str().unwrap().contains("at most 3"), "{p}");
    // Nothing of the refused batch was applied.
    let sess: Value = s.get(&t, &format!("/v1/sessions/s1?at_least={last}")).json().unwrap();
    assert_eq!(sess["unique_viewers"], 3, "{sess}");
}

#[test]
fn a_token_over_its_rate_gets_429_with_retry_after() {
    let (tmp, s, t) = setup(&["limits.rate_per_token=1", "limits.rate_burst=3"]);
    let codes: Vec<u16> = (0..4).map(|_| s.get(&t, "/v1/festival").status().as_u16()).collect();
    assert_eq!(&codes[..3], [200, 200, 200], "{codes:?}");
    assert_eq!(codes[3], 429, "{codes:?}");
    let r = s.get(&t, "/v1/festival");
    assert_eq!(r.status(), 429);
    assert!(r.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    drop(tmp);
}

#[test]
fn a_full_writer_queue_is_503_with_retry_after_never_unbounded() {
    let (_t, s, t) = setup(&["limits.queue_requests=1"]);
    let results: Vec<(u16, Option<String>)> = std::thread::scope(|scope| {
        let hs: Vec<_> = (0..48)
            .map(|c| {
                let (s, t) = (&s, &t);
                scope.spawn(move || {
                    (0..10)
                        .map(|i| {
                            let r = s.post(t, "/v1/commands", &enter(c * 100 + i));
                            let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
                            (r.status().as_u16(), retry)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let busy: Vec<_> = results.iter().filter(|(st, _)| *st == 503).collect();
    assert!(!busy.is_empty(), "48 clients never filled a queue of one");
    assert!(busy.iter().all(|(_, r)| r.is_some()), "a 503 without Retry-After");
    assert!(results.iter().all(|(st, _)| *st == 200 || *st == 503), "{results:?}");
}
