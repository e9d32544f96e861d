//! Checkout pricing: the best price for a cart under the stacking policy.
//! docs/checkout.md is the specification; this module is pure (no engine state), so the
//! optimiser can be checked against [`brute_force`] on random problems.
//!
//! A problem is a cart (lines grouped by merchant "slots") and the candidate promotions.
//! The buyer's choices are: per merchant, at most one store 满减 and at most one store or
//! item coupon; at most one cross-store 满减; at most one platform coupon. Item price cuts
//! and red-packet allowances are not choices: every line takes its price cut and the
//! allowances are spent in the given order.

pub use crate::kinds::Layer;
use crate::money::apportion;
use serde::{Deserialize, Serialize};

/// At most this many merchants in one cart (slots are bits of a `u32` mask).
pub const MAX_MERCHANTS: usize = 16;
/// At most this many lines in one cart.
pub const MAX_LINES: usize = 100;
/// At most this many red-packet amounts are spent on one cart (the first in the wallet's
/// order): each is a discount the checkout records, so this bounds its event.
pub const MAX_ALLOWANCES: usize = 100;

/// The stacking policy: which layers stack, in which order. Store layers first, red
/// packets (if present) last; the festival loader checks this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub layers: Vec<Layer>,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy { layers: Layer::ALL.to_vec() }
    }
}

impl Policy {
    fn has(&self, l: Layer) -> bool {
        self.layers.contains(&l)
    }
    /// The layers that involve a choice, in policy order (the tie-break order).
    fn choice_layers(&self) -> impl Iterator<Item = Layer> + '_ {
        self.layers.iter().copied().filter(|l| !matches!(l, Layer::PriceCut | Layer::RedPacket))
    }
}

/// A 满减 rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Tiers (threshold, off), thresholds ascending: the highest tier reached applies.
    Tiers(Vec<(i64, i64)>),
    /// 每满 `step` 减 `off`, at most `cap` in all.
    Every { step: i64, off: i64, cap: Option<i64> },
}

impl Rule {
    /// (discount, threshold of the tier reached); (0, 0) when none is reached.
    pub fn apply(&self, amount: i64) -> (i64, i64) {
        match self {
            Rule::Tiers(t) => {
                t.iter().rev().find(|(th, _)| amount >= *th).map(|&(th, off)| (off, th)).unwrap_or((0, 0))
            }
            Rule::Every { step, off, cap } => {
                let times = amount / step;
                if times == 0 {
                    return (0, 0);
                }
                let d = times.saturating_mul(*off);
                (cap.map_or(d, |c| d.min(c)), *step)
            }
        }
    }
    /// The most the rule can give on an amount up to `bound`.
    fn max_on(&self, bound: i64) -> i64 {
        self.apply(bound).0
    }
}

/// A coupon's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    /// 满 `threshold` 减 `off` (threshold may be 0).
    Off { threshold: i64, off: i64 },
    /// `bp` basis points off the eligible amount (rounded down), at most `cap`.
    Percent { threshold: i64, bp: i64, cap: Option<i64> },
}

impl Value {
    pub fn threshold(&self) -> i64 {
        match self {
            Value::Off { threshold, .. } | Value::Percent { threshold, .. } => *threshold,
        }
    }
    pub fn apply(&self, amount: i64) -> i64 {
        if amount < self.threshold() || amount <= 0 {
            return 0;
        }
        match *self {
            Value::Off { off, .. } => off,
            Value::Percent { bp, cap, .. } => {
                let d = (amount as i128 * bp as i128 / 10_000) as i64;
                cap.map_or(d, |c| d.min(c))
            }
        }
    }
}

