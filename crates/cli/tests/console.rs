//! The festival console in a real headless Chromium, against the real `dacu serve`: the
//! operator's screen shows what `dacu report --json` and `dacu leaderboard --json` say, a
//! new order moves GMV without a reload, a participant sees its own earnings and gets 403
//! for another's, and no page logs an error (the guaranteed-traffic panel is
//! console_traffic.rs's). Screenshots land in the browser artifacts directory
//! (tests/browser/mod.rs).

mod browser;
mod console_common;
mod serve_common;
use browser::{artifacts_dir, Browser};
use console_common::*;
use serde_json::{json, Value};
use serve_common::*;
use std::path::Path;

fn setup(data: &Path) {
    let s = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/contests-mini.jsonl"))
        .unwrap();
    prepare_any(data, &s);
}

#[test]
fn the_operator_console_shows_the_report_and_moves_with_a_new_order() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("d");
    setup(&data);
    let d = data.to_str().unwrap();
    let report = cli_json(&["report", "--data", d, "--json"]);
    let board = cli_json(&["leaderboard", "--data", d, "anchor_race", "--json"]);
    let op = token(&data, "operator", None);
    // A previous festival's figures, for the year-on-year multiple.
    let baseline = tmp.path().join("previous.json");
    std::fs::write(&baseline, r#"{"festival": "previous", "gmv_fen": 3640000}"#).unwrap();
    let s = Server::start(&data, &[&format!("report.baseline=\"{}\"", baseline.display())]);
    let served: Value = s.get(&op, "/v1/report").json().unwrap();
    let yoy = served["year_on_year"].as_array().unwrap().iter().find(|m| m["figure"] == "gmv_fen").unwrap().clone();

    let b = Browser::start();
    b.goto(&format!("{}/login?token={op}", s.url));
    // The login redirected to the console and the cookie carries the session.
    assert_eq!(b.eval("return location.pathname"), "/");
    assert_eq!(data_num(&b, "#gmv", "fen"), report["gmv"].as_i64().unwrap());
    assert_eq!(data_num(&b, "#orders", "n"), report["orders"].as_i64().unwrap());
    assert_eq!(data_num(&b, "#buyers", "n"), report["buyers"].as_i64().unwrap());
    let leader = board["rows"][0]["id"].as_str().unwrap();
    b.wait_for("return document.querySelector('#board-anchor_race .leader')", WAIT);
    assert_eq!(b.text("#board-anchor_race .leader"), leader);
    let x100 = yoy["multiple_x100"].as_i64().unwrap();
    assert_eq!(b.text("#yoy"), format!("{}.{:02}×", x100 / 100, x100 % 100));
    // The source's figures and the announced multiples, marked as the report marks them.
    let figures = served["figures"].as_array().unwrap();
    let announced: Vec<&Value> =
        served["year_on_year"].as_array().unwrap().iter().filter(|m| !m["announced_x"].is_null()).collect();
    assert!(!figures.is_empty(), "{served}");
    b.wait_for("return document.querySelector('#source-figures')", WAIT);
    let rows = b.eval("return document.querySelectorAll('#source-figures tr[data-figure]').length");
    assert_eq!(rows, json!(figures.len() + announced.len()));
    let done = figures.iter().chain(announced.iter().copied()).filter(|x| x["reproduced"] == true).count();
    assert_eq!(b.text("#figures-count"), format!("{done} of {} reproduced", figures.len() + announced.len()));
    // Money as the report prints it: ¥ with every fen.
    assert!(b.text("#gmv").starts_with('¥') && b.text("#gmv").contains('.'), "{}", b.text("#gmv"));
    no_leaks(&b, "the console");
    // Without [traffic] in the festival file there is no traffic panel.
    assert_eq!(b.eval("return document.getElementById('p-traffic').hidden"), true);
    b.screenshot(&artifacts_dir().join("console-operator.png"));

    // A new order through the API moves the figure, and the page was not reloaded.
    b.eval("window.__marker = 116; return true");
    let before = data_num(&b, "#gmv", "fen");
    let (status, _) = s.command(
        &op,
        json!({"type": "order_paid", "order": "o-browser", "user": "u-browser", "merchant": "m1", "channel": "shelf",
               "lines": [{"sku": "m1-a", "qty": 1, "price": 12345, "paid": 12345}], "at": "2021-11-07T10:00:00+08:00"}),
    );
    assert_eq!(status, 200);
    let js = format!("return document.querySelector('#gmv').dataset.fen === '{}'", before + 12345);
    b.wait_for(&js, WAIT);
    assert_eq!(b.eval("return window.__marker"), 116, "the page reloaded");
    wait_num(&b, "#orders", "n", report["orders"].as_i64().unwrap() + 1);

    // A coupon sold out raises an alert on the screen.
    let coupon = json!({"type": "create_coupon", "id": "c-one", "coupon": "one", "issuer": "platform", "scope": "platform",
        "threshold": 1000, "off": 100, "stock": 1, "claim_from": "2021-11-01T00:00:00+08:00",
        "claim_until": "2021-11-08T00:00:00+08:00", "valid_days": 3});
    assert_eq!(s.command(&op, coupon).0, 200);
    assert_eq!(s.command(&op, json!({"type": "claim_coupon", "id": "k-one", "coupon": "one", "user": "u9"})).0, 200);
    b.wait_for("return document.querySelector('#alerts li[data-code=coupon_sold_out]')", WAIT);
    assert!(b.text("#alerts").contains("coupon one is sold out"), "{}", b.text("#alerts"));
    no_leaks(&b, "the console with an alert");

    // One click to the full board, the ledger and the report.
    b.click("#board-anchor_race h3 a");
    b.wait_for(
        "return location.pathname === '/boards/anchor_race' && document.querySelectorAll('#board tr[data-id]').length",
        WAIT,
    );
    assert_eq!(b.text("#board tr[data-id] td:nth-child(2)"), leader);
    no_leaks(&b, "the board");
    b.screenshot(&artifacts_dir().join("console-board.png"));
    b.goto(&format!("{}/sessions/s1", s.url));
    b.wait_for("return document.querySelector('svg.chart')", WAIT);
    no_leaks(&b, "the review");
    b.screenshot(&artifacts_dir().join("console-review.png"));
    b.goto(&format!("{}/ledger", s.url));
    b.wait_for("return document.querySelector('#ledger')", WAIT);
    let errors = b.console_errors();
    assert!(errors.is_empty(), "the pages logged errors: {errors:?}");
    drop(b);
    assert!(s.stop().success());
}

