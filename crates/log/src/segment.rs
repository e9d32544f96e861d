//! Segment files and their records: framing, and the scan that tells a torn tail from
//! corruption. docs/log.md describes the bytes; this module is the reference.
//!
//! A segment (format 2) starts with a 76-byte header:
//!
//! ```text
//! magic "DACULOG\0" (8) | format u32 (4) | reserved u32 (4) | first_seq u64 (8) |
//! log_id (16) | chain before first_seq (32) | crc32c of the 72 bytes before it (4)
//! ```
//!
//! then records:
//!
//! ```text
//! len u32 | seq u64 | flags u8 | body_crc u32 | header_crc u32 | payload (len) [| chain (32)]
//! ```
//!
//! `header_crc` covers the 17 bytes before it, so a damaged length is detected before it
//! is used. `body_crc` covers the payload and, on the last record of a batch (flag
//! `FLAG_COMMIT`), the 32-byte chain value that follows it ([`crate::chain`]). Format 1
//! segments (16-byte header, `len | crc | seq | flags`, no chain) are still read.

use crate::chain::{self, Chain, LogId};
use std::path::{Path, PathBuf};

pub const MAGIC: &[u8; 8] = b"DACULOG\0";
/// The segment format this build writes.
pub const VERSION: u32 = 2;
pub const HEADER_LEN: u64 = 76;
pub const RECORD_HEADER_LEN: usize = 21;
pub const FLAG_COMMIT: u8 = 1;
/// No payload is larger; a length above it is damage, never a big record.
pub const MAX_RECORD_BYTES: u32 = 16 << 20;

/// Format 1, read only.
pub mod v1 {
    pub const VERSION: u32 = 1;
    pub const HEADER_LEN: u64 = 16;
    pub const RECORD_HEADER_LEN: usize = 17;
}

/// A segment's header as read from disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub version: u32,
    pub first_seq: u64,
    /// The log this segment belongs to; all zeros for format 1.
    pub log_id: LogId,
    /// The chain value before `first_seq` (format 2 only).
    pub chain: Option<Chain>,
}

impl Header {
    /// Bytes the header takes at the start of the file.
    pub fn size(&self) -> u64 {
        if self.version == v1::VERSION {
            v1::HEADER_LEN
        } else {
            HEADER_LEN
        }
    }
}

/// Why a header could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderProblem {
    /// The file is shorter than a header: a segment whose creation was cut short.
    Short,
    Bad(String),
}

pub fn header(first_seq: u64, log_id: &LogId, chain: &Chain) -> [u8; HEADER_LEN as usize] {
    let mut h = [0u8; HEADER_LEN as usize];
    h[..8].copy_from_slice(MAGIC);
    h[8..12].copy_from_slice(&VERSION.to_le_bytes());
    h[16..24].copy_from_slice(&first_seq.to_le_bytes());
    h[24..40].copy_from_slice(log_id);
    h[40..72].copy_from_slice(chain);
    let c = crc32c::crc32c(&h[..72]);
    h[72..76].copy_from_slice(&c.to_le_bytes());
    h
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"))
}

/// Reads a segment header. `name_seq` is the number in the file name; format 1 headers
/// hold no first seq of their own and take it.
pub fn parse_header(data: &[u8], name_seq: u64) -> Result<Header, HeaderProblem> {
    if data.len() < 12 {
        return Err(HeaderProblem::Short);
    }
    if &data[..8] != MAGIC {
        return Err(HeaderProblem::Bad("not a dacu log segment (bad magic)".into()));
    }
    match u32_at(data, 8) {
        v1::VERSION if data.len() >= v1::HEADER_LEN as usize => {
            Ok(Header { version: v1::VERSION, first_seq: name_seq, log_id: [0; 16], chain: None })
        }
        v1::VERSION => Err(HeaderProblem::Short),
        VERSION if data.len() >= HEADER_LEN as usize => {
            if crc32c::crc32c(&data[..72]) != u32_at(data, 72) {
                return Err(HeaderProblem::Bad("segment header checksum mismatch".into()));
            }
            let first_seq = u64_at(data, 16);
            if first_seq != name_seq {
                return Err(HeaderProblem::Bad(format!(
                    "the header says the segment starts at event {first_seq}, its name says {name_seq}"
                )));
            }
            let log_id = data[24..40].try_into().expect("16 bytes");
            let chain = data[40..72].try_into().expect("32 bytes");
            Ok(Header { version: VERSION, first_seq, log_id, chain: Some(chain) })
        }
        VERSION => Err(HeaderProblem::Short),
        v => Err(HeaderProblem::Bad(format!("segment format {v} is not one this build reads (1 or {VERSION})"))),
    }
}

