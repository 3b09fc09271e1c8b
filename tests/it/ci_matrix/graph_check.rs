//! `ci-matrix graph` and `graph --check`: the graph read from the files,
//! and compared with the build tools' own answers. The tools are real:
//! cargo, npm, and Go, uv and pnpm installed by `cargo xtask test` (their
//! directories in `SLIPWAY_BUILD_TOOLS_PATH`).

use std::path::Path;

use ci_matrix::graph_cmd::GraphDocument;

use crate::support::{Repo, Run, fixture_tree};

fn tools_path() -> String {
    std::env::var("SLIPWAY_BUILD_TOOLS_PATH")
        .expect("SLIPWAY_BUILD_TOOLS_PATH: run the tests with `cargo xtask test`, which installs uv and pnpm")
}

fn check(repo: &Repo) -> crate::support::Output {
    repo.ci_matrix()
        .args(["graph", "--check"])
        .env("PATH", tools_path())
        // pnpm would otherwise check its own version against the registry.
        .env("npm_config_manage_package_manager_versions", "false")
        .output()
}

#[test]
fn cargo_metadata_agrees_with_the_implicit_members_and_this_repository() {
    let repo = Repo::with_files(&[
        (
            "Cargo.toml",
            "[workspace]\nmembers = [\"crates/app\", \"crates/tool\"]\nresolver = \"2\"\n\n[workspace.dependencies]\napp-macros = \"0.1\"\n",
        ),
        // The published app-macros, not the member of that name.
        (
            "crates/tool/Cargo.toml",
            "[package]\nname = \"tool\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\napp-macros.workspace = true\n",
        ),
        ("crates/tool/src/main.rs", "fn main() {}\n"),
        (
            "crates/app/Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\napp-macros = { path = \"macros\" }\n\n[dev-dependencies]\nsyntax = { path = \"../syntax\" }\n",
        ),
        ("crates/app/src/lib.rs", ""),
        (
            "crates/app/macros/Cargo.toml",
            "[package]\nname = \"app-macros\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        ("crates/app/macros/src/lib.rs", ""),
        (
            "crates/syntax/Cargo.toml",
            "[package]\nname = \"syntax\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        ("crates/syntax/src/lib.rs", ""),
    ]);
    let out = check(&repo);
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("cargo: 4 packages and 2 edges agree with cargo metadata"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("pnpm: skipped: no pnpm-workspace.yaml"),
        "{}",
        out.stdout
    );

    // This repository's own workspace.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let out = Run::new(&crate::support::bin("ci-matrix"), root)
        .args(["graph", "--check"])
        .arg_path("--root", root)
        .env("PATH", tools_path())
        .output();
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("agree with cargo metadata"),
        "{}",
        out.stdout
    );
}

#[test]
fn the_uv_lock_agrees_and_a_stale_one_is_a_difference() {
    let files = fixture_tree("lockfiles/uv-dynamic");
    let repo = Repo::with_owned_files(&files);
    let out = check(&repo);
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("python: 3 packages and 3 edges agree with uv.lock"),
        "{}",
        out.stdout
    );
    // A lock that lost cli's dependency on app: the manifest still says it.
    let lock = std::fs::read_to_string(repo.path().join("uv.lock")).unwrap();
    let stale = lock.replacen(
        "source = { editable = \"packages/cli\" }\ndependencies = [\n    { name = \"app\" },\n]\n",
        "source = { editable = \"packages/cli\" }\n",
        1,
    );
    assert_ne!(lock, stale);
    repo.write("uv.lock", &stale);
    let out = check(&repo);
    assert_eq!(out.code, Some(8), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("python: edge packages/cli -> packages/app: only in ci-matrix"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains("differs from the build tools' answers: 1 difference(s)"),
        "{}",
        out.stderr
    );
}

#[test]
fn pnpm_and_npm_agree_on_their_workspaces() {
    let files = fixture_tree("lockfiles/pnpm12");
    let mut files: Vec<(String, String)> = files
        .into_iter()
        .filter(|(p, _)| !p.starts_with("head-"))
        .map(|(p, t)| {
            if p == "base.pnpm-lock.yaml" {
                ("pnpm-lock.yaml".to_owned(), t)
            } else {
                (p, t)
            }
        })
        .collect();
    files.sort();
    let repo = Repo::with_owned_files(&files);
    let out = check(&repo);
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    // ui, web, and the root's edge to ui.
    assert!(
        out.stdout
            .contains("pnpm: 2 packages and 2 edges agree with pnpm ls"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );

    let repo = Repo::with_files(&[
        (
            "package.json",
            "{\"name\":\"r\",\"private\":true,\"workspaces\":[\"packages/*\"]}\n",
        ),
        (
            "packages/a/package.json",
            "{\"name\":\"a\",\"version\":\"1.0.0\"}\n",
        ),
        (
            "packages/b/package.json",
            "{\"name\":\"b\",\"version\":\"1.0.0\",\"devDependencies\":{\"a\":\"^1.0.0\"}}\n",
        ),
    ]);
    let npm = std::process::Command::new("npm")
        .args([
            "install",
            "--package-lock-only",
            "--offline",
            "--no-audit",
            "--no-fund",
        ])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert!(
        npm.status.success(),
        "{}",
        String::from_utf8_lossy(&npm.stderr)
    );
    let out = check(&repo);
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("npm: 2 packages and 1 edges agree with npm query"),
        "{}",
        out.stdout
    );
}

#[test]
fn the_graph_prints_as_text_and_as_json_that_reads_back() {
    let files = fixture_tree("lockfiles/uv-dynamic");
    let repo = Repo::with_owned_files(&files);
    let text = repo.ci_matrix().args(["graph"]).success();
    insta::assert_snapshot!(text, @r"
    app (python) packages/app -> core
    cli (python) packages/cli -> app, core (test-only)
    core (python) packages/core
    ");
    let json = repo
        .ci_matrix()
        .args(["graph", "--format", "json"])
        .success();
    let doc: GraphDocument = serde_json::from_str(&json).unwrap();
    assert_eq!(doc.version, ci_matrix::graph_cmd::GRAPH_VERSION);
    assert_eq!(doc.packages.len(), 3);
}

#[test]
fn go_mod_edit_agrees_on_a_workspace_and_replaces() {
    let repo = Repo::with_files(&[
        (
            "go.work",
            "go 1.19\n\nuse (\n\t./api\n\t./core\n\t./tools\n)\n",
        ),
        (
            "api/go.mod",
            "module example.com/api\n\ngo 1.19\n\nrequire example.com/core v0.0.0\n",
        ),
        ("core/go.mod", "module example.com/core\n\ngo 1.19\n"),
        (
            "tools/go.mod",
            "module example.com/tools\n\ngo 1.19\n\nrequire example.com/api v0.1.0\n\nreplace example.com/api => ../api\n",
        ),
    ]);
    let out = check(&repo);
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("go: 3 packages and 2 edges agree with go mod edit"),
        "{}",
        out.stdout
    );
}

#[test]
fn the_bun_lock_agrees_with_a_bun_workspace() {
    let files: Vec<(String, String)> = fixture_tree("lockfiles/bun")
        .into_iter()
        .filter(|(p, _)| !p.starts_with("head-"))
        .map(|(p, t)| {
            if p == "base.bun.lock" {
                ("bun.lock".to_owned(), t)
            } else {
                (p, t)
            }
        })
        .collect();
    let repo = Repo::with_owned_files(&files);
    let out = check(&repo);
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("bun: 3 packages and 1 edges agree with bun.lock"),
        "{}",
        out.stdout
    );
}
