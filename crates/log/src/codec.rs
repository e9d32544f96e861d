//! The binary encoding of events in the log: one format byte, then the event in postcard
//! (<https://postcard.jamesmunns.com/wire-format>): varint enum tags and integers,
//! length-prefixed strings and lists, times as i64 milliseconds. docs/log.md, "The event
//! payload", specifies both formats.
//!
//! This build writes format 2 and reads formats 1 and 2. Format 1 is frozen
//! (`dacu_core::event::v1`): a format 1 record decodes into its frozen event, which
//! becomes today's [`Event`] with what the record left to the festival file taken from
//! [`Context`] (the festival the log belongs to). The golden logs in tests/golden/ must
//! decode forever. A change to an event's fields needs a new format byte, a frozen copy
//! of the schema before it, and its conversion here.

use dacu_core::event::v1;
use dacu_core::Event;

pub use dacu_core::event::v1::Context;

/// The event format this build writes.
pub const EVENT_FORMAT: u8 = 2;

pub fn encode(ev: &Event, out: &mut Vec<u8>) {
    out.push(EVENT_FORMAT);
    let buf = std::mem::take(out);
    *out = postcard::to_extend(ev, buf).expect("encoding to a Vec cannot fail");
}

/// The event of one record's payload, of any format this build reads; `ctx` gives what
/// format 1 records leave to the festival file ([`dacu_core::Festival::format1_context`]).
pub fn decode(payload: &[u8], ctx: &Context) -> Result<Event, String> {
    match payload.split_first() {
        Some((&EVENT_FORMAT, rest)) => whole::<Event>(rest),
        Some((&1, rest)) => whole::<v1::Event>(rest)?.upgrade(ctx).map_err(|e| format!("format 1 event: {e}")),
        Some((v, _)) => Err(format!("event format {v} is not one this build reads (it reads formats 1 and 2)")),
        None => Err("empty record".into()),
    }
}

/// A value that takes the whole of `bytes`.
fn whole<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, String> {
    let (v, tail) = postcard::take_from_bytes::<T>(bytes).map_err(|e| format!("undecodable event: {e}"))?;
    if !tail.is_empty() {
        return Err(format!("{} stray bytes after the event", tail.len()));
    }
    Ok(v)
}
