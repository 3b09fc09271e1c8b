//! The reconcile pass, every `--reconcile-every` and at start: GitHub's
//! queued jobs and runners against EC2's instances, so that a missed
//! webhook, a crash or an instance that died costs one pass at most.
//!
//! 1. Queued jobs (from the API) with no instance: launched for.
//! 2. Our runners whose instance is gone: removed from GitHub.
//! 3. Instances whose runner never came online within
//!    `--register-timeout`: terminated.
//! 4. Runners online and idle for `--idle-timeout`: removed from GitHub
//!    first, and their instance terminated only when GitHub accepted the
//!    removal. GitHub refuses to remove a runner that is running a job
//!    (422), so one that took a job between the look and the removal
//!    keeps running: no busy flag is trusted, however stale.
//! 5. Warm pools kept (`warm.rs`); job locks past their use deleted.

use crate::tags;
use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use slipway_github::{GitHubError, Runner};

use super::Ctx;
use super::config::Capacity;
use super::jobs::{self, Outcome};
use super::state::label_set;
use crate::ec2;
use crate::launch::template;
use crate::plan::now;
use crate::{Result, reap};

/// One pass; its result counted and its duration exported.
pub(crate) async fn run(ctx: &Ctx) {
    let started = Instant::now();
    let result = pass(ctx).await;
    let seconds = started.elapsed().as_secs_f64();
    let mut state = ctx.state.borrow_mut();
    state.last_reconcile_seconds = Some(seconds);
    match result {
        Ok(()) => {
            *state.reconciles.entry("ok").or_default() += 1;
            tracing::debug!(seconds, "reconciled");
        }
        Err(err) => {
            *state.reconciles.entry("error").or_default() += 1;
            tracing::error!(seconds, "reconcile failed: {}", slipway_cli::chain(&err));
        }
    }
}

async fn pass(ctx: &Ctx) -> Result<()> {
    super::refresh_paused(ctx).await;
    let paused = ctx.state.borrow().paused;
    // One listing of the managed instances: the queued jobs that have one
    // are not looked at again, one by one.
    let launched: HashSet<String> = ec2::instances(&ctx.ec2, &[], &[(tags::MANAGED, tags::TRUE)])
        .await?
        .iter()
        .filter_map(|i| ec2::tag(i, tags::JOB_ID).map(str::to_owned))
        .collect();
    launch_for_queued(ctx, &launched).await;
    refresh_prices(ctx).await;
    let runners = ctx.github.runners().await?;
    let prefix = ctx.spec.runner.runner_prefix.as_str();
    let ours: Vec<&Runner> = runners
        .iter()
        .filter(|r| r.name.starts_with(&format!("{prefix}-i-")))
        .collect();
    // Every state exported, zero included: a series that vanishes when the
    // last runner goes reads as "no data", not as none.
    let mut by_state: BTreeMap<&'static str, u64> = [("busy", 0), ("idle", 0), ("offline", 0)]
        .into_iter()
        .collect();
    for r in &ours {
        let s = match (r.busy, r.status.as_str()) {
            (true, _) => "busy",
            (false, "online") => "idle",
            _ => "offline",
        };
        *by_state.entry(s).or_default() += 1;
    }
    ctx.state.borrow_mut().runners = by_state;

    let managed = ec2::instances(&ctx.ec2, &[], &[(tags::MANAGED, tags::TRUE)]).await?;
    let live: Vec<String> = managed
        .iter()
        .filter_map(|i| i.instance_id().map(str::to_owned))
        .collect();
    for (runner, instance_id) in reap::orphaned(&runners, &live, prefix) {
        if ctx.github.delete_runner(runner.id).await? {
            tracing::info!(
                runner = runner.name,
                instance = instance_id,
                "runner removed: its instance is gone"
            );
        }
    }

    let now = now();
    let launched_at = |i: &aws_sdk_ec2::types::Instance| {
        i.launch_time().map(aws_sdk_ec2::primitives::DateTime::secs)
    };
    let never: Vec<String> = managed
        .iter()
        .filter(|i| ec2::state(i) == "running")
        .filter(|i| {
            let timeout = secs(ctx.spec.register_timeout);
            // Launched for a job, and the process died before registering
            // it: no runner name at all.
            let unnamed = ec2::tag(i, tags::JOB_ID).is_some()
                && ec2::tag(i, tags::RUNNER_NAME).is_none()
                && launched_at(i).is_some_and(|t| now - t >= timeout);
            unnamed
                || reap::never_registered(
                    ec2::tag(i, tags::RUNNER_NAME),
                    launched_at(i),
                    &runners,
                    now,
                    timeout,
                )
        })
        .filter_map(|i| i.instance_id().map(str::to_owned))
        .collect();
    if !never.is_empty() {
        tracing::warn!(instances = ?never, "terminating instances whose runner never came online");
        ec2::terminate(&ctx.ec2, &never, false).await?;
    }

    for instance in &managed {
        let (Some(id), Some(name)) = (
            instance.instance_id(),
            ec2::tag(instance, tags::RUNNER_NAME),
        ) else {
            continue;
        };
        let idle_for = launched_at(instance).map_or(0, |t| now - t);
        if idle_for < secs(ctx.spec.idle_timeout) || ec2::state(instance) != "running" {
            continue;
        }
        if let Some(runner) = ours
            .iter()
            .find(|r| r.name == name && r.status == "online" && !r.busy)
        {
            scale_down(ctx, runner, id).await?;
        }
    }

    super::warm::replenish(ctx, paused).await?;
    delete_spent_locks(ctx, &managed).await?;
    Ok(())
}

