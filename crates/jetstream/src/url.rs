//! The replicated log's address: `nats://HOST:PORT[/STREAM]`.

use std::fmt;

/// The stream name when the address names none.
pub const DEFAULT_STREAM: &str = "DACU";
/// Stream names are short: they are part of every subject and every API request.
pub const MAX_STREAM_LEN: usize = 32;

/// A parsed `--log` address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogUrl {
    /// `HOST:PORT`, as given.
    pub server: String,
    pub stream: String,
}

impl LogUrl {
    /// Parses `nats://HOST:PORT[/STREAM]`. The stream name is 1–32 of `A–Z a–z 0–9 _ -`
    /// (JetStream forbids `.`, `*`, `>` and spaces in it, and dacu keeps it short).
    pub fn parse(s: &str) -> Result<LogUrl, String> {
        let rest = s
            .strip_prefix("nats://")
            .ok_or_else(|| format!("`{s}` is not a NATS address; give nats://HOST:PORT or nats://HOST:PORT/STREAM"))?;
        let (server, stream) = match rest.split_once('/') {
            Some((h, st)) => (h, st),
            None => (rest, DEFAULT_STREAM),
        };
        let port_ok = server.rsplit_once(':').is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
        if !port_ok {
            return Err(format!("`{s}`: the server must be HOST:PORT, as in nats://127.0.0.1:4222"));
        }
        let name_ok = (1..=MAX_STREAM_LEN).contains(&stream.len())
            && stream.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !name_ok {
            return Err(format!(
                "`{s}`: the stream name must be 1 to {MAX_STREAM_LEN} of the letters A-Z and a-z, digits, `_` and `-`"
            ));
        }
        Ok(LogUrl { server: server.to_string(), stream: stream.to_string() })
    }
}

impl fmt::Display for LogUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "nats://{}/{}", self.server, self.stream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_with_and_without_a_stream() {
        assert_eq!(
            LogUrl::parse("nats://127.0.0.1:4222").unwrap(),
            LogUrl { server: "127.0.0.1:4222".into(), stream: "DACU".into() }
        );
        let u = LogUrl::parse("nats://localhost:14222/fest-2021").unwrap();
        assert_eq!((u.server.as_str(), u.stream.as_str()), ("localhost:14222", "fest-2021"));
        assert_eq!(u.to_string(), "nats://localhost:14222/fest-2021");
    }

    #[test]
    fn bad_addresses_say_what_is_accepted() {
        for bad in ["http://x:1", "nats://nohost", "nats://h:port/S", "nats://h:1/a.b", "nats://h:1/", "nats://:1/S"] {
            let e = LogUrl::parse(bad).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
        assert!(LogUrl::parse(&format!("nats://h:1/{}", "A".repeat(33))).is_err());
    }
}
