//! Splitting a red packet (红包) of `total` fen into `count` shares. Every method gives
//! each share at least 1 fen and the shares always sum to `total` exactly.
//! docs/red-packets.md is the specification.

use super::{uniform_below, SplitMix64};
pub use crate::kinds::Method;
use crate::money::Fen;

/// At most this many shares in one packet.
pub const MAX_COUNT: u32 = 100_000;

/// Separates the seed drawn from a packet's secret from any other use of it (the
/// commitment is SHA-256 of the secret alone, so it reveals nothing of the seed).
pub const SEED_DOMAIN: &[u8] = b"dacu-red-packet-v1";

/// The split seed of a packet created with a secret: the first 8 bytes, big-endian, of
/// SHA-256(secret ‖ "dacu-red-packet-v1"). docs/red-packets.md#commit-and-reveal.
pub fn seed_of_secret(secret: &[u8]) -> u64 {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(secret);
    h.update(SEED_DOMAIN);
    let d = h.finalize();
    u64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("a red packet needs 1 to {MAX_COUNT} shares, got {0}")]
    Count(u32),
    #[error("a red packet of {total} fen cannot give {count} shares at least 1 fen each; the total must be at least the count")]
    TooSmall { total: i64, count: u32 },
}

/// The shares, in the order they are handed out (grab order).
pub fn split(total: Fen, count: u32, method: Method, seed: u64) -> Result<Vec<Fen>, SplitError> {
    if count == 0 || count > MAX_COUNT {
        return Err(SplitError::Count(count));
    }
    if total.0 < count as i64 {
        return Err(SplitError::TooSmall { total: total.0, count });
    }
    let n = count as i64;
    let mut rng = SplitMix64(seed);
    let shares = match method {
        Method::Even => {
            let (base, extra) = (total.0 / n, total.0 % n);
            (0..n).map(|i| Fen(base + i64::from(i < extra))).collect()
        }
        Method::DoubleMean => {
            let mut left = total.0;
            let mut out = Vec::with_capacity(count as usize);
            for i in 0..n - 1 {
                let others = n - 1 - i; // shares after this one
                let cap = (2 * left / (others + 1)).min(left - others).max(1);
                let share = 1 + uniform_below(cap as u64, || rng.next_u64()) as i64;
                out.push(Fen(share));
                left -= share;
            }
            out.push(Fen(left));
            out
        }
        Method::LineCut => {
            // Floyd's sampling of count − 1 distinct points from 1..=total−1.
            let m = (n - 1) as u64;
            let span = (total.0 - 1) as u64;
            let mut cuts = std::collections::BTreeSet::new();
            for j in (span - m + 1)..=span {
                let t = 1 + uniform_below(j, || rng.next_u64());
                if !cuts.insert(t) {
                    cuts.insert(j);
                }
            }
            let mut out = Vec::with_capacity(count as usize);
            let mut prev = 0i64;
            for c in cuts {
                out.push(Fen(c as i64 - prev));
                prev = c as i64;
            }
            out.push(Fen(total.0 - prev));
            out
        }
    };
    Ok(shares)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn method() -> impl Strategy<Value = Method> {
        prop_oneof![Just(Method::Even), Just(Method::DoubleMean), Just(Method::LineCut)]
    }

    proptest! {
        #[test]
        fn shares_conserve_the_total_and_give_everyone_a_fen(
            count in 1u32..300, extra in 0i64..1_000_000, m in method(), seed in any::<u64>()
        ) {
            let total = Fen(count as i64 + extra);
            let shares = split(total, count, m, seed).unwrap();
            prop_assert_eq!(shares.len(), count as usize);
            prop_assert_eq!(shares.iter().copied().sum::<Fen>(), total);
            prop_assert!(shares.iter().all(|s| s.0 >= 1));
            prop_assert_eq!(split(total, count, m, seed).unwrap(), shares, "same seed, same split");
        }

        #[test]
        fn double_mean_never_exceeds_twice_the_mean_left(count in 2u32..200, extra in 0i64..100_000, seed in any::<u64>()) {
            let total = count as i64 + extra;
            let shares = split(Fen(total), count, Method::DoubleMean, seed).unwrap();
            let mut left = total;
            for (i, s) in shares.iter().enumerate().take(count as usize - 1) {
                let remaining = count as i64 - i as i64;
                prop_assert!(s.0 <= (2 * left / remaining).max(1), "share {} of {} with {} left", s.0, i, left);
                left -= s.0;
            }
        }
    }

    /// The vector in docs/red-packets.md, computed by its Python reference code.
    #[test]
    fn the_commit_and_reveal_vector_matches_the_documented_reference() {
        let secret = crate::promo::lottery::unhex("00112233445566778899aabbccddeeff").unwrap();
        assert_eq!(
            crate::promo::lottery::commitment(&secret),
            "a8faed6abbf35c12a4b26e40f6feb19d736d90045c83b9f9a31f638d323e6811"
        );
        let seed = seed_of_secret(&secret);
        assert_eq!(seed, 16802705080325286171);
        let fen = |m| split(Fen(1000), 5, m, seed).unwrap().into_iter().map(|f| f.0).collect::<Vec<_>>();
        assert_eq!(fen(Method::DoubleMean), [150, 41, 429, 177, 203]);
        assert_eq!(fen(Method::LineCut), [379, 279, 104, 212, 26]);
        assert_eq!(fen(Method::Even), [200; 5]);
    }

    #[test]
    fn even_gives_the_remainder_to_the_first_shares() {
        let s: Vec<i64> = split(Fen(10), 3, Method::Even, 0).unwrap().into_iter().map(|f| f.0).collect();
        assert_eq!(s, [4, 3, 3]);
    }

    #[test]
    fn exact_fit_gives_one_fen_each_by_every_method() {
        for m in [Method::Even, Method::DoubleMean, Method::LineCut] {
            assert_eq!(split(Fen(5), 5, m, 9).unwrap(), vec![Fen(1); 5]);
        }
    }

    #[test]
    fn impossible_packets_are_refused() {
        assert_eq!(split(Fen(4), 5, Method::Even, 0), Err(SplitError::TooSmall { total: 4, count: 5 }));
        assert_eq!(split(Fen(4), 0, Method::Even, 0), Err(SplitError::Count(0)));
        assert_eq!(split(Fen(1 << 40), MAX_COUNT + 1, Method::Even, 0), Err(SplitError::Count(MAX_COUNT + 1)));
    }

    #[test]
    fn random_methods_spread_the_money() {
        // ¥100 in 10 shares: the random methods do not all give the mean.
        for m in [Method::DoubleMean, Method::LineCut] {
            let s = split(Fen(10_000), 10, m, 42).unwrap();
            assert!(s.iter().any(|x| x.0 != 1_000), "{m:?}: {s:?}");
        }
    }
}
