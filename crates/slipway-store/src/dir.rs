//! A store in a shared directory (`file:///DIR`). Every object is written
//! to a temporary file beside its place, synced, and hard-linked into
//! place: the link fails when the name exists (create-only), and a reader
//! never sees half an object. Hard links work on NFS and EFS.

use std::fs::File;
use std::io::{BufWriter, Read as _, Write as _};
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};

use crate::{StoreError, chain};

pub(crate) struct Dir {
    root: PathBuf,
}

fn failed(action: &'static str, url: &str, err: &std::io::Error) -> StoreError {
    StoreError::Failed {
        action,
        url: url.to_owned(),
        message: chain(err),
    }
}

impl Dir {
    pub(crate) fn new(root: PathBuf) -> Dir {
        Dir { root }
    }

    fn temp(
        &self,
        leaf: &str,
        url: &str,
    ) -> Result<(tempfile::NamedTempFile, PathBuf), StoreError> {
        std::fs::create_dir_all(&self.root)
            .map_err(|e| failed("create the directory of", url, &e))?;
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{leaf}."))
            .suffix(".tmp")
            .tempfile_in(&self.root)
            .map_err(|e| failed("create a temporary file for", url, &e))?;
        Ok((temp, self.root.join(leaf)))
    }

    pub(crate) fn create(&self, leaf: &str, bytes: &[u8], url: &str) -> Result<(), StoreError> {
        let (mut temp, target) = self.temp(leaf, url)?;
        temp.write_all(bytes)
            .and_then(|()| temp.as_file().sync_all())
            .map_err(|e| failed("write", url, &e))?;
        publish(temp.path(), &target, url)
    }

    pub(crate) fn read(
        &self,
        leaf: &str,
        max: u64,
        url: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let file = match File::open(self.root.join(leaf)) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(failed("read", url, &e)),
        };
        let mut bytes = Vec::new();
        file.take(max + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| failed("read", url, &e))?;
        if bytes.len() as u64 > max {
            return Err(StoreError::TooLarge {
                url: url.to_owned(),
                max,
            });
        }
        Ok(Some(bytes))
    }

    pub(crate) fn read_range(
        &self,
        leaf: &str,
        offset: u64,
        len: u32,
        url: &str,
    ) -> Result<Vec<u8>, StoreError> {
        let file = File::open(self.root.join(leaf)).map_err(|e| failed("read", url, &e))?;
        let mut bytes = vec![0; len as usize];
        let mut got = 0;
        while got < bytes.len() {
            match file.read_at(&mut bytes[got..], offset + got as u64) {
                Ok(0) => {
                    return Err(StoreError::Short {
                        url: url.to_owned(),
                        offset,
                        wanted: u64::from(len),
                        got: got as u64,
                    });
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(failed("read", url, &e)),
            }
        }
        Ok(bytes)
    }

    pub(crate) fn upload(&self, leaf: &str, url: &str) -> Result<Upload, StoreError> {
        let (temp, target) = self.temp(leaf, url)?;
        let file = temp
            .as_file()
            .try_clone()
            .map_err(|e| failed("write", url, &e))?;
        Ok(Upload {
            out: BufWriter::with_capacity(1 << 20, file),
            temp,
            target,
        })
    }
}

/// Links the finished temporary file into place, create-only, then
/// removes the temporary name and syncs the directory.
fn publish(temp: &Path, target: &Path, url: &str) -> Result<(), StoreError> {
    match std::fs::hard_link(temp, target) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(StoreError::Exists(url.to_owned()));
        }
        Err(e) => return Err(failed("write", url, &e)),
    }
    if let Some(dir) = target.parent() {
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// An object being written to its temporary file; removed if dropped.
pub(crate) struct Upload {
    out: BufWriter<File>,
    temp: tempfile::NamedTempFile,
    target: PathBuf,
}

impl Upload {
    pub(crate) fn write(&mut self, bytes: &[u8], url: &str) -> Result<(), StoreError> {
        self.out
            .write_all(bytes)
            .map_err(|e| failed("write", url, &e))
    }

    pub(crate) fn finish(mut self, url: &str) -> Result<(), StoreError> {
        self.out
            .flush()
            .and_then(|()| self.out.get_ref().sync_all())
            .map_err(|e| failed("write", url, &e))?;
        publish(self.temp.path(), &self.target, url)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Scope, Store};

    #[test]
    fn uploads_appear_whole_and_once_and_ranges_are_exact() {
        let dir = tempfile::tempdir().unwrap();
        let scope = Scope::new("o/r", "1/1", "dist").unwrap();
        let url = format!("file://{}", dir.path().display());
        let store = Store::open(&url, None, &scope).unwrap();
        let mut up = store.upload("artifact.zst").unwrap();
        up.write(b"hello ").unwrap();
        up.write(b"world").unwrap();
        assert_eq!(up.written(), 11);
        assert_eq!(store.read("artifact.zst", 100).unwrap(), None);
        up.finish().unwrap();
        assert_eq!(store.read_range("artifact.zst", 6, 5).unwrap(), b"world");
        let err = store
            .read_range("artifact.zst", 6, 6)
            .unwrap_err()
            .to_string();
        assert!(err.contains("ended after 5 of 6 bytes"), "{err}");
        assert!(store.read("artifact.zst", 10).is_err());
        // Dropped unfinished: nothing appears, nothing is left behind.
        let mut up = store.upload("other").unwrap();
        up.write(b"partial").unwrap();
        drop(up);
        assert_eq!(store.read("other", 100).unwrap(), None);
        let root = dir.path().join("o/r/1/1/dist");
        let names: Vec<_> = std::fs::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["artifact.zst"]);
    }

    #[test]
    fn scopes_and_urls_are_checked() {
        assert!(Scope::new("o/r", "1/1", "../x").is_err());
        assert!(Scope::new("o/../r", "1", "x").is_err());
        assert!(Scope::new("o/r", "", "x").is_err());
        let scope = Scope::new("o/r", "1", "x").unwrap();
        for bad in ["http://x", "file://relative", "s3://", "dist"] {
            assert!(Store::open(bad, None, &scope).is_err(), "{bad}");
        }
    }
}
