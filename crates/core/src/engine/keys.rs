//! Idempotency keys (crate::idempotency): the record a service makes of what it answered
//! to a keyed request, decided here like any command so that it is bounded and logged.

use super::{reject, Engine};
use crate::error::{Code, Rejection};
use crate::event::Event;
use crate::idempotency::KeyOutcome;
use crate::limits::KEY_BYTES;
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
            outcomes,
            expires_at,
            at,
        });
        Ok(())
    }
}
