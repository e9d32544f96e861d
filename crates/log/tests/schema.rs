//! The event schema, byte for byte. `golden/events-v2.hex` holds one representative of
//! every variant of today's `Event` (several for variants whose records take several
//! forms), each as `name hex` of its whole payload (format byte and postcard); every
//! optional field is present in at least one of a variant's representatives. The test
//! fails when an encoding changes, when a variant has no line, or when a line names no
//! representative: a change to the schema is a new event format (docs/log.md, "Evolving
//! the schema"), never an edit of these files.
//!
//! `golden/events-v1.hex` holds format 1 records (one per variant of format 1, and more;
//! never regenerated), each with the format 2 payload its conversion gives:
//! `name v1hex v2hex`. Variants 0 to 40 were written by the format 1 build itself; the two
//! format 1 gained while format 2 was made (`registration_set`, `key_recorded`) by the
//! frozen copy of their definition.
//!
//! Regenerating is deliberate: `DACU_UPDATE_GOLDEN=1 cargo test -p dacu-log --test schema`
//! rewrites `events-v2.hex` and the last column of `events-v1.hex`, and the diff is
//! reviewed with the change that caused it.

use dacu_core::event::v1;
use dacu_core::event::*;
use dacu_core::kinds::{
    BrandTier, Channel, InteractionKind, Layer, LineKind, Method, PrizeKind, ReleaseReason, RewardKind, Role,
};
use dacu_core::{Day, Ts};
use dacu_log::codec;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn golden(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(file)
}

fn updating() -> bool {
    std::env::var_os("DACU_UPDATE_GOLDEN").is_some_and(|v| v == "1")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex");
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

fn encoded(ev: &Event) -> Vec<u8> {
    let mut out = Vec::new();
    codec::encode(ev, &mut out);
    out
}

/// What format 1 records leave to the festival file: the festival of the golden log.
fn context() -> codec::Context {
    dacu_log::load_festival(&golden("v1/festival.toml")).expect("the golden festival").0.format1_context()
}

/// The variants of an enum in declaration order, as serde's derive lists them: the
/// authoritative list, whatever a test remembers to name.
fn variants<'de, T: serde::Deserialize<'de>>() -> &'static [&'static str] {
    use serde::de::{Error, Visitor};
    struct Names(Option<&'static [&'static str]>);
    impl<'de> serde::Deserializer<'de> for &mut Names {
        type Error = serde::de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(Error::custom("not an enum"))
        }
        fn deserialize_enum<V: Visitor<'de>>(
            self,
            _: &'static str,
            variants: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            self.0 = Some(variants);
            Err(Error::custom("only its names"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
            unit_struct newtype_struct seq tuple tuple_struct map struct identifier ignored_any
        }
    }
    let mut n = Names(None);
    let _ = T::deserialize(&mut n);
    n.0.expect("an enum")
}

