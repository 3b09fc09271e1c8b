//! The server against raw TCP clients, as a hostile or broken client
//! would talk to it: no peer exists for this (a hand-written client is the
//! point), so the requests are written byte by byte here.

use std::cell::Cell;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::{Counts, Limits, Request, Response, serve};

/// Runs the server on a thread of its own (a current-thread runtime and a
/// `LocalSet`, as `serve` does), echoing each request; a request to
/// `/panic` panics in its handler. Returns its address and counts.
fn start(limits: Limits) -> (SocketAddr, std::sync::mpsc::Receiver<Counts>) {
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (counts_tx, counts_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let local = tokio::task::LocalSet::new();
        local.block_on(&runtime, async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            let counts = Rc::new(Cell::new(Counts::default()));
            let reporter = Rc::clone(&counts);
            tokio::task::spawn_local(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    if counts_tx.send(reporter.get()).is_err() {
                        return;
                    }
                }
            });
            serve(listener, limits, echo, counts).await;
        });
    });
    (addr_rx.recv().unwrap(), counts_rx)
}

async fn echo(request: Request) -> Response {
    assert!(request.path != "/panic", "a handler that panics");
    Response::text(
        202,
        format!(
            "{} {} {} bytes, x-a={:?}",
            request.method,
            request.path,
            request.body.len(),
            request.header("x-a")
        ),
    )
}

/// Sends `raw`, reads until the server closes, within `within`.
fn exchange(addr: SocketAddr, raw: &[u8], within: Duration) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(within)).unwrap();
    stream.write_all(raw).unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn status(answer: &str) -> &str {
    answer.split(' ').nth(1).unwrap_or("(none)")
}

/// The counts once `done` holds of them, or the last ones seen.
fn counts_when(rx: &std::sync::mpsc::Receiver<Counts>, done: impl Fn(&Counts) -> bool) -> Counts {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = Counts::default();
    while Instant::now() < deadline {
        last = rx.recv_timeout(Duration::from_secs(1)).unwrap_or(last);
        if done(&last) {
            break;
        }
    }
    last
}

const SECOND: Duration = Duration::from_secs(1);

fn short() -> Limits {
    Limits {
        deadline: SECOND,
        connections: 64,
    }
}

#[test]
fn a_well_formed_request_is_answered_with_its_body_whole() {
    let (addr, _) = start(short());
    let answer = exchange(
        addr,
        b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nContent-Length: 5\r\n\r\nhello",
        5 * SECOND,
    );
    assert_eq!(status(&answer), "202", "{answer}");
    assert!(
        answer.ends_with("POST /webhook 5 bytes, x-a=Some(\"1\")\n"),
        "{answer}"
    );
}

#[test]
fn malformed_requests_get_their_own_answers() {
    let (addr, counts) = start(short());
    // Two lengths a proxy in front might read differently: smuggling.
    let conflicting = exchange(
        addr,
        b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello",
        5 * SECOND,
    );
    assert_eq!(status(&conflicting), "400", "{conflicting}");
    // A chunked body is read whole, within the same bound.
    let chunked = exchange(
        addr,
        b"POST /webhook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n",
        5 * SECOND,
    );
    assert!(
        chunked.ends_with("POST /webhook 7 bytes, x-a=None\n"),
        "{chunked}"
    );
    let mut big =
        b"POST /webhook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..=super::MAX_BODY / 65_536 {
        big.extend_from_slice(b"10000\r\n");
        big.extend(std::iter::repeat_n(b'a', 65_536));
        big.extend_from_slice(b"\r\n");
    }
    big.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(status(&exchange(addr, &big, 5 * SECOND)), "413");
    let declared = exchange(
        addr,
        b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n",
        5 * SECOND,
    );
    assert_eq!(status(&declared), "413", "{declared}");
    // A head over 16 KiB.
    let mut huge = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 20 << 10));
    huge.extend_from_slice(b"\r\n\r\n");
    assert_eq!(status(&exchange(addr, &huge, 5 * SECOND)), "431");
    // Not HTTP at all.
    assert_eq!(
        status(&exchange(addr, b"\x16\x03\x01hello\r\n\r\n", 5 * SECOND)),
        "400"
    );
    // Nothing of these holds a slot afterwards.
    assert_eq!(counts_when(&counts, |c| c.open == 0).open, 0);
}

#[test]
fn expect_100_continue_is_answered_before_the_body_is_sent() {
    let (addr, _) = start(short());
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(5 * SECOND)).unwrap();
    stream
        .write_all(b"POST /webhook HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
        .unwrap();
    let mut interim = [0u8; 25];
    stream.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    stream.write_all(b"abc").unwrap();
    let mut rest = String::new();
    let _ = stream.read_to_string(&mut rest);
    assert_eq!(status(&rest), "202", "{rest}");
    assert!(rest.ends_with("3 bytes, x-a=None\n"), "{rest}");
}

#[test]
fn a_slow_head_or_body_is_cut_at_the_deadline() {
    let (addr, counts) = start(short());
    let started = Instant::now();
    // Half a head, then nothing: closed, unanswered, after the deadline.
    let slow_head = exchange(addr, b"GET /healthz HTTP/1.1\r\nHost:", 10 * SECOND);
    let took = started.elapsed();
    assert!(!slow_head.contains(" 200 "), "{slow_head}");
    assert!(took >= SECOND && took < 8 * SECOND, "closed after {took:?}");
    // A whole head, half the body: 408.
    let slow_body = exchange(
        addr,
        b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
        10 * SECOND,
    );
    assert_eq!(status(&slow_body), "408", "{slow_body}");
    assert_eq!(counts_when(&counts, |c| c.open == 0).open, 0);
}

#[test]
fn a_panicking_handler_gives_its_slot_back() {
    let (addr, counts) = start(short());
    for _ in 0..3 {
        let answer = exchange(addr, b"GET /panic HTTP/1.1\r\nHost: x\r\n\r\n", 5 * SECOND);
        assert!(!answer.contains(" 202 "), "{answer}");
    }
    assert_eq!(counts_when(&counts, |c| c.open == 0).open, 0);
    let answer = exchange(
        addr,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        5 * SECOND,
    );
    assert_eq!(status(&answer), "202", "{answer}");
}

#[test]
fn a_thousand_idle_connections_do_not_keep_a_request_waiting() {
    // The real bounds: 256 connections, 10 s to send a head.
    let (addr, counts) = start(Limits::default());
    let idle: Vec<TcpStream> = (0..1000)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    // Every idle connection has been accepted (and most evicted).
    let seen = counts_when(&counts, |c| {
        c.evicted >= 1000 - super::MAX_CONNECTIONS as u64
    });
    assert!(seen.open <= super::MAX_CONNECTIONS, "{seen:?}");
    let started = Instant::now();
    let answer = exchange(
        addr,
        b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
        SECOND,
    );
    assert_eq!(status(&answer), "202", "{answer}");
    let health = exchange(addr, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", SECOND);
    assert_eq!(status(&health), "202", "{health}");
    assert!(started.elapsed() < 2 * SECOND, "{:?}", started.elapsed());
    let after = counts_when(&counts, |c| c.refused > 0 || c.evicted >= 1000 - 254);
    assert_eq!(
        after.refused, 0,
        "idle connections are evicted, never a request: {after:?}"
    );
    drop(idle);
    assert_eq!(
        counts_when(&counts, |c| c.open == 0).open,
        0,
        "no slot leaks"
    );
}
