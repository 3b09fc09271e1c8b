//! Keys and tags. Every tag is HMAC-SHA256 with a label that says what it
//! covers, so a tag made for one purpose never verifies for another.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::Digest;

type HmacSha256 = Hmac<Sha256>;

/// The shared secret, or none (`--insecure`: tags still computed, with an
/// empty key, so they only catch accidents, not attackers).
#[derive(Clone)]
pub struct Keys {
    secret: Vec<u8>,
    insecure: bool,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("insecure", &self.insecure)
            .finish_non_exhaustive()
    }
}

impl Keys {
    #[must_use]
    pub fn new(secret: Option<&[u8]>) -> Keys {
        Keys {
            secret: secret.unwrap_or_default().to_vec(),
            insecure: secret.is_none(),
        }
    }

    #[must_use]
    pub fn insecure(&self) -> bool {
        self.insecure
    }

    /// The consumer's proof that it holds the secret, over everything the
    /// producer said in its hello and the consumer's own nonce.
    #[must_use]
    pub fn client_proof(
        &self,
        server_hello: &[u8],
        client_nonce: &Digest,
        resume_from: u64,
    ) -> Digest {
        tag(
            &self.secret,
            b"slipway/1 client",
            &[server_hello, client_nonce, &resume_from.to_be_bytes()],
        )
    }

    /// Whether `proof` is the consumer's proof for these fields (constant time).
    #[must_use]
    pub fn verify_client_proof(
        &self,
        server_hello: &[u8],
        client_nonce: &Digest,
        resume_from: u64,
        proof: &Digest,
    ) -> bool {
        same(
            &self.client_proof(server_hello, client_nonce, resume_from),
            proof,
        )
    }

    /// Whether `proof` is the producer's proof for these nonces (constant time).
    #[must_use]
    pub fn verify_server_proof(
        &self,
        server_nonce: &Digest,
        client_nonce: &Digest,
        proof: &Digest,
    ) -> bool {
        same(&self.server_proof(server_nonce, client_nonce), proof)
    }

    /// The producer's proof, over both nonces.
    #[must_use]
    pub fn server_proof(&self, server_nonce: &Digest, client_nonce: &Digest) -> Digest {
        tag(
            &self.secret,
            b"slipway/1 server",
            &[server_nonce, client_nonce],
        )
    }

    /// The producer's proof to a consumer that found it through its
    /// announcement: over both nonces and the announcement's nonce, so only
    /// the producer that wrote that announcement can make it.
    #[must_use]
    pub fn announced_server_proof(
        &self,
        server_nonce: &Digest,
        client_nonce: &Digest,
        announcement_nonce: &Digest,
    ) -> Digest {
        tag(
            &self.secret,
            b"slipway/1 announced server",
            &[server_nonce, client_nonce, announcement_nonce],
        )
    }

    /// Whether `proof` is the announced producer's proof (constant time).
    #[must_use]
    pub fn verify_announced_server_proof(
        &self,
        server_nonce: &Digest,
        client_nonce: &Digest,
        announcement_nonce: &Digest,
        proof: &Digest,
    ) -> bool {
        same(
            &self.announced_server_proof(server_nonce, client_nonce, announcement_nonce),
            proof,
        )
    }

    /// The key of the stored copy and its index, from the secret and the
    /// announcement's nonce: a copy verifies only against the announcement
    /// of the producer that wrote it.
    #[must_use]
    pub fn store_session(&self, announcement_nonce: &Digest) -> Session {
        Session {
            key: tag(&self.secret, b"slipway/1 store", &[announcement_nonce]),
        }
    }

    /// The key of one connection, from the secret and both nonces.
    #[must_use]
    pub fn session(&self, server_nonce: &Digest, client_nonce: &Digest) -> Session {
        Session {
            key: tag(
                &self.secret,
                b"slipway/1 session",
                &[server_nonce, client_nonce],
            ),
        }
    }
}

/// The key of one connection: it authenticates frames, the end and the ack.
#[derive(Clone)]
pub struct Session {
    key: Digest,
}

impl Session {
    #[must_use]
    pub fn frame_mac(&self, index: u64, offset: u64, raw_len: u32, digest: &Digest) -> Digest {
        tag(
            &self.key,
            b"frame",
            &[
                &index.to_be_bytes(),
                &offset.to_be_bytes(),
                &raw_len.to_be_bytes(),
                digest,
            ],
        )
    }

