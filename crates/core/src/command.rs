//! Commands: what callers ask of the engine, one JSON object per line with a `type`.
//! docs/commands.md documents every command and field.

use crate::error::{Code, Rejection};
use crate::event as ev;
pub use crate::kinds::{AudienceKind, Channel, CouponScopeKind, FullcutScopeKind, InteractionKind, PrizeKind};
use crate::kinds::{BrandTier, Method, Role};
use crate::time::Ts;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

/// One order line: `price` is the list unit price, `paid` what was paid for the line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    pub sku: String,
    pub qty: i64,
    pub price: i64,
    pub paid: i64,
}

/// One line of a cart, as `checkout` (and `dacu quote`) give it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CartLine {
    pub merchant: String,
    pub sku: String,
    pub qty: i64,
    pub price: i64,
}

macro_rules! commands {
    ($($variant:ident($name:literal) { $($(#[$fm:meta])* $field:ident : $ty:ty),* $(,)? })*) => {
        /// A command, decoded from one JSON line.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Command { $($variant($variant),)* }

        $(
            #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
            #[serde(deny_unknown_fields)]
            pub struct $variant {
                $($(#[$fm])* pub $field: $ty,)*
            }
        )*

        /// The command types accepted on the wire.
        pub const COMMAND_TYPES: &[&str] = &[$($name,)*];

        mod wire {
            use super::*;
            $(
                #[derive(Deserialize)]
                #[serde(deny_unknown_fields)]
                #[allow(dead_code, reason = "`ty` only lets serde accept the `type` member; nothing reads it")]
                pub struct $variant {
                    #[serde(rename = "type")]
                    pub ty: IgnoredAny,
                    $($(#[$fm])* pub $field: $ty,)*
                }
            )*
        }

        fn decode_typed(ty: &str, line: &str) -> Result<Command, Rejection> {
            match ty {
                $($name => {
                    let w: wire::$variant = serde_json::from_str(line).map_err(|e| field_error(ty, line, e))?;
                    Ok(Command::$variant($variant { $($field: w.$field,)* }))
                })*
                other => Err(Rejection::new(
                    Code::UnknownCommand,
                    format!("unknown command type `{other}`; expected one of: {}", COMMAND_TYPES.join(", ")),
                )),
            }
        }

        impl Command {
            /// The index of the command's type in [`COMMAND_TYPES`].
            pub fn type_index(&self) -> u8 {
                let mut i = 0u8;
                $(
                    if let Command::$variant(_) = self { return i; }
                    i += 1;
                )*
                let _ = i;
                unreachable!()
            }
            /// The wire name of the command's type.
            pub fn type_name(&self) -> &'static str {
                match self { $(Command::$variant(_) => $name,)* }
            }
            /// The command's recorded time, for a runtime that stamps it (`None` for the
            /// registrations, which carry none).
            pub fn at_mut(&mut self) -> Option<&mut Ts> {
                match self { $(Command::$variant(c) => Stamped::at_mut(c),)* }
            }
            /// The command's recorded time (`None` for the registrations).
            pub fn at(&self) -> Option<Ts> {
                match self { $(Command::$variant(c) => Stamped::at(c),)* }
            }
        }
    };
}

/// Commands that carry a recorded time `at`, and those that do not. Every command type is
/// in one of the two lists, or [`Command::at_mut`] does not compile.
trait Stamped {
    fn at_mut(&mut self) -> Option<&mut Ts>;
    fn at(&self) -> Option<Ts>;
}

macro_rules! stamped {
    (with $($t:ident),* ; without $($u:ident),*) => {
        $(impl Stamped for $t {
            fn at_mut(&mut self) -> Option<&mut Ts> { Some(&mut self.at) }
            fn at(&self) -> Option<Ts> { Some(self.at) }
        })*
        $(impl Stamped for $u {
            fn at_mut(&mut self) -> Option<&mut Ts> { None }
            fn at(&self) -> Option<Ts> { None }
        })*
    };
}

commands! {
    RegisterMerchant("register_merchant") { #[serde(default)] id: Option<String>, merchant: String, name: String, brand_tier: BrandTier, category: String }
    RegisterAnchor("register_anchor") { #[serde(default)] id: Option<String>, anchor: String, name: String, followers: i64, #[serde(default)] merchant: Option<String> }
    RegisterProvider("register_provider") { #[serde(default)] id: Option<String>, provider: String, name: String }
    CertifyProvider("certify_provider") { #[serde(default)] id: Option<String>, provider: String, at: Ts }
    BindProvider("bind_provider") { #[serde(default)] id: Option<String>, provider: String, merchant: String, at: Ts }
    UnbindProvider("unbind_provider") { #[serde(default)] id: Option<String>, provider: String, merchant: String, at: Ts }
    Enroll("enroll") { #[serde(default)] id: Option<String>, program: String, participant: String, #[serde(default)] role: Option<Role>, at: Ts }
    LiveStart("live_start") { #[serde(default)] id: Option<String>, session: String, anchor: String, at: Ts }
    LiveEnd("live_end") { #[serde(default)] id: Option<String>, session: String, at: Ts }
    ViewerEnter("viewer_enter") { #[serde(default)] id: Option<String>, session: String, user: String, at: Ts }
    ViewerLeave("viewer_leave") { #[serde(default)] id: Option<String>, session: String, user: String, at: Ts }
    Interaction("interaction") { #[serde(default)] id: Option<String>, session: String, user: String, kind: InteractionKind, #[serde(default)] text: Option<String>, at: Ts }
    OrderPaid("order_paid") { #[serde(default)] id: Option<String>, order: String, user: String, merchant: String, channel: Channel, #[serde(default)] session: Option<String>, lines: Vec<Line>, at: Ts }
    Refund("refund") { #[serde(default)] id: Option<String>, order: String, amount: i64, at: Ts, #[serde(default)] refund_id: Option<String> }
    Follow("follow") { id: String, anchor: String, user: String, at: Ts }
    CreateCoupon("create_coupon") {
        id: String, coupon: String, issuer: String, #[serde(default)] bearer: Option<String>,
        scope: CouponScopeKind, #[serde(default)] merchant: Option<String>, #[serde(default)] skus: Vec<String>,
        #[serde(default)] category: Option<String>,
        #[serde(default)] threshold: i64, #[serde(default)] off: Option<i64>,
        #[serde(default)] percent_bp: Option<i64>, #[serde(default)] cap: Option<i64>,
        stock: i64, #[serde(default = "one")] per_user: i64, claim_from: Ts, claim_until: Ts,
        #[serde(default)] valid_from: Option<Ts>, #[serde(default)] valid_until: Option<Ts>,
        #[serde(default)] valid_days: Option<i64>,
        #[serde(default)] audience: AudienceKind, #[serde(default)] anchor: Option<String>,
        #[serde(default)] session: Option<String>,
        #[serde(default = "yes")] return_on_refund: bool, #[serde(default)] budget: Option<i64>, at: Ts
    }
    ClaimCoupon("claim_coupon") { id: String, coupon: String, user: String, at: Ts }
    CreateFullcut("create_fullcut") {
        id: String, fullcut: String, scope: FullcutScopeKind, #[serde(default)] merchant: Option<String>,
        #[serde(default)] merchants: Option<Vec<String>>, #[serde(default)] tiers: Vec<(i64, i64)>,
        #[serde(default)] every: Option<i64>, #[serde(default)] off: Option<i64>, #[serde(default)] cap: Option<i64>,
        #[serde(default)] platform_share_bp: i64, start: Ts, end: Ts, #[serde(default)] budget: Option<i64>, at: Ts
    }
    CreatePriceCut("create_price_cut") {
        id: String, cut: String, merchant: String, sku: String, off: i64, start: Ts, end: Ts,
        #[serde(default)] budget: Option<i64>, at: Ts
    }
    CreateGroupDeal("create_group_deal") {
        id: String, deal: String, merchant: String, sku: String, price: i64, group_price: i64, size: i64,
        #[serde(default)] time_limit_s: Option<i64>, start: Ts, end: Ts, #[serde(default)] budget: Option<i64>, at: Ts
    }
    OpenGroup("open_group") {
        id: String, group: String, deal: String, user: String, order: String,
        #[serde(default)] session: Option<String>, at: Ts
    }
    JoinGroup("join_group") { id: String, group: String, user: String, order: String, at: Ts }
    CreateRedPacket("create_red_packet") {
        id: String, packet: String, session: String, issuer: String, total: i64, count: i64, split: Method,
        #[serde(default)] seed: Option<u64>, #[serde(default)] secret: Option<String>,
        #[serde(default)] followers_only: bool,
        #[serde(default)] passphrase: Option<String>, #[serde(default)] min_watch_s: i64,
        opens_at: Ts, expires_at: Ts, #[serde(default)] usable_merchant: Option<String>,
        #[serde(default)] use_until: Option<Ts>, at: Ts
    }
    GrabRedPacket("grab_red_packet") { id: String, packet: String, user: String, at: Ts }
    CreateLottery("create_lottery") {
        id: String, lottery: String, session: String, issuer: String, prize: PrizeSpec, winners: i64,
        #[serde(default = "yes")] in_room: bool, #[serde(default)] followers_only: bool,
        #[serde(default)] passphrase: Option<String>, #[serde(default)] min_watch_s: i64,
        draw_at: Ts, secret: String, at: Ts
    }
    Checkout("checkout") {
        id: String, checkout: String, user: String, channel: Channel, #[serde(default)] session: Option<String>,
        lines: Vec<CartLine>, at: Ts
    }
    Pay("pay") { id: String, checkout: String, at: Ts }
    Cancel("cancel") { id: String, checkout: String, at: Ts }
    Tick("tick") { id: String, at: Ts }
    SetExperienceScore("set_experience_score") {
        id: String, participant: String, #[serde(default)] role: Option<Role>, score: f64, at: Ts
    }
    RecordViolation("record_violation") {
        id: String, violation: String, participant: String, #[serde(default)] role: Option<Role>, reason: String,
        at: Ts
    }
    LoadBaseline("load_baseline") { id: String, contest: String, participant: String, baseline_fen: i64, at: Ts }
    Settle("settle") { id: String, at: Ts }
    SetRegistration("set_registration") { id: String, #[serde(default)] program: Option<String>, open: bool, at: Ts }
    Impression("impression") {
        #[serde(default)] id: Option<String>, slot: String, segment: String, #[serde(default = "one_u64")] count: u64,
        at: Ts
    }
}

stamped! {
    with CertifyProvider, BindProvider, UnbindProvider, Enroll, LiveStart, LiveEnd, ViewerEnter, ViewerLeave, Interaction, OrderPaid, Refund, Follow, CreateCoupon, ClaimCoupon, CreateFullcut, CreatePriceCut, CreateGroupDeal, OpenGroup, JoinGroup, CreateRedPacket, GrabRedPacket, CreateLottery, Checkout, Pay, Cancel, Tick, SetExperienceScore, RecordViolation, LoadBaseline, Settle, SetRegistration, Impression;
    without RegisterMerchant, RegisterAnchor, RegisterProvider
}

impl Command {
    /// The idempotency id of the commands that carry one: every command but the original
    /// set, whose id is optional ([`Command::legacy_id`]).
    pub fn command_id(&self) -> Option<&str> {
        Some(match self {
            Command::Follow(c) => &c.id,
            Command::CreateCoupon(c) => &c.id,
            Command::ClaimCoupon(c) => &c.id,
            Command::CreateFullcut(c) => &c.id,
            Command::CreatePriceCut(c) => &c.id,
            Command::CreateGroupDeal(c) => &c.id,
            Command::OpenGroup(c) => &c.id,
            Command::JoinGroup(c) => &c.id,
            Command::CreateRedPacket(c) => &c.id,
            Command::GrabRedPacket(c) => &c.id,
            Command::CreateLottery(c) => &c.id,
            Command::Checkout(c) => &c.id,
            Command::Pay(c) => &c.id,
            Command::Cancel(c) => &c.id,
            Command::Tick(c) => &c.id,
            Command::SetExperienceScore(c) => &c.id,
            Command::RecordViolation(c) => &c.id,
            Command::LoadBaseline(c) => &c.id,
            Command::Settle(c) => &c.id,
            Command::SetRegistration(c) => &c.id,
            Command::RegisterMerchant(_)
            | Command::RegisterAnchor(_)
            | Command::RegisterProvider(_)
            | Command::CertifyProvider(_)
            | Command::BindProvider(_)
            | Command::UnbindProvider(_)
            | Command::Enroll(_)
            | Command::LiveStart(_)
            | Command::LiveEnd(_)
            | Command::ViewerEnter(_)
            | Command::ViewerLeave(_)
            | Command::Interaction(_)
            | Command::OrderPaid(_)
            | Command::Refund(_)
            | Command::Impression(_) => return self.legacy_id(),
        })
    }

    /// The optional `id` of the commands that had none before ids were introduced.
    pub fn legacy_id(&self) -> Option<&str> {
        match self {
            Command::RegisterMerchant(c) => c.id.as_deref(),
            Command::RegisterAnchor(c) => c.id.as_deref(),
            Command::RegisterProvider(c) => c.id.as_deref(),
            Command::CertifyProvider(c) => c.id.as_deref(),
            Command::BindProvider(c) => c.id.as_deref(),
            Command::UnbindProvider(c) => c.id.as_deref(),
            Command::Enroll(c) => c.id.as_deref(),
            Command::LiveStart(c) => c.id.as_deref(),
            Command::LiveEnd(c) => c.id.as_deref(),
            Command::ViewerEnter(c) => c.id.as_deref(),
            Command::ViewerLeave(c) => c.id.as_deref(),
            Command::Interaction(c) => c.id.as_deref(),
            Command::OrderPaid(c) => c.id.as_deref(),
            Command::Refund(c) => c.id.as_deref(),
            Command::Impression(c) => c.id.as_deref(),
            Command::Follow(_)
            | Command::CreateCoupon(_)
            | Command::ClaimCoupon(_)
            | Command::CreateFullcut(_)
            | Command::CreatePriceCut(_)
            | Command::CreateGroupDeal(_)
            | Command::OpenGroup(_)
            | Command::JoinGroup(_)
            | Command::CreateRedPacket(_)
            | Command::GrabRedPacket(_)
            | Command::CreateLottery(_)
            | Command::Checkout(_)
            | Command::Pay(_)
            | Command::Cancel(_)
            | Command::Tick(_)
            | Command::SetExperienceScore(_)
            | Command::RecordViolation(_)
            | Command::LoadBaseline(_)
            | Command::Settle(_)
            | Command::SetRegistration(_) => None,
        }
    }
}

fn one() -> i64 {
    1
}
fn one_u64() -> u64 {
    1
}
fn yes() -> bool {
    true
}

/// A lottery's prize, as given on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrizeSpec {
    pub kind: PrizeKind,
    pub name: String,
    #[serde(default)]
    pub value: i64,
    #[serde(default)]
    pub coupon: Option<String>,
}

// What the events record of a command: the event schema's records (crate::event),
// converted here so that the schema knows no command struct.

impl From<&Line> for ev::LineRec {
    fn from(l: &Line) -> ev::LineRec {
        ev::LineRec { sku: l.sku.clone(), qty: l.qty, price: l.price, paid: l.paid }
    }
}

impl From<&CartLine> for ev::CartLineRec {
    fn from(l: &CartLine) -> ev::CartLineRec {
        ev::CartLineRec { merchant: l.merchant.clone(), sku: l.sku.clone(), qty: l.qty, price: l.price }
    }
}

impl From<&ev::CartLineRec> for CartLine {
    fn from(l: &ev::CartLineRec) -> CartLine {
        CartLine { merchant: l.merchant.clone(), sku: l.sku.clone(), qty: l.qty, price: l.price }
    }
}

/// A 满减's scope and rule as they apply: a store 满减 names its merchant, a cross-store
/// one its merchants (or none: all) and the platform's share; 每满 `every` 减 `off` when
/// `every` is given, else the tiers. (Validated before: only one of each is given.)
impl From<&CreateFullcut> for ev::FullcutDef {
    fn from(k: &CreateFullcut) -> ev::FullcutDef {
        let scope = match &k.merchant {
            Some(m) => ev::FullcutScopeRec::Store { merchant: m.clone() },
            None => ev::FullcutScopeRec::CrossStore {
                merchants: k.merchants.clone(),
                platform_share_bp: k.platform_share_bp,
            },
        };
        let rule = match k.every {
            Some(step) => ev::RuleRec::Every { step, off: k.off.unwrap_or(0), cap: k.cap },
            None => ev::RuleRec::Tiers { tiers: k.tiers.clone() },
        };
        ev::FullcutDef {
            id: k.id.clone(),
            fullcut: k.fullcut.clone(),
            scope,
            rule,
            start: k.start,
            end: k.end,
            budget: k.budget,
            at: k.at,
        }
    }
}

impl From<&CreatePriceCut> for ev::PriceCutDef {
    fn from(k: &CreatePriceCut) -> ev::PriceCutDef {
        ev::PriceCutDef {
            id: k.id.clone(),
            cut: k.cut.clone(),
            merchant: k.merchant.clone(),
            sku: k.sku.clone(),
            off: k.off,
            start: k.start,
            end: k.end,
            budget: k.budget,
            at: k.at,
        }
    }
}

impl From<&PrizeSpec> for ev::PrizeRec {
    fn from(p: &PrizeSpec) -> ev::PrizeRec {
        ev::PrizeRec { kind: p.kind, name: p.name.clone(), value: p.value, coupon: p.coupon.clone() }
    }
}

fn field_error(ty: &str, line: &str, e: serde_json::Error) -> Rejection {
    let msg = e.to_string();
    if matches!(e.classify(), serde_json::error::Category::Syntax | serde_json::error::Category::Eof) {
        // serde_json files a number beyond f64's range (`1e400`, a 400-digit integer)
        // under syntax. In a well-formed object it is a field of the wrong range, not
        // broken JSON; skipping values checks the syntax without converting numbers.
        if msg.starts_with("number out of range") && well_formed_object(line) {
            return Rejection::new(
                Code::InvalidCommand,
                format!(
                    "{ty}: {msg}: integers must fit in signed 64 bits and numbers must be finite \
                     (see docs/commands.md#{ty})"
                ),
            );
        }
        return Rejection::new(
            Code::InvalidJson,
            format!("not a JSON object: {msg}; each line must be one JSON object with a `type`"),
        );
    }
    // The time parser's own message is the most useful one; give it its own code.
    let code = if msg.contains("RFC 3339") { Code::InvalidTime } else { Code::InvalidCommand };
    Rejection::new(code, format!("{ty}: {msg} (see docs/commands.md#{ty})"))
}

/// Whether `line` is one syntactically valid JSON object, whatever its numbers' sizes.
fn well_formed_object(line: &str) -> bool {
    line.trim_start().starts_with('{') && serde_json::from_str::<IgnoredAny>(line).is_ok()
}

#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(rename = "type", borrow, default)]
    ty: Option<std::borrow::Cow<'a, str>>,
}

/// The type when the line starts `{"type":"…"` — how every producer writes it — so the
/// line is parsed once instead of twice. Anything else takes the general path.
fn leading_type(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("{\"type\":\"")?;
    let ty = &rest[..rest.find('"')?];
    (!ty.contains('\\')).then_some(ty)
}

/// The longest line of the command stream: 1 MiB, not counting its newline. A shell reads
/// at most this much of a line before judging it, so one endless line cannot exhaust
/// memory (docs/commands.md#limits).
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The rejection of a line longer than [`MAX_LINE_BYTES`].
pub fn line_too_long() -> Rejection {
    Rejection::new(
        Code::LineTooLong,
        format!(
            "the line is longer than {MAX_LINE_BYTES} bytes (1 MiB) and was skipped unread; \
             send each command as one line of at most {MAX_LINE_BYTES} bytes"
        ),
    )
}

/// The rejection of a line that is not UTF-8; `valid_up_to` is the offset of the first bad byte.
pub fn not_utf8(valid_up_to: usize) -> Rejection {
    Rejection::new(
        Code::InvalidJson,
        format!(
            "the line is not UTF-8 (invalid byte at offset {valid_up_to}); \
             each line must be one JSON object in UTF-8 with a `type`"
        ),
    )
}

/// Decodes one line of the command stream.
pub fn parse_line(line: &str) -> Result<Command, Rejection> {
    if line.len() > MAX_LINE_BYTES {
        return Err(line_too_long());
    }
    if let Some(ty) = leading_type(line) {
        return decode_typed(ty, line);
    }
    let probe: Probe<'_> = serde_json::from_str(line).map_err(|e| {
        Rejection::new(
            Code::InvalidJson,
            format!("not a JSON object: {e}; each line must be one JSON object with a `type`"),
        )
    })?;
    match probe.ty {
        Some(ty) => decode_typed(&ty, line),
        None => Err(Rejection::new(
            Code::UnknownCommand,
            format!("the object has no `type`; expected one of: {}", COMMAND_TYPES.join(", ")),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_an_order() {
        let c = parse_line(r#"{"type":"order_paid","order":"o1","user":"u1","merchant":"m1","channel":"live","session":"s1","lines":[{"sku":"k","qty":2,"price":100,"paid":180}],"at":"2021-11-11T20:00:00+08:00"}"#).unwrap();
        match c {
            Command::OrderPaid(o) => {
                assert_eq!(o.lines[0].paid, 180);
                assert_eq!(o.channel, Channel::Live);
                assert_eq!(o.session.as_deref(), Some("s1"));
            }
            other => panic!("decoded {other:?}"),
        }
    }

    #[test]
    fn names_the_problem() {
        assert_eq!(parse_line("{").unwrap_err().code, Code::InvalidJson);
        // The fast path for a leading `type` still tells broken JSON from a bad command.
        assert_eq!(parse_line(r#"{"type":"refund","order":"#).unwrap_err().code, Code::InvalidJson);
        let junk_after = r#"{"type":"refund","order":"o","amount":1,"at":"2021-11-07T10:00:00+08:00"} x"#;
        assert_eq!(parse_line(junk_after).unwrap_err().code, Code::InvalidJson);
        assert_eq!(parse_line(r#"{"type":"refund","order":"o"}"#).unwrap_err().code, Code::InvalidCommand);
        assert_eq!(parse_line(r#"{"type":"nope","x":1}"#).unwrap_err().code, Code::UnknownCommand);
        assert_eq!(parse_line("[1]").unwrap_err().code, Code::InvalidJson);
        assert_eq!(parse_line(r#"{"a":1}"#).unwrap_err().code, Code::UnknownCommand);
        assert_eq!(parse_line(r#"{"type":"nope"}"#).unwrap_err().code, Code::UnknownCommand);
        let e = parse_line(r#"{"type":"register_provider","provider":"p"}"#).unwrap_err();
        assert_eq!(e.code, Code::InvalidCommand);
        assert!(e.message.contains("name"), "{}", e.message);
        let e = parse_line(r#"{"type":"register_provider","provider":"p","name":"n","extra":1}"#).unwrap_err();
        assert_eq!(e.code, Code::InvalidCommand);
        let e = parse_line(r#"{"type":"live_end","session":"s","at":"2021-11-11 20:00"}"#).unwrap_err();
        assert_eq!(e.code, Code::InvalidTime);
        let e =
            parse_line(r#"{"type":"register_merchant","merchant":"m","name":"n","brand_tier":"gold","category":"c"}"#)
                .unwrap_err();
        assert!(e.message.contains("ska"), "{}", e.message);
    }

    /// Regression: `1e400` and integers beyond 64 bits were `invalid_json` although the line
    /// is a well-formed object; docs/commands.md says a number out of range is `invalid_command`.
    #[test]
    fn numbers_out_of_range_in_a_well_formed_object_are_invalid_command() {
        let huge = "9".repeat(400);
        let thirty = "123456789012345678901234567890";
        for n in ["1e400", "-1e400", huge.as_str(), thirty, "9223372036854775808"] {
            let typed_first = format!(r#"{{"type":"register_anchor","anchor":"a","name":"n","followers":{n}}}"#);
            let typed_last = format!(r#"{{"anchor":"a","name":"n","followers":{n},"type":"register_anchor"}}"#);
            for line in [typed_first, typed_last] {
                let e = parse_line(&line).unwrap_err();
                assert_eq!(e.code, Code::InvalidCommand, "{line}: {}", e.message);
                assert!(e.message.contains("see docs/commands.md#register_anchor"), "{}", e.message);
            }
        }
        // A float field takes 30 digits as a number; 1e400 is still out of its range.
        let score = r#"{"type":"set_experience_score","id":"x","participant":"m","score":1e400,"at":"2021-11-05T20:00:00+08:00"}"#;
        assert_eq!(parse_line(score).unwrap_err().code, Code::InvalidCommand);
        // Broken JSON around a huge number stays invalid_json.
        assert_eq!(parse_line(r#"{"type":"register_anchor","followers":1e400"#).unwrap_err().code, Code::InvalidJson);
        assert_eq!(parse_line(r#"{"type":"register_anchor","followers":1e400}}"#).unwrap_err().code, Code::InvalidJson);
    }

    #[test]
    fn a_line_over_the_limit_is_line_too_long() {
        let pad = "x".repeat(MAX_LINE_BYTES);
        let line = format!(r#"{{"type":"register_provider","provider":"p","name":"{pad}"}}"#);
        assert_eq!(parse_line(&line).unwrap_err().code, Code::LineTooLong);
    }
}
