//! Reading the stream's batches back: chunks joined into batches, each batch checked as
//! a file segment's is (record checksums, sequence numbers, the commit record and the
//! chain), then handed over.
//!
//! A writer that dies between the chunks of a batch leaves a torn batch: never
//! acknowledged, so never applied. The next writer starts its batch at the same event
//! sequence, and the reader drops the torn chunks when it sees a new batch begin. A torn
//! batch at the very end is the writer that is still writing, or died: readers wait, and
//! a writer taking over appends after it.

use crate::stream::Conn;
use crate::stream::StreamOptions;
use crate::url::LogUrl;
use crate::Error;
use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use async_nats::jetstream::stream::DirectGetErrorKind;
use dacu_log::chain::{Chain, LogId};
use dacu_log::segment::{self, End, Header};
use futures_util::StreamExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The header naming a chunk's batch: `FIRST_SEQ LAST_SEQ CHUNK CHUNKS` (events
/// `FIRST_SEQ..=LAST_SEQ`, chunk `CHUNK` of `CHUNKS`, from 0).
pub const BATCH_HEADER: &str = "Dacu-Batch";
/// No batch is cut into more chunks (a batch is at most a few MiB; chunks near 1 MiB).
pub const MAX_CHUNKS: u32 = 4096;

/// What one pull asks for while recovering: at most this many messages and bytes.
const PULL_MESSAGES: usize = 256;
const PULL_BYTES: usize = 16 << 20;

/// What takes each whole batch: its `(seq, payload)` records and the chain value after it.
pub type HandOver<'a> = dyn FnMut(&[(u64, &[u8])], Chain) -> Result<(), String> + 'a;

/// The chunks of a batch whose writer stopped before the last one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Torn {
    /// Stream sequence of its first chunk.
    pub stream_seq: u64,
    pub first_seq: u64,
    pub chunks: u32,
    pub of: u32,
}

/// Where reading stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// The last event of the last whole batch (0 for none).
    pub last_seq: u64,
    /// The chain value after it.
    pub chain: Chain,
    /// The stream's last sequence read (whole batches and torn chunks alike).
    pub stream_last: u64,
    /// The stream sequence of the last whole batch's last chunk (1, the meta message,
    /// when there is none): where a snapshot of this state sits in the stream.
    pub batch_end: u64,
    pub batches: u64,
    /// Torn batches dropped, the one at the end included.
    pub torn: Vec<Torn>,
}

struct Pending {
    stream_seq: u64,
    first: u64,
    last: u64,
    of: u32,
    got: u32,
    bytes: Vec<u8>,
}

/// Joins chunks into batches and checks them. Pure: fed by [`read`] from the stream and
/// by the tests from anything.
pub struct Assembler {
    log_id: LogId,
    done: Recovered,
    pending: Option<Pending>,
}

/// Parses a chunk header's value.
pub fn parse_header(v: &str) -> Result<(u64, u64, u32, u32), String> {
    let bad = || format!("{BATCH_HEADER} `{v}` is not FIRST_SEQ LAST_SEQ CHUNK CHUNKS");
    let p: Vec<&str> = v.split(' ').collect();
    if p.len() != 4 {
        return Err(bad());
    }
    let (first, last) = (p[0].parse::<u64>().map_err(|_| bad())?, p[1].parse::<u64>().map_err(|_| bad())?);
    let (i, n) = (p[2].parse::<u32>().map_err(|_| bad())?, p[3].parse::<u32>().map_err(|_| bad())?);
    if first == 0 || last < first || n == 0 || n > MAX_CHUNKS || i >= n {
        return Err(bad());
    }
    Ok((first, last, i, n))
}

impl Assembler {
    /// Reads a log whose last whole batch ends at event `last_seq` with chain `chain`
    /// (0 and the genesis for a new log).
    pub fn new(log_id: LogId, last_seq: u64, chain: Chain, stream_last: u64) -> Assembler {
        Assembler {
            log_id,
            done: Recovered { last_seq, chain, stream_last, batch_end: stream_last, batches: 0, torn: Vec::new() },
            pending: None,
        }
    }

