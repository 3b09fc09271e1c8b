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
mod launch;
mod plan;
mod reap;

use anyhow::Context as _;
use slipway_cli::github::Actions;

pub use cli::{Cli, Command, CostArgs, Format, LaunchArgs, PlanArgs, ReapArgs};
pub use cost::{Costs, InstanceCost};
pub use ec2::Ec2Error;
pub use ec2::client;
pub use launch::{AfterLaunch, Launched, LaunchedInstance, launch, launch_then};
pub use plan::Plan;
pub use reap::{Reaped, ReapedInstance};

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
}

/// The command line or an input is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub(crate) String);

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
            let client = ec2::client(&args.plan.region).await;
            let launched = launch::launch(args, &client).await?;
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
                slipway_cli::github::append_outputs(
                    file,
                    &[
                        ("instance_ids", ids.join(",")),
                        ("private_ips", ips.join(",")),
                        ("run_id", launched.run_id.clone()),
                    ],
                )?;
            }
            slipway_cli::write_stdout(&format!("{}\n", serde_json::to_string_pretty(&launched)?))?;
        }
        Command::Reap(args) => {
            let client = ec2::client(&args.region).await;
            let reaped = reap::reap(args, &client).await?;
            slipway_cli::write_stdout(&format!("{}\n", serde_json::to_string_pretty(&reaped)?))?;
        }
        Command::Cost(args) => {
            let client = ec2::client(&args.region).await;
            let costs = cost::cost(args, &client).await?;
            slipway_cli::write_stdout(&format!("{}\n", serde_json::to_string_pretty(&costs)?))?;
        }
    }
    Ok(())
}
