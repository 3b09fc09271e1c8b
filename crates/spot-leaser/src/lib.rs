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
mod error;
mod github;
mod launch;
mod output;
mod plan;
mod queue;
mod reap;
mod register;
mod rerun;
mod scale;
mod serve;
pub mod spec;
mod summary;
mod tags;
mod watch;

use slipway_cli::github::Actions;
use slipway_cli::metrics::Metrics;
use slipway_github::GitHub;

pub use cli::{
    ApiArgs, Cli, Command, CostArgs, Format, LaunchArgs, PlanArgs, QueueArgs, ReapArgs, RerunArgs,
    RunnerArgs, RunnerModeArg, ScopeArgs, ServeArgs, UserDataArgs, WatchArgs,
};
pub use ec2::Ec2Error;
pub use ec2::client;
pub use error::{Error, Exit};
pub use launch::{Unusable, launch, launch_then};
pub use output::{
    Costs, Evidence, Failure, FailureKind, InstanceCost, Launched, LaunchedInstance, Lifecycle,
    Notice, NoticeAction, OUTPUT_VERSION, Plan, Queue, ReapReason, Reaped, ReapedInstance,
    RemovedRunner, Rerun, RerunJob, RunnerInfo, RunnerMode, Scaled, Watched,
};
pub use register::{boot_script, size_label};
pub use spec::{
    ApiSpec, CostSpec, LaunchCommandSpec, LaunchSpec, PlanSpec, QueueSpec, ReapSpec, RerunSpec,
    RunnerSpec, ServeSpec, WatchSpec,
};

/// Results of this crate: its one error type.
pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

/// Runs the subcommand on a current-thread runtime.
pub fn run(cli: &Cli) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| Error::io("start", "the async runtime", source))?;
    let actions = Actions::from_env();
    runtime.block_on(async {
        match &cli.command {
            Command::Plan(args) => {
                plan_command(&args.spec(), args.format, cli.pushgateway.as_deref()).await
            }
            Command::Launch(args) => {
                launch_and_report(&args.spec()?, &actions, cli.pushgateway.as_deref()).await
            }
            Command::Reap(args) => reap_command(&args.spec()?, &actions).await,
            Command::Cost(args) => {
                let spec = args.spec();
                let client = ec2::client(&spec.region).await;
                let costs = cost::cost(&spec, &client).await?;
                summarize(&actions, &summary::costs(&costs))?;
                print(&output::to_json(&costs))
            }
            Command::Queue(args) => queue_command(&args.spec()?, &actions).await,
            Command::Watch(args) => {
                let watched =
                    watch::watch(&args.spec()?, &actions, cli.pushgateway.as_deref()).await?;
                print(&output::to_json(&watched))
            }
            Command::Rerun(args) => {
                let rerun = rerun::rerun(&args.spec()?).await?;
                summarize(&actions, &summary::rerun(&rerun))?;
                print(&output::to_json(&rerun))
            }
            Command::Serve(args) => serve::serve(&args.spec()?).await,
            Command::UserData(args) => print(&register::boot_script(
                &args.parameter_prefix,
                &args.watch_args,
            )),
        }
    })
}

async fn plan_command(args: &PlanSpec, format: Format, pushgateway: Option<&str>) -> Result<()> {
    let client = match &args.price_history {
        Some(_) => None,
        None => Some(ec2::client(&args.region).await),
    };
    let planned = plan::plan(args, client.as_ref()).await?;
    price_metrics(&planned).push_if(pushgateway, &[("region", &planned.region)]);
    print(&match format {
        Format::Json => output::to_json(&planned),
        Format::Table => plan::table(&planned),
    })
}

async fn launch_and_report(
    args: &LaunchCommandSpec,
    actions: &Actions,
    pushgateway: Option<&str>,
) -> Result<()> {
    let (launched, github) = launch_command(args).await?;
    launch_metrics(&launched, github.as_ref())
        .push_if(pushgateway, &[("run_id", &launched.run_id)]);
    if let Some(file) = &actions.output {
        let join = |f: &dyn Fn(&LaunchedInstance) -> Option<&str>| {
            launched
                .instances
                .iter()
                .filter_map(f)
                .collect::<Vec<_>>()
                .join(",")
        };
        let outputs = [
            ("instance_ids", join(&|i| Some(i.instance_id.as_str()))),
            ("private_ips", join(&|i| i.private_ip.as_deref())),
            (
                "runner_names",
                join(&|i| i.runner.as_ref().map(|r| r.name.as_str())),
            ),
            ("run_id", launched.run_id.clone()),
        ];
        slipway_cli::github::append_outputs(file, &outputs)
            .map_err(|source| Error::io("write", file, source))?;
    }
    summarize(actions, &summary::launched(&launched))?;
    print(&output::to_json(&launched))
}