/// A variant's name, by a match the compiler makes exhaustive: a new variant does not
/// compile until it is named here (and the test then wants its representative).
fn name(ev: &Event) -> &'static str {
    match ev {
        Event::MerchantRegistered { .. } => "merchant_registered",
        Event::AnchorRegistered { .. } => "anchor_registered",
        Event::ProviderRegistered { .. } => "provider_registered",
        Event::ProviderCertified { .. } => "provider_certified",
        Event::ProviderBound { .. } => "provider_bound",
        Event::ProviderUnbound { .. } => "provider_unbound",
        Event::Enrolled { .. } => "enrolled",
        Event::LiveStarted { .. } => "live_started",
        Event::LiveEnded { .. } => "live_ended",
        Event::ViewerEntered { .. } => "viewer_entered",
        Event::ViewerLeft { .. } => "viewer_left",
        Event::Interacted { .. } => "interacted",
        Event::OrderPaid { .. } => "order_paid",
        Event::Refunded { .. } => "refunded",
        Event::Followed { .. } => "followed",
        Event::Commented { .. } => "commented",
        Event::CouponCreated(_) => "coupon_created",
        Event::CouponClaimed { .. } => "coupon_claimed",
        Event::FullcutCreated(_) => "fullcut_created",
        Event::PriceCutCreated(_) => "price_cut_created",
        Event::GroupDealCreated(_) => "group_deal_created",
        Event::GroupOpened { .. } => "group_opened",
        Event::GroupJoined { .. } => "group_joined",
        Event::GroupFormed { .. } => "group_formed",
        Event::GroupFailed { .. } => "group_failed",
        Event::RedPacketCreated { .. } => "red_packet_created",
        Event::RedPacketGrabbed { .. } => "red_packet_grabbed",
        Event::RedPacketExpired { .. } => "red_packet_expired",
        Event::LotteryCreated { .. } => "lottery_created",
        Event::LotteryDrawn { .. } => "lottery_drawn",
        Event::CheckoutReserved { .. } => "checkout_reserved",
        Event::CheckoutPaid { .. } => "checkout_paid",
        Event::CheckoutReleased { .. } => "checkout_released",
        Event::DiscountsReturned { .. } => "discounts_returned",
        Event::Ticked { .. } => "ticked",
        Event::Identified { .. } => "identified",
        Event::ExperienceScoreSet { .. } => "experience_score_set",
        Event::ViolationRecorded { .. } => "violation_recorded",
        Event::BaselineLoaded { .. } => "baseline_loaded",
        Event::Settled { .. } => "settled",
        Event::RedPacketCommitted { .. } => "red_packet_committed",
        Event::RegistrationSet { .. } => "registration_set",
        Event::KeyRecorded { .. } => "key_recorded",
        Event::ContractCreated(_) => "contract_created",
        Event::TrafficPlanned(_) => "traffic_planned",
        Event::ImpressionsServed { .. } => "impressions_served",
        Event::ContractEnded { .. } => "contract_ended",
        Event::TrafficPlannedShale(_) => "traffic_planned_shale",
        Event::PartitionEntry { .. } => "partition_entry",
    }
}

fn t(s: &str) -> Ts {
    Ts::parse(s).expect("a time")
}

fn s(x: &str) -> String {
    x.to_string()
}

const COMMITMENT: &str = "a8faed6abbf35c12a4b26e40f6feb19d736d90045c83b9f9a31f638d323e6811";
const SECRET: &str = "00112233445566778899aabbccddeeff";

