//! `Idempotency-Key` on writes (docs/api.md, "Idempotency"). The key is scoped by the
//! caller's token and travels to the node's writer with a fingerprint of the request; the
//! writer answers a recorded key from the engine's state (a replay), refuses it for a
//! different request, and records a fresh one in the same commit as the commands. What
//! only this process can know — that a request with the key is still running — is the
//! in-flight set here: a second request with it meanwhile is 409.

use crate::app::Shared;
use crate::problem::{codes, Problem};
use crate::tokens::Principal;
use axum::http::{HeaderMap, StatusCode};
use dacu_node::Keyed;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::sync::Mutex;

/// The longest key a caller may send.
pub const KEY_BYTES: usize = 255;

/// Keys of requests still running in this process.
#[derive(Default)]
pub struct InFlight(Mutex<HashSet<String>>);

/// Holds a key in flight; dropping it (the request finished, or was abandoned) lets the
/// key be used again.
pub struct Guard {
    app: Shared,
    key: String,
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.app.in_flight.0.lock().expect("in-flight keys").remove(&self.key);
    }
}

/// The request's key, if it sent one: checked, scoped by the token, fingerprinted over
/// `what` (the route and the body), and marked in flight.
pub fn take(
    app: &Shared,
    who: &Principal,
    headers: &HeaderMap,
    what: &[&[u8]],
) -> Result<Option<(Keyed, Guard)>, Problem> {
    let Some(v) = headers.get("idempotency-key") else { return Ok(None) };
    let key = v
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= KEY_BYTES && k.bytes().all(|b| (0x21..=0x7e).contains(&b)));
    let Some(key) = key else {
        return Err(Problem::bad_request(format!(
            "`Idempotency-Key` must be 1 to {KEY_BYTES} visible ASCII characters (no spaces), such as a UUID"
        )));
    };
    let scoped = format!("{}:{key}", who.token_id);
    let mut h = Sha256::new();
    for part in what {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    let fingerprint: String = dacu_core::hex(&h.finalize());
    if !app.in_flight.0.lock().expect("in-flight keys").insert(scoped.clone()) {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            codes::IDEMPOTENCY_IN_FLIGHT,
            format!("a request with idempotency key `{key}` is still running; wait for its answer, then resend to get it again"),
        )
        .retry_after(1));
    }
    let window_ms = (app.cfg.idempotency.window_s as i64).saturating_mul(1000);
    let guard = Guard { app: app.clone(), key: scoped.clone() };
    Ok(Some((Keyed { key: scoped, fingerprint, window_ms }, guard)))
}
