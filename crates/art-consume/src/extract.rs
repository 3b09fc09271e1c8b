//! `--extract DIR`: unpacks a verified tar, safely, into a temporary
//! directory beside `DIR`, renamed into place only once every entry is
//! out. Refused, with nothing left behind: absolute paths, `..`, any entry
//! under a symlink the archive made (never written through), hard links,
//! device files and FIFOs, and a name given twice. Modes (permission
//! bits only: no set-id) and mtimes are restored, directories' last.

use std::collections::HashSet;
use std::fs::File;
use std::io::Read as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::Error;

/// Checks before any transfer that `dest` can be made: absent, or an
/// empty directory.
pub(crate) fn check_destination(dest: &Path) -> Result<(), Error> {
    match std::fs::read_dir(dest).map(|mut entries| entries.next().is_none()) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Ok(true) => Ok(()),
        Ok(false) => Err(Error::Local {
            path: dest.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "--extract wants a new or empty directory",
            ),
        }),
        Err(source) => Err(Error::Local {
            path: dest.to_path_buf(),
            source,
        }),
    }
}

/// Unpacks the tar at `archive` into `dest`. Returns the number of entries.
pub(crate) fn extract(archive: &Path, dest: &Path) -> Result<u64, Error> {
    let parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = dest
        .file_name()
        .map_or_else(|| "tree".into(), |n| n.to_string_lossy().into_owned());
    let local = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Local { path, source }
    };
    // Uniquely named and created exclusively: nothing a killed run left,
    // or anyone planted, is entered. Removed when dropped unless renamed.
    let temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".extract")
        .tempdir_in(parent)
        .map_err(local(parent))?;
    let file = File::open(archive).map_err(local(archive))?;
    let entries = unpack(file, temp.path())?;
    // A directory made by `mkdir` would be 0755 under the usual umask.
    std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o755))
        .map_err(local(temp.path()))?;
    check_destination(dest)?;
    if dest.exists() {
        std::fs::remove_dir(dest).map_err(local(dest))?;
    }
    std::fs::rename(temp.path(), dest).map_err(local(dest))?;
    let _ = temp.keep();
    let _ = File::open(parent).and_then(|d| d.sync_all());
    Ok(entries)
}

fn unsafe_entry(path: &Path, why: &str) -> Error {
    Error::Unsafe(format!("{}: {why}", path.display()))
}

/// The entry's path as a relative path of normal components.
fn relative(path: &Path) -> Result<PathBuf, Error> {
    let mut rel = PathBuf::new();
    for part in path.components() {
        match part {
            Component::Normal(p) => rel.push(p),
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => {
                return Err(unsafe_entry(path, "an absolute path"));
            }
            Component::ParentDir => return Err(unsafe_entry(path, "a path with '..'")),
        }
    }
    Ok(rel)
}

fn mtime(header: &tar::Header) -> Option<SystemTime> {
    header
        .mtime()
        .ok()
        .map(|secs| UNIX_EPOCH + Duration::from_secs(secs))
}

