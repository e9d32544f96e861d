//! JSON read models of the marketing tools for `dacu show` (money in fen, times RFC 3339).

use super::*;
use crate::state::State;
use serde_json::{json, Value as Json};

fn budget(b: &Budget) -> Json {
    json!({
        "cap": b.cap.map(|c| c.0),
        "spent": b.spent.0,
        "reserved": b.reserved.0,
        "left": b.left(),
    })
}

fn held_state(m: &Market, s: HeldState) -> Json {
    match s {
        HeldState::Available => json!({"state": "available"}),
        HeldState::Reserved(c) => json!({"state": "reserved", "checkout": m.checkout_ids.name(c)}),
        HeldState::Redeemed(c) => json!({"state": "redeemed", "checkout": m.checkout_ids.name(c)}),
    }
}

/// A user's wallet: coupons (with their wallet index) and red-packet money.
pub fn wallet(st: &State, user: &str) -> Option<Json> {
    let m = &st.market;
    let u = st.users.get(user)?;
    let empty = Wallet::default();
    let w = m.wallets.get(&u).unwrap_or(&empty);
    let coupons: Vec<Json> = w
        .coupons
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let mut v = json!({
                "held": i,
                "coupon": m.coupon_ids.name(h.coupon),
                "claimed_at": h.claimed_at,
                "valid_from": h.from,
                "valid_until": h.until,
            });
            v.as_object_mut().expect("object").extend(held_state(m, h.state).as_object().expect("object").clone());
            v
        })
        .collect();
    let allowances: Vec<Json> = w
        .allowances
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let Source::Packet(p) = a.source;
            json!({
                "held": i,
                "red_packet": m.packet_ids.name(p),
                "amount": a.amount.0,
                "left": a.left.0,
                "usable_merchant": a.merchant.map(|x| st.merchant_ids.name(x)),
                "got_at": a.got_at,
                "valid_until": a.until,
            })
        })
        .collect();
    Some(json!({
        "user": user,
        "coupons": coupons,
        "red_packet_money": allowances,
        "red_packet_money_left": w.allowances.iter().map(|a| a.left.0).sum::<i64>(),
    }))
}

pub fn coupon(st: &State, id: &str) -> Option<Json> {
    let m = &st.market;
    let c = &m.coupons[m.coupon_ids.get(id)? as usize];
    let scope = match &c.scope {
        CouponScope::Platform => json!({"scope": "platform"}),
        CouponScope::Store(x) => json!({"scope": "store", "merchant": st.merchant_ids.name(*x)}),
        CouponScope::Skus(x, skus) => json!({"scope": "skus", "merchant": st.merchant_ids.name(*x), "skus": skus}),
        CouponScope::Category(cat) => json!({"scope": "category", "category": cat}),
    };
    Some(json!({
        "coupon": id,
        "issuer": st.party_name(c.issuer),
        "bearer": st.party_name(c.bearer),
        "scope": scope,
        "value": c.value,
        "stock": c.stock,
        "claimed": c.claimed,
        "stock_left": c.stock - c.claimed,
        "per_user": c.per_user,
        "claim_from": c.claim_from,
        "claim_until": c.claim_until,
        "redeemed": c.redeemed,
        "gmv": c.gmv.0,
        "return_on_refund": c.return_on_refund,
        "budget": budget(&c.budget),
    }))
}

/// A red packet. Until it is finished (every share grabbed, or expired at a tick) only the
/// shares already grabbed are shown, with the commitment: the seed, the secret and the
/// shares to come would let anyone pick their moment to grab. Once finished, all of them,
/// so that anyone can check the split (docs/red-packets.md#commit-and-reveal).
pub fn packet(st: &State, id: &str) -> Option<Json> {
    let m = &st.market;
    let p = &m.packets[m.packet_ids.get(id)? as usize];
    let done = p.finished();
    let shown = if done { p.shares.len() } else { p.grabbers.len() };
    Some(json!({
        "red_packet": id,
        "session": st.session_ids.name(p.session),
        "issuer": st.party_name(p.issuer),
        "total": p.total.0,
        "count": p.count,
        "split": p.method,
        "finished": done,
        "commitment": p.commitment,
        "seed": done.then_some(p.seed),
        "secret": if done { p.secret.as_deref() } else { None },
        "grabbed": p.grabbers.len(),
        "granted": p.granted.0,
        "returned": p.returned.map(|r| r.0),
        "opens_at": p.opens_at,
        "expires_at": p.expires_at,
        "followers_only": p.eligibility.followers_only,
        "passphrase": p.eligibility.passphrase,
        "min_watch_s": p.eligibility.min_watch_ms / 1000,
        "shares": &p.shares[..shown],
    }))
}

pub fn group(st: &State, id: &str) -> Option<Json> {
    let m = &st.market;
    let g = &m.groups[m.group_ids.get(id)? as usize];
    let d = &m.deals[g.deal as usize];
    let (state, at) = match g.state {
        GroupState::Open => ("open", None),
        GroupState::Formed(t) => ("formed", Some(t)),
        GroupState::Failed(t) => ("failed", Some(t)),
    };
    Some(json!({
        "group": id,
        "deal": m.deal_ids.name(g.deal),
        "merchant": st.merchant_ids.name(d.merchant),
        "sku": d.sku,
        "group_price": d.group_price.0,
        "size": d.size,
        "state": state,
        "closed_at": at,
        "opened": g.opened,
        "deadline": g.deadline,
        "members": g.members.iter().map(|x| json!({"user": st.users.name(x.user), "order": x.order, "at": x.at})).collect::<Vec<_>>(),
    }))
}