async fn reap_command(args: &ReapSpec, actions: &Actions) -> Result<()> {
    let client = ec2::client(&args.region).await;
    let github = match args.github.clone() {
        Some(scope) => Some(args.api.connect(scope).await?),
        None => None,
    };
    let reaped = reap::reap(args, &client, github.as_ref()).await?;
    summarize(actions, &summary::reaped(&reaped))?;
    print(&output::to_json(&reaped))
}

async fn queue_command(args: &QueueSpec, actions: &Actions) -> Result<()> {
    let depth = queue::queue(args).await?;
    if let Some(file) = &actions.output {
        slipway_cli::github::append_outputs(file, &[("queued", depth.queued.to_string())])
            .map_err(|source| Error::io("write", file, source))?;
    }
    summarize(actions, &summary::depth(&depth))?;
    print(&output::to_json(&depth))
}

/// Data on stdout.
fn print(text: &str) -> Result<()> {
    slipway_cli::write_stdout(text).map_err(|source| Error::io("write", "stdout", source))
}

/// Reads an input file the command line named.
pub(crate) fn read(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Appends to the step summary under GitHub Actions.
fn summarize(actions: &Actions, markdown: &str) -> Result<()> {
    if let Some(file) = &actions.summary {
        slipway_cli::github::append(file, markdown)
            .map_err(|source| Error::io("write the step summary to", file, source))?;
    }
    Ok(())
}

/// The queue depth the scale rules see, and the rule that matched (its
/// types replace `--instance-types`).
async fn apply_scale_rules(
    args: &mut LaunchCommandSpec,
    github: Option<&GitHub>,
) -> Result<Option<Scaled>> {
    if args.scale_rules.is_empty() {
        return Ok(None);
    }
    let depth = match (args.queue_depth, github) {
        (Some(depth), _) => depth,
        (None, Some(github)) => queue::depth_for_runners(github, &args.runner).await?,
        (None, None) => {
            return Err(Error::Arguments(
                "--scale-rule needs --queue-depth or --github-repo to count the queue",
            ));
        }
    };
    let rule = scale::choose(&args.scale_rules, depth);
    if let Some(rule) = rule {
        tracing::info!(depth, rule = rule.text, "scale rule matched");
        args.launch
            .plan
            .instance_types
            .clone_from(&rule.instance_types);
    } else {
        tracing::info!(depth, "no scale rule matched: --instance-types");
    }
    Ok(Some(Scaled {
        queue_depth: depth,
        rule: rule.map(|r| r.text.clone()),
    }))
}

/// `launch`, with the scale rules applied and, when a GitHub scope is
/// given, every instance registered as a runner.
async fn launch_command(args: &LaunchCommandSpec) -> Result<(Launched, Option<GitHub>)> {
    let github = match args.github.clone() {
        Some(scope) => Some(args.api.connect(scope).await?),
        None => None,
    };
    let mut args = args.clone();
    let scaled = apply_scale_rules(&mut args, github.as_ref()).await?;
    let client = ec2::client(&args.launch.plan.region).await;
    let Some(github) = github else {
        let mut launched = launch::launch(&args.launch, &client).await?;
        launched.scaled = scaled;
        return Ok((launched, None));
    };
    if args.launch.user_data.is_some() && args.launch.launch_template.is_none() {
        return Err(Error::Arguments(
            "--user-data and runner registration: the boot script is the user data \
             (`spot-leaser user-data` prints it to combine with your own)",
        ));
    }
    let ssm = ec2::ssm_client(&args.launch.plan.region).await;
    let boot = register::boot_script(&args.runner.parameter_prefix, &args.watch_args);
    let registrar = register::Registrar {
        github: &github,
        ec2: &client,
        ssm: &ssm,
        runner: &args.runner,
        exact_labels: None,
    };
    let launched = launch::launch_then(
        &args.launch,
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

/// What a plan pushes: each pool's current spot price, under the origin
/// article's name.
fn price_metrics(planned: &Plan) -> Metrics {
    let mut m = Metrics::new("spot-leaser");
    for c in &planned.candidates {
        m.gauge(
            "spot_price_current",
            "The pool's spot price in effect now, USD per hour.",
            &[
                ("instance_type", &c.instance_type),
                ("availability_zone", &c.availability_zone),
            ],
            c.current_price,
        );
    }
    m
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
