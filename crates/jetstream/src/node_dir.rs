//! A node's own directory when its log is a stream: the lock, the API tokens, and
//! `log.url` naming the stream it serves. The events are not here; nothing here is
//! needed to recover them.

use crate::url::LogUrl;
use dacu_log::StoreError;
use std::fs;
use std::path::Path;

/// The file that makes a directory a stream node's, holding the `--log` address.
pub const URL_FILE: &str = "log.url";

/// Opens (creating it when missing or empty) the node directory `path` for `url`, and
/// takes its exclusive lock. A directory that serves another stream, that holds a file
/// log, or that holds anything else, is refused and left as it is.
pub fn open(path: &Path, url: &LogUrl) -> Result<fs::File, StoreError> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| StoreError::Io { path: p, source }
    };
    let marker = path.join(URL_FILE);
    if path.join(dacu_log::FESTIVAL_FILE).exists() {
        return Err(StoreError::Remote {
            url: url.to_string(),
            reason: format!(
                "{} holds a file log (festival.toml); give a new directory for a node whose log is a stream",
                path.display()
            ),
        });
    }
    let empty = match fs::read_dir(path) {
        Ok(mut d) => d.next().is_none(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => return Err(StoreError::Io { path: path.to_path_buf(), source: e }),
    };
    if !empty && !marker.exists() {
        return Err(StoreError::NotEmpty(path.to_path_buf()));
    }
    fs::create_dir_all(path).map_err(io(path))?;
    let lock = dacu_log::dir::lock_exclusive(path)?;
    match fs::read_to_string(&marker) {
        Ok(have) if have.trim() == url.to_string() => {}
        Ok(have) => {
            return Err(StoreError::Remote {
                url: url.to_string(),
                reason: format!(
                    "{} serves {}; give a directory of its own to each stream",
                    path.display(),
                    have.trim()
                ),
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            dacu_log::dir::write_atomic(&dacu_log::io::RealIo, &marker, format!("{url}\n").as_bytes())
                .map_err(io(&marker))?;
        }
        Err(e) => return Err(StoreError::Io { path: marker, source: e }),
    }
    Ok(lock)
}

/// Whether `path` is a stream node's directory.
pub fn is_node_dir(path: &Path) -> bool {
    path.join(URL_FILE).exists()
}
