//! Regression: bad input costs its own line only. A non-UTF-8 byte, a line longer
//! than 1 MiB and numbers out of range are each rejected with their line number and
//! code; the lines around them are applied, and memory stays flat.

mod common;
use common::*;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

fn mini() -> String {
    std::fs::read_to_string(example("example-mini.jsonl")).unwrap()
}

/// The rejections printed on stderr, as (line, code).
fn rejections(o: &std::process::Output) -> Vec<(u64, String)> {
    stderr(o)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| (v["line"].as_u64().unwrap(), v["code"].as_str().unwrap().to_string()))
        .collect()
}

fn digest_of(data: &std::path::Path) -> String {
    stdout(&dacu(&["digest", "--data", p(data)]))
}

/// Ingests `input` from stdin into a fresh directory under `dir`.
fn ingest_bytes(dir: &std::path::Path, name: &str, input: Vec<u8>) -> std::process::Output {
    let data = dir.join(name);
    let mut child = Command::new(env!("CARGO_BIN_EXE_dacu"))
        .args(["ingest", "--data", p(&data), "--festival", p(&festival("example-mini.toml"))])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    out
}

/// The repro: one byte 0xff aborted the stream with `{"accepted":0,"rejected":0}`.
#[test]
fn a_non_utf8_byte_rejects_only_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let clean = ingest_bytes(dir.path(), "clean", mini().into_bytes());
    assert!(clean.status.success());
    // Line 5 of 39 is the bad one; the example's own lines move down by one after it.
    let mut input = Vec::new();
    for (i, l) in mini().lines().enumerate() {
        if i == 4 {
            input.extend(b"{\"type\":\"register_provider\",\"provider\":\"p\xff\",\"name\":\"x\"}\n");
        }
        input.extend(l.as_bytes());
        input.push(b'\n');
    }
    let o = ingest_bytes(dir.path(), "d", input);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json(&o), serde_json::json!({"accepted": 32, "rejected": 7}));
    let r = rejections(&o);
    assert_eq!(r[0], (5, "invalid_json".to_string()));
    assert!(stderr(&o).contains("not UTF-8"), "{}", stderr(&o));
    assert_eq!(r.len(), 7);
    assert_eq!(digest_of(&dir.path().join("d")), digest_of(&dir.path().join("clean")));
}

fn vm_hwm_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The repro: a line without a newline grew memory until the process aborted at 2 GiB.
#[cfg(target_os = "linux")]
#[test]
fn a_line_over_1_mib_is_skipped_and_memory_stays_flat() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dacu"))
        .args(["ingest", "--data", p(&data), "--festival", p(&festival("example-mini.toml")), "--acks", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let mut acks = BufReader::new(child.stdout.take().unwrap());
    let good = |m: u32| {
        format!(r#"{{"type":"register_merchant","merchant":"m{m}","name":"M","brand_tier":"none","category":"c"}}"#)
    };
    writeln!(stdin, "{}", good(1)).unwrap();
    // 96 MiB of one line, a valid JSON prefix and then padding, written in pieces.
    stdin.write_all(br#"{"type":"register_merchant","merchant":"m2","name":""#).unwrap();
    let pad = vec![b'x'; 1 << 20];
    for _ in 0..96 {
        stdin.write_all(&pad).unwrap();
    }
    stdin.write_all(b"\",\"brand_tier\":\"none\",\"category\":\"c\"}\n").unwrap();
    writeln!(stdin, "{}", good(3)).unwrap();
    stdin.flush().unwrap();
    // Wait until line 3 is decided, then read the peak memory while the process lives.
    let mut line = String::new();
    loop {
        line.clear();
        assert!(acks.read_line(&mut line).unwrap() > 0, "ingest ended early");
        let ack: serde_json::Value = serde_json::from_str(&line).unwrap();
        if ack["durable_through_line"] == 3 {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let peak_kib = vm_hwm_kib(pid);
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(peak_kib < 64 * 1024, "peak {peak_kib} KiB: the long line was buffered");
    assert_eq!(rejections(&out), [(2, "line_too_long".to_string())]);
    let o = dacu(&["show", "--data", p(&data), "merchant", "m3", "--json"]);
    assert!(o.status.success(), "the line after the long one was applied");
    let o = dacu(&["show", "--data", p(&data), "merchant", "m2", "--json"]);
    assert_eq!(o.status.code(), Some(1), "the long line was not applied");
}

/// The repro: `1e400` gave `invalid_json` although docs/commands.md says a number out of
/// range is `invalid_command`; broken JSON stays `invalid_json`.
#[test]
fn numbers_out_of_range_are_invalid_command_and_broken_json_is_invalid_json() {
    let dir = tempfile::tempdir().unwrap();
    let huge = "7".repeat(400);
    let lines = [
        r#"{"type":"register_anchor","anchor":"a1","name":"x","followers":1e400}"#.to_string(),
        format!(r#"{{"type":"register_anchor","anchor":"a1","name":"x","followers":{huge}}}"#),
        r#"{"type":"register_anchor","anchor":"a1","name":"x","followers":123456789012345678901234567890}"#.to_string(),
        r#"{"anchor":"a1","name":"x","followers":-1e400,"type":"register_anchor"}"#.to_string(),
        r#"{"type":"register_anchor","anchor":"a1","name":"x","followers":1e400"#.to_string(),
        r#"{"type":"register_anchor","anchor":"a1","name":"x","followers":1}"#.to_string(),
    ];
    let o = ingest_bytes(dir.path(), "d", (lines.join("\n") + "\n").into_bytes());
    assert!(o.status.success());
    let codes: Vec<_> = rejections(&o).into_iter().map(|(_, c)| c).collect();
    assert_eq!(codes, ["invalid_command", "invalid_command", "invalid_command", "invalid_command", "invalid_json"]);
    assert_eq!(json(&o)["accepted"], 1);
}
