//! `art-stream`: serve one build artifact to many consumers.
//!
//! The artifact is read once and cut into frames, each compressed once (on
//! every core) into an on-disk spool; every connection, early, late or
//! resuming, is served from the spool on its own thread, so a slow consumer
//! never holds up another. See `docs/PROTOCOL.md` for the wire format.

mod cli;
mod error;
mod gate;
mod imds;
mod level;
mod link;
mod serve;
mod source;
mod spool;
mod store;
mod tree;

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use slipway_cli::transfer::{Count, Transfer};

pub use cli::{Cli, CodecArg};
pub use error::{Error, Exit};
pub use source::SourceError;
pub use tree::TreeError;

#[derive(Debug, Default)]
struct Stats {
    active: usize,
    delivered: u32,
    last_activity: Option<Instant>,
}

pub fn run(cli: &Cli) -> Result<(), Error> {
    let keys = slipway_wire::load_keys(cli.secret_file.as_deref(), cli.insecure)?;
    if keys.insecure() {
        tracing::warn!(
            "--insecure: no authentication. Anyone who can reach the port can read the artifact, and a changed artifact cannot be told from the real one"
        );
    }
    if cli.store.store.is_some() && !cli.no_mirror && cli.codec == CodecArg::Gzip {
        return Err(Error::MirrorCodec);
    }
    let exclude = tree::globs(&cli.exclude)?;
    let store = cli
        .store
        .store
        .as_deref()
        .map(|url| open_store(cli, url))
        .transpose()?;
    let addr = SocketAddr::new(cli.bind, cli.port);
    let listener = TcpListener::bind(addr)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|source| Error::Listen { addr, source })?;
    // With --port 0 the system picks the port: announce that one.
    let addr = listener.local_addr().unwrap_or(addr);
    tracing::info!(%addr, "listening");
    let announced = store
        .as_ref()
        .map(|(store, scope)| announce(cli, addr.port(), store, scope))
        .transpose()?;

    let start = Instant::now();
    let timeout = Duration::from_secs(cli.timeout);
    let (spool, producer) = start_producing(cli, timeout, exclude)?;
    let copy_complete = Arc::new(AtomicBool::new(false));
    let mirror = match (&store, &announced) {
        (Some((store, _)), Some(nonce)) if !cli.no_mirror => Some(start_mirror(
            cli,
            Arc::clone(store),
            &spool,
            keys.store_session(nonce),
            &copy_complete,
        )),
        _ => None,
    };

    let serve_settings = Arc::new(serve::Settings {
        keys,
        frame_size: cli.frame_size,
        idle: Duration::from_secs(cli.idle_timeout),
        handshake: Duration::from_secs(cli.handshake_timeout),
        source_wait: timeout,
        announced,
    });
    let stats = Arc::new(Mutex::new(Stats::default()));
    let served = serve_until_done(
        cli,
        &listener,
        &spool,
        &serve_settings,
        &stats,
        start,
        &copy_complete,
    );
    if spool.failure().is_some() {
        let outcome = producer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        outcome?;
    }
    served?;
    let delivered = stats
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .delivered;
    let stored_bytes = match mirror {
        None => None,
        Some(mirror) => match mirror
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        {
            Ok(done) => Some(done.stored_bytes),
            // The consumers that were needed have the artifact: the copy
            // was for the others, and its failure is worth a warning only.
            Err(err) if delivered >= cli.consumers => {
                tracing::warn!("the fallback copy failed: {}", slipway_cli::chain(&err));
                None
            }
            Err(err) => return Err(err),
        },
    };
    report(
        cli,
        &spool,
        delivered,
        stored_bytes,
        start.elapsed().as_secs_f64(),
    )
}

/// The store and the scope of this artifact in it.
fn open_store(
    cli: &Cli,
    url: &str,
) -> Result<(Arc<slipway_store::Store>, slipway_store::Scope), Error> {
    let args = &cli.store;
    let (store, scope) = slipway_store::Store::open_scoped(
        url,
        args.region.as_deref(),
        args.run_id.as_deref(),
        args.name.as_deref().unwrap_or_default(),
    )?;
    Ok((Arc::new(store), scope))
}

/// Writes the announcement; returns its nonce.
fn announce(
    cli: &Cli,
    port: u16,
    store: &slipway_store::Store,
    scope: &slipway_store::Scope,
) -> Result<slipway_wire::Digest, Error> {
    let addresses = store::addresses(&cli.advertise, cli.bind, port);
    if addresses.is_empty() {
        return Err(Error::NoAddress);
    }
    let now = store::now();
    let announcement = slipway_wire::Announcement {
        run: scope.run.clone(),
        name: scope.name.clone(),
        addresses,
        nonce: slipway_wire::random_nonce(),
        created_at: now,
        expires_at: now + cli.timeout,
        producer: store::producer_name(),
        mirror: !cli.no_mirror,
    };
    store::announce(store, &announcement)?;
    tracing::info!(url = %store.url(slipway_store::ANNOUNCEMENT), addresses = ?announcement.addresses, "announced");
    Ok(announcement.nonce)
}

