//! spot-leaser's JSON outputs are a contract (`crates/spot-leaser/src/output.rs`):
//! snapshots of each, with what differs between runs (instance ids,
//! addresses, run ids, times, costs that grow with time) redacted. A
//! changed field name, a new kind spelled differently or a missing
//! `version` fails here.

use serde_json::Value;

use super::leaser;
use crate::support::unique;

const AMI: &str = "ami-12c6146b";

/// Replaces the values of `keys` (at any depth) with `"[redacted]"`.
pub(super) fn redact(mut value: Value, keys: &[&str]) -> String {
    fn walk(value: &mut Value, keys: &[&str]) {
        match value {
            Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    if keys.contains(&key.as_str()) && !v.is_null() {
                        *v = Value::String("[redacted]".into());
                    } else {
                        walk(v, keys);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, keys)),
            _ => {}
        }
    }
    walk(&mut value, keys);
    serde_json::to_string_pretty(&value).unwrap()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn plan_json() {
    let history = format!(
        "{}/../crates/slipway-spot/data/recorded/spot-price-history-eu-west-1-2022-05-24-to-06-07.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = leaser()
        .args([
            "plan",
            "--region",
            "eu-west-1",
            "--instance-types",
            "c5.large,m6g.large",
            "--price-history",
            &history,
            "--at",
            "2022-06-07T00:00:00Z",
            "--max-price",
            "0.04",
            "--format",
            "json",
        ])
        .success();
    insta::assert_snapshot!(redact(json(&out), &[]));
}

#[test]
fn launch_cost_and_reap_json() {
    let region = "ca-west-1";
    let run = unique("contract");
    let launched = leaser()
        .args([
            "launch",
            "--region",
            region,
            "--instance-types",
            "c5.large",
            "--count",
            "2",
            "--image-id",
            AMI,
            "--run-id",
            &run,
        ])
        .success();
    let volatile = [
        "instance_id",
        "private_ip",
        "run_id",
        "expires_at",
        "price",
        "availability_zone",
    ];
    insta::assert_snapshot!("launch", redact(json(&launched), &volatile));
    let costs = leaser()
        .args(["cost", "--region", region, "--run-id", &run])
        .success();
    let growing = [
        "instance_id",
        "availability_zone",
        "seconds",
        "price",
        "so_far",
        "projected",
        "on_demand_price",
        "on_demand_so_far",
        "savings_percent",
    ];
    insta::assert_snapshot!("cost", redact(json(&costs), &growing));
    let reaped = leaser()
        .args(["reap", "--region", region, "--run-id", &run])
        .success();
    insta::assert_snapshot!("reap", redact(json(&reaped), &volatile));
}

#[test]
fn queue_json_from_webhooks() {
    // GitHub's own example deliveries, the queued ones only (the others
    // complete them).
    let stream: Vec<&str> = include_str!("../fixtures/events/workflow_job.jsonl")
        .lines()
        .filter(|line| json(line)["action"] == "queued")
        .collect();
    assert!(!stream.is_empty());
    let out = leaser()
        .args(["queue", "--webhooks", "-"])
        .stdin(&stream.join("\n"))
        .success();
    insta::assert_snapshot!(redact(json(&out), &[]));
}
