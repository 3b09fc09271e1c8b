//! Whether a consumer's link is waiting for us: what its socket holds that
//! the consumer has not acknowledged (`SIOCOUTQ`: not sent yet, or on its
//! way, in a queue of the path included). With less than a frame there, a
//! frame the compressor has not reached yet goes raw rather than leave the
//! link idle; with more, the link is the bottleneck and the compressed
//! frame is worth the wait. (Bytes merely unsent, `SIOCOUTQNSD`, miss a
//! link whose queue is in a shaper or a device: TCP hands up to 4 MiB on.)

use std::net::TcpStream;

/// Bytes written to `socket` that the peer has not acknowledged yet, if
/// the kernel says.
#[expect(
    unsafe_code,
    reason = "rustix has no safe wrapper for SIOCOUTQ; the call below is sound"
)]
pub(crate) fn queued(socket: &TcpStream) -> Option<usize> {
    // asm-generic/ioctls.h (TIOCOUTQ): a TCP socket's unacknowledged bytes.
    const SIOCOUTQ: rustix::ioctl::Opcode = 0x5411;
    // SAFETY: for a TCP socket, SIOCOUTQ writes exactly one `int`
    // through its argument: the Getter's output type, which it reads back.
    let queued = unsafe {
        let getter = rustix::ioctl::Getter::<SIOCOUTQ, std::ffi::c_int>::new();
        rustix::ioctl::ioctl(socket, getter)
    }
    .ok()?;
    usize::try_from(queued).ok()
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;
    use std::net::{TcpListener, TcpStream};

    use super::queued;

    #[test]
    fn a_peer_that_does_not_read_leaves_bytes_queued() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (_server, _) = listener.accept().unwrap();
        assert_eq!(queued(&client), Some(0));
        // More than the peer's receive window: the rest waits here.
        client.set_nonblocking(true).unwrap();
        let chunk = vec![0; 1 << 20];
        for _ in 0..64 {
            if client.write(&chunk).is_err() {
                break;
            }
        }
        assert!(queued(&client).is_some_and(|n| n > 0));
    }
}