fn unpack(file: File, root: &Path) -> Result<u64, Error> {
    let mut archive = tar::Archive::new(std::io::BufReader::with_capacity(1 << 20, file));
    let bad_tar = |e: std::io::Error| Error::Unsafe(format!("not a readable tar: {e}"));
    let mut symlinks: HashSet<PathBuf> = HashSet::new();
    let mut seen: HashSet<PathBuf> = HashSet::new();
    let mut directories: Vec<(PathBuf, u32, Option<SystemTime>)> = Vec::new();
    let mut count = 0;
    for entry in archive.entries().map_err(bad_tar)? {
        let mut entry = entry.map_err(bad_tar)?;
        let shown = entry.path().map_err(bad_tar)?.into_owned();
        let rel = relative(&shown)?;
        if rel.as_os_str().is_empty() {
            continue;
        }
        if let Some(link) = rel.ancestors().skip(1).find(|a| symlinks.contains(*a)) {
            return Err(unsafe_entry(
                &shown,
                &format!(
                    "under the symlink {}, which is never written through",
                    link.display()
                ),
            ));
        }
        if !seen.insert(rel.clone()) {
            return Err(unsafe_entry(&shown, "given twice"));
        }
        let target = root.join(&rel);
        let header = entry.header().clone();
        let mode = header.mode().unwrap_or(0o644) & 0o777;
        let local = |source| Error::Local {
            path: target.clone(),
            source,
        };
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(local)?;
        }
        match header.entry_type() {
            tar::EntryType::Directory => {
                match std::fs::create_dir(&target) {
                    Ok(()) => {}
                    // Made already as the parent of an earlier entry.
                    Err(e)
                        if e.kind() == std::io::ErrorKind::AlreadyExists
                            && std::fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir()) => {}
                    Err(e) => return Err(local(e)),
                }
                directories.push((target.clone(), mode, mtime(&header)));
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                write_file(&mut entry, &header, &target, &shown, mode)?;
            }
            tar::EntryType::Symlink => {
                make_symlink(&entry, &header, &target, &shown)?;
                symlinks.insert(rel);
            }
            tar::EntryType::Link => return Err(unsafe_entry(&shown, "a hard link")),
            other => {
                return Err(unsafe_entry(
                    &shown,
                    &format!("a {other:?} entry (only files, directories and symlinks)"),
                ));
            }
        }
        count += 1;
    }
    // Deepest first, so a read-only directory is made so after its contents.
    directories.sort_by_key(|d| std::cmp::Reverse(d.0.components().count()));
    for (path, mode, time) in directories {
        let local = |source| Error::Local {
            path: path.clone(),
            source,
        };
        if let Some(t) = time {
            File::open(&path)
                .and_then(|d| d.set_modified(t))
                .map_err(local)?;
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).map_err(local)?;
    }
    Ok(count)
}

/// A regular file, created new and never through a symlink.
fn write_file(
    entry: &mut impl std::io::Read,
    header: &tar::Header,
    target: &Path,
    shown: &Path,
    mode: u32,
) -> Result<(), Error> {
    let local = |source| Error::Local {
        path: target.to_path_buf(),
        source,
    };
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits().cast_signed())
        .mode(0o600)
        .open(target)
        .map_err(local)?;
    let size = header
        .size()
        .map_err(|e| Error::Unsafe(format!("not a readable tar: {e}")))?;
    let copied = std::io::copy(&mut entry.take(size), &mut out).map_err(local)?;
    if copied != size {
        return Err(unsafe_entry(shown, "shorter than its header says"));
    }
    out.set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(local)?;
    if let Some(t) = mtime(header) {
        out.set_modified(t).map_err(local)?;
    }
    Ok(())
}

/// A symlink, with its mtime where the filesystem keeps one.
fn make_symlink(
    entry: &tar::Entry<'_, impl std::io::Read>,
    header: &tar::Header,
    target: &Path,
    shown: &Path,
) -> Result<(), Error> {
    let link = entry
        .link_name()
        .map_err(|e| Error::Unsafe(format!("not a readable tar: {e}")))?
        .ok_or_else(|| unsafe_entry(shown, "a symlink without a target"))?;
    std::os::unix::fs::symlink(&link, target).map_err(|source| Error::Local {
        path: target.to_path_buf(),
        source,
    })?;
    if let Some(secs) = header.mtime().ok().and_then(|s| i64::try_from(s).ok()) {
        let at = rustix::fs::Timespec {
            tv_sec: secs,
            tv_nsec: 0,
        };
        let times = rustix::fs::Timestamps {
            last_access: at,
            last_modification: at,
        };
        // Best effort: not every filesystem keeps a link's times.
        let _ = rustix::fs::utimensat(
            rustix::fs::CWD,
            target,
            &times,
            rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
        );
    }
    Ok(())
}
