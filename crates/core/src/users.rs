//! Sets of interned users ([`UserSet`]): a session's distinct viewers, the distinct buyers
//! of every running total.
//!
//! A user is a dense index ([`crate::intern`]). Most sets are small — a session's handful
//! of buyers, an entrant's distinct buyers — and their members are scattered over the
//! whole range of users, where a compressed bitmap spends a container and an allocation
//! (about fifty bytes) on each: such a set is a sorted vector, four bytes a member. Past
//! [`SMALL_MAX`] members it becomes a compressed bitmap (roaring): about two bytes a member
//! while a 65,536-user range holds few, one bit a user in that range once it holds many,
//! which is what the festival total and each day, counting nearly every buyer, need.
//! Iteration is in ascending user order, so nothing here depends on a seed.
//!
//! Serialised as the sequence of its members, ascending, whichever form it has: the same
//! encoding a hash set of `u32` had, so snapshots keep their format.

use serde::de::{SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The most members a set keeps as a sorted vector; one more and it becomes a bitmap. An
/// insert into the vector moves at most this many members (16 KiB).
pub const SMALL_MAX: usize = 4096;

/// A set of user indexes.
#[derive(Debug, Clone)]
pub enum UserSet {
    /// Ascending, at most [`SMALL_MAX`] members.
    Small(Vec<u32>),
    Large(roaring::RoaringBitmap),
}

impl Default for UserSet {
    fn default() -> UserSet {
        UserSet::Small(Vec::new())
    }
}

impl PartialEq for UserSet {
    fn eq(&self, other: &UserSet) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for UserSet {}

impl UserSet {
    /// Adds `user`; whether it was new.
    pub fn insert(&mut self, user: u32) -> bool {
        let v = match self {
            UserSet::Large(b) => return b.insert(user),
            UserSet::Small(v) => v,
        };
        let Err(at) = v.binary_search(&user) else { return false };
        if v.len() < SMALL_MAX {
            // Room for one more at a time while small: most sets stay at a few members.
            if v.len() == v.capacity() && v.len() < 8 {
                v.reserve_exact(1);
            }
            v.insert(at, user);
        } else {
            let mut b: roaring::RoaringBitmap = v.iter().copied().collect();
            b.insert(user);
            *self = UserSet::Large(b);
        }
        true
    }

    pub fn contains(&self, user: u32) -> bool {
        match self {
            UserSet::Small(v) => v.binary_search(&user).is_ok(),
            UserSet::Large(b) => b.contains(user),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            UserSet::Small(v) => v.len(),
            // A set of u32 has at most 2^32 members, which fits a 64-bit usize.
            UserSet::Large(b) => b.len() as usize,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The members, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        let (small, large) = match self {
            UserSet::Small(v) => (Some(v.iter().copied()), None),
            UserSet::Large(b) => (None, Some(b.iter())),
        };
        small.into_iter().flatten().chain(large.into_iter().flatten())
    }
}

impl FromIterator<u32> for UserSet {
    fn from_iter<I: IntoIterator<Item = u32>>(iter: I) -> Self {
        let mut set = UserSet::default();
        for u in iter {
            set.insert(u);
        }
        set
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
        fn behaves_as_a_set(users in proptest::collection::vec(prop_oneof![0u32..200, 0u32..3_000_000, any::<u32>()], 0..400), more in 0usize..2 * SMALL_MAX) {
            let mut set = UserSet::default();
            let mut reference = std::collections::BTreeSet::new();
            // Sometimes enough members to cross from a vector to a bitmap midway.
            let spread = (0..more as u32).map(|i| i.wrapping_mul(2_654_435_761) % 5_000_000);
            for u in users.iter().copied().chain(spread).chain(users.iter().map(|u| u ^ 1)) {
                prop_assert_eq!(set.insert(u), reference.insert(u));
                prop_assert_eq!(matches!(set, UserSet::Large(_)), reference.len() > SMALL_MAX);
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
