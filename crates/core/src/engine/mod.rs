//! The deterministic engine: `decide` validates a command against the state and returns
//! the events it causes (or a rejection, changing nothing); `apply` folds an event into
//! the state. No I/O, no clock, no randomness.

use crate::command::{self as cmd, Channel, Command};
use crate::error::{Code, Rejection};
use crate::event::Event;
use crate::festival::{Festival, Role};
use crate::money::Fen;
use crate::state::*;
use crate::time::Ts;
use std::sync::Arc;

mod bounds;
mod contest;
mod market;
mod packet;

/// An order's attribution: (session, anchor, provider, self-broadcast).
pub(crate) type Attribution = (Option<String>, Option<String>, Option<String>, bool);

/// Limits on inputs, so that sums can never overflow and nothing grows without bound.
pub use crate::limits;

/// An event could not be applied: the log does not belong to this festival or is damaged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {index} cannot be applied: {reason}")]
pub struct ApplyError {
    pub index: u64,
    pub reason: String,
}

pub struct Engine {
    festival: Arc<Festival>,
    state: State,
    /// An empty `Contests` that stands in for the state's while the contests observe an
    /// event (they read the rest of the state): swapping it is free, whereas making a new
    /// one per event would draw a hash seed for each of its maps (crate::hash).
    spare: crate::contest::Contests,
}

fn reject<T>(code: Code, msg: impl Into<String>) -> Result<T, Rejection> {
    Err(Rejection::new(code, msg))
}

fn check_id(field: &str, id: &str) -> Result<(), Rejection> {
    if id.is_empty() || id.len() > limits::ID_BYTES {
        return reject(Code::InvalidId, format!("`{field}` must be 1 to {} bytes, got {}", limits::ID_BYTES, id.len()));
    }
    Ok(())
}

fn check_name(field: &str, s: &str) -> Result<(), Rejection> {
    if s.len() > limits::NAME_BYTES {
        return reject(
            Code::InvalidValue,
            format!("`{field}` must be at most {} bytes, got {}", limits::NAME_BYTES, s.len()),
        );
    }
    Ok(())
}

impl Engine {
    pub fn new(festival: Arc<Festival>) -> Engine {
        let tiers = festival.anchor_tiers.len();
        let mut e = Engine { festival, state: State::new(tiers), spare: Default::default() };
        e.init_contests();
        e
    }

    /// Resolves the festival's contests and rebuilds what a snapshot does not hold.
    fn init_contests(&mut self) {
        let mut c = std::mem::take(&mut self.state.contests);
        c.init(&self.festival, &self.state);
        self.state.contests = c;
    }

    /// An engine resuming from a saved state (a snapshot) of the same festival.
    pub fn with_state(festival: Arc<Festival>, state: State) -> Result<Engine, ApplyError> {
        if state.by_anchor_tier.len() != festival.anchor_tiers.len() {
            return Err(ApplyError {
                index: state.events,
                reason: format!(
                    "the saved state has {} anchor tiers but the festival declares {}",
                    state.by_anchor_tier.len(),
                    festival.anchor_tiers.len()
                ),
            });
        }
        let mut e = Engine { festival, state, spare: Default::default() };
        e.state.market.rebuild_totals();
        e.init_contests();
        Ok(e)
    }

    pub fn festival(&self) -> &Festival {
        &self.festival
    }

