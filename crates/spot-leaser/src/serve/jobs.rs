//! A runner for one queued job, and a re-run for one interrupted job.
//!
//! Launching for a job is safe to attempt any number of times, from any
//! number of replicas, because the state is EC2's:
//! 1. an instance tagged `slipway:job-id=<id>` means it is done;
//! 2. the job's launch template `slipway-job-<id>` is the lock: EC2 makes
//!    a name once, so one caller makes it and the others stand back (a
//!    lock older than `--launch-lock-timeout` whose job still has no
//!    instance is taken over, after GitHub says the job is still queued);
//! 3. the fleet request's client token is derived from the job, so even a
//!    request repeated after a lost answer launches once.

use crate::tags;
use slipway_github::Job;

use super::Ctx;
use super::config::{Capacity, Pool};
use crate::ec2;
use crate::launch::template::{self, Made, Named};
use crate::output::LaunchedInstance;
use crate::plan::now;
use crate::register::{self, Registrar};
use crate::spec::{LaunchSpec, PlanSpec};
use crate::{Result, launch};

/// What a launch for a job came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Launched {
        instance_id: String,
        pool: String,
        capacity: &'static str,
        warm: bool,
    },
    /// An instance for the job exists already.
    AlreadyLaunched(String),
    /// Another process holds the job's lock.
    LockedElsewhere,
    /// This process is launching for it already.
    InFlight,
    NoPool,
    /// Every matching pool is at its `max_count`.
    Full,
    Paused,
    /// GitHub says the job is no longer queued.
    NotQueued,
}

/// Tag values are at most 256 characters.
pub(crate) fn tag_value(text: &str) -> String {
    text.chars().take(256).collect()
}

pub(crate) fn lock_name(job_id: u64) -> String {
    format!("slipway-job-{job_id}")
}

/// Launches (or starts a warm instance) for a queued job.
pub(crate) async fn launch_for_job(ctx: &Ctx, job: &Job, repo: Option<&str>) -> Result<Outcome> {
    if ctx.state.borrow().paused {
        return Ok(Outcome::Paused);
    }
    let candidates = ctx.config.matching(&job.labels);
    if candidates.is_empty() {
        return Ok(Outcome::NoPool);
    }
    if !ctx.state.borrow_mut().launching.insert(job.id) {
        return Ok(Outcome::InFlight);
    }
    let outcome = launch_locked(ctx, job, repo, &candidates).await;
    ctx.state.borrow_mut().launching.remove(&job.id);
    match &outcome {
        Ok(Outcome::Launched {
            instance_id,
            pool,
            capacity,
            warm,
        }) => {
            let path = if *warm { "warm" } else { "cold" };
            *ctx.state
                .borrow_mut()
                .launches
                .entry((pool.clone(), capacity, path))
                .or_default() += 1;
            tracing::info!(
                job = job.id,
                instance = instance_id,
                pool,
                capacity,
                path,
                "runner launched for the job"
            );
        }
        Ok(other) => tracing::debug!(job = job.id, "no launch: {other:?}"),
        Err(err) => {
            let pool = candidates[0].name.clone();
            *ctx.state
                .borrow_mut()
                .launch_failures
                .entry(pool)
                .or_default() += 1;
            tracing::error!(job = job.id, "launch failed: {}", slipway_cli::chain(err));
        }
    }
    outcome
}

