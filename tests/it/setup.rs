//! `actions/setup`: its scripts (`plan.sh`, `install.sh`) against a local
//! HTTP server serving the bundles `cargo xtask dist --profile dev` made
//! (`SLIPWAY_DIST_DIR`, set by `cargo xtask test`).
//!
//! The server is hand-written: GitHub's release downloads and asset API
//! have no peer here (prism answers the API description with made-up
//! assets, not files). It serves two layouts, as GitHub does: public
//! downloads at `/OWNER/NAME/releases/download/vX/FILE`, and, for a token,
//! `/api/repos/OWNER/NAME/releases/tags/vX` with asset URLs that answer
//! `Accept: application/octet-stream`. Without the token the API answers
//! 404, as GitHub does for a private repository.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use crate::support::Output;

const REPO: &str = "slipway-ci/slipway";
const TOKEN: &str = "ghs_setupTestToken0123456789";

fn dist_dir() -> PathBuf {
    PathBuf::from(
        std::env::var_os("SLIPWAY_DIST_DIR")
            .expect("SLIPWAY_DIST_DIR is set by cargo xtask test (cargo xtask dist --profile dev)"),
    )
}

/// The version and target of the ci-matrix bundle in `dir`.
fn bundle_of(dir: &Path) -> (String, String) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(rest) = name
            .strip_prefix("ci-matrix-")
            .and_then(|r| r.strip_suffix(".tar.gz"))
        {
            let (version, target) = rest.split_once('-').unwrap();
            return (version.to_owned(), target.to_owned());
        }
    }
    panic!("no ci-matrix bundle in {}", dir.display());
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    authorized: bool,
}

struct Server {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    /// Serves the files of `dir` as release `v{version}` of [`REPO`].
    fn start(dir: PathBuf, version: String) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (log, base) = (Arc::clone(&seen), url.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let (dir, version, log, base) =
                    (dir.clone(), version.clone(), Arc::clone(&log), base.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    let path = line.split(' ').nth(1).unwrap_or("/").to_owned();
                    let mut authorized = false;
                    loop {
                        let mut header = String::new();
                        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                            break;
                        }
                        if header.to_ascii_lowercase()
                            == format!("authorization: bearer {}\r\n", TOKEN.to_ascii_lowercase())
                        {
                            authorized = true;
                        }
                    }
                    log.lock().unwrap().push(Seen {
                        path: path.clone(),
                        authorized,
                    });
                    let (status, body) = respond(&dir, &version, &base, &path, authorized);
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(&body);
                });
            }
        });
        Server { url, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn respond(
    dir: &Path,
    version: &str,
    base: &str,
    path: &str,
    authorized: bool,
) -> (&'static str, Vec<u8>) {
    let not_found = ("404 Not Found", b"Not Found".to_vec());
    let files = || -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        names
    };
    if let Some(file) = path.strip_prefix(&format!("/{REPO}/releases/download/v{version}/")) {
        return match std::fs::read(dir.join(file)) {
            Ok(bytes) if !file.contains('/') => ("200 OK", bytes),
            _ => not_found,
        };
    }
    if !authorized {
        return not_found;
    }
    if path == format!("/api/repos/{REPO}/releases/tags/v{version}") {
        let assets: Vec<serde_json::Value> = files()
            .iter()
            .enumerate()
            .map(|(i, name)| {
                serde_json::json!({"id": i, "name": name, "url": format!("{base}/api/repos/{REPO}/releases/assets/{i}")})
            })
            .collect();
        return (
            "200 OK",
            serde_json::json!({"tag_name": format!("v{version}"), "assets": assets})
                .to_string()
                .into_bytes(),
        );
    }
    if let Some(i) = path.strip_prefix(&format!("/api/repos/{REPO}/releases/assets/"))
        && let Some(name) = i
            .parse::<usize>()
            .ok()
            .and_then(|i| files().get(i).cloned())
    {
        return ("200 OK", std::fs::read(dir.join(name)).unwrap());
    }
    not_found
}

/// A copy of the dist directory to serve, changed by the test as it likes.
fn served() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(dist_dir()).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        std::fs::copy(entry.path(), dir.path().join(&name)).unwrap();
    }
    dir
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../actions/setup")
        .join(name)
}

