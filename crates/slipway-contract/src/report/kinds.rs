//! The report's kinds: where changes came from, why a package is
//! affected, and the two root rules.

use serde::{Deserialize, Serialize};

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
