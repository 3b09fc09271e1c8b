//! `cargo xtask dist`: release bundles, one per tool, for the host target.
//!
//! Each bundle is `dist/<tool>-<version>-<target>.tar.gz` holding
//! `<tool>-<version>-<target>/` with the release binary, the README and
//! both licences, made reproducibly (sorted, owner 0, one fixed time, from
//! `SOURCE_DATE_EPOCH` or the last commit). `dist/SHA256SUMS` lists every
//! bundle. Bundles are written beside their final name and renamed into
//! place, so a failed run leaves no half bundle.
//!
//! `--profile dev` bundles the debug binaries `cargo build` already made:
//! the same bundles in every other way, for the tests of `actions/setup`
//! without a release build.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

use crate::tools::{cargo, output, root, run, target_dir};

/// The tools, each a binary crate of the same name.
const TOOLS: [&str; 4] = ["ci-matrix", "art-stream", "art-consume", "spot-leaser"];

pub(crate) fn run_dist(args: &[String]) -> anyhow::Result<()> {
    let mut tools: Vec<&str> = TOOLS.to_vec();
    let mut out = root().join("dist");
    let mut profile = "release".to_owned();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--tools" => {
                let list = rest
                    .next()
                    .context("--tools needs a comma-separated list")?;
                tools = list.split(',').map(str::trim).collect();
                if let Some(bad) = tools.iter().find(|t| !TOOLS.contains(t)) {
                    bail!(
                        "--tools: unknown tool {bad:?} (known: {})",
                        TOOLS.join(", ")
                    );
                }
            }
            "--out" => out = PathBuf::from(rest.next().context("--out needs a directory")?),
            "--profile" => {
                profile.clone_from(rest.next().context("--profile needs release or dev")?);
                if profile != "release" && profile != "dev" {
                    bail!("--profile: {profile:?} is not release or dev");
                }
            }
            other => bail!(
                "dist: unknown argument {other:?} (expected --tools LIST, --out DIR, --profile release|dev)"
            ),
        }
    }
    let version = workspace_version()?;
    let target = host_target()?;
    let epoch = source_date_epoch()?;
    std::fs::create_dir_all(&out)?;
    let mut bundles = Vec::new();
    for tool in &tools {
        if profile == "dev" {
            // The same command as `cargo xtask test`'s build, so nothing is
            // rebuilt with other features and the tests' binaries stay.
            run(cargo().args(["build", "--workspace", "--bins", "--locked"]))?;
        } else {
            run(cargo().args(["build", "--release", "--locked", "-p", tool, "--bin", tool]))?;
        }
        let dir = if profile == "dev" { "debug" } else { "release" };
        let binary = target_dir().join(dir).join(tool);
        let docs = [
            root().join("README.md"),
            root().join("LICENSE-MIT"),
            root().join("LICENSE-APACHE"),
        ];
        let name = format!("{tool}-{version}-{target}");
        bundles.push(bundle(&binary, &docs, &name, &out, epoch)?);
    }
    let sums = checksums(&out)?;
    eprintln!(
        "==> {} bundles in {}:\n{sums}",
        bundles.len(),
        out.display()
    );
    Ok(())
}

/// Makes `out/<name>.tar.gz` from the binary and documents; returns its path.
pub(crate) fn bundle(
    binary: &Path,
    docs: &[PathBuf],
    name: &str,
    out: &Path,
    epoch: u64,
) -> anyhow::Result<PathBuf> {
    let stage = out.join(format!(".stage-{name}"));
    let _cleanup = crate::tools::RemoveOnDrop(stage.clone());
    let dir = stage.join(name);
    std::fs::create_dir_all(&dir)?;
    let file_name = binary.file_name().context("the binary has no file name")?;
    std::fs::copy(binary, dir.join(file_name))
        .with_context(|| format!("failed to copy {}", binary.display()))?;
    for doc in docs {
        let doc_name = doc.file_name().context("a document has no file name")?;
        std::fs::copy(doc, dir.join(doc_name))
            .with_context(|| format!("failed to copy {}", doc.display()))?;
    }
    let archive = out.join(format!("{name}.tar.gz"));
    let partial = out.join(format!(".{name}.tar.gz.partial"));
    run(Command::new("tar")
        .arg("--create")
        // `-n`: no name or time in the gzip header (reproducible).
        .arg("--use-compress-program=gzip -n")
        .arg("--file")
        .arg(&partial)
        .args(["--sort=name", "--owner=0", "--group=0", "--numeric-owner"])
        .arg(format!("--mtime=@{epoch}"))
        .arg("--directory")
        .arg(&stage)
        .arg(name))?;
    std::fs::rename(&partial, &archive)?;
    Ok(archive)
}

