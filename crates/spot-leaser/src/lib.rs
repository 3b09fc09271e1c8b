//! `spot-leaser`: EC2 Spot capacity for CI runners.
//!
//! Plans from price history with `slipway-spot` (time-weighted prices,
//! interruption risk), launches with one instant `CreateFleet` across the best
//! pools, tags every instance (`slipway:managed`, `slipway:run-id`,
//! `slipway:expires-at`), reaps by run or expiry, and costs what ran. The
//! only crate of the workspace that uses the AWS SDK.

mod cli;
mod cost;
mod ec2;
mod github;
mod launch;
mod plan;
mod queue;
mod reap;
mod register;
mod rerun;
mod summary;
mod watch;

use anyhow::Context as _;
use slipway_cli::github::Actions;
use slipway_cli::metrics::Metrics;
use slipway_github::GitHub;

pub use cli::{
    Cli, Command, CostArgs, Format, LaunchArgs, PlanArgs, QueueArgs, ReapArgs, RerunArgs,
    UserDataArgs, WatchArgs,
};
pub use cost::{Costs, InstanceCost};
pub use ec2::Ec2Error;
pub use ec2::client;
pub use github::{ApiArgs, ScopeArgs};
pub use launch::{Launched, LaunchedInstance, Scaled, Unusable, launch, launch_then};
pub use plan::Plan;
pub use reap::{Reaped, ReapedInstance, RemovedRunner};
pub use register::RunnerArgs;
pub use register::{RunnerInfo, RunnerMode, boot_script, size_label};
pub use rerun::{Rerun, RerunJob};
pub use watch::{Notice, Watched};

/// Exit codes of `spot-leaser`, documented in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    Ok = 0,
    Internal = 1,
    /// Bad command line or input file.
    Usage = 2,
    /// An EC2 call failed (credentials, permissions, throttling, a bad request).
    Ec2 = 3,
    /// No eligible pool, or no capacity in any pool (nothing was left running).
    NoCapacity = 4,
    /// A GitHub call failed (credentials, permissions, rate limits beyond
    /// the allowed wait), or no launched instance could be registered.
    GitHub = 5,
}

/// The command line or an input is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub(crate) String);

/// No launched instance could be registered (all were terminated).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RegistrationFailed(pub(crate) String);

/// Nothing could be launched.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NoCapacity(pub(crate) String);

#[must_use]
pub fn exit_code_for(err: &anyhow::Error) -> Exit {
    for cause in err.chain() {
        if cause.is::<UsageError>() || cause.is::<slipway_spot::SpotError>() {
            return Exit::Usage;
        }
        if let Some(err) = cause.downcast_ref::<slipway_github::GitHubError>() {
            return match err {
                slipway_github::GitHubError::Usage(_) => Exit::Usage,
                _ => Exit::GitHub,
            };
        }
        if cause.is::<RegistrationFailed>() {
            return Exit::GitHub;
        }
        if cause.is::<NoCapacity>() {
            return Exit::NoCapacity;
        }
        if cause.is::<Ec2Error>() {
            return Exit::Ec2;
        }
    }
    Exit::Internal
}

pub fn run(cli: &Cli) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    runtime.block_on(run_async(cli))
}

async fn run_async(cli: &Cli) -> anyhow::Result<()> {
    let actions = Actions::from_env();
    match &cli.command {
        Command::Plan(args) => {
            let client = match &args.price_history {
                Some(_) => None,
                None => Some(ec2::client(&args.region).await),
            };
            let planned = plan::plan(args, client.as_ref()).await?;
            let text = match args.format {
                Format::Json => format!("{}\n", serde_json::to_string_pretty(&planned)?),
                Format::Table => plan::table(&planned),
            };
            slipway_cli::write_stdout(&text)?;
        }
        Command::Launch(args) => {
            let (launched, github) = launch_command(args).await?;
            launch_metrics(&launched, github.as_ref())
                .push_if(cli.pushgateway.as_deref(), &[("run_id", &launched.run_id)]);
            if let Some(file) = &actions.output {
                let ids: Vec<&str> = launched
                    .instances
                    .iter()
                    .map(|i| i.instance_id.as_str())
                    .collect();
                let ips: Vec<&str> = launched
                    .instances
                    .iter()
                    .filter_map(|i| i.private_ip.as_deref())
                    .collect();
                let runners: Vec<&str> = launched
                    .instances
                    .iter()
                    .filter_map(|i| i.runner.as_ref().map(|r| r.name.as_str()))
                    .collect();
                slipway_cli::github::append_outputs(
                    file,
                    &[
                        ("instance_ids", ids.join(",")),
                        ("private_ips", ips.join(",")),
                        ("runner_names", runners.join(",")),
                        ("run_id", launched.run_id.clone()),
                    ],
                )?;
            }
            summarize(&actions, &summary::launched(&launched))?;
            slipway_cli::write_stdout(&format!("{}\n", serde_json::to_string_pretty(&launched)?))?;
        }
        Command::Reap(args) => {
            let client = ec2::client(&args.region).await;
            let github = match args.github.scope()? {
                Some(scope) => Some(args.api.connect(scope).await?),
                None => None,
            };
            let reaped = reap::reap(args, &client, github.as_ref()).await?;
            summarize(&actions, &summary::reaped(&reaped))?;
            slipway_cli::write_stdout(&format!("{}\n", serde_json::to_string_pretty(&reaped)?))?;
        }
        Command::Cost(args) => {
            let client = ec2::client(&args.region).await;
            let costs = cost::cost(args, &client).await?;
            summarize(&actions, &summary::costs(&costs))?;
            slipway_cli::write_stdout(&format!("{}\n", serde_json::to_string_pretty(&costs)?))?;
        }
        Command::Queue(args) => {
            let depth = queue::queue(args).await?;
            if let Some(file) = &actions.output {
                slipway_cli::github::append_outputs(file, &[("queued", depth.queued.to_string())])?;
            }
            summarize(&actions, &summary::depth(&depth))?;
            slipway_cli::write_stdout(&format!("{}\n", serde_json::to_string_pretty(&depth)?))?;
        }
        Command::Watch(args) => {
            let watched = watch::watch(args, &actions, cli.pushgateway.as_deref()).await?;
            slipway_cli::write_stdout(&format!("{}\n", serde_json::to_string_pretty(&watched)?))?;
        }
        Command::Rerun(args) => {
            let rerun = rerun::rerun(args).await?;
            summarize(&actions, &summary::rerun(&rerun))?;
            slipway_cli::write_stdout(&format!("{}\n", serde_json::to_string_pretty(&rerun)?))?;
        }
        Command::UserData(args) => {
            slipway_cli::write_stdout(&register::boot_script(
                &args.parameter_prefix,
                &args.watch_args,
            ))?;
        }
    }
    Ok(())
}

