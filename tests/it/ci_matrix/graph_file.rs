//! The origin article's hand-kept dep-graph.json, and its drop-in call.

use crate::support::{Repo, because_lines};

const SEED_GRAPH: &str = r#"{
  "tokens": {"dependents": ["ui", "docs"]},
  "ui": {"dependents": ["web"]},
  "web": {"dependents": []},
  "docs": {"dependents": []}
}"#;

#[test]
fn the_original_call_works_unchanged_with_transitive_dependents() {
    let repo = Repo::with_files(&[("dep-graph.json", SEED_GRAPH), ("packages/tokens/x.ts", "")]);
    let out = repo
        .ci_matrix()
        .args(["dep-graph.json", r#"["packages/tokens/src/x.ts"]"#])
        .success();
    // The article's resolver stopped at direct dependents and missed `web`.
    assert_eq!(
        out,
        "{\"include\":[{\"package\":\"docs\",\"path\":\"packages/docs\"},{\"package\":\"tokens\",\"path\":\"packages/tokens\"},{\"package\":\"ui\",\"path\":\"packages/ui\"},{\"package\":\"web\",\"path\":\"packages/web\"}]}\n"
    );
}

#[test]
fn the_extended_form_with_paths_and_dependencies() {
    let repo = Repo::with_files(&[(
        "ci/graph.json",
        r#"{"tokens": {"path": "libs/tokens"}, "ui": {"path": "libs/ui", "dependencies": ["tokens"]},
            "web": {"path": "apps/web", "dependencies": ["ui"]}}"#,
    )]);
    let out = repo
        .ci_matrix()
        .args([
            "--graph",
            "ci/graph.json",
            "--changed-files",
            r#"["libs/ui/button.ts"]"#,
            "--format",
            "json",
        ])
        .success();
    assert_eq!(
        because_lines(&out),
        "ui (graph) libs/ui: ui <- libs/ui/button.ts\nweb (graph) apps/web: web <- ui <- libs/ui/button.ts\n"
    );
}

#[test]
fn a_cycle_is_affected_as_a_unit_and_fails_only_when_asked() {
    let repo = Repo::with_files(&[(
        "dep-graph.json",
        r#"{"a": {"dependents": ["b"]}, "b": {"dependents": ["a", "c"]}, "c": {}}"#,
    )]);
    let out = repo
        .ci_matrix()
        .args(["dep-graph.json", r#"["packages/a/x"]"#])
        .output();
    assert_eq!(out.code, Some(0));
    assert!(out.stdout.contains("\"package\":\"c\""), "{}", out.stdout);
    assert!(
        out.stderr
            .contains("dependency cycle, affected as a unit: a, b"),
        "{}",
        out.stderr
    );

    let out = repo
        .ci_matrix()
        .args(["--fail-on-cycle", "dep-graph.json", r#"["packages/c/x"]"#])
        .output();
    let stderr = out.failure(4);
    assert!(stderr.contains("dependency cycle: a <-> b"), "{stderr}");
}

#[test]
fn changed_files_from_a_file_or_stdin() {
    let repo = Repo::with_files(&[("dep-graph.json", SEED_GRAPH)]);
    repo.write("changes.txt", "packages/ui/a.ts\n\npackages/docs/b.md\n");
    let from_file = repo
        .ci_matrix()
        .args([
            "--graph",
            "dep-graph.json",
            "--changed-files-from",
            "changes.txt",
            "--format",
            "list",
        ])
        .success();
    assert_eq!(from_file, "docs\nui\nweb\n");
    let from_stdin = repo
        .ci_matrix()
        .args([
            "--graph",
            "dep-graph.json",
            "--changed-files-from",
            "-",
            "--format",
            "list",
        ])
        .stdin(r#"["packages/ui/a.ts", "packages/docs/b.md"]"#)
        .success();
    assert_eq!(from_stdin, from_file);
}

#[test]
fn a_deleted_package_directory_is_removed_not_everything() {
    let repo = Repo::with_files(&[(
        "dep-graph.json",
        r#"{"ui": {}, "web": {"dependencies": ["ui"]}}"#,
    )]);
    let out = repo
        .ci_matrix()
        .args([
            "dep-graph.json",
            r#"["packages/old/index.ts"]"#,
            "--format",
            "json",
        ])
        .success();
    assert_eq!(
        because_lines(&out),
        "removed: [{\"files\":[\"packages/old/index.ts\"],\"name\":\"old\",\"path\":\"packages/old\"}]\n"
    );
}
