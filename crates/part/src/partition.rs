//! One partition, and partitioned execution in one thread: the coordinator's definitions
//! copied into every partition, each key's commands in its partition (the router,
//! [`crate::router::Router`]), coupon stock in escrow (crate::escrow), and the
//! projection that merges the partitions' logs.

use crate::durable::Sink;
use crate::escrow::Escrow;
use crate::projection::{merged, projection, Kept};
use crate::route::{key, partition_of, Key, MAX_PARTITIONS};
use crate::router::Router;
use dacu_core::command::{ClaimCoupon, GrabRedPacket};
use dacu_core::kinds::AudienceKind;
use dacu_core::{Code, Command, Engine, Event, Festival, Rejection, Ts};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A command partitioned execution does not take yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub String);

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a partition did with a claim.
pub enum Step {
    Done(Result<Vec<Event>, Rejection>),
    /// It takes a unit of stock, the partition holds none and the coordinator granted
    /// none: stock is left only in other partitions, or none is left.
    NeedsStock,
    /// Refused for the user's limit or eligibility, which the single writer checks after
    /// stock: when no stock is left anywhere, the answer is "sold out" instead.
    RefusedAfterStock(Rejection),
}

/// One partition: a whole engine that holds the definitions, its keys' state, and the
/// stock slabs it was granted.
pub struct Partition {
    pub index: u32,
    engine: Engine,
    held: BTreeMap<String, u64>,
    /// What it applied, while recording.
    pub(crate) log: Vec<Logged>,
    /// Its durable log, when it has one (crate::durable).
    pub(crate) sink: Option<Sink>,
}

/// One entry of a partition's log, as a projection reads it.
pub(crate) enum Logged {
    /// A batch of its own commands, with the command's time.
    Own(Option<Ts>, Vec<Event>),
    /// The coordinator's definition number `k` (counted from 0), its events (on
    /// partition 0, which decided it) or its copy (on the others: the events are the
    /// coordinator's, so the copy only marks where the partition applied them).
    Definition(usize, Option<Ts>, Vec<Event>),
}

impl Partition {
    pub fn new(index: u32, festival: Arc<Festival>) -> Partition {
        Partition::from_engine(index, Engine::new(festival), None)
    }

    /// A partition whose engine is `engine` (recovered from its log, for a durable one).
    pub(crate) fn from_engine(index: u32, engine: Engine, sink: Option<Sink>) -> Partition {
        Partition { index, engine, held: BTreeMap::new(), log: Vec::new(), sink }
    }

    /// Records an own command's events: in the log kept for the projection when
    /// `recording`, and in the durable log when there is one (the engine applies the
    /// entry's `partition_entry` too, so that its count of events is its log's).
    pub(crate) fn record_own(&mut self, recording: bool, at: Option<Ts>, events: &[Event]) {
        if let Some(sink) = &mut self.sink {
            self.engine.apply(&sink.frame(at, None, events)).expect("an entry's mark applies");
        }
        if recording {
            self.log.push(Logged::Own(at, events.to_vec()));
        }
    }

    /// Records a tick's events: partition 0 all it decided, the others their own timers
    /// (crate::tick) — though each one's durable log holds all it applied.
    pub(crate) fn record_tick(&mut self, recording: bool, at: Option<Ts>, events: &[Event]) {
        if self.index == 0 {
            return self.record_own(recording, at, events);
        }
        if let Some(sink) = &mut self.sink {
            self.engine.apply(&sink.frame(at, None, events)).expect("an entry's mark applies");
        }
        let own = crate::tick::own(events);
        if recording && !own.is_empty() {
            self.log.push(Logged::Own(at, own));
        }
    }

    /// Records definition `k`: its events on partition 0, where it was decided; the
    /// others keep only the copy's place for the projection, and its events in their
    /// durable logs, which their replay needs.
    pub(crate) fn record_definition(&mut self, recording: bool, k: usize, at: Option<Ts>, events: &[Event]) {
        if let Some(sink) = &mut self.sink {
            self.engine.apply(&sink.frame(at, Some(k), events)).expect("an entry's mark applies");
        }
        if recording {
            let kept = if self.index == 0 { events.to_vec() } else { Vec::new() };
            self.log.push(Logged::Definition(k, at, kept));
        }
    }

    /// Makes what was recorded since the last commit durable (nothing to do without a
    /// durable log). After a failure every later commit fails too.
    pub(crate) fn commit(&mut self) -> Result<(), String> {
        match &mut self.sink {
            Some(sink) => sink.commit(),
            None => Ok(()),
        }
    }

