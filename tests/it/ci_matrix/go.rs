//! Go workspaces: `go.work` `use` directives and `require` lines.

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
