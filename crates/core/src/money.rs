//! Money is integer fen (1 yuan = 100 fen) in an `i64`; there are no floats near money.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount of money in fen.
///
/// Arithmetic never wraps: `decide` refuses any command that would take a running total
/// past [`crate::limits::TOTAL`] (`limit_exceeded`), so the sums inside the engine stay
/// far inside 64 bits. The operators still check (one predictable branch each): an
/// overflow would mean a missed bound, and stopping beats recording a wrapped amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fen(pub i64);

const WRAPPED: &str = "fen arithmetic left 64 bits: a bound in decide was missed";

impl Fen {
    pub const ZERO: Fen = Fen(0);

    /// `self + o`, or `None` where it would leave 64 bits.
    pub fn checked_add(self, o: Fen) -> Option<Fen> {
        self.0.checked_add(o.0).map(Fen)
    }

    /// `self − o`, or `None` where it would leave 64 bits.
    pub fn checked_sub(self, o: Fen) -> Option<Fen> {
        self.0.checked_sub(o.0).map(Fen)
    }
}

impl std::ops::Add for Fen {
    type Output = Fen;
    fn add(self, o: Fen) -> Fen {
        self.checked_add(o).expect(WRAPPED)
    }
}

impl std::ops::Sub for Fen {
    type Output = Fen;
    fn sub(self, o: Fen) -> Fen {
        self.checked_sub(o).expect(WRAPPED)
    }
}

impl std::ops::AddAssign for Fen {
    fn add_assign(&mut self, o: Fen) {
        *self = *self + o;
    }
}

impl std::ops::SubAssign for Fen {
    fn sub_assign(&mut self, o: Fen) {
        *self = *self - o;
    }
}

impl std::iter::Sum for Fen {
    fn sum<I: Iterator<Item = Fen>>(iter: I) -> Fen {
        iter.fold(Fen::ZERO, |a, b| a + b)
    }
}

/// Renders as yuan with two decimals and thousands separators: `¥1,234.56`.
impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.0 < 0;
        let abs = self.0.unsigned_abs();
        let yuan = abs / 100;
        let cents = abs % 100;
        let digits = yuan.to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        write!(f, "{}¥{}.{:02}", if neg { "-" } else { "" }, grouped, cents)
    }
}

/// `part / whole` in basis points (1/100 of a percent), rounded half up; 0 when `whole` is 0.
pub fn share_bp(part: i64, whole: i64) -> i64 {
    if whole <= 0 {
        return 0;
    }
    let num = part as i128 * 10_000;
    let w = whole as i128;
    ((num * 2 + w) / (2 * w)) as i64
}

/// Formats basis points as a percentage with two decimals: 1234 → "12.34%".
pub fn fmt_bp(bp: i64) -> String {
    let sign = if bp < 0 { "-" } else { "" };
    let a = bp.unsigned_abs();
    format!("{sign}{}.{:02}%", a / 100, a % 100)
}

/// Splits `amount` fen in proportion to `weights` (each ≥ 0), exactly: the parts sum to
/// `amount`. Largest-remainder (Hamilton) rule, docs/apportionment.md:
///
/// 1. With W = Σ weights, each part starts at ⌊amount × wᵢ / W⌋ (for a negative amount,
///    the parts of |amount| negated).
/// 2. The fen left over go one each to the parts with the largest remainders
///    (amount × wᵢ mod W), ties to the lower index.
///
/// With W = 0 the whole amount goes to the first part (or `None` when there are no parts).
/// Uses 128-bit intermediates, so any i64 amount and weights are exact.
pub fn apportion(amount: i64, weights: &[i64]) -> Option<Vec<i64>> {
    if weights.is_empty() || weights.iter().any(|&w| w < 0) {
        return None;
    }
    let total_w: i128 = weights.iter().map(|&w| w as i128).sum();
    let mut parts = vec![0i64; weights.len()];
    if total_w == 0 {
        parts[0] = amount;
        return Some(parts);
    }
    let a = amount.unsigned_abs();
    let max_w = weights.iter().copied().max().unwrap_or(0) as u64;
    // Checkouts split a few thousand yuan by weights of the same size: every product fits
    // 64 bits, and 64-bit division is several times faster than 128-bit. The results are
    // the same either way.
    let narrow = a.checked_mul(max_w).is_some() && total_w <= i128::from(u64::MAX);
    let left = if narrow {
        shares_u64(a, weights, total_w as u64, &mut parts)
    } else {
        shares_wide(a, weights, total_w, &mut parts)
    };
    if left > 0 && narrow {
        let rems = weights.iter().enumerate().map(|(i, &w)| (a * w as u64 % total_w as u64, i)).collect();
        give_left(rems, left, &mut parts);
    } else if left > 0 {
        let rems = weights.iter().enumerate().map(|(i, &w)| (i128::from(a) * w as i128 % total_w, i)).collect();
        give_left(rems, left, &mut parts);
    }
    if amount < 0 {
        for p in &mut parts {
            *p = -*p;
        }
    }
    Some(parts)
}

/// The `left` fen one each to the parts with the largest remainders (amount × wᵢ mod W);
/// equal remainders to the lower index.
fn give_left<T: Ord>(mut rems: Vec<(T, usize)>, left: u64, parts: &mut [i64]) {
    rems.sort_unstable_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
    for (_, i) in rems.iter().take(left as usize) {
        parts[*i] += 1;
    }
}

