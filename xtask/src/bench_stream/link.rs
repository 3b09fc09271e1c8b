//! `cargo xtask bench-stream [--link RATE]`: two machines, as near as one
//! can get on one: a fresh network namespace whose own loopback is shaped
//! with `tc tbf` to a link rate, the producer side pinned to CPU 0 and the
//! consumer side to CPU 1 (`taskset`), for ours and for both pipelines a
//! user would otherwise write. Runs alternate; medians are reported, each
//! cell as a ratio against each baseline (the machine is shared and noisy).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use anyhow::{Context as _, bail, ensure};

use super::{
    RUNS, SECRET, kb_to_mb, make_compressible, make_random, mb_per_s, median, wait_listening_in,
};
use crate::tools::{RemoveOnDrop, run, target_dir};

const SIZE: u64 = 512 << 20;
const PORT: u16 = 47_000;

/// What moves the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    /// `zstd -1 -c F | nc -N -l` → `nc -d | zstd -d | tee OUT | openssl dgst -sha256`.
    Zstd,
    /// `nc -N -l < F` → `nc -d | tee OUT | openssl dgst -sha256`.
    Raw,
    Ours,
}

/// One run: its wall time, the producer side's CPU seconds and the peak
/// RSS (KiB) of the producer and the largest consumer.
struct Sample {
    seconds: f64,
    producer_cpu: f64,
    producer_kb: u64,
    consumer_kb: u64,
}

