//! Interning: string ids to dense `u32` indexes in first-seen order (so deterministic).
//! A leaf module: the state's tables, the marketing tools and the races all index by it.

use crate::hash::Map as HashMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// Interns string ids to dense indexes, in first-seen order (so deterministic).
/// Serialised as its list of names; the map is rebuilt on load.
///
/// It remembers the last index it found or made: one command names its user several
/// times over — its decision, the capacity check, the apply, the contests — and in a table
/// of millions each hash lookup is a cache miss or two, where comparing with the last name
/// is one short compare. A cache only (an atomic, so shared readers may race on it
/// harmlessly): every answer is the map's.
#[derive(Debug, Default)]
pub struct Interner {
    map: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
    last: AtomicU32,
}

impl Clone for Interner {
    fn clone(&self) -> Self {
        Interner { map: self.map.clone(), names: self.names.clone(), last: AtomicU32::new(self.last.load(Relaxed)) }
    }
}

impl Interner {
    /// The last index found or made, when it is `s`'s.
    fn recent(&self, s: &str) -> Option<u32> {
        let i = self.last.load(Relaxed);
        self.names.get(i as usize).filter(|n| ***n == *s).map(|_| i)
    }

    pub fn get(&self, s: &str) -> Option<u32> {
        if let Some(i) = self.recent(s) {
            return Some(i);
        }
        let i = self.map.get(s).copied()?;
        self.last.store(i, Relaxed);
        Some(i)
    }

    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(i) = self.get(s) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(s.into());
        self.map.insert(s.into(), i);
        self.last.store(i, Relaxed);
        i
    }

    pub fn name(&self, i: u32) -> &str {
        &self.names[i as usize]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

impl Serialize for Interner {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.names.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Interner {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Interner, D::Error> {
        let names: Vec<Box<str>> = Vec::deserialize(d)?;
        let mut map = HashMap::with_capacity_and_hasher(names.len(), Default::default());
        for (i, n) in names.iter().enumerate() {
            if map.insert(n.clone(), i as u32).is_some() {
                return Err(serde::de::Error::custom(format!("duplicate interned id `{n}`")));
            }
        }
        Ok(Interner { map, names, last: AtomicU32::new(0) })
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
}
