//! A profile's plan: who exists, what each sells, and through whom.

use super::{Pareto, Profile};
use crate::rng::Rng;
use dacu_core::festival::{BrandTier, Festival};

pub(crate) struct Merchant {
    pub tier: BrandTier,
    /// List prices of its SKUs, fen.
    pub skus: Vec<i64>,
    pub category: usize,
    /// Its own account's index among the anchors (SKA and KA brands).
    pub account: Option<usize>,
    pub self_broadcast_fen: i64,
    pub shelf_fen: i64,
    /// Served by a provider (its index) from the festival's start.
    pub provider: Option<usize>,
}

pub(crate) struct Anchor {
    pub followers: i64,
    /// The festival's anchor tier it falls in (its index in the file).
    pub tier: usize,
    /// The merchant whose own account it is.
    pub brand: Option<usize>,
}

/// GMV a non-owned anchor sells for a merchant.
pub(crate) struct Piece {
    pub anchor: usize,
    pub merchant: usize,
    pub fen: i64,
}

pub(crate) struct Plan {
    pub merchants: Vec<Merchant>,
    pub anchors: Vec<Anchor>,
    pub pieces: Vec<Piece>,
    pub categories: Vec<String>,
    /// Certified providers (indexes): the first `certified` of `providers`, in a drawn order.
    pub certified: Vec<usize>,
    pub providers: usize,
}

/// List prices a SKU may have: ¥9.90 to ¥2,999, each equally likely.
const PRICES_FEN: [i64; 8] = [990, 1990, 4990, 9900, 19900, 39900, 89900, 299900];

/// Item `i` of `n` drawn from the upper tail of `p`, stratified: the (i + ¼ + ½·r)/n
/// quantile of the survival function, so item 0 is the largest.
fn stratified(p: Pareto, i: usize, n: usize, rng: &mut Rng) -> i64 {
    let r = rng.below(1 << 20) as f64 / (1u64 << 20) as f64;
    let u = (i as f64 + 0.25 + 0.5 * r) / n as f64;
    let x = p.min as f64 * u.powf(-100.0 / p.alpha_x100 as f64);
    (x as i64).clamp(p.min, p.max)
}

impl Plan {
    pub fn draw(p: &Profile, f: &Festival, seed: u64) -> Plan {
        let mut rng = Rng::new(seed ^ 0x7072_6f66_696c_6531);
        let categories: Vec<String> = match f.heat.as_ref() {
            Some(h) if !h.category_coefficients_bp.is_empty() => h.category_coefficients_bp.keys().cloned().collect(),
            _ => ["beauty", "apparel", "food", "home", "digital"].iter().map(|s| s.to_string()).collect(),
        };
        let bands = follower_bands(f);
        let mut plan = Plan {
            merchants: Vec::with_capacity(p.merchants),
            anchors: Vec::new(),
            pieces: Vec::new(),
            categories,
            certified: Vec::new(),
            providers: p.providers,
        };
        let mut gmv = Vec::with_capacity(p.merchants);
        let others = p.merchants - p.ska - p.ka;
        for i in 0..p.merchants {
            let (tier, g) = if i < p.ska {
                (BrandTier::Ska, stratified(p.ska_gmv, i, p.ska, &mut rng))
            } else if i < p.ska + p.ka {
                (BrandTier::Ka, stratified(p.ka_gmv, i - p.ska, p.ka, &mut rng))
            } else {
                (BrandTier::None, stratified(p.other_gmv, i - p.ska - p.ka, others, &mut rng))
            };
            gmv.push(g);
            let nsku = 3 + rng.below(20) as usize;
            let skus = (0..nsku).map(|_| PRICES_FEN[rng.below(8) as usize]).collect();
            let category = rng.below(plan.categories.len() as u64) as usize;
            let mut m =
                Merchant { tier, skus, category, account: None, self_broadcast_fen: 0, shelf_fen: 0, provider: None };
            if tier != BrandTier::None {
                let band = p.brand_account_band[usize::from(tier == BrandTier::Ka)];
                let followers = bands.draw(band, &mut rng);
                m.account = Some(plan.anchors.len());
                plan.anchors.push(Anchor { followers, tier: bands.tier_of(followers), brand: Some(i) });
            }
            plan.merchants.push(m);
        }
        plan.self_broadcast(p, &mut gmv, &mut rng);
        plan.providers_and_bindings(p, &mut rng);
        plan.distribution(p, &bands, &gmv, &mut rng);
        plan
    }

    /// Each brand's self-broadcast part, then every plan scaled so that the brands'
    /// self-broadcast GMV is the profile's exactly.
    fn self_broadcast(&mut self, p: &Profile, gmv: &mut [i64], rng: &mut Rng) {
        let mut share = vec![0u64; gmv.len()];
        let mut sum = 0i128;
        for (i, m) in self.merchants.iter().enumerate() {
            if m.account.is_some() {
                let (lo, hi) = p.self_broadcast_bp[usize::from(m.tier == BrandTier::Ka)];
                share[i] = lo + rng.below(hi - lo);
                sum += gmv[i] as i128 * share[i] as i128 / 10_000;
            }
        }
        let (num, den) = (p.self_broadcast_fen as i128, sum.max(1));
        for (i, m) in self.merchants.iter_mut().enumerate() {
            gmv[i] = (gmv[i] as i128 * num / den) as i64;
            m.self_broadcast_fen = (gmv[i] as i128 * share[i] as i128 / 10_000) as i64;
            m.shelf_fen = ((gmv[i] - m.self_broadcast_fen) as i128 * p.shelf_bp as i128 / 10_000) as i64;
        }
    }

