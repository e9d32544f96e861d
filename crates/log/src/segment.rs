//! Segment files and their records.
//!
//! A segment is named after the sequence number of its first record
//! (`00000000000000000001.log`) and starts with a 16-byte header:
//!
//! ```text
//! magic "DACULOG\0" (8) | format version u32 LE (4) | reserved u32 (4)
//! ```
//!
//! then records:
//!
//! ```text
//! len u32 LE | crc32c u32 LE | seq u64 LE | flags u8 | payload (len bytes)
//! ```
//!
//! The CRC (CRC-32C) covers seq, flags and payload. Sequence numbers start at 1 and have
//! no gaps across segments. The last record of each commit batch has `FLAG_COMMIT`: on
//! recovery a batch without it is incomplete and is dropped whole, so a batch is all or
//! nothing. Segments rotate only between batches.

use std::path::{Path, PathBuf};

pub const MAGIC: &[u8; 8] = b"DACULOG\0";
pub const VERSION: u32 = 1;
pub const HEADER_LEN: u64 = 16;
pub const RECORD_HEADER_LEN: usize = 17;
pub const FLAG_COMMIT: u8 = 1;
/// No record is larger; a length above it is corruption, not a big record.
pub const MAX_RECORD_BYTES: u32 = 16 << 20;

pub fn header() -> [u8; HEADER_LEN as usize] {
    let mut h = [0u8; HEADER_LEN as usize];
    h[..8].copy_from_slice(MAGIC);
    h[8..12].copy_from_slice(&VERSION.to_le_bytes());
    h
}

pub fn name(first_seq: u64) -> String {
    format!("{first_seq:020}.log")
}

fn crc(seq: u64, flags: u8, payload: &[u8]) -> u32 {
    let c = crc32c::crc32c(&seq.to_le_bytes());
    let c = crc32c::crc32c_append(c, &[flags]);
    crc32c::crc32c_append(c, payload)
}

/// Appends a framed record to `buf`; returns the offset where it starts.
pub fn push_record(buf: &mut Vec<u8>, seq: u64, flags: u8, payload: &[u8]) -> usize {
    let at = buf.len();
    buf.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    buf.extend_from_slice(&crc(seq, flags, payload).to_le_bytes());
    buf.extend_from_slice(&seq.to_le_bytes());
    buf.push(flags);
    buf.extend_from_slice(payload);
    at
}

/// Marks the record at `at` in `buf` as the last of its batch, recomputing its CRC.
pub fn mark_commit(buf: &mut [u8], at: usize) {
    let len = u32::from_le_bytes(buf[at..at + 4].try_into().expect("4 bytes")) as usize;
    let seq = u64::from_le_bytes(buf[at + 8..at + 16].try_into().expect("8 bytes"));
    buf[at + 16] |= FLAG_COMMIT;
    let flags = buf[at + 16];
    let payload_at = at + RECORD_HEADER_LEN;
    let c = crc(seq, flags, &buf[payload_at..payload_at + len]);
    buf[at + 4..at + 8].copy_from_slice(&c.to_le_bytes());
}

/// The segments in `dir`, by first sequence number.
pub fn list(dir: &Path) -> std::io::Result<Vec<(u64, PathBuf)>> {
    let mut v = Vec::new();
    if !dir.exists() {
        return Ok(v);
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(stem) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".log")) else {
            continue;
        };
        if stem.len() == 20 {
            if let Ok(seq) = stem.parse::<u64>() {
                v.push((seq, path));
            }
        }
    }
    v.sort();
    Ok(v)
}

/// How a scan of one segment ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// Every byte belongs to a committed batch.
    Clean,
    /// The bytes from `at` on are not a committed batch: a torn final record, or records
    /// of a batch whose commit record never made it. Harmless at the end of the log.
    Incomplete { at: u64 },
    /// A bad record at `at` that a torn write cannot explain.
    Corrupt { at: u64, reason: String },
}

/// What a scan found.
#[derive(Debug, Clone)]
pub struct Scan {
    /// Byte length of the committed prefix.
    pub committed_len: u64,
    /// Sequence number of the last committed record (first_seq − 1 when none).
    pub last_seq: u64,
    pub end: End,
}

