//! A Cargo workspace and a pnpm workspace side by side.

use super::affected_by;
use crate::support::Repo;

#[test]
fn one_graph_with_equal_names_told_apart() {
    let repo = Repo::with_files(&[
        ("Cargo.toml", "[workspace]\nmembers = [\"rust/*\"]\n"),
        (
            "rust/core/Cargo.toml",
            "[package]\nname = \"core\"\nversion = \"0.1.0\"\n",
        ),
        ("rust/core/src/lib.rs", ""),
        (
            "rust/wasm/Cargo.toml",
            "[package]\nname = \"wasm\"\nversion = \"0.1.0\"\n[dependencies]\ncore = { path = \"../core\" }\n",
        ),
        ("package.json", "{\"private\": true}\n"),
        ("pnpm-workspace.yaml", "packages: [\"web/*\"]\n"),
        ("web/core/package.json", "{\"name\": \"core\"}\n"),
        ("web/core/index.ts", ""),
        (
            "web/app/package.json",
            "{\"name\": \"app\", \"dependencies\": {\"core\": \"workspace:*\"}}\n",
        ),
    ]);
    let got = affected_by(&repo, &[("rust/core/src/lib.rs", Some("// x\n"))]);
    assert_eq!(
        got,
        "cargo:core (cargo) rust/core: cargo:core <- rust/core/src/lib.rs\n\
         wasm (cargo) rust/wasm: wasm <- cargo:core <- rust/core/src/lib.rs\n"
    );
    let got = affected_by(&repo, &[("web/core/index.ts", Some("// x\n"))]);
    assert_eq!(
        got,
        "app (pnpm) web/app: app <- pnpm:core <- web/core/index.ts\n\
         pnpm:core (pnpm) web/core: pnpm:core <- web/core/index.ts\n"
    );
    let matrix = repo
        .ci_matrix()
        .args([
            "--changed-files",
            "[\"rust/core/src/lib.rs\", \"web/app/x.ts\"]",
        ])
        .success();
    assert_eq!(
        matrix,
        "{\"include\":[{\"package\":\"app\",\"path\":\"web/app\"},{\"package\":\"cargo:core\",\"path\":\"rust/core\"},{\"package\":\"wasm\",\"path\":\"rust/wasm\"}]}\n"
    );
}

/// A Cargo workspace at the root and a pnpm workspace rooted in
/// `frontend/`, declared in `.ci-matrix.toml`.
fn nested_repo(config: &str) -> Repo {
    Repo::with_files(&[
        (".ci-matrix.toml", config),
        ("Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n"),
        (
            "crates/api/Cargo.toml",
            "[package]\nname = \"api\"\nversion = \"0.1.0\"\n",
        ),
        ("crates/api/src/lib.rs", ""),
        ("frontend/package.json", "{\"private\": true}\n"),
        (
            "frontend/pnpm-workspace.yaml",
            "packages: [\"packages/*\"]\n",
        ),
        ("frontend/pnpm-lock.yaml", "lockfileVersion: '9.0'\n"),
        ("frontend/packages/ui/package.json", "{\"name\": \"ui\"}\n"),
        ("frontend/packages/ui/index.ts", ""),
        (
            "frontend/packages/app/package.json",
            "{\"name\": \"app\", \"dependencies\": {\"ui\": \"workspace:*\"}}\n",
        ),
        ("frontend/packages/app/index.ts", ""),
    ])
}

#[test]
fn a_nested_workspace_joins_the_graph_with_its_paths_under_its_root() {
    let repo = nested_repo("nested-workspaces = [\"frontend\"]\n");
    let got = affected_by(&repo, &[("frontend/packages/ui/index.ts", Some("// x\n"))]);
    assert_eq!(
        got,
        "app (pnpm) frontend/packages/app: app <- ui <- frontend/packages/ui/index.ts\n\
         ui (pnpm) frontend/packages/ui: ui <- frontend/packages/ui/index.ts\n"
    );
    // Its lockfile is not read precisely: all of its packages, and only those.
    let got = affected_by(
        &repo,
        &[(
            "frontend/pnpm-lock.yaml",
            Some("lockfileVersion: '9.0'\n# x\n"),
        )],
    );
    assert!(got.contains("app (pnpm) frontend/packages/app"), "{got}");
    assert!(got.contains("ui (pnpm) frontend/packages/ui"), "{got}");
    assert!(!got.contains("api"), "{got}");
    assert!(
        got.contains("a nested workspace's shared file affects all its packages"),
        "{got}"
    );
    // The root workspace is still read as before.
    let got = affected_by(&repo, &[("crates/api/src/lib.rs", Some("// x\n"))]);
    assert_eq!(
        got,
        "api (cargo) crates/api: api <- crates/api/src/lib.rs\n"
    );
}

