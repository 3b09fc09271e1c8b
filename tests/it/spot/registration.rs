//! `launch` with runner registration, `queue`, `reap` and `rerun`, against
//! moto (EC2, SSM) and GitHub's REST description (prism). The requests
//! prism logged for a test's own organisation are that test's requests.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{instances_in_state, leaser, leaser_github, ssm_call};
use crate::github::{refused, requests};
use crate::support::unique;

const AMI: &str = "ami-12c6146b";

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// The runner configurations spot-leaser left in SSM under `prefix`.
fn parameters(region: &str, prefix: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({"Path": prefix, "Recursive": true, "WithDecryption": true});
        if let Some(t) = &token {
            body["NextToken"] = json!(t);
        }
        let page = ssm_call(region, "GetParametersByPath", &body);
        for p in page["Parameters"].as_array().unwrap() {
            assert_eq!(p["Type"], "SecureString", "a secret is stored as one");
            out.push((
                p["Name"].as_str().unwrap().to_owned(),
                parse(p["Value"].as_str().unwrap()),
            ));
        }
        match page["NextToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => return out,
        }
    }
}

fn launch_args<'a>(region: &'a str, org: &'a str, count: &'a str, prefix: &'a str) -> Vec<&'a str> {
    vec![
        "launch",
        "--region",
        region,
        "--instance-types",
        "c5.large",
        "--count",
        count,
        "--image-id",
        AMI,
        "--github-org",
        org,
        "--parameter-prefix",
        prefix,
        "--runner-labels",
        "integration",
    ]
}

#[test]
fn fifty_jit_runners_cost_fifty_requests_paced_within_the_budget() {
    let (region, org) = ("ap-south-1", unique("jit"));
    let prefix = format!("/{}/", unique("runners"));
    let mut args = launch_args(region, &org, "50", &prefix);
    // 600 a minute: at least 100 ms apart, so 50 take at least 4.9 s.
    args.extend(["--github-writes-per-minute", "600"]);
    let started = Instant::now();
    let out = leaser_github().args(&args).output();
    let elapsed = started.elapsed();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr.contains("registered 50 of 50 runners"),
        "{}",
        out.stderr
    );
    let launched = parse(&out.stdout);
    let instances = launched["instances"].as_array().unwrap();
    assert_eq!(instances.len(), 50);

    let base = format!("/orgs/{org}/actions/runners");
    assert_eq!(requests("post", &format!("{base}/generate-jitconfig")), 50);
    assert_eq!(requests("post", &format!("{base}/registration-token")), 0);
    assert_eq!(refused(&format!("/orgs/{org}")), Vec::<String>::new());
    assert!(
        elapsed >= Duration::from_millis(4900),
        "50 JIT requests at 600 a minute cannot take {elapsed:?}"
    );

    let stored = parameters(region, &prefix);
    assert_eq!(stored.len(), 50, "one configuration per instance");
    for instance in instances {
        let id = instance["instance_id"].as_str().unwrap();
        let runner = &instance["runner"];
        assert_eq!(runner["name"], format!("slipway-{id}"));
        assert_eq!(runner["mode"], "jit");
        assert_eq!(
            runner["labels"],
            json!(["self-hosted", "linux", "x64", "slipway-2cpu", "integration"]),
            "c5.large has 2 vCPUs: jobs asking for slipway-2cpu land here"
        );
        let (_, config) = stored
            .iter()
            .find(|(name, _)| *name == format!("{prefix}{id}"))
            .unwrap_or_else(|| panic!("no configuration for {id}"));
        assert_eq!(config["mode"], "jit");
        assert!(!config["jit_config"].as_str().unwrap().is_empty());
    }
}

#[test]
fn fifty_token_runners_cost_one_registration_token_request() {
    let (region, org) = ("ap-southeast-1", unique("token"));
    let prefix = format!("/{}/", unique("runners"));
    let mut args = launch_args(region, &org, "50", &prefix);
    args.extend(["--runner-mode", "token"]);
    let launched = parse(&leaser_github().args(&args).success());
    assert_eq!(launched["instances"].as_array().unwrap().len(), 50);

    let base = format!("/orgs/{org}/actions/runners");
    assert_eq!(requests("post", &format!("{base}/registration-token")), 1);
    assert_eq!(requests("post", &format!("{base}/generate-jitconfig")), 0);
    assert_eq!(refused(&format!("/orgs/{org}")), Vec::<String>::new());

    let stored = parameters(region, &prefix);
    assert_eq!(stored.len(), 50);
    let names: std::collections::HashSet<&str> = stored
        .iter()
        .map(|(_, c)| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 50, "every runner its own name");
    for (name, config) in &stored {
        let id = name.strip_prefix(&prefix).unwrap();
        assert_eq!(config["mode"], "token");
        assert_eq!(
            config["token"], "LLBF3JGZDX3P5PMEXLND6TS6FCWO6",
            "the description's example token"
        );
        assert_eq!(config["name"], format!("slipway-{id}"));
        assert_eq!(
            config["url"],
            format!("{}/{org}", crate::github::github_url())
        );
        assert_eq!(
            config["labels"],
            "self-hosted,linux,x64,slipway-2cpu,integration"
        );
    }
}

