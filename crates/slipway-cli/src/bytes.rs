//! Hexadecimal and random bytes, the two small helpers every tool needs
//! (digests people compare, nonces, client tokens, output delimiters).

use std::fmt::Write as _;

/// `bytes` as lower-case hexadecimal, the way people compare digests.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// `N` random bytes from the operating system.
///
/// # Panics
///
/// When the operating system has no randomness to give, which a machine
/// that can run these tools does not lack.
#[must_use]
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0; N];
    getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lower_case_and_two_digits_a_byte() {
        assert_eq!(hex(&[]), "");
        assert_eq!(hex(&[0, 1, 0xab, 0xff]), "0001abff");
    }

    #[test]
    fn random_bytes_differ_between_calls() {
        let (a, b) = (random_bytes::<16>(), random_bytes::<16>());
        assert_ne!(a, b, "16 random bytes repeated");
    }
}
