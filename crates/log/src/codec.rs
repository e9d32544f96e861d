//! The binary encoding of events in the log: one format byte, then the event in postcard
//! (<https://postcard.jamesmunns.com/wire-format>): varint enum tags and integers,
//! length-prefixed strings and lists, times as i64 milliseconds.
//!
//! Format 1 is frozen: the golden log in tests/golden/ must decode forever. A change to
//! an event's fields needs a new format byte, and this module keeps decoding the old ones.

use dacu_core::Event;

/// The event format this build writes.
pub const EVENT_FORMAT: u8 = 1;

pub fn encode(ev: &Event, out: &mut Vec<u8>) {
    out.push(EVENT_FORMAT);
    let buf = std::mem::take(out);
    *out = postcard::to_extend(ev, buf).expect("encoding to a Vec cannot fail");
}

pub fn decode(payload: &[u8]) -> Result<Event, String> {
    match payload.split_first() {
        Some((&EVENT_FORMAT, rest)) => {
            let (ev, tail) = postcard::take_from_bytes::<Event>(rest).map_err(|e| format!("undecodable event: {e}"))?;
            if !tail.is_empty() {
                return Err(format!("{} stray bytes after the event", tail.len()));
            }
            Ok(ev)
        }
        Some((v, _)) => Err(format!("event format {v} is not one this build reads (it reads format {EVENT_FORMAT})")),
        None => Err("empty record".into()),
    }
}
