//! Nx workspaces: `project.json` projects, edges from the code's imports
//! (tsconfig `paths`, package names, relative paths across project roots,
//! `require`, dynamic `import()`), `implicitDependencies` with names, tag
//! selectors and negations, compared commit by commit with the real Nx
//! (installed from npm by `cargo xtask test`, its directory in
//! `SLIPWAY_BUILD_TOOLS_PATH`).

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::support::{Repo, fixture_tree};

fn nx_workspace() -> Repo {
    Repo::with_owned_files(&fixture_tree("nx"))
}

/// The `node_modules` directory Nx was installed into by `cargo xtask test`.
fn nx_modules() -> PathBuf {
    let path = std::env::var("SLIPWAY_BUILD_TOOLS_PATH").expect(
        "SLIPWAY_BUILD_TOOLS_PATH: run the tests with `cargo xtask test`, which installs Nx",
    );
    std::env::split_paths(&path)
        .find(|dir| dir.join("nx").is_file() && dir.ends_with("node_modules/.bin"))
        .and_then(|bin| bin.parent().map(std::path::Path::to_path_buf))
        .expect("Nx in SLIPWAY_BUILD_TOOLS_PATH")
}

/// The packages ci-matrix marks between the last two commits.
fn ours(repo: &Repo) -> BTreeSet<String> {
    let out = repo
        .ci_matrix()
        .args(["--base", "HEAD~1", "--head", "HEAD", "--format", "json"])
        .success();
    let report: serde_json::Value = serde_json::from_str(&out).expect("a JSON report");
    report["affected"]
        .as_array()
        .expect("affected")
        .iter()
        .map(|p| p["name"].as_str().expect("a name").to_owned())
        .collect()
}

