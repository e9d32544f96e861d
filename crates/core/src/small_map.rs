//! A map for tables kept per session, millions of small ones ([`SmallMap`]): a sorted
//! vector of pairs up to [`SMALL_MAX`] entries, a seeded hash map beyond.
//!
//! A hash map spends a control byte on every bucket and keeps between an eighth and a
//! half of its buckets empty, plus its table's header; for a session's few dozen viewers
//! or products that was most of their memory. A sorted vector costs the pairs themselves
//! (grown by half when full) and finds a key by binary search. Past `SMALL_MAX` entries an
//! insert would move too much, so the map becomes a hash map for good.
//!
//! Iteration is ascending by key while small and in memory order once large: callers
//! treat the order as unknown, as with any of the state's maps. Serialised as a map, the
//! same encoding the hash map had.

use crate::hash::Map;
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::hash::Hash;
use std::marker::PhantomData;

/// The most entries a map keeps as a sorted vector. An insert into the vector moves at
/// most this many entries.
pub const SMALL_MAX: usize = 1024;

#[derive(Debug)]
pub enum SmallMap<K, V> {
    /// Ascending by key, at most [`SMALL_MAX`] entries.
    Small(Vec<(K, V)>),
    /// Boxed: a hash map's header is several words, and almost every map is small.
    Large(Box<Map<K, V>>),
}

impl<K: Clone + Hash + Eq, V: Clone> Clone for SmallMap<K, V> {
    fn clone(&self) -> SmallMap<K, V> {
        match self {
            SmallMap::Small(v) => SmallMap::Small(v.clone()),
            SmallMap::Large(m) => SmallMap::Large(m.clone()),
        }
    }
}

impl<K, V> Default for SmallMap<K, V> {
    fn default() -> SmallMap<K, V> {
        SmallMap::Small(Vec::new())
    }
}

impl<K: Ord + Hash + Copy, V> SmallMap<K, V> {
    pub fn get(&self, k: &K) -> Option<&V> {
        match self {
            SmallMap::Small(v) => v.binary_search_by(|(x, _)| x.cmp(k)).ok().map(|i| &v[i].1),
            SmallMap::Large(m) => m.get(k),
        }
    }

    pub fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        match self {
            SmallMap::Small(v) => v.binary_search_by(|(x, _)| x.cmp(k)).ok().map(|i| &mut v[i].1),
            SmallMap::Large(m) => m.get_mut(k),
        }
    }

    pub fn contains_key(&self, k: &K) -> bool {
        self.get(k).is_some()
    }

    /// The value of `k`, inserted as `make()` first if absent.
    pub fn get_or_insert_with(&mut self, k: K, make: impl FnOnce() -> V) -> &mut V {
        if let SmallMap::Small(v) = self {
            if v.len() >= SMALL_MAX && v.binary_search_by(|(x, _)| x.cmp(&k)).is_err() {
                let m: Map<K, V> = std::mem::take(v).into_iter().collect();
                *self = SmallMap::Large(Box::new(m));
            }
        }
        match self {
            SmallMap::Small(v) => {
                let at = match v.binary_search_by(|(x, _)| x.cmp(&k)) {
                    Ok(at) => at,
                    Err(at) => {
                        grow(v);
                        v.insert(at, (k, make()));
                        at
                    }
                };
                &mut v[at].1
            }
            SmallMap::Large(m) => m.entry(k).or_insert_with(make),
        }
    }

    /// Sets `k` to `value`, returning the value it had.
    pub fn insert(&mut self, k: K, value: V) -> Option<V> {
        let mut value = Some(value);
        let slot = self.get_or_insert_with(k, || value.take().expect("taken once"));
        value.map(|v| std::mem::replace(slot, v))
    }

    pub fn remove(&mut self, k: &K) -> Option<V> {
        match self {
            SmallMap::Small(v) => v.binary_search_by(|(x, _)| x.cmp(k)).ok().map(|i| v.remove(i).1),
            SmallMap::Large(m) => m.remove(k),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            SmallMap::Small(v) => v.len(),
            SmallMap::Large(m) => m.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn iter(&self) -> Iter<'_, K, V> {
        match self {
            SmallMap::Small(v) => Iter::Small(v.iter()),
            SmallMap::Large(m) => Iter::Large(m.iter()),
        }
    }

    pub fn values(&self) -> impl Iterator<Item = &V> + '_ {
        self.iter().map(|(_, v)| v)
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> + '_ {
        self.iter().map(|(k, _)| k)
    }

    /// Every entry, by value (the map is consumed).
    pub fn into_pairs(self) -> Box<dyn Iterator<Item = (K, V)>>
    where
        K: 'static,
        V: 'static,
    {
        match self {
            SmallMap::Small(v) => Box::new(v.into_iter()),
            SmallMap::Large(m) => Box::new(m.into_iter()),
        }
    }
}

