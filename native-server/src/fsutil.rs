//! Small durable-file helpers shared by the catalog, the WAL, the tokens and the snapshot
//! manifest.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

/// Replaces `path` with `bytes` so that a crash leaves either the old or the new content:
/// write a temporary file, fsync it, rename it over `path`, fsync the directory. The file is
/// readable by its owner only (the token hashes are among these files).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

/// Reads the JSON file at `path`, or `T::default()` when there is no file yet.
pub fn read_json_or_default<T: serde::de::DeserializeOwned + Default>(
    path: &Path,
) -> io::Result<T> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(e),
    }
}

/// Fsyncs a directory so that files created, renamed or removed in it stay so after a crash.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Whether an I/O error means the disk (or the user's quota) is full: a write refused with
/// 507 and taken again once there is space, not a failure of the server.
pub fn is_full(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

/// What a client is told when [`is_full`] refused its write.
pub fn full_message(e: &io::Error) -> String {
    format!("the data directory is full ({e}): the write was not stored; free space and retry")
}
