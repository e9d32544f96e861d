//! API tokens as replicated state: the token records of every node serving a stream, in
//! the JetStream key-value bucket `{STREAM}-tokens` (key `tokens`, the same JSON a data
//! directory's `tokens.json` holds). A token minted on one node — by `dacu token create
//! --log` or through the API — works on every node of the stream: a node that does not
//! know a token reads the bucket again before refusing it. Changes are compare-and-set on
//! the key's revision, so two nodes changing tokens at once never lose one's change.

use crate::stream::Conn;
use crate::url::LogUrl;
use crate::{Error, StreamOptions};
use async_nats::jetstream::kv;

const KEY: &str = "tokens";

/// The tokens bucket of one stream. Its methods are `async` (they run on the caller's
/// runtime; the connection's own tasks run on the connection's), except [`Bucket::open`].
pub struct Bucket {
    conn: Conn,
    kv: kv::Store,
}

/// The tokens as last read: their JSON and the key's revision (`None` when the bucket
/// holds none yet).
#[derive(Debug, Clone, Default)]
pub struct Read {
    pub json: Option<Vec<u8>>,
    pub revision: Option<u64>,
}

impl Bucket {
    /// Connects and opens the bucket, creating it when missing. Blocking: call it outside
    /// any async runtime.
    pub fn open(url: &LogUrl, opts: &StreamOptions) -> Result<Bucket, Error> {
        let conn = Conn::open(url, opts)?;
        let kv = conn.kv_bucket("tokens", "tokens")?;
        Ok(Bucket { conn, kv })
    }

    /// The tokens now.
    pub async fn read(&self) -> Result<Read, String> {
        match self.kv.entry(KEY).await.map_err(|e| format!("{}: cannot read the tokens: {e}", self.conn.url))? {
            Some(e) if e.operation == kv::Operation::Put => {
                Ok(Read { json: Some(e.value.to_vec()), revision: Some(e.revision) })
            }
            Some(e) => Ok(Read { json: None, revision: Some(e.revision) }),
            None => Ok(Read::default()),
        }
    }

    /// Stores `json` if the key is still at `revision` (as [`Bucket::read`] gave it); the
    /// new revision, or an error when another node changed the tokens in between (read
    /// again and redo the change).
    pub async fn write(&self, json: Vec<u8>, revision: Option<u64>) -> Result<u64, String> {
        let r = match revision {
            None => self.kv.create(KEY, json.into()).await.map_err(|e| e.to_string()),
            Some(rev) => self.kv.update(KEY, json.into(), rev).await.map_err(|e| e.to_string()),
        };
        r.map_err(|e| format!("{}: the tokens changed meanwhile, or cannot be written: {e}", self.conn.url))
    }

    /// [`Bucket::read`] from outside any async runtime.
    pub fn read_blocking(&self) -> Result<Read, String> {
        self.conn.block_on(self.read())
    }

    /// [`Bucket::write`] from outside any async runtime.
    pub fn write_blocking(&self, json: Vec<u8>, revision: Option<u64>) -> Result<u64, String> {
        self.conn.block_on(self.write(json, revision))
    }
}
