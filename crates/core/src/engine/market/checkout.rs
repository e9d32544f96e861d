//! Checkout: a cart priced and its discounts reserved (`checkout`), paid (`pay`, one
//! order per merchant), released (`cancel`, or a payment timeout at a tick), and what a
//! refund of one of its orders gives back — decide and apply, and each discount's money
//! moving through reserve, redeem, release and return. docs/checkout.md specifies it;
//! `candidates` prices the cart.

use crate::command as cmd;
use crate::engine::bounds::within;
use crate::engine::{check_id, idx, limits, opt_idx, reject, Applied, Engine};
use crate::error::{Code, Rejection};
use crate::event::{Event, LineRec, QuoteRec};
use crate::kinds::{Channel, Layer, ReleaseReason};
use crate::market::quote::MAX_LINES;
use crate::market::{timer, Budget, Checkout, CheckoutState, Discount, HeldState, Market, Quote};
use crate::money::Fen;
use crate::state::State;
use crate::time::Ts;

impl Engine {
    /// A checkout that is still reserved (neither paid nor released).
    fn open_checkout(&self, id: &str) -> Result<(u32, &Checkout), Rejection> {
        let st = &self.state;
        let ci = st.market.checkout_ids.get(id).ok_or_else(|| {
            Rejection::new(Code::UnknownCheckout, format!("no checkout `{id}` exists; create it with checkout first"))
        })?;
        let co = &st.market.checkouts[ci as usize];
        let what = match co.state {
            CheckoutState::Reserved => return Ok((ci, co)),
            CheckoutState::Paid(t) => format!("was paid at {t}"),
            CheckoutState::Released(t, r) => format!(
                "was released at {t} ({})",
                if r == ReleaseReason::Timeout { "payment timeout" } else { "cancelled" }
            ),
        };
        reject(Code::CheckoutNotOpen, format!("checkout `{id}` {what}"))
    }

    /// The cart is priced now, and the quote recorded with the payment deadline.
    pub(in crate::engine) fn decide_checkout(&self, k: &cmd::Checkout, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let st = &self.state;
        check_id("checkout", &k.checkout)?;
        check_id("user", &k.user)?;
        self.in_festival(k.at)?;
        if st.market.checkout_ids.get(&k.checkout).is_some() {
            return reject(Code::DuplicateCheckout, format!("checkout `{}` already exists; use a new id", k.checkout));
        }
        let Some(first) = k.lines.first() else {
            return reject(Code::EmptyOrder, format!("a cart needs 1 to {MAX_LINES} lines, got 0"));
        };
        // The same channel and session rules as an order.
        self.attribution(self.merchant_idx(&first.merchant)?, k.channel, k.session.as_deref(), k.at)?;
        if let Some(s) = &k.session {
            self.live_session(s, k.at)?;
        }
        let quote = self.quote(&k.user, &k.lines, k.at)?;
        for m in quote.merchants() {
            self.check_new_order(&Checkout::order_id(&k.checkout, m))?;
        }
        // Every promotion's spend and reservations are part of this festival-wide sum.
        let held = st.market.totals.discounts_fen;
        within("the discounts of open and paid checkouts", "fen", held, quote.discount_total as i128, limits::TOTAL)?;
        out.push(Event::CheckoutReserved {
            id: k.id.clone(),
            checkout: k.checkout.clone(),
            user: k.user.clone(),
            channel: k.channel,
            session: k.session.clone(),
            pay_by: Ts(k.at.0 + self.festival.checkout.payment_timeout_s * 1000),
            quote: QuoteRec::from(&quote),
            at: k.at,
        });
        Ok(())
    }

    /// A payment: one order per merchant of the cart, attributed now.
    pub(in crate::engine) fn decide_pay(&self, k: &cmd::Pay, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let st = &self.state;
        let (_, co) = self.open_checkout(&k.checkout)?;
        if k.at < co.at {
            return reject(Code::InvalidValue, format!("`at` {} is before the checkout at {}", k.at, co.at));
        }
        // The orders a payment records must be inside the festival, like any order.
        self.in_festival(k.at)?;
        if k.at > co.pay_by {
            return reject(
                Code::PaymentTimeout,
                format!("checkout `{}` had to be paid by {}; `at` is {}", k.checkout, co.pay_by, k.at),
            );
        }
        out.push(Event::CheckoutPaid { id: k.id.clone(), checkout: k.checkout.clone(), at: k.at });
        let q = &co.quote;
        for m in q.merchants() {
            let mi = self.merchant_idx(m)?;
            let (session, anchor, provider, self_broadcast) =
                self.attribution(mi, co.channel, co.session.map(|s| st.session_ids.name(s)), k.at)?;
            let lines = q
                .lines
                .iter()
                .zip(&q.pay)
                .filter(|(l, _)| l.merchant == m)
                .map(|(l, &paid)| LineRec { sku: l.sku.clone(), qty: l.qty, price: l.price, paid })
                .collect();
            out.push(Event::OrderPaid {
                order: Checkout::order_id(&k.checkout, m),
                user: st.users.name(co.user).to_string(),
                merchant: m.to_string(),
                channel: co.channel,
                session,
                anchor,
                provider,
                self_broadcast,
                lines,
                at: k.at,
            });
        }
        Ok(())
    }

