//! `spot-leaser watch`, on the runner instance: polls the instance
//! metadata service (`IMDSv2`: a session token, then the paths) every few
//! seconds for a spot interruption notice and a rebalance recommendation.
//! On a notice (about two minutes ahead): a workflow annotation, a metric,
//! the runner removed from GitHub so no new job lands on it, and with
//! `--rerun` a record on the instance for `spot-leaser rerun`.

use crate::tags;
use std::time::Duration;

use aws_config::imds::client::error::ImdsError;
use serde::Deserialize;
use slipway_cli::github::Actions;
use slipway_cli::metrics::Metrics;

use crate::ec2;
use crate::output::{Notice, OUTPUT_VERSION, Watched};
use crate::spec::WatchSpec;
use crate::{Error, Result};

const INSTANCE_ACTION: &str = "/latest/meta-data/spot/instance-action";
const REBALANCE: &str = "/latest/meta-data/events/recommendations/rebalance";

#[derive(Deserialize)]
struct Rebalance {
    #[serde(rename = "noticeTime")]
    notice_time: String,
}

pub(crate) async fn watch(
    args: &WatchSpec,
    actions: &Actions,
    pushgateway: Option<&str>,
) -> Result<Watched> {
    let (interval, timeout) = (args.interval, args.timeout);
    let imds = aws_config::imds::Client::builder()
        .endpoint(&args.imds_url)
        .map_err(|e| Error::bad("--imds-url", &args.imds_url, e.to_string()))?
        .max_attempts(3)
        .build();
    let instance_id = get(&imds, "/latest/meta-data/instance-id")
        .await?
        .ok_or_else(|| Error::Imds("has no instance id".to_owned()))?;
    let runner_name = args
        .runner_name
        .clone()
        .unwrap_or_else(|| format!("{}-{instance_id}", args.runner_prefix));
    tracing::info!(
        instance = instance_id,
        "watching for spot interruption notices"
    );
    let started = tokio::time::Instant::now();
    let mut watched = Watched {
        version: OUTPUT_VERSION,
        instance_id: instance_id.clone(),
        polls: 0,
        notice: None,
        rebalance_recommended_at: None,
        runner_name,
        runner_removed: None,
        recorded_for_rerun: false,
    };
    // A metadata service that stops answering for a while must not end
    // the watch: keep asking, and give up only after a minute of failures.
    let mut failing_since: Option<tokio::time::Instant> = None;
    let notice = loop {
        watched.polls += 1;
        match poll(&imds, &mut watched, args, actions, pushgateway).await {
            Ok(Some(notice)) => break notice,
            Ok(None) => failing_since = None,
            Err(err) => {
                let since = *failing_since.get_or_insert_with(tokio::time::Instant::now);
                if since.elapsed() >= Duration::from_mins(1) {
                    return Err(Error::Imds(format!(
                        "has failed for a minute: {}",
                        slipway_cli::chain(&err)
                    )));
                }
                tracing::warn!("{}; still watching", slipway_cli::chain(&err));
            }
        }
        if timeout.is_some_and(|t| started.elapsed() >= t) {
            return Ok(watched);
        }
        tokio::time::sleep(interval).await;
    };
    on_notice(&imds, args, actions, pushgateway, &mut watched, notice).await?;
    Ok(watched)
}

/// A notice came: an annotation and a metric, the runner removed from
/// GitHub, and with `--rerun` the record `spot-leaser rerun` reads.
async fn on_notice(
    imds: &aws_config::imds::Client,
    args: &WatchSpec,
    actions: &Actions,
    pushgateway: Option<&str>,
    watched: &mut Watched,
    notice: Notice,
) -> Result<()> {
    let instance_id = watched.instance_id.clone();
    tracing::warn!(
        instance = instance_id,
        action = notice.action.as_str(),
        time = notice.time,
        "spot interruption notice"
    );
    actions.warning(
        "spot-leaser",
        &format!(
            "spot interruption: EC2 will {} {instance_id} at {}; the job on runner {} will be cut short",
            notice.action, notice.time, watched.runner_name
        ),
    );
    write_metrics(args, pushgateway, watched, Some(&notice))?;
    watched.notice = Some(notice.clone());
    if let Some(scope) = args.github.clone() {
        let github = args.api.connect(scope).await?;
        watched.runner_removed = Some(remove_runner(&github, &watched.runner_name).await?);
        crate::github::log_stats(&github);
    }
    if args.rerun {
        record_for_rerun(imds, &instance_id, &notice, &watched.runner_name).await?;
        watched.recorded_for_rerun = true;
    }
    Ok(())
}

