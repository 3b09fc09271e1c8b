//! `art-consume`: fetch an artifact from `art-stream`.
//!
//! The network side reads, authenticates, decodes and checks each frame;
//! a writer thread appends verified frames to a temporary file beside
//! `--out` and keeps the running SHA-256 of the whole content, across
//! reconnections. Only a fully verified file is renamed into place.

mod cli;
mod error;
mod extract;
mod fetch;

use std::io::Write as _;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use slipway_cli::transfer::{Count, Transfer};
use slipway_wire::Digest;

pub use cli::Cli;
pub use error::{Error, Exit};

/// What the network side hands the writer.
enum ToWriter {
    Data(Vec<u8>),
    /// All frames are in: flush, sync, and answer.
    Finish(mpsc::Sender<()>),
}

pub fn run(cli: &Cli) -> Result<(), Error> {
    let keys = slipway_wire::load_keys(cli.secret_file.as_deref(), cli.insecure)?;
    if keys.insecure() {
        tracing::warn!(
            "--insecure: the producer is not authenticated, and a changed artifact cannot be told from the real one"
        );
    }
    let expect = cli.expect_sha256.as_deref().map(parse_digest).transpose()?;
    let store = open_store(cli)?;
    let route = route(cli, store.as_ref())?;
    let target = cli
        .out
        .as_deref()
        .or(cli.extract.as_deref())
        .ok_or(Error::NoSource)?;
    if let Some(dir) = &cli.extract {
        extract::check_destination(dir)?;
    }
    let start = Instant::now();
    let temp = slipway_cli::AtomicFile::create(target).map_err(|source| Error::Local {
        path: target.to_path_buf(),
        source,
    })?;

    let (tx, rx) = mpsc::sync_channel::<ToWriter>(8);
    // Written buffers come back for the next frames: no fresh pages per frame.
    let (back_tx, back_rx) = mpsc::channel::<Vec<u8>>();
    let file = temp.file().try_clone().map_err(|source| Error::Local {
        path: temp.path().to_path_buf(),
        source,
    })?;
    let temp_path = temp.path().to_path_buf();
    let writer = {
        let back_tx = back_tx.clone();
        std::thread::spawn(move || write_all(file, &rx, &back_tx, &temp_path))
    };

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
        spare: back_tx.clone(),
        buffers: std::cell::Cell::new(0),
    };
    let fetched = fetch::fetch(&route, &settings, &pipe, expect);
    drop(pipe);
    let written = writer
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    // A writer failure explains a fetch that stopped early: report it first.
    written?;
    let fetched = fetched?;

    let mut extracted = None;
    if let Some(dir) = &cli.extract {
        let entries = extract::extract(temp.path(), dir)?;
        tracing::info!(dir = %dir.display(), entries, "extracted");
        extracted = Some(entries);
        // The verified tar goes with `temp`.
    } else {
        temp.persist(fetched.mode).map_err(|source| Error::Local {
            path: target.to_path_buf(),
            source,
        })?;
    }
    report(
        cli,
        target,
        &fetched,
        extracted,
        start.elapsed().as_secs_f64(),
    )
}

