//! Interning: string ids to dense `u32` indexes in first-seen order (so deterministic).
//! A leaf module: the state's tables, the marketing tools and the races all index by it.

use crate::hash::Map as HashMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Interns string ids to dense indexes, in first-seen order (so deterministic).
/// Serialised as its list of names; the map is rebuilt on load.
#[derive(Debug, Default, Clone)]
pub struct Interner {
    map: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl Interner {
    pub fn get(&self, s: &str) -> Option<u32> {
        self.map.get(s).copied()
    }

    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.map.get(s) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(s.into());
        self.map.insert(s.into(), i);
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
        Ok(Interner { map, names })
    }
}