    pub fn festival_arc(&self) -> Arc<Festival> {
        self.festival.clone()
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// Decides and applies one command; on rejection nothing changes.
    pub fn execute(&mut self, c: &Command, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let start = out.len();
        self.decide(c, out)?;
        for ev in &out[start..] {
            self.apply(ev).expect("events from decide always apply");
        }
        Ok(())
    }

    fn in_festival(&self, at: Ts) -> Result<(), Rejection> {
        let f = &self.festival;
        if at < f.start() || at >= f.end() {
            return reject(
                Code::OutsideFestival,
                format!(
                    "`at` {at} is outside the festival, which runs from {} (inclusive) to {} (exclusive)",
                    f.start(),
                    f.end()
                ),
            );
        }
        Ok(())
    }

    fn merchant_idx(&self, id: &str) -> Result<u32, Rejection> {
        self.state.merchant_ids.get(id).ok_or_else(|| {
            Rejection::new(
                Code::UnknownMerchant,
                format!("no merchant `{id}` is registered; register it with register_merchant first"),
            )
        })
    }

    fn anchor_idx(&self, id: &str) -> Result<u32, Rejection> {
        self.state.anchor_ids.get(id).ok_or_else(|| {
            Rejection::new(
                Code::UnknownAnchor,
                format!("no anchor `{id}` is registered; register it with register_anchor first"),
            )
        })
    }

    fn provider_idx(&self, id: &str) -> Result<u32, Rejection> {
        self.state.provider_ids.get(id).ok_or_else(|| {
            Rejection::new(
                Code::UnknownProvider,
                format!("no provider `{id}` is registered; register it with register_provider first"),
            )
        })
    }

    fn session_idx(&self, id: &str) -> Result<u32, Rejection> {
        self.state.session_ids.get(id).ok_or_else(|| {
            Rejection::new(
                Code::UnknownSession,
                format!("no live session `{id}` was started; start it with live_start first"),
            )
        })
    }

    /// A session that is open at `at`.
    fn live_session(&self, id: &str, at: Ts) -> Result<&Session, Rejection> {
        self.in_festival(at)?;
        let s = &self.state.sessions[self.session_idx(id)? as usize];
        if at < s.start {
            return reject(
                Code::SessionNotStarted,
                format!("`at` {at} is before session `{id}` started at {}", s.start),
            );
        }
        if let Some(end) = s.end {
            return reject(Code::SessionEnded, format!("session `{id}` ended at {end}"));
        }
        Ok(s)
    }

    /// Validates a command; on success pushes its events onto `out`. On rejection `out`
    /// is as it was.
    pub fn decide(&self, c: &Command, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let start = out.len();
        // The orders it records are checked against the running totals' bounds last, when
        // everything else about the command is known to be acceptable.
        let r = self.decide_command(c, out).and_then(|()| self.check_orders(&out[start..]));
        if r.is_err() {
            out.truncate(start);
        }
        r
    }

    fn decide_command(&self, c: &Command, out: &mut Vec<Event>) -> Result<(), Rejection> {
        if let Some(id) = c.legacy_id() {
            if self.seen(c, id)? {
                return Ok(());
            }
            let start = out.len();
            self.decide_inner(c, out)?;
            out.insert(start, Event::Identified { id: id.to_string(), command: c.type_name().to_string() });
            return Ok(());
        }
        self.decide_inner(c, out)
    }

    fn decide_inner(&self, c: &Command, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let st = &self.state;
        match c {
            Command::RegisterMerchant(m) => {
                check_id("merchant", &m.merchant)?;
                check_name("name", &m.name)?;
                check_name("category", &m.category)?;
                if st.merchant_ids.get(&m.merchant).is_some() {
                    return reject(
                        Code::DuplicateMerchant,
                        format!("merchant `{}` is already registered; use a new id", m.merchant),
                    );
                }
                out.push(Event::MerchantRegistered {
                    merchant: m.merchant.clone(),
                    name: m.name.clone(),
                    brand_tier: m.brand_tier,
                    category: m.category.clone(),
                });
            }
            Command::RegisterAnchor(a) => {
                check_id("anchor", &a.anchor)?;
                check_name("name", &a.name)?;
                if !(0..=limits::FOLLOWERS).contains(&a.followers) {
                    return reject(
                        Code::InvalidValue,
                        format!("`followers` must be 0 to {}, got {}", limits::FOLLOWERS, a.followers),
                    );
                }
                if st.anchor_ids.get(&a.anchor).is_some() {
                    return reject(
                        Code::DuplicateAnchor,
                        format!("anchor `{}` is already registered; use a new id", a.anchor),
                    );
                }
                if let Some(m) = &a.merchant {
                    self.merchant_idx(m)?;
                }
                let tier = self.festival.anchor_tier_for(a.followers).map(|t| t.id.clone());
                out.push(Event::AnchorRegistered {
                    anchor: a.anchor.clone(),
                    name: a.name.clone(),
                    followers: a.followers,
                    merchant: a.merchant.clone(),
                    tier,
                });
            }
            Command::RegisterProvider(p) => {
                check_id("provider", &p.provider)?;
                check_name("name", &p.name)?;
                if st.provider_ids.get(&p.provider).is_some() {
                    return reject(
                        Code::DuplicateProvider,
                        format!("provider `{}` is already registered; use a new id", p.provider),
                    );
                }
                out.push(Event::ProviderRegistered { provider: p.provider.clone(), name: p.name.clone() });
            }
            Command::CertifyProvider(p) => {
                let i = self.provider_idx(&p.provider)?;
                if let Some(at) = st.providers[i as usize].certified_at {
                    return reject(Code::AlreadyCertified, format!("provider `{}` was certified at {at}", p.provider));
                }
                out.push(Event::ProviderCertified { provider: p.provider.clone(), at: p.at });
            }
            Command::BindProvider(b) => {
                let pi = self.provider_idx(&b.provider)?;
                let mi = self.merchant_idx(&b.merchant)?;
                if st.providers[pi as usize].certified_at.is_none_or(|c| c > b.at) {
                    return reject(
                        Code::ProviderNotCertified,
                        format!(
                            "provider `{}` is not certified at {}; certify it with certify_provider first",
                            b.provider, b.at
                        ),
                    );
                }
                if st.merchants[mi as usize].provider_at(b.at) == Some(pi) {
                    return reject(
                        Code::AlreadyBound,
                        format!("merchant `{}` is already served by provider `{}` at {}", b.merchant, b.provider, b.at),
                    );
                }
                out.push(Event::ProviderBound { provider: b.provider.clone(), merchant: b.merchant.clone(), at: b.at });
            }
            Command::UnbindProvider(b) => {
                let pi = self.provider_idx(&b.provider)?;
                let mi = self.merchant_idx(&b.merchant)?;
                if st.merchants[mi as usize].provider_at(b.at) != Some(pi) {
                    return reject(
                        Code::NotBound,
                        format!("merchant `{}` is not served by provider `{}` at {}", b.merchant, b.provider, b.at),
                    );
                }
                out.push(Event::ProviderUnbound {
                    provider: b.provider.clone(),
                    merchant: b.merchant.clone(),
                    at: b.at,
                });
            }
            Command::Enroll(e) => self.decide_enroll(e, out)?,
            Command::LiveStart(l) => {
                check_id("session", &l.session)?;
                self.in_festival(l.at)?;
                let ai = self.anchor_idx(&l.anchor)?;
                if st.session_ids.get(&l.session).is_some() {
                    return reject(
                        Code::DuplicateSession,
                        format!("session `{}` already exists; use a new id", l.session),
                    );
                }
                if let Some(live) = st.anchors[ai as usize].live_session {
                    return reject(
                        Code::AnchorAlreadyLive,
                        format!(
                            "anchor `{}` is live in session `{}`; end it with live_end first",
                            l.anchor,
                            st.session_ids.name(live)
                        ),
                    );
                }
                out.push(Event::LiveStarted { session: l.session.clone(), anchor: l.anchor.clone(), at: l.at });
            }
            Command::LiveEnd(l) => {
                self.live_session(&l.session, l.at)?;
                let si = self.session_idx(&l.session)?;
                self.check_watch(si, self.open_stays_ms(si, l.at))?;
                out.push(Event::LiveEnded { session: l.session.clone(), at: l.at });
            }
            Command::ViewerEnter(v) => {
                check_id("user", &v.user)?;
                let s = self.live_session(&v.session, v.at)?;
                if st.users.get(&v.user).is_some_and(|u| s.present.contains_key(&u)) {
                    return reject(
                        Code::ViewerAlreadyInSession,
                        format!("user `{}` is already in session `{}`; send viewer_leave first", v.user, v.session),
                    );
                }
                out.push(Event::ViewerEntered { session: v.session.clone(), user: v.user.clone(), at: v.at });
            }
            Command::ViewerLeave(v) => {
                let s = self.live_session(&v.session, v.at)?;
                let Some(entered) = st.users.get(&v.user).and_then(|u| s.present.get(&u)) else {
                    return reject(
                        Code::ViewerNotInSession,
                        format!("user `{}` is not in session `{}`", v.user, v.session),
                    );
                };
                if v.at < *entered {
                    return reject(
                        Code::InvalidValue,
                        format!("`at` {} is before the user entered at {entered}", v.at),
                    );
                }
                self.check_watch(self.session_idx(&v.session)?, (v.at.0 - entered.0) as i128)?;
                out.push(Event::ViewerLeft { session: v.session.clone(), user: v.user.clone(), at: v.at });
            }
            Command::Interaction(i) => {
                check_id("user", &i.user)?;
                self.live_session(&i.session, i.at)?;
                if let Some(text) = &i.text {
                    if i.kind != cmd::InteractionKind::Comment || text.len() > limits::market::TEXT_BYTES {
                        return reject(
                            Code::InvalidValue,
                            format!("`text` is for comments only, at most {} bytes", limits::market::TEXT_BYTES),
                        );
                    }
                    out.push(Event::Commented {
                        session: i.session.clone(),
                        user: i.user.clone(),
                        text: text.clone(),
                        at: i.at,
                    });
                    return Ok(());
                }
                out.push(Event::Interacted {
                    session: i.session.clone(),
                    user: i.user.clone(),
                    kind: i.kind,
                    at: i.at,
                });
            }
            Command::OrderPaid(o) => self.decide_order(o, out)?,
            Command::Refund(r) => {
                // A refund id is an idempotency key: a resent refund is recognised as such
                // before anything else about it is judged.
                if let Some(id) = &r.refund_id {
                    check_id("refund_id", id)?;
                    if st.refund_ids.contains(id.as_str()) {
                        return reject(
                            Code::DuplicateRefund,
                            format!("refund `{id}` was already applied; refund ids are unique"),
                        );
                    }
                }
                let Some(o) = st.orders.get(r.order.as_str()) else {
                    return reject(Code::UnknownOrder, format!("no order `{}` was paid", r.order));
                };
                let remaining = o.paid - o.refunded;
                if r.amount <= 0 {
                    return reject(
                        Code::InvalidValue,
                        format!(
                            "`amount` must be above 0 fen and at most the {} fen not yet refunded, got {}",
                            remaining.0, r.amount
                        ),
                    );
                }
                if r.amount > remaining.0 {
                    return reject(
                        Code::RefundExceedsRemaining,
                        format!(
                            "order `{}` has {} fen left to refund (paid {}, refunded {}); got {}",
                            r.order, remaining.0, o.paid.0, o.refunded.0, r.amount
                        ),
                    );
                }
                if r.at < o.at {
                    return reject(
                        Code::RefundBeforeOrder,
                        format!("`at` {} is before order `{}` was paid at {}", r.at, r.order, o.at),
                    );
                }
                out.push(Event::Refunded {
                    order: r.order.clone(),
                    amount: r.amount,
                    at: r.at,
                    refund_id: r.refund_id.clone(),
                });
                self.decide_discount_returns(&r.order, r.amount, r.at, out);
            }
            _ => self.decide_market(c, out)?,
        }
        Ok(())
    }

    fn decide_enroll(&self, e: &cmd::Enroll, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let st = &self.state;
        let f = &self.festival;
        let Some(p) = f.program(&e.program) else {
            let ids: Vec<&str> = f.programs.iter().map(|p| p.id.as_str()).collect();
            return reject(
                Code::UnknownProgram,
                format!("no program `{}` in the festival file; programs: {}", e.program, ids.join(", ")),
            );
        };
        let roles: Vec<Role> =
            [Role::Merchant, Role::Anchor, Role::Provider].into_iter().filter(|r| p.roles.contains(r)).collect();
        let admitted: Vec<&str> = p.roles.iter().map(|r| r.as_str()).collect();
        let (role, idx) = self.participant(
            &e.participant,
            e.role,
            &roles,
            &format!(" (program `{}` admits: {})", p.id, admitted.join(", ")),
        )?;
        let (opens, closes) = f.enroll_window(p);
        if e.at < opens {
            return reject(
                Code::RegistrationNotOpen,
                format!("enrolment in `{}` opens at {opens}; `at` is {}", p.id, e.at),
            );
        }
        if e.at >= closes {
            return reject(
                Code::RegistrationClosed,
                format!("enrolment in `{}` closed at {closes}; `at` is {}", p.id, e.at),
            );
        }
        if !p.roles.contains(&role) {
            return reject(Code::NotEligible, format!("program `{}` does not admit {}s", p.id, role.as_str()));
        }
        match role {
            Role::Merchant => {
                let t = st.merchants[idx as usize].brand_tier;
                if let Some(tiers) = &p.brand_tiers {
                    if !tiers.contains(&t) {
                        return reject(
                            Code::NotEligible,
                            format!(
                                "program `{}` admits brand tiers {}; merchant `{}` is `{}`",
                                p.id,
                                tiers.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", "),
                                e.participant,
                                t.as_str()
                            ),
                        );
                    }
                }
            }
            Role::Anchor => {
                if let Some(tiers) = &p.anchor_tiers {
                    let tier =
                        st.anchors[idx as usize].tier.map(|t| f.anchor_tiers[t as usize].id.as_str()).unwrap_or("");
                    if !tiers.iter().any(|t| t == tier) {
                        return reject(
                            Code::NotEligible,
                            format!(
                                "program `{}` admits anchor tiers {}; anchor `{}` is `{tier}`",
                                p.id,
                                tiers.join(", "),
                                e.participant
                            ),
                        );
                    }
                }
            }
            Role::Provider => {
                if p.require_certified && st.providers[idx as usize].certified_at.is_none_or(|c| c > e.at) {
                    return reject(
                        Code::ProviderNotCertified,
                        format!(
                            "program `{}` admits certified providers only; certify `{}` first",
                            p.id, e.participant
                        ),
                    );
                }
            }
        }
        if st.enrolments.get(&p.id).is_some_and(|m| m.contains_key(&(role, idx))) {
            return reject(
                Code::AlreadyEnrolled,
                format!("{} `{}` is already enrolled in `{}`", role.as_str(), e.participant, p.id),
            );
        }
        out.push(Event::Enrolled { program: p.id.clone(), participant: e.participant.clone(), role, at: e.at });
        Ok(())
    }

