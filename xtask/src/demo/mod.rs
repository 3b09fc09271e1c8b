//! `cargo xtask demo`: the pipeline on bundled data, offline. ci-matrix on
//! an example monorepo (Cargo, pnpm and Go side by side, 12 packages) and
//! one scripted commit, the matrix and the reason for every entry; the
//! affected packages "built" into a directory that art-stream serves
//! through a local `file://` store to one consumer per matrix entry, the
//! last one after the producer is gone, so it reads the fallback copy;
//! spot pools ranked on the recorded eu-west-1 price history and the run's
//! cost against on-demand and GitHub-hosted runners. Built without the AWS
//! SDK (the art tools without `s3`; the pricing library called directly).
//!
//! `cargo xtask test` runs it with [`Mode::Check`]: everything but the
//! printing, every figure checked.

mod stream;

use std::process::{Command, Stdio};

use anyhow::Context as _;

use crate::tools::{cargo, commit_all, copy_tree, output, root, run, target_dir};

/// Whether the demo prints for a person or only checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Show,
    Check,
}

macro_rules! say {
    ($mode:expr, $($arg:tt)*) => {
        if $mode == Mode::Show {
            println!($($arg)*);
        }
    };
}

pub(crate) fn run_demo(mode: Mode) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    // No AWS SDK: the art tools without their `s3` feature (a `file://`
    // store is enough here), and no spot-leaser.
    run(cargo().args([
        "build",
        "--quiet",
        "--package",
        "ci-matrix",
        "--package",
        "art-stream",
        "--package",
        "art-consume",
        "--no-default-features",
    ]))?;
    let ci_matrix = target_dir().join("debug/ci-matrix");

    let fixtures = root().join("xtask/fixtures");
    let work = std::env::temp_dir().join(format!("slipway-demo-{}", std::process::id()));
    let _cleanup = crate::tools::RemoveOnDrop(work.clone());
    copy_tree(&fixtures.join("demo-monorepo"), &work)?;
    output(crate::tools::git(&work).args(["init", "-q", "-b", "main"]))?;
    commit_all(&work, "base")?;
    copy_tree(&fixtures.join("demo-change"), &work)?;
    commit_all(&work, "proto: add Envelope; tokens: new brand colour; docs")?;

    let changed = output(crate::tools::git(&work).args(["diff", "--name-only", "HEAD~1", "HEAD"]))?;
    say!(
        mode,
        "1. ci-matrix\n\nExample monorepo: Cargo + pnpm + Go workspaces, one commit changing:"
    );
    for file in changed.lines() {
        say!(mode, "  {file}");
    }

    let args = ["--base", "HEAD~1"];
    let report = output(
        std::process::Command::new(&ci_matrix)
            .current_dir(&work)
            .args(args)
            .args(["--format", "json", "--quiet"]),
    )?;
    let report = crate::outputs::report(&report)?;
    let affected = &report.affected;
    say!(
        mode,
        "\n$ ci-matrix {}\n{} of {} packages affected; in no package, so the root's and affecting nothing: {}\n",
        args.join(" "),
        affected.len(),
        report.packages_total,
        serde_json::to_string(&report.unowned)?
    );
    say!(mode, "  {:<14} {:<7} why", "package", "kind");
    for package in affected {
        say!(
            mode,
            "  {:<14} {:<7} {}",
            package.package,
            package.ecosystem.as_str(),
            package.because
        );
    }
    let matrix = output(
        std::process::Command::new(&ci_matrix)
            .current_dir(&work)
            .args(args)
            .arg("--quiet"),
    )?;
    say!(
        mode,
        "\nThe matrix for `strategy.matrix: ${{{{ fromJSON(needs.plan.outputs.matrix) }}}}`:\n{matrix}"
    );
    let entries = crate::outputs::matrix(&matrix)?.include.len();
    anyhow::ensure!(entries > 0, "the example change affects nothing: {matrix}");
    let names: Vec<String> = affected.iter().map(|p| p.package.clone()).collect();
    let moved = stream::stream(mode, &work, &names, entries.max(2))?;
    let priced = stream::price(mode, entries)?;
    let total = report.packages_total;
    say!(
        mode,
        "\nSummary\n  {} of {total} packages affected: {entries} matrix jobs instead of {total}\n  \
         {} bytes to each of {} consumers; on the wire {} bytes streamed, {} from the store's copy ({} consumer after the producer left)\n  \
         pool {} at {:.4} USD/h: {:.4} USD for the run, against {:.4} on-demand and {:.4} on GitHub-hosted runners\n  \
         {:.1} s, build included",
        names.len(),
        moved.bytes,
        moved.consumers,
        moved.streamed,
        moved.from_store,
        moved.fell_back,
        priced.pool,
        priced.price,
        priced.spot_cost,
        priced.on_demand_cost,
        priced.hosted_cost,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Runs a command, its stdout the result, failing with its stderr.
pub(crate) fn run_for(cmd: &mut Command, what: &str) -> anyhow::Result<String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("could not run {what}"))?;
    anyhow::ensure!(
        out.status.success(),
        "{what} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
