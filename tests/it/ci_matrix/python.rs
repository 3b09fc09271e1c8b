//! Python: a uv workspace with a virtual root, dependency groups and
//! sources, a path dependency outside the workspace, `uv.lock` precision,
//! and Poetry path dependencies. The lockfiles in `fixtures/lockfiles/uv`
//! were written by uv 0.13.9 (`uv lock`) for the manifests beside them.

use std::path::Path;

use super::affected_by;
use crate::support::{Repo, because_lines, fixture_tree};

fn fixture(name: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("it/fixtures/lockfiles/uv");
    std::fs::read_to_string(dir.join(name)).unwrap()
}

const MANIFESTS: [&str; 6] = [
    "pyproject.toml",
    "packages/core/pyproject.toml",
    "packages/api/pyproject.toml",
    "packages/cli/pyproject.toml",
    "libs/legacy/pyproject.toml",
    "tools/lint/pyproject.toml",
];

/// The fixture: a virtual root whose dev group uses `lint-rules` (built on
/// `core`) and `iniconfig`; `api` on `core` (root source) and on
/// `legacy-shim` (a path source outside the workspace); `cli`'s test group
/// on `api`, included into its `all` group.
fn uv_repo() -> Repo {
    let repo = Repo::new();
    for file in MANIFESTS {
        repo.write(file, &fixture(file));
    }
    repo.write("uv.lock", &fixture("base.uv.lock"));
    repo.write(
        "packages/scratch/pyproject.toml",
        "[project]\nname = \"scratch\"\n",
    );
    repo.commit("base");
    repo
}

#[test]
fn a_uv_workspace_reads_members_sources_and_groups() {
    let repo = uv_repo();
    let got = affected_by(
        &repo,
        &[("packages/api/src/api/__init__.py", Some("x = 1\n"))],
    );
    assert_eq!(
        got,
        "api (python) packages/api: api <- packages/api/src/api/__init__.py\n\
         cli (python) packages/cli: cli <- api <- packages/api/src/api/__init__.py\n"
    );
    // legacy-shim joins through api's path source; the excluded scratch
    // project does not.
    let got = affected_by(
        &repo,
        &[("libs/legacy/src/legacy/__init__.py", Some("y = 1\n"))],
    );
    assert_eq!(
        got,
        "api (python) packages/api: api <- legacy-shim <- libs/legacy/src/legacy/__init__.py\n\
         cli (python) packages/cli: cli <- api <- legacy-shim <- libs/legacy/src/legacy/__init__.py\n\
         legacy-shim (python) libs/legacy: legacy-shim <- libs/legacy/src/legacy/__init__.py\n"
    );
    let explain = super::explain(&repo, "cli");
    assert!(
        explain.contains("edges: cli -> api (test-only), api -> legacy-shim (optional)"),
        "{explain}"
    );
    let got = affected_by(&repo, &[("packages/scratch/x.py", Some("\n"))]);
    assert_eq!(got, "unowned: [\"packages/scratch/x.py\"]\n");
}

#[test]
fn core_affects_everything_through_the_virtual_roots_lint_tooling() {
    let repo = uv_repo();
    let got = affected_by(
        &repo,
        &[("packages/core/src/core/__init__.py", Some("z = 1\n"))],
    );
    assert!(
        got.contains("legacy-shim (python) libs/legacy: legacy-shim <- (root) <- lint-rules <- core <- packages/core/src/core/__init__.py\n"),
        "{got}"
    );
    assert_eq!(got.lines().count(), 5, "every package: {got}");
}

#[test]
fn uv_lock_changes_reach_only_the_members_that_resolve_them() {
    let repo = uv_repo();
    repo.write(
        "packages/api/pyproject.toml",
        &fixture("packages/api/pyproject.toml").replace("idna==3.6", "idna==3.7"),
    );
    repo.write("uv.lock", &fixture("head-api.uv.lock"));
    repo.commit("api moves to idna 3.7");
    let out = repo
        .ci_matrix()
        .args(["--base", "HEAD~1", "--format", "json"])
        .success();
    assert_eq!(
        because_lines(&out),
        "api (python) packages/api: api <- packages/api/pyproject.toml\n\
         cli (python) packages/cli: cli <- api <- packages/api/pyproject.toml\n"
    );
    let explain = super::explain(&repo, "core");
    assert!(
        explain.contains("uv.lock changed and was compared at both revisions"),
        "{explain}"
    );
}

