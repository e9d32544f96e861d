//! SIGKILL the real binary at random moments during a large ingest, many times over, then
//! ingest the same input to the end: every order counts exactly once, the state equals a
//! clean run's, and `dacu verify` passes. Once for a file of orders and refunds, and once
//! for the simulator's festival, whose room commands are exactly-once only by their ids.

mod common;
use common::*;
use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::Duration;

/// SplitMix64: a fixed, seeded sequence so the kill moments are the same on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Registrations, then `orders` orders with a refund after every seventh; every command
/// is idempotent (ids), so re-ingesting the whole file never double-counts.
fn input(orders: u64) -> (String, i64, i64) {
    let mut s = String::new();
    for m in 0..50 {
        s += &format!(
            r#"{{"type":"register_merchant","merchant":"m{m}","name":"M{m}","brand_tier":"ka","category":"food"}}"#
        );
        s.push('\n');
    }
    let (mut paid, mut refunded) = (0i64, 0i64);
    let mut rng = Rng(7);
    for o in 0..orders {
        let amount = 100 + rng.below(10_000) as i64;
        paid += amount;
        let (day, h, mi) = (1 + o % 7, o % 24, o % 60);
        s += &format!(
            r#"{{"type":"order_paid","order":"o{o}","user":"u{}","merchant":"m{}","channel":"shelf","lines":[{{"sku":"k{}","qty":1,"price":{amount},"paid":{amount}}}],"at":"2021-11-0{day}T{h:02}:{mi:02}:00+08:00"}}"#,
            o % 997,
            o % 50,
            o % 13
        );
        s.push('\n');
        if o % 7 == 0 {
            let r = amount / 3;
            refunded += r;
            s += &format!(
                r#"{{"type":"refund","order":"o{o}","amount":{r},"at":"2021-11-07T23:00:00+08:00","refund_id":"r{o}"}}"#
            );
            s.push('\n');
        }
    }
    (s, paid, refunded)
}

#[test]
fn sigkill_during_ingest_loses_nothing_and_counts_nothing_twice() {
    let orders = 120_000;
    let (text, paid, refunded) = input(orders);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("input.jsonl");
    std::fs::write(&file, &text).unwrap();

    // A clean run gives the reference digest.
    let clean = dir.path().join("clean");
    let o = dacu(&["ingest", "--data", p(&clean), "--festival", p(&festival("example-mini.toml")), p(&file)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let reference = stdout(&dacu(&["digest", "--data", p(&clean)]));

    let data = dir.path().join("crashy");
    let killed = crash_loop(&data, "example-mini.toml", &file, 12, (20, 600), 116);
    assert!(killed >= 6, "only {killed} of the rounds were killed mid-ingest; the input is too small");

    let last = dacu(&["ingest", "--data", p(&data), p(&file)]);
    assert!(last.status.success(), "{}", stderr(&last));
    let r = json(&dacu(&["report", "--data", p(&data), "--json"]));
    assert_eq!(r["orders"], orders);
    assert_eq!(r["gmv_gross"], paid);
    assert_eq!(r["refunded"], refunded);
    assert_eq!(stdout(&dacu(&["digest", "--data", p(&data)])), reference);
    let v = dacu(&["verify", "--data", p(&data)]);
    assert!(v.status.success(), "{}", stdout(&v));
}

/// Runs `ingest` of `file` into `data` `rounds` times, each SIGKILLed after a seeded
/// random wait in `wait_ms` unless it finished first; checks that every restart opens
/// cleanly. Returns how many rounds were killed.
fn crash_loop(
    data: &std::path::Path,
    fest: &str,
    file: &std::path::Path,
    rounds: u32,
    wait_ms: (u64, u64),
    seed: u64,
) -> u32 {
    let mut rng = Rng(seed);
    let mut killed = 0;
    for round in 0..rounds {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dacu"))
            .args(["ingest", "--data", p(data), "--festival", p(&festival(fest)), p(file)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(wait_ms.0 + rng.below(wait_ms.1 - wait_ms.0)));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            killed += 1;
        }
        child.wait().unwrap();
        // Every restart must open cleanly (a torn tail is cut, nothing refused).
        let v = dacu(&["verify", "--data", p(data)]);
        assert!(v.status.success(), "round {round}: {}{}", stdout(&v), stderr(&v));
    }
    killed
}

/// Regression: after a crash loop, re-running the simulator's file applied
/// `viewer_enter`, `viewer_leave` and `interaction` again (375 entries instead of 265,
/// up to thousands of extra events). Every command the simulator writes is now
/// exactly-once on re-ingest: the end state is the clean run's, digest for digest.
#[test]
fn a_crash_loop_over_the_simulated_festival_ends_in_the_clean_runs_state() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("festival.jsonl");
    let fest = "kuaishou-116-2021.toml";
    let o = dacu(&["simulate", "--festival", p(&festival(fest)), "--scale", "150000", "--quiet", "--out", p(&file)]);
    assert!(o.status.success(), "{}", stderr(&o));

    let clean = dir.path().join("clean");
    let o = dacu(&["ingest", "--data", p(&clean), "--festival", p(&festival(fest)), p(&file)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let reference = stdout(&dacu(&["digest", "--data", p(&clean)]));
    let clean_report = json(&dacu(&["report", "--data", p(&clean), "--json"]));

    // Each round is killed once its acknowledgements pass a random line, so every kill
    // lands mid-ingest however fast the machine is.
    let data = dir.path().join("crashy");
    let lines = std::fs::read_to_string(&file).unwrap().lines().count() as u64;
    let mut rng = Rng(13);
    for round in 0..8 {
        let target = 1 + rng.below(lines - 1);
        let mut child = Command::new(env!("CARGO_BIN_EXE_dacu"))
            .args(["ingest", "--data", p(&data), "--festival", p(&festival(fest)), "--acks", "-", p(&file)])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let acks = std::io::BufReader::new(child.stdout.take().unwrap());
        let reached = acks.lines().map(Result::unwrap).any(|l| {
            let ack: serde_json::Value = serde_json::from_str(&l).unwrap();
            ack["durable_through_line"].as_u64().is_some_and(|n| n >= target)
        });
        assert!(reached, "round {round}: ingest ended before line {target}");
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let v = dacu(&["verify", "--data", p(&data)]);
        assert!(v.status.success(), "round {round}: {}{}", stdout(&v), stderr(&v));
    }
    let last = dacu(&["ingest", "--data", p(&data), p(&file)]);
    assert!(last.status.success(), "{}", stderr(&last));
    let report = json(&dacu(&["report", "--data", p(&data), "--json"]));
    for key in ["events", "orders", "gmv", "sessions"] {
        assert_eq!(report[key], clean_report[key], "{key}");
    }
    assert_eq!(stdout(&dacu(&["digest", "--data", p(&data)])), reference);
}
