//! The router: which partition a command belongs to (docs/scale-out.md, "Partitions").
//!
//! A key's partition is `FNV-1a-32(key) mod N`, the function NATS's subject mapping
//! `partition(N, …)` computes, so the service and a subject mapping on the server send a
//! key to the same partition.

use dacu_core::Command;

const FNV_OFFSET: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

/// The most partitions a festival is cut into.
pub const MAX_PARTITIONS: u32 = 64;

/// FNV-1a, 32 bits: for each byte, xor it in, then multiply by the FNV prime.
pub fn fnv1a32(bytes: &[u8]) -> u32 {
    bytes.iter().fold(FNV_OFFSET, |h, &b| (h ^ u32::from(b)).wrapping_mul(FNV_PRIME))
}

/// The partition of `key` among `n` (1 to [`MAX_PARTITIONS`]).
pub fn partition_of(key: &str, n: u32) -> u32 {
    fnv1a32(key.as_bytes()) % n
}

/// What a command is keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key<'a> {
    /// A definition or a festival-wide decision: decided by the coordinator (partition
    /// 0), its events copied into every partition.
    Coordinator,
    /// Every partition applies it (a `tick`: each partition's own timers).
    Broadcast,
    /// A live session: its commands go to the partition it started in, its anchor's
    /// (`live_start` is routed by its anchor, so that the anchor's one live session is
    /// checked where the anchor's sessions all are); its red packets are created there.
    Session(&'a str),
    User(&'a str),
    /// An anchor: its follows, in its partition, where its sessions start — so that
    /// every follow of an anchor, by `follow` or by a room's interaction, is in one
    /// partition, and a red packet for followers is decided where they all are.
    Anchor(&'a str),
    Merchant(&'a str),
    /// A group deal.
    Deal(&'a str),
    /// Keys that name an earlier result, resolved to that result's key: a red packet
    /// (its session), a group (its deal), a checkout (its user), an order (its merchant).
    Packet(&'a str),
    Group(&'a str),
    Checkout(&'a str),
    Order(&'a str),
}

impl Key<'_> {
    /// The partition of a direct key; `None` for the coordinator, a broadcast, a session
    /// (where it started) and keys that must first be resolved to the key of the result
    /// they name.
    pub fn partition(&self, n: u32) -> Option<u32> {
        match self {
            Key::User(k) | Key::Anchor(k) | Key::Merchant(k) | Key::Deal(k) => Some(partition_of(k, n)),
            _ => None,
        }
    }
}

/// The key of every command: the table in docs/scale-out.md.
pub fn key(c: &Command) -> Key<'_> {
    match c {
        Command::RegisterMerchant(_)
        | Command::RegisterAnchor(_)
        | Command::RegisterProvider(_)
        | Command::CertifyProvider(_)
        | Command::BindProvider(_)
        | Command::UnbindProvider(_)
        | Command::Enroll(_)
        | Command::SetRegistration(_)
        | Command::CreateCoupon(_)
        | Command::CreateFullcut(_)
        | Command::CreatePriceCut(_)
        | Command::CreateGroupDeal(_)
        | Command::CreateLottery(_)
        | Command::LoadBaseline(_)
        | Command::SetExperienceScore(_)
        | Command::RecordViolation(_)
        | Command::Settle(_)
        | Command::Impression(_) => Key::Coordinator,
        Command::Tick(_) => Key::Broadcast,
        Command::LiveStart(k) => Key::Session(&k.session),
        // A packet is created where its session lives: deciding it needs the session
        // live, and applying it needs the session, which only that partition holds.
        Command::CreateRedPacket(k) => Key::Session(&k.session),
        Command::LiveEnd(k) => Key::Session(&k.session),
        Command::ViewerEnter(k) => Key::Session(&k.session),
        Command::ViewerLeave(k) => Key::Session(&k.session),
        Command::Interaction(k) => Key::Session(&k.session),
        Command::GrabRedPacket(k) => Key::Packet(&k.packet),
        Command::ClaimCoupon(k) => Key::User(&k.user),
        Command::Checkout(k) => Key::User(&k.user),
        Command::Follow(k) => Key::Anchor(&k.anchor),
        Command::Pay(k) => Key::Checkout(&k.checkout),
        Command::Cancel(k) => Key::Checkout(&k.checkout),
        Command::OpenGroup(k) => Key::Deal(&k.deal),
        Command::JoinGroup(k) => Key::Group(&k.group),
        Command::OrderPaid(k) => Key::Merchant(&k.merchant),
        Command::Refund(k) => Key::Order(&k.order),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a32_matches_the_published_test_vectors() {
        // From the FNV reference test suite (draft-eastlake-fnv).
        assert_eq!(fnv1a32(b""), 0x811c_9dc5);
        assert_eq!(fnv1a32(b"a"), 0xe40c_292c);
        assert_eq!(fnv1a32(b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn every_key_lands_in_range_and_one_partition_takes_all() {
        for i in 0..1000 {
            let k = format!("u{i}");
            assert_eq!(partition_of(&k, 1), 0);
            assert!(partition_of(&k, 4) < 4);
        }
    }

    #[test]
    fn keys_spread_over_the_partitions() {
        let mut counts = [0u32; 4];
        for i in 0..40_000 {
            counts[partition_of(&format!("u{i}"), 4) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| (9_000..11_000).contains(&c)), "{counts:?}");
    }
}
