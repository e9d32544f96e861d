//! Regression: the default red-packet seed was SHA-256 of the public packet id, so
//! anyone could compute every share before grabbing. A packet is now split by a seed the
//! command gives, or by one derived from a secret that is committed to at creation and
//! revealed only once the packet is finished; the core never makes one up. Events that
//! earlier builds recorded still apply as they always did.

use dacu_core::event::v1;
use dacu_core::market::view;
use dacu_core::promo::{lottery, redpacket};
use dacu_core::{digest::digest, festival, parse_line, Code, Engine, Event, Fen};
use std::sync::Arc;

fn engine() -> Engine {
    let f = festival::parse(include_str!("../../../festivals/example-mini.toml")).expect("valid");
    Engine::new(Arc::new(f))
}

fn run(e: &mut Engine, line: &str) -> Result<Vec<Event>, dacu_core::Rejection> {
    let c = parse_line(line)?;
    let mut out = Vec::new();
    e.execute(&c, &mut out)?;
    Ok(out)
}

fn ok(e: &mut Engine, line: &str) -> Vec<Event> {
    run(e, line).unwrap_or_else(|r| panic!("{line}: {r}"))
}

const SETUP: &[&str] = &[
    r#"{"type":"register_anchor","anchor":"a1","name":"A","followers":50000}"#,
    r#"{"type":"live_start","session":"s1","anchor":"a1","at":"2021-11-05T20:00:00+08:00"}"#,
    r#"{"type":"viewer_enter","session":"s1","user":"u1","at":"2021-11-05T20:01:00+08:00"}"#,
    r#"{"type":"viewer_enter","session":"s1","user":"u2","at":"2021-11-05T20:01:00+08:00"}"#,
];

fn setup() -> Engine {
    let mut e = engine();
    for l in SETUP {
        ok(&mut e, l);
    }
    e
}

/// A create_red_packet of 1,000 fen in 5 `double_mean` shares, with `extra` fields.
fn create(id: &str, extra: &str) -> String {
    format!(
        r#"{{"type":"create_red_packet","id":"{id}","packet":"{id}","session":"s1","issuer":"anchor:a1","total":1000,"count":5,"split":"double_mean"{extra},"opens_at":"2021-11-05T20:05:00+08:00","expires_at":"2021-11-05T21:00:00+08:00","at":"2021-11-05T20:02:00+08:00"}}"#
    )
}

const SECRET: &str = "00112233445566778899aabbccddeeff";

