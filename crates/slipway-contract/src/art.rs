//! The one-line JSON summaries `art-stream` and `art-consume` print when
//! a transfer ends.

use serde::{Deserialize, Serialize};

/// The version of [`StreamSummary`] and [`ConsumeSummary`].
pub const ART_SUMMARY_VERSION: u32 = 1;

/// `art-stream`: what it served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StreamSummary {
    /// The artifact's bytes (the tar's, for a directory).
    pub bytes: u64,
    /// Consumers that verified the whole artifact.
    pub consumers: u64,
    pub frames: u64,
    /// `bytes` over `seconds`, in MB/s, to one decimal.
    pub mb_per_s: f64,
    /// To the millisecond.
    pub seconds: f64,
    /// The whole content's SHA-256, in hexadecimal.
    pub sha256: String,
    /// Bytes of the fallback copy written to the store, with `--store`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored_bytes: Option<u64>,
    /// [`ART_SUMMARY_VERSION`].
    pub version: u32,
    /// Compressed bytes of one copy of the stream.
    pub wire_bytes: u64,
}

/// `art-consume`: what it received and verified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ConsumeSummary {
    pub bytes: u64,
    /// With `--extract`, the entries unpacked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entries: Option<u64>,
    pub mb_per_s: f64,
    /// Reconnections that resumed from the last verified frame.
    pub resumes: u64,
    pub seconds: f64,
    pub sha256: String,
    /// Bytes that came from the store's fallback copy.
    pub store_bytes: u64,
    /// Bytes that came from the producer over TCP.
    pub stream_bytes: u64,
    /// [`ART_SUMMARY_VERSION`].
    pub version: u32,
    pub wire_bytes: u64,
}
