//! Commit batches being built: events encoded and framed as records, the sequence and the
//! chain carried on. A [`Batcher`] belongs to the one writer; a [`SealedBatch`] is what
//! an [`crate::EventLog`] makes durable — the same bytes whatever the log, so a file
//! segment and a replicated stream hold identical records.

use crate::chain::{self, Chain};
use crate::{codec, segment};
use dacu_core::{Code, Event, Rejection};

/// A batch whose last record carries the commit flag and the chain value.
#[derive(Debug, Clone)]
pub struct SealedBatch {
    /// The framed records, commit record last.
    pub bytes: Vec<u8>,
    pub first_seq: u64,
    pub last_seq: u64,
    /// The chain value after the batch.
    pub chain: Chain,
}

/// Frames events into the batch being built.
pub struct Batcher {
    buf: Vec<u8>,
    /// Offset and payload CRC of the batch's last record.
    last_record: Option<(usize, u32)>,
    hasher: Option<chain::Hasher>,
    next_seq: u64,
    batch_first_seq: u64,
    /// The chain value after the last sealed batch.
    chain: Chain,
    max_event_bytes: usize,
    scratch: Vec<u8>,
    ends: Vec<usize>,
}

impl Batcher {
    /// Continues a log whose next event is `next_seq`, after the chain value `chain`.
    pub fn new(next_seq: u64, chain: Chain, max_event_bytes: usize) -> Batcher {
        Batcher {
            buf: Vec::new(),
            last_record: None,
            hasher: None,
            next_seq,
            batch_first_seq: next_seq,
            chain,
            max_event_bytes: max_event_bytes.min(segment::MAX_RECORD_BYTES as usize),
            scratch: Vec::new(),
            ends: Vec::new(),
        }
    }

    /// The seq the next event will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The chain value after the last sealed batch.
    pub fn chain(&self) -> Chain {
        self.chain
    }

    /// Events framed since the last seal.
    pub fn pending(&self) -> u64 {
        self.next_seq - self.batch_first_seq
    }

    /// Frames one command's events, all or none: if any is larger than the record limit,
    /// nothing is framed and the command is to be rejected (`limit_exceeded`).
    pub fn append(&mut self, events: &[Event]) -> Result<(), Rejection> {
        self.scratch.clear();
        self.ends.clear();
        for ev in events {
            let start = self.scratch.len();
            codec::encode(ev, &mut self.scratch);
            let n = self.scratch.len() - start;
            if n > self.max_event_bytes {
                return Err(Rejection::new(
                    Code::LimitExceeded,
                    format!(
                        "the command's event would take {n} bytes in the log, above the limit of {} bytes per event; split it into smaller commands",
                        self.max_event_bytes
                    ),
                ));
            }
            self.ends.push(self.scratch.len());
        }
        let mut start = 0;
        for &end in &self.ends {
            let (at, crc) = segment::push_record(&mut self.buf, self.next_seq, &self.scratch[start..end]);
            self.hasher.get_or_insert_with(|| chain::Hasher::new(&self.chain)).add(self.next_seq, crc);
            self.last_record = Some((at, crc));
            self.next_seq += 1;
            start = end;
        }
        Ok(())
    }

    /// Seals the batch built so far, or `None` when it holds no event. The chain moves on:
    /// the next batch continues this one, whether or not it becomes durable (if it does
    /// not, the writer stops).
    pub fn seal(&mut self) -> Option<SealedBatch> {
        let (at, crc) = self.last_record.take()?;
        let chain = self.hasher.take().expect("a pending batch has a hasher").finish();
        segment::seal(&mut self.buf, at, crc, &chain);
        // The next batch starts at this one's size: batches are alike, and growing a
        // buffer of megabytes by doubling copied each batch about twice over.
        let next = Vec::with_capacity(self.buf.len());
        let sealed = SealedBatch {
            bytes: std::mem::replace(&mut self.buf, next),
            first_seq: self.batch_first_seq,
            last_seq: self.next_seq - 1,
            chain,
        };
        self.batch_first_seq = self.next_seq;
        self.chain = chain;
        Some(sealed)
    }
}
