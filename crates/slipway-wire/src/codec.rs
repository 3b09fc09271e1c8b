//! Frame codecs. Each frame is compressed on its own, so frames can be
//! made in parallel and a consumer can resume at any frame.

use std::fmt;
use std::io::{Read, Write};

use crate::{Digest, WireError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Codec {
    None = 0,
    Zstd = 1,
    Gzip = 2,
}

impl Codec {
    pub(crate) fn from_byte(byte: u8) -> Option<Codec> {
        match byte {
            0 => Some(Codec::None),
            1 => Some(Codec::Zstd),
            2 => Some(Codec::Gzip),
            _ => None,
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Codec::None => "none",
            Codec::Zstd => "zstd",
            Codec::Gzip => "gzip",
        })
    }
}

/// The digest of a frame's uncompressed bytes: BLAKE3, three to four times
/// faster than SHA-256 here, which matters when producer and consumer share
/// two cores. (The whole content's digest in `END` is SHA-256, the digest
/// people compare out of band.)
#[must_use]
pub fn frame_digest(raw: &[u8]) -> Digest {
    *blake3::hash(raw).as_bytes()
}

/// The largest compressed size a frame of `raw_len` bytes may have on the
/// wire: incompressible data is sent raw, so a little over the raw size.
#[must_use]
pub fn max_wire_len(raw_len: u32) -> u32 {
    raw_len.saturating_add(raw_len / 64).saturating_add(1024)
}

/// Compresses one frame, or returns `None` when it is not worth it: a
/// frame that does not shrink by at least 3% is sent raw (already
/// compressed or random data), and the consumer spends no time decoding it.
/// A large frame is first tried on its first 64 KiB, so incompressible data
/// costs little.
pub fn compress(
    codec: Codec,
    level: i32,
    raw: &[u8],
) -> Result<Option<(Codec, Vec<u8>)>, WireError> {
    const PROBE: usize = 64 * 1024;
    if codec == Codec::None {
        return Ok(None);
    }
    if raw.len() > 2 * PROBE && !shrinks(&pack(codec, level, &raw[..PROBE])?, PROBE) {
        return Ok(None);
    }
    let packed = pack(codec, level, raw)?;
    Ok(shrinks(&packed, raw.len()).then_some((codec, packed)))
}

fn shrinks(packed: &[u8], raw_len: usize) -> bool {
    (packed.len() as u64) * 100 < raw_len as u64 * 97
}

fn pack(codec: Codec, level: i32, raw: &[u8]) -> Result<Vec<u8>, WireError> {
    match codec {
        Codec::None => Ok(raw.to_vec()),
        Codec::Zstd => zstd::bulk::compress(raw, level).map_err(|err| WireError::Codec {
            codec,
            message: err.to_string(),
        }),
        Codec::Gzip => {
            let level = u32::try_from(level.clamp(1, 9)).unwrap_or(1);
            let mut encoder = flate2::write::GzEncoder::new(
                Vec::with_capacity(raw.len() / 2),
                flate2::Compression::new(level),
            );
            encoder.write_all(raw)?;
            Ok(encoder.finish()?)
        }
    }
}

/// Decodes one frame into `out` (cleared first), refusing more than
/// `raw_len` bytes of output: a peer cannot make it allocate more.
pub fn decompress(
    codec: Codec,
    wire: &[u8],
    raw_len: usize,
    out: &mut Vec<u8>,
) -> Result<(), WireError> {
    out.clear();
    let error = |message: String| WireError::Codec { codec, message };
    match codec {
        Codec::None => out.extend_from_slice(wire),
        Codec::Zstd => {
            out.reserve(raw_len);
            let mut decoder = zstd::bulk::Decompressor::new().map_err(|e| error(e.to_string()))?;
            let n = decoder
                .decompress_to_buffer(wire, out)
                .map_err(|e| error(e.to_string()))?;
            out.truncate(n);
        }
        Codec::Gzip => {
            let decoder = flate2::read::GzDecoder::new(wire);
            decoder
                .take(raw_len as u64 + 1)
                .read_to_end(out)
                .map_err(|e| error(e.to_string()))?;
        }
    }
    if out.len() != raw_len {
        return Err(error(format!(
            "decoded {} bytes, the header says {raw_len}",
            out.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
