//! Warm pools: `warm = N` instances per pool launched from the pool's warm
//! template (shutdown stops them), prepared by their first boot, which
//! powers them off; a queued job starts one instead of a cold launch, and
//! the reconcile replenishes the pool, terminates what finished a job
//! (a warm instance stops, not terminates, when its runner ends), and
//! trims a surplus.
//!
//! A claim is exclusive across replicas and restarts: EC2 tags have no
//! compare-and-set, so a claim first makes the launch template
//! `slipway-claim-<instance id>` (EC2 makes a name once, as for a job's
//! launch lock), then looks at the instance again (still stopped, no
//! job), and only then tags and starts it. A failed claim deletes its lock
//! (the instance goes back to the pool); a kept one is deleted by the
//! reconcile after `--launch-lock-timeout`, as is one whose holder died.

use crate::tags;
use slipway_github::Job;

use super::Ctx;
use super::config::Pool;
use super::jobs::{as_launched, job_tags, launch_spec};
use crate::ec2;
use crate::launch::template::{self, Made, Named};
use crate::register;
use crate::{Result, launch};

pub(crate) fn template_name(pool: &Pool) -> String {
    format!("slipway-warm-{}", pool.name)
}

/// The claim lock on a warm instance.
fn claim_lock_name(instance_id: &str) -> String {
    format!("slipway-claim-{instance_id}")
}

