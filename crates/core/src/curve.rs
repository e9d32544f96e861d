//! A session's viewer curve ([`Curve`]): entries and finished stays per minute since the
//! session's start, the review's viewer chart.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One minute of a session: viewers who entered in it, and stays that ended in it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MinuteCounts {
    pub entries: u32,
    pub left: u32,
}

const BLOCK_MINUTES: usize = 60;

/// Per-minute entries and leaves of a session, in blocks of an hour allocated on first
/// use: a session of a few hours costs a few kilobytes, and a stray far-off time costs a
/// pointer per hour in between rather than a dense array. A block holds 16-bit counts
/// until one of its minutes passes 65,535 and then all of its counts in 32 bits: nearly
/// every room's minutes are small, and the curves were one of the largest parts of a
/// festival's state. Serialised as the non-zero minutes, ascending:
/// `[(minute, entries, left), …]`.
#[derive(Debug, Default, Clone)]
pub struct Curve {
    blocks: Vec<Option<Block>>,
}

#[derive(Debug, Clone)]
enum Block {
    /// (entries, left) per minute of the hour.
    Narrow(Box<[[u16; 2]; BLOCK_MINUTES]>),
    Wide(Box<[MinuteCounts; BLOCK_MINUTES]>),
}

impl Block {
    fn get(&self, i: usize) -> MinuteCounts {
        match self {
            Block::Narrow(b) => MinuteCounts { entries: u32::from(b[i][0]), left: u32::from(b[i][1]) },
            Block::Wide(b) => b[i],
        }
    }

    /// The block in 32-bit counts.
    fn wide(&mut self) -> &mut [MinuteCounts; BLOCK_MINUTES] {
        if let Block::Narrow(b) = self {
            let mut w = Box::new([MinuteCounts::default(); BLOCK_MINUTES]);
            for (x, &[entries, left]) in w.iter_mut().zip(b.iter()) {
                *x = MinuteCounts { entries: u32::from(entries), left: u32::from(left) };
            }
            *self = Block::Wide(w);
        }
        match self {
            Block::Wide(w) => w,
            Block::Narrow(_) => unreachable!("widened above"),
        }
    }
}

impl PartialEq for Curve {
    fn eq(&self, other: &Curve) -> bool {
        self.blocks.len() == other.blocks.len() && self.nonzero().eq(other.nonzero())
    }
}

impl Eq for Curve {}

impl Curve {
    pub fn get(&self, minute: u32) -> MinuteCounts {
        let (b, i) = (minute as usize / BLOCK_MINUTES, minute as usize % BLOCK_MINUTES);
        self.blocks.get(b).and_then(|x| x.as_ref()).map_or(MinuteCounts::default(), |x| x.get(i))
    }

    fn block(&mut self, minute: u32) -> (&mut Block, usize) {
        let (b, i) = (minute as usize / BLOCK_MINUTES, minute as usize % BLOCK_MINUTES);
        if self.blocks.len() <= b {
            self.blocks.resize_with(b + 1, || None);
        }
        (self.blocks[b].get_or_insert_with(|| Block::Narrow(Box::new([[0; 2]; BLOCK_MINUTES]))), i)
    }

    /// Adds one to the entries (`k` 0) or the leaves (`k` 1) of `minute`. (Four billion
    /// in one minute of one room is beyond any log this engine holds; the counts saturate
    /// rather than wrap.)
    fn bump(&mut self, minute: u32, k: usize) {
        let (block, i) = self.block(minute);
        if let Block::Narrow(b) = block {
            if let Some(n) = b[i][k].checked_add(1) {
                b[i][k] = n;
                return;
            }
        }
        let c = &mut block.wide()[i];
        let n = if k == 0 { &mut c.entries } else { &mut c.left };
        *n = n.saturating_add(1);
    }

    fn set(&mut self, minute: u32, c: MinuteCounts) {
        let (block, i) = self.block(minute);
        match (block, u16::try_from(c.entries), u16::try_from(c.left)) {
            (Block::Narrow(b), Ok(entries), Ok(left)) => b[i] = [entries, left],
            (block, ..) => block.wide()[i] = c,
        }
    }