#[test]
fn a_root_dependency_group_bump_affects_everything() {
    let repo = uv_repo();
    repo.write(
        "pyproject.toml",
        &fixture("pyproject.toml").replace("iniconfig==2.0.0", "iniconfig==2.1.0"),
    );
    repo.write("uv.lock", &fixture("head-root.uv.lock"));
    repo.commit("bump the root's iniconfig");
    let out = repo
        .ci_matrix()
        .args(["--base", "HEAD~1", "--format", "json"])
        .success();
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["affected"].as_array().unwrap().len(), 5, "{out}");
    assert_eq!(
        report["root_changes"],
        serde_json::json!([
            {"path": "pyproject.toml", "detail": "dependency group dev"},
            {"path": "uv.lock", "detail": "iniconfig 2.0.0 -> 2.1.0"},
        ])
    );
}

#[test]
fn poetry_path_dependencies_join_the_graph() {
    let repo = Repo::with_files(&[
        (
            "pyproject.toml",
            "[tool.poetry]\nname = \"service\"\nversion = \"1.0.0\"\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\nshared = { path = \"libs/shared\", develop = true }\nrequests = \"^2.31\"\n\n[tool.poetry.group.test.dependencies]\ntesting-kit = { path = \"libs/testing-kit\" }\n",
        ),
        (
            "libs/shared/pyproject.toml",
            "[tool.poetry]\nname = \"shared\"\nversion = \"0.1.0\"\n\n[tool.poetry.dependencies]\nmodels = { path = \"../models\" }\n",
        ),
        (
            "libs/models/pyproject.toml",
            "[project]\nname = \"Models\"\nversion = \"0.1.0\"\n",
        ),
        (
            "libs/testing-kit/pyproject.toml",
            "[tool.poetry]\nname = \"testing_kit\"\nversion = \"0.1.0\"\n",
        ),
        (
            "libs/unused/pyproject.toml",
            "[tool.poetry]\nname = \"unused\"\nversion = \"0.1.0\"\n",
        ),
    ]);
    let got = affected_by(&repo, &[("libs/models/models/base.py", Some("\n"))]);
    assert_eq!(
        got,
        "models (python) libs/models: models <- libs/models/models/base.py\n\
         service (python) .: service <- shared <- models <- libs/models/models/base.py\n\
         shared (python) libs/shared: shared <- models <- libs/models/models/base.py\n"
    );
    let got = affected_by(&repo, &[("libs/testing-kit/kit.py", Some("\n"))]);
    assert_eq!(
        got,
        "service (python) .: service <- testing-kit <- libs/testing-kit/kit.py\n\
         testing-kit (python) libs/testing-kit: testing-kit <- libs/testing-kit/kit.py\n"
    );
}

#[test]
fn a_members_source_overrides_the_roots_and_overrides_are_precise() {
    let root = "[tool.uv.workspace]\nmembers = [\"a\", \"b\", \"c\"]\n\n[tool.uv]\noverride-dependencies = [\"idna==3.6\"]\n\n[tool.uv.sources]\nb = { workspace = true }\n";
    let repo = Repo::with_files(&[
        ("pyproject.toml", root),
        (
            "a/pyproject.toml",
            "[project]\nname = \"a\"\ndependencies = [\"b\", \"idna>=3\"]\n\n[tool.uv.sources]\nb = { index = \"internal\" }\n",
        ),
        ("b/pyproject.toml", "[project]\nname = \"b\"\n"),
        (
            "c/pyproject.toml",
            "[project]\nname = \"c\"\ndependencies = [\"b\"]\n",
        ),
    ]);
    // a takes b from an index (its own source wins): no edge.
    let got = affected_by(&repo, &[("b/b.py", Some("\n"))]);
    assert_eq!(
        got,
        "b (python) b: b <- b/b.py\nc (python) c: c <- b <- b/b.py\n"
    );
    let got = affected_by(
        &repo,
        &[("pyproject.toml", Some(&root.replace("3.6", "3.7")))],
    );
    assert_eq!(
        got,
        "a (python) a: a <- pyproject.toml (root override idna)\n"
    );
    let got = affected_by(
        &repo,
        &[(
            "pyproject.toml",
            Some(&format!("{root}\n[tool.ruff]\nline-length = 99\n")),
        )],
    );
    assert!(
        got.contains("\"why\":\"root pyproject.toml [tool.ruff] changed\""),
        "{got}"
    );
}

