//! The deterministic engine: `decide` validates a command against the state and returns
//! the events it causes (or a rejection, changing nothing); `apply` folds an event into
//! the state. No I/O, no clock, no randomness.
//!
//! This file holds the engine and its two dispatches: `decide` matches every [`Command`]
//! and `apply` every [`Event`], with no catch-all arm, so a new variant that nothing
//! decides or applies does not compile. Each family keeps its decide and its apply
//! together:
//!
//! - `registry`: merchants, anchors and providers, certification, bindings, enrolment;
//! - `live`: live sessions, viewers, interactions and comments, follows;
//! - `order`: orders, refunds and their attribution;
//! - `market/`: the marketing tools, one file each — `coupon` (coupons, claims, wallet
//!   coupons), `fullcut` (满减), `price_cut`, `group` (group deals and groups), `packet`
//!   (red packets), `lottery`, `checkout` (checkout, pay, cancel, refunds' returns) with
//!   `candidates` (a cart's candidate promotions and its quote), and `timer` (ticks);
//! - `contest`: the contest inputs and settlement;
//! - `ids`: command ids, so that a resent command is recognised;
//! - `keys`: a service's idempotency keys and what it answered to them;
//! - `bounds`: the running totals' bounds, checked before anything is recorded;
//! - `capacity`: the growing tables' capacities, checked likewise.

use crate::command::Command;
use crate::error::{Code, Rejection};
use crate::event::Event;
use crate::festival::Festival;
use crate::intern::Interner;
use crate::market::CheckoutState;
use crate::state::*;
use crate::time::Ts;
use std::sync::Arc;

mod bounds;
mod capacity;
mod contest;
mod ids;
mod keys;
mod live;
mod market;
mod order;
mod registry;
mod traffic;

/// An order's attribution: (session, anchor, provider, self-broadcast).
pub(crate) type Attribution = (Option<String>, Option<String>, Option<String>, bool);

/// Limits on inputs, so that sums can never overflow and nothing grows without bound.
pub use crate::limits;

/// An event could not be applied: the log does not belong to this festival or is damaged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {index} cannot be applied: {reason}")]
pub struct ApplyError {
    pub index: u64,
    pub reason: String,
}

/// What applying one event gives: nothing, or why the event cannot be applied (the
/// reason of its [`ApplyError`]).
type Applied = Result<(), String>;

pub struct Engine {
    festival: Arc<Festival>,
    state: State,
    /// An empty `Contests` that stands in for the state's while the contests observe an
    /// event (they read the rest of the state): swapping it is free, whereas making a new
    /// one per event would draw a hash seed for each of its maps (crate::hash). Both are
    /// boxed, so the swap moves two pointers.
    spare: Box<crate::contest::Contests>,
    /// The festival's traffic supply grid, when it has `[traffic]`.
    grid: Option<crate::festival::traffic::Grid>,
    /// The traffic plan in force, expanded from the one the state records.
    traffic: crate::traffic::live::Cache,
    /// A plan the last decision made, with its expansion, for the apply of its event to
    /// take (engine/traffic.rs, `rebuild_traffic`): expanding a plan of a thousand
    /// festival-long contracts is tens of milliseconds. Cleared by every decision, so only
    /// that decision's own events can use it. A cache only: nothing else reads it.
    made: std::sync::Mutex<Option<Made>>,
}

/// A plan a decision made: its record and pricing, and their expansion.
struct Made {
    rec: crate::event::PlanRec,
    pricing: Option<crate::event::PricingRec>,
    cache: crate::traffic::live::Cache,
}

fn reject<T>(code: Code, msg: impl Into<String>) -> Result<T, Rejection> {
    Err(Rejection::new(code, msg))
}

fn check_id(field: &str, id: &str) -> Result<(), Rejection> {
    if id.is_empty() || id.len() > limits::ID_BYTES {
        return reject(Code::InvalidId, format!("`{field}` must be 1 to {} bytes, got {}", limits::ID_BYTES, id.len()));
    }
    Ok(())
}