/// `install.sh` with the GitHub Actions files in `work`, and no source to
/// fall back to unless the test gives one.
fn install(work: &Path, server: &Server, tools: &str, version: &str) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg(script("install.sh"))
        .env("SLIPWAY_TOOLS", tools)
        .env("SLIPWAY_VERSION", version)
        .env("SLIPWAY_INSTALL_DIR", work.join("bin"))
        .env("SLIPWAY_REPOSITORY", REPO)
        .env("SLIPWAY_SERVER_URL", &server.url)
        .env("SLIPWAY_API_URL", format!("{}/api", server.url))
        .env("SLIPWAY_SOURCE_DIR", work.join("no-source"))
        .env("GITHUB_PATH", work.join("github_path"))
        .env("GITHUB_STEP_SUMMARY", work.join("summary"))
        .env("RUNNER_TEMP", work)
        .env_remove("SLIPWAY_TOKEN")
        .env_remove("SLIPWAY_TARGET");
    cmd
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("run install.sh");
    Output {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn version_of(binary: &Path) -> String {
    let out = Command::new(binary).arg("--version").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn a_good_bundle_installs_runs_and_is_kept_on_the_next_run() {
    let release = served();
    let (version, target) = bundle_of(release.path());
    let server = Server::start(release.path().to_path_buf(), version.clone());
    let work = tempfile::tempdir().unwrap();

    let out = run(&mut install(
        work.path(),
        &server,
        "ci-matrix",
        &format!("v{version}"),
    ));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let bin = work.path().join("bin/ci-matrix");
    assert_eq!(version_of(&bin), format!("ci-matrix {version}"));
    assert!(
        out.stderr.contains(&format!(
            "installed from ci-matrix-{version}-{target}.tar.gz (sha256 "
        )),
        "{}",
        out.stderr
    );
    let path = std::fs::read_to_string(work.path().join("github_path")).unwrap();
    assert_eq!(path.trim(), work.path().join("bin").display().to_string());
    let summary = std::fs::read_to_string(work.path().join("summary")).unwrap();
    assert!(
        summary.contains(&format!(
            "| ci-matrix | {version} | release bundle, verified |"
        )),
        "{summary}"
    );
    let downloads = server.seen();
    assert!(downloads.iter().all(|s| !s.authorized), "no token was sent");
    assert_eq!(
        downloads.len(),
        2,
        "SHA256SUMS and the bundle: {downloads:?}"
    );

    // Cached: nothing downloaded again.
    let out = run(&mut install(work.path(), &server, "ci-matrix", &version));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stderr.contains("already installed"), "{}", out.stderr);
    assert_eq!(server.seen().len(), 2);
}

#[test]
fn a_corrupted_bundle_is_refused_and_nothing_is_installed() {
    let release = served();
    let (version, target) = bundle_of(release.path());
    let name = format!("ci-matrix-{version}-{target}.tar.gz");
    let mut bytes = std::fs::read(release.path().join(&name)).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(release.path().join(&name), bytes).unwrap();
    let server = Server::start(release.path().to_path_buf(), version.clone());
    let work = tempfile::tempdir().unwrap();

    let out = run(&mut install(work.path(), &server, "ci-matrix", &version));
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "::error title=slipway setup::{name} does not match SHA256SUMS"
        )),
        "{}",
        out.stderr
    );
    assert!(!work.path().join("bin/ci-matrix").exists());
    assert!(
        !work.path().join("github_path").exists(),
        "nothing put on PATH"
    );
}

/// A source checkout with tiny `ci-matrix` and `art-consume` crates, so
/// the fallback runs a real `cargo install --locked` in a second.
fn source_checkout(dir: &Path) {
    for tool in ["ci-matrix", "art-consume"] {
        let crate_dir = dir.join("crates").join(tool);
        std::fs::create_dir_all(crate_dir.join("src")).unwrap();
        std::fs::write(
            crate_dir.join("Cargo.toml"),
            format!("[package]\nname = \"{tool}\"\nversion = \"9.9.9\"\nedition = \"2024\"\n\n[workspace]\n"),
        )
        .unwrap();
        std::fs::write(
            crate_dir.join("Cargo.lock"),
            format!("version = 4\n\n[[package]]\nname = \"{tool}\"\nversion = \"9.9.9\"\n"),
        )
        .unwrap();
        std::fs::write(
            crate_dir.join("src/main.rs"),
            format!("fn main() {{ println!(\"{tool} 9.9.9 (from source)\"); }}\n"),
        )
        .unwrap();
    }
}

