//! npm, yarn (classic and berry) and pnpm workspaces.

use super::affected_by;
use crate::support::Repo;

fn package(name: &str, deps: &str) -> String {
    format!("{{\n  \"name\": \"{name}\",\n  \"version\": \"1.0.0\"{deps}\n}}\n")
}

/// `web -dev-> ui -> tokens`, `docs -peer-> tokens`, `icons -optional-> tokens`,
/// plus an external dependency that must not become an edge.
fn workspace(root_manifest: &str, extra: &[(&str, &str)], protocol: &str) -> Repo {
    let repo = Repo::new();
    repo.write("package.json", root_manifest);
    repo.write("packages/tokens/package.json", &package("@acme/tokens", ""));
    repo.write("packages/tokens/src/colors.ts", "export const red = 1;\n");
    repo.write(
        "packages/ui/package.json",
        &package(
            "@acme/ui",
            &format!(",\n  \"dependencies\": {{\"@acme/tokens\": \"{protocol}\", \"react\": \"^18.0.0\"}}"),
        ),
    );
    repo.write("packages/ui/src/button.tsx", "export {};\n");
    repo.write(
        "packages/icons/package.json",
        &package(
            "@acme/icons",
            &format!(",\n  \"optionalDependencies\": {{\"@acme/tokens\": \"{protocol}\"}}"),
        ),
    );
    repo.write(
        "apps/web/package.json",
        &package(
            "web",
            &format!(",\n  \"devDependencies\": {{\"@acme/ui\": \"{protocol}\"}}"),
        ),
    );
    repo.write("apps/web/index.ts", "\n");
    repo.write(
        "apps/docs/package.json",
        &package(
            "docs",
            &format!(",\n  \"peerDependencies\": {{\"@acme/tokens\": \"{protocol}\"}}"),
        ),
    );
    repo.write_all(extra);
    repo.commit("base");
    repo
}

const TOKENS_CHANGE: &str = "\
@acme/icons (ECO) packages/icons: @acme/icons <- @acme/tokens <- packages/tokens/src/colors.ts
@acme/tokens (ECO) packages/tokens: @acme/tokens <- packages/tokens/src/colors.ts
@acme/ui (ECO) packages/ui: @acme/ui <- @acme/tokens <- packages/tokens/src/colors.ts
docs (ECO) apps/docs: docs <- @acme/tokens <- packages/tokens/src/colors.ts
web (ECO) apps/web: web <- @acme/ui <- @acme/tokens <- packages/tokens/src/colors.ts
";

fn check_tokens_change(repo: &Repo, ecosystem: &str) {
    let got = affected_by(
        repo,
        &[(
            "packages/tokens/src/colors.ts",
            Some("export const red = 2;\n"),
        )],
    );
    assert_eq!(got, TOKENS_CHANGE.replace("ECO", ecosystem));
    let got = affected_by(
        repo,
        &[("packages/ui/src/button.tsx", Some("export const b = 1;\n"))],
    );
    assert_eq!(
        got,
        format!(
            "@acme/ui ({ecosystem}) packages/ui: @acme/ui <- packages/ui/src/button.tsx\n\
             web ({ecosystem}) apps/web: web <- @acme/ui <- packages/ui/src/button.tsx\n"
        )
    );
}

#[test]
fn npm_workspaces_as_an_array() {
    let repo = workspace(
        "{\"name\": \"root\", \"private\": true, \"workspaces\": [\"packages/*\", \"apps/*\"]}\n",
        &[("package-lock.json", "{}\n")],
        "^1.0.0",
    );
    check_tokens_change(&repo, "npm");
}

#[test]
fn yarn_classic_workspaces_as_an_object() {
    let repo = workspace(
        "{\"private\": true, \"workspaces\": {\"packages\": [\"packages/*\", \"apps/*\"], \"nohoist\": []}}\n",
        &[("yarn.lock", "# yarn lockfile v1\n")],
        "1.0.0",
    );
    check_tokens_change(&repo, "yarn");
}

#[test]
fn yarn_berry_with_the_workspace_protocol() {
    let repo = workspace(
        "{\"private\": true, \"packageManager\": \"yarn@4.5.0\", \"workspaces\": [\"packages/*\", \"apps/*\"]}\n",
        &[(".yarnrc.yml", "nodeLinker: node-modules\n")],
        "workspace:^",
    );
    check_tokens_change(&repo, "yarn");
}

#[test]
fn pnpm_workspace_with_excludes() {
    let repo = workspace(
        "{\"private\": true}\n",
        &[
            (
                "pnpm-workspace.yaml",
                "packages:\n  - 'packages/*'\n  - apps/*\n  - '!packages/legacy-*'\n",
            ),
            (
                "packages/legacy-x/package.json",
                "{\"name\": \"legacy-x\"}\n",
            ),
        ],
        "workspace:*",
    );
    check_tokens_change(&repo, "pnpm");
    // The excluded directory is no package: a change there is the root's.
    let got = affected_by(&repo, &[("packages/legacy-x/index.js", Some("\n"))]);
    assert_eq!(got, "unowned: [\"packages/legacy-x/index.js\"]\n");
}

#[test]
fn ignore_globs_keep_docs_from_affecting_everything() {
    let repo = workspace(
        "{\"private\": true, \"workspaces\": [\"packages/*\", \"apps/*\"]}\n",
        &[],
        "*",
    );
    repo.write("docs/guide.md", "changed\n");
    repo.write("apps/web/README.md", "changed\n");
    repo.commit("docs");
    let out = repo
        .ci_matrix()
        .args([
            "--base", "HEAD~1", "--ignore", "**/*.md", "--format", "list",
        ])
        .success();
    assert_eq!(out, "");
}
