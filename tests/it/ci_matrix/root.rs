//! The workspace root as a package of its own: paths in no package affect
//! nothing unless they are global; the root's own dependencies, and the
//! workspace packages it depends on, are every package's tooling.
//!
//! The pnpm lockfiles in `fixtures/lockfiles/pnpm-root` were written by
//! pnpm 9.15 (`pnpm install --lockfile-only`) for the manifests beside them.

use std::path::Path;

use super::affected_by;
use crate::support::{Repo, because_lines};

/// A pnpm workspace shaped like a changesets repository: `web -> ui ->
/// core`, `docs` on its own, the root with its own dev tooling.
fn changesets_repo(extra: &[(&str, &str)]) -> Repo {
    let repo = Repo::with_files(&[
        (
            "package.json",
            "{\"private\": true, \"devDependencies\": {\"@changesets/cli\": \"^2.27.0\", \"vitest\": \"^3.1.0\"}}\n",
        ),
        (
            "pnpm-workspace.yaml",
            "packages:\n  - packages/*\n  - apps/*\n",
        ),
        ("packages/core/package.json", "{\"name\": \"@x/core\"}\n"),
        ("packages/core/src/a.ts", "export const a = 1;\n"),
        (
            "packages/ui/package.json",
            "{\"name\": \"@x/ui\", \"dependencies\": {\"@x/core\": \"workspace:*\"}}\n",
        ),
        (
            "apps/web/package.json",
            "{\"name\": \"web\", \"dependencies\": {\"@x/ui\": \"workspace:*\"}}\n",
        ),
        ("apps/docs/package.json", "{\"name\": \"docs\"}\n"),
        ("tsconfig.json", "{}\n"),
        (".changeset/config.json", "{}\n"),
        ("content/intro.md", "# Intro\n"),
    ]);
    repo.write_all(extra);
    repo.commit("more");
    repo
}

fn report(repo: &Repo, args: &[&str]) -> serde_json::Value {
    let out = repo
        .ci_matrix()
        .args(["--base", "HEAD~1", "--format", "json"])
        .args(args)
        .success();
    serde_json::from_str(&out).unwrap()
}