/// A lottery's published record: the commitment always; the secret, the eligible list
/// and the winners once drawn (the input of `dacu verify-draw`).
pub fn lottery(st: &State, id: &str) -> Option<Json> {
    let m = &st.market;
    let l = &m.lotteries[m.lottery_ids.get(id)? as usize];
    let mut v = json!({
        "lottery": id,
        "session": st.session_ids.name(l.session),
        "issuer": st.party_name(l.issuer),
        "prize": {"kind": l.prize.kind, "name": l.prize.name, "value": l.prize.value.0,
                  "coupon": l.prize.coupon.map(|c| m.coupon_ids.name(c))},
        "winners_wanted": l.winners,
        "draw_at": l.draw_at,
        "commitment": l.commitment,
    });
    if let Some(d) = &l.drawn {
        let o = v.as_object_mut().expect("object");
        o.insert("drawn_at".into(), json!(d.at));
        o.insert("secret".into(), json!(l.secret));
        o.insert("eligible".into(), json!(d.eligible));
        o.insert("winners".into(), json!(d.winners));
    }
    Some(v)
}

pub fn checkout(st: &State, id: &str) -> Option<Json> {
    let m = &st.market;
    let c = &m.checkouts[m.checkout_ids.get(id)? as usize];
    let (state, at, reason) = match c.state {
        CheckoutState::Reserved => ("reserved", None, None),
        CheckoutState::Paid(t) => ("paid", Some(t), None),
        CheckoutState::Released(t, r) => ("released", Some(t), Some(r)),
    };
    Some(json!({
        "checkout": id,
        "user": st.users.name(c.user),
        "state": state,
        "state_at": at,
        "release_reason": reason,
        "at": c.at,
        "pay_by": c.pay_by,
        "quote": c.quote,
        "returned": c.returned,
    }))
}

/// What the marketing tools did, festival-wide: for `dacu report` and the demo.
/// Discounts count paid checkouts only; `discounts_returned` is what refunds gave back.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub coupons: u64,
    pub coupons_claimed: u64,
    pub coupons_redeemed: u64,
    pub checkouts: u64,
    pub checkouts_paid: u64,
    pub checkouts_released: u64,
    pub discounts_by_layer: std::collections::BTreeMap<&'static str, i64>,
    /// By who bears the cost: platform, merchants, anchors.
    pub discounts_by_bearer: std::collections::BTreeMap<&'static str, i64>,
    pub discounts_returned: i64,
    pub red_packets: u64,
    pub red_packet_total: i64,
    pub red_packet_grabs: u64,
    pub red_packet_granted: i64,
    pub red_packet_returned: i64,
    pub groups_formed: u64,
    pub groups_failed: u64,
    pub lotteries: u64,
    pub lotteries_drawn: u64,
    pub lottery_winners: u64,
}

pub fn summary(st: &State) -> Summary {
    let m = &st.market;
    let mut s = Summary {
        coupons: m.coupons.len() as u64,
        coupons_claimed: m.coupons.iter().map(|c| c.claimed).sum(),
        coupons_redeemed: m.coupons.iter().map(|c| c.redeemed).sum(),
        checkouts: m.checkouts.len() as u64,
        red_packets: m.packets.len() as u64,
        red_packet_total: m.packets.iter().map(|p| p.total.0).sum(),
        red_packet_grabs: m.packets.iter().map(|p| p.grabbers.len() as u64).sum(),
        red_packet_granted: m.packets.iter().map(|p| p.granted.0).sum(),
        red_packet_returned: m.packets.iter().filter_map(|p| p.returned).map(|r| r.0).sum(),
        groups_formed: m.deals.iter().map(|d| d.formed).sum(),
        groups_failed: m.deals.iter().map(|d| d.failed).sum(),
        lotteries: m.lotteries.len() as u64,
        lotteries_drawn: m.lotteries.iter().filter(|l| l.drawn.is_some()).count() as u64,
        lottery_winners: m.lotteries.iter().filter_map(|l| l.drawn.as_ref()).map(|d| d.winners.len() as u64).sum(),
        ..Summary::default()
    };
    for c in &m.checkouts {
        match c.state {
            CheckoutState::Paid(_) => s.checkouts_paid += 1,
            CheckoutState::Released(..) => s.checkouts_released += 1,
            CheckoutState::Reserved => {}
        }
        if !matches!(c.state, CheckoutState::Paid(_)) {
            continue;
        }
        for d in &c.quote.discounts {
            *s.discounts_by_layer.entry(d.layer.as_str()).or_default() += d.amount;
            for (who, amount) in &d.bearers {
                let kind = match who.split(':').next() {
                    Some("merchant") => "merchants",
                    Some("anchor") => "anchors",
                    _ => "platform",
                };
                *s.discounts_by_bearer.entry(kind).or_default() += amount;
            }
        }
        s.discounts_returned += c.returned.iter().sum::<i64>();
    }
    s
}