/// The representatives: (label, event), the label being the variant's name, then `#` and
/// what sets it apart for a variant's further representatives.
fn samples() -> Vec<(String, Event)> {
    let at = t("2021-11-05T20:00:00+08:00");
    let at2 = t("2021-11-05T21:00:00+08:00");
    let coupon = CouponDef {
        id: s("c-1"),
        coupon: s("C1"),
        issuer: PartyRec::Merchant(s("m1")),
        bearer: PartyRec::Platform,
        scope: CouponScopeRec::Skus { merchant: s("m1"), skus: vec![s("m1-a"), s("m1-b")] },
        value: CouponValueRec::Percent { threshold: 10000, bp: 900, cap: Some(3000) },
        stock: 100,
        per_user: 2,
        claim_from: at,
        claim_until: at2,
        validity: ValidityRec::Window { from: at, until: at2 },
        audience: AudienceRec::Followers { anchor: s("a_head") },
        return_on_refund: false,
        budget: Some(500000),
        at,
    };
    let coupon_store = CouponDef {
        id: s("c-2"),
        coupon: s("C2"),
        issuer: PartyRec::Anchor(s("a_head")),
        bearer: PartyRec::Anchor(s("a_head")),
        scope: CouponScopeRec::Store { merchant: s("m2") },
        value: CouponValueRec::Off { threshold: 0, off: 500 },
        validity: ValidityRec::AfterClaim { valid_ms: 3 * 86_400_000 },
        audience: AudienceRec::NewFollowers { anchor: s("a_head") },
        budget: None,
        ..coupon.clone()
    };
    let coupon_platform = CouponDef {
        id: s("c-3"),
        coupon: s("C3"),
        issuer: PartyRec::Platform,
        bearer: PartyRec::Platform,
        scope: CouponScopeRec::Platform,
        value: CouponValueRec::Percent { threshold: 0, bp: 1000, cap: None },
        audience: AudienceRec::Session { session: s("s1") },
        ..coupon.clone()
    };
    let coupon_category = CouponDef {
        id: s("c-4"),
        coupon: s("C4"),
        scope: CouponScopeRec::Category { category: s("beauty") },
        audience: AudienceRec::Everyone,
        ..coupon_platform.clone()
    };
    let fullcut = FullcutDef {
        id: s("f-1"),
        fullcut: s("F1"),
        scope: FullcutScopeRec::CrossStore { merchants: Some(vec![s("m1"), s("m2")]), platform_share_bp: 5000 },
        rule: RuleRec::Every { step: 20000, off: 2500, cap: Some(10000) },
        start: at,
        end: at2,
        budget: Some(800000),
        at,
    };
    let fullcut_store = FullcutDef {
        id: s("f-2"),
        fullcut: s("F2"),
        scope: FullcutScopeRec::Store { merchant: s("m1") },
        rule: RuleRec::Tiers { tiers: vec![(10000, 1000), (30000, 4000)] },
        budget: None,
        ..fullcut.clone()
    };
    let fullcut_all = FullcutDef {
        id: s("f-3"),
        fullcut: s("F3"),
        scope: FullcutScopeRec::CrossStore { merchants: None, platform_share_bp: 0 },
        rule: RuleRec::Every { step: 30000, off: 3000, cap: None },
        ..fullcut.clone()
    };
    let packet = RedPacketDef {
        id: s("r-1"),
        packet: s("R1"),
        session: s("s1"),
        issuer: PartyRec::Anchor(s("a_head")),
        total: 1000,
        count: 5,
        split: Method::DoubleMean,
        followers_only: true,
        passphrase: Some(s("双11快乐")),
        min_watch_s: 60,
        opens_at: at,
        expires_at: at2,
        usable_merchant: Some(s("m1")),
        use_until: at2,
        at,
    };
    let packet_plain = RedPacketDef {
        id: s("r-2"),
        packet: s("R2"),
        issuer: PartyRec::Platform,
        split: Method::Even,
        followers_only: false,
        passphrase: None,
        min_watch_s: 0,
        usable_merchant: None,
        ..packet.clone()
    };
    let lottery = LotteryDef {
        id: s("l-1"),
        lottery: s("L1"),
        session: s("s1"),
        issuer: PartyRec::Merchant(s("m1")),
        prize: PrizeRec { kind: PrizeKind::Coupon, name: s("coupon prize"), value: 1500, coupon: Some(s("C1")) },
        winners: 2,
        in_room: true,
        followers_only: true,
        passphrase: Some(s("lucky")),
        min_watch_s: 30,
        draw_at: at2,
        secret: s(SECRET),
        at,
    };
    let lottery_cash = LotteryDef {
        id: s("l-2"),
        lottery: s("L2"),
        issuer: PartyRec::Platform,
        prize: PrizeRec { kind: PrizeKind::Cash, name: s("cash"), value: 8800, coupon: None },
        in_room: false,
        followers_only: false,
        passphrase: None,
        min_watch_s: 0,
        ..lottery.clone()
    };
    let quote = QuoteRec {
        lines: vec![
            CartLineRec { merchant: s("m1"), sku: s("m1-a"), qty: 2, price: 10000 },
            CartLineRec { merchant: s("m2"), sku: s("m2-a"), qty: 1, price: 5000 },
        ],
        pay: vec![17000, 4500],
        discounts: vec![
            DiscountRec {
                layer: Layer::StoreCoupon,
                promo: s("C1"),
                held: Some(0),
                amount: 3000,
                lines: vec![3000, 0],
                bearers: vec![(s("merchant:m1"), 3000)],
            },
            DiscountRec {
                layer: Layer::CrossStoreFullcut,
                promo: s("F1"),
                held: None,
                amount: 500,
                lines: vec![0, 500],
                bearers: vec![(s("platform"), 250), (s("merchant:m2"), 250)],
            },
        ],
        list_total: 25000,
        discount_total: 3500,
        pay_total: 21500,
        optimal: true,
    };
    let board = ClosedBoardRec {
        race: s("anchor_race"),
        day: Day::from_ymd(2021, 11, 5),
        group: Some(s("beauty")),
        ranked: 2,
        frozen: vec![(s("a_head"), 17000, at), (s("a_mid"), 9000, at2)],
    };
    let line = LedgerLineRec {
        settlement: 1,
        payout: s("anchor_race@2021-11-05#beauty:a_head"),
        kind: LineKind::Award,
        race: s("anchor_race"),
        day: Day::from_ymd(2021, 11, 5),
        group: Some(s("beauty")),
        participant: s("a_head"),
        role: Role::Anchor,
        track: s("anchor"),
        item: RewardKind::Cash,
        name: Some(s("cash")),
        rank: Some(1),
        value: 17000,
        band: Some(1),
        claim: 50000,
        amount: 40000,
        scale: Some((80000, 100000)),
        rule: s("band 1: rank 1 to 3"),
    };
    let line2 = LedgerLineRec {
        settlement: 2,
        payout: s("head_bigday:a_head"),
        kind: LineKind::Clawback,
        race: s("head_bigday"),
        day: None,
        group: None,
        item: RewardKind::TrafficPack,
        name: None,
        rank: None,
        value: 0,
        band: None,
        claim: 0,
        amount: -1000,
        scale: None,
        rule: s("refunded"),
        ..line.clone()
    };
    let lines = vec![
        LineRec { sku: s("m1-a"), qty: 2, price: 10000, paid: 17000 },
        LineRec { sku: s("m1-b"), qty: 1, price: 0, paid: 0 },
    ];
    // The shares a seed gives the packet (1000 fen in 5, 二倍均值), as decide records them.
    let split = |seed| {
        let shares = dacu_core::promo::redpacket::split(dacu_core::Fen(1000), 5, Method::DoubleMean, seed);
        shares.expect("a valid packet").into_iter().map(|f| f.0).collect::<Vec<i64>>()
    };
    let drawn = |grants| Event::LotteryDrawn {
        lottery: s("L1"),
        eligible: vec![s("u1"), s("u2"), s("u3")],
        winners: vec![s("u2"), s("u3")],
        at: at2,
        prize_grants: grants,
    };
    let v = vec![
        (
            "merchant_registered",
            Event::MerchantRegistered {
                merchant: s("m1"),
                name: s("Peony Beauty"),
                brand_tier: BrandTier::Ska,
                category: s("beauty"),
            },
        ),
        (
            "anchor_registered",
            Event::AnchorRegistered {
                anchor: s("a_own"),
                name: s("Peony Official"),
                followers: 500,
                merchant: Some(s("m1")),
                tier: Some(AnchorTierRec { id: s("new"), index: 2 }),
            },
        ),
        (
            "anchor_registered#untiered",
            Event::AnchorRegistered { anchor: s("a_x"), name: s("X"), followers: 0, merchant: None, tier: None },
        ),
        ("provider_registered", Event::ProviderRegistered { provider: s("p1"), name: s("Yaowang") }),
        ("provider_certified", Event::ProviderCertified { provider: s("p1"), at }),
        ("provider_bound", Event::ProviderBound { provider: s("p1"), merchant: s("m1"), at }),
        ("provider_unbound", Event::ProviderUnbound { provider: s("p1"), merchant: s("m1"), at: at2 }),
        ("enrolled", Event::Enrolled { program: s("provider_race"), participant: s("p1"), role: Role::Provider, at }),
        ("live_started", Event::LiveStarted { session: s("s1"), anchor: s("a_head"), at }),
        ("live_ended", Event::LiveEnded { session: s("s1"), at: at2 }),
        ("viewer_entered", Event::ViewerEntered { session: s("s1"), user: s("u1"), at }),
        ("viewer_left", Event::ViewerLeft { session: s("s1"), user: s("u1"), at: at2 }),
        ("interacted", Event::Interacted { session: s("s1"), user: s("u1"), kind: InteractionKind::Share, at }),
        (
            "order_paid",
            Event::OrderPaid {
                order: s("o1"),
                user: s("u1"),
                merchant: s("m1"),
                channel: Channel::Live,
                session: Some(s("s1")),
                anchor: Some(s("a_head")),
                provider: Some(s("p1")),
                self_broadcast: true,
                lines,
                at,
            },
        ),
        (
            "order_paid#shelf",
            Event::OrderPaid {
                order: s("o2"),
                user: s("u2"),
                merchant: s("m2"),
                channel: Channel::Shelf,
                session: None,
                anchor: None,
                provider: None,
                self_broadcast: false,
                lines: vec![LineRec { sku: s("m2-a"), qty: 1, price: 5000, paid: 5000 }],
                at,
            },
        ),
        ("refunded", Event::Refunded { order: s("o1"), amount: 6000, at: at2, refund_id: Some(s("r1")) }),
        ("refunded#no_id", Event::Refunded { order: s("o1"), amount: 1, at: at2, refund_id: None }),
        ("followed", Event::Followed { id: s("fo-1"), anchor: s("a_head"), user: s("u1"), at }),
        ("commented", Event::Commented { session: s("s1"), user: s("u1"), text: s("双11快乐"), at }),
        ("coupon_created", Event::CouponCreated(coupon)),
        ("coupon_created#store", Event::CouponCreated(coupon_store)),
        ("coupon_created#platform", Event::CouponCreated(coupon_platform)),
        ("coupon_created#category", Event::CouponCreated(coupon_category)),
        (
            "coupon_claimed",
            Event::CouponClaimed { id: s("cc-1"), coupon: s("C1"), user: s("u1"), from: at, until: at2, at },
        ),
        ("fullcut_created", Event::FullcutCreated(fullcut)),
        ("fullcut_created#store", Event::FullcutCreated(fullcut_store)),
        ("fullcut_created#every_merchant", Event::FullcutCreated(fullcut_all)),
        (
            "price_cut_created",
            Event::PriceCutCreated(PriceCutDef {
                id: s("p-1"),
                cut: s("P1"),
                merchant: s("m1"),
                sku: s("m1-a"),
                off: 500,
                start: at,
                end: at2,
                budget: Some(100000),
                at,
            }),
        ),
        (
            "group_deal_created",
            Event::GroupDealCreated(GroupDealDef {
                id: s("g-1"),
                deal: s("D1"),
                merchant: s("m2"),
                sku: s("m2-a"),
                price: 5000,
                group_price: 3500,
                size: 3,
                time_limit_s: 3600,
                start: at,
                end: at2,
                budget: Some(90000),
                at,
            }),
        ),
        (
            "group_opened",
            Event::GroupOpened {
                id: s("go-1"),
                group: s("G1"),
                deal: s("D1"),
                user: s("u1"),
                order: s("og1"),
                channel: Channel::Live,
                session: Some(s("s1")),
                deadline: at2,
                at,
            },
        ),
        ("group_joined", Event::GroupJoined { id: s("gj-1"), group: s("G1"), user: s("u2"), order: s("og2"), at }),
        ("group_formed", Event::GroupFormed { group: s("G1"), at }),
        ("group_failed", Event::GroupFailed { group: s("G2"), refunded: 7000, at: at2 }),
        ("red_packet_created", Event::RedPacketCreated { def: packet.clone(), seed: 42, shares: split(42) }),
        (
            "red_packet_created#plain",
            Event::RedPacketCreated { def: packet_plain, seed: 11273820869629918004, shares: vec![200; 5] },
        ),
        (
            "red_packet_grabbed",
            Event::RedPacketGrabbed { id: s("rg-1"), packet: s("R1"), user: s("u1"), amount: 150, at },
        ),
        ("red_packet_expired", Event::RedPacketExpired { packet: s("R1"), leftover: 429, at: at2 }),
        ("lottery_created", Event::LotteryCreated { def: lottery, commitment: s(COMMITMENT) }),
        ("lottery_created#cash", Event::LotteryCreated { def: lottery_cash, commitment: s(COMMITMENT) }),
        ("lottery_drawn", drawn(PrizeGrantsRec::Coupons { granted: 1, from: at2, until: at2.plus_ms(86_400_000) })),
        ("lottery_drawn#nothing", drawn(PrizeGrantsRec::Nothing)),
        ("lottery_drawn#format1", drawn(PrizeGrantsRec::Format1)),
        (
            "checkout_reserved",
            Event::CheckoutReserved {
                id: s("co-1"),
                checkout: s("K1"),
                user: s("u1"),
                channel: Channel::Live,
                session: Some(s("s1")),
                pay_by: at2,
                quote: quote.clone(),
                at,
            },
        ),
        (
            "checkout_reserved#shelf",
            Event::CheckoutReserved {
                id: s("co-2"),
                checkout: s("K2"),
                user: s("u1"),
                channel: Channel::Shelf,
                session: None,
                pay_by: at2,
                quote: QuoteRec { discounts: vec![], optimal: false, ..quote },
                at,
            },
        ),
        ("checkout_paid", Event::CheckoutPaid { id: s("pay-1"), checkout: s("K1"), at }),
        (
            "checkout_released",
            Event::CheckoutReleased {
                id: Some(s("cancel-1")),
                checkout: s("K1"),
                reason: ReleaseReason::Cancelled,
                at,
            },
        ),
        (
            "checkout_released#timeout",
            Event::CheckoutReleased { id: None, checkout: s("K2"), reason: ReleaseReason::Timeout, at: at2 },
        ),
        (
            "discounts_returned",
            Event::DiscountsReturned { order: s("K1/m1"), returns: vec![1059, -3], restored: vec![0, 7], at: at2 },
        ),
        ("ticked", Event::Ticked { id: s("t-1"), at: at2 }),
        ("identified", Event::Identified { id: s("reg-1"), command: s("register_merchant") }),
        (
            "experience_score_set",
            Event::ExperienceScoreSet { id: s("es-1"), participant: s("m1"), role: Role::Merchant, score_c: 430, at },
        ),
        (
            "violation_recorded",
            Event::ViolationRecorded {
                id: s("v-1"),
                violation: s("V1"),
                participant: s("a_mid"),
                role: Role::Anchor,
                reason: s("fake goods"),
                at,
            },
        ),
        (
            "baseline_loaded",
            Event::BaselineLoaded {
                id: s("b-1"),
                contest: s("provider_race"),
                participant: s("p1"),
                role: Role::Provider,
                baseline_fen: 1234500,
                at,
            },
        ),
        (
            "settled",
            Event::Settled {
                id: s("st-1"),
                at: at2,
                boards: vec![
                    board,
                    ClosedBoardRec { race: s("head_bigday"), day: None, group: None, ranked: 0, frozen: vec![] },
                ],
                programs: vec![s("anchor_race"), s("brand_day")],
                lines: vec![line, line2],
            },
        ),
        (
            "red_packet_committed",
            Event::RedPacketCommitted {
                def: packet,
                seed: 16802705080325286171,
                commitment: s(COMMITMENT),
                secret: s(SECRET),
                shares: split(16802705080325286171),
            },
        ),
        ("registration_set", Event::RegistrationSet { id: s("reg-close"), program: s("brand_day"), open: false, at }),
        (
            "key_recorded",
            Event::KeyRecorded {
                key: s("tok-1:k-42"),
                fingerprint: "ab".repeat(32),
                outcomes: vec![
                    KeyOutcomeRec::Accepted { first_seq: 7, last_seq: 9 },
                    KeyOutcomeRec::Rejected { code: s("sold_out"), message: s("all 5 of coupon `C1` were claimed") },
                ],
                expires_at: at2,
                at,
                capacity: 100_000,
            },
        ),
        (
            "contract_created",
            Event::ContractCreated(ContractRec {
                id: s("settle-1/anchor_ranking:a1"),
                source: ContractSourceRec::Settlement {
                    settlement: 1,
                    payout: s("anchor_ranking:a1"),
                    participant: s("a1"),
                    role: Role::Anchor,
                },
                track: Some(s("anchor")),
                slots: vec![s("live_rec")],
                segments: vec![s("new"), s("returning")],
                impressions: 10_000_000,
                start: at,
                end: at2,
                priority: 6,
                pacing: dacu_core::kinds::Pacing::FrontLoaded,
                live_anchor: Some(s("a1")),
                at,
            }),
        ),
        (
            "traffic_planned",
            Event::TrafficPlanned(PlanRec {
                at,
                hour: 1700,
                correction_ppb: vec![1_000_000_000, 912_000_000],
                used: vec![(54_400, 120)],
                entries: vec![PlanEntryRec {
                    contract: s("sbd/m1"),
                    part: 1,
                    demand: 7_500_000,
                    priority: 11,
                    share_ppb: 375_000_000,
                }],
            }),
        ),
        (
            "impressions_served",
            Event::ImpressionsServed {
                slot: s("main_venue"),
                segment: s("returning"),
                node: 54_401,
                hour: 1700,
                count: 1_200,
                served: vec![(s("sbd/m1"), 450)],
                unsold: 750,
                at,
            },
        ),
        (
            "contract_ended",
            Event::ContractEnded {
                contract: s("sbd/m1"),
                delivered: 9_000_000,
                shortfall: 1_000_000,
                make_good: Some(s("sbd/m1+mg1")),
                at: at2,
            },
        ),
        (
            "traffic_planned_shale",
            Event::TrafficPlannedShale(ShalePlanRec {
                plan: PlanRec {
                    at,
                    hour: 1700,
                    correction_ppb: vec![1_000_000_000],
                    used: vec![],
                    entries: vec![
                        PlanEntryRec {
                            contract: s("sbd/m1"),
                            part: 0,
                            demand: 100,
                            priority: 10,
                            share_ppb: 500_000_000,
                        },
                        PlanEntryRec { contract: s("mv"), part: 0, demand: 160, priority: 10, share_ppb: 800_000_000 },
                    ],
                },
                pricing: PricingRec { zeta_ppb: vec![Some(-250_000_000), None], prices: vec![(54_401, 375_000_000)] },
            }),
        ),
        ("partition_entry", Event::PartitionEntry { at: Some(at), definition: Some(7) }),
    ];
    v.into_iter().map(|(label, ev)| (label.to_string(), ev)).collect()
}

