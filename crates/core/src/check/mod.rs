//! Consistency checks of a state read from outside the engine (a snapshot). A state the
//! engine built always passes; one that fails would make later lookups index out of
//! range, an `expect` fail or an addition leave 64 bits — in a view, or when the engine
//! decides and applies further commands — so it is refused before anything uses it.
//!
//! What is checked: every index the state holds points into its table; every id table is
//! as long as its table; the shapes the code relies on (lengths that must agree, lists
//! that must be ordered, a board's block structure); and the ranges the arithmetic relies
//! on — amounts, counts and running totals within the bounds `decide` keeps
//! ([`crate::limits`]), recorded times within [`TIME_MS`] of the epoch. Every check is
//! linear in the size of the state. The marketing tools, the races and the settlement
//! ledger are checked in [`market`], [`contest`] and [`settle`].

mod contest;
mod market;
mod settle;
mod traffic;

use crate::contest::Pid;
use crate::festival::{Festival, Role};
use crate::limits::{FOLLOWERS, ORDER_FEN, TOTAL};
use crate::market::Party;
use crate::state::{Interner, Money2, Order, Session, State, Stats};
use crate::time::{Day, Ts};

/// Every time the engine records comes from RFC 3339 text (years −9999 to 9999: within
/// 4 × 10^14 ms of the epoch) plus spans of at most a year; 10^15 ms (about 31,700
/// years) leaves the arithmetic on times (days, minutes, differences) far from 64 bits.
pub const TIME_MS: i64 = 1_000_000_000_000_000;

const MS_PER_DAY: i64 = 86_400_000;

/// The idempotency keys: within capacity, every record in the recording order, outcomes
/// pointing inside the log.
fn keys(st: &State, festival: &Festival) -> Result<(), String> {
    let k = &st.keys;
    ensure(k.len() as u64 <= festival.capacity.keys, || {
        format!("{} idempotency keys, over the capacity {}", k.len(), festival.capacity.keys)
    })?;
    let live = k.order().filter(|(key, exp)| k.record_of(key).is_some_and(|r| r.expires_at == *exp)).count();
    ensure(live == k.len(), || format!("{} idempotency keys but {live} in the recording order", k.len()))?;
    for (key, r) in k.iter() {
        for o in &r.outcomes {
            if let crate::idempotency::KeyOutcome::Accepted { first_seq, last_seq } = o {
                ensure(*first_seq >= 1 && *first_seq <= *last_seq + 1 && *last_seq <= st.events, || {
                    format!("idempotency key `{key}` points at events {first_seq}..={last_seq} of {}", st.events)
                })?;
            }
        }
    }
    Ok(())
}

pub(crate) fn ensure(ok: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what())
    }
}

pub(crate) fn index(what: &str, i: u32, len: usize) -> Result<(), String> {
    ensure((i as usize) < len, || format!("{what} index {i} is out of range (there are {len})"))
}

pub(crate) fn opt_index(what: &str, i: Option<u32>, len: usize) -> Result<(), String> {
    i.map_or(Ok(()), |i| index(what, i, len))
}

pub(crate) fn table(what: &str, ids: &Interner, len: usize) -> Result<(), String> {
    ensure(ids.len() == len, || format!("{} {what} ids for {len} {what}s", ids.len()))
}

/// `v` is within `lo..=hi`.
pub(crate) fn range(what: &str, v: i64, lo: i64, hi: i64) -> Result<(), String> {
    ensure((lo..=hi).contains(&v), || format!("{what} is {v}; it must be {lo} to {hi}"))
}

/// A count is at most `hi`.
pub(crate) fn count(what: &str, v: u64, hi: u64) -> Result<(), String> {
    ensure(v <= hi, || format!("{what} is {v}; it must be at most {hi}"))
}

pub(crate) fn time(what: &str, t: Ts) -> Result<(), String> {
    range(what, t.0, -TIME_MS, TIME_MS)
}

pub(crate) fn opt_time(what: &str, t: Option<Ts>) -> Result<(), String> {
    t.map_or(Ok(()), |t| time(what, t))
}

