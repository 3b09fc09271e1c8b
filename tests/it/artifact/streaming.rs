use std::path::{Path, PathBuf};
use std::process::Stdio;

use super::harness::{
    Fault, Producer, Proxy, SECRET, Scratch, consumer, content, json, sha256_hex,
};
use crate::support::{Run, bin};

/// Streams `bytes` once, through a proxy when given; checks both summaries.
fn round_trip(bytes: &[u8]) {
    let scratch = Scratch::new();
    let source = scratch.file("artifact.bin", bytes);
    let producer = Producer::start(&source, &[]);
    let out = scratch.path("received.bin");
    let stdout = consumer(producer.port, &out).success();
    let got = json(&stdout);
    let (code, line, log) = producer.finish();
    assert_eq!(code, Some(0), "{log}");
    let sent = json(&line);
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
    assert_eq!(got["sha256"], sha256_hex(bytes));
    assert_eq!(sent["sha256"], got["sha256"]);
    assert_eq!(got["bytes"], bytes.len());
    assert_eq!(sent["consumers"], 1);
    assert_eq!(
        scratch.leftovers(&["artifact.bin", "received.bin"]),
        Vec::<String>::new()
    );
}

#[test]
fn empty_and_one_byte_files() {
    round_trip(b"");
    round_trip(b"x");
}

#[test]
fn a_few_megabytes_of_mixed_frames() {
    round_trip(&content(5 * 1024 * 1024 + 17));
}

#[test]
fn under_actions_the_digest_and_size_are_step_outputs() {
    let scratch = Scratch::new();
    let bytes = content(300_000);
    let source = scratch.file("a.bin", &bytes);
    let producer_summary = scratch.path("producer-summary.md");
    let producer = Producer::start_env(
        &source,
        &[],
        Some(SECRET),
        None,
        &[("GITHUB_STEP_SUMMARY", &producer_summary)],
    );
    let outputs = scratch.path("github-output");
    let summary = scratch.path("summary.md");
    consumer(producer.port, &scratch.path("out.bin"))
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .success();
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.starts_with("### art-consume: "), "{md}");
    assert!(md.contains("300000 bytes in "), "{md}");
    assert!(
        md.contains(&format!("SHA-256 `{}`", sha256_hex(&bytes))),
        "{md}"
    );
    let written = std::fs::read_to_string(&outputs).unwrap();
    let lines: Vec<&str> = written.lines().collect();
    assert!(lines[0].starts_with("sha256<<"), "{written}");
    assert_eq!(lines[1], sha256_hex(&bytes));
    assert!(lines[3].starts_with("bytes<<"), "{written}");
    assert_eq!(lines[4], "300000");
}

#[test]
fn a_sparse_file_over_two_gibibytes_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt as _;
    let scratch = Scratch::new();
    let source = scratch.path("big.img");
    let file = std::fs::File::create(&source).unwrap();
    // Past 2^31 and not a whole number of frames.
    file.set_len((2u64 << 30) + 12_345).unwrap();
    std::fs::set_permissions(&source, std::fs::Permissions::from_mode(0o750)).unwrap();
    drop(file);
    let producer = Producer::start(&source, &["--frame-size", "4194304"]);
    let out = scratch.path("copy.img");
    let got = json(&consumer(producer.port, &out).success());
    let (code, line, log) = producer.finish();
    assert_eq!(code, Some(0), "{log}");
    let sent = json(&line);
    assert_eq!(got["bytes"], (2u64 << 30) + 12_345);
    assert_eq!(got["sha256"], sent["sha256"]);
    assert!(
        sent["wire_bytes"].as_u64().unwrap() < 1 << 20,
        "zeros compress: {sent}"
    );
    let meta = std::fs::metadata(&out).unwrap();
    assert_eq!(meta.len(), (2u64 << 30) + 12_345);
    assert_eq!(meta.permissions().mode() & 0o7777, 0o750);
}

#[test]
fn standard_input_is_streamed() {
    let scratch = Scratch::new();
    let bytes = content(3 * 1024 * 1024);
    let source = scratch.file("input.bin", &bytes);
    let stdin = std::fs::File::open(&source).unwrap();
    let producer =
        Producer::start_with(Path::new("-"), &[], Some(SECRET), Some(Stdio::from(stdin)));
    let out = scratch.path("out.bin");
    consumer(producer.port, &out).success();
    let (code, _, log) = producer.finish();
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
}

