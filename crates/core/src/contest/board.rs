//! An ordered leaderboard with ranks: the keys kept sorted in short blocks (a two-level
//! sorted list), with each block's last key copied into one contiguous index. Moving one
//! entrant costs a binary search of the index (which stays in cache), one of a block, and
//! a short memmove; the rank of a key is the sizes of the blocks before it plus its place
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

/// A key by its parts, to search without owning an id.
#[derive(Debug, Clone, Copy)]
pub struct Probe<'a> {
    pub score: i64,
    pub at_ms: i64,
    pub id: &'a str,
}

impl Key {
    pub fn probe(&self) -> Probe<'_> {
        Probe { score: self.score, at_ms: self.at_ms, id: &self.id }
    }

    /// How this key sorts against a probe. The id is read only on a tie of score and time.
    fn cmp_probe(&self, p: &Probe<'_>) -> Ordering {
        p.score.cmp(&self.score).then(self.at_ms.cmp(&p.at_ms)).then_with(|| (*self.id).cmp(p.id))
    }
}

impl Ord for Key {
    fn cmp(&self, o: &Key) -> Ordering {
        self.cmp_probe(&o.probe())
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
    /// `maxes[i]` is the last key of `blocks[i]`.
    maxes: Vec<Key>,
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

    /// The block that holds `p` or where it belongs: the first whose last key is ≥ `p`,
    /// or the last block.
    fn block_of(&self, p: &Probe<'_>) -> usize {
        let i = self.maxes.partition_point(|m| m.cmp_probe(p) == Ordering::Less);
        i.min(self.blocks.len().saturating_sub(1))
    }

    fn find(&self, p: &Probe<'_>) -> Option<(usize, usize)> {
        if self.blocks.is_empty() {
            return None;
        }
        let b = self.block_of(p);
        self.blocks[b].binary_search_by(|k| k.cmp_probe(p)).ok().map(|i| (b, i))
    }

    /// Keeps `maxes[b]` equal to the block's last key after a change to block `b`.
    fn fix_max(&mut self, b: usize) {
        let last = self.blocks[b].last().expect("blocks are never empty");
        if self.maxes[b] != *last {
            self.maxes[b] = last.clone();
        }
    }

    /// Inserts `k`; returns false (and changes nothing) if it is already there.
    pub fn insert(&mut self, k: Key) -> bool {
        if self.blocks.is_empty() {
            self.maxes.push(k.clone());
            let mut first = Vec::with_capacity(MAX_BLOCK + 1);
            first.push(k);
            self.blocks.push(first);
            self.len = 1;
            return true;
        }
        let b = self.block_of(&k.probe());
        let block = &mut self.blocks[b];
        let pos = match block.binary_search(&k) {
            Ok(_) => return false,
            Err(p) => p,
        };
        block.insert(pos, k);
        self.len += 1;
        if block.len() > MAX_BLOCK {
            // Full capacity up front, so that a block never reallocates as it grows.
            let mut tail = Vec::with_capacity(MAX_BLOCK + 1);
            tail.extend(block.drain(block.len() / 2..));
            let tail_max = tail.last().expect("non-empty").clone();
            self.blocks.insert(b + 1, tail);
            self.maxes.insert(b + 1, tail_max);
        }
        self.fix_max(b);
        true
    }

    /// Removes the key `p` names; returns it, or None if it was not there.
    pub fn remove_probe(&mut self, p: &Probe<'_>) -> Option<Key> {
        let (b, i) = self.find(p)?;
        let k = self.blocks[b].remove(i);
        self.len -= 1;
        if self.blocks[b].is_empty() {
            self.blocks.remove(b);
            self.maxes.remove(b);
        } else {
            self.fix_max(b);
        }
        Some(k)
    }

    /// Removes `k`; returns false if it was not there.
    pub fn remove(&mut self, k: &Key) -> bool {
        self.remove_probe(&k.probe()).is_some()
    }

    /// Moves the entrant at `old` to a new score and time, keeping its id (no copy of the
    /// id is made). When the new place is in the same block, the entries between shift by
    /// one in place. Returns false if `old` is not on the board.
    pub fn rescore(&mut self, old: &Probe<'_>, score: i64, at_ms: i64) -> bool {
        let Some((b, from)) = self.find(old) else { return false };
        let n_blocks = self.blocks.len();
        let block = &mut self.blocks[b];
        let new = Probe { score, at_ms, id: old.id };
        let after_first = b == 0 || block[0].cmp_probe(&new) != Ordering::Greater;
        let before_last = b + 1 == n_blocks || block[block.len() - 1].cmp_probe(&new) != Ordering::Less;
        if after_first && before_last {
            // Where the new key goes among the others (the old entry excluded).
            let mut to = block.partition_point(|k| k.cmp_probe(&new) == Ordering::Less);
            if to > from {
                to -= 1;
                block[from..=to].rotate_left(1);
            } else {
                block[to..=from].rotate_right(1);
            }
            block[to].score = score;
            block[to].at_ms = at_ms;
            self.fix_max(b);
            return true;
        }
        let mut k = self.remove_probe(old).expect("found above");
        k.score = score;
        k.at_ms = at_ms;
        self.insert(k)
    }

    /// Moves an entrant from `old` to `new` (the same id).
    pub fn update(&mut self, old: &Key, new: Key) -> bool {
        debug_assert_eq!(old.id, new.id);
        self.rescore(&old.probe(), new.score, new.at_ms)
    }

    /// The 0-based rank of the key `p` names, if it is on the board.
    pub fn rank_probe(&self, p: &Probe<'_>) -> Option<usize> {
        let (b, i) = self.find(p)?;
        Some(self.blocks[..b].iter().map(Vec::len).sum::<usize>() + i)
    }

    /// The 0-based rank of `k`, if it is on the board.
    pub fn rank(&self, k: &Key) -> Option<usize> {
        self.rank_probe(&k.probe())
    }

    /// How many keys sort before `k` (whether or not `k` is on the board).
    pub fn count_before(&self, k: &Key) -> usize {
        let p = k.probe();
        let b = self.maxes.partition_point(|m| m.cmp_probe(&p) == Ordering::Less);
        let before: usize = self.blocks[..b].iter().map(Vec::len).sum();
        before + self.blocks.get(b).map_or(0, |x| x.partition_point(|y| y.cmp_probe(&p) == Ordering::Less))
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

    /// The structure every operation relies on (crate::check): blocks of 1 to
    /// `MAX_BLOCK` keys, the keys strictly ascending across the whole board, `maxes[i]`
    /// the last key of block `i`, and `len` the number of keys.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.maxes.len() != self.blocks.len() {
            return Err(format!("{} block maxima for {} blocks", self.maxes.len(), self.blocks.len()));
        }
        let mut len = 0;
        let mut prev: Option<&Key> = None;
        for (b, m) in self.blocks.iter().zip(&self.maxes) {
            if b.is_empty() || b.len() > MAX_BLOCK {
                return Err(format!("a block of {} keys (1 to {MAX_BLOCK})", b.len()));
            }
            for k in b {
                if prev.is_some_and(|p| p >= k) {
                    return Err(format!("the key of `{}` is out of order", k.id));
                }
                prev = Some(k);
            }
            if b.last() != Some(m) {
                return Err("a block's maximum is not its last key".into());
            }
            len += b.len();
        }
        if len != self.len {
            return Err(format!("{len} keys, recorded as {}", self.len));
        }
        Ok(())
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