/// Starts a stopped warm instance of `pool` for `job`, registered with the
/// job's labels; `None` when none is ready (or every ready one is being
/// claimed elsewhere).
pub(crate) async fn claim(ctx: &Ctx, pool: &Pool, job: &Job) -> Result<Option<String>> {
    let warm = ec2::instances(
        &ctx.ec2,
        &[],
        &[(tags::MANAGED, tags::TRUE), (tags::WARM, &pool.name)],
    )
    .await?;
    for instance in warm.iter().filter(|i| claimable(i)) {
        let id = instance.instance_id().unwrap_or_default().to_owned();
        if !ctx.state.borrow_mut().claiming.insert(id.clone()) {
            continue;
        }
        let claimed = claim_one(ctx, pool, job, &id).await;
        ctx.state.borrow_mut().claiming.remove(&id);
        if claimed? {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// Stopped, prepared, and not given to a job.
fn claimable(i: &aws_sdk_ec2::types::Instance) -> bool {
    ec2::state(i) == "stopped" && ec2::tag(i, tags::JOB_ID).is_none()
}

/// Takes the claim lock on one warm instance and starts it for `job`;
/// false when another process holds it or took the instance first.
async fn claim_one(ctx: &Ctx, pool: &Pool, job: &Job, id: &str) -> Result<bool> {
    let lock = claim_lock_name(id);
    let made = template::create_named(
        &ctx.ec2,
        &Named {
            name: &lock,
            image_id: &pool.image_id,
            user_data: b"# spot-leaser serve: the claim lock on a warm instance\n",
            iam_instance_profile: None,
            stop_on_shutdown: false,
        },
    )
    .await?;
    if made != Made::Now {
        tracing::debug!(
            instance = id,
            job = job.id,
            "warm instance claimed elsewhere"
        );
        return Ok(false);
    }
    // A claim that ended (lock aged out and deleted) may have given it to
    // a job since the listing.
    let now = ec2::instances(&ctx.ec2, &[id.to_owned()], &[]).await?;
    let Some(instance) = now.first().filter(|i| claimable(i)) else {
        template::delete(&ctx.ec2, &lock).await;
        return Ok(false);
    };
    let started = std::time::Instant::now();
    if let Err(err) = start_for(ctx, pool, job, instance).await {
        template::delete(&ctx.ec2, &lock).await;
        return Err(err);
    }
    tracing::info!(
        job = job.id,
        instance = id,
        ms = started.elapsed().as_millis(),
        "warm instance registered and started"
    );
    Ok(true)
}

async fn start_for(
    ctx: &Ctx,
    pool: &Pool,
    job: &Job,
    instance: &aws_sdk_ec2::types::Instance,
) -> Result<()> {
    let id = instance.instance_id().unwrap_or_default();
    let tags: Vec<(String, String)> = job_tags(job, pool, "spot");
    let tag_refs: Vec<(&str, String)> = tags.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    ec2::create_tags(&ctx.ec2, id, &tag_refs).await?;
    let registered = super::jobs::registrar(ctx, job)
        .register_one(&as_launched(instance), job.labels.clone(), None)
        .await;
    if let Err(err) = registered {
        // Back to the pool, unclaimed.
        let _ = ctx
            .ec2
            .delete_tags()
            .resources(id)
            .tags(aws_sdk_ec2::types::Tag::builder().key(tags::JOB_ID).build())
            .send()
            .await;
        return Err(err);
    }
    ec2::start(&ctx.ec2, &[id.to_owned()]).await?;
    Ok(())
}

/// Keeps each pool's warm count: launches what is missing, terminates
/// warm instances that finished their job (stopped with a job) and a
/// surplus of unclaimed stopped ones.
pub(crate) async fn replenish(ctx: &Ctx, paused: bool) -> Result<()> {
    for pool in &ctx.config.pools {
        let instances = ec2::instances(
            &ctx.ec2,
            &[],
            &[(tags::MANAGED, tags::TRUE), (tags::WARM, &pool.name)],
        )
        .await?;
        let finished: Vec<String> = instances
            .iter()
            .filter(|i| ec2::state(i) == "stopped" && ec2::tag(i, tags::JOB_ID).is_some())
            .filter_map(|i| i.instance_id().map(str::to_owned))
            .collect();
        if !finished.is_empty() {
            tracing::info!(
                pool = pool.name,
                "terminating {} warm instances that ran their job",
                finished.len()
            );
            ec2::terminate(&ctx.ec2, &finished, false).await?;
        }
        let unclaimed: Vec<&aws_sdk_ec2::types::Instance> = instances
            .iter()
            .filter(|i| ec2::tag(i, tags::JOB_ID).is_none())
            .collect();
        let ready = unclaimed
            .iter()
            .filter(|i| ec2::state(i) == "stopped")
            .count();
        ctx.state
            .borrow_mut()
            .warm
            .insert(pool.name.clone(), u64::try_from(ready).unwrap_or(u64::MAX));
        let want = usize::try_from(pool.warm).unwrap_or(0);
        if unclaimed.len() > want {
            let surplus: Vec<String> = unclaimed
                .iter()
                .filter(|i| ec2::state(i) == "stopped")
                .take(unclaimed.len() - want)
                .filter_map(|i| i.instance_id().map(str::to_owned))
                .collect();
            tracing::info!(
                pool = pool.name,
                "terminating {} surplus warm instances",
                surplus.len()
            );
            ec2::terminate(&ctx.ec2, &surplus, false).await?;
        } else if unclaimed.len() < want && !paused {
            launch_warm(ctx, pool, want - unclaimed.len()).await?;
        }
    }
    Ok(())
}

async fn launch_warm(ctx: &Ctx, pool: &Pool, count: usize) -> Result<()> {
    let name = template_name(pool);
    let boot = register::warm_boot_script(&ctx.spec.runner.parameter_prefix, &ctx.spec.watch_args);
    template::create_named(
        &ctx.ec2,
        &Named {
            name: &name,
            image_id: &pool.image_id,
            user_data: boot.as_bytes(),
            iam_instance_profile: pool.iam_instance_profile.as_deref(),
            stop_on_shutdown: true,
        },
    )
    .await?;
    let mut spec = launch_spec(
        ctx,
        pool,
        &name,
        i32::try_from(count).unwrap_or(1),
        format!("warm-{}", pool.name),
    );
    // A warm instance waits stopped: its expiry is a week, not a job's.
    crate::spec::WARM_TTL.clone_into(&mut spec.ttl);
    spec.extra_tags = vec![
        (tags::WARM.into(), pool.name.clone()),
        (tags::POOL.into(), pool.name.clone()),
    ];
    let launched = launch::launch(&spec, &ctx.ec2).await?;
    tracing::info!(
        pool = pool.name,
        instances = launched.instances.len(),
        "warm instances launched; each powers itself off once prepared"
    );
    Ok(())
}