#[test]
fn four_consumers_get_identical_bytes_from_one_compression() {
    let scratch = Scratch::new();
    let bytes = content(8 * 1024 * 1024);
    let source = scratch.file("a.bin", &bytes);
    let producer = Producer::start(&source, &["--consumers", "4"]);
    let port = producer.port;
    let outs: Vec<PathBuf> = (0..4)
        .map(|i| scratch.path(&format!("out{i}.bin")))
        .collect();
    let handles: Vec<_> = outs
        .iter()
        .cloned()
        .map(|out| std::thread::spawn(move || consumer(port, &out).success()))
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let (code, line, log) = producer.finish();
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(json(&line)["consumers"], 4);
    for out in outs {
        assert_eq!(std::fs::read(out).unwrap(), bytes);
    }
}

#[test]
fn a_reset_connection_resumes_from_the_last_verified_frame() {
    let scratch = Scratch::new();
    let bytes = content(12 * 1024 * 1024);
    let source = scratch.file("a.bin", &bytes);
    let producer = Producer::start(&source, &["--codec", "none"]);
    // Two resets, at about a third and two thirds of the stream.
    let proxy = Proxy::start(producer.port, Fault::ResetAfter(4_200_000), 2);
    let out = scratch.path("out.bin");
    let got = json(
        &consumer(proxy.port, &out)
            .args(["--retries", "3"])
            .success(),
    );
    let (code, _, log) = producer.finish();
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
    assert_eq!(got["resumes"], 2);
    let through = proxy.downstream.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        through * 10 < bytes.len() as u64 * 12,
        "{through} bytes through the proxy for {} of content: resumed, not restarted",
        bytes.len()
    );
}

#[test]
fn a_flipped_byte_is_caught_and_never_written() {
    let scratch = Scratch::new();
    let bytes = content(4 * 1024 * 1024);
    let source = scratch.file("a.bin", &bytes);

    // Once: the frame fails verification, the consumer resumes, the file is right.
    let producer = Producer::start(&source, &["--codec", "none"]);
    let proxy = Proxy::start(producer.port, Fault::FlipAt(3_000_000), 1);
    let out = scratch.path("once.bin");
    let run = consumer(proxy.port, &out).output();
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr.contains("does not match its digest"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
    drop(producer);

    // Always, inside the first frame a connection sends: no progress is
    // possible, the consumer gives up, and nothing is at --out.
    let producer = Producer::start(&source, &["--codec", "none"]);
    let proxy = Proxy::start(producer.port, Fault::FlipAt(500), usize::MAX);
    let out = scratch.path("always.bin");
    let run = consumer(proxy.port, &out).args(["--retries", "2"]).output();
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(!out.exists());
    assert_eq!(
        scratch.leftovers(&["a.bin", "once.bin"]),
        Vec::<String>::new()
    );
}

#[test]
fn a_stalled_connection_times_out_and_resumes() {
    let scratch = Scratch::new();
    let bytes = content(4 * 1024 * 1024);
    let source = scratch.file("a.bin", &bytes);
    let producer = Producer::start(&source, &["--codec", "none"]);
    let proxy = Proxy::start(producer.port, Fault::StallAfter(2_500_000), 1);
    let out = scratch.path("out.bin");
    let run = consumer(proxy.port, &out)
        .args(["--idle-timeout", "1"])
        .output();
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stderr.contains("resuming"), "{}", run.stderr);
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
    assert_eq!(
        proxy.connections.load(std::sync::atomic::Ordering::SeqCst),
        2
    );
}

#[test]
fn a_wrong_secret_is_refused_on_both_sides_before_any_content() {
    let scratch = Scratch::new();
    let source = scratch.file("a.bin", &content(1024 * 1024));
    let producer = Producer::start(&source, &["--timeout", "2"]);
    let proxy = Proxy::start(producer.port, Fault::None, 0);
    let out = scratch.path("out.bin");
    let run = consumer(proxy.port, &out)
        .env("ART_STREAM_SECRET", "not the secret")
        .output();
    assert_eq!(run.code, Some(4), "{}", run.stderr);
    assert!(
        run.stderr.contains("authentication failed"),
        "{}",
        run.stderr
    );
    assert!(!out.exists());
    // Hellos, the refusal, and nothing else crossed.
    let through = proxy.downstream.load(std::sync::atomic::Ordering::SeqCst);
    assert!(through < 1024, "{through} bytes reached the consumer");
    let (code, _, log) = producer.finish();
    assert_eq!(
        code,
        Some(3),
        "no verified consumer before the timeout: {log}"
    );
    assert!(log.contains("secret does not match"), "{log}");
}

