//! A cart's quote: the cart checked and grouped into merchant slots, the candidate
//! promotions gathered from the state (price cuts, store and cross-store 满减, the buyer's
//! coupons and red-packet money), the best price found by the pure search
//! ([`crate::market::quote`]), and every discount it applies named with who bears it.
//! docs/checkout.md specifies the rules.

use crate::command::CartLine;
use crate::engine::{check_id, limits, reject, Engine};
use crate::error::{Code, Rejection};
use crate::kinds::Layer;
use crate::market::quote::{self, Key};
use crate::market::{CouponScope, Discount, Held, HeldState, Party, Quote, Source, Wallet};
use crate::time::Ts;

/// The cart's merchants as slots: `slot_merchant[s]` is the merchant of slot s (slots in
/// merchant id order).
struct Cart {
    slot_merchant: Vec<u32>,
    lines: Vec<quote::QLine>,
}

/// Which promotion or wallet entry each candidate of the problem is, by layer.
#[derive(Default)]
struct Origins {
    cuts: Vec<u32>,
    fullcuts: Vec<u32>,
    cross: Vec<u32>,
    /// (coupon, wallet entry) of store and platform coupons.
    coupons: Vec<(u32, u32)>,
    platform: Vec<(u32, u32)>,
    /// Wallet allowance indexes.
    allowances: Vec<u32>,
}

impl Engine {
    /// Prices a cart for `user` at `at` from the wallet and the active promotions, without
    /// changing anything (`dacu quote`, and the first step of `checkout`).
    pub fn quote(&self, user: &str, lines: &[CartLine], at: Ts) -> Result<Quote, Rejection> {
        let cart = self.cart(lines)?;
        let mut p = quote::Problem {
            slots: cart.slot_merchant.len(),
            lines: cart.lines,
            policy: quote::Policy { layers: self.festival.checkout.layers.clone() },
            ..Default::default()
        };
        let mut o = Origins::default();
        self.price_cuts(lines, &cart.slot_merchant, at, &mut p, &mut o);
        self.fullcuts(&cart.slot_merchant, at, &mut p, &mut o);
        let st = &self.state;
        let wallet = st.users.get(user).and_then(|u| st.market.wallets.get(&u));
        if let Some(w) = wallet {
            self.wallet(w, lines, &cart.slot_merchant, at, &mut p, &mut o);
        }
        let priced = quote::optimize(&p);
        let discounts = priced.applied.iter().map(|a| self.discount(a, &p, &cart.slot_merchant, &o, wallet)).collect();
        let list_total: i64 = priced.list.iter().sum();
        Ok(Quote {
            lines: lines.to_vec(),
            pay: priced.pay.clone(),
            discount_total: list_total - priced.pay_total,
            list_total,
            pay_total: priced.pay_total,
            discounts,
            optimal: priced.optimal,
        })
    }

    /// The cart checked: 1 to 100 lines of at most 16 registered merchants, valid skus,
    /// quantities and prices, no sku of a merchant twice, a list total within bounds.
    fn cart(&self, lines: &[CartLine]) -> Result<Cart, Rejection> {
        if lines.is_empty() || lines.len() > quote::MAX_LINES {
            return reject(
                Code::EmptyOrder,
                format!("a cart needs 1 to {} lines, got {}", quote::MAX_LINES, lines.len()),
            );
        }
        // Merchant slots in id order.
        let mut ids: Vec<&str> = lines.iter().map(|l| l.merchant.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() > quote::MAX_MERCHANTS {
            return reject(
                Code::InvalidValue,
                format!("a cart holds goods of at most {} merchants, got {}", quote::MAX_MERCHANTS, ids.len()),
            );
        }
        let mut slot_merchant = Vec::with_capacity(ids.len());
        for id in &ids {
            slot_merchant.push(self.merchant_idx(id)?);
        }
        let mut qlines = Vec::with_capacity(lines.len());
        let mut seen = std::collections::BTreeSet::new();
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
            if !seen.insert((l.merchant.as_str(), l.sku.as_str())) {
                return reject(
                    Code::DuplicateSku,
                    format!(
                        "line {n}: sku `{}` of merchant `{}` is already in the cart; merge the lines",
                        l.sku, l.merchant
                    ),
                );
            }
            let mi = self.merchant_idx(&l.merchant)?;
            let slot = slot_merchant.iter().position(|&x| x == mi).expect("slot");
            qlines.push(quote::QLine { slot, qty: l.qty, price: l.price });
        }
        // The price search adds and apportions list amounts in 64 bits: bound the cart.
        let list: i128 = lines.iter().map(|l| l.qty as i128 * l.price as i128).sum();
        if list > limits::ORDER_FEN as i128 {
            return reject(
                Code::LimitExceeded,
                format!(
                    "the cart's list total is {list} fen; a cart may come to at most {} fen (¥100,000,000,000): split it",
                    limits::ORDER_FEN
                ),
            );
        }
        Ok(Cart { slot_merchant, lines: qlines })
    }