fn check_name(field: &str, s: &str) -> Result<(), Rejection> {
    if s.len() > limits::NAME_BYTES {
        return reject(
            Code::InvalidValue,
            format!("`{field}` must be at most {} bytes, got {}", limits::NAME_BYTES, s.len()),
        );
    }
    Ok(())
}

/// The index of `id` in an event being applied, or why the event cannot be applied.
fn idx(ids: &Interner, id: &str, what: &str) -> Result<u32, String> {
    ids.get(id).ok_or_else(|| format!("unknown {what} `{id}`"))
}

/// As [`idx`], for an optional id.
fn opt_idx(ids: &Interner, id: Option<&str>, what: &str) -> Result<Option<u32>, String> {
    id.map(|id| idx(ids, id, what)).transpose()
}

impl Engine {
    pub fn new(festival: Arc<Festival>) -> Engine {
        let tiers = festival.anchor_tiers.len();
        let grid = traffic::grid(&festival);
        let mut e = Engine {
            festival,
            state: State::new(tiers),
            spare: Default::default(),
            grid,
            traffic: Default::default(),
            made: Default::default(),
        };
        e.init_contests();
        e
    }

    /// Resolves the festival's contests and rebuilds what a snapshot does not hold.
    fn init_contests(&mut self) {
        let mut c = std::mem::take(&mut self.state.contests);
        c.init(&self.festival, &self.state);
        self.state.contests = c;
    }

    /// An engine resuming from a saved state (a snapshot) of the same festival.
    pub fn with_state(festival: Arc<Festival>, state: State) -> Result<Engine, ApplyError> {
        if state.by_anchor_tier.len() != festival.anchor_tiers.len() {
            return Err(ApplyError {
                index: state.events,
                reason: format!(
                    "the saved state has {} anchor tiers but the festival declares {}",
                    state.by_anchor_tier.len(),
                    festival.anchor_tiers.len()
                ),
            });
        }
        let grid = traffic::grid(&festival);
        let mut e = Engine {
            festival,
            state,
            spare: Default::default(),
            grid,
            traffic: Default::default(),
            made: Default::default(),
        };
        e.state.market.rebuild_totals();
        e.state.count_viewers();
        e.init_contests();
        e.rebuild_traffic();
        Ok(e)
    }

    pub fn festival(&self) -> &Festival {
        &self.festival
    }

