//! `.ci-matrix.toml` and `[workspace.metadata.ci-matrix]`.

use crate::support::Repo;

fn workspace(config: Option<&str>) -> Repo {
    let repo = Repo::new();
    repo.write(
        "package.json",
        "{\"private\": true, \"workspaces\": [\"packages/*\"]}\n",
    );
    for (name, deps) in [
        ("tokens", ""),
        ("ui", "\"tokens\": \"*\""),
        ("web", ""),
        ("docs", ""),
    ] {
        repo.write(
            &format!("packages/{name}/package.json"),
            &format!("{{\"name\": \"{name}\", \"dependencies\": {{{deps}}}}}\n"),
        );
    }
    if let Some(text) = config {
        repo.write(".ci-matrix.toml", text);
    }
    repo.commit("base");
    repo
}

fn list(repo: &Repo, changed: &str, extra: &[&str]) -> String {
    repo.ci_matrix()
        .args(["--changed-files", changed, "--format", "list"])
        .args(extra)
        .success()
}

#[test]
fn global_ignore_implicit_dependencies_and_extra_inputs() {
    let repo = workspace(Some(
        "global = [\"tsconfig.base.json\"]\nignore = [\"**/*.md\"]\n\n\
         [packages.web]\nimplicit-dependencies = [\"ui\"]\nextra-inputs = [\"config/web/**\"]\n",
    ));
    assert_eq!(
        list(&repo, "[\"tsconfig.base.json\"]", &[]),
        "docs\ntokens\nui\nweb\n"
    );
    assert_eq!(
        list(
            &repo,
            "[\"packages/tokens/README.md\", \"CHANGELOG.md\"]",
            &[]
        ),
        ""
    );
    assert_eq!(
        list(&repo, "[\"packages/tokens/index.ts\"]", &[]),
        "tokens\nui\nweb\n"
    );
    assert_eq!(list(&repo, "[\"config/web/env.json\"]", &[]), "web\n");
    // Ignore is final, even for a global path.
    assert_eq!(
        list(&repo, "[\"tsconfig.base.json\"]", &["--ignore", "*.json"]),
        ""
    );
    // A flag replaces the file's list.
    assert_eq!(
        list(
            &repo,
            "[\"packages/tokens/README.md\"]",
            &["--ignore", "nothing"]
        ),
        "tokens\nui\nweb\n"
    );
}

#[test]
fn cargo_metadata_table() {
    let repo = Repo::with_files(&[
        (
            "Cargo.toml",
            "[workspace]\nmembers = [\"a\", \"b\"]\n\n[workspace.metadata.ci-matrix]\nglobal = [\"rust-toolchain.toml\"]\n\n[workspace.metadata.ci-matrix.packages.b]\nextra-inputs = [\"schemas/**\"]\n",
        ),
        ("a/Cargo.toml", "[package]\nname = \"a\"\n"),
        ("b/Cargo.toml", "[package]\nname = \"b\"\n"),
    ]);
    assert_eq!(list(&repo, "[\"rust-toolchain.toml\"]", &[]), "a\nb\n");
    assert_eq!(list(&repo, "[\"schemas/v1.json\"]", &[]), "b\n");
}

#[test]
fn unknown_keys_and_names_are_errors_that_name_them() {
    let check = |config: &str, expected: &str| {
        let repo = workspace(Some(config));
        let out = repo.ci_matrix().args(["--changed-files", "[]"]).output();
        let stderr = out.failure(3);
        assert!(
            stderr.contains(expected),
            "expected {expected:?} in {stderr}"
        );
    };
    check(
        "globals = []\n",
        ".ci-matrix.toml: line 1: unknown field `globals`",
    );
    check(
        "[packages.web]\nimplicit-deps = []\n",
        "unknown field `implicit-deps`",
    );
    check(
        "[packages.nope]\n",
        "[packages.nope]: no package of that name",
    );
    check(
        "[packages.web]\nimplicit-dependencies = [\"ghost\"]\n",
        "implicit-dependencies: no package named \"ghost\"",
    );
}