    /// Why its durable log takes nothing more, if it failed.
    pub(crate) fn failed(&self) -> Option<&str> {
        self.sink.as_ref().and_then(Sink::failed)
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Executes a command of one of this partition's keys.
    pub fn execute(&mut self, c: &Command) -> Result<Vec<Event>, Rejection> {
        let mut out = Vec::new();
        self.engine.execute(c, &mut out)?;
        Ok(out)
    }

    /// Decides a command of one of this partition's keys without applying it.
    pub fn decide(&self, c: &Command) -> Result<Vec<Event>, Rejection> {
        let mut out = Vec::new();
        self.engine.decide(c, &mut out)?;
        Ok(out)
    }

    /// Applies the events [`Partition::decide`] gave.
    pub fn apply_decided(&mut self, events: &[Event]) {
        for e in events {
            self.engine.apply(e).expect("events from decide always apply");
        }
    }

    /// Whether any event it applied named `user`.
    pub fn knows_user(&self, user: &str) -> bool {
        self.engine.state().users.get(user).is_some()
    }

    /// Whether it holds red packet `packet`.
    pub fn knows_packet(&self, packet: &str) -> bool {
        self.engine.state().market.packet_ids.get(packet).is_some()
    }

    /// Applies the coordinator's events for a definition.
    pub fn apply_all(&mut self, events: &[Event]) {
        for e in events {
            self.engine.apply(e).expect("a definition the coordinator accepted applies in every partition");
        }
    }

    /// Decides a claim; when it takes a unit and none is held, asks `grant` for a slab.
    pub fn claim(&mut self, c: &Command, k: &ClaimCoupon, grant: &mut dyn FnMut() -> u64) -> Step {
        let mut out = Vec::new();
        if let Err(e) = self.engine.decide(c, &mut out) {
            return match e.code {
                Code::LimitReached | Code::NotEligible => Step::RefusedAfterStock(e),
                _ => Step::Done(Err(e)),
            };
        }
        if out.iter().any(|e| matches!(e, Event::CouponClaimed { .. })) {
            let held = self.held.entry(k.coupon.clone()).or_default();
            if *held == 0 {
                *held = grant();
                if *held == 0 {
                    return Step::NeedsStock;
                }
            }
            *held -= 1;
        }
        for e in &out {
            self.engine.apply(e).expect("events from decide always apply");
        }
        Step::Done(Ok(out))
    }

    /// What it holds of a coupon's stock, unspent.
    pub fn held(&self, coupon: &str) -> u64 {
        self.held.get(coupon).copied().unwrap_or(0)
    }

    /// Gives up everything it holds of a coupon; returns the amount.
    pub fn take_held(&mut self, coupon: &str) -> u64 {
        self.held.remove(coupon).unwrap_or(0)
    }

    /// The refusal of a claim when no stock is left anywhere: the single writer's words.
    pub fn sold_out(&self, coupon: &str) -> Rejection {
        let st = self.engine.state();
        let stock = st.market.coupon_ids.get(coupon).map_or(0, |ci| st.market.coupons[ci as usize].stock);
        Rejection::new(Code::SoldOut, format!("all {stock} of coupon `{coupon}` were claimed"))
    }

    /// How many claims of `coupon` this partition accepted.
    pub fn claimed(&self, coupon: &str) -> u64 {
        let st = self.engine.state();
        st.market.coupon_ids.get(coupon).map_or(0, |ci| st.market.coupons[ci as usize].claimed)
    }
}

/// The commands partitioned execution takes so far.
pub const SUPPORTED: &str = "register_merchant, register_anchor, register_provider, certify_provider, bind_provider, \
                             unbind_provider, enroll, set_registration, set_experience_score, record_violation, \
                             load_baseline, settle, create_coupon (audience \"everyone\"), follow, claim_coupon, \
                             live_start, live_end, viewer_enter, viewer_leave, interaction, order_paid, refund, \
                             create_red_packet, grab_red_packet and tick";

/// What a definition puts in escrow, if anything: a coupon's stock.
pub(crate) fn escrowed(events: &[Event]) -> Option<(String, u64)> {
    events.iter().find_map(|e| match e {
        Event::CouponCreated(d) => Some((d.coupon.clone(), u64::try_from(d.stock).unwrap_or(0))),
        _ => None,
    })
}

/// N partitions executed in one thread, in the order commands come: the reference for
/// what partitioned execution decides, and the set-up of [`crate::Cluster`].
pub struct Partitioned {
    pub parts: Vec<Partition>,
    pub escrow: Escrow,
    /// Where each session and paid order lives.
    pub router: Router,
    pub(crate) recording: bool,
    /// Definitions recorded so far.
    pub(crate) definitions: usize,
    /// The projection settlements are decided on, kept from one to the next.
    pub(crate) kept: Kept,
}

impl Partitioned {
    pub fn new(festival: Arc<Festival>, n: u32) -> Result<Partitioned, String> {
        if !(1..=MAX_PARTITIONS).contains(&n) {
            return Err(format!("partitions must be 1 to {MAX_PARTITIONS}, got {n}"));
        }
        let parts = (0..n).map(|i| Partition::new(i, festival.clone())).collect();
        let kept = Kept::new(festival, n as usize);
        Ok(Partitioned {
            parts,
            escrow: Escrow::new(n),
            router: Router::new(n),
            recording: false,
            definitions: 0,
            kept,
        })
    }

