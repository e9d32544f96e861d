//! API tokens: created by `dacu token create` (while the directory is not served) or by an
//! operator through the API, stored hashed in `DIR/tokens.json` — on a stream node, in the
//! stream's tokens bucket (dacu_jetstream::tokens), shared by every node — and checked on
//! every request.
//!
//! A token reads `dacu_ID_SECRET`: `ID` (16 hex digits) names it, `SECRET` (32 random
//! bytes, hex) proves it. The file keeps the id, SHA-256 of the whole token, the role, the
//! participant, and when it was created, expires and was revoked — never the token.

use dacu_core::hex;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

pub const FILE: &str = "tokens.json";

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything.
    Operator,
    /// The platform's services: every write and every read.
    Integration,
    /// One merchant (brand), anchor or provider: its own progress, earnings and reviews,
    /// and the public boards and calendar.
    Participant,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "operator" => Some(Role::Operator),
            "integration" => Some(Role::Integration),
            "participant" => Some(Role::Participant),
            _ => None,
        }
    }
}

/// One stored token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Token {
    pub id: String,
    /// Hex SHA-256 of the whole token.
    pub hash: String,
    pub role: Role,
    /// For a participant token: the participant's id …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant: Option<String>,
    /// … and its role: `merchant`, `anchor` or `provider`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant_role: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Tokens {
    pub tokens: Vec<Token>,
}

/// Who a request is from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub token_id: String,
    pub role: Role,
    /// `(participant role, id)` for a participant token.
    pub participant: Option<(dacu_core::festival::Role, String)>,
}

fn sha256_hex(s: &str) -> String {
    hex(&Sha256::digest(s.as_bytes()))
}

pub fn now_s() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// Parses a lifetime: `90s`, `30m`, `12h`, `7d`.
pub fn parse_duration_s(s: &str) -> Result<i64, String> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num.parse().map_err(|_| format!("`{s}` is not a lifetime; give a number and s, m, h or d, as 7d"))?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("`{s}` is not a lifetime; give a number and s, m, h or d, as 7d")),
    };
    n.checked_mul(mult).filter(|v| *v > 0).ok_or_else(|| format!("`{s}` is not a lifetime above 0"))
}

impl Tokens {
    pub fn path(data: &Path) -> PathBuf {
        data.join(FILE)
    }

