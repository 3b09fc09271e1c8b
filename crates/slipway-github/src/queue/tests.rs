use super::*;

fn job(id: u64, status: &str, labels: &[&str]) -> Job {
    Job {
        id,
        run_id: 1,
        run_attempt: None,
        name: String::new(),
        status: status.to_owned(),
        conclusion: None,
        labels: labels.iter().map(|s| (*s).to_owned()).collect(),
        runner_name: None,
    }
}

#[test]
fn counts_queued_jobs_per_label_set() {
    let jobs = [
        job(1, "queued", &["self-hosted", "slipway-4cpu"]),
        job(2, "queued", &["slipway-4cpu", "Self-Hosted"]),
        job(3, "in_progress", &["self-hosted", "slipway-4cpu"]),
        job(4, "queued", &["self-hosted", "slipway-16cpu"]),
        job(5, "completed", &["self-hosted", "slipway-16cpu"]),
    ];
    let all = depth(&jobs, None);
    assert_eq!(all.queued, 3);
    assert_eq!(
        all.by_labels[0],
        LabelDepth {
            labels: vec!["self-hosted".into(), "slipway-4cpu".into()],
            queued: 2
        }
    );
    // A 4-CPU runner takes only the 4-CPU jobs.
    let small = depth(
        &jobs,
        Some(&["self-hosted".into(), "linux".into(), "slipway-4cpu".into()]),
    );
    assert_eq!(small.queued, 2);
}

#[test]
fn webhook_deliveries_out_of_order_keep_the_latest_state() {
    let event = |id: u64, status: &str| {
        format!(
            r#"{{"action":"{status}","workflow_job":{{"id":{id},"run_id":9,"status":"{status}","conclusion":null,"labels":["slipway-4cpu"],"runner_name":null}}}}"#
        )
    };
    let stream = [
        event(1, "queued"),
        event(2, "in_progress"),
        event(2, "queued"), // arrived late
        event(3, "queued"),
        event(3, "completed"),
    ]
    .join("\n");
    let jobs = jobs_from_webhooks(&stream).unwrap();
    assert_eq!(depth(&jobs, None).queued, 1);
    let err = jobs_from_webhooks(r#"{"action":"opened","pull_request":{}}"#).unwrap_err();
    assert!(
        err.to_string().contains("not a workflow_job event"),
        "{err}"
    );
}