/// One look: the notice when there is one; a rebalance recommendation is
/// announced (once) on the way.
async fn poll(
    imds: &aws_config::imds::Client,
    watched: &mut Watched,
    args: &WatchSpec,
    actions: &Actions,
    pushgateway: Option<&str>,
) -> Result<Option<Notice>> {
    if let Some(text) = get(imds, INSTANCE_ACTION).await? {
        let notice: Notice = serde_json::from_str(&text).map_err(|e| {
            Error::Imds(format!(
                "gave an interruption notice that is not what EC2 documents ({e}): {text}"
            ))
        })?;
        return Ok(Some(notice));
    }
    if watched.rebalance_recommended_at.is_none()
        && let Some(text) = get(imds, REBALANCE).await?
    {
        let at = serde_json::from_str::<Rebalance>(&text)
            .map(|r| r.notice_time)
            .unwrap_or(text);
        let instance_id = &watched.instance_id;
        tracing::warn!(
            instance = instance_id,
            at,
            "EC2 recommends rebalancing: interruption risk is up"
        );
        actions.warning(
            "spot-leaser",
            &format!(
                "EC2 recommends rebalancing {instance_id} (at {at}): it may be interrupted soon"
            ),
        );
        watched.rebalance_recommended_at = Some(at);
        write_metrics(args, pushgateway, watched, None)?;
    }
    Ok(None)
}

/// Tags this instance with the interruption: `spot-leaser rerun` reads it.
async fn record_for_rerun(
    imds: &aws_config::imds::Client,
    instance_id: &str,
    notice: &Notice,
    runner_name: &str,
) -> Result<()> {
    let region = get(imds, "/latest/meta-data/placement/region")
        .await?
        .ok_or_else(|| Error::Imds("has no region".to_owned()))?;
    let client = ec2::client(&region).await;
    ec2::create_tags(
        &client,
        instance_id,
        &[
            (tags::INTERRUPTED_AT, notice.time.clone()),
            (tags::INTERRUPTED_RUNNER, runner_name.to_owned()),
            (tags::INTERRUPTED_ACTION, notice.action.as_str().to_owned()),
        ],
    )
    .await?;
    Ok(())
}

/// A metadata path, `None` on 404 (IMDS's "not now").
async fn get(imds: &aws_config::imds::Client, path: &str) -> Result<Option<String>> {
    match imds.get(path).await {
        Ok(value) => Ok(Some(value.as_ref().to_owned())),
        Err(ImdsError::ErrorResponse(e)) if e.response().status().as_u16() == 404 => Ok(None),
        Err(e) => Err(Error::Imds(format!(
            "failed on {path}: {}",
            aws_sdk_ec2::error::DisplayErrorContext(&e)
        ))),
    }
}

/// Removes the runner by name; `false` when GitHub does not have it.
async fn remove_runner(github: &slipway_github::GitHub, name: &str) -> Result<bool> {
    let runners = github.runners().await?;
    let Some(runner) = runners.iter().find(|r| r.name == name) else {
        tracing::warn!(runner = name, "no such runner on GitHub: nothing to remove");
        return Ok(false);
    };
    let removed = github.delete_runner(runner.id).await?;
    tracing::info!(
        runner = name,
        id = runner.id,
        removed,
        "runner removed from GitHub"
    );
    Ok(removed)
}

/// The watch's metrics: for `node_exporter`'s textfile collector (written
/// atomically) and the Pushgateway.
fn metrics(watched: &Watched, notice: Option<&Notice>) -> Metrics {
    let id = watched.instance_id.as_str();
    let mut m = Metrics::new("spot-leaser");
    let help = "1 when EC2 has announced this spot instance's interruption.";
    match notice {
        Some(n) => m.gauge(
            "slipway_spot_interruption_notice",
            help,
            &[("instance_id", id), ("action", n.action.as_str())],
            1.0,
        ),
        None => m.gauge(
            "slipway_spot_interruption_notice",
            help,
            &[("instance_id", id)],
            0.0,
        ),
    }
    m.gauge(
        "slipway_spot_rebalance_recommended",
        "1 when EC2 recommends rebalancing away from this instance.",
        &[("instance_id", id)],
        f64::from(u8::from(watched.rebalance_recommended_at.is_some())),
    );
    m
}

fn write_metrics(
    args: &WatchSpec,
    pushgateway: Option<&str>,
    watched: &Watched,
    notice: Option<&Notice>,
) -> Result<()> {
    let m = metrics(watched, notice);
    m.push_if(pushgateway, &[("instance_id", &watched.instance_id)]);
    if let Some(file) = &args.metrics_file {
        slipway_cli::write_atomically(file, m.render().as_bytes())
            .map_err(|source| Error::io("write metrics to", file, source))?;
    }
    Ok(())
}
