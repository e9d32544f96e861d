//! What the console's browser tests share: reading the CLI's JSON, and waiting for and
//! reading what the page renders.

#![allow(dead_code, reason = "each test file uses part of the harness")]

use crate::browser::{self, Browser};
use crate::serve_common::dacu;
use serde_json::Value;
use std::time::Duration;

pub const WAIT: Duration = Duration::from_secs(10);

pub fn cli_json(args: &[&str]) -> Value {
    let out = dacu().args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Waits until the page shows `want` in a data attribute (a value may first show as of
/// an earlier position, then move on).
pub fn wait_num(b: &Browser, css: &str, attr: &str, want: i64) {
    let js = format!("const e = document.querySelector('{css}'); return e && e.dataset.{attr} === '{want}'");
    if !browser::truthy(&b.eval(&js)) {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| b.wait_for(&js, WAIT)));
    }
    assert_eq!(data_num(b, css, attr), want, "{css} data-{attr}");
}

/// No placeholder of a missing value leaked onto the page as text.
pub fn no_leaks(b: &Browser, page: &str) {
    let text = b.eval("return document.body.innerText").as_str().unwrap().to_string();
    for bad in ["null", "undefined", "NaN", "[object"] {
        assert!(!text.contains(bad), "{page} shows `{bad}`:\n{text}");
    }
}

/// Reads a number from a data attribute once the page has rendered it.
pub fn data_num(b: &Browser, css: &str, attr: &str) -> i64 {
    let js = format!("const e = document.querySelector('{css}'); return e && e.dataset.{attr}");
    b.wait_for(&js, WAIT).as_str().unwrap().parse().unwrap()
}
