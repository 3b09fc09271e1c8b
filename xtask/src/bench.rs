//! `cargo xtask bench-affected`: ci-matrix against `turbo ls --affected`,
//! as whole processes, interleaved in one run, on a generated pnpm workspace.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};

use crate::tools::{cargo, commit_all, npm_packages, output, run, target_dir};

const DEFAULT_PACKAGES: usize = 2_000;
const RUNS: usize = 15;

pub(crate) fn affected(args: &[String]) -> anyhow::Result<()> {
    let packages = match args {
        [] => DEFAULT_PACKAGES,
        [flag, n] if flag == "--packages" => n.parse().context("--packages takes a number")?,
        _ => bail!("usage: cargo xtask bench-affected [--packages N]"),
    };
    run(cargo().args(["build", "--quiet", "--release", "--package", "ci-matrix"]))?;
    let ci_matrix = target_dir().join("release/ci-matrix");
    let turbo = npm_packages(&[("turbo@2", "turbo")])?.join("turbo");

    let work = std::env::temp_dir().join(format!("slipway-bench-{}", std::process::id()));
    let _cleanup = crate::tools::RemoveOnDrop(work.clone());
    generate(&work, packages)?;

    let ours = || {
        let mut cmd = Command::new(&ci_matrix);
        cmd.current_dir(&work)
            .args(["--base", "HEAD~1", "--format", "list", "--quiet"]);
        cmd
    };
    let theirs = || {
        let mut cmd = Command::new(&turbo);
        cmd.current_dir(&work)
            .args(["ls", "--affected", "--output=json"])
            .env("TURBO_SCM_BASE", "HEAD~1")
            .env("TURBO_SCM_HEAD", "HEAD")
            .env("TURBO_TELEMETRY_DISABLED", "1")
            .env("DO_NOT_TRACK", "1")
            .env("TURBO_NO_UPDATE_NOTIFIER", "1");
        cmd
    };

    // Same answer first: a faster wrong answer is worth nothing.
    let mut ours_set: Vec<String> = output(&mut ours())?.lines().map(str::to_owned).collect();
    let turbo_json: serde_json::Value =
        serde_json::from_str(&output(&mut theirs())?).context("turbo printed no JSON")?;
    let mut turbo_set: Vec<String> = turbo_json["packages"]["items"]
        .as_array()
        .context("turbo JSON has no packages.items")?
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    ours_set.sort();
    turbo_set.sort();
    ensure!(
        ours_set == turbo_set,
        "affected sets differ: ci-matrix {} packages, turbo {}",
        ours_set.len(),
        turbo_set.len()
    );

    let mut ours_times = Vec::with_capacity(RUNS);
    let mut turbo_times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        ours_times.push(time(&mut ours())?);
        turbo_times.push(time(&mut theirs())?);
    }
    let ours_median = median(&mut ours_times);
    let turbo_median = median(&mut turbo_times);
    println!(
        "workspace: {packages} pnpm packages, {} affected by the change, same set from both tools",
        ours_set.len()
    );
    println!("runs: {RUNS} of each, interleaved; medians:");
    println!("| tool | median | min |");
    println!("| --- | --- | --- |");
    println!(
        "| ci-matrix --base HEAD~1 | {:.1} ms | {:.1} ms |",
        ms(ours_median),
        ms(ours_times[0])
    );
    println!(
        "| turbo ls --affected | {:.1} ms | {:.1} ms |",
        ms(turbo_median),
        ms(turbo_times[0])
    );
    println!(
        "ratio (turbo / ci-matrix, medians): {:.1}x",
        turbo_median.as_secs_f64() / ours_median.as_secs_f64()
    );
    Ok(())
}

/// A pnpm workspace of `n` packages in layers (each depends on up to three
/// packages of the layer below), committed, then one commit changing a
/// file in a mid-layer package.
fn generate(dir: &Path, n: usize) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join("package.json"),
        "{\"name\": \"bench-root\", \"private\": true, \"packageManager\": \"pnpm@9.12.0\"}\n",
    )?;
    std::fs::write(
        dir.join("pnpm-workspace.yaml"),
        "packages:\n  - \"packages/*\"\n",
    )?;
    std::fs::write(dir.join("turbo.json"), "{\"tasks\": {}}\n")?;
    std::fs::write(dir.join("pnpm-lock.yaml"), "lockfileVersion: '9.0'\n")?;
    let layer = 100;
    for i in 0..n {
        let pkg = dir.join(format!("packages/p{i:05}"));
        std::fs::create_dir_all(pkg.join("src"))?;
        let deps: Vec<String> = if i < layer {
            Vec::new()
        } else {
            let below = (i / layer - 1) * layer;
            (0..3)
                .map(|k| {
                    format!(
                        "\"p{:05}\": \"workspace:*\"",
                        below + (i * 7 + k * 31) % layer
                    )
                })
                .collect()
        };
        std::fs::write(
            pkg.join("package.json"),
            format!(
                "{{\"name\": \"p{i:05}\", \"version\": \"1.0.0\", \"dependencies\": {{{}}}}}\n",
                deps.join(", ")
            ),
        )?;
        std::fs::write(
            pkg.join("src/index.ts"),
            format!("export const id = {i};\n"),
        )?;
    }
    output(crate::tools::git(dir).args(["init", "-q", "-b", "main"]))?;
    commit_all(dir, "base")?;
    let changed = (n / layer / 2) * layer + 17;
    std::fs::write(
        dir.join(format!("packages/p{changed:05}/src/index.ts")),
        "export const id = -1;\n",
    )?;
    commit_all(dir, "change")?;
    Ok(())
}

fn time(cmd: &mut Command) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let status = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()?;
    let elapsed = start.elapsed();
    ensure!(status.success(), "{} failed", crate::tools::show(cmd));
    Ok(elapsed)
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