    /// Who an order is attributed to, decided once when it is paid: session and anchor
    /// (live), the provider serving the merchant then, and whether it is self-broadcast.
    pub(crate) fn attribution(
        &self,
        mi: u32,
        channel: Channel,
        session: Option<&str>,
        at: Ts,
    ) -> Result<Attribution, Rejection> {
        let st = &self.state;
        let (session, anchor, self_broadcast) = match (channel, session) {
            (Channel::Live, None) => {
                return reject(
                    Code::SessionRequired,
                    "channel \"live\" needs `session`: the live session the order was placed in",
                )
            }
            (Channel::Shelf, Some(_)) => {
                return reject(
                    Code::SessionNotAllowed,
                    "channel \"shelf\" takes no `session`; use channel \"live\" for orders placed in a live room",
                )
            }
            (Channel::Shelf, None) => (None, None, false),
            (Channel::Live, Some(sid)) => {
                let s = &st.sessions[self.session_idx(sid)? as usize];
                if at < s.start {
                    return reject(
                        Code::SessionNotStarted,
                        format!("`at` {at} is before session `{sid}` started at {}", s.start),
                    );
                }
                let a = &st.anchors[s.anchor as usize];
                (Some(sid.to_string()), Some(st.anchor_ids.name(s.anchor).to_string()), a.merchant == Some(mi))
            }
        };
        let provider = st.merchants[mi as usize].provider_at(at).map(|p| st.provider_ids.name(p).to_string());
        Ok((session, anchor, provider, self_broadcast))
    }

