//! `dacu serve --log nats://…`: the event log in a JetStream stream of the test's own
//! server. Every acknowledged claim survives a SIGKILL of the node and no refused one
//! appears; a new node with an empty directory recovers the festival and the state from
//! the stream alone; a paused leader that a follower took over from is refused on its
//! first append.

#[path = "../../jetstream/tests/common/mod.rs"]
mod nats;
mod serve_common;

use serde_json::{json, Value};
use serve_common::*;

const SETUP: &str = r#"{"type":"register_merchant","merchant":"m1","name":"Beauty","brand_tier":"ska","category":"beauty"}
{"type":"register_anchor","anchor":"a1","name":"A","followers":50000}
{"type":"live_start","session":"s1","anchor":"a1","at":"2021-11-05T09:00:00+08:00"}
"#;

fn coupon() -> Value {
    json!({"type":"create_coupon","id":"c-big","coupon":"big","issuer":"platform","scope":"platform","threshold":1000,"off":100,
           "stock":1000000,"claim_from":"2021-11-01T00:00:00+08:00","claim_until":"2021-11-08T00:00:00+08:00","valid_days":3})
}

#[test]
fn acknowledged_claims_survive_a_kill_and_a_new_node_recovers_from_the_stream_alone() {
    let server = nats::Nats::start();
    let url = format!("nats://127.0.0.1:{}/FEST", server.port);
    let tmp = tempfile::tempdir().unwrap();
    let n1 = tmp.path().join("n1");
    let t = stream_token(&n1, &url, "integration");
    // Snapshots often, so that the new node below starts from one in the bucket.
    let s = Server::start_with(&n1, &["--log", &url, "--festival", &festival()], &["snapshots.every=200"]);
    s.wait_role("leader");
    for line in SETUP.lines() {
        let (st, r) = s.command(&t, serde_json::from_str(line).unwrap());
        assert_eq!(st, 200, "{r}");
    }
    assert_eq!(s.command(&t, coupon()).0, 200);
    let answers = claims_until_killed(&s, &t, || {});
    drop(s);
    let (ok, refused) = split_claims(&answers);
    assert!(ok.len() > 50, "too few claims before the kill: {}", ok.len());

    // A new node: an empty directory, no festival file, only the stream's address.
    let n2 = tmp.path().join("n2");
    let t2 = stream_token(&n2, &url, "operator");
    let s2 = Server::start_with(&n2, &["--log", &url], &[]);
    // The lease of the killed node lapses first.
    s2.wait_role("leader");
    let fetched = std::fs::read_dir(n2.join("snapshots")).map_or(0, |d| d.count());
    assert!(fetched > 0, "the new node did not start from a snapshot in the bucket");
    assert_claims(&s2, &t2, &ok, &refused);
    // It goes on writing where the stream ended.
    let (st, r) = s2.command(&t2, json!({"type":"claim_coupon","id":"after","coupon":"big","user":"after"}));
    assert_eq!(st, 200, "{r}");
    assert!(s2.stop().success());
    // A directory that holds something else is refused and left alone.
    let other = tmp.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("keep.txt"), "mine").unwrap();
    let out =
        dacu().args(["serve", "--data"]).arg(&other).args(["--log", &url, "--listen", "127.0.0.1:0"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_dir(&other).unwrap().count(), 1);
}

#[test]
fn a_paused_leader_is_refused_on_its_first_append_after_a_follower_took_over() {
    let server = nats::Nats::start();
    let url = format!("nats://127.0.0.1:{}/FENCE", server.port);
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let t = stream_token(&tmp.path().join("tok"), &url, "integration");
    // A renews its lease only every 30 s: when it wakes, it still believes it leads.
    let lazy = ["log.lease_ms=60000", "log.renew_ms=30000"];
    let sa = Server::start_with(&a, &["--log", &url, "--festival", &festival()], &lazy);
    sa.wait_role("leader");
    assert_eq!(sa.command(&t, serde_json::from_str(SETUP.lines().next().unwrap()).unwrap()).0, 200);
    let sb = Server::start_with(&b, &["--log", &url], &[]);
    sb.wait_role("follower");
    // A is paused (SIGSTOP); B sees the lease go unrenewed and takes the stream over.
    let signal = |sig: &str, pid: u32| {
        assert!(std::process::Command::new("kill").args([sig, &pid.to_string()]).status().unwrap().success())
    };
    signal("-STOP", sa.pid());
    sb.wait_role("leader");
    let (st, r) = sb.command(&t, json!({"type":"register_anchor","anchor":"by-b","name":"B","followers":1}));
    assert_eq!(st, 200, "{r}");
    // A resumes and takes a write at once: the stream refuses its first append.
    signal("-CONT", sa.pid());
    let (st, r) = sa.command(&t, json!({"type":"register_anchor","anchor":"by-a","name":"A","followers":1}));
    assert_eq!(st, 503, "the paused node acknowledged a write: {r}");
    assert!(r.to_string().contains("another writer has appended"), "{r}");
    // It follows B from then on: writes are sent to B, reads see B's write.
    sa.wait_role(&format!("follower of {}", sb.url));
    let r = sa.post(&t, "/v1/commands", &json!({"type":"register_anchor","anchor":"by-a2","name":"A","followers":1}));
    assert_eq!(r.status(), 307);
    assert_eq!(r.headers()["location"].to_str().unwrap(), format!("{}/v1/commands", sb.url));
    let mut seen = sa.get(&t, "/v1/anchors/by-b");
    for _ in 0..100 {
        if seen.status() == 200 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        seen = sa.get(&t, "/v1/anchors/by-b");
    }
    assert_eq!(seen.status(), 200, "the old leader's view does not follow the new leader");
    assert_eq!(sb.get(&t, "/v1/anchors/by-a").status(), 404, "the refused write is in the stream");
    assert_eq!(sb.get(&t, "/v1/anchors/by-a2").status(), 404);
}

