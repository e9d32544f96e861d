//! Regression: a slow producer on standard input. `ingest` commits on size or time,
//! so lines that trickle in become durable within the commit interval, and `--acks`
//! tells the producer through which line everything is decided and durable. A SIGKILL
//! after an acknowledgement loses nothing acknowledged.

mod common;
use common::*;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Duration;

/// Registrations, then orders: every line is accepted, and each order is one event.
fn lines(orders: usize) -> Vec<String> {
    let mut v =
        vec![r#"{"type":"register_merchant","merchant":"m1","name":"M1","brand_tier":"ka","category":"food"}"#
            .to_string()];
    for o in 0..orders {
        v.push(format!(
            r#"{{"type":"order_paid","order":"o{o}","user":"u{}","merchant":"m1","channel":"shelf","lines":[{{"sku":"k","qty":1,"price":{p},"paid":{p}}}],"at":"2021-11-03T10:00:00+08:00"}}"#,
            o % 7,
            p = 100 + o
        ));
    }
    v
}

/// Spawns `dacu ingest` reading stdin; `extra` are further flags.
fn spawn(data: &std::path::Path, extra: &[&str]) -> (Child, ChildStdin) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dacu"))
        .args(["ingest", "--data", p(data), "--festival", p(&festival("example-mini.toml"))])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn dacu");
    let stdin = child.stdin.take().expect("stdin");
    (child, stdin)
}

/// The child's stdout, line by line, on a channel (so a missing ack times out instead of
/// hanging the test).
fn stdout_lines(child: &mut Child) -> Receiver<String> {
    let out = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            if tx.send(line.expect("read stdout")).is_err() {
                return;
            }
        }
    });
    rx
}

fn clean_digest(dir: &std::path::Path, text: &str) -> String {
    let data = dir.join("clean");
    let o = dacu_stdin(&["ingest", "--data", p(&data), "--festival", p(&festival("example-mini.toml"))], text);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&dacu(&["digest", "--data", p(&data)]))
}

fn orders_in(data: &std::path::Path) -> u64 {
    json(&dacu(&["report", "--data", p(data), "--json"]))["orders"].as_u64().expect("orders")
}

#[test]
fn acknowledged_lines_of_a_slow_producer_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let all = lines(120);
    let (mut child, mut stdin) = spawn(&data, &["--acks", "-"]);
    let acks = stdout_lines(&mut child);
    // Ten groups of lines, a pause after each; before the next group, wait for the ack
    // that covers the group: it must come while stdin is still open and idle.
    let mut written = 0usize;
    let mut last: Option<Value> = None;
    for group in all.chunks(all.len() / 10 + 1) {
        for l in group {
            writeln!(stdin, "{l}").unwrap();
        }
        stdin.flush().unwrap();
        written += group.len();
        loop {
            let line = acks.recv_timeout(Duration::from_secs(10)).expect("an acknowledgement while the input is idle");
            let ack: Value = serde_json::from_str(&line).unwrap();
            assert!(ack["accepted"].as_u64().unwrap() <= ack["durable_through_line"].as_u64().unwrap());
            let through = ack["durable_through_line"].as_u64().unwrap() as usize;
            last = Some(ack);
            if through >= written {
                assert_eq!(through, written, "an ack never runs ahead of the input");
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(30));
    }
    let ack = last.unwrap();
    assert_eq!(ack["accepted"], written as u64);
    assert_eq!(ack["rejected"], 0);
    assert_eq!(ack["events"], written as u64, "one event per line here");
    // Kill it with stdin still open: it has seen no end of input and written no summary.
    child.kill().unwrap();
    child.wait().unwrap();
    drop(stdin);
    assert!(acks.recv_timeout(Duration::from_secs(5)).is_err(), "no summary after a SIGKILL");

    // Everything acknowledged is in the directory: the same state as a clean ingest.
    let v = dacu(&["verify", "--data", p(&data)]);
    assert!(v.status.success(), "{}", stdout(&v));
    assert_eq!(orders_in(&data), 120);
    assert_eq!(stdout(&dacu(&["digest", "--data", p(&data)])), clean_digest(dir.path(), &(all.join("\n") + "\n")));
}

/// The repro: 1,424 lines over 3 s, then a kill, lost everything, because ingest
/// committed only every 8,192 commands or at the end of input.
#[test]
fn a_slow_producers_lines_are_durable_within_the_commit_interval() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let all = lines(60);
    let (mut child, mut stdin) = spawn(&data, &["--commit-ms", "20"]);
    for l in &all {
        writeln!(stdin, "{l}").unwrap();
        stdin.flush().unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    // Far longer than the commit interval, with the input idle.
    std::thread::sleep(Duration::from_millis(800));
    child.kill().unwrap();
    child.wait().unwrap();
    drop(stdin);
    assert_eq!(orders_in(&data), 60);
}

#[test]
fn acks_go_to_a_file_and_cover_rejections_and_blank_lines() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let acks = dir.path().join("acks.jsonl");
    let input = format!("{}\n\n{{\"type\":\"nope\"}}\n\n", lines(2).join("\n"));
    let o = dacu_stdin(
        &["ingest", "--data", p(&data), "--festival", p(&festival("example-mini.toml")), "--acks", p(&acks)],
        &input,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json(&o), serde_json::json!({"accepted": 3, "rejected": 1}), "stdout keeps only the summary");
    let text = std::fs::read_to_string(&acks).unwrap();
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last, serde_json::json!({"durable_through_line": 6, "accepted": 3, "rejected": 1, "events": 3}));
    // Out-of-range intervals are usage errors.
    let o = dacu(&["ingest", "--data", p(&data), "--commit-ms", "10001", p(&acks)]);
    assert_eq!(o.status.code(), Some(2));
}
