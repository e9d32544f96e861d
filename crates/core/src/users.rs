//! Sets of interned users ([`UserSet`]): a session's distinct viewers, the distinct buyers
//! of every running total.
//!
//! A user is a dense index ([`crate::intern`]), so a set of them is a compressed bitmap
//! (roaring): about two bytes a member while a 65,536-user range holds few, one bit a
//! user in that range once it holds many. The festival total and each day count nearly
//! every buyer, where a hash set spent about five bytes a member and a cache miss an
//! insert; a session with a handful of buyers stays a short sorted array. Iteration is in
//! ascending user order, so nothing here depends on a seed.
//!
//! Serialised as the sequence of its members, ascending: the same encoding a hash set of
//! `u32` had, so snapshots keep their format.

use serde::de::{SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A set of user indexes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserSet(roaring::RoaringBitmap);

impl UserSet {
    /// Adds `user`; whether it was new.
    pub fn insert(&mut self, user: u32) -> bool {
        self.0.insert(user)
    }

    pub fn contains(&self, user: u32) -> bool {
        self.0.contains(user)
    }

    pub fn len(&self) -> usize {
        // A set of u32 has at most 2^32 members, which fits a 64-bit usize.
        self.0.len() as usize
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The members, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter()
    }
}

impl FromIterator<u32> for UserSet {
    fn from_iter<I: IntoIterator<Item = u32>>(iter: I) -> Self {
        UserSet(iter.into_iter().collect())
    }
}

impl Serialize for UserSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for u in self.iter() {
            seq.serialize_element(&u)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for UserSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> Visitor<'de> for Members {
            type Value = UserSet;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sequence of user indexes")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<UserSet, A::Error> {
                let mut set = UserSet::default();
                while let Some(u) = seq.next_element::<u32>()? {
                    set.insert(u);
                }
                Ok(set)
            }
        }
        d.deserialize_seq(Members)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The same members, count and answers as a hash set fed the same inserts, and a
        /// round trip through the snapshot encoding (postcard) gives the set back.
        #[test]
        fn behaves_as_a_set(users in proptest::collection::vec(prop_oneof![0u32..200, 0u32..3_000_000, any::<u32>()], 0..400)) {
            let mut set = UserSet::default();
            let mut reference = std::collections::BTreeSet::new();
            for &u in &users {
                prop_assert_eq!(set.insert(u), reference.insert(u));
            }
            prop_assert_eq!(set.len(), reference.len());
            prop_assert!(set.iter().eq(reference.iter().copied()));
            for probe in users.iter().map(|u| u.wrapping_add(1)).chain(users.iter().copied()) {
                prop_assert_eq!(set.contains(probe), reference.contains(&probe));
            }
            let bytes = postcard::to_stdvec(&set).unwrap();
            prop_assert_eq!(&bytes, &postcard::to_stdvec(&reference).unwrap());
            prop_assert_eq!(postcard::from_bytes::<UserSet>(&bytes).unwrap(), set);
        }
    }
}
