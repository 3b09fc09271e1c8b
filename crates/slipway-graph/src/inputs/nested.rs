//! Workspaces rooted in a subdirectory (`discover_with_nested`): their
//! lockfiles and root manifests are not read precisely, so a change to one
//! affects every package of that workspace, and says so.

use crate::affected::{ChangedPath, Resolution};
use crate::graph::PackageGraph;
use crate::model::PackageId;

/// Every file a workspace root shares with all its packages: manifests,
/// lockfiles and workspace files of each ecosystem. [`super::SharedInput`]
/// reads a subset of them precisely at the repository root.
pub const WORKSPACE_FILES: [&str; 15] = [
    "Cargo.lock",
    "Cargo.toml",
    "package.json",
    "package-lock.json",
    "pnpm-lock.yaml",
    "pnpm-workspace.yaml",
    "yarn.lock",
    ".yarnrc.yml",
    "go.work",
    "go.work.sum",
    "pyproject.toml",
    "uv.lock",
    "bun.lock",
    "bun.lockb",
    "pom.xml",
];

/// For each changed workspace file directly in a nested workspace root
/// (`nested`, as given to `discover_with_nested`), the resolution that
/// affects every package below that root, keyed by the changed path.
#[must_use]
pub fn nested_inputs(
    graph: &PackageGraph,
    changed: &[ChangedPath],
    nested: &[String],
) -> Vec<(String, Resolution)> {
    let mut resolved = Vec::new();
    for dir in nested.iter().filter_map(|d| crate::paths::normalize(d)) {
        let below = format!("{dir}/");
        for change in changed {
            let Some((parent, file)) = change.path.rsplit_once('/') else {
                continue;
            };
            if parent != dir || !WORKSPACE_FILES.contains(&file) {
                continue;
            }
            let why = format!(
                "{} changed: a nested workspace's shared file affects all its packages",
                change.path
            );
            let packages: Vec<(PackageId, String)> = graph
                .ids()
                .filter(|&id| {
                    let path = &graph.package(id).path;
                    *path == dir || path.starts_with(&below)
                })
                .map(|id| (id, why.clone()))
                .collect();
            resolved.push((change.path.clone(), Resolution::packages(packages)));
        }
    }
    resolved
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DepKind, Ecosystem, GraphBuilder, SharedInput};

    #[test]
    fn a_nested_lockfile_affects_every_package_below_its_root_only() {
        let mut b = GraphBuilder::new();
        let web = b
            .add_package("web", "frontend/web", Ecosystem::Pnpm)
            .unwrap();
        let ui = b.add_package("ui", "frontend/ui", Ecosystem::Pnpm).unwrap();
        b.add_package("core", "core", Ecosystem::Cargo).unwrap();
        b.add_edge(web, ui, DepKind::Normal);
        let graph = b.build();
        let change = |path: &str| ChangedPath {
            path: path.into(),
            deleted: false,
        };
        let changed = [
            change("frontend/pnpm-lock.yaml"),
            change("frontend/README.md"),
            change("frontend/web/package.json"),
        ];
        let resolved = nested_inputs(&graph, &changed, &["frontend/".to_owned()]);
        assert_eq!(resolved.len(), 1, "{resolved:?}");
        let (path, Resolution::Packages { packages, .. }) = &resolved[0] else {
            panic!("{resolved:?}");
        };
        assert_eq!(path, "frontend/pnpm-lock.yaml");
        let mut ids: Vec<PackageId> = packages.iter().map(|(id, _)| *id).collect();
        ids.sort();
        let mut want = vec![web, ui];
        want.sort();
        assert_eq!(ids, want);
        assert!(nested_inputs(&graph, &changed, &[]).is_empty());
    }

    #[test]
    fn every_precisely_read_input_is_a_workspace_file() {
        for input in [
            SharedInput::CargoLock,
            SharedInput::PnpmLock,
            SharedInput::NpmLock,
            SharedInput::YarnLock,
            SharedInput::GoWorkSum,
            SharedInput::CargoRoot,
            SharedInput::PackageJsonRoot,
            SharedInput::UvLock,
            SharedInput::PyprojectRoot,
            SharedInput::BunLock,
            SharedInput::BunLockb,
            SharedInput::PnpmWorkspace,
        ] {
            assert!(WORKSPACE_FILES.contains(&input.file_name()), "{input:?}");
        }
    }
}
