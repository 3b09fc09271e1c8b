//! Lockfile precision: a change to one external dependency in a lockfile
//! affects only the workspace packages that use it (and their dependents),
//! in every lockfile format. The lockfiles are real: written by cargo,
//! npm, pnpm 9, yarn 1 and yarn 4 for the projects in `fixtures/lockfiles`.

use std::path::Path;

use crate::support::Repo;

fn fixtures(kind: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("it/fixtures/lockfiles")
        .join(kind)
}

/// A repository of the fixture's manifests with `base` as `lockfile`,
/// then a commit replacing it with `head`; returns `--format json` lines.
fn check(kind: &str, lockfile: &str, base: &str, head: &str, expected: &str) {
    let dir = fixtures(kind);
    let repo = Repo::new();
    copy_manifests(&dir, &dir, &repo);
    repo.write(lockfile, &std::fs::read_to_string(dir.join(base)).unwrap());
    repo.commit("base");
    repo.write(lockfile, &std::fs::read_to_string(dir.join(head)).unwrap());
    repo.commit("update one dependency");
    let out = repo
        .ci_matrix()
        .args(["--base", "HEAD~1", "--format", "json"])
        .success();
    assert_eq!(crate::support::because_lines(&out), expected, "{kind}");
}

fn copy_manifests(top: &Path, dir: &Path, repo: &Repo) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if path.is_dir() {
            copy_manifests(top, &path, repo);
        } else if !name.starts_with("base.") && !name.starts_with("head") {
            let rel = path.strip_prefix(top).unwrap().to_str().unwrap().to_owned();
            repo.write(&rel, &std::fs::read_to_string(&path).unwrap());
        }
    }
}

#[test]
fn cargo_lock_direct_dependency() {
    check(
        "cargo",
        "Cargo.lock",
        "base.Cargo.lock",
        "head-itoa.Cargo.lock",
        "a (cargo) a: a <- Cargo.lock (itoa 1.0.10 -> 1.0.11)\n\
         c (cargo) c: c <- a <- Cargo.lock (itoa 1.0.10 -> 1.0.11)\n",
    );
}

#[test]
fn cargo_lock_follows_its_own_edges_to_indirect_users() {
    // d uses memchr only through aho-corasick.
    check(
        "cargo",
        "Cargo.lock",
        "base.Cargo.lock",
        "head-memchr.Cargo.lock",
        "b (cargo) b: b <- Cargo.lock (memchr 2.7.1 -> 2.7.2)\n\
         d (cargo) d: d <- Cargo.lock (memchr 2.7.1 -> 2.7.2)\n",
    );
}

const LEFT_PAD: &str = "a (ECO) packages/a: a <- LOCK (left-pad 1.2.0 -> 1.3.0)\n\
                        c (ECO) packages/c: c <- a <- LOCK (left-pad 1.2.0 -> 1.3.0)\n";

fn left_pad(ecosystem: &str, lockfile: &str) -> String {
    LEFT_PAD.replace("ECO", ecosystem).replace("LOCK", lockfile)
}

#[test]
fn pnpm_lock_importers() {
    check(
        "pnpm",
        "pnpm-lock.yaml",
        "base.pnpm-lock.yaml",
        "head.pnpm-lock.yaml",
        &left_pad("pnpm", "pnpm-lock.yaml"),
    );
}

#[test]
fn package_lock_json() {
    check(
        "npm",
        "package-lock.json",
        "base.package-lock.json",
        "head.package-lock.json",
        &left_pad("npm", "package-lock.json"),
    );
}

#[test]
fn yarn_lock_v1() {
    check(
        "yarn1",
        "yarn.lock",
        "base.yarn.lock",
        "head.yarn.lock",
        &left_pad("yarn", "yarn.lock"),
    );
}

#[test]
fn yarn_lock_berry() {
    check(
        "berry",
        "yarn.lock",
        "base.yarn.lock",
        "head.yarn.lock",
        &left_pad("yarn", "yarn.lock"),
    );
}

#[test]
fn go_work_sum() {
    check(
        "go",
        "go.work.sum",
        "base.go.work.sum",
        "head.go.work.sum",
        "example.com/a (go) a: example.com/a <- go.work.sum (golang.org/x/text v0.14.0 -> v0.15.0)\n\
         example.com/c (go) c: example.com/c <- example.com/a <- go.work.sum (golang.org/x/text v0.14.0 -> v0.15.0)\n",
    );
}

