//! The command line: every clap type of the tool, and the conversion of
//! each subcommand's arguments into the plain spec the domain modules take
//! (`crate::spec`), done once.

mod github;
mod serve;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use slipway_cli::LogArgs;

pub use github::{ApiArgs, RunnerArgs, RunnerModeArg, ScopeArgs};
pub use serve::ServeArgs;

use crate::Result;
use crate::scale::ScaleRule;
use crate::spec::{
    self, CostSpec, LaunchCommandSpec, LaunchSpec, PlanSpec, QueueSpec, ReapSpec, RerunSpec,
    WatchSpec,
};

/// EC2 Spot capacity for CI runners: pools chosen from price history by
/// time-weighted price and interruption risk, launched across several pools
/// at once, tagged, reaped, and costed.
///
/// Credentials and endpoint come from the standard AWS chain (`AWS_PROFILE`,
/// the environment, IMDS, SSO; `AWS_ENDPOINT_URL` for a non-AWS endpoint).
#[derive(Debug, Parser)]
#[command(name = "spot-leaser", version, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    #[command(flatten)]
    pub log: LogArgs,

    /// Push metrics of the run to this Prometheus Pushgateway
    /// (`http://HOST:PORT`); a failed push is a warning.
    #[arg(long, global = true, env = "SLIPWAY_PUSHGATEWAY", value_name = "URL")]
    pub pushgateway: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Rank spot pools by expected cost per job, explaining every choice.
    Plan(PlanArgs),
    /// Launch instances in the best pools with one fleet request.
    Launch(LaunchArgs),
    /// Terminate managed instances of a run, or past their expiry.
    Reap(ReapArgs),
    /// What instances have cost so far and will cost, against on-demand.
    Cost(CostArgs),
    /// Count queued jobs (not runs) per label set, from GitHub or from
    /// `workflow_job` webhook payloads.
    Queue(QueueArgs),
    /// On a runner instance: watch for spot interruption notices, and on
    /// one annotate, count, remove the runner and record the job.
    Watch(WatchArgs),
    /// Re-run the jobs of a completed run that spot interruptions ended.
    Rerun(RerunArgs),
    /// Print the boot script (user data) that starts a registered runner.
    UserData(UserDataArgs),
    /// Run as a service: a runner for every queued job, from
    /// `workflow_job` webhooks and a periodic reconcile (docs/serve.md).
    Serve(ServeArgs),
}

#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    #[arg(long)]
    pub region: String,

    /// Instance types to consider, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub instance_types: Vec<String>,

    /// Read price history from FILE (what `aws ec2
    /// describe-spot-price-history` prints) instead of asking EC2.
    #[arg(long, value_name = "FILE")]
    pub price_history: Option<PathBuf>,

    /// How far back the history is weighed.
    #[arg(long, default_value = spec::DEFAULT_WINDOW)]
    pub window: String,

    /// The end of the window, RFC 3339 [default: now].
    #[arg(long, value_name = "TIMESTAMP")]
    pub at: Option<String>,

    /// Minutes a job runs on the instance.
    #[arg(long, value_name = "M", default_value_t = spec::DEFAULT_JOB_MINUTES)]
    pub job_minutes: f64,

    /// Minutes from launch to a runner taking a job.
    #[arg(long, value_name = "M", default_value_t = spec::DEFAULT_BOOT_MINUTES)]
    pub boot_minutes: f64,

    /// Exclude pools whose current price is above this (USD per hour).
    #[arg(long, value_name = "P")]
    pub max_price: Option<f64>,

    /// Exclude types interrupted more often than this advisor bucket
    /// (0: <5%, 1: 5-10%, 2: 10-15%, 3: 15-20%, 4: >20%).
    #[arg(long, value_name = "BUCKET", value_parser = clap::value_parser!(u8).range(0..=4))]
    pub max_interruption: Option<u8>,

    /// Exclude zones whose placement score is below this (1-10), when known.
    #[arg(long, value_name = "SCORE", value_parser = clap::value_parser!(u8).range(1..=10))]
    pub min_placement_score: Option<u8>,

    /// The Spot Instance Advisor feed (`spot-advisor-data.json`) for
    /// interruption buckets.
    #[arg(long, value_name = "FILE")]
    pub advisor: Option<PathBuf>,

    /// On-demand prices (`{"region", "prices": {type: price}}`) instead of
    /// the bundled us-east-1 table.
    #[arg(long, value_name = "FILE")]
    pub on_demand: Option<PathBuf>,

    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Clone, Args)]