    /// Each line takes its largest active price cut; equal cuts go to the lower id.
    fn price_cuts(&self, lines: &[CartLine], slots: &[u32], at: Ts, p: &mut quote::Problem, o: &mut Origins) {
        let m = &self.state.market;
        let active = |s: Ts, e: Ts| s <= at && at < e;
        for (n, l) in lines.iter().enumerate() {
            let mi = slots[p.lines[n].slot];
            let Some(cuts) = m.cuts_by_sku.get(&(mi, l.sku.as_str().into())) else { continue };
            let best = cuts
                .iter()
                .filter(|&&c| active(m.cuts[c as usize].start, m.cuts[c as usize].end))
                .map(|&c| {
                    let pc = &m.cuts[c as usize];
                    let d = pc.off_unit.0.saturating_mul(l.qty).min(pc.budget.left().unwrap_or(i64::MAX));
                    (d, std::cmp::Reverse(m.cut_ids.name(c)), c)
                })
                .filter(|x| x.0 > 0)
                .max();
            if let Some((_, _, c)) = best {
                let pc = &m.cuts[c as usize];
                p.price_cuts.push(quote::PriceCutC { line: n, off_unit: pc.off_unit.0, budget: pc.budget.left() });
                o.cuts.push(c);
            }
        }
    }

    /// The cart's merchants' store 满减 and the cross-store 满减 that take any of them,
    /// active and with budget left, each ranked by id.
    fn fullcuts(&self, slots: &[u32], at: Ts, p: &mut quote::Problem, o: &mut Origins) {
        let m = &self.state.market;
        let active = |s: Ts, e: Ts| s <= at && at < e;
        let mut fulls: Vec<(&str, u32, usize)> = Vec::new();
        for (s, &mi) in slots.iter().enumerate() {
            for &f in m.fullcuts_by_merchant.get(&mi).map(|v| v.as_slice()).unwrap_or(&[]) {
                let fc = &m.fullcuts[f as usize];
                if active(fc.start, fc.end) && fc.budget.left() != Some(0) {
                    fulls.push((m.fullcut_ids.name(f), f, s));
                }
            }
        }
        fulls.sort_unstable();
        for (rank, &(_, f, s)) in fulls.iter().enumerate() {
            let fc = &m.fullcuts[f as usize];
            p.fullcuts.push(quote::FullcutC {
                slot: s,
                rule: fc.rule.clone(),
                budget: fc.budget.left(),
                key: Key { expiry: fc.end.0, claimed: fc.start.0, rank: rank as u32 },
            });
            o.fullcuts.push(f);
        }
        let mut cross: Vec<(&str, u32, u32)> = Vec::new();
        for &f in &m.cross_fullcuts {
            let fc = &m.fullcuts[f as usize];
            if !active(fc.start, fc.end) || fc.budget.left() == Some(0) {
                continue;
            }
            let mask = slots
                .iter()
                .enumerate()
                .filter(|(_, mi)| fc.merchants.as_ref().is_none_or(|set| set.contains(mi)))
                .fold(0u32, |acc, (s, _)| acc | 1 << s);
            if mask != 0 {
                cross.push((m.fullcut_ids.name(f), f, mask));
            }
        }
        cross.sort_unstable();
        for (rank, &(_, f, mask)) in cross.iter().enumerate() {
            let fc = &m.fullcuts[f as usize];
            p.cross.push(quote::CrossC {
                slots: mask,
                rule: fc.rule.clone(),
                budget: fc.budget.left(),
                key: Key { expiry: fc.end.0, claimed: fc.start.0, rank: rank as u32 },
            });
            o.cross.push(f);
        }
    }

