//! How a node runs. Every limit is here, with its default (docs/node.md).

use crate::clock::Clock;
use std::sync::Arc;
use std::time::Duration;

/// Where command times come from.
#[derive(Clone, Default)]
pub enum Time {
    /// From the commands themselves (batch ingest: the stream records its times). No
    /// stamping, no ticks.
    #[default]
    Recorded,
    /// From a clock: commands may ask to be stamped, and the writer issues `tick`s for
    /// due timers (checkout deadlines, group deadlines, red-packet expiry, lottery draws).
    Clock(Arc<dyn Clock>),
}

#[derive(Clone)]
pub struct NodeConfig {
    /// Requests waiting for the writer at most; more is backpressure
    /// ([`crate::SubmitError::Full`]). Default 1,024.
    pub queue_requests: usize,
    /// Commands in one request at most. Default 65,536.
    pub max_request_commands: usize,
    /// A commit batch is ready at this many commands (between requests). Default 8,192.
    pub batch_commands: usize,
    /// … or this long after its first command arrived. Default 200 µs.
    pub batch_wait: Duration,
    /// Keep a read view (a follower engine that applies the durable log) for reads and
    /// snapshots off the writer. Without one, reads are refused and the writer takes
    /// the periodic snapshots itself, commits waiting meanwhile. Default on.
    pub read_view: bool,
    /// A snapshot after this many events since the last one (0: only at shutdown).
    /// Default 5,000,000.
    pub snapshot_every: u64,
    pub time: Time,
}

impl Default for NodeConfig {
    fn default() -> NodeConfig {
        NodeConfig {
            queue_requests: 1024,
            max_request_commands: 65_536,
            batch_commands: 8192,
            batch_wait: Duration::from_micros(200),
            read_view: true,
            snapshot_every: 5_000_000,
            time: Time::Recorded,
        }
    }
}