#[test]
fn a_packet_needs_a_seed_or_a_secret_of_lowercase_hex() {
    let mut e = setup();
    let before = digest(e.state());
    let cases = [
        ("", Code::InvalidCommand),
        (r#","seed":1,"secret":"00112233445566778899aabbccddeeff""#, Code::InvalidCommand),
        (r#","secret":"00112233445566778899AABBCCDDEEFF""#, Code::InvalidValue),
        (r#","secret":"+0+1+2+3+4+5+6+7+8+9+a+b+c+d+e+f""#, Code::InvalidValue),
        (r#","secret":"0011223344556677""#, Code::InvalidValue),
        (r#","secret":"""#, Code::InvalidValue),
    ];
    for (extra, code) in cases {
        let r = run(&mut e, &create("P", extra)).expect_err(extra);
        assert_eq!(r.code, code, "{extra}: {}", r.message);
    }
    assert_eq!(digest(e.state()), before, "rejections change nothing");
}

#[test]
fn a_secret_packet_shows_its_commitment_first_and_its_secret_once_finished() {
    let mut e = setup();
    let evs = ok(&mut e, &create("P", &format!(r#","secret":"{SECRET}""#)));
    let bytes = lottery::unhex(SECRET).unwrap();
    let seed = redpacket::seed_of_secret(&bytes);
    let Event::RedPacketCommitted { seed: s, commitment, secret, shares: recorded, .. } = &evs[0] else {
        panic!("{evs:?}")
    };
    assert_eq!((*s, commitment.as_str(), secret.as_str()), (seed, lottery::commitment(&bytes).as_str(), SECRET));
    // The documented vector (docs/red-packets.md), computed by its Python reference.
    assert_eq!(commitment, "a8faed6abbf35c12a4b26e40f6feb19d736d90045c83b9f9a31f638d323e6811");
    let shares: Vec<i64> =
        redpacket::split(Fen(1000), 5, redpacket::Method::DoubleMean, seed).unwrap().into_iter().map(|f| f.0).collect();
    assert_eq!(shares, [150, 41, 429, 177, 203]);
    assert_eq!(recorded, &shares, "the event records the split, which applying it takes as it is");

    // Open: the commitment, and only the shares already handed out.
    let shown = view::packet(e.state(), "P").unwrap();
    assert_eq!(shown["finished"], false);
    assert_eq!(shown["commitment"], *commitment);
    assert!(shown["seed"].is_null() && shown["secret"].is_null(), "{shown}");
    assert_eq!(shown["shares"], serde_json::json!([]));
    ok(&mut e, r#"{"type":"grab_red_packet","id":"g1","packet":"P","user":"u1","at":"2021-11-05T20:06:00+08:00"}"#);
    let shown = view::packet(e.state(), "P").unwrap();
    assert_eq!(shown["shares"], serde_json::json!([150]));
    assert!(!shown.to_string().contains(SECRET));

    // Expired at a tick: finished, and everything needed to check it is public.
    ok(&mut e, r#"{"type":"tick","id":"t1","at":"2021-11-05T21:00:00+08:00"}"#);
    let shown = view::packet(e.state(), "P").unwrap();
    assert_eq!(shown["finished"], true);
    assert_eq!(shown["secret"], SECRET);
    assert_eq!(shown["seed"], seed);
    assert_eq!(shown["shares"], serde_json::json!(shares));
}

#[test]
fn a_seeded_packet_hides_its_seed_until_every_share_is_grabbed() {
    let mut e = setup();
    let evs = ok(
        &mut e,
        r#"{"type":"create_red_packet","id":"Q","packet":"Q","session":"s1","issuer":"platform","total":100,"count":2,"split":"line_cut","seed":42,"opens_at":"2021-11-05T20:05:00+08:00","expires_at":"2021-11-05T21:00:00+08:00","at":"2021-11-05T20:02:00+08:00"}"#,
    );
    assert!(matches!(evs[0], Event::RedPacketCreated { seed: 42, .. }));
    for (i, u) in ["u1", "u2"].iter().enumerate() {
        let shown = view::packet(e.state(), "Q").unwrap();
        assert!(shown["seed"].is_null());
        assert_eq!(shown["shares"].as_array().unwrap().len(), i);
        ok(
            &mut e,
            &format!(
                r#"{{"type":"grab_red_packet","id":"q{i}","packet":"Q","user":"{u}","at":"2021-11-05T20:06:00+08:00"}}"#
            ),
        );
    }
    let shown = view::packet(e.state(), "Q").unwrap();
    assert_eq!((shown["finished"].clone(), shown["seed"].clone()), (true.into(), 42.into()));
    assert!(shown["commitment"].is_null() && shown["secret"].is_null());
}

/// Event format 1 as earlier builds wrote it: a `red_packet_created` with the seed they
/// derived from the packet id, and a lottery whose secret was spelled with signs, which
/// this build would refuse as input but must replay exactly. Both reach the engine as the
/// log's codec gives them: converted to today's events.
#[test]
fn events_recorded_by_earlier_builds_apply_as_they_always_did() {
    let mut e = setup();
    let ctx = e.festival().format1_context();
    let at = |s: &str| dacu_core::Ts::parse(s).unwrap();
    let def = v1::RedPacketDef {
        id: "p-old".into(),
        packet: "OLD".into(),
        session: "s1".into(),
        issuer: "platform".into(),
        total: 1000,
        count: 3,
        split: v1::Method::DoubleMean,
        seed: None,
        followers_only: false,
        passphrase: None,
        min_watch_s: 0,
        opens_at: at("2021-11-05T20:05:00+08:00"),
        expires_at: at("2021-11-05T21:00:00+08:00"),
        usable_merchant: None,
        use_until: None,
        at: at("2021-11-05T20:02:00+08:00"),
    };
    let old = v1::Event::RedPacketCreated { def, seed: 11273820869629918004 }.upgrade(&ctx).unwrap();
    let Event::RedPacketCreated { shares, def, .. } = &old else { panic!("{old:?}") };
    assert_eq!(shares, &[198, 640, 162], "docs/red-packets.md's example of the old default seed");
    assert_eq!(def.use_until, e.festival().end(), "format 1 left the money usable until the festival's end");
    e.apply(&old).unwrap();
    let p = &e.state().market.packets[0];
    assert_eq!(p.shares, [198, 640, 162]);
    assert_eq!(p.commitment, None);

    let plus: String = (0..16).map(|i| format!("+{i:x}")).collect();
    let line = format!(
        r#"{{"type":"create_lottery","id":"l-old","lottery":"LOLD","session":"s1","issuer":"platform","prize":{{"kind":"goods","name":"x","value":1}},"winners":1,"draw_at":"2021-11-05T20:30:00+08:00","secret":"{plus}","at":"2021-11-05T20:10:00+08:00"}}"#
    );
    assert_eq!(run(&mut e, &line).unwrap_err().code, Code::InvalidValue, "refused as new input");
    let dacu_core::Command::CreateLottery(k) = parse_line(&line).unwrap() else { unreachable!() };
    let def = v1::LotteryDef {
        id: k.id,
        lottery: k.lottery,
        session: k.session,
        issuer: k.issuer,
        prize: v1::PrizeRec { kind: v1::PrizeKind::Goods, name: k.prize.name, value: k.prize.value, coupon: None },
        winners: k.winners,
        in_room: k.in_room,
        followers_only: k.followers_only,
        passphrase: k.passphrase,
        min_watch_s: k.min_watch_s,
        draw_at: k.draw_at,
        secret: k.secret,
        at: k.at,
    };
    let secret: Vec<u8> = (0..16).collect();
    let old = v1::Event::LotteryCreated { def, commitment: lottery::commitment(&secret) }.upgrade(&ctx).unwrap();
    let Event::LotteryCreated { def, .. } = &old else { panic!("{old:?}") };
    assert_eq!(def.secret, lottery::hex(&secret), "the recorded spelling, canonicalised as format 1 did");
    e.apply(&old).unwrap();
    let evs = ok(&mut e, r#"{"type":"tick","id":"t1","at":"2021-11-05T20:30:00+08:00"}"#);
    let Event::LotteryDrawn { eligible, winners, .. } = &evs[0] else { panic!("{evs:?}") };
    assert_eq!(winners, &lottery::draw(&secret, eligible, 1));
    // What `show lottery` publishes is the canonical spelling, which verify-draw accepts.
    let shown = view::lottery(e.state(), "LOLD").unwrap();
    assert_eq!(shown["secret"], lottery::hex(&secret));
}
