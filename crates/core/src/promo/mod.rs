//! Marketing tools' algorithms whose results users check: red-packet splits and lottery
//! draws. Pure functions of their inputs and recorded seeds; docs/red-packets.md and
//! docs/lottery.md specify them precisely enough to recompute in another language.

pub mod lottery;
pub mod redpacket;

/// SplitMix64: the seeded stream red-packet splits draw from.
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// A uniform integer in `0..n` (n ≥ 1) from a stream of u64s, without modulo bias: with
/// r = 2^64 mod n, draws below r are rejected (the 2^64 − r values left are a whole
/// number of copies of 0..n), and the result is x mod n.
pub fn uniform_below(n: u64, mut next: impl FnMut() -> u64) -> u64 {
    assert!(n > 0, "uniform_below(0)");
    let r = (u64::MAX % n + 1) % n;
    loop {
        let x = next();
        if x >= r {
            return x % n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_below_rejects_the_biased_low_values() {
        // n = 3: 2^64 mod 3 = 1, so x = 0 is rejected and the next draw is used.
        let mut draws = [0u64, 7].into_iter();
        assert_eq!(uniform_below(3, || draws.next().unwrap()), 1);
        // A power of two has no bias: nothing is rejected.
        let mut draws = [0u64].into_iter();
        assert_eq!(uniform_below(8, || draws.next().unwrap()), 0);
        assert_eq!(uniform_below(1, || 12345), 0);
    }
}
