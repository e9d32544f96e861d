//! `State::check` against states no engine built: real states (the examples, a simulated
//! 116 festival with its settlements) encoded as a snapshot holds them (postcard), then
//! mutated — a field's integer rewritten, bytes flipped, entries swapped or cut off —
//! and decoded. Whatever decodes is either refused by the check, or it loads and then
//! survives every view and a batch of further commands without a panic: "validate on
//! load" must leave nothing for later to trip over.

use dacu_core::command::Command;
use dacu_core::contest::view::{cursor_of, Page};
use dacu_core::festival::{self, Festival, Role};
use dacu_core::market::CartLine;
use dacu_core::promo::SplitMix64;
use dacu_core::state::State;
use dacu_core::{digest::digest, parse_line, review, settle, view, Engine, Ts};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// A postcard encoder that also records where each integer of the encoding lies and in
/// which field, so that a mutation can rewrite one field and keep the rest as it was.
mod enc {
    use serde::ser::{self, Serialize};

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Kind {
        U8,
        U32,
        U64,
        I32,
        I64,
    }

    /// One integer of the encoding: its bytes, type, value and (struct, field).
    #[derive(Debug, Clone, Copy)]
    pub struct Int {
        pub start: usize,
        pub end: usize,
        pub kind: Kind,
        pub value: i128,
        pub field: (&'static str, &'static str),
    }

    #[derive(Default)]
    pub struct Enc {
        pub out: Vec<u8>,
        pub ints: Vec<Int>,
        path: Vec<(&'static str, &'static str)>,
        structs: Vec<&'static str>,
    }

    #[derive(Debug)]
    pub struct Error(String);

    impl std::fmt::Display for Error {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }

    impl std::error::Error for Error {}

    impl ser::Error for Error {
        fn custom<T: std::fmt::Display>(msg: T) -> Error {
            Error(msg.to_string())
        }
    }

    fn varint(out: &mut Vec<u8>, mut v: u128) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    fn zigzag(v: i128) -> u128 {
        ((v << 1) ^ (v >> 127)) as u128
    }

    /// The bytes postcard writes for `value` as an integer of `kind` (wrapped to it).
    pub fn bytes(kind: Kind, value: i128) -> Vec<u8> {
        let mut out = Vec::new();
        match kind {
            Kind::U8 => out.push(value as u8),
            Kind::U32 => varint(&mut out, value as u32 as u128),
            Kind::U64 => varint(&mut out, value as u64 as u128),
            Kind::I32 => varint(&mut out, zigzag(value as i32 as i128)),
            Kind::I64 => varint(&mut out, zigzag(value as i64 as i128)),
        }
        out
    }

    pub fn encode<T: Serialize>(v: &T) -> Enc {
        let mut e = Enc::default();
        v.serialize(&mut e).expect("the state encodes");
        e
    }

    impl Enc {
        fn int(&mut self, kind: Kind, value: i128) {
            let start = self.out.len();
            self.out.extend(bytes(kind, value));
            let field = self.path.last().copied().unwrap_or(("", ""));
            self.ints.push(Int { start, end: self.out.len(), kind, value, field });
        }

        fn len(&mut self, n: Option<usize>) -> Result<(), Error> {
            let n = n.ok_or_else(|| Error("postcard needs lengths".into()))?;
            varint(&mut self.out, n as u128);
            Ok(())
        }

        fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Result<(), Error> {
            let s = self.structs.last().copied().unwrap_or("");
            self.path.push((s, key));
            let r = v.serialize(&mut *self);
            self.path.pop();
            r
        }
    }

    impl ser::Serializer for &mut Enc {
        type Ok = ();
        type Error = Error;
        type SerializeSeq = Self;
        type SerializeTuple = Self;
        type SerializeTupleStruct = Self;
        type SerializeTupleVariant = Self;
        type SerializeMap = Self;
        type SerializeStruct = Self;
        type SerializeStructVariant = Self;

