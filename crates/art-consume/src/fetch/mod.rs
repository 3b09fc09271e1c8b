//! Connecting, authenticating and receiving frames, with reconnection and
//! resume from the last verified frame.

mod store;

use std::io::BufReader;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::time::Duration;

use sha2::{Digest as _, Sha256};

use slipway_cli::Progress;
use slipway_wire::{
    Ack, ClientHello, Codec, Digest, ErrorCode, FLAG_ANNOUNCED, FLAG_INSECURE, Keys, Message,
    ServerHello, Session, VERSION, WireError, decompress, frame_digest, hex, random_nonce,
    read_message,
};

use crate::{Error, ToWriter};

/// The channels to and from the writer thread.
pub(crate) struct Pipe {
    pub(crate) writer: mpsc::SyncSender<ToWriter>,
    /// Buffers the writer is done with.
    pub(crate) recycled: mpsc::Receiver<Vec<u8>>,
    /// For buffers a failed frame leaves: back into the same pool.
    pub(crate) spare: mpsc::Sender<Vec<u8>>,
    /// Frame buffers made so far, live between here and the writer.
    pub(crate) buffers: std::cell::Cell<usize>,
}

/// Bytes of frame buffers kept between the network and the writer, so a
/// producer announcing the largest frames cannot make this side hold more
/// (at least two buffers, at most ten).
const BUFFER_BUDGET: usize = 24 << 20;

impl Pipe {
    /// A buffer for a frame of `frame_size` bytes: one the writer is done
    /// with, a new one within the budget, or else the next one it frees.
    pub(crate) fn buffer(&self, frame_size: u32) -> Result<Vec<u8>, Error> {
        if let Ok(buffer) = self.recycled.try_recv() {
            return Ok(buffer);
        }
        let most = (BUFFER_BUDGET / (frame_size as usize).max(1)).clamp(2, 10);
        if self.buffers.get() < most {
            self.buffers.set(self.buffers.get() + 1);
            return Ok(Vec::new());
        }
        self.recycled.recv().map_err(|_| Error::WriterStopped)
    }

    /// Returns the buffer of a frame that failed.
    pub(crate) fn give_back(&self, mut buffer: Vec<u8>) {
        buffer.clear();
        let _ = self.spare.send(buffer);
    }
}

/// Reads exactly `len` bytes into `buffer`, growing it only as they come,
/// so a length the peer announced but does not send costs nothing.
fn read_len(input: &mut impl std::io::Read, len: u32, buffer: &mut Vec<u8>) -> std::io::Result<()> {
    use std::io::Read as _;
    buffer.clear();
    let got = input.by_ref().take(u64::from(len)).read_to_end(buffer)?;
    if got == len as usize {
        Ok(())
    } else {
        Err(std::io::ErrorKind::UnexpectedEof.into())
    }
}

pub(crate) struct Settings {
    pub(crate) keys: Keys,
    pub(crate) retries: u32,
    pub(crate) connect_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) quiet: bool,
}

/// What was fetched.
pub(crate) struct Fetched {
    pub(crate) bytes: u64,
    /// Bytes that came over the socket (headers included), and from the
    /// store's copy.
    pub(crate) stream_bytes: u64,
    pub(crate) store_bytes: u64,
    pub(crate) sha256: Digest,
    pub(crate) mode: u32,
    pub(crate) resumes: u32,
}

/// Where the artifact comes from.
pub(crate) enum Route<'a> {
    /// `--host` and `--port`.
    Direct { host: &'a str, port: u16 },
    /// `--store` and `--name`: the announced producer, then the copy.
    Store {
        store: &'a slipway_store::Store,
        scope: &'a slipway_store::Scope,
        wait: Duration,
    },
}

