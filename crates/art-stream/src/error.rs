//! Every way a run of `art-stream` can fail, each with its documented exit
//! code (README, "Exit codes"), given by one exhaustive `match`.

use std::net::SocketAddr;

use slipway_wire::SecretError;

use crate::source::SourceError;

/// Exit codes of `art-stream`, documented in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    Ok = 0,
    /// Something unexpected.
    Internal = 1,
    /// Bad command line, or no secret without `--insecure`.
    Usage = 2,
    /// The file never appeared, or no consumer came (or came back) in time.
    Timeout = 3,
    /// The artifact could not be read.
    Source = 4,
    /// The port could not be listened on.
    Listen = 5,
    /// The store failed or refused: another producer announced the same
    /// name in the run, the store could not be written, the copy failed.
    Store = 6,
}

/// Why the artifact was not served to enough consumers.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("failed to listen on {addr}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the artifact could not be served")]
    Source(#[from] SourceError),
    #[error(
        "{delivered} of {wanted} consumers verified the artifact, and none came for {seconds} seconds"
    )]
    NoConsumers {
        delivered: u32,
        wanted: u32,
        seconds: u64,
    },
    #[error("failed to create the spool file")]
    SpoolFile(#[source] std::io::Error),
    /// The serving loop ended with the artifact's end unknown: a bug.
    #[error("consumers were counted as served before the artifact's end was known")]
    NoEnd,
    #[error(transparent)]
    Output(#[from] slipway_cli::transfer::TransferError),
    #[error("the store could not be used")]
    Store(#[from] slipway_store::StoreError),
    #[error(
        "--codec gzip cannot be mirrored: the store's copy is a zstd stream (use --codec zstd, or --no-mirror)"
    )]
    MirrorCodec,
    #[error(
        "another producer already announced this artifact at {url}: {theirs}; this one is {ours}"
    )]
    Announced {
        url: String,
        theirs: String,
        ours: String,
    },
    #[error(transparent)]
    Exclude(#[from] crate::TreeError),
    #[error("no address to announce: pass --advertise ADDR")]
    NoAddress,
    #[error("failed to read a frame for the store's copy")]
    MirrorRead(#[source] std::io::Error),
    #[error("the store's copy stopped: the artifact could not be read: {0}")]
    MirrorSource(String),
}

impl Error {
    /// The documented exit code.
    #[must_use]
    pub fn exit(&self) -> Exit {
        match self {
            Error::Store(err) if err.is_usage() => Exit::Usage,
            Error::Secret(_) | Error::MirrorCodec | Error::NoAddress | Error::Exclude(_) => {
                Exit::Usage
            }
            Error::Store(_)
            | Error::Announced { .. }
            | Error::MirrorRead(_)
            | Error::MirrorSource(_) => Exit::Store,
            Error::NoConsumers { .. } | Error::Source(SourceError::NeverAppeared(..)) => {
                Exit::Timeout
            }
            Error::Source(
                SourceError::Read(..)
                | SourceError::Spool(_)
                | SourceError::Compress(..)
                | SourceError::Tree(_),
            ) => Exit::Source,
            Error::Listen { .. } => Exit::Listen,
            Error::SpoolFile(_) | Error::NoEnd | Error::Output(_) => Exit::Internal,
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
            Error::Announced { .. } => Some(
                "each run attempt needs one producer per --name: give this artifact another --name, or stop the other producer".to_owned(),
            ),
            Error::NoConsumers { .. } => {
                Some("--timeout sets how long to wait for consumers".to_owned())
            }
            _ => None,
        }
    }
}
