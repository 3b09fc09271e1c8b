//! Connecting, authenticating and receiving frames, with reconnection and
//! resume from the last verified frame.

use std::io::BufReader;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::time::Duration;

use sha2::{Digest as _, Sha256};

use slipway_cli::Progress;
use slipway_wire::{
    Ack, ClientHello, Codec, Digest, ErrorCode, FLAG_INSECURE, Keys, Message, ServerHello, Session,
    VERSION, WireError, decompress, frame_digest, hex, random_nonce, read_message,
};

use crate::{Error, ToWriter};

/// The channels to and from the writer thread.
pub(crate) struct Pipe {
    pub(crate) writer: mpsc::SyncSender<ToWriter>,
    /// Buffers the writer is done with.
    pub(crate) recycled: mpsc::Receiver<Vec<u8>>,
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
    pub(crate) wire_bytes: u64,
    pub(crate) sha256: Digest,
    pub(crate) mode: u32,
    pub(crate) resumes: u32,
}

/// Progress across connections: what is verified and handed to the writer.
struct State {
    /// SHA-256 of everything handed to the writer, in order.
    hasher: Sha256,
    frames: u64,
    bytes: u64,
    wire_bytes: u64,
    /// The first hello: later connections must serve the same artifact.
    artifact: Option<(u32, Option<u64>, u32)>,
    progress: Progress,
}

/// A connection's end: done, or a failure to retry or to stop at.
enum Failure {
    Retry(String),
    Final(Error),
}

impl From<WireError> for Failure {
    fn from(err: WireError) -> Self {
        match err {
            WireError::Version { .. } | WireError::Magic(_) => {
                Failure::Final(Error::Verify(err.to_string()))
            }
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
    host: &str,
    port: u16,
    settings: &Settings,
    pipe: &Pipe,
    expect: Option<Digest>,
) -> Result<Fetched, Error> {
    let mut state = State {
        hasher: Sha256::new(),
        frames: 0,
        bytes: 0,
        wire_bytes: 0,
        artifact: None,
        progress: Progress::new("art-consume", None, !settings.quiet),
    };
    let mut failures = 0u32;
    let mut resumes = 0u32;
    loop {
        let before = state.frames;
        let result = connect(host, port, settings.connect_timeout)
            .map_err(|err| Failure::Retry(format!("could not connect to {host}:{port}: {err}")))
            .and_then(|stream| session(stream, settings, &mut state, pipe, expect));
        match result {
            Ok((sha256, mode)) => {
                state.progress.finish();
                return Ok(Fetched {
                    bytes: state.bytes,
                    wire_bytes: state.wire_bytes,
                    sha256,
                    mode,
                    resumes,
                });
            }
            Err(Failure::Final(err)) => {
                state.progress.finish();
                return Err(err);
            }
            Err(Failure::Retry(why)) => {
                if state.frames > before {
                    // Progress was made: this drop costs no retry.
                    failures = 0;
                    resumes += 1;
                    tracing::warn!(
                        "connection lost after frame {}: {why}; resuming",
                        state.frames
                    );
                } else {
                    failures += 1;
                    tracing::warn!(
                        "attempt {failures} of {} failed: {why}",
                        settings.retries + 1
                    );
                }
                if failures > settings.retries {
                    state.progress.finish();
                    return Err(Error::Exhausted {
                        attempts: failures,
                        last: why,
                    });
                }
                std::thread::sleep(backoff(failures));
            }
        }
    }
}

/// Exponential backoff from 100 ms to 5 s, with up to 50% random jitter so
/// a matrix of consumers does not reconnect in step.
fn backoff(failures: u32) -> Duration {
    let base = Duration::from_millis(100)
        .saturating_mul(1 << failures.min(6))
        .min(Duration::from_secs(5));
    let jitter = f64::from(random_nonce()[0]) / 255.0 * 0.5;
    base.mul_f64(1.0 + jitter)
}

fn connect(host: &str, port: u16, timeout: Duration) -> std::io::Result<TcpStream> {
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => return Ok(stream),
            Err(err) => last = err,
        }
    }
    Err(last)
}

/// One connection, from the hellos to the end. Returns the content's
/// SHA-256 and mode once everything verified.
fn session(
    stream: TcpStream,
    settings: &Settings,
    state: &mut State,
    pipe: &Pipe,
    expect: Option<Digest>,
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
    let (hello, session) = handshake(&mut input, &mut out, settings, state)?;

    let mut wire = Vec::new();
    loop {
        match read_message(&mut input, hello.frame_size)? {
            Message::Frame(header) => {
                receive_frame(&header, &session, &mut input, &mut wire, state, pipe)?;
            }
            Message::End(end) => {
                let sha256 = finish(&end, &session, state, &pipe.writer, expect)?;
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
    let mut chunk = pipe.recycled.try_recv().unwrap_or_default();
    if header.codec == Codec::None {
        // A raw frame goes straight into its buffer: no copy.
        chunk.resize(header.raw_len as usize, 0);
        input.read_exact(&mut chunk).map_err(io)?;
    } else {
        wire.resize(header.wire_len as usize, 0);
        input.read_exact(wire).map_err(io)?;
        decompress(header.codec, wire, header.raw_len as usize, &mut chunk)?;
    }
    if frame_digest(&chunk) != header.digest {
        return Err(Failure::Retry(format!(
            "frame {}: its content does not match its digest",
            header.index
        )));
    }
    state.hasher.update(&chunk);
    pipe.writer
        .send(ToWriter::Data(chunk))
        .map_err(|_| writer_stopped())?;
    state.frames += 1;
    state.bytes += u64::from(header.raw_len);
    state.wire_bytes += (slipway_wire::FrameHeader::LEN + header.wire_len as usize) as u64;
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
    ClientHello {
        version: VERSION,
        flags: if settings.keys.insecure() {
            FLAG_INSECURE
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

/// Checks the end against what arrived, the writer's SHA-256 and
/// `--expect-sha256`.
fn finish(
    end: &slipway_wire::End,
    session: &Session,
    state: &State,
    writer: &mpsc::SyncSender<ToWriter>,
    expect: Option<Digest>,
) -> Result<Digest, Failure> {
    if !end.verify(session) {
        return Err(Failure::Retry("the end's tag does not verify".to_owned()));
    }
    if end.frames != state.frames || end.total_len != state.bytes {
        return Err(Failure::Final(Error::Verify(format!(
            "the producer ended at {} frames and {} bytes; {} and {} arrived",
            end.frames, end.total_len, state.frames, state.bytes
        ))));
    }
    let sha256: Digest = state.hasher.clone().finalize().into();
    let (reply, answer) = mpsc::channel();
    writer
        .send(ToWriter::Finish(reply))
        .map_err(|_| writer_stopped())?;
    answer.recv().map_err(|_| writer_stopped())?;
    if sha256 != end.sha256 {
        return Err(Failure::Final(Error::Verify(format!(
            "the content's SHA-256 is {}, the producer says {}",
            hex(&sha256),
            hex(&end.sha256)
        ))));
    }
    if let Some(expected) = expect
        && expected != sha256
    {
        return Err(Failure::Final(Error::Verify(format!(
            "the content's SHA-256 is {}, --expect-sha256 says {}",
            hex(&sha256),
            hex(&expected)
        ))));
    }
    Ok(sha256)
}
