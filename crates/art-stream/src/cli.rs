use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use slipway_cli::LogArgs;

/// Serve a build artifact to CI runners over TCP: compressed once,
/// authenticated with a shared secret, verified end to end, resumable.
///
/// Listens at once; waits up to --timeout for the file (give a path that
/// appears complete, renamed into place, or stream with `--file -`). Exits 0
/// after --consumers verified deliveries and --linger seconds more. Prints
/// one JSON line on stdout at the end; logs go to stderr.
#[derive(Debug, Parser)]
#[command(name = "art-stream", version, max_term_width = 100)]
pub struct Cli {
    /// The artifact, or `-` for standard input (`tar c dist | art-stream --file - …`).
    #[arg(
        long,
        value_name = "PATH",
        required_unless_present = "path",
        conflicts_with = "path"
    )]
    pub file: Option<PathBuf>,

    /// A directory to stream as a tar of its contents (sorted; modes,
    /// symlinks and mtimes kept; hidden files included); repeatable, the
    /// trees merged. `art-consume --extract DIR` unpacks it.
    #[arg(long, value_name = "DIR")]
    pub path: Vec<PathBuf>,

    /// Leave out paths (relative to their --path) matching this glob;
    /// repeatable.
    #[arg(long, value_name = "GLOB", requires = "path")]
    pub exclude: Vec<String>,

    /// TCP port to listen on.
    #[arg(long)]
    pub port: u16,

    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0")]
    pub bind: IpAddr,

    /// Seconds to wait for the file to appear, and for a consumer while none
    /// is connected; then give up (exit 3).
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub timeout: u64,

    /// Exit after this many consumers have verified the whole artifact.
    /// With a fallback copy, also exit 0 once it is complete and no
    /// consumer came for --timeout: the rest read the copy.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub consumers: u32,

    /// Keep serving this many seconds after the last needed delivery.
    #[arg(long, value_name = "SECS", default_value_t = 0)]
    pub linger: u64,

    /// Frame compression. `auto` is zstd level 1; with every codec, frames
    /// that do not shrink (already compressed, random) are sent raw.
    #[arg(long, value_enum, default_value_t = CodecArg::Auto)]
    pub codec: CodecArg,

    /// Compression level (zstd 1-19, gzip 1-9).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..=19))]
    pub level: i32,

    /// Uncompressed bytes per frame.
    #[arg(long, value_name = "BYTES", default_value_t = slipway_wire::DEFAULT_FRAME_SIZE,
          value_parser = clap::value_parser!(u32).range(4096..=i64::from(slipway_wire::MAX_FRAME_SIZE)))]
    pub frame_size: u32,

    /// Read the shared secret from FILE instead of `ART_STREAM_SECRET`.
    #[arg(long, value_name = "FILE")]
    pub secret_file: Option<PathBuf>,

    /// Run without a secret: anyone who can connect can read the artifact,
    /// and nothing proves it was not changed on the way.
    #[arg(long)]
    pub insecure: bool,

    /// Refuse authenticated consumers beyond this many at once.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub max_connections: u64,

    /// Connections still in their handshake (not yet authenticated) kept at
    /// once, apart from the consumers being served; beyond it the oldest is
    /// dropped, so a port scanner or a flood cannot take a consumer's place.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub max_handshakes: u64,

    /// Drop a connection that has not completed the handshake this many
    /// seconds after its hello was sent (the clock starts once the artifact
    /// is there to be described).
    #[arg(long, value_name = "SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=5))]
    pub handshake_timeout: u64,

    /// Drop a consumer that neither reads nor writes for this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub idle_timeout: u64,

    /// Where to keep the compressed frames [default: the temporary directory].
    #[arg(long, value_name = "DIR")]
    pub spool_dir: Option<PathBuf>,

    #[command(flatten)]
    pub store: slipway_cli::StoreArgs,

    /// An address consumers reach this producer at, `IP` or `IP:PORT` (a
    /// forwarded port); repeatable [default: the --bind address if specific,
    /// else the EC2 private address and every non-loopback address].
    #[arg(long, value_name = "ADDR", requires = "store")]
    pub advertise: Vec<String>,

    /// With --store, announce only: write no fallback copy.
    #[arg(long, requires = "store")]
    pub no_mirror: bool,

    /// Push metrics (bytes, seconds, consumers or resumes) to this
    /// Prometheus Pushgateway (`http://HOST:PORT`); a failed push is a warning.
    #[arg(long, env = "SLIPWAY_PUSHGATEWAY", value_name = "URL")]
    pub pushgateway: Option<String>,

    #[command(flatten)]
    pub log: LogArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CodecArg {
    Auto,
    Zstd,
    Gzip,
    None,
}

impl CodecArg {
    pub(crate) fn codec(self) -> slipway_wire::Codec {
        match self {
            CodecArg::Auto | CodecArg::Zstd => slipway_wire::Codec::Zstd,
            CodecArg::Gzip => slipway_wire::Codec::Gzip,
            CodecArg::None => slipway_wire::Codec::None,
        }
    }
}

#[cfg(test)]
mod tests;
