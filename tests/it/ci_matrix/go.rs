//! Go: `go.work` workspaces (`use`, `require`, `replace`) and repositories
//! of many modules without one (`replace` with a local directory).

use super::affected_by;
use crate::support::Repo;

#[test]
fn go_work_modules_and_requires() {
    let repo = Repo::with_files(&[
        (
            "go.work",
            "go 1.22\n\nuse (\n\t./lib/log // logging\n\t./svc/api\n\t./svc/worker\n)\nuse ./tools\n",
        ),
        ("lib/log/go.mod", "module example.com/lib/log\n\ngo 1.22\n"),
        ("lib/log/log.go", "package log\n"),
        (
            "svc/api/go.mod",
            "module example.com/svc/api\n\ngo 1.22\n\nrequire (\n\texample.com/lib/log v0.0.0\n\tgithub.com/google/uuid v1.6.0 // indirect\n)\n",
        ),
        ("svc/api/main.go", "package main\n"),
        (
            "svc/worker/go.mod",
            "module example.com/svc/worker\n\nrequire example.com/svc/api v0.0.0\n",
        ),
        ("tools/go.mod", "module \"example.com/tools\"\n"),
    ]);
    let got = affected_by(
        &repo,
        &[("lib/log/log.go", Some("package log\n\nfunc X() {}\n"))],
    );
    insta::assert_snapshot!(got, @r"
    example.com/lib/log (go) lib/log: example.com/lib/log <- lib/log/log.go
    example.com/svc/api (go) svc/api: example.com/svc/api <- example.com/lib/log <- lib/log/log.go
    example.com/svc/worker (go) svc/worker: example.com/svc/worker <- example.com/svc/api <- example.com/lib/log <- lib/log/log.go
    ");
    let got = affected_by(&repo, &[("tools/gen.go", Some("package tools\n"))]);
    assert_eq!(
        got,
        "example.com/tools (go) tools: example.com/tools <- tools/gen.go\n"
    );
}

#[test]
fn a_lone_go_mod_is_one_module() {
    let repo = Repo::with_files(&[
        ("go.mod", "module example.com/app\n"),
        ("main.go", "package main\n"),
    ]);
    let got = affected_by(&repo, &[("cmd/x/main.go", Some("package main\n"))]);
    assert_eq!(
        got,
        "example.com/app (go) .: example.com/app <- cmd/x/main.go\n"
    );
}

/// The shape of repositories with many modules and no `go.work`: a root
/// module, modules below it linked by `replace ../..` directives, and
/// directories the go command skips.
fn multi_module() -> Repo {
    Repo::with_files(&[
        (
            "go.mod",
            "module example.com/mono\n\ngo 1.22\n\nrequire example.com/mono/api v0.0.0\n\nreplace example.com/mono/api => ./api\n",
        ),
        ("main.go", "package main\n"),
        (
            "api/go.mod",
            "module example.com/mono/api\n\nrequire (\n\texample.com/mono/sdk v0.0.0\n\texample.com/mono/log v1.4.0\n)\n\nreplace example.com/mono/sdk v0.0.0 => ../sdk\n",
        ),
        ("api/api.go", "package api\n"),
        ("sdk/go.mod", "module example.com/mono/sdk\n"),
        ("sdk/sdk.go", "package sdk\n"),
        // Required by api at a published version, with no replace.
        ("log/go.mod", "module example.com/mono/log\n"),
        ("log/log.go", "package log\n"),
        ("vendor/example.com/x/go.mod", "module example.com/x\n"),
        ("api/testdata/fixture/go.mod", "module fixture\n"),
        ("_old/go.mod", "module old\n"),
        (".cache/go.mod", "module cache\n"),
    ])
}

#[test]
fn without_go_work_every_go_mod_is_a_module_and_replaces_are_edges() {
    let repo = multi_module();
    let json = repo
        .ci_matrix()
        .args(["--changed-files", "[]", "--format", "json"])
        .success();
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        report["packages_total"], 4,
        "vendor, testdata, _ and hidden are skipped"
    );
    let got = affected_by(
        &repo,
        &[("sdk/sdk.go", Some("package sdk\n\nfunc X() {}\n"))],
    );
    assert_eq!(
        got,
        "example.com/mono (go) .: example.com/mono <- example.com/mono/api <- example.com/mono/sdk <- sdk/sdk.go\n\
         example.com/mono/api (go) api: example.com/mono/api <- example.com/mono/sdk <- sdk/sdk.go\n\
         example.com/mono/sdk (go) sdk: example.com/mono/sdk <- sdk/sdk.go\n"
    );
    let explain = super::explain(&repo, "example.com/mono");
    assert!(
        explain.contains("edges: example.com/mono -> example.com/mono/api (replace), example.com/mono/api -> example.com/mono/sdk (replace)"),
        "{explain}"
    );
}

#[test]
fn a_require_without_a_replace_builds_against_the_published_version() {
    let repo = multi_module();
    let got = affected_by(
        &repo,
        &[("log/log.go", Some("package log\n\nfunc Y() {}\n"))],
    );
    assert_eq!(
        got,
        "example.com/mono/log (go) log: example.com/mono/log <- log/log.go\n"
    );
    let explain = super::explain(&repo, "example.com/mono/api");
    assert!(
        explain.contains("example.com/mono/api requires example.com/mono/log v1.4.0 with no local link (a replace or a workspace source): it builds against the published version"),
        "{explain}"
    );
    // A module's go.sum is its own: precise by ownership.
    let got = affected_by(
        &repo,
        &[("sdk/go.sum", Some("golang.org/x/text v0.14.0 h1:x=\n"))],
    );
    assert_eq!(got.lines().count(), 3, "{got}");
}

#[test]
fn go_work_replaces_point_at_local_modules() {
    let repo = Repo::with_files(&[
        (
            "go.work",
            "go 1.22\n\nuse (\n\t./a\n\t./b\n\t./forks/c\n)\n\nreplace github.com/up/c => ./forks/c\n",
        ),
        (
            "a/go.mod",
            "module example.com/a\n\nrequire github.com/up/c v1.0.0\n",
        ),
        ("b/go.mod", "module example.com/b\n"),
        ("forks/c/go.mod", "module github.com/up/c\n"),
    ]);
    let got = affected_by(&repo, &[("forks/c/c.go", Some("package c\n"))]);
    assert_eq!(
        got,
        "example.com/a (go) a: example.com/a <- github.com/up/c <- forks/c/c.go\n\
         github.com/up/c (go) forks/c: github.com/up/c <- forks/c/c.go\n"
    );
}
