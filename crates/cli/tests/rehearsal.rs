//! `dacu demo --serve`: a small rehearsal played through the real service on an
//! accelerated clock, then settled; the directory it leaves is a sound festival.

use serde_json::Value;
use std::process::Command;

fn dacu(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dacu")).args(args).output().unwrap()
}

/// Runs `dacu demo --serve --exit` at `scale` in `data`, played in 0.2 minutes: what it
/// printed, its feed summary line, and that line's (fed, accepted, rejected).
fn rehearse(data: &str, scale: &str) -> (String, String, [u64; 3]) {
    let listen = ["--listen", "127.0.0.1:0"];
    let out = dacu(
        &[&["demo", "--serve", "--exit", "--data", data, "--scale", scale, "--minutes", "0.2"][..], &listen].concat(),
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    let fed = text.lines().find(|l| l.starts_with("Fed ")).unwrap_or_else(|| panic!("no feed summary: {text}"));
    let n: Vec<u64> = fed.split(|c: char| !c.is_ascii_digit()).filter_map(|x| x.parse().ok()).take(3).collect();
    let fed = fed.to_string();
    (text, fed, [n[0], n[1], n[2]])
}

#[test]
fn a_rehearsal_plays_the_festival_through_the_service_and_settles_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("demo");
    let d = data.to_str().unwrap();
    let (text, fed, n) = rehearse(d, "20000");
    // The console's link carries an operator token; the anchor's link a participant's.
    assert!(text.contains("/login?token=dacu_"), "{text}");
    assert!(text.contains("Settled at the festival's end"), "{text}");

    // Everything fed was answered: accepted + rejected = the commands simulated.
    assert_eq!(n[0], n[1] + n[2], "{fed}");
    // Played in time order, the stream's rejections are its deliberately bad lines and a
    // few of their kin — not the bulk of a session or a red packet lost to a late feed.
    assert!(n[2] * 20 < n[0], "too many rejections: {fed}");

    let report: Value = serde_json::from_slice(&dacu(&["report", "--data", d, "--json"]).stdout).unwrap();
    assert!(report["gmv"].as_i64().unwrap() > 0);
    assert!(report["settlements"].as_u64().unwrap() >= 1);
    let verify = dacu(&["verify", "--data", d]);
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
}

#[test]
fn the_calibrated_rehearsal_plays_through_the_service_with_its_baseline_and_reference() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("demo");
    let d = data.to_str().unwrap();
    let (text, fed, n) = rehearse(d, "1/4000");
    assert!(text.contains("The calibrated rehearsal at 1/4000"), "{text}");
    // A profile's lines are all valid: played in time order, every one is accepted but
    // a few grabs the feeder sent after the accelerated clock had closed their packet.
    assert_eq!(n[0], n[1] + n[2], "{fed}");
    assert!(n[2] * 20 < n[0], "too many rejections: {fed}");
    let codes = fed.split_once('(').map_or("", |(_, c)| c.trim_end_matches(')'));
    assert!(
        codes.split(", ").all(|c| c.is_empty() || c.starts_with("promotion_ended ")),
        "only late grabs are refused: {fed}"
    );

    // The festival the service played, against the baseline and the July month the
    // rehearsal made beside it: every figure of the source is computed from the data.
    let (prev, july) = (format!("{d}/previous"), format!("{d}/july"));
    let o = dacu(&["report", "--data", d, "--baseline", &prev, "--reference", &july, "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let figures = report["figures"].as_array().unwrap();
    assert_eq!(figures.len(), 7, "{report}");
    for x in figures {
        assert!(x["value"].is_i64() && x["reproduced"].is_boolean(), "{x}");
    }
    let announced = report["year_on_year"].as_array().unwrap().iter().filter(|m| m["announced_x"].is_i64()).count();
    assert_eq!(announced, 3, "{report}");
    assert!(dacu(&["verify", "--data", d]).status.success());
}