        fn is_human_readable(&self) -> bool {
            false
        }
        fn serialize_bool(self, v: bool) -> Result<(), Error> {
            self.out.push(v as u8);
            Ok(())
        }
        fn serialize_i8(self, v: i8) -> Result<(), Error> {
            self.out.push(v as u8);
            Ok(())
        }
        fn serialize_i16(self, v: i16) -> Result<(), Error> {
            varint(&mut self.out, zigzag(v as i128));
            Ok(())
        }
        fn serialize_i32(self, v: i32) -> Result<(), Error> {
            self.int(Kind::I32, v as i128);
            Ok(())
        }
        fn serialize_i64(self, v: i64) -> Result<(), Error> {
            self.int(Kind::I64, v as i128);
            Ok(())
        }
        fn serialize_u8(self, v: u8) -> Result<(), Error> {
            self.int(Kind::U8, v as i128);
            Ok(())
        }
        fn serialize_u16(self, v: u16) -> Result<(), Error> {
            varint(&mut self.out, v as u128);
            Ok(())
        }
        fn serialize_u32(self, v: u32) -> Result<(), Error> {
            self.int(Kind::U32, v as i128);
            Ok(())
        }
        fn serialize_u64(self, v: u64) -> Result<(), Error> {
            self.int(Kind::U64, v as i128);
            Ok(())
        }
        fn serialize_f32(self, v: f32) -> Result<(), Error> {
            self.out.extend(v.to_le_bytes());
            Ok(())
        }
        fn serialize_f64(self, v: f64) -> Result<(), Error> {
            self.out.extend(v.to_le_bytes());
            Ok(())
        }
        fn serialize_char(self, v: char) -> Result<(), Error> {
            self.serialize_str(v.encode_utf8(&mut [0; 4]))
        }
        fn serialize_str(self, v: &str) -> Result<(), Error> {
            self.serialize_bytes(v.as_bytes())
        }
        fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
            varint(&mut self.out, v.len() as u128);
            self.out.extend_from_slice(v);
            Ok(())
        }
        fn serialize_none(self) -> Result<(), Error> {
            self.out.push(0);
            Ok(())
        }
        fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), Error> {
            self.out.push(1);
            v.serialize(self)
        }
        fn serialize_unit(self) -> Result<(), Error> {
            Ok(())
        }
        fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
            Ok(())
        }
        fn serialize_unit_variant(self, _: &'static str, i: u32, _: &'static str) -> Result<(), Error> {
            varint(&mut self.out, i as u128);
            Ok(())
        }
        fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> Result<(), Error> {
            v.serialize(self)
        }
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            name: &'static str,
            i: u32,
            variant: &'static str,
            v: &T,
        ) -> Result<(), Error> {
            varint(&mut self.out, i as u128);
            self.structs.push(name);
            let r = self.field(variant, v);
            self.structs.pop();
            r
        }
        fn serialize_seq(self, n: Option<usize>) -> Result<Self, Error> {
            self.len(n)?;
            Ok(self)
        }
        fn serialize_tuple(self, _: usize) -> Result<Self, Error> {
            Ok(self)
        }
        fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, Error> {
            Ok(self)
        }
        fn serialize_tuple_variant(self, name: &'static str, i: u32, _: &'static str, _: usize) -> Result<Self, Error> {
            varint(&mut self.out, i as u128);
            self.structs.push(name);
            Ok(self)
        }
        fn serialize_map(self, n: Option<usize>) -> Result<Self, Error> {
            self.len(n)?;
            Ok(self)
        }
        fn serialize_struct(self, name: &'static str, _: usize) -> Result<Self, Error> {
            self.structs.push(name);
            Ok(self)
        }
        fn serialize_struct_variant(
            self,
            name: &'static str,
            i: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self, Error> {
            varint(&mut self.out, i as u128);
            self.structs.push(name);
            Ok(self)
        }
    }

    impl ser::SerializeSeq for &mut Enc {
        type Ok = ();
        type Error = Error;
        fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
            v.serialize(&mut **self)
        }
        fn end(self) -> Result<(), Error> {
            Ok(())
        }
    }

    impl ser::SerializeTuple for &mut Enc {
        type Ok = ();
        type Error = Error;
        fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
            v.serialize(&mut **self)
        }
        fn end(self) -> Result<(), Error> {
            Ok(())
        }
    }

    impl ser::SerializeTupleStruct for &mut Enc {
        type Ok = ();
        type Error = Error;
        fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
            v.serialize(&mut **self)
        }
        fn end(self) -> Result<(), Error> {
            Ok(())
        }
    }

    impl ser::SerializeTupleVariant for &mut Enc {
        type Ok = ();
        type Error = Error;
        fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
            self.field("0", v)
        }
        fn end(self) -> Result<(), Error> {
            self.structs.pop();
            Ok(())
        }
    }

    impl ser::SerializeMap for &mut Enc {
        type Ok = ();
        type Error = Error;
        fn serialize_key<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
            v.serialize(&mut **self)
        }
        fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
            v.serialize(&mut **self)
        }
        fn end(self) -> Result<(), Error> {
            Ok(())
        }
    }

    impl ser::SerializeStruct for &mut Enc {
        type Ok = ();
        type Error = Error;
        fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Result<(), Error> {
            self.field(key, v)
        }
        fn end(self) -> Result<(), Error> {
            self.structs.pop();
            Ok(())
        }
    }

    impl ser::SerializeStructVariant for &mut Enc {
        type Ok = ();
        type Error = Error;
        fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Result<(), Error> {
            self.field(key, v)
        }
        fn end(self) -> Result<(), Error> {
            self.structs.pop();
            Ok(())
        }
    }
}

fn root(path: &str) -> String {
    std::fs::read_to_string(format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))).expect(path)
}

fn festival(file: &str) -> Arc<Festival> {
    Arc::new(festival::parse(&root(&format!("festivals/{file}"))).expect("a valid festival"))
}

