//! `cargo xtask demo`: ci-matrix on a bundled example monorepo (Cargo, pnpm
//! and Go side by side, 12 packages), one scripted commit, the matrix and
//! the reason for every entry.

use anyhow::Context as _;

use crate::tools::{cargo, commit_all, copy_tree, output, root, run, target_dir};

pub(crate) fn run_demo() -> anyhow::Result<()> {
    run(cargo().args(["build", "--quiet", "--package", "ci-matrix"]))?;
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
    println!("Example monorepo: Cargo + pnpm + Go workspaces, one commit changing:");
    for file in changed.lines() {
        println!("  {file}");
    }

    let args = ["--base", "HEAD~1"];
    let report = output(
        std::process::Command::new(&ci_matrix)
            .current_dir(&work)
            .args(args)
            .args(["--format", "json", "--quiet"]),
    )?;
    let report: serde_json::Value =
        serde_json::from_str(&report).context("ci-matrix printed no JSON report")?;
    let affected = report["affected"]
        .as_array()
        .context("report has no affected list")?;
    println!(
        "\n$ ci-matrix {}\n{} of {} packages affected; in no package, so the root's and affecting nothing: {}\n",
        args.join(" "),
        affected.len(),
        report["packages_total"],
        report["unowned"]
    );
    println!("  {:<14} {:<7} why", "package", "kind");
    for package in affected {
        println!(
            "  {:<14} {:<7} {}",
            package["package"].as_str().unwrap_or_default(),
            package["ecosystem"].as_str().unwrap_or_default(),
            package["because"].as_str().unwrap_or_default()
        );
    }
    let matrix = output(
        std::process::Command::new(&ci_matrix)
            .current_dir(&work)
            .args(args)
            .arg("--quiet"),
    )?;
    println!(
        "\nThe matrix for `strategy.matrix: ${{{{ fromJSON(needs.plan.outputs.matrix) }}}}`:\n{matrix}"
    );
    Ok(())
}