#[test]
fn a_failed_first_registration_terminates_everything_and_removes_its_runner() {
    let (region, org) = ("ap-northeast-1", unique("fail"));
    // moto may outlive one test run: compare with what was there.
    let running = instances_in_state(region, "running");
    let terminated = instances_in_state(region, "terminated").len();
    // SSM refuses names under /aws/: every configuration fails to be stored.
    let out = leaser_github()
        .args(launch_args(region, &org, "3", "/aws/runners/"))
        .output();
    let stderr = out.failure(5);
    assert!(stderr.contains("reserved parameter name"), "{stderr}");
    assert!(
        stderr.contains("so no other instance was tried"),
        "{stderr}"
    );
    let base = format!("/orgs/{org}/actions/runners");
    assert_eq!(
        requests("post", &format!("{base}/generate-jitconfig")),
        1,
        "the first failure stops the rest"
    );
    assert_eq!(
        requests("delete", &format!("{base}/23")),
        1,
        "the JIT runner that can never start is removed"
    );
    assert_eq!(instances_in_state(region, "running"), running);
    assert_eq!(
        instances_in_state(region, "terminated").len(),
        terminated + 3
    );
}

#[test]
fn without_credentials_nothing_is_launched() {
    let out = leaser()
        .env("GITHUB_API_URL", crate::github::github_url())
        .env_remove("GITHUB_TOKEN")
        .args(launch_args(
            "ap-northeast-3",
            "acme",
            "1",
            "/slipway/runners/",
        ))
        .output();
    let stderr = out.failure(2);
    assert!(
        stderr.contains("no GitHub credentials: GITHUB_TOKEN is not set")
            && stderr
                .contains("hint: set the variable (or name another with --github-token-env VAR)"),
        "{stderr}"
    );
    assert!(instances_in_state("ap-northeast-3", "running").is_empty());
    assert!(instances_in_state("ap-northeast-3", "terminated").is_empty());
}

#[test]
fn queue_depth_counts_jobs_not_runs() {
    let owner = unique("owner");
    let out = leaser_github()
        .args(["queue", "--github-repo", &format!("{owner}/app")])
        .success();
    // The description's example: one queued run whose one job completed.
    assert_eq!(
        parse(&out),
        json!({"version": 1, "queued": 0, "by_labels": []})
    );
    assert_eq!(
        requests("get", &format!("/repos/{owner}/app/actions/runs")),
        2
    );
    assert_eq!(refused(&format!("/repos/{owner}")), Vec::<String>::new());
}

#[test]
fn queue_depth_from_webhook_deliveries() {
    let examples: Vec<Value> = include_str!("../fixtures/events/workflow_job.jsonl")
        .lines()
        .map(parse)
        .collect();
    let find = |action: &str, id: u64| {
        examples
            .iter()
            .find(|e| e["action"] == action && e["workflow_job"]["id"] == id)
            .unwrap()
            .to_string()
    };
    // Queued, waiting for an environment's approval, and running.
    let mut stream = [
        find("queued", 289_782_451),
        find("waiting", 12_877_621_891),
        find("in_progress", 2_832_853_555),
    ]
    .join("\n");
    let out = leaser()
        .args(["queue", "--webhooks", "-"])
        .stdin(&stream)
        .success();
    assert_eq!(
        parse(&out),
        json!({"version": 1, "queued": 1, "by_labels": [{"labels": ["ubuntu-latest"], "queued": 1}]})
    );
    // A runner labelled for GPUs could not take it.
    let out = leaser()
        .args(["queue", "--webhooks", "-", "--labels", "self-hosted,gpu"])
        .stdin(&stream)
        .success();
    assert_eq!(parse(&out)["queued"], 0);
    // The job then completes.
    stream.push('\n');
    stream.push_str(&find("completed", 289_782_451));
    let out = leaser()
        .args(["queue", "--webhooks", "-"])
        .stdin(&stream)
        .success();
    assert_eq!(parse(&out)["queued"], 0);

    let out = leaser()
        .args(["queue", "--webhooks", "-"])
        .stdin(r#"{"action":"opened","number":1}"#)
        .output();
    assert!(
        out.failure(2)
            .contains("payload 1: not a workflow_job event")
    );
}

#[test]
fn scale_rules_choose_the_type_from_the_queue_depth() {
    let region = "eu-west-2";
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
            "--scale-rule",
            "depth>20:c5.4xlarge",
            "--scale-rule",
            "depth>5:c5.2xlarge",
            "--queue-depth",
            "8",
        ])
        .success();
    let launched = parse(&out);
    assert_eq!(launched["instances"][0]["instance_type"], "c5.2xlarge");
    assert_eq!(
        launched["scaled"],
        json!({"queue_depth": 8, "rule": "depth>5:c5.2xlarge"})
    );
    let out = leaser()
        .args([
            "launch",
            "--region",
            region,
            "--instance-types",
            "c5.large",
            "--count",
            "1",
        ])
        .args([
            "--image-id",
            AMI,
            "--scale-rule",
            "depth>5:c5.2xlarge",
            "--queue-depth",
            "5",
        ])
        .success();
    assert_eq!(parse(&out)["instances"][0]["instance_type"], "c5.large");
    let out = leaser()
        .args([
            "launch",
            "--region",
            region,
            "--instance-types",
            "c5.large",
            "--count",
            "1",
        ])
        .args(["--image-id", AMI, "--scale-rule", "depth<5:c5.2xlarge"])
        .output();
    assert!(out.failure(2).contains("scale rule \"depth<5:c5.2xlarge\""));
}

