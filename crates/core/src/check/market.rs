//! Consistency checks of the marketing tools' state ([`crate::market::Market`]): every
//! index into the market's own tables and the state's (merchants, anchors, sessions,
//! users), the lists that must agree (a packet's shares and its count, a discount's lines
//! and its cart's), the wallet entries checkouts name, the timers, and the amounts within
//! the bounds `decide` keeps.

use super::{count, ensure, index, opt_index, range, sum_within, table, time, At, Lens};
use crate::limits::market as ml;
use crate::limits::{LINE_QTY, ORDER_FEN, TOTAL, UNIT_PRICE_FEN};
use crate::market::quote::{Layer, Rule, Value, MAX_LINES};
use crate::market::*;
use crate::promo::{lottery, redpacket};
use crate::state::State;
use crate::time::Ts;

const DAY_MS: i64 = 86_400_000;

pub(super) fn check(st: &State, n: &Lens) -> Result<(), String> {
    let m = &st.market;
    m.command_ids.check(crate::command::COMMAND_TYPES.len()).at(|| "command ids".into())?;
    tables(m)?;
    coupons(m, n)?;
    claims(m, n)?;
    wallets(m, n)?;
    fullcuts(m, n)?;
    cuts(m, n)?;
    groups(m, n)?;
    packets(m, n)?;
    lotteries(m, n)?;
    checkouts(st, n)?;
    room(m, n)?;
    timers(m)?;
    totals(m)
}

fn tables(m: &Market) -> Result<(), String> {
    table("coupon", &m.coupon_ids, m.coupons.len())?;
    table("满减", &m.fullcut_ids, m.fullcuts.len())?;
    table("price cut", &m.cut_ids, m.cuts.len())?;
    table("group deal", &m.deal_ids, m.deals.len())?;
    table("group", &m.group_ids, m.groups.len())?;
    table("red packet", &m.packet_ids, m.packets.len())?;
    table("lottery", &m.lottery_ids, m.lotteries.len())?;
    table("checkout", &m.checkout_ids, m.checkouts.len())
}

fn amount(what: &str, v: i64, min: i64) -> Result<(), String> {
    range(what, v, min, ml::AMOUNT_FEN)
}

fn opt_amount(what: &str, v: Option<i64>) -> Result<(), String> {
    v.map_or(Ok(()), |v| amount(what, v, 1))
}

/// A subsidy account: a cap as a command gives one, spent and reserved within [`TOTAL`].
fn budget(b: &Budget) -> Result<(), String> {
    opt_amount("the budget's cap", b.cap.map(|c| c.0))?;
    range("the budget's spent", b.spent.0, 0, TOTAL)?;
    range("the budget's reserved", b.reserved.0, 0, TOTAL)
}

fn window(from: Ts, until: Ts) -> Result<(), String> {
    time("a window's start", from)?;
    time("a window's end", until)
}

fn value(v: &Value) -> Result<(), String> {
    amount("threshold", v.threshold(), 0)?;
    match *v {
        Value::Off { off, .. } => amount("off", off, 1),
        Value::Percent { bp, cap, .. } => {
            range("percent_bp", bp, 1, 10_000)?;
            opt_amount("cap", cap)
        }
    }
}

fn coupon(c: &Coupon, n: &Lens) -> Result<(), String> {
    n.party(c.issuer)?;
    n.party(c.bearer)?;
    if let CouponScope::Store(mi) | CouponScope::Skus(mi, _) = c.scope {
        index("merchant", mi, n.merchants)?;
    }
    match c.audience {
        Audience::Everyone => {}
        Audience::Followers(a) | Audience::NewFollowers(a) => index("anchor", a, n.anchors)?,
        Audience::Session(s) => index("session", s, n.sessions)?,
    }
    value(&c.value)?;
    range("stock", c.stock as i64, 1, ml::COUPON_STOCK)?;
    count("claimed", c.claimed, c.stock)?;
    range("per_user", c.per_user as i64, 1, ml::PER_USER)?;
    window(c.claim_from, c.claim_until)?;
    match c.validity {
        Validity::Window { from, until } => window(from, until)?,
        Validity::AfterClaim { ms } => range("valid for (ms)", ms, 0, ml::VALID_DAYS * DAY_MS)?,
    }
    budget(&c.budget)?;
    count("redeemed", c.redeemed, TOTAL as u64)?;
    range("gmv", c.gmv.0, 0, TOTAL)
}

