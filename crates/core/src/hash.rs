//! The hash maps and sets of the engine's state, each with its own random seed.
//!
//! Their keys come from the command stream: ids the client chose (order, refund, SKU and
//! command ids, every interned name) or pairs of the dense indexes those ids were given
//! (coupon × user, session × user…), whose combinations the client also chooses. With an
//! unseeded hash (FxHash) anyone can compute which keys collide and send only those,
//! turning each insert into a scan of the colliding run (hash flooding). A random seed
//! makes the collisions unknowable. foldhash draws it from per-process entropy (the
//! address-space layout and the time at first use, mixed with a per-thread counter for
//! each map), not from the OS random source: enough that nobody can compute colliding
//! keys in advance, since nothing the engine outputs reveals a map's order. (foldhash does
//! not claim to resist an attacker who studies a long-running process's timing.)
//! BENCHMARKS.md measures the cost against FxHash and std's SipHash.
//!
//! The seed is the one exception to "no unseeded randomness in the core", and it is safe
//! for determinism: it only decides where entries sit in memory, never what the engine
//! decides. Every iteration over these maps that reaches an event, a view, the digest or
//! a rejection is sorted first or order-independent (a sum, a count, a max, a filter into
//! a set); the determinism tests compare engines in one process, where every map has its
//! own seed, so an order that leaked would show. Snapshots serialise the maps in memory
//! order, so two snapshots of the same state may differ byte for byte; they decode to the
//! same state and digest.
//!
//! Content hashes that must be reproducible (the digest's order-independent set sums)
//! keep using the fixed FxHash; they are not maps.

// The maps resize incrementally (griddle): a full table moves to its doubled one a few
// entries per insert rather than all at once. The state's maps grow with every new user,
// id and claim, so with all-at-once resizing the insert that crossed a power of two
// stalled the writer for as long as moving the whole table took — tens of milliseconds
// at a few hundred thousand users, and linearly more beyond — and every request in that
// batch waited.

/// A map with a seeded hasher.
pub type Map<K, V> = griddle::HashMap<K, V, Seed>;
/// A set with a seeded hasher.
pub type Set<K> = griddle::HashSet<K, Seed>;
/// The seeded hasher builder: each map draws its own seed when it is made.
pub type Seed = foldhash::fast::RandomState;

#[cfg(test)]
mod tests {
    use super::*;

    /// The determinism tests rely on this: two maps made in one process iterate in
    /// different orders, so an iteration order that reached an event would make two
    /// engines disagree.
    #[test]
    fn each_map_has_its_own_seed() {
        let a: Set<u32> = (0..1000).collect();
        let b: Set<u32> = (0..1000).collect();
        assert_eq!(a, b);
        assert_ne!(a.iter().collect::<Vec<_>>(), b.iter().collect::<Vec<_>>());
    }
}
