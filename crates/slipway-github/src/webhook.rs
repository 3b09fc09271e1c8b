//! GitHub webhook deliveries: the `X-Hub-Signature-256` check and the
//! `workflow_job` event, as a receiver reads them.
//!
//! A delivery is signed `sha256=HEX(HMAC-SHA256(secret, body))`. The check
//! runs over the raw body before anything parses it, compares in constant
//! time, and tells a missing signature from a wrong one only in the log.

use std::fmt::Write as _;

use hmac::{Hmac, Mac as _};
use serde::Deserialize;
use sha2::Sha256;

use crate::Job;

/// Why a delivery's signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no X-Hub-Signature-256 header")]
    Missing,
    #[error("X-Hub-Signature-256 is not `sha256=` and 64 hex digits")]
    Malformed,
    #[error("X-Hub-Signature-256 does not match the body (wrong secret, or the body was changed)")]
    Mismatch,
}

/// Checks `header` (the `X-Hub-Signature-256` value, if any) against
/// `body` signed with `secret`.
///
/// ```
/// // GitHub's documented example.
/// slipway_github::webhook::verify(
///     b"It's a Secret to Everybody",
///     b"Hello, World!",
///     Some("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"),
/// )
/// .unwrap();
/// ```
pub fn verify(secret: &[u8], body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let hex = header
        .trim()
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    let expected = decode_hex(hex).ok_or(SignatureError::Malformed)?;
    let mut mac = mac(secret);
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// The `X-Hub-Signature-256` value GitHub would send for `body`.
#[must_use]
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::from("sha256=");
    for b in digest {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    Hmac::<Sha256>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("any key length"))
}

fn decode_hex(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let digit = |c: u8| char::from(c).to_digit(16);
        out[i] = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()?;
    }
    Some(out)
}

/// A `workflow_job` delivery: what happened to which job, in which
/// repository.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkflowJobEvent {
    /// `queued`, `waiting`, `in_progress` or `completed`.
    pub action: String,
    pub workflow_job: Job,
    pub repository: Option<Repository>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Repository {
    /// `owner/name`.
    pub full_name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"It's a Secret to Everybody";
    const EXAMPLE: &str = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    #[test]
    fn githubs_example_signature_verifies_and_signs() {
        assert_eq!(verify(SECRET, b"Hello, World!", Some(EXAMPLE)), Ok(()));
        assert_eq!(sign(SECRET, b"Hello, World!"), EXAMPLE);
        assert_eq!(
            verify(
                SECRET,
                b"Hello, World!",
                Some(&EXAMPLE.to_uppercase().replace("SHA256", "sha256"))
            ),
            Ok(()),
            "hex digits in either case"
        );
    }

    #[test]
    fn wrong_missing_or_malformed_signatures_are_refused() {
        assert_eq!(
            verify(b"another secret", b"Hello, World!", Some(EXAMPLE)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(SECRET, b"Hello, World?", Some(EXAMPLE)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(verify(SECRET, b"x", None), Err(SignatureError::Missing));
        for bad in [
            "757107ea",
            "sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            "sha256=zz",
            "sha256=",
        ] {
            assert_eq!(
                verify(SECRET, b"Hello, World!", Some(bad)),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }
}