pub(crate) fn day(what: &str, d: Day) -> Result<(), String> {
    let max = TIME_MS / MS_PER_DAY + 1;
    range(what, d.0 as i64, -max, max)
}

/// A sum of many values (in 128 bits) stays within [`TOTAL`].
pub(crate) fn sum_within(what: &str, values: impl Iterator<Item = i64>) -> Result<(), String> {
    let s: i128 = values.map(|v| (v as i128).abs()).sum();
    ensure(s <= TOTAL as i128, || format!("{what} add up to {s}; together they must be at most {TOTAL}"))
}

/// Prefixes an error with where it was found.
pub(crate) trait At {
    fn at(self, place: impl FnOnce() -> String) -> Self;
}

impl At for Result<(), String> {
    fn at(self, place: impl FnOnce() -> String) -> Self {
        self.map_err(|e| format!("{}: {e}", place()))
    }
}

/// The lengths of the state's tables.
pub(crate) struct Lens {
    pub merchants: usize,
    pub anchors: usize,
    pub providers: usize,
    pub sessions: usize,
    pub users: usize,
}

impl Lens {
    fn of(st: &State) -> Lens {
        Lens {
            merchants: st.merchants.len(),
            anchors: st.anchors.len(),
            providers: st.providers.len(),
            sessions: st.sessions.len(),
            users: st.users.len(),
        }
    }

    pub fn role(&self, r: Role) -> usize {
        match r {
            Role::Merchant => self.merchants,
            Role::Anchor => self.anchors,
            Role::Provider => self.providers,
        }
    }

    /// A participant index of `role`.
    pub fn of_role(&self, role: Role, i: u32) -> Result<(), String> {
        index(role.as_str(), i, self.role(role))
    }

    pub fn pid(&self, p: Pid) -> Result<(), String> {
        self.of_role(p.0, p.1)
    }

    pub fn party(&self, p: Party) -> Result<(), String> {
        match p {
            Party::Platform => Ok(()),
            Party::Merchant(m) => index("merchant", m, self.merchants),
            Party::Anchor(a) => index("anchor", a, self.anchors),
        }
    }

    pub fn user(&self, u: u32) -> Result<(), String> {
        index("user", u, self.users)
    }
}

/// Paid and refunded money of one slice: 0 ≤ refunded ≤ gross ≤ [`TOTAL`].
fn money2(what: &str, m: &Money2) -> Result<(), String> {
    range("gross", m.gross.0, 0, TOTAL).and_then(|()| range("refunded", m.refunded.0, 0, m.gross.0)).at(|| what.into())
}

fn stats(s: &Stats, users: usize) -> Result<(), String> {
    money2("live GMV", &s.channel[0])?;
    money2("shelf GMV", &s.channel[1])?;
    money2("self-broadcast GMV", &s.self_broadcast)?;
    money2("provider-served GMV", &s.provider_served)?;
    money2("provider-served self-broadcast GMV", &s.provider_served_self_broadcast)?;
    count("orders", s.orders[0], TOTAL as u64)?;
    count("orders", s.orders[1], TOTAL as u64)?;
    s.buyers.iter().try_for_each(|u| index("buyer", u, users))
}

/// One table's running totals: each consistent, and their gross GMV within [`TOTAL`]
/// together, as every order counts toward one entry of a table at most (views add them
/// up).
fn stats_table<'a>(what: &str, all: impl Iterator<Item = &'a Stats>, users: usize) -> Result<(), String> {
    let mut gross = 0i128;
    for (i, s) in all.enumerate() {
        stats(s, users).at(|| format!("{what} {i}"))?;
        gross += s.total().gross.0 as i128;
    }
    ensure(gross <= TOTAL as i128, || format!("the gross GMV of every {what} adds up to {gross}, above {TOTAL}"))
}

fn merchants(st: &State, n: &Lens) -> Result<(), String> {
    for (i, m) in st.merchants.iter().enumerate() {
        let here = || format!("merchant {i}");
        for (at, p) in &m.bindings {
            time("a binding's time", *at).at(here)?;
            opt_index("provider", *p, n.providers).at(here)?;
        }
        ensure(m.bindings.windows(2).all(|w| w[0].0 <= w[1].0), || "bindings out of time order".into()).at(here)?;
    }
    stats_table("merchant", st.merchants.iter().map(|m| &m.stats), n.users)
}

