//! Failover of `dacu serve --log`: two nodes on one stream, the leader SIGKILLed 50 times
//! under a steady load of claims sent with idempotency keys. Every acknowledged claim is
//! in the log exactly once and nothing else is; the state a node ends with is the one a
//! single reader rebuilds from the whole stream. And a read replica serves reads at a
//! position the leader gave and the push stream, redirects writes, and never leads.
//!
//! The failover times are printed (BENCHMARKS.md, "Failover"); the test asserts none.

#[path = "../../jetstream/tests/common/mod.rs"]
mod nats;
mod serve_common;

use serde_json::{json, Value};
use serve_common::*;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

const KILLS: usize = 50;
const WORKERS: usize = 4;
/// Every node snapshots often, so a restarted node starts from a recent snapshot.
const SETS: &[&str] = &["snapshots.every=2000"];
/// Claims each user is sent.
const PER_USER: u64 = 50;

/// A coupon each user claims up to 100 times: a user takes [`PER_USER`] claims, so
/// one applied twice would show in its wallet.
fn coupon() -> Value {
    json!({"type":"create_coupon","id":"c-big","coupon":"big","issuer":"platform","scope":"platform","threshold":1000,"off":100,
           "stock":1000000000,"per_user":100,"claim_from":"2021-11-01T00:00:00+08:00","claim_until":"2021-11-08T00:00:00+08:00","valid_days":3})
}

/// What the load saw: each acknowledgement's time and the node that gave it.
#[derive(Default)]
struct Seen {
    acks: Mutex<Vec<(Instant, String)>>,
    /// Acknowledged claims by user.
    per_user: Mutex<std::collections::BTreeMap<String, u64>>,
    refused: Mutex<Vec<String>>,
}

/// Sends one claim until some node acknowledges it, following redirects and moving to
/// another node on a refused connection or a 503; `Err` with the answer when it is
/// refused for good.
fn claim(
    http: &reqwest::blocking::Client,
    urls: &RwLock<Vec<String>>,
    t: &str,
    user: &str,
    key: &str,
) -> Result<String, String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut target: Option<String> = None;
    let mut turn = 0;
    while Instant::now() < deadline {
        let base = target.take().unwrap_or_else(|| {
            let u = urls.read().unwrap();
            turn += 1;
            u[turn % u.len()].clone()
        });
        let r = http
            .post(format!("{base}/v1/coupons/big/claims"))
            .bearer_auth(t)
            .header("Idempotency-Key", key)
            .json(&json!({"user": user}))
            .send();
        match r {
            Ok(r) if r.status() == 200 => return Ok(base),
            Ok(r) if r.status() == 307 => {
                let loc = r.headers().get("location").expect("a redirect says where to").to_str().unwrap();
                target = Some(loc.trim_end_matches("/v1/coupons/big/claims").to_string());
            }
            Ok(r) if r.status() == 503 || r.status() == 409 => std::thread::sleep(Duration::from_millis(20)),
            Ok(r) => return Err(format!("{} {}", r.status(), r.text().unwrap_or_default())),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    Err(format!("no node acknowledged {key} within 60 s"))
}

fn load(urls: &RwLock<Vec<String>>, t: &str, seen: &Seen, stop: &AtomicBool) {
    std::thread::scope(|scope| {
        for w in 0..WORKERS {
            scope.spawn(move || {
                let http = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap();
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let user = format!("w{w}-{}", i / PER_USER);
                    match claim(&http, urls, t, &user, &format!("fo-{w}-{i}")) {
                        Ok(by) => {
                            seen.acks.lock().unwrap().push((Instant::now(), by));
                            *seen.per_user.lock().unwrap().entry(user).or_default() += 1;
                        }
                        Err(why) => seen.refused.lock().unwrap().push(why),
                    }
                    i += 1;
                }
            });
        }
    });
}

