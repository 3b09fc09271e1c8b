//! `spot-leaser`'s outputs: the JSON of every subcommand. Each top-level
//! output carries `version` ([`OUTPUT_VERSION`]); fields are only added
//! within a version, never renamed or removed. Kinds are enums, serialized
//! as the lower-case words the README documents.

use serde::{Deserialize, Serialize};

/// How runners register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum RunnerMode {
    /// A single-use just-in-time configuration per runner.
    Jit,
    /// One reusable registration token, `config.sh --ephemeral` on the instance.
    Token,
}

/// The version of every output below.
pub const OUTPUT_VERSION: u32 = 1;

/// `plan`: the pools, best first, with what the plan lacked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Plan {
    pub version: u32,
    pub region: String,
    pub window_hours: f64,
    pub at: String,
    pub candidates: Vec<Candidate>,
    /// What the plan could not use, and what it assumed.
    pub notes: Vec<String>,
}

/// One pool, scored: a row of `plan`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Candidate {
    pub availability_zone: String,
    pub availability_zone_id: Option<String>,
    pub instance_type: String,
    /// USD per hour, now.
    pub current_price: f64,
    /// The time-weighted mean over the window.
    pub mean_price: f64,
    pub stddev: f64,
    /// Price changes in the window.
    pub changes: usize,
    pub expected_job_cost: f64,
    /// Lower is better: the expected job cost.
    pub score: f64,
    pub eligible: bool,
    pub excluded_reason: Option<String>,
    /// The advisor's interruption bucket (`<5%` …), or `unknown`.
    pub interruption: String,
    pub on_demand_price: Option<f64>,
    pub placement_score: Option<u8>,
    /// The plain average of the price records, shown for comparison.
    pub record_average: f64,
}

/// Queued jobs with one label set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LabelDepth {
    /// The job's `runs-on` labels, lower-cased and sorted.
    pub labels: Vec<String>,
    pub queued: usize,
}

/// `launch`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Launched {
    pub version: u32,
    pub run_id: String,
    pub expires_at: String,
    pub dry_run: bool,
    pub instances: Vec<LaunchedInstance>,
    /// Pools and registrations that failed, with EC2's or GitHub's reason.
    pub failures: Vec<Failure>,
    /// The queue depth the scale rules saw and the rule that matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaled: Option<Scaled>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Scaled {
    pub queue_depth: usize,
    /// The matching rule, or none (`--instance-types` then).
    pub rule: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LaunchedInstance {
    pub instance_id: String,
    pub instance_type: String,
    pub availability_zone: String,
    pub private_ip: Option<String>,
    pub lifecycle: Lifecycle,
    /// The pool's current price when planned (on-demand: the table's),
    /// USD per hour.
    pub price: Option<f64>,
    /// The GitHub runner it was registered as, when asked to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runner: Option<RunnerInfo>,
}

/// How an instance is bought.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Lifecycle {
    Spot,
    OnDemand,
}

impl Lifecycle {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Spot => "spot",
            Lifecycle::OnDemand => "on-demand",
        }
    }
}

/// One thing that failed during a launch without failing the launch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Failure {
    pub kind: FailureKind,
    /// EC2's error code, when EC2 gave one.
    pub code: Option<String>,
    /// The pool (`c5.large us-east-1a`) or the instance it concerns.
    pub place: String,
    pub message: String,
}

/// What failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// A spot pool refused (capacity, price): the other pools were asked.
    Pool,
    /// The on-demand fallback refused.
    OnDemand,
    /// An instance launched but could not be registered: terminated.
    Registration,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.kind, &self.code) {
            (FailureKind::Registration, _) => write!(f, "{}: {}", self.place, self.message),
            (FailureKind::OnDemand, Some(code)) => {
                write!(f, "on-demand: {code}: {}", self.message)
            }
            (_, code) => write!(
                f,
                "{} in {}: {}",
                code.as_deref().unwrap_or("Unknown"),
                self.place,
                self.message
            ),
        }
    }
}

