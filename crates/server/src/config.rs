//! The service's settings: one TOML file, every key with a default, each key overridable
//! by an environment variable (`DACU_SECTION_KEY`) and by a flag (`--set section.key=VALUE`,
//! applied last). docs/api.md lists every key.

use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where to listen.
    pub listen: String,
    /// Threads answering HTTP; 0: one per core.
    pub workers: usize,
    pub batch: Batch,
    pub limits: Limits,
    pub idempotency: Idempotency,
    pub push: Push,
    pub snapshots: Snapshots,
    pub clock: ClockConfig,
    pub report: ReportConfig,
    pub log: LogConfig,
}

/// The replicated log (`dacu serve --log`; docs/scale-out.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// Copies JetStream keeps of each message when dacu creates the stream: 1 on one
    /// server, 3 (or 5) in a cluster. An existing stream keeps its own.
    pub replicas: usize,
    /// How long the leader's lease may go unrenewed before a follower takes over.
    pub lease_ms: u64,
    /// How often the leader renews its lease.
    pub renew_ms: u64,
    /// The address other nodes send writers to (`http://HOST:PORT`); empty: the address
    /// this node listens on.
    pub advertise: String,
    /// A read replica (`dacu serve --replica`): follows the stream, serves reads, never
    /// leads.
    pub replica: bool,
}

