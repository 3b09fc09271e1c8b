//! Workspaces rooted in a subdirectory (`discover_with_nested`): their
//! lockfiles and root manifests are not read precisely, so a change to one
//! affects every package of that workspace, and says so.

use crate::affected::{ChangedPath, Resolution};
use crate::graph::PackageGraph;
use crate::model::PackageId;

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
            if parent != dir || !crate::ecosystems::is_workspace_file(file) {
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
    use crate::{DepKind, Ecosystem, GraphBuilder};

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

    /// Gradle's settings, .NET's shared props and a Go module's file are
    /// workspace files too (they were missing from the old list, so a
    /// change to one in a nested root affected nothing).
    #[test]
    fn every_ecosystems_workspace_files_count_in_a_nested_root() {
        let mut b = GraphBuilder::new();
        b.add_package(":app", "android/app", Ecosystem::Gradle)
            .unwrap();
        b.add_package("Api", "dotnet/Api", Ecosystem::Dotnet)
            .unwrap();
        b.add_package("svc", "go/svc", Ecosystem::Go).unwrap();
        let graph = b.build();
        let nested = ["android".to_owned(), "dotnet".to_owned(), "go".to_owned()];
        for path in [
            "android/settings.gradle.kts",
            "android/gradle.properties",
            "dotnet/Directory.Packages.props",
            "dotnet/Directory.Build.props",
            "go/go.work",
            "go/go.mod",
        ] {
            let changed = [ChangedPath {
                path: path.to_owned(),
                deleted: false,
            }];
            let resolved = nested_inputs(&graph, &changed, &nested);
            let [(_, Resolution::Packages { packages, .. })] = resolved.as_slice() else {
                panic!("{path}: {resolved:?}");
            };
            assert_eq!(packages.len(), 1, "{path}");
        }
    }
}