#[test]
fn reap_removes_runners_without_instances_and_instances_that_never_registered() {
    let (region, org) = ("eu-west-3", unique("reap"));
    let prefix = format!("/{}/", unique("runners"));
    let registered = parse(
        &leaser_github()
            .args(launch_args(region, &org, "1", &prefix))
            .success(),
    );
    let registered_id = registered["instances"][0]["instance_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let plain = parse(
        &leaser()
            .args(["launch", "--region", region, "--instance-types", "c5.large"])
            .args(["--count", "1", "--image-id", AMI])
            .success(),
    );
    let plain_id = plain["instances"][0]["instance_id"]
        .as_str()
        .unwrap()
        .to_owned();
    std::thread::sleep(Duration::from_secs(2));

    let out = leaser_github()
        .args([
            "reap",
            "--region",
            region,
            "--github-org",
            &org,
            "--register-timeout",
            "1s",
        ])
        .success();
    let reaped = parse(&out);
    // The description's runners (linux_runner, mac_runner) are not ours:
    // never removed. The registered instance's runner never came online.
    assert_eq!(reaped["removed_runners"], json!([]));
    let terminated = reaped["terminated"].as_array().unwrap();
    assert_eq!(terminated.len(), 1, "{reaped}");
    assert_eq!(terminated[0]["instance_id"], registered_id.as_str());
    assert_eq!(terminated[0]["reason"], "never-registered");
    let running = instances_in_state(region, "running");
    assert!(
        running.contains(&plain_id),
        "launched without a runner: left alone"
    );
    assert!(!running.contains(&registered_id));
    assert_eq!(requests("get", &format!("/orgs/{org}/actions/runners")), 1);
    assert_eq!(refused(&format!("/orgs/{org}")), Vec::<String>::new());
}

#[test]
fn rerun_waits_for_the_run_to_complete() {
    let owner = unique("owner");
    let out = leaser_github()
        .args([
            "rerun",
            "--region",
            "eu-west-2",
            "--github-repo",
            &format!("{owner}/app"),
        ])
        .args(["--run-id", "30433642"])
        .success();
    // The description's example run is still queued: nothing is re-run.
    assert_eq!(
        parse(&out),
        json!({"version": 1, "run_id": 30_433_642, "status": "queued", "dry_run": false, "jobs": []})
    );
    assert_eq!(
        requests("get", &format!("/repos/{owner}/app/actions/runs/30433642")),
        1
    );
    assert_eq!(
        requests(
            "get",
            &format!("/repos/{owner}/app/actions/runs/30433642/jobs")
        ),
        0
    );
}