#[test]
fn no_secret_means_no_run_unless_insecure() {
    let scratch = Scratch::new();
    let source = scratch.file("a.bin", b"data");
    let out = Run::new(&bin("art-stream"), scratch.dir.path())
        .args(["--file", "a.bin", "--port", "1"])
        .env_remove_secret()
        .output();
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("no shared secret"), "{}", out.stderr);
    let out = Run::new(&bin("art-consume"), scratch.dir.path())
        .args(["--host", "127.0.0.1", "--port", "1", "--out", "x"])
        .env_remove_secret()
        .output();
    assert_eq!(out.code, Some(2), "{}", out.stderr);

    // An insecure consumer is refused by a producer with a secret, and an
    // insecure producer by a consumer with one.
    let producer = Producer::start(&source, &["--timeout", "1"]);
    let out = Run::new(&bin("art-consume"), scratch.dir.path())
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &producer.port.to_string(),
            "--out",
            "x",
            "--insecure",
        ])
        .env_remove_secret()
        .output();
    assert_eq!(out.code, Some(4), "{}", out.stderr);
    drop(producer);
    let producer = Producer::start_with(&source, &["--insecure", "--timeout", "1"], None, None);
    assert!(
        producer.log().contains("--insecure: no authentication"),
        "{}",
        producer.log()
    );
    let run = consumer(producer.port, &scratch.path("y")).output();
    assert_eq!(run.code, Some(4), "{}", run.stderr);
    assert!(
        run.stderr.contains("runs without a secret"),
        "{}",
        run.stderr
    );
    drop(producer);
    let producer = Producer::start_with(&source, &["--insecure"], None, None);
    let out = Run::new(&bin("art-consume"), scratch.dir.path())
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &producer.port.to_string(),
            "--out",
            "z",
            "--insecure",
        ])
        .env_remove_secret()
        .output();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(std::fs::read(scratch.path("z")).unwrap(), b"data");
}

#[test]
fn an_expected_digest_that_differs_leaves_nothing() {
    let scratch = Scratch::new();
    let source = scratch.file("a.bin", &content(100_000));
    let producer = Producer::start(&source, &[]);
    let out = scratch.path("out.bin");
    let run = consumer(producer.port, &out)
        .args(["--expect-sha256", &"ab".repeat(32)])
        .output();
    assert_eq!(run.code, Some(5), "{}", run.stderr);
    assert!(
        run.stderr.contains("--expect-sha256 says abab"),
        "{}",
        run.stderr
    );
    assert!(!out.exists());
    assert_eq!(scratch.leftovers(&["a.bin"]), Vec::<String>::new());

    let producer2 = Producer::start(&source, &[]);
    let good = sha256_hex(&content(100_000));
    consumer(producer2.port, &out)
        .args(["--expect-sha256", &good])
        .success();
    assert!(out.exists());
}

#[test]
fn a_producer_killed_mid_stream_leaves_nothing() {
    let scratch = Scratch::new();
    let bytes = content(64 * 1024 * 1024);
    let source = scratch.file("a.bin", &bytes);
    let mut producer = Producer::start(&source, &["--codec", "none"]);
    // The proxy stalls the stream so the kill lands mid-way.
    let proxy = Proxy::start(producer.port, Fault::StallAfter(8_000_000), usize::MAX);
    let out = scratch.path("out.bin");
    let port = proxy.port;
    let out2 = out.clone();
    let run = std::thread::spawn(move || {
        consumer(port, &out2)
            .args(["--retries", "2", "--idle-timeout", "1"])
            .output()
    });
    while proxy.downstream.load(std::sync::atomic::Ordering::SeqCst) < 8_000_000 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    producer.kill();
    let run = run.join().unwrap();
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(!out.exists());
    assert_eq!(scratch.leftovers(&["a.bin"]), Vec::<String>::new());
}

#[test]
fn started_before_the_artifact_exists_it_waits_for_it() {
    let scratch = Scratch::new();
    let bytes = content(2 * 1024 * 1024);
    let path = scratch.path("dist.tar");
    let producer = Producer::start(&path, &[]);
    producer.wait_for_log("waiting for the file to appear");
    let port = producer.port;
    let out = scratch.path("out.tar");
    let out2 = out.clone();
    let consumer_run = std::thread::spawn(move || consumer(port, &out2).success());
    std::thread::sleep(std::time::Duration::from_millis(300));
    // The build finishes: the artifact appears whole, renamed into place.
    let staging = scratch.file("dist.tar.partial", &bytes);
    std::fs::rename(staging, &path).unwrap();
    consumer_run.join().unwrap();
    let (code, _, log) = producer.finish();
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
}

