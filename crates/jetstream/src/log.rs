//! [`JetStreamLog`]: commit batches appended to the stream, each acknowledged by
//! JetStream before the append returns.
//!
//! A batch is cut into chunks under the server's payload limit and published one after
//! the other, each with:
//! - `Nats-Expected-Last-Sequence`: the stream position of the chunk before it. Any
//!   other message in between — another writer's — makes the server refuse the chunk,
//!   and this log then accepts nothing more ([`StoreError::Fenced`]).
//! - `Nats-Msg-Id`: `{log id}-{first event}-{position before the batch}-{chunk}`. A
//!   publish whose acknowledgement was lost is sent again with the same id, and the
//!   server, which remembers ids for the duplicate window, stores it once.
//! - `Dacu-Batch`: `FIRST_SEQ LAST_SEQ CHUNK CHUNKS` (crate::read).

use crate::read::{self, Assembler, Recovered, BATCH_HEADER};
use crate::snapshots::Snapshots;
use crate::stream::{Conn, Meta, StreamOptions};
use crate::url::LogUrl;
use crate::Error;
use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::message::PublishMessage;
use dacu_core::festival::Festival;
use dacu_core::Engine;
use dacu_log::chain::{self, Chain};
use dacu_log::{codec, Committed, EventLog, SealedBatch, StoreError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Room left in each message for its headers, under the server's payload limit.
const HEADER_ROOM: usize = 512;
/// Publishes of one chunk before the log gives up (only timeouts and lost connections
/// are retried; a refusal is final).
const ATTEMPTS: u32 = 3;

/// The replicated event log.
pub struct JetStreamLog {
    conn: Conn,
    meta: Meta,
    /// The stream's last sequence as this writer knows it: the fencing token.
    stream_last: u64,
    durable_seq: u64,
    chain: Chain,
    chunk_bytes: usize,
    poisoned: Option<String>,
}

/// A log opened to write: the log, the state its batches rebuild, and what reading found.
pub struct Opened {
    pub log: JetStreamLog,
    pub engine: Engine,
    pub recovered: Recovered,
    /// The festival source the stream holds.
    pub festival: String,
    /// The snapshot bucket, when the log was opened with a node directory.
    pub snapshots: Option<Snapshots>,
    /// The snapshot recovery started from, by event seq.
    pub snapshot_seq: Option<u64>,
    /// Snapshots passed over, and why.
    pub warnings: Vec<String>,
    /// The stream position of the last whole batch: the read view keeps it current for
    /// the snapshots.
    pub position: Arc<AtomicU64>,
}

impl JetStreamLog {
    /// Opens the stream at `url`, creating it with `festival` when it has none yet (a
    /// stream that has one keeps it: `festival` must then be the same source or `None`),
    /// and rebuilds the state: from the newest good snapshot and the batches after it when
    /// `node_dir` is given (snapshots are staged there), else from every batch.
    pub fn open(
        url: &LogUrl,
        opts: &StreamOptions,
        festival: Option<&str>,
        node_dir: Option<&std::path::Path>,
    ) -> Result<Opened, Error> {
        let mut conn = Conn::open(url, opts)?;
        let meta = match (conn.meta()?, festival) {
            (Some(m), _) => m,
            (None, Some(f)) => {
                parse(&conn, f)?;
                conn.create_meta(f)?
            }
            (None, None) => return Err(conn.err("the stream holds no festival yet; pass --festival FILE to create it")),
        };
        if festival.is_some_and(|f| f != meta.festival) {
            return Err(
                conn.err("the stream already holds a different festival; use a new stream for another festival")
            );
        }
        let festival = Arc::new(parse(&conn, &meta.festival)?);
        let through = conn.last_sequence()?;
        let position = Arc::new(AtomicU64::new(1));
        // Snapshots only shorten recovery: without them the whole stream is read, and a
        // bucket that cannot be opened leaves the node without snapshots, said on stderr.
        let mut warnings = Vec::new();
        let snapshots =
            match node_dir.map(|dir| Snapshots::open(Conn::open(url, opts)?, meta.log_id, dir, position.clone())) {
                Some(Ok(s)) => Some(s),
                Some(Err(e)) => {
                    warnings.push(format!("no snapshot bucket ({e}): this node takes no snapshots"));
                    None
                }
                None => None,
            };
        let found = match snapshots.as_ref().map(|s| s.newest(&festival)) {
            Some(Ok((found, skipped))) => {
                warnings.extend(skipped);
                found
            }
            Some(Err(e)) => {
                warnings.push(format!("no snapshot could be read ({e}); reading the whole stream"));
                None
            }
            None => None,
        };
        let snapshot_seq = found.as_ref().map(|f| f.seq);
        let (mut engine, asm, from) = match found {
            Some(f) => {
                let e = Engine::with_state(festival.clone(), f.state).map_err(|e| conn.err(e.to_string()))?;
                (e, Assembler::new(meta.log_id, f.seq, f.chain, f.stream_seq), f.stream_seq + 1)
            }
            None => (Engine::new(festival.clone()), Assembler::new(meta.log_id, 0, chain::genesis(&meta.log_id), 1), 2),
        };
        let ctx = festival.format1_context();
        let mut apply = |records: &[(u64, &[u8])], _: Chain| -> Result<(), String> {
            for (seq, p) in records {
                let ev = codec::decode(p, &ctx).map_err(|e| format!("event {seq}: {e}"))?;
                engine.apply(&ev).map_err(|e| format!("event {seq}: {e}"))?;
            }
            Ok(())
        };
        let recovered = read::read(&conn, asm, from, through, &mut apply)?;
        position.store(recovered.batch_end, Ordering::SeqCst);
        let chunk_bytes = conn.max_payload().saturating_sub(HEADER_ROOM).max(4096);
        let log = JetStreamLog {
            // Markers are not batches: the fencing token is the stream's end as read.
            stream_last: recovered.stream_last.max(through).max(1),
            durable_seq: recovered.last_seq,
            chain: recovered.chain,
            conn,
            chunk_bytes,
            poisoned: None,
            meta: meta.clone(),
        };
        Ok(Opened { log, engine, recovered, festival: meta.festival, snapshots, snapshot_seq, warnings, position })
    }

    /// A writer that takes over at a known end of the stream, without reading it: a
    /// follower whose state holds every batch up to `stream_last` (its takeover marker's
    /// sequence), the last of them ending at event `durable_seq` with chain `chain`.
    pub fn resume(
        url: &LogUrl,
        opts: &StreamOptions,
        stream_last: u64,
        durable_seq: u64,
        chain: Chain,
    ) -> Result<JetStreamLog, Error> {
        let mut conn = Conn::open(url, opts)?;
        let meta = conn.meta()?.ok_or_else(|| conn.err("the stream holds no festival"))?;
        let chunk_bytes = conn.max_payload().saturating_sub(HEADER_ROOM).max(4096);
        Ok(JetStreamLog { conn, meta, stream_last, durable_seq, chain, chunk_bytes, poisoned: None })
    }

    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// The chain value after the last durable batch.
    pub fn chain(&self) -> Chain {
        self.chain
    }

    pub fn is_poisoned(&self) -> bool {
        self.poisoned.is_some()
    }

    /// The stream position this writer will fence its next publish on.
    pub fn stream_last(&self) -> u64 {
        self.stream_last
    }

    /// Cuts chunks at `bytes` (tests use it to force many chunks per batch).
    pub fn set_chunk_bytes(&mut self, bytes: usize) {
        self.chunk_bytes = bytes.max(1);
    }

    /// Publishes only the first of `of` equal parts of `batch`, as a writer that died
    /// after it would leave it (the torn-batch tests).
    #[doc(hidden)]
    pub fn publish_chunk_for_test(&mut self, batch: &SealedBatch, i: u32, of: u32) -> Result<(), StoreError> {
        let part = batch.bytes.len().div_ceil(of as usize);
        let c = batch.bytes.chunks(part).nth(i as usize).expect("a part");
        let id = format!("test-{}-{}-{i}", batch.first_seq, self.stream_last);
        self.stream_last = self.publish(&id, &format!("{} {} {i} {of}", batch.first_seq, batch.last_seq), c)?;
        Ok(())
    }

    fn publish_all(&mut self, batch: &SealedBatch) -> Result<(), StoreError> {
        let chunks: Vec<&[u8]> = batch.bytes.chunks(self.chunk_bytes).collect();
        let n = chunks.len() as u32;
        if n > read::MAX_CHUNKS {
            return Err(self.remote(format!(
                "a batch of {} bytes would take {n} chunks, more than {}",
                batch.bytes.len(),
                read::MAX_CHUNKS
            )));
        }
        let before = self.stream_last;
        let id = chain::hex(&self.meta.log_id[..8]);
        for (i, c) in chunks.iter().enumerate() {
            let msg_id = format!("{id}-{}-{before}-{i}", batch.first_seq);
            let header = format!("{} {} {i} {n}", batch.first_seq, batch.last_seq);
            self.stream_last = self.publish(&msg_id, &header, c)?;
        }
        Ok(())
    }

    /// Publishes one chunk fenced on the known end of the stream; its stream sequence.
    fn publish(&self, msg_id: &str, header: &str, payload: &[u8]) -> Result<u64, StoreError> {
        let subject = self.conn.layout.batch.clone();
        let mut last_err = String::new();
        for _ in 0..ATTEMPTS {
            let msg = PublishMessage::build()
                .payload(bytes::Bytes::copy_from_slice(payload))
                .message_id(msg_id)
                .expected_last_sequence(self.stream_last)
                .header(BATCH_HEADER, header);
            let r = self.conn.block_on(async { self.conn.js.send_publish(subject.clone(), msg).await?.await });
            match r {
                Ok(ack) => return Ok(ack.sequence),
                Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => {
                    return Err(StoreError::Overtaken { log: self.conn.url.to_string() });
                }
                Err(e) if matches!(e.kind(), PublishErrorKind::TimedOut | PublishErrorKind::BrokenPipe) => {
                    last_err = e.to_string();
                }
                Err(e) => return Err(self.remote(format!("JetStream refused the batch: {e}"))),
            }
        }
        Err(self.remote(format!("no acknowledgement after {ATTEMPTS} attempts: {last_err}")))
    }

    fn remote(&self, reason: String) -> StoreError {
        StoreError::Remote { url: self.conn.url.to_string(), reason }
    }
}

fn parse(conn: &Conn, src: &str) -> Result<Festival, Error> {
    dacu_core::festival::parse(src).map_err(|p| {
        let lines: Vec<String> = p.iter().map(|p| format!("{}:{}: {}", p.line, p.col, p.message)).collect();
        conn.err(format!("the festival is not valid:\n{}", lines.join("\n")))
    })
}

impl EventLog for JetStreamLog {
    fn append(&mut self, batch: &SealedBatch) -> Result<Committed, StoreError> {
        if let Some(why) = &self.poisoned {
            return Err(StoreError::Poisoned(why.clone()));
        }
        if batch.first_seq != self.durable_seq + 1 {
            return Err(StoreError::Fenced { expected: self.durable_seq + 1, got: batch.first_seq });
        }
        if let Err(e) = self.publish_all(batch) {
            self.poisoned = Some(e.to_string());
            return Err(e);
        }
        self.durable_seq = batch.last_seq;
        self.chain = batch.chain;
        Ok(Committed { first_seq: batch.first_seq, last_seq: batch.last_seq })
    }

    fn durable_seq(&self) -> u64 {
        self.durable_seq
    }
}