impl<K: Ord + Hash + Copy, V: Default> SmallMap<K, V> {
    /// The value of `k`, inserted as the default first if absent.
    pub fn get_or_default(&mut self, k: K) -> &mut V {
        self.get_or_insert_with(k, V::default)
    }
}

/// Room for more in a full vector: by half, at least four, so a map of a few dozen
/// entries wastes a few rather than up to as many as it holds.
fn grow<T>(v: &mut Vec<T>) {
    if v.len() == v.capacity() {
        v.reserve_exact((v.len() / 2).max(4));
    }
}

pub enum Iter<'a, K, V> {
    Small(std::slice::Iter<'a, (K, V)>),
    Large(griddle::hash_map::Iter<'a, K, V>),
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);
    fn next(&mut self) -> Option<(&'a K, &'a V)> {
        match self {
            Iter::Small(i) => i.next().map(|(k, v)| (k, v)),
            Iter::Large(i) => i.next(),
        }
    }
}

impl<'a, K: Ord + Hash + Copy, V> IntoIterator for &'a SmallMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;
    fn into_iter(self) -> Iter<'a, K, V> {
        self.iter()
    }
}

impl<K: Ord + Hash + Copy, V: PartialEq> PartialEq for SmallMap<K, V> {
    fn eq(&self, other: &SmallMap<K, V>) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl<K: Ord + Hash + Copy, V: Eq> Eq for SmallMap<K, V> {}

impl<K: Ord + Hash + Copy, V> std::ops::Index<&K> for SmallMap<K, V> {
    type Output = V;
    fn index(&self, k: &K) -> &V {
        self.get(k).expect("key present in the map")
    }
}

impl<K: Serialize + Ord + Hash + Copy, V: Serialize> Serialize for SmallMap<K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter() {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de, K: Deserialize<'de> + Ord + Hash + Copy, V: Deserialize<'de>> Deserialize<'de> for SmallMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<SmallMap<K, V>, D::Error> {
        struct V2<K, V>(PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de> + Ord + Hash + Copy, V: Deserialize<'de>> Visitor<'de> for V2<K, V> {
            type Value = SmallMap<K, V>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<SmallMap<K, V>, A::Error> {
                let mut pairs: Vec<(K, V)> = Vec::with_capacity(a.size_hint().unwrap_or(0).min(SMALL_MAX));
                while let Some(kv) = a.next_entry::<K, V>()? {
                    pairs.push(kv);
                }
                // A repeated key keeps its last value, as inserting into a map would.
                pairs.reverse();
                pairs.sort_by_key(|x| x.0);
                pairs.dedup_by(|later, kept| later.0 == kept.0);
                if pairs.len() <= SMALL_MAX {
                    pairs.shrink_to_fit();
                    Ok(SmallMap::Small(pairs))
                } else {
                    Ok(SmallMap::Large(Box::new(pairs.into_iter().collect())))
                }
            }
        }
        d.deserialize_map(V2(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    proptest! {
        /// Whatever the inserts, updates and removals, on either side of the threshold, the
        /// map holds what a BTreeMap holds, and survives a round trip through postcard.
        #[test]
        fn it_is_a_map(ops in prop::collection::vec((0u8..4, 0u32..3000, any::<u16>()), 0..4000)) {
            let mut m: SmallMap<u32, u16> = SmallMap::default();
            let mut want = BTreeMap::new();
            for &(op, k, v) in &ops {
                match op {
                    0 | 1 => prop_assert_eq!(m.insert(k, v), want.insert(k, v)),
                    2 => {
                        *m.get_or_default(k) = v;
                        want.entry(k).or_insert(v);
                        want.insert(k, v);
                    }
                    _ => prop_assert_eq!(m.remove(&k), want.remove(&k)),
                }
            }
            prop_assert_eq!(m.len(), want.len());
            let mut got: Vec<(u32, u16)> = m.iter().map(|(&k, &v)| (k, v)).collect();
            got.sort_unstable();
            prop_assert_eq!(&got, &want.iter().map(|(&k, &v)| (k, v)).collect::<Vec<_>>());
            for (k, v) in &want {
                prop_assert_eq!(m.get(k), Some(v));
            }
            let back: SmallMap<u32, u16> = postcard::from_bytes(&postcard::to_allocvec(&m).unwrap()).unwrap();
            prop_assert_eq!(back, m);
        }
    }

    #[test]
    fn past_the_threshold_it_becomes_a_hash_map() {
        let mut m: SmallMap<u32, u32> = SmallMap::default();
        for k in (0..=SMALL_MAX as u32).rev() {
            m.insert(k, k * 2);
        }
        assert!(matches!(m, SmallMap::Large(_)));
        assert_eq!(m.len(), SMALL_MAX + 1);
        assert_eq!(m[&7], 14);
    }
}
