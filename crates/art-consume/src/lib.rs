//! `art-consume`: fetch an artifact from `art-stream`.
//!
//! The network side reads, authenticates, decodes and checks each frame;
//! a writer thread appends verified frames to a temporary file beside
//! `--out` and keeps the running SHA-256 of the whole content, across
//! reconnections. Only a fully verified file is renamed into place.

mod cli;
mod fetch;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use slipway_cli::github::Actions;
use slipway_wire::Digest;

pub use cli::Cli;

/// Exit codes of `art-consume`, documented in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    Ok = 0,
    /// Something unexpected.
    Internal = 1,
    /// Bad command line, or no secret without `--insecure`.
    Usage = 2,
    /// The producer could not be reached, or the connection kept failing.
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
pub enum ConsumeError {
    #[error("gave up after {attempts} attempts without progress; last: {last}")]
    Exhausted { attempts: u32, last: String },
    #[error("authentication failed: {0}")]
    Auth(String),
    #[error("verification failed: {0}")]
    Verify(String),
    #[error("failed to write {path}: {message}")]
    Local { path: PathBuf, message: String },
    #[error("the producer could not serve the artifact: {0}")]
    Producer(String),
    #[error("--expect-sha256 {0:?} is not 64 hexadecimal digits")]
    BadDigest(String),
}

#[must_use]
pub fn exit_code_for(err: &anyhow::Error) -> Exit {
    for cause in err.chain() {
        if cause.is::<slipway_wire::SecretError>() {
            return Exit::Usage;
        }
        if let Some(e) = cause.downcast_ref::<ConsumeError>() {
            return match e {
                ConsumeError::Exhausted { .. } => Exit::Connection,
                ConsumeError::Auth(_) => Exit::Auth,
                ConsumeError::Verify(_) => Exit::Verification,
                ConsumeError::Local { .. } => Exit::Local,
                ConsumeError::Producer(_) => Exit::Producer,
                ConsumeError::BadDigest(_) => Exit::Usage,
            };
        }
    }
    Exit::Internal
}

/// What the network side hands the writer.
enum ToWriter {
    Data(Vec<u8>),
    /// All frames are in: flush, sync, and answer.
    Finish(mpsc::Sender<()>),
}

pub fn run(cli: &Cli) -> anyhow::Result<()> {
    let keys = slipway_wire::load_keys(cli.secret_file.as_deref(), cli.insecure)?;
    if keys.insecure() {
        tracing::warn!(
            "--insecure: the producer is not authenticated, and a changed artifact cannot be told from the real one"
        );
    }
    let expect = cli.expect_sha256.as_deref().map(parse_digest).transpose()?;
    let start = Instant::now();
    let temp = TempFile::create(&cli.out)?;

    let (tx, rx) = mpsc::sync_channel::<ToWriter>(8);
    // Written buffers come back for the next frames: no fresh pages per frame.
    let (back_tx, back_rx) = mpsc::channel::<Vec<u8>>();
    let file = temp
        .file
        .try_clone()
        .context("failed to open the temporary file")?;
    let temp_path = temp.path.clone();
    let writer = std::thread::spawn(move || write_all(file, &rx, &back_tx, &temp_path));

    let settings = fetch::Settings {
        keys,
        retries: cli.retries,
        connect_timeout: Duration::from_secs(cli.connect_timeout),
        idle_timeout: Duration::from_secs(cli.idle_timeout),
        quiet: cli.log.quiet,
    };
    let pipe = fetch::Pipe {
        writer: tx,
        recycled: back_rx,
    };
    let fetched = fetch::fetch(&cli.host, cli.port, &settings, &pipe, expect);
    drop(pipe);
    let written = writer
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    // A writer failure explains a fetch that stopped early: report it first.
    written?;
    let fetched = fetched?;

    temp.persist(&cli.out, fetched.mode)?;
    let seconds = start.elapsed().as_secs_f64();
    let sha256 = slipway_wire::hex(&fetched.sha256);
    #[expect(clippy::cast_precision_loss, reason = "a rate for people to read")]
    let mb_per_s = fetched.bytes as f64 / seconds.max(1e-9) / 1e6;
    let summary = serde_json::json!({
        "bytes": fetched.bytes,
        "wire_bytes": fetched.wire_bytes,
        "sha256": sha256,
        "seconds": (seconds * 1000.0).round() / 1000.0,
        "mb_per_s": (mb_per_s * 10.0).round() / 10.0,
        "resumes": fetched.resumes,
    });
    tracing::info!(out = %cli.out.display(), bytes = fetched.bytes, resumes = fetched.resumes, "verified and written");
    if let Some(gateway) = &cli.pushgateway {
        push_metrics(gateway, &cli.out, &fetched, seconds);
    }
    let actions = Actions::from_env();
    if let Some(file) = &actions.summary {
        let text = format!(
            "### art-consume: {} verified\n\n{} bytes in {seconds:.2} s ({mb_per_s:.1} MB/s), {} resumes, SHA-256 `{sha256}`\n",
            cli.out.display(),
            fetched.bytes,
            fetched.resumes,
        );
        slipway_cli::github::append(file, &text)
            .with_context(|| format!("failed to write the step summary to {}", file.display()))?;
    }
    if let Some(file) = &actions.output {
        slipway_cli::github::append_outputs(
            file,
            &[
                ("sha256", sha256.clone()),
                ("bytes", fetched.bytes.to_string()),
            ],
        )
        .with_context(|| format!("failed to write GitHub outputs to {}", file.display()))?;
    }
    slipway_cli::write_stdout(&format!("{summary}\n")).context("failed to write to stdout")?;
    Ok(())
}

