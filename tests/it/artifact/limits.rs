//! What a hostile network, a hostile producer and a full disk do: floods
//! of idle and garbage connections, a client sending a byte a second, a
//! producer that lies about lengths, and a consumer's filesystem filling.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use slipway_wire::{
    ClientHello, Codec, End, FrameHeader, Keys, ServerAuth, ServerHello, Session, VERSION,
    frame_digest, random_nonce,
};

use super::harness::{Producer, SECRET, Scratch, consumer, content};
use crate::support::bin;

#[test]
fn a_flood_of_idle_and_garbage_connections_keeps_no_consumer_out() {
    let scratch = Scratch::new();
    let bytes = content(8 * 1024 * 1024);
    let source = scratch.file("a.bin", &bytes);
    let producer = Producer::start(&source, &["--consumers", "4", "--timeout", "60"]);
    let addr = ("127.0.0.1", producer.port);

    // 1,000 connections that never speak, then 100 that speak garbage,
    // all held open while the consumers run.
    let idle: Vec<TcpStream> = (0..1000)
        .map(|_| TcpStream::connect(addr).expect("an idle connection"))
        .collect();
    let garbage: Vec<TcpStream> = (0..100)
        .map(|_| {
            let mut stream = TcpStream::connect(addr).expect("a garbage connection");
            let _ = stream.write_all(b"GET / HTTP/1.1\r\nHost: producer\r\n\r\n");
            stream
        })
        .collect();

    let consumers: Vec<_> = (0..4)
        .map(|i| {
            let out = scratch.path(&format!("out-{i}.bin"));
            let run = consumer(producer.port, &out);
            std::thread::spawn(move || {
                let started = Instant::now();
                (run.output(), started.elapsed(), out)
            })
        })
        .collect();
    for handle in consumers {
        let (run, took, out) = handle.join().unwrap();
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        assert!(
            took < Duration::from_secs(10),
            "a consumer took {took:?} among the flood: {}",
            run.stderr
        );
        assert_eq!(std::fs::read(&out).unwrap(), bytes);
    }
    let (code, _, log) = producer.finish();
    assert_eq!(code, Some(0), "{log}");
    // Each dropped connection is named in the log.
    let idle_peer = idle[0].local_addr().unwrap().to_string();
    assert!(
        log.lines()
            .any(|l| l.contains(&idle_peer) && l.contains("dropped before its handshake")),
        "the oldest idle connection ({idle_peer}) was dropped for room: {log}"
    );
    // Garbage is named as such, unless the flood evicted it first.
    let garbage_peers: Vec<String> = garbage
        .iter()
        .map(|s| format!("peer={}", s.local_addr().unwrap()))
        .collect();
    let named = log
        .lines()
        .filter(|l| {
            l.contains("dropped during the handshake")
                && l.contains("does not speak this protocol")
                && garbage_peers.iter().any(|p| l.ends_with(p.as_str()))
        })
        .count();
    assert!(named > 0, "no garbage connection was named as such: {log}");
    drop((idle, garbage));
}

#[test]
fn a_client_sending_a_byte_a_second_is_dropped_at_the_deadline() {
    let scratch = Scratch::new();
    let source = scratch.file("a.bin", &content(64 * 1024));
    let producer = Producer::start(&source, &["--handshake-timeout", "2", "--timeout", "30"]);
    let mut slow = TcpStream::connect(("127.0.0.1", producer.port)).unwrap();
    let peer = slow.local_addr().unwrap().to_string();
    let mut hello = [0; ServerHello::LEN];
    slow.read_exact(&mut hello).unwrap();
    // A client hello's first bytes, one every 300 ms, as long as the
    // producer takes them.
    let started = Instant::now();
    let dribble = b"SLWY\x00\x01\x00\x00";
    let mut sent = 0;
    for byte in dribble.iter().cycle() {
        if slow.write_all(&[*byte]).is_err() || started.elapsed() > Duration::from_secs(10) {
            break;
        }
        sent += 1;
        std::thread::sleep(Duration::from_millis(300));
        // The producer shuts the connection: a read then sees its end.
        slow.set_nonblocking(true).unwrap();
        let mut probe = [0; 1];
        let closed = matches!(slow.read(&mut probe), Ok(0));
        slow.set_nonblocking(false).unwrap();
        if closed {
            break;
        }
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(4),
        "dropped after {took:?} ({sent} bytes), the deadline is 2 s"
    );
    producer.wait_for_log("no handshake within 2 s");
    assert!(producer.log().contains(&peer), "{}", producer.log());
}

/// A producer that lies, hand-written: no peer speaks this protocol wrongly
/// on purpose. It holds the secret, so its lies get past the handshake.
struct Liar {
    port: u16,
    connections: Arc<AtomicUsize>,
}

type Script = fn(&mut TcpStream, &Session);

impl Liar {
    /// Serves every connection a hello announcing `frame_size`, the
    /// handshake, then `script`.
    fn start(frame_size: u32, size: Option<u64>, script: Script) -> Liar {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&connections);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                counted.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || {
                    if let Some(session) = handshake(&mut stream, frame_size, size) {
                        script(&mut stream, &session);
                    }
                });
            }
        });
        Liar { port, connections }
    }
}

fn handshake(stream: &mut TcpStream, frame_size: u32, size: Option<u64>) -> Option<Session> {
    let keys = Keys::new(Some(SECRET.as_bytes()));
    let hello = ServerHello {
        version: VERSION,
        flags: 0,
        frame_size,
        size,
        mode: 0o644,
        nonce: random_nonce(),
    };
    stream.write_all(&hello.to_bytes()).ok()?;
    let client = ClientHello::read(stream).ok()?;
    ServerAuth {
        proof: keys.server_proof(&hello.nonce, &client.nonce),
    }
    .write(stream)
    .ok()?;
    Some(keys.session(&hello.nonce, &client.nonce))
}

