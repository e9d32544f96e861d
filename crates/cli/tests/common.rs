//! Helpers shared by the end-to-end tests: run the real `dacu` binary.

#![allow(dead_code, reason = "each test file uses some of the helpers")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn festival(name: &str) -> PathBuf {
    root().join("festivals").join(name)
}

pub fn example(name: &str) -> PathBuf {
    root().join("examples").join(name)
}

pub fn dacu(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dacu")).args(args).output().expect("run dacu")
}

/// Runs dacu with `input` on standard input.
pub fn dacu_stdin(args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_dacu"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn dacu");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("wait dacu");
    writer.join().expect("join").expect("write stdin");
    out
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", stdout(o)))
}

pub fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}
