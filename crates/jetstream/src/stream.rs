//! Connecting to the server, the stream's configuration, and its meta message.
//!
//! The client is asynchronous and the writer is a thread of its own, so a connection owns
//! a one-worker runtime and blocks on it: the connection's own tasks (pings, flushing)
//! keep running on that worker between appends.

use crate::url::LogUrl;
use crate::Error;
use async_nats::jetstream::{self, context::PublishErrorKind, message::PublishMessage, stream};
use dacu_log::chain::LogId;
use serde_json::json;
use std::future::Future;
use std::time::Duration;

/// How the stream is made when dacu creates it, and how long to wait for the server.
#[derive(Debug, Clone)]
pub struct StreamOptions {
    /// Copies of each message JetStream keeps: 1 on one server, 3 in a production cluster
    /// (docs/scale-out.md).
    pub replicas: usize,
    pub connect_timeout: Duration,
    /// How long one publish waits for JetStream's acknowledgement before it is retried.
    pub ack_timeout: Duration,
    /// How long opening the stream and reading it are retried while a cluster elects its
    /// leaders (after a server was lost, a few seconds).
    pub settle: Duration,
}

impl Default for StreamOptions {
    fn default() -> StreamOptions {
        StreamOptions {
            replicas: 1,
            connect_timeout: Duration::from_secs(5),
            ack_timeout: Duration::from_secs(5),
            settle: Duration::from_secs(20),
        }
    }
}

/// The subjects of one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub stream: String,
    pub meta: String,
    pub batch: String,
    /// Takeover markers: a new leader's first message (crate::lease).
    pub leader: String,
}

impl Layout {
    pub fn new(stream: &str) -> Layout {
        Layout {
            stream: stream.to_string(),
            meta: format!("{stream}.meta"),
            batch: format!("{stream}.batch"),
            leader: format!("{stream}.leader"),
        }
    }
}

/// The stream's first message: whose log it is and the festival it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    pub log_id: LogId,
    /// The festival file's source, as `dacu serve --festival` read it.
    pub festival: String,
}

/// The meta message's format; a reader refuses another.
pub const META_FORMAT: u64 = 1;

impl Meta {
    fn encode(&self) -> Vec<u8> {
        let v = json!({"dacu_stream": META_FORMAT, "log_id": dacu_log::chain::hex(&self.log_id), "festival": self.festival});
        serde_json::to_vec(&v).expect("JSON of strings")
    }

    fn decode(bytes: &[u8]) -> Result<Meta, String> {
        let v: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| format!("the meta message is not JSON: {e}"))?;
        if v["dacu_stream"].as_u64() != Some(META_FORMAT) {
            return Err(format!("the meta message is not format {META_FORMAT}: {}", v["dacu_stream"]));
        }
        let hex = v["log_id"].as_str().ok_or("the meta message has no log_id")?;
        let mut log_id = [0u8; 16];
        if hex.len() != 32 {
            return Err(format!("the meta message's log_id `{hex}` is not 32 hex digits"));
        }
        for (i, b) in log_id.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| format!("bad log_id `{hex}`"))?;
        }
        let festival = v["festival"].as_str().ok_or("the meta message has no festival")?.to_string();
        Ok(Meta { log_id, festival })
    }
}

/// A connection to one stream.
pub struct Conn {
    rt: tokio::runtime::Runtime,
    pub(crate) js: jetstream::Context,
    pub(crate) stream: stream::Stream,
    pub url: LogUrl,
    pub layout: Layout,
    pub opts: StreamOptions,
    max_payload: usize,
    /// The stream's own replicas (an existing stream keeps its configuration): the
    /// snapshot and token buckets are made with as many.
    pub replicas: usize,
}

impl Conn {
    /// Connects and opens the stream, creating it (empty) when the server has none of
    /// that name.
    pub fn open(url: &LogUrl, opts: &StreamOptions) -> Result<Conn, Error> {
        let server_err = |reason: String| Error::Server { url: url.to_string(), reason };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("dacu-jetstream")
            .enable_all()
            .build()
            .map_err(|e| server_err(format!("cannot start the client's runtime: {e}")))?;
        let layout = Layout::new(&url.stream);
        let (js, stream, max_payload) = rt.block_on(async {
            let client = async_nats::ConnectOptions::new()
                .connection_timeout(opts.connect_timeout)
                .connect(url.server.as_str())
                .await
                .map_err(|e| server_err(format!("cannot connect: {e}")))?;
            let max_payload = client.server_info().max_payload;
            let mut js = jetstream::new(client);
            js.set_timeout(opts.ack_timeout);
            let config = stream::Config {
                name: layout.stream.clone(),
                subjects: vec![format!("{}.>", layout.stream)],
                storage: stream::StorageType::File,
                num_replicas: opts.replicas,
                // The log is the truth: nothing in it is ever removed.
                deny_delete: true,
                deny_purge: true,
                allow_direct: true,
                duplicate_window: Duration::from_secs(120),
                ..Default::default()
            };
            let stream = settle(opts.settle, || js.get_or_create_stream(config.clone()))
                .await
                .map_err(|e| server_err(format!("cannot open or create stream {}: {e}", layout.stream)))?;
            Ok::<_, Error>((js, stream, max_payload))
        })?;
        let replicas = stream.cached_info().config.num_replicas.max(1);
        Ok(Conn { rt, js, stream, url: url.clone(), layout, opts: opts.clone(), max_payload, replicas })
    }