#[test]
fn the_file_never_appearing_is_a_timeout() {
    let scratch = Scratch::new();
    let producer = Producer::start(&scratch.path("never.bin"), &["--timeout", "1"]);
    let (code, stdout, log) = producer.finish();
    assert_eq!(code, Some(3), "{log}");
    assert!(stdout.is_empty());
    assert!(log.contains("did not appear within 1 seconds"), "{log}");
}

#[test]
fn linger_keeps_serving_after_the_needed_deliveries() {
    let scratch = Scratch::new();
    let bytes = content(500_000);
    let source = scratch.file("a.bin", &bytes);
    let producer = Producer::start(&source, &["--consumers", "1", "--linger", "3"]);
    consumer(producer.port, &scratch.path("first.bin")).success();
    // A late consumer, after the one the producer waited for, still gets it.
    consumer(producer.port, &scratch.path("late.bin")).success();
    let (code, line, log) = producer.finish();
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(json(&line)["consumers"], 2);
    assert_eq!(std::fs::read(scratch.path("late.bin")).unwrap(), bytes);
}

/// Both sides' figures as Prometheus's real Pushgateway takes them (started
/// by `cargo xtask test`), grouped by the artifact's name.
#[test]
fn both_sides_push_metrics() {
    let gateway = std::env::var("SLIPWAY_PUSHGATEWAY_URL")
        .expect("SLIPWAY_PUSHGATEWAY_URL is set by `cargo xtask test`");
    let scratch = Scratch::new();
    let name = format!("{}.bin", crate::support::unique("metrics"));
    let bytes = content(200_000);
    let source = scratch.file(&name, &bytes);
    let producer = Producer::start(&source, &["--pushgateway", &gateway]);
    let out_dir = scratch.path("received");
    std::fs::create_dir(&out_dir).unwrap();
    consumer(producer.port, &out_dir.join(&name))
        .args(["--pushgateway", &gateway])
        .success();
    let (code, _, stderr) = producer.finish();
    assert_eq!(code, Some(0), "{stderr}");
    let lines = crate::spot::metrics_served(&format!("artifact=\"{name}\""));
    let value = |job: &str, metric: &str| {
        crate::spot::metric_value(&lines, metric, &[&format!("job=\"{job}\"")])
    };
    assert_eq!(
        value("art-stream", "slipway_artifact_bytes"),
        Some(200_000.0),
        "{lines:#?}"
    );
    assert_eq!(
        value("art-stream", "slipway_artifact_consumers_served"),
        Some(1.0)
    );
    assert_eq!(
        value("art-consume", "slipway_artifact_bytes"),
        Some(200_000.0)
    );
    assert_eq!(
        value("art-consume", "slipway_artifact_resumes_total"),
        Some(0.0)
    );
    assert!(value("art-consume", "slipway_artifact_wire_bytes").is_some_and(|b| b > 0.0));
    // The origin article's name, by transport: all of it streamed.
    let by = |transport: &str| {
        crate::spot::metric_value(
            &lines,
            "artifact_stream_bytes_total",
            &["job=\"art-consume\"", &format!("transport=\"{transport}\"")],
        )
    };
    assert!(by("stream").is_some_and(|b| b > 0.0), "{lines:#?}");
    assert_eq!(by("store"), Some(0.0));
}

/// The producer fails to read what appears at its path (a directory) while
/// a consumer waits for frames: the consumer is told why and exits 7 with
/// nothing at `--out`.
#[test]
fn a_producer_that_cannot_read_its_artifact_is_exit_7() {
    let scratch = Scratch::new();
    let path = scratch.path("dist");
    let producer = Producer::start(&path, &[]);
    producer.wait_for_log("waiting for the file to appear");
    let port = producer.port;
    let out = scratch.path("out.bin");
    let out2 = out.clone();
    let consumer_run = std::thread::spawn(move || consumer(port, &out2).output());
    producer.wait_for_log("connection waits for the artifact");
    std::fs::create_dir(&path).unwrap();
    let run = consumer_run.join().unwrap();
    assert_eq!(run.code, Some(7), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the producer could not serve the artifact"),
        "{}",
        run.stderr
    );
    assert!(!out.exists());
    let (code, _, log) = producer.finish();
    assert_eq!(code, Some(4), "{log}");
}

