//! Interning: string ids to dense `u32` indexes in first-seen order (so deterministic).
//! A leaf module: the state's tables, the marketing tools and the races all index by it.

use crate::hash::{Map as HashMap, Seed};
use serde::de::{SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// Interns string ids to dense indexes, in first-seen order (so deterministic).
/// Serialised as its list of names; the index is rebuilt on load.
///
/// The names sit end to end in one string, and the index maps a seeded 64-bit hash of a
/// name to its number: the state interns every user, millions of them, and a map from
/// heap strings kept each name twice (in the map and in the list, about sixty bytes a
/// user with their allocations) where this keeps it once, beside twelve bytes of index.
/// Two names with the same hash are possible, if unlikely: the later one is kept in a
/// small map by name, which every lookup that misses consults, so answers never depend
/// on where a name was put.
///
/// It remembers the last index it found or made: one command names its user several
/// times over — its decision, the capacity check, the apply, the contests — and in a table
/// of millions each hash lookup is a cache miss or two, where comparing with the last name
/// is one short compare. A cache only (an atomic, so shared readers may race on it
/// harmlessly): every answer is the index's.
#[derive(Debug, Default)]
pub struct Interner {
    text: String,
    /// `ends[i]`: where name `i` ends in `text` (it starts where name `i - 1` ends).
    ends: Vec<u64>,
    by_hash: HashMap<u64, u32>,
    collided: HashMap<Box<str>, u32>,
    seed: Seed,
    last: AtomicU32,
}

impl Clone for Interner {
    fn clone(&self) -> Self {
        Interner {
            text: self.text.clone(),
            ends: self.ends.clone(),
            by_hash: self.by_hash.clone(),
            collided: self.collided.clone(),
            seed: self.seed.clone(),
            last: AtomicU32::new(self.last.load(Relaxed)),
        }
    }
}

impl Interner {
    fn hash(&self, s: &str) -> u64 {
        self.seed.hash_one(s)
    }

    /// The last index found or made, when it is `s`'s.
    fn recent(&self, s: &str) -> Option<u32> {
        let i = self.last.load(Relaxed);
        ((i as usize) < self.ends.len() && self.name(i) == s).then_some(i)
    }

    fn find(&self, s: &str, h: u64) -> Option<u32> {
        match self.by_hash.get(&h) {
            Some(&i) if self.name(i) == s => Some(i),
            Some(_) => self.collided.get(s).copied(),
            None => None,
        }
    }

    pub fn get(&self, s: &str) -> Option<u32> {
        if let Some(i) = self.recent(s) {
            return Some(i);
        }
        let i = self.find(s, self.hash(s))?;
        self.last.store(i, Relaxed);
        Some(i)
    }

    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(i) = self.recent(s) {
            return i;
        }
        let h = self.hash(s);
        if let Some(i) = self.find(s, h) {
            self.last.store(i, Relaxed);
            return i;
        }
        let i = self.push(s, h);
        self.last.store(i, Relaxed);
        i
    }

    /// Adds `s`, which is not here yet, with hash `h`.
    fn push(&mut self, s: &str, h: u64) -> u32 {
        let i = self.ends.len() as u32;
        self.text.push_str(s);
        self.ends.push(self.text.len() as u64);
        if self.by_hash.contains_key(&h) {
            self.collided.insert(s.into(), i);
        } else {
            self.by_hash.insert(h, i);
        }
        i
    }

    pub fn name(&self, i: u32) -> &str {
        let i = i as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The names, in index order.
    pub fn names(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.ends.len() as u32).map(|i| self.name(i))
    }
}

/// An optional index into one of the state's tables in four bytes, where an
/// `Option<u32>` takes eight: `u32::MAX` stands for none. Every table is capped far below
/// 2³² − 1 entries ([`crate::limits`], `[capacity]`), so no index is ever `u32::MAX`.
/// Serialised as an `Option<u32>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct OptIdx(u32);

impl OptIdx {
    pub const NONE: OptIdx = OptIdx(u32::MAX);

    pub fn new(i: Option<u32>) -> OptIdx {
        match i {
            Some(i) => {
                assert_ne!(i, u32::MAX, "no table holds 2^32 - 1 entries");
                OptIdx(i)
            }
            None => OptIdx::NONE,
        }
    }

