//! The two traits a node writes through: an ordered log of durable batches and a store
//! of snapshots. The file log ([`crate::file_log`]) is the default implementation; a
//! replicated log (NATS JetStream) implements the same traits.

use crate::batch::SealedBatch;
use crate::chain::Chain;
use crate::StoreError;
use dacu_core::state::State;

/// The position range of one durable commit: events `first_seq..=last_seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    pub first_seq: u64,
    pub last_seq: u64,
}

/// An append-only, ordered log of commit batches.
pub trait EventLog: Send {
    /// Makes `batch` durable and returns its positions. The batch must continue the log:
    /// its first event is the one after [`EventLog::durable_seq`]. That expected position
    /// is the fencing token — an append from a writer whose idea of the log's end is stale
    /// is refused and writes nothing. After a failed append the log accepts nothing more
    /// ([`StoreError::Poisoned`]): restart to recover.
    fn append(&mut self, batch: &SealedBatch) -> Result<Committed, StoreError>;

    /// The seq of the last durable event (0 for an empty log).
    fn durable_seq(&self) -> u64;
}

/// Where snapshots of the state are kept.
pub trait SnapshotStore: Send + Sync {
    /// Saves the state after its last event, whose chain value is `chain`.
    fn save(&self, state: &State, chain: &Chain) -> Result<(), StoreError>;
}
