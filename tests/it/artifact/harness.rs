//! Running a producer, and a fault-injecting TCP proxy between it and a
//! consumer. The proxy is hand-written: no existing peer resets, flips or
//! stalls a stream after a chosen number of bytes.

use std::io::{BufRead as _, Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub(crate) use crate::support::peak_rss_while;
use crate::support::{Run, bin};

pub(crate) const SECRET: &str = "test secret, shared by both sides";

/// A free loopback port (bound and released: a tiny race, fine in tests).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) struct Producer {
    child: Child,
    pub(crate) port: u16,
    stderr: Arc<Mutex<String>>,
}

impl Producer {
    /// Starts art-stream on a free port with the shared secret and waits
    /// until it listens.
    pub(crate) fn start(file: &Path, extra: &[&str]) -> Producer {
        Producer::start_with(file, extra, Some(SECRET), None)
    }

    pub(crate) fn start_with(
        file: &Path,
        extra: &[&str],
        secret: Option<&str>,
        stdin: Option<Stdio>,
    ) -> Producer {
        Producer::start_env(file, extra, secret, stdin, &[])
    }

    /// As `start_with`, with extra environment variables.
    pub(crate) fn start_env(
        file: &Path,
        extra: &[&str],
        secret: Option<&str>,
        stdin: Option<Stdio>,
        envs: &[(&str, &Path)],
    ) -> Producer {
        let port = free_port();
        let mut cmd = Command::new(bin("art-stream"));
        // An empty path: the arguments say what to serve (`--path`).
        if !file.as_os_str().is_empty() {
            cmd.arg("--file").arg(file);
        }
        cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(if extra.contains(&"--timeout") {
                &[][..]
            } else {
                &["--timeout", "20"][..]
            })
            .args(extra)
            .env("NO_COLOR", "1")
            .env_remove("GITHUB_OUTPUT")
            .env_remove("ART_STREAM_SECRET")
            .stdin(stdin.unwrap_or_else(Stdio::null))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(secret) = secret {
            cmd.env("ART_STREAM_SECRET", secret);
        }
        cmd.env_remove("GITHUB_STEP_SUMMARY");
        for (key, value) in envs {
            cmd.env(key, value);
        }
        let mut child = cmd.spawn().expect("start art-stream");
        let stderr = Arc::new(Mutex::new(String::new()));
        let pipe = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        let producer = Producer {
            child,
            port,
            stderr,
        };
        producer.wait_for_log("listening");
        producer
    }

