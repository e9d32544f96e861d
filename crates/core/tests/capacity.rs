//! Table capacities (the festival file's `[capacity]`): each table takes entries up to its
//! capacity, the next new entry is refused with the table's own code and changes nothing,
//! and what is already recorded keeps working at capacity.

use dacu_core::digest::digest;
use dacu_core::{festival, parse_line, Code, Engine, Kind};
use std::sync::Arc;

fn engine(capacity: &str) -> Engine {
    let toml = format!(
        r#"
[festival]
id = "cap"
name_zh = "容量"
name_en = "Capacity"
start = 2021-11-01
end = 2021-11-08

[registration]
opens = 2021-11-01
closes = 2021-11-08

[capacity]
{capacity}
"#
    );
    Engine::new(Arc::new(festival::parse(&toml).unwrap_or_else(|p| panic!("{p:?}"))))
}

fn ok(e: &mut Engine, line: &str) {
    let c = parse_line(line).unwrap_or_else(|r| panic!("{line}: {r}"));
    e.execute(&c, &mut Vec::new()).unwrap_or_else(|r| panic!("{line}: {r}"));
}

fn refused(e: &mut Engine, line: &str, code: Code) {
    let before = digest(e.state());
    let mut out = Vec::new();
    let r = parse_line(line).and_then(|c| e.execute(&c, &mut out)).expect_err(line);
    assert_eq!(r.code, code, "{}", r.message);
    assert_eq!(code.kind(), Kind::Capacity);
    assert!(r.message.contains("`[capacity]` allows"), "{}", r.message);
    assert!(out.is_empty());
    assert_eq!(digest(e.state()), before, "a refusal changed the state");
}

const AT: &str = "2021-11-02T20:00:00+08:00";