/// A raw frame of `data` at `index`/`offset`, tagged, claiming `raw_len`.
fn frame(session: &Session, index: u64, offset: u64, raw_len: u32, data: &[u8]) -> Vec<u8> {
    let digest = frame_digest(data);
    let mut bytes = FrameHeader {
        index,
        offset,
        raw_len,
        codec: Codec::None,
        wire_len: raw_len,
        digest,
        mac: session.frame_mac(index, offset, raw_len, &digest),
    }
    .to_bytes()
    .to_vec();
    bytes.extend_from_slice(data);
    bytes
}

/// The consumer's run against `liar`: exit 5 at the first lie, without
/// asking again, nothing at `--out`, and under 50 MB.
fn refused(liar: &Liar, what: &str) -> String {
    let scratch = Scratch::new();
    let out = scratch.path("out.bin");
    let (run, peak) = consumer(liar.port, &out)
        .args(["--idle-timeout", "5"])
        .output_sampled();
    let stderr = run.failure(5).to_owned();
    assert!(stderr.contains(what), "{stderr}");
    assert!(!out.exists());
    assert_eq!(scratch.leftovers(&[]), Vec::<String>::new());
    assert_eq!(
        liar.connections.load(Ordering::SeqCst),
        1,
        "a lie is not retried: {stderr}"
    );
    assert!(peak < 50 << 20, "peak RSS {peak} bytes: {stderr}");
    stderr
}

#[test]
fn a_producer_announcing_frames_past_the_limit_is_refused_before_any_allocation() {
    let liar = Liar::start(u32::MAX, None, |_, _| {});
    refused(&liar, "frame size 4294967295 is outside");
}

#[test]
fn a_frame_longer_than_the_announced_frame_size_is_refused() {
    let liar = Liar::start(1 << 20, None, |stream, session| {
        // It claims 4 GiB and sends a little.
        let _ = stream.write_all(&frame(session, 0, 0, u32::MAX, b"tiny"));
        std::thread::sleep(Duration::from_secs(2));
    });
    refused(&liar, "broke the protocol");
}

#[test]
fn content_past_the_announced_size_is_refused() {
    let liar = Liar::start(1 << 20, Some(100), |stream, session| {
        let data = vec![7; 4096];
        let _ = stream.write_all(&frame(session, 0, 0, 4096, &data));
        std::thread::sleep(Duration::from_secs(2));
    });
    refused(&liar, "past the 100 bytes the producer announced");
}

#[test]
fn an_error_text_over_its_bound_is_refused() {
    let liar = Liar::start(1 << 20, None, |stream, _| {
        // ERROR, code 6, a 60,000-byte text.
        let _ = stream.write_all(&[3, 0, 6, 0xea, 0x60]);
        let _ = stream.write_all(&vec![b'x'; 60_000]);
        std::thread::sleep(Duration::from_secs(2));
    });
    refused(&liar, "error text of 60000 bytes");
}

#[test]
fn the_largest_frames_then_a_lying_end_stay_under_fifty_megabytes() {
    const FRAME: u32 = slipway_wire::MAX_FRAME_SIZE;
    let liar = Liar::start(FRAME, None, |stream, session| {
        // Six honest 16 MiB frames, then an end that claims a byte more.
        let mut sha = <sha2::Sha256 as sha2::Digest>::new();
        let mut offset = 0;
        for index in 0..6u64 {
            let data = vec![index.to_le_bytes()[0]; FRAME as usize];
            sha2::Digest::update(&mut sha, &data);
            if stream
                .write_all(&frame(session, index, offset, FRAME, &data))
                .is_err()
            {
                return;
            }
            offset += u64::from(FRAME);
        }
        let sha256: [u8; 32] = sha2::Digest::finalize(sha).into();
        let total_len = offset + 1;
        let _ = stream.write_all(
            &End {
                total_len,
                frames: 6,
                sha256,
                mac: session.end_mac(total_len, 6, &sha256),
            }
            .to_bytes(),
        );
        std::thread::sleep(Duration::from_secs(2));
    });
    refused(&liar, "the producer ended at 6 frames and 100663297 bytes");
}

#[test]
fn a_full_disk_is_exit_6_and_leaves_nothing() {
    // The consumer writes into a 2 MiB tmpfs mounted in a mount namespace
    // of its own (so nothing outlives the test); the listing after it ran
    // is taken in that namespace.
    let scratch = Scratch::new();
    let bytes = content(8 * 1024 * 1024);
    let source = scratch.file("a.bin", &bytes);
    let producer = Producer::start(&source, &["--timeout", "20"]);
    let small = scratch.path("small");
    std::fs::create_dir(&small).unwrap();
    let script = r#"mount -t tmpfs -o size=2m slipway-full "$1" || exit 99
"$2" --host 127.0.0.1 --port "$3" --out "$1/out.bin"
code=$?
echo "left: $(ls -A "$1")" >&2
exit $code"#;
    let run = crate::support::Run::new(std::path::Path::new("unshare"), std::path::Path::new("/"))
        .args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            script,
            "sh",
        ])
        .args([small.as_os_str(), bin("art-consume").as_os_str()])
        .args([producer.port.to_string()])
        .env("ART_STREAM_SECRET", SECRET)
        .output();
    assert_ne!(
        run.code,
        Some(99),
        "the test needs root to mount a tmpfs: {}",
        run.stderr
    );
    let stderr = run.failure(6);
    assert!(stderr.contains("failed to write"), "{stderr}");
    assert!(stderr.contains("the disk is full"), "{stderr}");
    assert!(
        stderr.lines().any(|l| l == "left: "),
        "nothing at --out or beside it: {stderr}"
    );
}