    /// The wallet: coupons valid now that apply to the cart, ranked by id and wallet
    /// entry, and red-packet money usable now, store-scoped first, then the earliest to
    /// expire, at most [`quote::MAX_ALLOWANCES`].
    fn wallet(&self, w: &Wallet, lines: &[CartLine], slots: &[u32], at: Ts, p: &mut quote::Problem, o: &mut Origins) {
        let (mut store_c, mut plat_c) = self.wallet_coupons(w, lines, slots, at, p);
        let mut allow: Vec<(bool, i64, i64, u32, Option<usize>, i64)> = Vec::new();
        for (i, a) in w.allowances.iter().enumerate() {
            if a.left.0 <= 0 || at < a.got_at || at >= a.until {
                continue;
            }
            let slot = match a.merchant {
                Some(mi) => match slots.iter().position(|&x| x == mi) {
                    Some(s) => Some(s),
                    None => continue,
                },
                None => None,
            };
            // Store-scoped money first, then the earliest to expire.
            allow.push((slot.is_none(), a.until.0, a.got_at.0, i as u32, slot, a.left.0));
        }
        store_c.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        plat_c.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        allow.sort_unstable();
        allow.truncate(quote::MAX_ALLOWANCES);
        let m = &self.state.market;
        for (rank, (_, h, s, scope, held)) in store_c.into_iter().enumerate() {
            let c = &m.coupons[held.coupon as usize];
            p.coupons.push(quote::CouponC {
                slot: s,
                lines: scope,
                value: c.value,
                budget: c.budget.left(),
                key: Key { expiry: held.until.0, claimed: held.claimed_at.0, rank: rank as u32 },
            });
            o.coupons.push((held.coupon, h as u32));
        }
        for (rank, (_, h, mask, held)) in plat_c.into_iter().enumerate() {
            let c = &m.coupons[held.coupon as usize];
            p.platform.push(quote::PlatformC {
                slots: mask,
                value: c.value,
                budget: c.budget.left(),
                key: Key { expiry: held.until.0, claimed: held.claimed_at.0, rank: rank as u32 },
            });
            o.platform.push((held.coupon, h as u32));
        }
        for (_, _, _, i, slot, left) in allow {
            p.allowances.push(quote::AllowanceC { slot, left });
            o.allowances.push(i);
        }
    }