    pub(in crate::engine) fn decide_cancel(&self, k: &cmd::Cancel, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let (_, co) = self.open_checkout(&k.checkout)?;
        if k.at < co.at {
            return reject(Code::InvalidValue, format!("`at` {} is before the checkout at {}", k.at, co.at));
        }
        out.push(Event::CheckoutReleased {
            id: Some(k.id.clone()),
            checkout: k.checkout.clone(),
            reason: ReleaseReason::Cancelled,
            at: k.at,
        });
        Ok(())
    }

    /// A checkout's payment deadline at a tick: released, if still reserved.
    pub(super) fn checkout_due(&self, i: u32, due: Ts) -> Option<Event> {
        let m = &self.state.market;
        (m.checkouts[i as usize].state == CheckoutState::Reserved).then(|| Event::CheckoutReleased {
            id: None,
            checkout: m.checkout_ids.name(i).to_string(),
            reason: ReleaseReason::Timeout,
            at: due,
        })
    }

    /// After a refund of a checkout's order: each discount's proportional share comes
    /// back, and coupons return to the wallet when every order they touched is fully
    /// refunded (if the coupon says so). docs/checkout.md, "Refunds".
    pub(in crate::engine) fn decide_discount_returns(&self, order: &str, amount: i64, at: Ts, out: &mut Vec<Event>) {
        let st = &self.state;
        let m = &st.market;
        let Some(&ci) = m.order_checkout.get(order) else { return };
        let co = &m.checkouts[ci as usize];
        let o = &st.orders[order];
        let merchant = st.merchant_ids.name(o.merchant);
        let mine: Vec<usize> = (0..co.quote.lines.len()).filter(|&n| co.quote.lines[n].merchant == merchant).collect();
        let paid = o.paid.0;
        let (before, after) = (o.refunded.0, o.refunded.0 + amount);
        let share = |d: i64, r: i64| if paid == 0 { 0 } else { (d as i128 * r as i128 / paid as i128) as i64 };
        let returns: Vec<i64> = co
            .quote
            .discounts
            .iter()
            .map(|d| {
                let dm: i64 = mine.iter().map(|&n| d.lines[n]).sum();
                share(dm, after) - share(dm, before)
            })
            .collect();
        let checkout = st.market.checkout_ids.name(ci);
        let fully_refunded = |mname: &str| {
            if mname == merchant {
                return after == paid;
            }
            st.orders.get(Checkout::order_id(checkout, mname).as_str()).is_some_and(|x| x.refunded == x.paid)
        };
        let mut restored = Vec::new();
        for d in &co.quote.discounts {
            if !matches!(d.layer, Layer::StoreCoupon | Layer::PlatformCoupon) {
                continue;
            }
            let touches_me = mine.iter().any(|&n| d.lines[n] != 0);
            let c = &m.coupons[m.coupon_ids.get(&d.promo).expect("coupon") as usize];
            if !touches_me || !c.return_on_refund || after != paid {
                continue;
            }
            let all = (0..co.quote.lines.len())
                .filter(|&n| d.lines[n] != 0)
                .all(|n| fully_refunded(&co.quote.lines[n].merchant));
            if all {
                restored.push(d.held.expect("coupon discounts name their wallet entry"));
            }
        }
        if returns.iter().any(|&r| r != 0) || !restored.is_empty() {
            out.push(Event::DiscountsReturned { order: order.to_string(), returns, restored, at });
        }
    }
}

/// The quote's discounts are reserved, its orders' ids taken, its deadline set.
#[allow(clippy::too_many_arguments, reason = "the fields of one event, as the dispatch destructures it")]
pub(in crate::engine) fn reserved(
    st: &mut State,
    checkout: &str,
    user: &str,
    channel: Channel,
    session: Option<&str>,
    pay_by: Ts,
    quote: &QuoteRec,
    at: Ts,
) -> Applied {
    let quote = Quote::from(quote);
    let u = st.users.intern(user);
    let s = opt_idx(&st.session_ids, session, "session")?;
    let ci = st.market.checkout_ids.intern(checkout);
    for d in &quote.discounts {
        move_discount(&mut st.market, u, d, Move::Reserve(ci))?;
    }
    for m in quote.merchants() {
        st.market.pending_orders.insert(Checkout::order_id(checkout, m).into());
    }
    st.market.timers.insert((pay_by, timer::CHECKOUT, ci));
    st.market.totals.discounts_fen += quote.discount_total;
    st.market.checkouts.push(Checkout {
        user: u,
        channel,
        session: s,
        at,
        pay_by,
        returned: vec![0; quote.discounts.len()],
        quote,
        state: CheckoutState::Reserved,
    });
    Ok(())
}

