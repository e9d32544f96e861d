//! The command ids seen so far, each with its command type: what makes a resent command
//! recognisable (docs/commands.md#ids-and-idempotency).
//!
//! Most producers number their commands (`x1`, `x2`, … or `v1`, `v2`, …), and a festival
//! holds tens of millions of them, so an id that is a prefix followed by a canonical
//! decimal number is kept as one byte in a dense table per prefix, instead of a heap
//! string in a hash map (about 60 bytes). Any other id — or a number too far beyond what
//! its prefix has used so far — goes to the general map. Both are consulted on every
//! lookup, so where an id was put never changes the answer.

use crate::hash::Map as HashMap;
use rustc_hash::FxHasher;
use serde::{Deserialize, Serialize};
use std::hash::{BuildHasher, BuildHasherDefault};

/// A dense table may grow to twice its entries plus this, so a producer that numbers from
/// 0 or 1 stays dense while scattered numbers cannot make it allocate much per id.
const DENSE_SLACK: u64 = 64;

/// Digits of the largest canonical number kept densely (below 10^18, well inside u64).
const MAX_DIGITS: usize = 18;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Dense {
    /// `types[n]` is the command type + 1 of id prefix ‖ n, or 0 when unused.
    types: Vec<u8>,
    used: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CommandIds {
    dense: HashMap<Box<str>, Dense>,
    other: HashMap<Box<str>, u8>,
}

/// Splits `id` into a prefix and a canonical decimal number: at least one digit at the
/// end, no leading zero unless the number is 0, at most `MAX_DIGITS` digits.
fn split(id: &str) -> Option<(&str, u64)> {
    let digits = id.bytes().rev().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > MAX_DIGITS {
        return None;
    }
    let (prefix, num) = id.split_at(id.len() - digits);
    if num.len() > 1 && num.starts_with('0') {
        return None;
    }
    Some((prefix, num.parse().ok()?))
}

impl CommandIds {
    /// The command type that used `id`, if any.
    pub fn get(&self, id: &str) -> Option<u8> {
        if let Some((prefix, n)) = split(id) {
            let hit = self.dense.get(prefix).and_then(|d| d.types.get(n as usize)).copied().unwrap_or(0);
            if hit != 0 {
                return Some(hit - 1);
            }
        }
        self.other.get(id).copied()
    }

    /// Records that a command of type `ty` used `id` (again: no change).
    pub fn insert(&mut self, id: &str, ty: u8) {
        if self.get(id).is_some() {
            return;
        }
        if let Some((prefix, n)) = split(id) {
            let d = match self.dense.get_mut(prefix) {
                Some(d) => d,
                None if n < DENSE_SLACK => self.dense.entry(prefix.into()).or_default(),
                None => return self.insert_other(id, ty),
            };
            if n < 2 * d.used + DENSE_SLACK && ty < u8::MAX {
                let i = n as usize;
                if i >= d.types.len() {
                    d.types.resize(i + 1, 0);
                }
                d.types[i] = ty + 1;
                d.used += 1;
                return;
            }
        }
        self.insert_other(id, ty);
    }

    fn insert_other(&mut self, id: &str, ty: u8) {
        self.other.insert(id.into(), ty);
    }

    pub fn len(&self) -> u64 {
        self.dense.values().map(|d| d.used).sum::<u64>() + self.other.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f` with every (id, type), in no particular order.
    pub fn for_each(&self, mut f: impl FnMut(&str, u8)) {
        let mut buf = String::new();
        for (prefix, d) in &self.dense {
            for (n, &t) in d.types.iter().enumerate() {
                if t != 0 {
                    use std::fmt::Write;
                    buf.clear();
                    buf.push_str(prefix);
                    let _ = write!(buf, "{n}");
                    f(&buf, t - 1);
                }
            }
        }
        for (id, &t) in &self.other {
            f(id, t);
        }
    }

    /// What `insert` keeps, for a store read from a snapshot (crate::check): every type
    /// below `types`; each dense table's `used` equal to its entries and its length
    /// within `2 × used + DENSE_SLACK`; no dense prefix ending in a digit (`split` never
    /// gives one).
    pub(crate) fn check(&self, types: usize) -> Result<(), String> {
        for (prefix, d) in &self.dense {
            if prefix.ends_with(|c: char| c.is_ascii_digit()) {
                return Err(format!("dense prefix `{prefix}` ends in a digit"));
            }
            let mut used = 0u64;
            for &t in &d.types {
                if t != 0 && t as usize > types {
                    return Err(format!("prefix `{prefix}`: command type {} of {types}", t - 1));
                }
                used += u64::from(t != 0);
            }
            if used != d.used || d.types.len() as u64 > 2 * used + DENSE_SLACK {
                return Err(format!(
                    "prefix `{prefix}`: {used} ids in {} slots, recorded as {}",
                    d.types.len(),
                    d.used
                ));
            }
        }
        match self.other.iter().find(|(_, &t)| t as usize >= types) {
            Some((id, t)) => Err(format!("id `{id}`: command type {t} of {types}")),
            None => Ok(()),
        }
    }

    /// An order-independent fingerprint of the (id, type) pairs, the same however they
    /// are stored: (count, wrapping sum of each pair's FxHash).
    pub fn fingerprint(&self) -> (u64, u64) {
        let b = BuildHasherDefault::<FxHasher>::default();
        let (mut n, mut sum) = (0u64, 0u64);
        self.for_each(|id, t| {
            n += 1;
            sum = sum.wrapping_add(b.hash_one((id, t)));
        });
        (n, sum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn numbered_ids_are_dense_and_others_are_kept_whole() {
        let mut ids = CommandIds::default();
        for n in 1..=10_000u64 {
            ids.insert(&format!("v{n}"), (n % 3) as u8);
        }
        ids.insert("order-7-a", 5);
        ids.insert("v007", 6); // a leading zero: not the same id as v7
        ids.insert("w99999999999", 7); // far beyond what prefix w used
        assert_eq!(ids.get("v7"), Some(1));
        assert_eq!(ids.get("v007"), Some(6));
        assert_eq!(ids.get("v0"), None);
        assert_eq!(ids.get("v10001"), None);
        assert_eq!(ids.get("order-7-a"), Some(5));
        assert_eq!(ids.get("w99999999999"), Some(7));
        assert_eq!(ids.dense["v"].types.len(), 10_001);
        assert_eq!(ids.other.len(), 3);
        assert_eq!(ids.len(), 10_003);
    }

    proptest! {
        /// Whatever the ids and their order, the store answers as a plain map would, and
        /// its fingerprint depends only on the set.
        #[test]
        fn the_store_agrees_with_a_plain_map(
            raw in proptest::collection::vec(("[a-c]{0,2}", 0u64..300, any::<bool>(), 0u8..40), 0..300)
        ) {
            let mut ids = CommandIds::default();
            let mut plain = std::collections::HashMap::new();
            for (prefix, n, zero, ty) in &raw {
                let id = if *zero { format!("{prefix}0{n}") } else { format!("{prefix}{n}") };
                ids.insert(&id, *ty);
                plain.entry(id).or_insert(*ty);
            }
            prop_assert_eq!(ids.len(), plain.len() as u64);
            for (id, ty) in &plain {
                prop_assert_eq!(ids.get(id), Some(*ty));
            }
            let mut rebuilt = CommandIds::default();
            let mut all: Vec<_> = plain.iter().collect();
            all.sort();
            for (id, ty) in all.into_iter().rev() {
                rebuilt.insert_other(id, *ty);
            }
            prop_assert_eq!(ids.fingerprint(), rebuilt.fingerprint());
        }
    }
}