type Mirror = std::thread::JoinHandle<Result<store::Mirrored, Error>>;

/// The thread writing the fallback copy; `complete` is set once it is.
fn start_mirror(
    cli: &Cli,
    store: Arc<slipway_store::Store>,
    spool: &Arc<spool::Spool>,
    session: slipway_wire::Session,
    complete: &Arc<AtomicBool>,
) -> Mirror {
    let (spool, complete) = (Arc::clone(spool), Arc::clone(complete));
    let (frame_size, wait) = (cli.frame_size, Duration::from_secs(cli.timeout));
    std::thread::spawn(move || {
        let done = store::mirror(&store, &spool, &session, frame_size, wait)?;
        complete.store(true, Ordering::SeqCst);
        Ok(done)
    })
}

/// The thread reading the artifact into the spool.
type Producer = std::thread::JoinHandle<Result<spool::EndInfo, source::SourceError>>;

/// The spool, and the thread that reads the artifact into it.
fn start_producing(
    cli: &Cli,
    wait: Duration,
    exclude: globset::GlobSet,
) -> Result<(Arc<spool::Spool>, Producer), Error> {
    let spool_file = match &cli.spool_dir {
        Some(dir) => tempfile::tempfile_in(dir),
        None => tempfile::tempfile(),
    }
    .map_err(Error::SpoolFile)?;
    let level = level::Level::new(cli.level, cli.codec.codec() == slipway_wire::Codec::Zstd);
    let spool = Arc::new(spool::Spool::new(spool_file, level));
    let settings = source::Settings {
        path: cli.file.clone().unwrap_or_default(),
        tree: (!cli.path.is_empty()).then(|| (cli.path.clone(), exclude)),
        codec: cli.codec.codec(),
        frame_size: cli.frame_size,
        wait,
    };
    let producer = {
        let spool = Arc::clone(&spool);
        std::thread::spawn(move || source::produce(&settings, &spool))
    };
    Ok((spool, producer))
}

/// The finished transfer: summary line, metrics, step summary, outputs.
fn report(
    cli: &Cli,
    spool: &spool::Spool,
    delivered: u32,
    stored_bytes: Option<u64>,
    seconds: f64,
) -> Result<(), Error> {
    let (end, frames) = spool.summary().ok_or(Error::NoEnd)?;
    let sha256 = slipway_cli::hex(&end.sha256);
    tracing::info!(bytes = end.total_len, consumers = delivered, "done");
    let transfer = Transfer {
        tool: "art-stream",
        path: cli
            .file
            .as_deref()
            .or(cli.path.first().map(PathBuf::as_path))
            .unwrap_or(std::path::Path::new("-")),
        bytes: end.total_len,
        wire_bytes: spool.wire_bytes(),
        sha256: &sha256,
        seconds,
        counts: [
            Count {
                key: "frames",
                value: frames,
                metric: None,
            },
            Count {
                key: "consumers",
                value: u64::from(delivered),
                metric: Some((
                    "slipway_artifact_consumers_served",
                    "Consumers that verified the whole artifact.",
                    false,
                )),
            },
        ]
        .into_iter()
        .chain(stored_bytes.map(|value| Count {
            key: "stored_bytes",
            value,
            metric: Some((
                "slipway_artifact_stored_bytes",
                "Bytes of the fallback copy written to the store.",
                false,
            )),
        }))
        .collect(),
        headline: format!("served to {delivered} consumers"),
        by_transport: None,
    };
    let line = slipway_contract::art::StreamSummary {
        bytes: end.total_len,
        consumers: u64::from(delivered),
        frames,
        mb_per_s: transfer.mb_per_s_rounded(),
        seconds: transfer.seconds_rounded(),
        sha256: sha256.clone(),
        stored_bytes,
        version: slipway_contract::art::ART_SUMMARY_VERSION,
        wire_bytes: transfer.wire_bytes,
    };
    Ok(transfer.finish(cli.pushgateway.as_deref(), &line)?)
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
    copy_complete: &AtomicBool,
) -> Result<(), Error> {
    let timeout = Duration::from_secs(cli.timeout);
    let mut handshakes = gate::Handshakes::new(
        usize::try_from(cli.max_handshakes).unwrap_or(usize::MAX),
        Duration::from_secs(cli.handshake_timeout),
    );
    let mut done_at: Option<Instant> = None;
    let mut no_consumer_since = start;
    loop {
        match listener.accept() {
            Ok((stream, peer)) => {
                let admission = Admission {
                    max: cli.max_connections,
                    stats: Arc::clone(stats),
                };
                if let Some(watch) = handshakes.admit(&stream, peer) {
                    accept(stream, peer, spool, serve_settings, watch, admission);
                }
            }
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(err) => tracing::warn!("accept failed: {err}"),
        }
        // The deadline runs once the artifact is there: until then a hello
        // cannot be sent, and a consumer that came early waits for it.
        handshakes.reap(spool.source_ready());
        if spool.failure().is_some() {
            // The producer thread has the typed error; run() joins it.
            // Connections waiting on frames are told why (`ERROR`, code
            // `source`) by their own threads: give them a moment to.
            let until = Instant::now() + Duration::from_secs(2);
            while active(stats) > 0 && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(10));
            }
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
            if copy_complete.load(Ordering::SeqCst) {
                tracing::info!(
                    delivered,
                    "no consumer came for {} seconds; the rest read the fallback copy",
                    cli.timeout
                );
                return Ok(());
            }
            return Err(Error::NoConsumers {
                delivered,
                wanted: cli.consumers,
                seconds: cli.timeout,
            });
        }
    }

    Ok(())
}

