//! Whether a consumer's link is waiting for us: what its socket has not
//! sent yet (`SIOCOUTQNSD`). With next to nothing queued, a frame the
//! compressor has not reached yet goes raw rather than leave the link
//! idle; with a queue, the link is the bottleneck and the compressed frame
//! is worth the wait.

use std::net::TcpStream;

/// Bytes written to `socket` that the kernel has not sent yet, if it says.
#[expect(
    unsafe_code,
    reason = "rustix has no safe wrapper for SIOCOUTQNSD; the call below is sound"
)]
pub(crate) fn unsent(socket: &TcpStream) -> Option<usize> {
    // linux/sockios.h: the bytes in a TCP socket's send queue not sent yet.
    const SIOCOUTQNSD: rustix::ioctl::Opcode = 0x894b;
    // SAFETY: for a TCP socket, SIOCOUTQNSD writes exactly one `int`
    // through its argument: the Getter's output type, which it reads back.
    let unsent = unsafe {
        let getter = rustix::ioctl::Getter::<SIOCOUTQNSD, std::ffi::c_int>::new();
        rustix::ioctl::ioctl(socket, getter)
    }
    .ok()?;
    usize::try_from(unsent).ok()
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;
    use std::net::{TcpListener, TcpStream};

    use super::unsent;

    #[test]
    fn a_peer_that_does_not_read_leaves_bytes_unsent() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (_server, _) = listener.accept().unwrap();
        assert_eq!(unsent(&client), Some(0));
        // More than the peer's receive window: the rest waits here.
        client.set_nonblocking(true).unwrap();
        let chunk = vec![0; 1 << 20];
        for _ in 0..64 {
            if client.write(&chunk).is_err() {
                break;
            }
        }
        assert!(unsent(&client).is_some_and(|n| n > 0));
    }
}
