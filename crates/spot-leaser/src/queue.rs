//! `spot-leaser queue`: queued jobs per label set, and the depth the
//! scale rules of `launch` see.

use std::io::Read as _;

use slipway_github::queue::{Depth, depth, jobs_from_webhooks};
use slipway_github::{GitHub, Job};

use crate::output::{OUTPUT_VERSION, Queue};
use crate::register::is_size_label;
use crate::spec::{QueueSpec, RunnerSpec};
use crate::{Error, Result};

pub(crate) async fn queue(args: &QueueSpec) -> Result<Queue> {
    let jobs = if let Some(path) = &args.webhooks {
        {
            let mut text = String::new();
            if path.as_os_str() == "-" {
                std::io::stdin()
                    .read_to_string(&mut text)
                    .map_err(|source| Error::io("read webhook payloads from", "stdin", source))?;
            } else {
                text = crate::read(path)?;
            }
            jobs_from_webhooks(&text)?
        }
    } else {
        {
            let scope = args.github.clone().ok_or(Error::Arguments(
                "give --github-repo OWNER/REPO, or --webhooks FILE",
            ))?;
            let github = args.api.connect(scope).await?;
            let jobs = github.queued_jobs().await?;
            crate::github::log_stats(&github);
            jobs
        }
    };
    let labels = (!args.labels.is_empty()).then_some(args.labels.as_slice());
    let depth = depth_for(&jobs, labels);
    Ok(Queue {
        version: OUTPUT_VERSION,
        queued: depth.queued,
        by_labels: depth
            .by_labels
            .into_iter()
            .map(crate::output::label_depth)
            .collect(),
    })
}

/// Depth as a runner with `runner_labels` sees it. Unless those labels
/// name a size, the jobs' size labels are set aside: the size is what
/// the scale rules choose.
fn depth_for(jobs: &[Job], runner_labels: Option<&[String]>) -> Depth {
    match runner_labels {
        Some(labels) if !labels.iter().any(|l| is_size_label(l)) => {
            let sizeless: Vec<Job> = jobs
                .iter()
                .map(|j| Job {
                    labels: j
                        .labels
                        .iter()
                        .filter(|l| !is_size_label(l))
                        .cloned()
                        .collect(),
                    ..j.clone()
                })
                .collect();
            depth(&sizeless, Some(labels))
        }
        _ => depth(jobs, runner_labels),
    }
}

/// The queue depth for `launch --scale-rule`: queued jobs the runners
/// about to be launched could take.
pub(crate) async fn depth_for_runners(github: &GitHub, args: &RunnerSpec) -> Result<usize> {
    let jobs = github.queued_jobs().await?;
    let mut labels: Vec<String> = ["self-hosted", "linux", "x64", "arm64"]
        .map(str::to_owned)
        .to_vec();
    labels.extend(args.runner_labels.iter().cloned());
    Ok(depth_for(&jobs, Some(&labels)).queued)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: u64, labels: &[&str]) -> Job {
        Job {
            id,
            run_id: 1,
            run_attempt: None,
            name: String::new(),
            status: "queued".into(),
            conclusion: None,
            labels: labels.iter().map(|s| (*s).to_owned()).collect(),
            runner_name: None,
        }
    }

    #[test]
    fn size_labels_are_set_aside_unless_asked_for() {
        let jobs = [
            job(1, &["self-hosted", "slipway-4cpu"]),
            job(2, &["self-hosted", "slipway-16cpu"]),
            job(3, &["self-hosted", "gpu"]),
        ];
        let any_size = depth_for(&jobs, Some(&["self-hosted".into(), "linux".into()]));
        assert_eq!(any_size.queued, 2);
        let four = depth_for(&jobs, Some(&["self-hosted".into(), "slipway-4cpu".into()]));
        assert_eq!(four.queued, 1);
    }
}