/// Paid (`to` = `Paid`): the discounts are redeemed and the orders belong to the
/// checkout. Released: the discounts go back.
pub(in crate::engine) fn closed(st: &mut State, checkout: &str, to: CheckoutState) -> Applied {
    let ci = idx(&st.market.checkout_ids, checkout, "checkout")?;
    let m = &mut st.market;
    let co = &mut m.checkouts[ci as usize];
    let paid = matches!(to, CheckoutState::Paid(_));
    co.state = to;
    m.timers.remove(&(co.pay_by, timer::CHECKOUT, ci));
    let (u, discounts, pay_total) = (co.user, co.quote.discounts.clone(), co.quote.pay_total);
    if !paid {
        m.totals.discounts_fen -= co.quote.discount_total;
    }
    for d in &discounts {
        move_discount(m, u, d, if paid { Move::Redeem(ci, pay_total) } else { Move::Release })?;
    }
    let oids: Vec<String> = m.checkouts[ci as usize]
        .quote
        .merchants()
        .into_iter()
        .map(|mname| Checkout::order_id(m.checkout_ids.name(ci), mname))
        .collect();
    for oid in oids {
        m.pending_orders.remove(oid.as_str());
        if paid {
            m.order_checkout.insert(oid.into(), ci);
        }
    }
    Ok(())
}

pub(in crate::engine) fn discounts_returned(st: &mut State, order: &str, returns: &[i64], restored: &[u32]) -> Applied {
    let ci = *st.market.order_checkout.get(order).ok_or_else(|| format!("order `{order}` is not a checkout's"))?;
    let m = &mut st.market;
    let u = m.checkouts[ci as usize].user;
    let discounts = m.checkouts[ci as usize].quote.discounts.clone();
    if returns.len() != discounts.len() {
        return Err("returns do not match the checkout's discounts".into());
    }
    for (i, (d, &r)) in discounts.iter().zip(returns).enumerate() {
        m.checkouts[ci as usize].returned[i] += r;
        move_discount(m, u, d, Move::Return(r))?;
    }
    for &h in restored {
        let held = m
            .wallets
            .get_mut(&u)
            .and_then(|w| w.coupons.get_mut(h as usize))
            .ok_or_else(|| format!("no wallet coupon {h}"))?;
        held.state = HeldState::Available;
    }
    Ok(())
}

enum Move {
    Reserve(u32),
    /// Checkout and its buyer-paid total.
    Redeem(u32, i64),
    Release,
    Return(i64),
}

/// Moves one discount's money and wallet entry through the checkout life cycle.
fn move_discount(m: &mut Market, user: u32, d: &Discount, mv: Move) -> Result<(), String> {
    let amt = Fen(d.amount);
    let budget: Option<&mut Budget> = match d.layer {
        Layer::PriceCut => m.cut_ids.get(&d.promo).map(|i| &mut m.cuts[i as usize].budget),
        Layer::StoreFullcut | Layer::CrossStoreFullcut => {
            m.fullcut_ids.get(&d.promo).map(|i| &mut m.fullcuts[i as usize].budget)
        }
        Layer::StoreCoupon | Layer::PlatformCoupon => {
            m.coupon_ids.get(&d.promo).map(|i| &mut m.coupons[i as usize].budget)
        }
        Layer::RedPacket => None,
    };
    if let Some(b) = budget {
        match mv {
            Move::Reserve(_) => b.reserved += amt,
            Move::Redeem(..) => {
                b.reserved -= amt;
                b.spent += amt;
            }
            Move::Release => b.reserved -= amt,
            Move::Return(r) => b.spent -= Fen(r),
        }
    }
    match d.layer {
        Layer::StoreCoupon | Layer::PlatformCoupon => {
            let c = m.coupon_ids.get(&d.promo).ok_or("unknown coupon")?;
            let h = d.held.ok_or("a coupon discount without its wallet entry")?;
            let held =
                m.wallets.get_mut(&user).and_then(|w| w.coupons.get_mut(h as usize)).ok_or("no wallet coupon")?;
            match mv {
                Move::Reserve(ci) => held.state = HeldState::Reserved(ci),
                Move::Redeem(ci, pay) => {
                    held.state = HeldState::Redeemed(ci);
                    let cp = &mut m.coupons[c as usize];
                    cp.redeemed += 1;
                    cp.gmv += Fen(pay);
                }
                Move::Release => held.state = HeldState::Available,
                Move::Return(_) => {}
            }
        }
        Layer::RedPacket => {
            let h = d.held.ok_or("a red-packet discount without its wallet entry")?;
            let al = m.wallets.get_mut(&user).and_then(|w| w.allowances.get_mut(h as usize)).ok_or("no allowance")?;
            match mv {
                Move::Reserve(_) => al.left -= amt,
                Move::Release => al.left += amt,
                Move::Return(r) => al.left += Fen(r),
                Move::Redeem(..) => {}
            }
        }
        Layer::StoreFullcut | Layer::CrossStoreFullcut => {
            if let Move::Redeem(..) = mv {
                if let Some(i) = m.fullcut_ids.get(&d.promo) {
                    m.fullcuts[i as usize].used += 1;
                }
            }
        }
        Layer::PriceCut => {}
    }
    Ok(())
}
