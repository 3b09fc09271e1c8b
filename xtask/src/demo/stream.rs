//! The demo's second and third parts: the affected packages' build output
//! streamed through a local `file://` store to one consumer per matrix
//! entry (the last after the producer has gone: the fallback copy), and
//! the run priced on the recorded eu-west-1 spot history.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::Context as _;

use super::{Mode, run_for};
use slipway_contract::art::ConsumeSummary;

use crate::tools::{root, target_dir};

const SECRET: &str = "the demo's shared secret";
/// The demo's assumption for one matrix job, minutes (labelled as such).
const JOB_MINUTES: f64 = 10.0;

/// What the artifact's consumers received.
pub(crate) struct Moved {
    pub(crate) bytes: u64,
    pub(crate) consumers: usize,
    pub(crate) streamed: u64,
    pub(crate) from_store: u64,
    pub(crate) fell_back: usize,
}

/// "Builds" each affected package into `dist/<package>/`, serves the
/// directory with art-stream through a `file://` store, and fetches it
/// with `consumers` art-consume runs: all but one while the producer
/// serves, the last once it has gone.
pub(crate) fn stream(
    mode: Mode,
    work: &Path,
    packages: &[String],
    consumers: usize,
) -> anyhow::Result<Moved> {
    let dist = build(work, packages)?;
    let store = work.join("store");
    std::fs::create_dir_all(&store)?;
    let url = format!("file://{}", store.display());
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let bin = |name: &str| target_dir().join("debug").join(name);
    let scope = ["--name", "app", "--run-id", "demo/1"];
    say(
        mode,
        &format!(
            "\n2. art-stream and art-consume\n\n$ art-stream --path dist --store {url} --name app --consumers {}   # the build job\n$ art-consume --store … --name app --extract got-N   # each of {consumers} test jobs",
            consumers - 1
        ),
    );
    let mut producer = Command::new(bin("art-stream"))
        .arg("--path")
        .arg(&dist)
        .args(["--store", &url])
        .args(scope)
        .args(["--advertise", "127.0.0.1", "--bind", "127.0.0.1"])
        .args(["--port", &port.to_string(), "--timeout", "60"])
        .args(["--consumers", &(consumers - 1).to_string()])
        .env("ART_STREAM_SECRET", SECRET)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_REPOSITORY")
        .env_remove("GITHUB_RUN_ID")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("could not start art-stream")?;
    let consume = |n: usize| -> anyhow::Result<ConsumeSummary> {
        let out = run_for(
            Command::new(bin("art-consume"))
                .args(["--store", &url])
                .args(scope)
                .arg("--extract")
                .arg(work.join(format!("got-{n}")))
                .args(["--wait", "60", "--connect-timeout", "2"])
                .env("ART_STREAM_SECRET", SECRET)
                .env("NO_COLOR", "1")
                .env_remove("GITHUB_REPOSITORY")
                .env_remove("GITHUB_RUN_ID"),
            "art-consume",
        )?;
        crate::outputs::consume_summary(&out)
    };
    let streaming: Vec<anyhow::Result<ConsumeSummary>> = std::thread::scope(|s| {
        let handles: Vec<_> = (1..consumers)
            .map(|n| s.spawn(move || consume(n)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a consumer thread panicked")))
            })
            .collect()
    });
    let status = producer.wait()?;
    let mut log = String::new();
    if let Some(mut err) = producer.stderr.take() {
        std::io::Read::read_to_string(&mut err, &mut log)?;
    }
    anyhow::ensure!(status.success(), "art-stream failed ({status}):\n{log}");
    let mut line = String::new();
    if let Some(mut out) = producer.stdout.take() {
        std::io::Read::read_to_string(&mut out, &mut line)?;
    }
    let served = crate::outputs::stream_summary(&line)?;
    anyhow::ensure!(
        served.consumers == (consumers - 1) as u64 && served.stored_bytes.is_some(),
        "art-stream served {} consumers (expected {}) and stored {:?} bytes",
        served.consumers,
        consumers - 1,
        served.stored_bytes
    );
    let mut lines = streaming.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    // The producer is gone: this one finds the announcement, cannot
    // connect, and reads the store's copy.
    lines.push(consume(consumers)?);
    tally(mode, work, packages, &lines)
}

/// "Builds" each package into `dist/<package>/`: 256 KiB of lines that
/// compress about as object files do (a symbol table's worth of varied
/// names and addresses), different for each package.
fn build(work: &Path, packages: &[String]) -> anyhow::Result<std::path::PathBuf> {
    use std::fmt::Write as _;
    let dist = work.join("dist");
    for (i, package) in packages.iter().enumerate() {
        let dir = dist.join(package.replace(['/', '@'], "_"));
        std::fs::create_dir_all(&dir)?;
        let mut state = 0x9e37_79b9_7f4a_7c15_u64 ^ (i as u64 + 1);
        let mut text = String::with_capacity(256 << 10);
        while text.len() < 256 << 10 {
            // xorshift: deterministic, varied.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let _ = writeln!(text, "{package}::sym_{:x} 0x{:016x} T", state >> 40, state);
        }
        std::fs::write(dir.join("output.txt"), text)?;
    }
    Ok(dist)
}

