//! Every exit code the README documents, one case each, run through the
//! binaries: the code, and the message (or hint) that names what is at
//! fault. Codes that need a live transfer or a peer to fail in a
//! particular way are run where that peer is (named beside each table).

use std::path::Path;

use crate::support::{Repo, Run, bin};

const WORKSPACE: [(&str, &str); 2] = [
    ("Cargo.toml", "[workspace]\nmembers = [\"a\"]\n"),
    ("a/Cargo.toml", "[package]\nname = \"a\"\n"),
];

fn check(run: Run, code: i32, expected: &str) {
    let out = run.output();
    assert_eq!(out.code, Some(code), "stderr:\n{}", out.stderr);
    assert!(
        out.stderr.contains(expected),
        "expected {expected:?} in:\n{}",
        out.stderr
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

/// ci-matrix: 6 (outputs over GitHub's limit) is run in
/// `ci_matrix::outputs`, with a graph large enough to pass 1 MB; 8 (`graph
/// --check` found differences) in `ci_matrix::graph_check`, against uv.
#[test]
fn ci_matrix_codes() {
    let repo = Repo::with_files(&WORKSPACE);
    let changed = ["--changed-files", r#"["a/src/lib.rs"]"#];
    check(repo.ci_matrix().args(changed), 0, "packages affected");
    check(
        repo.ci_matrix()
            .args(changed)
            .args(["--output-file", "/nonexistent/dir/matrix.json"]),
        1,
        "failed to write /nonexistent/dir/matrix.json",
    );
    check(
        repo.ci_matrix(),
        2,
        "hint: pass --changed-files JSON, --changed-files-from FILE, --base REV or --github",
    );
    check(
        repo.ci_matrix().args(changed).args(["--explain", "nope"]),
        2,
        "--explain nope: no package of that name",
    );
    let broken = Repo::with_files(&[("Cargo.toml", "[workspace\n")]);
    check(broken.ci_matrix().args(changed), 3, "Cargo.toml");
    let empty = Repo::with_files(&[("README.md", "nothing here\n")]);
    check(
        empty.ci_matrix().args(changed),
        3,
        "hint: pass a hand-kept dep-graph.json with --graph FILE",
    );
    let cycle = Repo::with_files(&[
        ("Cargo.toml", "[workspace]\nmembers = [\"a\", \"b\"]\n"),
        (
            "a/Cargo.toml",
            "[package]\nname = \"a\"\n[dependencies]\nb = { path = \"../b\" }\n",
        ),
        (
            "b/Cargo.toml",
            "[package]\nname = \"b\"\n[dependencies]\na = { path = \"../a\" }\n",
        ),
    ]);
    check(
        cycle.ci_matrix().args(changed).args(["--fail-on-cycle"]),
        4,
        "dependency cycle: ",
    );
    check(
        repo.ci_matrix().args(["--base", "no-such-revision"]),
        5,
        "`git ",
    );
    let gate = |needs: &str| repo.ci_matrix().args(["gate", "--needs", needs]);
    check(
        gate(
            r#"{"plan": {"result": "success", "outputs": {"has_affected": "false"}}, "test": {"result": "skipped", "outputs": {}}}"#,
        ),
        0,
        "gate passed: plan found nothing affected",
    );
    check(gate("[]"), 3, "--needs is not a `needs` context");
    check(
        gate(
            r#"{"plan": {"result": "success", "outputs": {"has_affected": "true"}}, "test": {"result": "cancelled", "outputs": {}}}"#,
        ),
        7,
        "the gate fails: test cancelled",
    );
    // `observe` exits with its command's status, and through the same
    // error path as every command when it cannot run one.
    let observe = |command: &[&str]| {
        repo.ci_matrix()
            .args(["observe", "--package", "a", "--"])
            .args(command)
    };
    check(observe(&["sh", "-c", "exit 3"]), 3, "");
    check(observe(&[]), 2, "<COMMAND>");
    check(
        observe(&["/nonexistent/build"]),
        127,
        "could not run /nonexistent/build: No such file",
    );
}

/// art-stream: 0 is every transfer of `artifact::streaming`, 6 (another
/// producer announced the name) is in `artifact::store`.
#[test]
fn art_stream_codes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.bin");
    std::fs::write(&file, b"x").unwrap();
    let stream = |args: &[&str]| {
        Run::new(&bin("art-stream"), Path::new("/"))
            .env_remove_secret()
            .args(args)
    };
    let path = file.to_str().unwrap();
    check(
        stream(&[
            "--file",
            path,
            "--port",
            "0",
            "--insecure",
            "--spool-dir",
            "/nonexistent",
        ]),
        1,
        "failed to create the spool file",
    );
    check(
        stream(&["--file", path, "--port", "0"]),
        2,
        "hint: set ART_STREAM_SECRET or pass --secret-file",
    );
    let missing = dir.path().join("never.bin");
    check(
        stream(&[
            "--file",
            missing.to_str().unwrap(),
            "--port",
            "0",
            "--insecure",
            "--timeout",
            "1",
        ]),
        3,
        "did not appear within 1 seconds",
    );
    check(
        stream(&[
            "--file",
            dir.path().to_str().unwrap(),
            "--port",
            "0",
            "--insecure",
        ]),
        4,
        "the artifact could not be served: failed to read",
    );
    check(
        stream(&[
            "--file",
            path,
            "--port",
            "0",
            "--insecure",
            "--store",
            "http://bucket",
            "--name",
            "d",
            "--run-id",
            "1",
        ]),
        2,
        "--store \"http://bucket\" is neither s3://BUCKET[/PREFIX] nor file:///DIR",
    );
    check(
        stream(&[
            "--file",
            path,
            "--port",
            "0",
            "--insecure",
            "--store",
            "file:///tmp",
            "--name",
            "d",
        ])
        .env_remove("GITHUB_RUN_ID"),
        2,
        "no run to scope the store by",
    );
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    check(
        stream(&[
            "--file",
            path,
            "--bind",
            "127.0.0.1",
            "--port",
            &port,
            "--insecure",
        ]),
        5,
        "failed to listen on 127.0.0.1:",
    );
}

/// art-consume: 0, 4 (secrets differ), 5 (a flipped byte, every time) and
/// 7 (the producer cannot read its file) need a producer and run in
/// `artifact::streaming`.
#[test]
fn art_consume_codes() {
    let dir = tempfile::tempdir().unwrap();
    let consume = |args: &[&str]| {
        Run::new(&bin("art-consume"), Path::new("/"))
            .env_remove_secret()
            .args(args)
    };
    let out = dir.path().join("out.bin");
    let out = out.to_str().unwrap();
    let store = format!("file://{}", dir.path().join("store").display());
    check(
        consume(&[
            "--store",
            &store,
            "--name",
            "dist",
            "--run-id",
            "1",
            "--wait",
            "0",
            "--out",
            out,
            "--insecure",
        ]),
        3,
        "no producer announced this artifact at file://",
    );
    check(
        consume(&["--host", "127.0.0.1", "--port", "1", "--out", out]),
        2,
        "hint: set ART_STREAM_SECRET or pass --secret-file",
    );
    check(
        consume(&[
            "--host",
            "127.0.0.1",
            "--port",
            "1",
            "--out",
            out,
            "--insecure",
            "--expect-sha256",
            "abc",
        ]),
        2,
        "--expect-sha256 \"abc\" is not 64 hexadecimal digits",
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port().to_string();
    drop(closed);
    check(
        consume(&[
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--out",
            out,
            "--insecure",
            "--retries",
            "1",
        ]),
        3,
        "gave up after",
    );
    check(
        consume(&[
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--out",
            "/nonexistent/dir/out.bin",
            "--insecure",
        ]),
        6,
        "failed to write /nonexistent/dir/out.bin",
    );
    assert!(!Path::new(out).exists(), "nothing at --out");
}

/// spot-leaser: 0 and 4 (no eligible pool, no capacity) run against moto
/// in `spot::leaser`; 3 against moto refusing an unknown instance, and 5
/// against a GitHub that cannot be reached, below.
#[test]
fn spot_leaser_codes() {
    let leaser = || {
        Run::new(&bin("spot-leaser"), Path::new("/"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    };
    let plan = [
        "plan",
        "--region",
        "eu-west-1",
        "--instance-types",
        "c5.large",
    ];
    check(
        leaser()
            .args(plan)
            .args(["--price-history", "/nonexistent.json"]),
        1,
        "failed to read /nonexistent.json",
    );
    check(
        leaser()
            .args(plan)
            .args(["--price-history", "/dev/null", "--window", "soon"]),
        2,
        "--window \"soon\": expected a duration",
    );
    check(
        leaser()
            .args([
                "rerun",
                "--region",
                "eu-west-1",
                "--github-org",
                "acme",
                "--run-id",
                "1",
            ])
            .env("GITHUB_TOKEN", "t"),
        2,
        "hint: use --github-repo OWNER/REPO",
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    check(
        leaser()
            .args([
                "queue",
                "--github-repo",
                "acme/app",
                "--github-api-url",
                &url,
            ])
            .env("GITHUB_TOKEN", "not-a-real-token"),
        5,
        "GitHub GET /repos/acme/app/actions/runs",
    );
    check(
        leaser()
            .args(["queue", "--github-repo", "acme/app"])
            .env_remove("GITHUB_TOKEN"),
        2,
        "no GitHub credentials: GITHUB_TOKEN is not set",
    );
    check(
        crate::spot::leaser().args([
            "cost",
            "--region",
            "eu-west-1",
            "--instance-ids",
            "i-0123456789abcdef0",
        ]),
        3,
        "EC2 DescribeInstances failed: InvalidInstanceID.NotFound",
    );
}
