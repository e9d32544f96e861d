//! The router's records: where each session, red packet and paid order lives, and where
//! each own command's id was accepted, so that the commands naming them go there
//! (docs/scale-out.md, "Partitions").

use crate::partition::{check_definition, unsupported, Unsupported};
use crate::route::{key, partition_of, Key};
use dacu_core::Command;
use std::collections::BTreeMap;

/// Where a red packet lives, and its place among the packets routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketAt {
    /// Its session's partition when its `create_red_packet` was first routed.
    pub partition: u32,
    /// Packets routed before it: the single writer numbers packets in the order they are
    /// created, and fires the expiries due at one time in that order.
    pub seq: u64,
}

/// Routes commands to partitions; records a session's partition when it first routes
/// its `live_start`, a red packet's when it first routes its `create_red_packet`, an
/// order's when it first routes its `order_paid`.
#[derive(Debug, Clone)]
pub struct Router {
    n: u32,
    /// Each session's partition: its anchor's.
    pub sessions: BTreeMap<String, u32>,
    /// Each red packet's partition: its session's.
    pub packets: BTreeMap<String, PacketAt>,
    /// Each order's partition: its session's, or its merchant's for a shelf order.
    pub orders: BTreeMap<String, u32>,
    /// The partition of each command id a partition's own command was accepted with (a
    /// definition's and a tick's are in every partition).
    pub ids: BTreeMap<String, u32>,
    packets_routed: u64,
}

impl Router {
    pub fn new(n: u32) -> Router {
        Router {
            n,
            sessions: BTreeMap::new(),
            packets: BTreeMap::new(),
            orders: BTreeMap::new(),
            ids: BTreeMap::new(),
            packets_routed: 0,
        }
    }

    /// Where a session's commands go: where it started; a session never started goes to
    /// its own key's partition, which refuses it as unknown.
    pub fn session(&self, session: &str) -> u32 {
        self.sessions.get(session).copied().unwrap_or_else(|| partition_of(session, self.n))
    }

    /// Where a red packet's grabs go: where it was created; a packet never created goes
    /// to its own key's partition, which refuses it as unknown.
    pub fn packet(&self, packet: &str) -> u32 {
        self.packets.get(packet).map_or_else(|| partition_of(packet, self.n), |p| p.partition)
    }

    /// Records red packet `packet` in `partition`, as created after every packet recorded
    /// so far (a recovery rebuilding the records).
    pub fn restore_packet(&mut self, packet: &str, partition: u32) {
        self.packets.insert(packet.to_string(), PacketAt { partition, seq: self.packets_routed });
        self.packets_routed += 1;
    }

    /// Drops the record of a packet whose `create_red_packet` was refused and created
    /// nothing, so that a later creation of the id in another session goes to that
    /// session, as the single writer would accept it.
    pub fn forget_packet(&mut self, packet: &str) {
        self.packets.remove(packet);
    }

    /// The partition a command is decided in (0, the coordinator, for a definition; 0 for
    /// a broadcast, which the caller sends to every partition), or why it is not
    /// partitioned yet; `settle` only when the caller keeps the logs it is decided on.
    ///
    /// A command with an id a partition's own command was accepted with goes to that
    /// partition, whatever its key, and records nothing: the partition knows the id, so
    /// it answers as the single writer does — a resend (the same type) is accepted and
    /// changes nothing, another type is refused `id_conflict` — and never executes it.
    pub fn route(&mut self, c: &Command, settle: bool) -> Result<u32, Unsupported> {
        if let Some(q) = self.id_home(c) {
            return Ok(q);
        }
        self.by_key(c, settle)
    }

    /// Records that `c`, decided in partition `p`, was accepted with events: its id, if it
    /// is a partition's own command, now routes there.
    pub fn accepted(&mut self, c: &Command, p: u32) {
        if let Some(id) = recorded_id(c) {
            if !self.ids.contains_key(id) {
                self.ids.insert(id.to_string(), p);
            }
        }
    }

    /// The partition of a partitioned own command's id accepted before.
    fn id_home(&self, c: &Command) -> Option<u32> {
        let takes = matches!(
            c,
            Command::CreateRedPacket(_)
                | Command::Follow(_)
                | Command::ClaimCoupon(_)
                | Command::LiveStart(_)
                | Command::LiveEnd(_)
                | Command::ViewerEnter(_)
                | Command::ViewerLeave(_)
                | Command::Interaction(_)
                | Command::GrabRedPacket(_)
                | Command::OrderPaid(_)
                | Command::Refund(_)
        );
        if !takes {
            return None;
        }
        self.ids.get(c.command_id()?).copied()
    }

    fn by_key(&mut self, c: &Command, settle: bool) -> Result<u32, Unsupported> {
        let n = self.n;
        Ok(match (key(c), c) {
            (Key::Coordinator, _) => {
                check_definition(c, settle)?;
                0
            }
            (Key::Broadcast, Command::Tick(_)) => 0,
            (Key::User(u), Command::ClaimCoupon(_)) => partition_of(u, n),
            (Key::Anchor(a), Command::Follow(_)) => partition_of(a, n),
            // A session starts in its anchor's partition, which knows whether the anchor
            // is live elsewhere; a session id routed before goes where it went (and is
            // refused there as a duplicate).
            (Key::Session(_), Command::LiveStart(k)) => {
                *self.sessions.entry(k.session.clone()).or_insert_with(|| partition_of(&k.anchor, n))
            }
            // A packet lives in its session's partition; a packet id routed before goes
            // where it went (and is refused there as a duplicate).
            (Key::Session(session), Command::CreateRedPacket(k)) => {
                let at = PacketAt { partition: self.session(session), seq: self.packets_routed };
                self.packets_routed += 1;
                self.packets.entry(k.packet.clone()).or_insert(at).partition
            }
            (Key::Session(session), _) => self.session(session),
            (Key::Packet(packet), Command::GrabRedPacket(_)) => self.packet(packet),
            // An order is paid where its session lives (the session's figures and its
            // anchor's attribution are there), a shelf order in its merchant's partition;
            // an order id routed before goes where it went.
            (Key::Merchant(m), Command::OrderPaid(k)) => {
                let p = match &k.session {
                    Some(s) => self.session(s),
                    None => partition_of(m, n),
                };
                *self.orders.entry(k.order.clone()).or_insert(p)
            }
            (Key::Order(order), Command::Refund(_)) => {
                self.orders.get(order).copied().unwrap_or_else(|| partition_of(order, n))
            }
            _ => return Err(unsupported(c)),
        })
    }
}

/// The id the router records when `c` is accepted: a partition's own command's (a
/// definition's and a tick's are in every partition).
pub fn recorded_id(c: &Command) -> Option<&str> {
    if matches!(key(c), Key::Coordinator | Key::Broadcast) {
        return None;
    }
    c.command_id()
}
