//! The marketing tools' commands: decide (validate → events) and apply (events → state).
//! docs/commands.md documents every command, field, rule and code here.

use super::bounds::within;
use super::{check_id, check_name, limits, reject, ApplyError, Engine};
use crate::command::{self as cmd, AudienceKind, Channel, Command, CouponScopeKind, FullcutScopeKind, Line};
use crate::error::{Code, Rejection};
use crate::event::Event;
use crate::market::quote::{self, Key, Layer, Rule, Value};
use crate::market::*;
use crate::money::Fen;
use crate::promo::{lottery, redpacket};
use crate::state::State;
use crate::time::Ts;

const DAY_MS: i64 = 86_400_000;

use crate::limits::market as ml;

fn amount(field: &str, v: i64, min: i64) -> Result<(), Rejection> {
    if !(min..=ml::AMOUNT_FEN).contains(&v) {
        return reject(Code::InvalidValue, format!("`{field}` must be {min} to {} fen, got {v}", ml::AMOUNT_FEN));
    }
    Ok(())
}

fn window(start_field: &str, start: Ts, end_field: &str, end: Ts) -> Result<(), Rejection> {
    if end <= start {
        return reject(Code::InvalidValue, format!("`{end_field}` ({end}) must be after `{start_field}` ({start})"));
    }
    Ok(())
}

impl Command {
    /// The idempotency id of the commands that carry one.
    pub fn command_id(&self) -> Option<&str> {
        Some(match self {
            Command::Follow(c) => &c.id,
            Command::CreateCoupon(c) => &c.id,
            Command::ClaimCoupon(c) => &c.id,
            Command::CreateFullcut(c) => &c.id,
            Command::CreatePriceCut(c) => &c.id,
            Command::CreateGroupDeal(c) => &c.id,
            Command::OpenGroup(c) => &c.id,
            Command::JoinGroup(c) => &c.id,
            Command::CreateRedPacket(c) => &c.id,
            Command::GrabRedPacket(c) => &c.id,
            Command::CreateLottery(c) => &c.id,
            Command::Checkout(c) => &c.id,
            Command::Pay(c) => &c.id,
            Command::Cancel(c) => &c.id,
            Command::Tick(c) => &c.id,
            Command::SetExperienceScore(c) => &c.id,
            Command::RecordViolation(c) => &c.id,
            Command::LoadBaseline(c) => &c.id,
            Command::Settle(c) => &c.id,
            _ => return self.legacy_id(),
        })
    }

    /// The optional `id` of the commands that had none before ids were introduced.
    pub fn legacy_id(&self) -> Option<&str> {
        match self {
            Command::RegisterMerchant(c) => c.id.as_deref(),
            Command::RegisterAnchor(c) => c.id.as_deref(),
            Command::RegisterProvider(c) => c.id.as_deref(),
            Command::CertifyProvider(c) => c.id.as_deref(),
            Command::BindProvider(c) => c.id.as_deref(),
            Command::UnbindProvider(c) => c.id.as_deref(),
            Command::Enroll(c) => c.id.as_deref(),
            Command::LiveStart(c) => c.id.as_deref(),
            Command::LiveEnd(c) => c.id.as_deref(),
            Command::ViewerEnter(c) => c.id.as_deref(),
            Command::ViewerLeave(c) => c.id.as_deref(),
            Command::Interaction(c) => c.id.as_deref(),
            Command::OrderPaid(c) => c.id.as_deref(),
            Command::Refund(c) => c.id.as_deref(),
            _ => None,
        }
    }
}

/// Whether `apply_market` applies the event.
pub(super) fn is_market_event(ev: &Event) -> bool {
    !matches!(
        ev,
        Event::MerchantRegistered { .. }
            | Event::AnchorRegistered { .. }
            | Event::ProviderRegistered { .. }
            | Event::ProviderCertified { .. }
            | Event::ProviderBound { .. }
            | Event::ProviderUnbound { .. }
            | Event::Enrolled { .. }
            | Event::LiveStarted { .. }
            | Event::LiveEnded { .. }
            | Event::ViewerEntered { .. }
            | Event::ViewerLeft { .. }
            | Event::Interacted { .. }
            | Event::OrderPaid { .. }
            | Event::Refunded { .. }
    )
}

fn type_index(name: &str) -> Option<u8> {
    cmd::COMMAND_TYPES.iter().position(|t| *t == name).map(|i| i as u8)
}

/// The command id an event records, with the index of its command type.
fn event_id(ev: &Event) -> Option<(&str, u8)> {
    let (id, ty) = match ev {
        Event::Followed { id, .. } => (id, "follow"),
        Event::CouponCreated(c) => (&c.id, "create_coupon"),
        Event::CouponClaimed { id, .. } => (id, "claim_coupon"),
        Event::FullcutCreated(c) => (&c.id, "create_fullcut"),
        Event::PriceCutCreated(c) => (&c.id, "create_price_cut"),
        Event::GroupDealCreated(c) => (&c.id, "create_group_deal"),
        Event::GroupOpened { id, .. } => (id, "open_group"),
        Event::GroupJoined { id, .. } => (id, "join_group"),
        Event::RedPacketCreated { def, .. } | Event::RedPacketCommitted { def, .. } => (&def.id, "create_red_packet"),
        Event::RedPacketGrabbed { id, .. } => (id, "grab_red_packet"),
        Event::LotteryCreated { def, .. } => (&def.id, "create_lottery"),
        Event::CheckoutReserved { id, .. } => (id, "checkout"),
        Event::CheckoutPaid { id, .. } => (id, "pay"),
        Event::CheckoutReleased { id: Some(id), .. } => (id, "cancel"),
        Event::Ticked { id, .. } => (id, "tick"),
        Event::ExperienceScoreSet { id, .. } => (id, "set_experience_score"),
        Event::ViolationRecorded { id, .. } => (id, "record_violation"),
        Event::BaselineLoaded { id, .. } => (id, "load_baseline"),
        Event::Settled { id, .. } => (id, "settle"),
        Event::Identified { id, command } => return Some((id, type_index(command)?)),
        _ => return None,
    };
    Some((id, type_index(ty).expect("a command type")))
}

/// "platform", "merchant:ID" or "anchor:ID".
pub fn party_name(st: &State, p: Party) -> String {
    match p {
        Party::Platform => "platform".into(),
        Party::Merchant(m) => format!("merchant:{}", st.merchant_ids.name(m)),
        Party::Anchor(a) => format!("anchor:{}", st.anchor_ids.name(a)),
    }
}

pub(super) fn parse_party(st: &State, field: &str, s: &str) -> Result<Party, Rejection> {
    let bad = || {
        Rejection::new(
            Code::InvalidValue,
            format!("`{field}` must be \"platform\", \"merchant:ID\" or \"anchor:ID\" of a registered one, got `{s}`"),
        )
    };
    if s == "platform" {
        return Ok(Party::Platform);
    }
    let (kind, id) = s.split_once(':').ok_or_else(bad)?;
    match kind {
        "merchant" => st.merchant_ids.get(id).map(Party::Merchant).ok_or_else(bad),
        "anchor" => st.anchor_ids.get(id).map(Party::Anchor).ok_or_else(bad),
        _ => Err(bad()),
    }
}

fn dup(what: &str, id: &str) -> Rejection {
    Rejection::new(Code::DuplicatePromotion, format!("{what} `{id}` already exists; use a new id"))
}

fn unknown(what: &str, id: &str) -> Rejection {
    Rejection::new(Code::UnknownPromotion, format!("no {what} `{id}` exists"))
}

