//! The files the command line writes, and the directories it may replace: every file
//! appears whole or not at all, nothing inside a data directory is overwritten, and only
//! directories dacu made for itself are ever deleted.

use anyhow::{bail, Context};
use dacu_log::{DataDir, Options};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The data directory that holds `path` (at any depth), if any.
fn enclosing_data_dir(path: &Path) -> Option<PathBuf> {
    let abs = std::path::absolute(path).ok()?;
    abs.ancestors()
        .skip(1)
        .find(|d| d.join(dacu_log::FESTIVAL_FILE).is_file() && d.join(dacu_log::LOG_DIR).is_dir())
        .map(Path::to_path_buf)
}

/// Refuses an output path inside a data directory: its files are dacu's own.
pub fn check_output(path: &Path) -> anyhow::Result<()> {
    if let Some(d) = enclosing_data_dir(path) {
        bail!(
            "{} is inside the data directory {}, whose files dacu keeps; write the output elsewhere",
            path.display(),
            d.display()
        );
    }
    Ok(())
}

/// Writes a whole file through a temporary beside it and a rename.
pub fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    check_output(path)?;
    dacu_log::dir::write_atomic(&dacu_log::io::RealIo, path, bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// A file being written in pieces: it appears under its name only when [`Output::finish`]
/// is called, so an interrupted run leaves no partial file there.
pub struct Output {
    tmp: PathBuf,
    path: PathBuf,
    file: std::io::BufWriter<std::fs::File>,
}

impl Output {
    pub fn create(path: &Path) -> anyhow::Result<Output> {
        check_output(path)?;
        let tmp = dacu_log::dir::tmp_path(path);
        let file = std::fs::File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
        Ok(Output { tmp, path: path.to_path_buf(), file: std::io::BufWriter::with_capacity(1 << 20, file) })
    }

    pub fn finish(mut self) -> anyhow::Result<()> {
        self.file.flush()?;
        self.file.get_ref().sync_all()?;
        std::fs::rename(&self.tmp, &self.path).with_context(|| format!("cannot write {}", self.path.display()))
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        // Not finished: the temporary goes, the name was never taken.
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// A directory that a command (`demo`, `bench`) keeps for itself, marked by a file so
/// that it is only ever replaced when that command made it.
pub struct Scratch {
    pub marker: &'static str,
    pub what: &'static str,
}

pub const DEMO: Scratch = Scratch { marker: ".dacu-demo", what: "dacu demo" };
pub const BENCH: Scratch = Scratch { marker: ".dacu-bench", what: "dacu bench" };

impl Scratch {
    fn is_ours(&self, dir: &Path) -> bool {
        dir.join(self.marker).is_file()
    }

    /// Refuses `dir` if it exists, is not empty and was not made by this command.
    pub fn check(&self, dir: &Path) -> anyhow::Result<()> {
        let empty = match std::fs::read_dir(dir) {
            Ok(mut e) => e.next().is_none(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
        };
        if !empty && !self.is_ours(dir) {
            bail!(
                "{} exists and was not made by {}; pass a new path ({} only ever replaces a directory it made)",
                dir.display(),
                self.what,
                self.what
            );
        }
        Ok(())
    }

    /// Marks `dir` (which must exist) as this command's.
    pub fn mark(&self, dir: &Path) -> anyhow::Result<()> {
        let text = format!("Made by `{}`: its next run replaces this directory.\n", self.what);
        std::fs::write(dir.join(self.marker), text).with_context(|| format!("cannot write in {}", dir.display()))
    }

    /// Deletes `dir`, which this command made, after taking the lock of every data
    /// directory in it (`dir` itself and `subdirs`), so that a directory in use is never
    /// deleted.
    pub fn remove(&self, dir: &Path, subdirs: &[&str]) -> anyhow::Result<()> {
        self.check(dir)?;
        if !dir.exists() {
            return Ok(());
        }
        let mut locks = Vec::new();
        for d in std::iter::once(dir.to_path_buf()).chain(subdirs.iter().map(|s| dir.join(s))) {
            if d.join(dacu_log::FESTIVAL_FILE).exists() {
                locks.push(
                    dacu_log::dir::lock_exclusive(&d).with_context(|| format!("cannot replace {}", d.display()))?,
                );
            }
        }
        std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
        drop(locks);
        Ok(())
    }

    /// Creates a fresh data directory of the festival `src` at `dir`, marked as this
    /// command's, replacing this command's earlier one.
    pub fn fresh_data_dir(&self, dir: &Path, subdirs: &[&str], src: &str) -> anyhow::Result<DataDir> {
        self.remove(dir, subdirs)?;
        let (d, _) = DataDir::create_with(dir, src, Options::default())
            .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
        self.mark(dir)?;
        Ok(d)
    }
}