    pub fn festival_arc(&self) -> Arc<Festival> {
        self.festival.clone()
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// The state, the engine's caches dropped (`dacu bench memory` measures its tables).
    pub fn into_state(self) -> State {
        self.state
    }

    /// Decides and applies one command; on rejection nothing changes.
    pub fn execute(&mut self, c: &Command, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let start = out.len();
        self.decide(c, out)?;
        for ev in &out[start..] {
            self.apply(ev).expect("events from decide always apply");
        }
        Ok(())
    }

    fn in_festival(&self, at: Ts) -> Result<(), Rejection> {
        let f = &self.festival;
        if at < f.start() || at >= f.end() {
            return reject(
                Code::OutsideFestival,
                format!(
                    "`at` {at} is outside the festival, which runs from {} (inclusive) to {} (exclusive)",
                    f.start(),
                    f.end()
                ),
            );
        }
        Ok(())
    }

    fn merchant_idx(&self, id: &str) -> Result<u32, Rejection> {
        self.state.merchant_ids.get(id).ok_or_else(|| {
            Rejection::new(
                Code::UnknownMerchant,
                format!("no merchant `{id}` is registered; register it with register_merchant first"),
            )
        })
    }

    fn anchor_idx(&self, id: &str) -> Result<u32, Rejection> {
        self.state.anchor_ids.get(id).ok_or_else(|| {
            Rejection::new(
                Code::UnknownAnchor,
                format!("no anchor `{id}` is registered; register it with register_anchor first"),
            )
        })
    }

    fn provider_idx(&self, id: &str) -> Result<u32, Rejection> {
        self.state.provider_ids.get(id).ok_or_else(|| {
            Rejection::new(
                Code::UnknownProvider,
                format!("no provider `{id}` is registered; register it with register_provider first"),
            )
        })
    }

    fn session_idx(&self, id: &str) -> Result<u32, Rejection> {
        self.state.session_ids.get(id).ok_or_else(|| {
            Rejection::new(
                Code::UnknownSession,
                format!("no live session `{id}` was started; start it with live_start first"),
            )
        })
    }

    /// A session that is open at `at`.
    fn live_session(&self, id: &str, at: Ts) -> Result<&Session, Rejection> {
        self.in_festival(at)?;
        let s = &self.state.sessions[self.session_idx(id)? as usize];
        if at < s.start {
            return reject(
                Code::SessionNotStarted,
                format!("`at` {at} is before session `{id}` started at {}", s.start),
            );
        }
        if let Some(end) = s.end {
            return reject(Code::SessionEnded, format!("session `{id}` ended at {end}"));
        }
        Ok(s)
    }

    /// Validates a command; on success pushes its events onto `out`. On rejection `out`
    /// is as it was.
    pub fn decide(&self, c: &Command, out: &mut Vec<Event>) -> Result<(), Rejection> {
        self.made.lock().unwrap_or_else(|e| e.into_inner()).take();
        let start = out.len();
        // The orders it records are checked against the running totals' bounds last, when
        // everything else about the command is known to be acceptable.
        let r = self
            .decide_command(c, out)
            .and_then(|()| self.check_orders(&out[start..]))
            .and_then(|()| self.check_capacity(&out[start..]));
        if r.is_err() {
            out.truncate(start);
        }
        r
    }

    /// A repeated command id of the same command type is accepted and changes nothing
    /// (the first result stands). A command of the original set sent with an `id` records
    /// `identified` before its own events, so that a resend is recognised.
    fn decide_command(&self, c: &Command, out: &mut Vec<Event>) -> Result<(), Rejection> {
        if let Some(id) = c.command_id() {
            if self.seen(c, id)? {
                return Ok(());
            }
        }
        let start = out.len();
        self.decide_inner(c, out)?;
        if let Some(id) = c.legacy_id() {
            out.insert(start, Event::Identified { id: id.to_string(), command: c.type_name().to_string() });
        }
        Ok(())
    }

    fn decide_inner(&self, c: &Command, out: &mut Vec<Event>) -> Result<(), Rejection> {
        match c {
            Command::RegisterMerchant(k) => self.decide_register_merchant(k, out),
            Command::RegisterAnchor(k) => self.decide_register_anchor(k, out),
            Command::RegisterProvider(k) => self.decide_register_provider(k, out),
            Command::CertifyProvider(k) => self.decide_certify(k, out),
            Command::BindProvider(k) => self.decide_bind(k, out),
            Command::UnbindProvider(k) => self.decide_unbind(k, out),
            Command::Enroll(k) => self.decide_enroll(k, out),
            Command::LiveStart(k) => self.decide_live_start(k, out),
            Command::LiveEnd(k) => self.decide_live_end(k, out),
            Command::ViewerEnter(k) => self.decide_viewer_enter(k, out),
            Command::ViewerLeave(k) => self.decide_viewer_leave(k, out),
            Command::Interaction(k) => self.decide_interaction(k, out),
            Command::OrderPaid(k) => self.decide_order(k, out),
            Command::Refund(k) => self.decide_refund(k, out),
            Command::Follow(k) => self.decide_follow(k, out),
            Command::CreateCoupon(k) => self.decide_create_coupon(k, out),
            Command::ClaimCoupon(k) => self.decide_claim(k, out),
            Command::CreateFullcut(k) => self.decide_create_fullcut(k, out),
            Command::CreatePriceCut(k) => self.decide_create_price_cut(k, out),
            Command::CreateGroupDeal(k) => self.decide_create_group_deal(k, out),
            Command::OpenGroup(k) => self.decide_open_group(k, out),
            Command::JoinGroup(k) => self.decide_join_group(k, out),
            Command::CreateRedPacket(k) => self.decide_create_packet(k, out),
            Command::GrabRedPacket(k) => self.decide_grab(k, out),
            Command::CreateLottery(k) => self.decide_create_lottery(k, out),
            Command::Checkout(k) => self.decide_checkout(k, out),
            Command::Pay(k) => self.decide_pay(k, out),
            Command::Cancel(k) => self.decide_cancel(k, out),
            Command::Tick(k) => self.decide_tick(k, out),
            Command::SetExperienceScore(k) => self.decide_experience_score(k, out),
            Command::RecordViolation(k) => self.decide_violation(k, out),
            Command::LoadBaseline(k) => self.decide_load_baseline(k, out),
            Command::Settle(k) => self.decide_settle(k, out),
            Command::SetRegistration(k) => self.decide_set_registration(k, out),
            Command::Impression(k) => self.decide_impression(k, out),
        }
    }

    /// Folds one event into the state.
    pub fn apply(&mut self, ev: &Event) -> Result<(), ApplyError> {
        // The contests need to know whether a viewer enters a session for the first time,
        // which the state no longer tells once the entry is applied.
        let new_viewer = match ev {
            Event::ViewerEntered { session, user, .. } => {
                let st = &self.state;
                match (st.session_ids.get(session), st.users.get(user)) {
                    (Some(s), Some(u)) => !st.sessions[s as usize].unique_viewers.contains(u),
                    _ => true,
                }
            }
            _ => false,
        };
        let index = self.state.events;
        ids::record(&mut self.state, ev);
        apply_state(&mut self.state, ev).map_err(|reason| ApplyError { index, reason })?;
        self.state.events += 1;
        if let Event::TrafficPlanned(_) | Event::TrafficPlannedShale(_) = ev {
            self.rebuild_traffic();
        }
        std::mem::swap(&mut self.state.contests, &mut self.spare);
        self.spare.observe(&self.festival, &self.state, ev, new_viewer);
        std::mem::swap(&mut self.state.contests, &mut self.spare);
        Ok(())
    }
}

/// Applies one event to the state: every variant, each by its family's apply.
///
/// Apply never re-derives: each arm reads only its event's fields and the state that
/// earlier events built. Whatever the decision resolved — parties, defaults from the
/// festival file, tiers, attribution, deadlines, validity windows, a red packet's shares,
/// a lottery's coupon grants — is in the event (crate::event), and the festival is not
/// even passed here. The one exception is a format 1 `lottery_drawn`, which did not
/// record its grants (engine/market/lottery.rs, `format1_grants`).
fn apply_state(st: &mut State, ev: &Event) -> Applied {
    use market::{checkout, coupon, fullcut, group, lottery, packet, price_cut};
    match ev {
        Event::MerchantRegistered { merchant, name, brand_tier, category } => {
            registry::merchant_registered(st, merchant, name, *brand_tier, category)
        }
        Event::AnchorRegistered { anchor, name, followers, merchant, tier } => {
            registry::anchor_registered(st, anchor, name, *followers, merchant.as_deref(), tier.as_ref())
        }
        Event::ProviderRegistered { provider, name } => registry::provider_registered(st, provider, name),
        Event::ProviderCertified { provider, at } => registry::provider_certified(st, provider, *at),
        Event::ProviderBound { provider, merchant, at } => registry::binding(st, provider, merchant, *at, true),
        Event::ProviderUnbound { provider, merchant, at } => registry::binding(st, provider, merchant, *at, false),
        Event::Enrolled { program, participant, role, at } => registry::enrolled(st, program, participant, *role, *at),
        Event::LiveStarted { session, anchor, at } => live::live_started(st, session, anchor, *at),
        Event::LiveEnded { session, at } => live::live_ended(st, session, *at),
        Event::ViewerEntered { session, user, at } => live::viewer_entered(st, session, user, *at),
        Event::ViewerLeft { session, user, at } => live::viewer_left(st, session, user, *at),
        Event::Interacted { session, user, kind, at } => live::interacted(st, session, user, *kind, *at),
        Event::OrderPaid { order, user, merchant, channel, session, anchor, provider, self_broadcast, lines, at } => {
            let who = (session.as_deref(), anchor.as_deref(), provider.as_deref(), *self_broadcast);
            order::order_paid(st, order, user, merchant, *channel, who, lines, *at)
        }
        Event::Refunded { order, amount, refund_id, .. } => order::refunded(st, order, *amount, refund_id.as_deref()),
        Event::Followed { anchor, user, at, .. } => live::followed(st, anchor, user, *at),
        Event::Commented { session, user, text, at } => live::commented(st, session, user, text, *at),
        Event::CouponCreated(k) => coupon::created(st, k),
        Event::CouponClaimed { coupon, user, from, until, at, .. } => {
            coupon::claimed(st, coupon, user, *from, *until, *at)
        }
        Event::FullcutCreated(k) => fullcut::created(st, k),
        Event::PriceCutCreated(k) => price_cut::created(st, k),
        Event::GroupDealCreated(k) => group::deal_created(st, k),
        Event::GroupOpened { group, deal, user, order, channel, session, deadline, at, .. } => {
            group::opened(st, group, deal, (user, order), *channel, session.as_deref(), *deadline, *at)
        }
        Event::GroupJoined { group, user, order, at, .. } => group::joined(st, group, user, order, *at),
        Event::GroupFormed { group, at } => group::closed(st, group, *at, true),
        Event::GroupFailed { group, at, .. } => group::closed(st, group, *at, false),
        Event::RedPacketCreated { def, seed, shares } => packet::created(st, def, *seed, shares, None),
        Event::RedPacketCommitted { def, seed, commitment, secret, shares } => {
            packet::created(st, def, *seed, shares, Some(packet::Reveal { commitment, secret }))
        }
        Event::RedPacketGrabbed { packet, user, amount, at, .. } => packet::grabbed(st, packet, user, *amount, *at),
        Event::RedPacketExpired { packet, leftover, .. } => packet::expired(st, packet, *leftover),
        Event::LotteryCreated { def, commitment } => lottery::created(st, def, commitment),
        Event::LotteryDrawn { lottery, eligible, winners, at, prize_grants } => {
            lottery::drawn(st, lottery, eligible, winners, *at, prize_grants)
        }
        Event::CheckoutReserved { checkout, user, channel, session, pay_by, quote, at, .. } => {
            checkout::reserved(st, checkout, user, *channel, session.as_deref(), *pay_by, quote, *at)
        }
        Event::CheckoutPaid { checkout, at, .. } => checkout::closed(st, checkout, CheckoutState::Paid(*at)),
        Event::CheckoutReleased { checkout, reason, at, .. } => {
            checkout::closed(st, checkout, CheckoutState::Released(*at, *reason))
        }
        Event::DiscountsReturned { order, returns, restored, .. } => {
            checkout::discounts_returned(st, order, returns, restored)
        }
        // A tick's own record: what it fired was recorded before it.
        Event::Ticked { .. } => Ok(()),
        // Records only its id (crate::engine::ids).
        Event::Identified { .. } | Event::PartitionEntry { .. } => Ok(()),
        Event::RegistrationSet { program, open, at, .. } => registry::registration_set(st, program, *open, *at),
        Event::KeyRecorded { key, fingerprint, outcomes, expires_at, at, capacity } => {
            keys::key_recorded(st, key, fingerprint, outcomes, *expires_at, *at, *capacity)
        }
        // The contest inputs are kept by the contests (crate::contest), which see every
        // event after it is applied.
        Event::ExperienceScoreSet { .. } | Event::ViolationRecorded { .. } | Event::BaselineLoaded { .. } => Ok(()),
        Event::Settled { id, at, boards, programs, lines } => {
            st.settlement.apply(id, *at, boards, programs, lines);
            Ok(())
        }
        Event::ContractCreated(rec) => traffic::contract_created(st, rec),
        Event::TrafficPlanned(rec) => traffic::planned(st, rec, None),
        Event::TrafficPlannedShale(r) => traffic::planned(st, &r.plan, Some(&r.pricing)),
        Event::ImpressionsServed { slot, segment, node, hour, count, served, unsold, at } => {
            let s = traffic::Served {
                slot,
                segment,
                node: *node,
                count: *count,
                served,
                unsold: *unsold,
                hour: *hour,
                at: *at,
            };
            traffic::impressions_served(st, s)
        }
        Event::ContractEnded { contract, shortfall, make_good, at, .. } => {
            traffic::contract_ended(st, contract, *shortfall, make_good.as_deref(), *at)
        }
    }
}
