//! One session's watch time per viewer ([`WatchTimes`]): the milliseconds of every stay
//! that has ended, summed per user.
//!
//! There is one entry per (session, viewer) pair — the largest table of a festival's state
//! — so each session keeps its own, four bytes a value: a single map keyed by the pair, with
//! a 64-bit value, spent sixteen bytes an entry, and at tens of millions of pairs its
//! doubling held both tables at once. A watch time of 2³² − 1 ms (49.7 days) or more cannot
//! be a four-byte value; such a viewer moves to a second map of 64-bit values, so every
//! time stays exact whatever the stays' timestamps.
//!
//! Serialised as a map from user to milliseconds (memory order, like the state's other
//! maps); the digest and the checks see the same pairs whichever map holds them.

use crate::hash::Map;
use crate::small_map::SmallMap;
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Watch time (ms) per user of one session.
#[derive(Debug, Clone, Default)]
pub struct WatchTimes {
    /// Times below `u32::MAX` ms.
    small: SmallMap<u32, u32>,
    /// Times of `u32::MAX` ms or more; no user is in both maps. Boxed: almost every
    /// session has none.
    large: Option<Box<Map<u32, i64>>>,
}

impl WatchTimes {
    /// The watch time of `user`, 0 if the user never finished a stay.
    pub fn get(&self, user: u32) -> i64 {
        match self.small.get(&user) {
            Some(&ms) => i64::from(ms),
            None => self.large.as_ref().and_then(|l| l.get(&user)).copied().unwrap_or(0),
        }
    }

    /// Adds a stay of `stay_ms` (≥ 0; the caller bounds every sum within `i64`).
    pub fn add(&mut self, user: u32, stay_ms: i64) {
        if let Some(l) = self.large.as_mut().and_then(|l| l.get_mut(&user)) {
            *l += stay_ms;
            return;
        }
        let sum = i64::from(self.small.get(&user).copied().unwrap_or(0)) + stay_ms;
        match u32::try_from(sum) {
            Ok(ms) if ms < u32::MAX => {
                self.small.insert(user, ms);
            }
            _ => {
                self.small.remove(&user);
                self.large.get_or_insert_with(Default::default).insert(user, sum);
            }
        }
    }

    /// Every (user, ms), in memory order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, i64)> + '_ {
        let large = self.large.iter().flat_map(|l| l.iter().map(|(&u, &ms)| (u, ms)));
        self.small.iter().map(|(&u, &ms)| (u, i64::from(ms))).chain(large)
    }

    /// Users with a watch time.
    pub fn len(&self) -> usize {
        self.small.len() + self.large.as_ref().map_or(0, |l| l.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn set(&mut self, user: u32, ms: i64) {
        self.small.remove(&user);
        if let Some(l) = self.large.as_mut() {
            l.remove(&user);
        }
        self.add(user, ms);
    }
}

impl PartialEq for WatchTimes {
    fn eq(&self, other: &WatchTimes) -> bool {
        self.len() == other.len() && self.iter().all(|(u, ms)| other.get(u) == ms)
    }
}

impl Eq for WatchTimes {}

impl Serialize for WatchTimes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.len()))?;
        for (u, ms) in self.iter() {
            m.serialize_entry(&u, &ms)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for WatchTimes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<WatchTimes, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = WatchTimes;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map from user index to watch time in ms")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<WatchTimes, A::Error> {
                let mut w = WatchTimes::default();
                while let Some((u, ms)) = a.next_entry::<u32, i64>()? {
                    if !(0..=crate::limits::TOTAL).contains(&ms) {
                        return Err(serde::de::Error::custom(format!("watch time {ms} ms is out of range")));
                    }
                    w.set(u, ms);
                }
                Ok(w)
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the stays, each user's time is the exact sum of theirs, on either side
        /// of the four-byte boundary, and survives a round trip through postcard.
        #[test]
        fn times_are_exact_sums(stays in prop::collection::vec((0u32..6, 0i64..=(u32::MAX as i64)), 0..60)) {
            let mut w = WatchTimes::default();
            let mut want = std::collections::BTreeMap::<u32, i64>::new();
            for &(u, ms) in &stays {
                w.add(u, ms);
                *want.entry(u).or_default() += ms;
            }
            prop_assert_eq!(w.len(), want.len());
            for (&u, &ms) in &want {
                prop_assert_eq!(w.get(u), ms);
            }
            let mut got: Vec<(u32, i64)> = w.iter().collect();
            got.sort_unstable();
            prop_assert_eq!(got, want.into_iter().collect::<Vec<_>>());
            let back: WatchTimes = postcard::from_bytes(&postcard::to_allocvec(&w).unwrap()).unwrap();
            prop_assert_eq!(back, w);
        }
    }

    #[test]
    fn a_time_at_the_boundary_is_kept_whole() {
        let mut w = WatchTimes::default();
        w.add(7, i64::from(u32::MAX) - 1);
        assert!(w.large.is_none());
        w.add(7, 1);
        assert_eq!(w.get(7), i64::from(u32::MAX));
        assert!(w.small.is_empty());
        w.add(7, 5);
        assert_eq!(w.get(7), i64::from(u32::MAX) + 5);
        assert_eq!(w.len(), 1);
    }
}