/// The commands of a JSONL text. A red packet without a secret gets one, as `dacu ingest`
/// gives it.
fn commands(text: &str) -> Vec<Command> {
    let secret = r#"{"type":"create_red_packet","secret":"00112233445566778899aabbccddeeff","#;
    let with_secret = |l: &str| {
        if l.contains("create_red_packet") && !l.contains("\"secret\"") && !l.contains("\"seed\"") {
            l.replacen(r#"{"type":"create_red_packet","#, secret, 1)
        } else {
            l.to_string()
        }
    };
    text.lines().filter_map(|l| parse_line(&with_secret(l)).ok()).collect()
}

/// Executes every command; rejections are part of the workload.
fn run(e: &mut Engine, cmds: &[Command]) {
    let mut out = Vec::new();
    for c in cmds {
        out.clear();
        let _ = e.execute(c, &mut out);
    }
}

/// A real state to mutate, with the commands that follow it.
struct Base {
    name: &'static str,
    festival: Arc<Festival>,
    state: State,
    more: Vec<Command>,
}

/// A state of `festival` after `lines`; `later` and what the state suggests
/// ([`follow_ups`]) run after it.
fn base(name: &'static str, file: &str, lines: &[Command], later: &[Command]) -> Base {
    let f = festival(file);
    let mut e = Engine::new(f.clone());
    run(&mut e, lines);
    let mut more = later.to_vec();
    more.extend(follow_ups(&e));
    // As a snapshot holds it: without what loading rebuilds (the ordered boards).
    let state = postcard::from_bytes(&postcard::to_allocvec(e.state()).expect("encodes")).expect("decodes");
    Base { name, festival: f, state, more }
}

fn at(t: Ts) -> String {
    t.to_rfc3339()
}

fn cmd(json: String) -> Command {
    parse_line(&json).unwrap_or_else(|r| panic!("{json}: {r}"))
}

/// Commands that reach into what the state holds: refunds of its orders, new orders of
/// its merchants in its sessions, claims, grabs, joins, payments, a cart over its
/// promotions, contest inputs, then a tick that fires every timer and settlements.
fn follow_ups(e: &Engine) -> Vec<Command> {
    let st = e.state();
    if st.users.is_empty() {
        return Vec::new();
    }
    let g = Gen { st, t: at(e.festival().end().plus_ms(-3_600_000)) };
    let mut v = g.sales();
    v.extend(g.rooms());
    v.extend(g.promotions());
    v.extend(g.checkouts());
    v.extend(g.contests());
    let end = e.festival().end();
    v.push(format!(r#"{{"type":"tick","id":"chk-t","at":"{}"}}"#, at(end.plus_ms(-1))));
    v.push(format!(r#"{{"type":"settle","id":"chk-s1","at":"{}"}}"#, at(end)));
    let first = g.orders().first().copied().unwrap_or("none");
    v.push(format!(r#"{{"type":"refund","order":"{first}","amount":1,"refund_id":"chk-late","at":"{}"}}"#, g.t));
    v.push(format!(r#"{{"type":"settle","id":"chk-s2","at":"{}"}}"#, at(end.plus_ms(86_400_000))));
    v.into_iter().map(cmd).collect()
}

/// Writes [`follow_ups`] at time `t`, an hour before the festival ends.
struct Gen<'a> {
    st: &'a State,
    t: String,
}

impl Gen<'_> {
    fn user(&self, i: usize) -> &str {
        self.st.users.name((i % self.st.users.len()) as u32)
    }

    fn orders(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.st.orders.keys().map(|k| &**k).collect();
        v.sort_unstable();
        v
    }

    fn open_sessions(&self) -> impl Iterator<Item = (usize, &str)> + '_ {
        let open = self.st.sessions.iter().enumerate().filter(|(_, s)| s.end.is_none());
        open.map(|(i, _)| (i, self.st.session_ids.name(i as u32)))
    }

    /// Refunds of its orders, new orders of its merchants on the shelf and in its rooms.
    fn sales(&self) -> Vec<String> {
        let (st, t) = (self.st, &self.t);
        let mut v = Vec::new();
        for (i, o) in self.orders().iter().take(12).enumerate() {
            let amount = 1 + i;
            v.push(format!(r#"{{"type":"refund","order":"{o}","amount":{amount},"refund_id":"chk-r{i}","at":"{t}"}}"#));
        }
        for i in 0..st.merchants.len().min(6) {
            let m = st.merchant_ids.name(i as u32);
            let lines = format!(r#"[{{"sku":"chk-{i}","qty":2,"price":5000,"paid":9000}}]"#);
            let u = self.user(i);
            v.push(format!(r#"{{"type":"order_paid","order":"chk-o{i}","user":"{u}","merchant":"{m}","channel":"shelf","lines":{lines},"at":"{t}"}}"#));
            for (s, sid) in self.open_sessions().take(3) {
                let u = self.user(i + s);
                v.push(format!(r#"{{"type":"order_paid","order":"chk-o{i}-{s}","user":"{u}","merchant":"{m}","channel":"live","session":"{sid}","lines":{lines},"at":"{t}"}}"#));
            }
        }
        v
    }

    /// Viewers entering, interacting and leaving its open rooms.
    fn rooms(&self) -> Vec<String> {
        let t = &self.t;
        let mut v = Vec::new();
        for (s, sid) in self.open_sessions().take(4) {
            for u in [self.user(s), self.user(s + 1)] {
                v.push(format!(r#"{{"type":"viewer_enter","session":"{sid}","user":"{u}","at":"{t}"}}"#));
                v.push(format!(r#"{{"type":"interaction","session":"{sid}","user":"{u}","kind":"like","at":"{t}"}}"#));
            }
            if let Some(&p) = self.st.sessions[s].present.keys().next() {
                let u = self.st.users.name(p);
                v.push(format!(r#"{{"type":"viewer_leave","session":"{sid}","user":"{u}","at":"{t}"}}"#));
            }
        }
        v
    }

    /// Claims of its coupons, grabs of its red packets, joins of its groups, new groups.
    fn promotions(&self) -> Vec<String> {
        let (st, t, m) = (self.st, &self.t, &self.st.market);
        let mut v = Vec::new();
        for i in 0..m.coupons.len().min(6) {
            let (c, u) = (m.coupon_ids.name(i as u32), self.user(i));
            v.push(format!(r#"{{"type":"claim_coupon","id":"chk-k{i}","coupon":"{c}","user":"{u}","at":"{t}"}}"#));
        }
        for (i, pk) in m.packets.iter().enumerate().take(6) {
            let p = m.packet_ids.name(i as u32);
            for (j, u) in pk.said.iter().copied().chain(pk.grabbers.iter()).take(3).enumerate() {
                let u = st.users.name(u);
                v.push(format!(
                    r#"{{"type":"grab_red_packet","id":"chk-g{i}-{j}","packet":"{p}","user":"{u}","at":"{t}"}}"#
                ));
            }
        }
        for i in 0..m.groups.len().min(6) {
            let g = m.group_ids.name(i as u32);
            v.push(format!(r#"{{"type":"join_group","id":"chk-j{i}","group":"{g}","user":"chk-joiner{i}","order":"chk-go{i}","at":"{t}"}}"#));
        }
        for i in 0..m.deals.len().min(3) {
            let (d, u) = (m.deal_ids.name(i as u32), self.user(i));
            v.push(format!(r#"{{"type":"open_group","id":"chk-og{i}","group":"chk-G{i}","deal":"{d}","user":"{u}","order":"chk-ogo{i}","at":"{t}"}}"#));
        }
        v
    }

    /// New checkouts of its wallets' users over [`cart`], some paid; its own checkouts
    /// paid or cancelled, and a refund of each.
    fn checkouts(&self) -> Vec<String> {
        let (st, t, m) = (self.st, &self.t, &self.st.market);
        let lines = serde_json::to_string(&cart(st)).expect("a cart");
        let mut users: Vec<u32> = m.wallets.keys().copied().collect();
        users.sort_unstable();
        let mut v = Vec::new();
        for (i, &u) in users.iter().take(4).enumerate() {
            let u = st.users.name(u);
            v.push(format!(r#"{{"type":"checkout","id":"chk-x{i}","checkout":"chk-ck{i}","user":"{u}","channel":"shelf","lines":{lines},"at":"{t}"}}"#));
            if i % 2 == 0 {
                v.push(format!(r#"{{"type":"pay","id":"chk-p{i}","checkout":"chk-ck{i}","at":"{t}"}}"#));
            }
        }
        for (i, co) in m.checkouts.iter().enumerate().take(6) {
            let c = m.checkout_ids.name(i as u32);
            let kind = if i % 2 == 0 { "pay" } else { "cancel" };
            v.push(format!(r#"{{"type":"{kind}","id":"chk-pc{i}","checkout":"{c}","at":"{t}"}}"#));
            let order = format!("{c}/{}", co.quote.lines[0].merchant);
            v.push(format!(r#"{{"type":"refund","order":"{order}","amount":1,"at":"{t}"}}"#));
        }
        v
    }

    /// Follows, experience scores, violations and loaded baselines.
    fn contests(&self) -> Vec<String> {
        let (st, t) = (self.st, &self.t);
        let mut v = Vec::new();
        for i in 0..st.anchors.len().min(3) {
            let (a, u) = (st.anchor_ids.name(i as u32), self.user(i));
            v.push(format!(r#"{{"type":"follow","id":"chk-f{i}","anchor":"{a}","user":"{u}","at":"{t}"}}"#));
            v.push(format!(r#"{{"type":"set_experience_score","id":"chk-es{i}","participant":"{a}","role":"anchor","score":4.5,"at":"{t}"}}"#));
            v.push(format!(r#"{{"type":"record_violation","id":"chk-v{i}","violation":"chk-v{i}","participant":"{a}","role":"anchor","reason":"test","at":"{t}"}}"#));
        }
        for (i, d) in st.contests.defs.iter().filter(|d| d.growth.is_some()).enumerate().take(2) {
            for p in 0..st.providers.len().min(2) {
                let p = st.provider_ids.name(p as u32);
                v.push(format!(r#"{{"type":"load_baseline","id":"chk-lb{i}-{p}","contest":"{}","participant":"{p}","baseline_fen":500000,"at":"{t}"}}"#, d.id));
            }
        }
        v
    }
}

/// A cart over the state's promotions: a line of every SKU with a price cut, and one of
/// each merchant with a 满减 or a store coupon (at most 16 merchants, 100 lines).
fn cart(st: &State) -> Vec<CartLine> {
    let m = &st.market;
    let mut lines: Vec<(u32, String)> = m.cuts.iter().map(|c| (c.merchant, c.sku.clone())).collect();
    lines.extend(m.fullcuts.iter().filter_map(|f| f.merchant).map(|mi| (mi, "chk-any".to_string())));
    for c in &m.coupons {
        if let dacu_core::market::CouponScope::Store(mi) | dacu_core::market::CouponScope::Skus(mi, _) = &c.scope {
            lines.push((*mi, "chk-any".into()));
        }
    }
    lines.push((0, "chk-any".into()));
    lines.sort();
    lines.dedup();
    let mut merchants: Vec<u32> = lines.iter().map(|l| l.0).collect();
    merchants.dedup();
    merchants.truncate(16);
    lines.retain(|l| merchants.contains(&l.0) && (l.0 as usize) < st.merchants.len());
    lines.truncate(100);
    let name = |mi: u32| st.merchant_ids.name(mi).to_string();
    lines.into_iter().map(|(mi, sku)| CartLine { merchant: name(mi), sku, qty: 2, price: 15_000 }).collect()
}

/// How many entities of each table the views read (the rest are like them).
const VIEW_CAP: usize = 40;

fn name_at(ids: &dacu_core::state::Interner, i: usize) -> &str {
    ids.name(i as u32)
}

/// Every view the binary serves, over (up to [`VIEW_CAP`] of) every table.
fn views(e: &Engine) {
    let (f, st) = (e.festival(), e.state());
    let _ = digest(st);
    let _ = view::report(f, st);
    for i in 0..st.merchants.len().min(VIEW_CAP) {
        let _ = view::merchant(f, st, name_at(&st.merchant_ids, i));
    }
    for i in 0..st.anchors.len().min(VIEW_CAP) {
        let _ = view::anchor(f, st, name_at(&st.anchor_ids, i));
        let _ = st.contests.progress(f, st, (Role::Anchor, i as u32));
    }
    for i in 0..st.providers.len().min(VIEW_CAP) {
        let _ = view::provider(f, st, name_at(&st.provider_ids, i));
        let _ = st.contests.progress(f, st, (Role::Provider, i as u32));
    }
    for i in 0..st.merchants.len().min(VIEW_CAP) {
        let _ = st.contests.progress(f, st, (Role::Merchant, i as u32));
    }
    for i in 0..st.sessions.len().min(VIEW_CAP) {
        let id = name_at(&st.session_ids, i);
        let _ = view::session(f, st, id);
        let _ = review::review(st, id, review::TOP_PRODUCTS);
    }
    for d in st.by_day.keys() {
        let _ = view::day(st, *d);
    }
    for i in 0..st.traffic.contracts.len().min(VIEW_CAP) {
        let _ = dacu_core::traffic::view::contract(f, st, name_at(&st.traffic.ids, i));
    }
    market_views(e);
    boards(e);
    for id in st.settlement.payouts.keys() {
        let _ = settle::view::explain(f, st, id, 5);
    }
    // `dacu ledger` and `dacu settle` show a run's lines.
    for r in &st.settlement.runs {
        let _ = &st.settlement.lines[r.first_line as usize..][..r.lines as usize];
    }
}

fn market_views(e: &Engine) {
    use dacu_core::market::view as mv;
    let st = e.state();
    let m = &st.market;
    let mut users: Vec<u32> = m.wallets.keys().copied().collect();
    users.sort_unstable();
    let cart = cart(st);
    let at = e.festival().end().plus_ms(-3_600_000);
    for &u in users.iter().take(VIEW_CAP) {
        let _ = mv::wallet(st, st.users.name(u));
        if !cart.is_empty() {
            let _ = e.quote(st.users.name(u), &cart, at);
        }
    }
    let show = |n: usize, ids: &dacu_core::state::Interner, f: fn(&State, &str) -> Option<serde_json::Value>| {
        for i in 0..n.min(VIEW_CAP) {
            let _ = f(st, name_at(ids, i));
        }
    };
    show(m.coupons.len(), &m.coupon_ids, mv::coupon);
    show(m.packets.len(), &m.packet_ids, mv::packet);
    show(m.groups.len(), &m.group_ids, mv::group);
    show(m.lotteries.len(), &m.lottery_ids, mv::lottery);
    show(m.checkouts.len(), &m.checkout_ids, mv::checkout);
    let _ = mv::summary(st);
}

/// Every board of every race, the way `dacu leaderboard` and the demo page them.
fn boards(e: &Engine) {
    let (f, st) = (e.festival(), e.state());
    let c = &st.contests;
    for ri in 0..c.defs.len() {
        let _ = c.find_board(ri, None, None).map(|k| c.page(f, st, ri, k, &Page::Top(3)));
        let _ = c.default_day(ri);
        for (key, t) in &c.races[ri].boards {
            let _ = c.page(f, st, ri, *key, &Page::Top(20));
            let _ = c.page(f, st, ri, *key, &Page::Top(usize::MAX));
            let first = t.board.iter().next();
            if let Some(k) = first {
                let _ = c.page(f, st, ri, *key, &Page::Around(k.id.to_string(), 2));
                let _ = c.page(f, st, ri, *key, &Page::After(cursor_of(k), 5));
                let _ = c.page(f, st, ri, *key, &Page::Owners(vec![k.id.to_string(), "chk-nobody".into()]));
            }
            for &p in t.recs.keys().take(VIEW_CAP) {
                if c.defs[ri].kind == dacu_core::contest::RaceKind::Challenge {
                    let _ = c.challenge(f, st, ri, p);
                }
                let _ = c.gate_failure(st, ri, p);
            }
        }
    }
}

/// Loads a state that passed its checks and uses it: views, further commands, views.
fn exercise(f: &Arc<Festival>, st: State, more: &[Command]) {
    let mut e = Engine::with_state(f.clone(), st).expect("a checked state loads");
    views(&e);
    run(&mut e, more);
    let _ = digest(e.state());
    let _ = view::report(e.festival(), e.state());
    boards(&e);
}

/// The outcome of one mutated state.
#[derive(Debug, Default)]
struct Tally {
    undecodable: u64,
    refused: u64,
    passed: u64,
    panics: Vec<String>,
}

/// Decodes `bytes`; a state that decodes must be refused or survive [`exercise`].
fn judge(b: &Base, bytes: &[u8], what: &dyn Fn() -> String, tally: &mut Tally) {
    let Ok(st) = postcard::from_bytes::<State>(bytes) else {
        tally.undecodable += 1;
        return;
    };
    judge_state(b, st, what, tally);
}

fn judge_state(b: &Base, st: State, what: &dyn Fn() -> String, tally: &mut Tally) {
    let checked = catch_unwind(AssertUnwindSafe(|| st.check(&b.festival)));
    match checked {
        Err(_) => tally.panics.push(format!("{}: {}: `check` panicked", b.name, what())),
        Ok(Err(_)) => tally.refused += 1,
        Ok(Ok(())) => {
            tally.passed += 1;
            if catch_unwind(AssertUnwindSafe(|| exercise(&b.festival, st, &b.more))).is_err() {
                tally.panics.push(format!("{}: {}: passed `check`, then panicked", b.name, what()));
            }
        }
    }
}

/// The real states: the examples (a prefix of the marketing one with a reserved checkout,
/// open groups and an unexpired red packet; the contests settled twice, with clawbacks),
/// and a small simulated 116 festival, midway and after its ticks and settlements.
fn bases() -> &'static [Base] {
    static BASES: std::sync::OnceLock<Vec<Base>> = std::sync::OnceLock::new();
    BASES.get_or_init(|| {
        let ex = |f: &str| commands(&root(&format!("examples/{f}")));
        let settle = |id: &str, day: &str| cmd(format!(r#"{{"type":"settle","id":"{id}","at":"{day}T00:00:00+08:00"}}"#));
        let marketing = ex("marketing-mini.jsonl");
        let reserve = cmd(r#"{"type":"checkout","id":"x-9","checkout":"ck9","user":"u1","channel":"shelf","lines":[{"merchant":"m1","sku":"a","qty":1,"price":25000},{"merchant":"m2","sku":"rice","qty":2,"price":10000}],"at":"2021-11-05T20:20:00+08:00"}"#.into());
        let mut open: Vec<Command> = marketing[..25].to_vec();
        open.push(reserve);
        let mut contests = ex("contests-mini.jsonl");
        contests.push(settle("st-1", "2021-11-06"));
        contests.push(settle("st-2", "2021-11-08"));
        contests.extend(ex("settle-mini-late.jsonl"));
        contests.push(settle("st-3", "2021-11-09"));
        let f116 = festival("kuaishou-116-2021.toml");
        let mut sim = Vec::new();
        dacu_sim::simulate(&f116, dacu_sim::Scale::Commands(6_000), 116, &mut sim).expect("simulated");
        let sim = commands(std::str::from_utf8(&sim).expect("utf-8"));
        // Its own lines again (resent: recognised, or refused as duplicates), then the rest.
        let again = |lines: &[Command], rest: &[Command]| [lines, rest].concat();
        let mid = sim.len() * 3 / 5;
        let (sim_open, sim_rest) = (&sim[..mid], &sim[mid..]);
        vec![
            base("example", "example-mini.toml", &ex("example-mini.jsonl"), &ex("example-mini.jsonl")),
            base("marketing-open", "example-mini.toml", &open, &again(&open, &marketing[25..])),
            base("marketing", "example-mini.toml", &marketing, &marketing),
            base("review", "example-mini.toml", &ex("review-mini.jsonl"), &ex("review-mini.jsonl")),
            base("contests-settled", "example-mini.toml", &contests, &again(&contests, &ex("contests-mini-late.jsonl"))),
            base("sim-116-open", "kuaishou-116-2021.toml", sim_open, &sim_rest[..sim_rest.len().min(400)]),
            base("sim-116", "kuaishou-116-2021.toml", &sim, &sim[sim.len() - 300..]),
        ]
    })
}

fn below(r: &mut SplitMix64, n: usize) -> usize {
    (r.next_u64() % n.max(1) as u64) as usize
}

/// A new value for an integer of `kind` that was `v`: next to it, far from it, or at the
/// type's edges.
fn new_value(kind: enc::Kind, v: i128, r: &mut SplitMix64) -> i128 {
    let noise = (r.next_u64() % 1000) as i128;
    let edge = match kind {
        enc::Kind::U8 => [u8::MAX as i128, 4, 0, 128],
        enc::Kind::U32 => [u32::MAX as i128, 1 << 20, 0, 65],
        enc::Kind::U64 => [u64::MAX as i128, 1 << 60, 0, 1 << 40],
        enc::Kind::I32 => [i32::MAX as i128, i32::MIN as i128, 0, -1],
        enc::Kind::I64 => [i64::MAX as i128, i64::MIN as i128, 1 << 62, -(1 << 50)],
    };
    match below(r, 8) {
        0 => v + 1,
        1 => v - 1,
        2 => v * 2 + 1,
        3 => -v,
        4 => v + noise,
        5 => noise,
        _ => edge[below(r, 4)],
    }
}

/// Rewrites one integer of the encoding (half the time a u32: most indexes are).
fn rewrite(b: &Base, e: &enc::Enc, r: &mut SplitMix64, tally: &mut Tally) {
    let pick = if below(r, 2) == 0 {
        let u32s: Vec<&enc::Int> = e.ints.iter().filter(|i| i.kind == enc::Kind::U32).collect();
        *u32s[below(r, u32s.len())]
    } else {
        e.ints[below(r, e.ints.len())]
    };
    let mut value = new_value(pick.kind, pick.value, r);
    if pick.field == ("Session", "curve") {
        // Decoding a viewer curve allocates a pointer per hour up to its last minute: a
        // minute near 2^32 costs half a gigabyte before any check can look at it.
        value = value.rem_euclid(1 << 24);
    }
    let mut bytes = e.out[..pick.start].to_vec();
    bytes.extend(enc::bytes(pick.kind, value));
    bytes.extend_from_slice(&e.out[pick.end..]);
    let what = || format!("{}.{} ({:?}) {} → {value}", pick.field.0, pick.field.1, pick.kind, pick.value);
    judge(b, &bytes, &what, tally);
}

/// Flips bits or overwrites bytes at random places of the encoding.
fn flip(b: &Base, e: &enc::Enc, r: &mut SplitMix64, tally: &mut Tally) {
    let mut bytes = e.out.clone();
    let mut done = Vec::new();
    for _ in 0..1 + below(r, 3) {
        let at = below(r, bytes.len());
        if below(r, 2) == 0 {
            bytes[at] ^= 1 << below(r, 8);
        } else {
            bytes[at] = r.next_u64() as u8;
        }
        done.push(at);
    }
    judge(b, &bytes, &|| format!("bytes {done:?} changed"), tally);
}

fn swap<T>(v: &mut [T], r: &mut SplitMix64) -> bool {
    if v.len() < 2 {
        return false;
    }
    let (i, j) = (below(r, v.len()), below(r, v.len()));
    v.swap(i, j);
    i != j
}

fn pop<T>(v: &mut Vec<T>) -> bool {
    v.pop().is_some()
}

/// The `i`-th value of a map (in its order), to mutate in place.
fn nth<'a, T: 'a>(mut it: impl Iterator<Item = &'a mut T>, r: &mut SplitMix64, len: usize) -> Option<&'a mut T> {
    it.nth(below(r, len))
}

type Mutation = (&'static str, fn(&mut State, &mut SplitMix64) -> bool);

/// Structured mutations: entries swapped (every index stays in range, the meaning does
/// not), lists cut short, maps emptied or their values exchanged.
const MUTATIONS: &[Mutation] = &[
    ("swap merchants", |s, r| swap(&mut s.merchants, r)),
    ("swap anchors", |s, r| swap(&mut s.anchors, r)),
    ("swap sessions", |s, r| swap(&mut s.sessions, r)),
    ("swap coupons", |s, r| swap(&mut s.market.coupons, r)),
    ("swap 满减", |s, r| swap(&mut s.market.fullcuts, r)),
    ("swap price cuts", |s, r| swap(&mut s.market.cuts, r)),
    ("swap group deals", |s, r| swap(&mut s.market.deals, r)),
    ("swap groups", |s, r| swap(&mut s.market.groups, r)),
    ("swap red packets", |s, r| swap(&mut s.market.packets, r)),
    ("swap lotteries", |s, r| swap(&mut s.market.lotteries, r)),
    ("swap checkouts", |s, r| swap(&mut s.market.checkouts, r)),
    ("swap races", |s, r| swap(&mut s.contests.races, r)),
    ("swap merchant categories", |s, r| swap(&mut s.contests.merchant_category, r)),
    ("swap ledger lines", |s, r| swap(&mut s.settlement.lines, r)),
    ("swap settlement runs", |s, r| swap(&mut s.settlement.runs, r)),
    ("swap anchor tier totals", |s, r| swap(&mut s.by_anchor_tier, r)),
    ("pop merchants", |s, _| pop(&mut s.merchants)),
    ("pop coupons", |s, _| pop(&mut s.market.coupons)),
    ("pop races", |s, _| pop(&mut s.contests.races)),
    ("pop merchant categories", |s, _| pop(&mut s.contests.merchant_category)),
    ("pop ledger lines", |s, _| pop(&mut s.settlement.lines)),
    ("pop settlement runs", |s, _| pop(&mut s.settlement.runs)),
    ("pop cross-store 满减", |s, _| pop(&mut s.market.cross_fullcuts)),
    ("pop a packet's share", |s, r| {
        let n = s.market.packets.len();
        nth(s.market.packets.iter_mut(), r, n).is_some_and(|p| pop(&mut p.shares))
    }),
    ("swap a packet's shares", |s, r| {
        let n = s.market.packets.len();
        nth(s.market.packets.iter_mut(), r, n).is_some_and(|p| swap(&mut p.shares, r))
    }),
    ("pop a group's member", |s, r| {
        let n = s.market.groups.len();
        nth(s.market.groups.iter_mut(), r, n).is_some_and(|g| pop(&mut g.members))
    }),
    ("pop a checkout's discount", |s, r| {
        let n = s.market.checkouts.len();
        nth(s.market.checkouts.iter_mut(), r, n).is_some_and(|c| pop(&mut c.quote.discounts))
    }),
    ("pop a checkout's returned", |s, r| {
        let n = s.market.checkouts.len();
        nth(s.market.checkouts.iter_mut(), r, n).is_some_and(|c| pop(&mut c.returned))
    }),
    ("pop a checkout's line", |s, r| {
        let n = s.market.checkouts.len();
        nth(s.market.checkouts.iter_mut(), r, n).is_some_and(|c| pop(&mut c.quote.lines))
    }),
    ("pop a discount's line share", |s, r| {
        let n = s.market.checkouts.len();
        let Some(c) = nth(s.market.checkouts.iter_mut(), r, n) else { return false };
        c.quote.discounts.first_mut().is_some_and(|d| pop(&mut d.lines))
    }),
    ("pop a wallet's coupon", |s, r| {
        let n = s.market.wallets.len();
        nth(s.market.wallets.values_mut(), r, n).is_some_and(|w| w.coupons.pop().is_some())
    }),
    ("pop a wallet's red-packet money", |s, r| {
        let n = s.market.wallets.len();
        nth(s.market.wallets.values_mut(), r, n).is_some_and(|w| w.allowances.pop().is_some())
    }),
    ("swap a wallet's coupons", |s, r| {
        let n = s.market.wallets.len();
        nth(s.market.wallets.values_mut(), r, n).is_some_and(|w| swap(&mut w.coupons, r))
    }),
    ("exchange two wallets", |s, r| {
        let mut ws: Vec<&mut dacu_core::market::Wallet> = s.market.wallets.values_mut().collect();
        if ws.len() < 2 {
            return false;
        }
        let (i, j) = (below(r, ws.len()), below(r, ws.len()));
        if i == j {
            return false;
        }
        let (lo, hi) = (i.min(j), i.max(j));
        let (a, b) = ws.split_at_mut(hi);
        std::mem::swap(&mut *a[lo], &mut *b[0]);
        true
    }),
    ("exchange two orders", |s, r| {
        let mut os: Vec<&mut dacu_core::state::Order> = s.orders.values_mut().collect();
        if os.len() < 2 {
            return false;
        }
        let (i, j) = (below(r, os.len()), below(r, os.len()));
        if i == j {
            return false;
        }
        let (lo, hi) = (i.min(j), i.max(j));
        let (a, b) = os.split_at_mut(hi);
        std::mem::swap(&mut *a[lo], &mut *b[0]);
        true
    }),
    ("pop a payout's line", |s, r| {
        let n = s.settlement.payouts.len();
        nth(s.settlement.payouts.values_mut(), r, n).is_some_and(|p| pop(&mut p.lines))
    }),
    ("clear the claims", |s, _| !std::mem::take(&mut s.market.claims).is_empty()),
    ("clear orders of checkouts", |s, _| !std::mem::take(&mut s.market.order_checkout).is_empty()),
    ("clear the closed boards", |s, _| !std::mem::take(&mut s.settlement.boards).is_empty()),
    ("clear the closed-by", |s, _| !std::mem::take(&mut s.settlement.closed_by).is_empty()),
    ("clear the passphrases", |s, _| !std::mem::take(&mut s.market.passphrases).is_empty()),
    ("clear the timers", |s, _| !std::mem::take(&mut s.market.timers).is_empty()),
    ("clear the wallets", |s, _| !std::mem::take(&mut s.market.wallets).is_empty()),
    ("clear the 满减 by merchant", |s, _| !std::mem::take(&mut s.market.fullcuts_by_merchant).is_empty()),
    ("clear a race's boards", |s, r| {
        let n = s.contests.races.len();
        nth(s.contests.races.iter_mut(), r, n).is_some_and(|x| !std::mem::take(&mut x.boards).is_empty())
    }),
    ("clear a race's records of who serves whom", |s, r| {
        let n = s.contests.races.len();
        nth(s.contests.races.iter_mut(), r, n).is_some_and(|x| !std::mem::take(&mut x.providers_of).is_empty())
    }),
    ("spoil a lottery's secret", |s, r| {
        let n = s.market.lotteries.len();
        nth(s.market.lotteries.iter_mut(), r, n).is_some_and(|l| {
            l.secret.push('x');
            true
        })
    }),
    ("rename a cart's merchant", |s, r| {
        let n = s.market.checkouts.len();
        nth(s.market.checkouts.iter_mut(), r, n).is_some_and(|c| {
            c.quote.lines[0].merchant += "-gone";
            true
        })
    }),
    ("rename a discount's promotion", |s, r| {
        let n = s.market.checkouts.len();
        let Some(c) = nth(s.market.checkouts.iter_mut(), r, n) else { return false };
        c.quote.discounts.first_mut().is_some_and(|d| {
            d.promo += "-gone";
            true
        })
    }),
    ("forget a discount's wallet entry", |s, r| {
        let n = s.market.checkouts.len();
        let Some(c) = nth(s.market.checkouts.iter_mut(), r, n) else { return false };
        c.quote.discounts.iter_mut().find(|d| d.held.is_some()).is_some_and(|d| d.held.take().is_some())
    }),
    ("rank or unrank a record", |s, r| {
        let n = s.contests.races.len();
        let Some(x) = nth(s.contests.races.iter_mut(), r, n) else { return false };
        let Some(t) = x.boards.values_mut().next() else { return false };
        let m = t.recs.len();
        nth(t.recs.values_mut(), r, m).is_some_and(|rec| {
            rec.ranked = !rec.ranked;
            true
        })
    }),
    ("start a session before the festival", |s, r| {
        let n = s.sessions.len();
        nth(s.sessions.iter_mut(), r, n).is_some_and(|x| {
            x.start = Ts(x.start.0 - 40 * 86_400_000);
            true
        })
    }),
    ("move a board to another day", |s, r| {
        let n = s.contests.races.len();
        let Some(x) = nth(s.contests.races.iter_mut(), r, n) else { return false };
        let Some(&k) = x.boards.keys().next() else { return false };
        let t = x.boards.remove(&k).expect("there");
        let day = k.0.map_or(dacu_core::Day(18_937), |d| d.next());
        x.boards.insert((Some(day), k.1), t);
        true
    }),
    ("swap traffic contracts", |s, r| swap(&mut s.traffic.contracts, r)),
    ("pop traffic contracts", |s, _| pop(&mut s.traffic.contracts)),
    ("pop a plan's entry", |s, _| s.traffic.plan.as_mut().is_some_and(|p| pop(&mut p.entries))),
    ("pop a plan's forecast correction", |s, _| s.traffic.plan.as_mut().is_some_and(|p| pop(&mut p.correction_ppb))),
    ("clear the node counts", |s, _| !std::mem::take(&mut s.traffic.node_served).is_empty()),
    ("clear the traffic slots seen", |s, _| !std::mem::take(&mut s.traffic.by_slot).is_empty()),
    ("forget that the file's contracts were made", |s, _| std::mem::replace(&mut s.traffic.file_contracts, false)),
    ("rename a traffic contract", |s, r| {
        let n = s.traffic.contracts.len();
        nth(s.traffic.contracts.iter_mut(), r, n).is_some_and(|c| {
            c.rec.id += "-gone";
            true
        })
    }),
    ("rename a plan entry's contract", |s, r| {
        let Some(p) = s.traffic.plan.as_mut() else { return false };
        let n = p.entries.len();
        nth(p.entries.iter_mut(), r, n).is_some_and(|e| {
            e.contract += "-gone";
            true
        })
    }),
    ("raise a traffic contract's priority", |s, r| {
        let n = s.traffic.contracts.len();
        nth(s.traffic.contracts.iter_mut(), r, n).is_some_and(|c| {
            c.rec.priority = 200;
            true
        })
    }),
    ("clear a traffic contract's days of delivery", |s, r| {
        let n = s.traffic.contracts.len();
        nth(s.traffic.contracts.iter_mut(), r, n).is_some_and(|c| !std::mem::take(&mut c.by_day).is_empty())
    }),
    ("reopen an ended traffic contract", |s, r| {
        let n = s.traffic.contracts.iter().filter(|c| c.ended.is_some()).count();
        nth(s.traffic.contracts.iter_mut().filter(|c| c.ended.is_some()), r, n)
            .is_some_and(|c| c.ended.take().is_some())
    }),
    ("forget an enrolment", |s, r| {
        let n = s.enrolments.len();
        nth(s.enrolments.values_mut(), r, n).is_some_and(|m| m.pop_first().is_some())
    }),
];

fn structured(b: &Base, r: &mut SplitMix64, tally: &mut Tally) {
    let (name, m) = MUTATIONS[below(r, MUTATIONS.len())];
    let mut st = b.state.clone();
    if m(&mut st, r) {
        judge_state(b, st, &|| name.to_string(), tally);
    }
}

#[test]
fn real_states_pass_their_checks_before_and_after_more_commands() {
    for b in bases() {
        let bytes = postcard::to_allocvec(&b.state).expect("encodes");
        assert_eq!(enc::encode(&b.state).out, bytes, "{}: the recording encoder writes postcard", b.name);
        b.state.check(&b.festival).unwrap_or_else(|e| panic!("{}: {e}", b.name));
        let mut e = Engine::with_state(b.festival.clone(), b.state.clone()).expect("loads");
        // Loaded, with its boards rebuilt, and after more commands.
        e.state().check(&b.festival).unwrap_or_else(|e| panic!("{} loaded: {e}", b.name));
        run(&mut e, &b.more);
        e.state().check(&b.festival).unwrap_or_else(|e| panic!("{} after more commands: {e}", b.name));
        views(&e);
    }
}

#[test]
fn mutated_states_are_refused_or_harmless() {
    let mut tally = Tally::default();
    for (n, b) in bases().iter().enumerate() {
        let e = enc::encode(&b.state);
        let mut r = SplitMix64(0x116 + n as u64);
        // The simulated states take longer to load and use: fewer of them.
        let k = if b.name.starts_with("sim") { 2 } else { 5 };
        for _ in 0..80 * k {
            rewrite(b, &e, &mut r, &mut tally);
        }
        for _ in 0..20 * k {
            flip(b, &e, &mut r, &mut tally);
        }
        for _ in 0..16 * k {
            structured(b, &mut r, &mut tally);
        }
    }
    eprintln!("{tally:?}");
    assert!(tally.panics.is_empty(), "{} panics:\n{}", tally.panics.len(), tally.panics.join("\n"));
    assert!(tally.refused > 0 && tally.passed > 0, "{tally:?}");
}

/// Every structured mutation once on every base, so that each meets the states that
/// have what it changes (the traffic book is the simulated festival's only).
#[test]
fn every_structured_mutation_is_refused_or_harmless() {
    let mut tally = Tally::default();
    for b in bases() {
        for (k, (name, m)) in MUTATIONS.iter().enumerate() {
            let mut st = b.state.clone();
            if m(&mut st, &mut SplitMix64(0x116 + k as u64)) {
                judge_state(b, st, &|| name.to_string(), &mut tally);
            }
        }
    }
    assert!(tally.panics.is_empty(), "{} panics:\n{}", tally.panics.len(), tally.panics.join("\n"));
    assert!(tally.refused > 0 && tally.passed > 0, "{tally:?}");
}

#[test]
fn a_snapshot_state_whose_order_names_a_missing_user_is_refused() {
    let b = &bases()[0];
    let mut st = b.state.clone();
    let users = st.users.len() as u32;
    st.orders.values_mut().next().expect("an order").user = users;
    let e = st.check(&b.festival).expect_err("refused");
    assert!(e.contains("user index"), "{e}");
}

#[test]
fn a_snapshot_state_whose_board_index_is_out_of_range_is_refused() {
    let b = bases().iter().find(|b| b.name == "sim-116").expect("the simulated festival");
    let ri = b
        .state
        .contests
        .races
        .iter()
        .position(|r| r.boards.keys().any(|k| k.1.is_some()))
        .expect("a board by category");
    // A board of a category that does not exist.
    let mut st = b.state.clone();
    let race = &mut st.contests.races[ri];
    let (&key, _) = race.boards.iter().find(|(k, _)| k.1.is_some()).expect("there");
    let t = race.boards.remove(&key).expect("there");
    race.boards.insert((key.0, Some(st.contests.categories.len() as u32)), t);
    let e = st.check(&b.festival).expect_err("refused");
    assert!(e.contains("category index"), "{e}");
    // A record of a participant that does not exist.
    let mut st = b.state.clone();
    let t = st.contests.races[ri].boards.values_mut().next().expect("a board");
    let (&p, _) = t.recs.iter().next().expect("a record");
    let rec = t.recs.remove(&p).expect("there");
    t.recs.insert(1_000_000, rec);
    let e = st.check(&b.festival).expect_err("refused");
    assert!(e.contains("merchant index 1000000"), "{e}");
}

#[test]
fn a_snapshot_state_whose_traffic_contract_is_renamed_is_refused() {
    let b = bases().iter().find(|b| b.name == "sim-116-open").expect("the simulated festival, midway");
    b.state.check(&b.festival).expect("the state as the engine built it passes");
    let book = &b.state.traffic;
    // A contract an impression has served: serving it again looks its name up.
    let c = book.contracts.iter().find(|c| c.delivered > 0 && c.rec.id.contains('-')).expect("a contract served");
    let renamed = c.rec.id.replacen('-', "%", 1);
    let mut ids = dacu_core::state::Interner::default();
    for name in book.ids.names() {
        ids.intern(if name == c.rec.id { &renamed } else { name });
    }
    let mut st = b.state.clone();
    st.traffic.ids = ids;
    let e = st.check(&b.festival).expect_err("refused");
    assert!(e.starts_with("traffic: ") && e.contains(&format!("`{}`", c.rec.id)) && e.contains(&renamed), "{e}");
    // A plan entry naming a contract that does not exist.
    let mut st = b.state.clone();
    let entry = &mut st.traffic.plan.as_mut().expect("a plan in force").entries[0];
    entry.contract += "-gone";
    let gone = entry.contract.clone();
    let e = st.check(&b.festival).expect_err("refused");
    assert!(e.contains(&format!("no contract `{gone}`")), "{e}");
    // A SHALE pricing without a ζ per entry, its nodes out of order.
    let mut st = b.state.clone();
    st.traffic.pricing = Some(dacu_core::event::PricingRec { zeta_ppb: Vec::new(), prices: vec![(1, 5), (0, 5)] });
    let e = st.check(&b.festival).expect_err("refused");
    assert!(e.contains("ζ for"), "{e}");
}