/// Tie-break data of a candidate: later expiry and claim lose; `rank` is the candidate's
/// position among its layer's candidates sorted by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Key {
    pub expiry: i64,
    pub claimed: i64,
    pub rank: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QLine {
    pub slot: usize,
    pub qty: i64,
    pub price: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceCutC {
    pub line: usize,
    pub off_unit: i64,
    pub budget: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullcutC {
    pub slot: usize,
    pub rule: Rule,
    pub budget: Option<i64>,
    pub key: Key,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouponC {
    pub slot: usize,
    /// The cart lines in scope (all of the merchant's lines when `None`).
    pub lines: Option<Vec<usize>>,
    pub value: Value,
    pub budget: Option<i64>,
    pub key: Key,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrossC {
    /// Bit s set: merchant slot s takes part.
    pub slots: u32,
    pub rule: Rule,
    pub budget: Option<i64>,
    pub key: Key,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformC {
    pub slots: u32,
    pub value: Value,
    pub budget: Option<i64>,
    pub key: Key,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowanceC {
    /// Usable on one merchant's lines, or on any (`None`).
    pub slot: Option<usize>,
    pub left: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Problem {
    pub lines: Vec<QLine>,
    pub slots: usize,
    pub policy: Policy,
    pub price_cuts: Vec<PriceCutC>,
    pub fullcuts: Vec<FullcutC>,
    pub coupons: Vec<CouponC>,
    pub cross: Vec<CrossC>,
    pub platform: Vec<PlatformC>,
    pub allowances: Vec<AllowanceC>,
}

/// The buyer's choices: indexes into the problem's candidate lists.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Choice {
    pub fullcut: Vec<Option<usize>>,
    pub coupon: Vec<Option<usize>>,
    pub cross: Option<usize>,
    pub platform: Option<usize>,
}

/// One discount as applied: its layer, the candidate's index in that layer's list, the
/// amount, and its apportionment to every cart line (zeros outside its scope).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub layer: Layer,
    pub index: usize,
    pub amount: i64,
    pub lines: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Priced {
    pub choice: Choice,
    pub list: Vec<i64>,
    pub pay: Vec<i64>,
    pub applied: Vec<Applied>,
    pub pay_total: i64,
    pub allowance_used: i64,
    /// Whether the whole search ran (false only past [`SEARCH_LIMIT`]).
    pub optimal: bool,
}

/// One choice's place in the tie-break: higher value, then higher threshold, earlier
/// expiry, earlier claim, lower id. "No promotion" sorts after every promotion.
type TieKey = (i64, i64, i64, i64, u32);
const NONE_KEY: TieKey = (0, 0, i64::MAX, i64::MAX, u32::MAX);

fn tie(value: i64, threshold: i64, k: &Key) -> TieKey {
    (-value, -threshold, k.expiry, k.claimed, k.rank)
}

fn capped(d: i64, budget: Option<i64>, base: i64) -> i64 {
    d.min(budget.unwrap_or(i64::MAX)).min(base).max(0)
}

/// Spreads `d` over `lines` in proportion to `amt` (largest remainder), subtracting it.
fn spread_lines(d: i64, lines: &[usize], amt: &mut [i64], out: &mut [i64]) {
    let w: Vec<i64> = lines.iter().map(|&l| amt[l]).collect();
    if let Some(parts) = apportion(d, &w) {
        for (&l, p) in lines.iter().zip(parts) {
            amt[l] -= p;
            out[l] += p;
        }
    }
}

/// Spreads `d` over the slots in `mask` in proportion to their amounts, then within each
/// slot over its lines: the hierarchical rule of docs/checkout.md.
fn spread_slots(d: i64, mask: u32, by_slot: &[Vec<usize>], amt: &mut [i64], out: &mut [i64]) {
    let slots: Vec<usize> = (0..by_slot.len()).filter(|s| mask & (1 << s) != 0).collect();
    let w: Vec<i64> = slots.iter().map(|&s| by_slot[s].iter().map(|&l| amt[l]).sum()).collect();
    if let Some(parts) = apportion(d, &w) {
        for (&s, p) in slots.iter().zip(parts) {
            spread_lines(p, &by_slot[s], amt, out);
        }
    }
}

impl Problem {
    fn by_slot(&self) -> Vec<Vec<usize>> {
        let mut v = vec![Vec::new(); self.slots];
        for (i, l) in self.lines.iter().enumerate() {
            v[l.slot].push(i);
        }
        v
    }

    fn list(&self) -> Vec<i64> {
        self.lines.iter().map(|l| l.qty * l.price).collect()
    }

    /// Prices one choice, line by line; `None` if a chosen promotion gives nothing or does
    /// not belong where it was chosen. Also returns the tie-break key.
    pub fn evaluate(&self, c: &Choice) -> Option<(Priced, Vec<TieKey>)> {
        let by_slot = self.by_slot();
        let list = self.list();
        let mut amt = list.clone();
        let mut applied = Vec::new();
        let mut keys: Vec<(Layer, usize, TieKey)> = Vec::new();
        let n = self.lines.len();
        for &layer in &self.policy.layers {
            match layer {
                Layer::PriceCut => {
                    for (i, pc) in self.price_cuts.iter().enumerate() {
                        let l = &self.lines[pc.line];
                        let d = capped(pc.off_unit.saturating_mul(l.qty), pc.budget, amt[pc.line]);
                        if d > 0 {
                            amt[pc.line] -= d;
                            let mut lines = vec![0; n];
                            lines[pc.line] = d;
                            applied.push(Applied { layer, index: i, amount: d, lines });
                        }
                    }
                }
                Layer::StoreFullcut | Layer::StoreCoupon => {
                    // `s` names a slot in the keys below as well as indexing the picks.
                    #[allow(clippy::needless_range_loop, reason = "s is a slot, not only an index")]
                    for s in 0..self.slots {
                        let pick = if layer == Layer::StoreFullcut { c.fullcut.get(s) } else { c.coupon.get(s) };
                        let Some(&Some(i)) = pick else {
                            keys.push((layer, s, NONE_KEY));
                            continue;
                        };
                        let (scope, d, th, key) = if layer == Layer::StoreFullcut {
                            let f = &self.fullcuts[i];
                            if f.slot != s {
                                return None;
                            }
                            let base: i64 = by_slot[s].iter().map(|&l| amt[l]).sum();
                            let (d, th) = f.rule.apply(base);
                            (by_slot[s].clone(), capped(d, f.budget, base), th, f.key)
                        } else {
                            let cp = &self.coupons[i];
                            if cp.slot != s {
                                return None;
                            }
                            let scope = cp.lines.clone().unwrap_or_else(|| by_slot[s].clone());
                            let base: i64 = scope.iter().map(|&l| amt[l]).sum();
                            (scope, capped(cp.value.apply(base), cp.budget, base), cp.value.threshold(), cp.key)
                        };
                        if d <= 0 {
                            return None;
                        }
                        let mut lines = vec![0; n];
                        spread_lines(d, &scope, &mut amt, &mut lines);
                        applied.push(Applied { layer, index: i, amount: d, lines });
                        keys.push((layer, s, tie(d, th, &key)));
                    }
                }
                Layer::CrossStoreFullcut | Layer::PlatformCoupon => {
                    let pick = if layer == Layer::CrossStoreFullcut { c.cross } else { c.platform };
                    let Some(i) = pick else {
                        keys.push((layer, 0, NONE_KEY));
                        continue;
                    };
                    let (mask, key) = if layer == Layer::CrossStoreFullcut {
                        (self.cross[i].slots, self.cross[i].key)
                    } else {
                        (self.platform[i].slots, self.platform[i].key)
                    };
                    let base: i64 = (0..self.slots)
                        .filter(|s| mask & (1 << s) != 0)
                        .flat_map(|s| &by_slot[s])
                        .map(|&l| amt[l])
                        .sum();
                    let (d, th) = if layer == Layer::CrossStoreFullcut {
                        let x = &self.cross[i];
                        let (d, th) = x.rule.apply(base);
                        (capped(d, x.budget, base), th)
                    } else {
                        let x = &self.platform[i];
                        (capped(x.value.apply(base), x.budget, base), x.value.threshold())
                    };
                    if d <= 0 {
                        return None;
                    }
                    let mut lines = vec![0; n];
                    spread_slots(d, mask, &by_slot, &mut amt, &mut lines);
                    applied.push(Applied { layer, index: i, amount: d, lines });
                    keys.push((layer, 0, tie(d, th, &key)));
                }
                Layer::RedPacket => {
                    for (i, a) in self.allowances.iter().enumerate() {
                        let mask = a.slot.map_or(u32::MAX, |s| 1 << s);
                        let base: i64 = (0..self.slots)
                            .filter(|s| mask & (1 << s) != 0)
                            .flat_map(|s| &by_slot[s])
                            .map(|&l| amt[l])
                            .sum();
                        let d = a.left.min(base);
                        if d > 0 {
                            let mut lines = vec![0; n];
                            spread_slots(d, mask, &by_slot, &mut amt, &mut lines);
                            applied.push(Applied { layer, index: i, amount: d, lines });
                        }
                    }
                }
            }
        }
        let allowance_used = applied.iter().filter(|a| a.layer == Layer::RedPacket).map(|a| a.amount).sum();
        // The tie-break compares layer by layer in policy order, merchants by slot.
        let mut ordered: Vec<TieKey> = Vec::with_capacity(keys.len());
        for layer in self.policy.choice_layers() {
            ordered.extend(keys.iter().filter(|k| k.0 == layer).map(|k| k.2));
        }
        let pay_total = amt.iter().sum();
        Some((Priced { choice: c.clone(), list, pay: amt, applied, pay_total, allowance_used, optimal: true }, ordered))
    }

    fn empty_choice(&self) -> Choice {
        Choice { fullcut: vec![None; self.slots], coupon: vec![None; self.slots], cross: None, platform: None }
    }

    fn options(&self, layer: Layer, slot: usize) -> Vec<Option<usize>> {
        let mut v = vec![None];
        if !self.policy.has(layer) {
            return v;
        }
        match layer {
            Layer::StoreFullcut => {
                v.extend((0..self.fullcuts.len()).filter(|&i| self.fullcuts[i].slot == slot).map(Some))
            }
            Layer::StoreCoupon => v.extend((0..self.coupons.len()).filter(|&i| self.coupons[i].slot == slot).map(Some)),
            Layer::CrossStoreFullcut => v.extend((0..self.cross.len()).map(Some)),
            Layer::PlatformCoupon => v.extend((0..self.platform.len()).map(Some)),
            _ => {}
        }
        v
    }
}

/// Orders two priced outcomes: lower pay, then less red-packet money used, then the
/// tie-break keys.
fn better(a: (i64, i64, &[TieKey]), b: (i64, i64, &[TieKey])) -> bool {
    (a.0, a.1, a.2) < (b.0, b.1, b.2)
}

/// Tries every combination; the reference the optimiser is tested against.
pub fn brute_force(p: &Problem) -> Priced {
    let mut best: Option<(Priced, Vec<TieKey>)> = None;
    let mut c = p.empty_choice();
    let cross = p.options(Layer::CrossStoreFullcut, 0);
    let plat = p.options(Layer::PlatformCoupon, 0);
    fn rec(
        p: &Problem,
        s: usize,
        c: &mut Choice,
        cross: &[Option<usize>],
        plat: &[Option<usize>],
        best: &mut Option<(Priced, Vec<TieKey>)>,
    ) {
        if s == p.slots {
            for &x in cross {
                for &y in plat {
                    c.cross = x;
                    c.platform = y;
                    if let Some((pr, k)) = p.evaluate(c) {
                        let wins = match best {
                            None => true,
                            Some((b, bk)) => {
                                better((pr.pay_total, pr.allowance_used, &k), (b.pay_total, b.allowance_used, bk))
                            }
                        };
                        if wins {
                            *best = Some((pr, k));
                        }
                    }
                }
            }
            return;
        }
        for f in p.options(Layer::StoreFullcut, s) {
            for k in p.options(Layer::StoreCoupon, s) {
                c.fullcut[s] = f;
                c.coupon[s] = k;
                rec(p, s + 1, c, cross, plat, best);
            }
        }
        c.fullcut[s] = None;
        c.coupon[s] = None;
    }
    rec(p, 0, &mut c, &cross, &plat, &mut best);
    best.expect("the empty choice always prices").0
}

/// Past this many leaf evaluations the search keeps the best found so far and marks the
/// quote not optimal. A cart of 16 merchants each holding many coupons could otherwise
/// take unbounded time.
pub const SEARCH_LIMIT: u64 = 2_000_000;

/// One merchant's priced option: amount after the store layers and its tie keys.
#[derive(Debug, Clone)]
struct SlotOption {
    amount: i64,
    fullcut: Option<usize>,
    coupon: Option<usize>,
    /// Keys of the store choice layers, in policy order.
    keys: [TieKey; 2],
}

/// The store layers for one merchant under one (fullcut, coupon) pair, merchant-level.
fn price_slot(p: &Problem, s: usize, by_slot: &[Vec<usize>], f: Option<usize>, k: Option<usize>) -> Option<SlotOption> {
    let mut amt: Vec<i64> = p.list();
    let mut sink = vec![0; p.lines.len()];
    let mut keys = [NONE_KEY; 2];
    let mut ki = 0;
    for &layer in &p.policy.layers {
        match layer {
            Layer::PriceCut => {
                for pc in p.price_cuts.iter().filter(|pc| p.lines[pc.line].slot == s) {
                    let d = capped(pc.off_unit.saturating_mul(p.lines[pc.line].qty), pc.budget, amt[pc.line]);
                    amt[pc.line] -= d.max(0);
                }
            }
            Layer::StoreFullcut => {
                if let Some(i) = f {
                    let fc = &p.fullcuts[i];
                    let base: i64 = by_slot[s].iter().map(|&l| amt[l]).sum();
                    let (d, th) = fc.rule.apply(base);
                    let d = capped(d, fc.budget, base);
                    if d <= 0 {
                        return None;
                    }
                    spread_lines(d, &by_slot[s], &mut amt, &mut sink);
                    keys[ki] = tie(d, th, &fc.key);
                }
                ki += 1;
            }
            Layer::StoreCoupon => {
                if let Some(i) = k {
                    let cp = &p.coupons[i];
                    let scope = cp.lines.as_deref().unwrap_or(&by_slot[s]);
                    let base: i64 = scope.iter().map(|&l| amt[l]).sum();
                    let d = capped(cp.value.apply(base), cp.budget, base);
                    if d <= 0 {
                        return None;
                    }
                    spread_lines(d, scope, &mut amt, &mut sink);
                    keys[ki] = tie(d, cp.value.threshold(), &cp.key);
                }
                ki += 1;
            }
            _ => {}
        }
    }
    Some(SlotOption { amount: by_slot[s].iter().map(|&l| amt[l]).sum(), fullcut: f, coupon: k, keys })
}

/// The best leaf so far: (pay, red-packet money used, tie key, per-slot option, cross
/// choice, platform choice).
type Best = (i64, i64, Vec<TieKey>, Vec<usize>, Option<usize>, Option<usize>);

struct Search<'a> {
    p: &'a Problem,
    opts: Vec<Vec<SlotOption>>,
    cross: Vec<Option<usize>>,
    plat: Vec<Option<usize>>,
    /// Most the cross-merchant layers can take off, for the bound.
    downstream_max: i64,
    allowance_total: i64,
    any_store_allowance: bool,
    pick: Vec<usize>,
    best: Option<Best>,
    leaves: u64,
    complete: bool,
    store_choice_layers: usize,
}

impl Search<'_> {
    /// The whole tie key of a leaf: store layers (slot by slot), then cross layers.
    fn key(&self, cross_keys: &[TieKey]) -> Vec<TieKey> {
        let mut v = Vec::with_capacity(self.store_choice_layers * self.p.slots + cross_keys.len());
        for li in 0..self.store_choice_layers {
            for (s, &o) in self.pick.iter().enumerate() {
                v.push(self.opts[s][o].keys[li]);
            }
        }
        v.extend_from_slice(cross_keys);
        v
    }

    fn leaf(&mut self) {
        let p = self.p;
        let amounts: Vec<i64> = self.pick.iter().enumerate().map(|(s, &o)| self.opts[s][o].amount).collect();
        for ci in 0..self.cross.len() {
            for pi in 0..self.plat.len() {
                self.leaves += 1;
                let (x, y) = (self.cross[ci], self.plat[pi]);
                let mut amt = amounts.clone();
                let mut cross_keys: Vec<TieKey> = Vec::with_capacity(2);
                let mut ok = true;
                for &layer in &p.policy.layers {
                    let (mask, d, th, key) = match layer {
                        Layer::CrossStoreFullcut => match x {
                            None => {
                                cross_keys.push(NONE_KEY);
                                continue;
                            }
                            Some(i) => {
                                let c = &p.cross[i];
                                let base = masked_sum(&amt, c.slots);
                                let (d, th) = c.rule.apply(base);
                                (c.slots, capped(d, c.budget, base), th, c.key)
                            }
                        },
                        Layer::PlatformCoupon => match y {
                            None => {
                                cross_keys.push(NONE_KEY);
                                continue;
                            }
                            Some(i) => {
                                let c = &p.platform[i];
                                let base = masked_sum(&amt, c.slots);
                                (c.slots, capped(c.value.apply(base), c.budget, base), c.value.threshold(), c.key)
                            }
                        },
                        _ => continue,
                    };
                    if d <= 0 {
                        ok = false;
                        break;
                    }
                    spread_amounts(d, mask, &mut amt);
                    cross_keys.push(tie(d, th, &key));
                }
                if !ok {
                    continue;
                }
                let before: i64 = amt.iter().sum();
                let used = if !p.policy.has(Layer::RedPacket) {
                    0
                } else if !self.any_store_allowance {
                    self.allowance_total.min(before)
                } else {
                    let mut used = 0;
                    for a in &p.allowances {
                        let mask = a.slot.map_or(u32::MAX, |s| 1 << s);
                        let base = masked_sum(&amt, mask);
                        let d = a.left.min(base);
                        if d > 0 {
                            spread_amounts(d, mask, &mut amt);
                            used += d;
                        }
                    }
                    used
                };
                let pay = before - used;
                let wins = match &self.best {
                    None => true,
                    Some(b) if (pay, used) != (b.0, b.1) => (pay, used) < (b.0, b.1),
                    Some(b) => self.key(&cross_keys) < b.2,
                };
                if wins {
                    let k = self.key(&cross_keys);
                    self.best = Some((pay, used, k, self.pick.clone(), x, y));
                }
            }
        }
    }

    fn dfs(&mut self, s: usize, partial: i64) {
        if self.leaves >= SEARCH_LIMIT {
            self.complete = false;
            return;
        }
        if s == self.p.slots {
            self.leaf();
            return;
        }
        let rest_min: i64 = self.opts[s + 1..].iter().map(|o| o[0].amount).sum();
        for o in 0..self.opts[s].len() {
            let a = partial + self.opts[s][o].amount;
            // Lower bounds of (pay, red-packet money used) for every completion; options
            // are sorted by amount, so once the bound loses, every later option does too.
            let before_lb = (a + rest_min - self.downstream_max).max(0);
            let pay_lb = (before_lb - self.allowance_total).max(0);
            // pay + used = the amount before red packets, so at equal pay a larger
            // amount means more red-packet money used: worse.
            if let Some(b) = &self.best {
                if pay_lb > b.0 || (pay_lb == b.0 && before_lb > b.0 + b.1) {
                    break;
                }
            }
            self.pick[s] = o;
            self.dfs(s + 1, a);
        }
    }
}

fn masked_sum(amt: &[i64], mask: u32) -> i64 {
    amt.iter().enumerate().filter(|(s, _)| mask & (1 << s) != 0).map(|(_, a)| a).sum()
}

fn spread_amounts(d: i64, mask: u32, amt: &mut [i64]) {
    let slots: Vec<usize> = (0..amt.len()).filter(|s| mask & (1 << s) != 0).collect();
    let w: Vec<i64> = slots.iter().map(|&s| amt[s]).collect();
    if let Some(parts) = apportion(d, &w) {
        for (&s, p) in slots.iter().zip(parts) {
            amt[s] -= p;
        }
    }
}

/// The best price under the policy: same result as [`brute_force`], found by a
/// branch-and-bound search over merchants (docs/checkout.md, "The search").
pub fn optimize(p: &Problem) -> Priced {
    let by_slot = p.by_slot();
    let mut opts = Vec::with_capacity(p.slots);
    for s in 0..p.slots {
        let mut v: Vec<SlotOption> = Vec::new();
        for f in p.options(Layer::StoreFullcut, s) {
            for k in p.options(Layer::StoreCoupon, s) {
                if let Some(o) = price_slot(p, s, &by_slot, f, k) {
                    v.push(o);
                }
            }
        }
        // Options with the same amount lead to the same outcomes downstream: keep the one
        // that wins the tie-break. Then cheapest first, for the bound.
        v.sort_by(|a, b| a.amount.cmp(&b.amount).then(a.keys.cmp(&b.keys)));
        v.dedup_by(|later, earlier| later.amount == earlier.amount);
        opts.push(v);
    }
    let total_list: i64 = p.list().iter().sum();
    let cross = p.options(Layer::CrossStoreFullcut, 0);
    let plat = p.options(Layer::PlatformCoupon, 0);
    let cross_max = cross
        .iter()
        .flatten()
        .map(|&i| capped(p.cross[i].rule.max_on(total_list), p.cross[i].budget, total_list))
        .max()
        .unwrap_or(0);
    let plat_max = plat
        .iter()
        .flatten()
        .map(|&i| {
            let v = match p.platform[i].value {
                Value::Off { off, .. } => off,
                x => x.apply(total_list),
            };
            capped(v, p.platform[i].budget, total_list)
        })
        .max()
        .unwrap_or(0);
    let allowance_total: i64 =
        if p.policy.has(Layer::RedPacket) { p.allowances.iter().map(|a| a.left.max(0)).sum() } else { 0 };
    let mut search = Search {
        p,
        opts,
        cross,
        plat,
        downstream_max: cross_max + plat_max,
        allowance_total,
        any_store_allowance: p.allowances.iter().any(|a| a.slot.is_some()),
        pick: vec![0; p.slots],
        best: None,
        leaves: 0,
        complete: true,
        store_choice_layers: p.policy.choice_layers().filter(|l| l.is_store()).count(),
    };
    search.dfs(0, 0);
    let (_, _, _, pick, x, y) = search.best.clone().expect("the empty choice always prices");
    let choice = Choice {
        fullcut: pick.iter().enumerate().map(|(s, &o)| search.opts[s][o].fullcut).collect(),
        coupon: pick.iter().enumerate().map(|(s, &o)| search.opts[s][o].coupon).collect(),
        cross: x,
        platform: y,
    };
    let (mut priced, _) = p.evaluate(&choice).expect("the chosen combination prices");
    priced.optimal = search.complete;
    priced
}
