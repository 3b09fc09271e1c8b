//! `--path DIR`: a deterministic tar of directories, written on a thread
//! into a pipe the frames are read from, so reading the tree and sending
//! it overlap. Entries are sorted by path (a directory before its
//! contents); modes, symlinks (as links, never followed) and mtimes are
//! kept, hidden files included; owners are zeroed so the same tree gives
//! the same bytes on any machine. `--exclude GLOB` drops matching paths
//! (relative to their root; a matching directory drops its contents).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use globset::GlobSet;

/// Why a tree could not be streamed.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("failed to read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is in two --path trees ({} and {})", rel.display(), first.display(), second.display())]
    Duplicate {
        rel: PathBuf,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("--path {} is not a directory", .0.display())]
    NotADirectory(PathBuf),
    #[error("--exclude {0:?} is not a glob: {1}")]
    BadGlob(String, String),
}

/// The `--exclude` globs as one set.
pub(crate) fn globs(patterns: &[String]) -> Result<GlobSet, TreeError> {
    let mut set = globset::GlobSetBuilder::new();
    for p in patterns {
        let glob = globset::GlobBuilder::new(p)
            .literal_separator(false)
            .build()
            .map_err(|e| TreeError::BadGlob(p.clone(), e.to_string()))?;
        set.add(glob);
    }
    set.build()
        .map_err(|e| TreeError::BadGlob(patterns.join(" "), e.to_string()))
}

/// Every entry of the trees: relative path to full path, sorted.
pub(crate) fn collect(
    roots: &[PathBuf],
    exclude: &GlobSet,
) -> Result<BTreeMap<PathBuf, PathBuf>, TreeError> {
    let mut entries: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
    for root in roots {
        let meta = std::fs::metadata(root).map_err(|source| TreeError::Read {
            path: root.clone(),
            source,
        })?;
        if !meta.is_dir() {
            return Err(TreeError::NotADirectory(root.clone()));
        }
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            let read = |source| TreeError::Read {
                path: dir.clone(),
                source,
            };
            for entry in std::fs::read_dir(&dir).map_err(read)? {
                let entry = entry.map_err(read)?;
                let full = entry.path();
                let rel = full.strip_prefix(root).unwrap_or(&full).to_path_buf();
                if exclude.is_match(&rel) {
                    continue;
                }
                let kind = entry.file_type().map_err(read)?;
                if kind.is_dir() {
                    stack.push(full.clone());
                }
                if let Some(first) = entries.get(&rel) {
                    // The same directory in two roots merges; anything else clashes.
                    if !(kind.is_dir() && first.is_dir()) {
                        return Err(TreeError::Duplicate {
                            rel,
                            first: first.clone(),
                            second: full,
                        });
                    }
                    continue;
                }
                entries.insert(rel, full);
            }
        }
    }
    Ok(entries)
}

/// Writes the tar of `entries` to `out`.
pub(crate) fn write(
    entries: &BTreeMap<PathBuf, PathBuf>,
    out: impl Write,
) -> Result<(), TreeError> {
    let mut builder = tar::Builder::new(out);
    for (rel, full) in entries {
        let read = |source| TreeError::Read {
            path: full.clone(),
            source,
        };
        let meta = std::fs::symlink_metadata(full).map_err(read)?;
        let mut header = tar::Header::new_gnu();
        header.set_metadata_in_mode(&meta, tar::HeaderMode::Complete);
        header.set_uid(0);
        header.set_gid(0);
        header.set_username("").map_err(read)?;
        header.set_groupname("").map_err(read)?;
        let kind = meta.file_type();
        if kind.is_dir() {
            header.set_size(0);
            builder
                .append_data(&mut header, rel, std::io::empty())
                .map_err(read)?;
        } else if kind.is_symlink() {
            let target = std::fs::read_link(full).map_err(read)?;
            header.set_size(0);
            builder
                .append_link(&mut header, rel, &target)
                .map_err(read)?;
        } else if kind.is_file() {
            let file = std::fs::File::open(full).map_err(read)?;
            builder.append_data(&mut header, rel, file).map_err(read)?;
        } else {
            tracing::warn!(path = %full.display(), "skipped: not a file, directory or symlink");
        }
    }
    builder.into_inner().map_err(|source| TreeError::Read {
        path: PathBuf::from("the tar stream"),
        source,
    })?;
    Ok(())
}

/// A reader of the tar, written by its own thread into a pipe. A failure
/// of the writer is this reader's error at the end, never a short tar
/// taken for the whole.
pub(crate) struct TreeReader {
    pipe: std::io::PipeReader,
    writer: Option<std::thread::JoinHandle<Result<(), TreeError>>>,
}

impl TreeReader {
    pub(crate) fn start(roots: &[PathBuf], exclude: &GlobSet) -> Result<TreeReader, TreeError> {
        let entries = collect(roots, exclude)?;
        tracing::info!(entries = entries.len(), "streaming a tar of the tree");
        let (pipe, writer) = std::io::pipe().map_err(|source| TreeError::Read {
            path: PathBuf::from("a pipe"),
            source,
        })?;
        let writer = std::thread::spawn(move || write(&entries, writer));
        Ok(TreeReader {
            pipe,
            writer: Some(writer),
        })
    }
}

impl Read for TreeReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.pipe.read(buf)?;
        if n == 0
            && let Some(writer) = self.writer.take()
        {
            let outcome = writer
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            outcome.map_err(|err| std::io::Error::other(slipway_cli::chain(&err)))?;
        }
        Ok(n)
    }
}

/// The roots' names, for messages.
pub(crate) fn describe(roots: &[PathBuf]) -> String {
    roots
        .iter()
        .map(|r| Path::display(r).to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_tree_gives_the_same_bytes_sorted_with_excludes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("tree");
        std::fs::create_dir_all(root.join("b/inner")).unwrap();
        std::fs::write(root.join("b/inner/x"), "x").unwrap();
        std::fs::write(root.join("a.txt"), "a").unwrap();
        std::fs::write(root.join(".hidden"), "h").unwrap();
        std::fs::write(root.join("skip.tmp"), "t").unwrap();
        std::os::unix::fs::symlink("a.txt", root.join("link")).unwrap();
        let exclude = globs(&["*.tmp".to_owned()]).unwrap();
        let tar = |roots: &[PathBuf]| {
            let mut out = Vec::new();
            write(&collect(roots, &exclude).unwrap(), &mut out).unwrap();
            out
        };
        let first = tar(std::slice::from_ref(&root));
        assert_eq!(first, tar(std::slice::from_ref(&root)));
        let mut archive = tar::Archive::new(&first[..]);
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            [".hidden", "a.txt", "b", "b/inner", "b/inner/x", "link"]
        );
        // A file in two roots clashes.
        let other = dir.path().join("other");
        std::fs::create_dir(&other).unwrap();
        std::fs::write(other.join("a.txt"), "again").unwrap();
        let err = collect(&[root, other], &exclude).unwrap_err().to_string();
        assert!(err.contains("a.txt is in two --path trees"), "{err}");
        assert!(globs(&["[".to_owned()]).is_err());
    }
}
