use std::path::PathBuf;

use clap::Parser;
use slipway_cli::LogArgs;

/// Fetch a build artifact from art-stream: each frame verified as it
/// arrives, the whole content verified at the end, resumed from the last
/// verified frame after a dropped connection, written to a temporary file
/// beside --out and renamed into place only once verified.
#[derive(Debug, Parser)]
#[command(name = "art-consume", version, max_term_width = 100)]
pub struct Cli {
    /// The producer's host name or address (without --store).
    #[arg(
        long,
        required_unless_present = "store",
        requires = "port",
        conflicts_with = "store"
    )]
    pub host: Option<String>,

    /// The producer's port (with --host).
    #[arg(long, requires = "host")]
    pub port: Option<u16>,

    #[command(flatten)]
    pub store: slipway_cli::StoreArgs,

    /// Seconds to wait for the announcement, and for an unfinished copy
    /// to complete, before giving up (exit 3).
    #[arg(long, value_name = "SECS", default_value_t = 300, requires = "store")]
    pub wait: u64,

    /// Where to put the artifact.
    #[arg(
        long,
        value_name = "PATH",
        required_unless_present = "extract",
        conflicts_with = "extract"
    )]
    pub out: Option<PathBuf>,

    /// Unpack the artifact, a tar (as `art-stream --path` makes), into this
    /// new or empty directory, safely, once the whole content verified.
    #[arg(long, value_name = "DIR")]
    pub extract: Option<PathBuf>,

    /// Connection attempts that make no progress before giving up.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub retries: u32,

    /// Seconds to wait for a connection to open.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub connect_timeout: u64,

    /// Seconds without a byte from the producer before the connection is
    /// dropped and resumed.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub idle_timeout: u64,

    /// The SHA-256 the artifact must have, delivered out of band.
    #[arg(long, value_name = "HEX")]
    pub expect_sha256: Option<String>,

    /// Read the shared secret from FILE instead of `ART_STREAM_SECRET`.
    #[arg(long, value_name = "FILE")]
    pub secret_file: Option<PathBuf>,

    /// Run without a secret: the producer is not authenticated and a changed
    /// artifact cannot be told from the real one.
    #[arg(long)]
    pub insecure: bool,

    /// Push metrics (bytes, seconds, consumers or resumes) to this
    /// Prometheus Pushgateway (`http://HOST:PORT`); a failed push is a warning.
    #[arg(long, env = "SLIPWAY_PUSHGATEWAY", value_name = "URL")]
    pub pushgateway: Option<String>,

    #[command(flatten)]
    pub log: LogArgs,
}

#[cfg(test)]
mod tests {
    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