#[test]
fn a_participant_sees_its_own_earnings_and_nothing_of_another() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("d");
    setup(&data);
    let op = token(&data, "operator", None);
    let mine = token(&data, "participant", Some(("anchor", "a_head")));
    let s = Server::start(&data, &[]);
    let (status, settled) =
        s.command(&op, json!({"type": "settle", "id": "browser-settle", "at": "2021-11-08T00:00:00+08:00"}));
    assert_eq!(status, 200, "{settled}");
    // Read at the settlement's position: the read view may not have reached it yet.
    let pos = settled["last_seq"].as_u64().unwrap_or_else(|| settled["results"][0]["last_seq"].as_u64().unwrap());
    let ledger: Value = s.get(&op, &format!("/v1/ledger?participant=anchor:a_head&at_least={pos}")).json().unwrap();
    let net: i64 = ledger["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["unit"] == "fen")
        .map(|l| l["amount"].as_i64().unwrap())
        .sum();
    assert!(net > 0, "a_head earns something in the example: {ledger}");
    let anchor: Value = s.get(&op, &format!("/v1/anchors/a_head?at_least={pos}")).json().unwrap();

    let b = Browser::start();
    b.goto(&format!("{}/login?token={mine}", s.url));
    assert_eq!(data_num(&b, "#net", "fen"), net);
    assert_eq!(
        data_num(&b, "#gmv", "fen"),
        anchor["stats"]["gmv"].as_i64().unwrap_or_else(|| anchor["gmv"].as_i64().unwrap())
    );
    b.wait_for("return document.querySelectorAll('tr[data-race]').length", WAIT);
    no_leaks(&b, "the participant view");
    assert_eq!(b.eval("return document.querySelectorAll('#p-traffic').length"), 0, "no [traffic], no panel");
    b.screenshot(&artifacts_dir().join("console-participant.png"));
    let errors = b.console_errors();
    assert!(errors.is_empty(), "the participant view logged errors: {errors:?}");

    // Editing the URL to another participant: 403, and none of its data on the page.
    b.goto(&format!("{}/participants/anchor/a_mid", s.url));
    b.wait_for("return document.title.startsWith('403')", WAIT);
    assert_eq!(b.eval("return document.querySelectorAll('#gmv, #net').length"), 0);
    // The same over HTTP with the cookie: the page, the push topic and the reads.
    let cookie = format!("dacu_token={mine}");
    for path in [
        "/participants/anchor/a_mid",
        "/v1/events?topics=participant:anchor:a_mid",
        "/v1/anchors/a_mid",
        "/sessions/s2",
    ] {
        let r = s.http.get(format!("{}{path}", s.url)).header("cookie", &cookie).send().unwrap();
        assert_eq!(r.status().as_u16(), 403, "{path}");
    }
    // The cookie reads; it never writes (a POST needs the Authorization header).
    let r = s
        .http
        .post(format!("{}/v1/settle", s.url))
        .header("cookie", format!("dacu_token={op}"))
        .json(&json!({"id": "x", "at": "2021-11-08T00:00:00+08:00"}))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    drop(b);
    assert!(s.stop().success());
}

