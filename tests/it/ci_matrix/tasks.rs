//! `--tasks`: a matrix of `{package, path, task}`, each task with its own
//! inputs and dependency rule, on real git repositories.

use crate::support::{Repo, parse_outputs};

const CONFIG: &str = r#"
[tasks.build]
inputs = ["src/**", "package.json"]

[tasks.lint]
inputs = ["src/**", ".eslintrc.json"]
dependencies = false

[tasks.docs]
inputs = ["docs/**", "*.md"]
dependencies = false
"#;

/// `web -> ui -> tokens`, and `site` on its own; every package has
/// sources and a README.
fn workspace(config: &str) -> Repo {
    let repo = Repo::new();
    repo.write(
        "package.json",
        "{\"private\": true, \"workspaces\": [\"packages/*\", \"apps/*\"]}\n",
    );
    for (dir, name, deps) in [
        ("packages/tokens", "tokens", ""),
        ("packages/ui", "ui", "\"tokens\": \"*\""),
        ("apps/web", "web", "\"ui\": \"*\""),
        ("apps/site", "site", ""),
    ] {
        repo.write(
            &format!("{dir}/package.json"),
            &format!("{{\"name\": \"{name}\", \"dependencies\": {{{deps}}}}}\n"),
        );
        repo.write(&format!("{dir}/src/index.ts"), "export {};\n");
        repo.write(&format!("{dir}/README.md"), &format!("# {name}\n"));
    }
    repo.write(".ci-matrix.toml", config);
    repo.commit("base");
    repo
}

/// `package#task` per line for the last commit.
fn tasks_of(repo: &Repo, change: &[(&str, &str)], tasks: &str) -> String {
    repo.write_all(change);
    repo.commit("change");
    repo.ci_matrix()
        .args(["--base", "HEAD~1", "--format", "list", "--tasks", tasks])
        .success()
}

#[test]
fn a_docs_only_change_in_a_library_runs_only_its_docs_task() {
    let repo = workspace(CONFIG);
    let out = tasks_of(
        &repo,
        &[("packages/ui/README.md", "# ui\n\nMore words.\n")],
        "build,lint,docs",
    );
    assert_eq!(out, "ui#docs\n");
    let matrix = repo
        .ci_matrix()
        .args(["--base", "HEAD~1", "--tasks", "build,lint,docs"])
        .success();
    assert_eq!(
        matrix,
        "{\"include\":[{\"package\":\"ui\",\"path\":\"packages/ui\",\"task\":\"docs\"}]}\n"
    );
}

#[test]
fn a_source_change_runs_its_build_and_lint_and_its_dependents_build_only() {
    let repo = workspace(CONFIG);
    let out = tasks_of(
        &repo,
        &[("packages/ui/src/index.ts", "export const x = 1;\n")],
        "build,lint,docs",
    );
    assert_eq!(out, "ui#build\nui#lint\nweb#build\n");
    // Package-level, the same change affects both packages.
    let packages = repo
        .ci_matrix()
        .args(["--base", "HEAD~1", "--format", "list"])
        .success();
    assert_eq!(packages, "ui\nweb\n");
}

#[test]
fn without_tasks_the_output_is_the_package_matrix_byte_for_byte() {
    let with_config = workspace(CONFIG);
    let without = workspace("");
    for repo in [&with_config, &without] {
        repo.write("packages/tokens/README.md", "# tokens, documented\n");
        repo.commit("docs");
    }
    for format in ["matrix", "json", "list"] {
        let a = with_config
            .ci_matrix()
            .args(["--base", "HEAD~1", "--format", format])
            .success();
        let b = without
            .ci_matrix()
            .args(["--base", "HEAD~1", "--format", format])
            .success();
        let redact = |out: &str, repo: &Repo| {
            out.replace(&repo.git(&["rev-parse", "HEAD"]), "<head>")
                .replace(&repo.git(&["rev-parse", "HEAD~1"]), "<base>")
        };
        assert_eq!(redact(&a, &with_config), redact(&b, &without), "{format}");
        assert!(!a.contains("task"), "{format}: {a}");
    }
}

#[test]
fn global_paths_mark_every_task_of_every_package() {
    let repo = workspace(CONFIG);
    repo.write("tools/codegen.sh", "#!/bin/sh\n");
    repo.commit("tools");
    let out = repo
        .ci_matrix()
        .args([
            "--base",
            "HEAD~1",
            "--format",
            "list",
            "--tasks",
            "build,lint",
            "--global",
            "tools/**",
        ])
        .success();
    assert_eq!(
        out,
        "site#build\nsite#lint\ntokens#build\ntokens#lint\nui#build\nui#lint\nweb#build\nweb#lint\n"
    );
}

#[test]
fn a_package_override_replaces_the_tasks_inputs_for_that_package() {
    let config = format!(
        "{CONFIG}\n[packages.web.tasks.build]\ninputs = [\"app/**\"]\ndependencies = false\n"
    );
    let repo = workspace(&config);
    let out = tasks_of(
        &repo,
        &[
            ("packages/tokens/src/index.ts", "export const t = 1;\n"),
            ("apps/web/src/index.ts", "export const w = 1;\n"),
        ],
        "build,lint",
    );
    // web's build reads only app/** and no dependency: nothing of it changed.
    assert_eq!(out, "tokens#build\ntokens#lint\nui#build\nweb#lint\n");
}