/// Appends to the step summary under GitHub Actions.
fn summarize(actions: &Actions, markdown: &str) -> anyhow::Result<()> {
    if let Some(file) = &actions.summary {
        slipway_cli::github::append(file, markdown)
            .with_context(|| format!("failed to write the step summary to {}", file.display()))?;
    }
    Ok(())
}

/// `launch`, with the scale rules applied and, when a GitHub scope is
/// given, every instance registered as a runner.
async fn launch_command(args: &LaunchArgs) -> anyhow::Result<(Launched, Option<GitHub>)> {
    let scope = args.github.scope()?;
    let github = match &scope {
        Some(scope) => Some(args.api.connect(scope.clone()).await?),
        None => None,
    };
    let mut args = args.clone();
    let mut scaled = None;
    if !args.scale_rules.is_empty() {
        let depth = match (args.queue_depth, &github) {
            (Some(depth), _) => depth,
            (None, Some(github)) => queue::depth_for_runners(github, &args.runner).await?,
            (None, None) => {
                return Err(UsageError(
                    "--scale-rule needs --queue-depth or --github-repo to count the queue"
                        .to_owned(),
                )
                .into());
            }
        };
        let rule = slipway_github::queue::choose(&args.scale_rules, depth);
        if let Some(rule) = rule {
            tracing::info!(depth, rule = rule.text, "scale rule matched");
            args.plan.instance_types.clone_from(&rule.instance_types);
        } else {
            tracing::info!(depth, "no scale rule matched: --instance-types");
        }
        scaled = Some(launch::Scaled {
            queue_depth: depth,
            rule: rule.map(|r| r.text.clone()),
        });
    }
    let client = ec2::client(&args.plan.region).await;
    let Some(github) = github else {
        let mut launched = launch::launch(&args, &client).await?;
        launched.scaled = scaled;
        return Ok((launched, None));
    };
    if args.user_data.is_some() && args.launch_template.is_none() {
        return Err(UsageError(
            "--user-data and runner registration: the boot script is the user data \
             (`spot-leaser user-data` prints it to combine with your own)"
                .to_owned(),
        )
        .into());
    }
    let ssm = ec2::ssm_client(&args.plan.region).await;
    let boot = register::boot_script(&args.runner.parameter_prefix, &args.watch_args);
    let registrar = register::Registrar {
        github: &github,
        ec2: &client,
        ssm: &ssm,
        args: &args.runner,
    };
    let launched = launch::launch_then(
        &args,
        &client,
        Some(boot.into_bytes()),
        async |instances: &mut [LaunchedInstance]| registrar.register(instances).await,
    )
    .await;
    github::log_stats(&github);
    let mut launched = launched?;
    launched.scaled = scaled;
    Ok((launched, Some(github)))
}

/// What a launch pushes: instances by type and lifecycle, pools that
/// failed, and what GitHub registration cost.
#[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
fn launch_metrics(launched: &Launched, github: Option<&GitHub>) -> Metrics {
    let mut m = Metrics::new("spot-leaser");
    let mut by: std::collections::BTreeMap<(&str, &str), u32> = std::collections::BTreeMap::new();
    for i in &launched.instances {
        *by.entry((i.instance_type.as_str(), i.lifecycle.as_str()))
            .or_default() += 1;
    }
    for ((instance_type, lifecycle), n) in by {
        m.gauge(
            "slipway_spot_instances_launched",
            "Instances this launch started, by type and lifecycle.",
            &[("instance_type", instance_type), ("lifecycle", lifecycle)],
            f64::from(n),
        );
    }
    m.gauge(
        "slipway_spot_launch_failures",
        "Pools or registrations that failed during this launch.",
        &[],
        launched.failures.len() as f64,
    );
    m.gauge(
        "slipway_spot_runners_registered",
        "Instances registered as GitHub runners.",
        &[],
        launched
            .instances
            .iter()
            .filter(|i| i.runner.is_some())
            .count() as f64,
    );
    if let Some(github) = github {
        let stats = github.stats();
        for (class, n) in [
            ("registration", stats.registration_requests),
            ("write", stats.write_requests),
            ("read", stats.read_requests),
        ] {
            m.counter(
                "slipway_github_requests_total",
                "GitHub API requests sent, by endpoint class.",
                &[("class", class)],
                n as f64,
            );
        }
        m.counter(
            "slipway_github_throttled_total",
            "GitHub rate-limit answers (403/429) received.",
            &[],
            stats.throttled as f64,
        );
        m.counter(
            "slipway_github_throttled_wait_seconds_total",
            "Seconds spent waiting on GitHub's rate limits.",
            &[],
            stats.throttled_wait_ms as f64 / 1000.0,
        );
    }
    m
}