/// Each part's ⌊a · wᵢ / W⌋ in 64 bits (every product fits); returns the fen left over.
fn shares_u64(a: u64, weights: &[i64], total_w: u64, parts: &mut [i64]) -> u64 {
    let mut given = 0u64;
    for (p, &w) in parts.iter_mut().zip(weights) {
        let q = a * w as u64 / total_w;
        *p = q as i64;
        given += q;
    }
    a - given
}

/// As [`shares_u64`], in 128 bits.
fn shares_wide(a: u64, weights: &[i64], total_w: i128, parts: &mut [i64]) -> u64 {
    let mut given = 0i128;
    for (p, &w) in parts.iter_mut().zip(weights) {
        let q = i128::from(a) * w as i128 / total_w;
        *p = q as i64;
        given += q;
    }
    (i128::from(a) - given) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The rule in 128 bits throughout, as it was first written: the fast path must agree.
    fn apportion_reference(amount: i64, weights: &[i64]) -> Vec<i64> {
        let total_w: i128 = weights.iter().map(|&w| w as i128).sum();
        let mut parts = vec![0i64; weights.len()];
        if total_w == 0 {
            parts[0] = amount;
            return parts;
        }
        let a = (amount as i128).abs();
        let mut rems = Vec::new();
        let mut given = 0i128;
        for (i, &w) in weights.iter().enumerate() {
            let num = a * w as i128;
            parts[i] = (num / total_w) as i64;
            given += num / total_w;
            rems.push((num % total_w, i));
        }
        rems.sort_unstable_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
        for &(_, i) in rems.iter().take((a - given) as usize) {
            parts[i] += 1;
        }
        if amount < 0 {
            parts.iter_mut().for_each(|p| *p = -*p);
        }
        parts
    }

    proptest! {
        /// Small and huge amounts and weights, so both the 64-bit and the 128-bit paths run.
        #[test]
        fn the_fast_path_gives_the_reference_parts(
            amount in prop_oneof![-1_000_000i64..1_000_000, -i64::MAX..=i64::MAX],
            weights in proptest::collection::vec(prop_oneof![0i64..1_000, 0i64..i64::MAX], 1..12),
        ) {
            prop_assert_eq!(apportion(amount, &weights).unwrap(), apportion_reference(amount, &weights));
        }

        #[test]
        fn apportionment_is_exact_and_close_to_proportional(
            amount in -1_000_000_000i64..1_000_000_000, weights in proptest::collection::vec(0i64..10_000_000, 1..30)
        ) {
            let parts = apportion(amount, &weights).unwrap();
            prop_assert_eq!(parts.iter().sum::<i64>(), amount);
            let w: i128 = weights.iter().map(|&x| x as i128).sum();
            if w > 0 {
                for (p, &wi) in parts.iter().zip(&weights) {
                    // Each part is its exact quota rounded down or up.
                    let exact = amount as i128 * wi as i128;
                    let p = *p as i128 * w;
                    prop_assert!((p - exact).abs() < w, "part off its quota by a fen or more");
                }
            }
        }
    }

    #[test]
    fn remainders_go_to_the_largest_fractions_then_the_lower_index() {
        // 100 over 1:1:1 → 33.33 each; one fen left, to index 0.
        assert_eq!(apportion(100, &[1, 1, 1]).unwrap(), [34, 33, 33]);
        // 10 over 3:3:4 → 3, 3, 4 exactly.
        assert_eq!(apportion(10, &[3, 3, 4]).unwrap(), [3, 3, 4]);
        // 7 over 1:2:4 → 1, 2, 4.
        assert_eq!(apportion(7, &[1, 2, 4]).unwrap(), [1, 2, 4]);
        // 5 over 2:3:5 → 1.0, 1.5, 2.5: one fen left, remainders tie, lower index wins.
        assert_eq!(apportion(5, &[2, 3, 5]).unwrap(), [1, 2, 2]);
        // A negative amount is the mirror image.
        assert_eq!(apportion(-100, &[1, 1, 1]).unwrap(), [-34, -33, -33]);
        assert_eq!(apportion(9, &[0, 0]).unwrap(), [9, 0]);
        assert_eq!(apportion(9, &[]), None);
        assert_eq!(apportion(9, &[1, -1]), None);
    }

    #[test]
    fn display_groups_thousands_and_keeps_cents() {
        assert_eq!(Fen(0).to_string(), "¥0.00");
        assert_eq!(Fen(5).to_string(), "¥0.05");
        assert_eq!(Fen(123_456_789).to_string(), "¥1,234,567.89");
        assert_eq!(Fen(-100_000).to_string(), "-¥1,000.00");
    }

    #[test]
    fn fen_arithmetic_refuses_to_wrap() {
        assert_eq!(Fen(i64::MAX).checked_add(Fen(1)), None);
        assert_eq!(Fen(i64::MIN).checked_sub(Fen(1)), None);
        assert_eq!(Fen(5).checked_add(Fen(7)), Some(Fen(12)));
        let wrapped = std::panic::catch_unwind(|| Fen(i64::MAX) + Fen(1));
        assert!(wrapped.is_err(), "an overflowing sum must stop, not wrap");
        let summed = std::panic::catch_unwind(|| [Fen(i64::MAX), Fen(1)].into_iter().sum::<Fen>());
        assert!(summed.is_err());
    }

    #[test]
    fn share_rounds_half_up() {
        assert_eq!(share_bp(1, 3), 3333);
        assert_eq!(share_bp(2, 3), 6667);
        assert_eq!(share_bp(5, 0), 0);
        assert_eq!(fmt_bp(1234), "12.34%");
    }
}
