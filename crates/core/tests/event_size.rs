//! Every event kind that carries a list or free text, built as large as the input limits
//! allow, stays below `limits::EVENT_BYTES` in the log's encoding: the writer never writes
//! what the reader refuses. Settlement, the one event whose size grows
//! with the festival, is split into parts (tests/settle_parts.rs).

use dacu_core::command::*;
use dacu_core::event::encoded_bytes as event_bytes;
use dacu_core::event::*;
use dacu_core::festival::Role;
use dacu_core::limits::market as ml;
use dacu_core::limits::{EVENT_BYTES, ID_BYTES, NAME_BYTES, ORDER_LINES};
use dacu_core::market::quote::{Layer, MAX_ALLOWANCES, MAX_LINES, MAX_MERCHANTS};
use dacu_core::market::{Discount, Quote};
use dacu_core::promo::lottery::MAX_POOL;
use dacu_core::promo::redpacket::{self, Method};
use dacu_core::Ts;

/// An id of the longest accepted length, distinct per `i`.
fn id(i: usize) -> String {
    format!("{i:x>width$}", width = ID_BYTES)
}

fn text(n: usize) -> String {
    "字".repeat(n / 3)
}

const BIG: i64 = i64::MAX;
const T: Ts = Ts(i64::MAX);

fn check(what: &str, ev: &Event) {
    let bytes = event_bytes(ev);
    assert!(bytes < EVENT_BYTES, "{what}: {bytes} bytes at the input limits, over {EVENT_BYTES}");
}

#[test]
fn an_order_of_the_most_lines_fits() {
    let lines = (0..ORDER_LINES).map(|i| LineRec { sku: id(i), qty: BIG, price: BIG, paid: BIG }).collect();
    check(
        "order_paid",
        &Event::OrderPaid {
            order: id(0),
            user: id(1),
            merchant: id(2),
            channel: Channel::Live,
            session: Some(id(3)),
            anchor: Some(id(4)),
            provider: Some(id(5)),
            self_broadcast: true,
            lines,
            at: T,
        },
    );
}

#[test]
fn creation_events_at_their_list_limits_fit() {
    let merchant = || PartyRec::Merchant(id(2));
    let coupon = CouponDef {
        id: id(0),
        coupon: id(1),
        issuer: merchant(),
        bearer: merchant(),
        scope: CouponScopeRec::Skus { merchant: id(2), skus: (0..ml::SCOPE_SKUS).map(id).collect() },
        value: CouponValueRec::Percent { threshold: BIG, bp: BIG, cap: Some(BIG) },
        stock: BIG,
        per_user: BIG,
        claim_from: T,
        claim_until: T,
        validity: ValidityRec::Window { from: T, until: T },
        audience: AudienceRec::Session { session: id(4) },
        return_on_refund: true,
        budget: Some(BIG),
        at: T,
    };
    check("coupon_created", &Event::CouponCreated(coupon));
    let fullcut = FullcutDef {
        id: id(0),
        fullcut: id(1),
        scope: FullcutScopeRec::CrossStore {
            merchants: Some((0..ml::CROSS_MERCHANTS).map(id).collect()),
            platform_share_bp: BIG,
        },
        rule: RuleRec::Tiers { tiers: vec![(BIG, BIG); ml::TIERS] },
        start: T,
        end: T,
        budget: Some(BIG),
        at: T,
    };
    check("fullcut_created", &Event::FullcutCreated(fullcut));
    let def = RedPacketDef {
        id: id(0),
        packet: id(1),
        session: id(2),
        issuer: PartyRec::Anchor(id(3)),
        total: BIG,
        count: BIG,
        split: Method::Even,
        followers_only: true,
        passphrase: Some(text(ml::TEXT_BYTES)),
        min_watch_s: BIG,
        opens_at: T,
        expires_at: T,
        usable_merchant: Some(id(4)),
        use_until: T,
        at: T,
    };
    // The most shares a packet has, each as large as a share can be.
    let shares = vec![ml::AMOUNT_FEN; redpacket::MAX_COUNT as usize];
    check("red_packet_created", &Event::RedPacketCreated { def: def.clone(), seed: u64::MAX, shares: shares.clone() });
    check(
        "red_packet_committed",
        &Event::RedPacketCommitted { def, seed: u64::MAX, commitment: "f".repeat(64), secret: "f".repeat(128), shares },
    );
    let lottery = LotteryDef {
        id: id(0),
        lottery: id(1),
        session: id(2),
        issuer: PartyRec::Anchor(id(3)),
        prize: PrizeRec { kind: PrizeKind::Coupon, name: text(NAME_BYTES), value: BIG, coupon: Some(id(4)) },
        winners: BIG,
        in_room: true,
        followers_only: true,
        passphrase: Some(text(ml::TEXT_BYTES)),
        min_watch_s: BIG,
        draw_at: T,
        secret: "ab".repeat(64),
        at: T,
    };
    check("lottery_created", &Event::LotteryCreated { def: lottery, commitment: "cd".repeat(32) });
    check(
        "merchant_registered",
        &Event::MerchantRegistered {
            merchant: id(0),
            name: text(NAME_BYTES),
            brand_tier: dacu_core::festival::BrandTier::Ska,
            category: text(NAME_BYTES),
        },
    );
    check(
        "violation_recorded",
        &Event::ViolationRecorded {
            id: id(0),
            violation: id(1),
            participant: id(2),
            role: Role::Merchant,
            reason: text(NAME_BYTES),
            at: T,
        },
    );
}

