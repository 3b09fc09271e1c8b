//! Cargo workspaces: globs and excludes, path and `workspace = true`
//! dependencies, renames, every dependency table.

use super::affected_by;
use crate::support::Repo;

const WORKSPACE: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        r#"[workspace]
members = ["crates/*", "tools/cli"]
exclude = ["crates/excluded"]
resolver = "2"

[workspace.dependencies]
core = { path = "crates/core" }
renamed-util = { package = "util", path = "crates/util" }
serde = "1"
"#,
    ),
    (
        "crates/core/Cargo.toml",
        "[package]\nname = \"core\"\nversion = \"0.1.0\"\n\n[dependencies]\nserde = { workspace = true }\n\n[dev-dependencies]\ntestkit = { path = \"../testkit\" }\n",
    ),
    ("crates/core/src/lib.rs", "pub fn core() {}\n"),
    (
        "crates/util/Cargo.toml",
        "[package]\nname = \"util\"\nversion = \"0.1.0\"\n\n[dependencies]\ncore.workspace = true\n",
    ),
    ("crates/util/src/lib.rs", ""),
    (
        "crates/api/Cargo.toml",
        "[package]\nname = \"api\"\nversion = \"0.1.0\"\n\n[dependencies]\nmy-util = { package = \"util\", path = \"../util\" }\n\n[build-dependencies]\ngen = { path = \"../gen\" }\n",
    ),
    ("crates/api/src/lib.rs", ""),
    (
        "crates/gen/Cargo.toml",
        "[package]\nname = \"gen\"\nversion = \"0.1.0\"\n",
    ),
    ("crates/gen/build.rs", "fn main() {}\n"),
    (
        "crates/testkit/Cargo.toml",
        "[package]\nname = \"testkit\"\nversion = \"0.1.0\"\n",
    ),
    ("crates/testkit/src/lib.rs", ""),
    (
        "crates/server/Cargo.toml",
        "[package]\nname = \"server\"\nversion = \"0.1.0\"\n\n[target.'cfg(unix)'.dependencies]\napi = { path = \"../api\" }\n",
    ),
    ("crates/server/src/main.rs", "fn main() {}\n"),
    (
        "crates/excluded/Cargo.toml",
        "[package]\nname = \"excluded\"\nversion = \"0.1.0\"\n",
    ),
    (
        "tools/cli/Cargo.toml",
        "[package]\nname = \"cli\"\nversion = \"0.1.0\"\n\n[dependencies]\nrenamed-util = { workspace = true }\nserver = { path = \"../../crates/server\", version = \"0.1\" }\n",
    ),
    ("tools/cli/src/main.rs", "fn main() {}\n"),
    ("README.md", "# demo\n"),
];

#[test]
fn a_leaf_change_affects_the_leaf_only() {
    let repo = Repo::with_files(WORKSPACE);
    let got = affected_by(&repo, &[("tools/cli/src/main.rs", Some("fn main() { }\n"))]);
    assert_eq!(got, "cli (cargo) tools/cli: cli <- tools/cli/src/main.rs\n");
}