#[test]
fn a_changeset_and_docs_affect_nothing_and_say_so() {
    let repo = changesets_repo(&[]);
    repo.write(
        ".changeset/brave-cats.md",
        "---\n\"@x/core\": patch\n---\nFix.\n",
    );
    repo.write("content/intro.md", "# Intro, again\n");
    repo.write("architecture/overview.md", "# Overview\n");
    repo.commit("changeset and docs");
    let json = report(&repo, &[]);
    assert_eq!(json["affected"], serde_json::json!([]));
    assert_eq!(
        json["unowned"],
        serde_json::json!([
            ".changeset/brave-cats.md",
            "architecture/overview.md",
            "content/intro.md"
        ])
    );
    assert_eq!(json["unowned_rule"], "root");
    assert_eq!(json["global_triggers"], serde_json::json!([]));

    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary");
    let output = dir.path().join("output");
    let matrix = repo
        .ci_matrix()
        .args(["--base", "HEAD~1"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .success();
    assert_eq!(matrix, "{\"include\":[]}\n");
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(
        summary.contains("3 paths outside any package affect nothing (unowned = root): `.changeset/brave-cats.md`, `architecture/overview.md`, `content/intro.md`."),
        "{summary}"
    );

    let explain = super::explain(&repo, "web");
    assert!(
        explain.contains("3 changed paths lie in no package and belong to the root, which affects nothing (unowned = root)"),
        "{explain}"
    );
}

#[test]
fn unowned_all_restores_every_package() {
    let repo = changesets_repo(&[(".ci-matrix.toml", "unowned = \"all\"\n")]);
    repo.write(".changeset/brave-cats.md", "---\n---\n");
    repo.commit("changeset");
    let json = report(&repo, &[]);
    assert_eq!(json["affected"].as_array().unwrap().len(), 4);
    assert_eq!(json["unowned_rule"], "all");
    assert_eq!(
        json["global_triggers"],
        serde_json::json!([{"path": ".changeset/brave-cats.md", "why": "lies in no package (unowned = all)"}])
    );
    // The flag wins over the file.
    let json = report(&repo, &["--unowned", "root"]);
    assert_eq!(json["affected"], serde_json::json!([]));
}

#[test]
fn root_build_configuration_affects_everything() {
    let repo = changesets_repo(&[(
        "turbo.json",
        "{\n  // comments, as turbo allows\n  \"globalDependencies\": [\"config/*.env\"],\n  \"tasks\": {\"test\": {}},\n}\n",
    )]);
    let got = affected_by(&repo, &[("tsconfig.json", Some("{\"strict\": true}\n"))]);
    assert!(
        got.contains("docs (pnpm) apps/docs: docs <- tsconfig.json (global)\n"),
        "{got}"
    );
    assert_eq!(got.lines().count(), 5, "{got}");
    assert!(
        got.contains("{\"path\":\"tsconfig.json\",\"why\":\"is read by every package's build, lint or tests (built-in global file)\"}"),
        "{got}"
    );

    let got = affected_by(&repo, &[("config/shared.env", Some("A=1\n"))]);
    assert!(
        got.contains("\"why\":\"matches config/*.env in turbo.json globalDependencies\""),
        "{got}"
    );
    assert_eq!(got.lines().count(), 5, "{got}");
    let explain = super::explain(&repo, "docs");
    assert_eq!(
        explain,
        "docs is affected: docs <- config/shared.env (global)\n\
         rule: config/shared.env matches config/*.env in turbo.json globalDependencies, so every package is affected\n"
    );
}

#[test]
fn nx_shared_globals_and_implicit_dependencies_are_honoured() {
    let repo = changesets_repo(&[(
        "nx.json",
        r#"{
  "namedInputs": {
    "default": ["{projectRoot}/**/*", "sharedGlobals"],
    "sharedGlobals": ["{workspaceRoot}/tools/jest-preset.js", {"runtime": "node -v"}]
  },
  "implicitDependencies": {"config/web.json": ["web"]}
}
"#,
    )]);
    let got = affected_by(
        &repo,
        &[("tools/jest-preset.js", Some("module.exports = {};\n"))],
    );
    assert_eq!(got.lines().count(), 5, "{got}");
    assert!(
        got.contains("matches tools/jest-preset.js in nx.json namedInputs.sharedGlobals"),
        "{got}"
    );
    let got = affected_by(&repo, &[("config/web.json", Some("{}\n"))]);
    assert_eq!(got, "web (pnpm) apps/web: web <- config/web.json\n");
}

#[test]
fn the_root_depending_on_a_workspace_package_affects_everything_through_it() {
    let repo = Repo::with_files(&[
        (
            "package.json",
            "{\"private\": true, \"packageManager\": \"yarn@4.5.0\", \"workspaces\": [\"packages/*\", \"apps/*\"], \"devDependencies\": {\"@x/eslint-config\": \"workspace:^\"}}\n",
        ),
        ("yarn.lock", "__metadata:\n  version: 8\n"),
        ("packages/core/package.json", "{\"name\": \"@x/core\"}\n"),
        (
            "packages/eslint-config/package.json",
            "{\"name\": \"@x/eslint-config\", \"dependencies\": {\"@x/core\": \"workspace:^\"}}\n",
        ),
        ("packages/ui/package.json", "{\"name\": \"@x/ui\"}\n"),
        (
            "apps/web/package.json",
            "{\"name\": \"web\", \"dependencies\": {\"@x/ui\": \"workspace:^\"}}\n",
        ),
    ]);
    let got = affected_by(&repo, &[("packages/core/src/a.ts", Some("export {};\n"))]);
    assert_eq!(
        got,
        "@x/core (yarn) packages/core: @x/core <- packages/core/src/a.ts\n\
         @x/eslint-config (yarn) packages/eslint-config: @x/eslint-config <- @x/core <- packages/core/src/a.ts\n\
         @x/ui (yarn) packages/ui: @x/ui <- (root) <- @x/eslint-config <- @x/core <- packages/core/src/a.ts\n\
         web (yarn) apps/web: web <- (root) <- @x/eslint-config <- @x/core <- packages/core/src/a.ts\n"
    );
    let json = report(&repo, &[]);
    assert_eq!(json["affected"][3]["reason"], "root");
    assert_eq!(
        json["affected"][3]["chain"],
        serde_json::json!([
            "web",
            "(root)",
            "@x/eslint-config",
            "@x/core",
            "packages/core/src/a.ts"
        ])
    );
    let json = report(&repo, &["--root-dependencies", "ignore"]);
    assert_eq!(json["affected"].as_array().unwrap().len(), 2, "{json}");
    // A package the root does not depend on stays its own.
    let got = affected_by(&repo, &[("packages/ui/src/b.ts", Some("export {};\n"))]);
    assert_eq!(got.lines().count(), 2, "{got}");
}

fn fixture(name: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("it/fixtures/lockfiles/pnpm-root");
    std::fs::read_to_string(dir.join(name)).unwrap()
}

/// The `pnpm-root` fixture at base: root devDependency `left-pad` 1.2.0;
/// `b -> a` (a uses `is-number`), `c -link:-> plain`, and `plain` with no
/// dependencies at all.
fn pnpm_root(strip: &dyn Fn(String) -> String) -> Repo {
    let repo = Repo::new();
    for file in [
        "package.json",
        "pnpm-workspace.yaml",
        "packages/a/package.json",
        "packages/b/package.json",
        "packages/c/package.json",
        "packages/plain/package.json",
    ] {
        repo.write(file, &fixture(file));
    }
    repo.write("pnpm-lock.yaml", &strip(fixture("base.pnpm-lock.yaml")));
    repo.commit("base");
    repo
}

#[test]
fn a_root_dev_dependency_bump_affects_every_package() {
    let repo = pnpm_root(&|text| text);
    repo.write(
        "package.json",
        &fixture("package.json").replace("1.2.0", "1.3.0"),
    );
    repo.write("pnpm-lock.yaml", &fixture("head-root.pnpm-lock.yaml"));
    repo.commit("bump the root's left-pad");
    let json = report(&repo, &[]);
    let because: Vec<&str> = json["affected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["because"].as_str().unwrap())
        .collect();
    assert_eq!(
        because,
        [
            "a <- (root) <- package.json (devDependencies left-pad 1.2.0 -> 1.3.0)",
            "b <- (root) <- package.json (devDependencies left-pad 1.2.0 -> 1.3.0)",
            "c <- (root) <- package.json (devDependencies left-pad 1.2.0 -> 1.3.0)",
            "plain <- (root) <- package.json (devDependencies left-pad 1.2.0 -> 1.3.0)",
        ]
    );
    assert_eq!(
        json["root_changes"],
        serde_json::json!([
            {"path": "package.json", "detail": "devDependencies left-pad 1.2.0 -> 1.3.0"},
            {"path": "pnpm-lock.yaml", "detail": "left-pad 1.2.0 -> 1.3.0"},
        ])
    );
    let ignored = report(&repo, &["--root-dependencies", "ignore"]);
    assert_eq!(ignored["affected"], serde_json::json!([]));
    assert_eq!(ignored["root_dependencies_rule"], "ignore");
    assert_eq!(ignored["root_changes"].as_array().unwrap().len(), 2);
}

#[test]
fn the_lockfile_leaves_packages_without_external_dependencies_alone() {
    // As pnpm writes it (`packages/plain: {}`), and with no importer entry
    // for `plain` at all, as some lockfiles have: either way a change to
    // `a`'s resolution concerns neither `plain` nor `c`, which reaches
    // `plain` only through a `link:`.
    let without_plain = |text: String| text.replace("  packages/plain: {}\n\n", "");
    for strip in [&(|text| text) as &dyn Fn(String) -> String, &without_plain] {
        let repo = pnpm_root(strip);
        repo.write(
            "packages/a/package.json",
            &fixture("packages/a/package.json").replace("^7.0.0", "^6.0.0"),
        );
        repo.write("pnpm-lock.yaml", &strip(fixture("head-a.pnpm-lock.yaml")));
        repo.commit("a moves to is-number 6");
        let out = repo
            .ci_matrix()
            .args(["--base", "HEAD~1", "--format", "json"])
            .success();
        assert_eq!(
            because_lines(&out),
            "a (pnpm) packages/a: a <- packages/a/package.json\n\
             b (pnpm) packages/b: b <- a <- packages/a/package.json\n"
        );
        for package in ["plain", "c"] {
            let explain = super::explain(&repo, package);
            assert!(
                explain.contains(&format!(
                    "pnpm-lock.yaml changed and was compared at both revisions: none of its changes is in what {package} or its dependencies resolve"
                )),
                "{explain}"
            );
        }
    }
}

fn pnpm12(name: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("it/fixtures/lockfiles/pnpm12");
    std::fs::read_to_string(dir.join(name)).unwrap()
}

/// pnpm 11 and later write `pnpm-lock.yaml` as two YAML documents: the
/// config dependencies first, then the lock (the fixture was written by
/// pnpm 12.26.0). Only the lockfile changes here, so the answer comes
/// from reading the right document: the lock's root importer for the
/// root's tooling, the first document for a config dependency.
#[test]
fn a_two_document_pnpm_lock_reads_the_locks_root_and_its_config_dependencies() {
    let repo = Repo::new();
    for file in [
        "package.json",
        "pnpm-workspace.yaml",
        "packages/ui/package.json",
        "packages/web/package.json",
    ] {
        repo.write(file, &pnpm12(file));
    }
    repo.write("pnpm-lock.yaml", &pnpm12("base.pnpm-lock.yaml"));
    repo.commit("base");
    for (head, detail) in [
        ("head-root.pnpm-lock.yaml", "is-odd 3.0.0 -> 3.0.1"),
        // is-odd resolves is-number 6.0.0 in the lock as well.
        (
            "head-config.pnpm-lock.yaml",
            "is-number 6.0.0/7.0.0 -> 6.0.0",
        ),
    ] {
        repo.write("pnpm-lock.yaml", &pnpm12(head));
        repo.commit(head);
        let json = report(&repo, &[]);
        let names: Vec<&str> = json["affected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["package"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["ui", "web"], "{head}: {json}");
        let changes = json["root_changes"].to_string();
        assert!(changes.contains(detail), "{head}: {changes}");
        repo.write("pnpm-lock.yaml", &pnpm12("base.pnpm-lock.yaml"));
        repo.commit("back to base");
    }
}