    pub fn partitions(&self) -> u32 {
        self.parts.len() as u32
    }

    /// Makes every partition's durable log hold what it recorded (nothing to do for
    /// partitions without durable logs: [`crate::durable::open`] gives them one).
    pub fn commit(&mut self) -> Result<(), String> {
        self.parts.iter_mut().try_for_each(Partition::commit)
    }

    /// Executes one command where the router sends it.
    pub fn execute(&mut self, c: &Command) -> Result<Result<Vec<Event>, Rejection>, Unsupported> {
        let p = self.router.route(c, self.recording)?;
        let r = match c {
            // Every partition applies it and logs its own part: crate::tick.
            Command::Tick(_) => return Ok(self.tick(c)),
            _ if key(c) == Key::Coordinator => self.define(c),
            Command::ClaimCoupon(k) => self.claim(p, c, k),
            Command::GrabRedPacket(k) => self.grab(p, c, k),
            _ => self.parts[p as usize].execute(c),
        };
        if let (Command::CreateRedPacket(k), Err(_)) = (c, &r) {
            if !self.parts[p as usize].knows_packet(&k.packet) {
                self.router.forget_packet(&k.packet);
            }
        }
        if let Ok(events) = &r {
            if !events.is_empty() {
                self.router.accepted(c, p);
            }
            if key(c) == Key::Coordinator {
                let k = self.definitions;
                self.definitions += 1;
                for part in &mut self.parts {
                    part.record_definition(self.recording, k, c.at(), events);
                }
            } else {
                self.parts[p as usize].record_own(self.recording, c.at(), events);
            }
        }
        Ok(r)
    }

    /// Keeps, from now on, each partition's accepted events (its own commands', and the
    /// coordinator's definitions on partition 0): what [`Partitioned::merged_events`] reads.
    pub fn record(&mut self) {
        self.recording = true;
    }

    /// The events of every partition in one order, as a projection reading the
    /// partitions' logs would merge them. A partition's next entry waits while it is the
    /// copy of a definition the coordinator's log has not yet given; among the entries
    /// that can go, the next is the one with the earliest time (an entry without a time,
    /// a registration, takes its partition's time so far), ties to the lower partition.
    /// Each partition's own order is kept, and nothing comes before a definition it was
    /// decided after.
    pub fn merged_events(&self) -> Vec<Event> {
        let logs: Vec<&[Logged]> = self.parts.iter().map(|p| p.log.as_slice()).collect();
        merged(&logs)
    }

    /// The projection of everything recorded so far: one engine that applied every
    /// partition's log, merged ([`Partitioned::merged_events`]).
    pub fn projection(&self) -> Engine {
        let logs: Vec<&[Logged]> = self.parts.iter().map(|p| p.log.as_slice()).collect();
        projection(self.parts[0].engine.festival_arc(), &logs)
    }

    /// Where a session's commands go (the router's record).
    pub fn session_partition(&self, session: &str) -> u32 {
        self.router.session(session)
    }

    /// Decides a definition on the coordinator and copies its events into every partition.
    fn define(&mut self, c: &Command) -> Result<Vec<Event>, Rejection> {
        let events = match c {
            // A settlement reads the boards of every partition: it is decided on the
            // projection, which has applied everything before it (the watermark: here
            // every partition has passed it), and recorded like any definition.
            Command::Settle(_) => {
                let mut events = Vec::new();
                let logs: Vec<&[Logged]> = self.parts.iter().map(|p| p.log.as_slice()).collect();
                self.kept.catch_up(&logs).decide(c, &mut events)?;
                self.parts[0].apply_all(&events);
                events
            }
            _ => self.parts[0].execute(c)?,
        };
        for p in &mut self.parts[1..] {
            p.apply_all(&events);
        }
        if let Some((coupon, stock)) = escrowed(&events) {
            self.escrow.define(&coupon, stock);
        }
        Ok(events)
    }

