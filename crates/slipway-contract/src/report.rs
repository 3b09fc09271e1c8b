//! `ci-matrix --format json`: what is affected, and why.

use serde::{Deserialize, Serialize};

use crate::graph::Ecosystem;

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

/// Where the list of changes came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum BaseSource {
    /// `--base`.
    Explicit,
    /// `--changed-files`.
    ChangedFiles,
    /// A pull request: its merge base with the base branch.
    PrMergeBase,
    /// A push: the commit before it.
    PushBefore,
    /// A push whose `before` is unknown (a new branch): the merge base
    /// with the default branch.
    DefaultBranchMergeBase,
    /// A merge queue's group.
    MergeGroup,
    /// Unknown: every package is affected (`fallback_reason`).
    None,
}

impl BaseSource {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            BaseSource::Explicit => "explicit",
            BaseSource::ChangedFiles => "changed-files",
            BaseSource::PrMergeBase => "pr-merge-base",
            BaseSource::PushBefore => "push-before",
            BaseSource::DefaultBranchMergeBase => "default-branch-merge-base",
            BaseSource::MergeGroup => "merge-group",
            BaseSource::None => "none",
        }
    }
}

impl Reason {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Changed => "changed",
            Reason::Dependency => "dependency",
            Reason::Input => "input",
            Reason::Root => "root",
            Reason::Global => "global",
            Reason::Fallback => "fallback",
        }
    }
}

impl UnownedRule {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            UnownedRule::Root => "root",
            UnownedRule::All => "all",
        }
    }
}

impl RootDependenciesRule {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            RootDependenciesRule::All => "all",
            RootDependenciesRule::Ignore => "ignore",
        }
    }
}

display_as_str!(BaseSource, Reason, UnownedRule, RootDependenciesRule);

/// Why a package or task is affected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Reason {
    /// A changed file is under it (a task: matches its inputs).
    Changed,
    /// Through a dependency (a task: the same task of a dependency, or a
    /// dependency's input).
    Dependency,
    /// A lockfile or root manifest, read precisely, changed what it uses.
    Input,
    /// Through the workspace root.
    Root,
    /// A global trigger.
    Global,
    /// What changed is unknown.
    Fallback,
}

/// What changed paths in no package do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum UnownedRule {
    /// They belong to the root and affect nothing.
    Root,
    /// They affect every package.
    All,
}

/// What a change to the root's own dependencies does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum RootDependenciesRule {
    /// Every package is affected.
    All,
    /// Nothing is.
    Ignore,
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
