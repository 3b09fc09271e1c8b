//! The output formats: the matrix contract, the report, list, dot, explain.

use crate::support::Repo;

fn repo() -> Repo {
    Repo::with_files(&[
        (
            "package.json",
            "{\"private\": true, \"workspaces\": [\"packages/*\"]}\n",
        ),
        (
            "packages/b/package.json",
            "{\"name\": \"b\", \"dependencies\": {\"a\": \"*\"}}\n",
        ),
        ("packages/a/package.json", "{\"name\": \"a\"}\n"),
        ("packages/c/package.json", "{\"name\": \"c\"}\n"),
        ("packages/a/src/index.ts", "export {};\n"),
    ])
}

#[test]
fn the_matrix_is_sorted_and_byte_stable() {
    let repo = repo();
    let args = [
        "--changed-files",
        "[\"packages/a/src/index.ts\", \"packages/a/src/index.ts\"]",
    ];
    let first = repo.ci_matrix().args(args).success();
    assert_eq!(
        first,
        "{\"include\":[{\"package\":\"a\",\"path\":\"packages/a\"},{\"package\":\"b\",\"path\":\"packages/b\"}]}\n"
    );
    for _ in 0..3 {
        assert_eq!(repo.ci_matrix().args(args).success(), first);
    }
}

#[test]
fn nothing_affected_is_an_empty_include() {
    let out = repo().ci_matrix().args(["--changed-files", "[]"]).success();
    assert_eq!(out, "{\"include\":[]}\n");
}

#[test]
fn the_json_report_shape() {
    let repo = repo();
    repo.write("packages/a/src/index.ts", "export const x = 1;\n");
    repo.commit("change a");
    let out = repo
        .ci_matrix()
        .args(["--base", "HEAD~1", "--format", "json"])
        .success();
    let head = repo.git(&["rev-parse", "HEAD"]);
    let base = repo.git(&["rev-parse", "HEAD~1"]);
    let redacted = out.replace(&head, "<head>").replace(&base, "<base>");
    insta::assert_snapshot!(redacted);
}