/// `SHA256SUMS` for every bundle in `out`, written atomically; returns it.
fn checksums(out: &Path) -> anyhow::Result<String> {
    let mut names: Vec<String> = std::fs::read_dir(out)?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tar.gz") && !n.starts_with('.'))
        .collect();
    names.sort();
    let sums = output(Command::new("sha256sum").args(&names).current_dir(out))?;
    let tmp = out.join(".SHA256SUMS.partial");
    std::fs::write(&tmp, &sums)?;
    std::fs::rename(&tmp, out.join("SHA256SUMS"))?;
    Ok(sums)
}

fn workspace_version() -> anyhow::Result<String> {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml"))?;
    let mut in_package = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[workspace.package]";
        } else if in_package
            && let Some(value) = line.strip_prefix("version")
            && let Some(value) = value.trim_start().strip_prefix('=')
        {
            return Ok(value.trim().trim_matches('"').to_owned());
        }
    }
    bail!("no version in [workspace.package] of Cargo.toml")
}

fn host_target() -> anyhow::Result<String> {
    let info = output(Command::new("rustc").arg("-vV"))?;
    info.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_owned)
        .context("rustc -vV named no host target")
}

/// `SOURCE_DATE_EPOCH`, else the last commit's time: the same sources
/// give the same bundles.
fn source_date_epoch() -> anyhow::Result<u64> {
    if let Ok(value) = std::env::var("SOURCE_DATE_EPOCH") {
        return value
            .trim()
            .parse()
            .with_context(|| format!("SOURCE_DATE_EPOCH {value:?} is not a number"));
    }
    let time = output(crate::tools::git(&root()).args(["log", "-1", "--format=%ct"]))?;
    time.trim()
        .parse()
        .with_context(|| format!("git log gave {time:?} for the last commit time"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(archive: &Path) -> Vec<String> {
        let out = output(Command::new("tar").arg("-tzvf").arg(archive)).unwrap();
        out.lines().map(str::to_owned).collect()
    }

    #[test]
    fn a_bundle_holds_the_binary_and_documents_and_is_reproducible() {
        let scratch =
            std::env::temp_dir().join(format!("slipway-dist-test-{}", std::process::id()));
        let _cleanup = crate::tools::RemoveOnDrop(scratch.clone());
        std::fs::create_dir_all(&scratch).unwrap();
        let binary = scratch.join("ci-matrix");
        std::fs::write(&binary, b"\x7fELF pretend").unwrap();
        let docs = [root().join("README.md"), root().join("LICENSE-MIT")];
        let out = scratch.join("dist");
        std::fs::create_dir_all(&out).unwrap();

        let first = bundle(&binary, &docs, "ci-matrix-0.1.0-x", &out, 1_700_000_000).unwrap();
        let bytes = std::fs::read(&first).unwrap();
        let entries = listing(&first);
        let names: Vec<&str> = entries
            .iter()
            .map(|l| l.rsplit(' ').next().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "ci-matrix-0.1.0-x/",
                "ci-matrix-0.1.0-x/LICENSE-MIT",
                "ci-matrix-0.1.0-x/README.md",
                "ci-matrix-0.1.0-x/ci-matrix",
            ]
        );
        assert!(entries.iter().all(|l| l.contains(" 0/0 ")), "{entries:#?}");
        assert!(
            entries.iter().all(|l| l.contains("2023-11-14")),
            "{entries:#?}"
        );

        // The same inputs, the same bytes; nothing left beside the bundle.
        let again = bundle(&binary, &docs, "ci-matrix-0.1.0-x", &out, 1_700_000_000).unwrap();
        assert_eq!(std::fs::read(&again).unwrap(), bytes);
        let left: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, ["ci-matrix-0.1.0-x.tar.gz"]);

        let sums = checksums(&out).unwrap();
        assert!(sums.ends_with("  ci-matrix-0.1.0-x.tar.gz\n"), "{sums}");
    }

    #[test]
    fn the_version_is_the_tools_version() {
        let version = workspace_version().unwrap();
        let lock = std::fs::read_to_string(root().join("Cargo.lock")).unwrap();
        assert!(
            lock.contains(&format!("name = \"ci-matrix\"\nversion = \"{version}\"\n")),
            "{version}"
        );
    }
}