pub(crate) fn run_grid(bin: &Path, links: &[String]) -> anyhow::Result<()> {
    let data = target_dir().join("bench-data");
    std::fs::create_dir_all(&data)?;
    let compressible = data.join("binaries-512m.bin");
    let random = data.join("random-512m.bin");
    make_compressible(&compressible, SIZE)?;
    make_random(&random, SIZE)?;
    let scratch = std::env::temp_dir().join(format!("slipway-bench-link-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let _cleanup = RemoveOnDrop(scratch.clone());

    println!(
        "512 MiB per run, {RUNS} alternating runs, medians; producer side on CPU 0, consumer side on CPU 1\n"
    );
    println!(
        "| link | file | `zstd -1 \\| nc` | raw `nc` | ours | ours / zstd | ours / raw | ours / faster | peak RSS producer / consumer |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let mut worst: f64 = 0.0;
    for rate in links {
        let ns = Namespace::new(rate)?;
        for (label, file) in [("compressible", &compressible), ("random", &random)] {
            let mut times = [Vec::new(), Vec::new(), Vec::new()];
            let (mut producer_kb, mut consumer_kb) = (0, 0);
            for _ in 0..RUNS {
                for (slot, tool) in [Tool::Zstd, Tool::Raw, Tool::Ours].into_iter().enumerate() {
                    let sample = once(&ns, bin, tool, file, &scratch, 1)?;
                    times[slot].push(sample.seconds);
                    if tool == Tool::Ours {
                        producer_kb = producer_kb.max(sample.producer_kb);
                        consumer_kb = consumer_kb.max(sample.consumer_kb);
                    }
                }
            }
            let [zstd, raw, ours] = times.map(|mut t| median(&mut t));
            let faster = zstd.min(raw);
            worst = worst.max(ours / faster);
            println!(
                "| {rate} | {label} | {zstd:.2} s | {raw:.2} s | {ours:.2} s ({:.0} MB/s) | {:.2}x | {:.2}x | **{:.2}x** | {:.1} / {:.1} MB |",
                mb_per_s(SIZE, ours),
                ours / zstd,
                ours / raw,
                ours / faster,
                kb_to_mb(producer_kb),
                kb_to_mb(consumer_kb),
            );
        }
    }
    println!("\nworst cell: {worst:.2}x the time of the faster baseline (the aim: at most 0.90x)");

    // The producer's CPU for 4 consumers against 1, on the first link.
    let ns = Namespace::new(&links[0])?;
    let (mut one, mut four) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        one.push(once(&ns, bin, Tool::Ours, &compressible, &scratch, 1)?.producer_cpu);
        four.push(once(&ns, bin, Tool::Ours, &compressible, &scratch, 4)?.producer_cpu);
    }
    let (one, four) = (median(&mut one), median(&mut four));
    println!(
        "producer CPU, compressible, link {}: {four:.2} s for 4 consumers, {one:.2} s for 1 ({:.2}x; the aim: at most 1.10x)",
        links[0],
        four / one
    );
    Ok(())
}

/// A network namespace of its own, its loopback up and shaped; deleted on
/// drop.
struct Namespace {
    name: String,
}

impl Namespace {
    fn new(rate: &str) -> anyhow::Result<Namespace> {
        let name = format!("slipway-bench-{}", std::process::id());
        // One left by a run that was killed.
        let _ = Command::new("ip")
            .args(["netns", "del", &name])
            .stderr(Stdio::null())
            .status();
        run(Command::new("ip").args(["netns", "add", &name]))
            .context("creating a network namespace needs root (CAP_SYS_ADMIN)")?;
        let ns = Namespace { name };
        run(ns.exec().args(["ip", "link", "set", "lo", "up"]))?;
        if rate != "none" {
            run(ns.exec().args([
                "tc", "qdisc", "add", "dev", "lo", "root", "tbf", "rate", rate, "burst", "1mb",
                "latency", "50ms",
            ]))
            .with_context(|| format!("shaping the loopback to {rate:?}"))?;
        }
        Ok(ns)
    }

    fn exec(&self) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name]);
        cmd
    }

    /// `program` in the namespace on `cpu`, under GNU time (peak RSS and
    /// CPU seconds into `stats`).
    fn pinned(&self, cpu: u32, stats: &Path) -> Command {
        let mut cmd = self.exec();
        cmd.args(["taskset", "-c", &cpu.to_string(), "/usr/bin/time"])
            .args(["-f", "%M %U %S", "-o"])
            .arg(stats)
            .env("ART_STREAM_SECRET", SECRET)
            .stdout(Stdio::null());
        cmd
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

fn once(
    ns: &Namespace,
    bin: &Path,
    tool: Tool,
    file: &Path,
    scratch: &Path,
    consumers: usize,
) -> anyhow::Result<Sample> {
    let file = file.display();
    let producer_stats = scratch.join("producer.time");
    let mut producer = ns.pinned(0, &producer_stats);
    match tool {
        Tool::Zstd => producer.args([
            "sh",
            "-c",
            &format!("zstd -1 -q -c '{file}' | nc -N -l 127.0.0.1 {PORT}"),
        ]),
        Tool::Raw => producer.args(["sh", "-c", &format!("nc -N -l 127.0.0.1 {PORT} < '{file}'")]),
        Tool::Ours => producer.arg(bin.join("art-stream")).args([
            "--file",
            &file.to_string(),
            "--port",
            &PORT.to_string(),
            "--bind",
            "127.0.0.1",
            "--consumers",
            &consumers.to_string(),
            "-q",
        ]),
    };
    let start = Instant::now();
    let mut producer = producer.spawn()?;
    let listening = wait_listening_in(
        &PathBuf::from(format!("/proc/{}/net/tcp", producer.id())),
        PORT,
    );
    if let Err(err) = listening {
        let _ = producer.kill();
        let _ = producer.wait();
        return Err(err);
    }
    let mut children: Vec<(Child, PathBuf, PathBuf)> = Vec::new();
    for i in 0..consumers {
        let out = scratch.join(format!("out{i}"));
        let stats = scratch.join(format!("consumer{i}.time"));
        let digest = scratch.join(format!("digest{i}"));
        let mut consumer = ns.pinned(1, &stats);
        let (out_shown, digest_shown) = (out.display(), digest.display());
        match tool {
            Tool::Zstd => consumer.args([
                "sh",
                "-c",
                &format!("nc -d 127.0.0.1 {PORT} | zstd -d -q | tee '{out_shown}' | openssl dgst -sha256 > '{digest_shown}'"),
            ]),
            Tool::Raw => consumer.args([
                "sh",
                "-c",
                &format!("nc -d 127.0.0.1 {PORT} | tee '{out_shown}' | openssl dgst -sha256 > '{digest_shown}'"),
            ]),
            Tool::Ours => consumer.arg(bin.join("art-consume")).args([
                "--host",
                "127.0.0.1",
                "--port",
                &PORT.to_string(),
                "-q",
                "--out",
                &out_shown.to_string(),
            ]),
        };
        children.push((consumer.spawn()?, out, stats));
        if tool != Tool::Ours {
            break;
        }
    }
    let mut consumer_kb = 0;
    for (mut child, out, stats) in children {
        ensure!(child.wait()?.success(), "the {tool:?} consumer failed");
        let len = std::fs::metadata(&out)?.len();
        ensure!(len == SIZE, "the {tool:?} consumer wrote {len} bytes");
        std::fs::remove_file(&out)?;
        consumer_kb = consumer_kb.max(time_stats(&stats)?.0);
    }
    ensure!(producer.wait()?.success(), "the {tool:?} producer failed");
    let seconds = start.elapsed().as_secs_f64();
    let (producer_kb, producer_cpu) = time_stats(&producer_stats)?;
    Ok(Sample {
        seconds,
        producer_cpu,
        producer_kb,
        consumer_kb,
    })
}

/// Peak RSS (KiB) and CPU seconds (user + system) from GNU time's file.
fn time_stats(path: &Path) -> anyhow::Result<(u64, f64)> {
    let text = std::fs::read_to_string(path)?;
    for line in text.lines().rev() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if let [rss, user, system] = fields[..]
            && let (Ok(rss), Ok(user), Ok(system)) =
                (rss.parse(), user.parse::<f64>(), system.parse::<f64>())
        {
            return Ok((rss, user + system));
        }
    }
    bail!("no figures in {}: {text:?}", path.display())
}