    /// A viewer entered in `minute`.
    pub fn enter(&mut self, minute: u32) {
        self.bump(minute, 0);
    }

    /// A stay ended in `minute`.
    pub fn leave(&mut self, minute: u32) {
        self.bump(minute, 1);
    }

    /// The minutes the curve has room for: whole hours, up to the hour of the last minute
    /// it recorded (crate::check bounds it by the session's length).
    pub(crate) fn room_minutes(&self) -> usize {
        self.blocks.len() * BLOCK_MINUTES
    }

    /// The minutes with an entry or a leave, ascending.
    pub fn nonzero(&self) -> impl Iterator<Item = (u32, MinuteCounts)> + '_ {
        self.blocks.iter().enumerate().flat_map(|(b, block)| {
            block.iter().flat_map(move |x| {
                (0..BLOCK_MINUTES)
                    .map(move |i| (i, x.get(i)))
                    .filter(|(_, c)| c.entries != 0 || c.left != 0)
                    .map(move |(i, c)| ((b * BLOCK_MINUTES + i) as u32, c))
            })
        })
    }
}

impl Serialize for Curve {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let cells: Vec<(u32, u32, u32)> = self.nonzero().map(|(m, c)| (m, c.entries, c.left)).collect();
        cells.serialize(s)
    }
}

/// The latest minute a session's curve may hold when read back: decoding allocates a
/// pointer per hour up to it, so a damaged snapshot must not name a minute years away
/// (the state's checks then hold the curve to the festival).
pub const CURVE_MAX_MINUTE: u32 = 1 << 22;

impl<'de> Deserialize<'de> for Curve {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Curve, D::Error> {
        let cells: Vec<(u32, u32, u32)> = Vec::deserialize(d)?;
        let mut c = Curve::default();
        for (m, entries, left) in cells {
            if m > CURVE_MAX_MINUTE {
                return Err(serde::de::Error::custom(format!(
                    "a session curve minute {m} past the limit {CURVE_MAX_MINUTE}"
                )));
            }
            c.set(m, MinuteCounts { entries, left });
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Every minute's counts are the exact number of entries and leaves sent to it,
        /// in 16 or 32 bits, and survive a round trip through postcard.
        #[test]
        fn counts_are_exact(bumps in prop::collection::vec((0u32..200, 0usize..2, 1u32..3000), 0..40)) {
            let mut c = Curve::default();
            let mut want = std::collections::BTreeMap::<u32, [u32; 2]>::new();
            for &(m, k, n) in &bumps {
                for _ in 0..n {
                    c.bump(m, k);
                }
                want.entry(m).or_default()[k] += n;
            }
            let got: Vec<(u32, [u32; 2])> = c.nonzero().map(|(m, x)| (m, [x.entries, x.left])).collect();
            prop_assert_eq!(&got, &want.into_iter().collect::<Vec<_>>());
            for &(m, [entries, left]) in &got {
                prop_assert_eq!(c.get(m), MinuteCounts { entries, left });
            }
            let back: Curve = postcard::from_bytes(&postcard::to_allocvec(&c).unwrap()).unwrap();
            prop_assert_eq!(back, c);
        }
    }

    #[test]
    fn a_minute_past_sixteen_bits_widens_its_block() {
        let mut c = Curve::default();
        c.leave(61);
        for _ in 0..=u32::from(u16::MAX) {
            c.enter(70);
        }
        assert_eq!(c.get(70), MinuteCounts { entries: 65_536, left: 0 });
        assert_eq!(c.get(61), MinuteCounts { entries: 0, left: 1 });
        assert!(matches!(c.blocks[1], Some(Block::Wide(_))));
        assert!(c.blocks[0].is_none());
        c.set(3, MinuteCounts { entries: 70_000, left: 2 });
        assert_eq!(c.get(3), MinuteCounts { entries: 70_000, left: 2 });
    }
}