fn coupons(m: &Market, n: &Lens) -> Result<(), String> {
    for (i, c) in m.coupons.iter().enumerate() {
        coupon(c, n).at(|| format!("coupon `{}`", m.coupon_ids.name(i as u32)))?;
    }
    Ok(())
}

/// Every claim names a coupon and a user, and a coupon's claims add up to its `claimed`.
fn claims(m: &Market, n: &Lens) -> Result<(), String> {
    let mut per = vec![0u64; m.coupons.len()];
    for (&(c, u), &k) in &m.claims {
        index("coupon", c, m.coupons.len()).at(|| "a claim".into())?;
        n.user(u).at(|| "a claim".into())?;
        per[c as usize] += k as u64;
    }
    for (i, c) in m.coupons.iter().enumerate() {
        ensure(per[i] == c.claimed, || {
            format!(
                "coupon `{}` was claimed {} times but its claims add up to {}",
                m.coupon_ids.name(i as u32),
                c.claimed,
                per[i]
            )
        })?;
    }
    Ok(())
}

fn held(h: &Held, m: &Market) -> Result<(), String> {
    index("coupon", h.coupon, m.coupons.len())?;
    time("claimed_at", h.claimed_at)?;
    window(h.from, h.until)?;
    match h.state {
        HeldState::Available => Ok(()),
        HeldState::Reserved(c) | HeldState::Redeemed(c) => index("checkout", c, m.checkouts.len()),
    }
}

fn allowance(a: &Allowance, m: &Market, n: &Lens) -> Result<(), String> {
    let Source::Packet(p) = a.source;
    index("red packet", p, m.packets.len())?;
    opt_index("merchant", a.merchant, n.merchants)?;
    amount("amount", a.amount.0, 0)?;
    range("left", a.left.0, 0, a.amount.0)?;
    window(a.got_at, a.until)
}

fn wallets(m: &Market, n: &Lens) -> Result<(), String> {
    for (&u, w) in &m.wallets {
        let here = || format!("the wallet of user {u}");
        n.user(u).at(here)?;
        for (i, h) in w.coupons.iter().enumerate() {
            held(h, m).at(|| format!("the wallet of user {u}, coupon {i}"))?;
        }
        for (i, a) in w.allowances.iter().enumerate() {
            allowance(a, m, n).at(|| format!("the wallet of user {u}, red-packet money {i}"))?;
        }
    }
    Ok(())
}

fn rule(r: &Rule) -> Result<(), String> {
    match r {
        Rule::Tiers(t) => {
            range("tiers", t.len() as i64, 1, ml::TIERS as i64)?;
            t.iter().try_for_each(|&(th, off)| amount("a tier's threshold", th, 1).and(amount("a tier's off", off, 1)))
        }
        Rule::Every { step, off, cap } => {
            amount("every", *step, 1)?;
            amount("off", *off, 1)?;
            opt_amount("cap", *cap)
        }
    }
}

fn fullcut(f: &Fullcut, n: &Lens) -> Result<(), String> {
    opt_index("merchant", f.merchant, n.merchants)?;
    f.merchants.iter().flatten().try_for_each(|&mi| index("merchant", mi, n.merchants))?;
    let bp = if f.is_cross() { 10_000 } else { 0 };
    range("platform_share_bp", f.platform_share_bp, 0, bp)?;
    ensure(f.is_cross() || f.merchants.is_none(), || "a store 满减 lists merchants".into())?;
    rule(&f.rule)?;
    window(f.start, f.end)?;
    budget(&f.budget)?;
    count("used", f.used, TOTAL as u64)
}

/// Marks `i` listed once; the lists of 满减 and price cuts name each one exactly once.
fn listed(seen: &mut [bool], what: &str, i: u32) -> Result<(), String> {
    index(what, i, seen.len())?;
    ensure(!std::mem::replace(&mut seen[i as usize], true), || format!("{what} {i} is listed twice"))
}

fn fullcuts(m: &Market, n: &Lens) -> Result<(), String> {
    for (i, f) in m.fullcuts.iter().enumerate() {
        fullcut(f, n).at(|| format!("满减 `{}`", m.fullcut_ids.name(i as u32)))?;
    }
    // The price search takes a merchant's list as its store 满减 and the cross-store list
    // as the cross-store ones.
    let mut seen = vec![false; m.fullcuts.len()];
    for (&mi, list) in &m.fullcuts_by_merchant {
        for &f in list {
            listed(&mut seen, "满减", f)?;
            let of = m.fullcuts[f as usize].merchant;
            ensure(of == Some(mi), || format!("满减 {f} is listed under merchant {mi}, but it is {of:?}'s"))?;
        }
    }
    for &f in &m.cross_fullcuts {
        listed(&mut seen, "满减", f)?;
        ensure(m.fullcuts[f as usize].is_cross(), || format!("满减 {f} is listed as cross-store but is a store's"))?;
    }
    ensure(seen.iter().all(|s| *s), || "a 满减 is in neither list".into())
}