/// The lines of a golden file, or nothing if it does not exist yet.
fn read_lines(file: &str) -> Vec<String> {
    std::fs::read_to_string(golden(file)).map(|t| t.lines().map(str::to_string).collect()).unwrap_or_default()
}

/// Compares what the build gives with the checked-in lines, or writes them when
/// regenerating deliberately.
fn compare(file: &str, got: &[String]) {
    if updating() {
        std::fs::write(golden(file), got.join("\n") + "\n").expect("write the golden file");
        eprintln!("rewrote tests/golden/{file}: review the diff");
        return;
    }
    let want = read_lines(file);
    let label = |l: &str| l.split(' ').next().unwrap_or("").to_string();
    let want_by: BTreeMap<String, &String> = want.iter().map(|l| (label(l), l)).collect();
    let got_by: BTreeMap<String, &String> = got.iter().map(|l| (label(l), l)).collect();
    let mut wrong = Vec::new();
    for (k, g) in &got_by {
        match want_by.get(k) {
            None => wrong.push(format!("{k}: no line in tests/golden/{file}")),
            Some(w) if w != g => wrong.push(format!("{k}: encodes differently\n  golden: {w}\n  now:    {g}")),
            Some(_) => {}
        }
    }
    for k in want_by.keys().filter(|k| !got_by.contains_key(*k)) {
        wrong.push(format!("{k}: a line in tests/golden/{file} that no representative has"));
    }
    assert!(
        wrong.is_empty() && want == got,
        "the event schema changed (a changed field or variant needs a new event format, docs/log.md, \
         \"Evolving the schema\"; regenerate deliberately with DACU_UPDATE_GOLDEN=1):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_variant_encodes_as_its_golden_bytes() {
    let samples = samples();
    let all = variants::<Event>();
    let named: BTreeSet<&str> = samples.iter().map(|(_, ev)| name(ev)).collect();
    let missing: Vec<&&str> = all.iter().filter(|v| !named.contains(**v)).collect();
    assert!(missing.is_empty(), "variants without a representative: {missing:?}");
    let mut got = Vec::new();
    for (label, ev) in &samples {
        // The name the match gives is the name serde writes, and its place in the list
        // is the index postcard writes.
        let json = serde_json::to_value(ev).expect("serialises");
        let tag = json.as_object().and_then(|o| o.keys().next().cloned()).expect("externally tagged");
        assert_eq!(tag, name(ev));
        assert_eq!(label.split('#').next(), Some(name(ev)), "{label}");
        let bytes = encoded(ev);
        let index = all.iter().position(|v| *v == name(ev)).expect("listed");
        assert_eq!((bytes[0], bytes[1] as usize), (codec::EVENT_FORMAT, index), "{label}: format byte and tag");
        assert_eq!(&codec::decode(&bytes, &context()).expect("decodes"), ev, "{label}: round trip");
        got.push(format!("{label} {}", hex(&bytes)));
    }
    let labels: BTreeSet<&String> = samples.iter().map(|(l, _)| l).collect();
    assert_eq!(labels.len(), samples.len(), "labels are unique");
    compare("events-v2.hex", &got);
}

/// JSON paths (array items as `[]`) of the null and the non-null values in `v`.
fn paths(v: &serde_json::Value, at: String, null: &mut BTreeSet<String>, set: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Null => {
            null.insert(at);
        }
        serde_json::Value::Object(m) => {
            set.insert(at.clone());
            for (k, x) in m {
                paths(x, format!("{at}.{k}"), null, set);
            }
        }
        serde_json::Value::Array(a) => {
            set.insert(at.clone());
            for x in a {
                paths(x, format!("{at}[]"), null, set);
            }
        }
        _ => {
            set.insert(at);
        }
    }
}