    /// The key-value bucket `{STREAM}-{suffix}` (history 1, the stream's replicas),
    /// created when missing; `what` names it in the error.
    pub(crate) fn kv_bucket(&self, suffix: &str, what: &str) -> Result<jetstream::kv::Store, Error> {
        use async_nats::jetstream::kv;
        let name = format!("{}-{suffix}", self.layout.stream);
        let got = self.block_on(settle(self.opts.settle, || async {
            match self.js.get_key_value(&name).await {
                Ok(s) => Ok(s),
                Err(_) => {
                    let config = kv::Config {
                        bucket: name.clone(),
                        history: 1,
                        num_replicas: self.replicas,
                        ..Default::default()
                    };
                    self.js.create_key_value(config).await.map_err(|e| e.to_string())
                }
            }
        }));
        got.map_err(|e| self.err(format!("cannot open the {what} bucket {name}: {e}")))
    }

    /// The largest message the server takes, headers included.
    pub fn max_payload(&self) -> usize {
        self.max_payload
    }

    pub(crate) fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    pub(crate) fn err(&self, reason: impl Into<String>) -> Error {
        Error::Server { url: self.url.to_string(), reason: reason.into() }
    }

    pub(crate) fn corrupt(&self, at: u64, reason: impl Into<String>) -> Error {
        Error::Corrupt { url: self.url.to_string(), at, reason: reason.into() }
    }

    /// The stream's last sequence now (0 when empty).
    pub fn last_sequence(&mut self) -> Result<u64, Error> {
        let within = self.opts.settle;
        let r = self.rt.block_on(settle(within, || async {
            let mut st = self.stream.clone();
            st.info().await.map(|i| i.state.last_sequence)
        }));
        r.map_err(|e| self.err(format!("cannot read the stream's state: {e}")))
    }

    /// The meta message, or `None` while the stream is empty.
    pub fn meta(&mut self) -> Result<Option<Meta>, Error> {
        if self.last_sequence()? == 0 {
            return Ok(None);
        }
        let m = self.get(1)?;
        if m.subject.as_str() != self.layout.meta {
            return Err(self.corrupt(1, format!("the first message is on {}, not {}", m.subject, self.layout.meta)));
        }
        Meta::decode(&m.payload).map(Some).map_err(|e| self.corrupt(1, e))
    }

    /// Writes the meta message as the stream's first, unless another writer did first:
    /// then that one is the stream's.
    pub fn create_meta(&mut self, festival: &str) -> Result<Meta, Error> {
        let log_id = dacu_log::chain::new_log_id().map_err(|e| self.err(e.to_string()))?;
        let mine = Meta { log_id, festival: festival.to_string() };
        let msg = PublishMessage::build().payload(mine.encode().into()).expected_last_sequence(0);
        let subject = self.layout.meta.clone();
        let r = self.rt.block_on(async { self.js.send_publish(subject, msg).await?.await });
        match r {
            // Read back what is first, whoever wrote it: two creators racing may both be
            // stored (a server may not hold an expected sequence of 0 against an empty
            // stream), and only the message at sequence 1 is the stream's.
            Ok(_) => self.meta()?.ok_or_else(|| self.err("the meta message was acknowledged but is not there")),
            Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => {
                self.meta()?.ok_or_else(|| self.err("the stream is not empty but has no meta message"))
            }
            Err(e) => Err(self.err(format!("cannot write the meta message: {e}"))),
        }
    }

    /// One message by stream sequence, from the stream's leader (so never behind an
    /// acknowledged write).
    pub(crate) fn get(&self, seq: u64) -> Result<jetstream::message::StreamMessage, Error> {
        let r = self.rt.block_on(settle(self.opts.settle, || self.stream.get_raw_message(seq)));
        r.map_err(|e| self.err(format!("cannot read stream sequence {seq}: {e}")))
    }
}

/// Runs `f` until it succeeds or `within` has passed (then its last error): for the
/// requests a cluster cannot answer while it elects a leader.
pub(crate) async fn settle<T, E, F: Future<Output = Result<T, E>>>(
    within: Duration,
    mut f: impl FnMut() -> F,
) -> Result<T, E> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if tokio::time::Instant::now() >= deadline => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}
