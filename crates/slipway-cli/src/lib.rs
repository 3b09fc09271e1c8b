//! What every Slipway tool does the same way: logging on stderr (never
//! stdout, which carries data), GitHub Actions outputs and annotations,
//! writing files atomically, progress for long transfers, and Prometheus
//! metrics pushed to a Pushgateway.
//!
//! ```
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("matrix.json");
//! slipway_cli::write_atomically(&path, b"{\"include\":[]}")?;
//! assert_eq!(std::fs::read(&path)?, b"{\"include\":[]}");
//! # Ok::<(), std::io::Error>(())
//! ```

mod atomic;
mod backoff;
mod bytes;
mod exit;
pub mod github;
pub mod http;
mod logging;
pub mod metrics;
mod progress;
mod read;
mod store_args;
pub mod transfer;

use std::io::Write as _;

pub use atomic::{AtomicFile, write_atomically};
pub use backoff::Backoff;
pub use bytes::{hex, random_bytes};
pub use exit::{ToolError, chain, finish, finish_with_status};
pub use logging::{LogArgs, init_logging};
pub use progress::Progress;
pub use read::{read_bounded, read_file_bounded};
pub use store_args::StoreArgs;

/// Writes data to stdout. A closed pipe (`tool | head`) is not an error.
pub fn write_stdout(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => Err(err),
        _ => Ok(()),
    }
}
