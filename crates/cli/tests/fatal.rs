//! A panic on the node's writer is fatal to the process (feature `failpoints`): `dacu
//! ingest` exits 70 with a message, and what it acknowledged before is all there.
#![cfg(feature = "failpoints")]

mod common;
use common::*;
use std::io::{BufRead, Write};
use std::process::{Command, Stdio};

#[test]
fn a_panic_on_the_writer_ends_the_process_and_keeps_what_was_acknowledged() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("d");
    let f = festival("example-mini.toml");
    // The first 6 commands go through; the 7th panics the writer.
    let mut child = Command::new(env!("CARGO_BIN_EXE_dacu"))
        .args(["ingest", "--data", p(&data), "--festival", p(&f), "--acks", "-", "--commit-ms", "0"])
        .env("FAILPOINTS", "node::writer::execute=6*off->panic")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut acks = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let lines: Vec<String> =
        std::fs::read_to_string(example("example-mini.jsonl")).unwrap().lines().map(String::from).collect();
    // One line at a time, each acknowledged before the next is sent.
    let mut acked = 0;
    for (i, l) in lines.iter().enumerate().take(6) {
        writeln!(stdin, "{l}").unwrap();
        stdin.flush().unwrap();
        let ack: serde_json::Value = serde_json::from_str(&acks.next().unwrap().unwrap()).unwrap();
        assert_eq!(ack["durable_through_line"], i as u64 + 1);
        acked = ack["accepted"].as_u64().unwrap();
    }
    writeln!(stdin, "{}", lines[6]).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(70), "{}", stderr(&out));
    assert!(stderr(&out).contains("fatal: the writer thread panicked"), "{}", stderr(&out));
    // Everything acknowledged is there; nothing else is.
    let v = dacu(&["verify", "--data", p(&data)]);
    assert!(v.status.success(), "{}", stdout(&v));
    let d = dacu(&["report", "--data", p(&data), "--json"]);
    assert!(d.status.success());
    let ing = dacu(&["ingest", "--data", p(&data), p(&example("example-mini.jsonl"))]);
    let summary = json(&ing);
    // Re-ingesting the file: what was acknowledged comes back as duplicates.
    assert!(summary["rejected"].as_u64().unwrap() >= acked, "{summary}");
}
