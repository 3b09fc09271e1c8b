//! `spot-leaser watch` against a stand-in for the EC2 instance metadata
//! service (hand-written: IMDS exists only on an instance), which answers
//! as EC2 documents: `IMDSv2` session tokens required (401 without), 404 on
//! the notice paths until a notice, then the documented JSON.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use super::{ec2_call, leaser, leaser_github};
use crate::github::scripted::{Answer, Scripted};
use crate::github::{refused, requests};
use crate::support::unique;

const TOKEN: &str = "AQAEAFmwtoken==";

/// IMDS for `instance_id`: a rebalance recommendation from the 2nd look,
/// an interruption notice from the `notice_at`th look (never when 0), and
/// HTTP 500 for the first `failing` requests for the notice.
fn imds(instance_id: String, region: &'static str, notice_at: usize, failing: usize) -> Scripted {
    let action_polls = Arc::new(AtomicUsize::new(0));
    let rebalance_polls = Arc::new(AtomicUsize::new(0));
    Scripted::start(move |req, _| {
        if req.method == "PUT" && req.path == "/latest/api/token" {
            return match req.header("x-aws-ec2-metadata-token-ttl-seconds") {
                Some(_) => {
                    Answer::new(200, TOKEN).header("x-aws-ec2-metadata-token-ttl-seconds", "21600")
                }
                None => Answer::new(400, ""),
            };
        }
        if req.header("x-aws-ec2-metadata-token") != Some(TOKEN) {
            return Answer::new(401, "");
        }
        match req.path.as_str() {
            "/latest/meta-data/instance-id" => Answer::new(200, &instance_id),
            "/latest/meta-data/placement/region" => Answer::new(200, region),
            "/latest/meta-data/events/recommendations/rebalance" => {
                if rebalance_polls.fetch_add(1, Ordering::SeqCst) + 1 >= 2 {
                    Answer::new(200, r#"{"noticeTime": "2026-11-29T05:00:00Z"}"#)
                } else {
                    Answer::new(404, "")
                }
            }
            "/latest/meta-data/spot/instance-action" => {
                let n = action_polls.fetch_add(1, Ordering::SeqCst) + 1;
                if n <= failing {
                    Answer::new(500, "")
                } else if notice_at > 0 && n >= notice_at {
                    Answer::new(
                        200,
                        r#"{"action": "terminate", "time": "2026-11-29T05:02:00Z"}"#,
                    )
                } else {
                    Answer::new(404, "")
                }
            }
            _ => Answer::new(404, ""),
        }
    })
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn launch_one(region: &str) -> String {
    let out = leaser()
        .args(["launch", "--region", region, "--instance-types", "c5.large"])
        .args(["--count", "1", "--image-id", "ami-12c6146b"])
        .success();
    parse(&out)["instances"][0]["instance_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn a_notice_removes_the_runner_annotates_counts_and_records_the_job() {
    let region = "ap-northeast-2";
    let instance = launch_one(region);
    let server = imds(instance.clone(), region, 4, 0);
    let org = unique("watch");
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join("spot.prom");
    let out = leaser_github()
        .env("GITHUB_ACTIONS", "true")
        .env_remove("AWS_EC2_METADATA_DISABLED")
        .args(["watch", "--imds-url", &server.url, "--interval", "1s"])
        .args([
            "--github-org",
            &org,
            "--runner-name",
            "linux_runner",
            "--rerun",
        ])
        .arg_path("--metrics-file", &metrics)
        .args([
            "--pushgateway",
            &std::env::var("SLIPWAY_PUSHGATEWAY_URL").unwrap(),
        ])
        .output();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let watched = parse(&out.stdout);
    assert_eq!(watched["instance_id"], instance.as_str());
    assert_eq!(watched["polls"], 4, "every second until the notice");
    assert_eq!(watched["notice"]["action"], "terminate");
    assert_eq!(watched["notice"]["time"], "2026-11-29T05:02:00Z");
    assert_eq!(watched["rebalance_recommended_at"], "2026-11-29T05:00:00Z");
    assert_eq!(watched["runner_removed"], true);
    assert_eq!(watched["recorded_for_rerun"], true);
    insta::assert_snapshot!(
        "watch_json",
        super::contract::redact(watched.clone(), &["instance_id", "runner_name"])
    );

    assert!(
        out.stderr.contains(&format!(
            "::warning title=spot-leaser::spot interruption: EC2 will terminate {instance} at 2026-11-29T05:02:00Z"
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("::warning title=spot-leaser::EC2 recommends rebalancing")
    );
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        text.contains(&format!(
            "slipway_spot_interruption_notice{{instance_id=\"{instance}\",action=\"terminate\"}} 1"
        )),
        "{text}"
    );
    assert!(text.contains(&format!(
        "slipway_spot_rebalance_recommended{{instance_id=\"{instance}\"}} 1"
    )));
    assert!(!out.stderr.contains("metrics not pushed"), "{}", out.stderr);
    let pushed = super::metrics::served(&format!("instance_id=\"{instance}\""));
    assert!(
        pushed
            .iter()
            .any(|l| l.starts_with("slipway_spot_interruption_notice{")
                && l.contains("action=\"terminate\"")
                && l.ends_with(" 1")),
        "{pushed:#?}"
    );

    // The runner, found by name in the list, removed by its id.
    assert_eq!(requests("get", &format!("/orgs/{org}/actions/runners")), 1);
    assert_eq!(
        requests("delete", &format!("/orgs/{org}/actions/runners/23")),
        1
    );
    assert_eq!(refused(&format!("/orgs/{org}")), Vec::<String>::new());

    // The record `rerun` reads, on the instance itself.
    let tags = ec2_call(
        region,
        &[
            ("Action", "DescribeTags"),
            ("Filter.1.Name", "resource-id"),
            ("Filter.1.Value.1", &instance),
        ],
    );
    // The notice's action too: serve counts terminations by it.
    for want in [
        "<key>slipway:interrupted-at</key>",
        "<value>2026-11-29T05:02:00Z</value>",
        "<key>slipway:interrupted-action</key>",
        "<value>terminate</value>",
    ] {
        assert!(tags.contains(want), "{want}: {tags}");
    }

    // IMDSv2 only: a session token first, then every read carried it.
    let seen = server.seen();
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("PUT", "/latest/api/token")
    );
    assert!(
        seen.iter()
            .skip(1)
            .all(|r| r.header("x-aws-ec2-metadata-token") == Some(TOKEN))
    );
}

#[test]
fn no_notice_within_the_timeout_changes_nothing() {
    let server = imds("i-0123456789abcdef0".to_owned(), "eu-west-1", 0, 0);
    let out = leaser()
        .env_remove("AWS_EC2_METADATA_DISABLED")
        .args([
            "watch",
            "--imds-url",
            &server.url,
            "--interval",
            "1s",
            "--timeout",
            "2s",
        ])
        .success();
    let watched = parse(&out);
    assert_eq!(watched["notice"], Value::Null);
    assert_eq!(watched["runner_removed"], Value::Null);
    assert_eq!(watched["recorded_for_rerun"], false);
    assert!(watched["polls"].as_u64().unwrap() >= 1);
}

#[test]
fn an_unreachable_metadata_service_is_a_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = leaser()
        .env_remove("AWS_EC2_METADATA_DISABLED")
        .args([
            "watch",
            "--imds-url",
            &format!("http://127.0.0.1:{port}"),
            "--interval",
            "1s",
        ])
        .output();
    let stderr = out.failure(1);
    assert!(
        stderr.contains("the instance metadata service failed on /latest/meta-data/instance-id"),
        "{stderr}"
    );
}

#[test]
fn a_metadata_service_that_fails_for_a_while_does_not_end_the_watch() {
    // Three failed requests: one look, with the metadata client's own
    // retries. The notice comes on the 5th request.
    let server = imds("i-0123456789abcdef0".to_owned(), "eu-west-1", 5, 3);
    let out = leaser()
        .env_remove("AWS_EC2_METADATA_DISABLED")
        .args(["watch", "--imds-url", &server.url, "--interval", "1s"])
        .output();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stderr.contains("still watching"), "{}", out.stderr);
    assert_eq!(parse(&out.stdout)["notice"]["action"], "terminate");
}