#[test]
fn every_optional_field_is_present_in_some_representative() {
    let (mut null, mut set) = (BTreeSet::new(), BTreeSet::new());
    for (_, ev) in samples() {
        paths(&serde_json::to_value(&ev).expect("serialises"), String::new(), &mut null, &mut set);
    }
    let never: Vec<&String> = null.difference(&set).collect();
    assert!(never.is_empty(), "optional fields no representative gives: {never:?}");
}

#[test]
fn format_1_records_decode_into_todays_events() {
    let ctx = context();
    let lines = read_lines("events-v1.hex");
    assert!(!lines.is_empty(), "tests/golden/events-v1.hex");
    let all = variants::<v1::Event>();
    let mut seen = BTreeSet::new();
    let mut got = Vec::new();
    for l in &lines {
        let mut cols = l.split(' ');
        let (label, v1hex) = (cols.next().expect("a label"), cols.next().expect("format 1 bytes"));
        let bytes = unhex(v1hex);
        assert_eq!(bytes[0], 1, "{label}: a format 1 payload");
        seen.insert(all[bytes[1] as usize]);
        assert_eq!(label.split('#').next(), Some(all[bytes[1] as usize]), "{label}: its variant");
        // The frozen copy reads and writes format 1 exactly as the format 1 build did.
        let old: v1::Event = postcard::from_bytes(&bytes[1..]).expect("a format 1 event");
        assert_eq!(&postcard::to_stdvec(&old).expect("encodes")[..], &bytes[1..], "{label}: the frozen copy");
        let now = codec::decode(&bytes, &ctx).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(now, old.upgrade(&ctx).expect("converts"), "{label}");
        let v2 = encoded(&now);
        if let Some(want) = cols.next().filter(|_| !updating()) {
            assert_eq!(codec::decode(&unhex(want), &ctx).expect("format 2 decodes"), now, "{label}: its value");
        }
        got.push(format!("{label} {v1hex} {}", hex(&v2)));
    }
    let missing: Vec<&&str> = all.iter().filter(|v| !seen.contains(**v)).collect();
    assert!(missing.is_empty(), "format 1 variants without a record: {missing:?}");
    compare("events-v1.hex", &got);
}