#[test]
fn nested_workspaces_come_from_the_command_line_too_and_are_checked() {
    let repo = nested_repo("");
    let matrix = repo
        .ci_matrix()
        .args(["--changed-files", "[\"frontend/packages/ui/index.ts\"]"])
        .success();
    // Not declared: frontend/ is outside every known package, so it is the
    // root's and affects nothing, with a warning that names the package.
    assert_eq!(matrix, "{\"include\":[]}\n");
    let out = repo
        .ci_matrix()
        .args(["--changed-files", "[\"frontend/packages/ui/index.ts\"]"])
        .env("GITHUB_ACTIONS", "true")
        .output();
    assert!(
        out.stderr.contains("::warning title=ci-matrix::frontend/packages/ui has a package.json but is in no workspace ci-matrix read"),
        "{}",
        out.stderr
    );
    let matrix = repo
        .ci_matrix()
        .args(["--nested-workspace", "frontend"])
        .args(["--changed-files", "[\"frontend/packages/ui/index.ts\"]"])
        .success();
    assert_eq!(
        matrix,
        "{\"include\":[{\"package\":\"app\",\"path\":\"frontend/packages/app\"},{\"package\":\"ui\",\"path\":\"frontend/packages/ui\"}]}\n"
    );
    let out = repo
        .ci_matrix()
        .args([
            "--nested-workspace",
            "crates/nothing",
            "--changed-files",
            "[]",
        ])
        .output();
    let stderr = out.failure(3);
    assert!(
        stderr.contains("nested workspace root \"crates/nothing\": no Cargo, npm/yarn/pnpm/Bun, Go, Python, Maven, Gradle or .NET workspace there"),
        "{stderr}"
    );
    let out = repo
        .ci_matrix()
        .args([
            "--nested-workspace",
            "../elsewhere",
            "--changed-files",
            "[]",
        ])
        .output();
    assert!(
        out.failure(3)
            .contains("not a directory below the repository root")
    );
}

/// No workspace at the root: Go modules and npm packages side by side,
/// each a root of its own, joined by their paths (`replace … => ../b`,
/// `file:../lib`).
#[test]
fn projects_without_a_root_workspace_join_through_their_paths() {
    let repo = Repo::with_files(&[
        (
            "svc/a/go.mod",
            "module example.com/a\n\ngo 1.22\n\nrequire example.com/b v0.0.0\n\nreplace example.com/b => ../b\n",
        ),
        ("svc/b/go.mod", "module example.com/b\n\ngo 1.22\n"),
        ("svc/b/b.go", "package b\n"),
        (
            "web/app/package.json",
            "{\"name\": \"app\", \"dependencies\": {\"lib\": \"file:../lib\"}}\n",
        ),
        ("web/lib/package.json", "{\"name\": \"lib\"}\n"),
        ("web/lib/index.js", "module.exports = 1;\n"),
        ("README.md", "# services\n"),
    ]);
    let got = affected_by(
        &repo,
        &[
            ("svc/b/b.go", Some("package b\n\nconst X = 1\n")),
            ("web/lib/index.js", Some("module.exports = 2;\n")),
        ],
    );
    insta::assert_snapshot!(got, @r"
    app (npm) web/app: app <- lib <- web/lib/index.js
    example.com/a (go) svc/a: example.com/a <- example.com/b <- svc/b/b.go
    example.com/b (go) svc/b: example.com/b <- svc/b/b.go
    lib (npm) web/lib: lib <- web/lib/index.js
    ");
}