async fn launch_locked(
    ctx: &Ctx,
    job: &Job,
    repo: Option<&str>,
    candidates: &[&Pool],
) -> Result<Outcome> {
    let id = job.id.to_string();
    let existing = ec2::instances(
        &ctx.ec2,
        &[],
        &[(tags::MANAGED, tags::TRUE), (tags::JOB_ID, &id)],
    )
    .await?;
    if let Some(instance) = existing.first() {
        return Ok(Outcome::AlreadyLaunched(
            instance.instance_id().unwrap_or_default().to_owned(),
        ));
    }
    let reclaimed = reclaimed_pool(ctx, job).await?;
    let Some((pool, on_demand)) = choose(ctx, candidates, reclaimed.as_deref()).await? else {
        tracing::warn!(job = job.id, "every pool for the job is at its max_count");
        return Ok(Outcome::Full);
    };
    if let Some(reclaimed) = &reclaimed {
        tracing::info!(
            job = job.id,
            reclaimed,
            pool = pool.name,
            on_demand,
            "re-run of an interrupted job: not on the reclaimed spot pool"
        );
    }
    let lock = lock_name(job.id);
    let boot = register::boot_script(&ctx.spec.runner.parameter_prefix, &ctx.spec.watch_args);
    let made = template::create_named(
        &ctx.ec2,
        &Named {
            name: &lock,
            image_id: &pool.image_id,
            user_data: boot.as_bytes(),
            iam_instance_profile: pool.iam_instance_profile.as_deref(),
            stop_on_shutdown: false,
        },
    )
    .await?;
    if made == Made::Now {
        tracing::info!(
            job = job.id,
            pool = pool.name,
            "launch lock taken; launching"
        );
    }
    if let Made::Before(at) = made {
        let age = now() - at;
        if age < secs(ctx.spec.launch_lock_timeout) {
            return Ok(Outcome::LockedElsewhere);
        }
        // The holder died between the lock and the launch (or the job
        // finished and this is a late redelivery): launch only for a job
        // GitHub still has queued.
        if !still_queued(ctx, job, repo).await {
            return Ok(Outcome::NotQueued);
        }
        tracing::warn!(
            job = job.id,
            age,
            "taking over a launch lock whose holder is gone"
        );
    }
    if pool.warm > 0
        && !on_demand
        && let Some(instance_id) = super::warm::claim(ctx, pool, job).await?
    {
        return Ok(Outcome::Launched {
            instance_id,
            pool: pool.name.clone(),
            capacity: "spot",
            warm: true,
        });
    }
    // Instances launched for the job before (since terminated: one that
    // never registered) make this a new request, not a repeat of theirs.
    let generation = ec2::tagged_any_state(
        &ctx.ec2,
        &[(tags::MANAGED, tags::TRUE), (tags::JOB_ID, &id)],
    )
    .await?
    .len();
    let launched = cold(ctx, job, pool, on_demand, &lock, generation).await;
    match launched {
        Ok(instance) => Ok(Outcome::Launched {
            instance_id: instance.instance_id,
            pool: pool.name.clone(),
            capacity: instance.lifecycle.as_str(),
            warm: false,
        }),
        Err(err) => {
            // Nothing of this launch is left (launch_then terminates what it
            // made on failure): free the job for the next attempt.
            template::delete(&ctx.ec2, &lock).await;
            Err(err)
        }
    }
}

/// Whether GitHub still has the job queued; true when it cannot tell.
async fn still_queued(ctx: &Ctx, job: &Job, repo: Option<&str>) -> bool {
    let Some(github) = super::repo_client(ctx, repo).await else {
        return true;
    };
    match github.job(job.id).await {
        Ok(now) => now.status == "queued",
        Err(e) => {
            tracing::warn!(job = job.id, "could not look the job up: {e}");
            true
        }
    }
}

fn secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// The pool to launch in, and whether on-demand: the first matching pool
/// below its `max_count` whose spot is not blocked (the pool just
/// reclaimed from this job, or an open breaker); when every one is
/// blocked, the first of them on on-demand.
async fn choose<'a>(
    ctx: &Ctx,
    candidates: &[&'a Pool],
    reclaimed: Option<&str>,
) -> Result<Option<(&'a Pool, bool)>> {
    let mut blocked: Option<&Pool> = None;
    for &pool in candidates {
        let live = ec2::instances(
            &ctx.ec2,
            &[],
            &[(tags::MANAGED, tags::TRUE), (tags::POOL, &pool.name)],
        )
        .await?
        .iter()
        .filter(|i| ec2::tag(i, tags::JOB_ID).is_some())
        .count();
        if live >= usize::try_from(pool.max_count).unwrap_or(usize::MAX) {
            continue;
        }
        let spot = pool.capacity == Capacity::Spot;
        let is_blocked =
            spot && (reclaimed == Some(pool.name.as_str()) || breaker_open(ctx, pool).await?);
        if !is_blocked {
            return Ok(Some((pool, !spot)));
        }
        blocked.get_or_insert(pool);
    }
    Ok(blocked.map(|p| (p, true)))
}