pub struct LaunchArgs {
    #[command(flatten)]
    pub plan: PlanArgs,

    /// How many instances.
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..=1000))]
    pub count: i32,

    /// The AMI to launch (a launch template is made for the request and
    /// deleted after).
    #[arg(
        long,
        value_name = "AMI",
        conflicts_with = "launch_template",
        required_unless_present = "launch_template"
    )]
    pub image_id: Option<String>,

    /// An existing launch template to launch from.
    #[arg(long, value_name = "NAME")]
    pub launch_template: Option<String>,

    /// Subnets to launch into, comma-separated (their zones are used).
    #[arg(long, value_delimiter = ',')]
    pub subnet_ids: Vec<String>,

    /// User data (cloud-init) for the instances.
    #[arg(long, value_name = "FILE")]
    pub user_data: Option<PathBuf>,

    /// The CI run these instances belong to [default: a new id].
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,

    /// How long the instances may live; `reap --expired` ends them after.
    #[arg(long, default_value = spec::DEFAULT_TTL)]
    pub ttl: String,

    /// When spot capacity runs out in every pool, launch on-demand.
    #[arg(long)]
    pub on_demand_fallback: bool,

    /// Launch on-demand capacity only, in the planned pools' order (for
    /// work that must not be interrupted, such as a re-run).
    #[arg(long, conflicts_with = "on_demand_fallback")]
    pub on_demand_only: bool,

    /// Ask EC2 whether the request would succeed, launching nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// The instance profile for instances (with --image-id); registered
    /// runners need one that can read their SSM parameter.
    #[arg(long, value_name = "NAME")]
    pub iam_instance_profile: Option<String>,

    /// `depth>N:TYPE[,TYPE…]`: with at least N+1 jobs queued, launch these
    /// types instead of --instance-types. Repeatable; the first match wins.
    #[arg(long = "scale-rule", value_name = "RULE")]
    pub scale_rules: Vec<ScaleRule>,

    /// The queue depth the scale rules see [default: counted from
    /// --github-repo's queued jobs that these runners could take].
    #[arg(long, value_name = "N")]
    pub queue_depth: Option<usize>,

    /// Arguments for `spot-leaser watch` in the boot script of registered runners.
    #[arg(
        long,
        value_name = "ARGS",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub watch_args: String,

    /// Register each instance as a runner of this organisation or repository.
    #[command(flatten)]
    pub github: ScopeArgs,

    #[command(flatten)]
    pub api: ApiArgs,

    #[command(flatten)]
    pub runner: RunnerArgs,
}

#[derive(Debug, Clone, Args)]
pub struct QueueArgs {
    #[command(flatten)]
    pub github: ScopeArgs,

    #[command(flatten)]
    pub api: ApiArgs,

    /// Count only jobs a runner with these labels can take (size labels
    /// of the jobs aside), comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "LABELS")]
    pub labels: Vec<String>,

    /// Read `workflow_job` webhook payloads (one JSON document after
    /// another) from FILE (`-`: stdin) instead of asking GitHub.
    #[arg(long, value_name = "FILE")]
    pub webhooks: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    /// The instance metadata service.
    #[arg(long, value_name = "URL", default_value = "http://169.254.169.254")]
    pub imds_url: String,

    /// How often to ask.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = duration)]
    pub interval: Duration,

    /// Stop watching after this long [default: until a notice].
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub timeout: Option<Duration>,

