//! `cargo xtask bench-affected`: ci-matrix against `turbo ls --affected`,
//! as whole processes, interleaved in one run, on a generated pnpm workspace.

mod nx;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};

use crate::tools::{cargo, commit_all, npm_packages, output, run, target_dir};

const DEFAULT_PACKAGES: usize = 2_000;
const RUNS: usize = 15;

pub(crate) fn affected(args: &[String]) -> anyhow::Result<()> {
    let mut packages = DEFAULT_PACKAGES;
    let mut nx = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--packages" => {
                packages = it
                    .next()
                    .context("--packages takes a number")?
                    .parse()
                    .context("--packages takes a number")?;
            }
            "--nx" => nx = true,
            _ => bail!("usage: cargo xtask bench-affected [--packages N] [--nx]"),
        }
    }
    run(cargo().args(["build", "--quiet", "--release", "--package", "ci-matrix"]))?;
    let ci_matrix = target_dir().join("release/ci-matrix");
    if nx {
        return nx::compare(&ci_matrix, packages);
    }
    let turbo = npm_packages(&[("turbo@2", "turbo")])?.join("turbo");
    for case in [Case::SourceChange, Case::LockfileBump] {
        compare(&ci_matrix, &turbo, packages, case)?;
    }
    Ok(())
}

/// What the measured commit changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    /// A file in a mid-layer package; the lockfile stays.
    SourceChange,
    /// One external dependency bumped in a ~2 MB `pnpm-lock.yaml`.
    LockfileBump,
}

