//! Snapshots of the engine state, so that start-up replays only the log's tail.
//!
//! `DIR/snapshots/{seq:020}.snap`, where `seq` is the last event the state includes:
//!
//! ```text
//! magic "DACUSNAP" (8) | format u32 | reserved u32 | seq u64 | log_id (16) |
//! chain at seq (32) | len u64 | crc32c of the payload u32 | crc32c of the 84 bytes before u32 |
//! payload: the state in postcard (len bytes)
//! ```
//!
//! A snapshot is bound to the log it was taken from: the log's id and the chain value
//! after event `seq` ([`crate::chain`]). Recovery uses it only if the log's chain at `seq`
//! is the same, so a snapshot copied from another directory, or left over from a log
//! that was since cut, is skipped, never served.
//!
//! Written to `snapshot.tmp`, fsynced, renamed into place and the directory fsynced. The
//! oldest snapshot beyond [`KEEP`] − 1 is deleted *before* a new one is written, so there
//! are never more than [`KEEP`] snapshots, however a crash falls.

use crate::chain::{Chain, LogId};
use crate::io::Io;
use dacu_core::state::State;
use std::path::{Path, PathBuf};

pub const MAGIC: &[u8; 8] = b"DACUSNAP";
pub const FORMAT: u32 = 10;
pub const HEADER_LEN: usize = 88;
/// Snapshots kept: the newest and one older, to fall back on.
pub const KEEP: usize = 2;
pub const TMP: &str = "snapshot.tmp";

pub fn dir(data: &Path) -> PathBuf {
    data.join("snapshots")
}

/// Snapshots present, newest first.
pub fn list(data: &Path) -> std::io::Result<Vec<(u64, PathBuf)>> {
    let mut v = Vec::new();
    let entries = match std::fs::read_dir(dir(data)) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(v),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        let Some(stem) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".snap")) else {
            continue;
        };
        if stem.len() == 20 && stem.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(seq) = stem.parse() {
                v.push((seq, path));
            }
        }
    }
    v.sort_by_key(|(seq, _)| std::cmp::Reverse(*seq));
    Ok(v)
}

/// What a snapshot's header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    pub path: PathBuf,
    pub seq: u64,
    pub log_id: LogId,
    pub chain: Chain,
    len: u64,
    payload_crc: u32,
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"))
}

fn encode_header(seq: u64, log_id: &LogId, chain: &Chain, payload: Sum) -> Vec<u8> {
    let mut h = Vec::with_capacity(HEADER_LEN);
    h.extend_from_slice(MAGIC);
    h.extend_from_slice(&FORMAT.to_le_bytes());
    h.extend_from_slice(&0u32.to_le_bytes());
    h.extend_from_slice(&seq.to_le_bytes());
    h.extend_from_slice(log_id);
    h.extend_from_slice(chain);
    h.extend_from_slice(&payload.len.to_le_bytes());
    h.extend_from_slice(&payload.crc.to_le_bytes());
    let c = crc32c::crc32c(&h);
    h.extend_from_slice(&c.to_le_bytes());
    h
}

/// A payload's length and crc32c: its header fields.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Sum {
    len: u64,
    crc: u32,
}

/// Sums the bytes written through it and writes them to the file in [`CHUNK`]-byte
/// pieces (the encoder writes a byte at a time).
struct Stream<'a> {
    file: &'a mut dyn crate::io::LogFile,
    buf: Vec<u8>,
    sum: Sum,
}

/// The write size while streaming a snapshot's payload.
const CHUNK: usize = 1 << 20;