/// Whether the pool's breaker is open: `--breaker` interruptions of its
/// instances within `--breaker-window`, the last less than
/// `--breaker-cooldown` ago. Counted from EC2 (interrupted instances stay
/// visible for about an hour), so every replica agrees.
pub(crate) async fn breaker_open(ctx: &Ctx, pool: &Pool) -> Result<bool> {
    let instances = ec2::tagged_any_state(
        &ctx.ec2,
        &[(tags::MANAGED, tags::TRUE), (tags::POOL, &pool.name)],
    )
    .await?;
    let now = now();
    let times: Vec<i64> = instances
        .iter()
        .filter_map(ec2::interrupted)
        .map(|i| i.at.unwrap_or(now))
        .filter(|&at| now - at <= secs(ctx.spec.breaker_window))
        .collect();
    let open = u32::try_from(times.len()).unwrap_or(u32::MAX) >= ctx.spec.breaker
        && times
            .iter()
            .max()
            .is_some_and(|&last| now - last < secs(ctx.spec.breaker_cooldown));
    let was = ctx
        .state
        .borrow_mut()
        .breaker_open
        .insert(pool.name.clone(), open);
    if open && was != Some(true) {
        tracing::warn!(
            pool = pool.name,
            interruptions = times.len(),
            "circuit breaker open: no spot launches in this pool for {} s",
            ctx.spec.breaker_cooldown.as_secs()
        );
    } else if !open && was == Some(true) {
        tracing::info!(pool = pool.name, "circuit breaker closed");
    }
    Ok(open)
}

/// The pool an earlier attempt of this job was interrupted in, if any.
async fn reclaimed_pool(ctx: &Ctx, job: &Job) -> Result<Option<String>> {
    if job.run_attempt.unwrap_or(1) <= 1 {
        return Ok(None);
    }
    let run = job.run_id.to_string();
    let name = tag_value(&job.name);
    let earlier = ec2::tagged_any_state(
        &ctx.ec2,
        &[
            (tags::MANAGED, tags::TRUE),
            (tags::GH_RUN, &run),
            (tags::JOB_NAME, &name),
        ],
    )
    .await?;
    Ok(earlier
        .iter()
        .filter(|i| ec2::interrupted(i).is_some())
        .find_map(|i| ec2::tag(i, tags::POOL).map(str::to_owned)))
}

/// The tags that tie an instance to its job.
pub(crate) fn job_tags(job: &Job, pool: &Pool, capacity: &str) -> Vec<(String, String)> {
    vec![
        (tags::JOB_ID.into(), job.id.to_string()),
        (tags::POOL.into(), pool.name.clone()),
        (tags::GH_RUN.into(), job.run_id.to_string()),
        (
            tags::GH_ATTEMPT.into(),
            job.run_attempt.unwrap_or(1).to_string(),
        ),
        (tags::JOB_NAME.into(), tag_value(&job.name)),
        (tags::CAPACITY.into(), capacity.to_owned()),
    ]
}

/// A launch of `count` instances of `pool` from `template`.
pub(crate) fn launch_spec(
    ctx: &Ctx,
    pool: &Pool,
    template: &str,
    count: i32,
    run_id: String,
) -> LaunchSpec {
    let plan = PlanSpec::new(&ctx.spec.region, pool.instance_types.clone());
    LaunchSpec {
        subnet_ids: pool.subnet_ids.clone(),
        run_id: Some(run_id),
        ttl: pool.ttl.clone(),
        on_demand_fallback: pool.on_demand_fallback,
        on_demand_only: pool.capacity == Capacity::OnDemand,
        ..LaunchSpec::from_template(plan, count, template)
    }
}

/// Registration of runners that carry exactly the job's labels.
pub(crate) fn registrar<'a>(ctx: &'a Ctx, job: &'a Job) -> Registrar<'a> {
    Registrar {
        github: &ctx.github,
        ec2: &ctx.ec2,
        ssm: &ctx.ssm,
        runner: &ctx.spec.runner,
        exact_labels: Some(&job.labels),
    }
}

/// A cold launch of one instance for the job, registered with exactly
/// the job's labels.
async fn cold(
    ctx: &Ctx,
    job: &Job,
    pool: &Pool,
    on_demand: bool,
    lock: &str,
    generation: usize,
) -> Result<LaunchedInstance> {
    let capacity = if on_demand { "on-demand" } else { "spot" };
    let mut spec = launch_spec(ctx, pool, lock, 1, format!("job-{}", job.id));
    spec.on_demand_only = on_demand;
    if on_demand {
        spec.on_demand_fallback = false;
    }
    // One token per job and generation: a repeated request (a second
    // replica, a retry after a lost answer) is the same request to EC2.
    spec.client_token = Some(format!("slipway-job-{}-{generation}", job.id));
    spec.extra_tags = job_tags(job, pool, capacity);
    let registrar = registrar(ctx, job);
    let launched = launch::launch_then(
        &spec,
        &ctx.ec2,
        None,
        async |instances: &mut [LaunchedInstance]| registrar.register(instances).await,
    )
    .await?;
    launched
        .instances
        .into_iter()
        .next()
        .ok_or_else(|| crate::Error::NoCapacity(format!("no instance for job {}", job.id)))
}

