//! The wire protocol of `art-stream` and `art-consume`, described in
//! `docs/PROTOCOL.md`.
//!
//! A producer serves one artifact to many consumers over TCP. The artifact
//! is cut into frames that are compressed and digested independently, so a
//! consumer can resume from any frame and check each one as it arrives. A
//! shared secret authenticates both ends (HMAC-SHA256 challenge-response:
//! the secret never crosses the wire) and the `END` message, which carries
//! the length and SHA-256 of the whole content.
//!
//! ```
//! use slipway_wire::{Codec, Keys, compress, decompress, frame_digest};
//!
//! let data = b"hello hello hello hello hello hello".repeat(100);
//! let (codec, wire) = compress(Codec::Zstd, 1, &data)?.expect("text compresses");
//! let mut out = Vec::new();
//! decompress(codec, &wire, data.len(), &mut out)?;
//! assert_eq!(out, data);
//!
//! // Both ends derive the same session key from the secret and two nonces.
//! let keys = Keys::new(Some(b"repository secret"));
//! let session = keys.session(&[1; 32], &[2; 32]);
//! let digest = frame_digest(&data);
//! assert_eq!(session.frame_mac(0, 0, data.len() as u32, &digest), session.frame_mac(0, 0, data.len() as u32, &digest));
//! # Ok::<(), slipway_wire::WireError>(())
//! ```

mod auth;
mod codec;
#[cfg(test)]
mod golden;
mod message;
mod store;

pub use auth::{Keys, SECRET_ENV, SecretError, Session, load_keys, random_nonce};
pub use codec::{Codec, compress, decompress, frame_digest, max_wire_len};
pub use message::{
    Ack, ClientHello, End, ErrorCode, ErrorMessage, FrameHeader, Message, ServerAuth, ServerHello,
    read_message,
};
pub use store::{
    ANNOUNCEMENT_VERSION, Announcement, INDEX_VERSION, Index, IndexEntry, MAX_ADDRESSES,
    MAX_ANNOUNCEMENT_LEN, MAX_INDEX_LEN, zstd_raw_frame,
};

/// `SLWY`: the first bytes of both hellos.
pub const MAGIC: [u8; 4] = *b"SLWY";
/// The protocol version. Peers of different versions refuse each other
/// with [`ErrorCode::Version`]; see `docs/PROTOCOL.md` for the rule.
pub const VERSION: u16 = 1;
/// The largest uncompressed frame either side accepts.
pub const MAX_FRAME_SIZE: u32 = 16 << 20;
/// The frame size a producer uses unless told otherwise.
pub const DEFAULT_FRAME_SIZE: u32 = 1 << 20;
/// The longest error text either side accepts.
pub const MAX_ERROR_LEN: usize = 1024;
/// Hello flag: the sender has no secret (`--insecure`).
pub const FLAG_INSECURE: u16 = 1;
/// Client hello flag: the consumer found the producer through its
/// announcement in a store, and takes only a producer whose proof covers
/// the announcement's nonce.
pub const FLAG_ANNOUNCED: u16 = 2;
/// A SHA-256 digest or an HMAC-SHA256 tag.
pub type Digest = [u8; 32];

pub use slipway_cli::hex;

/// 64 hexadecimal digits as 32 bytes.
#[must_use]
pub fn unhex32(text: &str) -> Option<Digest> {
    let text = text.trim();
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// A protocol violation or an I/O failure on the connection.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("connection failed")]
    Io(#[from] std::io::Error),
    #[error("the peer does not speak this protocol (bad magic {0:02x?})")]
    Magic([u8; 4]),
    #[error("the peer speaks protocol version {theirs}, this side {ours}")]
    Version { theirs: u16, ours: u16 },
    #[error("protocol violation: {0}")]
    Protocol(String),
    #[error("the peer reported an error ({code}): {message}")]
    Remote { code: ErrorCode, message: String },
    #[error("frame {index} failed verification: {what}")]
    Corrupt { index: u64, what: &'static str },
    #[error("{codec} data could not be decoded: {message}")]
    Codec { codec: Codec, message: String },
}
