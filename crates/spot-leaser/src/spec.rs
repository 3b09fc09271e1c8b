//! What each subcommand does, as plain values: the domain modules take
//! these, never the command line's types (`cli/` converts its arguments
//! into them once, and `serve` builds them for itself). Every default a
//! subcommand and `serve` share is a constant here, written once.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use slipway_github::Scope;

use crate::output::RunnerMode;
use crate::scale::ScaleRule;

/// How far back price history is weighed.
pub const DEFAULT_WINDOW: &str = "7d";
/// Minutes a job runs on the instance.
pub const DEFAULT_JOB_MINUTES: f64 = 30.0;
/// Minutes from launch to a runner taking a job.
pub const DEFAULT_BOOT_MINUTES: f64 = 3.0;
/// How long launched instances may live.
pub const DEFAULT_TTL: &str = "2h";
/// How long a warm instance may wait, stopped.
pub const WARM_TTL: &str = "7d";
/// Runners are named `<prefix>-<instance id>`.
pub const DEFAULT_RUNNER_PREFIX: &str = "slipway";
/// Where each instance's runner configuration is put in SSM.
pub const DEFAULT_PARAMETER_PREFIX: &str = "/slipway/runners/";
/// The runner group (1 is an organisation's default group).
pub const DEFAULT_RUNNER_GROUP: u64 = 1;
/// GitHub writes a minute (its secondary limit is about 180).
pub const DEFAULT_GITHUB_WRITES_PER_MINUTE: NonZeroU32 = NonZeroU32::new(180).expect("non-zero");
/// GitHub requests in flight at once.
pub const DEFAULT_GITHUB_MAX_IN_FLIGHT: u16 = 8;
/// The environment variable holding the GitHub token.
pub const DEFAULT_GITHUB_TOKEN_ENV: &str = "GITHUB_TOKEN";

/// `plan`: which pools, from what history, judged how.
#[derive(Debug, Clone)]
pub struct PlanSpec {
    pub region: String,
    pub instance_types: Vec<String>,
    /// Price history from this file instead of EC2.
    pub price_history: Option<PathBuf>,
    pub window: String,
    /// The end of the window, RFC 3339 (now when none).
    pub at: Option<String>,
    pub job_minutes: f64,
    pub boot_minutes: f64,
    pub max_price: Option<f64>,
    pub max_interruption: Option<u8>,
    pub min_placement_score: Option<u8>,
    pub advisor: Option<PathBuf>,
    pub on_demand: Option<PathBuf>,
}

impl PlanSpec {
    /// A plan of `instance_types` in `region` with every default.
    #[must_use]
    pub fn new(region: &str, instance_types: Vec<String>) -> Self {
        Self {
            region: region.to_owned(),
            instance_types,
            price_history: None,
            window: DEFAULT_WINDOW.to_owned(),
            at: None,
            job_minutes: DEFAULT_JOB_MINUTES,
            boot_minutes: DEFAULT_BOOT_MINUTES,
            max_price: None,
            max_interruption: None,
            min_placement_score: None,
            advisor: None,
            on_demand: None,
        }
    }
}

/// `launch`: how many instances of the plan's best pools, from what.
#[derive(Debug, Clone)]
pub struct LaunchSpec {
    pub plan: PlanSpec,
    pub count: i32,
    /// The AMI (a launch template is made for the request), or …
    pub image_id: Option<String>,
    /// … an existing launch template.
    pub launch_template: Option<String>,
    pub subnet_ids: Vec<String>,
    pub user_data: Option<PathBuf>,
    /// The CI run these instances belong to (a new id when none).
    pub run_id: Option<String>,
    pub ttl: String,
    pub on_demand_fallback: bool,
    pub on_demand_only: bool,
    /// The fleet request's idempotency token (a new one when none).
    pub client_token: Option<String>,
    /// Tags every instance carries beyond the run's own.
    pub extra_tags: Vec<(String, String)>,
    pub dry_run: bool,
    pub iam_instance_profile: Option<String>,
}

impl LaunchSpec {
    /// `count` instances of `plan`'s pools from `launch_template`, with
    /// every default.
    #[must_use]
    pub fn from_template(plan: PlanSpec, count: i32, launch_template: &str) -> Self {
        Self {
            launch_template: Some(launch_template.to_owned()),
            ..Self::base(plan, count)
        }
    }

    /// `count` instances of `plan`'s pools from the AMI `image_id` (a
    /// launch template is made for the request), with every default.
    #[must_use]
    pub fn from_image(plan: PlanSpec, count: i32, image_id: &str) -> Self {
        Self {
            image_id: Some(image_id.to_owned()),
            ..Self::base(plan, count)
        }
    }

    fn base(plan: PlanSpec, count: i32) -> Self {
        Self {
            plan,
            count,
            image_id: None,
            launch_template: None,
            subnet_ids: Vec::new(),
            user_data: None,
            run_id: None,
            ttl: DEFAULT_TTL.to_owned(),
            on_demand_fallback: false,
            on_demand_only: false,
            client_token: None,
            extra_tags: Vec::new(),
            dry_run: false,
            iam_instance_profile: None,
        }
    }
}

