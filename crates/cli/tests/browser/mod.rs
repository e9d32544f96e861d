//! A headless Chromium for end-to-end browser tests, driven over W3C WebDriver.
//!
//! An integration test takes it with `mod browser;` and drives a page:
//!
//! ```ignore
//! let b = browser::Browser::start();
//! b.goto("http://127.0.0.1:8080/");
//! assert_eq!(b.eval("return document.title"), "Report");
//! b.wait_for("return document.querySelectorAll('svg').length", Duration::from_secs(5));
//! b.click("#next");
//! assert!(b.console_errors().is_empty());
//! b.screenshot(&browser::artifacts_dir().join("report.png"));
//! ```
//!
//! The browser is Debian's `chromium` (/usr/bin/chromium) driven by its `chromium-driver`
//! (/usr/bin/chromedriver). When either is missing the module installs both (and a CJK font) with apt-get,
//! once per process (we run as root). Every [`Browser`] runs its own chromedriver on a free
//! local port and its own Chromium with a fresh profile directory; dropping it ends the
//! session and kills the driver. Commands go over plain HTTP (`reqwest`, blocking).
//!
//! Screenshots land in [`artifacts_dir`]: `$CARGO_TARGET_TMPDIR/browser-artifacts`, that is
//! `target/tmp/browser-artifacts` in a default build.
//!
//! Console messages are read from chromedriver's log endpoint (`POST /session/{id}/se/log`,
//! enabled by the `goog:loggingPrefs` capability): see [`Browser::console_errors`].
//!
//! Every method panics, with the WebDriver error, when the browser fails it: these are test
//! helpers, and a panic is a failed test.

#![allow(dead_code, reason = "each browser test uses some of the helpers")]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long chromedriver has to answer ready on `/status`.
const DRIVER_READY: Duration = Duration::from_secs(20);
/// How often [`Browser::wait_for`] evaluates its condition.
const POLL: Duration = Duration::from_millis(50);
/// The WebDriver key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Where the browser tests' screenshots land: `$CARGO_TARGET_TMPDIR/browser-artifacts`
/// (created).
pub fn artifacts_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-artifacts");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create the artifacts directory {}: {e}", dir.display()));
    dir
}

/// Installs chromium and chromium-driver with apt-get if either binary is missing; once per
/// process. Panics if they are still missing afterwards.
/// Debian's `fonts-wqy-microhei`, a small font with the CJK characters.
pub const CJK_FONT: &str = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc";

pub fn ensure_installed() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        // A CJK font too: the pages speak Chinese, and a screenshot of tofu shows nothing.
        let present =
            || Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() && Path::new(CJK_FONT).exists();
        if present() {
            return;
        }
        eprintln!("browser: {CHROMIUM} or {CHROMEDRIVER} is missing; installing them with apt-get");
        if !apt_get(&["install", "-y", "chromium", "chromium-driver", "fonts-wqy-microhei"]) {
            apt_get(&["update"]);
            apt_get(&["install", "-y", "chromium", "chromium-driver", "fonts-wqy-microhei"]);
        }
        assert!(
            present(),
            "browser tests need {CHROMIUM} and {CHROMEDRIVER}, and `apt-get install -y chromium \
             chromium-driver` did not provide them (even after `apt-get update`); install them \
             by hand"
        );
    });
}

/// Runs apt-get non-interactively, waiting up to two minutes for a dpkg lock another
/// process holds; true if it succeeded.
fn apt_get(args: &[&str]) -> bool {
    let status = Command::new("apt-get")
        .args(["-o", "DPkg::Lock::Timeout=120"])
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null())
        .status();
    match status {
        Ok(status) => status.success(),
        Err(e) => {
            eprintln!("browser: could not run apt-get: {e}");
            false
        }
    }
}

/// A chromedriver process, killed when dropped (also when starting the session panics).
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A headless Chromium with one WebDriver session; see the module documentation.
pub struct Browser {
    http: reqwest::blocking::Client,
    /// `http://127.0.0.1:{port}/session/{id}`
    session: String,
    /// The SEVERE console messages read so far (reading the log empties it).
    errors: Mutex<Vec<String>>,
    // Dropped after the session is deleted: first the driver, then the profile.
    driver: Driver,
    profile: tempfile::TempDir,
}