pub fn name(first_seq: u64) -> String {
    format!("{first_seq:020}.log")
}

fn header_crc(h: &[u8]) -> u32 {
    crc32c::crc32c(&h[..17])
}

/// Appends a framed record to `buf`; returns where it starts and the payload's CRC (which
/// the chain takes, and [`seal`] extends).
pub fn push_record(buf: &mut Vec<u8>, seq: u64, payload: &[u8]) -> (usize, u32) {
    let at = buf.len();
    let body_crc = crc32c::crc32c(payload);
    buf.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    buf.extend_from_slice(&seq.to_le_bytes());
    buf.push(0);
    buf.extend_from_slice(&body_crc.to_le_bytes());
    let hc = header_crc(&buf[at..]);
    buf.extend_from_slice(&hc.to_le_bytes());
    buf.extend_from_slice(payload);
    (at, body_crc)
}

/// Makes the record at `at` — the last one in `buf` — the commit record of its batch:
/// sets `FLAG_COMMIT`, appends the chain value and recomputes both CRCs.
pub fn seal(buf: &mut Vec<u8>, at: usize, payload_crc: u32, chain: &Chain) {
    debug_assert_eq!(at + RECORD_HEADER_LEN + u32_at(buf, at) as usize, buf.len(), "seal the last record");
    buf[at + 12] |= FLAG_COMMIT;
    let body_crc = crc32c::crc32c_append(payload_crc, chain);
    buf[at + 13..at + 17].copy_from_slice(&body_crc.to_le_bytes());
    let hc = header_crc(&buf[at..]);
    buf[at + 17..at + 21].copy_from_slice(&hc.to_le_bytes());
    buf.extend_from_slice(chain);
}

/// The segments in `dir`, by first sequence number. Only names of exactly 20 digits and
/// `.log` are segments.
pub fn list(dir: &Path) -> std::io::Result<Vec<(u64, PathBuf)>> {
    let mut v = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(v),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        let Some(stem) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".log")) else {
            continue;
        };
        if stem.len() == 20 && stem.bytes().all(|b| b.is_ascii_digit()) {
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
    /// The bytes from `at` on are not a committed batch and no valid commit record lies
    /// beyond the damage: a torn write, if this is the end of the log.
    Incomplete { at: u64 },
    /// Damage that a torn write cannot explain, at `at`.
    Corrupt { at: u64, reason: String },
}

/// What a scan found.
#[derive(Debug, Clone)]
pub struct Scan {
    /// Byte length of the committed prefix.
    pub committed_len: u64,
    /// Sequence number of the last committed record (first_seq − 1 when none).
    pub last_seq: u64,
    /// The chain value after the last committed batch.
    pub chain: Chain,
    pub end: End,
}

/// One committed batch, handed to the scan's callback.
pub struct Batch<'a> {
    /// `(seq, payload)` of each record.
    pub records: &'a [(u64, &'a [u8])],
    /// The chain value after this batch.
    pub chain: Chain,
}

/// A record read from the bytes at some offset.
struct Rec<'a> {
    seq: u64,
    flags: u8,
    payload: &'a [u8],
    payload_crc: u32,
    /// The stored chain value, on a commit record of format 2.
    chain: Option<&'a [u8]>,
    len: usize,
}

