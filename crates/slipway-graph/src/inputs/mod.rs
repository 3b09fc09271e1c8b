//! Shared inputs read precisely: lockfiles and root manifests.
//!
//! A change to `Cargo.lock` or `pnpm-lock.yaml` lies in no package, so by
//! the ownership rule it would affect everything. Comparing the file's two
//! versions tells which workspace packages' resolved dependencies actually
//! changed; only those (and their dependents) are affected. Everything here
//! is a pure function of the two texts and the graph: the caller reads them.

mod bun_lock;
mod cargo_lock;
mod catalog;
mod dotnet_packages;
mod go_sum;
mod gradle;
mod lock_graph;
mod maven_root;
mod nested;
mod npm_lock;
mod pnpm_lock;
mod pnpm_scan;
mod root_manifest;
#[cfg(test)]
mod testing;
mod uv_lock;
mod yarn_lock;

pub use nested::nested_inputs;

use crate::affected::ChangedPath;
use crate::affected::Resolution;
use crate::graph::{KeyedInput, PackageGraph};
use crate::model::{Ecosystem, PackageId};

/// A root-level file whose changes are read precisely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SharedInput {
    CargoLock,
    PnpmLock,
    NpmLock,
    YarnLock,
    GoWorkSum,
    UvLock,
    BunLock,
    /// Bun's binary lockfile: it cannot be compared.
    BunLockb,
    /// `pnpm-workspace.yaml`: its catalogs are read precisely.
    PnpmWorkspace,
    /// The root `Cargo.toml` of a workspace.
    CargoRoot,
    /// The root `package.json` of an npm, yarn or pnpm workspace.
    PackageJsonRoot,
    /// The root `pyproject.toml` of a uv workspace whose root is virtual.
    PyprojectRoot,
    /// The root `pom.xml` of a Maven build when it is an aggregator.
    MavenRoot,
    /// A Gradle version catalog, by its index among the graph's keyed
    /// inputs ([`PackageGraph::keyed_input`]).
    GradleCatalog(u16),
    /// A Gradle build's settings file, likewise.
    GradleSettings(u16),
    /// The build script of a Gradle root that is no project, likewise.
    GradleRootScript(u16),
    /// A `Directory.Packages.props`, likewise.
    DotnetPackages(u16),
}

impl SharedInput {
    /// The shared input at `path`, if the graph has the ecosystem it
    /// belongs to. Only root-level files qualify: a lockfile inside a
    /// package belongs to that package.
    #[must_use]
    pub fn at(graph: &PackageGraph, path: &str) -> Option<SharedInput> {
        if let Some((index, kind)) = graph.keyed_input(path) {
            return Some(match kind {
                KeyedInput::GradleCatalog => SharedInput::GradleCatalog(index),
                KeyedInput::GradleSettings => SharedInput::GradleSettings(index),
                KeyedInput::GradleRootScript => SharedInput::GradleRootScript(index),
                KeyedInput::DotnetPackages => SharedInput::DotnetPackages(index),
            });
        }
        // Read precisely only where its ecosystem's table declares it and
        // the graph has that ecosystem.
        let declared = crate::ecosystems::ECOSYSTEMS.iter().any(|e| {
            e.precise.contains(&path)
                && graph
                    .packages()
                    .iter()
                    .any(|p| e.ecosystems.contains(&p.ecosystem))
        });
        if !declared {
            return None;
        }
        let input = match path {
            "Cargo.lock" => SharedInput::CargoLock,
            "Cargo.toml" => SharedInput::CargoRoot,
            "pnpm-lock.yaml" => SharedInput::PnpmLock,
            "package-lock.json" => SharedInput::NpmLock,
            "yarn.lock" => SharedInput::YarnLock,
            "package.json"
                if graph.package_at(".", Ecosystem::Npm).is_none() || graph.root_is_shared() =>
            {
                SharedInput::PackageJsonRoot
            }
            "go.work.sum" => SharedInput::GoWorkSum,
            "uv.lock" => SharedInput::UvLock,
            "bun.lock" => SharedInput::BunLock,
            "bun.lockb" => SharedInput::BunLockb,
            "pnpm-workspace.yaml" => SharedInput::PnpmWorkspace,
            "pyproject.toml" if graph.package_at(".", Ecosystem::Python).is_none() => {
                SharedInput::PyprojectRoot
            }
            "pom.xml" if graph.package_at(".", Ecosystem::Maven).is_none() => {
                SharedInput::MavenRoot
            }
            _ => return None,
        };
        Some(input)
    }

    #[must_use]
    pub fn file_name(self) -> &'static str {
        match self {
            SharedInput::CargoLock => "Cargo.lock",
            SharedInput::PnpmLock => "pnpm-lock.yaml",
            SharedInput::NpmLock => "package-lock.json",
            SharedInput::YarnLock => "yarn.lock",
            SharedInput::GoWorkSum => "go.work.sum",
            SharedInput::UvLock => "uv.lock",
            SharedInput::BunLock => "bun.lock",
            SharedInput::BunLockb => "bun.lockb",
            SharedInput::PnpmWorkspace => "pnpm-workspace.yaml",
            SharedInput::PyprojectRoot => "pyproject.toml",
            SharedInput::CargoRoot => "Cargo.toml",
            SharedInput::PackageJsonRoot => "package.json",
            SharedInput::MavenRoot => "pom.xml",
            SharedInput::GradleCatalog(_) => "libs.versions.toml",
            SharedInput::GradleSettings(_) => "settings.gradle.kts",
            SharedInput::GradleRootScript(_) => "build.gradle.kts",
            SharedInput::DotnetPackages(_) => "Directory.Packages.props",
        }
    }

    fn is_lockfile(self) -> bool {
        !matches!(
            self,
            SharedInput::CargoRoot
                | SharedInput::PackageJsonRoot
                | SharedInput::PyprojectRoot
                | SharedInput::PnpmWorkspace
                | SharedInput::MavenRoot
                | SharedInput::GradleCatalog(_)
                | SharedInput::GradleSettings(_)
                | SharedInput::GradleRootScript(_)
                | SharedInput::DotnetPackages(_)
        )
    }
}

