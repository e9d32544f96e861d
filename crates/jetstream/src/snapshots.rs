//! Snapshots of a stream node's state in the JetStream object store, so that a node
//! recovers from the newest snapshot and the stream after it instead of the whole stream.
//!
//! Bucket `{STREAM}-snapshots` (the object store's own stream, `OBJ_{STREAM}-snapshots`,
//! replicated as the log's stream is). Object `{seq:020}.snap`: the bytes of a data
//! directory's snapshot file (docs/log.md: header with the log id, the event `seq` and the
//! chain value after it, then the state), with the metadata `stream_seq`: the stream
//! sequence of the last chunk of the batch that ends at `seq`. A snapshot is written to the
//! node directory first (`DIR/snapshots`, as a file log's are) and then uploaded; the
//! bucket keeps the newest [`KEEP`].
//!
//! Recovery uses a snapshot only if its log id is the stream's, its state passes the
//! consistency check, and the message at `stream_seq` is the last chunk of the batch that
//! ends at event `seq` and carries the snapshot's chain value — so a snapshot of another
//! stream, or of a stream since rewritten, is never served. Otherwise it falls back to an
//! older one, then to the whole stream.

use crate::read::{parse_header, BATCH_HEADER};
use crate::stream::Conn;
use crate::Error;
use async_nats::jetstream::object_store::{self, ObjectMetadata, ObjectStore};
use dacu_core::state::State;
use dacu_log::chain::{Chain, LogId};
use dacu_log::{SnapshotStore, StoreError};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Snapshots kept in the bucket: the newest and one older, to fall back on.
pub const KEEP: usize = 2;
const STREAM_SEQ: &str = "stream_seq";

/// The object store of one stream's snapshots.
pub struct Snapshots {
    conn: Conn,
    store: ObjectStore,
    log_id: LogId,
    /// The node directory, where a snapshot is written before it is uploaded.
    dir: PathBuf,
    /// The stream sequence of the last batch the read view applied (its `Follow` sets it).
    position: Arc<AtomicU64>,
}

/// A snapshot found in the bucket and checked: the state it holds and where it is.
pub struct Found {
    pub state: State,
    pub seq: u64,
    pub chain: Chain,
    pub stream_seq: u64,
}

fn bucket(conn: &Conn) -> String {
    format!("{}-snapshots", conn.layout.stream)
}

impl Snapshots {
    /// Opens (creating it when missing) the bucket of the stream at `conn`.
    pub fn open(conn: Conn, log_id: LogId, dir: &Path, position: Arc<AtomicU64>) -> Result<Snapshots, Error> {
        let name = bucket(&conn);
        let replicas = conn.replicas;
        let got = conn.block_on(crate::stream::settle(conn.opts.settle, || async {
            match conn.js.get_object_store(&name).await {
                Ok(s) => Ok(s),
                Err(_) => conn
                    .js
                    .create_object_store(object_store::Config {
                        bucket: name.clone(),
                        num_replicas: replicas,
                        ..Default::default()
                    })
                    .await
                    .map_err(|e| e.to_string()),
            }
        }));
        let store = got.map_err(|e| conn.err(format!("cannot open the snapshot bucket {name}: {e}")))?;
        Ok(Snapshots { conn, store, log_id, dir: dir.to_path_buf(), position })
    }

    /// The bucket's snapshots, newest first: (event seq, object name, stream seq).
    fn list(&self) -> Result<Vec<(u64, String, u64)>, Error> {
        let r: Result<Vec<_>, String> = self.conn.block_on(crate::stream::settle(self.conn.opts.settle, || async {
            let mut out = Vec::new();
            let mut l = self.store.list().await.map_err(|e| e.to_string())?;
            while let Some(o) = l.next().await {
                let o = o.map_err(|e| e.to_string())?;
                let seq = o.name.strip_suffix(".snap").and_then(|s| s.parse::<u64>().ok());
                let at = o.metadata.get(STREAM_SEQ).and_then(|s| s.parse::<u64>().ok());
                if let (Some(seq), Some(at), false) = (seq, at, o.deleted) {
                    out.push((seq, o.name, at));
                }
            }
            Ok(out)
        }));
        let mut v = r.map_err(|e| self.conn.err(format!("cannot list the snapshots: {e}")))?;
        v.sort_by_key(|s| std::cmp::Reverse(s.0));
        Ok(v)
    }

