//! Every way a run of `art-consume` can fail, each with its documented
//! exit code (README, "Exit codes"), given by one exhaustive `match`.

use std::path::PathBuf;

use slipway_wire::SecretError;

/// Exit codes of `art-consume`, documented in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    Ok = 0,
    /// Something unexpected.
    Internal = 1,
    /// Bad command line, or no secret without `--insecure`.
    Usage = 2,
    /// The producer could not be reached, or the connection kept failing;
    /// with --store, no announcement came, or the copy was incomplete or
    /// could not be read.
    Connection = 3,
    /// The producer refused this side's secret, or proved none.
    Auth = 4,
    /// The content failed verification (a frame, the end, `--expect-sha256`).
    Verification = 5,
    /// `--out` or its temporary file could not be written (disk full, …).
    Local = 6,
    /// The producer could not read the artifact.
    Producer = 7,
}

/// Why the artifact was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("--expect-sha256 {0:?} is not 64 hexadecimal digits")]
    BadDigest(String),
    #[error("gave up after {attempts} attempts without progress; last: {last}")]
    Exhausted { attempts: u32, last: String },
    /// What the producer's answer or proof said (peer text, not ours).
    #[error("authentication failed: {0}")]
    Auth(String),
    #[error("verification failed: {0}")]
    Verify(String),
    #[error("failed to write {}", path.display())]
    Local {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The writer thread ended early; its own error, reported first,
    /// says why.
    #[error("the writer stopped")]
    WriterStopped,
    #[error("the producer could not serve the artifact: {0}")]
    Producer(String),
    #[error(transparent)]
    Output(#[from] slipway_cli::transfer::TransferError),
    #[error("the store could not be used")]
    Store(#[from] slipway_store::StoreError),
    #[error("no producer announced this artifact at {url} within {seconds} seconds")]
    NoAnnouncement { url: String, seconds: u64 },
    #[error(
        "the producer cannot be reached and its copy at {url} did not complete within {seconds} seconds; {frames} frames ({bytes} bytes) had been verified, and nothing was written"
    )]
    IncompleteCopy {
        url: String,
        seconds: u64,
        frames: u64,
        bytes: u64,
    },
    #[error("refused to extract {0}; nothing was written")]
    Unsafe(String),
    #[error("give --host and --port, or --store and --name")]
    NoSource,
    #[error("the producer cannot be reached and wrote no copy (--no-mirror): {0}")]
    NoCopy(String),
}

impl Error {
    /// The documented exit code.
    #[must_use]
    pub fn exit(&self) -> Exit {
        match self {
            Error::Secret(_) | Error::BadDigest(_) | Error::NoSource => Exit::Usage,
            Error::Store(err) if err.is_usage() => Exit::Usage,
            Error::Exhausted { .. }
            | Error::Store(_)
            | Error::NoAnnouncement { .. }
            | Error::IncompleteCopy { .. }
            | Error::NoCopy(_) => Exit::Connection,
            Error::Auth(_) => Exit::Auth,
            Error::Verify(_) | Error::Unsafe(_) => Exit::Verification,
            Error::Local { .. } | Error::WriterStopped => Exit::Local,
            Error::Producer(_) => Exit::Producer,
            Error::Output(_) => Exit::Internal,
        }
    }
}

impl slipway_cli::ToolError for Error {
    fn exit_code(&self) -> u8 {
        self.exit() as u8
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::Secret(SecretError::Missing) => Some(format!(
                "set {} or pass --secret-file (the same on both sides), or pass --insecure to run without authentication",
                slipway_wire::SECRET_ENV
            )),
            Error::Local { source, .. } if source.kind() == std::io::ErrorKind::StorageFull => {
                Some("the disk is full: free space, or pass --out on another filesystem".to_owned())
            }
            Error::NoAnnouncement { .. } => Some(
                "check that art-stream runs with the same --store, --name and run (--run-id, or GITHUB_RUN_ID and GITHUB_RUN_ATTEMPT); --wait sets how long to wait".to_owned(),
            ),
            Error::Exhausted { .. } => Some(
                "check --host and --port, and that art-stream is still running (--retries, --connect-timeout)"
                    .to_owned(),
            ),
            _ => None,
        }
    }
}