#[test]
fn a_task_without_configuration_reads_every_file_and_follows_dependencies() {
    let repo = workspace(CONFIG);
    let out = tasks_of(
        &repo,
        &[("packages/tokens/notes.txt", "anything\n")],
        "test,lint",
    );
    assert_eq!(out, "tokens#test\nui#test\nweb#test\n");
}

#[test]
fn explain_says_why_per_task() {
    let repo = workspace(CONFIG);
    tasks_of(
        &repo,
        &[("packages/ui/src/index.ts", "export const x = 1;\n")],
        "build",
    );
    let out = repo
        .ci_matrix()
        .args([
            "--base",
            "HEAD~1",
            "--explain",
            "web",
            "--tasks",
            "build,lint,docs",
        ])
        .success();
    let tasks: Vec<&str> = out.lines().filter(|l| l.starts_with("task ")).collect();
    assert_eq!(
        tasks,
        [
            "task build: affected: web#build <- ui#build <- packages/ui/src/index.ts",
            "task lint: not affected: no changed file lies under apps/web, and lint does not follow dependencies (dependencies = false), though ui has it affected",
            "task docs: not affected: no changed file lies under apps/web, and no dependency has docs affected",
        ],
        "{out}"
    );
    let out = repo
        .ci_matrix()
        .args(["--base", "HEAD~1", "--explain", "ui", "--tasks", "docs"])
        .success();
    assert!(
        out.contains(
            "task docs: not affected: its changed files (packages/ui/src/index.ts) match none of its inputs (docs/**, *.md)"
        ),
        "{out}"
    );
}

#[test]
fn the_json_report_carries_tasks() {
    let repo = workspace(CONFIG);
    repo.write("packages/ui/src/index.ts", "export const x = 1;\n");
    repo.write("packages/ui/README.md", "# ui, again\n");
    repo.commit("change");
    let out = repo
        .ci_matrix()
        .args([
            "--base",
            "HEAD~1",
            "--format",
            "json",
            "--tasks",
            "build,lint,docs",
        ])
        .success();
    let head = repo.git(&["rev-parse", "HEAD"]);
    let base = repo.git(&["rev-parse", "HEAD~1"]);
    insta::assert_snapshot!(out.replace(&head, "<head>").replace(&base, "<base>"));
}

#[test]
fn task_jobs_are_sharded_with_their_tasks_and_counted_in_the_outputs() {
    let repo = workspace(CONFIG);
    repo.write("tools/x", "x\n");
    repo.commit("tools");
    let dir = tempfile::tempdir().unwrap();
    let outputs = dir.path().join("out");
    let matrix = repo
        .ci_matrix()
        .args([
            "--base",
            "HEAD~1",
            "--tasks",
            "build,lint",
            "--global",
            "tools/**",
            "--max-jobs",
            "3",
        ])
        .env("GITHUB_OUTPUT", &outputs)
        .success();
    let matrix: serde_json::Value = serde_json::from_str(&matrix).unwrap();
    let shards = matrix["include"].as_array().unwrap();
    assert_eq!(shards.len(), 3);
    let mut jobs = Vec::new();
    for shard in shards {
        let packages = shard["packages"].as_array().unwrap();
        let tasks = shard["tasks"].as_array().unwrap();
        assert_eq!(packages.len(), tasks.len(), "{shard}");
        for (p, t) in packages.iter().zip(tasks) {
            jobs.push(format!("{}#{}", p.as_str().unwrap(), t.as_str().unwrap()));
        }
    }
    jobs.sort();
    assert_eq!(jobs.len(), 8, "every task job exactly once: {jobs:?}");
    jobs.dedup();
    assert_eq!(jobs.len(), 8);
    let written = parse_outputs(&std::fs::read_to_string(&outputs).unwrap());
    let get = |name: &str| {
        written
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("count"), Some("8"));
    assert_eq!(
        get("packages"),
        Some("[\"site\",\"tokens\",\"ui\",\"web\"]")
    );
}

#[test]
fn bad_task_names_and_task_tables_are_usage_and_input_errors() {
    let repo = workspace(CONFIG);
    let out = repo
        .ci_matrix()
        .args(["--changed-files", "[]", "--tasks", "build,build"])
        .output();
    assert!(
        out.failure(2).contains("--tasks \"build\": named twice"),
        "{}",
        out.stderr
    );
    let out = repo
        .ci_matrix()
        .args(["--changed-files", "[]", "--tasks", "web#build"])
        .output();
    assert!(
        out.failure(2).contains("--tasks \"web#build\""),
        "{}",
        out.stderr
    );

    let repo = workspace("[tasks.build]\ninputs = [\"src/[\"]\n");
    let out = repo
        .ci_matrix()
        .args(["--changed-files", "[]", "--tasks", "build"])
        .output();
    let err = out.failure(3);
    assert!(
        err.contains(".ci-matrix.toml") && err.contains("[tasks.build] inputs"),
        "{err}"
    );
}