fn cuts(m: &Market, n: &Lens) -> Result<(), String> {
    for (i, c) in m.cuts.iter().enumerate() {
        let here = || format!("price cut `{}`", m.cut_ids.name(i as u32));
        index("merchant", c.merchant, n.merchants).at(here)?;
        amount("off", c.off_unit.0, 1).at(here)?;
        window(c.start, c.end).at(here)?;
        budget(&c.budget).at(here)?;
    }
    let mut seen = vec![false; m.cuts.len()];
    for ((mi, sku), list) in &m.cuts_by_sku {
        for &c in list {
            listed(&mut seen, "price cut", c)?;
            let cut = &m.cuts[c as usize];
            ensure(cut.merchant == *mi && cut.sku == **sku, || format!("price cut {c} is listed under another SKU"))?;
        }
    }
    ensure(seen.iter().all(|s| *s), || "a price cut is not listed under its SKU".into())
}

fn deal(d: &GroupDeal, n: &Lens) -> Result<(), String> {
    index("merchant", d.merchant, n.merchants)?;
    amount("price", d.price.0, 1)?;
    range("group_price", d.group_price.0, 1, d.price.0)?;
    range("size", d.size as i64, 2, ml::GROUP_SIZE)?;
    range("time limit (ms)", d.limit_ms, 60_000, 30 * DAY_MS)?;
    window(d.start, d.end)?;
    budget(&d.budget)?;
    count("formed", d.formed, TOTAL as u64)?;
    count("failed", d.failed, TOTAL as u64)
}

/// A group: its deal, its members (at least one, fewer than the deal's size while open,
/// as the join that fills it forms it), its times.
fn group(g: &Group, m: &Market, n: &Lens) -> Result<(), String> {
    index("group deal", g.deal, m.deals.len())?;
    opt_index("session", g.session, n.sessions)?;
    let size = m.deals[g.deal as usize].size as usize;
    let most = if g.state == GroupState::Open { size - 1 } else { size };
    range("members", g.members.len() as i64, 1, most as i64)?;
    for mem in &g.members {
        n.user(mem.user)?;
        time("a member's time", mem.at)?;
    }
    window(g.opened, g.deadline)?;
    match g.state {
        GroupState::Open => Ok(()),
        GroupState::Formed(t) | GroupState::Failed(t) => time("closed at", t),
    }
}

fn groups(m: &Market, n: &Lens) -> Result<(), String> {
    for (i, d) in m.deals.iter().enumerate() {
        deal(d, n).at(|| format!("group deal `{}`", m.deal_ids.name(i as u32)))?;
    }
    for (i, g) in m.groups.iter().enumerate() {
        group(g, m, n).at(|| format!("group `{}`", m.group_ids.name(i as u32)))?;
    }
    for &(d, u) in &m.group_members {
        index("group deal", d, m.deals.len()).and(n.user(u)).at(|| "a group member".into())?;
    }
    Ok(())
}

fn eligibility(e: &Eligibility) -> Result<(), String> {
    range("min_watch_ms", e.min_watch_ms, 0, ml::WATCH_S * 1000)?;
    match &e.passphrase {
        Some(p) => range("the passphrase's length", p.len() as i64, 1, ml::TEXT_BYTES as i64),
        None => Ok(()),
    }
}

/// A red packet's shares: as many as its count, each at least 1 fen, summing to its
/// total; what was granted is the shares grabbed so far, in grab order; what went back at
/// expiry is the rest.
fn shares(p: &Packet) -> Result<(), String> {
    amount("total", p.total.0, 1)?;
    range("count", p.count as i64, 1, (redpacket::MAX_COUNT as i64).min(p.total.0))?;
    ensure(p.shares.len() == p.count as usize, || format!("{} shares for a count of {}", p.shares.len(), p.count))?;
    p.shares.iter().try_for_each(|&s| range("a share", s, 1, p.total.0))?;
    ensure(p.shares.iter().sum::<i64>() == p.total.0, || "the shares do not add up to the total".into())?;
    count("grabbers", p.grabbers.len() as u64, p.count as u64)?;
    let granted: i64 = p.shares[..p.grabbers.len()].iter().sum();
    ensure(p.granted.0 == granted, || {
        format!("granted {} fen, but the shares grabbed come to {granted}", p.granted.0)
    })?;
    let back = p.returned.map_or(0, |r| r.0);
    ensure(p.returned.is_none() || back == p.total.0 - granted, || format!("returned {back} fen of what was left"))
}

