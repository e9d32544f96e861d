//! Provably fair lottery draws (抽奖/福袋). At creation the engine publishes
//! `commitment = hex(SHA-256(secret))`; at the draw it reveals `secret`; the winners are a
//! deterministic function of the secret and the sorted eligible users, so anyone can
//! recompute them. docs/lottery.md is the specification, with a reference implementation.

use super::uniform_below;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Separates this use of the secret from any other.
pub const DOMAIN: &[u8] = b"dacu-lottery-v1";

pub use crate::hex;

/// `hex(SHA-256(secret))`.
pub fn commitment(secret: &[u8]) -> String {
    hex(&Sha256::digest(secret))
}

/// The draw's random stream: SHA-256(secret ‖ DOMAIN ‖ block as u64 big-endian) for
/// block = 0, 1, 2, …; each 32-byte block yields four u64s, big-endian, in order.
struct Stream<'a> {
    secret: &'a [u8],
    block: u64,
    buf: [u8; 32],
    used: usize,
}

impl Stream<'_> {
    fn next_u64(&mut self) -> u64 {
        if self.used == 4 {
            let mut h = Sha256::new();
            h.update(self.secret);
            h.update(DOMAIN);
            h.update(self.block.to_be_bytes());
            self.buf = h.finalize().into();
            self.block += 1;
            self.used = 0;
        }
        let i = self.used * 8;
        self.used += 1;
        u64::from_be_bytes(self.buf[i..i + 8].try_into().expect("8 bytes"))
    }
}

/// The eligible users in the order the draw uses: sorted by their UTF-8 bytes, duplicates
/// removed.
pub fn canonical(eligible: &[String]) -> Vec<String> {
    let mut v = eligible.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

/// The most users one draw records: the `lottery_drawn` event lists them, and with ids of
/// up to 128 bytes 50,000 of them (and 10,000 winners) stay below the engine's event size
/// limit (`limits::EVENT_BYTES`).
pub const MAX_POOL: usize = 50_000;

/// Separates the pool sample's use of the secret from the draw's.
pub const POOL_DOMAIN: &[u8] = b"dacu-lottery-pool-v1";

/// The pool a draw records, from the canonical eligible list: all of it when it holds at
/// most [`MAX_POOL`] users; otherwise the [`MAX_POOL`] users with the smallest
/// SHA-256(secret ‖ POOL_DOMAIN ‖ id) (ties to the lower id), in canonical order. The
/// secret is fixed before anyone enters and revealed at the draw, so every user is as
/// likely to be sampled as any other, and anyone left out can check why.
pub fn pool(secret: &[u8], eligible: Vec<String>) -> Vec<String> {
    if eligible.len() <= MAX_POOL {
        return eligible;
    }
    let mut keyed: Vec<([u8; 32], String)> = eligible
        .into_iter()
        .map(|id| {
            let mut h = Sha256::new();
            h.update(secret);
            h.update(POOL_DOMAIN);
            h.update(id.as_bytes());
            (h.finalize().into(), id)
        })
        .collect();
    keyed.select_nth_unstable(MAX_POOL - 1);
    keyed.truncate(MAX_POOL);
    canonical(&keyed.into_iter().map(|(_, id)| id).collect::<Vec<_>>())
}

/// The winners, in draw order: a partial Fisher–Yates shuffle of the canonical eligible
/// list. For k = 0, 1, … while k < min(winners, n): j = k + uniform_below(n − k) from the
/// stream; swap positions k and j; position k wins.
pub fn draw(secret: &[u8], eligible: &[String], winners: u32) -> Vec<String> {
    let mut pool = canonical(eligible);
    let n = pool.len();
    let k_max = (winners as usize).min(n);
    let mut s = Stream { secret, block: 0, buf: [0; 32], used: 4 };
    for k in 0..k_max {
        let j = k + uniform_below((n - k) as u64, || s.next_u64()) as usize;
        pool.swap(k, j);
    }
    pool.truncate(k_max);
    pool
}

/// What a draw publishes, and what `dacu verify-draw` checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawRecord {
    pub lottery: String,
    pub commitment: String,
    /// The revealed secret, hex.
    pub secret: String,
    pub winners_wanted: u32,
    pub eligible: Vec<String>,
    pub winners: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrawMismatch {
    #[error("the secret is not hex")]
    BadSecret,
    #[error("SHA-256 of the revealed secret is {actual}, not the published commitment {published}")]
    Commitment { published: String, actual: String },
    #[error("recomputing the draw gives winners {expected:?}, not the published {published:?}")]
    Winners { published: Vec<String>, expected: Vec<String> },
}

/// Bytes from lowercase hex: `None` unless the string is pairs of `[0-9a-f]` exactly —
/// what the reference code in docs/lottery.md and docs/red-packets.md reads, so anything
/// dacu accepts anyone can check. (`u8::from_str_radix` also took a sign and upper case,
/// so `"+0+1…"` passed.)
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks_exact(2).map(|p| Some(digit(p[0])? << 4 | digit(p[1])?)).collect()
}