    pub fn load(data: &Path) -> Result<Tokens, String> {
        let p = Tokens::path(data);
        match std::fs::read_to_string(&p) {
            Ok(s) => serde_json::from_str(&s).map_err(|e| format!("{}: {e}", p.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Tokens::default()),
            Err(e) => Err(format!("{}: {e}", p.display())),
        }
    }

    /// Writes the file whole (a temporary file, fsynced, renamed).
    pub fn save(&self, data: &Path) -> Result<(), String> {
        let p = Tokens::path(data);
        let json = serde_json::to_vec_pretty(self).expect("tokens serialise");
        dacu_log::dir::write_atomic(&dacu_log::io::RealIo, &p, &json).map_err(|e| format!("{}: {e}", p.display()))
    }

    /// Makes a new token; returns it (shown once) and its record, which is kept.
    pub fn create(
        &mut self,
        role: Role,
        participant: Option<(dacu_core::festival::Role, String)>,
        lifetime_s: Option<i64>,
        limit: usize,
    ) -> Result<(String, Token), String> {
        if role == Role::Participant && participant.is_none() {
            return Err("a participant token needs the participant it is for".into());
        }
        if role != Role::Participant && participant.is_some() {
            return Err("only a participant token names a participant".into());
        }
        if self.tokens.iter().filter(|t| t.revoked_at.is_none()).count() >= limit {
            return Err(format!("{limit} tokens are live, the most kept; revoke one first"));
        }
        let mut raw = [0u8; 40];
        getrandom::fill(&mut raw).map_err(|e| format!("no randomness for a token: {e}"))?;
        let id = hex(&raw[..8]);
        let token = format!("dacu_{id}_{}", hex(&raw[8..]));
        let now = now_s();
        let t = Token {
            id,
            hash: sha256_hex(&token),
            role,
            participant_role: participant.as_ref().map(|p| p.0.as_str().to_string()),
            participant: participant.map(|p| p.1),
            created_at: now,
            expires_at: lifetime_s.map(|l| now.saturating_add(l)),
            revoked_at: None,
        };
        self.tokens.push(t.clone());
        Ok((token, t))
    }

    /// Revokes a token by id; false if there is no live one.
    pub fn revoke(&mut self, id: &str) -> bool {
        match self.tokens.iter_mut().find(|t| t.id == id && t.revoked_at.is_none()) {
            Some(t) => {
                t.revoked_at = Some(now_s());
                true
            }
            None => false,
        }
    }

    /// Who `token` is, if it is live.
    pub fn check(&self, token: &str, now: i64) -> Option<Principal> {
        let id = token.strip_prefix("dacu_")?.split('_').next()?;
        let t = self.tokens.iter().find(|t| t.id == id)?;
        let good = constant_time_eq(sha256_hex(token).as_bytes(), t.hash.as_bytes())
            && t.revoked_at.is_none()
            && t.expires_at.is_none_or(|e| now < e);
        if !good {
            return None;
        }
        let participant = match (&t.participant_role, &t.participant) {
            (Some(r), Some(p)) => Some((participant_role(r)?, p.clone())),
            _ => None,
        };
        Some(Principal { token_id: t.id.clone(), role: t.role, participant })
    }
}

pub fn participant_role(s: &str) -> Option<dacu_core::festival::Role> {
    use dacu_core::festival::Role as R;
    match s {
        "merchant" | "brand" => Some(R::Merchant),
        "anchor" => Some(R::Anchor),
        "provider" => Some(R::Provider),
        _ => None,
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_checks_until_it_expires_or_is_revoked_and_is_stored_hashed() {
        let mut ts = Tokens::default();
        let (tok, rec) = ts.create(Role::Integration, None, Some(60), 10).unwrap();
        assert!(tok.starts_with(&format!("dacu_{}_", rec.id)));
        assert!(!serde_json::to_string(&ts).unwrap().contains(&tok), "the token itself is stored");
        let now = now_s();
        assert_eq!(ts.check(&tok, now).unwrap().role, Role::Integration);
        assert!(ts.check(&tok, now + 61).is_none(), "expired");
        assert!(ts.check(&format!("{tok}x"), now).is_none());
        assert!(ts.revoke(&rec.id));
        assert!(ts.check(&tok, now).is_none(), "revoked");
        let p = Some((dacu_core::festival::Role::Anchor, "a1".to_string()));
        let (tok, _) = ts.create(Role::Participant, p.clone(), None, 10).unwrap();
        assert_eq!(ts.check(&tok, now).unwrap().participant, p);
        assert!(ts.create(Role::Participant, None, None, 10).is_err());
        assert!(ts.create(Role::Operator, None, None, 1).is_err(), "over the limit");
        assert_eq!(parse_duration_s("7d"), Ok(604_800));
        assert!(parse_duration_s("7w").is_err() && parse_duration_s("0s").is_err());
    }
}

/// A stream node reads its tokens bucket again on an unknown token at most this often…
pub const RELOAD_ON_MISS: std::time::Duration = std::time::Duration::from_millis(100);
/// … and at least this often while it is in use, so that a token revoked on another node
/// stops working here within this time.
pub const RELOAD_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// A stream node: reads the tokens bucket again when it is due (`missed`: the token just
/// checked is unknown); whether the tokens were read.
pub async fn reload(app: &crate::app::App, missed: bool) -> bool {
    let Some((bucket, last)) = &app.token_bucket else { return false };
    {
        let mut last = last.lock().expect("reload time");
        let wait = if missed { RELOAD_ON_MISS } else { RELOAD_EVERY };
        if last.is_some_and(|t| t.elapsed() < wait) {
            return false;
        }
        *last = Some(std::time::Instant::now());
    }
    match bucket.read().await.map(|r| r.json.map(|j| serde_json::from_slice::<Tokens>(&j))) {
        Ok(Some(Ok(ts))) => {
            *app.tokens.write().expect("tokens") = ts;
            true
        }
        _ => false,
    }
}

/// Applies `f` to the tokens and stores them — in a stream node's bucket (compare-and-set
/// on its revision; read again and redone, up to three times, when another node changed
/// them meanwhile), or in the data directory's file — then serves them.
pub async fn change<T>(app: &crate::app::App, f: impl Fn(&mut Tokens) -> Result<T, String>) -> Result<T, ChangeError> {
    let _w = app.tokens_write.lock().await;
    let Some((bucket, _)) = &app.token_bucket else {
        let mut all = app.tokens.read().expect("tokens").clone();
        let out = f(&mut all).map_err(ChangeError::Refused)?;
        all.save(&app.data).map_err(ChangeError::Store)?;
        *app.tokens.write().expect("tokens") = all;
        return Ok(out);
    };
    let mut last = String::new();
    for _ in 0..3 {
        let read = bucket.read().await.map_err(ChangeError::Store)?;
        let mut all = match &read.json {
            Some(j) => serde_json::from_slice::<Tokens>(j)
                .map_err(|e| ChangeError::Store(format!("the tokens bucket: {e}")))?,
            None => Tokens::default(),
        };
        let out = f(&mut all).map_err(ChangeError::Refused)?;
        let json = serde_json::to_vec_pretty(&all).expect("tokens serialise");
        match bucket.write(json, read.revision).await {
            Ok(_) => {
                *app.tokens.write().expect("tokens") = all;
                return Ok(out);
            }
            Err(e) => last = e,
        }
    }
    Err(ChangeError::Store(last))
}

/// Why a change to the tokens was not made.
#[derive(Debug)]
pub enum ChangeError {
    /// The change itself was refused (no such token, too many tokens).
    Refused(String),
    /// The tokens could not be stored.
    Store(String),
}