#[test]
fn a_draw_of_the_largest_pool_fits() {
    check(
        "lottery_drawn",
        &Event::LotteryDrawn {
            lottery: id(0),
            eligible: (0..MAX_POOL).map(id).collect(),
            winners: (0..ml::LOTTERY_WINNERS as usize).map(id).collect(),
            at: T,
            prize_grants: PrizeGrantsRec::Coupons { granted: u32::MAX, from: T, until: T },
        },
    );
}

#[test]
fn a_checkout_with_every_discount_it_can_take_fits() {
    let lines: Vec<CartLine> = (0..MAX_LINES)
        .map(|i| CartLine { merchant: id(i % MAX_MERCHANTS), sku: id(i), qty: BIG, price: BIG })
        .collect();
    let bearers: Vec<(String, i64)> = std::iter::once(("platform".to_string(), BIG))
        .chain((0..MAX_MERCHANTS).map(|m| (format!("merchant:{}", id(m)), BIG)))
        .collect();
    let discount = |layer| Discount {
        layer,
        promo: id(7),
        held: Some(u32::MAX),
        amount: BIG,
        lines: vec![BIG; MAX_LINES],
        bearers: bearers.clone(),
    };
    // A price cut per line, a store 满减 and a store coupon per merchant, one cross-store
    // 满减, one platform coupon, and the red-packet amounts the cart may spend.
    let mut discounts = Vec::new();
    discounts.extend((0..MAX_LINES).map(|_| discount(Layer::PriceCut)));
    discounts.extend((0..MAX_MERCHANTS).map(|_| discount(Layer::StoreFullcut)));
    discounts.extend((0..MAX_MERCHANTS).map(|_| discount(Layer::StoreCoupon)));
    discounts.push(discount(Layer::CrossStoreFullcut));
    discounts.push(discount(Layer::PlatformCoupon));
    discounts.extend((0..MAX_ALLOWANCES).map(|_| discount(Layer::RedPacket)));
    let n = discounts.len();
    let quote = Quote {
        lines,
        pay: vec![BIG; MAX_LINES],
        discounts,
        list_total: BIG,
        discount_total: BIG,
        pay_total: BIG,
        optimal: true,
    };
    check(
        "checkout_reserved",
        &Event::CheckoutReserved {
            id: id(0),
            checkout: id(1),
            user: id(2),
            channel: Channel::Live,
            session: Some(id(3)),
            pay_by: T,
            quote: (&quote).into(),
            at: T,
        },
    );
    check(
        "discounts_returned",
        &Event::DiscountsReturned { order: id(0), returns: vec![BIG; n], restored: vec![u32::MAX; n], at: T },
    );
}

#[test]
fn a_lottery_in_a_huge_room_records_a_pool_the_log_accepts() {
    // 70,000 eligible viewers with 128-byte ids once made a 9 MB `lottery_drawn` event: a
    // tick the log refuses, and every later tick with it. The draw now records a sample of
    // 50,000 that the published secret lets anyone recheck.
    use dacu_core::{parse_line, Engine};
    let f = dacu_core::festival::parse(include_str!("../../../festivals/example-mini.toml")).expect("valid");
    let mut e = Engine::new(std::sync::Arc::new(f));
    let mut run = |line: &str| {
        let c = parse_line(line).unwrap_or_else(|r| panic!("{line}: {r}"));
        let mut out = Vec::new();
        e.execute(&c, &mut out).unwrap_or_else(|r| panic!("{line}: {r}"));
        out
    };
    run(r#"{"type":"register_anchor","anchor":"a","name":"A","followers":1}"#);
    run(r#"{"type":"live_start","session":"s","anchor":"a","at":"2021-11-02T20:00:00+08:00"}"#);
    for u in 0..70_000 {
        run(&format!(r#"{{"type":"viewer_enter","session":"s","user":"{}","at":"2021-11-02T20:01:00+08:00"}}"#, id(u)));
    }
    let secret = "00112233445566778899aabbccddeeff";
    run(&format!(
        r#"{{"type":"create_lottery","id":"l","lottery":"bag","session":"s","issuer":"platform","prize":{{"kind":"goods","name":"bag"}},"winners":10,"draw_at":"2021-11-02T20:30:00+08:00","secret":"{secret}","at":"2021-11-02T20:02:00+08:00"}}"#
    ));
    let out = run(r#"{"type":"tick","id":"t","at":"2021-11-02T20:30:00+08:00"}"#);
    let Some(Event::LotteryDrawn { eligible, winners, .. }) = out.first() else { panic!("{out:?}") };
    assert!(event_bytes(&out[0]) < EVENT_BYTES, "{} bytes", event_bytes(&out[0]));
    assert_eq!(eligible.len(), MAX_POOL);
    let record = dacu_core::promo::lottery::DrawRecord {
        lottery: "bag".into(),
        commitment: dacu_core::promo::lottery::commitment(&dacu_core::promo::lottery::unhex(secret).unwrap()),
        secret: secret.into(),
        winners_wanted: 10,
        eligible: eligible.clone(),
        winners: winners.clone(),
    };
    dacu_core::promo::lottery::verify(&record).expect("the published draw checks out");
}
