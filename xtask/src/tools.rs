//! Paths, commands, and the outside tools the tasks need, installed into
//! the target directory on first use (quick when already there).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};

/// The workspace root (this file is in `<root>/xtask/src`). `cargo run`
/// sets `CARGO_MANIFEST_DIR` for the process too, and that one is read
/// first: cargo fingerprints workspace members by their path inside the
/// workspace, so a binary built in another clone sharing the target
/// directory can be reused here, with the other clone's path compiled in.
pub(crate) fn root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

pub(crate) fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// Runs a command to completion, failing with its command line when it fails.
pub(crate) fn run(cmd: &mut Command) -> anyhow::Result<()> {
    eprintln!("==> {}", show(cmd));
    let status = cmd
        .status()
        .with_context(|| format!("failed to start {}", show(cmd)))?;
    if !status.success() {
        bail!("{} failed with {status}", show(cmd));
    }
    Ok(())
}

/// Runs a command and returns its stdout.
pub(crate) fn output(cmd: &mut Command) -> anyhow::Result<String> {
    let out = cmd
        .output()
        .with_context(|| format!("failed to start {}", show(cmd)))?;
    if !out.status.success() {
        bail!(
            "{} failed with {}: {}",
            show(cmd),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub(crate) fn show(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

pub(crate) fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A Python virtual environment under the target directory with `packages`
/// installed; returns its `bin` directory. Installs only what is missing.
pub(crate) fn python_venv(packages: &[(&str, &str)]) -> anyhow::Result<PathBuf> {
    let venv = target_dir().join("tools/venv");
    let bin = venv.join("bin");
    if !bin.join("python").exists() {
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv))
            .context("failed to create a Python virtual environment")?;
    }
    let missing = missing(packages, &bin, &venv);
    if !missing.is_empty() {
        run(Command::new(bin.join("python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(&missing))?;
        mark_installed(&venv, &missing)?;
    }
    Ok(bin)
}

/// The packages of `(package, file)` pairs not yet installed: their file
/// (relative to `bin`) is absent, or this exact package specification
/// (extras and version included) was never installed into `dir`.
fn missing<'a>(packages: &[(&'a str, &str)], bin: &Path, dir: &Path) -> Vec<&'a str> {
    packages
        .iter()
        .filter(|(package, file)| !bin.join(file).exists() || !marker(dir, package).exists())
        .map(|(package, _)| *package)
        .collect()
}

fn marker(dir: &Path, package: &str) -> PathBuf {
    let name: String = package
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(".slipway-installed").join(name)
}

fn mark_installed(dir: &Path, packages: &[&str]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir.join(".slipway-installed"))?;
    for package in packages {
        std::fs::write(marker(dir, package), "")?;
    }
    Ok(())
}

/// npm packages under the target directory; returns `node_modules/.bin`.
/// The second of each pair is a file the package installs, relative to
/// that directory.
pub(crate) fn npm_packages(packages: &[(&str, &str)]) -> anyhow::Result<PathBuf> {
    let dir = target_dir().join("tools/node");
    let bin = dir.join("node_modules/.bin");
    let missing = missing(packages, &bin, &dir);
    if !missing.is_empty() {
        std::fs::create_dir_all(&dir)?;
        if !dir.join("package.json").exists() {
            std::fs::write(dir.join("package.json"), "{\"private\": true}\n")?;
        }
        run(Command::new("npm")
            .current_dir(&dir)
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
            .args(&missing))?;
        mark_installed(&dir, &missing)?;
    }
    Ok(bin)
}

/// Installs `nx@version` and TypeScript (which Nx resolves imports with)
/// under the target directory; returns their `node_modules`.
pub(crate) fn nx_install(version: &str) -> anyhow::Result<PathBuf> {
    let dir = target_dir().join(format!("tools/nx-{version}"));
    let modules = dir.join("node_modules");
    if !modules.join(".bin/nx").is_file() {
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("package.json"), "{\"private\": true}\n")?;
        run(Command::new("npm")
            .current_dir(&dir)
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
            .arg(format!("nx@{version}"))
            .arg("typescript@5"))?;
    }
    Ok(modules)
}

/// Copies a directory tree.
pub(crate) fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in
        std::fs::read_dir(from).with_context(|| format!("failed to read {}", from.display()))?
    {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), &dest)?;
        }
    }
    Ok(())
}

/// git with the user's and the system's configuration shut out.
pub(crate) fn git(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Slipway demo")
        .env("GIT_AUTHOR_EMAIL", "demo@example.invalid")
        .env("GIT_COMMITTER_NAME", "Slipway demo")
        .env("GIT_COMMITTER_EMAIL", "demo@example.invalid");
    cmd
}

/// A git repository made from `files`, committed as `base`.
pub(crate) fn commit_all(dir: &Path, message: &str) -> anyhow::Result<()> {
    output(git(dir).args(["add", "-A"]))?;
    output(git(dir).args(["commit", "-q", "--allow-empty", "-m", message]))?;
    Ok(())
}

/// Removes a scratch directory when dropped, on success and failure alike.
pub(crate) struct RemoveOnDrop(pub(crate) PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Installs Debian packages whose commands are missing.
pub(crate) fn ensure_debian_tools(tools: &[(&str, &str)]) -> anyhow::Result<()> {
    let missing: Vec<&str> = tools
        .iter()
        .filter(|(cmd, _)| {
            !Command::new("sh")
                .arg("-c")
                .arg(format!("command -v {cmd}"))
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    run(Command::new("apt-get").arg("update").arg("-qq"))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}