fn anchors(st: &State, tiers: usize, n: &Lens) -> Result<(), String> {
    for (i, a) in st.anchors.iter().enumerate() {
        let here = || format!("anchor {i}");
        range("followers", a.followers, 0, FOLLOWERS).at(here)?;
        opt_index("merchant", a.merchant, n.merchants).at(here)?;
        opt_index("anchor tier", a.tier, tiers).at(here)?;
        opt_index("session", a.live_session, n.sessions).at(here)?;
        if let Some(s) = a.live_session.map(|s| &st.sessions[s as usize]) {
            ensure(s.anchor as usize == i && s.end.is_none(), || "its live session is not its own open one".into())
                .at(here)?;
        }
    }
    stats_table("anchor", st.anchors.iter().map(|a| &a.stats), n.users)
}

fn providers(st: &State, n: &Lens) -> Result<(), String> {
    for (i, p) in st.providers.iter().enumerate() {
        opt_time("certified_at", p.certified_at).at(|| format!("provider {i}"))?;
    }
    stats_table("provider", st.providers.iter().map(|p| &p.stats), n.users)
}

/// A session's times: every event of a session is inside the festival (live commands
/// are), so `start` ≤ every entry ≤ `last_at` < the festival's end, and `end` is between
/// `start` and `last_at`. (The review lists every minute up to `last_at`; an entry or a
/// leave writes the viewer curve at its minute.)
fn session_times(s: &Session, f: &Festival) -> Result<(), String> {
    range("start", s.start.0, f.start().0, f.end().0 - 1)?;
    range("last_at", s.last_at.0, s.start.0, f.end().0 - 1)?;
    if let Some(end) = s.end {
        range("end", end.0, s.start.0, s.last_at.0)?;
    }
    s.present.values().try_for_each(|t| range("an entry time", t.0, s.start.0, s.last_at.0))?;
    // Entries and leaves are recorded up to `last_at`, so the curve ends in its hour.
    let hours = s.minute_of(s.last_at) as usize / 60 + 1;
    ensure(s.curve.room_minutes() <= hours * 60, || "the viewer curve runs past `last_at`".into())
}

fn session(st: &State, s: &Session, f: &Festival, n: &Lens) -> Result<(), String> {
    index("anchor", s.anchor, n.anchors)?;
    session_times(s, f)?;
    s.present.keys().copied().chain(s.unique_viewers.iter()).try_for_each(|u| index("viewer", u, n.users))?;
    range("watch_ms", s.watch_ms, 0, TOTAL)?;
    let mut viewers_ms = 0i128;
    for (u, w) in s.watch.iter() {
        index("viewer", u, n.users).and(range("watch ms", w, 0, TOTAL)).at(|| "watch time".into())?;
        viewers_ms += w as i128;
    }
    ensure(viewers_ms <= TOTAL as i128, || format!("the session's viewers watched {viewers_ms} ms, above {TOTAL}"))?;
    for c in [s.entries, s.peak_concurrent].iter().chain(&s.interactions) {
        count("a count", *c, TOTAL as u64)?;
    }
    for (&(m, sku), p) in &s.products {
        index("merchant", m, n.merchants)?;
        index("sku", sku, st.skus.len())?;
        count("a product's orders", p.orders, TOTAL as u64)?;
        range("a product's quantity", p.qty, 0, TOTAL)?;
        range("a product's paid", p.paid.0, 0, TOTAL)?;
    }
    Ok(())
}

fn sessions(st: &State, f: &Festival, n: &Lens) -> Result<(), String> {
    for (i, s) in st.sessions.iter().enumerate() {
        session(st, s, f, n).at(|| format!("session {i}"))?;
    }
    stats_table("session", st.sessions.iter().map(|s| &s.stats), n.users)
}