/// Whom a connection goes to.
pub(crate) enum Target<'a> {
    Host(&'a str, u16),
    /// The announcement's addresses; the producer must prove its nonce.
    Announced(&'a [(std::net::IpAddr, u16)], Digest),
}

/// Progress across connections: what is verified and handed to the writer.
pub(crate) struct State {
    /// SHA-256 of everything handed to the writer, in order, with
    /// `--expect-sha256` only. Otherwise the producer's SHA-256 (in the
    /// authenticated end) is the content's: it hashed each frame for its
    /// digest and the whole for the end in one pass over the same bytes,
    /// and every frame here matched its authenticated digest.
    pub(crate) hasher: Option<Sha256>,
    pub(crate) frames: u64,
    pub(crate) bytes: u64,
    pub(crate) stream_bytes: u64,
    pub(crate) store_bytes: u64,
    pub(crate) resumes: u32,
    /// The first hello: later connections must serve the same artifact.
    pub(crate) artifact: Option<(u32, Option<u64>, u32)>,
    pub(crate) progress: Progress,
}

/// A connection's end: done, or a failure to retry or to stop at.
pub(crate) enum Failure {
    Retry(String),
    Final(Error),
    /// Retried to the limit without progress.
    Exhausted {
        attempts: u32,
        last: String,
    },
}

impl From<WireError> for Failure {
    fn from(err: WireError) -> Self {
        match err {
            WireError::Version { .. } | WireError::Magic(_) => {
                Failure::Final(Error::Verify(err.to_string()))
            }
            // A length or field out of its bounds (checked before anything
            // is allocated for it): TCP does not make these, a broken or
            // hostile producer does, and asking again would not help.
            WireError::Protocol(what) => Failure::Final(Error::Verify(format!(
                "the producer broke the protocol: {what}"
            ))),
            WireError::Remote {
                code: ErrorCode::Auth,
                message,
            } => Failure::Final(Error::Auth(format!("the producer refused: {message}"))),
            WireError::Remote {
                code: ErrorCode::Source,
                message,
            } => Failure::Final(Error::Producer(message)),
            WireError::Remote {
                code: ErrorCode::Version,
                message,
            } => Failure::Final(Error::Verify(message)),
            other => Failure::Retry(other.to_string()),
        }
    }
}

pub(crate) fn fetch(
    route: &Route<'_>,
    settings: &Settings,
    pipe: &Pipe,
    expect: Option<Digest>,
) -> Result<Fetched, Error> {
    let mut state = State {
        hasher: expect.map(|_| Sha256::new()),
        frames: 0,
        bytes: 0,
        stream_bytes: 0,
        store_bytes: 0,
        resumes: 0,
        artifact: None,
        progress: Progress::new("art-consume", None, !settings.quiet),
    };
    let done = match route {
        Route::Direct { host, port } => {
            match stream(
                &Target::Host(host, *port),
                settings,
                &mut state,
                pipe,
                expect,
                settings.retries,
            ) {
                Ok(done) => Ok(done),
                Err(Failure::Final(err)) => Err(err),
                Err(Failure::Exhausted { attempts, last }) => {
                    Err(Error::Exhausted { attempts, last })
                }
                Err(Failure::Retry(last)) => Err(Error::Exhausted { attempts: 1, last }),
            }
        }
        Route::Store { store, scope, wait } => {
            store::fetch(store, scope, *wait, settings, &mut state, pipe, expect)
        }
    };
    state.progress.finish();
    let (sha256, mode) = done?;
    Ok(Fetched {
        bytes: state.bytes,
        stream_bytes: state.stream_bytes,
        store_bytes: state.store_bytes,
        sha256,
        mode,
        resumes: state.resumes,
    })
}

/// Connections to `target` until the content is in, resuming after drops;
/// gives up after `retries` failures in a row without progress.
pub(crate) fn stream(
    target: &Target<'_>,
    settings: &Settings,
    state: &mut State,
    pipe: &Pipe,
    expect: Option<Digest>,
    retries: u32,
) -> Result<(Digest, u32), Failure> {
    let announced = match target {
        Target::Announced(_, nonce) => Some(nonce),
        Target::Host(..) => None,
    };
    let mut failures = 0u32;
    loop {
        let before = state.frames;
        let result = connect(target, settings.connect_timeout)
            .and_then(|stream| session(stream, settings, state, pipe, expect, announced));
        match result {
            Ok(done) => return Ok(done),
            Err(Failure::Retry(why)) => {
                if state.frames > before {
                    // Progress was made: this drop costs no retry.
                    failures = 0;
                    state.resumes += 1;
                    tracing::warn!(
                        "connection lost after frame {}: {why}; resuming",
                        state.frames
                    );
                } else {
                    failures += 1;
                    tracing::warn!("attempt {failures} of {} failed: {why}", retries + 1);
                }
                if failures > retries {
                    return Err(Failure::Exhausted {
                        attempts: failures,
                        last: why,
                    });
                }
                std::thread::sleep(backoff(failures));
            }
            Err(other) => return Err(other),
        }
    }
}

/// Exponential backoff from 100 ms to 5 s, jittered so a matrix of
/// consumers does not reconnect in step.
const BACKOFF: slipway_cli::Backoff =
    slipway_cli::Backoff::new(Duration::from_millis(100), Duration::from_secs(5));

pub(crate) fn backoff(failures: u32) -> Duration {
    BACKOFF.delay(failures)
}

fn connect(target: &Target<'_>, timeout: Duration) -> Result<TcpStream, Failure> {
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
    let (addrs, shown): (Vec<std::net::SocketAddr>, String) = match target {
        Target::Host(host, port) => (
            (*host, *port)
                .to_socket_addrs()
                .map_err(|err| Failure::Retry(format!("could not resolve {host}:{port}: {err}")))?
                .collect(),
            format!("{host}:{port}"),
        ),
        Target::Announced(addrs, _) => {
            let addrs: Vec<_> = addrs
                .iter()
                .map(|(ip, port)| std::net::SocketAddr::new(*ip, *port))
                .collect();
            let shown = addrs
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            (addrs, shown)
        }
    };
    // The first address that answers.
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => return Ok(stream),
            Err(err) => last = err,
        }
    }
    Err(Failure::Retry(format!(
        "could not connect to {shown}: {last}"
    )))
}

