//! `art-stream`: serve one build artifact to many consumers.
//!
//! The artifact is read once and cut into frames, each compressed once (on
//! every core) into an on-disk spool; every connection, early, late or
//! resuming, is served from the spool on its own thread, so a slow consumer
//! never holds up another. See `docs/PROTOCOL.md` for the wire format.

mod cli;
mod serve;
mod source;
mod spool;

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use slipway_cli::github::Actions;

pub use cli::{Cli, CodecArg};
pub use source::SourceError;

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
}

/// Gave up waiting.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TimeoutError(String);

/// Could not listen.
#[derive(Debug, thiserror::Error)]
#[error("failed to listen on {0}")]
pub struct ListenError(SocketAddr, #[source] std::io::Error);

#[must_use]
pub fn exit_code_for(err: &anyhow::Error) -> Exit {
    for cause in err.chain() {
        if cause.is::<slipway_wire::SecretError>() {
            return Exit::Usage;
        }
        if cause.is::<TimeoutError>() {
            return Exit::Timeout;
        }
        if let Some(source) = cause.downcast_ref::<SourceError>() {
            return match source {
                SourceError::NeverAppeared(..) => Exit::Timeout,
                _ => Exit::Source,
            };
        }
        if cause.is::<ListenError>() {
            return Exit::Listen;
        }
    }
    Exit::Internal
}

#[derive(Debug, Default)]
struct Stats {
    active: usize,
    delivered: u32,
    last_activity: Option<Instant>,
}

pub fn run(cli: &Cli) -> anyhow::Result<()> {
    let keys = slipway_wire::load_keys(cli.secret_file.as_deref(), cli.insecure)?;
    if keys.insecure() {
        tracing::warn!(
            "--insecure: no authentication. Anyone who can reach the port can read the artifact, and a changed artifact cannot be told from the real one"
        );
    }
    let addr = SocketAddr::new(cli.bind, cli.port);
    let listener = TcpListener::bind(addr).map_err(|err| ListenError(addr, err))?;
    listener
        .set_nonblocking(true)
        .context("failed to configure the listener")?;
    tracing::info!(%addr, "listening");

    let spool_file = match &cli.spool_dir {
        Some(dir) => tempfile::tempfile_in(dir),
        None => tempfile::tempfile(),
    }
    .context("failed to create the spool file")?;
    let spool = Arc::new(spool::Spool::new(spool_file));
    let start = Instant::now();
    let timeout = Duration::from_secs(cli.timeout);

    let source_settings = source::Settings {
        path: cli.file.clone(),
        codec: cli.codec.codec(),
        level: cli.level,
        frame_size: cli.frame_size,
        wait: timeout,
    };
    let producer = {
        let spool = Arc::clone(&spool);
        std::thread::spawn(move || source::produce(&source_settings, &spool))
    };

    let serve_settings = Arc::new(serve::Settings {
        keys,
        frame_size: cli.frame_size,
        idle: Duration::from_secs(cli.idle_timeout),
        source_wait: timeout,
    });
    let stats = Arc::new(Mutex::new(Stats::default()));
    serve_until_done(cli, &listener, &spool, &serve_settings, &stats, start)?;
    if spool.failure().is_some() {
        let outcome = producer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        outcome.context("the artifact could not be served")?;
    }

    let (end, frames) = spool.end().context("delivered before the end was known")?;
    let seconds = start.elapsed().as_secs_f64();
    let delivered = stats
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .delivered;
    let sha256 = slipway_wire::hex(&end.sha256);
    #[expect(clippy::cast_precision_loss, reason = "a rate for people to read")]
    let mb_per_s = end.total_len as f64 / seconds.max(1e-9) / 1e6;
    let summary = serde_json::json!({
        "bytes": end.total_len,
        "wire_bytes": spool.wire_bytes(),
        "frames": frames,
        "sha256": sha256,
        "seconds": (seconds * 1000.0).round() / 1000.0,
        "mb_per_s": (mb_per_s * 10.0).round() / 10.0,
        "consumers": delivered,
    });
    tracing::info!(bytes = end.total_len, consumers = delivered, "done");
    if let Some(gateway) = &cli.pushgateway {
        push_metrics(
            gateway,
            &cli.file,
            end.total_len,
            spool.wire_bytes(),
            seconds,
            delivered,
        );
    }
    let actions = Actions::from_env();
    if let Some(file) = &actions.summary {
        let text = format!(
            "### art-stream: {} served to {delivered} consumers\n\n{} bytes ({} on the wire) in {seconds:.2} s, SHA-256 `{sha256}`\n",
            cli.file.display(),
            end.total_len,
            spool.wire_bytes(),
        );
        slipway_cli::github::append(file, &text)
            .with_context(|| format!("failed to write the step summary to {}", file.display()))?;
    }
    if let Some(file) = &actions.output {
        slipway_cli::github::append_outputs(
            file,
            &[
                ("sha256", sha256.clone()),
                ("bytes", end.total_len.to_string()),
            ],
        )
        .with_context(|| format!("failed to write GitHub outputs to {}", file.display()))?;
    }
    slipway_cli::write_stdout(&format!("{summary}\n")).context("failed to write to stdout")?;
    Ok(())
}

/// The transfer's figures, to a Pushgateway.
#[expect(clippy::cast_precision_loss, reason = "byte counts far below 2^52")]
fn push_metrics(
    gateway: &str,
    file: &std::path::Path,
    bytes: u64,
    wire_bytes: u64,
    seconds: f64,
    delivered: u32,
) {
    let mut m = slipway_cli::metrics::Metrics::new("art-stream");
    m.gauge(
        "slipway_artifact_bytes",
        slipway_cli::metrics::HELP_BYTES,
        &[],
        bytes as f64,
    );
    m.gauge(
        "slipway_artifact_wire_bytes",
        slipway_cli::metrics::HELP_WIRE_BYTES,
        &[],
        wire_bytes as f64,
    );
    m.gauge(
        "slipway_artifact_seconds",
        slipway_cli::metrics::HELP_SECONDS,
        &[],
        seconds,
    );
    m.gauge(
        "slipway_artifact_consumers_served",
        "Consumers that verified the whole artifact.",
        &[],
        f64::from(delivered),
    );
    let grouping = slipway_cli::metrics::transfer_grouping(file);
    let grouping: Vec<(&str, &str)> = grouping.iter().map(|(k, v)| (*k, v.as_str())).collect();
    m.push_if(Some(gateway), &grouping);
}

/// Accepts consumers until enough have verified the artifact (and the
/// linger is over), or gives up.
fn serve_until_done(
    cli: &Cli,
    listener: &TcpListener,
    spool: &Arc<spool::Spool>,
    serve_settings: &Arc<serve::Settings>,
    stats: &Arc<Mutex<Stats>>,
    start: Instant,
) -> anyhow::Result<()> {
    let timeout = Duration::from_secs(cli.timeout);
    let connections = Arc::new(AtomicUsize::new(0));
    let mut done_at: Option<Instant> = None;
    let mut no_consumer_since = start;
    loop {
        match listener.accept() {
            Ok((stream, peer)) => accept(
                stream,
                peer,
                cli,
                spool,
                serve_settings,
                stats,
                &connections,
            ),
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(err) => tracing::warn!("accept failed: {err}"),
        }
        if spool.failure().is_some() {
            // The producer thread has the typed error; run() joins it.
            return Ok(());
        }
        let (active, delivered, last) = {
            let s = stats
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            (s.active, s.delivered, s.last_activity)
        };
        if delivered >= cli.consumers {
            let since = *done_at.get_or_insert_with(Instant::now);
            if since.elapsed() >= Duration::from_secs(cli.linger) {
                break;
            }
            continue;
        }
        if active > 0 {
            no_consumer_since = Instant::now();
        } else if let Some(last) = last {
            no_consumer_since = no_consumer_since.max(last);
        }
        // Until the file is open, its own wait (with its own message) decides.
        if active == 0 && no_consumer_since.elapsed() >= timeout && spool.source_ready() {
            return Err(TimeoutError(format!(
                "{delivered} of {} consumers verified the artifact, and none came for {} seconds",
                cli.consumers, cli.timeout
            ))
            .into());
        }
    }

    Ok(())
}

fn accept(
    stream: std::net::TcpStream,
    peer: SocketAddr,
    cli: &Cli,
    spool: &Arc<spool::Spool>,
    settings: &Arc<serve::Settings>,
    stats: &Arc<Mutex<Stats>>,
    connections: &Arc<AtomicUsize>,
) {
    if stream.set_nonblocking(false).is_err() {
        return;
    }
    if connections.load(Ordering::SeqCst) >= cli.max_connections {
        tracing::warn!(%peer, "refused: already {} connections", cli.max_connections);
        let mut stream = stream;
        let _ = slipway_wire::ErrorMessage {
            code: slipway_wire::ErrorCode::Unavailable,
            message: format!(
                "the producer already serves {} connections",
                cli.max_connections
            ),
        }
        .write(&mut stream);
        return;
    }
    connections.fetch_add(1, Ordering::SeqCst);
    {
        let mut s = stats
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        s.active += 1;
        s.last_activity = Some(Instant::now());
    }
    tracing::info!(%peer, "consumer connected");
    let (spool, settings, stats, connections) = (
        Arc::clone(spool),
        Arc::clone(settings),
        Arc::clone(stats),
        Arc::clone(connections),
    );
    std::thread::spawn(move || {
        let result = serve::serve(stream, &spool, &settings);
        let mut s = stats
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        s.active -= 1;
        s.last_activity = Some(Instant::now());
        match result {
            Ok(serve::Outcome::Delivered { frames_sent }) => {
                s.delivered += 1;
                tracing::info!(%peer, frames_sent, delivered = s.delivered, "consumer verified the artifact");
            }
            Err(err) => tracing::warn!(%peer, "connection ended: {err}"),
        }
        connections.fetch_sub(1, Ordering::SeqCst);
    });
}