    /// Takes the chunk at stream sequence `seq`; hands a batch to `f` when it is whole.
    pub fn push(&mut self, seq: u64, header: &str, payload: &[u8], f: &mut HandOver<'_>) -> Result<(), String> {
        let (first, last, i, n) = parse_header(header)?;
        self.done.stream_last = seq;
        if i == 0 {
            if let Some(p) = self.pending.take() {
                self.done.torn.push(Torn { stream_seq: p.stream_seq, first_seq: p.first, chunks: p.got, of: p.of });
            }
            if first != self.done.last_seq + 1 {
                return Err(format!("a batch begins at event {first} where {} was expected", self.done.last_seq + 1));
            }
            self.pending = Some(Pending { stream_seq: seq, first, last, of: n, got: 0, bytes: Vec::new() });
        }
        let p = self.pending.as_mut().ok_or_else(|| format!("chunk {i} of {n} with no chunk 0 before it"))?;
        if (p.first, p.last, p.of, p.got) != (first, last, n, i) {
            return Err(format!("chunk {i} of {n} of events {first}..={last} does not continue the batch being read"));
        }
        p.bytes.extend_from_slice(payload);
        p.got += 1;
        if p.got == p.of {
            let p = self.pending.take().expect("a pending batch");
            self.check_and_hand_over(&p, f)?;
            self.done.batch_end = seq;
        }
        Ok(())
    }

    fn check_and_hand_over(&mut self, p: &Pending, f: &mut HandOver<'_>) -> Result<(), String> {
        let header =
            Header { version: segment::VERSION, first_seq: p.first, log_id: self.log_id, chain: Some(self.done.chain) };
        let mut batches = 0;
        let scan = segment::scan_from(&p.bytes, &header, 0, p.first, self.done.chain, |b| {
            batches += 1;
            f(b.records, b.chain)
        });
        match scan.end {
            End::Clean if batches == 1 && scan.last_seq == p.last => {}
            End::Clean => {
                return Err(format!(
                    "the batch of events {}..={} holds {batches} commits ending at event {}",
                    p.first, p.last, scan.last_seq
                ))
            }
            End::Incomplete { at } => {
                return Err(format!("the batch of events {}..={} is cut at byte {at}", p.first, p.last))
            }
            End::Corrupt { at, reason } => {
                return Err(format!("the batch of events {}..={} is damaged at byte {at}: {reason}", p.first, p.last))
            }
        }
        self.done.last_seq = scan.last_seq;
        self.done.chain = scan.chain;
        self.done.batches += 1;
        Ok(())
    }

    /// The last event of the last whole batch.
    pub fn last_seq(&self) -> u64 {
        self.done.last_seq
    }

    /// The chain value after it.
    pub fn chain(&self) -> Chain {
        self.done.chain
    }

    /// Where reading ended; a batch still incomplete is reported torn.
    pub fn finish(mut self) -> Recovered {
        if let Some(p) = self.pending.take() {
            self.done.torn.push(Torn { stream_seq: p.stream_seq, first_seq: p.first, chunks: p.got, of: p.of });
        }
        self.done
    }
}

