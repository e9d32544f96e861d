//! dacu-jetstream: the replicated event log on NATS JetStream.
//!
//! ```text
//! stream STREAM (file storage, R1 or R3, deletes and purges denied)
//!   STREAM.meta    one message, the stream's first: the log id and the festival source
//!   STREAM.batch   commit batches, each the same framed records a file segment holds,
//!                  cut into chunks under the server's payload limit
//!   STREAM.leader  takeover markers: a new leader's first message, fencing the old one
//! ```
//!
//! - [`url`]: `nats://HOST:PORT[/STREAM]`, the `--log` address.
//! - [`stream`]: connecting, the stream's configuration and its meta message.
//! - [`log`]: [`JetStreamLog`], the [`dacu_log::EventLog`] a writer appends through.
//! - [`read`]: reading the batches back, checked record by record and along the chain.
//! - [`snapshots`]: snapshots in the JetStream object store, bound to a stream position.
//! - [`lease`]: who leads: a renewed lease in a key-value bucket, and takeover.
//! - [`tokens`]: API tokens as replicated state, in a key-value bucket of the stream.
//! - [`node_dir`]: a node's own directory (its lock and tokens) when its log is a stream.
//!
//! Fencing: every message is published with `Nats-Expected-Last-Sequence`, the stream
//! position the writer believes is the end. A writer that another has overtaken — one
//! message is enough — is refused on its next publish and stops; the stream itself is
//! the fencing token. A retried publish carries the same `Nats-Msg-Id`, so the server
//! stores it once. docs/scale-out.md states what each server setting guarantees.

pub mod lease;
pub mod log;
pub mod node_dir;
pub mod read;
pub mod snapshots;
pub mod stream;
pub mod tokens;
pub mod url;

pub use log::JetStreamLog;
pub use read::{Follow, Recovered, Torn};
pub use snapshots::Snapshots;
pub use stream::{Layout, Meta, StreamOptions};
pub use url::LogUrl;

/// Why the replicated log could not be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{url}: {reason}")]
    Server { url: String, reason: String },
    #[error("{url}: the stream is damaged at stream sequence {at}: {reason}")]
    Corrupt { url: String, at: u64, reason: String },
    #[error("{0}")]
    Store(#[from] dacu_log::StoreError),
}