fn packet(p: &Packet, n: &Lens) -> Result<(), String> {
    index("session", p.session, n.sessions)?;
    n.party(p.issuer)?;
    shares(p)?;
    p.grabbers.iter().chain(p.said.iter().copied()).try_for_each(|u| n.user(u))?;
    eligibility(&p.eligibility)?;
    window(p.opens_at, p.expires_at)?;
    time("use_until", p.use_until)?;
    opt_index("merchant", p.use_merchant, n.merchants)
}

fn packets(m: &Market, n: &Lens) -> Result<(), String> {
    for (i, p) in m.packets.iter().enumerate() {
        packet(p, n).at(|| format!("red packet `{}`", m.packet_ids.name(i as u32)))?;
    }
    Ok(())
}

fn lottery(l: &Lottery, m: &Market, n: &Lens) -> Result<(), String> {
    index("session", l.session, n.sessions)?;
    n.party(l.issuer)?;
    amount("the prize's value", l.prize.value.0, 0)?;
    opt_index("coupon", l.prize.coupon, m.coupons.len())?;
    range("winners", l.winners as i64, 1, ml::LOTTERY_WINNERS)?;
    eligibility(&l.eligibility)?;
    time("draw_at", l.draw_at)?;
    // The draw at a tick reads the secret back.
    ensure(lottery::unhex(&l.secret).is_some(), || "the secret is not lowercase hex".into())?;
    l.said.iter().try_for_each(|&u| n.user(u))?;
    if let Some(d) = &l.drawn {
        time("drawn at", d.at)?;
        count("the winners drawn", d.winners.len() as u64, l.winners as u64)?;
    }
    Ok(())
}

fn lotteries(m: &Market, n: &Lens) -> Result<(), String> {
    for (i, l) in m.lotteries.iter().enumerate() {
        lottery(l, m, n).at(|| format!("lottery `{}`", m.lottery_ids.name(i as u32)))?;
    }
    Ok(())
}

/// A cart: 1 to [`MAX_LINES`] lines of registered merchants within the input bounds, one
/// amount paid per line, totals that agree.
fn cart(q: &Quote, st: &State) -> Result<(), String> {
    range("lines", q.lines.len() as i64, 1, MAX_LINES as i64)?;
    for l in &q.lines {
        ensure(st.merchant_ids.get(&l.merchant).is_some(), || format!("no merchant `{}`", l.merchant))?;
        range("a line's qty", l.qty, 1, LINE_QTY)?;
        range("a line's price", l.price, 0, UNIT_PRICE_FEN)?;
    }
    ensure(q.pay.len() == q.lines.len(), || format!("{} amounts paid for {} lines", q.pay.len(), q.lines.len()))?;
    for (l, &p) in q.lines.iter().zip(&q.pay) {
        range("a line's pay", p, 0, l.qty * l.price)?;
    }
    range("list_total", q.list_total, 0, ORDER_FEN)?;
    range("pay_total", q.pay_total, 0, q.list_total)?;
    ensure(q.pay.iter().sum::<i64>() == q.pay_total, || "the lines' pay does not add up to pay_total".into())?;
    let discounts: i128 = q.discounts.iter().map(|d| d.amount as i128).sum();
    ensure(q.list_total - q.pay_total == q.discount_total && discounts == q.discount_total as i128, || {
        format!(
            "discounts of {discounts} fen, a discount_total of {}, list − pay {}",
            q.discount_total,
            q.list_total - q.pay_total
        )
    })
}

/// One discount: an amount per cart line and per bearer, and for coupons and red-packet
/// money the wallet entry a release, payment or refund moves.
fn discount(d: &Discount, q: &Quote, wallet: Option<&Wallet>, m: &Market) -> Result<(), String> {
    range("amount", d.amount, 0, ORDER_FEN)?;
    ensure(d.lines.len() == q.lines.len(), || format!("{} line shares for {} lines", d.lines.len(), q.lines.len()))?;
    d.lines.iter().try_for_each(|&x| range("a line's share", x, 0, d.amount))?;
    d.bearers.iter().try_for_each(|(_, x)| range("a bearer's share", *x, 0, d.amount))?;
    let lines: i128 = d.lines.iter().map(|&x| x as i128).sum();
    let bearers: i128 = d.bearers.iter().map(|b| b.1 as i128).sum();
    ensure(lines == d.amount as i128 && bearers == d.amount as i128, || {
        format!("{} fen, split {lines} over the lines and {bearers} over the bearers", d.amount)
    })?;
    let entries = match d.layer {
        Layer::StoreCoupon | Layer::PlatformCoupon => {
            ensure(m.coupon_ids.get(&d.promo).is_some(), || format!("no coupon `{}`", d.promo))?;
            wallet.map_or(0, |w| w.coupons.len())
        }
        Layer::RedPacket => wallet.map_or(0, |w| w.allowances.len()),
        _ => return Ok(()),
    };
    let h = d.held.ok_or_else(|| "a wallet discount names no wallet entry".to_string())?;
    index("wallet entry", h, entries)
}

