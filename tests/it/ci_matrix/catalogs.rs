//! Bun workspaces and `bun.lock`, and catalogs in pnpm and Bun: a catalog
//! bump marks only the packages that take the entry. The lockfiles in
//! `fixtures/lockfiles/bun` were written by Bun 1.4.5 (`bun install
//! --lockfile-only`), those in `fixtures/lockfiles/pnpm-catalog` by pnpm
//! 9.15.

use std::path::Path;

use super::affected_by;
use crate::support::{Repo, because_lines};

fn fixture(kind: &str, name: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("it/fixtures/lockfiles")
        .join(kind);
    std::fs::read_to_string(dir.join(name)).unwrap()
}

fn repo(kind: &str, files: &[&str], lockfile: &str, base: &str) -> Repo {
    let repo = Repo::new();
    for file in files {
        repo.write(file, &fixture(kind, file));
    }
    repo.write(lockfile, &fixture(kind, base));
    repo.commit("base");
    repo
}

fn report(repo: &Repo) -> String {
    because_lines(
        &repo
            .ci_matrix()
            .args(["--base", "HEAD~1", "--format", "json"])
            .success(),
    )
}

const BUN_FILES: [&str; 4] = [
    "package.json",
    "packages/a/package.json",
    "packages/b/package.json",
    "packages/c/package.json",
];

#[test]
fn a_bun_workspace_is_read_with_its_edges() {
    let repo = repo("bun", &BUN_FILES, "bun.lock", "base.bun.lock");
    let got = affected_by(&repo, &[("packages/a/index.ts", Some("export {};\n"))]);
    assert_eq!(
        got,
        "a (bun) packages/a: a <- packages/a/index.ts\n\
         b (bun) packages/b: b <- a <- packages/a/index.ts\n"
    );
}

#[test]
fn a_bun_catalog_bump_marks_only_its_takers() {
    let repo = repo("bun", &BUN_FILES, "bun.lock", "base.bun.lock");
    repo.write(
        "package.json",
        &fixture("bun", "package.json").replace("\"left-pad\":\"1.2.0\"", "\"left-pad\":\"1.3.0\""),
    );
    repo.write("bun.lock", &fixture("bun", "head-catalog.bun.lock"));
    repo.commit("bump the legacy catalog's left-pad");
    // Both files say it: the lockfile comes first by path.
    assert_eq!(
        report(&repo),
        "b (bun) packages/b: b <- bun.lock (left-pad 1.2.0 -> 1.3.0)\n"
    );
    // The manifest alone (a lockfile not yet updated) says the same.
    repo.write(
        "package.json",
        &fixture("bun", "package.json").replace("\"left-pad\":\"1.2.0\"", "\"left-pad\":\"1.4.0\""),
    );
    repo.commit("the catalog alone");
    assert_eq!(
        report(&repo),
        "b (bun) packages/b: b <- package.json (catalog legacy left-pad)\n"
    );
}

#[test]
fn a_bun_lockfile_change_is_read_precisely_and_lockb_is_everything() {
    let repo = repo("bun", &BUN_FILES, "bun.lock", "base.bun.lock");
    repo.write("bun.lock", &fixture("bun", "head-catalog.bun.lock"));
    repo.commit("the lockfile alone");
    assert_eq!(
        report(&repo),
        "b (bun) packages/b: b <- bun.lock (left-pad 1.2.0 -> 1.3.0)\n"
    );
    repo.write("bun.lockb", "\u{0}binary");
    repo.commit("a binary lockfile");
    let got = report(&repo);
    assert!(
        got.contains("\"why\":\"bun.lockb is a binary lockfile and cannot be compared, so every package is affected\""),
        "{got}"
    );
    assert_eq!(got.lines().count(), 4, "{got}");
}

#[test]
fn a_pnpm_catalog_bump_marks_only_its_takers() {
    let files = [
        "package.json",
        "pnpm-workspace.yaml",
        "packages/a/package.json",
        "packages/b/package.json",
    ];
    let repo = repo(
        "pnpm-catalog",
        &files,
        "pnpm-lock.yaml",
        "base.pnpm-lock.yaml",
    );
    repo.write(
        "pnpm-workspace.yaml",
        &fixture("pnpm-catalog", "pnpm-workspace.yaml")
            .replace("is-number: 7.0.0", "is-number: 6.0.0"),
    );
    repo.write(
        "pnpm-lock.yaml",
        &fixture("pnpm-catalog", "head.pnpm-lock.yaml"),
    );
    repo.commit("bump the default catalog's is-number");
    assert_eq!(
        report(&repo),
        "a (pnpm) packages/a: a <- pnpm-lock.yaml (is-number 7.0.0 -> 6.0.0)\n"
    );
    // Anything else in the workspace file concerns everything.
    let got = affected_by(
        &repo,
        &[(
            "pnpm-workspace.yaml",
            Some(&fixture("pnpm-catalog", "pnpm-workspace.yaml").replace(
                "  - \"packages/*\"\n",
                "  - \"packages/*\"\n  - \"apps/*\"\n",
            )),
        )],
    );
    assert!(
        got.contains("\"why\":\"pnpm-workspace.yaml \\\"packages\\\" changed\""),
        "{got}"
    );
    assert_eq!(got.lines().count(), 3, "{got}");
}
