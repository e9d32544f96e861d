//! The marketing tools' commands, one file per tool, each with its decide and its apply;
//! docs/commands.md documents every command, field, rule and code. This file holds what
//! several tools check: amounts and windows, duplicate and unknown ids, and who may take
//! part in a red packet or a lottery.

use super::{reject, Engine};
use crate::error::{Code, Rejection};
use crate::limits::market as ml;
use crate::market::Eligibility;
use crate::time::Ts;

mod candidates;
pub(super) mod checkout;
pub(super) mod coupon;
pub(super) mod fullcut;
pub(super) mod group;
pub(super) mod lottery;
pub(super) mod packet;
pub(super) mod price_cut;
mod timer;

/// An amount in fen from `min` to the tools' largest amount.
fn amount(field: &str, v: i64, min: i64) -> Result<(), Rejection> {
    if !(min..=ml::AMOUNT_FEN).contains(&v) {
        return reject(Code::InvalidValue, format!("`{field}` must be {min} to {} fen, got {v}", ml::AMOUNT_FEN));
    }
    Ok(())
}

/// A window that ends after it starts.
fn window(start_field: &str, start: Ts, end_field: &str, end: Ts) -> Result<(), Rejection> {
    if end <= start {
        return reject(Code::InvalidValue, format!("`{end_field}` ({end}) must be after `{start_field}` ({start})"));
    }
    Ok(())
}

fn dup(what: &str, id: &str) -> Rejection {
    Rejection::new(Code::DuplicatePromotion, format!("{what} `{id}` already exists; use a new id"))
}

fn unknown(what: &str, id: &str) -> Rejection {
    Rejection::new(Code::UnknownPromotion, format!("no {what} `{id}` exists"))
}

impl Engine {
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

    /// The eligibility fields of a red packet or lottery: a passphrase of 1 to 256 bytes,
    /// a watch time of at most a day.
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
}