#[expect(
    clippy::cast_precision_loss,
    reason = "a file size in megabytes, for people"
)]
fn compare(ci_matrix: &Path, turbo: &Path, packages: usize, case: Case) -> anyhow::Result<()> {
    let work = std::env::temp_dir().join(format!("slipway-bench-{}", std::process::id()));
    // SLIPWAY_BENCH_KEEP=1 keeps the generated workspace for a profiler.
    let keep = std::env::var_os("SLIPWAY_BENCH_KEEP").is_some();
    let _cleanup = (!keep).then(|| crate::tools::RemoveOnDrop(work.clone()));
    if keep {
        eprintln!("==> keeping {}", work.display());
    }
    generate(&work, packages, case)?;
    let lockfile_size = std::fs::metadata(work.join("pnpm-lock.yaml"))?.len();

    let ours = || {
        let mut cmd = Command::new(ci_matrix);
        cmd.current_dir(&work)
            .args(["--base", "HEAD~1", "--format", "list", "--quiet"]);
        cmd
    };
    let theirs = || {
        let mut cmd = Command::new(turbo);
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
    println!(
        "\n{case:?}: {packages} pnpm packages, pnpm-lock.yaml of {:.1} MB, {} affected by the change, same set from both tools",
        lockfile_size as f64 / 1e6,
        ours_set.len()
    );
    println!("runs: {RUNS} of each, interleaved; medians:");
    let [ours_median, turbo_median] = timing_table([
        ("ci-matrix --base HEAD~1", ours_times),
        ("turbo ls --affected", turbo_times),
    ]);
    println!(
        "ratio (turbo / ci-matrix, medians): {:.1}x",
        turbo_median.as_secs_f64() / ours_median.as_secs_f64()
    );
    Ok(())
}

/// A pnpm workspace of `n` packages in layers (each depends on up to three
/// packages of the layer below, and on five of 3,000 external packages,
/// which depend on each other), committed, then one commit: a file changed
/// in a mid-layer package, or one external package bumped in the
/// lockfile.
fn generate(dir: &Path, n: usize, case: Case) -> anyhow::Result<()> {
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
    std::fs::write(dir.join("pnpm-lock.yaml"), lockfile(n, None))?;
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
        let externals: Vec<String> = externals_of(i)
            .into_iter()
            .map(|e| format!("\"ext-{e:04}\": \"^1.0.0\""))
            .collect();
        std::fs::write(
            pkg.join("package.json"),
            format!(
                "{{\"name\": \"p{i:05}\", \"version\": \"1.0.0\", \"dependencies\": {{{}}}}}\n",
                deps.iter()
                    .chain(&externals)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )?;
        std::fs::write(
            pkg.join("src/index.ts"),
            format!("export const id = {i};\n"),
        )?;
    }
    output(crate::tools::git(dir).args(["init", "-q", "-b", "main"]))?;
    commit_all(dir, "base")?;
    match case {
        Case::SourceChange => {
            let changed = (n / layer / 2) * layer + 17;
            std::fs::write(
                dir.join(format!("packages/p{changed:05}/src/index.ts")),
                "export const id = -1;\n",
            )?;
        }
        Case::LockfileBump => {
            std::fs::write(dir.join("pnpm-lock.yaml"), lockfile(n, Some(BUMPED)))?;
        }
    }
    commit_all(dir, "change")?;
    Ok(())
}

const EXTERNALS: usize = 3_000;
/// The external package the lockfile case bumps from 1.0.0 to 1.0.1.
const BUMPED: usize = 2_917;

/// The five external packages package `i` depends on.
fn externals_of(i: usize) -> Vec<usize> {
    let mut out: Vec<usize> = (0..5).map(|k| (i * 13 + k * 611) % EXTERNALS).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// What external package `e` depends on: up to two of the packages below it.
fn external_deps(e: usize) -> Vec<usize> {
    if e <= 10 {
        return Vec::new();
    }
    (0..2)
        .map(|k| (e * 7 + k * 3) % e)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// A `pnpm-lock.yaml` as pnpm 9 writes it for the generated workspace,
/// with `bumped` at 1.0.1 instead of 1.0.0.
fn lockfile(n: usize, bumped: Option<usize>) -> String {
    use std::fmt::Write as _;
    let version = |e: usize| if Some(e) == bumped { "1.0.1" } else { "1.0.0" };
    let layer = 100;
    let mut out = String::from(
        "lockfileVersion: '9.0'\n\nsettings:\n  autoInstallPeers: true\n  excludeLinksFromLockfile: false\n\nimporters:\n\n  .: {}\n\n",
    );
    for i in 0..n {
        let _ = writeln!(out, "  packages/p{i:05}:\n    dependencies:");
        let mut deps: Vec<(String, String, String)> = Vec::new();
        if i >= layer {
            let below = (i / layer - 1) * layer;
            for k in 0..3 {
                let d = below + (i * 7 + k * 31) % layer;
                deps.push((
                    format!("p{d:05}"),
                    "workspace:*".into(),
                    format!("link:../p{d:05}"),
                ));
            }
        }
        for e in externals_of(i) {
            deps.push((format!("ext-{e:04}"), "^1.0.0".into(), version(e).into()));
        }
        deps.sort();
        deps.dedup();
        for (name, specifier, version) in deps {
            let _ = writeln!(
                out,
                "      {name}:\n        specifier: {specifier}\n        version: {version}"
            );
        }
        out.push('\n');
    }
    out.push_str("packages:\n\n");
    for e in 0..EXTERNALS {
        let v = version(e);
        let _ = writeln!(
            out,
            "  ext-{e:04}@{v}:\n    resolution: {{integrity: sha512-{:0>86}==}}\n    engines: {{node: '>=18'}}\n",
            format!("{e}{v}").replace('.', "")
        );
    }
    out.push_str("snapshots:\n\n");
    for e in 0..EXTERNALS {
        let deps = external_deps(e);
        if deps.is_empty() {
            let _ = writeln!(out, "  ext-{e:04}@{}: {{}}\n", version(e));
        } else {
            let _ = writeln!(out, "  ext-{e:04}@{}:\n    dependencies:", version(e));
            for d in deps {
                let _ = writeln!(out, "      ext-{d:04}: {}", version(d));
            }
            out.push('\n');
        }
    }
    out
}

/// Prints the `| tool | median | min |` table of each tool's runs;
/// returns the medians, in order.
pub(crate) fn timing_table<const N: usize>(rows: [(&str, Vec<Duration>); N]) -> [Duration; N] {
    println!("| tool | median | min |");
    println!("| --- | --- | --- |");
    rows.map(|(tool, mut times)| {
        let middle = median(&mut times);
        println!("| {tool} | {:.1} ms | {:.1} ms |", ms(middle), ms(times[0]));
        middle
    })
}

pub(crate) fn time(cmd: &mut Command) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let status = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()?;
    let elapsed = start.elapsed();
    ensure!(status.success(), "{} failed", crate::tools::show(cmd));
    Ok(elapsed)
}

pub(crate) fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
