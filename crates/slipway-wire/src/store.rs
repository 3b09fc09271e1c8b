//! What a producer writes to a store (`docs/PROTOCOL.md`, "The store"): its
//! announcement, and the index of its fallback copy. The copy itself is a
//! standard zstd stream, one zstd frame per protocol frame, so any zstd
//! decoder reads it; [`zstd_raw_frame`] wraps the frames sent raw.

use std::net::IpAddr;

use crate::message::{be_u32, be_u64, bytes32};
use crate::{Digest, MAX_FRAME_SIZE, Session, WireError, max_wire_len};

/// The announcement's format version.
pub const ANNOUNCEMENT_VERSION: u64 = 1;
/// The index's format version.
pub const INDEX_VERSION: u16 = 1;
/// The largest announcement a consumer reads.
pub const MAX_ANNOUNCEMENT_LEN: u64 = 16 * 1024;
/// The most addresses an announcement may list.
pub const MAX_ADDRESSES: usize = 32;
/// The largest index a consumer reads: 64 MiB is some 760,000 frames, 760
/// GiB at the default frame size.
pub const MAX_INDEX_LEN: u64 = 64 << 20;
/// `SLWX`: the first bytes of an index.
pub(crate) const INDEX_MAGIC: [u8; 4] = *b"SLWX";

/// A producer's announcement: where it listens, and the nonce its
/// handshake must prove. It holds no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// The run, as the store's key has it (`RUN_ID/ATTEMPT` or `--run-id`).
    pub run: String,
    pub name: String,
    /// Where the producer can be reached, each with the port to use.
    pub addresses: Vec<(IpAddr, u16)>,
    pub nonce: Digest,
    /// Seconds since the Unix epoch.
    pub created_at: u64,
    /// After this, consumers do not try to connect (the producer may be
    /// gone): they read the copy.
    pub expires_at: u64,
    /// Who wrote it (host and process), for error messages.
    pub producer: String,
    /// Whether the producer writes the fallback copy (`--no-mirror` not given).
    pub mirror: bool,
}

impl Announcement {
    #[must_use]
    pub fn to_json(&self) -> String {
        let addresses: Vec<String> = self
            .addresses
            .iter()
            .map(|(ip, port)| std::net::SocketAddr::new(*ip, *port).to_string())
            .collect();
        let value = serde_json::json!({
            "slipway_announcement": ANNOUNCEMENT_VERSION,
            "run": self.run,
            "name": self.name,
            "addresses": addresses,
            "nonce": crate::hex(&self.nonce),
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "producer": self.producer,
            "mirror": self.mirror,
        });
        format!("{value}\n")
    }