/// The runner an instance was registered as.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RunnerInfo {
    pub name: String,
    /// GitHub's id (JIT mode; a token-mode runner gets one when it starts).
    pub id: Option<u64>,
    pub labels: Vec<String>,
    pub mode: RunnerMode,
    /// The SSM parameter holding the configuration until the instance reads it.
    pub parameter: String,
}

/// `reap`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Reaped {
    pub version: u32,
    pub dry_run: bool,
    pub terminated: Vec<ReapedInstance>,
    /// GitHub runners removed because their instance is gone.
    pub removed_runners: Vec<RemovedRunner>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RemovedRunner {
    pub id: u64,
    pub name: String,
    pub instance_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReapedInstance {
    pub instance_id: String,
    pub run_id: Option<String>,
    pub expires_at: Option<String>,
    pub reason: ReapReason,
}

/// Why an instance was terminated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum ReapReason {
    /// Its run was reaped (`--run-id`).
    Run,
    /// Past its `slipway:expires-at`.
    Expired,
    /// No runner came online within `--register-timeout`.
    NeverRegistered,
}

/// `cost`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Costs {
    pub version: u32,
    pub instances: Vec<InstanceCost>,
    pub so_far: f64,
    pub projected: f64,
    pub on_demand_so_far: Option<f64>,
    /// What spot saved against on-demand so far, in percent.
    pub savings_percent: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct InstanceCost {
    pub instance_id: String,
    pub instance_type: String,
    pub availability_zone: String,
    pub lifecycle: Lifecycle,
    pub seconds: i64,
    /// EC2 interrupted it (spot): within its first hour, not charged.
    pub interrupted: bool,
    pub price: Option<f64>,
    pub so_far: f64,
    pub projected: f64,
    pub on_demand_price: Option<f64>,
}

/// `queue`: queued jobs, in all and per label set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Queue {
    pub version: u32,
    pub queued: usize,
    pub by_labels: Vec<LabelDepth>,
}

/// `rerun`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Rerun {
    pub version: u32,
    pub run_id: u64,
    /// The run's status when looked at (`completed` when jobs were re-run).
    pub status: Option<String>,
    pub dry_run: bool,
    pub jobs: Vec<RerunJob>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RerunJob {
    pub job_id: u64,
    pub name: String,
    pub runner_name: String,
    pub instance_id: String,
    pub evidence: Evidence,
}

/// How a job's runner is known to have been interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Evidence {
    /// `watch --rerun` tagged the instance.
    Recorded,
    /// EC2's state reason `Server.SpotInstanceTermination`.
    SpotTermination,
}

/// `watch`, when it stops.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Watched {
    pub version: u32,
    pub instance_id: String,
    pub polls: u64,
    pub notice: Option<Notice>,
    /// When EC2 recommended rebalancing, if it did.
    pub rebalance_recommended_at: Option<String>,
    pub runner_name: String,
    /// Whether the runner was removed from GitHub (None: not asked to).
    pub runner_removed: Option<bool>,
    /// Whether the interruption was recorded for `spot-leaser rerun`.
    pub recorded_for_rerun: bool,
}

/// An interruption notice, as the instance metadata service gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Notice {
    pub action: NoticeAction,
    pub time: String,
}

/// What EC2 will do to the instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum NoticeAction {
    Terminate,
    Stop,
    Hibernate,
}

impl NoticeAction {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeAction::Terminate => "terminate",
            NoticeAction::Stop => "stop",
            NoticeAction::Hibernate => "hibernate",
        }
    }
}

display_as_str!(Lifecycle, NoticeAction, ReapReason, Evidence);

impl ReapReason {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ReapReason::Run => "run",
            ReapReason::Expired => "expired",
            ReapReason::NeverRegistered => "never-registered",
        }
    }
}

impl Evidence {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::Recorded => "recorded",
            Evidence::SpotTermination => "spot-termination",
        }
    }
}
