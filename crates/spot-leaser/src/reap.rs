//! `spot-leaser reap`: terminate managed instances of a run, past their
//! expiry, or whose runner never came online; remove GitHub runners whose
//! instance is gone. An instance without `slipway:managed=true` is never
//! touched, nor a runner whose name is not `<prefix>-i-…`.

use crate::tags;
use aws_sdk_ec2::Client;
use slipway_github::{GitHub, Runner};
use slipway_spot::time::parse_rfc3339;

use crate::ec2;
use crate::output::{OUTPUT_VERSION, ReapReason, Reaped, ReapedInstance, RemovedRunner};
use crate::plan::now;
use crate::spec::ReapSpec;
use crate::{Error, Result};

pub(crate) async fn reap(
    args: &ReapSpec,
    client: &Client,
    github: Option<&GitHub>,
) -> Result<Reaped> {
    let register_timeout = args
        .register_timeout
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    if register_timeout.is_some() && github.is_none() {
        return Err(Error::Arguments(
            "--register-timeout needs --github-org or --github-repo to see the runners",
        ));
    }
    let mut filter = vec![(tags::MANAGED, tags::TRUE)];
    if let (Some(run), false, None) = (&args.run_id, args.expired, register_timeout) {
        filter.push((tags::RUN_ID, run.as_str()));
    }
    let now = now();
    let runners = match github {
        Some(github) => github.runners().await?,
        None => Vec::new(),
    };
    let managed = ec2::instances(client, &[], &filter).await?;
    let chosen: Vec<ReapedInstance> = managed
        .iter()
        .filter_map(|instance| {
            let reason = reason(args, instance, &runners, now, register_timeout)?;
            Some(ReapedInstance {
                instance_id: instance.instance_id().unwrap_or_default().to_owned(),
                run_id: ec2::tag(instance, tags::RUN_ID).map(str::to_owned),
                expires_at: ec2::tag(instance, tags::EXPIRES_AT).map(str::to_owned),
                reason,
            })
        })
        .collect();
    let ids: Vec<String> = chosen.iter().map(|i| i.instance_id.clone()).collect();
    let removed_runners = match github {
        Some(github) => remove_orphans(github, client, args, &runners, &ids).await?,
        None => Vec::new(),
    };
    ec2::terminate(client, &ids, args.dry_run).await?;
    for i in &chosen {
        tracing::info!(
            instance = i.instance_id,
            reason = i.reason.as_str(),
            dry_run = args.dry_run,
            "terminated"
        );
    }
    Ok(Reaped {
        version: OUTPUT_VERSION,
        dry_run: args.dry_run,
        terminated: chosen,
        removed_runners,
    })
}

/// Why `instance` is to be terminated, if it is: of the run asked for,
/// expired, or its runner never came online. An instance without the
/// managed tag never is, whatever the EC2 filter returned.
fn reason(
    args: &ReapSpec,
    instance: &aws_sdk_ec2::types::Instance,
    runners: &[Runner],
    now: i64,
    register_timeout: Option<i64>,
) -> Option<ReapReason> {
    if ec2::tag(instance, tags::MANAGED) != Some(tags::TRUE) {
        return None;
    }
    let run_id = ec2::tag(instance, tags::RUN_ID);
    if args.run_id.is_some() && run_id == args.run_id.as_deref() {
        return Some(ReapReason::Run);
    }
    let expired = args.expired
        && ec2::tag(instance, tags::EXPIRES_AT)
            .and_then(parse_rfc3339)
            .is_some_and(|t| t <= now);
    if expired {
        return Some(ReapReason::Expired);
    }
    let unregistered = register_timeout.is_some_and(|timeout| {
        never_registered(
            ec2::tag(instance, tags::RUNNER_NAME),
            instance
                .launch_time()
                .map(aws_sdk_ec2::primitives::DateTime::secs),
            runners,
            now,
            timeout,
        )
    });
    unregistered.then_some(ReapReason::NeverRegistered)
}

