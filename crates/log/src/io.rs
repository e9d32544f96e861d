//! The file operations the log needs, behind a trait so that tests can inject short
//! writes, fsync errors and crashes between write and fsync.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// A file opened for appending.
pub trait LogFile: Send {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()>;
    /// Makes every byte written so far durable (fdatasync).
    fn sync(&mut self) -> io::Result<()>;
    /// Cuts the file to `len` bytes and continues appending there.
    fn truncate(&mut self, len: u64) -> io::Result<()>;
    /// Overwrites the file's first `buf.len()` bytes, which must have been written;
    /// appending continues at the end.
    fn write_start(&mut self, buf: &[u8]) -> io::Result<()>;
}

pub trait Io: Send + Sync {
    /// Opens `path` for appending at its end, creating it if missing.
    fn open_append(&self, path: &Path) -> io::Result<Box<dyn LogFile>>;
    /// Makes a directory's entries durable (after a create or rename in it).
    fn sync_dir(&self, path: &Path) -> io::Result<()>;
}

/// The real filesystem.
#[derive(Debug, Default, Clone, Copy)]
pub struct RealIo;

struct RealFile(File);

impl LogFile for RealFile {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.write_all(buf)
    }
    fn sync(&mut self) -> io::Result<()> {
        self.0.sync_data()
    }
    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.0.set_len(len)?;
        self.0.seek(SeekFrom::Start(len))?;
        self.0.sync_all()
    }
    fn write_start(&mut self, buf: &[u8]) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        self.0.write_all_at(buf, 0)
    }
}

impl Io for RealIo {
    fn open_append(&self, path: &Path) -> io::Result<Box<dyn LogFile>> {
        let mut f = OpenOptions::new().create(true).write(true).truncate(false).open(path)?;
        f.seek(SeekFrom::End(0))?;
        Ok(Box::new(RealFile(f)))
    }
    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        File::open(path)?.sync_all()
    }
}

/// Faults to inject, shared between a test and the files it hands out.
#[derive(Debug, Default)]
pub struct Faults {
    /// Fail the write that would take the bytes written through this I/O past this many,
    /// after writing the part before it (a short write).
    pub short_write_at: Option<u64>,
    /// Fail the next sync.
    pub fail_next_sync: bool,
    /// Fail every sync from now on, as a crash before the sync would: the bytes written
    /// since the last good sync may or may not be on disk (the test decides).
    pub crash_at_sync: bool,
    /// Bytes written through this I/O.
    pub written: u64,
    /// Per file: the length at the last good sync and the length written.
    pub files: Vec<(std::path::PathBuf, u64, u64)>,
}

/// Real files with injected faults, for tests.
#[derive(Debug, Clone, Default)]
pub struct FaultyIo {
    pub faults: Arc<Mutex<Faults>>,
}

struct FaultyFile {
    inner: RealFile,
    path: std::path::PathBuf,
    len: u64,
    faults: Arc<Mutex<Faults>>,
}

impl FaultyFile {
    fn record(&self, f: &mut Faults, synced: bool) {
        let entry = match f.files.iter_mut().position(|(p, _, _)| *p == self.path) {
            Some(i) => &mut f.files[i],
            None => {
                f.files.push((self.path.clone(), 0, 0));
                f.files.last_mut().expect("just pushed")
            }
        };
        entry.2 = self.len;
        if synced {
            entry.1 = self.len;
        }
    }
}

impl LogFile for FaultyFile {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let faults = self.faults.clone();
        let mut f = faults.lock().expect("faults lock");
        if let Some(limit) = f.short_write_at {
            if f.written + buf.len() as u64 > limit {
                let part = limit.saturating_sub(f.written) as usize;
                self.inner.write_all(&buf[..part])?;
                self.len += part as u64;
                f.written += part as u64;
                f.short_write_at = None;
                self.record(&mut f, false);
                return Err(io::Error::new(io::ErrorKind::WriteZero, "injected short write"));
            }
        }
        self.inner.write_all(buf)?;
        self.len += buf.len() as u64;
        f.written += buf.len() as u64;
        self.record(&mut f, false);
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        let faults = self.faults.clone();
        let mut f = faults.lock().expect("faults lock");
        if f.crash_at_sync {
            return Err(io::Error::other("injected crash before fsync"));
        }
        if std::mem::take(&mut f.fail_next_sync) {
            return Err(io::Error::other("injected fsync error"));
        }
        self.inner.sync()?;
        self.record(&mut f, true);
        Ok(())
    }

    fn truncate(&mut self, len: u64) -> io::Result<()> {
        let faults = self.faults.clone();
        let mut f = faults.lock().expect("faults lock");
        if f.crash_at_sync {
            return Err(io::Error::other("injected crash"));
        }
        self.inner.truncate(len)?;
        self.len = len;
        self.record(&mut f, true);
        Ok(())
    }

    fn write_start(&mut self, buf: &[u8]) -> io::Result<()> {
        let faults = self.faults.clone();
        let f = faults.lock().expect("faults lock");
        if f.crash_at_sync {
            return Err(io::Error::other("injected crash"));
        }
        self.inner.write_start(buf)
    }
}

impl Io for FaultyIo {
    fn open_append(&self, path: &Path) -> io::Result<Box<dyn LogFile>> {
        let mut f = OpenOptions::new().create(true).write(true).truncate(false).open(path)?;
        let len = f.seek(SeekFrom::End(0))?;
        let file = FaultyFile { inner: RealFile(f), path: path.to_path_buf(), len, faults: self.faults.clone() };
        let faults = self.faults.clone();
        file.record(&mut faults.lock().expect("faults lock"), true);
        Ok(Box::new(file))
    }
    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        RealIo.sync_dir(path)
    }
}
