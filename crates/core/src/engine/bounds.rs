//! The bounds on running totals ([`crate::limits`]), checked in `decide` before anything is
//! recorded: `apply` must never meet a total it cannot hold, so a command that would take
//! one past its bound is refused with `limit_exceeded` and changes nothing.

use super::{reject, Engine};
use crate::error::{Code, Rejection};
use crate::event::Event;
use crate::limits::{fits, ORDER_FEN, TOTAL};
use crate::time::Ts;

/// Refuses `add` on top of `current` when the sum would pass `bound`, naming the total
/// and what would still be accepted.
pub(super) fn within(what: &str, unit: &str, current: i64, add: i128, bound: i64) -> Result<(), Rejection> {
    if fits(current, add, bound) {
        return Ok(());
    }
    let room = (bound as i128 - current as i128).max(0);
    reject(
        Code::LimitExceeded,
        format!("{what} is {current} {unit} and this would add {add}; it may reach at most {bound} {unit}, so at most {room} more is accepted"),
    )
}

impl Engine {
    /// The orders a command records (`order_paid`, the `pay` of a checkout, the join that
    /// forms a group): each comes to at most [`ORDER_FEN`], together they keep the
    /// festival's gross GMV within [`TOTAL`] — every other sales total (merchant, anchor,
    /// provider, session, day, tier, board, coupon GMV) is part of it — and live orders
    /// keep each session's product quantities within [`TOTAL`].
    pub(super) fn check_orders(&self, events: &[Event]) -> Result<(), Rejection> {
        let st = &self.state;
        let mut paid_in: i128 = 0;
        // ((session, merchant, sku), quantity) of products the sessions already sold.
        let mut qty: Vec<((u32, u32, u32), i64)> = Vec::new();
        for ev in events {
            let Event::OrderPaid { order, merchant, session, lines, .. } = ev else { continue };
            let paid: i128 = lines.iter().map(|l| l.paid as i128).sum();
            if paid > ORDER_FEN as i128 {
                return reject(
                    Code::LimitExceeded,
                    format!(
                        "order `{order}` comes to {paid} fen; one order may come to at most {ORDER_FEN} fen (¥100,000,000,000): split it"
                    ),
                );
            }
            paid_in += paid;
            let s = session.as_deref().and_then(|x| st.session_ids.get(x));
            let (Some(s), Some(m)) = (s, st.merchant_ids.get(merchant)) else { continue };
            let products = &st.sessions[s as usize].products;
            for l in lines {
                if let Some(k) = st.skus.get(&l.sku).filter(|k| products.contains_key(&(m, *k))) {
                    qty.push(((s, m, k), l.qty));
                }
            }
        }
        let gross = st.total.total().gross.0;
        within("the festival's gross GMV", "fen", gross, paid_in, TOTAL)?;
        qty.sort_unstable();
        for run in qty.chunk_by(|a, b| a.0 == b.0) {
            let (s, m, k) = run[0].0;
            let have = st.sessions[s as usize].products[&(m, k)].qty;
            let add: i128 = run.iter().map(|x| x.1 as i128).sum();
            let what = format!(
                "the quantity of sku `{}` of merchant `{}` sold in session `{}`",
                st.skus.name(k),
                st.merchant_ids.name(m),
                st.session_ids.name(s)
            );
            within(&what, "units", have, add, TOTAL)?;
        }
        Ok(())
    }

    /// A session's watch time (ms) after stays that end now: within [`TOTAL`].
    pub(super) fn check_watch(&self, session: u32, stays_ms: i128) -> Result<(), Rejection> {
        let s = &self.state.sessions[session as usize];
        let what = format!("the watch time of session `{}`", self.state.session_ids.name(session));
        within(&what, "ms", s.watch_ms, stays_ms, TOTAL)
    }

    /// The stays still open in a session when it ends at `at`.
    pub(super) fn open_stays_ms(&self, session: u32, at: Ts) -> i128 {
        let s = &self.state.sessions[session as usize];
        s.present.values().map(|entered| (at.0 - entered.0).max(0) as i128).sum()
    }
}
