//! The store: rendezvous through the announcement, the fallback copy, and
//! consumers that continue from it. Against `file://` stores (a directory)
//! and moto's S3 in server mode (`SLIPWAY_MOTO_URL`, started by `cargo
//! xtask test`).

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::harness::{
    Fault, Producer, Proxy, SECRET, Scratch, content, json, peak_rss_while, sha256_hex,
};
use crate::support::{Output, Run, bin, unique};

/// A store for one test: a directory, or a fresh bucket in moto.
struct Store {
    url: String,
    env: Vec<(&'static str, String)>,
    dir: Option<PathBuf>,
}

impl Store {
    fn dir(scratch: &Scratch) -> Store {
        let dir = scratch.path("store");
        Store {
            url: format!("file://{}", dir.display()),
            env: Vec::new(),
            dir: Some(dir),
        }
    }

    /// A new bucket in moto, made with a plain `PUT /BUCKET` (moto checks
    /// no signatures).
    fn s3() -> Store {
        let moto = std::env::var("SLIPWAY_MOTO_URL").unwrap_or_else(|_| {
            panic!("SLIPWAY_MOTO_URL is not set: run the tests with `cargo xtask test`, which starts moto")
        });
        let bucket = unique("art").to_lowercase().replace('_', "-");
        let host = moto.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(host).unwrap();
        write!(
            stream,
            "PUT /{bucket} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        Store {
            url: format!("s3://{bucket}/ci"),
            env: vec![
                ("AWS_ENDPOINT_URL", moto),
                ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
                ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
                ("AWS_REGION", "eu-west-1".to_owned()),
                ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
            ],
            dir: None,
        }
    }

    /// The artifact's place in a directory store.
    fn scope_dir(&self, run: &str, name: &str) -> PathBuf {
        self.dir
            .as_ref()
            .expect("a directory store")
            .join("local")
            .join(run)
            .join(name)
    }

    fn env_pairs(&self) -> Vec<(&str, &Path)> {
        self.env
            .iter()
            .map(|(k, v)| (*k, Path::new(v.as_str())))
            .collect()
    }

    /// art-stream with this store, for `run` and `name`.
    fn producer(&self, file: &Path, run: &str, name: &str, extra: &[&str]) -> Producer {
        let mut args = vec![
            "--store",
            &self.url,
            "--name",
            name,
            "--run-id",
            run,
            "--advertise",
            "127.0.0.1",
        ];
        args.extend_from_slice(extra);
        Producer::start_env(file, &args, Some(SECRET), None, &self.env_pairs())
    }

