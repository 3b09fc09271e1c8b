use serde_json::Value;

use super::{ec2_call, instances_in_state, leaser};
use crate::support::unique;

/// A public Amazon Linux image id that moto knows.
const AMI: &str = "ami-12c6146b";

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// The recorded AWS data vendored beside slipway-spot (sources and
/// licences in its README).
fn recorded(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/slipway-spot/data/recorded")
        .join(name);
    assert!(path.is_file(), "{} is missing", path.display());
    path.to_str().unwrap().to_owned()
}

#[test]
fn an_offline_plan_on_recorded_history_is_deterministic_and_explains_itself() {
    let history = recorded("spot-price-history-eu-west-1-2022-05-24-to-06-07.json");
    let advisor = recorded("spot-advisor-data.json");
    let args = [
        "plan",
        "--region",
        "eu-west-1",
        "--instance-types",
        "c5.large,c5.xlarge,m5.large",
        "--price-history",
        &history,
        "--advisor",
        &advisor,
        "--at",
        "2022-06-07T00:00:00Z",
        "--max-price",
        "0.05",
        "--format",
        "json",
    ];
    let first = leaser().args(args).success();
    assert_eq!(
        leaser().args(args).success(),
        first,
        "same file and --at, same bytes"
    );
    let plan = json(&first);
    assert_eq!(plan["region"], "eu-west-1");
    assert_eq!(plan["window_hours"], 168.0);
    assert_eq!(plan["at"], "2022-06-07T00:00:00Z");
    let candidates = plan["candidates"].as_array().unwrap();
    assert_eq!(candidates.len(), 9, "three types in three zones");
    let eligible: Vec<bool> = candidates
        .iter()
        .map(|c| c["eligible"].as_bool().unwrap())
        .collect();
    assert!(
        eligible.windows(2).all(|w| w[0] || !w[1]),
        "eligible before excluded: {eligible:?}"
    );
    let costs: Vec<f64> = candidates
        .iter()
        .filter(|c| c["eligible"] == true)
        .map(|c| c["score"].as_f64().unwrap())
        .collect();
    assert!(
        costs.windows(2).all(|w| w[0] <= w[1]),
        "best first: {costs:?}"
    );
    for c in candidates {
        for field in [
            "availability_zone",
            "availability_zone_id",
            "instance_type",
            "current_price",
            "mean_price",
            "stddev",
            "changes",
            "expected_job_cost",
            "score",
            "eligible",
            "excluded_reason",
        ] {
            assert!(c.get(field).is_some(), "{field} missing in {c}");
        }
        if c["instance_type"] == "c5.xlarge" {
            assert!(
                c["excluded_reason"]
                    .as_str()
                    .unwrap()
                    .contains("above the maximum price 0.05"),
                "{c}"
            );
        }
    }
    let table = leaser().args(&args[..args.len() - 2]).success();
    assert!(
        table.contains("expected cost per job") && table.contains("eligible"),
        "{table}"
    );
}

#[test]
fn bad_plan_input_is_a_usage_error() {
    let out = leaser()
        .args([
            "plan",
            "--region",
            "eu-west-1",
            "--instance-types",
            "c5.large",
            "--price-history",
            "/nonexistent.json",
        ])
        .output();
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("/nonexistent.json"), "{}", out.stderr);
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("h.json");
    std::fs::write(&bad, "{\"SpotPriceHistory\": [{\"SpotPrice\": 1}]}").unwrap();
    let out = leaser()
        .args([
            "plan",
            "--region",
            "eu-west-1",
            "--instance-types",
            "c5.large",
            "--price-history",
        ])
        .args([&bad])
        .output();
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("invalid price history"),
        "{}",
        out.stderr
    );
    let out = leaser()
        .args([
            "plan",
            "--region",
            "eu-west-1",
            "--instance-types",
            "c5.large",
            "--window",
            "7w",
        ])
        .output();
    assert_eq!(out.code, Some(2), "{}", out.stderr);
}