/// An output that cannot be written after a verified transfer is exit 1
/// (unexpected), naming the file: here `$GITHUB_OUTPUT` is a directory.
#[test]
fn an_unwritable_step_output_is_exit_1() {
    let scratch = Scratch::new();
    let source = scratch.file("a.bin", &content(10_000));
    let producer = Producer::start(&source, &[]);
    let outputs = scratch.path("outputs-dir");
    std::fs::create_dir(&outputs).unwrap();
    let run = consumer(producer.port, &scratch.path("out.bin"))
        .env("GITHUB_OUTPUT", &outputs)
        .output();
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("failed to write the GitHub outputs to"),
        "{}",
        run.stderr
    );
    let _ = producer.finish();
}

/// The frames sent raw ahead of the compressor to the consumer whose
/// delivery the producer logged.
fn raw_ahead(log: &str) -> (u64, u64) {
    let line = log
        .lines()
        .find(|l| l.contains("consumer verified the artifact"))
        .unwrap_or_else(|| panic!("no delivery logged: {log}"));
    let field = |name: &str| -> u64 {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(name))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {line}"))
    };
    (field("frames_sent="), field("raw_ahead="))
}

/// Highly compressible bytes: repeated source text.
fn text(len: usize) -> Vec<u8> {
    let line = b"pub fn build(artifact: &Path) -> Result<(), Error> { compile(artifact) }\n";
    line.iter().copied().cycle().take(len).collect()
}

#[test]
fn a_consumer_that_keeps_up_with_the_compressor_gets_frames_raw_ahead_of_it() {
    let scratch = Scratch::new();
    let bytes = text(8 * 1024 * 1024);
    let source = scratch.file("a.bin", &bytes);
    // Level 19 is far slower than loopback: the consumer catches up with
    // the compressor at once and does not wait for it.
    let producer = Producer::start(&source, &["--level", "19"]);
    let out = scratch.path("out.bin");
    let line = consumer(producer.port, &out).success();
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
    let (code, _, log) = producer.finish();
    assert_eq!(code, Some(0), "{log}");
    let (frames, ahead) = raw_ahead(&log);
    assert_eq!(frames, 8, "{log}");
    assert!(ahead >= 4, "{ahead} of {frames} frames raw ahead: {log}");
    let stream_bytes = json(&line)["stream_bytes"].as_u64().unwrap();
    assert!(stream_bytes >= 4 << 20, "{line}");
}

#[test]
fn a_slow_link_still_gets_compressed_frames() {
    let scratch = Scratch::new();
    let bytes = text(8 * 1024 * 1024);
    let source = scratch.file("a.bin", &bytes);
    let producer = Producer::start(&source, &[]);
    // 2 MB/s: the raw file would take four seconds through it.
    let proxy = Proxy::start(producer.port, Fault::Throttle(2_000_000), 1);
    let out = scratch.path("out.bin");
    consumer(proxy.port, &out).success();
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
    let (code, _, log) = producer.finish();
    assert_eq!(code, Some(0), "{log}");
    let (frames, ahead) = raw_ahead(&log);
    assert!(
        ahead * 2 < frames,
        "{ahead} of {frames} frames raw on a slow link: {log}"
    );
    let through = proxy.downstream.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        through < bytes.len() as u64 / 2,
        "{through} bytes crossed the slow link for {} of content",
        bytes.len()
    );
}

#[test]
fn a_link_slower_than_the_compressor_raises_the_level() {
    use std::io::Write as _;
    let scratch = Scratch::new();
    // Standard input kept open: the compressor has made every frame so
    // far and is not finished, while the 2 MB/s link lags far behind.
    let first = content(8 * 1024 * 1024);
    let last = content(1024 * 1024);
    let mut producer =
        Producer::start_with(Path::new("-"), &[], Some(SECRET), Some(Stdio::piped()));
    let mut stdin = producer.take_stdin();
    stdin.write_all(&first).unwrap();
    let proxy = Proxy::start(producer.port, Fault::Throttle(2_000_000), 1);
    let out = scratch.path("out.bin");
    let port = proxy.port;
    let out2 = out.clone();
    let consumer_run = std::thread::spawn(move || consumer(port, &out2).output());
    producer.wait_for_log("compression level raised");
    stdin.write_all(&last).unwrap();
    drop(stdin);
    let run = consumer_run.join().unwrap();
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(std::fs::read(&out).unwrap(), [first, last].concat());
    let (code, _, log) = producer.finish();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("level=2"), "{log}");
}
