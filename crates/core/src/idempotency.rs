//! Idempotency keys: what a service answered to a keyed request, kept in the state so
//! that it survives restarts and replays. A service looks a key up before it executes a
//! request: the same key with the same request fingerprint gets the stored outcomes back
//! (a replay); with another fingerprint it is refused. docs/api.md, "Idempotency".
//!
//! Records are forgotten at their `expires_at` (the service's window), and the oldest
//! first once the table holds the festival's `[capacity] keys`: both are decided by the
//! recording events alone, so replay forgets exactly what the live node forgot.

use crate::hash::Map;
use crate::time::Ts;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// What one command of a keyed request came to, as the service answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyOutcome {
    /// Accepted: its events are the log positions `first_seq..=last_seq`.
    Accepted { first_seq: u64, last_seq: u64 },
    /// Rejected with this code and message.
    Rejected { code: String, message: String },
}

/// One remembered key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// Lowercase hex SHA-256 of what the request was (the service's fingerprint).
    pub fingerprint: String,
    pub at: Ts,
    pub expires_at: Ts,
    pub outcomes: Vec<KeyOutcome>,
}

/// The remembered keys, oldest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Keys {
    records: Map<Box<str>, KeyRecord>,
    /// Keys in the order they were recorded, with their expiry: forgetting starts here.
    order: VecDeque<(Box<str>, Ts)>,
}

impl Keys {
    /// The record of `key`, unless it has expired by `now`.
    pub fn get(&self, key: &str, now: Ts) -> Option<&KeyRecord> {
        self.records.get(key).filter(|r| r.expires_at > now)
    }

    /// The record of `key`, expired or not (until it is forgotten).
    pub fn record_of(&self, key: &str) -> Option<&KeyRecord> {
        self.records.get(key)
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The oldest remembered key's time, if any.
    pub fn oldest_at(&self) -> Option<Ts> {
        self.order.front().and_then(|(k, _)| self.records.get(k)).map(|r| r.at)
    }

    /// Records `key`, first forgetting every record expired by `rec.at` and, while the
    /// table is full, the oldest.
    pub fn record(&mut self, key: &str, rec: KeyRecord, capacity: u64) {
        while let Some((k, exp)) = self.order.front() {
            let full = self.records.len() as u64 >= capacity;
            if !(full || *exp <= rec.at) {
                break;
            }
            // A key recorded again after it expired has a newer entry further back.
            if self.records.get(k).is_some_and(|r| r.expires_at == *exp) {
                self.records.remove(k);
            }
            self.order.pop_front();
        }
        self.order.push_back((key.into(), rec.expires_at));
        self.records.insert(key.into(), rec);
    }

    /// Every record, in no particular order (for the digest and the checks, which sort).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &KeyRecord)> {
        self.records.iter().map(|(k, v)| (&**k, v))
    }

    /// The recording order, oldest first.
    pub fn order(&self) -> impl Iterator<Item = (&str, Ts)> {
        self.order.iter().map(|(k, t)| (&**k, *t))
    }
}