    /// Certified providers; brands served until their share of self-broadcast GMV is the
    /// profile's (in a drawn order, passing over a brand that would overshoot), then other
    /// merchants until the profile's share of all merchants is served.
    fn providers_and_bindings(&mut self, p: &Profile, rng: &mut Rng) {
        let mut order: Vec<usize> = (0..p.providers).collect();
        shuffle(&mut order, rng);
        self.certified = order[..p.certified.min(p.providers)].to_vec();
        if self.certified.is_empty() {
            return;
        }
        let total: i64 = self.merchants.iter().map(|m| m.self_broadcast_fen).sum();
        let goal = (total as i128 * p.served_self_broadcast_bp as i128 / 10_000) as i64;
        let mut brands: Vec<usize> =
            (0..self.merchants.len()).filter(|&i| self.merchants[i].account.is_some()).collect();
        shuffle(&mut brands, rng);
        let mut served_fen = 0i64;
        let mut served = 0usize;
        for i in brands {
            let sb = self.merchants[i].self_broadcast_fen;
            if served_fen + sb <= goal {
                served_fen += sb;
                self.merchants[i].provider = Some(self.certified[rng.below(self.certified.len() as u64) as usize]);
                served += 1;
            }
        }
        let want = self.merchants.len() * p.served_merchants_bp as usize / 10_000;
        let mut rest: Vec<usize> = (0..self.merchants.len()).filter(|&i| self.merchants[i].account.is_none()).collect();
        shuffle(&mut rest, rng);
        for i in rest.into_iter().take(want.saturating_sub(served)) {
            self.merchants[i].provider = Some(self.certified[rng.below(self.certified.len() as u64) as usize]);
        }
    }

    /// The other anchors, and each merchant's remaining GMV in pieces sold by them, each
    /// piece's anchor drawn in proportion to the anchors' sizes within their tier's share.
    fn distribution(&mut self, p: &Profile, bands: &Bands, gmv: &[i64], rng: &mut Rng) {
        let first = self.anchors.len();
        let mut weights: Vec<u64> = Vec::new();
        for t in &p.anchor_tiers {
            let sizes: Vec<i64> = (0..t.count).map(|i| stratified(t.size, i, t.count, rng)).collect();
            let sum: i64 = sizes.iter().sum::<i64>().max(1);
            for s in sizes {
                let followers = bands.draw(t.band, rng);
                self.anchors.push(Anchor { followers, tier: bands.tier_of(followers), brand: None });
                weights.push((s as u128 * t.share_bp as u128 * 1_000_000 / sum as u128) as u64 + 1);
            }
        }
        let mut cumulative = Vec::with_capacity(weights.len());
        let mut acc = 0u64;
        for w in weights {
            acc += w;
            cumulative.push(acc);
        }
        for (i, m) in self.merchants.iter().enumerate() {
            let left = gmv[i] - m.self_broadcast_fen - m.shelf_fen;
            if left <= 0 || cumulative.is_empty() {
                continue;
            }
            // One piece per ¥200,000, 1 to 12, so a large merchant is sold by many anchors.
            let n = (left / 20_000_000).clamp(1, 12);
            for k in 0..n {
                let x = rng.below(acc);
                let a = first + cumulative.partition_point(|&c| c <= x);
                let fen = left / n + i64::from(k < left % n);
                self.pieces.push(Piece { anchor: a, merchant: i, fen });
            }
        }
    }
}

fn shuffle(v: &mut [usize], rng: &mut Rng) {
    for i in (1..v.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
}

/// The festival's anchor tiers, highest threshold first, as follower bands.
pub(crate) struct Bands {
    /// (index of the tier in the file, min_followers), highest first.
    tiers: Vec<(usize, i64)>,
}

pub(crate) fn follower_bands(f: &Festival) -> Bands {
    let mut tiers: Vec<(usize, i64)> = f.anchor_tiers.iter().enumerate().map(|(i, t)| (i, t.min_followers)).collect();
    tiers.sort_by_key(|&(_, m)| std::cmp::Reverse(m));
    Bands { tiers }
}

impl Bands {
    /// Followers within band `band` (0 = the highest tier's), uniformly.
    pub fn draw(&self, band: usize, rng: &mut Rng) -> i64 {
        if self.tiers.is_empty() {
            return rng.range(0, 1_000_000);
        }
        let band = band.min(self.tiers.len() - 1);
        let lo = self.tiers[band].1;
        let hi = if band == 0 { lo.max(1) * 20 } else { self.tiers[band - 1].1 };
        rng.range(lo, hi.max(lo + 1))
    }

    /// The tier (its index in the file) an anchor with these followers is in.
    pub fn tier_of(&self, followers: i64) -> usize {
        self.tiers.iter().find(|&&(_, m)| m <= followers).map_or(0, |&(i, _)| i)
    }
}