/// A completed job: when it failed because EC2 interrupted its spot
/// instance, re-run it once (its next attempt is launched away from the
/// reclaimed pool).
pub(crate) async fn on_completed(ctx: &Ctx, job: &Job, repo: Option<&str>) -> Result<()> {
    if !matches!(job.conclusion.as_deref(), Some("failure" | "cancelled")) {
        return Ok(());
    }
    let prefix = format!("{}-", ctx.spec.runner.runner_prefix);
    let Some(instance_id) = job
        .runner_name
        .as_deref()
        .and_then(|n| n.strip_prefix(&prefix))
        .filter(|id| id.starts_with("i-"))
    else {
        return Ok(());
    };
    let found = ec2::instances_any_state(&ctx.ec2, &[instance_id.to_owned()]).await?;
    let Some(instance) = found.first() else {
        return Ok(());
    };
    if ec2::tag(instance, tags::MANAGED) != Some(tags::TRUE) || ec2::interrupted(instance).is_none()
    {
        return Ok(());
    }
    let pool = ec2::tag(instance, tags::POOL)
        .unwrap_or("unknown")
        .to_owned();
    let (instance_type, zone, _) = ec2::shape(instance);
    // `watch` records a notice's action; EC2's own reason is a termination.
    let action = ec2::tag(instance, tags::INTERRUPTED_ACTION)
        .unwrap_or("terminate")
        .to_owned();
    {
        let mut state = ctx.state.borrow_mut();
        *state.interruptions.entry(pool.clone()).or_default() += 1;
        *state
            .terminations
            .entry((instance_type, zone, action))
            .or_default() += 1;
    }
    let run = job.run_id.to_string();
    let name = tag_value(&job.name);
    let attempts = ec2::tagged_any_state(
        &ctx.ec2,
        &[
            (tags::MANAGED, tags::TRUE),
            (tags::GH_RUN, &run),
            (tags::JOB_NAME, &name),
        ],
    )
    .await?;
    if attempts
        .iter()
        .any(|i| ec2::tag(i, tags::RERUN_REQUESTED).is_some())
    {
        tracing::warn!(
            job = job.id,
            instance = instance_id,
            "interrupted again after its re-run: not re-run a second time"
        );
        return Ok(());
    }
    ec2::create_tags(
        &ctx.ec2,
        instance_id,
        &[(
            tags::RERUN_REQUESTED,
            slipway_spot::time::format_rfc3339(now()),
        )],
    )
    .await?;
    let Some(github) = super::repo_client(ctx, repo).await else {
        tracing::error!(
            job = job.id,
            "interrupted, but no repository to re-run it in"
        );
        return Ok(());
    };
    github.rerun_job(job.id).await?;
    ctx.state.borrow_mut().reruns += 1;
    tracing::info!(
        job = job.id,
        instance = instance_id,
        pool,
        "spot interruption ended the job: re-run requested, away from this pool"
    );
    // The breaker's state follows from EC2's record; look now so that it
    // is logged and exported at once.
    if let Some(p) = ctx.config.pool(&pool) {
        breaker_open(ctx, p).await?;
    }
    Ok(())
}

/// The instance as `register_one` wants it.
pub(crate) fn as_launched(instance: &aws_sdk_ec2::types::Instance) -> LaunchedInstance {
    let (instance_type, availability_zone, lifecycle) = ec2::shape(instance);
    LaunchedInstance {
        instance_id: instance.instance_id().unwrap_or_default().to_owned(),
        instance_type,
        availability_zone,
        private_ip: instance.private_ip_address().map(str::to_owned),
        lifecycle,
        price: None,
        runner: None,
    }
}

/// The lock of the job whose id a tag holds.
pub(crate) fn lock_name_of(job_id: &str) -> String {
    format!("slipway-job-{job_id}")
}
