//! SplitMix64 (Steele, Lea, Flood 2014; dacu-core's `promo::SplitMix64`): tiny, fast,
//! fully specified, so a workload is the same on every platform and release for the same
//! seed.

use dacu_core::promo::SplitMix64;

/// A seeded stream: dacu-core's SplitMix64, with the draws a workload needs.
#[derive(Debug, Clone)]
pub struct Rng(SplitMix64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(SplitMix64(seed))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `0..n` (n > 0), by Lemire's multiply-shift; the bias is below 2^-32 for
    /// the ranges a workload uses, which is fine for synthetic data.
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo).max(1) as u64) as i64
    }

    /// True with probability `per_10k` / 10000.
    pub fn chance(&mut self, per_10k: u64) -> bool {
        self.below(10_000) < per_10k
    }
}

/// Zipf-like popularity over `n` items (weight of rank r ∝ 1 / r^1.1, as integers), sampled
/// by binary search over the cumulative weights.
#[derive(Debug, Clone)]
pub struct Zipf {
    cumulative: Vec<u64>,
}

impl Zipf {
    pub fn new(n: usize) -> Zipf {
        let mut total = 0u64;
        let cumulative = (1..=n.max(1))
            .map(|r| {
                total += (1e9 / (r as f64).powf(1.1)) as u64 + 1;
                total
            })
            .collect();
        Zipf { cumulative }
    }

    pub fn sample(&self, rng: &mut Rng) -> usize {
        let total = *self.cumulative.last().expect("non-empty");
        let x = rng.below(total);
        self.cumulative.partition_point(|&c| c <= x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_its_reference_values() {
        // First outputs for seed 0, as published with the algorithm.
        let mut r = Rng::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn zipf_prefers_the_head() {
        let z = Zipf::new(100);
        let mut r = Rng::new(1);
        let mut counts = [0u32; 100];
        for _ in 0..20_000 {
            counts[z.sample(&mut r)] += 1;
        }
        assert!(counts[0] > counts[9] && counts[9] > counts[99]);
        assert!(counts.iter().all(|&c| c < 20_000));
    }
}
