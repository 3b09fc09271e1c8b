//! The messages, their byte layout (big-endian, fixed size but for frame
//! payloads and error text) and the bounds every reader enforces.

use std::fmt;
use std::io::{Read, Write};

use crate::auth::same;
use crate::codec::{Codec, max_wire_len};
use crate::{Digest, MAGIC, MAX_ERROR_LEN, MAX_FRAME_SIZE, Session, VERSION, WireError};

const TYPE_FRAME: u8 = 1;
const TYPE_END: u8 = 2;
const TYPE_ERROR: u8 = 3;
const TYPE_ACK: u8 = 4;
const TYPE_AUTH: u8 = 5;

/// Why a peer gave up, sent in an `ERROR` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum ErrorCode {
    /// The other side's proof did not verify: the secrets differ, or one
    /// side has none.
    Auth = 1,
    /// The protocol versions differ.
    Version = 2,
    /// The producer could not read the artifact.
    Source = 3,
    /// A request the receiver cannot serve (resume past the end, …).
    Request = 4,
    /// The producer is shutting down or has too many connections.
    Unavailable = 5,
    /// Anything else.
    Internal = 6,
}

impl ErrorCode {
    fn from_u16(code: u16) -> ErrorCode {
        match code {
            1 => ErrorCode::Auth,
            2 => ErrorCode::Version,
            3 => ErrorCode::Source,
            4 => ErrorCode::Request,
            5 => ErrorCode::Unavailable,
            _ => ErrorCode::Internal,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorCode::Auth => "authentication",
            ErrorCode::Version => "version",
            ErrorCode::Source => "source",
            ErrorCode::Request => "request",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        })
    }
}

/// The producer's first message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    pub version: u16,
    pub flags: u16,
    pub frame_size: u32,
    /// The artifact's size when known (a file), `None` for a pipe.
    pub size: Option<u64>,
    /// Unix permission bits of the artifact, for the consumer to restore.
    pub mode: u32,
    pub nonce: Digest,
}

impl ServerHello {
    pub const LEN: usize = 4 + 2 + 2 + 4 + 8 + 4 + 32;

    #[must_use]
    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut b = [0; Self::LEN];
        b[..4].copy_from_slice(&MAGIC);
        b[4..6].copy_from_slice(&self.version.to_be_bytes());
        b[6..8].copy_from_slice(&self.flags.to_be_bytes());
        b[8..12].copy_from_slice(&self.frame_size.to_be_bytes());
        b[12..20].copy_from_slice(&self.size.unwrap_or(u64::MAX).to_be_bytes());
        b[20..24].copy_from_slice(&self.mode.to_be_bytes());
        b[24..56].copy_from_slice(&self.nonce);
        b
    }

    /// Reads and checks a hello; returns it with its bytes, which the
    /// consumer's proof covers.
    /// A producer that cannot serve at all sends `ERROR` in its place: its
    /// type byte (3) is never the magic's first byte (`S`), so that is
    /// returned as [`WireError::Remote`].
    pub fn read(r: &mut impl Read) -> Result<(ServerHello, [u8; Self::LEN]), WireError> {
        let mut b = [0; Self::LEN];
        r.read_exact(&mut b[..1])?;
        if b[0] == TYPE_ERROR {
            let mut rest = (&[TYPE_ERROR][..]).chain(r);
            return Err(match read_message(&mut rest, 1)? {
                Message::Error(e) => WireError::Remote {
                    code: e.code,
                    message: e.message,
                },
                _ => WireError::Protocol("expected the producer's hello".to_owned()),
            });
        }
        r.read_exact(&mut b[1..])?;
        check_magic_and_version(&b)?;
        let size = be_u64(&b[12..20]);
        let hello = ServerHello {
            version: u16::from_be_bytes([b[4], b[5]]),
            flags: u16::from_be_bytes([b[6], b[7]]),
            frame_size: be_u32(&b[8..12]),
            size: (size != u64::MAX).then_some(size),
            mode: be_u32(&b[20..24]),
            nonce: bytes32(&b[24..56]),
        };
        if hello.frame_size == 0 || hello.frame_size > MAX_FRAME_SIZE {
            return Err(WireError::Protocol(format!(
                "frame size {} is outside 1..={MAX_FRAME_SIZE}",
                hello.frame_size
            )));
        }
        Ok((hello, b))
    }
}

/// The consumer's answer: its nonce, where to resume, and its proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    pub version: u16,
    pub flags: u16,
    pub nonce: Digest,
    /// The first frame the consumer wants (0 for a fresh start).
    pub resume_from: u64,
    pub proof: Digest,
}