/// Connections being served now.
fn active(stats: &Mutex<Stats>) -> usize {
    stats
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .active
}

/// The places for authenticated consumers, apart from the handshakes':
/// `Stats::active` counts the places taken.
struct Admission {
    max: u64,
    stats: Arc<Mutex<Stats>>,
}

impl Admission {
    /// Takes a place, if one is left.
    fn take(&self) -> bool {
        let mut s = self
            .stats
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if s.active as u64 >= self.max {
            return false;
        }
        s.active += 1;
        s.last_activity = Some(Instant::now());
        true
    }

    /// Gives the place back, counting a delivery.
    fn give_back(&self, delivered: bool) -> u32 {
        let mut s = self
            .stats
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        s.active -= 1;
        s.last_activity = Some(Instant::now());
        if delivered {
            s.delivered += 1;
        }
        s.delivered
    }
}

/// One connection's thread: the handshake under the accept loop's watch,
/// then, with a place taken, the frames.
fn accept(
    stream: std::net::TcpStream,
    peer: SocketAddr,
    spool: &Arc<spool::Spool>,
    settings: &Arc<serve::Settings>,
    watch: gate::Watch,
    admission: Admission,
) {
    if stream.set_nonblocking(false).is_err() {
        return;
    }
    tracing::debug!(%peer, "connection accepted");
    let (spool, settings) = (Arc::clone(spool), Arc::clone(settings));
    std::thread::spawn(move || {
        // A consumer that came before the artifact waits for it here, in
        // slices, so that one dropped meanwhile leaves at once.
        let until = Instant::now() + settings.source_wait;
        if !spool.source_ready() {
            tracing::info!(%peer, "connection waits for the artifact");
        }
        while watch.pending()
            && !spool.source_ready()
            && spool.failure().is_none()
            && Instant::now() < until
        {
            let _ = spool.wait_source(Duration::from_millis(100));
        }
        if !watch.pending() {
            return watch.dropped(peer, "dropped while waiting for the artifact");
        }
        let connection = match serve::authenticate(stream, &spool, &settings) {
            Ok(connection) if watch.complete() => connection,
            Ok(_) => return watch.dropped(peer, "authenticated too late"),
            Err(err) => return watch.dropped(peer, &err.to_string()),
        };
        if !admission.take() {
            tracing::warn!(%peer, "refused: already {} consumers", admission.max);
            let text = format!("the producer already serves {} consumers", admission.max);
            connection.refuse(slipway_wire::ErrorCode::Unavailable, text);
            return;
        }
        tracing::info!(%peer, "consumer connected");
        let result = serve::serve(connection, &spool, &settings);
        // Logged before the place is given back: the last delivery lets
        // the accept loop finish and the process exit.
        let delivered = match result {
            Ok(serve::Outcome::Delivered {
                frames_sent,
                raw_ahead,
            }) => {
                tracing::info!(%peer, frames_sent, raw_ahead, "consumer verified the artifact");
                true
            }
            Err(err) => {
                tracing::warn!(%peer, "connection ended: {err}");
                false
            }
        };
        let total = admission.give_back(delivered);
        tracing::debug!(%peer, delivered = total, "place given back");
    });
}