#[test]
fn an_unparseable_lockfile_affects_everything_and_warns() {
    let dir = fixtures("pnpm");
    let repo = Repo::new();
    copy_manifests(&dir, &dir, &repo);
    repo.write(
        "pnpm-lock.yaml",
        &std::fs::read_to_string(dir.join("base.pnpm-lock.yaml")).unwrap(),
    );
    repo.commit("base");
    repo.write("pnpm-lock.yaml", "importers: [\n  broken\n");
    repo.commit("break the lockfile");
    let out = repo
        .ci_matrix()
        .args(["--base", "HEAD~1", "--format", "list"])
        .env("GITHUB_ACTIONS", "true")
        .output();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout, "a\nb\nc\n");
    assert!(
        out.stderr
            .contains("::warning title=ci-matrix::pnpm-lock.yaml could not be parsed"),
        "{}",
        out.stderr
    );
}

#[test]
fn without_a_base_a_lockfile_change_affects_everything() {
    let dir = fixtures("npm");
    let repo = Repo::new();
    copy_manifests(&dir, &dir, &repo);
    repo.commit("base");
    let out = repo
        .ci_matrix()
        .args([
            "--changed-files",
            "[\"package-lock.json\"]",
            "--format",
            "json",
        ])
        .success();
    assert!(
        out.contains("\"why\": \"package-lock.json changed and no base revision is known to compare it with\""),
        "{out}"
    );
}

#[test]
fn workspace_dependencies_affect_only_their_inheritors() {
    let repo = Repo::with_files(&[
        (
            "Cargo.toml",
            "[workspace]\nmembers = [\"a\", \"b\"]\n\n[workspace.dependencies]\nitoa = \"1.0.10\"\nmemchr = \"2\"\n",
        ),
        (
            "a/Cargo.toml",
            "[package]\nname = \"a\"\n[dependencies]\nitoa.workspace = true\n",
        ),
        (
            "b/Cargo.toml",
            "[package]\nname = \"b\"\n[dependencies]\nmemchr = { workspace = true }\n",
        ),
    ]);
    repo.write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"a\", \"b\"]\n\n[workspace.dependencies]\nitoa = \"1.0.11\"\nmemchr = \"2\"\n",
    );
    repo.commit("bump itoa");
    let out = repo
        .ci_matrix()
        .args(["--base", "HEAD~1", "--format", "json"])
        .success();
    assert_eq!(
        crate::support::because_lines(&out),
        "a (cargo) a: a <- Cargo.toml ([workspace.dependencies] itoa)\n"
    );
    // Anything else in the root manifest is everything, with the reason.
    repo.write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"a\", \"b\"]\n\n[workspace.dependencies]\nitoa = \"1.0.11\"\nmemchr = \"2\"\n\n[profile.release]\nlto = true\n",
    );
    repo.commit("profile");
    let out = repo
        .ci_matrix()
        .args(["--base", "HEAD~1", "--format", "json"])
        .success();
    assert!(
        out.contains("\"why\": \"root Cargo.toml [profile] changed\""),
        "{out}"
    );
    assert!(out.contains("\"packages_total\": 2"), "{out}");
    assert_eq!(out.matches("\"reason\": \"global\"").count(), 2, "{out}");
}

#[test]
fn root_package_json_dependencies_affect_only_their_users() {
    let dir = fixtures("npm");
    let repo = Repo::new();
    copy_manifests(&dir, &dir, &repo);
    repo.commit("base");
    repo.write(
        "package.json",
        "{\"name\":\"root\",\"private\":true,\"workspaces\":[\"packages/*\"],\"overrides\":{\"is-number\":\"7.0.0\"}}",
    );
    repo.commit("pin is-number");
    let out = repo
        .ci_matrix()
        .args(["--base", "HEAD~1", "--format", "list"])
        .success();
    assert_eq!(out, "b\n");
    repo.write(
        "package.json",
        "{\"name\":\"root\",\"private\":true,\"workspaces\":[\"packages/*\"],\"overrides\":{\"is-number\":\"7.0.0\"},\"scripts\":{\"x\":\"y\"}}",
    );
    repo.commit("scripts");
    let out = repo
        .ci_matrix()
        .args(["--base", "HEAD~1", "--format", "list"])
        .success();
    assert_eq!(out, "a\nb\nc\n");
}