/// A secret as earlier builds accepted it into the log (`u8::from_str_radix` per pair:
/// either case, and a `+` before a digit). Only for replaying recorded events, so an old
/// lottery draws as it always would; new input goes through [`unhex`].
pub fn unhex_recorded(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// Checks a published draw: the secret matches the commitment, and the winners are what
/// the secret and the eligible list give.
pub fn verify(r: &DrawRecord) -> Result<(), DrawMismatch> {
    let secret = unhex(&r.secret).ok_or(DrawMismatch::BadSecret)?;
    let actual = commitment(&secret);
    if actual != r.commitment {
        return Err(DrawMismatch::Commitment { published: r.commitment.clone(), actual });
    }
    let expected = draw(&secret, &r.eligible, r.winners_wanted);
    if expected != r.winners {
        return Err(DrawMismatch::Winners { published: r.winners.clone(), expected });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_past_its_limit_is_a_secret_keyed_sample_anyone_can_recheck() {
        let secret = b"116-lucky-bag";
        let small: Vec<String> = (0..10).map(|i| format!("u{i:04}")).collect();
        assert_eq!(pool(secret, small.clone()), small, "a pool within the limit is kept whole");
        let all: Vec<String> = canonical(&(0..MAX_POOL + 1000).map(|i| format!("u{i:06}")).collect::<Vec<_>>());
        let p = pool(secret, all.clone());
        assert_eq!(p.len(), MAX_POOL);
        assert_eq!(p, canonical(&p), "the sample is in canonical order");
        // The sample is exactly the users of the smallest keys.
        let key = |id: &str| -> [u8; 32] {
            let mut h = Sha256::new();
            h.update(secret);
            h.update(POOL_DOMAIN);
            h.update(id.as_bytes());
            h.finalize().into()
        };
        let cut = p.iter().map(|id| key(id)).max().unwrap();
        let left_out: Vec<&String> = all.iter().filter(|id| !p.contains(id)).collect();
        assert_eq!(left_out.len(), 1000);
        assert!(left_out.iter().all(|id| key(id) > cut));
    }
    use proptest::prelude::*;

    fn users(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("u{i:04}")).collect()
    }

    #[test]
    fn the_reference_vector_matches_the_documented_algorithm() {
        // Computed independently by the Python reference implementation in docs/lottery.md.
        let secret = b"116-lucky-bag";
        assert_eq!(commitment(secret), REFERENCE_COMMITMENT);
        assert_eq!(draw(secret, &users(10), 3), REFERENCE_WINNERS);
    }

    const REFERENCE_COMMITMENT: &str = "e85f2ab107d57b745ff4c1666c58efa1b1c0b18c86de3230767df4d182b3210d";
    const REFERENCE_WINNERS: [&str; 3] = ["u0000", "u0008", "u0006"];

    #[test]
    fn verify_catches_a_wrong_secret_or_winner() {
        let secret = b"s3cret";
        let eligible = users(50);
        let mut r = DrawRecord {
            lottery: "l1".into(),
            commitment: commitment(secret),
            secret: hex(secret),
            winners_wanted: 5,
            eligible: eligible.clone(),
            winners: draw(secret, &eligible, 5),
        };
        assert_eq!(verify(&r), Ok(()));
        r.winners[0] = "u9999".into();
        assert!(matches!(verify(&r), Err(DrawMismatch::Winners { .. })));
        r.secret = hex(b"other");
        assert!(matches!(verify(&r), Err(DrawMismatch::Commitment { .. })));
        r.secret = "zz".into();
        assert_eq!(verify(&r), Err(DrawMismatch::BadSecret));
    }

    /// Regression: `u8::from_str_radix` read `"+0+1…+f"` as hex, so verify-draw said "ok" to
    /// a record the documented reference code cannot check.
    #[test]
    fn only_lowercase_hex_digits_are_hex() {
        assert_eq!(unhex("00ff7a"), Some(vec![0, 255, 0x7a]));
        assert_eq!(unhex(""), Some(vec![]));
        for bad in ["+0+1", "0+", "FF", "0A", "-1", " 1", "0x", "g0", "abc", "é0"] {
            assert_eq!(unhex(bad), None, "{bad}");
        }
        let plus: String = (0..16).map(|i| format!("+{i:x}")).collect();
        assert_eq!(unhex(&plus), None);
        // Replaying a recorded secret still reads it the old way.
        assert_eq!(unhex_recorded(&plus), Some((0..16).collect()));
        assert_eq!(unhex_recorded("FF"), Some(vec![255]));
        let secret: Vec<u8> = (0..16).collect();
        let mut r = DrawRecord {
            lottery: "l".into(),
            commitment: commitment(&secret),
            secret: plus,
            winners_wanted: 1,
            eligible: users(3),
            winners: draw(&secret, &users(3), 1),
        };
        assert_eq!(verify(&r), Err(DrawMismatch::BadSecret));
        r.secret = hex(&secret);
        assert_eq!(verify(&r), Ok(()));
        r.commitment = r.commitment.to_ascii_uppercase();
        assert!(matches!(verify(&r), Err(DrawMismatch::Commitment { .. })), "the commitment is lowercase hex too");
    }

    proptest! {
        #[test]
        fn winners_are_distinct_eligible_and_as_many_as_possible(
            secret in proptest::collection::vec(any::<u8>(), 1..40), n in 0usize..200, k in 0u32..50
        ) {
            let eligible = users(n);
            let w = draw(&secret, &eligible, k);
            prop_assert_eq!(w.len(), (k as usize).min(n));
            let mut sorted = w.clone();
            sorted.sort();
            sorted.dedup();
            prop_assert_eq!(sorted.len(), w.len());
            prop_assert!(w.iter().all(|u| eligible.contains(u)));
        }

        #[test]
        fn the_input_order_of_the_eligible_list_does_not_matter(secret in any::<[u8; 16]>(), seed in any::<u64>()) {
            let eligible = users(60);
            let mut shuffled = eligible.clone();
            let mut rng = super::super::SplitMix64(seed);
            for i in (1..shuffled.len()).rev() {
                let j = uniform_below(i as u64 + 1, || rng.next_u64()) as usize;
                shuffled.swap(i, j);
            }
            shuffled.push(eligible[3].clone()); // a duplicate entry changes nothing either
            prop_assert_eq!(draw(&secret, &eligible, 7), draw(&secret, &shuffled, 7));
        }
    }

    #[test]
    fn each_user_wins_about_equally_often() {
        // 10 users, 1 winner, 20,000 secrets: each wins ~2,000 times.
        let eligible = users(10);
        let mut wins = [0u32; 10];
        for i in 0..20_000u32 {
            let w = draw(&i.to_be_bytes(), &eligible, 1);
            wins[w[0][1..].parse::<usize>().unwrap()] += 1;
        }
        assert!(wins.iter().all(|&c| (1_800..2_200).contains(&c)), "{wins:?}");
    }
}
