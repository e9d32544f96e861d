//! Regression: a red packet created without `seed` or `secret` used a seed anyone
//! could compute from its public id. `dacu ingest` now fills in a secret from the OS; the
//! packet publishes only its commitment and the shares handed out until it is finished,
//! then the secret, from which anyone recomputes the seed and every share.

mod common;
use common::*;
use dacu_core::promo::{lottery, redpacket};
use std::path::Path;

const SETUP: &str = r#"{"type":"register_anchor","anchor":"a1","name":"A","followers":50000}
{"type":"live_start","session":"s1","anchor":"a1","at":"2021-11-05T20:00:00+08:00"}
{"type":"viewer_enter","id":"v1","session":"s1","user":"u1","at":"2021-11-05T20:01:00+08:00"}
{"type":"create_red_packet","id":"p-1","packet":"RP1","session":"s1","issuer":"anchor:a1","total":1000,"count":3,"split":"double_mean","opens_at":"2021-11-05T20:05:00+08:00","expires_at":"2021-11-05T21:00:00+08:00","at":"2021-11-05T20:02:00+08:00"}
{"type":"grab_red_packet","id":"g-1","packet":"RP1","user":"u1","at":"2021-11-05T20:06:00+08:00"}
"#;

fn ingest(data: &Path, text: &str) {
    let o = dacu_stdin(&["ingest", "--data", p(data), "--festival", p(&festival("example-mini.toml"))], text);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json(&o)["rejected"], 0, "{}", stderr(&o));
}

fn packet(data: &Path) -> serde_json::Value {
    json(&dacu(&["show", "--data", p(data), "red-packet", "RP1"]))
}

#[test]
fn a_packet_without_seed_gets_a_secret_revealed_only_when_it_is_finished() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    ingest(&a, SETUP);
    ingest(&b, SETUP);
    let (pa, pb) = (packet(&a), packet(&b));
    // Open: a commitment, the one share grabbed, nothing that predicts the others.
    assert_eq!(pa["finished"], false);
    assert!(pa["secret"].is_null() && pa["seed"].is_null(), "{pa}");
    assert_eq!(pa["shares"].as_array().unwrap().len(), 1);
    assert_eq!(pa["commitment"].as_str().unwrap().len(), 64);
    assert_ne!(pa["commitment"], pb["commitment"], "each ingest draws its own secret");

    // The room's tick at expiry finishes it: the secret is public and checks out.
    ingest(&a, "{\"type\":\"tick\",\"id\":\"t-1\",\"at\":\"2021-11-05T21:00:00+08:00\"}\n");
    let done = packet(&a);
    assert_eq!(done["finished"], true);
    let secret = lottery::unhex(done["secret"].as_str().unwrap()).expect("lowercase hex");
    assert_eq!(secret.len(), 32);
    assert_eq!(lottery::commitment(&secret), done["commitment"].as_str().unwrap());
    assert_eq!(done["commitment"], pa["commitment"], "the commitment never changes");
    let seed = redpacket::seed_of_secret(&secret);
    assert_eq!(done["seed"], seed);
    let shares: Vec<i64> = redpacket::split(dacu_core::Fen(1000), 3, redpacket::Method::DoubleMean, seed)
        .unwrap()
        .into_iter()
        .map(|f| f.0)
        .collect();
    assert_eq!(done["shares"], serde_json::json!(shares));
    assert_eq!(done["shares"][0], pa["shares"][0], "the share grabbed was the first of the split");
}

#[test]
fn a_red_packet_secret_must_be_lowercase_hex() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let bad = SETUP
        .lines()
        .nth(3)
        .unwrap()
        .replace(r#""split":"double_mean","#, r#""split":"double_mean","secret":"+0+1+2+3+4+5+6+7+8+9+a+b+c+d+e+f","#);
    let text = format!("{}\n{bad}\n", SETUP.lines().take(3).collect::<Vec<_>>().join("\n"));
    let o = dacu_stdin(&["ingest", "--data", p(&data), "--festival", p(&festival("example-mini.toml"))], &text);
    assert!(stderr(&o).contains(r#""code":"invalid_value""#), "{}", stderr(&o));
    assert!(stderr(&o).contains("lowercase hex"), "{}", stderr(&o));
}
