//! `ci-matrix --format json`: what is affected, and why.

use serde::{Deserialize, Serialize};

use crate::graph::Ecosystem;

mod kinds;
pub use kinds::{BaseSource, Reason, RootDependenciesRule, UnownedRule};

/// The version of [`Report`].
pub const REPORT_VERSION: u32 = 1;

/// The report: the change's source, every affected package with the chain
/// of edges that reached it, and what discovery could not read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Report {
    /// [`REPORT_VERSION`].
    pub version: u32,
    pub base_source: BaseSource,
    pub base_sha: Option<String>,
    pub head_sha: Option<String>,
    /// Set when every package is affected because what changed is unknown.
    pub fallback_reason: Option<String>,
    pub packages_total: usize,
    /// With `--tasks`, the tasks asked for, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks: Option<Vec<String>>,
    pub affected: Vec<AffectedPackage>,
    pub global_triggers: Vec<GlobalTrigger>,
    pub removed: Vec<RemovedPackage>,
    pub ignored: Vec<String>,
    /// Changed paths in no package. Under `unowned_rule` `root` they
    /// belong to the root and affect nothing; under `all` they are global
    /// triggers instead and this is empty.
    pub unowned: Vec<String>,
    pub unowned_rule: UnownedRule,
    /// Changes to the root's own dependencies. Under
    /// `root_dependencies_rule` `all` they affect every package (reason
    /// `root`); under `ignore`, nothing.
    pub root_changes: Vec<RootChange>,
    pub root_dependencies_rule: RootDependenciesRule,
    pub cycles: Vec<Vec<String>>,
    /// What discovery could not read and assumed instead, per package (a
    /// reference it could not resolve is taken as a dependency on every
    /// package of the ecosystem). Every package's, affected or not.
    pub assumptions: Vec<Assumption>,
}

/// What discovery assumed about one package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Assumption {
    pub package: String,
    /// One sentence each: what could not be read, and what was assumed.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RootChange {
    pub path: String,
    /// `devDependencies vitest ^3.1.0 -> ^3.2.0`.
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AffectedPackage {
    pub package: String,
    pub name: String,
    pub path: String,
    pub ecosystem: Ecosystem,
    pub reason: Reason,
    /// From the package back to the change: `["web", "ui", "packages/ui/x.ts"]`;
    /// `"(root)"` stands for the workspace root.
    pub chain: Vec<String>,
    /// The chain as text: `web <- ui <- packages/ui/x.ts`.
    pub because: String,
    /// Changed files under the package itself.
    pub changed_files: Vec<String>,
    /// With `--tasks`, the package's affected tasks, in the order asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks: Option<Vec<AffectedTask>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AffectedTask {
    pub task: String,
    pub reason: Reason,
    /// `web#build <- ui#build <- packages/ui/src/x.ts`.
    pub because: String,
    /// The package's changed files that match the task's inputs.
    pub changed_files: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GlobalTrigger {
    pub path: String,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RemovedPackage {
    pub path: String,
    /// The name from the base revision's manifest, when it can be read.
    pub name: Option<String>,
    pub files: Vec<String>,
}