#[test]
fn a_plan_against_ec2_reads_every_zone_and_says_what_it_lacked() {
    let out = leaser()
        .args([
            "plan",
            "--region",
            "us-west-2",
            "--instance-types",
            "c5.large,m5.large",
            "--format",
            "json",
        ])
        .output();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let plan = json(&out.stdout);
    let zones: std::collections::BTreeSet<&str> = plan["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["availability_zone"].as_str().unwrap())
        .collect();
    assert!(zones.len() >= 3, "{zones:?}");
    assert!(
        plan["candidates"][0]["availability_zone_id"].is_string(),
        "zone ids from DescribeAvailabilityZones"
    );
    let notes = plan["notes"].to_string();
    // moto has no GetSpotPlacementScores: a note, not a failure.
    assert!(notes.contains("placement scores unavailable"), "{notes}");
}

#[test]
fn launch_tags_every_instance_and_reap_by_run_leaves_nothing() {
    let region = "us-east-2";
    let run = unique("run");
    let dir = tempfile::tempdir().unwrap();
    let outputs = dir.path().join("github-output");
    let out = leaser()
        .args([
            "launch",
            "--region",
            region,
            "--instance-types",
            "c5.large,m5.large",
            "--count",
            "3",
            "--image-id",
            AMI,
            "--run-id",
            &run,
            "--ttl",
            "2h",
        ])
        .env("GITHUB_OUTPUT", &outputs)
        .output();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let launched = json(&out.stdout);
    let instances = launched["instances"].as_array().unwrap();
    assert_eq!(instances.len(), 3);
    for i in instances {
        assert_eq!(i["lifecycle"], "spot");
        assert!(i["private_ip"].is_string());
        assert!(i["instance_id"].as_str().unwrap().starts_with("i-"));
    }
    let written = std::fs::read_to_string(&outputs).unwrap();
    assert!(
        written.contains("instance_ids<<") && written.contains("private_ips<<"),
        "{written}"
    );

    // The tags are on the instances themselves, as EC2 sees them.
    let ids: Vec<&str> = instances
        .iter()
        .map(|i| i["instance_id"].as_str().unwrap())
        .collect();
    let xml = ec2_call(
        region,
        &[("Action", "DescribeInstances"), ("InstanceId.1", ids[0])],
    );
    for tag in [
        "slipway:managed",
        "slipway:run-id",
        "slipway:expires-at",
        "Name",
    ] {
        assert!(
            xml.contains(&format!("<key>{tag}</key>")),
            "{tag} missing: {xml}"
        );
    }
    assert!(xml.contains(&format!("<value>{run}</value>")));

    // A dry run reports and keeps them.
    let dry = json(
        &leaser()
            .args(["reap", "--region", region, "--run-id", &run, "--dry-run"])
            .success(),
    );
    assert_eq!(dry["terminated"].as_array().unwrap().len(), 3);
    let running = instances_in_state(region, "running");
    assert!(ids.iter().all(|id| running.iter().any(|r| r == id)));

    let reaped = json(
        &leaser()
            .args(["reap", "--region", region, "--run-id", &run])
            .success(),
    );
    assert_eq!(reaped["terminated"].as_array().unwrap().len(), 3);
    let running = instances_in_state(region, "running");
    assert!(
        ids.iter().all(|id| !running.iter().any(|r| r == id)),
        "nothing leaked: {running:?}"
    );
    let again = json(
        &leaser()
            .args(["reap", "--region", region, "--run-id", &run])
            .success(),
    );
    assert_eq!(again["terminated"], serde_json::json!([]));
}

/// An instance spot-leaser does not manage: no managed tag, though it
/// claims a run id and an expiry long past.
fn foreign_instance(region: &str, run: &str) -> String {
    let xml = ec2_call(
        region,
        &[
            ("Action", "RunInstances"),
            ("ImageId", AMI),
            ("InstanceType", "c5.large"),
            ("MinCount", "1"),
            ("MaxCount", "1"),
            ("TagSpecification.1.ResourceType", "instance"),
            ("TagSpecification.1.Tag.1.Key", "slipway:run-id"),
            ("TagSpecification.1.Tag.1.Value", run),
            ("TagSpecification.1.Tag.2.Key", "slipway:expires-at"),
            ("TagSpecification.1.Tag.2.Value", "2000-01-01T00:00:00Z"),
        ],
    );
    xml.split("<instanceId>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn reap_ends_expired_instances_and_never_touches_unmanaged_ones() {
    let region = "eu-central-1";
    let (old, new) = (unique("old"), unique("new"));
    let foreign_id = foreign_instance(region, &old);
    let short = json(
        &leaser()
            .args([
                "launch",
                "--region",
                region,
                "--instance-types",
                "c5.large",
                "--count",
                "1",
                "--image-id",
                AMI,
                "--run-id",
                &old,
                "--ttl",
                "1s",
            ])
            .success(),
    );
    let long = json(
        &leaser()
            .args([
                "launch",
                "--region",
                region,
                "--instance-types",
                "c5.large",
                "--count",
                "1",
                "--image-id",
                AMI,
                "--run-id",
                &new,
                "--ttl",
                "2h",
            ])
            .success(),
    );
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let reaped = json(
        &leaser()
            .args(["reap", "--region", region, "--expired"])
            .success(),
    );
    let gone: Vec<&str> = reaped["terminated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["instance_id"].as_str().unwrap())
        .collect();
    let short_id = short["instances"][0]["instance_id"].as_str().unwrap();
    let long_id = long["instances"][0]["instance_id"].as_str().unwrap();
    assert!(gone.contains(&short_id), "{gone:?}");
    assert!(
        !gone.contains(&long_id) && !gone.contains(&foreign_id.as_str()),
        "{gone:?}"
    );
    assert!(
        reaped["terminated"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["reason"] == "expired")
    );
    let running = instances_in_state(region, "running");
    assert!(
        running.contains(&foreign_id),
        "the unmanaged instance lives"
    );
    assert!(running.iter().any(|r| r == long_id));
    let by_run = json(
        &leaser()
            .args(["reap", "--region", region, "--run-id", &old])
            .success(),
    );
    assert_eq!(
        by_run["terminated"],
        serde_json::json!([]),
        "a foreign instance is never reaped"
    );
    assert!(instances_in_state(region, "running").contains(&foreign_id));
}

#[test]
fn a_dry_run_launches_nothing() {
    let region = "ap-southeast-2";
    let template = unique("runner");
    ec2_call(
        region,
        &[
            ("Action", "CreateLaunchTemplate"),
            ("LaunchTemplateName", &template),
            ("LaunchTemplateData.ImageId", AMI),
        ],
    );
    // With an image (the template would be made for the request: EC2
    // checks RunInstances), and with an existing template (CreateFleet).
    for source in [["--image-id", AMI], ["--launch-template", &template]] {
        let out = leaser()
            .args([
                "launch",
                "--region",
                region,
                "--instance-types",
                "c5.large",
                "--count",
                "2",
                "--dry-run",
            ])
            .args(source)
            .output();
        assert_eq!(out.code, Some(0), "{source:?}: {}", out.stderr);
        assert_eq!(json(&out.stdout)["dry_run"], true);
    }
    assert!(instances_in_state(region, "running").is_empty());
    assert!(instances_in_state(region, "pending").is_empty());
}

#[test]
fn cost_bills_per_second_against_on_demand() {
    let region = "ca-central-1";
    let run = unique("costed");
    let launched = json(
        &leaser()
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
                "--ttl",
                "1h",
            ])
            .success(),
    );
    let costs = json(
        &leaser()
            .args(["cost", "--region", region, "--run-id", &run])
            .success(),
    );
    let rows = costs["instances"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for row in rows {
        assert_eq!(
            row["on_demand_price"], 0.085,
            "c5.large from the bundled table"
        );
        assert!(row["projected"].as_f64().unwrap() >= row["so_far"].as_f64().unwrap());
        assert_eq!(row["lifecycle"], "spot");
    }
    // Within the first minute, on-demand bills the 60-second minimum.
    let od = costs["on_demand_so_far"].as_f64().unwrap();
    assert!((od - 2.0 * 0.085 / 60.0).abs() < 1e-4, "{od}");
    let by_ids = json(
        &leaser()
            .args([
                "cost",
                "--region",
                region,
                "--instance-ids",
                launched["instances"][0]["instance_id"].as_str().unwrap(),
            ])
            .success(),
    );
    assert_eq!(by_ids["instances"].as_array().unwrap().len(), 1);

    // EC2 interrupts one (the record `watch` leaves, then the reclaim).
    let interrupted = launched["instances"][1]["instance_id"].as_str().unwrap();
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    ec2_call(
        region,
        &[
            ("Action", "CreateTags"),
            ("ResourceId.1", interrupted),
            ("Tag.1.Key", "slipway:interrupted-at"),
            ("Tag.1.Value", &now),
        ],
    );
    ec2_call(
        region,
        &[
            ("Action", "TerminateInstances"),
            ("InstanceId.1", interrupted),
        ],
    );
    let after = json(
        &leaser()
            .args(["cost", "--region", region, "--run-id", &run])
            .success(),
    );
    let rows = after["instances"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "the ended instance is still costed");
    let row = |id: &str| rows.iter().find(|r| r["instance_id"] == id).unwrap();
    // moto has no spot price for this pool, so the charge itself (nothing
    // in the first hour) is `slipway_spot::billing`'s unit test; here, that
    // EC2's reclaim is seen and the instance costed as ended.
    assert_eq!(row(interrupted)["interrupted"], true);
    assert_eq!(row(interrupted)["projected"], row(interrupted)["so_far"]);
    let other = launched["instances"][0]["instance_id"].as_str().unwrap();
    assert_eq!(row(other)["interrupted"], false);
    assert!(
        row(other)["seconds"].as_i64().unwrap() >= 1,
        "running: billed from launch"
    );
    leaser()
        .args(["reap", "--region", region, "--run-id", &run])
        .success();
}

#[test]
fn no_eligible_pool_launches_nothing_and_says_why() {
    let region = "sa-east-1";
    let out = leaser()
        .args([
            "launch",
            "--region",
            region,
            "--instance-types",
            "c5.large",
            "--count",
            "1",
            "--image-id",
            AMI,
            "--max-price",
            "0.000001",
        ])
        .output();
    let stderr = out.failure(4);
    assert!(stderr.contains("no eligible pool for c5.large"), "{stderr}");
    assert!(instances_in_state(region, "running").is_empty());
}
