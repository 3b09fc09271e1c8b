//! Queue depth as GitHub matches work to runners: *jobs* (a run reads
//! `queued` while some of its jobs already run), grouped by the label set
//! they ask for, and scale rules over that depth.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{GitHubError, Job};

/// Queued jobs, in all and per label set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Depth {
    /// Queued jobs counted (those a runner with `--labels` could take,
    /// when given).
    pub queued: usize,
    /// Per label set, largest first.
    pub by_labels: Vec<LabelDepth>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabelDepth {
    /// The job's `runs-on` labels, lower-cased and sorted.
    pub labels: Vec<String>,
    pub queued: usize,
}

/// Counts queued jobs by label set. With `runner_labels`, only jobs a
/// runner carrying those labels can take count: GitHub gives a job to a
/// runner that has every label the job asks for (compared without case).
#[must_use]
pub fn depth(jobs: &[Job], runner_labels: Option<&[String]>) -> Depth {
    let runner: Option<Vec<String>> =
        runner_labels.map(|l| l.iter().map(|s| s.to_ascii_lowercase()).collect());
    let mut sets: BTreeMap<Vec<String>, usize> = BTreeMap::new();
    for job in jobs.iter().filter(|j| j.status == "queued") {
        let mut labels: Vec<String> = job.labels.iter().map(|l| l.to_ascii_lowercase()).collect();
        labels.sort();
        labels.dedup();
        if let Some(runner) = &runner
            && !labels.iter().all(|l| runner.contains(l))
        {
            continue;
        }
        *sets.entry(labels).or_default() += 1;
    }
    let mut by_labels: Vec<LabelDepth> = sets
        .into_iter()
        .map(|(labels, queued)| LabelDepth { labels, queued })
        .collect();
    by_labels.sort_by(|a, b| b.queued.cmp(&a.queued).then(a.labels.cmp(&b.labels)));
    Depth {
        queued: by_labels.iter().map(|d| d.queued).sum(),
        by_labels,
    }
}

#[derive(Deserialize)]
struct WorkflowJobEvent {
    workflow_job: Job,
}

/// The jobs described by a stream of `workflow_job` webhook payloads (one
/// JSON document after another, as a receiver appends them), each job in
/// its latest state. Deliveries can arrive out of order, so a job never
/// goes back from `completed` to `in_progress` or from there to `queued`.
pub fn jobs_from_webhooks(text: &str) -> Result<Vec<Job>, GitHubError> {
    fn rank(status: &str) -> u8 {
        match status {
            "completed" => 3,
            "in_progress" => 2,
            "queued" | "waiting" | "pending" | "requested" => 1,
            _ => 0,
        }
    }
    let mut latest: BTreeMap<u64, Job> = BTreeMap::new();
    let stream = serde_json::Deserializer::from_str(text).into_iter::<serde_json::Value>();
    for (n, value) in stream.enumerate() {
        let value = value.map_err(|e| {
            GitHubError::Usage(format!("workflow_job payload {}: not JSON: {e}", n + 1))
        })?;
        let event: WorkflowJobEvent = serde_json::from_value(value).map_err(|e| {
            GitHubError::Usage(format!("payload {}: not a workflow_job event ({e})", n + 1))
        })?;
        let job = event.workflow_job;
        match latest.get(&job.id) {
            Some(seen) if rank(&seen.status) > rank(&job.status) => {}
            _ => {
                latest.insert(job.id, job);
            }
        }
    }
    Ok(latest.into_values().collect())
}

#[cfg(test)]
mod tests;
