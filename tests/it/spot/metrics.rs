//! spot-leaser's metrics as Prometheus's real Pushgateway takes them
//! (`cargo xtask test` installs and starts it, `SLIPWAY_PUSHGATEWAY_URL`):
//! pushed, parsed by the gateway, and served back from its `/metrics`.

use std::io::{Read as _, Write as _};

use super::{leaser, leaser_github};
use crate::support::unique;

fn gateway() -> String {
    std::env::var("SLIPWAY_PUSHGATEWAY_URL").unwrap_or_else(|_| {
        panic!("SLIPWAY_PUSHGATEWAY_URL is not set: run the tests with `cargo xtask test`")
    })
}

/// The gateway's `/metrics` lines that carry `label`.
pub(crate) fn served(label: &str) -> Vec<String> {
    let url = gateway();
    let host = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    // HTTP/1.0: the body as it is, never chunked.
    write!(stream, "GET /metrics HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && l.contains(label))
        .map(str::to_owned)
        .collect()
}

/// The value of the first `name` sample carrying every one of `labels`.
pub(crate) fn value(lines: &[String], name: &str, labels: &[&str]) -> Option<f64> {
    lines
        .iter()
        .find(|l| l.starts_with(&format!("{name}{{")) && labels.iter().all(|x| l.contains(x)))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

#[test]
fn a_launch_pushes_what_it_launched_and_what_registration_cost() {
    let (region, org) = ("me-south-1", unique("metrics"));
    let run = unique("run");
    let prefix = format!("/{}/", unique("runners"));
    leaser_github()
        .args(["--pushgateway", &gateway(), "launch", "--region", region])
        .args([
            "--instance-types",
            "c5.large",
            "--count",
            "3",
            "--image-id",
            "ami-12c6146b",
        ])
        .args([
            "--run-id",
            &run,
            "--github-org",
            &org,
            "--parameter-prefix",
            &prefix,
        ])
        .success();
    let lines = served(&format!("run_id=\"{run}\""));
    let job = "job=\"spot-leaser\"";
    assert_eq!(
        value(
            &lines,
            "slipway_spot_instances_launched",
            &[job, "instance_type=\"c5.large\"", "lifecycle=\"spot\""]
        ),
        Some(3.0),
        "{lines:#?}"
    );
    assert_eq!(
        value(&lines, "slipway_spot_runners_registered", &[job]),
        Some(3.0)
    );
    assert_eq!(
        value(
            &lines,
            "slipway_github_requests_total",
            &["class=\"registration\""]
        ),
        Some(3.0),
        "three JIT configurations"
    );
    assert_eq!(
        value(&lines, "slipway_github_throttled_total", &[job]),
        Some(0.0)
    );
}

#[test]
fn an_unreachable_gateway_is_a_warning_not_a_failure() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = leaser()
        .args([
            "launch",
            "--region",
            "me-south-1",
            "--instance-types",
            "c5.large",
        ])
        .args(["--count", "1", "--image-id", "ami-12c6146b"])
        .args(["--pushgateway", &format!("http://127.0.0.1:{port}")])
        .output();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("metrics not pushed: Pushgateway http://127.0.0.1:"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_plan_pushes_each_pools_current_price() {
    let history = format!(
        "{}/../crates/slipway-spot/data/recorded/spot-price-history-eu-west-1-2022-05-24-to-06-07.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = leaser()
        .args(["--pushgateway", &gateway(), "plan", "--region", "eu-west-1"])
        .args([
            "--instance-types",
            "c5.large,m6g.large",
            "--price-history",
            &history,
        ])
        .args(["--at", "2022-06-07T00:00:00Z", "--format", "json"])
        .success();
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    let lines = served("spot_price_current{");
    let candidates = plan["candidates"].as_array().unwrap();
    assert!(!candidates.is_empty());
    for c in candidates {
        let (t, z) = (
            c["instance_type"].as_str().unwrap(),
            c["availability_zone"].as_str().unwrap(),
        );
        let pushed = value(
            &lines,
            "spot_price_current",
            &[
                &format!("instance_type=\"{t}\""),
                &format!("availability_zone=\"{z}\""),
                "region=\"eu-west-1\"",
            ],
        )
        .unwrap_or_else(|| panic!("no spot_price_current for {t} {z}: {lines:?}"));
        assert!(
            (pushed - c["current_price"].as_f64().unwrap()).abs() < 1e-9,
            "{t} {z}"
        );
    }
}