/// How often the spot pools' prices are read again for `/metrics`.
const PRICES_EVERY: Duration = Duration::from_mins(5);

/// The spot price in effect for each spot pool's instance types in every
/// zone (`spot_price_current`), read at most every [`PRICES_EVERY`]. A
/// failed read keeps the last prices and is tried again next pass.
async fn refresh_prices(ctx: &Ctx) {
    if ctx
        .state
        .borrow()
        .prices_at
        .is_some_and(|at| at.elapsed() < PRICES_EVERY)
    {
        return;
    }
    let mut types: Vec<String> = ctx
        .config
        .pools
        .iter()
        .filter(|p| p.capacity == Capacity::Spot)
        .flat_map(|p| p.instance_types.iter().cloned())
        .collect();
    types.sort();
    types.dedup();
    if types.is_empty() {
        return;
    }
    let end = now();
    // EC2 adds the change in effect at the window's start.
    match ec2::price_history(&ctx.ec2, &types, end - 3600, end).await {
        Ok(changes) => {
            let prices = slipway_spot::linux_pools(&changes)
                .into_iter()
                .filter_map(|(pool, series)| {
                    let stats = slipway_spot::window_stats(&series, end - 3600, end + 1)?;
                    Some(((pool.instance_type, pool.availability_zone), stats.current))
                })
                .collect();
            let mut state = ctx.state.borrow_mut();
            state.prices = prices;
            state.prices_at = Some(Instant::now());
        }
        Err(e) => tracing::warn!("could not read the pools' spot prices: {e}"),
    }
}

/// Removes an idle runner, then terminates its instance only when GitHub
/// took the removal.
async fn scale_down(ctx: &Ctx, runner: &Runner, instance_id: &str) -> Result<()> {
    match ctx.github.delete_runner(runner.id).await {
        Ok(_) => {
            ec2::terminate(&ctx.ec2, &[instance_id.to_owned()], false).await?;
            ctx.state.borrow_mut().scaled_down += 1;
            tracing::info!(
                runner = runner.name,
                instance = instance_id,
                "idle runner removed and its instance terminated"
            );
        }
        Err(GitHubError::Status {
            status: 422,
            message,
            ..
        }) => {
            ctx.state.borrow_mut().kept_busy += 1;
            tracing::info!(
                runner = runner.name,
                instance = instance_id,
                "GitHub refused to remove the runner ({message}): it took a job, so it keeps running"
            );
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// Queued jobs from the API (each configured repository), counted for
/// `/metrics`, and launched for when no instance is coming.
async fn launch_for_queued(ctx: &Ctx, launched: &HashSet<String>) {
    let mut queued: BTreeMap<u64, String> = BTreeMap::new();
    let mut complete = true;
    for repo in super::repositories(ctx) {
        let Some(github) = super::repo_client(ctx, Some(&repo)).await else {
            complete = false;
            continue;
        };
        let jobs = match github.queued_jobs().await {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::warn!(repo, "could not list queued jobs: {e}");
                complete = false;
                continue;
            }
        };
        tracing::debug!(repo, queued = jobs.len(), "queued jobs listed");
        for job in jobs {
            if !job
                .labels
                .iter()
                .any(|l| l.eq_ignore_ascii_case("self-hosted"))
            {
                continue;
            }
            queued.insert(job.id, label_set(&job.labels));
            if launched.contains(&job.id.to_string()) {
                continue;
            }
            match jobs::launch_for_job(ctx, &job, Some(&repo)).await {
                Ok(Outcome::Launched { .. }) => {
                    tracing::warn!(
                        job = job.id,
                        repo,
                        "launched at reconcile: no webhook came for this job"
                    );
                }
                Ok(other) => tracing::debug!(job = job.id, "queued job, no launch: {other:?}"),
                Err(_) => {}
            }
        }
    }
    if complete {
        let mut state = ctx.state.borrow_mut();
        // Jobs queued by webhook since the listing stay counted.
        let fresh: Vec<(u64, String)> = state
            .queued
            .iter()
            .filter(|(id, _)| state.launching.contains(id))
            .map(|(id, l)| (*id, l.clone()))
            .collect();
        state.queued = queued;
        state.queued.extend(fresh);
    }
}

/// Job locks (`slipway-job-<id>`) older than the longest pool TTL whose
/// job has no instance left: nothing can launch for those jobs any more.
/// Warm claim locks (`slipway-claim-<instance id>`) older than
/// `--launch-lock-timeout`.
async fn delete_spent_locks(ctx: &Ctx, managed: &[aws_sdk_ec2::types::Instance]) -> Result<()> {
    let longest = ctx
        .config
        .pools
        .iter()
        .filter_map(|p| slipway_spot::time::parse_duration(&p.ttl))
        .max()
        .unwrap_or(7200);
    let with_instance: Vec<String> = managed
        .iter()
        .filter_map(|i| ec2::tag(i, tags::JOB_ID).map(jobs::lock_name_of))
        .collect();
    let now = now();
    // A warm instance's claim lock has done its work once the claim is
    // over, or its holder died.
    let claim_timeout = secs(ctx.spec.launch_lock_timeout);
    for (name, made) in template::named_like(&ctx.ec2, "slipway-").await? {
        let spent = if name.starts_with("slipway-job-") {
            now - made > longest && !with_instance.contains(&name)
        } else {
            name.starts_with("slipway-claim-") && now - made > claim_timeout
        };
        if spent {
            template::delete(&ctx.ec2, &name).await;
            tracing::debug!(template = name, "spent lock deleted");
        }
    }
    Ok(())
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}
