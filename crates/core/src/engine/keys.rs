//! Idempotency keys (crate::idempotency): the record a service makes of what it answered
//! to a keyed request, decided here like any command so that it is bounded and logged.

use super::{reject, Applied, Engine};
use crate::error::{Code, Rejection};
use crate::event::{Event, KeyOutcomeRec};
use crate::idempotency::{KeyOutcome, KeyRecord};
use crate::limits::KEY_BYTES;
use crate::state::State;
use crate::time::Ts;

impl Engine {
    /// Records that a request keyed `key` (with `fingerprint`, lowercase hex SHA-256)
    /// came to `outcomes` at `at`, to be remembered until `expires_at`. A key already
    /// remembered at `at` is refused: the service replays it instead.
    pub fn decide_key(
        &self,
        key: &str,
        fingerprint: &str,
        outcomes: Vec<KeyOutcome>,
        expires_at: Ts,
        at: Ts,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejection> {
        if key.is_empty() || key.len() > KEY_BYTES {
            return reject(
                Code::InvalidId,
                format!("an idempotency key must be 1 to {KEY_BYTES} bytes, got {}", key.len()),
            );
        }
        if fingerprint.len() != 64 || !fingerprint.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return reject(Code::InvalidValue, "a request fingerprint is 64 lowercase hex digits (SHA-256)");
        }
        if expires_at <= at {
            return reject(
                Code::InvalidValue,
                format!("a key must be remembered past its time {at}, got {expires_at}"),
            );
        }
        if self.state.keys.get(key, at).is_some() {
            return reject(Code::IdempotencyKeyReused, format!("idempotency key `{key}` is already recorded"));
        }
        out.push(Event::KeyRecorded {
            key: key.to_string(),
            fingerprint: fingerprint.to_string(),
            outcomes: outcomes.iter().map(KeyOutcomeRec::from).collect(),
            expires_at,
            at,
            capacity: self.festival.capacity.keys,
        });
        Ok(())
    }
}

// A key's outcomes as `key_recorded` records them (crate::event's records), and back.

impl From<&KeyOutcome> for KeyOutcomeRec {
    fn from(o: &KeyOutcome) -> KeyOutcomeRec {
        match o {
            KeyOutcome::Accepted { first_seq, last_seq } => {
                KeyOutcomeRec::Accepted { first_seq: *first_seq, last_seq: *last_seq }
            }
            KeyOutcome::Rejected { code, message } => {
                KeyOutcomeRec::Rejected { code: code.clone(), message: message.clone() }
            }
        }
    }
}

impl From<&KeyOutcomeRec> for KeyOutcome {
    fn from(o: &KeyOutcomeRec) -> KeyOutcome {
        match o {
            KeyOutcomeRec::Accepted { first_seq, last_seq } => {
                KeyOutcome::Accepted { first_seq: *first_seq, last_seq: *last_seq }
            }
            KeyOutcomeRec::Rejected { code, message } => {
                KeyOutcome::Rejected { code: code.clone(), message: message.clone() }
            }
        }
    }
}

/// The record as the event gives it, forgetting by the capacity the decision applied.
pub(super) fn key_recorded(
    st: &mut State,
    key: &str,
    fingerprint: &str,
    outcomes: &[KeyOutcomeRec],
    expires_at: Ts,
    at: Ts,
    capacity: u64,
) -> Applied {
    let rec = KeyRecord {
        fingerprint: fingerprint.to_string(),
        at,
        expires_at,
        outcomes: outcomes.iter().map(KeyOutcome::from).collect(),
    };
    st.keys.record(key, rec, capacity);
    Ok(())
}