    /// The wallet's coupons usable now with budget left, unsorted: store and sku coupons
    /// (name, entry, slot, lines in scope, held) and platform and category coupons (name,
    /// entry, slots, held), of the cart's merchants.
    #[allow(clippy::type_complexity, reason = "two candidate lists, sorted and consumed by the caller")]
    fn wallet_coupons<'a>(
        &'a self,
        w: &Wallet,
        lines: &[CartLine],
        slots: &[u32],
        at: Ts,
        p: &quote::Problem,
    ) -> (Vec<(&'a str, usize, usize, Option<Vec<usize>>, Held)>, Vec<(&'a str, usize, u32, Held)>) {
        let st = &self.state;
        let m = &st.market;
        let (mut store_c, mut plat_c) = (Vec::new(), Vec::new());
        for (h, held) in w.coupons.iter().enumerate() {
            if held.state != HeldState::Available || at < held.from || at >= held.until {
                continue;
            }
            let c = &m.coupons[held.coupon as usize];
            if c.budget.left() == Some(0) {
                continue;
            }
            let name = m.coupon_ids.name(held.coupon);
            match &c.scope {
                CouponScope::Store(mi) | CouponScope::Skus(mi, _) => {
                    let Some(s) = slots.iter().position(|x| x == mi) else { continue };
                    let scope = match &c.scope {
                        CouponScope::Skus(_, skus) => {
                            let v: Vec<usize> = (0..lines.len())
                                .filter(|&n| p.lines[n].slot == s && skus.iter().any(|k| *k == lines[n].sku))
                                .collect();
                            if v.is_empty() {
                                continue;
                            }
                            Some(v)
                        }
                        _ => None,
                    };
                    store_c.push((name, h, s, scope, held.clone()));
                }
                CouponScope::Platform | CouponScope::Category(_) => {
                    let mask = slots
                        .iter()
                        .enumerate()
                        .filter(|(_, &mi)| match &c.scope {
                            CouponScope::Category(cat) => st.merchants[mi as usize].category == *cat,
                            _ => true,
                        })
                        .fold(0u32, |acc, (s, _)| acc | 1 << s);
                    if mask != 0 {
                        plat_c.push((name, h, mask, held.clone()));
                    }
                }
            }
        }
        (store_c, plat_c)
    }

    /// One applied discount named: its promotion, its wallet entry, and who bears it.
    fn discount(
        &self,
        a: &quote::Applied,
        p: &quote::Problem,
        slots: &[u32],
        o: &Origins,
        wallet: Option<&Wallet>,
    ) -> Discount {
        let st = &self.state;
        let m = &st.market;
        let (promo, held, bearers): (String, Option<u32>, Vec<(String, i64)>) = match a.layer {
            Layer::PriceCut => {
                let c = o.cuts[a.index];
                let who = st.party_name(Party::Merchant(m.cuts[c as usize].merchant));
                (m.cut_ids.name(c).to_string(), None, vec![(who, a.amount)])
            }
            Layer::StoreFullcut => {
                let f = o.fullcuts[a.index];
                let who = st.party_name(Party::Merchant(m.fullcuts[f as usize].merchant.expect("store")));
                (m.fullcut_ids.name(f).to_string(), None, vec![(who, a.amount)])
            }
            Layer::StoreCoupon | Layer::PlatformCoupon => {
                let (c, h) = if a.layer == Layer::StoreCoupon { o.coupons[a.index] } else { o.platform[a.index] };
                let who = st.party_name(m.coupons[c as usize].bearer);
                (m.coupon_ids.name(c).to_string(), Some(h), vec![(who, a.amount)])
            }
            Layer::CrossStoreFullcut => {
                let f = o.cross[a.index];
                let bp = m.fullcuts[f as usize].platform_share_bp;
                let merchant_of_line = |n: usize| slots[p.lines[n].slot];
                (m.fullcut_ids.name(f).to_string(), None, self.cross_bearers(&a.lines, merchant_of_line, bp))
            }
            Layer::RedPacket => {
                let i = o.allowances[a.index];
                let al = &wallet.expect("allowances come from the wallet").allowances[i as usize];
                let Source::Packet(pk) = al.source;
                let who = st.party_name(m.packets[pk as usize].issuer);
                (m.packet_ids.name(pk).to_string(), Some(i), vec![(who, a.amount)])
            }
        };
        Discount { layer: a.layer, promo, held, amount: a.amount, lines: a.lines.clone(), bearers }
    }

    /// A cross-store 满减's cost: per merchant share d, the platform bears
    /// ⌊d × bp / 10000⌋ and the merchant the rest. Merchants in the order of their first
    /// line in the cart, whether or not that line took a part; zero shares are left out.
    fn cross_bearers(&self, lines: &[i64], merchant_of_line: impl Fn(usize) -> u32, bp: i64) -> Vec<(String, i64)> {
        let mut per: Vec<(u32, i64)> = Vec::new();
        for (n, &d) in lines.iter().enumerate() {
            let mi = merchant_of_line(n);
            match per.iter_mut().find(|x| x.0 == mi) {
                Some(x) => x.1 += d,
                None => per.push((mi, d)),
            }
        }
        let mut platform = 0;
        let mut v = Vec::new();
        for (mi, d) in per {
            let pf = (d as i128 * bp as i128 / 10_000) as i64;
            platform += pf;
            if d - pf != 0 {
                v.push((self.state.party_name(Party::Merchant(mi)), d - pf));
            }
        }
        if platform != 0 {
            v.insert(0, ("platform".to_string(), platform));
        }
        v
    }
}