    /// The runner to remove on a notice [default: <prefix>-<instance id>].
    #[arg(long, value_name = "NAME")]
    pub runner_name: Option<String>,

    #[arg(long, value_name = "PREFIX", default_value = spec::DEFAULT_RUNNER_PREFIX)]
    pub runner_prefix: String,

    /// Record the interruption (a tag on this instance) so that
    /// `spot-leaser rerun` re-runs the job it ended.
    #[arg(long)]
    pub rerun: bool,

    /// Write Prometheus metrics here (`node_exporter`'s textfile format).
    #[arg(long, value_name = "FILE")]
    pub metrics_file: Option<PathBuf>,

    /// Remove the runner from this organisation or repository on a notice.
    #[command(flatten)]
    pub github: ScopeArgs,

    #[command(flatten)]
    pub api: ApiArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RerunArgs {
    #[command(flatten)]
    pub github: ScopeArgs,

    #[command(flatten)]
    pub api: ApiArgs,

    #[arg(long)]
    pub region: String,

    /// The workflow run.
    #[arg(long, value_name = "ID")]
    pub run_id: u64,

    /// How long to wait for the run to complete.
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = duration_or_zero)]
    pub wait: Duration,

    /// Say what would be re-run, re-running nothing.
    #[arg(long)]
    pub dry_run: bool,

    #[arg(long, value_name = "PREFIX", default_value = spec::DEFAULT_RUNNER_PREFIX)]
    pub runner_prefix: String,
}

#[derive(Debug, Clone, Args)]
pub struct UserDataArgs {
    #[arg(long, value_name = "PATH", default_value = spec::DEFAULT_PARAMETER_PREFIX)]
    pub parameter_prefix: String,

    /// Arguments for `spot-leaser watch` on the instance.
    #[arg(
        long,
        value_name = "ARGS",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub watch_args: String,
}

#[derive(Debug, Clone, Args)]
pub struct ReapArgs {
    #[arg(long)]
    pub region: String,

    /// Terminate the managed instances of this run.
    #[arg(long, value_name = "ID", required_unless_present_any = ["expired", "register_timeout", "github_org", "github_repo"])]
    pub run_id: Option<String>,

    /// Terminate managed instances past their `slipway:expires-at`.
    #[arg(long)]
    pub expired: bool,

    /// Say what would be terminated, terminating nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Also terminate managed instances whose runner has not come online
    /// this long after launch (with --github-org or --github-repo).
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub register_timeout: Option<Duration>,

    #[arg(long, value_name = "PREFIX", default_value = spec::DEFAULT_RUNNER_PREFIX)]
    pub runner_prefix: String,

    /// Also remove this organisation's or repository's runners whose
    /// instance is gone.
    #[command(flatten)]
    pub github: ScopeArgs,

    #[command(flatten)]
    pub api: ApiArgs,
}

#[derive(Debug, Clone, Args)]
pub struct CostArgs {
    #[arg(long)]
    pub region: String,

    #[arg(
        long,
        value_delimiter = ',',
        required_unless_present = "run_id",
        conflicts_with = "run_id"
    )]
    pub instance_ids: Vec<String>,

    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,

    /// On-demand prices instead of the bundled table.
    #[arg(long, value_name = "FILE")]
    pub on_demand: Option<PathBuf>,
}

/// `5s`, `10m`, `2h`, `1d`: a positive duration.
pub(crate) fn duration(text: &str) -> Result<Duration, String> {
    slipway_spot::time::parse_duration(text)
        .and_then(|s| u64::try_from(s).ok())
        .map(Duration::from_secs)
        .ok_or_else(|| "expected a duration like 5s, 10m or 2h".to_owned())
}