/// What a change to a shared input affects, and what is worth a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputDiff {
    pub resolution: Resolution,
    pub warnings: Vec<String>,
}

impl InputDiff {
    /// These packages, each once (the first detail by sort order), sorted,
    /// without warnings.
    fn precise(mut packages: Vec<(PackageId, String)>) -> InputDiff {
        packages.sort();
        packages.dedup_by(|a, b| a.0 == b.0);
        InputDiff {
            resolution: Resolution::packages(packages),
            warnings: Vec::new(),
        }
    }
}

/// Every package of `ecosystem`, each for `why`.
pub(crate) fn every(graph: &PackageGraph, ecosystem: Ecosystem, why: &str) -> Resolution {
    Resolution::packages(
        graph
            .ids()
            .filter(|&id| graph.package(id).ecosystem == ecosystem)
            .map(|id| (id, why.to_owned()))
            .collect(),
    )
}

/// Compares two versions of a shared input (`None`: the file does not exist
/// at that revision) and tells which packages the change concerns. A file
/// that cannot be parsed affects everything, with the reason and a warning.
#[must_use]
pub fn diff_input(
    graph: &PackageGraph,
    input: SharedInput,
    base: Option<&str>,
    head: Option<&str>,
) -> InputDiff {
    let name = input.file_name();
    let result = match input {
        SharedInput::CargoRoot => return root_manifest::cargo(graph, base, head),
        SharedInput::PackageJsonRoot => return root_manifest::package_json(graph, base, head),
        SharedInput::PyprojectRoot => return root_manifest::pyproject(graph, base, head),
        SharedInput::PnpmWorkspace => return catalog::pnpm_workspace(graph, base, head),
        SharedInput::MavenRoot => return maven_root::compare(graph, base, head),
        SharedInput::GradleCatalog(i)
        | SharedInput::GradleSettings(i)
        | SharedInput::GradleRootScript(i)
        | SharedInput::DotnetPackages(i) => {
            let Some(path) = graph.keyed_path(i) else {
                return InputDiff {
                    resolution: Resolution::Everything(format!("{name} is not in this graph")),
                    warnings: Vec::new(),
                };
            };
            return match input {
                SharedInput::GradleCatalog(_) => gradle::catalog(graph, path, base, head),
                SharedInput::GradleSettings(_) => gradle::settings(graph, path, base, head),
                SharedInput::GradleRootScript(_) => gradle::root_script(graph, path, base, head),
                _ => dotnet_packages::compare(graph, path, base, head),
            };
        }
        SharedInput::BunLockb if base == head => {
            return InputDiff {
                resolution: Resolution::packages(Vec::new()),
                warnings: Vec::new(),
            };
        }
        SharedInput::BunLockb => {
            return InputDiff {
                resolution: Resolution::Everything(
                    "bun.lockb is a binary lockfile and cannot be compared, so every package is affected"
                        .to_owned(),
                ),
                warnings: Vec::new(),
            };
        }
        SharedInput::CargoLock => lock_graph::compare(graph, base, head, cargo_lock::parse),
        SharedInput::PnpmLock => pnpm_lock::compare(graph, base, head),
        SharedInput::NpmLock => lock_graph::compare(graph, base, head, npm_lock::parse),
        SharedInput::YarnLock => lock_graph::compare(graph, base, head, yarn_lock::parse),
        SharedInput::GoWorkSum => go_sum::compare(graph, base.unwrap_or(""), head.unwrap_or("")),
        SharedInput::UvLock => lock_graph::compare(graph, base, head, uv_lock::parse),
        SharedInput::BunLock => lock_graph::compare(graph, base, head, bun_lock::parse),
    };
    debug_assert!(input.is_lockfile());
    match result {
        Ok(diff) => diff,
        Err(err) => {
            let why = format!("{name} could not be parsed ({err}), so every package is affected");
            InputDiff {
                resolution: Resolution::Everything(why.clone()),
                warnings: vec![why],
            }
        }
    }
}

/// For each changed path in a build input of an ecosystem (Gradle's
/// `buildSrc/`, wrapper, `gradle.properties`; see
/// [`crate::GraphBuilder::add_build_input`]), the resolution that affects
/// every package of that ecosystem, keyed by the changed path.
#[must_use]
pub fn build_inputs(graph: &PackageGraph, changed: &[ChangedPath]) -> Vec<(String, Resolution)> {
    changed
        .iter()
        .filter_map(|change| {
            let (why, ecosystem) = graph.build_input(&change.path)?;
            Some((change.path.clone(), every(graph, ecosystem, why)))
        })
        .collect()
}
