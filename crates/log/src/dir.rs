//! The directory itself: its lock, its creation under that lock, and the rule that every
//! file dacu writes appears whole or not at all.
//!
//! `DIR/LOCK` carries an advisory `flock`: exclusive for the one writer, shared for
//! readers, taken without waiting. Readers open it read-only and never create it: in a
//! directory without a `LOCK` (or one they may not open), they read unlocked.

use crate::io::Io;
use crate::{io_err, snapshot, OpenReport, StoreError, FESTIVAL_FILE};
use std::fs;
use std::path::{Path, PathBuf};

pub const LOCK_FILE: &str = "LOCK";

fn try_lock(path: &Path, f: fs::File, exclusive: bool) -> Result<fs::File, StoreError> {
    let r = if exclusive { f.try_lock() } else { f.try_lock_shared() };
    match r {
        Ok(()) => Ok(f),
        Err(fs::TryLockError::WouldBlock) => Err(StoreError::Locked(path.to_path_buf())),
        Err(fs::TryLockError::Error(e)) => Err(StoreError::Io { path: path.join(LOCK_FILE), source: e }),
    }
}

/// The writer's lock: `DIR/LOCK`, created if missing, held exclusively.
pub fn lock_exclusive(path: &Path) -> Result<fs::File, StoreError> {
    let p = path.join(LOCK_FILE);
    let f = fs::OpenOptions::new().create(true).truncate(false).write(true).open(&p).map_err(io_err(&p))?;
    try_lock(path, f, true)
}

/// A reader's lock: shared, so readers run side by side but never beside a writer. `None`
/// when there is no lock file to open (a read-only copy of a directory).
pub fn lock_shared(path: &Path) -> Result<Option<fs::File>, StoreError> {
    if !path.join(FESTIVAL_FILE).exists() {
        return Err(StoreError::NotADataDir(path.to_path_buf()));
    }
    let p = path.join(LOCK_FILE);
    match fs::File::open(&p) {
        Ok(f) => try_lock(path, f, false).map(Some),
        Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied) => Ok(None),
        Err(e) => Err(StoreError::Io { path: p, source: e }),
    }
}

/// Names a directory may hold while another process is creating a data directory in it.
const CREATING: &[&str] = &[LOCK_FILE, "festival.toml.tmp"];

/// Locks `path` (creating it if needed) and, under the lock, writes the festival file if
/// the directory has none. An existing directory must be empty, or a data directory of
/// the same festival.
pub fn create_locked(path: &Path, src: &str, io: &dyn Io) -> Result<fs::File, StoreError> {
    let fest = path.join(FESTIVAL_FILE);
    // Emptiness first, then the festival file: a creator writes the festival file before
    // anything else, so a directory seen non-empty by a racing creator already shows it.
    if !is_empty_or_creating(path)? && !fest.exists() {
        return Err(StoreError::NotEmpty(path.to_path_buf()));
    }
    fs::create_dir_all(path).map_err(io_err(path))?;
    let lock = lock_exclusive(path)?;
    if fest.exists() {
        let have = fs::read_to_string(&fest).map_err(io_err(&fest))?;
        if have != src {
            return Err(StoreError::FestivalMismatch { path: path.to_path_buf() });
        }
        return Ok(lock);
    }
    if !is_empty_or_creating(path)? {
        return Err(StoreError::NotEmpty(path.to_path_buf()));
    }
    crate::fail_point!("create::before_festival", path);
    write_atomic(io, &fest, src.as_bytes()).map_err(io_err(&fest))?;
    Ok(lock)
}

fn is_empty_or_creating(path: &Path) -> Result<bool, StoreError> {
    let entries = match fs::read_dir(path) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(true),
        Err(e) => return Err(StoreError::Io { path: path.to_path_buf(), source: e }),
    };
    for e in entries {
        let e = e.map_err(io_err(path))?;
        if !CREATING.iter().any(|n| e.file_name() == *n) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Writes `bytes` to `path` whole or not at all: a temporary file beside it, fsynced,
/// renamed over it, and the directory fsynced.
pub fn write_atomic(io: &dyn Io, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = tmp_path(path);
    let written = (|| {
        let mut f = io.open_append(&tmp)?;
        f.truncate(0)?;
        f.write_all(bytes)?;
        f.sync()?;
        drop(f);
        crate::fail_point!("write_atomic::before_rename");
        fs::rename(&tmp, path)?;
        io.sync_dir(path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")))
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// `NAME.tmp` beside `path`.
pub fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Removes what a crash can leave in `snapshots/`: a `snapshot.tmp`, and snapshots beyond
/// [`snapshot::KEEP`] (oldest first; only a build older than this one left extras).
pub fn tidy_snapshots(path: &Path, report: &mut OpenReport) -> Result<(), StoreError> {
    let d = snapshot::dir(path);
    let tmp = d.join(snapshot::TMP);
    if tmp.exists() {
        fs::remove_file(&tmp).map_err(io_err(&tmp))?;
        report.warnings.push(format!("removed {}, a snapshot whose writing was cut short", tmp.display()));
    }
    for (_, old) in snapshot::list(path).map_err(io_err(&d))?.into_iter().skip(snapshot::KEEP) {
        fs::remove_file(&old).map_err(io_err(&old))?;
    }
    Ok(())
}