#[test]
fn bad_github_arguments_are_usage_errors_naming_the_argument() {
    let out = leaser_github()
        .args(["queue", "--github-repo", "no-slash"])
        .output();
    assert!(
        out.failure(2)
            .contains("repository \"no-slash\": expected OWNER/REPO")
    );
    let out = leaser_github()
        .args(["queue", "--github-repo", "acme/../x"])
        .output();
    assert!(
        out.failure(2).contains("repository name \"../x\""),
        "{}",
        out.stderr
    );
    let out = leaser_github()
        .args(["rerun", "--region", "eu-west-2", "--github-org", "acme"])
        .args(["--run-id", "1"])
        .output();
    assert!(
        out.failure(2)
            .contains("workflow runs and jobs belong to a repository"),
        "{}",
        out.stderr
    );
    let dir = tempfile::tempdir().unwrap();
    let user_data = dir.path().join("user-data.sh");
    std::fs::write(&user_data, "#!/bin/sh\n").unwrap();
    let out = leaser_github()
        .args(launch_args(
            "ap-northeast-3",
            "acme",
            "1",
            "/slipway/runners/",
        ))
        .arg_path("--user-data", &user_data)
        .output();
    assert!(
        out.failure(2).contains("the boot script is the user data"),
        "{}",
        out.stderr
    );
}

#[test]
fn under_actions_launch_writes_outputs_and_a_summary() {
    let (region, org) = ("eu-south-1", unique("actions"));
    let prefix = format!("/{}/", unique("runners"));
    let dir = tempfile::tempdir().unwrap();
    let (outputs, summary) = (dir.path().join("output"), dir.path().join("summary.md"));
    let launched = parse(
        &leaser_github()
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", &outputs)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .args(launch_args(region, &org, "2", &prefix))
            .success(),
    );
    let names: Vec<String> = launched["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["runner"]["name"].as_str().unwrap().to_owned())
        .collect();
    let written = std::fs::read_to_string(&outputs).unwrap();
    let lines: Vec<&str> = written.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("runner_names<<"))
        .unwrap();
    assert_eq!(lines[at + 1], names.join(","));
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.starts_with("### spot-leaser: 2 instances for run `"),
        "{md}"
    );
    for name in &names {
        assert!(
            md.contains(&format!(
                "| `{name}` | self-hosted, linux, x64, slipway-2cpu, integration |"
            )),
            "{md}"
        );
    }
}

/// GitHub refusing the token (a scripted server: prism checks no
/// credentials) costs one request, not one per instance.
#[test]
fn a_refused_token_costs_one_request_and_launches_nothing_that_stays() {
    let region = "af-south-1";
    let github =
        crate::github::scripted::Scripted::answers(vec![crate::github::scripted::Answer::new(
            401,
            r#"{"message":"Bad credentials"}"#,
        )]);
    let terminated = instances_in_state(region, "terminated").len();
    let out = leaser()
        .env("GITHUB_TOKEN", "expired")
        .args(launch_args(region, "acme", "5", "/slipway/runners/"))
        .args(["--github-api-url", &github.url])
        .output();
    let stderr = out.failure(5);
    assert!(stderr.contains("HTTP 401: Bad credentials"), "{stderr}");
    assert_eq!(github.seen().len(), 1);
    assert!(instances_in_state(region, "running").is_empty());
    assert_eq!(
        instances_in_state(region, "terminated").len(),
        terminated + 5
    );
}