    /// art-consume with this store, for `run` and `name`.
    fn consumer(&self, out: &Path, run: &str, name: &str) -> Run {
        let mut run_cmd = Run::new(&bin("art-consume"), Path::new("/"))
            .args([
                "--store", &self.url, "--name", name, "--run-id", run, "--out",
            ])
            .args([out])
            .env("ART_STREAM_SECRET", SECRET)
            .env_remove("GITHUB_REPOSITORY");
        for (k, v) in &self.env {
            run_cmd = run_cmd.env(k, v);
        }
        run_cmd
    }
}

fn both_stores(scratch: &Scratch) -> [Store; 2] {
    [Store::dir(scratch), Store::s3()]
}

#[test]
fn a_consumer_started_before_the_producer_finds_it_on_either_store() {
    let scratch = Scratch::new();
    let bytes = content(3 * 1024 * 1024 + 5);
    let source = scratch.file("artifact.bin", &bytes);
    for (i, store) in both_stores(&scratch).into_iter().enumerate() {
        let out = scratch.path(&format!("received-{i}.bin"));
        let early = {
            let run = store.consumer(&out, "41/1", "dist");
            std::thread::spawn(move || run.output())
        };
        std::thread::sleep(Duration::from_millis(800));
        let producer = store.producer(&source, "41/1", "dist", &[]);
        let got: Output = early.join().unwrap();
        assert_eq!(got.code, Some(0), "{}\n{}", got.stderr, producer.log());
        let line = json(&got.stdout);
        assert_eq!(std::fs::read(&out).unwrap(), bytes, "{}", store.url);
        assert_eq!(line["sha256"], sha256_hex(&bytes));
        assert!(line["stream_bytes"].as_u64().unwrap() > 0, "{line}");
        assert_eq!(line["store_bytes"], 0, "{line}");
        assert!(
            got.stderr.contains("waiting for it to appear"),
            "{}",
            got.stderr
        );
        let (code, sent, log) = producer.finish();
        assert_eq!(code, Some(0), "{log}");
        assert!(json(&sent)["stored_bytes"].as_u64().unwrap() > 0, "{sent}");
    }
}

#[test]
fn two_attempts_of_a_run_never_cross() {
    let scratch = Scratch::new();
    let store = Store::dir(&scratch);
    let first = content(1024 * 1024);
    let second: Vec<u8> = content(1024 * 1024 + 3).into_iter().rev().collect();
    let a = scratch.file("a.bin", &first);
    let b = scratch.file("b.bin", &second);
    let one = store.producer(&a, "77/1", "dist", &[]);
    let two = store.producer(&b, "77/2", "dist", &[]);
    for (run, expected) in [("77/2", &second), ("77/1", &first)] {
        let out = scratch.path(&format!("got-{}", run.replace('/', "-")));
        store.consumer(&out, run, "dist").success();
        assert_eq!(&std::fs::read(&out).unwrap(), expected, "{run}");
    }
    for producer in [one, two] {
        let (code, _, log) = producer.finish();
        assert_eq!(code, Some(0), "{log}");
    }
    // Under Actions the run comes from the environment, attempt included.
    let out = scratch.path("from-env");
    store
        .consumer(&out, "unused", "dist")
        .args(["--run-id", "x"])
        .output()
        .failure(2);
    let mut run = Run::new(&bin("art-consume"), Path::new("/"))
        .args([
            "--store", &store.url, "--name", "dist", "--wait", "1", "--out",
        ])
        .args([&out])
        .env("ART_STREAM_SECRET", SECRET)
        .env_remove("GITHUB_REPOSITORY")
        .env("GITHUB_RUN_ID", "77")
        .env("GITHUB_RUN_ATTEMPT", "3");
    run = run.env_remove("GITHUB_ACTIONS");
    let err = run.output();
    let text = err.failure(3);
    assert!(
        text.contains("/local/77/3/dist/announcement.json"),
        "{text}"
    );
    assert!(!out.exists());
}

#[test]
fn a_second_producer_for_the_same_name_is_refused_naming_both() {
    let scratch = Scratch::new();
    let source = scratch.file("artifact.bin", &content(100_000));
    for (i, store) in both_stores(&scratch).into_iter().enumerate() {
        let first = store.producer(&source, "5/1", "dist", &["--consumers", "1"]);
        // Listening comes before announcing: the second must come after.
        first.wait_for_log("announced");
        let port = free_port();
        let mut second = Run::new(&bin("art-stream"), Path::new("/"))
            .args(["--file"])
            .args([&source])
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--store", &store.url, "--name", "dist", "--run-id", "5/1"])
            .args(["--timeout", "20"])
            .env("ART_STREAM_SECRET", SECRET);
        for (k, v) in &store.env {
            second = second.env(k, v);
        }
        let second = second.output();
        let text = second.failure(6);
        assert!(
            text.contains("another producer already announced"),
            "{text}"
        );
        assert!(
            text.contains(&format!("127.0.0.1:{}", first.port)),
            "{text}"
        );
        assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
        // The first is untouched and serves on.
        let out = scratch.path(&format!("got-{i}"));
        store.consumer(&out, "5/1", "dist").success();
        let (code, _, log) = first.finish();
        assert_eq!(code, Some(0), "{log}");
    }
}

fn free_port() -> u16 {
    super::harness::free_port()
}

/// Writes an announcement by hand into a directory store.
fn plant_announcement(dir: &Path, run: &str, port: u16, expires_at: u64) {
    std::fs::create_dir_all(dir).unwrap();
    let text = serde_json::json!({
        "slipway_announcement": 1,
        "run": run,
        "name": "dist",
        "addresses": [format!("127.0.0.1:{port}")],
        "nonce": "11".repeat(32),
        "created_at": 1,
        "expires_at": expires_at,
        "producer": "planted by the test",
        "mirror": true,
    });
    std::fs::write(dir.join("announcement.json"), text.to_string()).unwrap();
}

#[test]
fn a_stale_or_foreign_announcement_is_never_joined() {
    let scratch = Scratch::new();
    let store = Store::dir(&scratch);
    // Expired: pointing at a listener that counts connections.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    plant_announcement(&store.scope_dir("9/1", "dist"), "9/1", port, 1_000);
    let out = scratch.path("got");
    let text = store
        .consumer(&out, "9/1", "dist")
        .args(["--wait", "1"])
        .output()
        .failure(3)
        .to_owned();
    assert!(text.contains("announcement expired"), "{text}");
    assert!(text.contains("did not complete within 1 seconds"), "{text}");
    assert!(
        listener.accept().is_err(),
        "an expired producer was contacted"
    );
    assert!(!out.exists());

    // Unexpired, but at a live producer of another run that has the same
    // secret: its proof does not cover this announcement's nonce.
    let source = scratch.file("other.bin", &content(200_000));
    let other = store.producer(&source, "10/1", "dist", &["--timeout", "30"]);
    let far = 4_000_000_000;
    plant_announcement(&store.scope_dir("11/1", "dist"), "11/1", other.port, far);
    let text = store
        .consumer(&out, "11/1", "dist")
        .args(["--wait", "1"])
        .output()
        .failure(3)
        .to_owned();
    assert!(text.contains("not the one announced"), "{text}");
    assert!(!out.exists());
    assert!(
        !other.log().contains("consumer verified"),
        "{}",
        other.log()
    );
}

#[test]
fn a_wrong_secret_is_refused_before_any_content() {
    let scratch = Scratch::new();
    let store = Store::dir(&scratch);
    let source = scratch.file("artifact.bin", &content(500_000));
    let producer = store.producer(&source, "3/1", "dist", &[]);
    let out = scratch.path("got");
    let text = store
        .consumer(&out, "3/1", "dist")
        .env("ART_STREAM_SECRET", "not the secret")
        .output()
        .failure(4)
        .to_owned();
    assert!(text.contains("authentication failed"), "{text}");
    assert!(!out.exists());
    drop(producer);
}

/// The summary line's byte counts by transport.
fn transports(stdout: &str) -> (u64, u64) {
    let line = json(stdout);
    (
        line["stream_bytes"].as_u64().unwrap(),
        line["store_bytes"].as_u64().unwrap(),
    )
}

#[test]
fn a_producer_killed_before_any_consumer_leaves_a_copy_that_completes_it() {
    let scratch = Scratch::new();
    let bytes = content(6 * 1024 * 1024 + 99);
    let source = scratch.file("artifact.bin", &bytes);
    for (i, store) in both_stores(&scratch).into_iter().enumerate() {
        let mut producer = store.producer(&source, "12/1", "dist", &[]);
        producer.wait_for_log("the fallback copy is complete");
        producer.kill();
        let out = scratch.path(&format!("got-{i}"));
        let stdout = store.consumer(&out, "12/1", "dist").success();
        assert_eq!(std::fs::read(&out).unwrap(), bytes, "{}", store.url);
        let (stream, stored) = transports(&stdout);
        assert_eq!(stream, 0, "{stdout}");
        assert!(stored > 0, "{stdout}");
    }
    // The copy is a standard zstd stream: zstd alone decodes it.
    let object = Store::dir(&scratch)
        .scope_dir("12/1", "dist")
        .join("artifact.zst");
    let decoded = Command::new("zstd")
        .args(["-d", "-c"])
        .arg(&object)
        .output()
        .unwrap();
    assert!(decoded.status.success(), "{decoded:?}");
    assert_eq!(decoded.stdout, bytes);
}

#[test]
fn a_producer_killed_mid_transfer_hands_over_to_the_copy_at_the_last_verified_frame() {
    let scratch = Scratch::new();
    let bytes = content(8 * 1024 * 1024);
    let source = scratch.file("artifact.bin", &bytes);
    let store = Store::dir(&scratch);
    // The consumer reaches the producer through a proxy that stops after
    // 30% of the content; the producer announces the proxy's port.
    let stall_at = bytes.len() as u64 * 3 / 10;
    let port = free_port();
    let advertised = format!("127.0.0.1:{port}");
    let mut producer = Producer::start_env(
        &source,
        &[
            "--store",
            &store.url,
            "--name",
            "dist",
            "--run-id",
            "13/1",
            "--advertise",
            &advertised,
        ],
        Some(SECRET),
        None,
        &[],
    );
    let proxy = Proxy::start_at(port, producer.port, Fault::StallAfter(stall_at), 1);
    let out = scratch.path("got");
    let consumer = {
        let run = store
            .consumer(&out, "13/1", "dist")
            .args(["--idle-timeout", "2"]);
        std::thread::spawn(move || run.output())
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while proxy.downstream.load(Ordering::SeqCst) < stall_at {
        assert!(Instant::now() < deadline, "{}", producer.log());
        std::thread::sleep(Duration::from_millis(10));
    }
    producer.wait_for_log("the fallback copy is complete");
    producer.kill();
    let got = consumer.join().unwrap();
    assert_eq!(got.code, Some(0), "{}", got.stderr);
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
    let (stream, stored) = transports(&got.stdout);
    assert!(stream > 0 && stored > 0, "{}", got.stdout);
    assert!(
        got.stderr.contains("resuming from the store's copy"),
        "{}",
        got.stderr
    );
    // Only the frames the stream had not delivered came from the copy.
    let whole: u64 = std::fs::metadata(store.scope_dir("13/1", "dist").join("artifact.zst"))
        .unwrap()
        .len();
    assert!(stored < whole, "{stored} of {whole}");
}

#[test]
fn a_flipped_byte_in_the_copy_is_caught_and_never_written() {
    let scratch = Scratch::new();
    let bytes = content(4 * 1024 * 1024);
    let source = scratch.file("artifact.bin", &bytes);
    let store = Store::dir(&scratch);
    let mut producer = store.producer(&source, "14/1", "dist", &[]);
    producer.wait_for_log("the fallback copy is complete");
    producer.kill();
    let object = store.scope_dir("14/1", "dist").join("artifact.zst");
    let mut stored = std::fs::read(&object).unwrap();
    let middle = stored.len() / 2;
    stored[middle] ^= 0x40;
    std::fs::write(&object, stored).unwrap();
    let out = scratch.path("got");
    let text = store
        .consumer(&out, "14/1", "dist")
        .output()
        .failure(5)
        .to_owned();
    assert!(text.contains("verification failed: frame"), "{text}");
    assert!(!out.exists());
    assert_eq!(
        scratch.leftovers(&["artifact.bin", "store"]),
        Vec::<String>::new()
    );
}

#[test]
fn an_incomplete_copy_with_the_producer_gone_is_exit_3_with_nothing_written() {
    let scratch = Scratch::new();
    let store = Store::dir(&scratch);
    // Standard input that delivers 3 MiB and then never ends: the copy
    // cannot complete.
    let mut producer = Producer::start_env(
        Path::new("-"),
        &[
            "--store",
            &store.url,
            "--name",
            "dist",
            "--run-id",
            "15/1",
            "--advertise",
            "127.0.0.1",
        ],
        Some(SECRET),
        Some(Stdio::piped()),
        &[],
    );
    let mut stdin = producer.take_stdin();
    stdin.write_all(&content(3 * 1024 * 1024)).unwrap();
    stdin.flush().unwrap();
    let out = scratch.path("got");
    let consumer = {
        let run = store
            .consumer(&out, "15/1", "dist")
            .args(["--wait", "2", "--idle-timeout", "2"]);
        std::thread::spawn(move || run.output())
    };
    // Let the consumer verify what exists, then take the producer away.
    std::thread::sleep(Duration::from_secs(2));
    producer.kill();
    let got = consumer.join().unwrap();
    let text = got.failure(3);
    assert!(text.contains("did not complete within 2 seconds"), "{text}");
    assert!(
        text.contains("3 frames (3145728 bytes) had been verified"),
        "{text}"
    );
    assert!(!out.exists());
    assert_eq!(scratch.leftovers(&["store"]), Vec::<String>::new());
    drop(stdin);
}

#[test]
fn with_the_copy_on_both_sides_stay_under_50_mb_for_two_gibibytes() {
    let scratch = Scratch::new();
    let source = scratch.path("big.bin");
    // 2 GiB that zstd -1 cannot compress: 1 MiB of noise, each repeat
    // changed in its first bytes (zstd -1 looks back 512 KiB, not 1 MiB).
    {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let block: Vec<u8> = (0..1024 * 1024)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_be_bytes()[3]
            })
            .collect();
        let mut file = std::io::BufWriter::new(std::fs::File::create(&source).unwrap());
        for i in 0..2048u64 {
            file.write_all(&i.to_be_bytes()).unwrap();
            file.write_all(&block[8..]).unwrap();
        }
    }
    let store = Store::dir(&scratch);
    let producer = store.producer(&source, "16/1", "dist", &["--timeout", "120"]);
    let out = scratch.path("got");
    let mut cmd = Command::new(bin("art-consume"));
    cmd.args([
        "--store", &store.url, "--name", "dist", "--run-id", "16/1", "--out",
    ])
    .arg(&out)
    .env("ART_STREAM_SECRET", SECRET)
    .env("NO_COLOR", "1")
    .env_remove("GITHUB_OUTPUT")
    .env_remove("GITHUB_STEP_SUMMARY")
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let producer_pid = producer.pid();
    let sampler = std::thread::spawn(move || peak_rss_while(producer_pid));
    let (status, consumer_peak) = super::harness::run_sampled(cmd);
    assert!(status.success());
    let (code, line, log) = producer.finish();
    assert_eq!(code, Some(0), "{log}");
    let producer_peak = sampler.join().unwrap();
    // The sampler saw both processes run.
    assert!(consumer_peak > 1 << 20 && producer_peak > 1 << 20);
    let sent = json(&line);
    assert_eq!(sent["bytes"], 2u64 << 30);
    assert!(
        sent["stored_bytes"].as_u64().unwrap() > 2u64 << 30,
        "{line}"
    );
    assert!(
        consumer_peak < 50 << 20,
        "consumer peak RSS {consumer_peak} bytes"
    );
    assert!(
        producer_peak < 50 << 20,
        "producer peak RSS {producer_peak} bytes"
    );
}