/// Removes our runners whose instance is gone (or about to be: `doomed`).
async fn remove_orphans(
    github: &GitHub,
    client: &Client,
    args: &ReapSpec,
    runners: &[Runner],
    doomed: &[String],
) -> Result<Vec<RemovedRunner>> {
    let live: Vec<String> = ec2::instances(client, &[], &[(tags::MANAGED, tags::TRUE)])
        .await?
        .iter()
        .filter_map(|i| i.instance_id().map(str::to_owned))
        .filter(|id| !doomed.contains(id))
        .collect();
    let mut removed_runners = Vec::new();
    for (runner, instance_id) in orphaned(runners, &live, &args.runner_prefix) {
        let removed = args.dry_run || github.delete_runner(runner.id).await?;
        if removed {
            tracing::info!(
                runner = runner.name,
                instance = instance_id,
                "runner removed: its instance is gone"
            );
            removed_runners.push(RemovedRunner {
                id: runner.id,
                name: runner.name.clone(),
                instance_id,
            });
        }
    }
    crate::github::log_stats(github);
    Ok(removed_runners)
}

/// An instance launched more than `timeout` seconds ago whose runner is
/// not online (or busy) on GitHub. An instance launched without
/// registration (no runner name) is never one.
pub(crate) fn never_registered(
    runner_name: Option<&str>,
    launched_at: Option<i64>,
    runners: &[Runner],
    now: i64,
    timeout: i64,
) -> bool {
    let (Some(name), Some(launched_at)) = (runner_name, launched_at) else {
        return false;
    };
    let online = runners
        .iter()
        .any(|r| r.name == name && (r.status == "online" || r.busy));
    !online && now - launched_at >= timeout
}

/// Our runners (`<prefix>-i-…`) whose instance is not among `live`.
pub(crate) fn orphaned<'a>(
    runners: &'a [Runner],
    live: &[String],
    prefix: &str,
) -> Vec<(&'a Runner, String)> {
    let ours = format!("{prefix}-");
    runners
        .iter()
        .filter_map(|r| {
            let instance = r.name.strip_prefix(&ours)?;
            (instance.starts_with("i-") && !live.iter().any(|l| l == instance))
                .then(|| (r, instance.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runner(id: u64, name: &str, status: &str, busy: bool) -> Runner {
        Runner {
            id,
            name: name.to_owned(),
            status: status.to_owned(),
            busy,
            labels: Vec::new(),
        }
    }

    #[test]
    fn runners_whose_instance_is_gone_are_orphans() {
        let runners = [
            runner(1, "slipway-i-0aaa", "offline", false),
            runner(2, "slipway-i-0bbb", "online", true),
            runner(3, "linux_runner", "offline", false),
            runner(4, "slipway-build", "offline", false),
        ];
        let live = ["i-0bbb".to_owned()];
        let gone: Vec<u64> = orphaned(&runners, &live, "slipway")
            .iter()
            .map(|(r, _)| r.id)
            .collect();
        assert_eq!(gone, [1]);
    }

    #[test]
    fn instances_whose_runner_never_came_online() {
        let runners = [
            runner(1, "slipway-i-1", "online", false),
            runner(2, "slipway-i-2", "offline", true),
            runner(3, "slipway-i-3", "offline", false),
        ];
        let now = 10_000;
        let old = Some(now - 900);
        assert!(!never_registered(
            Some("slipway-i-1"),
            old,
            &runners,
            now,
            600
        ));
        assert!(!never_registered(
            Some("slipway-i-2"),
            old,
            &runners,
            now,
            600
        ));
        assert!(never_registered(
            Some("slipway-i-3"),
            old,
            &runners,
            now,
            600
        ));
        assert!(never_registered(
            Some("slipway-i-4"),
            old,
            &runners,
            now,
            600
        ));
        // Still within the timeout; or never registered at all.
        assert!(!never_registered(
            Some("slipway-i-4"),
            Some(now - 60),
            &runners,
            now,
            600
        ));
        assert!(!never_registered(None, old, &runners, now, 600));
    }
}
