//! What a node whose log is a JetStream stream starts from: the state the stream (and
//! the newest good snapshot in its bucket) rebuilt, the log, and the read view's reader.

use dacu_core::Engine;
use dacu_log::SnapshotStore;
use std::sync::Arc;

/// A node whose log is a JetStream stream: what [`crate::Node::start_stream`] and [`crate::Node::follow_stream`] take.
pub struct StreamStart {
    /// The state the stream's batches rebuilt.
    pub engine: Engine,
    pub log: dacu_jetstream::JetStreamLog,
    /// The read view's reader, from where the log's recovery ended.
    pub follow: dacu_jetstream::Follow,
    /// The node's own directory and the lock on it.
    pub path: std::path::PathBuf,
    pub lock: std::fs::File,
    /// The snapshot bucket ([`dacu_jetstream::Snapshots`]); without one no snapshot is
    /// written and a node recovers by reading the whole stream.
    pub snapshots: Option<Arc<dyn SnapshotStore>>,
    /// The snapshot the state was recovered from, by event seq (0 for none).
    pub last_snapshot_seq: u64,
}

/// What opening a stream found: where reading ended, the snapshot it started from, and
/// the snapshots it passed over.
pub struct StreamOpened {
    pub recovered: dacu_jetstream::Recovered,
    pub snapshot_seq: Option<u64>,
    pub warnings: Vec<String>,
}

impl StreamStart {
    /// Opens the stream at `url` for a node whose own directory is `path`, held by `lock`:
    /// the state from the newest good snapshot in the stream's bucket and the batches
    /// after it (or from the whole stream), the log to append to, and the read view's
    /// reader from where recovery ended. With `festival`, a stream that has none is
    /// created with it.
    pub fn open(
        url: &dacu_jetstream::LogUrl,
        opts: &dacu_jetstream::StreamOptions,
        festival: Option<&str>,
        path: &std::path::Path,
        lock: std::fs::File,
    ) -> Result<(StreamStart, StreamOpened), dacu_jetstream::Error> {
        let o = dacu_jetstream::JetStreamLog::open(url, opts, festival, Some(path))?;
        let follow = dacu_jetstream::Follow::open(url, opts, o.log.meta().log_id, &o.recovered, o.position.clone())?;
        let start = StreamStart {
            engine: o.engine,
            log: o.log,
            follow,
            path: path.to_path_buf(),
            lock,
            snapshots: o.snapshots.map(|s| Arc::new(s) as Arc<dyn SnapshotStore>),
            last_snapshot_seq: o.snapshot_seq.unwrap_or(0),
        };
        Ok((start, StreamOpened { recovered: o.recovered, snapshot_seq: o.snapshot_seq, warnings: o.warnings }))
    }
}
