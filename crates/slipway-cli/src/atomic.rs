//! The workspace's one atomic write: a uniquely named temporary file
//! beside the destination, created exclusively (so neither a file left by
//! a killed run nor a planted symlink is ever opened), synced, renamed
//! into place, and the directory synced so the rename survives a crash.
//! Dropped before [`AtomicFile::persist`], the temporary file goes.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// A file being written that appears at its destination whole or not at
/// all.
#[derive(Debug)]
pub struct AtomicFile {
    temp: tempfile::NamedTempFile,
    dest: PathBuf,
}

impl AtomicFile {
    /// A new, empty temporary file beside `dest` (mode 0600 until
    /// persisted).
    ///
    /// # Errors
    ///
    /// When the directory of `dest` cannot hold a new file.
    pub fn create(dest: &Path) -> std::io::Result<AtomicFile> {
        let name = dest
            .file_name()
            .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .tempfile_in(dir_of(dest))?;
        Ok(AtomicFile {
            temp,
            dest: dest.to_path_buf(),
        })
    }

    /// The temporary file, to write (or clone a handle to write from
    /// another thread).
    #[must_use]
    pub fn file(&self) -> &File {
        self.temp.as_file()
    }

    /// Where the temporary file is, to read it back before it is
    /// persisted.
    #[must_use]
    pub fn path(&self) -> &Path {
        self.temp.path()
    }

    /// Syncs the file, gives it `mode` (permission bits), renames it to
    /// its destination and syncs the directory.
    ///
    /// # Errors
    ///
    /// When any step fails; the temporary file is then removed.
    pub fn persist(self, mode: u32) -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt as _;
        let file = self.temp.as_file();
        file.sync_all()?;
        file.set_permissions(std::fs::Permissions::from_mode(mode & 0o7777))?;
        let dir = dir_of(&self.dest).to_path_buf();
        self.temp.persist(&self.dest).map_err(|err| err.error)?;
        // Make the rename itself durable; a directory that cannot be
        // opened for syncing leaves it merely atomic.
        let _ = File::open(dir).and_then(|d| d.sync_all());
        Ok(())
    }
}

fn dir_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Writes `bytes` to `path` atomically (see [`AtomicFile`]), readable by
/// everyone (0644): a reader never sees half a file.
///
/// # Errors
///
/// When the file cannot be written, synced or renamed into place.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let file = AtomicFile::create(path)?;
    file.file().write_all(bytes)?;
    file.persist(0o644)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn writes_whole_files_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("matrix.json");
        write_atomically(&path, b"one").unwrap();
        write_atomically(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "no temporary file is left");
    }

    #[test]
    fn a_leftover_or_a_planted_symlink_is_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        // The names a PID-named scheme would pick, planted in advance.
        for pid in [std::process::id(), 1, 2] {
            let _ = std::os::unix::fs::symlink(&victim, dir.path().join(format!(".out.{pid}.tmp")));
        }
        let out = dir.path().join("out");
        write_atomically(&out, b"data").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        assert_eq!(std::fs::read(&out).unwrap(), b"data");
    }

    #[test]
    fn dropped_unpersisted_the_temporary_file_goes() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("artifact");
        let file = AtomicFile::create(&out).unwrap();
        file.file().write_all(b"half").unwrap();
        let temp = file.path().to_path_buf();
        assert!(temp.exists());
        drop(file);
        assert!(!temp.exists());
        assert!(!out.exists());
    }
}