    /// The newest snapshot that checks out against the stream (see the module's notes),
    /// with why each newer one was passed over.
    pub fn newest(&self, festival: &dacu_core::Festival) -> Result<(Option<Found>, Vec<String>), Error> {
        let mut skipped = Vec::new();
        for (seq, name, stream_seq) in self.list()? {
            match self.fetch(&name, seq, stream_seq, festival) {
                Ok(f) => return Ok((Some(f), skipped)),
                Err(why) => skipped.push(format!("snapshot {name} skipped: {why}")),
            }
        }
        Ok((None, skipped))
    }

    fn fetch(&self, name: &str, seq: u64, stream_seq: u64, festival: &dacu_core::Festival) -> Result<Found, String> {
        let snaps = dacu_log::snapshot::dir(&self.dir);
        std::fs::create_dir_all(&snaps).map_err(|e| e.to_string())?;
        let path = snaps.join(name);
        let bytes = self.conn.block_on(async {
            let mut o = self.store.get(name).await.map_err(|e| e.to_string())?;
            let mut buf = Vec::new();
            tokio::io::AsyncReadExt::read_to_end(&mut o, &mut buf).await.map_err(|e| e.to_string())?;
            Ok::<_, String>(buf)
        })?;
        dacu_log::dir::write_atomic(&dacu_log::io::RealIo, &path, &bytes).map_err(|e| e.to_string())?;
        let meta = dacu_log::snapshot::read_meta(&path)?;
        if meta.seq != seq || meta.log_id != self.log_id {
            return Err("it belongs to another log".into());
        }
        self.check_position(seq, stream_seq, &meta.chain)?;
        let state = dacu_log::snapshot::read_state(&meta)?;
        state.check(festival).map_err(|e| format!("inconsistent state: {e}"))?;
        Ok(Found { state, seq, chain: meta.chain, stream_seq })
    }

    /// The message at `stream_seq` is the last chunk of the batch ending at `seq`, and its
    /// commit record carries `chain`.
    fn check_position(&self, seq: u64, stream_seq: u64, chain: &Chain) -> Result<(), String> {
        let m = self.conn.get(stream_seq).map_err(|e| e.to_string())?;
        let header = m.headers.get(BATCH_HEADER).map(|v| v.as_str().to_string()).unwrap_or_default();
        let (_, last, i, n) = parse_header(&header)?;
        let ends = m.payload.len() >= chain.len() && &m.payload[m.payload.len() - chain.len()..] == chain;
        if last != seq || i + 1 != n || !ends {
            return Err(format!("stream sequence {stream_seq} is not the end of event {seq} with this chain"));
        }
        Ok(())
    }

    fn upload(&self, path: &Path, seq: u64, stream_seq: u64) -> Result<(), String> {
        let name = format!("{seq:020}.snap");
        let meta = ObjectMetadata {
            name: name.clone(),
            metadata: HashMap::from([(STREAM_SEQ.to_string(), stream_seq.to_string())]),
            ..Default::default()
        };
        self.conn.block_on(async {
            let mut f = tokio::fs::File::open(path).await.map_err(|e| e.to_string())?;
            self.store.put(meta, &mut f).await.map_err(|e| e.to_string())?;
            Ok::<_, String>(())
        })?;
        for (_, old, _) in self.list().map_err(|e| e.to_string())?.into_iter().skip(KEEP) {
            self.conn.block_on(self.store.delete(&old)).map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

impl SnapshotStore for Snapshots {
    fn save(&self, state: &State, chain: &Chain) -> Result<(), StoreError> {
        let stream_seq = self.position.load(Ordering::SeqCst);
        let remote = |reason: String| StoreError::Remote { url: self.conn.url.to_string(), reason };
        let path = dacu_log::snapshot::write(&dacu_log::io::RealIo, &self.dir, state, &self.log_id, chain)
            .map_err(|e| remote(format!("cannot write the snapshot in {}: {e}", self.dir.display())))?;
        self.upload(&path, state.events, stream_seq).map_err(|e| remote(format!("cannot upload the snapshot: {e}")))
    }
}