fn order(o: &Order, tiers: usize, n: &Lens) -> Result<(), String> {
    n.user(o.user)?;
    index("merchant", o.merchant, n.merchants)?;
    opt_index("anchor", o.anchor.get(), n.anchors)?;
    opt_index("provider", o.provider.get(), n.providers)?;
    opt_index("session", o.session.get(), n.sessions)?;
    opt_index("anchor tier", o.anchor_tier.get(), tiers)?;
    time("at", o.at)?;
    range("paid", o.paid.0, 0, ORDER_FEN)?;
    range("refunded", o.refunded.0, 0, o.paid.0)
}

fn enrolments(st: &State, f: &Festival, n: &Lens) -> Result<(), String> {
    for (program, enrolled) in &st.enrolments {
        ensure(f.program(program).is_some(), || format!("enrolments in unknown program `{program}`"))?;
        for (&(role, i), at) in enrolled {
            n.of_role(role, i).at(|| format!("program `{program}`"))?;
            time("an enrolment time", *at)?;
        }
    }
    Ok(())
}

/// The hourly totals add up to the festival's: every order counts in exactly one hour.
fn hours(st: &State) -> Result<(), String> {
    let (mut gross, mut refunded, mut orders) = (0i128, 0i128, 0u128);
    for (h, t) in &st.by_hour {
        time("an hour", Ts(h.saturating_mul(3_600_000)))?;
        range("an hour's refunds", t.money.refunded.0, 0, t.money.gross.0).at(|| format!("hour {h}"))?;
        gross += t.money.gross.0 as i128;
        refunded += t.money.refunded.0 as i128;
        orders += t.orders as u128;
    }
    let total = st.total.total();
    ensure(
        gross == total.gross.0 as i128
            && refunded == total.refunded.0 as i128
            && orders == st.total.orders_total() as u128,
        || {
            format!(
                "the hours add up to {gross} paid, {refunded} refunded in {orders} orders; the festival's total is {} paid, {} refunded in {} orders",
                total.gross.0,
                total.refunded.0,
                st.total.orders_total()
            )
        },
    )
}

/// The festival-wide, tier and day totals.
fn totals(st: &State, n: &Lens) -> Result<(), String> {
    stats_table("brand tier", st.by_brand_tier.iter(), n.users)?;
    stats_table("anchor tier", st.by_anchor_tier.iter(), n.users)?;
    st.by_day.keys().try_for_each(|d| day("a day", *d))?;
    stats_table("day", st.by_day.values(), n.users)?;
    stats(&st.total, n.users).at(|| "the festival's total".into())?;
    hours(st)?;
    count("events", st.events, u64::MAX / 2)
}

impl State {
    /// Checks that every index the state holds points into its tables, that its shape
    /// fits `festival`, and that its amounts, counts and times are within the bounds the
    /// engine keeps (the module's documentation lists what is checked).
    pub fn check(&self, festival: &Festival) -> Result<(), String> {
        let n = Lens::of(self);
        table("merchant", &self.merchant_ids, n.merchants)?;
        table("anchor", &self.anchor_ids, n.anchors)?;
        table("provider", &self.provider_ids, n.providers)?;
        table("session", &self.session_ids, n.sessions)?;
        let tiers = festival.anchor_tiers.len();
        ensure(self.by_anchor_tier.len() == tiers, || {
            format!("{} anchor tiers, the festival declares {tiers}", self.by_anchor_tier.len())
        })?;
        merchants(self, &n)?;
        anchors(self, tiers, &n)?;
        providers(self, &n)?;
        sessions(self, festival, &n)?;
        for (id, o) in &self.orders {
            order(o, tiers, &n).at(|| format!("order `{id}`"))?;
        }
        enrolments(self, festival, &n)?;
        totals(self, &n)?;
        market::check(self, &n).at(|| "market".into())?;
        contest::check(self, festival, &n).at(|| "contests".into())?;
        settle::check(&self.settlement).at(|| "settlement".into())?;
        traffic::check(self, festival).at(|| "traffic".into())?;
        for p in self.registration_closed.keys() {
            ensure(festival.program(p).is_some(), || format!("enrolment closed in `{p}`, which the festival lacks"))?;
        }
        keys(self, festival)
    }
}
