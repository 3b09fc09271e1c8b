//! Input a pull request controls, made hostile: YAML alias bombs and
//! 100,000-deep nesting in every format, each run under a memory limit
//! (`prlimit --data`: the heap and private mappings) so an unbounded parse
//! fails the test by running out of memory instead of passing slowly.

use std::fmt::Write as _;

use crate::support::{Repo, bin};

/// Heap the binary may use. The plain YAML loader needs gigabytes for the
/// bomb; a bounded parse needs a few megabytes.
const HEAP_LIMIT: u64 = 64 << 20;

/// Nine lines of aliases, each level nine times the one before: about 387
/// million strings when expanded.
fn alias_bomb(first_line: &str) -> String {
    let mut text = format!(
        "{first_line}a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for pair in names.windows(2) {
        let refs = vec![format!("*{}", pair[0]); 9].join(",");
        let _ = writeln!(text, "{}: &{} [{refs}]", pair[1], pair[1]);
    }
    text
}

struct Limited {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// ci-matrix in `repo` under the heap limit.
fn limited(repo: &Repo, args: &[&str]) -> Limited {
    let out = std::process::Command::new("prlimit")
        .arg(format!("--data={HEAP_LIMIT}"))
        .arg("--")
        .arg(bin("ci-matrix"))
        .args(args)
        .current_dir(repo.path())
        .env("NO_COLOR", "1")
        .env("MALLOC_ARENA_MAX", "2")
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("prlimit (util-linux) runs");
    Limited {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn pnpm_repo(workspace_yaml: &str) -> Repo {
    Repo::with_files(&[
        ("package.json", "{\"private\": true}\n"),
        ("pnpm-workspace.yaml", workspace_yaml),
        ("packages/a/package.json", "{\"name\": \"a\"}\n"),
        ("packages/b/package.json", "{\"name\": \"b\"}\n"),
    ])
}

#[test]
fn a_well_formed_run_fits_the_limit() {
    // The control: the limit is not what fails the other tests.
    let repo = pnpm_repo("packages:\n  - packages/*\n");
    let out = limited(&repo, &["--changed-files", "[\"packages/a/x.ts\"]"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "{\"include\":[{\"package\":\"a\",\"path\":\"packages/a\"}]}\n"
    );
}

#[test]
fn an_alias_bomb_in_the_workspace_file_is_bad_input() {
    let repo = pnpm_repo(&alias_bomb("packages: [\"packages/*\"]\n"));
    let out = limited(&repo, &["--changed-files", "[]"]);
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    assert!(
        out.stderr.contains("pnpm-workspace.yaml")
            && out.stderr.contains("nodes with aliases expanded"),
        "{}",
        out.stderr
    );
}

/// A base lockfile that parses and a head that is a bomb: everything is
/// affected, with the reason, and a warning.
fn lockfile_bomb(lockfile: &str, base: &str, package_json: &str, bomb_header: &str) {
    let repo = Repo::with_files(&[
        ("package.json", package_json),
        ("pnpm-workspace.yaml", "packages:\n  - packages/*\n"),
        ("packages/a/package.json", "{\"name\": \"a\"}\n"),
        ("packages/b/package.json", "{\"name\": \"b\"}\n"),
        (lockfile, base),
    ]);
    repo.write(lockfile, &alias_bomb(bomb_header));
    repo.commit("plant a bomb");
    let out = limited(&repo, &["--base", "HEAD~1", "--format", "list"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout, "a\nb\n", "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&format!("{lockfile} could not be parsed (at head: line "))
            && out
                .stderr
                .contains("nodes with aliases expanded), so every package is affected"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_alias_bomb_in_pnpm_lock_yaml_affects_everything_with_a_warning() {
    lockfile_bomb(
        "pnpm-lock.yaml",
        "lockfileVersion: '9.0'\nimporters:\n  packages/a: {}\n  packages/b: {}\n",
        "{\"private\": true}\n",
        "lockfileVersion: '9.0'\n",
    );
}

#[test]
fn an_alias_bomb_in_a_yarn_berry_lock_affects_everything_with_a_warning() {
    lockfile_bomb(
        "yarn.lock",
        "__metadata:\n  version: 8\n",
        "{\"private\": true, \"packageManager\": \"yarn@4.5.0\", \"workspaces\": [\"packages/*\"]}\n",
        "__metadata:\n  version: 8\n",
    );
}

#[test]
fn deep_nesting_is_bad_input_in_every_format() {
    const DEEP: usize = 100_000;
    let yaml = pnpm_repo(&format!(
        "packages: {}{}\n",
        "[".repeat(DEEP),
        "]".repeat(DEEP)
    ));
    let json = Repo::with_files(&[
        (
            "package.json",
            &format!(
                "{{\"workspaces\": [\"packages/*\"], \"x\": {}{}}}\n",
                "[".repeat(DEEP),
                "]".repeat(DEEP)
            ),
        ),
        ("packages/a/package.json", "{\"name\": \"a\"}\n"),
    ]);
    let toml = Repo::with_files(&[(
        "Cargo.toml",
        &format!(
            "[workspace]\nmembers = []\nx = {}{}\n",
            "[".repeat(DEEP),
            "]".repeat(DEEP)
        ),
    )]);
    for (repo, file, message) in [
        (&yaml, "pnpm-workspace.yaml", "recursion limit exceeded"),
        (&json, "package.json", "recursion limit exceeded"),
        (&toml, "Cargo.toml", "TOML"),
    ] {
        let out = limited(repo, &["--changed-files", "[]"]);
        assert_eq!(out.code, Some(3), "{file}: {}", out.stderr);
        assert!(
            out.stderr.contains(file) && out.stderr.contains(message),
            "{file}: {}",
            out.stderr
        );
    }
}