impl Engine {
    /// Watch time of `user` in session `s` up to `at`, including an ongoing stay.
    pub fn watch_ms(&self, s: u32, user: u32, at: Ts) -> i64 {
        let st = &self.state;
        let past = st.market.watch.get(&(s, user)).copied().unwrap_or(0);
        let now = st.sessions[s as usize].present.get(&user).map_or(0, |t| (at.0 - t.0).max(0));
        past + now
    }

    fn follows(&self, anchor: u32, user: u32, at: Ts) -> Option<Ts> {
        self.state.market.follows.get(&(anchor, user)).copied().filter(|t| *t <= at)
    }

    /// Checks the eligibility rules of a red packet or lottery for one user at `at`.
    fn eligible(&self, s: u32, e: &Eligibility, said: bool, user: u32, at: Ts) -> Result<(), String> {
        let sess = &self.state.sessions[s as usize];
        if e.in_room && !sess.present.contains_key(&user) {
            return Err("must be in the live room".into());
        }
        if e.followers_only && self.follows(sess.anchor, user, at).is_none() {
            return Err("must follow the anchor".into());
        }
        if let Some(p) = &e.passphrase {
            if !said {
                return Err(format!("must comment the passphrase `{p}` in the room first"));
            }
        }
        if e.min_watch_ms > 0 {
            let w = self.watch_ms(s, user, at);
            if w < e.min_watch_ms {
                return Err(format!("must have watched {} s (has {} s)", e.min_watch_ms / 1000, w / 1000));
            }
        }
        Ok(())
    }

    /// Whether `id` was already used by a command of the same type (a resend: accept it
    /// and change nothing); an id used by another type is refused.
    pub(super) fn seen(&self, c: &Command, id: &str) -> Result<bool, Rejection> {
        check_id("id", id)?;
        match self.state.market.command_ids.get(id) {
            None => Ok(false),
            Some(ty) if ty == c.type_index() => Ok(true),
            Some(ty) => reject(
                Code::IdConflict,
                format!(
                    "command id `{id}` was used by a `{}` command; give each command its own id",
                    cmd::COMMAND_TYPES[ty as usize]
                ),
            ),
        }
    }

    /// Decides a marketing-tool command. A repeated `id` of the same command type is
    /// accepted and changes nothing (the first result stands).
    pub(super) fn decide_market(&self, c: &Command, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let st = &self.state;
        let id = c.command_id().expect("marketing commands carry an id");
        if self.seen(c, id)? {
            return Ok(());
        }
        match c {
            Command::Follow(f) => {
                self.anchor_idx(&f.anchor)?;
                check_id("user", &f.user)?;
                out.push(Event::Followed {
                    id: f.id.clone(),
                    anchor: f.anchor.clone(),
                    user: f.user.clone(),
                    at: f.at,
                });
            }
            Command::CreateCoupon(k) => self.decide_create_coupon(k, out)?,
            Command::ClaimCoupon(k) => self.decide_claim(k, out)?,
            Command::CreateFullcut(k) => self.decide_create_fullcut(k, out)?,
            Command::CreatePriceCut(k) => {
                check_id("cut", &k.cut)?;
                check_id("sku", &k.sku)?;
                self.in_festival(k.at)?;
                if st.market.cut_ids.get(&k.cut).is_some() {
                    return Err(dup("price cut", &k.cut));
                }
                self.merchant_idx(&k.merchant)?;
                amount("off", k.off, 1)?;
                window("start", k.start, "end", k.end)?;
                if let Some(b) = k.budget {
                    amount("budget", b, 1)?;
                }
                out.push(Event::PriceCutCreated(k.clone()));
            }
            Command::CreateGroupDeal(k) => {
                check_id("deal", &k.deal)?;
                check_id("sku", &k.sku)?;
                self.in_festival(k.at)?;
                if st.market.deal_ids.get(&k.deal).is_some() {
                    return Err(dup("group deal", &k.deal));
                }
                self.merchant_idx(&k.merchant)?;
                amount("price", k.price, 1)?;
                if !(1..=k.price).contains(&k.group_price) {
                    return reject(
                        Code::InvalidValue,
                        format!("`group_price` must be 1 to `price` ({}) fen, got {}", k.price, k.group_price),
                    );
                }
                if !(2..=ml::GROUP_SIZE).contains(&k.size) {
                    return reject(
                        Code::InvalidValue,
                        format!("`size` must be 2 to {} members, got {}", ml::GROUP_SIZE, k.size),
                    );
                }
                if let Some(t) = k.time_limit_s {
                    if !(60..=30 * 86_400).contains(&t) {
                        return reject(
                            Code::InvalidValue,
                            format!("`time_limit_s` must be 60 to 2592000 seconds, got {t}"),
                        );
                    }
                }
                window("start", k.start, "end", k.end)?;
                if let Some(b) = k.budget {
                    amount("budget", b, 1)?;
                }
                out.push(Event::GroupDealCreated(k.clone()));
            }
            Command::OpenGroup(k) => self.decide_open_group(k, out)?,
            Command::JoinGroup(k) => self.decide_join_group(k, out)?,
            Command::CreateRedPacket(k) => self.decide_create_packet(k, out)?,
            Command::GrabRedPacket(k) => self.decide_grab(k, out)?,
            Command::CreateLottery(k) => self.decide_create_lottery(k, out)?,
            Command::Checkout(k) => self.decide_checkout(k, out)?,
            Command::Pay(k) => self.decide_pay(k, out)?,
            Command::Cancel(k) => {
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
            }
            Command::Tick(k) => self.decide_tick(k, out)?,
            Command::SetExperienceScore(_)
            | Command::RecordViolation(_)
            | Command::LoadBaseline(_)
            | Command::Settle(_) => self.decide_contest(c, out)?,
            other => unreachable!("{} is not a marketing command", other.type_name()),
        }
        Ok(())
    }