/// The summary line, metrics, step summary and outputs.
fn report(
    cli: &Cli,
    target: &Path,
    fetched: &fetch::Fetched,
    entries: Option<u64>,
    seconds: f64,
) -> Result<(), Error> {
    let sha256 = slipway_cli::hex(&fetched.sha256);
    tracing::info!(out = %target.display(), bytes = fetched.bytes, resumes = fetched.resumes, "verified and written");
    let transfer = Transfer {
        tool: "art-consume",
        path: target,
        bytes: fetched.bytes,
        wire_bytes: fetched.stream_bytes + fetched.store_bytes,
        sha256: &sha256,
        seconds,
        counts: [
            Count {
                key: "resumes",
                value: u64::from(fetched.resumes),
                metric: Some((
                    "slipway_artifact_resumes_total",
                    "Reconnections that resumed from the last verified frame.",
                    true,
                )),
            },
            Count {
                key: "stream_bytes",
                value: fetched.stream_bytes,
                metric: Some((
                    "slipway_artifact_stream_bytes",
                    "Bytes that came from the producer over TCP.",
                    false,
                )),
            },
            Count {
                key: "store_bytes",
                value: fetched.store_bytes,
                metric: Some((
                    "slipway_artifact_store_bytes",
                    "Bytes that came from the store's fallback copy.",
                    false,
                )),
            },
        ]
        .into_iter()
        .chain(entries.map(|value| Count {
            key: "entries",
            value,
            metric: None,
        }))
        .collect(),
        headline: "verified".to_owned(),
        by_transport: Some((fetched.stream_bytes, fetched.store_bytes)),
    };
    let line = slipway_contract::art::ConsumeSummary {
        bytes: fetched.bytes,
        entries,
        mb_per_s: transfer.mb_per_s_rounded(),
        resumes: u64::from(fetched.resumes),
        seconds: transfer.seconds_rounded(),
        sha256: sha256.clone(),
        store_bytes: fetched.store_bytes,
        stream_bytes: fetched.stream_bytes,
        version: slipway_contract::art::ART_SUMMARY_VERSION,
        wire_bytes: transfer.wire_bytes,
    };
    Ok(transfer.finish(cli.pushgateway.as_deref(), &line)?)
}

/// The store and this artifact's scope in it, with --store.
fn open_store(cli: &Cli) -> Result<Option<(slipway_store::Store, slipway_store::Scope)>, Error> {
    let args = &cli.store;
    let Some(url) = &args.store else {
        return Ok(None);
    };
    Ok(Some(slipway_store::Store::open_scoped(
        url,
        args.region.as_deref(),
        args.run_id.as_deref(),
        args.name.as_deref().unwrap_or_default(),
    )?))
}

fn route<'a>(
    cli: &'a Cli,
    store: Option<&'a (slipway_store::Store, slipway_store::Scope)>,
) -> Result<fetch::Route<'a>, Error> {
    match (store, &cli.host, cli.port) {
        (Some((store, scope)), _, _) => Ok(fetch::Route::Store {
            store,
            scope,
            wait: Duration::from_secs(cli.wait),
        }),
        (None, Some(host), Some(port)) => Ok(fetch::Route::Direct { host, port }),
        // clap requires --host and --port without --store.
        (None, _, _) => Err(Error::NoSource),
    }
}

/// The writer thread: appends verified frames. (The network side hashes
/// them: writing to the page cache is the heavier half here, so the two
/// threads split the work.)
fn write_all(
    file: std::fs::File,
    rx: &mpsc::Receiver<ToWriter>,
    back: &mpsc::Sender<Vec<u8>>,
    path: &Path,
) -> Result<(), Error> {
    let local = |source: std::io::Error| Error::Local {
        path: path.to_path_buf(),
        source,
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    for message in rx {
        match message {
            ToWriter::Data(bytes) => {
                out.write_all(&bytes).map_err(local)?;
                let _ = back.send(bytes);
            }
            ToWriter::Finish(reply) => {
                out.flush().map_err(local)?;
                out.get_ref().sync_all().map_err(local)?;
                let _ = reply.send(());
            }
        }
    }
    Ok(())
}

fn parse_digest(text: &str) -> Result<Digest, Error> {
    let text = text.trim();
    let bad = || Error::BadDigest(text.to_owned());
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
        assert_eq!(slipway_cli::hex(&parse_digest(text).unwrap()), text);
        assert_eq!(
            slipway_cli::hex(&parse_digest(&text.to_uppercase()).unwrap()),
            text
        );
        assert!(parse_digest("abc").is_err());
        assert!(parse_digest(&"zz".repeat(32)).is_err());
        assert!(parse_digest(&"é".repeat(32)).is_err());
    }
}
