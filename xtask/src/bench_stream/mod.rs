//! `cargo xtask bench-stream`: art-stream/art-consume against the pipelines
//! a user would otherwise write, as whole processes, in one run:
//! `zstd -1 -c F | nc -l` -> `nc | zstd -d | tee OUT | openssl dgst -sha256`,
//! and the same without zstd. By default each side has a core of its own
//! in a network namespace whose loopback is shaped to a link rate
//! (`link.rs`); `--loopback` runs both on the host's shared cores.

mod link;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};

use crate::tools::{RemoveOnDrop, cargo, output, run, target_dir};

const GIB: u64 = 1 << 30;
pub(crate) const RUNS: usize = 5;
pub(crate) const SECRET: &str = "bench-stream secret";

/// `cargo xtask bench-stream [--loopback | --link RATE …]`.
pub(crate) fn run_bench(args: &[String]) -> anyhow::Result<()> {
    let mut links = Vec::new();
    let mut loopback = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--loopback" => loopback = true,
            "--link" => links.push(
                args.next()
                    .context("--link needs a rate: none, 1gbit, 5gbit, …")?
                    .clone(),
            ),
            other => bail!("bench-stream: unknown argument {other:?}"),
        }
    }
    crate::tools::ensure_debian_tools(&[
        ("zstd", "zstd"),
        ("nc", "netcat-openbsd"),
        ("openssl", "openssl"),
        ("/usr/bin/time", "time"),
        ("tc", "iproute2"),
        ("taskset", "util-linux"),
    ])?;
    run(cargo().args([
        "build",
        "--quiet",
        "--release",
        "-p",
        "art-stream",
        "-p",
        "art-consume",
    ]))?;
    let bin = target_dir().join("release");
    if loopback {
        return run_loopback(&bin);
    }
    if links.is_empty() {
        links = vec!["none".to_owned(), "1gbit".to_owned()];
    }
    link::run_grid(&bin, &links)
}

/// Both sides on the same cores over the host's loopback.
fn run_loopback(bin: &Path) -> anyhow::Result<()> {
    let data = target_dir().join("bench-data");
    std::fs::create_dir_all(&data)?;
    let compressible = data.join("binaries-1g.bin");
    let random = data.join("random-1g.bin");
    make_compressible(&compressible, GIB)?;
    make_random(&random, GIB)?;
    let scratch = std::env::temp_dir().join(format!("slipway-bench-stream-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let _cleanup = RemoveOnDrop(scratch.clone());

    println!("| file | tool | median | MB/s | ratio | peak RSS producer / consumer |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for (label, file) in [("1 GiB binaries", &compressible), ("1 GiB random", &random)] {
        let mut baseline = Vec::new();
        let mut ours = Vec::new();
        let mut rss = (0, 0);
        for _ in 0..RUNS {
            baseline.push(baseline_once(file, &scratch)?);
            let (seconds, producer_kb, consumer_kb) = ours_once(bin, file, &scratch, 1)?;
            ours.push(seconds);
            rss = (rss.0.max(producer_kb), rss.1.max(consumer_kb));
        }
        let (b, o) = (median(&mut baseline), median(&mut ours));
        println!(
            "| {label} | zstd -1 \\| nc | {b:.2} s | {:.0} | 1.00x | - |",
            mb_per_s(GIB, b)
        );
        println!(
            "| {label} | art-stream/art-consume | {o:.2} s | {:.0} | {:.2}x | {:.1} / {:.1} MB |",
            mb_per_s(GIB, o),
            b / o,
            kb_to_mb(rss.0),
            kb_to_mb(rss.1)
        );
    }
    let mut one = Vec::new();
    let mut four = Vec::new();
    for _ in 0..RUNS {
        one.push(ours_once(bin, &compressible, &scratch, 1)?.0);
        four.push(ours_once(bin, &compressible, &scratch, 4)?.0);
    }
    let (one, four) = (median(&mut one), median(&mut four));
    println!(
        "\n4 consumers of 1 GiB binaries: {four:.2} s against {one:.2} s for 1 ({:.2}x the time)",
        four / one
    );
    Ok(())
}

/// Peak resident memory, read from GNU time's output file.
pub(crate) fn peak_kb(path: &Path) -> anyhow::Result<u64> {
    let text = std::fs::read_to_string(path)?;
    text.lines()
        .rev()
        .find_map(|l| l.trim().parse().ok())
        .with_context(|| format!("no peak RSS in {}", path.display()))
}

fn baseline_once(file: &Path, scratch: &Path) -> anyhow::Result<f64> {
    let port = free_port()?;
    let out = scratch.join("baseline.out");
    let start = Instant::now();
    let mut producer = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "zstd -1 -q -c '{}' | nc -N -l 127.0.0.1 {port}",
            file.display()
        ))
        .spawn()?;
    wait_listening(port)?;
    let digest = output(Command::new("sh").arg("-c").arg(format!(
        "nc -d 127.0.0.1 {port} | zstd -d -q | tee '{}' | openssl dgst -sha256",
        out.display()
    )))?;
    let status = producer.wait()?;
    let seconds = start.elapsed().as_secs_f64();
    ensure!(status.success(), "the baseline producer failed");
    ensure!(
        std::fs::metadata(&out)?.len() == GIB,
        "the baseline moved {} bytes",
        std::fs::metadata(&out)?.len()
    );
    ensure!(digest.contains("= "), "openssl printed no digest: {digest}");
    std::fs::remove_file(&out)?;
    Ok(seconds)
}

