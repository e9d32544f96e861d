//! Snapshots of the engine state, so that start-up replays only the log's tail.
//!
//! `DIR/snapshots/{seq:020}.snap`, where `seq` is the last event the state includes:
//!
//! ```text
//! magic "DACUSNAP" (8) | format u32 LE | reserved u32 | seq u64 LE | len u64 LE |
//! crc32c u32 LE (of the payload) | payload: the state in postcard (len bytes)
//! ```
//!
//! Written to a temporary file, fsynced, renamed into place and the directory fsynced, so
//! a crash leaves either the old set or the new one. A snapshot that fails any check is
//! skipped with a warning, never trusted.

use crate::io::Io;
use dacu_core::state::State;
use std::path::{Path, PathBuf};

pub const MAGIC: &[u8; 8] = b"DACUSNAP";
pub const FORMAT: u32 = 5;
const HEADER_LEN: usize = 8 + 4 + 4 + 8 + 8 + 4;
/// Snapshots kept; older ones are removed after a new one is durable.
pub const KEEP: usize = 2;

pub fn dir(data: &Path) -> PathBuf {
    data.join("snapshots")
}

/// Snapshots present, newest first.
pub fn list(data: &Path) -> std::io::Result<Vec<(u64, PathBuf)>> {
    let d = dir(data);
    let mut v = Vec::new();
    if !d.exists() {
        return Ok(v);
    }
    for entry in std::fs::read_dir(&d)? {
        let path = entry?.path();
        if let Some(seq) =
            path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".snap")).and_then(|s| s.parse().ok())
        {
            v.push((seq, path));
        }
    }
    v.sort_by_key(|(seq, _)| std::cmp::Reverse(*seq));
    Ok(v)
}

pub fn write(io: &dyn Io, data: &Path, state: &State) -> std::io::Result<PathBuf> {
    let d = dir(data);
    std::fs::create_dir_all(&d)?;
    let payload = postcard::to_stdvec(state).map_err(std::io::Error::other)?;
    let mut buf = Vec::with_capacity(HEADER_LEN + payload.len());
    buf.extend_from_slice(MAGIC);
    buf.extend_from_slice(&FORMAT.to_le_bytes());
    buf.extend_from_slice(&0u32.to_le_bytes());
    buf.extend_from_slice(&state.events.to_le_bytes());
    buf.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    buf.extend_from_slice(&crc32c::crc32c(&payload).to_le_bytes());
    buf.extend_from_slice(&payload);
    let tmp = d.join("snapshot.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = io.open_append(&tmp)?;
    f.write_all(&buf)?;
    f.sync()?;
    drop(f);
    let path = d.join(format!("{:020}.snap", state.events));
    std::fs::rename(&tmp, &path)?;
    io.sync_dir(&d)?;
    for (_, old) in list(data)?.into_iter().skip(KEEP) {
        let _ = std::fs::remove_file(old);
    }
    Ok(path)
}

/// Reads and checks one snapshot.
pub fn read(path: &Path) -> Result<State, String> {
    let buf = std::fs::read(path).map_err(|e| e.to_string())?;
    if buf.len() < HEADER_LEN || &buf[..8] != MAGIC {
        return Err("not a dacu snapshot".into());
    }
    let u32_at = |i: usize| u32::from_le_bytes(buf[i..i + 4].try_into().expect("4 bytes"));
    let u64_at = |i: usize| u64::from_le_bytes(buf[i..i + 8].try_into().expect("8 bytes"));
    if u32_at(8) != FORMAT {
        return Err(format!("snapshot format {} is not one this build reads ({FORMAT})", u32_at(8)));
    }
    let (seq, len, crc) = (u64_at(16), u64_at(24), u32_at(32));
    let payload = &buf[HEADER_LEN..];
    if payload.len() as u64 != len {
        return Err(format!("payload is {} bytes, the header says {len}", payload.len()));
    }
    if crc32c::crc32c(payload) != crc {
        return Err("checksum mismatch".into());
    }
    let state: State = postcard::from_bytes(payload).map_err(|e| format!("undecodable state: {e}"))?;
    if state.events != seq {
        return Err(format!("state holds {} events, the header says {seq}", state.events));
    }
    Ok(state)
}