/// A member whose dependencies a hatch metadata hook fills
/// (`dynamic = ["dependencies"]`): the manifest lists none, `uv.lock`
/// (written by uv 0.13.9) has them, and the lock is the graph. Without
/// the lock the member is assumed to depend on every Python project.
#[test]
fn dynamic_dependencies_come_from_the_lock_or_are_assumed() {
    let files = fixture_tree("lockfiles/uv-dynamic");
    let mut files = files;
    files.push((
        "packages/core/src/core/__init__.py".to_owned(),
        String::new(),
    ));
    let repo = Repo::with_owned_files(&files);
    let got = affected_by(
        &repo,
        &[("packages/core/src/core/__init__.py", Some("x = 1\n"))],
    );
    // cli's test group uses core (test-only); cli's build reaches core
    // through app, whose edge only the lock shows.
    insta::assert_snapshot!(got, @r"
    app (python) packages/app: app <- core <- packages/core/src/core/__init__.py
    cli (python) packages/cli: cli <- app <- core <- packages/core/src/core/__init__.py
    core (python) packages/core: core <- packages/core/src/core/__init__.py
    ");
    let report = repo
        .ci_matrix()
        .args(["--base", "HEAD~1", "--format", "json"])
        .success();
    assert!(report.contains("\"assumptions\": []"), "{report}");

    // Without the lock: assumed, and said so.
    repo.remove("uv.lock");
    repo.commit("no lock");
    let got = affected_by(
        &repo,
        &[("packages/cli/src/cli/__init__.py", Some("y = 1\n"))],
    );
    assert!(
        got.contains("app (python) packages/app: app <- cli <- packages/cli/src/cli/__init__.py"),
        "{got}"
    );
    let why = super::explain(&repo, "app");
    assert!(
        why.contains("assumed: packages/app/pyproject.toml declares \"dependencies\" dynamic and no uv.lock lists them, so it is taken to depend on every Python project"),
        "{why}"
    );
}

/// Python projects under `libs/` with no root workspace, each with its
/// own `uv.lock` (written by uv 0.13.9), linked by editable path sources.
#[test]
fn projects_without_a_root_workspace_are_linked_by_their_path_sources() {
    let mut files = fixture_tree("lockfiles/uv-projects");
    files.push(("libs/base/src/base/__init__.py".to_owned(), String::new()));
    files.push(("README.md".to_owned(), "# libs\n".to_owned()));
    let repo = Repo::with_owned_files(&files);
    let got = affected_by(
        &repo,
        &[("libs/base/src/base/__init__.py", Some("x = 1\n"))],
    );
    insta::assert_snapshot!(got, @r"
    base (python) libs/base: base <- libs/base/src/base/__init__.py
    mid (python) libs/mid: mid <- base <- libs/base/src/base/__init__.py
    top (python) libs/top: top <- mid <- base <- libs/base/src/base/__init__.py
    ");
    let got = affected_by(&repo, &[("README.md", Some("# libs!\n"))]);
    assert_eq!(got, "unowned: [\"README.md\"]\n");
}

/// A lone project at the root (no workspace) with other projects below it,
/// linked by path sources: they are packages of their own, and the root,
/// which contains them, depends on them. A fixture directory is no
/// project.
#[test]
fn projects_below_a_lone_root_project_are_packages_it_contains() {
    let repo = Repo::with_files(&[
        (
            "pyproject.toml",
            "[project]\nname = \"demo\"\nversion = \"0.1.0\"\n",
        ),
        (
            "demo/libs/lib1/pyproject.toml",
            "[project]\nname = \"lib1\"\nversion = \"0.1.0\"\n",
        ),
        ("demo/libs/lib1/src/lib1/__init__.py", ""),
        (
            "demo/apps/app1/pyproject.toml",
            "[project]\nname = \"app1\"\nversion = \"0.1.0\"\ndependencies = [\"lib1\"]\n\n[tool.uv.sources]\nlib1 = { path = \"../../libs/lib1\" }\n",
        ),
        (
            "tests/fixtures/broken/pyproject.toml",
            "[project]\nname = \"broken\"\n",
        ),
    ]);
    let got = affected_by(
        &repo,
        &[("demo/libs/lib1/src/lib1/__init__.py", Some("x = 1\n"))],
    );
    insta::assert_snapshot!(got, @r"
    app1 (python) demo/apps/app1: app1 <- lib1 <- demo/libs/lib1/src/lib1/__init__.py
    demo (python) .: demo <- lib1 <- demo/libs/lib1/src/lib1/__init__.py
    lib1 (python) demo/libs/lib1: lib1 <- demo/libs/lib1/src/lib1/__init__.py
    ");
    let got = affected_by(
        &repo,
        &[(
            "tests/fixtures/broken/pyproject.toml",
            Some("[project]\nname = \"broken2\"\n"),
        )],
    );
    assert_eq!(
        got,
        "demo (python) .: demo <- tests/fixtures/broken/pyproject.toml\n"
    );
}