#[test]
fn a_login_with_an_unknown_token_sets_no_cookie() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("d");
    setup(&data);
    let s = Server::start(&data, &[]);
    let http = reqwest::blocking::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = http.get(format!("{}/login?token=dacu_0000000000000000_00", s.url)).send().unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.headers().get("set-cookie").is_none());
    let r = http.get(format!("{}/", s.url)).send().unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(s.stop().success());
}

#[test]
fn the_console_fits_a_laptop_screen_as_well_as_a_big_one() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("d");
    setup(&data);
    let op = token(&data, "operator", None);
    let s = Server::start(&data, &[]);
    for (w, h) in [(1366, 768), (1920, 1080)] {
        let b = Browser::with_size(w, h);
        b.goto(&format!("{}/login?token={op}", s.url));
        b.wait_for("return document.querySelector('#gmv')", WAIT);
        // Wide tables scroll inside their panels; the page itself never scrolls sideways.
        let overflow = b.eval("return document.documentElement.scrollWidth - window.innerWidth");
        assert!(overflow.as_i64().unwrap() <= 0, "at {w}×{h} the page is {overflow} px too wide");
        b.screenshot(&artifacts_dir().join(format!("console-operator-{w}x{h}.png")));
    }
    assert!(s.stop().success());
}

#[test]
fn the_api_page_lists_every_operation_and_sends_one_with_the_token_typed_in() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("d");
    setup(&data);
    let op = token(&data, "operator", None);
    let s = Server::start(&data, &[]);
    let doc: Value = s.http.get(format!("{}/openapi.json", s.url)).send().unwrap().json().unwrap();
    let methods = ["get", "post", "put", "patch", "delete"];
    let count: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| methods.iter().filter(|m| item.get(**m).is_some()).count())
        .sum();

    // No sign-in needed to read it, as for /openapi.json.
    let b = Browser::start();
    b.goto(&format!("{}/api", s.url));
    b.wait_for("return document.querySelectorAll('details.op').length", WAIT);
    assert_eq!(b.eval("return document.querySelectorAll('details.op').length"), count as u64);
    // Without the token: 401; with it: the festival.
    let festival = "details.op[data-op='GET /v1/festival']";
    b.eval(&format!("document.querySelector(\"{festival}\").open = true; return true"));
    b.click(&format!("{festival} button.send"));
    b.wait_for(&format!("return document.querySelector(\"{festival} pre.answer\").dataset.status === '401'"), WAIT);
    b.eval(&format!("document.querySelector('#token').value = '{op}'; return true"));
    b.click(&format!("{festival} button.send"));
    b.wait_for(&format!("return document.querySelector(\"{festival} pre.answer\").dataset.status === '200'"), WAIT);
    assert!(b.text(&format!("{festival} pre.answer")).contains("mini-2021"));
    no_leaks(&b, "the API page");
    b.screenshot(&artifacts_dir().join("console-api.png"));
    let errors: Vec<String> = b.console_errors().into_iter().filter(|e| !e.contains("401")).collect();
    assert!(errors.is_empty(), "the API page logged errors: {errors:?}");
    drop(b);
    assert!(s.stop().success());
}