/// One connection, from the hellos to the end. Returns the content's
/// SHA-256 and mode once everything verified.
fn session(
    stream: TcpStream,
    settings: &Settings,
    state: &mut State,
    pipe: &Pipe,
    expect: Option<Digest>,
    announced: Option<&Digest>,
) -> Result<(Digest, u32), Failure> {
    let io = |err: std::io::Error| Failure::Retry(err.to_string());
    stream
        .set_read_timeout(Some(settings.idle_timeout))
        .map_err(io)?;
    stream
        .set_write_timeout(Some(settings.idle_timeout))
        .map_err(io)?;
    let mut out = stream.try_clone().map_err(io)?;
    let mut input = BufReader::with_capacity(256 * 1024, stream);
    let (hello, session) = handshake(&mut input, &mut out, settings, state, announced)?;

    let mut wire = Vec::new();
    loop {
        match read_message(&mut input, hello.frame_size)? {
            Message::Frame(header) => {
                receive_frame(
                    &header, &hello, &session, &mut input, &mut wire, state, pipe,
                )?;
            }
            Message::End(end) => {
                if !end.verify(&session) {
                    return Err(Failure::Retry("the end's tag does not verify".to_owned()));
                }
                let sha256 = conclude(
                    end.total_len,
                    end.frames,
                    &end.sha256,
                    state,
                    &pipe.writer,
                    expect,
                )
                .map_err(Failure::Final)?;
                // Telling the producer is a courtesy: the file is verified.
                let _ = Ack {
                    sha256,
                    mac: session.ack_mac(&sha256),
                }
                .write(&mut out);
                return Ok((sha256, hello.mode));
            }
            Message::Error(e) => {
                return Err(WireError::Remote {
                    code: e.code,
                    message: e.message,
                }
                .into());
            }
            Message::Auth(_) | Message::Ack(_) => {
                return Err(Failure::Retry("unexpected message".to_owned()));
            }
        }
    }
}

/// One frame: in order, its tag and its digest verified, then handed to
/// the writer.
fn receive_frame(
    header: &slipway_wire::FrameHeader,
    hello: &ServerHello,
    session: &slipway_wire::Session,
    input: &mut impl std::io::Read,
    wire: &mut Vec<u8>,
    state: &mut State,
    pipe: &Pipe,
) -> Result<(), Failure> {
    let io = |err: std::io::Error| Failure::Retry(err.to_string());
    if header.index != state.frames || header.offset != state.bytes {
        return Err(Failure::Retry(format!(
            "frame {} at offset {} arrived, {} at {} was expected",
            header.index, header.offset, state.frames, state.bytes
        )));
    }
    if !header.verify(session) {
        return Err(Failure::Retry(format!(
            "frame {}: its tag does not verify",
            header.index
        )));
    }
    if let Some(size) = hello.size
        && state.bytes + u64::from(header.raw_len) > size
    {
        return Err(Failure::Final(Error::Verify(format!(
            "frame {} goes past the {size} bytes the producer announced",
            header.index
        ))));
    }
    let mut chunk = pipe.buffer(hello.frame_size).map_err(Failure::Final)?;
    let filled = if header.codec == Codec::None {
        // A raw frame goes straight into its buffer: no copy.
        read_len(input, header.raw_len, &mut chunk).map_err(io)
    } else {
        read_len(input, header.wire_len, wire)
            .map_err(io)
            .and_then(|()| {
                decompress(header.codec, wire, header.raw_len as usize, &mut chunk)
                    .map_err(Failure::from)
            })
    };
    let checked = filled.and_then(|()| {
        if frame_digest(&chunk) == header.digest {
            Ok(())
        } else {
            Err(Failure::Retry(format!(
                "frame {}: its content does not match its digest",
                header.index
            )))
        }
    });
    if let Err(failure) = checked {
        pipe.give_back(chunk);
        return Err(failure);
    }
    if let Some(hasher) = &mut state.hasher {
        hasher.update(&chunk);
    }
    pipe.writer
        .send(ToWriter::Data(chunk))
        .map_err(|_| writer_stopped())?;
    state.frames += 1;
    state.bytes += u64::from(header.raw_len);
    state.stream_bytes += (slipway_wire::FrameHeader::LEN + header.wire_len as usize) as u64;
    state.progress.update(state.bytes);
    Ok(())
}