#[test]
fn on_three_replicas_a_nats_server_killed_under_load_loses_nothing_acknowledged() {
    let mut servers = nats::cluster();
    let url = format!("nats://127.0.0.1:{}/R3", servers[0].port);
    // The cluster elects its leaders first: create the stream, with three replicas, once it can.
    let src = std::fs::read_to_string(festival()).unwrap();
    let opts = dacu_jetstream::StreamOptions { replicas: 3, ..Default::default() };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while let Err(e) =
        dacu_jetstream::JetStreamLog::open(&dacu_jetstream::LogUrl::parse(&url).unwrap(), &opts, Some(&src), None)
    {
        assert!(std::time::Instant::now() < deadline, "the cluster never took the stream: {e}");
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    let tmp = tempfile::tempdir().unwrap();
    let n1 = tmp.path().join("n1");
    let t = stream_token(&n1, &url, "integration");
    let s = Server::start_with(&n1, &["--log", &url], &[]);
    s.wait_role("leader");
    for line in SETUP.lines() {
        assert_eq!(s.command(&t, serde_json::from_str(line).unwrap()).0, 200);
    }
    assert_eq!(s.command(&t, coupon()).0, 200);
    // One of the other two servers dies halfway through the load (SIGKILL).
    let killed = servers.pop().unwrap();
    let answers = claims_until_killed(&s, &t, move || drop(killed.kill()));
    drop(s);
    let (ok, refused) = split_claims(&answers);
    assert!(ok.len() > 50, "too few claims: {}", ok.len());
    // A new node, through the other server that is left.
    let url2 = format!("nats://127.0.0.1:{}/R3", servers[1].port);
    let n2 = tmp.path().join("n2");
    let t2 = stream_token(&n2, &url2, "operator");
    let s2 = Server::start_with(&n2, &["--log", &url2], &[]);
    s2.wait_role("leader");
    assert_claims(&s2, &t2, &ok, &refused);
}

#[test]
fn a_token_minted_or_revoked_on_one_node_counts_on_every_node_of_the_stream() {
    let server = nats::Nats::start();
    let url = format!("nats://127.0.0.1:{}/TOK", server.port);
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    // Minted before any node runs, through the stream: good on a node whose directory never saw it.
    let op = stream_token(&a, &url, "operator");
    let sa = Server::start_with(&a, &["--log", &url, "--festival", &festival()], &[]);
    sa.wait_role("leader");
    let sb = Server::start_with(&b, &["--log", &url], &[]);
    sb.wait_role("follower");
    assert_eq!(sb.get(&op, "/v1/tokens").status(), 200);
    // Minted through A's API: B takes it.
    let made: Value = sa.post(&op, "/v1/tokens", &json!({"role": "integration"})).json().unwrap();
    let (tok, id) = (made["token"].as_str().unwrap().to_string(), made["record"]["id"].as_str().unwrap().to_string());
    // (B reads the stream's tokens again on an unknown one, at most every 100 ms.)
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while sb.get(&tok, "/v1/anchors/nobody").status() != 404 {
        assert!(std::time::Instant::now() < deadline, "B does not take a token minted on A");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(sa.get(&tok, "/v1/anchors/nobody").status(), 404);
    // Revoked through B: refused on A within the reload interval.
    let r = sb.http.delete(format!("{}/v1/tokens/{id}", sb.url)).bearer_auth(&op).send().unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(sb.get(&tok, "/v1/anchors/nobody").status(), 401);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while sa.get(&tok, "/v1/anchors/nobody").status() != 401 {
        assert!(std::time::Instant::now() < deadline, "A still takes a token revoked on B");
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    // The node directories hold no tokens of their own: they are the stream's.
    assert!(!b.join("tokens.json").exists());
}
