//! Coupons (优惠券): creating them, claiming them into wallets, and the wallet entries a
//! claim (or a lottery's coupon prize) grants — decide and apply.

use super::{amount, dup, unknown, window};
use crate::command::{self as cmd, AudienceKind, CouponScopeKind};
use crate::engine::{check_id, check_name, idx, reject, Applied, Engine};
use crate::error::{Code, Rejection};
use crate::event::{AudienceRec, CouponDef, CouponScopeRec, CouponValueRec, Event, PartyRec, ValidityRec};
use crate::limits::market as ml;
use crate::market::quote::Value;
use crate::market::{Audience, Budget, Coupon, CouponScope, Held, HeldState, Market, Party, Validity};
use crate::money::Fen;
use crate::state::State;
use crate::time::Ts;

const DAY_MS: i64 = 86_400_000;

impl Engine {
    pub(in crate::engine) fn decide_create_coupon(
        &self,
        k: &cmd::CreateCoupon,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejection> {
        let st = &self.state;
        check_id("coupon", &k.coupon)?;
        self.in_festival(k.at)?;
        if st.market.coupon_ids.get(&k.coupon).is_some() {
            return Err(dup("coupon", &k.coupon));
        }
        let issuer = st.parse_party("issuer", &k.issuer)?;
        let bearer = match &k.bearer {
            Some(b) => st.parse_party("bearer", b)?,
            None => issuer,
        };
        let merchant = match &k.merchant {
            Some(m) => Some(self.merchant_idx(m)?),
            None => None,
        };
        check_scope(k, merchant)?;
        if let Party::Merchant(m) = issuer {
            if merchant != Some(m) {
                return reject(
                    Code::InvalidValue,
                    "a merchant issues coupons for its own store only: scope \"store\" or \"skus\" with `merchant` = the issuer",
                );
            }
        }
        check_value(k)?;
        if !(1..=ml::COUPON_STOCK).contains(&k.stock) {
            return reject(Code::InvalidValue, format!("`stock` must be 1 to {}, got {}", ml::COUPON_STOCK, k.stock));
        }
        if !(1..=ml::PER_USER).contains(&k.per_user) {
            return reject(Code::InvalidValue, format!("`per_user` must be 1 to {}, got {}", ml::PER_USER, k.per_user));
        }
        window("claim_from", k.claim_from, "claim_until", k.claim_until)?;
        check_validity(k)?;
        self.check_audience(k)?;
        if let Some(b) = k.budget {
            amount("budget", b, 1)?;
        }
        out.push(Event::CouponCreated(coupon_def(k, st.party_rec(issuer), st.party_rec(bearer))));
        Ok(())
    }

    /// The anchor or session an audience names exists.
    fn check_audience(&self, k: &cmd::CreateCoupon) -> Result<(), Rejection> {
        match k.audience {
            AudienceKind::Followers | AudienceKind::NewFollowers => match &k.anchor {
                Some(a) => {
                    self.anchor_idx(a)?;
                }
                None => {
                    return reject(Code::InvalidValue, "audience \"followers\" and \"new_followers\" need `anchor`")
                }
            },
            AudienceKind::Session => match &k.session {
                Some(s) => {
                    self.session_idx(s)?;
                }
                None => return reject(Code::InvalidValue, "audience \"session\" needs `session`"),
            },
            AudienceKind::Everyone => {}
        }
        Ok(())
    }

    pub(super) fn coupon_idx(&self, id: &str) -> Result<u32, Rejection> {
        self.state.market.coupon_ids.get(id).ok_or_else(|| unknown("coupon", id))
    }

    /// A claim records the wallet entry's validity, decided now.
    pub(in crate::engine) fn decide_claim(&self, k: &cmd::ClaimCoupon, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let st = &self.state;
        check_id("user", &k.user)?;
        let ci = self.coupon_idx(&k.coupon)?;
        let c = &st.market.coupons[ci as usize];
        if k.at < c.claim_from {
            return reject(
                Code::PromotionNotActive,
                format!("coupon `{}` can be claimed from {}; `at` is {}", k.coupon, c.claim_from, k.at),
            );
        }
        if k.at >= c.claim_until {
            return reject(Code::PromotionEnded, format!("claiming coupon `{}` closed at {}", k.coupon, c.claim_until));
        }
        if c.claimed >= c.stock {
            return reject(Code::SoldOut, format!("all {} of coupon `{}` were claimed", c.stock, k.coupon));
        }
        let user = st.users.get(&k.user);
        let had = user.and_then(|u| st.market.claims.get(&(ci, u)).copied()).unwrap_or(0);
        if had >= c.per_user {
            return reject(
                Code::LimitReached,
                format!(
                    "user `{}` already claimed coupon `{}` {had} time(s); the limit is {}",
                    k.user, k.coupon, c.per_user
                ),
            );
        }
        self.check_claimant(k, c, user)?;
        let (from, until) = valid_from_claim(c.validity, k.at);
        if until <= k.at {
            return reject(Code::PromotionEnded, format!("coupon `{}` stopped being valid at {until}", k.coupon));
        }
        out.push(Event::CouponClaimed {
            id: k.id.clone(),
            coupon: k.coupon.clone(),
            user: k.user.clone(),
            from,
            until,
            at: k.at,
        });
        Ok(())
    }

    /// The claiming user is in the coupon's audience at the claim.
    fn check_claimant(&self, k: &cmd::ClaimCoupon, c: &Coupon, user: Option<u32>) -> Result<(), Rejection> {
        let st = &self.state;
        let not_eligible = |why: &str| reject(Code::NotEligible, format!("coupon `{}` is for {why}", k.coupon));
        match c.audience {
            Audience::Everyone => {}
            Audience::Followers(a) => {
                if user.and_then(|u| self.follows(a, u, k.at)).is_none() {
                    return not_eligible(&format!("followers of anchor `{}`", st.anchor_ids.name(a)));
                }
            }
            Audience::NewFollowers(a) => {
                if user.and_then(|u| self.follows(a, u, k.at)).is_none_or(|t| t < self.festival.start()) {
                    return not_eligible(&format!(
                        "new followers of anchor `{}` (followed since the festival began)",
                        st.anchor_ids.name(a)
                    ));
                }
            }
            Audience::Session(s) => {
                if user.is_none_or(|u| !st.sessions[s as usize].present.contains_key(&u)) {
                    return not_eligible(&format!("viewers in live session `{}`", st.session_ids.name(s)));
                }
            }
        }
        Ok(())
    }
}

/// The store a scope needs (and only then), and the skus or category it names.
fn check_scope(k: &cmd::CreateCoupon, merchant: Option<u32>) -> Result<(), Rejection> {
    match (k.scope, merchant) {
        (CouponScopeKind::Store | CouponScopeKind::Skus, None) => {
            return reject(Code::InvalidValue, "scope \"store\" and \"skus\" need `merchant`: the store")
        }
        (CouponScopeKind::Platform | CouponScopeKind::Category, Some(_)) => {
            return reject(Code::InvalidValue, "scope \"platform\" and \"category\" take no `merchant`")
        }
        _ => {}
    }
    if k.scope == CouponScopeKind::Skus {
        if k.skus.is_empty() || k.skus.len() > ml::SCOPE_SKUS {
            return reject(
                Code::InvalidValue,
                format!("scope \"skus\" needs 1 to {} `skus`, got {}", ml::SCOPE_SKUS, k.skus.len()),
            );
        }
        for s in &k.skus {
            check_id("skus", s)?;
        }
    } else if !k.skus.is_empty() {
        return reject(Code::InvalidValue, "`skus` is only for scope \"skus\"");
    }
    match (k.scope, &k.category) {
        (CouponScopeKind::Category, None) => return reject(Code::InvalidValue, "scope \"category\" needs `category`"),
        (CouponScopeKind::Category, Some(c)) => check_name("category", c)?,
        (_, Some(_)) => return reject(Code::InvalidValue, "`category` is only for scope \"category\""),
        _ => {}
    }
    Ok(())
}

/// The threshold, and exactly one of `off` and `percent_bp` (with an optional cap).
fn check_value(k: &cmd::CreateCoupon) -> Result<(), Rejection> {
    if !(0..=ml::AMOUNT_FEN).contains(&k.threshold) {
        return reject(Code::InvalidValue, format!("`threshold` must be 0 to {} fen", ml::AMOUNT_FEN));
    }
    match (k.off, k.percent_bp) {
        (Some(off), None) => {
            amount("off", off, 1)?;
            if k.cap.is_some() {
                return reject(Code::InvalidValue, "`cap` is only for percent coupons (`percent_bp`)");
            }
        }
        (None, Some(bp)) => {
            if !(1..=10_000).contains(&bp) {
                return reject(Code::InvalidValue, format!("`percent_bp` must be 1 to 10000, got {bp}"));
            }
            if let Some(cap) = k.cap {
                amount("cap", cap, 1)?;
            }
        }
        _ => return reject(
            Code::InvalidValue,
            "give exactly one of `off` (满 threshold 减 off) and `percent_bp` (percent off, with an optional `cap`)",
        ),
    }
    Ok(())
}

/// A fixed validity window, or a number of days after the claim.
fn check_validity(k: &cmd::CreateCoupon) -> Result<(), Rejection> {
    match (k.valid_from, k.valid_until, k.valid_days) {
        (Some(f), Some(u), None) => window("valid_from", f, "valid_until", u)?,
        (None, None, Some(d)) if (1..=ml::VALID_DAYS).contains(&d) => {}
        (None, None, Some(d)) => {
            return reject(Code::InvalidValue, format!("`valid_days` must be 1 to {}, got {d}", ml::VALID_DAYS))
        }
        _ => {
            return reject(
                Code::InvalidValue,
                "give the validity as `valid_from` and `valid_until`, or as `valid_days` after the claim",
            )
        }
    }
    Ok(())
}

/// A validated `create_coupon` as its event records it: the parties resolved, the scope,
/// value, validity and audience in the one form each takes.
fn coupon_def(k: &cmd::CreateCoupon, issuer: PartyRec, bearer: PartyRec) -> CouponDef {
    let merchant = || k.merchant.clone().unwrap_or_default();
    let scope = match k.scope {
        CouponScopeKind::Platform => CouponScopeRec::Platform,
        CouponScopeKind::Store => CouponScopeRec::Store { merchant: merchant() },
        CouponScopeKind::Skus => CouponScopeRec::Skus { merchant: merchant(), skus: k.skus.clone() },
        CouponScopeKind::Category => CouponScopeRec::Category { category: k.category.clone().unwrap_or_default() },
    };
    let value = match (k.off, k.percent_bp) {
        (Some(off), _) => CouponValueRec::Off { threshold: k.threshold, off },
        (None, bp) => CouponValueRec::Percent { threshold: k.threshold, bp: bp.unwrap_or(0), cap: k.cap },
    };
    let validity = match (k.valid_from, k.valid_until, k.valid_days) {
        (Some(from), Some(until), _) => ValidityRec::Window { from, until },
        (_, _, days) => ValidityRec::AfterClaim { valid_ms: days.unwrap_or(0) * DAY_MS },
    };
    let anchor = || k.anchor.clone().unwrap_or_default();
    let audience = match k.audience {
        AudienceKind::Everyone => AudienceRec::Everyone,
        AudienceKind::Followers => AudienceRec::Followers { anchor: anchor() },
        AudienceKind::NewFollowers => AudienceRec::NewFollowers { anchor: anchor() },
        AudienceKind::Session => AudienceRec::Session { session: k.session.clone().unwrap_or_default() },
    };
    CouponDef {
        id: k.id.clone(),
        coupon: k.coupon.clone(),
        issuer,
        bearer,
        scope,
        value,
        stock: k.stock,
        per_user: k.per_user,
        claim_from: k.claim_from,
        claim_until: k.claim_until,
        validity,
        audience,
        return_on_refund: k.return_on_refund,
        budget: k.budget,
        at: k.at,
    }
}

/// The validity of a coupon claimed (or won) at `at`.
pub(in crate::engine) fn valid_from_claim(v: Validity, at: Ts) -> (Ts, Ts) {
    match v {
        Validity::Window { from, until } => (from, until),
        Validity::AfterClaim { ms } => (at, Ts(at.0 + ms)),
    }
}

/// The coupon as recorded: parties, scope, value, validity and audience were resolved
/// when it was created; applying only looks ids up.
pub(in crate::engine) fn created(st: &mut State, k: &CouponDef) -> Applied {
    let issuer = st.party_of(&k.issuer)?;
    let bearer = st.party_of(&k.bearer)?;
    let scope = match &k.scope {
        CouponScopeRec::Platform => CouponScope::Platform,
        CouponScopeRec::Store { merchant } => CouponScope::Store(idx(&st.merchant_ids, merchant, "merchant")?),
        CouponScopeRec::Skus { merchant, skus } => {
            CouponScope::Skus(idx(&st.merchant_ids, merchant, "merchant")?, skus.clone())
        }
        CouponScopeRec::Category { category } => CouponScope::Category(category.clone()),
    };
    let value = match k.value {
        CouponValueRec::Off { threshold, off } => Value::Off { threshold, off },
        CouponValueRec::Percent { threshold, bp, cap } => Value::Percent { threshold, bp, cap },
    };
    let validity = match k.validity {
        ValidityRec::Window { from, until } => Validity::Window { from, until },
        ValidityRec::AfterClaim { valid_ms } => Validity::AfterClaim { ms: valid_ms },
    };
    let audience = match &k.audience {
        AudienceRec::Everyone => Audience::Everyone,
        AudienceRec::Followers { anchor } => Audience::Followers(idx(&st.anchor_ids, anchor, "anchor")?),
        AudienceRec::NewFollowers { anchor } => Audience::NewFollowers(idx(&st.anchor_ids, anchor, "anchor")?),
        AudienceRec::Session { session } => Audience::Session(idx(&st.session_ids, session, "session")?),
    };
    st.market.coupon_ids.intern(&k.coupon);
    st.market.coupons.push(Coupon {
        issuer,
        bearer,
        scope,
        value,
        stock: k.stock as u64,
        claimed: 0,
        per_user: k.per_user as u32,
        claim_from: k.claim_from,
        claim_until: k.claim_until,
        validity,
        audience,
        return_on_refund: k.return_on_refund,
        budget: Budget { cap: k.budget.map(Fen), ..Budget::default() },
        redeemed: 0,
        gmv: Fen::ZERO,
    });
    Ok(())
}

pub(in crate::engine) fn claimed(st: &mut State, coupon: &str, user: &str, from: Ts, until: Ts, at: Ts) -> Applied {
    let c = idx(&st.market.coupon_ids, coupon, "coupon")?;
    let u = st.users.intern(user);
    grant(&mut st.market, c, u, from, until, at);
    Ok(())
}

/// Puts coupon `c` into `u`'s wallet, valid `from`..`until`.
pub(in crate::engine) fn grant(m: &mut Market, c: u32, u: u32, from: Ts, until: Ts, at: Ts) {
    m.coupons[c as usize].claimed += 1;
    *m.claims.entry((c, u)).or_insert(0) += 1;
    let held = Held { coupon: c, claimed_at: at, from, until, state: HeldState::Available };
    crate::market::push_one(&mut m.wallets.entry(u).or_default().coupons, held);
}
