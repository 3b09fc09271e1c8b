use std::fmt;

use serde::{Deserialize, Serialize};

/// The tool or format a package was discovered from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    Cargo,
    Npm,
    Yarn,
    Pnpm,
    Bun,
    Go,
    /// uv workspaces, PEP 621 and Poetry projects.
    Python,
    /// Maven modules, read from their POMs.
    Maven,
    /// Gradle projects, read from settings and build scripts as text.
    Gradle,
    /// .NET projects (`.csproj`, `.fsproj`, `.vbproj`).
    Dotnet,
    /// A hand-kept `dep-graph.json`.
    Graph,
}

impl Ecosystem {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Ecosystem::Cargo => "cargo",
            Ecosystem::Npm => "npm",
            Ecosystem::Yarn => "yarn",
            Ecosystem::Pnpm => "pnpm",
            Ecosystem::Bun => "bun",
            Ecosystem::Go => "go",
            Ecosystem::Python => "python",
            Ecosystem::Maven => "maven",
            Ecosystem::Gradle => "gradle",
            Ecosystem::Dotnet => "dotnet",
            Ecosystem::Graph => "graph",
        }
    }

    /// npm, yarn, pnpm and Bun share one namespace (the npm registry's), so a
    /// name clash among them is a real duplicate, not two ecosystems.
    pub(crate) fn namespace(self) -> &'static str {
        match self {
            Ecosystem::Npm | Ecosystem::Yarn | Ecosystem::Pnpm | Ecosystem::Bun => "node",
            other => other.as_str(),
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How one package depends on another. Every kind makes the dependent
/// affected when the dependency is; every kind but [`DepKind::Test`] carries
/// that on to the dependent's own dependents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DepKind {
    Normal,
    Dev,
    Build,
    Peer,
    Optional,
    /// A Go `replace` with a local directory.
    Replace,
    /// A workspace source: a uv `{ workspace = true }` or `path` source, a
    /// Poetry `path` dependency.
    Source,
    /// A Maven `<parent>`: the child inherits the parent POM.
    Parent,
    /// Declared in a hand-kept graph, which has no kinds.
    Declared,
    /// Declared in ci-matrix's configuration (`implicit-dependencies`) or
    /// an Nx `project.json` (`implicitDependencies`).
    Implicit,
    /// Found in the dependent's source: an `import`, `require` or
    /// `export … from` resolving into the dependency (the graph keeps the
    /// file and line, see [`crate::PackageGraph::edge_detail`]).
    Import,
    /// Used only by the dependent's tests, which cannot reach its built
    /// output (Cargo `dev-dependencies`, Maven `test` scope, Gradle test
    /// configurations and source sets, Python dependency groups): the
    /// dependent's tests run, its own dependents are not affected through
    /// it, and a cycle made only of such edges is no cycle. npm-family
    /// `devDependencies` are [`DepKind::Dev`] instead: a bundler can put
    /// them into the build output.
    Test,
    /// A reference discovery could not resolve, taken as a dependency on
    /// every package of the ecosystem so nothing is missed (the package's
    /// notes say why).
    Assumed,
}

impl DepKind {
    /// The kind as `--explain` names it: `dev`, `replace`, `workspace source`.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            DepKind::Normal => "normal",
            DepKind::Dev => "dev",
            DepKind::Build => "build",
            DepKind::Peer => "peer",
            DepKind::Optional => "optional",
            DepKind::Replace => "replace",
            DepKind::Source => "workspace source",
            DepKind::Parent => "parent",
            DepKind::Declared => "declared",
            DepKind::Implicit => "implicit",
            DepKind::Import => "import",
            DepKind::Test => "test-only",
            DepKind::Assumed => "assumed",
        }
    }

    /// Whether a package affected through an edge of this kind makes its
    /// own dependents affected too.
    #[must_use]
    pub fn is_transitive(self) -> bool {
        self != DepKind::Test
    }
}

/// One package of the repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Package {
    /// Unique within the graph: the package's own name, or
    /// `<ecosystem>:<name>` when two ecosystems use the same name.
    pub id: String,
    /// The name its own manifest gives it.
    pub name: String,
    /// Directory relative to the repository root, `/`-separated, `.` for the root.
    pub path: String,
    pub ecosystem: Ecosystem,
}

/// Index of a package in a [`crate::PackageGraph`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PackageId(pub(crate) u32);

impl PackageId {
    #[must_use]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}