#[test]
fn dot_highlights_the_affected_set() {
    let out = repo()
        .ci_matrix()
        .args([
            "--changed-files",
            "[\"packages/a/src/index.ts\"]",
            "--format",
            "dot",
        ])
        .success();
    insta::assert_snapshot!(out, @r##"
    digraph packages {
      rankdir=LR;
      node [shape=box, fontname="Helvetica"];
      "a" [label="a\npackages/a", style="filled,bold", fillcolor="#f4a261"];
      "b" [label="b\npackages/b", style="filled,bold", fillcolor="#f4a261"];
      "c" [label="c\npackages/c"];
      "b" -> "a";
    }
    "##);
}

#[test]
fn explain_says_why_and_why_not() {
    let repo = repo();
    let run = |pkg: &str| {
        repo.ci_matrix()
            .args([
                "--changed-files",
                "[\"packages/a/src/index.ts\"]",
                "--explain",
                pkg,
            ])
            .success()
    };
    assert_eq!(
        run("b"),
        "b is affected: b <- a <- packages/a/src/index.ts\nedges: b -> a (normal)\n"
    );
    assert_eq!(
        run("c"),
        "c is not affected: no changed path lies under packages/c, and it depends on no other package\n"
    );
    let out = repo
        .ci_matrix()
        .args(["--changed-files", "[\"packages/c/x\"]", "--explain", "b"])
        .success();
    assert_eq!(
        out,
        "b is not affected: no changed path lies under packages/b, and none of its 1 dependencies, transitively (a), is affected\n"
    );
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    use std::process::{Command, Stdio};
    let repo = repo();
    let mut child = Command::new(crate::support::bin("ci-matrix"))
        .current_dir(repo.path())
        .args(["--changed-files", "[\"x\"]", "--format", "dot"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

/// The figures as Prometheus's real Pushgateway takes them (started by
/// `cargo xtask test`), grouped by the repository Actions names.
#[test]
fn metrics_reach_the_pushgateway() {
    let gateway = std::env::var("SLIPWAY_PUSHGATEWAY_URL")
        .expect("SLIPWAY_PUSHGATEWAY_URL is set by `cargo xtask test`");
    let repository = crate::support::unique("acme/app");
    repo()
        .ci_matrix()
        .env("GITHUB_REPOSITORY", &repository)
        .args(["--pushgateway", &gateway])
        .args(["--changed-files", "[\"packages/a/src/index.ts\"]"])
        .success();
    let lines = crate::spot::metrics_served(&format!("repository=\"{repository}\""));
    let value = |name: &str| crate::spot::metric_value(&lines, name, &[]);
    assert_eq!(value("slipway_ci_matrix_packages"), Some(3.0), "{lines:#?}");
    assert_eq!(value("slipway_ci_matrix_affected_packages"), Some(2.0));
    assert_eq!(value("slipway_ci_matrix_changed_paths"), Some(1.0));
    assert!(value("slipway_ci_matrix_seconds").is_some_and(|s| s > 0.0));
    assert_eq!(
        value("ci_matrix_jobs"),
        Some(2.0),
        "one job per affected package"
    );

    // Sharded into at most one job: jobs per run is the matrix, not the set.
    let repository = crate::support::unique("acme/app");
    repo()
        .ci_matrix()
        .env("GITHUB_REPOSITORY", &repository)
        .args(["--pushgateway", &gateway, "--max-jobs", "1"])
        .args(["--changed-files", "[\"packages/a/src/index.ts\"]"])
        .success();
    let lines = crate::spot::metrics_served(&format!("repository=\"{repository}\""));
    assert_eq!(
        crate::spot::metric_value(&lines, "ci_matrix_jobs", &[]),
        Some(1.0)
    );
}

/// `ci-matrix observe`: the command's exit status passes through, and
/// its duration reaches the Pushgateway as a histogram per package, one
/// group per run and job.
#[test]
fn observe_times_a_build_and_passes_its_exit_status_through() {
    let gateway = std::env::var("SLIPWAY_PUSHGATEWAY_URL")
        .expect("SLIPWAY_PUSHGATEWAY_URL is set by `cargo xtask test`");
    let package = crate::support::unique("web");
    let observe = |job: &str, script: &str| {
        std::process::Command::new(crate::support::bin("ci-matrix"))
            .args(["observe", "--package", &package, "--pushgateway", &gateway])
            .args(["--", "sh", "-c", script])
            .env("GITHUB_RUN_ID", "4242")
            .env("GITHUB_JOB", job)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let ok = observe("build", "sleep 0.3");
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let failed = observe("test", "echo broken >&2; exit 3");
    assert_eq!(failed.status.code(), Some(3), "the command's own status");
    let killed = observe("lint", "kill -TERM $$");
    assert_eq!(
        killed.status.code(),
        Some(128 + 15),
        "a signal as a shell reports it"
    );
    let missing = std::process::Command::new(crate::support::bin("ci-matrix"))
        .args(["observe", "--package", &package, "--", "/no/such/program"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("could not run /no/such/program"));

    let lines = crate::spot::metrics_served(&format!("package=\"{package}\""));
    let of = |job: &str, series: &str, extra: &[&str]| {
        let mut labels = vec![format!("github_job=\"{job}\"")];
        labels.extend(extra.iter().map(|s| (*s).to_owned()));
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        crate::spot::metric_value(&lines, series, &labels)
    };
    assert_eq!(
        of("build", "ci_build_duration_seconds_count", &[]),
        Some(1.0),
        "{lines:#?}"
    );
    let seconds = of("build", "ci_build_duration_seconds_sum", &[]).unwrap();
    assert!((0.3..10.0).contains(&seconds), "{seconds}");
    assert_eq!(
        of("build", "ci_build_duration_seconds_bucket", &["le=\"30\""]),
        Some(1.0)
    );
    assert_eq!(
        of("test", "ci_build_duration_seconds_count", &[]),
        Some(1.0),
        "failures are timed too"
    );
    assert!(of("lint", "ci_build_duration_seconds_count", &[]).is_some());
}