/// What is wrong with the bytes at an offset, if they are not a whole, valid record.
enum Bad {
    /// Not a valid record here (short, checksum, past the end): a tear or damage.
    Damaged(&'static str),
    /// A record whose header checks out but that cannot be right (a length over the
    /// limit): never a tear.
    Corrupt(String),
}

fn read_v2(rest: &[u8]) -> Result<Rec<'_>, Bad> {
    if rest.len() < RECORD_HEADER_LEN {
        return Err(Bad::Damaged("a record header cut short"));
    }
    if header_crc(rest) != u32_at(rest, 17) {
        return Err(Bad::Damaged("record header checksum mismatch"));
    }
    let len = u32_at(rest, 0);
    if len > MAX_RECORD_BYTES {
        return Err(Bad::Corrupt(format!("record length {len} exceeds the limit {MAX_RECORD_BYTES}")));
    }
    let flags = rest[12];
    let body_len = len as usize + if flags & FLAG_COMMIT != 0 { chain::LEN } else { 0 };
    let end = RECORD_HEADER_LEN + body_len;
    if end > rest.len() {
        return Err(Bad::Damaged("a record cut short"));
    }
    let payload = &rest[RECORD_HEADER_LEN..RECORD_HEADER_LEN + len as usize];
    let payload_crc = crc32c::crc32c(payload);
    let chain = (flags & FLAG_COMMIT != 0).then(|| &rest[RECORD_HEADER_LEN + len as usize..end]);
    let body_crc = match chain {
        Some(c) => crc32c::crc32c_append(payload_crc, c),
        None => payload_crc,
    };
    if body_crc != u32_at(rest, 13) {
        return Err(Bad::Damaged("checksum mismatch"));
    }
    Ok(Rec { seq: u64_at(rest, 4), flags, payload, payload_crc, chain, len: end })
}

fn read_v1(rest: &[u8]) -> Result<Rec<'_>, Bad> {
    const H: usize = v1::RECORD_HEADER_LEN;
    if rest.len() < H {
        return Err(Bad::Damaged("a record header cut short"));
    }
    let len = u32_at(rest, 0);
    let (seq, flags) = (u64_at(rest, 8), rest[16]);
    if len > MAX_RECORD_BYTES || H + len as usize > rest.len() {
        // Format 1 does not protect the length: a bad one reads as damage, and the
        // search for a later commit record decides whether it is a tear.
        return Err(Bad::Damaged("a record cut short, or a damaged length"));
    }
    let payload = &rest[H..H + len as usize];
    let c = crc32c::crc32c(&seq.to_le_bytes());
    let c = crc32c::crc32c_append(c, &[flags]);
    if crc32c::crc32c_append(c, payload) != u32_at(rest, 4) {
        return Err(Bad::Damaged("checksum mismatch"));
    }
    Ok(Rec { seq, flags, payload, payload_crc: crc32c::crc32c(payload), chain: None, len: H + len as usize })
}

/// The offset of the first valid commit record at or after `from` whose sequence number
/// is at least `min_seq`, searching byte by byte (lengths before it cannot be trusted).
/// Used only after damage, to tell a torn tail (nothing committed after it) from
/// corruption (committed data after it).
fn commit_record_after(data: &[u8], from: usize, min_seq: u64, version: u32) -> Option<usize> {
    let max_seq = min_seq.saturating_add(data.len() as u64);
    (from..data.len()).find(|&q| {
        let rest = &data[q..];
        let hlen = if version == v1::VERSION { v1::RECORD_HEADER_LEN } else { RECORD_HEADER_LEN };
        if rest.len() < hlen {
            return false;
        }
        // Cheap filters first: a plausible seq and the commit flag.
        let (seq, flags) =
            if version == v1::VERSION { (u64_at(rest, 8), rest[16]) } else { (u64_at(rest, 4), rest[12]) };
        if flags & FLAG_COMMIT == 0 || seq < min_seq || seq > max_seq {
            return false;
        }
        let rec = if version == v1::VERSION { read_v1(rest) } else { read_v2(rest) };
        rec.is_ok()
    })
}

