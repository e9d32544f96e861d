//! The engine's rules, command by command, on the example festival. Each case names the
//! rule it checks; commands are written as they arrive on the wire.

use dacu_core::festival;
use dacu_core::{parse_line, Code, Engine};
use std::sync::Arc;

fn engine() -> Engine {
    let f = festival::parse(include_str!("../../../festivals/example-mini.toml")).expect("valid");
    Engine::new(Arc::new(f))
}

/// Applies lines that must all be accepted.
fn ok(e: &mut Engine, lines: &[&str]) {
    for l in lines {
        let c = parse_line(l).unwrap_or_else(|r| panic!("{l}: {r}"));
        e.execute(&c, &mut Vec::new()).unwrap_or_else(|r| panic!("{l}: {r}"));
    }
}

/// Applies one line that must be rejected with `code`; returns the message.
fn rejected(e: &mut Engine, line: &str, code: Code) -> String {
    let before = dacu_core::digest::digest(e.state());
    let r = parse_line(line).and_then(|c| e.execute(&c, &mut Vec::new())).expect_err(line);
    assert_eq!(r.code, code, "{line}: {}", r.message);
    assert_eq!(dacu_core::digest::digest(e.state()), before, "a rejection changed the state");
    r.message
}

const PARTICIPANTS: &[&str] = &[
    r#"{"type":"register_merchant","merchant":"ska1","name":"S","brand_tier":"ska","category":"beauty"}"#,
    r#"{"type":"register_merchant","merchant":"ka1","name":"K","brand_tier":"ka","category":"food"}"#,
    r#"{"type":"register_anchor","anchor":"head1","name":"H","followers":1000000}"#,
    r#"{"type":"register_anchor","anchor":"mid1","name":"M","followers":999999}"#,
    r#"{"type":"register_anchor","anchor":"new1","name":"N","followers":9999}"#,
    r#"{"type":"register_provider","provider":"prov1","name":"P"}"#,
];

