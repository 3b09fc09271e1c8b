//! Base and head from GitHub Actions events, on real clones: a full clone,
//! a `--depth 1` clone missing the base, a force-push, a new branch. The
//! payloads are GitHub's own examples (fixtures/events) with the commit ids
//! of the repository built here. No case may give an empty result when
//! something changed.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{Repo, Run, bin, git_command};

/// An origin with history on `main`: a go.work of three modules, then
/// five commits, each touching one module. `b` requires `a`.
struct Origin {
    /// The developer's repository, which pushes to `bare`.
    work: Repo,
    bare: tempfile::TempDir,
}

impl Origin {
    fn new() -> Origin {
        let work = Repo::with_files(&[
            ("go.work", "go 1.22\n\nuse (\n\t./a\n\t./b\n\t./c\n)\n"),
            ("a/go.mod", "module example.com/a\n"),
            (
                "b/go.mod",
                "module example.com/b\n\nrequire example.com/a v0.0.0\n",
            ),
            ("c/go.mod", "module example.com/c\n"),
        ]);
        for i in 0..5 {
            work.write("c/c.go", &format!("package c // {i}\n"));
            work.commit(&format!("c {i}"));
        }
        let bare = tempfile::tempdir().unwrap();
        let bare_path = bare.path().to_str().unwrap().to_owned();
        work.git(&["init", "-q", "--bare", "-b", "main", &bare_path]);
        work.git(&["remote", "add", "origin", &bare_path]);
        work.git(&["push", "-q", "origin", "main"]);
        Origin { work, bare }
    }

    fn url(&self) -> String {
        format!("file://{}", self.bare.path().display())
    }

    /// A clone as actions/checkout makes it: `depth` 0 for full history.
    fn clone(&self, branch: &str, depth: u32) -> Clone {
        let dir = tempfile::tempdir().unwrap();
        let mut args = vec![
            "clone".to_owned(),
            "-q".to_owned(),
            "--branch".to_owned(),
            branch.to_owned(),
        ];
        if depth > 0 {
            args.push(format!("--depth={depth}"));
        }
        args.push(self.url());
        args.push(dir.path().join("repo").to_str().unwrap().to_owned());
        let out = git_command(Path::new("/")).args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Clone { dir }
    }

