//! Bad input: a clear message naming the file and place, a documented exit
//! code, no data on stdout, never a panic.

use crate::support::Repo;

fn check(files: &[(&str, &str)], args: &[&str], code: i32, expected: &str) {
    let repo = Repo::with_files(files);
    let out = repo.ci_matrix().args(args).output();
    let stderr = out.failure(code);
    assert!(
        stderr.contains(expected),
        "expected {expected:?} in:\n{stderr}"
    );
}

const CHANGE: [&str; 2] = ["--changed-files", "[\"a/x\"]"];

#[test]
fn broken_manifests_name_file_line_and_column() {
    check(
        &[("Cargo.toml", "[workspace]\nmembers = [\"a\"\n")],
        &CHANGE,
        3,
        "Cargo.toml at line 2, column",
    );
    check(
        &[
            ("Cargo.toml", "[workspace]\nmembers = [\"a\"]\n"),
            ("a/Cargo.toml", "[package]\nversion = \"1\"\n"),
        ],
        &CHANGE,
        3,
        "a/Cargo.toml: missing [package] name",
    );
    check(
        &[("Cargo.toml", "[workspace]\nmembers = [\"missing\"]\n")],
        &CHANGE,
        3,
        "workspace member \"missing\" has no Cargo.toml",
    );
    check(
        &[("package.json", "{\"workspaces\": [\"a\"],\n  \"name\": }\n")],
        &CHANGE,
        3,
        "package.json at line 2, column 11",
    );
    check(
        &[("package.json", "{\"workspaces\": \"a\"}")],
        &CHANGE,
        3,
        "\"workspaces\" must be an array of globs",
    );
    check(
        &[("pnpm-workspace.yaml", "packages:\n  - 'a\n")],
        &CHANGE,
        3,
        "invalid YAML in",
    );
    check(
        &[("pnpm-workspace.yaml", "packages:\n  - '[a'\n")],
        &CHANGE,
        3,
        "invalid glob \"[a\"",
    );
    check(
        &[("go.work", "go 1.22\nuse (\n./a\n")],
        &CHANGE,
        3,
        "go.work: line 2: use block is not closed",
    );
    check(
        &[("go.work", "use ./a\n"), ("a/go.mod", "go 1.22\n")],
        &CHANGE,
        3,
        "a/go.mod: missing module directive",
    );
    check(
        &[
            ("Cargo.toml", "[workspace]\nmembers = [\"a\", \"b\"]\n"),
            ("a/Cargo.toml", "[package]\nname = \"x\"\n"),
            ("b/Cargo.toml", "[package]\nname = \"x\"\n"),
        ],
        &CHANGE,
        3,
        "cargo package \"x\" is defined twice, in a and b",
    );
}

#[test]
fn bad_graph_files_and_change_lists() {
    check(
        &[("g.json", "{\"a\": {\"dependents\": [\"zz\"]}}")],
        &["g.json", "[]"],
        3,
        "refers to \"zz\"",
    );
    check(
        &[("g.json", "{}")],
        &["--graph", "missing.json", "--changed-files", "[]"],
        3,
        "failed to read missing.json",
    );
    check(
        &[("g.json", "{}")],
        &["g.json", "[\"a\", 1]"],
        3,
        "invalid JSON in --changed-files at line 1, column 7",
    );
    check(
        &[("g.json", "{}")],
        &["g.json", "[\"../outside\"]"],
        3,
        "is outside the repository root",
    );
}

#[test]
fn nothing_to_read_or_nothing_given() {
    check(
        &[("README.md", "x")],
        &CHANGE,
        3,
        "no package graph found under",
    );
    check(&[("go.mod", "module x\n")], &[], 2, "no changes given");
    check(
        &[("go.mod", "module x\n")],
        &["--base", "no-such-branch"],
        5,
        "`git rev-parse",
    );
    check(
        &[("go.mod", "module x\n")],
        &["--base=-x"],
        5,
        "must not start with '-'",
    );
    check(
        &[("go.mod", "module x\n")],
        &["--explain", "nope", "--changed-files", "[]"],
        2,
        "--explain nope",
    );
    check(
        &[("go.mod", "module x\n")],
        &["--ignore", "a[", "--changed-files", "[]"],
        2,
        "--ignore \"a[\"",
    );
    check(
        &[("go.mod", "module x\n")],
        &["--format", "yaml"],
        2,
        "invalid value 'yaml'",
    );
}
