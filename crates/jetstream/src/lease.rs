//! Leadership of a stream: a lease in the key-value bucket `{STREAM}-leader` (key
//! `leader`), held by the node that writes and renewed by it; the other nodes follow the
//! stream and take the lease over once it has gone unrenewed for the lease's time.
//!
//! The lease only says who *should* write. It never makes writing safe: that is the
//! stream's fencing (every publish expects the stream's last sequence), and a node that
//! takes the lease over publishes a marker on `{STREAM}.leader` before its first batch,
//! so an old leader that still believes it leads is refused on its next publish, however
//! long it was paused. Every change is compare-and-set on the key's revision: of two
//! nodes claiming at once, one wins.

use crate::stream::Conn;
use crate::url::LogUrl;
use crate::{Error, StreamOptions};
use async_nats::jetstream::kv;
use serde_json::json;

const KEY: &str = "leader";

/// Who holds (or last held) the lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// The holder's HTTP address, where followers send writers (`http://HOST:PORT`).
    pub addr: String,
    /// The holder's own name for itself: its address and process id.
    pub node: String,
    /// Counts takeovers: one more than the holder before.
    pub term: u64,
    /// Set when the holder let the lease go (a clean stop): a follower claims it at once.
    pub released: bool,
}

impl Holder {
    fn encode(&self) -> Vec<u8> {
        let v = json!({"addr": self.addr, "node": self.node, "term": self.term, "released": self.released});
        serde_json::to_vec(&v).expect("JSON of strings")
    }

    fn decode(bytes: &[u8]) -> Result<Holder, String> {
        let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| format!("the lease is not JSON: {e}"))?;
        let s = |k: &str| v[k].as_str().map(str::to_string).ok_or_else(|| format!("the lease has no `{k}`"));
        Ok(Holder {
            addr: s("addr")?,
            node: s("node")?,
            term: v["term"].as_u64().ok_or("the lease has no `term`")?,
            released: v["released"].as_bool().unwrap_or(false),
        })
    }
}

/// The lease as last read: its holder and the key's revision (none before the first
/// claim, or when the value cannot be read as a lease).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    pub holder: Option<Holder>,
    pub revision: Option<u64>,
}

/// The lease of one stream. Blocking: call it outside any async runtime.
pub struct Lease {
    conn: Conn,
    kv: kv::Store,
}

impl Lease {
    /// Connects and opens the stream's leader bucket, creating it when missing.
    pub fn open(url: &LogUrl, opts: &StreamOptions) -> Result<Lease, Error> {
        let conn = Conn::open(url, opts)?;
        let kv = conn.kv_bucket("leader", "leader")?;
        Ok(Lease { conn, kv })
    }

    /// The lease now.
    pub fn read(&self) -> Result<Seen, String> {
        let e = self.conn.block_on(self.kv.entry(KEY));
        match e.map_err(|e| format!("{}: cannot read the lease: {e}", self.conn.url))? {
            Some(e) if e.operation == kv::Operation::Put => {
                Ok(Seen { holder: Holder::decode(&e.value).ok(), revision: Some(e.revision) })
            }
            Some(e) => Ok(Seen { holder: None, revision: Some(e.revision) }),
            None => Ok(Seen::default()),
        }
    }

    /// Writes `holder` if the key is still at `revision` (`None`: no lease yet); the new
    /// revision, or an error when another node wrote it in between.
    pub fn write(&self, holder: &Holder, revision: Option<u64>) -> Result<u64, String> {
        let value = holder.encode().into();
        let r = self.conn.block_on(async {
            match revision {
                None => self.kv.create(KEY, value).await.map_err(|e| e.to_string()),
                Some(rev) => self.kv.update(KEY, value, rev).await.map_err(|e| e.to_string()),
            }
        });
        r.map_err(|e| format!("{}: the lease changed meanwhile, or cannot be written: {e}", self.conn.url))
    }
}