fn merchant(id: &str) -> String {
    format!(r#"{{"type":"register_merchant","merchant":"{id}","name":"M","brand_tier":"ska","category":"c"}}"#)
}
fn anchor(id: &str) -> String {
    format!(r#"{{"type":"register_anchor","anchor":"{id}","name":"A","followers":1}}"#)
}
fn live(s: &str, a: &str) -> String {
    format!(r#"{{"type":"live_start","session":"{s}","anchor":"{a}","at":"{AT}"}}"#)
}
fn enter(s: &str, u: &str) -> String {
    format!(r#"{{"type":"viewer_enter","session":"{s}","user":"{u}","at":"{AT}"}}"#)
}
fn order(o: &str, u: &str, sku: &str) -> String {
    format!(
        r#"{{"type":"order_paid","order":"{o}","user":"{u}","merchant":"m1","channel":"live","session":"s1","lines":[{{"sku":"{sku}","qty":1,"price":100,"paid":100}}],"at":"{AT}"}}"#
    )
}

#[test]
fn participants_sessions_and_users_stop_at_their_capacity() {
    let mut e = engine("merchants = 1\nanchors = 2\nsessions = 1\nusers = 2\nviewers = 3");
    ok(&mut e, &merchant("m1"));
    refused(&mut e, &merchant("m2"), Code::TooManyParticipants);
    ok(&mut e, &anchor("a1"));
    ok(&mut e, &anchor("a2"));
    refused(&mut e, &anchor("a3"), Code::TooManyParticipants);
    ok(&mut e, &live("s1", "a1"));
    refused(&mut e, &live("s2", "a2"), Code::TooManySessions);
    ok(&mut e, &enter("s1", "u1"));
    ok(&mut e, &enter("s1", "u2"));
    refused(&mut e, &enter("s1", "u3"), Code::TooManyUsers);
    // Known users keep working: they leave, come back, and order.
    ok(&mut e, &format!(r#"{{"type":"viewer_leave","session":"s1","user":"u1","at":"{AT}"}}"#));
    ok(&mut e, &enter("s1", "u1"));
    ok(&mut e, &order("o1", "u2", "k1"));
    refused(&mut e, &order("o2", "u9", "k1"), Code::TooManyUsers);
}

#[test]
fn orders_refund_ids_products_and_ids_stop_at_their_capacity() {
    let mut e = engine("orders = 2\nrefunds = 1\nproducts = 2\nids = 1");
    ok(&mut e, &merchant("m1"));
    ok(&mut e, &anchor("a1"));
    ok(&mut e, &live("s1", "a1"));
    ok(&mut e, &order("o1", "u1", "k1"));
    ok(&mut e, &order("o2", "u1", "k2"));
    refused(&mut e, &order("o3", "u1", "k1"), Code::TooManyOrders);
    let refund =
        |o: &str, id: &str| format!(r#"{{"type":"refund","order":"{o}","amount":10,"refund_id":"{id}","at":"{AT}"}}"#);
    ok(&mut e, &refund("o1", "r1"));
    refused(&mut e, &refund("o1", "r2"), Code::TooManyRefunds);
    // A refund without an id adds no entry.
    ok(&mut e, &format!(r#"{{"type":"refund","order":"o1","amount":10,"at":"{AT}"}}"#));

    let mut e = engine("products = 1");
    ok(&mut e, &merchant("m1"));
    ok(&mut e, &anchor("a1"));
    ok(&mut e, &live("s1", "a1"));
    ok(&mut e, &order("o1", "u1", "k1"));
    refused(&mut e, &order("o2", "u1", "k2"), Code::TooManyProducts);
    ok(&mut e, &order("o3", "u1", "k1"));

    let mut e = engine("ids = 1");
    let follow =
        |id: &str, u: &str| format!(r#"{{"type":"follow","id":"{id}","anchor":"a1","user":"{u}","at":"{AT}"}}"#);
    ok(&mut e, &anchor("a1"));
    ok(&mut e, &follow("f1", "u1"));
    // A resend of a recorded id adds nothing and is accepted.
    ok(&mut e, &follow("f1", "u1"));
    refused(&mut e, &follow("f2", "u2"), Code::TooManyIds);
}

#[test]
fn viewer_pairs_and_follows_stop_at_their_capacity() {
    let mut e = engine("viewers = 2\nfollows = 1");
    ok(&mut e, &anchor("a1"));
    ok(&mut e, &live("s1", "a1"));
    ok(&mut e, &enter("s1", "u1"));
    ok(&mut e, &enter("s1", "u2"));
    refused(&mut e, &enter("s1", "u3"), Code::TooManyViewers);
    let follow =
        |id: &str, u: &str| format!(r#"{{"type":"follow","id":"{id}","anchor":"a1","user":"{u}","at":"{AT}"}}"#);
    ok(&mut e, &follow("f1", "u1"));
    refused(&mut e, &follow("f2", "u2"), Code::TooManyFollows);
}

#[test]
fn promotions_and_claims_stop_at_their_capacity() {
    let mut e = engine("promotions = 1\nclaims = 1");
    let coupon = |id: &str, c: &str| {
        format!(
            r#"{{"type":"create_coupon","id":"{id}","coupon":"{c}","issuer":"platform","scope":"platform","threshold":0,"off":10,"stock":100,"claim_from":"2021-11-01T00:00:00+08:00","claim_until":"2021-11-08T00:00:00+08:00","valid_days":3,"at":"2021-11-01T00:00:00+08:00"}}"#
        )
    };
    ok(&mut e, &coupon("c-1", "p1"));
    refused(&mut e, &coupon("c-2", "p2"), Code::TooManyPromotions);
    let claim =
        |id: &str, u: &str| format!(r#"{{"type":"claim_coupon","id":"{id}","coupon":"p1","user":"{u}","at":"{AT}"}}"#);
    ok(&mut e, &claim("k-1", "u1"));
    refused(&mut e, &claim("k-2", "u2"), Code::TooManyClaims);
}

#[test]
fn a_capacity_out_of_its_bounds_is_a_problem_of_the_file() {
    for bad in ["orders = 0", "users = 1_000_000_001"] {
        let toml = format!(
            "[festival]\nid = \"x\"\nname_zh = \"x\"\nname_en = \"x\"\nstart = 2021-11-01\nend = 2021-11-08\n[registration]\nopens = 2021-11-01\ncloses = 2021-11-08\n[capacity]\n{bad}\n"
        );
        let problems = festival::parse(&toml).expect_err(bad);
        let text = format!("{problems:?}");
        assert!(text.contains("must be 1 to 1000000000 entries"), "{text}");
    }
}
