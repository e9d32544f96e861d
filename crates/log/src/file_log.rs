//! The file log: commit batches appended to segment files with one write and one
//! `fdatasync` each, rotating to a new segment between batches. The default
//! [`EventLog`].

use crate::batch::SealedBatch;
use crate::chain::{self, Chain, LogId};
use crate::io::{Io, LogFile};
use crate::store::{Committed, EventLog};
use crate::{fail_point, io_err, recover, segment, Options, StoreError, LOG_DIR};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct FileLog {
    io: Arc<dyn Io>,
    log_dir: PathBuf,
    file: Box<dyn LogFile>,
    path: PathBuf,
    /// Bytes of the current segment that are committed and durable.
    committed_len: u64,
    segment_bytes: u64,
    log_id: LogId,
    /// The chain value after the last durable batch.
    chain: Chain,
    durable_seq: u64,
    poisoned: Option<String>,
}

impl FileLog {
    /// Continues the log at the end recovery found: the last segment, or a new one when
    /// there is none, its header was never completed, or it is in format 1 (which is
    /// never appended to).
    pub(crate) fn continue_at(
        data: &Path,
        tail: recover::Tail,
        log_id: LogId,
        opts: &Options,
    ) -> Result<FileLog, StoreError> {
        let log_dir = data.join(LOG_DIR);
        std::fs::create_dir_all(&log_dir).map_err(io_err(&log_dir))?;
        let appendable = tail.segment.filter(|(s, _)| s.header.as_ref().is_some_and(|h| h.version == segment::VERSION));
        let (file, path, committed_len, log_id, chain) = match appendable {
            Some((seg, len)) => {
                let file = opts.io.open_append(&seg.path).map_err(io_err(&seg.path))?;
                (file, seg.path, len, log_id, tail.chain)
            }
            None => {
                let (log_id, chain) = if tail.next_seq == 1 {
                    // Nothing committed yet: a new log, with an identity of its own.
                    let id = chain::new_log_id().map_err(io_err(&log_dir))?;
                    (id, chain::genesis(&id))
                } else {
                    (log_id, tail.chain)
                };
                let p = log_dir.join(segment::name(tail.next_seq));
                let file = new_segment(opts.io.as_ref(), &p, tail.next_seq, &log_id, &chain)?;
                (file, p, segment::HEADER_LEN, log_id, chain)
            }
        };
        Ok(FileLog {
            io: opts.io.clone(),
            log_dir,
            file,
            path,
            committed_len,
            segment_bytes: opts.segment_bytes,
            log_id,
            chain,
            durable_seq: tail.next_seq - 1,
            poisoned: None,
        })
    }

    pub fn log_id(&self) -> LogId {
        self.log_id
    }

    /// The chain value after the last durable batch.
    pub fn chain(&self) -> Chain {
        self.chain
    }

    pub fn is_poisoned(&self) -> bool {
        self.poisoned.is_some()
    }

    fn write(&mut self, batch: &SealedBatch) -> Result<(), StoreError> {
        if self.committed_len >= self.segment_bytes {
            // Rotate between batches: the new segment is named after the batch's first seq.
            let path = self.log_dir.join(segment::name(batch.first_seq));
            self.file = new_segment(self.io.as_ref(), &path, batch.first_seq, &self.log_id, &self.chain)?;
            self.path = path;
            self.committed_len = segment::HEADER_LEN;
        }
        self.file.write_all(&batch.bytes).map_err(io_err(&self.path))?;
        fail_point!("commit::before_sync", self.path);
        self.file.sync().map_err(io_err(&self.path))
    }
}

impl EventLog for FileLog {
    fn append(&mut self, batch: &SealedBatch) -> Result<Committed, StoreError> {
        if let Some(why) = &self.poisoned {
            return Err(StoreError::Poisoned(why.clone()));
        }
        if batch.first_seq != self.durable_seq + 1 {
            return Err(StoreError::Fenced { expected: self.durable_seq + 1, got: batch.first_seq });
        }
        if let Err(e) = self.write(batch) {
            // Best effort: cut the partial batch so the file ends at a commit. Recovery
            // drops an incomplete batch anyway.
            let _ = self.file.truncate(self.committed_len);
            self.poisoned = Some(e.to_string());
            return Err(e);
        }
        self.committed_len += batch.bytes.len() as u64;
        self.durable_seq = batch.last_seq;
        self.chain = batch.chain;
        Ok(Committed { first_seq: batch.first_seq, last_seq: batch.last_seq })
    }

    fn durable_seq(&self) -> u64 {
        self.durable_seq
    }
}

/// Creates a segment file holding only its header, durably.
fn new_segment(
    io: &dyn Io,
    path: &Path,
    first_seq: u64,
    log_id: &LogId,
    chain: &Chain,
) -> Result<Box<dyn LogFile>, StoreError> {
    let mut file = io.open_append(path).map_err(io_err(path))?;
    file.truncate(0).map_err(io_err(path))?;
    file.write_all(&segment::header(first_seq, log_id, chain)).map_err(io_err(path))?;
    fail_point!("segment::before_sync", path);
    file.sync().map_err(io_err(path))?;
    let log_dir = path.parent().expect("a segment is in log/");
    io.sync_dir(log_dir).map_err(io_err(log_dir))?;
    Ok(file)
}