    #[must_use]
    pub fn end_mac(&self, total_len: u64, frames: u64, sha256: &Digest) -> Digest {
        tag(
            &self.key,
            b"end",
            &[&total_len.to_be_bytes(), &frames.to_be_bytes(), sha256],
        )
    }

    /// The tag over a stored index's header fields.
    #[must_use]
    pub fn index_mac(&self, frame_size: u32, mode: u32, frames: u64) -> Digest {
        tag(
            &self.key,
            b"index",
            &[
                &frame_size.to_be_bytes(),
                &mode.to_be_bytes(),
                &frames.to_be_bytes(),
            ],
        )
    }

    #[must_use]
    pub fn ack_mac(&self, sha256: &Digest) -> Digest {
        tag(&self.key, b"ack", &[sha256])
    }
}

/// Compares two tags in constant time.
#[must_use]
pub(crate) fn same(a: &Digest, b: &Digest) -> bool {
    use subtle::ConstantTimeEq as _;
    bool::from(a.ct_eq(b))
}

fn tag(key: &[u8], label: &[u8], parts: &[&[u8]]) -> Digest {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(label);
    for part in parts {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// A fresh challenge nonce: 32 random bytes from the operating system.
#[must_use]
pub fn random_nonce() -> Digest {
    slipway_cli::random_bytes()
}

impl Session {
    /// Whether `tag` is the frame tag for these fields.
    #[must_use]
    pub fn verify_frame(
        &self,
        index: u64,
        offset: u64,
        raw_len: u32,
        digest: &Digest,
        tag: &Digest,
    ) -> bool {
        same(&self.frame_mac(index, offset, raw_len, digest), tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_depend_on_the_secret_the_label_and_every_field() {
        let a = Keys::new(Some(b"one"));
        let b = Keys::new(Some(b"two"));
        let (s, c) = ([1; 32], [2; 32]);
        assert_ne!(a.server_proof(&s, &c), b.server_proof(&s, &c));
        assert_ne!(a.server_proof(&s, &c), a.server_proof(&c, &s));
        let session = a.session(&s, &c);
        assert_ne!(
            session.frame_mac(0, 0, 1, &[0; 32]),
            session.frame_mac(1, 0, 1, &[0; 32])
        );
        assert_ne!(
            session.end_mac(1, 1, &[0; 32])[..],
            session.ack_mac(&[0; 32])[..]
        );
        assert!(same(&[7; 32], &[7; 32]));
        assert!(!same(&[7; 32], &[8; 32]));
        assert!(Keys::new(None).insecure());
    }
}

/// The environment variable both tools read the shared secret from.
pub const SECRET_ENV: &str = "ART_STREAM_SECRET";

/// Why no keys could be had.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("no shared secret: {SECRET_ENV} is not set and no secret file was given")]
    Missing,
    #[error("failed to read the secret file {path}")]
    Read {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the secret in {0} is empty")]
    Empty(String),
}

/// The keys from `--secret-file`, else `ART_STREAM_SECRET`, else none when
/// `insecure` allows it. Trailing newlines in a file are not part of the
/// secret.
pub fn load_keys(
    secret_file: Option<&std::path::Path>,
    insecure: bool,
) -> Result<Keys, SecretError> {
    let secret = if let Some(path) = secret_file {
        let text = std::fs::read(path).map_err(|source| SecretError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let end = text
            .iter()
            .rposition(|&b| b != b'\n' && b != b'\r')
            .map_or(0, |i| i + 1);
        if end == 0 {
            return Err(SecretError::Empty(path.display().to_string()));
        }
        Some(text[..end].to_vec())
    } else {
        match std::env::var_os(SECRET_ENV) {
            Some(value) if value.is_empty() => {
                return Err(SecretError::Empty(SECRET_ENV.to_owned()));
            }
            Some(value) => Some(value.into_encoded_bytes()),
            None => None,
        }
    };
    match secret {
        Some(secret) => Ok(Keys::new(Some(&secret))),
        None if insecure => Ok(Keys::new(None)),
        None => Err(SecretError::Missing),
    }
}
