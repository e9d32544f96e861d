//! The authorization matrix of `dacu serve`: every endpoint × every role × its own or
//! another participant's resource, with the status each cell must get. No cross-tenant
//! read may succeed.

mod serve_common;
use serde_json::json;
use serve_common::*;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Who {
    Nobody,
    Operator,
    Integration,
    /// The participant the resources belong to.
    Owner,
    /// Another participant.
    Other,
}

const WHO: [Who; 5] = [Who::Nobody, Who::Operator, Who::Integration, Who::Owner, Who::Other];

/// What a cell expects: the staff get `staff`, the owner `owner`, another participant
/// `other`, nobody always 401. `ALLOWED` is any answer but 401 and 403: the request got
/// past authorization (what the engine then says is not this test's business).
struct Cell {
    method: &'static str,
    path: &'static str,
    body: Option<serde_json::Value>,
    staff: u16,
    owner: u16,
    other: u16,
}

const ALLOWED: u16 = 0;

fn matches(got: u16, want: u16) -> bool {
    if want == ALLOWED {
        got != 401 && got != 403
    } else {
        got == want
    }
}

fn cells() -> Vec<Cell> {
    let c = |method, path, staff, owner, other| Cell { method, path, body: None, staff, owner, other };
    let w = |path, body: serde_json::Value, staff| Cell {
        method: "POST",
        path,
        body: Some(body),
        staff,
        owner: 403,
        other: 403,
    };
    vec![
        // Public to every token.
        c("GET", "/v1/festival", 200, 200, 200),
        c("GET", "/v1/boards/anchor_race", 200, 200, 200),
        // The owner's own.
        c("GET", "/v1/progress/a_head", 200, 200, 403),
        c("GET", "/v1/anchors/a_head", 200, 200, 403),
        c("GET", "/v1/sessions/s1", 200, 200, 403),
        c("GET", "/v1/sessions/s1/review", 200, 200, 403),
        c("GET", "/v1/payouts/anchor_race:a_head", 200, 200, 403),
        // Staff only.
        c("GET", "/v1/merchants/m1", 200, 403, 403),
        c("GET", "/v1/providers/p1", 200, 403, 403),
        c("GET", "/v1/days/2021-11-05", 200, 403, 403),
        c("GET", "/v1/wallets/u1", ALLOWED, 403, 403),
        c("GET", "/v1/coupons/none", 404, 403, 403),
        c("GET", "/v1/budgets", 200, 403, 403),
        c("GET", "/v1/report", 200, 403, 403),
        w("/v1/commands", json!({"type":"viewer_enter","id":"auth-v","session":"s1","user":"zz"}), ALLOWED),
        w(
            "/v1/orders",
            json!({"order":"auth-o","user":"u","merchant":"m1","channel":"shelf","lines":[{"sku":"k","qty":1,"price":100,"paid":100}],"at":"2021-11-05T12:00:00+08:00"}),
            ALLOWED,
        ),
        w("/v1/coupons/none/claims", json!({"user":"u"}), 404),
        w("/v1/quote", json!({"user":"u","lines":[{"merchant":"m1","sku":"a","qty":1,"price":100}]}), 200),
    ]
}