/// The projects `nx show projects --affected` marks between the last two
/// commits.
fn nx_affected(repo: &Repo) -> BTreeSet<String> {
    let out = std::process::Command::new(repo.path().join("node_modules/.bin/nx"))
        .args([
            "show",
            "projects",
            "--affected",
            "--base=HEAD~1",
            "--head=HEAD",
            "--json",
        ])
        .current_dir(repo.path())
        .env("NX_DAEMON", "false")
        .env("NX_NO_CLOUD", "true")
        .env("NX_TUI", "false")
        .output()
        .expect("run nx");
    assert!(
        out.status.success(),
        "nx failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<String>>(&out.stdout)
        .expect("nx's JSON list")
        .into_iter()
        .collect()
}

#[test]
fn projects_and_import_edges_are_read_with_file_and_line() {
    let repo = nx_workspace();
    let graph = repo.ci_matrix().args(["graph"]).success();
    assert_eq!(
        graph,
        "\
@acme/sdk (npm) packages/sdk -> ui (import)
admin (npm) apps/admin -> data (import)
api (npm) apps/api -> config (implicit)
web (npm) apps/web -> ui (implicit), util (import)
core (npm) libs/core
data (npm) libs/data
ui (npm) libs/ui -> core (import)
util (npm) libs/util -> data (import)
config (npm) tools/config
"
    );
    repo.write("libs/core/src/index.ts", "export const core = 2;\n");
    repo.commit("core");
    let out = repo
        .ci_matrix()
        .args([
            "--base",
            "HEAD~1",
            "--head",
            "HEAD",
            "--explain",
            "@acme/sdk",
        ])
        .output();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains(
            "@acme/sdk is affected: @acme/sdk <- ui (import packages/sdk/src/index.ts:1) <- core (import libs/ui/src/button.ts:1) <- libs/core/src/index.ts"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "edges: @acme/sdk -> ui (import packages/sdk/src/index.ts:1), ui -> core (import libs/ui/src/button.ts:1)"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn agrees_with_nx_commit_by_commit() {
    let repo = nx_workspace();
    std::os::unix::fs::symlink(nx_modules(), repo.path().join("node_modules"))
        .expect("link node_modules");
    let check = repo.ci_matrix().args(["graph", "--check"]).output();
    assert!(
        check
            .stdout
            .contains("nx: 9 packages and 7 edges agree with nx graph"),
        "{}\n{}",
        check.stdout,
        check.stderr
    );
    assert_eq!(check.code, Some(0), "{}", check.stdout);

    let changes: &[(&str, Option<&str>)] = &[
        // A library under everything by a `paths` alias.
        ("libs/core/src/index.ts", Some("export const core = 3;\n")),
        // Reached by a relative path across roots, then a dynamic import.
        (
            "libs/data/src/table.ts",
            Some("export const table = [3];\n"),
        ),
        // Only an implicit dependency leads here.
        ("tools/config/settings.json", Some("{}\n")),
        // A tag selector.
        ("libs/ui/src/icon.ts", Some("export const icon = 1;\n")),
        // A workspace package, by its package.json.
        ("packages/sdk/src/index.ts", Some("export const sdk = 1;\n")),
        // Outside every project.
        ("README.md", Some("# acme\n")),
        // A new import, then a change it carries.
        (
            "apps/api/src/main.js",
            Some("const { button } = require('@acme/ui/button');\nmodule.exports = { button };\n"),
        ),
        ("libs/ui/src/button.ts", Some("export const button = 2;\n")),
        // A project removed from Nx's view of `web` by a negation.
        (
            "apps/web/project.json",
            Some("{ \"name\": \"web\", \"implicitDependencies\": [\"tag:type:ui\", \"!util\"] }\n"),
        ),
        ("libs/util/src/index.ts", Some("export const util = 1;\n")),
        // What `.nxignore` lists belongs to no project, for Nx and here.
        (
            ".nxignore",
            Some("# notes\n*.md\n/tools/config/generated/\n"),
        ),
        ("libs/core/NOTES.md", Some("notes\n")),
        (
            "tools/config/generated/out.ts",
            Some("export const out = 1;\n"),
        ),
        // The root package.json with an `nx` key is a project, owning
        // the files no other project holds.
        (
            "package.json",
            Some(
                "{\n  \"name\": \"acme\",\n  \"private\": true,\n  \"workspaces\": [\"packages/*\"],\n  \"devDependencies\": {\"@nx/js\": \"22.3.3\", \"nx\": \"22.3.3\"},\n  \"nx\": {}\n}\n",
            ),
        ),
        ("docs/guide.md", Some("# guide\n")),
    ];
    for (path, content) in changes {
        match content {
            Some(text) => {
                repo.write(path, text);
            }
            None => {
                repo.remove(path);
            }
        }
        repo.commit(path);
        let ours = ours(&repo);
        let theirs = nx_affected(&repo);
        let missed: Vec<&String> = theirs.difference(&ours).collect();
        assert!(
            missed.is_empty(),
            "{path}: missed {missed:?} (ci-matrix {ours:?}, Nx {theirs:?})"
        );
        assert_eq!(ours, theirs, "{path}");
    }
}

#[test]
fn imports_join_plain_workspace_packages_only_when_asked() {
    let files = [
        (
            "package.json",
            "{\"name\": \"root\", \"private\": true, \"workspaces\": [\"packages/*\"]}\n",
        ),
        ("packages/ui/package.json", "{\"name\": \"@acme/ui\"}\n"),
        ("packages/ui/index.ts", "export const ui = 1;\n"),
        ("packages/web/package.json", "{\"name\": \"web\"}\n"),
        (
            "packages/web/App.vue",
            "<template><p>import 'nothing'</p></template>\n<script setup lang=\"ts\">\nimport { ui } from '@acme/ui';\n</script>\n",
        ),
    ];
    let repo = Repo::with_files(&files);
    let graph = repo.ci_matrix().args(["graph"]).success();
    assert!(graph.contains("web (npm) packages/web\n"), "{graph}");
    repo.write(".ci-matrix.toml", "imports = true\n");
    repo.commit("opt in");
    let graph = repo.ci_matrix().args(["graph"]).success();
    assert!(
        graph.contains("web (npm) packages/web -> @acme/ui (import)\n"),
        "{graph}"
    );
    repo.write("packages/ui/index.ts", "export const ui = 2;\n");
    repo.commit("ui");
    let out = repo
        .ci_matrix()
        .args(["--base", "HEAD~1", "--head", "HEAD", "--explain", "web"])
        .output();
    assert!(
        out.stdout
            .contains("edges: web -> @acme/ui (import packages/web/App.vue:3)"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_plugin_nothing_reads_makes_every_project_assumed() {
    let repo = nx_workspace();
    repo.write(
        "nx.json",
        "{ \"plugins\": [\"@nx/js/typescript\", { \"plugin\": \"./tools/my-plugin.js\" }] }\n",
    );
    repo.commit("a local plugin");
    let graph = repo.ci_matrix().args(["graph"]).success();
    assert!(
        graph.contains(
            "  assumed: nx.json lists the plugin ./tools/my-plugin.js whose inferred projects and edges are not read\n"
        ),
        "{graph}"
    );
    // `config` has no edge of its own, yet a change to `core` reaches it.
    repo.write("libs/core/src/index.ts", "export const core = 9;\n");
    repo.commit("core");
    assert!(ours(&repo).contains("config"));
}

#[test]
fn an_unreadable_project_json_is_named() {
    let repo = nx_workspace();
    repo.write("libs/core/project.json", "{ \"name\": [1] }\n");
    repo.commit("broken");
    let out = repo.ci_matrix().args(["graph"]).output();
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    assert!(
        out.stderr.contains("libs/core/project.json"),
        "{}",
        out.stderr
    );
}

#[test]
fn task_inputs_come_from_nx_json_and_project_json() {
    let repo = nx_workspace();
    // A spec file is no production input: the project's tests run, and no
    // dependent's build or test.
    repo.write(
        "libs/core/src/index.spec.ts",
        "export const coreSpec = 2;\n",
    );
    repo.commit("spec only");
    let matrix = repo
        .ci_matrix()
        .args([
            "--base",
            "HEAD~1",
            "--head",
            "HEAD",
            "--tasks",
            "build,test",
        ])
        .success();
    assert_eq!(
        matrix.trim(),
        r#"{"include":[{"package":"core","path":"libs/core","task":"test"}]}"#
    );
    // A production file: both tasks here, and in every dependent through
    // `^production`, with the file named.
    repo.write("libs/core/src/index.ts", "export const core = 4;\n");
    repo.commit("production");
    let out = repo
        .ci_matrix()
        .args([
            "--base",
            "HEAD~1",
            "--head",
            "HEAD",
            "--tasks",
            "build,test",
            "--explain",
            "web",
        ])
        .output();
    assert!(
        out.stdout
            .contains("task build: affected: web#build <- core (libs/core/src/index.ts)"),
        "{}",
        out.stdout
    );
    let matrix = repo
        .ci_matrix()
        .args([
            "--base", "HEAD~1", "--head", "HEAD", "--tasks", "build", "--format", "list",
        ])
        .success();
    assert_eq!(matrix, "@acme/sdk#build\ncore#build\nui#build\nweb#build\n");
    // A project's own inputs win over targetDefaults: `ui` builds from
    // `src/` alone, so its README changes not its build, but its tests
    // (`default`) and its dependents' tasks (the README is in `ui`'s
    // `production`, which they read through `^production`).
    repo.write(
        "libs/ui/project.json",
        "{ \"name\": \"ui\", \"tags\": [\"scope:shared\", \"type:ui\"], \"targets\": { \"build\": { \"inputs\": [\"{projectRoot}/src/**/*\", \"^production\"] } } }\n",
    );
    repo.commit("ui inputs");
    repo.write("libs/ui/README.md", "# ui\n");
    repo.commit("readme");
    let matrix = repo
        .ci_matrix()
        .args([
            "--base",
            "HEAD~1",
            "--head",
            "HEAD",
            "--tasks",
            "build,test",
            "--format",
            "list",
        ])
        .success();
    assert_eq!(
        matrix,
        "@acme/sdk#build\n@acme/sdk#test\nui#test\nweb#build\nweb#test\n"
    );
}

#[test]
fn a_workspace_input_of_a_task_belongs_to_the_projects_with_that_task() {
    let repo = nx_workspace();
    repo.write(
        "nx.json",
        r#"{
  "namedInputs": {
    "default": ["{projectRoot}/**/*", "sharedGlobals"],
    "sharedGlobals": ["{workspaceRoot}/.nvmrc"],
    "docs": ["{workspaceRoot}/docs/**/*"]
  },
  "targetDefaults": {
    "check-docs": { "inputs": ["docs"] },
    "knip": { "inputs": ["{workspaceRoot}/**/*"] }
  }
}
"#,
    );
    repo.write(
        "apps/web/project.json",
        "{ \"name\": \"web\", \"implicitDependencies\": [\"tag:type:ui\"], \"targets\": { \"check-docs\": {} } }\n",
    );
    repo.commit("tasks with workspace inputs");
    // Only `web` has `check-docs`; no project has `knip`.
    repo.write("docs/guide.md", "# guide\n");
    repo.commit("docs");
    let list = repo
        .ci_matrix()
        .args(["--base", "HEAD~1", "--head", "HEAD", "--format", "list"])
        .success();
    assert_eq!(list, "web\n");
    // An input every project's `default` reads is global.
    repo.write(".nvmrc", "22\n");
    repo.commit("node");
    let list = repo
        .ci_matrix()
        .args(["--base", "HEAD~1", "--head", "HEAD", "--format", "list"])
        .success();
    assert_eq!(list.lines().count(), 9, "{list}");
}

#[test]
fn an_nx_root_project_owns_its_files_and_shares_its_dependencies() {
    let repo = nx_workspace();
    let manifest = |extra: &str| {
        format!(
            "{{\n  \"name\": \"acme\",\n  \"private\": true,\n  \"workspaces\": [\"packages/*\"],\n  \"devDependencies\": {{\"@nx/js\": \"22.3.3\", \"nx\": \"22.3.3\"{extra}}},\n  \"scripts\": {{\"lint\": \"eslint .\"}},\n  \"nx\": {{}}\n}}\n"
        )
    };
    repo.write("package.json", &manifest(""));
    repo.commit("root project");
    let list = |repo: &Repo| {
        repo.ci_matrix()
            .args(["--base", "HEAD~1", "--head", "HEAD", "--format", "list"])
            .success()
    };
    // A file no other project holds is the root project's alone.
    repo.write("docs/guide.md", "# guide\n");
    repo.commit("docs");
    assert_eq!(list(&repo), "acme\n");
    // Its scripts are its own targets.
    repo.write(
        "package.json",
        &manifest("").replace("eslint .", "eslint . --fix"),
    );
    repo.commit("scripts");
    assert_eq!(list(&repo), "acme\n");
    // Its dependencies are every project's (project.json projects have
    // none of their own).
    repo.write("package.json", &manifest(", \"left-pad\": \"^1.3.0\""));
    repo.commit("a dependency");
    assert_eq!(list(&repo).lines().count(), 10);
}
