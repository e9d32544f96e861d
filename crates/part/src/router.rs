//! The router's records: where each session and each paid order lives, so that the
//! commands naming them go there (docs/scale-out.md, "Partitions").

use crate::partition::{check_definition, unsupported, Unsupported};
use crate::route::{key, partition_of, Key};
use dacu_core::Command;
use std::collections::BTreeMap;

/// Routes commands to partitions; records a session's partition when it first routes
/// its `live_start`, an order's when it first routes its `order_paid`.
#[derive(Debug, Clone)]
pub struct Router {
    n: u32,
    /// Each session's partition: its anchor's.
    pub sessions: BTreeMap<String, u32>,
    /// Each order's partition: its session's, or its merchant's for a shelf order.
    pub orders: BTreeMap<String, u32>,
}

impl Router {
    pub fn new(n: u32) -> Router {
        Router { n, sessions: BTreeMap::new(), orders: BTreeMap::new() }
    }

    /// Where a session's commands go: where it started; a session never started goes to
    /// its own key's partition, which refuses it as unknown.
    pub fn session(&self, session: &str) -> u32 {
        self.sessions.get(session).copied().unwrap_or_else(|| partition_of(session, self.n))
    }

    /// The partition a command is decided in (0, the coordinator, for a definition), or
    /// why it is not partitioned yet; `settle` only when the caller keeps the logs it is
    /// decided on.
    pub fn route(&mut self, c: &Command, settle: bool) -> Result<u32, Unsupported> {
        let n = self.n;
        Ok(match (key(c), c) {
            (Key::Coordinator, _) => {
                check_definition(c, settle)?;
                0
            }
            (Key::User(u), Command::Follow(_) | Command::ClaimCoupon(_)) => partition_of(u, n),
            // A session starts in its anchor's partition, which knows whether the anchor
            // is live elsewhere; a session id routed before goes where it went (and is
            // refused there as a duplicate).
            (Key::Session(_), Command::LiveStart(k)) => {
                *self.sessions.entry(k.session.clone()).or_insert_with(|| partition_of(&k.anchor, n))
            }
            (Key::Session(session), _) => self.session(session),
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