/// The transfer's figures, to a Pushgateway.
#[expect(clippy::cast_precision_loss, reason = "byte counts far below 2^52")]
fn push_metrics(gateway: &str, out: &Path, fetched: &fetch::Fetched, seconds: f64) {
    let mut m = slipway_cli::metrics::Metrics::new("art-consume");
    m.gauge(
        "slipway_artifact_bytes",
        slipway_cli::metrics::HELP_BYTES,
        &[],
        fetched.bytes as f64,
    );
    m.gauge(
        "slipway_artifact_wire_bytes",
        slipway_cli::metrics::HELP_WIRE_BYTES,
        &[],
        fetched.wire_bytes as f64,
    );
    m.gauge(
        "slipway_artifact_seconds",
        slipway_cli::metrics::HELP_SECONDS,
        &[],
        seconds,
    );
    m.counter(
        "slipway_artifact_resumes_total",
        "Reconnections that resumed from the last verified frame.",
        &[],
        f64::from(fetched.resumes),
    );
    let grouping = slipway_cli::metrics::transfer_grouping(out);
    let grouping: Vec<(&str, &str)> = grouping.iter().map(|(k, v)| (*k, v.as_str())).collect();
    m.push_if(Some(gateway), &grouping);
}

/// The writer thread: appends verified frames. (The network side hashes
/// them: writing to the page cache is the heavier half here, so the two
/// threads split the work.)
fn write_all(
    file: std::fs::File,
    rx: &mpsc::Receiver<ToWriter>,
    back: &mpsc::Sender<Vec<u8>>,
    path: &Path,
) -> Result<(), ConsumeError> {
    let local = |err: &std::io::Error| ConsumeError::Local {
        path: path.to_path_buf(),
        message: if err.kind() == std::io::ErrorKind::StorageFull {
            "no space left on the device (disk full)".to_owned()
        } else {
            err.to_string()
        },
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    for message in rx {
        match message {
            ToWriter::Data(bytes) => {
                out.write_all(&bytes).map_err(|e| local(&e))?;
                let _ = back.send(bytes);
            }
            ToWriter::Finish(reply) => {
                out.flush().map_err(|e| local(&e))?;
                out.get_ref().sync_all().map_err(|e| local(&e))?;
                let _ = reply.send(());
            }
        }
    }
    Ok(())
}

/// The temporary file beside `--out`: removed on drop unless persisted.
struct TempFile {
    path: PathBuf,
    file: std::fs::File,
    keep: bool,
}

impl TempFile {
    fn create(out: &Path) -> Result<TempFile, ConsumeError> {
        let dir = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = out
            .file_name()
            .map_or_else(|| "artifact".into(), |n| n.to_string_lossy().into_owned());
        let path = dir.join(format!(".{name}.{}.art-consume", std::process::id()));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|err| ConsumeError::Local {
                path: path.clone(),
                message: err.to_string(),
            })?;
        Ok(TempFile {
            path,
            file,
            keep: false,
        })
    }

    /// Sets the mode bits and renames the verified file into place.
    fn persist(mut self, out: &Path, mode: u32) -> Result<(), ConsumeError> {
        use std::os::unix::fs::PermissionsExt as _;
        let local = |err: std::io::Error| ConsumeError::Local {
            path: out.to_path_buf(),
            message: err.to_string(),
        };
        std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(mode & 0o7777))
            .map_err(local)?;
        std::fs::rename(&self.path, out).map_err(local)?;
        self.keep = true;
        if let Some(dir) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
            // Make the rename itself durable.
            let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn parse_digest(text: &str) -> Result<Digest, ConsumeError> {
    let text = text.trim();
    let bad = || ConsumeError::BadDigest(text.to_owned());
    if text.len() != 64 || !text.is_ascii() {
        return Err(bad());
    }
    let mut out = [0; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_parse_both_cases_and_refuse_junk() {
        let text = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(slipway_wire::hex(&parse_digest(text).unwrap()), text);
        assert_eq!(
            slipway_wire::hex(&parse_digest(&text.to_uppercase()).unwrap()),
            text
        );
        assert!(parse_digest("abc").is_err());
        assert!(parse_digest(&"zz".repeat(32)).is_err());
        assert!(parse_digest(&"é".repeat(32)).is_err());
    }
}