    pub(crate) fn wait_for_log(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.stderr.lock().unwrap().contains(text) {
            assert!(
                Instant::now() < deadline,
                "art-stream never logged {text:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub(crate) fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits for exit; returns the code and the JSON line on stdout.
    pub(crate) fn finish(mut self) -> (Option<i32>, String, String) {
        let mut stdout = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        let status = self.child.wait().unwrap();
        // Let the stderr reader catch up.
        std::thread::sleep(Duration::from_millis(50));
        (status.code(), stdout, self.log())
    }

    /// The producer's standard input, when started with a pipe there.
    pub(crate) fn take_stdin(&mut self) -> std::process::ChildStdin {
        self.child.stdin.take().expect("started with a piped stdin")
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// art-consume against `port`, with the shared secret, writing `out`.
pub(crate) fn consumer(port: u16, out: &Path) -> Run {
    consumer_of(port).args(["--out"]).args([out])
}

/// art-consume against `port`, with the shared secret; where to is up to
/// the caller.
pub(crate) fn consumer_of(port: u16) -> Run {
    Run::new(&bin("art-consume"), Path::new("/"))
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .env("ART_STREAM_SECRET", SECRET)
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Fault {
    /// Pass everything through.
    None,
    /// Close both sides after this many bytes towards the consumer.
    ResetAfter(u64),
    /// Invert one byte at this position of the stream towards the consumer.
    FlipAt(u64),
    /// Stop forwarding after this many bytes, holding the connection open.
    StallAfter(u64),
    /// Forward at most this many bytes a second: a slow link.
    Throttle(u64),
}

/// A proxy in front of a producer. `faulty` connections (counted from the
/// first) suffer `fault`; later ones pass through.
pub(crate) struct Proxy {
    pub(crate) port: u16,
    /// Bytes forwarded towards consumers, over all connections.
    pub(crate) downstream: Arc<AtomicU64>,
    pub(crate) connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    pub(crate) fn start(upstream: u16, fault: Fault, faulty: usize) -> Proxy {
        Proxy::start_at(0, upstream, fault, faulty)
    }

    /// As `start`, listening on `port` (0: any).
    pub(crate) fn start_at(port: u16, upstream: u16, fault: Fault, faulty: usize) -> Proxy {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let downstream = Arc::new(AtomicU64::new(0));
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (down, conns, halt) = (
            Arc::clone(&downstream),
            Arc::clone(&connections),
            Arc::clone(&stop),
        );
        std::thread::spawn(move || {
            while !halt.load(Ordering::SeqCst) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                client.set_nonblocking(false).unwrap();
                let n = conns.fetch_add(1, Ordering::SeqCst);
                let fault = if n < faulty { fault } else { Fault::None };
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || pump(c2, s2, Fault::None, None, None));
                let (down, halt) = (Arc::clone(&down), Arc::clone(&halt));
                std::thread::spawn(move || pump(server, client, fault, Some(&down), Some(&halt)));
            }
        });
        Proxy {
            port,
            downstream,
            connections,
            stop,
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    fault: Fault,
    counter: Option<&AtomicU64>,
    stop: Option<&AtomicBool>,
) {
    let mut buf = vec![0; 64 * 1024];
    let mut sent = 0u64;
    let started = Instant::now();
    while let Ok(n) = from.read(&mut buf) {
        if let Fault::Throttle(rate) = fault {
            let due = Duration::from_micros(sent * 1_000_000 / rate.max(1));
            std::thread::sleep(due.saturating_sub(started.elapsed()));
        }
        if n == 0 {
            break;
        }
        let chunk = &mut buf[..n];
        let mut take = n;
        match fault {
            Fault::ResetAfter(limit) | Fault::StallAfter(limit) if sent + n as u64 > limit => {
                take = usize::try_from(limit.saturating_sub(sent)).unwrap();
            }
            Fault::FlipAt(at) if (sent..sent + n as u64).contains(&at) => {
                chunk[usize::try_from(at - sent).unwrap()] ^= 0xff;
            }
            _ => {}
        }
        if to.write_all(&chunk[..take]).is_err() {
            break;
        }
        sent += take as u64;
        if let Some(counter) = counter {
            counter.fetch_add(take as u64, Ordering::SeqCst);
        }
        if take < n {
            if let Fault::StallAfter(_) = fault {
                // Hold the connection open, silent, until the test ends.
                while !stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

/// Deterministic bytes: half repetitive text, half noise, so frames of
/// both kinds (compressed and raw) occur.
pub(crate) fn content(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let text = b"fn main() { println!(\"hello from a build artifact\"); }\n";
    (0..len)
        .map(|i| {
            if (i / (256 * 1024)) % 2 == 0 {
                text[i % text.len()]
            } else {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_be_bytes()[4]
            }
        })
        .collect()
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest as _, Sha256};
    slipway_cli::hex(&Sha256::digest(bytes))
}

pub(crate) struct Scratch {
    pub(crate) dir: tempfile::TempDir,
}

impl Scratch {
    pub(crate) fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub(crate) fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Files in the directory other than `keep`: temporary leftovers.
    pub(crate) fn leftovers(&self, keep: &[&str]) -> Vec<String> {
        std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !keep.contains(&n.as_str()))
            .collect()
    }
}

/// A summary line: read as JSON to look at, and checked to read back
/// through its contract type (art-stream's or art-consume's) at the
/// version these tests know.
pub(crate) fn json(line: &str) -> Value {
    use slipway_contract::art::{ART_SUMMARY_VERSION, ConsumeSummary, StreamSummary};
    let value: Value =
        serde_json::from_str(line.trim()).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    let typed = serde_json::from_value::<StreamSummary>(value.clone())
        .map(|s| (s.version, serde_json::to_value(s).unwrap()))
        .or_else(|_| {
            serde_json::from_value::<ConsumeSummary>(value.clone())
                .map(|s| (s.version, serde_json::to_value(s).unwrap()))
        })
        .unwrap_or_else(|e| panic!("not a summary line ({e}): {line}"));
    assert_eq!(typed, (ART_SUMMARY_VERSION, value.clone()), "{line}");
    value
}

/// Runs `cmd` (its output discarded) and returns its status and peak RSS.
pub(crate) fn run_sampled(mut cmd: Command) -> (std::process::ExitStatus, u64) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let peak = peak_rss_while(child.id());
    (child.wait().unwrap(), peak)
}
