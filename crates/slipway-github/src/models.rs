//! GitHub's answers, as far as Slipway reads them.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// A registration or removal token.
#[derive(Debug, Clone, Deserialize)]
pub struct RunnerToken {
    pub token: String,
    pub expires_at: DateTime<FixedOffset>,
}

/// What to register a JIT runner as.
#[derive(Debug, Clone, Serialize)]
pub struct JitRequest {
    pub name: String,
    pub runner_group_id: u64,
    pub labels: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_folder: Option<String>,
}

/// A runner with its single-use configuration.
#[derive(Debug, Clone, Deserialize)]
pub struct JitConfig {
    pub runner: Runner,
    pub encoded_jit_config: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct Runner {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub busy: bool,
    #[serde(default)]
    pub labels: Vec<RunnerLabel>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct RunnerLabel {
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RunnerGroup {
    pub id: u64,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct WorkflowRun {
    pub id: u64,
    pub status: Option<String>,
    pub conclusion: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Job {
    pub id: u64,
    pub run_id: u64,
    /// Which attempt of the run (1 for the first; a re-run is the next).
    #[serde(default)]
    pub run_attempt: Option<u32>,
    #[serde(default)]
    pub name: String,
    pub status: String,
    pub conclusion: Option<String>,
    #[serde(default)]
    pub labels: Vec<String>,
    pub runner_name: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct RunnerPage {
    pub(crate) total_count: u64,
    pub(crate) runners: Vec<Runner>,
}

#[derive(Deserialize)]
pub(crate) struct RunPage {
    pub(crate) total_count: u64,
    pub(crate) workflow_runs: Vec<WorkflowRun>,
}

#[derive(Deserialize)]
pub(crate) struct JobPage {
    pub(crate) total_count: u64,
    pub(crate) jobs: Vec<Job>,
}

#[derive(Deserialize)]
pub(crate) struct Installation {
    pub(crate) id: u64,
}
