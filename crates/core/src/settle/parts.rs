//! Splitting a settlement into `settled` events that each stay within
//! [`limits::SETTLED_PART_BYTES`] (and [`limits::SETTLED_PART_LINES`] lines), far below the
//! log's record limit. The parts carry the same id and time, so `Settlements::apply` folds
//! them into one run; a closed board whose frozen order does not fit continues in the next
//! part under the same (race, day, group), and its entries are appended in order.

use super::{ClosedBoard, Line, Plan};
use crate::limits;
use serde::Serialize;

/// One `settled` event's share of a settlement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Part {
    pub boards: Vec<ClosedBoard>,
    pub programs: Vec<String>,
    pub lines: Vec<Line>,
}

/// Room kept in each part for the event around its lists: the variant tag, the id (at most
/// 128 bytes), the time and three list lengths.
const ENVELOPE_BYTES: usize = 256;

/// A value's size in the log's encoding (postcard).
fn size<T: Serialize + ?Sized>(v: &T) -> usize {
    postcard::experimental::serialized_size(v).expect("settlement values serialise")
}

struct Packer {
    parts: Vec<Part>,
    cur: Part,
    used: usize,
    budget: usize,
}

impl Packer {
    /// Starts a new part unless `bytes` more fit in the current one.
    fn room(&mut self, bytes: usize) {
        if self.used + bytes > self.budget || self.cur.lines.len() >= limits::SETTLED_PART_LINES {
            self.flush();
        }
    }

    /// Closes the current part, if it holds anything.
    fn flush(&mut self) {
        if self.cur != Part::default() {
            self.parts.push(std::mem::take(&mut self.cur));
            self.used = 0;
        }
    }

    fn board(&mut self, b: ClosedBoard) {
        let mut head = b.clone();
        head.frozen = Vec::new();
        // The frozen list's length prefix grows to at most 5 bytes.
        let head_bytes = size(&head) + 4;
        let mut frozen = b.frozen.into_iter().peekable();
        loop {
            let first = frozen.peek().map_or(0, size);
            self.room(head_bytes + first);
            self.used += head_bytes;
            let mut chunk = head.clone();
            while let Some(e) = frozen.peek() {
                let s = size(e);
                if !chunk.frozen.is_empty() && self.used + s > self.budget {
                    break;
                }
                self.used += s;
                chunk.frozen.push(frozen.next().expect("peeked"));
            }
            self.cur.boards.push(chunk);
            if frozen.peek().is_none() {
                return;
            }
            self.flush();
        }
    }
}

/// The parts of a settlement, in order: its boards (a long frozen order split across
/// parts), then its programs, then its ledger lines. A settlement that fits is one part.
pub fn split(plan: Plan) -> Vec<Part> {
    split_within(plan, limits::SETTLED_PART_BYTES)
}

/// [`split`] with a given byte budget per part (tests use small ones).
pub fn split_within(plan: Plan, part_bytes: usize) -> Vec<Part> {
    let mut p = Packer { parts: Vec::new(), cur: Part::default(), used: 0, budget: part_bytes - ENVELOPE_BYTES };
    for b in plan.boards {
        p.board(b);
    }
    for prog in plan.programs {
        let s = size(&prog);
        p.room(s);
        p.used += s;
        p.cur.programs.push(prog);
    }
    for l in plan.lines {
        let s = size(&l);
        p.room(s);
        p.used += s;
        p.cur.lines.push(l);
    }
    p.flush();
    p.parts
}