#[test]
fn every_endpoint_every_role_own_and_another_participants_resources() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("d");
    let setup = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/contests-mini.jsonl"),
    )
    .unwrap()
        + "{\"type\":\"settle\",\"id\":\"s-auth\",\"at\":\"2021-11-08T00:00:00+08:00\"}\n";
    prepare_any(&data, &setup);
    let tokens = [
        (Who::Operator, token(&data, "operator", None)),
        (Who::Integration, token(&data, "integration", None)),
        (Who::Owner, token(&data, "participant", Some(("anchor", "a_head")))),
        (Who::Other, token(&data, "participant", Some(("anchor", "a_mid")))),
    ];
    let s = Server::start(&data, &[]);
    let mut failures = Vec::new();
    for cell in cells() {
        for who in WHO {
            let mut req = match cell.method {
                "GET" => s.http.get(format!("{}{}", s.url, cell.path)),
                _ => s.http.post(format!("{}{}", s.url, cell.path)).json(cell.body.as_ref().unwrap()),
            };
            if let Some((_, t)) = tokens.iter().find(|(w, _)| *w == who) {
                req = req.bearer_auth(t);
            }
            let got = req.send().unwrap().status().as_u16();
            let want = match who {
                Who::Nobody => 401,
                Who::Operator | Who::Integration => cell.staff,
                Who::Owner => cell.owner,
                Who::Other => cell.other,
            };
            if !matches(got, want) {
                failures.push(format!(
                    "{} {} as {who:?}: {got}, expected {}",
                    cell.method,
                    cell.path,
                    if want == ALLOWED { "past authorization".to_string() } else { want.to_string() }
                ));
            }
            if who == Who::Other && (200..300).contains(&got) && cell.owner != cell.other {
                failures.push(format!("CROSS-TENANT READ: {} {} as another participant", cell.method, cell.path));
            }
        }
    }
    // Tokens: the operator only.
    let (op, int) = (&tokens[0].1, &tokens[1].1);
    for (t, want) in [(op, 201), (int, 403), (&tokens[2].1, 403)] {
        let got = s.post(t, "/v1/tokens", &json!({"role":"integration"})).status().as_u16();
        if got != want {
            failures.push(format!("POST /v1/tokens: {got}, expected {want}"));
        }
    }
    for (t, want) in [(op, 200), (int, 403)] {
        let got = s.get(t, "/v1/tokens").status().as_u16();
        if got != want {
            failures.push(format!("GET /v1/tokens: {got}, expected {want}"));
        }
    }
    let operator_only = [
        ("/v1/settle", json!({"id":"s-int"})),
        ("/v1/registration", json!({"open": false})),
        ("/v1/programs/anchor_race/registration", json!({"open": false})),
    ];
    for (path, body) in &operator_only {
        for (t, name) in [(int, "integration"), (&tokens[2].1, "a participant")] {
            let got = s.post(t, path, body).status().as_u16();
            if got != 403 {
                failures.push(format!("POST {path} as {name}: {got}, expected 403"));
            }
        }
    }
    // A participant's ledger view of a payout that is not its own, by id, is refused too.
    let got = s.get(&tokens[3].1, "/v1/payouts/anchor_race:a_head").status().as_u16();
    assert_eq!(got, 403);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(s.stop().success());
}

#[test]
fn a_revoked_token_stops_working_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("d");
    prepare(&data, "{\"type\":\"register_merchant\",\"merchant\":\"m1\",\"name\":\"M\",\"brand_tier\":\"ka\",\"category\":\"food\"}\n");
    let op = token(&data, "operator", None);
    let s = Server::start(&data, &[]);
    let made: serde_json::Value =
        s.post(&op, "/v1/tokens", &json!({"role":"integration","expires":"1h"})).json().unwrap();
    let t = made["token"].as_str().unwrap().to_string();
    assert_eq!(s.get(&t, "/v1/merchants/m1").status(), 200);
    let id = made["record"]["id"].as_str().unwrap();
    let r = s.http.delete(format!("{}/v1/tokens/{id}", s.url)).bearer_auth(&op).send().unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(s.get(&t, "/v1/merchants/m1").status(), 401);
    // Tokens survive a restart, hashed.
    assert!(s.stop().success());
    let stored = std::fs::read_to_string(data.join("tokens.json")).unwrap();
    assert!(!stored.contains(&t) && !stored.contains(&op));
    let s = Server::start(&data, &[]);
    assert_eq!(s.get(&op, "/v1/merchants/m1").status(), 200);
    assert_eq!(s.get(&t, "/v1/merchants/m1").status(), 401);
}