    fn decide_order(&self, o: &cmd::OrderPaid, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let st = &self.state;
        check_id("order", &o.order)?;
        check_id("user", &o.user)?;
        self.in_festival(o.at)?;
        if st.orders.contains_key(o.order.as_str()) || st.market.pending_orders.contains(o.order.as_str()) {
            return reject(Code::DuplicateOrder, format!("order `{}` was already paid; order ids are unique", o.order));
        }
        let mi = self.merchant_idx(&o.merchant)?;
        if o.lines.is_empty() || o.lines.len() > limits::ORDER_LINES {
            return reject(
                Code::EmptyOrder,
                format!("an order needs 1 to {} lines, got {}", limits::ORDER_LINES, o.lines.len()),
            );
        }
        let mut skus: crate::hash::Map<&str, usize> = Default::default();
        for (n, l) in o.lines.iter().enumerate() {
            check_id("sku", &l.sku).map_err(|r| Rejection::new(r.code, format!("line {n}: {}", r.message)))?;
            if !(1..=limits::LINE_QTY).contains(&l.qty) {
                return reject(
                    Code::InvalidValue,
                    format!("line {n}: `qty` must be 1 to {}, got {}", limits::LINE_QTY, l.qty),
                );
            }
            if !(0..=limits::UNIT_PRICE_FEN).contains(&l.price) {
                return reject(
                    Code::InvalidValue,
                    format!("line {n}: `price` must be 0 to {} fen, got {}", limits::UNIT_PRICE_FEN, l.price),
                );
            }
            if l.paid < 0 {
                return reject(Code::InvalidValue, format!("line {n}: `paid` must be 0 or more fen, got {}", l.paid));
            }
            let list = l.qty * l.price;
            if l.paid > list {
                return reject(
                    Code::PaidExceedsList,
                    format!("line {n}: `paid` {} exceeds qty × price = {} × {} = {list} fen", l.paid, l.qty, l.price),
                );
            }
            if let Some(first) = skus.insert(&l.sku, n) {
                return reject(
                    Code::DuplicateSku,
                    format!("lines {first} and {n} both have sku `{}`; merge them into one line", l.sku),
                );
            }
        }
        let (session, anchor, provider, self_broadcast) =
            self.attribution(mi, o.channel, o.session.as_deref(), o.at)?;
        out.push(Event::OrderPaid {
            order: o.order.clone(),
            user: o.user.clone(),
            merchant: o.merchant.clone(),
            channel: o.channel,
            session,
            anchor,
            provider,
            self_broadcast,
            lines: o.lines.clone(),
            at: o.at,
        });
        Ok(())
    }