/// A duration, or `0`/`0s` for none.
fn duration_or_zero(text: &str) -> Result<Duration, String> {
    if matches!(text.trim(), "0" | "0s") {
        Ok(Duration::ZERO)
    } else {
        duration(text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

impl PlanArgs {
    pub(crate) fn spec(&self) -> PlanSpec {
        PlanSpec {
            region: self.region.clone(),
            instance_types: self.instance_types.clone(),
            price_history: self.price_history.clone(),
            window: self.window.clone(),
            at: self.at.clone(),
            job_minutes: self.job_minutes,
            boot_minutes: self.boot_minutes,
            max_price: self.max_price,
            max_interruption: self.max_interruption,
            min_placement_score: self.min_placement_score,
            advisor: self.advisor.clone(),
            on_demand: self.on_demand.clone(),
        }
    }
}

impl LaunchArgs {
    /// The launch alone, as `spot-leaser launch` asks for it.
    #[must_use]
    pub fn launch_spec(&self) -> LaunchSpec {
        LaunchSpec {
            plan: self.plan.spec(),
            count: self.count,
            image_id: self.image_id.clone(),
            launch_template: self.launch_template.clone(),
            subnet_ids: self.subnet_ids.clone(),
            user_data: self.user_data.clone(),
            run_id: self.run_id.clone(),
            ttl: self.ttl.clone(),
            on_demand_fallback: self.on_demand_fallback,
            on_demand_only: self.on_demand_only,
            client_token: None,
            extra_tags: Vec::new(),
            dry_run: self.dry_run,
            iam_instance_profile: self.iam_instance_profile.clone(),
        }
    }

    pub(crate) fn spec(&self) -> Result<LaunchCommandSpec> {
        Ok(LaunchCommandSpec {
            launch: self.launch_spec(),
            scale_rules: self.scale_rules.clone(),
            queue_depth: self.queue_depth,
            watch_args: self.watch_args.clone(),
            github: self.github.scope()?,
            api: self.api.spec(),
            runner: self.runner.spec(),
        })
    }
}

impl QueueArgs {
    pub(crate) fn spec(&self) -> Result<QueueSpec> {
        Ok(QueueSpec {
            github: self.github.scope()?,
            api: self.api.spec(),
            labels: self.labels.clone(),
            webhooks: self.webhooks.clone(),
        })
    }
}

impl WatchArgs {
    pub(crate) fn spec(&self) -> Result<WatchSpec> {
        Ok(WatchSpec {
            imds_url: self.imds_url.clone(),
            interval: self.interval,
            timeout: self.timeout,
            runner_name: self.runner_name.clone(),
            runner_prefix: self.runner_prefix.clone(),
            rerun: self.rerun,
            metrics_file: self.metrics_file.clone(),
            github: self.github.scope()?,
            api: self.api.spec(),
        })
    }
}

impl RerunArgs {
    pub(crate) fn spec(&self) -> Result<RerunSpec> {
        Ok(RerunSpec {
            github: self.github.scope()?,
            api: self.api.spec(),
            region: self.region.clone(),
            run_id: self.run_id,
            wait: self.wait,
            dry_run: self.dry_run,
            runner_prefix: self.runner_prefix.clone(),
        })
    }
}

impl ReapArgs {
    pub(crate) fn spec(&self) -> Result<ReapSpec> {
        Ok(ReapSpec {
            region: self.region.clone(),
            run_id: self.run_id.clone(),
            expired: self.expired,
            dry_run: self.dry_run,
            register_timeout: self.register_timeout,
            runner_prefix: self.runner_prefix.clone(),
            github: self.github.scope()?,
            api: self.api.spec(),
        })
    }
}

impl CostArgs {
    pub(crate) fn spec(&self) -> CostSpec {
        CostSpec {
            region: self.region.clone(),
            instance_ids: self.instance_ids.clone(),
            run_id: self.run_id.clone(),
            on_demand: self.on_demand.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_parse_or_say_what_they_expect() {
        use std::time::Duration;
        assert_eq!(super::duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(super::duration("2h"), Ok(Duration::from_hours(2)));
        assert!(super::duration("0s").is_err());
        assert!(super::duration("5 minutes").is_err());
        assert_eq!(super::duration_or_zero("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