/// What the consumers' summary lines say, each one's tree checked.
fn tally(
    mode: Mode,
    work: &Path,
    packages: &[String],
    lines: &[ConsumeSummary],
) -> anyhow::Result<Moved> {
    let mut moved = Moved {
        bytes: 0,
        consumers: lines.len(),
        streamed: 0,
        from_store: 0,
        fell_back: 0,
    };
    for (n, line) in lines.iter().enumerate() {
        moved.bytes = moved.bytes.max(line.bytes);
        moved.streamed += line.stream_bytes;
        moved.from_store += line.store_bytes;
        let stored = line.store_bytes > 0;
        moved.fell_back += usize::from(stored);
        say(
            mode,
            &format!(
                "  consumer {}: {} bytes; on the wire (compressed) {} streamed, {} from the store{}",
                n + 1,
                line.bytes,
                line.stream_bytes,
                line.store_bytes,
                if stored {
                    "  (the producer had left)"
                } else {
                    ""
                }
            ),
        );
        let got = work.join(format!("got-{}", n + 1));
        for package in packages {
            let file = got
                .join(package.replace(['/', '@'], "_"))
                .join("output.txt");
            anyhow::ensure!(
                file.is_file(),
                "consumer {} has no {}",
                n + 1,
                file.display()
            );
        }
    }
    anyhow::ensure!(moved.streamed > 0, "no consumer was streamed to");
    anyhow::ensure!(
        moved.fell_back >= 1 && lines.last().is_some_and(|l| l.store_bytes > 0),
        "the last consumer did not read the fallback copy"
    );
    Ok(moved)
}

/// The chosen pool and what the run costs three ways.
pub(crate) struct Priced {
    pub(crate) pool: String,
    pub(crate) price: f64,
    pub(crate) spot_cost: f64,
    pub(crate) on_demand_cost: f64,
    pub(crate) hosted_cost: f64,
}

/// Ranks eu-west-1 pools on the recorded history (a week to 2022-06-07)
/// and prices `jobs` jobs of [`JOB_MINUTES`] each.
pub(crate) fn price(mode: Mode, jobs: usize) -> anyhow::Result<Priced> {
    let data = root().join("crates/slipway-spot/data");
    let history = std::fs::read_to_string(
        data.join("recorded/spot-price-history-eu-west-1-2022-05-24-to-06-07.json"),
    )?;
    let changes = slipway_spot::parse_history(&history)?;
    let advisor = slipway_spot::Advisor::parse(
        &std::fs::read_to_string(data.join("recorded/spot-advisor-data.json"))?,
        "eu-west-1",
        "Linux",
    )?;
    let on_demand = slipway_spot::OnDemand::bundled();
    let end = slipway_spot::time::parse_rfc3339("2022-06-07T00:00:00Z").context("a date")?;
    let start = end - 7 * 24 * 3600;
    let wanted = ["c5.large", "c6i.large", "m5.large", "m6i.large"];
    let pools: Vec<_> = slipway_spot::by_pool(&changes)
        .into_iter()
        .filter(|(p, _)| wanted.contains(&p.instance_type.as_str()))
        .filter_map(|(p, series)| Some((p, slipway_spot::window_stats(&series, start, end)?)))
        .collect();
    let scoring = slipway_spot::Scoring {
        job_minutes: JOB_MINUTES,
        ..slipway_spot::Scoring::default()
    };
    let ranked = slipway_spot::rank(
        &pools,
        &scoring,
        Some(&advisor),
        Some(&on_demand),
        &std::collections::HashMap::new(),
    );
    let best = ranked
        .iter()
        .find(|c| c.eligible)
        .context("no eligible pool in the recorded history")?;
    let hosted: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(
        root().join("xtask/fixtures/hosted-runner-prices.json"),
    )?)?;
    let per_minute = hosted["usd_per_minute"]["linux-2-core"]
        .as_f64()
        .context("no linux-2-core price")?;
    #[expect(clippy::cast_precision_loss, reason = "a handful of jobs")]
    let minutes = jobs as f64 * JOB_MINUTES;
    let hours = minutes / 60.0;
    let od_price = on_demand
        .price(&best.instance_type)
        .context("no on-demand price")?;
    let priced = Priced {
        pool: format!("{} {}", best.instance_type, best.availability_zone),
        price: best.mean_price,
        spot_cost: best.mean_price * hours,
        on_demand_cost: od_price * hours,
        hosted_cost: per_minute * minutes,
    };
    say(
        mode,
        &format!(
            "\n3. spot pricing (recorded eu-west-1 history, the week to 2022-06-07; {JOB_MINUTES} min per job, assumed)\n\n  {:<10} {:<12} {:>9} {:>9} {:>12}  interruption",
            "type", "zone", "mean $/h", "now $/h", "$ per job"
        ),
    );
    for c in ranked.iter().filter(|c| c.eligible).take(5) {
        say(
            mode,
            &format!(
                "  {:<10} {:<12} {:>9.4} {:>9.4} {:>12.5}  {}",
                c.instance_type,
                c.availability_zone,
                c.mean_price,
                c.current_price,
                c.expected_job_cost,
                c.interruption
            ),
        );
    }
    say(
        mode,
        &format!(
            "\n  chosen: {} (lowest expected cost per job, interruption risk included)\n  \
         {jobs} jobs x {JOB_MINUTES} min: spot {:.4} USD, on-demand {:.4} USD (us-east-1 table), \
         GitHub-hosted 2-core {:.4} USD ({}, as of {})",
            priced.pool,
            priced.spot_cost,
            priced.on_demand_cost,
            priced.hosted_cost,
            hosted["source"].as_str().unwrap_or_default(),
            hosted["as_of"].as_str().unwrap_or_default()
        ),
    );
    anyhow::ensure!(
        priced.spot_cost > 0.0 && priced.spot_cost < priced.on_demand_cost,
        "spot should cost less than on-demand on the recorded history"
    );
    Ok(priced)
}

fn say(mode: Mode, text: &str) {
    if mode == Mode::Show {
        println!("{text}");
    }
}