impl Browser {
    /// A 1920×1080 browser.
    pub fn start() -> Browser {
        Browser::with_size(1920, 1080)
    }

    /// A browser whose window is `width`×`height`.
    pub fn with_size(width: u32, height: u32) -> Browser {
        ensure_installed();
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("build the HTTP client");
        let (driver, base) = launch_driver(&http);
        let profile = tempfile::tempdir().expect("create a profile directory for chromium");
        let capabilities = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": CHROMIUM,
                    "args": [
                        "--headless",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--disable-sync",
                        "--no-first-run",
                        format!("--user-data-dir={}", profile.path().display()),
                        format!("--window-size={width},{height}"),
                    ],
                },
                "goog:loggingPrefs": { "browser": "ALL" },
            }}
        });
        let url = format!("{base}/session");
        let created = command(&http, reqwest::Method::POST, &url, Some(&capabilities))
            .unwrap_or_else(|e| panic!("start a chromium session: {e}"));
        let id =
            created["sessionId"].as_str().unwrap_or_else(|| panic!("a new session without a sessionId: {created}"));
        Browser { http, session: format!("{base}/session/{id}"), errors: Mutex::new(Vec::new()), driver, profile }
    }

    /// Navigates to `url` and waits for the page to load.
    pub fn goto(&self, url: &str) {
        self.post("/url", &json!({ "url": url }));
    }

    /// Runs `js` as the body of a function in the page and returns what it returns: write
    /// `return document.title`, not `document.title`. A promise is not awaited.
    pub fn eval(&self, js: &str) -> Value {
        self.execute(js, &[]).unwrap_or_else(|e| panic!("eval `{js}`: {e}"))
    }

    /// Evaluates `js_condition` (a function body, as for [`Browser::eval`]) every 50 ms
    /// until it returns something truthy — not null, false, "" or 0 — and returns that.
    /// A condition that throws (say, on an element not there yet) counts as not yet true.
    /// Panics with the last value (or error) when `timeout` passes first.
    pub fn wait_for(&self, js_condition: &str, timeout: Duration) -> Value {
        let start = Instant::now();
        loop {
            let last = match self.execute(js_condition, &[]) {
                Ok(value) if truthy(&value) => return value,
                Ok(value) => value.to_string(),
                Err(e) if e.code == "javascript error" => format!("error: {e}"),
                Err(e) => panic!("wait_for `{js_condition}`: {e}"),
            };
            if start.elapsed() >= timeout {
                panic!("wait_for `{js_condition}`: not true after {timeout:?}; last: {last}");
            }
            std::thread::sleep(POLL);
        }
    }

    /// The `innerText` of the first element matching `css`; panics if none does.
    pub fn text(&self, css: &str) -> String {
        let js = "const e = document.querySelector(arguments[0]); return e ? e.innerText : null;";
        match self.execute(js, &[json!(css)]) {
            Ok(Value::String(text)) => text,
            Ok(Value::Null) => panic!("text: no element matches `{css}`"),
            Ok(other) => panic!("text `{css}`: innerText was {other}"),
            Err(e) => panic!("text `{css}`: {e}"),
        }
    }

    /// Clicks the first element matching `css` the way a user would (WebDriver's element
    /// click: scrolled into view, and failing if something else would get the click).
    pub fn click(&self, css: &str) {
        let found = self.post("/element", &json!({ "using": "css selector", "value": css }));
        let element =
            found[ELEMENT].as_str().unwrap_or_else(|| panic!("click: no element reference for `{css}`: {found}"));
        self.post(&format!("/element/{element}/click"), &json!({}));
    }

    /// Saves a PNG of the viewport to `path` (its directory created). Tests keep them
    /// under [`artifacts_dir`].
    pub fn screenshot(&self, path: &Path) {
        let url = format!("{}/screenshot", self.session);
        let value = command(&self.http, reqwest::Method::GET, &url, None).unwrap_or_else(|e| panic!("screenshot: {e}"));
        let encoded = value.as_str().unwrap_or_else(|| panic!("screenshot: not base64: {value}"));
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap_or_else(|e| panic!("screenshot: bad base64: {e}"));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        }
        std::fs::write(path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// Every console message of level SEVERE since the session started, oldest first:
    /// `console.error` calls, uncaught exceptions, failed resource loads. Chromium
    /// formats each as `<url> <line>:<column> <message>`, strings quoted, so test for a
    /// substring. Reading chromedriver's log empties it, so the browser keeps what it read.
    pub fn console_errors(&self) -> Vec<String> {
        let entries = self.post("/se/log", &json!({ "type": "browser" }));
        let entries = entries.as_array().unwrap_or_else(|| panic!("console log: not a list: {entries}"));
        let mut errors = self.errors.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        for entry in entries {
            if entry["level"] == "SEVERE" {
                errors.push(entry["message"].as_str().unwrap_or_default().to_owned());
            }
        }
        errors.clone()
    }

    /// The profile directory chromium runs with.
    pub fn profile_dir(&self) -> &Path {
        self.profile.path()
    }

    fn execute(&self, js: &str, args: &[Value]) -> Result<Value, WebDriverError> {
        let url = format!("{}/execute/sync", self.session);
        let body = json!({ "script": js, "args": args });
        command(&self.http, reqwest::Method::POST, &url, Some(&body))
    }

    fn post(&self, path: &str, body: &Value) -> Value {
        let url = format!("{}{path}", self.session);
        command(&self.http, reqwest::Method::POST, &url, Some(body)).unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ends chromium; the driver is killed and the profile removed as the fields drop.
        let _ = self.http.delete(&self.session).timeout(Duration::from_secs(10)).send();
    }
}