impl<'a> Stream<'a> {
    fn new(file: &'a mut dyn crate::io::LogFile) -> Stream<'a> {
        Stream { file, buf: Vec::with_capacity(CHUNK), sum: Sum::default() }
    }

    fn drain(&mut self) -> std::io::Result<()> {
        self.sum.crc = crc32c::crc32c_append(self.sum.crc, &self.buf);
        self.sum.len += self.buf.len() as u64;
        self.file.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    /// Writes what is buffered; the sum of everything written.
    fn finish(mut self) -> std::io::Result<Sum> {
        self.drain()?;
        Ok(self.sum)
    }
}

impl std::io::Write for Stream<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(buf);
        if self.buf.len() >= CHUNK {
            self.drain()?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Reads and checks a snapshot's header (not its payload).
pub fn read_meta(path: &Path) -> Result<Meta, String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut h = [0u8; HEADER_LEN];
    let n = f.by_ref().take(HEADER_LEN as u64).read(&mut h).map_err(|e| e.to_string())?;
    let h = &h[..n];
    if h.len() < 12 || &h[..8] != MAGIC {
        return Err("not a dacu snapshot".into());
    }
    if u32_at(h, 8) != FORMAT {
        return Err(format!("snapshot format {} is not one this build reads ({FORMAT})", u32_at(h, 8)));
    }
    if h.len() < HEADER_LEN {
        return Err("the header is cut short".into());
    }
    if crc32c::crc32c(&h[..84]) != u32_at(h, 84) {
        return Err("header checksum mismatch".into());
    }
    let seq = u64_at(h, 16);
    let name_ok = path.file_stem().and_then(|s| s.to_str()).and_then(|s| s.parse::<u64>().ok()) == Some(seq);
    if !name_ok {
        return Err(format!("the header says event {seq}, which the file name does not"));
    }
    Ok(Meta {
        path: path.to_path_buf(),
        seq,
        log_id: h[24..40].try_into().expect("16 bytes"),
        chain: h[40..72].try_into().expect("32 bytes"),
        len: u64_at(h, 72),
        payload_crc: u32_at(h, 80),
    })
}

/// Reads and checks a snapshot's state. The state is decoded and checked for internal
/// consistency; a state that fails is refused, never trusted.
pub fn read_state(meta: &Meta) -> Result<State, String> {
    let buf = std::fs::read(&meta.path).map_err(|e| e.to_string())?;
    let payload = buf.get(HEADER_LEN..).unwrap_or_default();
    if payload.len() as u64 != meta.len {
        return Err(format!("payload is {} bytes, the header says {}", payload.len(), meta.len));
    }
    if crc32c::crc32c(payload) != meta.payload_crc {
        return Err("checksum mismatch".into());
    }
    let state: State = postcard::from_bytes(payload).map_err(|e| format!("undecodable state: {e}"))?;
    if state.events != meta.seq {
        return Err(format!("state holds {} events, the header says {}", state.events, meta.seq));
    }
    Ok(state)
}

/// Writes a snapshot of `state`, whose last event's chain value is `chain`. On failure,
/// nothing is left behind but the snapshots that were there (less the oldest, which
/// makes room first).
pub fn write(io: &dyn Io, data: &Path, state: &State, log_id: &LogId, chain: &Chain) -> std::io::Result<PathBuf> {
    let d = dir(data);
    std::fs::create_dir_all(&d)?;
    for (_, old) in list(data)?.into_iter().skip(KEEP - 1) {
        std::fs::remove_file(old)?;
    }
    let tmp = d.join(TMP);
    let written = write_tmp(io, &tmp, state, log_id, chain).and_then(|()| {
        let path = d.join(format!("{:020}.snap", state.events));
        crate::fail_point!("snapshot::before_rename");
        std::fs::rename(&tmp, &path)?;
        io.sync_dir(&d)?;
        Ok(path)
    });
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

fn write_tmp(io: &dyn Io, tmp: &Path, state: &State, log_id: &LogId, chain: &Chain) -> std::io::Result<()> {
    match std::fs::remove_file(tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    // The payload is streamed to the file behind a blank header, which is written once
    // its length and checksum are known: the encoded state, as large as a good part of the
    // state itself, is never held in memory.
    let mut f = io.open_append(tmp)?;
    f.write_all(&[0; HEADER_LEN])?;
    crate::fail_point!("snapshot::write");
    let sum = postcard::to_io(state, Stream::new(f.as_mut())).map_err(std::io::Error::other)?.finish()?;
    f.write_start(&encode_header(state.events, log_id, chain, sum))?;
    f.sync()
}

/// The snapshots of one data directory's log, as a [`crate::SnapshotStore`].
pub struct FileSnapshots {
    pub(crate) io: std::sync::Arc<dyn Io>,
    pub(crate) data: PathBuf,
    pub(crate) log_id: LogId,
}

impl crate::SnapshotStore for FileSnapshots {
    fn save(&self, state: &State, chain: &Chain) -> Result<(), crate::StoreError> {
        write(self.io.as_ref(), &self.data, state, &self.log_id, chain)
            .map(|_| ())
            .map_err(crate::io_err(&dir(&self.data)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Streamed in pieces of every size, across several chunks, the file holds exactly the
    /// bytes written and the sum is their length and CRC.
    #[test]
    fn a_stream_writes_and_sums_every_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let mut f = crate::io::RealIo.open_append(&path).unwrap();
        let mut want = Vec::new();
        let mut stream = Stream::new(f.as_mut());
        for i in 0..3_000u32 {
            let piece: Vec<u8> = (0..(i * 7) % 2_900).map(|j| (i ^ j) as u8).collect();
            stream.write_all(&piece).unwrap();
            want.extend_from_slice(&piece);
        }
        stream.write_all(&vec![7u8; CHUNK + 3]).unwrap();
        want.extend_from_slice(&vec![7u8; CHUNK + 3]);
        assert!(want.len() > 3 * CHUNK);
        let sum = stream.finish().unwrap();
        assert_eq!(sum, Sum { len: want.len() as u64, crc: crc32c::crc32c(&want) });
        f.write_start(b"head").unwrap();
        let got = std::fs::read(&path).unwrap();
        assert_eq!(&got[..4], b"head");
        assert_eq!(&got[4..], &want[4..]);
    }
}