    fn decide_create_coupon(&self, k: &cmd::CreateCoupon, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let st = &self.state;
        check_id("coupon", &k.coupon)?;
        self.in_festival(k.at)?;
        if st.market.coupon_ids.get(&k.coupon).is_some() {
            return Err(dup("coupon", &k.coupon));
        }
        let issuer = parse_party(st, "issuer", &k.issuer)?;
        if let Some(b) = &k.bearer {
            parse_party(st, "bearer", b)?;
        }
        let merchant = match &k.merchant {
            Some(m) => Some(self.merchant_idx(m)?),
            None => None,
        };
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
            (CouponScopeKind::Category, None) => {
                return reject(Code::InvalidValue, "scope \"category\" needs `category`")
            }
            (CouponScopeKind::Category, Some(c)) => check_name("category", c)?,
            (_, Some(_)) => return reject(Code::InvalidValue, "`category` is only for scope \"category\""),
            _ => {}
        }
        if let Party::Merchant(m) = issuer {
            if merchant != Some(m) {
                return reject(
                    Code::InvalidValue,
                    "a merchant issues coupons for its own store only: scope \"store\" or \"skus\" with `merchant` = the issuer",
                );
            }
        }
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
            _ => {
                return reject(
                    Code::InvalidValue,
                    "give exactly one of `off` (满 threshold 减 off) and `percent_bp` (percent off, with an optional `cap`)",
                )
            }
        }
        if !(1..=ml::COUPON_STOCK).contains(&k.stock) {
            return reject(Code::InvalidValue, format!("`stock` must be 1 to {}, got {}", ml::COUPON_STOCK, k.stock));
        }
        if !(1..=ml::PER_USER).contains(&k.per_user) {
            return reject(Code::InvalidValue, format!("`per_user` must be 1 to {}, got {}", ml::PER_USER, k.per_user));
        }
        window("claim_from", k.claim_from, "claim_until", k.claim_until)?;
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
        if let Some(b) = k.budget {
            amount("budget", b, 1)?;
        }
        out.push(Event::CouponCreated(k.clone()));
        Ok(())
    }

    fn coupon_idx(&self, id: &str) -> Result<u32, Rejection> {
        self.state.market.coupon_ids.get(id).ok_or_else(|| unknown("coupon", id))
    }

    fn decide_claim(&self, k: &cmd::ClaimCoupon, out: &mut Vec<Event>) -> Result<(), Rejection> {
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
        let (from, until) = match c.validity {
            Validity::Window { from, until } => (from, until),
            Validity::AfterClaim { ms } => (k.at, Ts(k.at.0 + ms)),
        };
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

    fn decide_create_fullcut(&self, k: &cmd::CreateFullcut, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let st = &self.state;
        check_id("fullcut", &k.fullcut)?;
        self.in_festival(k.at)?;
        if st.market.fullcut_ids.get(&k.fullcut).is_some() {
            return Err(dup("满减", &k.fullcut));
        }
        match k.scope {
            FullcutScopeKind::Store => {
                let Some(m) = &k.merchant else {
                    return reject(Code::InvalidValue, "scope \"store\" needs `merchant`");
                };
                self.merchant_idx(m)?;
                if k.merchants.is_some() || k.platform_share_bp != 0 {
                    return reject(
                        Code::InvalidValue,
                        "`merchants` and `platform_share_bp` are only for scope \"cross_store\"",
                    );
                }
            }
            FullcutScopeKind::CrossStore => {
                if k.merchant.is_some() {
                    return reject(
                        Code::InvalidValue,
                        "scope \"cross_store\" takes `merchants` (a list; absent = every merchant), not `merchant`",
                    );
                }
                if let Some(ms) = &k.merchants {
                    if ms.is_empty() || ms.len() > ml::CROSS_MERCHANTS {
                        return reject(
                            Code::InvalidValue,
                            format!("`merchants` must list 1 to {} merchants", ml::CROSS_MERCHANTS),
                        );
                    }
                    for m in ms {
                        self.merchant_idx(m)?;
                    }
                }
                if !(0..=10_000).contains(&k.platform_share_bp) {
                    return reject(
                        Code::InvalidValue,
                        format!("`platform_share_bp` must be 0 to 10000, got {}", k.platform_share_bp),
                    );
                }
            }
        }
        match (k.tiers.is_empty(), k.every) {
            (false, None) => {
                if k.tiers.len() > ml::TIERS || k.off.is_some() || k.cap.is_some() {
                    return reject(
                        Code::InvalidValue,
                        format!("`tiers` takes 1 to {} [threshold, off] pairs and no `off` or `cap`", ml::TIERS),
                    );
                }
                let mut prev = (0, 0);
                for &(th, off) in &k.tiers {
                    amount("tiers threshold", th, 1)?;
                    amount("tiers off", off, 1)?;
                    if th <= prev.0 || off <= prev.1 {
                        return reject(
                            Code::InvalidValue,
                            "`tiers` must rise: each [threshold, off] above the one before in both",
                        );
                    }
                    prev = (th, off);
                }
            }
            (true, Some(step)) => {
                amount("every", step, 1)?;
                let Some(off) = k.off else {
                    return reject(Code::InvalidValue, "`every` needs `off`: 每满 every 减 off");
                };
                amount("off", off, 1)?;
                if let Some(c) = k.cap {
                    amount("cap", c, 1)?;
                }
            }
            _ => return reject(
                Code::InvalidValue,
                "give exactly one of `tiers` ([[threshold, off], …]) and `every` (with `off` and an optional `cap`)",
            ),
        }
        window("start", k.start, "end", k.end)?;
        if let Some(b) = k.budget {
            amount("budget", b, 1)?;
        }
        out.push(Event::FullcutCreated(k.clone()));
        Ok(())
    }

    fn deal_idx(&self, id: &str) -> Result<u32, Rejection> {
        self.state.market.deal_ids.get(id).ok_or_else(|| unknown("group deal", id))
    }

    fn check_new_order(&self, order: &str) -> Result<(), Rejection> {
        check_id("order", order)?;
        let st = &self.state;
        if st.orders.contains_key(order) || st.market.pending_orders.contains(order) {
            return reject(Code::DuplicateOrder, format!("order `{order}` already exists; order ids are unique"));
        }
        Ok(())
    }

    fn decide_open_group(&self, k: &cmd::OpenGroup, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let st = &self.state;
        check_id("group", &k.group)?;
        check_id("user", &k.user)?;
        self.in_festival(k.at)?;
        if st.market.group_ids.get(&k.group).is_some() {
            return Err(dup("group", &k.group));
        }
        let di = self.deal_idx(&k.deal)?;
        let d = &st.market.deals[di as usize];
        if k.at < d.start {
            return reject(Code::PromotionNotActive, format!("group deal `{}` starts at {}", k.deal, d.start));
        }
        if k.at >= d.end {
            return reject(Code::PromotionEnded, format!("group deal `{}` ended at {}", k.deal, d.end));
        }
        self.check_member(di, &k.user)?;
        self.check_new_order(&k.order)?;
        let channel = if k.session.is_some() { Channel::Live } else { Channel::Shelf };
        if let Some(s) = &k.session {
            self.live_session(s, k.at)?;
        }
        // A group can only open if the budget can carry it full.
        self.check_deal_budget(d, d.size as i64)?;
        out.push(Event::GroupOpened {
            id: k.id.clone(),
            group: k.group.clone(),
            deal: k.deal.clone(),
            user: k.user.clone(),
            order: k.order.clone(),
            channel,
            session: k.session.clone(),
            deadline: Ts(k.at.0 + d.limit_ms),
            at: k.at,
        });
        Ok(())
    }

    fn check_member(&self, di: u32, user: &str) -> Result<(), Rejection> {
        let st = &self.state;
        if st.users.get(user).is_some_and(|u| st.market.group_members.contains(&(di, u))) {
            return reject(
                Code::LimitReached,
                format!(
                    "user `{user}` already joined a group of deal `{}`; a user joins once",
                    st.market.deal_ids.name(di)
                ),
            );
        }
        Ok(())
    }

    fn check_deal_budget(&self, d: &GroupDeal, members: i64) -> Result<(), Rejection> {
        let per = (d.price - d.group_price).0;
        // Each member joining holds `per` of subsidy; the festival's total stays bounded.
        let held = self.state.market.totals.subsidies_fen;
        within("the group-price subsidies held or given", "fen", held, per as i128, limits::TOTAL)?;
        if let Some(left) = d.budget.left() {
            if per * members > left {
                return reject(
                    Code::BudgetExhausted,
                    format!("the deal's budget has {left} fen left; {members} member(s) need {per} fen each"),
                );
            }
        }
        Ok(())
    }

    fn decide_join_group(&self, k: &cmd::JoinGroup, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let st = &self.state;
        check_id("user", &k.user)?;
        self.in_festival(k.at)?;
        let gi = st.market.group_ids.get(&k.group).ok_or_else(|| unknown("group", &k.group))?;
        let g = &st.market.groups[gi as usize];
        let d = &st.market.deals[g.deal as usize];
        if g.state != GroupState::Open || k.at >= g.deadline {
            return reject(
                Code::PromotionEnded,
                format!(
                    "group `{}` is no longer open (it formed, or its time limit passed at {})",
                    k.group, g.deadline
                ),
            );
        }
        if k.at < g.opened {
            return reject(Code::InvalidValue, format!("`at` {} is before the group opened at {}", k.at, g.opened));
        }
        self.check_member(g.deal, &k.user)?;
        self.check_new_order(&k.order)?;
        if g.members.iter().any(|m| m.order == k.order) {
            return reject(Code::DuplicateOrder, format!("order `{}` already exists; order ids are unique", k.order));
        }
        self.check_deal_budget(d, 1)?;
        out.push(Event::GroupJoined {
            id: k.id.clone(),
            group: k.group.clone(),
            user: k.user.clone(),
            order: k.order.clone(),
            at: k.at,
        });
        if g.members.len() + 1 == d.size as usize {
            out.push(Event::GroupFormed { group: k.group.clone(), at: k.at });
            let mi = d.merchant;
            let (session, anchor, provider, self_broadcast) =
                self.attribution(mi, g.channel, g.session.map(|s| st.session_ids.name(s)), k.at)?;
            let members = g.members.iter().map(|m| (st.users.name(m.user).to_string(), m.order.clone()));
            for (user, order) in members.chain([(k.user.clone(), k.order.clone())]) {
                out.push(Event::OrderPaid {
                    order,
                    user,
                    merchant: st.merchant_ids.name(mi).to_string(),
                    channel: g.channel,
                    session: session.clone(),
                    anchor: anchor.clone(),
                    provider: provider.clone(),
                    self_broadcast,
                    lines: vec![Line { sku: d.sku.clone(), qty: 1, price: d.price.0, paid: d.group_price.0 }],
                    at: k.at,
                });
            }
        }
        Ok(())
    }

    fn decide_create_packet(&self, k: &cmd::CreateRedPacket, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let st = &self.state;
        check_id("packet", &k.packet)?;
        if st.market.packet_ids.get(&k.packet).is_some() {
            return Err(dup("red packet", &k.packet));
        }
        self.live_session(&k.session, k.at)?;
        parse_party(st, "issuer", &k.issuer)?;
        amount("total", k.total, 1)?;
        if !(1..=redpacket::MAX_COUNT as i64).contains(&k.count) || k.total < k.count {
            return reject(
                Code::InvalidValue,
                format!(
                    "`count` must be 1 to {} and at most `total` (every share gets at least 1 fen), got {}",
                    redpacket::MAX_COUNT,
                    k.count
                ),
            );
        }
        if k.opens_at < k.at {
            return reject(
                Code::InvalidValue,
                format!("`opens_at` ({}) must not be before `at` ({})", k.opens_at, k.at),
            );
        }
        window("opens_at", k.opens_at, "expires_at", k.expires_at)?;
        if k.expires_at > self.festival.end() {
            return reject(
                Code::InvalidValue,
                format!("`expires_at` must be at or before the festival's end {}", self.festival.end()),
            );
        }
        self.check_eligibility_fields(&k.passphrase, k.min_watch_s)?;
        if let Some(m) = &k.usable_merchant {
            self.merchant_idx(m)?;
        }
        if let Some(u) = k.use_until {
            window("opens_at", k.opens_at, "use_until", u)?;
        }
        let created = st.market.totals.packets_fen;
        within("the money of every red packet created", "fen", created, k.total as i128, limits::TOTAL)?;
        out.push(self.packet_created(k)?);
        Ok(())
    }

    fn check_eligibility_fields(&self, passphrase: &Option<String>, min_watch_s: i64) -> Result<(), Rejection> {
        if let Some(p) = passphrase {
            if p.is_empty() || p.len() > ml::TEXT_BYTES {
                return reject(Code::InvalidValue, format!("`passphrase` must be 1 to {} bytes", ml::TEXT_BYTES));
            }
        }
        if !(0..=ml::WATCH_S).contains(&min_watch_s) {
            return reject(
                Code::InvalidValue,
                format!("`min_watch_s` must be 0 to {}, got {min_watch_s}", ml::WATCH_S),
            );
        }
        Ok(())
    }

    fn decide_grab(&self, k: &cmd::GrabRedPacket, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let st = &self.state;
        let pi = st.market.packet_ids.get(&k.packet).ok_or_else(|| unknown("red packet", &k.packet))?;
        let p = &st.market.packets[pi as usize];
        if k.at < p.opens_at {
            return reject(Code::PromotionNotActive, format!("red packet `{}` opens at {}", k.packet, p.opens_at));
        }
        if k.at >= p.expires_at || p.returned.is_some() {
            return reject(Code::PromotionEnded, format!("red packet `{}` expired at {}", k.packet, p.expires_at));
        }
        if p.grabbers.len() >= p.count as usize {
            return reject(Code::SoldOut, format!("all {} shares of red packet `{}` were grabbed", p.count, k.packet));
        }
        let Some(u) = st.users.get(&k.user) else {
            return reject(Code::NotEligible, format!("user `{}` must be in the live room", k.user));
        };
        if p.grabbers.contains(&u) {
            return reject(Code::LimitReached, format!("user `{}` already grabbed red packet `{}`", k.user, k.packet));
        }
        self.eligible(p.session, &p.eligibility, p.said.contains(&u), u, k.at).map_err(|why| {
            Rejection::new(Code::NotEligible, format!("to grab red packet `{}` the user {why}", k.packet))
        })?;
        out.push(Event::RedPacketGrabbed {
            id: k.id.clone(),
            packet: k.packet.clone(),
            user: k.user.clone(),
            amount: p.shares[p.grabbers.len()],
            at: k.at,
        });
        Ok(())
    }

    fn decide_create_lottery(&self, k: &cmd::CreateLottery, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let st = &self.state;
        check_id("lottery", &k.lottery)?;
        if st.market.lottery_ids.get(&k.lottery).is_some() {
            return Err(dup("lottery", &k.lottery));
        }
        self.live_session(&k.session, k.at)?;
        parse_party(st, "issuer", &k.issuer)?;
        check_name("prize.name", &k.prize.name)?;
        if !(0..=ml::AMOUNT_FEN).contains(&k.prize.value) {
            return reject(Code::InvalidValue, format!("`prize.value` must be 0 to {} fen", ml::AMOUNT_FEN));
        }
        match (k.prize.kind, &k.prize.coupon) {
            (PrizeKind::Coupon, Some(c)) => {
                self.coupon_idx(c)?;
            }
            (PrizeKind::Coupon, None) => return reject(Code::InvalidValue, "a coupon prize needs `prize.coupon`"),
            (_, Some(_)) => return reject(Code::InvalidValue, "`prize.coupon` is only for kind \"coupon\""),
            _ => {}
        }
        if !(1..=ml::LOTTERY_WINNERS).contains(&k.winners) {
            return reject(
                Code::InvalidValue,
                format!("`winners` must be 1 to {}, got {}", ml::LOTTERY_WINNERS, k.winners),
            );
        }
        if k.draw_at < k.at || k.draw_at >= self.festival.end() {
            return reject(
                Code::InvalidValue,
                format!(
                    "`draw_at` must be from `at` ({}) to before the festival's end ({})",
                    k.at,
                    self.festival.end()
                ),
            );
        }
        self.check_eligibility_fields(&k.passphrase, k.min_watch_s)?;
        let secret = match lottery::unhex(&k.secret) {
            Some(b) if (16..=64).contains(&b.len()) => b,
            _ => {
                return reject(
                    Code::InvalidValue,
                    "`secret` must be 16 to 64 random bytes as lowercase hex (32 to 128 digits 0-9, a-f)",
                )
            }
        };
        let offered = st.market.totals.prizes_fen;
        let worth = k.winners as i128 * k.prize.value as i128;
        within("the prize value of every lottery created", "fen", offered, worth, limits::TOTAL)?;
        out.push(Event::LotteryCreated { def: k.clone(), commitment: lottery::commitment(&secret) });
        Ok(())
    }

    fn open_checkout(&self, id: &str) -> Result<(u32, &Checkout), Rejection> {
        let st = &self.state;
        let ci = st.market.checkout_ids.get(id).ok_or_else(|| {
            Rejection::new(Code::UnknownCheckout, format!("no checkout `{id}` exists; create it with checkout first"))
        })?;
        let co = &st.market.checkouts[ci as usize];
        if co.state != CheckoutState::Reserved {
            let what = match co.state {
                CheckoutState::Paid(t) => format!("was paid at {t}"),
                CheckoutState::Released(t, r) => format!(
                    "was released at {t} ({})",
                    if r == ReleaseReason::Timeout { "payment timeout" } else { "cancelled" }
                ),
                CheckoutState::Reserved => unreachable!(),
            };
            return reject(Code::CheckoutNotOpen, format!("checkout `{id}` {what}"));
        }
        Ok((ci, co))
    }

    fn decide_pay(&self, k: &cmd::Pay, out: &mut Vec<Event>) -> Result<(), Rejection> {
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
                .map(|(l, &paid)| Line { sku: l.sku.clone(), qty: l.qty, price: l.price, paid })
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

    fn decide_checkout(&self, k: &cmd::Checkout, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let st = &self.state;
        check_id("checkout", &k.checkout)?;
        check_id("user", &k.user)?;
        self.in_festival(k.at)?;
        if st.market.checkout_ids.get(&k.checkout).is_some() {
            return reject(Code::DuplicateCheckout, format!("checkout `{}` already exists; use a new id", k.checkout));
        }
        let Some(first) = k.lines.first() else {
            return reject(Code::EmptyOrder, format!("a cart needs 1 to {} lines, got 0", quote::MAX_LINES));
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
            quote,
            at: k.at,
        });
        Ok(())
    }

    /// Prices a cart for `user` at `at` from the wallet and the active promotions, without
    /// changing anything (`dacu quote`, and the first step of `checkout`).
    pub fn quote(&self, user: &str, lines: &[CartLine], at: Ts) -> Result<Quote, Rejection> {
        let st = &self.state;
        let m = &st.market;
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
        let slot_of = |mi: u32| slot_merchant.iter().position(|&x| x == mi);
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
            qlines.push(quote::QLine { slot: slot_of(mi).expect("slot"), qty: l.qty, price: l.price });
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
        let active = |s: Ts, e: Ts| s <= at && at < e;
        let mut p = quote::Problem {
            lines: qlines,
            slots: ids.len(),
            policy: quote::Policy { layers: self.festival.checkout.layers.clone() },
            ..Default::default()
        };
        // Which promotion each candidate is, for the quote's discount list.
        let mut cut_of = Vec::new();
        for (n, l) in lines.iter().enumerate() {
            let mi = slot_merchant[p.lines[n].slot];
            let Some(cuts) = m.cuts_by_sku.get(&(mi, l.sku.as_str().into())) else { continue };
            // The line takes its largest cut; equal cuts go to the lower id.
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
                cut_of.push(c);
            }
        }
        // Store 满减 of the cart's merchants, ranked by id.
        let mut fulls: Vec<(&str, u32, usize)> = Vec::new();
        for (s, &mi) in slot_merchant.iter().enumerate() {
            for &f in m.fullcuts_by_merchant.get(&mi).map(|v| v.as_slice()).unwrap_or(&[]) {
                let fc = &m.fullcuts[f as usize];
                if active(fc.start, fc.end) && fc.budget.left() != Some(0) {
                    fulls.push((m.fullcut_ids.name(f), f, s));
                }
            }
        }
        fulls.sort_unstable();
        let mut full_of = Vec::new();
        for (rank, &(_, f, s)) in fulls.iter().enumerate() {
            let fc = &m.fullcuts[f as usize];
            p.fullcuts.push(quote::FullcutC {
                slot: s,
                rule: fc.rule.clone(),
                budget: fc.budget.left(),
                key: Key { expiry: fc.end.0, claimed: fc.start.0, rank: rank as u32 },
            });
            full_of.push(f);
        }
        let mut cross: Vec<(&str, u32, u32)> = Vec::new();
        for &f in &m.cross_fullcuts {
            let fc = &m.fullcuts[f as usize];
            if !active(fc.start, fc.end) || fc.budget.left() == Some(0) {
                continue;
            }
            let mask = slot_merchant
                .iter()
                .enumerate()
                .filter(|(_, mi)| fc.merchants.as_ref().is_none_or(|set| set.contains(mi)))
                .fold(0u32, |acc, (s, _)| acc | 1 << s);
            if mask != 0 {
                cross.push((m.fullcut_ids.name(f), f, mask));
            }
        }
        cross.sort_unstable();
        let mut cross_of = Vec::new();
        for (rank, &(_, f, mask)) in cross.iter().enumerate() {
            let fc = &m.fullcuts[f as usize];
            p.cross.push(quote::CrossC {
                slots: mask,
                rule: fc.rule.clone(),
                budget: fc.budget.left(),
                key: Key { expiry: fc.end.0, claimed: fc.start.0, rank: rank as u32 },
            });
            cross_of.push(f);
        }
        // The wallet: coupons valid now, and red-packet money.
        let (mut store_c, mut plat_c) = (Vec::new(), Vec::new());
        let mut allow: Vec<(bool, i64, i64, u32, Option<usize>, i64)> = Vec::new();
        if let Some(w) = st.users.get(user).and_then(|u| m.wallets.get(&u)) {
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
                        let Some(s) = slot_of(*mi) else { continue };
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
                        let mask = slot_merchant
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
            for (i, a) in w.allowances.iter().enumerate() {
                if a.left.0 <= 0 || at < a.got_at || at >= a.until {
                    continue;
                }
                let slot = match a.merchant {
                    Some(mi) => match slot_of(mi) {
                        Some(s) => Some(s),
                        None => continue,
                    },
                    None => None,
                };
                // Store-scoped money first, then the earliest to expire.
                allow.push((slot.is_none(), a.until.0, a.got_at.0, i as u32, slot, a.left.0));
            }
        }
        store_c.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        plat_c.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        allow.sort_unstable();
        allow.truncate(quote::MAX_ALLOWANCES);
        let mut coupon_of = Vec::new();
        for (rank, (_, h, s, scope, held)) in store_c.into_iter().enumerate() {
            let c = &m.coupons[held.coupon as usize];
            p.coupons.push(quote::CouponC {
                slot: s,
                lines: scope,
                value: c.value,
                budget: c.budget.left(),
                key: Key { expiry: held.until.0, claimed: held.claimed_at.0, rank: rank as u32 },
            });
            coupon_of.push((held.coupon, h as u32));
        }
        let mut plat_of = Vec::new();
        for (rank, (_, h, mask, held)) in plat_c.into_iter().enumerate() {
            let c = &m.coupons[held.coupon as usize];
            p.platform.push(quote::PlatformC {
                slots: mask,
                value: c.value,
                budget: c.budget.left(),
                key: Key { expiry: held.until.0, claimed: held.claimed_at.0, rank: rank as u32 },
            });
            plat_of.push((held.coupon, h as u32));
        }
        let mut allow_of = Vec::new();
        for (_, _, _, i, slot, left) in allow {
            p.allowances.push(quote::AllowanceC { slot, left });
            allow_of.push(i);
        }
        let priced = quote::optimize(&p);
        // Name every discount and split its cost.
        let wallet = st.users.get(user).and_then(|u| m.wallets.get(&u));
        let mut discounts = Vec::with_capacity(priced.applied.len());
        for a in &priced.applied {
            let merchant_of_line = |n: usize| slot_merchant[p.lines[n].slot];
            let (promo, held, bearers): (String, Option<u32>, Vec<(String, i64)>) = match a.layer {
                Layer::PriceCut => {
                    let c = cut_of[a.index];
                    let who = party_name(st, Party::Merchant(m.cuts[c as usize].merchant));
                    (m.cut_ids.name(c).to_string(), None, vec![(who, a.amount)])
                }
                Layer::StoreFullcut => {
                    let f = full_of[a.index];
                    let who = party_name(st, Party::Merchant(m.fullcuts[f as usize].merchant.expect("store")));
                    (m.fullcut_ids.name(f).to_string(), None, vec![(who, a.amount)])
                }
                Layer::StoreCoupon | Layer::PlatformCoupon => {
                    let (c, h) = if a.layer == Layer::StoreCoupon { coupon_of[a.index] } else { plat_of[a.index] };
                    let who = party_name(st, m.coupons[c as usize].bearer);
                    (m.coupon_ids.name(c).to_string(), Some(h), vec![(who, a.amount)])
                }
                Layer::CrossStoreFullcut => {
                    let f = cross_of[a.index];
                    let bp = m.fullcuts[f as usize].platform_share_bp;
                    // Per merchant share d: the platform bears ⌊d × bp / 10000⌋, the
                    // merchant the rest.
                    // Merchants in the order of their first line in the cart, whether or
                    // not that line took a part; zero shares are left out below.
                    let mut per: Vec<(u32, i64)> = Vec::new();
                    for (n, &d) in a.lines.iter().enumerate() {
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
                            v.push((party_name(st, Party::Merchant(mi)), d - pf));
                        }
                    }
                    if platform != 0 {
                        v.insert(0, ("platform".to_string(), platform));
                    }
                    (m.fullcut_ids.name(f).to_string(), None, v)
                }
                Layer::RedPacket => {
                    let i = allow_of[a.index];
                    let al = &wallet.expect("allowances come from the wallet").allowances[i as usize];
                    let Source::Packet(pk) = al.source;
                    let who = party_name(st, m.packets[pk as usize].issuer);
                    (m.packet_ids.name(pk).to_string(), Some(i), vec![(who, a.amount)])
                }
            };
            discounts.push(Discount { layer: a.layer, promo, held, amount: a.amount, lines: a.lines.clone(), bearers });
        }
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

    fn decide_tick(&self, k: &cmd::Tick, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let st = &self.state;
        let m = &st.market;
        for &(due, kind, i) in m.timers.range(..=(k.at, u8::MAX, u32::MAX)) {
            match kind {
                timer::CHECKOUT => {
                    if m.checkouts[i as usize].state == CheckoutState::Reserved {
                        out.push(Event::CheckoutReleased {
                            id: None,
                            checkout: m.checkout_ids.name(i).to_string(),
                            reason: ReleaseReason::Timeout,
                            at: due,
                        });
                    }
                }
                timer::GROUP => {
                    let g = &m.groups[i as usize];
                    if g.state == GroupState::Open {
                        let price = m.deals[g.deal as usize].group_price.0;
                        out.push(Event::GroupFailed {
                            group: m.group_ids.name(i).to_string(),
                            refunded: price * g.members.len() as i64,
                            at: due,
                        });
                    }
                }
                timer::PACKET => {
                    let p = &m.packets[i as usize];
                    if p.returned.is_none() {
                        out.push(Event::RedPacketExpired {
                            packet: m.packet_ids.name(i).to_string(),
                            leftover: (p.total - p.granted).0,
                            at: due,
                        });
                    }
                }
                _ => {
                    let l = &m.lotteries[i as usize];
                    if l.drawn.is_none() {
                        let s = &st.sessions[l.session as usize];
                        // Candidates: everyone who was ever in the room; the rules filter.
                        let mut eligible: Vec<String> = s
                            .unique_viewers
                            .iter()
                            .filter(|&&u| self.eligible(l.session, &l.eligibility, l.said.contains(&u), u, due).is_ok())
                            .map(|&u| st.users.name(u).to_string())
                            .collect();
                        eligible = lottery::canonical(&eligible);
                        let secret = lottery::unhex(&l.secret).expect("validated at creation");
                        // The event lists the pool: a huge room is sampled (docs/lottery.md).
                        let eligible = lottery::pool(&secret, eligible);
                        let winners = lottery::draw(&secret, &eligible, l.winners);
                        out.push(Event::LotteryDrawn {
                            lottery: m.lottery_ids.name(i).to_string(),
                            eligible,
                            winners,
                            at: due,
                        });
                    }
                }
            }
        }
        out.push(Event::Ticked { id: k.id.clone(), at: k.at });
        Ok(())
    }

    /// After a refund of a checkout's order: each discount's proportional share comes
    /// back, and coupons return to the wallet when every order they touched is fully
    /// refunded (if the coupon says so). docs/checkout.md, "Refunds".
    pub(super) fn decide_discount_returns(&self, order: &str, amount: i64, at: Ts, out: &mut Vec<Event>) {
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

    /// Applies a marketing-tool event.
    pub(super) fn apply_market(&mut self, ev: &Event) -> Result<(), ApplyError> {
        let index = self.state.events;
        let fail = |reason: String| ApplyError { index, reason };
        let festival = self.festival.clone();
        let st = &mut self.state;
        if let Some((id, ty)) = event_id(ev) {
            st.market.command_ids.insert(id, ty);
        }
        macro_rules! idx {
            ($($interner:ident).+, $id:expr, $what:literal) => {
                st.$($interner).+.get($id).ok_or_else(|| fail(format!("unknown {} `{}`", $what, $id)))?
            };
        }
        let party = |st: &State, s: &str| parse_party(st, "party", s).map_err(|r| fail(r.message));
        match ev {
            Event::Followed { anchor, user, at, .. } => {
                let a = idx!(anchor_ids, anchor, "anchor");
                let u = st.users.intern(user);
                st.market.follows.entry((a, u)).or_insert(*at);
            }
            Event::Commented { session, user, text, at } => {
                let s = idx!(session_ids, session, "session");
                let u = st.users.intern(user);
                st.sessions[s as usize].interactions[crate::command::InteractionKind::Comment.index()] += 1;
                st.sessions[s as usize].touch(*at);
                if let Some(targets) = st.market.passphrases.get(&s) {
                    for (p, t) in targets {
                        if p == text {
                            match *t {
                                Target::Packet(i) => st.market.packets[i as usize].said.insert(u),
                                Target::Lottery(i) => st.market.lotteries[i as usize].said.insert(u),
                            };
                        }
                    }
                }
            }
            Event::CouponCreated(k) => {
                let issuer = party(st, &k.issuer)?;
                let bearer = match &k.bearer {
                    Some(b) => party(st, b)?,
                    None => issuer,
                };
                let merchant = match &k.merchant {
                    Some(m) => Some(idx!(merchant_ids, m, "merchant")),
                    None => None,
                };
                let scope = match k.scope {
                    CouponScopeKind::Platform => CouponScope::Platform,
                    CouponScopeKind::Store => CouponScope::Store(merchant.ok_or_else(|| fail("no merchant".into()))?),
                    CouponScopeKind::Skus => {
                        CouponScope::Skus(merchant.ok_or_else(|| fail("no merchant".into()))?, k.skus.clone())
                    }
                    CouponScopeKind::Category => CouponScope::Category(k.category.clone().unwrap_or_default()),
                };
                let value = match (k.off, k.percent_bp) {
                    (Some(off), _) => Value::Off { threshold: k.threshold, off },
                    (None, Some(bp)) => Value::Percent { threshold: k.threshold, bp, cap: k.cap },
                    _ => return Err(fail("a coupon without a value".into())),
                };
                let validity = match (k.valid_from, k.valid_until, k.valid_days) {
                    (Some(from), Some(until), _) => Validity::Window { from, until },
                    (_, _, Some(d)) => Validity::AfterClaim { ms: d * DAY_MS },
                    _ => return Err(fail("a coupon without a validity".into())),
                };
                let audience = match k.audience {
                    AudienceKind::Everyone => Audience::Everyone,
                    AudienceKind::Followers => {
                        Audience::Followers(idx!(anchor_ids, k.anchor.as_deref().unwrap_or(""), "anchor"))
                    }
                    AudienceKind::NewFollowers => {
                        Audience::NewFollowers(idx!(anchor_ids, k.anchor.as_deref().unwrap_or(""), "anchor"))
                    }
                    AudienceKind::Session => {
                        Audience::Session(idx!(session_ids, k.session.as_deref().unwrap_or(""), "session"))
                    }
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
            }
            Event::CouponClaimed { coupon, user, from, until, at, .. } => {
                let c = idx!(market.coupon_ids, coupon, "coupon");
                let u = st.users.intern(user);
                grant_coupon(&mut st.market, c, u, *from, *until, *at);
            }
            Event::FullcutCreated(k) => {
                let merchant = match &k.merchant {
                    Some(m) => Some(idx!(merchant_ids, m, "merchant")),
                    None => None,
                };
                let merchants = match &k.merchants {
                    Some(ms) => {
                        let mut set = std::collections::BTreeSet::new();
                        for m in ms {
                            set.insert(idx!(merchant_ids, m, "merchant"));
                        }
                        Some(set)
                    }
                    None => None,
                };
                let rule = match k.every {
                    Some(step) => Rule::Every { step, off: k.off.unwrap_or(0), cap: k.cap },
                    None => Rule::Tiers(k.tiers.clone()),
                };
                let f = st.market.fullcut_ids.intern(&k.fullcut);
                match merchant {
                    Some(mi) => st.market.fullcuts_by_merchant.entry(mi).or_default().push(f),
                    None => st.market.cross_fullcuts.push(f),
                }
                st.market.fullcuts.push(Fullcut {
                    merchant,
                    merchants,
                    rule,
                    platform_share_bp: k.platform_share_bp,
                    start: k.start,
                    end: k.end,
                    budget: Budget { cap: k.budget.map(Fen), ..Budget::default() },
                    used: 0,
                });
            }
            Event::PriceCutCreated(k) => {
                let mi = idx!(merchant_ids, &k.merchant, "merchant");
                let c = st.market.cut_ids.intern(&k.cut);
                st.market.cuts_by_sku.entry((mi, k.sku.as_str().into())).or_default().push(c);
                st.market.cuts.push(PriceCut {
                    merchant: mi,
                    sku: k.sku.clone(),
                    off_unit: Fen(k.off),
                    start: k.start,
                    end: k.end,
                    budget: Budget { cap: k.budget.map(Fen), ..Budget::default() },
                });
            }
            Event::GroupDealCreated(k) => {
                let mi = idx!(merchant_ids, &k.merchant, "merchant");
                st.market.deal_ids.intern(&k.deal);
                st.market.deals.push(GroupDeal {
                    merchant: mi,
                    sku: k.sku.clone(),
                    price: Fen(k.price),
                    group_price: Fen(k.group_price),
                    size: k.size as u32,
                    limit_ms: k.time_limit_s.unwrap_or(festival.checkout.group_time_limit_s) * 1000,
                    start: k.start,
                    end: k.end,
                    budget: Budget { cap: k.budget.map(Fen), ..Budget::default() },
                    formed: 0,
                    failed: 0,
                });
            }
            Event::GroupOpened { group, deal, user, order, channel, session, deadline, at, .. } => {
                let d = idx!(market.deal_ids, deal, "group deal");
                let s = match session {
                    Some(x) => Some(idx!(session_ids, x, "session")),
                    None => None,
                };
                let u = st.users.intern(user);
                let g = st.market.group_ids.intern(group);
                st.market.groups.push(Group {
                    deal: d,
                    channel: *channel,
                    session: s,
                    members: vec![Member { user: u, order: order.clone(), at: *at }],
                    opened: *at,
                    deadline: *deadline,
                    state: GroupState::Open,
                });
                join(&mut st.market, d, u, order);
                st.market.timers.insert((*deadline, timer::GROUP, g));
            }
            Event::GroupJoined { group, user, order, at, .. } => {
                let g = idx!(market.group_ids, group, "group");
                let u = st.users.intern(user);
                let d = st.market.groups[g as usize].deal;
                st.market.groups[g as usize].members.push(Member { user: u, order: order.clone(), at: *at });
                join(&mut st.market, d, u, order);
            }
            Event::GroupFormed { group, at } | Event::GroupFailed { group, at, .. } => {
                let g = idx!(market.group_ids, group, "group");
                let formed = matches!(ev, Event::GroupFormed { .. });
                let m = &mut st.market;
                let grp = &mut m.groups[g as usize];
                grp.state = if formed { GroupState::Formed(*at) } else { GroupState::Failed(*at) };
                m.timers.remove(&(grp.deadline, timer::GROUP, g));
                let d = &mut m.deals[grp.deal as usize];
                let subsidy = Fen((d.price - d.group_price).0 * grp.members.len() as i64);
                d.budget.reserved -= subsidy;
                if formed {
                    d.formed += 1;
                    d.budget.spent += subsidy;
                } else {
                    d.failed += 1;
                    m.totals.subsidies_fen -= subsidy.0;
                }
                for mem in &grp.members {
                    m.pending_orders.remove(mem.order.as_str());
                    // A failed group's members may try again in another group.
                    if !formed {
                        m.group_members.remove(&(grp.deal, mem.user));
                    }
                }
            }
            Event::RedPacketCreated { def, seed } => {
                super::packet::apply_created(st, &festival, def, *seed, None).map_err(fail)?;
            }
            Event::RedPacketCommitted { def, seed, commitment, secret } => {
                let reveal = super::packet::Reveal { commitment, secret };
                super::packet::apply_created(st, &festival, def, *seed, Some(reveal)).map_err(fail)?;
            }
            Event::RedPacketGrabbed { packet, user, amount, at, .. } => {
                let p = idx!(market.packet_ids, packet, "red packet");
                let u = st.users.intern(user);
                let pk = &mut st.market.packets[p as usize];
                pk.grabbers.insert(u);
                pk.granted += Fen(*amount);
                let al = Allowance {
                    source: Source::Packet(p),
                    amount: Fen(*amount),
                    left: Fen(*amount),
                    merchant: pk.use_merchant,
                    got_at: *at,
                    until: pk.use_until,
                };
                st.market.wallets.entry(u).or_default().allowances.push(al);
            }
            Event::RedPacketExpired { packet, leftover, .. } => {
                let p = idx!(market.packet_ids, packet, "red packet");
                let pk = &mut st.market.packets[p as usize];
                pk.returned = Some(Fen(*leftover));
                let due = pk.expires_at;
                st.market.timers.remove(&(due, timer::PACKET, p));
            }
            Event::LotteryCreated { def: k, commitment } => {
                let s = idx!(session_ids, &k.session, "session");
                let issuer = party(st, &k.issuer)?;
                let coupon = match &k.prize.coupon {
                    Some(c) => Some(idx!(market.coupon_ids, c, "coupon")),
                    None => None,
                };
                let l = st.market.lottery_ids.intern(&k.lottery);
                st.market.lotteries.push(Lottery {
                    session: s,
                    issuer,
                    prize: Prize { kind: k.prize.kind, name: k.prize.name.clone(), value: Fen(k.prize.value), coupon },
                    winners: k.winners as u32,
                    eligibility: Eligibility {
                        in_room: k.in_room,
                        followers_only: k.followers_only,
                        passphrase: k.passphrase.clone(),
                        min_watch_ms: k.min_watch_s * 1000,
                    },
                    draw_at: k.draw_at,
                    commitment: commitment.clone(),
                    // Canonical lowercase hex of the bytes, however the recorded command
                    // spelled them, so the draw and what `show lottery` publishes agree.
                    secret: lottery::hex(
                        &lottery::unhex_recorded(&k.secret).ok_or_else(|| fail("the secret is not hex".into()))?,
                    ),
                    said: Default::default(),
                    drawn: None,
                });
                if let Some(text) = &k.passphrase {
                    st.market.passphrases.entry(s).or_default().push((text.clone(), Target::Lottery(l)));
                }
                st.market.timers.insert((k.draw_at, timer::LOTTERY, l));
                st.market.totals.prizes_fen += k.winners * k.prize.value;
            }
            Event::LotteryDrawn { lottery, eligible, winners, at } => {
                let l = idx!(market.lottery_ids, lottery, "lottery");
                let lot = &st.market.lotteries[l as usize];
                st.market.timers.remove(&(lot.draw_at, timer::LOTTERY, l));
                if let Some(c) = lot.prize.coupon {
                    // Coupon prizes come out of the coupon's stock while it lasts.
                    for w in winners {
                        let u = st.users.intern(w);
                        let cp = &st.market.coupons[c as usize];
                        if cp.claimed >= cp.stock {
                            break;
                        }
                        let (from, until) = match cp.validity {
                            Validity::Window { from, until } => (from, until),
                            Validity::AfterClaim { ms } => (*at, Ts(at.0 + ms)),
                        };
                        grant_coupon(&mut st.market, c, u, from, until, *at);
                    }
                }
                st.market.lotteries[l as usize].drawn =
                    Some(Drawn { at: *at, eligible: eligible.clone(), winners: winners.clone() });
            }
            Event::CheckoutReserved { checkout, user, channel, session, pay_by, quote, at, .. } => {
                let u = st.users.intern(user);
                let s = match session {
                    Some(x) => Some(idx!(session_ids, x, "session")),
                    None => None,
                };
                let ci = st.market.checkout_ids.intern(checkout);
                for d in &quote.discounts {
                    move_discount(&mut st.market, u, d, Move::Reserve(ci)).map_err(fail)?;
                }
                for m in quote.merchants() {
                    st.market.pending_orders.insert(Checkout::order_id(checkout, m).into());
                }
                st.market.timers.insert((*pay_by, timer::CHECKOUT, ci));
                st.market.totals.discounts_fen += quote.discount_total;
                st.market.checkouts.push(Checkout {
                    user: u,
                    channel: *channel,
                    session: s,
                    at: *at,
                    pay_by: *pay_by,
                    returned: vec![0; quote.discounts.len()],
                    quote: quote.clone(),
                    state: CheckoutState::Reserved,
                });
            }
            Event::CheckoutPaid { checkout, at, .. } | Event::CheckoutReleased { checkout, at, .. } => {
                let ci = idx!(market.checkout_ids, checkout, "checkout");
                let m = &mut st.market;
                let co = &mut m.checkouts[ci as usize];
                let paid = matches!(ev, Event::CheckoutPaid { .. });
                co.state = match ev {
                    Event::CheckoutReleased { reason, .. } => CheckoutState::Released(*at, *reason),
                    _ => CheckoutState::Paid(*at),
                };
                m.timers.remove(&(co.pay_by, timer::CHECKOUT, ci));
                let (u, discounts, pay_total) = (co.user, co.quote.discounts.clone(), co.quote.pay_total);
                if !paid {
                    m.totals.discounts_fen -= co.quote.discount_total;
                }
                for d in &discounts {
                    move_discount(m, u, d, if paid { Move::Redeem(ci, pay_total) } else { Move::Release })
                        .map_err(fail)?;
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
            }
            Event::DiscountsReturned { order, returns, restored, .. } => {
                let ci = *st
                    .market
                    .order_checkout
                    .get(order.as_str())
                    .ok_or_else(|| fail(format!("order `{order}` is not a checkout's")))?;
                let m = &mut st.market;
                let u = m.checkouts[ci as usize].user;
                let discounts = m.checkouts[ci as usize].quote.discounts.clone();
                if returns.len() != discounts.len() {
                    return Err(fail("returns do not match the checkout's discounts".into()));
                }
                for (i, (d, &r)) in discounts.iter().zip(returns).enumerate() {
                    m.checkouts[ci as usize].returned[i] += r;
                    move_discount(m, u, d, Move::Return(r)).map_err(fail)?;
                }
                for &h in restored {
                    let held = m
                        .wallets
                        .get_mut(&u)
                        .and_then(|w| w.coupons.get_mut(h as usize))
                        .ok_or_else(|| fail(format!("no wallet coupon {h}")))?;
                    held.state = HeldState::Available;
                }
            }
            // Identified records only its id; the contest inputs are kept by the contests
            // (crate::contest), which see every event after it is applied.
            Event::Ticked { .. }
            | Event::Identified { .. }
            | Event::ExperienceScoreSet { .. }
            | Event::ViolationRecorded { .. }
            | Event::BaselineLoaded { .. } => {}
            Event::Settled { id, at, boards, programs, lines } => {
                st.settlement.apply(id, *at, boards, programs, lines);
            }
            _ => unreachable!("not a marketing event"),
        }
        Ok(())
    }
}

fn grant_coupon(m: &mut Market, c: u32, u: u32, from: Ts, until: Ts, at: Ts) {
    m.coupons[c as usize].claimed += 1;
    *m.claims.entry((c, u)).or_insert(0) += 1;
    m.wallets.entry(u).or_default().coupons.push(Held {
        coupon: c,
        claimed_at: at,
        from,
        until,
        state: HeldState::Available,
    });
}

fn join(m: &mut Market, deal: u32, u: u32, order: &str) {
    m.group_members.insert((deal, u));
    m.pending_orders.insert(order.into());
    let d = &mut m.deals[deal as usize];
    d.budget.reserved += d.price - d.group_price;
    m.totals.subsidies_fen += (d.price - d.group_price).0;
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