/// Hellos and mutual proofs; the producer must serve the same artifact as
/// on earlier connections.
fn handshake(
    input: &mut impl std::io::Read,
    out: &mut impl std::io::Write,
    settings: &Settings,
    state: &mut State,
    announced: Option<&Digest>,
) -> Result<(ServerHello, Session), Failure> {
    let (hello, hello_bytes) = ServerHello::read(input)?;
    if hello.flags & FLAG_INSECURE != 0 && !settings.keys.insecure() {
        return Err(Failure::Final(Error::Auth(
            "the producer runs without a secret (--insecure); refusing its artifact".to_owned(),
        )));
    }
    let artifact = (hello.frame_size, hello.size, hello.mode);
    if *state.artifact.get_or_insert(artifact) != artifact {
        return Err(Failure::Final(Error::Verify(
            "the producer now serves a different artifact than before the reconnection".to_owned(),
        )));
    }
    state.progress.set_total(hello.size);
    let nonce = random_nonce();
    let insecure = if settings.keys.insecure() {
        FLAG_INSECURE
    } else {
        0
    };
    ClientHello {
        version: VERSION,
        flags: insecure
            | if announced.is_some() {
                FLAG_ANNOUNCED
            } else {
                0
            },
        nonce,
        resume_from: state.frames,
        proof: settings
            .keys
            .client_proof(&hello_bytes, &nonce, state.frames),
    }
    .write(out)?;
    match read_message(input, hello.frame_size)? {
        Message::Auth(auth)
            if announced.is_some_and(|a| {
                settings
                    .keys
                    .verify_announced_server_proof(&hello.nonce, &nonce, a, &auth.proof)
            }) => {}
        // The producer took this side's secret, so it has it too: a
        // proof without the announcement's nonce means another producer
        // (an earlier attempt's, still running at that address).
        Message::Auth(_) if announced.is_some() => {
            return Err(Failure::Retry(
                "the producer there is not the one announced (a stale or foreign producer)"
                    .to_owned(),
            ));
        }
        Message::Auth(auth)
            if settings
                .keys
                .verify_server_proof(&hello.nonce, &nonce, &auth.proof) => {}
        Message::Auth(_) => {
            return Err(Failure::Final(Error::Auth(
                "the producer's proof does not verify: its secret is not this side's".to_owned(),
            )));
        }
        Message::Error(e) => {
            return Err(WireError::Remote {
                code: e.code,
                message: e.message,
            }
            .into());
        }
        _ => return Err(Failure::Retry("expected the producer's proof".to_owned())),
    }
    if state.frames > 0 {
        tracing::info!(frame = state.frames, bytes = state.bytes, "resuming");
    }
    let session = settings.keys.session(&hello.nonce, &nonce);
    Ok((hello, session))
}

/// The writer thread ended early: it failed, and says why when joined.
fn writer_stopped() -> Failure {
    Failure::Final(Error::WriterStopped)
}

/// Checks the end (already authenticated) against what arrived, the
/// writer's SHA-256 and `--expect-sha256`; the writer syncs the file.
pub(crate) fn conclude(
    total_len: u64,
    frames: u64,
    end_sha256: &Digest,
    state: &State,
    writer: &mpsc::SyncSender<ToWriter>,
    expect: Option<Digest>,
) -> Result<Digest, Error> {
    if frames != state.frames || total_len != state.bytes {
        return Err(Error::Verify(format!(
            "the producer ended at {frames} frames and {total_len} bytes; {} and {} arrived",
            state.frames, state.bytes
        )));
    }
    let sha256: Digest = state
        .hasher
        .clone()
        .map_or(*end_sha256, |hasher| hasher.finalize().into());
    let (reply, answer) = mpsc::channel();
    writer
        .send(ToWriter::Finish(reply))
        .map_err(|_| Error::WriterStopped)?;
    answer.recv().map_err(|_| Error::WriterStopped)?;
    if sha256 != *end_sha256 {
        return Err(Error::Verify(format!(
            "the content's SHA-256 is {}, the producer says {}",
            hex(&sha256),
            hex(end_sha256)
        )));
    }
    if let Some(expected) = expect
        && expected != sha256
    {
        return Err(Error::Verify(format!(
            "the content's SHA-256 is {}, --expect-sha256 says {}",
            hex(&sha256),
            hex(&expected)
        )));
    }
    Ok(sha256)
}