/// Scans a segment's bytes, calling `batch` with each committed batch's records as
/// `(seq, payload)`. `batch` may fail, which stops the scan as corruption at that batch.
pub fn scan(data: &[u8], first_seq: u64, mut batch: impl FnMut(&[(u64, &[u8])]) -> Result<(), String>) -> Scan {
    let mut scan = Scan { committed_len: 0, last_seq: first_seq - 1, end: End::Clean };
    if data.len() < HEADER_LEN as usize {
        scan.end = End::Incomplete { at: 0 };
        return scan;
    }
    if &data[..8] != MAGIC {
        scan.end = End::Corrupt { at: 0, reason: "not a dacu log segment (bad magic)".into() };
        return scan;
    }
    let version = u32::from_le_bytes(data[8..12].try_into().expect("4 bytes"));
    if version != VERSION {
        scan.end =
            End::Corrupt { at: 8, reason: format!("segment format {version} is not one this build reads ({VERSION})") };
        return scan;
    }
    scan.committed_len = HEADER_LEN;
    let mut pos = HEADER_LEN as usize;
    let mut next_seq = first_seq;
    let mut pending: Vec<(u64, &[u8])> = Vec::new();
    let mut batch_start = pos;
    while pos < data.len() {
        let rest = &data[pos..];
        if rest.len() < RECORD_HEADER_LEN {
            scan.end = End::Incomplete { at: batch_start as u64 };
            return scan;
        }
        let len = u32::from_le_bytes(rest[0..4].try_into().expect("4 bytes"));
        let stored_crc = u32::from_le_bytes(rest[4..8].try_into().expect("4 bytes"));
        let seq = u64::from_le_bytes(rest[8..16].try_into().expect("8 bytes"));
        let flags = rest[16];
        let end = RECORD_HEADER_LEN + len as usize;
        if len > MAX_RECORD_BYTES {
            scan.end = if end >= rest.len() {
                End::Incomplete { at: batch_start as u64 }
            } else {
                End::Corrupt {
                    at: pos as u64,
                    reason: format!("record length {len} exceeds the limit {MAX_RECORD_BYTES}"),
                }
            };
            return scan;
        }
        if end > rest.len() {
            scan.end = End::Incomplete { at: batch_start as u64 };
            return scan;
        }
        let payload = &rest[RECORD_HEADER_LEN..end];
        if crc(seq, flags, payload) != stored_crc {
            // Only the very last record can be torn; a bad one before others is corruption.
            scan.end = if end == rest.len() {
                End::Incomplete { at: batch_start as u64 }
            } else {
                End::Corrupt { at: pos as u64, reason: "checksum mismatch".into() }
            };
            return scan;
        }
        if seq != next_seq {
            scan.end =
                End::Corrupt { at: pos as u64, reason: format!("sequence number {seq} where {next_seq} was expected") };
            return scan;
        }
        pending.push((seq, payload));
        next_seq += 1;
        pos += end;
        if flags & FLAG_COMMIT != 0 {
            if let Err(reason) = batch(&pending) {
                scan.end = End::Corrupt { at: batch_start as u64, reason };
                return scan;
            }
            pending.clear();
            batch_start = pos;
            scan.committed_len = pos as u64;
            scan.last_seq = seq;
        }
    }
    if !pending.is_empty() {
        scan.end = End::Incomplete { at: batch_start as u64 };
    }
    scan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(batches: &[&[&[u8]]]) -> Vec<u8> {
        let mut buf = header().to_vec();
        let mut seq = 1;
        for b in batches {
            let mut last = 0;
            for p in *b {
                last = push_record(&mut buf, seq, 0, p);
                seq += 1;
            }
            mark_commit(&mut buf, last);
        }
        buf
    }

    fn collect(data: &[u8]) -> (Vec<u64>, Scan) {
        let mut seen = Vec::new();
        let s = scan(data, 1, |b| {
            seen.extend(b.iter().map(|(s, _)| *s));
            Ok(())
        });
        (seen, s)
    }

    #[test]
    fn reads_back_committed_batches() {
        let data = segment(&[&[b"a", b"bb"], &[b"ccc"]]);
        let (seen, s) = collect(&data);
        assert_eq!(seen, [1, 2, 3]);
        assert_eq!(s.end, End::Clean);
        assert_eq!((s.committed_len, s.last_seq), (data.len() as u64, 3));
    }

    #[test]
    fn a_cut_anywhere_in_the_last_batch_drops_that_batch_whole() {
        let data = segment(&[&[b"a", b"bb"], &[b"ccc", b"dddd"]]);
        let first_batch_end = HEADER_LEN as usize + 2 * RECORD_HEADER_LEN + 3;
        for cut in first_batch_end..data.len() {
            let (seen, s) = collect(&data[..cut]);
            assert_eq!(seen, [1, 2], "cut at {cut}");
            assert_eq!(s.committed_len, first_batch_end as u64);
            let expect =
                if cut == first_batch_end { End::Clean } else { End::Incomplete { at: first_batch_end as u64 } };
            assert_eq!(s.end, expect, "cut at {cut}");
        }
    }

    #[test]
    fn a_flipped_bit_before_the_tail_is_corruption() {
        let mut data = segment(&[&[b"hello"], &[b"world"]]);
        data[HEADER_LEN as usize + RECORD_HEADER_LEN] ^= 1;
        let (seen, s) = collect(&data);
        assert!(seen.is_empty());
        assert_eq!(s.end, End::Corrupt { at: HEADER_LEN, reason: "checksum mismatch".into() });
        // The same flip in the final record reads as a torn write.
        let mut data = segment(&[&[b"hello"], &[b"world"]]);
        let last = data.len() - 1;
        data[last] ^= 1;
        let (seen, s) = collect(&data);
        assert_eq!(seen, [1]);
        assert!(matches!(s.end, End::Incomplete { .. }));
    }

    #[test]
    fn a_wrong_sequence_number_is_corruption() {
        let mut buf = header().to_vec();
        let a = push_record(&mut buf, 1, 0, b"x");
        mark_commit(&mut buf, a);
        let b = push_record(&mut buf, 3, 0, b"y");
        mark_commit(&mut buf, b);
        let (_, s) = collect(&buf);
        assert!(matches!(s.end, End::Corrupt { reason, .. } if reason.contains("expected")));
    }

    #[test]
    fn a_short_header_is_incomplete_and_a_bad_magic_corrupt() {
        assert_eq!(collect(&header()[..5]).1.end, End::Incomplete { at: 0 });
        let mut h = header();
        h[0] = b'X';
        assert!(matches!(collect(&h).1.end, End::Corrupt { at: 0, .. }));
    }
}
