//! One consumer's connection: hello, mutual authentication, then frames
//! from the spool from wherever the consumer resumes, the end, its ack.

use std::io::{BufWriter, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use slipway_wire::{
    ClientHello, End, ErrorCode, ErrorMessage, FLAG_ANNOUNCED, FLAG_INSECURE, FrameHeader, Keys,
    Message, ServerAuth, ServerHello, VERSION, WireError, random_nonce, read_message,
};

use crate::spool::{Next, Spool};

pub(crate) struct Settings {
    pub(crate) keys: Keys,
    pub(crate) frame_size: u32,
    pub(crate) idle: Duration,
    /// How long each read of the handshake may take.
    pub(crate) handshake: Duration,
    /// How long a connection may wait for the artifact to appear.
    pub(crate) source_wait: Duration,
    /// The announcement's nonce, with --store: a consumer that found this
    /// producer through it gets a proof that covers it.
    pub(crate) announced: Option<slipway_wire::Digest>,
}

/// How a connection ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The consumer verified the whole artifact and said so.
    Delivered {
        frames_sent: u64,
        /// Of them, frames sent raw ahead of the compressor.
        raw_ahead: u64,
    },
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ServeError {
    #[error("authentication failed: {0}")]
    Auth(String),
    #[error("{0}")]
    Wire(#[from] WireError),
    #[error("the artifact could not be read: {0}")]
    Source(String),
    #[error("consumer asked to resume at frame {0}, past the last")]
    ResumePastEnd(u64),
}

/// A connection past its handshake: authenticated both ways.
pub(crate) struct Authenticated {
    reader: TcpStream,
    out: BufWriter<TcpStream>,
    session: slipway_wire::Session,
    resume_from: u64,
}

/// Hellos and proofs, each read bounded by `--handshake-timeout` (the
/// accept loop bounds the whole, so a client sending a byte a second is
/// dropped too).
pub(crate) fn authenticate(
    stream: TcpStream,
    spool: &Spool,
    settings: &Settings,
) -> Result<Authenticated, ServeError> {
    stream
        .set_read_timeout(Some(settings.handshake))
        .map_err(WireError::Io)?;
    stream
        .set_write_timeout(Some(settings.handshake))
        .map_err(WireError::Io)?;
    let mut reader = stream.try_clone().map_err(WireError::Io)?;
    let mut out = BufWriter::with_capacity(256 * 1024, stream);
    let (session, resume_from) = handshake(&mut reader, &mut out, spool, settings)?;
    Ok(Authenticated {
        reader,
        out,
        session,
        resume_from,
    })
}

impl Authenticated {
    /// Turns away a consumer that authenticated when no place is left.
    pub(crate) fn refuse(mut self, code: ErrorCode, text: String) -> ServeError {
        let error = refuse(&mut self.out, code, text);
        let _ = self.out.flush();
        error
    }
}

/// Frames from the spool from wherever the consumer resumes, the end, its
/// ack.
pub(crate) fn serve(
    connection: Authenticated,
    spool: &Spool,
    settings: &Settings,
) -> Result<Outcome, ServeError> {
    let Authenticated {
        mut reader,
        mut out,
        session,
        resume_from,
    } = connection;
    out.get_ref()
        .set_read_timeout(Some(settings.idle))
        .map_err(WireError::Io)?;
    out.get_ref()
        .set_write_timeout(Some(settings.idle))
        .map_err(WireError::Io)?;

    let mut index = resume_from;
    let mut ahead = 0u64;
    loop {
        let next = match spool.next(index, Duration::ZERO, false) {
            Next::Pending => {
                // Nothing ready: send what is buffered before waiting.
                out.flush().map_err(WireError::Io)?;
                // The consumer has caught up with the compressor. If its
                // link has less than a frame queued, waiting would leave it
                // idle: what the reader has hashed goes raw from the file.
                // Otherwise (a slow link) the compressed frame is worth
                // waiting for, while the link drains: it is looked at
                // again every millisecond.
                let raw = crate::link::queued(out.get_ref())
                    .is_some_and(|n| n < settings.frame_size as usize);
                if !raw {
                    spool.level.waited();
                }
                spool.next(index, Duration::from_millis(1), raw)
            }
            ready => ready,
        };
        match &next {
            Next::Ahead(_) => {
                ahead += 1;
                spool.level.caught_up();
            }
            Next::Frame(_) => {
                let (made, finished) = spool.made();
                spool.level.slow_link(index, made, finished);
            }
            _ => {}
        }
        match next {
            Next::Frame(meta) | Next::Ahead(meta) => {
                let header = FrameHeader {
                    index,
                    offset: meta.offset,
                    raw_len: meta.raw_len,
                    codec: meta.codec,
                    wire_len: meta.wire_len,
                    digest: meta.digest,
                    mac: session.frame_mac(index, meta.offset, meta.raw_len, &meta.digest),
                };
                out.write_all(&header.to_bytes()).map_err(WireError::Io)?;
                out.flush().map_err(WireError::Io)?;
                spool.send(&meta, out.get_ref()).map_err(WireError::Io)?;
                index += 1;
            }
            Next::End(end, frames) => {
                if index > frames {
                    let text = format!("resume at frame {index}, but the artifact has {frames}");
                    refuse(&mut out, ErrorCode::Request, text);
                    return Err(ServeError::ResumePastEnd(index));
                }
                let message = End {
                    total_len: end.total_len,
                    frames,
                    sha256: end.sha256,
                    mac: session.end_mac(end.total_len, frames, &end.sha256),
                };
                out.write_all(&message.to_bytes()).map_err(WireError::Io)?;
                out.flush().map_err(WireError::Io)?;
                return match read_message(&mut reader, settings.frame_size)? {
                    Message::Ack(ack) if ack.verify(&session) && ack.sha256 == end.sha256 => {
                        Ok(Outcome::Delivered {
                            frames_sent: index - resume_from,
                            raw_ahead: ahead,
                        })
                    }
                    Message::Error(e) => Err(WireError::Remote {
                        code: e.code,
                        message: e.message,
                    }
                    .into()),
                    _ => Err(WireError::Protocol("expected the consumer's ack".to_owned()).into()),
                };
            }
            Next::Failed(why) => return Err(refuse(&mut out, ErrorCode::Source, why)),
            // The source is slow (a build still writing to stdin): wait on.
            Next::Pending => {}
        }
    }
}

/// Hello, the consumer's hello and proof, this side's proof. Returns the
/// session and the frame to start from.
fn handshake(
    reader: &mut impl std::io::Read,
    out: &mut BufWriter<TcpStream>,
    spool: &Spool,
    settings: &Settings,
) -> Result<(slipway_wire::Session, u64), ServeError> {
    // The connection's thread has waited for it (up to `source_wait`).
    let source = match spool.wait_source(Duration::ZERO) {
        Ok(Some(source)) => source,
        Ok(None) => {
            let text = "the artifact has not appeared yet".to_owned();
            return Err(refuse(out, ErrorCode::Unavailable, text));
        }
        Err(why) => return Err(refuse(out, ErrorCode::Source, why)),
    };
    let hello = ServerHello {
        version: VERSION,
        flags: if settings.keys.insecure() {
            FLAG_INSECURE
        } else {
            0
        },
        frame_size: settings.frame_size,
        size: source.size,
        mode: source.mode,
        nonce: random_nonce(),
    };
    let hello_bytes = hello.to_bytes();
    out.write_all(&hello_bytes).map_err(WireError::Io)?;
    out.flush().map_err(WireError::Io)?;

    let client = match ClientHello::read(reader) {
        Ok(client) => client,
        Err(WireError::Version { theirs, ours }) => {
            let text =
                format!("this producer speaks protocol version {ours}, the consumer {theirs}");
            return Err(refuse(out, ErrorCode::Version, text));
        }
        Err(err) => return Err(err.into()),
    };
    if client.flags & FLAG_INSECURE != 0 && !settings.keys.insecure() {
        let text =
            "the consumer has no secret (--insecure) and this producer requires one".to_owned();
        return Err(auth_refused(out, text));
    }
    if !settings.keys.verify_client_proof(
        &hello_bytes,
        &client.nonce,
        client.resume_from,
        &client.proof,
    ) {
        let text = "the consumer's secret does not match this producer's".to_owned();
        return Err(auth_refused(out, text));
    }
    let proof = if client.flags & FLAG_ANNOUNCED == 0 {
        settings.keys.server_proof(&hello.nonce, &client.nonce)
    } else if let Some(announced) = &settings.announced {
        settings
            .keys
            .announced_server_proof(&hello.nonce, &client.nonce, announced)
    } else {
        let text = "the consumer looks for an announced producer; this one made no announcement (no --store)".to_owned();
        return Err(refuse(out, ErrorCode::Request, text));
    };
    ServerAuth { proof }.write(out)?;
    Ok((
        settings.keys.session(&hello.nonce, &client.nonce),
        client.resume_from,
    ))
}

fn auth_refused(out: &mut impl std::io::Write, text: String) -> ServeError {
    let _ = ErrorMessage {
        code: ErrorCode::Auth,
        message: text.clone(),
    }
    .write(out);
    ServeError::Auth(text)
}

/// Tells the consumer why, as far as the connection still allows.
fn refuse(out: &mut impl std::io::Write, code: ErrorCode, text: String) -> ServeError {
    let _ = ErrorMessage {
        code,
        message: text.clone(),
    }
    .write(out);
    match code {
        ErrorCode::Source => ServeError::Source(text),
        _ => ServeError::Wire(WireError::Protocol(text)),
    }
}