    pub fn get(self) -> Option<u32> {
        (self.0 != u32::MAX).then_some(self.0)
    }

    pub fn is_some(self) -> bool {
        self.0 != u32::MAX
    }
}

impl std::fmt::Debug for OptIdx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

impl Serialize for OptIdx {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.get().serialize(s)
    }
}

impl<'de> Deserialize<'de> for OptIdx {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<OptIdx, D::Error> {
        match Option::<u32>::deserialize(d)? {
            Some(u32::MAX) => Err(serde::de::Error::custom("index 4294967295 is past every table")),
            i => Ok(OptIdx::new(i)),
        }
    }
}

impl Serialize for Interner {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.names())
    }
}

impl<'de> Deserialize<'de> for Interner {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Interner, D::Error> {
        struct Names;
        impl<'de> Visitor<'de> for Names {
            type Value = Interner;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sequence of names")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Interner, A::Error> {
                let mut ids = Interner::default();
                let n = seq.size_hint().unwrap_or(0);
                ids.ends.reserve_exact(n);
                ids.by_hash.reserve(n);
                while let Some(name) = seq.next_element::<String>()? {
                    let h = ids.hash(&name);
                    if ids.find(&name, h).is_some() {
                        return Err(serde::de::Error::custom(format!("duplicate interned id `{name}`")));
                    }
                    ids.push(&name, h);
                }
                Ok(ids)
            }
        }
        d.deserialize_seq(Names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// With the remembered index in the way, every answer is still the first-seen
        /// index of that name, or none for a name never interned — also after a clone and
        /// a round trip through the snapshot encoding.
        #[test]
        fn answers_are_the_first_seen_indexes(ops in proptest::collection::vec((any::<bool>(), 0u8..12), 0..200)) {
            let mut ids = Interner::default();
            let mut reference: Vec<String> = Vec::new();
            for (make, n) in ops {
                let name = format!("u{n}");
                let want = reference.iter().position(|x| *x == name).map(|i| i as u32);
                if make {
                    let i = ids.intern(&name);
                    prop_assert_eq!(i, want.unwrap_or(reference.len() as u32));
                    if want.is_none() {
                        reference.push(name.clone());
                    }
                } else {
                    prop_assert_eq!(ids.get(&name), want);
                }
                let copy = ids.clone();
                prop_assert_eq!(copy.get(&name), ids.get(&name));
            }
            let back: Interner = postcard::from_bytes(&postcard::to_stdvec(&ids).unwrap()).unwrap();
            for (i, n) in reference.iter().enumerate() {
                prop_assert_eq!(back.get(n), Some(i as u32));
                prop_assert_eq!(back.name(i as u32), n.as_str());
            }
            prop_assert_eq!(back.get("absent"), None);
        }
    }

    /// Two names with one hash: the later is found through the map by name, both before
    /// and after a round trip, and a duplicate in a snapshot is refused.
    #[test]
    fn a_hash_collision_changes_no_answer() {
        let mut ids = Interner::default();
        assert_eq!(ids.intern("a"), 0);
        // Make "b"'s hash look taken by "a", as a true collision would.
        let hb = ids.hash("b");
        ids.by_hash.insert(hb, 0);
        assert_eq!(ids.get("b"), None);
        assert_eq!(ids.intern("b"), 1);
        assert_eq!(ids.collided.len(), 1);
        assert_eq!(ids.intern("c"), 2);
        ids.last.store(2, Relaxed);
        assert_eq!((ids.get("a"), ids.get("b"), ids.get("c"), ids.get("d")), (Some(0), Some(1), Some(2), None));
        assert_eq!(ids.intern("b"), 1);
        assert_eq!(ids.names().collect::<Vec<_>>(), ["a", "b", "c"]);
        let bytes = postcard::to_stdvec(&ids).unwrap();
        assert_eq!(bytes, postcard::to_stdvec(&vec!["a", "b", "c"]).unwrap());
        let back: Interner = postcard::from_bytes(&bytes).unwrap();
        assert_eq!((back.get("a"), back.get("b"), back.get("c")), (Some(0), Some(1), Some(2)));
        let dup = postcard::to_stdvec(&vec!["a", "b", "a"]).unwrap();
        assert!(postcard::from_bytes::<Interner>(&dup).is_err());
    }
}