impl ClientHello {
    pub const LEN: usize = 4 + 2 + 2 + 32 + 8 + 32;

    pub fn write(&self, w: &mut impl Write) -> Result<(), WireError> {
        let mut b = [0; Self::LEN];
        b[..4].copy_from_slice(&MAGIC);
        b[4..6].copy_from_slice(&self.version.to_be_bytes());
        b[6..8].copy_from_slice(&self.flags.to_be_bytes());
        b[8..40].copy_from_slice(&self.nonce);
        b[40..48].copy_from_slice(&self.resume_from.to_be_bytes());
        b[48..80].copy_from_slice(&self.proof);
        w.write_all(&b)?;
        Ok(())
    }

    /// Reads and checks a hello. The magic and version are checked as soon
    /// as they are in, so a peer speaking something else is told apart
    /// without waiting for 80 bytes it may never send.
    pub fn read(r: &mut impl Read) -> Result<ClientHello, WireError> {
        let mut b = [0; Self::LEN];
        r.read_exact(&mut b[..6])?;
        check_magic_and_version(&b)?;
        r.read_exact(&mut b[6..])?;
        Ok(ClientHello {
            version: u16::from_be_bytes([b[4], b[5]]),
            flags: u16::from_be_bytes([b[6], b[7]]),
            nonce: bytes32(&b[8..40]),
            resume_from: be_u64(&b[40..48]),
            proof: bytes32(&b[48..80]),
        })
    }
}

pub(crate) fn be_u64(b: &[u8]) -> u64 {
    let mut x = [0; 8];
    x.copy_from_slice(b);
    u64::from_be_bytes(x)
}

pub(crate) fn be_u32(b: &[u8]) -> u32 {
    let mut x = [0; 4];
    x.copy_from_slice(b);
    u32::from_be_bytes(x)
}

pub(crate) fn bytes32(b: &[u8]) -> Digest {
    let mut x = [0; 32];
    x.copy_from_slice(b);
    x
}

fn check_magic_and_version(b: &[u8]) -> Result<(), WireError> {
    let mut magic = [0; 4];
    magic.copy_from_slice(&b[..4]);
    if magic != MAGIC {
        return Err(WireError::Magic(magic));
    }
    let version = u16::from_be_bytes([b[4], b[5]]);
    if version != VERSION {
        return Err(WireError::Version {
            theirs: version,
            ours: VERSION,
        });
    }
    Ok(())
}

/// The producer's proof, sent once the consumer's verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAuth {
    pub proof: Digest,
}

/// One frame's header; `wire_len` payload bytes follow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameHeader {
    pub index: u64,
    /// Where the frame's bytes start in the uncompressed content.
    pub offset: u64,
    pub raw_len: u32,
    pub codec: Codec,
    pub wire_len: u32,
    /// BLAKE3 of the uncompressed bytes ([`crate::frame_digest`]).
    pub digest: Digest,
    /// HMAC over index, offset, length and digest, with the session key.
    pub mac: Digest,
}

impl FrameHeader {
    pub const LEN: usize = 1 + 8 + 8 + 4 + 1 + 4 + 32 + 32;

    #[must_use]
    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut b = [0; Self::LEN];
        b[0] = TYPE_FRAME;
        b[1..9].copy_from_slice(&self.index.to_be_bytes());
        b[9..17].copy_from_slice(&self.offset.to_be_bytes());
        b[17..21].copy_from_slice(&self.raw_len.to_be_bytes());
        b[21] = self.codec as u8;
        b[22..26].copy_from_slice(&self.wire_len.to_be_bytes());
        b[26..58].copy_from_slice(&self.digest);
        b[58..90].copy_from_slice(&self.mac);
        b
    }

    /// Whether the header's tag verifies under `session`.
    #[must_use]
    pub fn verify(&self, session: &Session) -> bool {
        session.verify_frame(
            self.index,
            self.offset,
            self.raw_len,
            &self.digest,
            &self.mac,
        )
    }
}

/// The last message: the whole content's length, frame count and SHA-256,
/// authenticated with the session key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct End {
    pub total_len: u64,
    pub frames: u64,
    pub sha256: Digest,
    pub mac: Digest,
}

impl End {
    pub const LEN: usize = 1 + 8 + 8 + 32 + 32;

    #[must_use]
    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut b = [0; Self::LEN];
        b[0] = TYPE_END;
        b[1..9].copy_from_slice(&self.total_len.to_be_bytes());
        b[9..17].copy_from_slice(&self.frames.to_be_bytes());
        b[17..49].copy_from_slice(&self.sha256);
        b[49..81].copy_from_slice(&self.mac);
        b
    }

    #[must_use]
    pub fn verify(&self, session: &Session) -> bool {
        same(
            &session.end_mac(self.total_len, self.frames, &self.sha256),
            &self.mac,
        )
    }
}