/// Launches `n` plain managed instances in `region`; returns their ids.
fn plain_instances(region: &str, n: &str) -> Vec<String> {
    let out = leaser()
        .args(["launch", "--region", region, "--instance-types", "c5.large"])
        .args(["--count", n, "--image-id", AMI])
        .success();
    parse(&out)["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["instance_id"].as_str().unwrap().to_owned())
        .collect()
}

fn runner_json(id: u64, name: &str, status: &str) -> String {
    format!(
        r#"{{"id":{id},"name":"{name}","os":"linux","status":"{status}","busy":false,"labels":[]}}"#
    )
}

/// Orphans end to end, with a scripted GitHub (prism's runner list never
/// holds our names): the runner whose instance is gone is deleted, the
/// others are not.
#[test]
fn reap_deletes_exactly_the_runners_whose_instance_is_gone() {
    use crate::github::scripted::{Answer, Scripted};
    let region = "il-central-1";
    let ids = plain_instances(region, "2");
    let (gone, live) = (ids[0].clone(), ids[1].clone());
    super::ec2_call(
        region,
        &[("Action", "TerminateInstances"), ("InstanceId.1", &gone)],
    );
    let runners = format!(
        r#"{{"total_count":3,"runners":[{},{},{}]}}"#,
        runner_json(101, &format!("slipway-{gone}"), "offline"),
        runner_json(102, &format!("slipway-{live}"), "online"),
        runner_json(103, "linux_runner", "offline"),
    );
    let github = Scripted::start(move |req, _| match req.method.as_str() {
        "GET" => Answer::new(200, &runners),
        "DELETE" => Answer::new(204, ""),
        _ => Answer::new(404, r#"{"message":"Not Found"}"#),
    });
    let out = leaser()
        .env("GITHUB_TOKEN", "t")
        .args(["reap", "--region", region, "--github-org", "acme"])
        .args(["--github-api-url", &github.url])
        .success();
    let reaped = parse(&out);
    assert_eq!(
        reaped["removed_runners"],
        json!([{"id": 101, "name": format!("slipway-{gone}"), "instance_id": gone}])
    );
    assert_eq!(reaped["terminated"], json!([]));
    assert_eq!(github.paths("DELETE"), ["/orgs/acme/actions/runners/101"]);
}

/// Reruns end to end, with a scripted GitHub (prism's example run never
/// completes): only the failed job whose instance recorded an
/// interruption is re-run, once.
#[test]
fn rerun_reruns_only_the_jobs_an_interruption_ended() {
    use crate::github::scripted::{Answer, Scripted};
    let region = "us-west-1";
    let ids = plain_instances(region, "2");
    let (interrupted, plain) = (ids[0].clone(), ids[1].clone());
    // What `watch --rerun` leaves on an interrupted instance.
    super::ec2_call(
        region,
        &[
            ("Action", "CreateTags"),
            ("ResourceId.1", &interrupted),
            ("Tag.1.Key", "slipway:interrupted-at"),
            ("Tag.1.Value", "2026-11-29T05:02:00Z"),
        ],
    );
    let job = |id: u64, conclusion: &str, instance: &str| {
        format!(
            r#"{{"id":{id},"run_id":7,"name":"test {id}","status":"completed","conclusion":"{conclusion}","labels":["self-hosted"],"runner_name":"slipway-{instance}"}}"#
        )
    };
    let jobs = format!(
        r#"{{"total_count":3,"jobs":[{},{},{}]}}"#,
        job(1, "failure", &interrupted),
        job(2, "failure", &plain),
        job(3, "success", &interrupted),
    );
    let github = Scripted::start(move |req, _| {
        match (
            req.method.as_str(),
            req.path.split('?').next().unwrap_or(""),
        ) {
            ("GET", "/repos/acme/app/actions/runs/7") => Answer::new(
                200,
                r#"{"id":7,"status":"completed","conclusion":"failure"}"#,
            ),
            ("GET", "/repos/acme/app/actions/runs/7/jobs") => Answer::new(200, &jobs),
            ("POST", "/repos/acme/app/actions/jobs/1/rerun") => Answer::new(201, "{}"),
            _ => Answer::new(404, r#"{"message":"Not Found"}"#),
        }
    });
    let out = leaser()
        .env("GITHUB_TOKEN", "t")
        .args(["rerun", "--region", region, "--github-repo", "acme/app"])
        .args(["--run-id", "7", "--github-api-url", &github.url])
        .success();
    let rerun = parse(&out);
    insta::assert_snapshot!(
        "rerun_json",
        super::contract::redact(rerun.clone(), &["instance_id", "runner_name"])
    );
    assert_eq!(rerun["status"], "completed");
    assert_eq!(
        rerun["jobs"],
        json!([{
            "job_id": 1,
            "name": "test 1",
            "runner_name": format!("slipway-{interrupted}"),
            "instance_id": interrupted,
            "evidence": "recorded"
        }])
    );
    assert_eq!(
        github.paths("POST"),
        ["/repos/acme/app/actions/jobs/1/rerun"]
    );
}

/// Repository runners, with the queue the scale rules see counted from
/// GitHub: the description's example run is queued but its job is not, so
/// the depth is 0 and no rule matches.
#[test]
fn repository_runners_scaled_on_the_queue_github_reports() {
    let (region, owner) = ("eu-central-2", unique("owner"));
    let repo = format!("{owner}/app");
    let prefix = format!("/{}/", unique("runners"));
    let out = leaser_github()
        .args(["launch", "--region", region, "--instance-types", "c5.large"])
        .args(["--count", "1", "--image-id", AMI, "--github-repo", &repo])
        .args([
            "--parameter-prefix",
            &prefix,
            "--scale-rule",
            "depth>=1:c5.2xlarge",
        ])
        .success();
    let launched = parse(&out);
    assert_eq!(launched["scaled"], json!({"queue_depth": 0, "rule": null}));
    assert_eq!(launched["instances"][0]["instance_type"], "c5.large");
    let base = format!("/repos/{repo}/actions");
    assert_eq!(
        requests("get", &format!("{base}/runs")),
        2,
        "queued, in_progress"
    );
    assert_eq!(
        requests("post", &format!("{base}/runners/generate-jitconfig")),
        1
    );
    assert_eq!(refused(&format!("/repos/{owner}")), Vec::<String>::new());
}
