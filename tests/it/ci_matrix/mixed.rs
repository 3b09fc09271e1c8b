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
