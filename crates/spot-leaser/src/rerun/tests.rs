use aws_sdk_ec2::types::{StateReason, Tag};

use super::*;

fn job(id: u64, conclusion: &str, runner: &str) -> Job {
    Job {
        id,
        run_id: 9,
        run_attempt: None,
        name: format!("job {id}"),
        status: "completed".into(),
        conclusion: Some(conclusion.into()),
        labels: Vec::new(),
        runner_name: Some(runner.into()),
    }
}

#[test]
fn only_jobs_ended_by_an_interruption_are_rerun() {
    let jobs = [
        job(1, "failure", "slipway-i-recorded"),
        job(2, "cancelled", "slipway-i-reclaimed"),
        job(3, "failure", "slipway-i-plain"),
        job(4, "success", "slipway-i-recorded"),
        job(5, "failure", "GitHub Actions 5"),
        job(6, "failure", "slipway-i-unknown"),
    ];
    let instances = [
        Instance::builder()
            .instance_id("i-recorded")
            .tags(Tag::builder().key(tags::INTERRUPTED_AT).value("t").build())
            .build(),
        Instance::builder()
            .instance_id("i-reclaimed")
            .state_reason(
                StateReason::builder()
                    .code("Server.SpotInstanceTermination")
                    .build(),
            )
            .build(),
        Instance::builder()
            .instance_id("i-plain")
            .state_reason(
                StateReason::builder()
                    .code("Client.UserInitiatedShutdown")
                    .build(),
            )
            .build(),
    ];
    let chosen: Vec<(u64, Evidence)> = interrupted(&jobs, &instances, "slipway")
        .iter()
        .map(|j| (j.job_id, j.evidence))
        .collect();
    assert_eq!(
        chosen,
        [(1, Evidence::Recorded), (2, Evidence::SpotTermination)]
    );
    assert_eq!(candidates(&jobs, "slipway").len(), 4);
}