/// One producer and `consumers` consumers; returns seconds and the peak
/// RSS (KiB) of the producer and of the largest consumer.
fn ours_once(
    bin: &Path,
    file: &Path,
    scratch: &Path,
    consumers: usize,
) -> anyhow::Result<(f64, u64, u64)> {
    let port = free_port()?;
    let start = Instant::now();
    let producer_rss = scratch.join("producer.rss");
    let mut producer = timed(&producer_rss)
        .arg(bin.join("art-stream"))
        .args(["--file"])
        .arg(file)
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--consumers",
            &consumers.to_string(),
            "-q",
        ])
        .env("ART_STREAM_SECRET", SECRET)
        .stdout(Stdio::null())
        .spawn()?;
    wait_listening(port)?;
    let mut children: Vec<(Child, PathBuf, PathBuf)> = Vec::new();
    for i in 0..consumers {
        let out = scratch.join(format!("ours{i}.out"));
        let rss = scratch.join(format!("consumer{i}.rss"));
        let child = timed(&rss)
            .arg(bin.join("art-consume"))
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "-q",
                "--out",
            ])
            .arg(&out)
            .env("ART_STREAM_SECRET", SECRET)
            .stdout(Stdio::null())
            .spawn()?;
        children.push((child, out, rss));
    }
    let mut consumer_kb = 0;
    for (mut child, out, rss) in children {
        ensure!(child.wait()?.success(), "art-consume failed");
        ensure!(
            std::fs::metadata(&out)?.len() == GIB,
            "art-consume wrote the wrong size"
        );
        std::fs::remove_file(&out)?;
        consumer_kb = consumer_kb.max(peak_kb(&rss)?);
    }
    ensure!(producer.wait()?.success(), "art-stream failed");
    let seconds = start.elapsed().as_secs_f64();
    Ok((seconds, peak_kb(&producer_rss)?, consumer_kb))
}

fn timed(rss_file: &Path) -> Command {
    let mut cmd = Command::new("/usr/bin/time");
    cmd.arg("-f").arg("%M").arg("-o").arg(rss_file);
    cmd
}

/// Waits until something listens on the port, without connecting to it
/// (a connection would use up the baseline's single `nc -l`).
fn wait_listening(port: u16) -> anyhow::Result<()> {
    wait_listening_in(Path::new("/proc/net/tcp"), port)
}

/// As `wait_listening`, reading the socket table at `table` (a process's
/// `/proc/PID/net/tcp` shows its own network namespace).
pub(crate) fn wait_listening_in(table: &Path, port: u16) -> anyhow::Result<()> {
    let needle = format!(":{port:04X} ");
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let table = std::fs::read_to_string(table)?;
        if table
            .lines()
            .any(|l| l.contains(&needle) && l.split_whitespace().nth(3) == Some("0A"))
        {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    bail!("nothing listened on port {port}")
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// `size` bytes of real executables and libraries, concatenated (repeated
/// when the machine has fewer): compressible the way build outputs are.
pub(crate) fn make_compressible(path: &Path, size: u64) -> anyhow::Result<()> {
    if std::fs::metadata(path).is_ok_and(|m| m.len() == size) {
        return Ok(());
    }
    let mut sources = Vec::new();
    for dir in ["/usr/bin", "/usr/lib/x86_64-linux-gnu", "/usr/libexec"] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_file()) {
                sources.push(entry.path());
            }
        }
    }
    sources.sort();
    ensure!(
        !sources.is_empty(),
        "no binaries found to build the compressible file from"
    );
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut written = 0u64;
    'fill: loop {
        for source in &sources {
            let Ok(bytes) = std::fs::read(source) else {
                continue;
            };
            let take = bytes.len().min(usize::try_from(size - written)?);
            std::io::Write::write_all(&mut out, &bytes[..take])?;
            written += take as u64;
            if written == size {
                break 'fill;
            }
        }
    }
    std::io::Write::flush(&mut out)?;
    Ok(())
}

pub(crate) fn make_random(path: &Path, size: u64) -> anyhow::Result<()> {
    if std::fs::metadata(path).is_ok_and(|m| m.len() == size) {
        return Ok(());
    }
    run(Command::new("sh").arg("-c").arg(format!(
        "head -c {size} /dev/urandom > '{}'",
        path.display()
    )))
}

pub(crate) fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[expect(clippy::cast_precision_loss, reason = "a rate for people to read")]
pub(crate) fn mb_per_s(bytes: u64, seconds: f64) -> f64 {
    bytes as f64 / seconds / 1e6
}

#[expect(clippy::cast_precision_loss, reason = "a size for people to read")]
pub(crate) fn kb_to_mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}
