//! `ci-matrix`'s matrix: what `strategy.matrix` takes.

use serde::{Deserialize, Serialize};

/// `{"include":[…]}`. Entries are one job each ([`MatrixEntry`]), or
/// shards of several ([`ShardEntry`]) when more jobs are affected than
/// `--max-jobs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Matrix<E> {
    pub include: Vec<E>,
}

/// One package, or one task of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MatrixEntry {
    pub package: String,
    pub path: String,
    /// With `--tasks`, the task to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
}

/// Several jobs in one, when there are more than `--max-jobs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ShardEntry {
    /// From 1.
    pub shard: usize,
    pub packages: Vec<String>,
    pub paths: Vec<String>,
    /// With `--tasks`, each entry's task: `packages[i]` runs `tasks[i]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks: Option<Vec<String>>,
    /// The shard's total weight, when packed by weights (`--timings`,
    /// `weight` in the configuration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
}
