//! Where a node's log lives: its data directory's own files, or a NATS JetStream stream
//! (crates/jetstream). The writer and the committer see only [`dacu_log::EventLog`]; the
//! read view reads the durable batches back from whichever it is.

use dacu_jetstream::JetStreamLog;
use dacu_log::chain::Chain;
use dacu_log::follow::Follow;
use dacu_log::{Committed, EventLog, FileLog, SealedBatch, StoreError};

/// The log the committer appends to.
pub enum Log {
    File(FileLog),
    Stream(Box<JetStreamLog>),
}

impl Log {
    /// The chain value after the last durable batch.
    pub fn chain(&self) -> Chain {
        match self {
            Log::File(l) => l.chain(),
            Log::Stream(l) => l.chain(),
        }
    }
}

impl EventLog for Log {
    fn append(&mut self, batch: &SealedBatch) -> Result<Committed, StoreError> {
        match self {
            Log::File(l) => l.append(batch),
            Log::Stream(l) => l.append(batch),
        }
    }

    fn durable_seq(&self) -> u64 {
        match self {
            Log::File(l) => l.durable_seq(),
            Log::Stream(l) => l.durable_seq(),
        }
    }
}

/// What the read view reads the durable batches from.
pub enum Source {
    File(Follow),
    Stream(Box<dacu_jetstream::Follow>),
}

impl Source {
    /// The seq of the next event to hand over.
    pub fn next_seq(&self) -> u64 {
        match self {
            Source::File(f) => f.next_seq(),
            Source::Stream(f) => f.next_seq(),
        }
    }

    /// Hands over every whole batch whose events are all at or before `through`.
    pub fn read(
        &mut self,
        through: u64,
        mut f: impl FnMut(&[(u64, &[u8])], Chain) -> Result<(), String>,
    ) -> Result<(), String> {
        match self {
            Source::File(fl) => fl.read(through, f).map_err(|e| e.to_string()),
            Source::Stream(s) => s.read(through, &mut f).map_err(|e| e.to_string()),
        }
    }
}
