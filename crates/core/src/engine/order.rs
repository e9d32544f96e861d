//! Orders and refunds: validating an order's lines, attributing it (session, anchor,
//! provider, self-broadcast) once when it is paid, refunds — decide and apply, and the
//! running totals an order counts toward. docs/commands.md documents every rule here.

use super::{check_id, idx, limits, opt_idx, reject, Applied, Attribution, Engine};
use crate::command::{self as cmd, Line};
use crate::error::{Code, Rejection};
use crate::event::{Event, LineRec};
use crate::kinds::Channel;
use crate::money::Fen;
use crate::state::{OptIdx, Order, Slices, State, Stats};
use crate::time::Ts;

impl Engine {
    pub(super) fn decide_order(&self, o: &cmd::OrderPaid, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let st = &self.state;
        check_id("order", &o.order)?;
        check_id("user", &o.user)?;
        self.in_festival(o.at)?;
        if st.orders.contains_key(o.order.as_str()) || st.market.pending_orders.contains(o.order.as_str()) {
            return reject(Code::DuplicateOrder, format!("order `{}` was already paid; order ids are unique", o.order));
        }
        let mi = self.merchant_idx(&o.merchant)?;
        check_lines(&o.lines)?;
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
            lines: o.lines.iter().map(LineRec::from).collect(),
            at: o.at,
        });
        Ok(())
    }

    /// A refund, and after it what a checkout's discounts give back.
    pub(super) fn decide_refund(&self, r: &cmd::Refund, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let st = &self.state;
        // A refund id is an idempotency key: a resent refund is recognised as such before
        // anything else about it is judged.
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

    /// An order id that no order, group member or checkout has taken.
    pub(super) fn check_new_order(&self, order: &str) -> Result<(), Rejection> {
        check_id("order", order)?;
        let st = &self.state;
        if st.orders.contains_key(order) || st.market.pending_orders.contains(order) {
            return reject(Code::DuplicateOrder, format!("order `{order}` already exists; order ids are unique"));
        }
        Ok(())
    }
}

/// An order's lines: 1 to 1000, each a valid sku, quantity and price, paid at most its
/// list amount, no sku twice.
fn check_lines(lines: &[Line]) -> Result<(), Rejection> {
    if lines.is_empty() || lines.len() > limits::ORDER_LINES {
        return reject(
            Code::EmptyOrder,
            format!("an order needs 1 to {} lines, got {}", limits::ORDER_LINES, lines.len()),
        );
    }
    let mut skus: crate::hash::Map<&str, usize> = Default::default();
    for (n, l) in lines.iter().enumerate() {
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
    Ok(())
}

/// An order's attribution as recorded: (session, anchor, provider, self-broadcast).
pub(super) type Who<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>, bool);

#[allow(clippy::too_many_arguments, reason = "the fields of one event, as the dispatch destructures it")]
pub(super) fn order_paid(
    st: &mut State,
    order: &str,
    user: &str,
    merchant: &str,
    channel: Channel,
    who: Who<'_>,
    lines: &[LineRec],
    at: Ts,
) -> Applied {
    let (session, anchor, provider, self_broadcast) = who;
    let m = idx(&st.merchant_ids, merchant, "merchant")?;
    let a = opt_idx(&st.anchor_ids, anchor, "anchor")?;
    let p = opt_idx(&st.provider_ids, provider, "provider")?;
    let s = opt_idx(&st.session_ids, session, "session")?;
    let u = st.users.intern(user);
    let paid = Fen(lines.iter().map(|l| l.paid).sum());
    let slices = Slices { channel, self_broadcast, provider_served: p.is_some() };
    let anchor_tier = a.and_then(|a| st.anchors[a as usize].tier);
    let rec = Order {
        user: u,
        merchant: m,
        anchor: OptIdx::new(a),
        provider: OptIdx::new(p),
        session: OptIdx::new(s),
        anchor_tier: OptIdx::new(anchor_tier),
        slices,
        at,
        paid,
        refunded: Fen::ZERO,
    };
    for stats in stats_of(st, &rec) {
        stats.add_paid(slices, u, paid);
    }
    let hour = st.by_hour.entry(crate::state::hour_of(at)).or_default();
    hour.money.gross += paid;
    hour.orders += 1;
    if let Some(si) = s {
        let sess = &mut st.sessions[si as usize];
        sess.touch(at);
        for l in lines {
            let k = st.skus.intern(&l.sku);
            let p = sess.products.get_or_default((m, k));
            p.orders += 1;
            p.qty += l.qty;
            p.paid += Fen(l.paid);
        }
    }
    st.orders.insert(order.into(), rec);
    Ok(())
}

pub(super) fn refunded(st: &mut State, order: &str, amount: i64, refund_id: Option<&str>) -> Applied {
    let o = st.orders.get(order).ok_or_else(|| format!("unknown order `{order}`"))?.clone();
    let amount = Fen(amount);
    if amount > o.paid - o.refunded {
        return Err(format!("refund of {} fen exceeds what order `{order}` has left", amount.0));
    }
    for stats in stats_of(st, &o) {
        stats.add_refund(o.slices, amount);
    }
    st.by_hour.entry(crate::state::hour_of(o.at)).or_default().money.refunded += amount;
    if let Some(x) = st.orders.get_mut(order) {
        x.refunded += amount;
    }
    if let Some(id) = refund_id {
        st.refund_ids.insert(id.into());
    }
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
    if let Some(a) = o.anchor.get() {
        v.push(&mut st.anchors[a as usize].stats);
    }
    if let Some(t) = o.anchor_tier.get() {
        v.push(&mut st.by_anchor_tier[t as usize]);
    }
    if let Some(p) = o.provider.get() {
        v.push(&mut st.providers[p as usize].stats);
    }
    if let Some(s) = o.session.get() {
        v.push(&mut st.sessions[s as usize].stats);
    }
    v
}
