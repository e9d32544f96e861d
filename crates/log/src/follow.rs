//! Following a file log as a writer appends to it: each batch is handed over once it is
//! durable, read back from the segment files (the disk is the queue, so a follower that
//! falls behind holds no memory and never slows the writer).

use crate::chain::Chain;
use crate::segment::{self, End, Header};
use crate::{io_err, StoreError, LOG_DIR};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A position in a file log, and the reader of what comes after it.
pub struct Follow {
    log_dir: PathBuf,
    path: PathBuf,
    file: File,
    header: Header,
    /// Bytes read from the file after the last batch handed over.
    buf: Vec<u8>,
    next_seq: u64,
    chain: Chain,
}

/// Why handing over stopped at a batch: it is not durable yet.
const NOT_YET: &str = "not durable yet";

impl Follow {
    /// Follows the log of the data directory `data` from the end of its durable part: the
    /// event after `last_seq`, whose chain value before it is `chain`.
    pub fn from_end(data: &Path, last_seq: u64, chain: Chain) -> Result<Follow, StoreError> {
        let log_dir = data.join(LOG_DIR);
        let segs = segment::list(&log_dir).map_err(io_err(&log_dir))?;
        let (first, path) = segs.iter().rev().find(|(first, _)| *first <= last_seq + 1).cloned().ok_or_else(|| {
            StoreError::Corrupt { path: log_dir.clone(), offset: 0, reason: "no segment to follow".into() }
        })?;
        let mut f = Follow::open(&log_dir, first, &path)?;
        // Skip what is already applied: read through the segment to the end of `last_seq`.
        let mut skipped = f.header.first_seq - 1;
        f.read(last_seq, |records, _| {
            skipped = records[records.len() - 1].0;
            Ok(())
        })?;
        if skipped != last_seq || f.chain != chain {
            return Err(StoreError::Corrupt {
                path,
                offset: 0,
                reason: format!("the log does not end at event {last_seq} with the chain the writer holds"),
            });
        }
        Ok(f)
    }

    /// Reads the log of the data directory `data` from its first event (a log that never
    /// dropped its first segment: a partition's, which keeps every entry).
    pub fn from_start(data: &Path) -> Result<Follow, StoreError> {
        let log_dir = data.join(LOG_DIR);
        let segs = segment::list(&log_dir).map_err(io_err(&log_dir))?;
        match segs.first() {
            Some((1, path)) => Follow::open(&log_dir, 1, path),
            _ => Err(StoreError::Corrupt { path: log_dir, offset: 0, reason: "no segment starts at event 1".into() }),
        }
    }

    #[allow(clippy::verbose_file_reads, reason = "the file stays open: later reads go on from where this one ends")]
    fn open(log_dir: &Path, first: u64, path: &Path) -> Result<Follow, StoreError> {
        let mut file = File::open(path).map_err(io_err(path))?;
        let mut buf = Vec::new();
        file.read_to_end(&mut buf).map_err(io_err(path))?;
        let corrupt = |reason: String| StoreError::Corrupt { path: path.to_path_buf(), offset: 0, reason };
        let header = segment::parse_header(&buf, first).map_err(|e| corrupt(format!("{e:?}")))?;
        let chain = header.chain.ok_or_else(|| corrupt("a format 1 segment cannot be followed".into()))?;
        buf.drain(..header.size() as usize);
        Ok(Follow {
            log_dir: log_dir.to_path_buf(),
            path: path.to_path_buf(),
            file,
            header,
            buf,
            next_seq: first,
            chain,
        })
    }

    /// The seq of the next event to hand over.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Hands over, in order, every whole batch whose events are all at or before
    /// `through` (the durable seq), as its `(seq, payload)` records and the chain value
    /// after it. Returns once none is left; a batch still being written waits for the
    /// next call.
    pub fn read(
        &mut self,
        through: u64,
        mut f: impl FnMut(&[(u64, &[u8])], Chain) -> Result<(), String>,
    ) -> Result<(), StoreError> {
        while self.next_seq <= through {
            self.file.read_to_end(&mut self.buf).map_err(io_err(&self.path))?;
            let scan = segment::scan_from(&self.buf, &self.header, 0, self.next_seq, self.chain, |b| {
                if b.records[b.records.len() - 1].0 > through {
                    return Err(NOT_YET.into());
                }
                f(b.records, b.chain)
            });
            self.buf.drain(..scan.committed_len as usize);
            self.next_seq = scan.last_seq + 1;
            self.chain = scan.chain;
            match scan.end {
                End::Corrupt { reason, .. } if reason != NOT_YET => {
                    return Err(StoreError::Corrupt { path: self.path.clone(), offset: 0, reason })
                }
                End::Clean if self.next_seq <= through => {
                    // The rest is in the next segment, once the writer has rotated to it.
                    let next = self.log_dir.join(segment::name(self.next_seq));
                    if !next.exists() {
                        return Ok(());
                    }
                    let (seq, chain) = (self.next_seq, self.chain);
                    *self = Follow::open(&self.log_dir, seq, &next)?;
                    if self.chain != chain {
                        return Err(StoreError::Corrupt {
                            path: next,
                            offset: 0,
                            reason: "the segment does not continue the chain".into(),
                        });
                    }
                }
                _ => return Ok(()),
            }
        }
        Ok(())
    }
}
