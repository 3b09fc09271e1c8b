//! Under GitHub Actions: step outputs and the step summary.

use crate::support::{Repo, parse_outputs};

#[test]
fn outputs_and_summary_are_written() {
    let repo = Repo::with_files(&[
        ("go.work", "use (\n ./a\n ./b\n)\n"),
        ("a/go.mod", "module a\n"),
        ("b/go.mod", "module b\nrequire a v0.0.0\n"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("output");
    let summary = dir.path().join("summary");
    let stdout = repo
        .ci_matrix()
        .args(["--changed-files", "[\"a/x.go\"]"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .success();
    let outputs = parse_outputs(&std::fs::read_to_string(&output).unwrap());
    let get = |name: &str| {
        outputs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap()
    };
    assert_eq!(get("matrix"), stdout.trim_end());
    assert_eq!(get("has_affected"), "true");
    assert_eq!(get("count"), "2");
    assert_eq!(get("packages"), "[\"a\",\"b\"]");
    assert_eq!(get("base_source"), "changed-files");
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(
        summary.contains("**2 of 2 packages affected**"),
        "{summary}"
    );
    assert!(
        summary.contains("| `b` | `b` | b &lt;- a &lt;- a/x.go |"),
        "{summary}"
    );
}

#[test]
fn an_empty_result_says_so_in_its_outputs() {
    let repo = Repo::with_files(&[("go.mod", "module a\n")]);
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("output");
    repo.ci_matrix()
        .args(["--changed-files", "[]"])
        .env("GITHUB_OUTPUT", &output)
        .success();
    let outputs = parse_outputs(&std::fs::read_to_string(&output).unwrap());
    assert!(outputs.contains(&("matrix".into(), "{\"include\":[]}".into())));
    assert!(outputs.contains(&("has_affected".into(), "false".into())));
    assert!(outputs.contains(&("count".into(), "0".into())));
}

#[test]
fn warnings_become_annotations_under_actions() {
    let repo = Repo::with_files(&[("go.mod", "module a\n")]);
    // A loose file at the root belongs to the root module, so use a graph
    // file to make a global change.
    repo.write("g.json", "{\"x\": {}}");
    let out = repo
        .ci_matrix()
        .args(["g.json", "[\"Makefile\"]", "--unowned", "all"])
        .env("GITHUB_ACTIONS", "true")
        .output();
    assert_eq!(out.code, Some(0));
    assert!(
        out.stderr
            .contains("::warning title=ci-matrix::Makefile lies in no package (unowned = all)"),
        "{}",
        out.stderr
    );
}

#[test]
fn failures_become_error_annotations_under_actions() {
    let repo = Repo::with_files(&[("Cargo.toml", "[workspace]\nmembers = [\"a\"\n")]);
    let out = repo
        .ci_matrix()
        .args(["--changed-files", "[]"])
        .env("GITHUB_ACTIONS", "true")
        .output();
    let stderr = out.failure(3);
    assert!(
        stderr.contains("::error title=ci-matrix::invalid TOML in "),
        "{stderr}"
    );
}

/// `ci-matrix gate` as the `actions/gate` action runs it: `needs` shaped
/// as GitHub renders `toJSON(needs)`, a summary and an error annotation.
#[test]
fn the_gate_reads_needs_and_writes_a_summary() {
    let repo = Repo::with_files(&[("go.mod", "module a\n")]);
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary");
    let needs = r#"{
  "plan": {
    "result": "success",
    "outputs": {
      "matrix": "{\"include\":[{\"package\":\"a\",\"path\":\".\"}]}",
      "has_affected": "true"
    }
  },
  "test": {
    "result": "failure",
    "outputs": {}
  }
}"#;
    let out = repo
        .ci_matrix()
        .args(["gate", "--needs", needs])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output();
    assert_eq!(out.code, Some(7), "{}", out.stderr);
    assert!(
        out.stderr.contains("::error title=ci-matrix::test failed"),
        "{}",
        out.stderr
    );
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(text.contains("**Failed**: test failed."), "{text}");
    assert!(
        text.contains("| `plan` | success |\n| `test` | failure |"),
        "{text}"
    );
    let help = repo.ci_matrix().args(["gate", "--help"]).success();
    assert!(help.contains("--needs <JSON>"), "{help}");
}