fn checkout(c: &Checkout, st: &State, n: &Lens) -> Result<(), String> {
    let m = &st.market;
    n.user(c.user)?;
    opt_index("session", c.session, n.sessions)?;
    window(c.at, c.pay_by)?;
    match c.state {
        CheckoutState::Reserved => {}
        CheckoutState::Paid(t) | CheckoutState::Released(t, _) => time("the state's time", t)?,
    }
    cart(&c.quote, st)?;
    let wallet = m.wallets.get(&c.user);
    for (i, d) in c.quote.discounts.iter().enumerate() {
        discount(d, &c.quote, wallet, m).at(|| format!("discount {i}"))?;
    }
    let (nd, nr) = (c.quote.discounts.len(), c.returned.len());
    ensure(nr == nd, || format!("{nr} returned amounts for {nd} discounts"))?;
    for (d, &r) in c.quote.discounts.iter().zip(&c.returned) {
        range("a returned amount", r, 0, d.amount)?;
    }
    Ok(())
}

fn checkouts(st: &State, n: &Lens) -> Result<(), String> {
    let m = &st.market;
    for (i, c) in m.checkouts.iter().enumerate() {
        checkout(c, st, n).at(|| format!("checkout `{}`", m.checkout_ids.name(i as u32)))?;
    }
    for (order, &c) in &m.order_checkout {
        index("checkout", c, m.checkouts.len()).at(|| format!("order `{order}`"))?;
        let paid = matches!(m.checkouts[c as usize].state, CheckoutState::Paid(_));
        ensure(paid, || format!("order `{order}` belongs to checkout {c}, which was not paid"))?;
    }
    Ok(())
}

/// What the live rooms keep: follows and passphrases (watch times are the sessions').
fn room(m: &Market, n: &Lens) -> Result<(), String> {
    for (&(a, u), t) in &m.follows {
        index("anchor", a, n.anchors).and(n.user(u)).and(time("followed at", *t)).at(|| "a follow".into())?;
    }
    for (&s, targets) in &m.passphrases {
        index("session", s, n.sessions).at(|| "passphrases".into())?;
        for (_, t) in targets {
            match *t {
                Target::Packet(i) => index("red packet", i, m.packets.len()),
                Target::Lottery(i) => index("lottery", i, m.lotteries.len()),
            }
            .at(|| format!("the passphrases of session {s}"))?;
        }
    }
    Ok(())
}

/// Each timer names an existing checkout, group, red packet or lottery.
fn timers(m: &Market) -> Result<(), String> {
    for &(due, kind, i) in &m.timers {
        let r = match kind {
            timer::CHECKOUT => index("checkout", i, m.checkouts.len()),
            timer::GROUP => index("group", i, m.groups.len()),
            timer::PACKET => index("red packet", i, m.packets.len()),
            timer::LOTTERY => index("lottery", i, m.lotteries.len()),
            _ => Err(format!("unknown kind {kind}")),
        };
        r.and(time("due", due)).at(|| "a timer".into())?;
    }
    Ok(())
}

/// The festival-wide sums [`Market::rebuild_totals`] derives, within the bound `decide`
/// keeps them in.
fn totals(m: &Market) -> Result<(), String> {
    sum_within("the red packets' totals", m.packets.iter().map(|p| p.total.0))?;
    sum_within("the lotteries' prizes", m.lotteries.iter().map(|l| l.winners as i64 * l.prize.value.0))?;
    let held = m.checkouts.iter().filter(|c| !matches!(c.state, CheckoutState::Released(..)));
    sum_within("the discounts of open and paid checkouts", held.map(|c| c.quote.discount_total))?;
    let subsidies = m.deals.iter().flat_map(|d| [d.budget.spent.0, d.budget.reserved.0]);
    sum_within("the group-price subsidies", subsidies)
}
