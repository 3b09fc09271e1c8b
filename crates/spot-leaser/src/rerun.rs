//! `spot-leaser rerun`: once a run has completed, re-run the jobs that
//! spot interruptions ended, each once.
//!
//! A job counts as interrupted when it failed or was cancelled on one of
//! our runners (`<prefix>-<instance id>`) whose instance either carries
//! the record `watch --rerun` leaves (`slipway:interrupted-at`) or was
//! ended by EC2 for a spot interruption (its state reason
//! `Server.SpotInstanceTermination`). Only the run's latest attempt is
//! looked at, so a second `rerun` finds the re-run jobs on new runners and
//! does nothing more.

use crate::tags;
use std::time::Duration;

use aws_sdk_ec2::types::Instance;
use slipway_github::Job;

use crate::ec2;
use crate::output::{Evidence, OUTPUT_VERSION, Rerun, RerunJob};
use crate::spec::RerunSpec;
use crate::{Error, Result};

pub(crate) async fn rerun(args: &RerunSpec) -> Result<Rerun> {
    let wait = args.wait;
    let scope = args
        .github
        .clone()
        .ok_or(Error::Arguments("give --github-repo OWNER/REPO"))?;
    let github = args.api.connect(scope).await?;
    let started = tokio::time::Instant::now();
    let run = loop {
        let run = github.workflow_run(args.run_id).await?;
        if run.status.as_deref() == Some("completed") || started.elapsed() >= wait {
            break run;
        }
        tokio::time::sleep(Duration::from_secs(15).min(wait)).await;
    };
    let mut out = Rerun {
        version: OUTPUT_VERSION,
        run_id: args.run_id,
        status: run.status.clone(),
        dry_run: args.dry_run,
        jobs: Vec::new(),
    };
    if run.status.as_deref() != Some("completed") {
        tracing::warn!(
            run = args.run_id,
            status = run.status.as_deref().unwrap_or("unknown"),
            "the run has not completed: nothing re-run (GitHub re-runs jobs of completed runs only)"
        );
        return Ok(out);
    }
    let jobs = github.run_jobs(args.run_id).await?;
    let ids: Vec<String> = candidates(&jobs, &args.runner_prefix)
        .into_iter()
        .map(|(_, instance)| instance)
        .collect();
    let client = ec2::client(&args.region).await;
    let instances = ec2::instances_any_state(&client, &ids).await?;
    out.jobs = interrupted(&jobs, &instances, &args.runner_prefix);
    for job in &out.jobs {
        if !args.dry_run {
            github.rerun_job(job.job_id).await?;
        }
        tracing::info!(
            job = job.job_id,
            name = job.name,
            instance = job.instance_id,
            evidence = job.evidence.as_str(),
            dry_run = args.dry_run,
            "re-run"
        );
    }
    crate::github::log_stats(&github);
    Ok(out)
}

/// Failed or cancelled jobs on our runners, with the instance each ran on.
fn candidates<'a>(jobs: &'a [Job], prefix: &str) -> Vec<(&'a Job, String)> {
    let ours = format!("{prefix}-");
    jobs.iter()
        .filter(|j| matches!(j.conclusion.as_deref(), Some("failure" | "cancelled")))
        .filter_map(|j| {
            let instance = j.runner_name.as_deref()?.strip_prefix(&ours)?;
            instance.starts_with("i-").then(|| (j, instance.to_owned()))
        })
        .collect()
}

/// The candidates whose instance shows a spot interruption.
fn interrupted(jobs: &[Job], instances: &[Instance], prefix: &str) -> Vec<RerunJob> {
    let mut out = Vec::new();
    for (job, instance_id) in candidates(jobs, prefix) {
        let Some(instance) = instances
            .iter()
            .find(|i| i.instance_id() == Some(instance_id.as_str()))
        else {
            continue;
        };
        let evidence = if ec2::tag(instance, tags::INTERRUPTED_AT).is_some() {
            Evidence::Recorded
        } else if instance.state_reason().and_then(|r| r.code())
            == Some("Server.SpotInstanceTermination")
        {
            Evidence::SpotTermination
        } else {
            continue;
        };
        out.push(RerunJob {
            job_id: job.id,
            name: job.name.clone(),
            runner_name: job.runner_name.clone().unwrap_or_default(),
            instance_id,
            evidence,
        });
    }
    out
}

#[cfg(test)]
mod tests;