/// What `launch` does around the launch itself: scale rules, and the
/// runners the instances become.
#[derive(Debug, Clone)]
pub struct LaunchCommandSpec {
    pub launch: LaunchSpec,
    pub scale_rules: Vec<ScaleRule>,
    /// The queue depth the scale rules see (counted from GitHub when none).
    pub queue_depth: Option<usize>,
    /// Arguments for `spot-leaser watch` in the boot script.
    pub watch_args: String,
    /// Register each instance as a runner here, when given.
    pub github: Option<Scope>,
    pub api: ApiSpec,
    pub runner: RunnerSpec,
}

/// The GitHub runners instances become.
#[derive(Debug, Clone)]
pub struct RunnerSpec {
    /// Labels beyond `self-hosted`, `linux`, the architecture and the size.
    pub runner_labels: Vec<String>,
    pub runner_group: u64,
    pub runner_mode: RunnerMode,
    pub runner_prefix: String,
    pub parameter_prefix: String,
}

impl Default for RunnerSpec {
    fn default() -> Self {
        Self {
            runner_labels: Vec::new(),
            runner_group: DEFAULT_RUNNER_GROUP,
            runner_mode: RunnerMode::Jit,
            runner_prefix: DEFAULT_RUNNER_PREFIX.to_owned(),
            parameter_prefix: DEFAULT_PARAMETER_PREFIX.to_owned(),
        }
    }
}

/// How to reach and authenticate to GitHub, and how fast to go.
#[derive(Debug, Clone)]
pub struct ApiSpec {
    pub github_api_url: String,
    /// The environment variable holding the token (unless an App is given).
    pub github_token_env: String,
    /// A GitHub App's id and private key file.
    pub github_app: Option<(u64, PathBuf)>,
    pub github_app_installation_id: Option<u64>,
    pub github_writes_per_minute: NonZeroU32,
    pub github_max_in_flight: u16,
}

impl Default for ApiSpec {
    fn default() -> Self {
        Self {
            github_api_url: slipway_github::PUBLIC_API_URL.to_owned(),
            github_token_env: DEFAULT_GITHUB_TOKEN_ENV.to_owned(),
            github_app: None,
            github_app_installation_id: None,
            github_writes_per_minute: DEFAULT_GITHUB_WRITES_PER_MINUTE,
            github_max_in_flight: DEFAULT_GITHUB_MAX_IN_FLIGHT,
        }
    }
}

/// `reap`.
#[derive(Debug, Clone)]
pub struct ReapSpec {
    pub region: String,
    pub run_id: Option<String>,
    pub expired: bool,
    pub dry_run: bool,
    pub register_timeout: Option<Duration>,
    pub runner_prefix: String,
    pub github: Option<Scope>,
    pub api: ApiSpec,
}

/// `cost`: these instances, or a run's.
#[derive(Debug, Clone)]
pub struct CostSpec {
    pub region: String,
    pub instance_ids: Vec<String>,
    pub run_id: Option<String>,
    pub on_demand: Option<PathBuf>,
}

/// `queue`.
#[derive(Debug, Clone)]
pub struct QueueSpec {
    pub github: Option<Scope>,
    pub api: ApiSpec,
    pub labels: Vec<String>,
    /// `workflow_job` payloads from this file (`-`: stdin) instead of GitHub.
    pub webhooks: Option<PathBuf>,
}

/// `watch`.
#[derive(Debug, Clone)]
pub struct WatchSpec {
    pub imds_url: String,
    pub interval: Duration,
    pub timeout: Option<Duration>,
    pub runner_name: Option<String>,
    pub runner_prefix: String,
    pub rerun: bool,
    pub metrics_file: Option<PathBuf>,
    pub github: Option<Scope>,
    pub api: ApiSpec,
}

/// `rerun`.
#[derive(Debug, Clone)]
pub struct RerunSpec {
    pub github: Option<Scope>,
    pub api: ApiSpec,
    pub region: String,
    pub run_id: u64,
    pub wait: Duration,
    pub dry_run: bool,
    pub runner_prefix: String,
}

/// `serve`.
#[derive(Debug, Clone)]
pub struct ServeSpec {
    pub region: String,
    pub config: PathBuf,
    pub listen: String,
    pub webhook_secret_file: PathBuf,
    pub reconcile_every: Duration,
    pub register_timeout: Duration,
    pub idle_timeout: Duration,
    pub breaker: u32,
    pub breaker_window: Duration,
    pub breaker_cooldown: Duration,
    pub launch_lock_timeout: Duration,
    pub pause_parameter: String,
    pub watch_args: String,
    /// The runners' scope.
    pub github: Scope,
    pub api: ApiSpec,
    pub runner: RunnerSpec,
}