#[test]
fn anchor_tiers_follow_the_thresholds_exactly() {
    let mut e = engine();
    ok(&mut e, PARTICIPANTS);
    let tier = |id: &str| {
        let a = e.state().anchor(id).unwrap();
        e.festival().anchor_tiers[a.tier.unwrap() as usize].id.clone()
    };
    assert_eq!(tier("head1"), "head");
    assert_eq!(tier("mid1"), "mid");
    assert_eq!(tier("new1"), "new");
    rejected(&mut e, r#"{"type":"register_anchor","anchor":"x","name":"X","followers":-1}"#, Code::InvalidValue);
    rejected(&mut e, r#"{"type":"register_anchor","anchor":"head1","name":"X","followers":1}"#, Code::DuplicateAnchor);
    rejected(
        &mut e,
        r#"{"type":"register_anchor","anchor":"y","name":"Y","followers":1,"merchant":"nobody"}"#,
        Code::UnknownMerchant,
    );
}

#[test]
fn enrolment_respects_windows_roles_and_tiers() {
    let mut e = engine();
    ok(&mut e, PARTICIPANTS);
    // Registration opens 11-01 00:00 and closes 11-06 00:00 (exclusive).
    ok(&mut e, &[r#"{"type":"enroll","program":"anchor_race","participant":"mid1","at":"2021-11-01T00:00:00+08:00"}"#]);
    let m = rejected(
        &mut e,
        r#"{"type":"enroll","program":"anchor_race","participant":"new1","at":"2021-10-31T23:59:59+08:00"}"#,
        Code::RegistrationNotOpen,
    );
    assert!(m.contains("opens at 2021-11-01T00:00:00+08:00"), "{m}");
    rejected(
        &mut e,
        r#"{"type":"enroll","program":"anchor_race","participant":"new1","at":"2021-11-06T00:00:00+08:00"}"#,
        Code::RegistrationClosed,
    );
    // head_bigday closes early (11-05) and admits head anchors only.
    rejected(
        &mut e,
        r#"{"type":"enroll","program":"head_bigday","participant":"head1","at":"2021-11-05T00:00:00+08:00"}"#,
        Code::RegistrationClosed,
    );
    let m = rejected(
        &mut e,
        r#"{"type":"enroll","program":"head_bigday","participant":"mid1","at":"2021-11-02T00:00:00+08:00"}"#,
        Code::NotEligible,
    );
    assert!(m.contains("`mid`"), "{m}");
    ok(
        &mut e,
        &[r#"{"type":"enroll","program":"head_bigday","participant":"head1","at":"2021-11-04T23:59:59+08:00"}"#],
    );
    rejected(
        &mut e,
        r#"{"type":"enroll","program":"head_bigday","participant":"head1","at":"2021-11-04T23:59:59+08:00"}"#,
        Code::AlreadyEnrolled,
    );
    // brand_day admits SKA merchants only.
    rejected(
        &mut e,
        r#"{"type":"enroll","program":"brand_day","participant":"ka1","at":"2021-11-02T00:00:00+08:00"}"#,
        Code::NotEligible,
    );
    rejected(
        &mut e,
        r#"{"type":"enroll","program":"brand_day","participant":"head1","at":"2021-11-02T00:00:00+08:00"}"#,
        Code::UnknownParticipant,
    );
    rejected(
        &mut e,
        r#"{"type":"enroll","program":"nope","participant":"ska1","at":"2021-11-02T00:00:00+08:00"}"#,
        Code::UnknownProgram,
    );
    // provider_race requires certification.
    rejected(
        &mut e,
        r#"{"type":"enroll","program":"provider_race","participant":"prov1","at":"2021-11-02T00:00:00+08:00"}"#,
        Code::ProviderNotCertified,
    );
    ok(
        &mut e,
        &[
            r#"{"type":"certify_provider","provider":"prov1","at":"2021-11-01T12:00:00+08:00"}"#,
            r#"{"type":"enroll","program":"provider_race","participant":"prov1","at":"2021-11-02T00:00:00+08:00"}"#,
        ],
    );
    rejected(
        &mut e,
        r#"{"type":"certify_provider","provider":"prov1","at":"2021-11-03T12:00:00+08:00"}"#,
        Code::AlreadyCertified,
    );
}

#[test]
fn enrolment_before_registration_opens_is_refused() {
    // A festival whose registration opens after it starts.
    let src = include_str!("../../../festivals/example-mini.toml")
        .replace("opens = 2021-11-01T00:00:00+08:00", "opens = 2021-11-03T00:00:00+08:00");
    let mut e = Engine::new(Arc::new(festival::parse(&src).unwrap()));
    ok(&mut e, PARTICIPANTS);
    rejected(
        &mut e,
        r#"{"type":"enroll","program":"anchor_race","participant":"mid1","at":"2021-11-02T23:59:59+08:00"}"#,
        Code::RegistrationNotOpen,
    );
}

#[test]
fn a_shared_id_needs_a_role() {
    let src = include_str!("../../../festivals/example-mini.toml").replace(
        "roles = [\"anchor\"]\n\n[[programs]]\nid = \"head_bigday\"",
        "roles = [\"anchor\", \"merchant\"]\n\n[[programs]]\nid = \"head_bigday\"",
    );
    let mut e = Engine::new(Arc::new(festival::parse(&src).unwrap()));
    ok(
        &mut e,
        &[
            r#"{"type":"register_merchant","merchant":"same","name":"S","brand_tier":"none","category":"c"}"#,
            r#"{"type":"register_anchor","anchor":"same","name":"S","followers":5}"#,
        ],
    );
    rejected(
        &mut e,
        r#"{"type":"enroll","program":"anchor_race","participant":"same","at":"2021-11-02T00:00:00+08:00"}"#,
        Code::AmbiguousParticipant,
    );
    ok(
        &mut e,
        &[
            r#"{"type":"enroll","program":"anchor_race","participant":"same","role":"anchor","at":"2021-11-02T00:00:00+08:00"}"#,
        ],
    );
}

#[test]
fn sessions_and_viewers_follow_the_stream() {
    let mut e = engine();
    ok(&mut e, PARTICIPANTS);
    ok(&mut e, &[r#"{"type":"live_start","session":"s1","anchor":"mid1","at":"2021-11-05T20:00:00+08:00"}"#]);
    rejected(
        &mut e,
        r#"{"type":"live_start","session":"s2","anchor":"mid1","at":"2021-11-05T20:10:00+08:00"}"#,
        Code::AnchorAlreadyLive,
    );
    rejected(
        &mut e,
        r#"{"type":"live_start","session":"s1","anchor":"head1","at":"2021-11-05T20:10:00+08:00"}"#,
        Code::DuplicateSession,
    );
    rejected(
        &mut e,
        r#"{"type":"viewer_enter","session":"s1","user":"u","at":"2021-11-05T19:59:59+08:00"}"#,
        Code::SessionNotStarted,
    );
    ok(&mut e, &[r#"{"type":"viewer_enter","session":"s1","user":"u","at":"2021-11-05T20:01:00+08:00"}"#]);
    rejected(
        &mut e,
        r#"{"type":"viewer_enter","session":"s1","user":"u","at":"2021-11-05T20:02:00+08:00"}"#,
        Code::ViewerAlreadyInSession,
    );
    rejected(
        &mut e,
        r#"{"type":"viewer_leave","session":"s1","user":"v","at":"2021-11-05T20:02:00+08:00"}"#,
        Code::ViewerNotInSession,
    );
    rejected(
        &mut e,
        r#"{"type":"viewer_leave","session":"s1","user":"u","at":"2021-11-05T20:00:30+08:00"}"#,
        Code::InvalidValue,
    );
    rejected(
        &mut e,
        r#"{"type":"viewer_enter","session":"nope","user":"u","at":"2021-11-05T20:02:00+08:00"}"#,
        Code::UnknownSession,
    );
    ok(&mut e, &[r#"{"type":"live_end","session":"s1","at":"2021-11-05T21:00:00+08:00"}"#]);
    rejected(&mut e, r#"{"type":"live_end","session":"s1","at":"2021-11-05T21:30:00+08:00"}"#, Code::SessionEnded);
    rejected(
        &mut e,
        r#"{"type":"interaction","session":"s1","user":"u","kind":"like","at":"2021-11-05T21:30:00+08:00"}"#,
        Code::SessionEnded,
    );
    // The viewer still in the room when it ended watched until the end.
    assert_eq!(e.state().session("s1").unwrap().watch_ms, 59 * 60_000);
    // The anchor may go live again in a new session.
    ok(&mut e, &[r#"{"type":"live_start","session":"s2","anchor":"mid1","at":"2021-11-05T22:00:00+08:00"}"#]);
    rejected(
        &mut e,
        r#"{"type":"live_start","session":"s3","anchor":"head1","at":"2021-11-08T00:00:00+08:00"}"#,
        Code::OutsideFestival,
    );
}

#[test]
fn orders_are_checked_line_by_line() {
    let mut e = engine();
    ok(&mut e, PARTICIPANTS);
    ok(&mut e, &[r#"{"type":"live_start","session":"s1","anchor":"mid1","at":"2021-11-05T20:00:00+08:00"}"#]);
    let order = |extra: &str| {
        format!(
            r#"{{"type":"order_paid","order":"o1","user":"u","merchant":"ka1","at":"2021-11-05T20:30:00+08:00",{extra}}}"#
        )
    };
    let line = r#""lines":[{"sku":"k","qty":2,"price":100,"paid":150}]"#;
    rejected(&mut e, &order(&format!(r#""channel":"live",{line}"#)), Code::SessionRequired);
    rejected(&mut e, &order(&format!(r#""channel":"shelf","session":"s1",{line}"#)), Code::SessionNotAllowed);
    rejected(&mut e, &order(&format!(r#""channel":"live","session":"s9",{line}"#)), Code::UnknownSession);
    rejected(&mut e, &order(r#""channel":"shelf","lines":[]"#), Code::EmptyOrder);
    rejected(
        &mut e,
        &order(r#""channel":"shelf","lines":[{"sku":"k","qty":0,"price":100,"paid":0}]"#),
        Code::InvalidValue,
    );
    rejected(
        &mut e,
        &order(r#""channel":"shelf","lines":[{"sku":"k","qty":1,"price":-1,"paid":0}]"#),
        Code::InvalidValue,
    );
    rejected(
        &mut e,
        &order(r#""channel":"shelf","lines":[{"sku":"k","qty":1,"price":100,"paid":-1}]"#),
        Code::InvalidValue,
    );
    let m = rejected(
        &mut e,
        &order(r#""channel":"shelf","lines":[{"sku":"k","qty":2,"price":100,"paid":201}]"#),
        Code::PaidExceedsList,
    );
    assert!(m.contains("2 × 100 = 200"), "{m}");
    rejected(
        &mut e,
        &order(
            r#""channel":"shelf","lines":[{"sku":"k","qty":1,"price":100,"paid":1},{"sku":"k","qty":1,"price":100,"paid":1}]"#,
        ),
        Code::DuplicateSku,
    );
    rejected(&mut e, &order(r#""channel":"shelf","lines":[{"sku":"","qty":1,"price":100,"paid":1}]"#), Code::InvalidId);
    rejected(&mut e, &order(r#""channel":"pigeon","lines":[]"#), Code::InvalidCommand);
    ok(&mut e, &[&order(&format!(r#""channel":"live","session":"s1",{line}"#))]);
    rejected(&mut e, &order(&format!(r#""channel":"live","session":"s1",{line}"#)), Code::DuplicateOrder);
    // Refunds: positive, within what is left, not before the order, ids unique.
    let refund = |amount: i64, at: &str, id: &str| {
        format!(r#"{{"type":"refund","order":"o1","amount":{amount},"at":"2021-11-{at}+08:00","refund_id":"{id}"}}"#)
    };
    rejected(&mut e, &refund(0, "06T00:00:00", "r0"), Code::InvalidValue);
    rejected(&mut e, &refund(151, "06T00:00:00", "r0"), Code::RefundExceedsRemaining);
    rejected(&mut e, &refund(10, "05T20:29:59", "r0"), Code::RefundBeforeOrder);
    ok(&mut e, &[&refund(100, "06T00:00:00", "r1")]);
    rejected(&mut e, &refund(10, "06T00:00:00", "r1"), Code::DuplicateRefund);
    rejected(&mut e, &refund(51, "06T00:00:00", "r2"), Code::RefundExceedsRemaining);
    ok(&mut e, &[&refund(50, "06T00:00:00", "r2")]);
    // Regression: resending a refund that took everything left is a duplicate, not an
    // over-refund.
    rejected(&mut e, &refund(50, "06T00:00:00", "r2"), Code::DuplicateRefund);
    let m = e.state().merchant("ka1").unwrap();
    assert_eq!((m.stats.gmv().0, m.stats.total().gross.0), (0, 150));
}

#[test]
fn provider_bindings_move_later_gmv_only() {
    let mut e = engine();
    ok(&mut e, PARTICIPANTS);
    ok(
        &mut e,
        &[
            r#"{"type":"register_provider","provider":"prov2","name":"Q"}"#,
            r#"{"type":"certify_provider","provider":"prov1","at":"2021-11-01T00:00:00+08:00"}"#,
            r#"{"type":"certify_provider","provider":"prov2","at":"2021-11-01T00:00:00+08:00"}"#,
            r#"{"type":"bind_provider","provider":"prov1","merchant":"ka1","at":"2021-11-02T00:00:00+08:00"}"#,
            r#"{"type":"order_paid","order":"o1","user":"u","merchant":"ka1","channel":"shelf","lines":[{"sku":"k","qty":1,"price":100,"paid":100}],"at":"2021-11-03T00:00:00+08:00"}"#,
            r#"{"type":"bind_provider","provider":"prov2","merchant":"ka1","at":"2021-11-04T00:00:00+08:00"}"#,
            r#"{"type":"order_paid","order":"o2","user":"u","merchant":"ka1","channel":"shelf","lines":[{"sku":"k","qty":1,"price":300,"paid":300}],"at":"2021-11-05T00:00:00+08:00"}"#,
            // An order stamped before the rebinding still goes to the provider of its time.
            r#"{"type":"order_paid","order":"o3","user":"u","merchant":"ka1","channel":"shelf","lines":[{"sku":"k","qty":1,"price":7,"paid":7}],"at":"2021-11-03T12:00:00+08:00"}"#,
            r#"{"type":"order_paid","order":"o0","user":"u","merchant":"ka1","channel":"shelf","lines":[{"sku":"k","qty":1,"price":9,"paid":9}],"at":"2021-11-01T12:00:00+08:00"}"#,
        ],
    );
    let st = e.state();
    assert_eq!(st.provider("prov1").unwrap().stats.gmv().0, 107);
    assert_eq!(st.provider("prov2").unwrap().stats.gmv().0, 300);
    assert_eq!(st.total.provider_served.net().0, 407, "o0 predates every binding");
    rejected(
        &mut e,
        r#"{"type":"bind_provider","provider":"prov2","merchant":"ka1","at":"2021-11-06T00:00:00+08:00"}"#,
        Code::AlreadyBound,
    );
    rejected(
        &mut e,
        r#"{"type":"unbind_provider","provider":"prov1","merchant":"ka1","at":"2021-11-06T00:00:00+08:00"}"#,
        Code::NotBound,
    );
    ok(&mut e, &[r#"{"type":"unbind_provider","provider":"prov2","merchant":"ka1","at":"2021-11-06T00:00:00+08:00"}"#]);
    assert_eq!(e.state().merchants_served(), 0);
}