/// Reads the batch subject from stream sequence `from` through `through` (the stream's
/// last sequence when reading began), continuing `asm`.
pub fn read(
    conn: &Conn,
    mut asm: Assembler,
    from: u64,
    through: u64,
    f: &mut HandOver<'_>,
) -> Result<Recovered, Error> {
    if from > through {
        return Ok(asm.finish());
    }
    // A plain pull consumer, unacknowledged and ephemeral, pulling a bounded number of
    // bytes at a time: an ordered consumer pulls 500 messages at once, and of messages
    // near a MiB each that is more than a client takes before the server drops it as slow.
    let config = pull::Config {
        filter_subject: conn.layout.batch.clone(),
        deliver_policy: DeliverPolicy::ByStartSequence { start_sequence: from },
        ack_policy: AckPolicy::None,
        inactive_threshold: Duration::from_secs(30),
        memory_storage: true,
        num_replicas: 1,
        ..Default::default()
    };
    conn.block_on(async {
        let consumer = crate::stream::settle(conn.opts.settle, || conn.stream.create_consumer(config.clone()))
            .await
            .map_err(|e| conn.err(format!("cannot read the stream: {e}")))?;
        if consumer.cached_info().num_pending == 0 {
            return Ok(asm.finish());
        }
        let mut messages = consumer
            .stream()
            .max_messages_per_batch(PULL_MESSAGES)
            .max_bytes_per_batch(PULL_BYTES)
            .messages()
            .await
            .map_err(|e| conn.err(format!("cannot read the stream: {e}")))?;
        while let Some(m) = messages.next().await {
            let m = m.map_err(|e| conn.err(format!("reading the stream: {e}")))?;
            let seq = m.info().map_err(|e| conn.err(format!("a message without its position: {e}")))?.stream_sequence;
            let header = m.headers.as_ref().and_then(|h| h.get(BATCH_HEADER)).map(|v| v.as_str().to_string());
            let header = header
                .ok_or_else(|| conn.corrupt(seq, format!("a message on the batch subject without {BATCH_HEADER}")))?;
            asm.push(seq, &header, &m.payload, f).map_err(|e| conn.corrupt(seq, e))?;
            let pending = m.info().map_or(0, |i| i.pending);
            if seq >= through || pending == 0 {
                break;
            }
        }
        Ok(asm.finish())
    })
}

/// Reading the stream as its writer appends, a message at a time: the read view's
/// source on a node whose log is a stream. It holds one message's worth of memory however
/// far behind it falls.
pub struct Follow {
    conn: Conn,
    asm: Assembler,
    /// The stream sequence of the next message to read.
    next_stream: u64,
    /// The stream sequence of the last whole batch handed over (the snapshots read it).
    position: Arc<AtomicU64>,
}

impl Follow {
    /// Follows `url` from stream sequence `next_stream`, where the last whole batch read
    /// ended at event `last_seq` with chain value `chain` (what [`Recovered`] says).
    /// `position` is set to each whole batch's last stream sequence as it is handed over.
    pub fn open(
        url: &LogUrl,
        opts: &StreamOptions,
        log_id: LogId,
        from: &Recovered,
        position: Arc<AtomicU64>,
    ) -> Result<Follow, Error> {
        let conn = Conn::open(url, opts)?;
        position.store(from.batch_end, Ordering::SeqCst);
        // Torn chunks at the end are read again: the batch may yet be completed.
        let next_stream = from
            .torn
            .last()
            .filter(|t| t.first_seq == from.last_seq + 1)
            .map_or(from.stream_last + 1, |t| t.stream_seq);
        let mut asm = Assembler::new(log_id, from.last_seq, from.chain, next_stream - 1);
        asm.done.batch_end = from.batch_end;
        Ok(Follow { conn, asm, next_stream, position })
    }

    /// The seq of the next event to hand over.
    pub fn next_seq(&self) -> u64 {
        self.asm.last_seq() + 1
    }

    /// The stream sequence of the last message read, whatever its subject.
    pub fn stream_read(&self) -> u64 {
        self.next_stream - 1
    }

    /// The chain value after the last whole batch handed over.
    pub fn chain(&self) -> Chain {
        self.asm.chain()
    }

