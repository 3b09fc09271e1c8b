//! Where `art-stream` announces itself and writes its fallback copy, and
//! where `art-consume` finds both: an S3 prefix (`s3://BUCKET/PREFIX`, with
//! the `s3` feature) or a shared directory (`file:///DIR`: EFS, NFS, tests).
//!
//! The API is blocking, as the art tools are: the S3 backend runs its own
//! small Tokio runtime. Everything is scoped by the repository, the run
//! and its attempt, and the artifact's name ([`Scope`]), so re-runs and
//! other runs never meet.
//!
//! ```
//! use slipway_store::{Scope, Store};
//!
//! let dir = tempfile::tempdir()?;
//! let scope = Scope::new("octo/repo", "123/1", "dist")?;
//! let store = Store::open(&format!("file://{}", dir.path().display()), None, &scope)?;
//! store.create("announcement.json", b"{}")?;
//! assert!(store.create("announcement.json", b"{}").unwrap_err().is_exists());
//! assert_eq!(store.read("announcement.json", 100)?.as_deref(), Some(&b"{}"[..]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod dir;
#[cfg(feature = "s3")]
mod s3;

use std::path::PathBuf;

/// The objects of one artifact's scope (`docs/PROTOCOL.md`, "The store").
pub const ANNOUNCEMENT: &str = "announcement.json";
/// The fallback copy: one zstd stream.
pub const OBJECT: &str = "artifact.zst";
/// The copy's index, written once the copy is complete.
pub const INDEX: &str = "index";

/// Why a store operation failed. Each names the URL at fault.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("--store {0:?} is neither s3://BUCKET[/PREFIX] nor file:///DIR")]
    BadUrl(String),
    #[error(
        "--store {0:?}: this build has no S3 support (built without the `s3` feature); use a file:// store"
    )]
    NoS3(String),
    #[error("no run to scope the store by: GITHUB_RUN_ID is not set and --run-id was not given")]
    NoRun,
    #[error("{what} {value:?} may hold only letters, digits, '.', '_' and '-'{extra}")]
    BadPart {
        what: &'static str,
        value: String,
        extra: &'static str,
    },
    #[error("no AWS region for {0}: pass --region or set AWS_REGION")]
    NoRegion(String),
    #[error("{0} already exists")]
    Exists(String),
    #[error("{url} is over {max} bytes")]
    TooLarge { url: String, max: u64 },
    #[error("{url} ended after {got} of {wanted} bytes at offset {offset}")]
    Short {
        url: String,
        offset: u64,
        wanted: u64,
        got: u64,
    },
    #[error("failed to {action} {url}: {message}")]
    Failed {
        action: &'static str,
        url: String,
        message: String,
    },
}

impl StoreError {
    /// Whether the command line is at fault (the URL, the run, a name, no
    /// region), not the store.
    #[must_use]
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            StoreError::BadUrl(_)
                | StoreError::NoS3(_)
                | StoreError::NoRun
                | StoreError::BadPart { .. }
                | StoreError::NoRegion(_)
        )
    }

    /// Whether this is a create-only write that found the object there.
    #[must_use]
    pub fn is_exists(&self) -> bool {
        matches!(self, StoreError::Exists(_))
    }
}

/// The run and artifact a store's keys are scoped by:
/// `REPOSITORY/RUN/NAME/…` under the store's prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub repository: String,
    /// `RUN_ID/ATTEMPT` under Actions, or what `--run-id` says.
    pub run: String,
    pub name: String,
}

impl Scope {
    /// Checks each part: path segments of letters, digits, `.`, `_`, `-`.
    pub fn new(repository: &str, run: &str, name: &str) -> Result<Scope, StoreError> {
        check("the repository", repository, true)?;
        check("the run id", run, true)?;
        check("--name", name, false)?;
        Ok(Scope {
            repository: repository.to_owned(),
            run: run.to_owned(),
            name: name.to_owned(),
        })
    }

    /// The scope under GitHub Actions: `GITHUB_REPOSITORY` (else `local`),
    /// and `--run-id` or else `GITHUB_RUN_ID/GITHUB_RUN_ATTEMPT`.
    pub fn from_env(run_id: Option<&str>, name: &str) -> Result<Scope, StoreError> {
        let var = |key: &str| std::env::var(key).ok().filter(|v| !v.is_empty());
        let repository = var("GITHUB_REPOSITORY").unwrap_or_else(|| "local".to_owned());
        let run = if let Some(run) = run_id {
            run.to_owned()
        } else {
            let id = var("GITHUB_RUN_ID").ok_or(StoreError::NoRun)?;
            let attempt = var("GITHUB_RUN_ATTEMPT").unwrap_or_else(|| "1".to_owned());
            format!("{id}/{attempt}")
        };
        Scope::new(&repository, &run, name)
    }
}

fn check(what: &'static str, value: &str, slashes: bool) -> Result<(), StoreError> {
    let segment_ok = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.len() <= 100
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    };
    let ok = if slashes {
        value.split('/').all(segment_ok)
    } else {
        segment_ok(value)
    };
    if ok {
        Ok(())
    } else {
        Err(StoreError::BadPart {
            what,
            value: value.to_owned(),
            extra: if slashes {
                " in segments separated by '/'"
            } else {
                ""
            },
        })
    }
}

enum Backend {
    Dir(dir::Dir),
    #[cfg(feature = "s3")]
    S3(s3::S3),
}