    /// What actions/checkout does for a ref: init, fetch it `depth` deep,
    /// check it out detached.
    fn checkout(&self, reference: &str, depth: u32) -> Clone {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(&repo).unwrap();
        let url = self.url();
        let refspec = format!("+{reference}:refs/remotes/pull/merge");
        let depth = format!("--depth={depth}");
        for args in [
            vec!["init", "-q"],
            vec!["remote", "add", "origin", url.as_str()],
            vec![
                "fetch",
                "-q",
                "--no-tags",
                depth.as_str(),
                "origin",
                refspec.as_str(),
            ],
            vec!["checkout", "-q", "--detach", "refs/remotes/pull/merge"],
        ] {
            let out = git_command(&repo).args(&args).output().unwrap();
            assert!(
                out.status.success(),
                "git {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Clone { dir }
    }

    fn sha(&self, rev: &str) -> String {
        self.work.git(&["rev-parse", rev])
    }
}

struct Clone {
    dir: tempfile::TempDir,
}

impl Clone {
    fn path(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    /// Runs ci-matrix as a workflow step would for `event`, with `payload`.
    fn run(&self, event: &str, payload: &Value) -> (Value, String) {
        let event_path = self.dir.path().join("event.json");
        std::fs::write(&event_path, serde_json::to_string(payload).unwrap()).unwrap();
        let out = Run::new(&bin("ci-matrix"), &self.path())
            .args(["--format", "json"])
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_EVENT_NAME", event)
            .env("GITHUB_EVENT_PATH", &event_path)
            .output();
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        (serde_json::from_str(&out.stdout).unwrap(), out.stderr)
    }
}

fn payload(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("it/fixtures/events")
        .join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn affected(report: &Value) -> Vec<&str> {
    report["affected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["package"].as_str().unwrap())
        .collect()
}

fn push_payload(before: &str, after: &str, pushed: &str) -> Value {
    let mut p = payload("push");
    p["before"] = before.into();
    p["after"] = after.into();
    p["ref"] = pushed.into();
    p["repository"]["default_branch"] = "main".into();
    p
}

#[test]
fn push_in_a_full_clone_diffs_before_to_after() {
    let origin = Origin::new();
    origin.work.write("a/a.go", "package a\n");
    origin.work.commit("a");
    origin.work.git(&["push", "-q", "origin", "main"]);
    let clone = origin.clone("main", 0);
    let (report, _) = clone.run(
        "push",
        &push_payload(
            &origin.sha("HEAD~1"),
            &origin.sha("HEAD"),
            "refs/heads/main",
        ),
    );
    assert_eq!(report["base_source"], "push-before");
    assert_eq!(report["base_sha"], origin.sha("HEAD~1"));
    assert_eq!(affected(&report), ["example.com/a", "example.com/b"]);
}

#[test]
fn push_in_a_shallow_clone_deepens_until_the_base_is_found() {
    let origin = Origin::new();
    origin.work.write("a/a.go", "package a\n");
    origin.work.commit("a");
    origin.work.git(&["push", "-q", "origin", "main"]);
    let clone = origin.clone("main", 1);
    // The push covered four commits; the clone has only the last.
    let before = origin.sha("HEAD~4");
    let (report, stderr) = clone.run(
        "push",
        &push_payload(&before, &origin.sha("HEAD"), "refs/heads/main"),
    );
    assert!(stderr.contains("shallow clone: fetching"), "{stderr}");
    assert_eq!(report["base_source"], "push-before");
    assert_eq!(report["base_sha"], before);
    assert_eq!(
        affected(&report),
        ["example.com/a", "example.com/b", "example.com/c"]
    );
    assert_eq!(report["fallback_reason"], Value::Null);
}

#[test]
fn a_force_push_whose_before_is_gone_affects_everything_with_the_reason() {
    let origin = Origin::new();
    // Rewrite the last commit: the old one is in no ref the clone can fetch.
    let old = origin.sha("HEAD");
    origin.work.write("c/c.go", "package c // rewritten\n");
    origin.work.git(&["add", "-A"]);
    origin
        .work
        .git(&["commit", "-q", "--amend", "-m", "rewritten"]);
    origin
        .work
        .git(&["push", "-q", "--force", "origin", "main"]);
    // Gone from the origin as well, as after GitHub collects garbage.
    let bare = origin.bare.path().to_str().unwrap().to_owned();
    origin
        .work
        .git(&["-C", &bare, "reflog", "expire", "--expire=now", "--all"]);
    origin.work.git(&["-C", &bare, "gc", "-q", "--prune=now"]);
    let clone = origin.clone("main", 1);
    let (report, stderr) = clone.run(
        "push",
        &push_payload(&old, &origin.sha("HEAD"), "refs/heads/main"),
    );
    assert_eq!(report["base_source"], "none", "{report}");
    assert!(
        report["fallback_reason"]
            .as_str()
            .unwrap()
            .contains("force-push"),
        "{report}"
    );
    assert_eq!(affected(&report).len(), 3, "everything, never nothing");
    assert!(
        stderr.contains("::warning title=ci-matrix::every package is affected"),
        "{stderr}"
    );
}

#[test]
fn a_new_branch_compares_with_the_default_branch() {
    let origin = Origin::new();
    origin.work.git(&["checkout", "-q", "-b", "feature"]);
    origin.work.write("b/b.go", "package b\n");
    origin.work.commit("b on a branch");
    origin.work.git(&["push", "-q", "origin", "feature"]);
    // actions/checkout of the branch alone, one commit deep.
    let clone = origin.clone("feature", 1);
    let zeros = "0".repeat(40);
    let (report, _) = clone.run(
        "push",
        &push_payload(&zeros, &origin.sha("HEAD"), "refs/heads/feature"),
    );
    assert_eq!(report["base_source"], "default-branch-merge-base");
    assert_eq!(report["base_sha"], origin.sha("main"));
    assert_eq!(affected(&report), ["example.com/b"]);
}

#[test]
fn the_first_push_of_the_default_branch_is_everything() {
    let origin = Origin::new();
    let clone = origin.clone("main", 1);
    let (report, _) = clone.run(
        "push",
        &push_payload(&"0".repeat(40), &origin.sha("HEAD"), "refs/heads/main"),
    );
    assert_eq!(report["base_source"], "none");
    assert!(
        report["fallback_reason"]
            .as_str()
            .unwrap()
            .contains("first push"),
        "{report}"
    );
    assert_eq!(affected(&report).len(), 3);
}

#[test]
fn a_pull_request_uses_the_merge_base() {
    let origin = Origin::new();
    let fork_point = origin.sha("HEAD");
    origin.work.git(&["checkout", "-q", "-b", "pr"]);
    origin.work.write("a/a.go", "package a\n");
    origin.work.commit("a on the pr");
    origin.work.git(&["push", "-q", "origin", "pr"]);
    // main moves on after the branch point: those changes are not the PR's.
    origin.work.git(&["checkout", "-q", "main"]);
    origin.work.write("c/c.go", "package c // main moved\n");
    origin.work.commit("main moves");
    origin.work.git(&["push", "-q", "origin", "main"]);

    let mut p = payload("pull_request");
    p["pull_request"]["base"]["sha"] = origin.sha("main").into();
    p["pull_request"]["head"]["sha"] = origin.sha("pr").into();
    // GitHub's refs/pull/N/merge: the PR merged into the current base.
    origin.work.git(&["checkout", "-q", "--detach", "main"]);
    origin
        .work
        .git(&["merge", "-q", "--no-ff", "-m", "Merge pr into main", "pr"]);
    origin
        .work
        .git(&["push", "-q", "origin", "HEAD:refs/pull/1/merge"]);
    let clones = [
        origin.clone("pr", 0),
        origin.checkout("refs/pull/1/merge", 1),
        // Only the PR branch, one commit deep: the base must be fetched by id.
        origin.clone("pr", 1),
    ];
    for clone in clones {
        let (report, _) = clone.run("pull_request", &p);
        assert_eq!(report["base_source"], "pr-merge-base", "{report}");
        assert_eq!(report["base_sha"], fork_point);
        assert_eq!(affected(&report), ["example.com/a", "example.com/b"]);
    }
    let (report, _) = origin
        .checkout("refs/pull/1/merge", 1)
        .run("pull_request_target", &p);
    assert_eq!(report["base_source"], "pr-merge-base");
}

#[test]
fn a_merge_group_diffs_its_base_to_its_head() {
    let origin = Origin::new();
    let base = origin.sha("HEAD");
    origin.work.write("c/c.go", "package c // queued\n");
    origin.work.commit("queued");
    origin.work.git(&["push", "-q", "origin", "main"]);
    let mut p = payload("merge_group");
    p["merge_group"]["base_sha"] = base.clone().into();
    p["merge_group"]["head_sha"] = origin.sha("HEAD").into();
    let (report, _) = origin.clone("main", 1).run("merge_group", &p);
    assert_eq!(report["base_source"], "merge-group");
    assert_eq!(report["base_sha"], base);
    assert_eq!(affected(&report), ["example.com/c"]);
}

#[test]
fn events_without_a_base_affect_everything() {
    let origin = Origin::new();
    let clone = origin.clone("main", 1);
    for (event, body) in [
        ("workflow_dispatch", payload("workflow_dispatch")),
        ("schedule", serde_json::json!({"schedule": "17 3 * * *"})),
        ("release", serde_json::json!({"action": "published"})),
    ] {
        let (report, _) = clone.run(event, &body);
        assert_eq!(report["base_source"], "none", "{event}");
        assert!(
            report["fallback_reason"].as_str().unwrap().contains(event),
            "{event}: {report}"
        );
        assert_eq!(affected(&report).len(), 3, "{event}");
    }
}

#[test]
fn a_missing_or_broken_payload_affects_everything() {
    let origin = Origin::new();
    let clone = origin.clone("main", 1);
    let out = Run::new(&bin("ci-matrix"), &clone.path())
        .args(["--github", "--format", "list"])
        .env("GITHUB_EVENT_NAME", "push")
        .env("GITHUB_EVENT_PATH", clone.path().join("missing.json"))
        .output();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout, "example.com/a\nexample.com/b\nexample.com/c\n");
    assert!(out.stderr.contains("could not be read"), "{}", out.stderr);
}
