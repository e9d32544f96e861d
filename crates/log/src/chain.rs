//! The log's hash chain: each commit record carries a hash of the log up to it.
//!
//! ```text
//! genesis        = SHA-256("dacu-log-chain\0" ‖ log_id)
//! chain(batch k) = SHA-256(chain(k−1) ‖ for each record: seq u64 LE ‖ crc32c(payload) u32 LE)
//! ```
//!
//! The chain names a log prefix: a snapshot records the chain value at its position, so
//! a snapshot taken from another log, or from this log before its tail was rewritten, is
//! recognised and never served. It commits to each record's CRC rather than to all its
//! bytes, which keeps the writer's cost at 12 hashed bytes per event; it detects
//! accidents (a snapshot copied from another directory, segments mixed up), not a
//! deliberate forgery.

use sha2::{Digest, Sha256};

pub const LEN: usize = 32;
pub type Chain = [u8; LEN];
/// A log's identity: random, chosen when the log is created. All zeros for a log begun
/// in segment format 1, which recorded none.
pub type LogId = [u8; 16];

pub fn genesis(log_id: &LogId) -> Chain {
    let mut h = Sha256::new();
    h.update(b"dacu-log-chain\0");
    h.update(log_id);
    h.finalize().into()
}

/// Hashes one batch onto the chain value before it.
pub struct Hasher(Sha256);

impl Hasher {
    pub fn new(prev: &Chain) -> Hasher {
        let mut h = Sha256::new();
        h.update(prev);
        Hasher(h)
    }

    pub fn add(&mut self, seq: u64, payload_crc: u32) {
        let mut b = [0u8; 12];
        b[..8].copy_from_slice(&seq.to_le_bytes());
        b[8..].copy_from_slice(&payload_crc.to_le_bytes());
        self.0.update(b);
    }

    pub fn finish(self) -> Chain {
        self.0.finalize().into()
    }
}

/// A fresh random log id from the operating system.
pub fn new_log_id() -> std::io::Result<LogId> {
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).map_err(|e| std::io::Error::other(format!("no randomness for a log id: {e}")))?;
    Ok(id)
}

pub use dacu_core::hex;