    /// Publishes a takeover marker (`holder`, on the leader subject) if the stream still
    /// ends at the last message read: its stream sequence, after which this reader's
    /// position is the whole stream's end and nothing another writer published before is
    /// unread. `None` when the stream has grown meanwhile: read on, then try again.
    pub fn claim_end(&mut self, holder: &str) -> Result<Option<u64>, Error> {
        use async_nats::jetstream::context::PublishErrorKind;
        let msg = async_nats::jetstream::message::PublishMessage::build()
            .payload(bytes::Bytes::copy_from_slice(holder.as_bytes()))
            .expected_last_sequence(self.stream_read());
        let subject = self.conn.layout.leader.clone();
        let r = self.conn.block_on(async { self.conn.js.send_publish(subject, msg).await?.await });
        match r {
            Ok(ack) => {
                self.next_stream = ack.sequence + 1;
                Ok(Some(ack.sequence))
            }
            Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => Ok(None),
            Err(e) => Err(self.conn.err(format!("cannot publish the takeover marker: {e}"))),
        }
    }

    /// Whether the stream holds a message after the last one read (a direct get of the
    /// next sequence): the read view's way to tell a follower's lag is zero.
    pub fn at_end(&self) -> Result<bool, Error> {
        let (stream, seq) = (&self.conn.stream, self.next_stream);
        let got = self.conn.block_on(async move { stream.direct_get(seq).await });
        match got {
            Ok(_) => Ok(false),
            Err(e) if e.kind() == DirectGetErrorKind::NotFound => Ok(true),
            Err(e) => Err(self.conn.err(format!("reading stream sequence {seq}: {e}"))),
        }
    }

    /// The last event of the stream's last batch now (its header's `LAST_SEQ`; 0 for
    /// none): how far a follower has to go.
    pub fn last_event(&self) -> Result<u64, Error> {
        let (stream, subject) = (&self.conn.stream, self.conn.layout.batch.clone());
        let got = self.conn.block_on(async move { stream.direct_get_last_for_subject(subject).await });
        let m = match got {
            Ok(m) => m,
            Err(e) if e.kind() == DirectGetErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(self.conn.err(format!("reading the stream's last batch: {e}"))),
        };
        let header = m.headers.get(BATCH_HEADER).map(|v| v.as_str().to_string()).unwrap_or_default();
        let (_, last, _, _) = parse_header(&header).map_err(|e| self.conn.corrupt(m.sequence, e))?;
        Ok(last)
    }

    pub fn url(&self) -> &LogUrl {
        &self.conn.url
    }

    pub fn opts(&self) -> &StreamOptions {
        &self.conn.opts
    }

    /// Hands over, in order, every whole batch whose events are all at or before
    /// `through`, then returns; a batch not yet whole waits for the next call.
    pub fn read(&mut self, through: u64, f: &mut HandOver<'_>) -> Result<(), Error> {
        while self.asm.last_seq() < through {
            let (stream, seq) = (&self.conn.stream, self.next_stream);
            let got = self.conn.block_on(crate::stream::settle(self.conn.opts.settle, || async move {
                match stream.direct_get(seq).await {
                    Err(e) if e.kind() == DirectGetErrorKind::NotFound => Ok(None),
                    r => r.map(Some),
                }
            }));
            let m = match got {
                Ok(Some(m)) => m,
                Ok(None) => return Ok(()),
                Err(e) => return Err(self.conn.err(format!("reading stream sequence {seq}: {e}"))),
            };
            if m.subject.as_str() == self.conn.layout.batch {
                let seq = m.sequence;
                let header = m.headers.get(BATCH_HEADER).map(|v| v.as_str().to_string());
                let header =
                    header.ok_or_else(|| self.conn.corrupt(seq, format!("a batch message without {BATCH_HEADER}")))?;
                let (_, last, _, _) = parse_header(&header).map_err(|e| self.conn.corrupt(seq, e))?;
                if last > through {
                    return Ok(());
                }
                self.asm.push(seq, &header, &m.payload, f).map_err(|e| self.conn.corrupt(seq, e))?;
                self.position.store(self.asm.done.batch_end, Ordering::SeqCst);
            }
            self.next_stream += 1;
        }
        Ok(())
    }
}