/// A peer's reason for giving up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorMessage {
    pub code: ErrorCode,
    pub message: String,
}

impl ErrorMessage {
    pub fn write(&self, w: &mut impl Write) -> Result<(), WireError> {
        let text = truncate(&self.message, MAX_ERROR_LEN);
        let mut b = Vec::with_capacity(5 + text.len());
        b.push(TYPE_ERROR);
        b.extend_from_slice(&(self.code as u16).to_be_bytes());
        b.extend_from_slice(&u16::try_from(text.len()).unwrap_or(u16::MAX).to_be_bytes());
        b.extend_from_slice(text.as_bytes());
        w.write_all(&b)?;
        w.flush()?;
        Ok(())
    }
}

fn truncate(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The consumer's confirmation that it verified the whole content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub sha256: Digest,
    pub mac: Digest,
}

impl Ack {
    pub const LEN: usize = 1 + 32 + 32;

    pub fn write(&self, w: &mut impl Write) -> Result<(), WireError> {
        let mut b = [0; Self::LEN];
        b[0] = TYPE_ACK;
        b[1..33].copy_from_slice(&self.sha256);
        b[33..65].copy_from_slice(&self.mac);
        w.write_all(&b)?;
        w.flush()?;
        Ok(())
    }

    #[must_use]
    pub fn verify(&self, session: &Session) -> bool {
        same(&session.ack_mac(&self.sha256), &self.mac)
    }
}

impl ServerAuth {
    pub fn write(&self, w: &mut impl Write) -> Result<(), WireError> {
        let mut b = [0; 33];
        b[0] = TYPE_AUTH;
        b[1..].copy_from_slice(&self.proof);
        w.write_all(&b)?;
        w.flush()?;
        Ok(())
    }
}

/// Any message after the hellos.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Auth(ServerAuth),
    Frame(FrameHeader),
    End(End),
    Error(ErrorMessage),
    Ack(Ack),
}