/// The node of `nodes` that leads now (waiting for one).
fn leader(nodes: &[Server]) -> usize {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        for (i, n) in nodes.iter().enumerate() {
            let text = n.http.get(format!("{}/readyz", n.url)).send().and_then(|r| r.text()).unwrap_or_default();
            if text.starts_with("ready: leader") {
                return i;
            }
        }
        assert!(Instant::now() < deadline, "no node leads");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn acks_by(seen: &Seen, url: &str, after: Instant) -> usize {
    seen.acks.lock().unwrap().iter().filter(|(t, u)| u == url && *t > after).count()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

#[test]
fn fifty_leader_kills_under_load_lose_nothing_acknowledged_and_apply_nothing_twice() {
    let server = nats::Nats::start();
    let url = format!("nats://127.0.0.1:{}/FAIL", server.port);
    let tmp = tempfile::tempdir().unwrap();
    let t = stream_token(&tmp.path().join("tok"), &url, "integration");
    let dirs: Vec<PathBuf> = ["a", "b"].iter().map(|d| tmp.path().join(d)).collect();
    let a = Server::start_with(&dirs[0], &["--log", &url, "--festival", &festival()], SETS);
    a.wait_role("leader");
    let (st, body) = a.command(&t, coupon());
    assert_eq!(st, 200, "{body}");
    let b = Server::start_with(&dirs[1], &["--log", &url], SETS);
    b.wait_role("follower");
    let mut nodes = vec![a, b];
    let urls = RwLock::new(nodes.iter().map(|n| n.url.clone()).collect::<Vec<_>>());
    let seen = Seen::default();
    let stop = AtomicBool::new(false);
    let mut kills: Vec<(Instant, String)> = Vec::new();
    std::thread::scope(|scope| {
        scope.spawn(|| load(&urls, &t, &seen, &stop));
        let mut since = Instant::now();
        for _ in 0..KILLS {
            let li = leader(&nodes);
            let other = &nodes[1 - li];
            let text = other.wait_role("follower");
            // The leader has been taking writes, and the follower is at the stream's end.
            while acks_by(&seen, &nodes[li].url, since) < 20 || !other.wait_role("follower").contains(" 0 events") {
                std::thread::sleep(Duration::from_millis(10));
            }
            drop(text);
            let killed_at = Instant::now();
            let old = nodes.remove(li);
            let old_url = old.url.clone();
            old.kill();
            kills.push((killed_at, old_url.clone()));
            since = killed_at;
            // The killed node comes back on its own directory, as a follower.
            let back = Server::start_with(&dirs[[0, 1][li]], &["--log", &url], SETS);
            back.wait_role("follower");
            urls.write().unwrap().retain(|u| *u != old_url);
            urls.write().unwrap().push(back.url.clone());
            nodes.insert(li, back);
        }
        let li = leader(&nodes);
        while acks_by(&seen, &nodes[li].url, since) < 20 {
            std::thread::sleep(Duration::from_millis(10));
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert!(seen.refused.lock().unwrap().is_empty(), "claims refused: {:?}", seen.refused.lock().unwrap());

    // Failover: the old leader's last acknowledgement to the new leader's first.
    let acks = seen.acks.lock().unwrap().clone();
    let mut times: Vec<f64> = kills
        .iter()
        .map(|(at, old)| {
            let last_old = acks.iter().filter(|(t, u)| u == old && t <= at).map(|(t, _)| *t).max().unwrap();
            let first_new = acks.iter().filter(|(t, u)| u != old && t > at).map(|(t, _)| *t).min().unwrap();
            (first_new - last_old).as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    eprintln!(
        "failover over {} kills: p50 {:.3} s, p99 {:.3} s, max {:.3} s; {} claims acknowledged",
        times.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times[times.len() - 1],
        acks.len()
    );

    // Exactly once: each user holds as many coupons as it had acknowledged, and the
    // coupon counts that many claims in all.
    let li = leader(&nodes);
    let per_user = seen.per_user.lock().unwrap().clone();
    for (user, n) in &per_user {
        let wallet: Value = nodes[li].get(&t, &format!("/v1/wallets/{user}")).json().unwrap();
        let held = wallet.to_string().matches("\"big\"").count() as u64;
        assert_eq!(held, *n, "user {user}: {n} claims acknowledged, {held} in the wallet");
    }
    let c: Value = nodes[li].get(&t, "/v1/coupons/big").json().unwrap();
    assert_eq!(c["claimed"].as_u64(), Some(per_user.values().sum::<u64>()), "{c}");

    // The stream, read whole by one reader, is the state the leader ended with (its final
    // snapshot, bound to the end of the stream).
    let leader_node = nodes.remove(li);
    assert!(leader_node.stop().success());
    drop(nodes);
    let log = dacu_jetstream::LogUrl::parse(&url).unwrap();
    let opts = dacu_jetstream::StreamOptions::default();
    let whole = dacu_jetstream::JetStreamLog::open(&log, &opts, None, None).unwrap();
    let fresh = tmp.path().join("check");
    std::fs::create_dir_all(&fresh).unwrap();
    let snap = dacu_jetstream::JetStreamLog::open(&log, &opts, None, Some(&fresh)).unwrap();
    assert_eq!(snap.snapshot_seq, Some(whole.recovered.last_seq), "the leader's final snapshot is at the end");
    assert_eq!(dacu_core::digest::digest(snap.engine.state()), dacu_core::digest::digest(whole.engine.state()));
}

#[test]
fn a_read_replica_serves_reads_at_a_leaders_position_redirects_writes_and_never_leads() {
    let server = nats::Nats::start();
    let url = format!("nats://127.0.0.1:{}/REP", server.port);
    let tmp = tempfile::tempdir().unwrap();
    let t = stream_token(&tmp.path().join("tok"), &url, "operator");
    let l = Server::start_with(&tmp.path().join("l"), &["--log", &url, "--festival", &festival()], &[]);
    l.wait_role("leader");
    let r = Server::start_with(&tmp.path().join("r"), &["--log", &url, "--replica"], &[]);
    assert!(r.wait_role("replica").contains(&l.url), "the replica names the leader");
    let (st, body) = l.command(&t, coupon());
    assert_eq!(st, 200, "{body}");
    for i in 0..20 {
        let res = l.post(&t, "/v1/coupons/big/claims", &json!({"user": format!("u{i}"), "id": format!("k{i}")}));
        assert_eq!(res.status(), 200);
        let at = res.json::<Value>().unwrap()["last_seq"].as_u64().unwrap();
        // Read your write on the replica: it waits until it holds position `at`.
        let w = r.get(&t, &format!("/v1/wallets/u{i}?at_least={at}"));
        assert_eq!(w.status(), 200);
        let pos: u64 = w.headers()["dacu-position"].to_str().unwrap().parse().unwrap();
        assert!(pos >= at, "answered at {pos}, before {at}");
        assert!(w.headers().contains_key("dacu-lag"));
        assert!(w.text().unwrap().contains("\"big\""));
    }
    // The push stream is served on the replica too.
    let mut events = r.get(&t, "/v1/events?topics=totals");
    assert_eq!(events.status(), 200);
    let mut first = [0u8; 512];
    let n = std::io::Read::read(&mut events, &mut first).unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).contains("event: totals"), "{}", String::from_utf8_lossy(&first[..n]));
    drop(events);
    let metrics = r.get(&t, "/metrics").text().unwrap();
    assert!(metrics.contains("dacu_replica_lag_events") && metrics.contains("dacu_leader 0"), "{metrics}");
    // Writes go to the leader.
    let w = r.post(&t, "/v1/coupons/big/claims", &json!({"user": "via-r", "id": "via-r"}));
    assert_eq!(w.status(), 307);
    assert_eq!(w.headers()["location"].to_str().unwrap(), format!("{}/v1/coupons/big/claims", l.url));
    // With the leader gone, the replica goes on serving reads and never takes writes.
    l.kill();
    std::thread::sleep(Duration::from_secs(3));
    assert!(r.wait_role("replica").contains("no leader"), "the replica still points at the dead leader");
    let w = r.post(&t, "/v1/coupons/big/claims", &json!({"user": "via-r", "id": "via-r"}));
    assert_eq!(w.status(), 503);
    assert_eq!(w.json::<Value>().unwrap()["code"], "no_leader");
    assert_eq!(r.get(&t, "/v1/wallets/u19").status(), 200);
}
