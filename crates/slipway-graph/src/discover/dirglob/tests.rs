use super::*;

fn tree(dirs: &[&str]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for dir in dirs {
        std::fs::create_dir_all(tmp.path().join(dir)).unwrap();
        std::fs::write(tmp.path().join(dir).join("package.json"), "{}").unwrap();
    }
    std::fs::create_dir_all(tmp.path().join("packages/empty")).unwrap();
    tmp
}

fn check(dirs: &[&str], patterns: &[&str], expected: &[&str]) {
    let tmp = tree(dirs);
    let patterns: Vec<String> = patterns.iter().map(|s| (*s).to_owned()).collect();
    let got = expand(tmp.path(), &patterns, "package.json", Path::new("x")).unwrap();
    let with_manifest: Vec<&String> = got
        .dirs
        .iter()
        .filter(|d| tmp.path().join(d).join("package.json").is_file())
        .collect();
    assert_eq!(with_manifest, expected, "patterns {patterns:?}");
}

#[test]
fn single_star_stays_at_one_level() {
    check(
        &["packages/a", "packages/b", "packages/a/nested", "apps/web"],
        &["packages/*"],
        &["packages/a", "packages/b"],
    );
}

#[test]
fn double_star_descends_and_skips_node_modules() {
    check(
        &[
            "packages/a",
            "packages/a/nested",
            "packages/node_modules/x",
            "packages/.hidden",
        ],
        &["packages/**"],
        &["packages/a", "packages/a/nested"],
    );
}

#[test]
fn negations_exclude_and_literals_need_a_manifest() {
    check(
        &["packages/a", "packages/test-utils", "tools"],
        &[
            "packages/*",
            "!packages/test-*",
            "./tools/",
            "packages/empty",
            ".",
        ],
        &["packages/a", "tools"],
    );
}

#[test]
fn a_pattern_leaving_the_root_is_an_error() {
    let tmp = tree(&[]);
    let err = expand(
        tmp.path(),
        &["../x/*".to_owned()],
        "package.json",
        Path::new("pnpm-workspace.yaml"),
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("pnpm-workspace.yaml"), "{err}");
}