/// Scans a segment's bytes (its header already read as `header`), calling `batch` with
/// each committed batch. `chain_in` is the chain value before the segment's first record.
/// `batch` may fail, which stops the scan as corruption at that batch.
pub fn scan(data: &[u8], header: &Header, chain_in: Chain, batch: impl FnMut(Batch<'_>) -> Result<(), String>) -> Scan {
    scan_from(data, header, header.size() as usize, header.first_seq, chain_in, batch)
}

/// As [`scan`], from byte offset `start` of the file (the end of a committed batch, or
/// of the header), where the event `first_seq` begins after the chain value `chain_in`:
/// how a follower reads what was appended since it last looked.
pub fn scan_from(
    data: &[u8],
    header: &Header,
    start: usize,
    first_seq: u64,
    chain_in: Chain,
    mut batch: impl FnMut(Batch<'_>) -> Result<(), String>,
) -> Scan {
    let mut scan = Scan { committed_len: start as u64, last_seq: first_seq - 1, chain: chain_in, end: End::Clean };
    let read = if header.version == v1::VERSION { read_v1 } else { read_v2 };
    let mut pos = start;
    let mut next_seq = first_seq;
    let mut pending: Vec<(u64, &[u8])> = Vec::new();
    let mut hasher = chain::Hasher::new(&scan.chain);
    while pos < data.len() {
        let rec = match read(&data[pos..]) {
            Ok(r) => r,
            Err(Bad::Corrupt(reason)) => {
                scan.end = End::Corrupt { at: pos as u64, reason };
                return scan;
            }
            Err(Bad::Damaged(what)) => {
                scan.end = match commit_record_after(data, pos + 1, next_seq, header.version) {
                    Some(q) => End::Corrupt {
                        at: pos as u64,
                        reason: format!("{what}, with a committed record after it at offset {q}"),
                    },
                    None => End::Incomplete { at: scan.committed_len },
                };
                return scan;
            }
        };
        if rec.seq != next_seq {
            scan.end = End::Corrupt {
                at: pos as u64,
                reason: format!("sequence number {} where {next_seq} was expected", rec.seq),
            };
            return scan;
        }
        hasher.add(rec.seq, rec.payload_crc);
        pending.push((rec.seq, rec.payload));
        next_seq += 1;
        pos += rec.len;
        if rec.flags & FLAG_COMMIT == 0 {
            continue;
        }
        let chain = hasher.finish();
        if rec.chain.is_some_and(|stored| stored != chain) {
            scan.end = End::Corrupt {
                at: scan.committed_len,
                reason: "the batch's chain value does not continue the log before it".into(),
            };
            return scan;
        }
        if let Err(reason) = batch(Batch { records: &pending, chain }) {
            scan.end = End::Corrupt { at: scan.committed_len, reason };
            return scan;
        }
        pending.clear();
        scan.committed_len = pos as u64;
        scan.last_seq = rec.seq;
        scan.chain = chain;
        hasher = chain::Hasher::new(&chain);
    }
    if !pending.is_empty() {
        scan.end = End::Incomplete { at: scan.committed_len };
    }
    scan
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: LogId = [7; 16];

    /// A segment of the given batches, and the chain after each batch.
    fn segment(batches: &[&[&[u8]]]) -> (Vec<u8>, Vec<Chain>) {
        let mut chain = chain::genesis(&ID);
        let mut buf = header(1, &ID, &chain).to_vec();
        let mut seq = 1;
        let mut chains = Vec::new();
        for b in batches {
            let mut h = chain::Hasher::new(&chain);
            let mut last = (0, 0);
            for p in *b {
                last = push_record(&mut buf, seq, p);
                h.add(seq, last.1);
                seq += 1;
            }
            chain = h.finish();
            seal(&mut buf, last.0, last.1, &chain);
            chains.push(chain);
        }
        (buf, chains)
    }

    fn collect(data: &[u8]) -> (Vec<u64>, Scan) {
        let h = parse_header(data, 1).unwrap();
        let mut seen = Vec::new();
        let s = scan(data, &h, chain::genesis(&ID), |b| {
            seen.extend(b.records.iter().map(|(s, _)| *s));
            Ok(())
        });
        (seen, s)
    }

    #[test]
    fn reads_back_committed_batches_and_their_chain() {
        let (data, chains) = segment(&[&[b"a", b"bb"], &[b"ccc"]]);
        let (seen, s) = collect(&data);
        assert_eq!(seen, [1, 2, 3]);
        assert_eq!(s.end, End::Clean);
        assert_eq!((s.committed_len, s.last_seq, s.chain), (data.len() as u64, 3, chains[1]));
    }

    #[test]
    fn a_cut_anywhere_in_the_last_batch_drops_that_batch_whole() {
        let (data, _) = segment(&[&[b"a", b"bb"], &[b"ccc", b"dddd"]]);
        let first_batch_end = HEADER_LEN as usize + 2 * RECORD_HEADER_LEN + 3 + chain::LEN;
        for cut in first_batch_end..data.len() {
            let (seen, s) = collect(&data[..cut]);
            assert_eq!(seen, [1, 2], "cut at {cut}");
            assert_eq!(s.committed_len, first_batch_end as u64);
            let expect =
                if cut == first_batch_end { End::Clean } else { End::Incomplete { at: first_batch_end as u64 } };
            assert_eq!(s.end, expect, "cut at {cut}");
        }
    }

    /// Regression: a flipped bit in a length field used to make the scan read the rest of
    /// the file as one huge torn record, and recovery cut every committed batch.
    #[test]
    fn a_flipped_length_bit_before_committed_batches_is_corruption_not_a_tear() {
        let (data, _) = segment(&[&[b"hello", b"there"], &[b"world"], &[b"again"]]);
        for byte in 0..4 {
            for bit in 0..8 {
                let mut d = data.clone();
                d[HEADER_LEN as usize + byte] ^= 1 << bit;
                let (seen, s) = collect(&d);
                assert!(seen.is_empty());
                assert!(
                    matches!(&s.end, End::Corrupt { at: 76, reason } if reason.contains("header checksum")),
                    "byte {byte} bit {bit}: {:?}",
                    s.end
                );
            }
        }
    }

    #[test]
    fn any_flipped_bit_before_the_last_commit_record_is_corruption() {
        let (data, _) = segment(&[&[b"hello", b"there"], &[b"world", b"!"]]);
        let last_record = data.len() - chain::LEN - 1 - RECORD_HEADER_LEN;
        for i in HEADER_LEN as usize..last_record {
            let mut d = data.clone();
            d[i] ^= 0x10;
            let (_, s) = collect(&d);
            assert!(matches!(s.end, End::Corrupt { .. }), "flip at {i}: {:?}", s.end);
        }
        // A flip in the final commit record itself is indistinguishable from a tear.
        let mut d = data.clone();
        d[data.len() - 1] ^= 1;
        let (seen, s) = collect(&d);
        assert_eq!(seen, [1, 2]);
        assert!(matches!(s.end, End::Incomplete { .. }));
    }

    #[test]
    fn a_wrong_sequence_number_or_chain_is_corruption() {
        let mut buf = header(1, &ID, &chain::genesis(&ID)).to_vec();
        let (a, c) = push_record(&mut buf, 1, b"x");
        seal(&mut buf, a, c, &[0; 32]);
        let (_, s) = collect(&buf);
        assert!(matches!(s.end, End::Corrupt { reason, .. } if reason.contains("chain")));
        let (mut buf, chains) = segment(&[&[b"x"]]);
        let (b, c) = push_record(&mut buf, 3, b"y");
        seal(&mut buf, b, c, &chains[0]);
        let (_, s) = collect(&buf);
        assert!(matches!(s.end, End::Corrupt { reason, .. } if reason.contains("expected")));
    }

    #[test]
    fn headers_short_bad_and_misnamed() {
        let h = header(1, &ID, &chain::genesis(&ID));
        assert_eq!(parse_header(&h[..5], 1), Err(HeaderProblem::Short));
        assert_eq!(parse_header(&h[..40], 1), Err(HeaderProblem::Short));
        let mut bad = h;
        bad[0] = b'X';
        assert!(matches!(parse_header(&bad, 1), Err(HeaderProblem::Bad(_))));
        let mut bad = h;
        bad[30] ^= 1;
        assert!(matches!(parse_header(&bad, 1), Err(HeaderProblem::Bad(r)) if r.contains("checksum")));
        assert!(matches!(parse_header(&h, 5), Err(HeaderProblem::Bad(r)) if r.contains("name says 5")));
    }
}
