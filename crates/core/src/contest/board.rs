//! An ordered leaderboard with ranks: the keys kept sorted in short blocks (a two-level
//! sorted list). Moving one entrant costs two binary searches and a short memmove in one
//! or two blocks; the rank of a key is the sizes of the blocks before it plus its place
//! in its block; the top N is a walk from the front.
//!
//! Order (docs/contests.md, "Ranking and ties"): higher score first, then the earlier
//! time the entrant reached its score, then the lower id (byte order).

use std::cmp::Ordering;
use std::sync::Arc;

/// Blocks split in two past this length. Small enough that the memmove of an update stays
/// within a few cache lines; large enough that the block index stays short.
const MAX_BLOCK: usize = 64;

/// One entrant's position: its score, when it reached it (ms), and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub score: i64,
    pub at_ms: i64,
    pub id: Arc<str>,
}

impl Ord for Key {
    fn cmp(&self, o: &Key) -> Ordering {
        o.score.cmp(&self.score).then(self.at_ms.cmp(&o.at_ms)).then_with(|| self.id.cmp(&o.id))
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, o: &Key) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

#[derive(Debug, Clone, Default)]
pub struct Board {
    blocks: Vec<Vec<Key>>,
    len: usize,
}

impl Board {
    pub fn new() -> Board {
        Board::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The block that holds `k` or where it belongs: the first whose last key is ≥ `k`,
    /// or the last block.
    fn block_of(&self, k: &Key) -> usize {
        let i = self.blocks.partition_point(|b| b.last().expect("blocks are never empty") < k);
        i.min(self.blocks.len().saturating_sub(1))
    }

    /// Inserts `k`; returns false (and changes nothing) if it is already there.
    pub fn insert(&mut self, k: Key) -> bool {
        if self.blocks.is_empty() {
            self.blocks.push(vec![k]);
            self.len = 1;
            return true;
        }
        let b = self.block_of(&k);
        let block = &mut self.blocks[b];
        let pos = match block.binary_search(&k) {
            Ok(_) => return false,
            Err(p) => p,
        };
        block.insert(pos, k);
        self.len += 1;
        if block.len() > MAX_BLOCK {
            let tail = block.split_off(block.len() / 2);
            self.blocks.insert(b + 1, tail);
        }
        true
    }

    /// Removes `k`; returns false if it was not there.
    pub fn remove(&mut self, k: &Key) -> bool {
        if self.blocks.is_empty() {
            return false;
        }
        let b = self.block_of(k);
        let block = &mut self.blocks[b];
        match block.binary_search(k) {
            Ok(p) => {
                block.remove(p);
                if block.is_empty() {
                    self.blocks.remove(b);
                }
                self.len -= 1;
                true
            }
            Err(_) => false,
        }
    }

    /// Moves an entrant from `old` to `new`. When both fall in the same block the entries
    /// between are shifted by one in place, so a small change costs one short rotate.
    pub fn update(&mut self, old: &Key, new: Key) -> bool {
        if let Some(b) = (!self.blocks.is_empty()).then(|| self.block_of(old)) {
            let n_blocks = self.blocks.len();
            let block = &mut self.blocks[b];
            if let Ok(from) = block.binary_search(old) {
                let first_ok = block.first().is_some_and(|f| *f <= new) || b == 0;
                let last_ok = block.last().is_some_and(|l| new <= *l) || b + 1 == n_blocks;
                if first_ok && last_ok {
                    let to = match block.binary_search(&new) {
                        Ok(p) if p == from => p,
                        Ok(_) => return false,
                        Err(p) => p,
                    };
                    if to > from {
                        block[from..to].rotate_left(1);
                        block[to - 1] = new;
                    } else {
                        block[to..=from].rotate_right(1);
                        block[to] = new;
                    }
                    return true;
                }
                block.remove(from);
                if block.is_empty() {
                    self.blocks.remove(b);
                }
                self.len -= 1;
                return self.insert(new);
            }
        }
        false
    }

    /// The 0-based rank of `k`, if it is on the board.
    pub fn rank(&self, k: &Key) -> Option<usize> {
        if self.blocks.is_empty() {
            return None;
        }
        let b = self.block_of(k);
        let p = self.blocks[b].binary_search(k).ok()?;
        Some(self.blocks[..b].iter().map(Vec::len).sum::<usize>() + p)
    }

    /// How many keys sort before `k` (whether or not `k` is on the board).
    pub fn count_before(&self, k: &Key) -> usize {
        let b = self.blocks.partition_point(|x| x.last().expect("blocks are never empty") < k);
        let before: usize = self.blocks[..b].iter().map(Vec::len).sum();
        before + self.blocks.get(b).map_or(0, |x| x.partition_point(|y| y < k))
    }

    /// The key at 0-based rank `i`.
    pub fn nth(&self, mut i: usize) -> Option<&Key> {
        for b in &self.blocks {
            if i < b.len() {
                return Some(&b[i]);
            }
            i -= b.len();
        }
        None
    }

    /// The keys from 0-based rank `from`, best first.
    pub fn iter_from(&self, mut from: usize) -> impl Iterator<Item = &Key> {
        let mut start = self.blocks.len();
        for (bi, b) in self.blocks.iter().enumerate() {
            if from < b.len() {
                start = bi;
                break;
            }
            from -= b.len();
        }
        let first = self.blocks.get(start).map_or(&[][..], |b| &b[from..]);
        first.iter().chain(self.blocks.iter().skip(start + 1).flatten())
    }

    pub fn iter(&self) -> impl Iterator<Item = &Key> {
        self.blocks.iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(score: i64, at: i64, id: &str) -> Key {
        Key { score, at_ms: at, id: id.into() }
    }

    #[test]
    fn higher_score_then_earlier_time_then_lower_id() {
        let mut b = Board::new();
        for key in [k(5, 10, "b"), k(7, 99, "z"), k(5, 10, "a"), k(5, 3, "c")] {
            assert!(b.insert(key));
        }
        let ids: Vec<&str> = b.iter().map(|x| &*x.id).collect();
        assert_eq!(ids, ["z", "c", "a", "b"]);
        assert_eq!(b.rank(&k(5, 10, "a")), Some(2));
        assert!(!b.insert(k(5, 10, "a")), "a key is on the board once");
    }

    #[test]
    fn updates_across_blocks_keep_order_and_ranks() {
        let mut b = Board::new();
        let n = 1000;
        for i in 0..n {
            b.insert(k(i, 0, &format!("e{i:04}")));
        }
        assert_eq!(b.len(), n as usize);
        // The worst entrant jumps to the top: it crosses every block.
        assert!(b.update(&k(0, 0, "e0000"), k(5000, 1, "e0000")));
        assert_eq!(b.rank(&k(5000, 1, "e0000")), Some(0));
        assert_eq!(b.nth(1).map(|x| &*x.id), Some("e0999"));
        assert_eq!(b.iter_from(998).count(), 2);
        assert_eq!(b.count_before(&k(500, 0, "")), 1 + (n as usize - 1 - 500));
        assert!(!b.update(&k(1, 1, "nobody"), k(2, 2, "nobody")));
    }
}
