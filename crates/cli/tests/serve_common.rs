//! A `dacu serve` child on a free local port, for the service's end-to-end tests.

#![allow(dead_code, reason = "each test file uses part of the harness")]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const FESTIVAL: &str = "festivals/example-mini.toml";
/// The service's clock starts here (inside the example festival) and runs at real speed.
pub const CLOCK_START: &str = "2021-11-05T10:00:00+08:00";

pub struct Server {
    pub child: Option<Child>,
    pub url: String,
    pub data: PathBuf,
    pub http: reqwest::blocking::Client,
}

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn dacu() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dacu"))
}

/// A token of `role` for the data directory (made while it is not served).
pub fn token(data: &Path, role: &str, participant: Option<(&str, &str)>) -> String {
    let mut c = dacu();
    c.args(["token", "create", "--data"]).arg(data).args(["--role", role]);
    if let Some((r, id)) = participant {
        c.args(["--participant", id, "--participant-role", r]);
    }
    let out = c.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Creates the data directory (ingesting `setup` lines) without serving it; every line
/// must be accepted.
pub fn prepare(data: &Path, setup: &str) {
    let stderr = ingest(data, setup);
    assert!(stderr.is_empty(), "setup rejected lines: {stderr}");
}

/// As [`prepare`], for a setup with lines meant to be rejected.
pub fn prepare_any(data: &Path, setup: &str) {
    ingest(data, setup);
}

fn ingest(data: &Path, setup: &str) -> String {
    let mut child = dacu()
        .args(["ingest", "--data"])
        .arg(data)
        .arg("--festival")
        .arg(root().join(FESTIVAL))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), setup.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

impl Server {
    /// Serves `data` with extra `--set` settings.
    pub fn start(data: &Path, sets: &[&str]) -> Server {
        Server::start_with(data, &[], sets)
    }

    /// Serves `data` with extra arguments (`--log URL`, `--festival FILE`) and settings.
    pub fn start_with(data: &Path, args: &[&str], sets: &[&str]) -> Server {
        let mut c = dacu();
        c.args(["serve", "--data"]).arg(data).args(["--listen", "127.0.0.1:0"]).args(args);
        c.args(["--set", &format!("clock.start=\"{CLOCK_START}\"")]);
        for s in sets {
            c.args(["--set", s]);
        }
        let mut child = c.env("DACU_LOG", "warn").stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in `{line}`"))
            .to_string();
        // Redirects are the tests' to see (a follower answers writes with 307).
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Server { child: Some(child), url, data: data.to_path_buf(), http }
    }

    pub fn get(&self, token: &str, path: &str) -> reqwest::blocking::Response {
        self.http.get(format!("{}{path}", self.url)).bearer_auth(token).send().unwrap()
    }

    pub fn post(&self, token: &str, path: &str, body: &serde_json::Value) -> reqwest::blocking::Response {
        self.http.post(format!("{}{path}", self.url)).bearer_auth(token).json(body).send().unwrap()
    }

    /// One command; the status and the JSON answer.
    pub fn command(&self, token: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let r = self.post(token, "/v1/commands", &body);
        let status = r.status().as_u16();
        (status, r.json().unwrap_or_default())
    }

    /// SIGTERM, then the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        child.wait().unwrap()
    }

    /// SIGKILL: a crash.
    pub fn kill(mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Claims of coupon `big` from 8 clients until the server is killed (SIGKILL), `during`
/// run halfway through; each user with its answer's status.
pub fn claims_until_killed(s: &Server, t: &str, during: impl FnOnce()) -> Vec<(String, u16)> {
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..8)
            .map(|w| {
                let (s, stop) = (&s, &stop);
                scope.spawn(move || {
                    let mut seen = Vec::new();
                    let mut i = 0;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let user = format!("w{w}-{i}");
                        let body = serde_json::json!({"type":"claim_coupon","id":format!("k-{user}"),"coupon":"big","user":user});
                        match s.http.post(format!("{}/v1/commands", s.url)).bearer_auth(t).json(&body).send() {
                            Ok(r) => seen.push((user, r.status().as_u16())),
                            Err(_) => break, // the server died with this request in flight
                        }
                        i += 1;
                    }
                    seen
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(750));
        during();
        std::thread::sleep(Duration::from_millis(750));
        let pid = s.child.as_ref().unwrap().id();
        let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
    })
}

/// The users whose claims were acknowledged (200) and those refused.
pub fn split_claims(answers: &[(String, u16)]) -> (Vec<&String>, Vec<&String>) {
    let ok = answers.iter().filter(|(_, st)| *st == 200).map(|(u, _)| u).collect();
    let refused = answers.iter().filter(|(_, st)| *st != 200).map(|(u, _)| u).collect();
    (ok, refused)
}

/// Every acknowledged claim of `big` is in its user's wallet on `s`, and no refused one.
pub fn assert_claims(s: &Server, t: &str, ok: &[&String], refused: &[&String]) {
    for u in ok {
        let w: serde_json::Value = s.get(t, &format!("/v1/wallets/{u}")).json().unwrap();
        assert!(w.to_string().contains("\"big\""), "acknowledged claim of {u} lost: {w}");
    }
    for u in refused {
        let r = s.get(t, &format!("/v1/wallets/{u}"));
        assert!(r.status() == 404 || !r.text().unwrap().contains("\"big\""), "a refused claim of {u} is there");
    }
}

impl Server {
    /// Waits (up to 30 s) until the node's `/readyz` says it is `role` (`leader`,
    /// `follower` or `replica`, as a stream node answers); the answer.
    pub fn wait_role(&self, role: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let text = self.http.get(format!("{}/readyz", self.url)).send().and_then(|r| r.text()).unwrap_or_default();
            if text.starts_with(&format!("ready: {role}")) {
                return text;
            }
            assert!(std::time::Instant::now() < deadline, "{} never became {role}: {text}", self.url);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The process id (for SIGSTOP and SIGCONT).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }
}

/// A token for the node directory `dir` of the stream `url` (created if need be).
pub fn stream_token(dir: &Path, url: &str, role: &str) -> String {
    let out =
        dacu().args(["token", "create", "--data"]).arg(dir).args(["--log", url, "--role", role]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The tests' festival file, as a `--festival` argument.
pub fn festival() -> String {
    root().join(FESTIVAL).to_string_lossy().into_owned()
}