#[test]
fn a_core_change_reaches_every_transitive_dependent() {
    let repo = Repo::with_files(WORKSPACE);
    let got = affected_by(
        &repo,
        &[("crates/core/src/lib.rs", Some("pub fn core2() {}\n"))],
    );
    insta::assert_snapshot!(got, @r"
    api (cargo) crates/api: api <- util <- core <- crates/core/src/lib.rs
    cli (cargo) tools/cli: cli <- util <- core <- crates/core/src/lib.rs
    core (cargo) crates/core: core <- crates/core/src/lib.rs
    server (cargo) crates/server: server <- api <- util <- core <- crates/core/src/lib.rs
    util (cargo) crates/util: util <- core <- crates/core/src/lib.rs
    ");
}

#[test]
fn build_dependencies_propagate_and_dev_dependencies_end_at_the_package() {
    let repo = Repo::with_files(WORKSPACE);
    let got = affected_by(&repo, &[("crates/gen/build.rs", Some("fn main() { }\n"))]);
    insta::assert_snapshot!(got, @r"
    api (cargo) crates/api: api <- gen <- crates/gen/build.rs
    cli (cargo) tools/cli: cli <- server <- api <- gen <- crates/gen/build.rs
    gen (cargo) crates/gen: gen <- crates/gen/build.rs
    server (cargo) crates/server: server <- api <- gen <- crates/gen/build.rs
    ");
    let got = affected_by(
        &repo,
        &[("crates/testkit/src/lib.rs", Some("// changed\n"))],
    );
    // core's tests use testkit, its build does not: core's dependents
    // are not affected through it.
    insta::assert_snapshot!(got, @r"
    core (cargo) crates/core: core <- testkit <- crates/testkit/src/lib.rs
    testkit (cargo) crates/testkit: testkit <- crates/testkit/src/lib.rs
    ");
    let why = super::explain(&repo, "core");
    assert!(why.contains("core -> testkit (test-only)"), "{why}");
}

#[test]
fn an_excluded_crate_is_no_package_and_so_the_roots() {
    let repo = Repo::with_files(WORKSPACE);
    let got = affected_by(&repo, &[("crates/excluded/src/lib.rs", Some("\n"))]);
    assert_eq!(got, "unowned: [\"crates/excluded/src/lib.rs\"]\n");
}

#[test]
fn a_path_dependency_outside_the_workspace_belongs_to_its_user() {
    let repo = Repo::with_files(WORKSPACE);
    repo.write(
        "crates/testkit/Cargo.toml",
        &format!(
            "{}[dependencies]\nexcluded = {{ path = \"../excluded\" }}\n",
            std::fs::read_to_string(repo.path().join("crates/testkit/Cargo.toml")).unwrap()
        ),
    );
    repo.commit("testkit uses the excluded crate");
    let got = affected_by(&repo, &[("crates/excluded/src/lib.rs", Some("// x\n"))]);
    assert!(
        got.contains("testkit (cargo) crates/testkit: testkit <- crates/excluded/src/lib.rs\n"),
        "{got}"
    );
    assert!(
        got.contains("core (cargo) crates/core: core <- testkit <- crates/excluded/src/lib.rs\n"),
        "{got}"
    );
    assert_eq!(
        got.lines().count(),
        2,
        "testkit, and core, whose tests use it: {got}"
    );
}

/// Cargo makes a member's path dependency inside the workspace a member
/// of its own (`crates/x/macros`), recursively, unless it is excluded.
#[test]
fn path_dependencies_inside_the_workspace_are_members() {
    let repo = Repo::with_files(&[
        (
            "Cargo.toml",
            "[workspace]\nmembers = [\"crates/app\"]\nexclude = [\"crates/app/vendored\"]\n",
        ),
        (
            "crates/app/Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\n\n[dependencies]\napp-macros = { path = \"macros\" }\nvendored = { path = \"vendored\" }\n",
        ),
        ("crates/app/src/lib.rs", ""),
        (
            "crates/app/macros/Cargo.toml",
            "[package]\nname = \"app-macros\"\nversion = \"0.1.0\"\n\n[dependencies]\nsyntax = { path = \"../../syntax\" }\n",
        ),
        ("crates/app/macros/src/lib.rs", ""),
        (
            "crates/syntax/Cargo.toml",
            "[package]\nname = \"syntax\"\nversion = \"0.1.0\"\n",
        ),
        ("crates/syntax/src/lib.rs", ""),
        (
            "crates/app/vendored/Cargo.toml",
            "[package]\nname = \"vendored\"\nversion = \"0.1.0\"\n",
        ),
        ("crates/app/vendored/src/lib.rs", ""),
    ]);
    let out = repo
        .ci_matrix()
        .args(["--base", "HEAD", "--format", "json"])
        .success();
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        report["packages_total"], 3,
        "app, app-macros, syntax: {out}"
    );
    let got = affected_by(&repo, &[("crates/syntax/src/lib.rs", Some("// x\n"))]);
    insta::assert_snapshot!(got, @r"
    app (cargo) crates/app: app <- app-macros <- syntax <- crates/syntax/src/lib.rs
    app-macros (cargo) crates/app/macros: app-macros <- syntax <- crates/syntax/src/lib.rs
    syntax (cargo) crates/syntax: syntax <- crates/syntax/src/lib.rs
    ");
    // The excluded one stays part of its user.
    let got = affected_by(&repo, &[("crates/app/vendored/src/lib.rs", Some("// x\n"))]);
    assert_eq!(
        got,
        "app (cargo) crates/app: app <- crates/app/vendored/src/lib.rs\n"
    );
}

#[test]
fn a_root_package_owns_loose_files() {
    let repo = Repo::with_files(&[
        (
            "Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\n\n[dependencies]\nlib = { path = \"lib\" }\n\n[workspace]\nmembers = [\"lib\"]\n",
        ),
        ("src/main.rs", "fn main() {}\n"),
        (
            "lib/Cargo.toml",
            "[package]\nname = \"lib\"\nversion = \"0.1.0\"\n",
        ),
        ("lib/src/lib.rs", ""),
    ]);
    let got = affected_by(&repo, &[("lib/src/lib.rs", Some("// x\n"))]);
    assert_eq!(
        got,
        "app (cargo) .: app <- lib <- lib/src/lib.rs\nlib (cargo) lib: lib <- lib/src/lib.rs\n"
    );
    let got = affected_by(&repo, &[("README.md", Some("x\n"))]);
    assert_eq!(got, "app (cargo) .: app <- README.md\n");
}

#[test]
fn a_deleted_crate_is_reported_removed_with_its_old_name() {
    let repo = Repo::with_files(WORKSPACE);
    repo.remove("crates/gen");
    repo.write(
        "crates/api/Cargo.toml",
        "[package]\nname = \"api\"\nversion = \"0.1.0\"\n\n[dependencies]\nmy-util = { package = \"util\", path = \"../util\" }\n",
    );
    repo.commit("drop gen");
    let out = repo
        .ci_matrix()
        .args(["--base", "HEAD~1", "--format", "json"])
        .success();
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["global_triggers"], serde_json::json!([]));
    assert_eq!(
        report["removed"],
        serde_json::json!([{"path": "crates/gen", "name": "gen", "files": ["crates/gen/Cargo.toml", "crates/gen/build.rs"]}])
    );
    let names: Vec<&str> = report["affected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["package"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["api", "cli", "server"]);
}