/// One artifact's place in a store.
pub struct Store {
    backend: Backend,
    /// The URL of the scope, for messages: `s3://b/p/repo/run/name`.
    base_url: String,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// The store at `url` and the scope of the artifact `name` of the run
    /// `run_id` (the workflow run's from the environment when none): what
    /// `--store`, `--name`, `--run-id` and `--region` name.
    ///
    /// # Errors
    ///
    /// As [`Scope::from_env`] and [`Store::open`].
    pub fn open_scoped(
        url: &str,
        region: Option<&str>,
        run_id: Option<&str>,
        name: &str,
    ) -> Result<(Store, Scope), StoreError> {
        let scope = Scope::from_env(run_id, name)?;
        let store = Store::open(url, region, &scope)?;
        Ok((store, scope))
    }

    /// Opens `url` (`s3://BUCKET[/PREFIX]` or `file:///DIR`) for `scope`.
    /// `region` overrides the AWS credential chain's region.
    pub fn open(url: &str, region: Option<&str>, scope: &Scope) -> Result<Store, StoreError> {
        let tail = format!("{}/{}/{}", scope.repository, scope.run, scope.name);
        if let Some(path) = url.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err(StoreError::BadUrl(url.to_owned()));
            }
            let root = PathBuf::from(path).join(&tail);
            return Ok(Store {
                base_url: format!("file://{}", root.display()),
                backend: Backend::Dir(dir::Dir::new(root)),
            });
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(StoreError::BadUrl(url.to_owned()));
            }
            let prefix = prefix.trim_matches('/');
            let key_prefix = if prefix.is_empty() {
                tail
            } else {
                format!("{prefix}/{tail}")
            };
            let base_url = format!("s3://{bucket}/{key_prefix}");
            #[cfg(feature = "s3")]
            {
                let backend = s3::S3::new(bucket, key_prefix, region, &base_url)?;
                return Ok(Store {
                    backend: Backend::S3(backend),
                    base_url,
                });
            }
            #[cfg(not(feature = "s3"))]
            {
                let _ = (region, base_url);
                return Err(StoreError::NoS3(url.to_owned()));
            }
        }
        Err(StoreError::BadUrl(url.to_owned()))
    }

    /// The URL of `leaf` within this scope, for messages.
    #[must_use]
    pub fn url(&self, leaf: &str) -> String {
        format!("{}/{leaf}", self.base_url)
    }

    /// Writes `bytes` at `leaf` only if nothing is there yet (S3
    /// `If-None-Match: *`; a hard link in a directory). Fails with
    /// [`StoreError::Exists`] otherwise; never half-written.
    pub fn create(&self, leaf: &str, bytes: &[u8]) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Dir(d) => d.create(leaf, bytes, &self.url(leaf)),
            #[cfg(feature = "s3")]
            Backend::S3(s) => s.create(leaf, bytes, &self.url(leaf)),
        }
    }

    /// The whole object at `leaf`, `None` when there is none; refuses one
    /// over `max` bytes.
    pub fn read(&self, leaf: &str, max: u64) -> Result<Option<Vec<u8>>, StoreError> {
        match &self.backend {
            Backend::Dir(d) => d.read(leaf, max, &self.url(leaf)),
            #[cfg(feature = "s3")]
            Backend::S3(s) => s.read(leaf, max, &self.url(leaf)),
        }
    }

    /// Exactly `len` bytes of `leaf` from `offset` (a ranged GET).
    pub fn read_range(&self, leaf: &str, offset: u64, len: u32) -> Result<Vec<u8>, StoreError> {
        match &self.backend {
            Backend::Dir(d) => d.read_range(leaf, offset, len, &self.url(leaf)),
            #[cfg(feature = "s3")]
            Backend::S3(s) => s.read_range(leaf, offset, len, &self.url(leaf)),
        }
    }

    /// Starts writing `leaf` as a stream: nothing is visible there until
    /// [`Upload::finish`]; an upload dropped unfinished is discarded.
    pub fn upload(&self, leaf: &str) -> Result<Upload, StoreError> {
        let url = self.url(leaf);
        let inner = match &self.backend {
            Backend::Dir(d) => UploadInner::Dir(d.upload(leaf, &url)?),
            #[cfg(feature = "s3")]
            Backend::S3(s) => UploadInner::S3(s.upload(leaf, &url)?),
        };
        Ok(Upload {
            inner,
            url,
            written: 0,
        })
    }
}

enum UploadInner {
    Dir(dir::Upload),
    #[cfg(feature = "s3")]
    S3(s3::Upload),
}

/// An object being written: in parts of bounded size (S3 multipart), or
/// a temporary file renamed into place.
pub struct Upload {
    inner: UploadInner,
    url: String,
    written: u64,
}

impl Upload {
    /// Appends bytes; memory stays within one part.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.written += bytes.len() as u64;
        match &mut self.inner {
            UploadInner::Dir(u) => u.write(bytes, &self.url),
            #[cfg(feature = "s3")]
            UploadInner::S3(u) => u.write(bytes, &self.url),
        }
    }

    /// Bytes written so far: the offset of the next write.
    #[must_use]
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Makes the whole object visible at once.
    pub fn finish(self) -> Result<(), StoreError> {
        match self.inner {
            UploadInner::Dir(u) => u.finish(&self.url),
            #[cfg(feature = "s3")]
            UploadInner::S3(u) => u.finish(&self.url),
        }
    }
}

/// The message of an error and its sources, on one line.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}