impl Default for LogConfig {
    fn default() -> LogConfig {
        LogConfig { replicas: 1, lease_ms: 1500, renew_ms: 300, advertise: String::new(), replica: false }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportConfig {
    /// The previous festival, for the year-on-year figures of `/v1/report` and the
    /// console: its data directory, or a JSON file of its figures (as `dacu report
    /// --baseline`). Empty: none.
    pub baseline: String,
    /// A reference period for the figures about a month outside the festival: its data
    /// directory, or a JSON file of its anchor-tier shares (as `dacu report --reference`).
    /// Empty: none.
    pub reference: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Batch {
    /// A commit batch is ready at this many commands…
    pub commands: usize,
    /// … or this many microseconds after its first one.
    pub wait_us: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Requests waiting for the writer; more is 503 with `Retry-After`.
    pub queue_requests: usize,
    /// Bytes in one request body; more is 413.
    pub body_bytes: usize,
    /// Commands in one `POST /v1/commands`; more is 413.
    pub batch_commands: usize,
    /// A request still unanswered after this long is 503.
    pub request_timeout_ms: u64,
    /// Connections served at once; more wait in the listen queue.
    pub connections: usize,
    /// Requests per second per token (a token bucket); more is 429 with `Retry-After`.
    pub rate_per_token: u32,
    /// The bucket's size: how many requests a token may make at once.
    pub rate_burst: u32,
    /// How long a read waits for the read view to reach `at_least`.
    pub read_wait_ms: u64,
    /// Tokens kept at most.
    pub tokens: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Idempotency {
    /// How long, in festival time, a key's response is kept.
    pub window_s: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Push {
    /// A topic sends at most one update per this many milliseconds.
    pub coalesce_ms: u64,
    /// Updates queued for one subscriber at most; a subscriber that falls further behind
    /// is disconnected.
    pub client_queue: usize,
    /// Subscribers at once; more is 503.
    pub subscribers: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Snapshots {
    /// Events between periodic snapshots.
    pub every: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClockConfig {
    /// `"system"`: commands sent without a time are stamped with the system clock. Or a
    /// festival time (RFC 3339) that the service's clock reads when it starts, running at
    /// `speed` — a rehearsal of a past or future festival.
    pub start: String,
    /// Festival seconds per real second (with a `start` time).
    pub speed: f64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            listen: "127.0.0.1:7116".into(),
            workers: 0,
            batch: Batch::default(),
            limits: Limits::default(),
            idempotency: Idempotency::default(),
            push: Push::default(),
            snapshots: Snapshots::default(),
            clock: ClockConfig::default(),
            report: ReportConfig::default(),
            log: LogConfig::default(),
        }
    }
}

impl Default for Batch {
    fn default() -> Batch {
        Batch { commands: 8192, wait_us: 200 }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            queue_requests: 4096,
            body_bytes: 4 << 20,
            batch_commands: 10_000,
            request_timeout_ms: 10_000,
            connections: 1024,
            rate_per_token: 20_000,
            rate_burst: 40_000,
            read_wait_ms: 2_000,
            tokens: 100_000,
        }
    }
}

impl Default for Idempotency {
    fn default() -> Idempotency {
        Idempotency { window_s: 86_400 }
    }
}

impl Default for Push {
    fn default() -> Push {
        Push { coalesce_ms: 250, client_queue: 64, subscribers: 10_000 }
    }
}

impl Default for Snapshots {
    fn default() -> Snapshots {
        Snapshots { every: 5_000_000 }
    }
}

impl Default for ClockConfig {
    fn default() -> ClockConfig {
        ClockConfig { start: "system".into(), speed: 1.0 }
    }
}

impl Config {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.limits.request_timeout_ms)
    }

    pub fn read_wait(&self) -> Duration {
        Duration::from_millis(self.limits.read_wait_ms)
    }

    /// The HTTP threads to start: `workers`, or for 0 one per core (at least 1).
    pub fn worker_threads(&self, cores: usize) -> usize {
        match self.workers {
            0 => cores.max(1),
            n => n,
        }
    }
}

/// The most HTTP threads `workers` may ask for.
pub const MAX_WORKERS: usize = 1024;

/// Builds the settings: the file (if any), then `DACU_*` variables from `env`, then the
/// `section.key=value` overrides, each value read as TOML (a bare word as a string).
pub fn load(
    file: Option<&str>,
    env: impl IntoIterator<Item = (String, String)>,
    sets: &[String],
) -> Result<Config, String> {
    let mut doc: toml::Table = match file {
        Some(src) => src.parse().map_err(|e| format!("the config file: {e}"))?,
        None => toml::Table::new(),
    };
    let known = keys();
    for (k, v) in env {
        let Some(name) = k.strip_prefix("DACU_") else { continue };
        let name = name.to_ascii_lowercase();
        let Some(path) = known.iter().find(|p| p.replace('.', "_") == name) else { continue };
        set(&mut doc, path, &v).map_err(|e| format!("{k}: {e}"))?;
    }
    for s in sets {
        let (path, v) = s.split_once('=').ok_or_else(|| format!("--set {s}: give section.key=value"))?;
        if !known.iter().any(|k| k == path) {
            return Err(format!("--set {s}: no setting `{path}`; the settings are: {}", known.join(", ")));
        }
        set(&mut doc, path, v).map_err(|e| format!("--set {s}: {e}"))?;
    }
    let cfg: Config = toml::Value::Table(doc).try_into().map_err(|e: toml::de::Error| e.message().to_string())?;
    cfg.validate()?;
    Ok(cfg)
}

/// Every settable key, as `section.key` (or `key` at the top).
pub fn keys() -> Vec<String> {
    let v = toml::Value::try_from(Config::default()).expect("the defaults serialise");
    let mut out = Vec::new();
    for (k, x) in v.as_table().expect("a table") {
        match x.as_table() {
            Some(t) => out.extend(t.keys().map(|k2| format!("{k}.{k2}"))),
            None => out.push(k.clone()),
        }
    }
    out
}

fn set(doc: &mut toml::Table, path: &str, raw: &str) -> Result<(), String> {
    let value: toml::Value = match format!("v = {raw}").parse::<toml::Table>() {
        Ok(mut t) => t.remove("v").expect("v"),
        Err(_) => toml::Value::String(raw.to_string()),
    };
    let mut parts = path.split('.').collect::<Vec<_>>();
    let last = parts.pop().ok_or("an empty key")?;
    let mut table = doc;
    for p in parts {
        table = table
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .ok_or_else(|| format!("`{p}` is not a section"))?;
    }
    table.insert(last.to_string(), value);
    Ok(())
}

impl Config {
    fn validate(&self) -> Result<(), String> {
        let positive = [
            ("batch.commands", self.batch.commands as u64),
            ("limits.queue_requests", self.limits.queue_requests as u64),
            ("limits.body_bytes", self.limits.body_bytes as u64),
            ("limits.batch_commands", self.limits.batch_commands as u64),
            ("limits.request_timeout_ms", self.limits.request_timeout_ms),
            ("limits.connections", self.limits.connections as u64),
            ("limits.rate_burst", self.limits.rate_burst as u64),
            ("limits.tokens", self.limits.tokens as u64),
            ("push.client_queue", self.push.client_queue as u64),
            ("push.subscribers", self.push.subscribers as u64),
        ];
        for (k, v) in positive {
            if v == 0 {
                return Err(format!("`{k}` must be above 0"));
            }
        }
        if self.workers > MAX_WORKERS {
            return Err(format!("`workers` must be 0 (automatic) to {MAX_WORKERS}, got {}", self.workers));
        }
        if !(1..=30 * 86_400).contains(&self.idempotency.window_s) {
            return Err(format!(
                "`idempotency.window_s` must be 1 to 2592000 seconds (30 days), got {}",
                self.idempotency.window_s
            ));
        }
        if self.limits.batch_commands > 65_536 {
            return Err("`limits.batch_commands` must be at most 65536 (the node's request limit)".into());
        }
        if self.clock.start != "system" && dacu_core::Ts::parse(&self.clock.start).is_err() {
            return Err(format!("`clock.start` is \"system\" or an RFC 3339 time, got \"{}\"", self.clock.start));
        }
        if !(1..=5).contains(&self.log.replicas) {
            return Err(format!("`log.replicas` must be 1 to 5 (JetStream's limit), got {}", self.log.replicas));
        }
        if !(200..=60_000).contains(&self.log.lease_ms) {
            return Err(format!("`log.lease_ms` must be 200 to 60000, got {}", self.log.lease_ms));
        }
        if self.log.renew_ms == 0 || self.log.renew_ms * 2 > self.log.lease_ms {
            return Err(format!(
                "`log.renew_ms` must be above 0 and at most half of `log.lease_ms` ({}), got {}",
                self.log.lease_ms, self.log.renew_ms
            ));
        }
        let a = &self.log.advertise;
        let http = a.starts_with("http://") || a.starts_with("https://");
        if !(a.is_empty() || http) || a.len() > 256 {
            return Err(format!("`log.advertise` is empty or an http(s):// address of at most 256 bytes, got \"{a}\""));
        }
        if !(self.clock.speed > 0.0 && self.clock.speed <= 1e6) {
            return Err(format!("`clock.speed` must be above 0 and at most 1000000, got {}", self.clock.speed));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_file_env_and_flags_apply_in_that_order() {
        let c = load(None, Vec::new(), &[]).unwrap();
        assert_eq!((c.listen.as_str(), c.batch.commands), ("127.0.0.1:7116", 8192));
        let file = "listen = \"127.0.0.1:9000\"\n[limits]\nbody_bytes = 1000\n";
        let env = vec![("DACU_LIMITS_BODY_BYTES".to_string(), "2000".to_string()), ("HOME".into(), "/".into())];
        let c = load(Some(file), env.clone(), &[]).unwrap();
        assert_eq!((c.listen.as_str(), c.limits.body_bytes), ("127.0.0.1:9000", 2000));
        let c = load(Some(file), env, &["limits.body_bytes=3000".into(), "listen=0.0.0.0:1".into()]).unwrap();
        assert_eq!((c.listen.as_str(), c.limits.body_bytes), ("0.0.0.0:1", 3000));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_with_what_would_be_accepted() {
        let e = load(Some("[limits]\nbody_byte = 1\n"), Vec::new(), &[]).unwrap_err();
        assert!(e.contains("body_byte"), "{e}");
        let e = load(None, Vec::new(), &["limits.nope=1".into()]).unwrap_err();
        assert!(e.contains("limits.body_bytes"), "{e}");
        let e = load(None, Vec::new(), &["limits.body_bytes=0".into()]).unwrap_err();
        assert!(e.contains("above 0"), "{e}");
        let e = load(None, Vec::new(), &["clock.start=yesterday".into()]).unwrap_err();
        assert!(e.contains("RFC 3339"), "{e}");
        assert!(keys().contains(&"push.coalesce_ms".to_string()));
        let e = load(None, Vec::new(), &["workers=5000".into()]).unwrap_err();
        assert!(e.contains("0 (automatic) to 1024"), "{e}");
    }

    #[test]
    fn workers_default_to_one_per_core() {
        let c = load(None, Vec::new(), &[]).unwrap();
        assert_eq!([0, 1, 2, 8].map(|n| c.worker_threads(n)), [1, 1, 2, 8]);
        let c = load(None, vec![("DACU_WORKERS".to_string(), "3".to_string())], &[]).unwrap();
        assert_eq!(c.worker_threads(2), 3);
    }
}