/// Reads one message. Frame headers are checked against `frame_size`
/// before anything is allocated for their payload. A clean end of stream
/// here is an error: the stream ends only after `END`.
pub fn read_message(r: &mut impl Read, frame_size: u32) -> Result<Message, WireError> {
    let mut kind = [0; 1];
    r.read_exact(&mut kind)?;
    match kind[0] {
        TYPE_AUTH => {
            let mut proof = [0; 32];
            r.read_exact(&mut proof)?;
            Ok(Message::Auth(ServerAuth { proof }))
        }
        TYPE_FRAME => {
            let mut b = [0; FrameHeader::LEN];
            b[0] = TYPE_FRAME;
            r.read_exact(&mut b[1..])?;
            let codec = Codec::from_byte(b[21])
                .ok_or_else(|| WireError::Protocol(format!("unknown codec {}", b[21])))?;
            let header = FrameHeader {
                index: be_u64(&b[1..9]),
                offset: be_u64(&b[9..17]),
                raw_len: be_u32(&b[17..21]),
                codec,
                wire_len: be_u32(&b[22..26]),
                digest: bytes32(&b[26..58]),
                mac: bytes32(&b[58..90]),
            };
            if header.raw_len == 0 || header.raw_len > frame_size {
                return Err(WireError::Protocol(format!(
                    "frame {} claims {} bytes, outside 1..={frame_size}",
                    header.index, header.raw_len
                )));
            }
            if header.wire_len > max_wire_len(header.raw_len) {
                return Err(WireError::Protocol(format!(
                    "frame {} claims {} bytes on the wire for {} bytes of content",
                    header.index, header.wire_len, header.raw_len
                )));
            }
            Ok(Message::Frame(header))
        }
        TYPE_END => {
            let mut b = [0; End::LEN];
            r.read_exact(&mut b[1..])?;
            Ok(Message::End(End {
                total_len: be_u64(&b[1..9]),
                frames: be_u64(&b[9..17]),
                sha256: bytes32(&b[17..49]),
                mac: bytes32(&b[49..81]),
            }))
        }
        TYPE_ERROR => {
            let mut b = [0; 4];
            r.read_exact(&mut b)?;
            let len = usize::from(u16::from_be_bytes([b[2], b[3]]));
            if len > MAX_ERROR_LEN {
                return Err(WireError::Protocol(format!(
                    "error text of {len} bytes, over {MAX_ERROR_LEN}"
                )));
            }
            let mut text = vec![0; len];
            r.read_exact(&mut text)?;
            Ok(Message::Error(ErrorMessage {
                code: ErrorCode::from_u16(u16::from_be_bytes([b[0], b[1]])),
                message: String::from_utf8_lossy(&text).into_owned(),
            }))
        }
        TYPE_ACK => {
            let mut b = [0; Ack::LEN];
            r.read_exact(&mut b[1..])?;
            Ok(Message::Ack(Ack {
                sha256: bytes32(&b[1..33]),
                mac: bytes32(&b[33..65]),
            }))
        }
        other => Err(WireError::Protocol(format!("unknown message type {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::Keys;

    #[test]
    fn hellos_round_trip() {
        let hello = ServerHello {
            version: VERSION,
            flags: 0,
            frame_size: 1 << 20,
            size: Some(12345),
            mode: 0o755,
            nonce: [9; 32],
        };
        let bytes = hello.to_bytes();
        let (back, raw) = ServerHello::read(&mut &bytes[..]).unwrap();
        assert_eq!(back, hello);
        assert_eq!(raw, bytes);
        let client = ClientHello {
            version: VERSION,
            flags: 0,
            nonce: [1; 32],
            resume_from: 7,
            proof: [2; 32],
        };
        let mut buf = Vec::new();
        client.write(&mut buf).unwrap();
        assert_eq!(ClientHello::read(&mut &buf[..]).unwrap(), client);
    }

    #[test]
    fn messages_round_trip_and_verify() {
        let session = Keys::new(Some(b"s")).session(&[1; 32], &[2; 32]);
        let digest = [5; 32];
        let header = FrameHeader {
            index: 3,
            offset: 3 << 20,
            raw_len: 100,
            codec: Codec::Zstd,
            wire_len: 50,
            digest,
            mac: session.frame_mac(3, 3 << 20, 100, &digest),
        };
        let bytes = header.to_bytes();
        let Message::Frame(back) = read_message(&mut &bytes[..], 1 << 20).unwrap() else {
            panic!("a frame")
        };
        assert!(back.verify(&session));
        let mut moved = back.clone();
        moved.offset += 1;
        assert!(!moved.verify(&session), "a moved frame fails");
        let end = End {
            total_len: 9,
            frames: 1,
            sha256: [3; 32],
            mac: session.end_mac(9, 1, &[3; 32]),
        };
        let Message::End(back) = read_message(&mut &end.to_bytes()[..], 1).unwrap() else {
            panic!("an end")
        };
        assert!(back.verify(&session));
        let other = Keys::new(Some(b"t")).session(&[1; 32], &[2; 32]);
        assert!(!back.verify(&other), "another secret fails");
    }

    #[test]
    fn bounds_are_enforced_before_allocation() {
        let header = FrameHeader {
            index: 0,
            offset: 0,
            raw_len: 2 << 20,
            codec: Codec::None,
            wire_len: 2 << 20,
            digest: [0; 32],
            mac: [0; 32],
        };
        let err = read_message(&mut &header.to_bytes()[..], 1 << 20).unwrap_err();
        assert!(err.to_string().contains("outside 1..=1048576"), "{err}");
        let mut wide = header.clone();
        wide.raw_len = 10;
        wide.wire_len = 1 << 30;
        assert!(read_message(&mut &wide.to_bytes()[..], 1 << 20).is_err());
        let mut bytes = vec![TYPE_ERROR, 0, 1];
        bytes.extend_from_slice(&5000u16.to_be_bytes());
        assert!(read_message(&mut &bytes[..], 1).is_err());
        // An ERROR in place of the hello is the producer's reason.
        let mut refused = Vec::new();
        ErrorMessage {
            code: ErrorCode::Source,
            message: "failed to read dist".to_owned(),
        }
        .write(&mut refused)
        .unwrap();
        assert!(matches!(
            ServerHello::read(&mut &refused[..]),
            Err(WireError::Remote { code: ErrorCode::Source, ref message }) if message == "failed to read dist"
        ));
        let mut bad = ServerHello {
            version: 2,
            flags: 0,
            frame_size: 1,
            size: None,
            mode: 0,
            nonce: [0; 32],
        }
        .to_bytes();
        assert!(matches!(
            ServerHello::read(&mut &bad[..]),
            Err(WireError::Version { theirs: 2, ours: 1 })
        ));
        bad[0] = b'X';
        assert!(matches!(
            ServerHello::read(&mut &bad[..]),
            Err(WireError::Magic(_))
        ));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = read_message(&mut &bytes[..], 1 << 20);
            let _ = ServerHello::read(&mut &bytes[..]);
            let _ = ClientHello::read(&mut &bytes[..]);
        }
    }
}