/// Starts chromedriver on a free local port and waits until it is ready; returns it with
/// its base URL. Another process can take the port between our probe and chromedriver's
/// bind, so a driver that exits before it is ready is retried on a new port.
fn launch_driver(http: &reqwest::blocking::Client) -> (Driver, String) {
    const ATTEMPTS: usize = 3;
    for attempt in 1..=ATTEMPTS {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|probe| probe.local_addr())
            .expect("find a free local port")
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("run {CHROMEDRIVER}: {e}"));
        let mut driver = Driver(child);
        let base = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        loop {
            let ready = http
                .get(format!("{base}/status"))
                .timeout(Duration::from_secs(2))
                .send()
                .and_then(|response| response.json::<Value>())
                .is_ok_and(|status| status["value"]["ready"] == true);
            if ready {
                return (driver, base);
            }
            if let Ok(Some(exit)) = driver.0.try_wait() {
                eprintln!("browser: chromedriver on port {port} exited ({exit}), attempt {attempt}");
                break;
            }
            assert!(start.elapsed() < DRIVER_READY, "chromedriver on port {port} not ready after {DRIVER_READY:?}");
            std::thread::sleep(POLL);
        }
    }
    panic!("chromedriver exited before it was ready, {ATTEMPTS} times");
}

/// A WebDriver command's failure: its error code (`"javascript error"`, `"no such
/// element"`, …, or `"http"` when the exchange itself failed) and message.
#[derive(Debug)]
struct WebDriverError {
    code: String,
    message: String,
}

impl std::fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// Sends one WebDriver command and returns its `value`.
fn command(
    http: &reqwest::blocking::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<&Value>,
) -> Result<Value, WebDriverError> {
    let transport = |e: reqwest::Error| WebDriverError { code: "http".to_owned(), message: format!("{url}: {e}") };
    let mut request = http.request(method, url);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().map_err(transport)?;
    let status = response.status();
    let mut reply: Value = response.json().map_err(transport)?;
    let value = reply["value"].take();
    if status.is_success() {
        return Ok(value);
    }
    Err(WebDriverError {
        code: value["error"].as_str().unwrap_or("unknown error").to_owned(),
        message: format!(
            "{} (HTTP {status})",
            value["message"].as_str().map_or_else(|| value.to_string(), str::to_owned)
        ),
    })
}

/// JavaScript truthiness of a JSON value: null, false, "" and 0 are false.
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}
