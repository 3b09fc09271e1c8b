//! A Cargo workspace and a pnpm workspace side by side.

use super::affected_by;
use crate::support::Repo;

#[test]
fn one_graph_with_equal_names_told_apart() {
    let repo = Repo::with_files(&[
        ("Cargo.toml", "[workspace]\nmembers = [\"rust/*\"]\n"),
        (
            "rust/core/Cargo.toml",
            "[package]\nname = \"core\"\nversion = \"0.1.0\"\n",
        ),
        ("rust/core/src/lib.rs", ""),
        (
            "rust/wasm/Cargo.toml",
            "[package]\nname = \"wasm\"\nversion = \"0.1.0\"\n[dependencies]\ncore = { path = \"../core\" }\n",
        ),
        ("package.json", "{\"private\": true}\n"),
        ("pnpm-workspace.yaml", "packages: [\"web/*\"]\n"),
        ("web/core/package.json", "{\"name\": \"core\"}\n"),
        ("web/core/index.ts", ""),
        (
            "web/app/package.json",
            "{\"name\": \"app\", \"dependencies\": {\"core\": \"workspace:*\"}}\n",
        ),
    ]);
    let got = affected_by(&repo, &[("rust/core/src/lib.rs", Some("// x\n"))]);
    assert_eq!(
        got,
        "cargo:core (cargo) rust/core: cargo:core <- rust/core/src/lib.rs\n\
         wasm (cargo) rust/wasm: wasm <- cargo:core <- rust/core/src/lib.rs\n"
    );
    let got = affected_by(&repo, &[("web/core/index.ts", Some("// x\n"))]);
    assert_eq!(
        got,
        "app (pnpm) web/app: app <- pnpm:core <- web/core/index.ts\n\
         pnpm:core (pnpm) web/core: pnpm:core <- web/core/index.ts\n"
    );
    let matrix = repo
        .ci_matrix()
        .args([
            "--changed-files",
            "[\"rust/core/src/lib.rs\", \"web/app/x.ts\"]",
        ])
        .success();
    assert_eq!(
        matrix,
        "{\"include\":[{\"package\":\"app\",\"path\":\"web/app\"},{\"package\":\"cargo:core\",\"path\":\"rust/core\"},{\"package\":\"wasm\",\"path\":\"rust/wasm\"}]}\n"
    );
}
