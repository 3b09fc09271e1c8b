//! `ci-matrix graph --format json`: every package and its dependencies.

use serde::{Deserialize, Serialize};

/// The version of [`GraphDocument`].
pub const GRAPH_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GraphDocument {
    /// [`GRAPH_VERSION`].
    pub version: u32,
    pub packages: Vec<GraphPackage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GraphPackage {
    pub id: String,
    pub name: String,
    pub path: String,
    pub ecosystem: Ecosystem,
    pub dependencies: Vec<GraphEdge>,
    /// What discovery assumed about the package.
    pub assumed: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GraphEdge {
    pub package: String,
    pub kind: DepKind,
}

/// The tool or format a package was discovered from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    Maven,
    Gradle,
    /// `.csproj`, `.fsproj`, `.vbproj`.
    Dotnet,
    /// A hand-kept `dep-graph.json`.
    Graph,
}

/// How a package depends on another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum DepKind {
    Normal,
    Dev,
    Build,
    Peer,
    Optional,
    /// A Go `replace` with a local directory.
    Replace,
    /// A workspace source (uv, Poetry `path`).
    Source,
    /// A Maven `<parent>`.
    Parent,
    /// Declared in a hand-kept graph.
    Declared,
    /// Declared in the configuration or an Nx `implicitDependencies`.
    Implicit,
    /// An `import`, `require` or `export … from` in the dependent's source.
    Import,
    /// Used only by the dependent's tests.
    Test,
    /// A reference discovery could not resolve, taken as a dependency on
    /// every package of the ecosystem.
    Assumed,
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
}

impl DepKind {
    /// The kind as people read it: `dev`, `replace`, `workspace source`.
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
}

display_as_str!(Ecosystem);
