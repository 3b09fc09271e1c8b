//! Reading input with a bound: everything a pull request or a peer
//! controls has a size limit, checked while reading, not after.

use std::io::Read;

/// Reads all of `reader` as UTF-8, at most `max` bytes. More is an
/// [`std::io::ErrorKind::FileTooLarge`] error that says the limit.
///
/// # Errors
///
/// What reading returns, invalid UTF-8, or more than `max` bytes.
pub fn read_bounded(reader: impl Read, max: u64) -> std::io::Result<String> {
    let mut text = String::new();
    let n = reader.take(max + 1).read_to_string(&mut text)?;
    if n as u64 > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("larger than the limit of {max} bytes"),
        ));
    }
    Ok(text)
}

/// [`read_bounded`] of the file at `path`.
///
/// # Errors
///
/// As [`read_bounded`], and when the file cannot be opened.
pub fn read_file_bounded(path: &std::path::Path, max: u64) -> std::io::Result<String> {
    read_bounded(std::fs::File::open(path)?, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_is_exact() {
        assert_eq!(read_bounded(&b"abcd"[..], 4).unwrap(), "abcd");
        let err = read_bounded(&b"abcde"[..], 4).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::FileTooLarge);
        assert_eq!(err.to_string(), "larger than the limit of 4 bytes");
    }
}