    /// Folds one event into the state.
    pub fn apply(&mut self, ev: &Event) -> Result<(), ApplyError> {
        // The contests need to know whether a viewer enters a session for the first time,
        // which the state no longer tells once the entry is applied.
        let new_viewer = match ev {
            Event::ViewerEntered { session, user, .. } => {
                let st = &self.state;
                match (st.session_ids.get(session), st.users.get(user)) {
                    (Some(s), Some(u)) => !st.sessions[s as usize].unique_viewers.contains(&u),
                    _ => true,
                }
            }
            _ => false,
        };
        self.apply_state(ev)?;
        std::mem::swap(&mut self.state.contests, &mut self.spare);
        self.spare.observe(&self.festival, &self.state, ev, new_viewer);
        std::mem::swap(&mut self.state.contests, &mut self.spare);
        Ok(())
    }

    fn apply_state(&mut self, ev: &Event) -> Result<(), ApplyError> {
        if market::is_market_event(ev) {
            self.apply_market(ev)?;
            self.state.events += 1;
            return Ok(());
        }
        let index = self.state.events;
        let fail = |reason: String| ApplyError { index, reason };
        let st = &mut self.state;
        macro_rules! idx {
            ($interner:ident, $id:expr, $what:literal) => {
                st.$interner.get($id).ok_or_else(|| fail(format!("unknown {} `{}`", $what, $id)))?
            };
        }
        match ev {
            Event::MerchantRegistered { merchant, name, brand_tier, category } => {
                st.merchant_ids.intern(merchant);
                st.merchants.push(Merchant {
                    name: name.clone(),
                    brand_tier: *brand_tier,
                    category: category.clone(),
                    bindings: Vec::new(),
                    stats: Stats::default(),
                });
            }
            Event::AnchorRegistered { anchor, name, followers, merchant, tier } => {
                let merchant = match merchant {
                    Some(m) => Some(idx!(merchant_ids, m, "merchant")),
                    None => None,
                };
                let tier = match tier {
                    Some(t) => Some(
                        self.festival
                            .anchor_tiers
                            .iter()
                            .position(|x| &x.id == t)
                            .ok_or_else(|| fail(format!("unknown anchor tier `{t}`")))? as u32,
                    ),
                    None => None,
                };
                st.anchor_ids.intern(anchor);
                st.anchors.push(Anchor {
                    name: name.clone(),
                    followers: *followers,
                    merchant,
                    tier,
                    live_session: None,
                    stats: Stats::default(),
                });
            }
            Event::ProviderRegistered { provider, name } => {
                st.provider_ids.intern(provider);
                st.providers.push(Provider { name: name.clone(), certified_at: None, stats: Stats::default() });
            }
            Event::ProviderCertified { provider, at } => {
                let p = idx!(provider_ids, provider, "provider");
                st.providers[p as usize].certified_at = Some(*at);
            }
            Event::ProviderBound { provider, merchant, at } | Event::ProviderUnbound { provider, merchant, at } => {
                let p = idx!(provider_ids, provider, "provider");
                let m = idx!(merchant_ids, merchant, "merchant");
                let to = matches!(ev, Event::ProviderBound { .. }).then_some(p);
                let b = &mut st.merchants[m as usize].bindings;
                // Insert after every binding at or before `at`, so equal times keep log order.
                let pos = b.partition_point(|(t, _)| *t <= *at);
                b.insert(pos, (*at, to));
            }
            Event::Enrolled { program, participant, role, at } => {
                let i = match role {
                    Role::Merchant => idx!(merchant_ids, participant, "merchant"),
                    Role::Anchor => idx!(anchor_ids, participant, "anchor"),
                    Role::Provider => idx!(provider_ids, participant, "provider"),
                };
                st.enrolments.entry(program.clone()).or_default().insert((*role, i), *at);
            }
            Event::LiveStarted { session, anchor, at } => {
                let a = idx!(anchor_ids, anchor, "anchor");
                let s = st.session_ids.intern(session);
                st.anchors[a as usize].live_session = Some(s);
                st.sessions.push(Session::new(a, *at));
            }
            Event::LiveEnded { session, at } => {
                let si = idx!(session_ids, session, "session");
                let s = &mut st.sessions[si as usize];
                s.end = Some(*at);
                s.touch(*at);
                // Everyone still in the room leaves when the stream ends.
                let mut stayed = 0;
                let start = s.start;
                for (u, entered) in s.present.drain() {
                    let w = (at.0 - entered.0).max(0);
                    stayed += w;
                    *st.market.watch.entry((si, u)).or_insert(0) += w;
                    // A stay never ends before it began (an end sent with an earlier time).
                    s.curve.leave(minute_of(start, (*at).max(entered)));
                }
                s.watch_ms += stayed;
                st.anchors[s.anchor as usize].live_session = None;
            }
            Event::ViewerEntered { session, user, at } => {
                let si = idx!(session_ids, session, "session");
                let u = st.users.intern(user);
                let s = &mut st.sessions[si as usize];
                s.present.insert(u, *at);
                s.unique_viewers.insert(u);
                s.entries += 1;
                s.peak_concurrent = s.peak_concurrent.max(s.present.len() as u64);
                s.touch(*at);
                let m = s.minute_of(*at);
                s.curve.enter(m);
            }
            Event::ViewerLeft { session, user, at } => {
                let si = idx!(session_ids, session, "session");
                let u = idx!(users, user, "user");
                let s = &mut st.sessions[si as usize];
                let entered =
                    s.present.remove(&u).ok_or_else(|| fail(format!("user `{user}` is not in session `{session}`")))?;
                s.watch_ms += (at.0 - entered.0).max(0);
                s.touch(*at);
                let m = s.minute_of((*at).max(entered));
                s.curve.leave(m);
                *st.market.watch.entry((si, u)).or_insert(0) += (at.0 - entered.0).max(0);
            }
            Event::Interacted { session, user, kind, at } => {
                let si = idx!(session_ids, session, "session");
                let u = st.users.intern(user);
                st.sessions[si as usize].interactions[kind.index()] += 1;
                st.sessions[si as usize].touch(*at);
                if *kind == cmd::InteractionKind::Follow {
                    let a = st.sessions[si as usize].anchor;
                    st.market.follows.entry((a, u)).or_insert(*at);
                }
            }
            Event::OrderPaid {
                order,
                user,
                merchant,
                channel,
                session,
                anchor,
                provider,
                self_broadcast,
                lines,
                at,
            } => {
                let m = idx!(merchant_ids, merchant, "merchant");
                let a = match anchor {
                    Some(x) => Some(idx!(anchor_ids, x, "anchor")),
                    None => None,
                };
                let p = match provider {
                    Some(x) => Some(idx!(provider_ids, x, "provider")),
                    None => None,
                };
                let s = match session {
                    Some(x) => Some(idx!(session_ids, x, "session")),
                    None => None,
                };
                let u = st.users.intern(user);
                let paid = Fen(lines.iter().map(|l| l.paid).sum());
                let slices =
                    Slices { channel: *channel, self_broadcast: *self_broadcast, provider_served: p.is_some() };
                let anchor_tier = a.and_then(|a| st.anchors[a as usize].tier);
                let rec = Order {
                    user: u,
                    merchant: m,
                    anchor: a,
                    provider: p,
                    session: s,
                    anchor_tier,
                    slices,
                    at: *at,
                    paid,
                    refunded: Fen::ZERO,
                };
                for stats in Self::stats_of(st, &rec) {
                    stats.add_paid(slices, u, paid);
                }
                if let Some(si) = s {
                    let sess = &mut st.sessions[si as usize];
                    sess.touch(*at);
                    for l in lines {
                        let k = st.skus.intern(&l.sku);
                        let p = sess.products.entry((m, k)).or_default();
                        p.orders += 1;
                        p.qty += l.qty;
                        p.paid += Fen(l.paid);
                    }
                }
                st.orders.insert(order.as_str().into(), rec);
            }
            Event::Refunded { order, amount, refund_id, .. } => {
                let o = st.orders.get(order.as_str()).ok_or_else(|| fail(format!("unknown order `{order}`")))?.clone();
                let amount = Fen(*amount);
                if amount > o.paid - o.refunded {
                    return Err(fail(format!("refund of {} fen exceeds what order `{order}` has left", amount.0)));
                }
                for stats in Self::stats_of(st, &o) {
                    stats.add_refund(o.slices, amount);
                }
                if let Some(x) = st.orders.get_mut(order.as_str()) {
                    x.refunded += amount;
                }
                if let Some(id) = refund_id {
                    st.refund_ids.insert(id.as_str().into());
                }
            }
            _ => unreachable!("marketing events are applied by apply_market"),
        }
        st.events += 1;
        Ok(())
    }

    /// Every running total an order counts toward. A refund reduces the same totals the
    /// order increased, including the festival day the order was paid on.
    fn stats_of<'s>(st: &'s mut State, o: &Order) -> Vec<&'s mut Stats> {
        let tier = st.merchants[o.merchant as usize].brand_tier;
        let mut v: Vec<&'s mut Stats> = Vec::with_capacity(8);
        v.push(&mut st.total);
        v.push(&mut st.merchants[o.merchant as usize].stats);
        v.push(&mut st.by_brand_tier[tier.index()]);
        v.push(st.by_day.entry(o.at.day()).or_default());
        if let Some(a) = o.anchor {
            v.push(&mut st.anchors[a as usize].stats);
        }
        if let Some(t) = o.anchor_tier {
            v.push(&mut st.by_anchor_tier[t as usize]);
        }
        if let Some(p) = o.provider {
            v.push(&mut st.providers[p as usize].stats);
        }
        if let Some(s) = o.session {
            v.push(&mut st.sessions[s as usize].stats);
        }
        v
    }
}