    /// Parses an announcement read from a store (at most
    /// [`MAX_ANNOUNCEMENT_LEN`] bytes), checking every field.
    pub fn parse(bytes: &[u8]) -> Result<Announcement, WireError> {
        let bad = |what: &str| WireError::Protocol(format!("the announcement {what}"));
        if bytes.len() as u64 > MAX_ANNOUNCEMENT_LEN {
            return Err(bad("is too large"));
        }
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| bad(&format!("is not JSON: {e}")))?;
        let version = value["slipway_announcement"]
            .as_u64()
            .ok_or_else(|| bad("has no format version"))?;
        if version != ANNOUNCEMENT_VERSION {
            return Err(bad(&format!(
                "has format version {version}; this side reads {ANNOUNCEMENT_VERSION}"
            )));
        }
        let text = |key: &str| {
            value[key]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| bad(&format!("has no {key:?}")))
        };
        let number = |key: &str| {
            value[key]
                .as_u64()
                .ok_or_else(|| bad(&format!("has no {key:?}")))
        };
        let list = value["addresses"]
            .as_array()
            .ok_or_else(|| bad("has no addresses"))?;
        if list.is_empty() || list.len() > MAX_ADDRESSES {
            return Err(bad(&format!(
                "lists {} addresses (1 to {MAX_ADDRESSES})",
                list.len()
            )));
        }
        let addresses = list
            .iter()
            .map(|a| {
                a.as_str()
                    .and_then(|s| s.parse::<std::net::SocketAddr>().ok())
                    .map(|s| (s.ip(), s.port()))
                    .ok_or_else(|| bad(&format!("has a bad address {a}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let nonce = crate::unhex32(&text("nonce")?).ok_or_else(|| bad("has a bad nonce"))?;
        Ok(Announcement {
            run: text("run")?,
            name: text("name")?,
            addresses,
            nonce,
            created_at: number("created_at")?,
            expires_at: number("expires_at")?,
            producer: text("producer")?,
            mirror: value["mirror"].as_bool().unwrap_or(false),
        })
    }
}

/// One frame of the stored copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    /// Where the frame's zstd frame starts in the stored object.
    pub stored_at: u64,
    pub stored_len: u32,
    /// Where its bytes start in the content.
    pub offset: u64,
    pub raw_len: u32,
    pub digest: Digest,
    /// The frame tag under the store session.
    pub mac: Digest,
}

/// The index of a complete stored copy: what each frame is, and the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub frame_size: u32,
    pub mode: u32,
    pub frames: Vec<IndexEntry>,
    pub total_len: u64,
    pub sha256: Digest,
}

const INDEX_HEADER_LEN: usize = 4 + 2 + 2 + 4 + 4 + 8;
const INDEX_ENTRY_LEN: usize = 8 + 4 + 8 + 4 + 32 + 32;
const INDEX_END_LEN: usize = 8 + 32 + 32 + 32;

impl Index {
    /// The index's bytes; tags are made with `session`, the store session
    /// of the announcement's nonce.
    #[must_use]
    pub fn to_bytes(&self, session: &Session) -> Vec<u8> {
        let mut b =
            Vec::with_capacity(INDEX_HEADER_LEN + self.frames.len() * INDEX_ENTRY_LEN + 112);
        b.extend_from_slice(&INDEX_MAGIC);
        b.extend_from_slice(&INDEX_VERSION.to_be_bytes());
        b.extend_from_slice(&0u16.to_be_bytes());
        b.extend_from_slice(&self.frame_size.to_be_bytes());
        b.extend_from_slice(&self.mode.to_be_bytes());
        b.extend_from_slice(&(self.frames.len() as u64).to_be_bytes());
        for f in &self.frames {
            b.extend_from_slice(&f.stored_at.to_be_bytes());
            b.extend_from_slice(&f.stored_len.to_be_bytes());
            b.extend_from_slice(&f.offset.to_be_bytes());
            b.extend_from_slice(&f.raw_len.to_be_bytes());
            b.extend_from_slice(&f.digest);
            b.extend_from_slice(&f.mac);
        }
        let frames = self.frames.len() as u64;
        b.extend_from_slice(&self.total_len.to_be_bytes());
        b.extend_from_slice(&self.sha256);
        b.extend_from_slice(&session.end_mac(self.total_len, frames, &self.sha256));
        b.extend_from_slice(&session.index_mac(self.frame_size, self.mode, frames));
        b
    }

    /// Parses and authenticates an index: its header and end tags must
    /// verify under `session`, the frames must tile the content in order,
    /// and every length must be within the protocol's bounds. (Each frame's
    /// own tag is checked when the frame is read.)
    pub fn parse(bytes: &[u8], session: &Session) -> Result<Index, WireError> {
        let bad = |what: String| WireError::Protocol(format!("the stored index {what}"));
        if bytes.len() as u64 > MAX_INDEX_LEN {
            return Err(bad(format!("is over {MAX_INDEX_LEN} bytes")));
        }
        if bytes.len() < INDEX_HEADER_LEN + INDEX_END_LEN {
            return Err(bad(format!("is {} bytes, too short", bytes.len())));
        }
        if bytes[..4] != INDEX_MAGIC {
            return Err(bad("does not start with SLWX".to_owned()));
        }
        let version = u16::from_be_bytes([bytes[4], bytes[5]]);
        if version != INDEX_VERSION {
            return Err(bad(format!(
                "has version {version}; this side reads {INDEX_VERSION}"
            )));
        }
        let frame_size = be_u32(&bytes[8..12]);
        let mode = be_u32(&bytes[12..16]);
        let count = be_u64(&bytes[16..24]);
        if frame_size == 0 || frame_size > MAX_FRAME_SIZE {
            return Err(bad(format!("has frame size {frame_size}")));
        }
        let expected = u64::try_from(INDEX_HEADER_LEN + INDEX_END_LEN)
            .ok()
            .and_then(|fixed| {
                count
                    .checked_mul(INDEX_ENTRY_LEN as u64)?
                    .checked_add(fixed)
            });
        if expected != Some(bytes.len() as u64) {
            return Err(bad(format!(
                "lists {count} frames but is {} bytes",
                bytes.len()
            )));
        }
        let end = &bytes[bytes.len() - INDEX_END_LEN..];
        let total_len = be_u64(&end[..8]);
        let sha256 = bytes32(&end[8..40]);
        if !crate::auth::same(
            &session.end_mac(total_len, count, &sha256),
            &bytes32(&end[40..72]),
        ) || !crate::auth::same(
            &session.index_mac(frame_size, mode, count),
            &bytes32(&end[72..104]),
        ) {
            return Err(WireError::Corrupt {
                index: count,
                what: "the stored index's tags do not verify (another producer's copy, or changed)",
            });
        }
        let max_stored = u64::from(max_wire_len(frame_size)) + zstd_raw_overhead(frame_size);
        let mut frames = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
        let (mut offset, mut stored_at) = (0u64, 0u64);
        for (i, e) in bytes[INDEX_HEADER_LEN..bytes.len() - INDEX_END_LEN]
            .chunks_exact(INDEX_ENTRY_LEN)
            .enumerate()
        {
            let entry = IndexEntry {
                stored_at: be_u64(&e[..8]),
                stored_len: be_u32(&e[8..12]),
                offset: be_u64(&e[12..20]),
                raw_len: be_u32(&e[20..24]),
                digest: bytes32(&e[24..56]),
                mac: bytes32(&e[56..88]),
            };
            if entry.offset != offset
                || entry.stored_at != stored_at
                || entry.raw_len == 0
                || entry.raw_len > frame_size
                || u64::from(entry.stored_len) > max_stored
            {
                return Err(bad(format!("has an inconsistent frame {i}")));
            }
            offset += u64::from(entry.raw_len);
            stored_at += u64::from(entry.stored_len);
            frames.push(entry);
        }
        if offset != total_len {
            return Err(bad(format!(
                "frames cover {offset} bytes, its end says {total_len}"
            )));
        }
        Ok(Index {
            frame_size,
            mode,
            frames,
            total_len,
            sha256,
        })
    }
}

/// The bytes a zstd frame of raw blocks adds to `raw_len` bytes: the
/// header, and three bytes per 128 KiB block.
fn zstd_raw_overhead(raw_len: u32) -> u64 {
    4 + 1 + 4 + 3 * (u64::from(raw_len) / ZSTD_MAX_BLOCK as u64 + 1)
}

const ZSTD_MAX_BLOCK: usize = 128 * 1024;

/// `raw` as one zstd frame of raw (stored) blocks: what a frame sent
/// without compression becomes in the stored copy, so the object stays one
/// standard zstd stream. Costs a copy, no compression.
pub fn zstd_raw_frame(raw: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.reserve(raw.len() + 16 + raw.len() / ZSTD_MAX_BLOCK * 3);
    out.extend_from_slice(&0xFD2F_B528_u32.to_le_bytes());
    // Frame header descriptor: a 4-byte content size, single segment (so no
    // window descriptor: the window is the content), no checksum, no
    // dictionary. Our frames are at most 16 MiB, well within it.
    out.push(0b1010_0000);
    out.extend_from_slice(&u32::try_from(raw.len()).unwrap_or(u32::MAX).to_le_bytes());
    let mut blocks = raw.chunks(ZSTD_MAX_BLOCK).peekable();
    if blocks.peek().is_none() {
        // An empty frame: one empty last raw block.
        out.extend_from_slice(&[1, 0, 0]);
    }
    while let Some(block) = blocks.next() {
        let last = u32::from(blocks.peek().is_none());
        // Block header: last flag, type 0 (raw), size; 24 bits little-endian.
        let header = last | (u32::try_from(block.len()).unwrap_or(0) << 3);
        out.extend_from_slice(&header.to_le_bytes()[..3]);
        out.extend_from_slice(block);
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;
    use crate::{Codec, Keys, compress, decompress, frame_digest};

    fn sample(session: &Session) -> Index {
        let frames = (0..3u64)
            .map(|i| IndexEntry {
                stored_at: i * 100,
                stored_len: 100,
                offset: i * 4096,
                raw_len: 4096,
                digest: [u8::try_from(i).unwrap(); 32],
                mac: session.frame_mac(i, i * 4096, 4096, &[u8::try_from(i).unwrap(); 32]),
            })
            .collect();
        Index {
            frame_size: 4096,
            mode: 0o755,
            frames,
            total_len: 3 * 4096,
            sha256: [9; 32],
        }
    }

    #[test]
    fn an_index_round_trips_and_refuses_other_keys_and_changes() {
        let keys = Keys::new(Some(b"secret"));
        let session = keys.store_session(&[1; 32]);
        let index = sample(&session);
        let bytes = index.to_bytes(&session);
        assert_eq!(Index::parse(&bytes, &session).unwrap(), index);
        // Another announcement's nonce, or another secret: refused.
        assert!(Index::parse(&bytes, &keys.store_session(&[2; 32])).is_err());
        let other = Keys::new(Some(b"other")).store_session(&[1; 32]);
        assert!(Index::parse(&bytes, &other).is_err());
        // The mode, the size or a frame's place changed: refused.
        for at in [13, 20, 24 + 3] {
            let mut changed = bytes.clone();
            changed[at] ^= 1;
            assert!(Index::parse(&changed, &session).is_err(), "byte {at}");
        }
        assert!(Index::parse(&bytes[..bytes.len() - 1], &session).is_err());
        assert!(Index::parse(b"", &session).is_err());
    }

    #[test]
    fn announcements_round_trip_and_bad_ones_are_named() {
        let a = Announcement {
            run: "123/2".to_owned(),
            name: "dist".to_owned(),
            addresses: vec![
                ("10.0.0.5".parse().unwrap(), 7000),
                ("fd00::1".parse().unwrap(), 7000),
            ],
            nonce: [7; 32],
            created_at: 1,
            expires_at: 2,
            producer: "build-1 pid 42".to_owned(),
            mirror: true,
        };
        assert_eq!(Announcement::parse(a.to_json().as_bytes()).unwrap(), a);
        let text = a
            .to_json()
            .replace("\"slipway_announcement\":1", "\"slipway_announcement\":9");
        let err = Announcement::parse(text.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains("format version 9"), "{err}");
        assert!(Announcement::parse(b"{").is_err());
        assert!(Announcement::parse(&vec![b' '; 20_000]).is_err());
    }

    #[test]
    fn stored_frames_are_one_standard_zstd_stream() {
        let text = b"text that compresses well ".repeat(10_000);
        let noise: Vec<u8> = (0..300_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13).to_le_bytes()[0])
            .collect();
        let (codec, packed) = compress(Codec::Zstd, 1, &text).unwrap().unwrap();
        assert_eq!(codec, Codec::Zstd);
        let mut raw = Vec::new();
        zstd_raw_frame(&noise, &mut raw);
        assert!(raw.len() as u64 <= noise.len() as u64 + zstd_raw_overhead(300_000));
        let mut empty = Vec::new();
        zstd_raw_frame(&[], &mut empty);
        let object = [&packed[..], &raw, &empty, &packed].concat();
        let mut decoded = Vec::new();
        zstd::stream::read::Decoder::new(&object[..])
            .unwrap()
            .read_to_end(&mut decoded)
            .unwrap();
        assert_eq!(decoded, [&text[..], &noise, &text].concat());
        // Each frame also decodes on its own, as a consumer reads it.
        let mut one = Vec::new();
        decompress(Codec::Zstd, &raw, noise.len(), &mut one).unwrap();
        assert_eq!(frame_digest(&one), frame_digest(&noise));
    }
}