    /// A claim in partition `p`; when its slab is dry, the other partitions give back
    /// what they hold and it asks again, so it is refused only when nothing is left
    /// anywhere — as the single writer refuses it.
    fn claim(&mut self, p: u32, c: &Command, k: &ClaimCoupon) -> Result<Vec<Event>, Rejection> {
        for attempt in 0..2 {
            let escrow = &mut self.escrow;
            let mut grant = || escrow.grant(&k.coupon, p);
            match self.parts[p as usize].claim(c, k, &mut grant) {
                Step::Done(r) => return r,
                Step::RefusedAfterStock(e) => {
                    let none_held = self.parts.iter().all(|q| q.held(&k.coupon) == 0);
                    return Err(if none_held && self.escrow.left(&k.coupon) == 0 {
                        self.parts[p as usize].sold_out(&k.coupon)
                    } else {
                        e
                    });
                }
                Step::NeedsStock if attempt == 0 => self.rebalance(&k.coupon),
                Step::NeedsStock => break,
            }
        }
        Err(self.parts[p as usize].sold_out(&k.coupon))
    }

    /// A grab in its packet's partition. A user that partition never saw is refused there
    /// before the eligibility check, in other words than the single writer's, which knows
    /// the user from elsewhere and refuses the user for not being in the room (the first
    /// check, and a user never seen there is in none of its rooms).
    fn grab(&mut self, p: u32, c: &Command, k: &GrabRedPacket) -> Result<Vec<Event>, Rejection> {
        let here = &self.parts[p as usize];
        match here.decide(c) {
            Err(e)
                if e.code == Code::NotEligible
                    && !here.knows_user(&k.user)
                    && self.parts.iter().any(|q| q.knows_user(&k.user)) =>
            {
                Err(Rejection::new(
                    Code::NotEligible,
                    format!("to grab red packet `{}` the user must be in the live room", k.packet),
                ))
            }
            Err(e) => Err(e),
            Ok(events) => {
                self.parts[p as usize].apply_decided(&events);
                Ok(events)
            }
        }
    }

    /// Every partition gives back what it holds of a coupon.
    fn rebalance(&mut self, coupon: &str) {
        for q in &mut self.parts {
            let amount = q.take_held(coupon);
            self.escrow.give_back(coupon, q.index, amount);
        }
    }

    /// Claims of `coupon` accepted over all partitions.
    pub fn claimed(&self, coupon: &str) -> u64 {
        self.parts.iter().map(|p| p.claimed(coupon)).sum()
    }

    /// How many times `user` holds a claim of `coupon` (in the user's partition).
    pub fn claims_of(&self, user: &str, coupon: &str) -> u32 {
        let p = &self.parts[partition_of(user, self.partitions()) as usize];
        claims_in(p.engine(), user, coupon)
    }
}

/// How many claims of `coupon` `user` made, in one engine.
pub fn claims_in(e: &Engine, user: &str, coupon: &str) -> u32 {
    let st = e.state();
    match (st.users.get(user), st.market.coupon_ids.get(coupon)) {
        (Some(u), Some(ci)) => st.market.claims.get(&(ci, u)).copied().unwrap_or(0),
        _ => 0,
    }
}

pub(crate) fn check_definition(c: &Command, recording: bool) -> Result<(), Unsupported> {
    match c {
        // Settlement is decided on the projection, which needs the partitions' logs.
        Command::Settle(_) if recording => Ok(()),
        Command::Settle(_) => Err(Unsupported(
            "`settle` is decided on the projection of the partitions' logs: record them (Partitioned::record) \
             before the festival's first command"
                .into(),
        )),
        Command::RegisterMerchant(_)
        | Command::RegisterAnchor(_)
        | Command::RegisterProvider(_)
        | Command::CertifyProvider(_)
        | Command::BindProvider(_)
        | Command::UnbindProvider(_)
        | Command::Enroll(_)
        | Command::SetRegistration(_)
        | Command::SetExperienceScore(_)
        | Command::RecordViolation(_)
        | Command::LoadBaseline(_) => Ok(()),
        Command::CreateCoupon(k) if k.audience == AudienceKind::Everyone => Ok(()),
        _ => Err(unsupported(c)),
    }
}

pub(crate) fn unsupported(c: &Command) -> Unsupported {
    Unsupported(format!(
        "`{}` is not partitioned yet: partitioned execution takes {SUPPORTED} (docs/scale-out.md, \"Partitions\")",
        c.type_name()
    ))
}