#[test]
fn a_tool_without_a_bundle_and_an_unknown_platform_fall_back_to_cargo() {
    let release = served();
    let (version, _) = bundle_of(release.path());
    let server = Server::start(release.path().to_path_buf(), version.clone());
    let work = tempfile::tempdir().unwrap();
    let source = work.path().join("source");
    source_checkout(&source);

    // art-consume has no bundle in this release: it is built; ci-matrix is
    // still the verified bundle.
    let out = run(
        install(work.path(), &server, "ci-matrix,art-consume", &version)
            .env("SLIPWAY_SOURCE_DIR", &source)
            .env_remove("CARGO_TARGET_DIR"),
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout
            .contains("::notice title=slipway setup::art-consume: release v")
            && out.stdout.contains("has no bundle art-consume-"),
        "{}",
        out.stdout
    );
    assert_eq!(
        version_of(&work.path().join("bin/art-consume")),
        "art-consume 9.9.9 (from source)"
    );
    assert_eq!(
        version_of(&work.path().join("bin/ci-matrix")),
        format!("ci-matrix {version}")
    );

    // A platform no bundle is made for: built, saying so.
    let other = tempfile::tempdir().unwrap();
    let out = run(install(other.path(), &server, "ci-matrix", &version)
        .env("SLIPWAY_SOURCE_DIR", &source)
        .env("SLIPWAY_TARGET", "riscv64gc-unknown-linux-gnu")
        .env_remove("CARGO_TARGET_DIR"));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains("has no bundle ci-matrix-"),
        "{}",
        out.stdout
    );
    assert_eq!(
        version_of(&other.path().join("bin/ci-matrix")),
        "ci-matrix 9.9.9 (from source)"
    );

    // No source to build from: a clear failure, not a half install.
    let third = tempfile::tempdir().unwrap();
    let out =
        run(install(third.path(), &server, "art-consume", &version).env_remove("CARGO_TARGET_DIR"));
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("no source checkout to build from"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_private_release_is_read_through_the_api_with_the_token_never_shown() {
    let release = served();
    let (version, _) = bundle_of(release.path());
    let server = Server::start(release.path().to_path_buf(), version.clone());
    let work = tempfile::tempdir().unwrap();

    let out = run(install(work.path(), &server, "ci-matrix", &version).env("SLIPWAY_TOKEN", TOKEN));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        version_of(&work.path().join("bin/ci-matrix")),
        format!("ci-matrix {version}")
    );
    let seen = server.seen();
    assert!(
        seen.iter()
            .all(|s| s.authorized && s.path.starts_with("/api/")),
        "{seen:?}"
    );
    assert!(!out.stdout.contains(TOKEN) && !out.stderr.contains(TOKEN));
    assert!(
        !std::fs::read_dir(work.path()).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("slipway-setup.")),
        "the scratch directory (with the token file) is removed"
    );
}

#[test]
fn bad_input_is_named() {
    let server = Server::start(dist_dir(), "0.0.0".into());
    let work = tempfile::tempdir().unwrap();
    let out = run(&mut install(
        work.path(),
        &server,
        "ci-matrix,spot-leaserr",
        "0.1.0",
    ));
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("unknown tool \"spot-leaserr\""),
        "{}",
        out.stderr
    );
    let out = run(&mut install(work.path(), &server, "ci-matrix", "main"));
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr
            .contains("version \"main\" is not a release version"),
        "{}",
        out.stderr
    );
}

fn plan(env: &[(&str, &str)], source: &Path) -> String {
    let out = Command::new("bash")
        .arg(script("plan.sh"))
        .envs(env.iter().copied())
        .env("SLIPWAY_SOURCE_DIR", source)
        .env("HOME", "/home/runner")
        .env_remove("GITHUB_OUTPUT")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_plan_takes_the_version_from_a_release_ref_and_keys_source_builds_by_their_sources() {
    let source = tempfile::tempdir().unwrap();
    std::fs::write(source.path().join("Cargo.toml"), "[workspace]\n").unwrap();
    std::fs::write(source.path().join("Cargo.lock"), "version = 4\n").unwrap();
    source_checkout(source.path());

    let released = plan(
        &[
            ("SLIPWAY_TOOLS", "spot-leaser,ci-matrix"),
            ("SLIPWAY_ACTION_REF", "v1.2.3"),
        ],
        source.path(),
    );
    assert_eq!(
        released,
        "version=1.2.3\ntools=ci-matrix spot-leaser\nkey=v1.2.3-ci-matrix-spot-leaser\ndir=/home/runner/.cache/slipway/tools/v1.2.3-ci-matrix-spot-leaser/bin\n"
    );
    let pinned = plan(
        &[
            ("SLIPWAY_VERSION", "v2.0.0"),
            ("SLIPWAY_ACTION_REF", "v1.2.3"),
        ],
        source.path(),
    );
    assert!(pinned.starts_with("version=2.0.0\n"), "{pinned}");

    let branch = plan(&[("SLIPWAY_ACTION_REF", "main")], source.path());
    assert!(
        branch.starts_with("version=\ntools=ci-matrix\nkey=src-"),
        "{branch}"
    );
    std::fs::write(
        source.path().join("crates/ci-matrix/src/main.rs"),
        "fn main() {}\n",
    )
    .unwrap();
    let changed = plan(&[("SLIPWAY_ACTION_REF", "main")], source.path());
    assert_ne!(branch, changed, "a source change is a new cache key");
}
