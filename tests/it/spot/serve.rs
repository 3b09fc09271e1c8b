//! `spot-leaser serve` against moto (EC2, SSM), with GitHub's own
//! `workflow_job` example payloads signed in the test. GitHub is either
//! its REST description served by prism (stateless: every answer is the
//! description's example) or, where a test needs GitHub to remember what
//! was done (a runner registered, then listed; a job queued, then taken),
//! a scripted GitHub written here: the answers follow the description's
//! shapes for the endpoints serve uses, and nothing else is answered.

use std::fmt::Write as _;
use std::io::{BufRead as _, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{ec2_call, instances_in_state, moto_url};
use crate::github::scripted::{Answer, Scripted};
use crate::github::{refused, requests};
use crate::support::{bin, unique};

const SECRET: &str = "It's a Secret to Everybody";

/// GitHub's `workflow_job` examples (`@octokit/webhooks-examples`).
fn example(action: &str, labels: &[&str]) -> Value {
    let text = include_str!("../fixtures/events/workflow_job.jsonl");
    text.lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| {
            v["action"] == action
                && v["workflow_job"]["labels"].as_array().is_some_and(|l| {
                    l.iter()
                        .map(|x| x.as_str().unwrap())
                        .eq(labels.iter().copied())
                })
        })
        .unwrap_or_else(|| panic!("no {action} example with labels {labels:?}"))
}

/// The queued example (`self-hosted`, `k8s`) made into job `id` of run
/// `run`, attempt `attempt`, named `name`, in `repo`.
fn queued(id: u64, run: u64, attempt: u32, name: &str, repo: &str) -> Value {
    let mut v = example("queued", &["self-hosted", "k8s"]);
    let job = &mut v["workflow_job"];
    job["id"] = json!(id);
    job["run_id"] = json!(run);
    job["run_attempt"] = json!(attempt);
    job["name"] = json!(name);
    // The example is of a job waiting on a deployment's approval.
    job["status"] = json!("queued");
    job["labels"] = json!([
        "self-hosted",
        "k8s",
        format!("slipway-job-{run}-{attempt}-0")
    ]);
    v["repository"]["full_name"] = json!(repo);
    v
}

/// The failed `completed` example made into job `id` of `run`, ended on
/// `runner`.
fn completed(queued: &Value, runner: &str) -> Value {
    let mut v = example("completed", &["ubuntu-latest"]);
    assert_eq!(v["workflow_job"]["conclusion"], "failure");
    let from = &queued["workflow_job"];
    let job = &mut v["workflow_job"];
    for key in ["id", "run_id", "run_attempt", "name", "labels"] {
        job[key] = from[key].clone();
    }
    job["runner_name"] = json!(runner);
    v["repository"]["full_name"] = queued["repository"]["full_name"].clone();
    v
}

/// A running `spot-leaser serve`, its log collected.
struct Serve {
    child: Child,
    addr: String,
    log: Arc<Mutex<String>>,
}

impl Serve {
    fn start(region: &str, github: &str, repo: &str, config: &Path, extra: &[&str]) -> Serve {
        let dir = tempfile::tempdir().unwrap().keep();
        let secret = dir.join("secret");
        std::fs::write(&secret, format!("{SECRET}\n")).unwrap();
        let mut cmd = Command::new(bin("spot-leaser"));
        cmd.args(["serve", "--region", region, "--listen", "127.0.0.1:0"])
            .arg("--config")
            .arg(config)
            .arg("--webhook-secret-file")
            .arg(&secret)
            .args(["--github-repo", repo, "--pause-parameter"])
            .arg(format!("/{}/paused", unique("serve")))
            .args(extra)
            .envs(super::aws_env())
            .env("GITHUB_TOKEN", "test-token")
            .env("GITHUB_API_URL", github)
            .env("NO_COLOR", "1")
            .env("SLIPWAY_LOG", "spot_leaser=debug,info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start spot-leaser serve");
        let log = Arc::new(Mutex::new(String::new()));
        let pipe = child.stderr.take().unwrap();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        let mut serve = Serve {
            child,
            addr: String::new(),
            log,
        };
        serve.wait_for_log("serving");
        let log = serve.log();
        log.split("listen=")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .unwrap_or_else(|| panic!("no address in {log}"))
            .clone_into(&mut serve.addr);
        serve
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn wait_for_log(&self, text: &str) {
        wait_until(
            &format!("serve to log {text:?}"),
            || self.log().contains(text),
            || self.log(),
        );
    }

    /// One HTTP request; the status and body.
    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> (u16, String) {
        http(&self.addr, method, path, headers, body)
    }

    /// A delivery of `payload` signed with `secret` (none: unsigned).
    fn deliver(&self, delivery: &str, payload: &Value, secret: Option<&str>) -> (u16, String) {
        let body = payload.to_string();
        let mut headers = vec![
            ("X-GitHub-Event", "workflow_job".to_owned()),
            ("X-GitHub-Delivery", delivery.to_owned()),
            ("Content-Type", "application/json".to_owned()),
        ];
        if let Some(secret) = secret {
            headers.push((
                "X-Hub-Signature-256",
                slipway_github::webhook::sign(secret.as_bytes(), body.as_bytes()),
            ));
        }
        self.request("POST", "/webhook", &headers, body.as_bytes())
    }

    fn metrics(&self) -> String {
        self.request("GET", "/metrics", &[], b"").1
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.kill();
    }
}

fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(addr).expect("serve listens");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        let _ = write!(head, "{k}: {v}\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    super::status_and_body(&response)
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool, context: impl Fn() -> String) {
    let deadline = Instant::now() + Duration::from_mins(1);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "waited 60 s for {what}:\n{}",
            context()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Instances in `region` carrying `tag`=`value`: id, state and
/// lifecycle (`spot` or `on-demand`), as EC2 (moto) describes them.
fn tagged(region: &str, tag: &str, value: &str) -> Vec<(String, String, String)> {
    let config = aws_sdk_ec2::Config::builder()
        .behavior_version(aws_sdk_ec2::config::BehaviorVersion::latest())
        .region(aws_sdk_ec2::config::Region::new(region.to_owned()))
        .endpoint_url(moto_url())
        .credentials_provider(aws_sdk_ec2::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .build();
    let client = aws_sdk_ec2::Client::from_conf(config);
    let filter = aws_sdk_ec2::types::Filter::builder()
        .name(format!("tag:{tag}"))
        .values(value)
        .build();
    let out = crate::github::runtime()
        .block_on(client.describe_instances().filters(filter).send())
        .expect("moto describes instances");
    out.reservations()
        .iter()
        .flat_map(aws_sdk_ec2::types::Reservation::instances)
        .map(|i| {
            (
                i.instance_id().unwrap_or_default().to_owned(),
                i.state()
                    .and_then(|s| s.name())
                    .map_or("", |n| n.as_str())
                    .to_owned(),
                i.instance_lifecycle()
                    .map_or("on-demand", |l| l.as_str())
                    .to_owned(),
            )
        })
        .collect()
}

fn live(instances: &[(String, String, String)]) -> Vec<&(String, String, String)> {
    instances
        .iter()
        .filter(|i| i.1 == "pending" || i.1 == "running")
        .collect()
}

fn tag_of(region: &str, instance: &str, key: &str) -> Option<String> {
    let xml = ec2_call(
        region,
        &[
            ("Action", "DescribeTags"),
            ("Filter.1.Name", "resource-id"),
            ("Filter.1.Value.1", instance),
            ("Filter.2.Name", "key"),
            ("Filter.2.Value.1", key),
        ],
    );
    xml.split("<value>")
        .nth(1)?
        .split("</value>")
        .next()
        .map(str::to_owned)
}

fn example_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/spot-leaser-serve.toml")
}

fn config(text: &str) -> PathBuf {
    let path = tempfile::tempdir().unwrap().keep().join("serve.toml");
    std::fs::write(&path, text).unwrap();
    path
}

const ONE_SPOT_POOL: &str = r#"
[[pool]]
name = "k8s"
labels = ["self-hosted", "k8s"]
instance_types = ["c5.large"]
image_id = "ami-12c6146b"
"#;

#[test]
fn webhooks_are_verified_and_a_queued_job_gets_one_runner_however_often_delivered() {
    let region = "us-east-1";
    let repo = format!("octo-org/{}", unique("serve"));
    let github = crate::github::github_url();
    let serve = Serve::start(region, &github, &repo, &example_config(), &[]);
    let job = queued(12_877_621_891, 4_747_967_848, 1, "build", &repo);

    // Unsigned, wrongly signed, signed over another body: 401, nothing done.
    assert_eq!(serve.deliver("d-0", &job, None).0, 401);
    assert_eq!(serve.deliver("d-1", &job, Some("not the secret")).0, 401);
    let mut tampered = job.clone();
    tampered["workflow_job"]["labels"] = json!(["self-hosted", "k8s", "gpu"]);
    let (status, _) = serve.request(
        "POST",
        "/webhook",
        &[
            ("X-GitHub-Event", "workflow_job".to_owned()),
            ("X-GitHub-Delivery", "d-2".to_owned()),
            (
                "X-Hub-Signature-256",
                slipway_github::webhook::sign(SECRET.as_bytes(), job.to_string().as_bytes()),
            ),
        ],
        tampered.to_string().as_bytes(),
    );
    assert_eq!(status, 401);
    std::thread::sleep(Duration::from_millis(500));
    assert!(tagged(region, "slipway:job-id", "12877621891").is_empty());
    assert!(
        serve
            .metrics()
            .contains("slipway_serve_webhook_deliveries_total{result=\"unauthorized\"} 3"),
        "{}",
        serve.metrics()
    );
    // Another event: 204.
    let (status, _) = serve.request(
        "POST",
        "/webhook",
        &[
            ("X-GitHub-Event", "ping".to_owned()),
            ("X-GitHub-Delivery", "d-ping".to_owned()),
            (
                "X-Hub-Signature-256",
                slipway_github::webhook::sign(SECRET.as_bytes(), b"{}"),
            ),
        ],
        b"{}",
    );
    assert_eq!(status, 204);

    // Signed: answered at once, launched after.
    let started = Instant::now();
    assert_eq!(serve.deliver("d-3", &job, Some(SECRET)).0, 202);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "answered within a second"
    );
    // The runner's name is tagged last, once it is registered.
    wait_until(
        "one registered instance for the job",
        || {
            tagged(region, "slipway:job-id", "12877621891")
                .first()
                .is_some_and(|(id, _, _)| tag_of(region, id, "slipway:runner-name").is_some())
        },
        || serve.log(),
    );
    // The same delivery again, and a redelivery (a new delivery id).
    assert_eq!(
        serve.deliver("d-3", &job, Some(SECRET)).1.trim(),
        "duplicate"
    );
    assert_eq!(serve.deliver("d-4", &job, Some(SECRET)).0, 202);
    wait_until(
        "the redelivery to find the launch",
        || serve.log().contains("AlreadyLaunched") || serve.log().contains("InFlight"),
        || serve.log(),
    );
    let instances = tagged(region, "slipway:job-id", "12877621891");
    assert_eq!(instances.len(), 1, "{instances:?}\n{}", serve.log());
    let id = &instances[0].0;
    assert_eq!(
        tag_of(region, id, "slipway:pool").as_deref(),
        Some("k8s-spot")
    );
    assert_eq!(
        tag_of(region, id, "slipway:runner-name"),
        Some(format!("slipway-{id}"))
    );
    // Registered once, by a request GitHub's description allows.
    let prefix = format!("/repos/{repo}");
    assert_eq!(
        requests(
            "post",
            &format!("{prefix}/actions/runners/generate-jitconfig")
        ),
        1
    );
    assert_eq!(refused(&prefix), Vec::<String>::new());

    two_replicas_given_a_job_at_once_launch_once(region, &github, &repo, &serve);
}

/// A second replica beside `serve`; both given the same new job at once.
fn two_replicas_given_a_job_at_once_launch_once(
    region: &str,
    github: &str,
    repo: &str,
    serve: &Serve,
) {
    let second = Serve::start(region, github, repo, &example_config(), &[]);
    let other = queued(12_877_621_892, 4_747_967_849, 1, "test", repo);
    std::thread::scope(|s| {
        for (n, replica) in [serve, &second].into_iter().enumerate() {
            let other = &other;
            s.spawn(move || {
                assert_eq!(
                    replica.deliver(&format!("e-{n}"), other, Some(SECRET)).0,
                    202
                );
            });
        }
    });
    wait_until(
        "the second job's instance",
        || !tagged(region, "slipway:job-id", "12877621892").is_empty(),
        || serve.log() + &second.log(),
    );
    std::thread::sleep(Duration::from_secs(2));
    let both = serve.log() + &second.log();
    assert_eq!(
        tagged(region, "slipway:job-id", "12877621892").len(),
        1,
        "{both}"
    );
    assert!(
        both.contains("LockedElsewhere") || both.contains("AlreadyLaunched"),
        "one replica stood back:\n{both}"
    );
    assert!(!both.contains(SECRET), "the secret is never logged");
}

/// What the scripted GitHub holds.
#[derive(Default)]
struct Gh {
    /// Queued jobs (the API's job objects).
    queued: Vec<Value>,
    /// Runners: id, name, labels, busy.
    runners: Vec<(u64, String, Vec<String>, bool)>,
    next_id: u64,
    /// Labels of runners GitHub refuses to remove (they took a job): 422.
    busy_on_removal: Vec<String>,
    reruns: Vec<u64>,
}

/// A GitHub that remembers: jobs queued (and taken when their runner
/// registers), runners registered and listed online, removals refused for
/// a runner that took a job, re-runs recorded. Shapes as in GitHub's REST
/// description.
fn scripted_github(owner_repo: &str) -> (Scripted, Arc<Mutex<Gh>>) {
    let gh = Arc::new(Mutex::new(Gh {
        next_id: 100,
        ..Gh::default()
    }));
    let state = Arc::clone(&gh);
    let base = format!("/repos/{owner_repo}/actions");
    let server = Scripted::start(move |req, _| {
        let path = req.path.split('?').next().unwrap_or_default().to_owned();
        let query = req.path.split_once('?').map_or("", |(_, q)| q).to_owned();
        let mut gh = state.lock().unwrap();
        let rest = path.strip_prefix(&base).unwrap_or("");
        answer(&mut gh, req, rest, &query)
    });
    (server, gh)
}

/// The scripted GitHub's answer to one request under `…/actions`.
fn answer(gh: &mut Gh, req: &crate::github::scripted::Seen, rest: &str, query: &str) -> Answer {
    match (req.method.as_str(), rest) {
        ("GET", "/runs") => {
            let runs: Vec<Value> = if query.contains("status=queued") {
                let mut ids: Vec<u64> = gh
                    .queued
                    .iter()
                    .map(|j| j["run_id"].as_u64().unwrap())
                    .collect();
                ids.dedup();
                ids.iter()
                    .map(|id| json!({"id": id, "status": "queued", "conclusion": null}))
                    .collect()
            } else {
                Vec::new()
            };
            Answer::new(
                200,
                &json!({"total_count": runs.len(), "workflow_runs": runs}).to_string(),
            )
        }
        ("GET", r) if r.starts_with("/runs/") && r.ends_with("/jobs") => {
            let run: u64 = r["/runs/".len()..r.len() - "/jobs".len()].parse().unwrap();
            let jobs: Vec<&Value> = gh.queued.iter().filter(|j| j["run_id"] == run).collect();
            Answer::new(
                200,
                &json!({"total_count": jobs.len(), "jobs": jobs}).to_string(),
            )
        }
        ("GET", r) if r.starts_with("/jobs/") => {
            let id: u64 = r["/jobs/".len()..].parse().unwrap();
            match gh.queued.iter().find(|j| j["id"] == id) {
                Some(job) => Answer::new(200, &job.to_string()),
                None => Answer::new(200, &json!({"id": id, "run_id": 1, "status": "completed", "conclusion": "success", "labels": [], "runner_name": null}).to_string()),
            }
        }
        ("POST", r) if r.starts_with("/jobs/") && r.ends_with("/rerun") => {
            let id: u64 = r["/jobs/".len()..r.len() - "/rerun".len()].parse().unwrap();
            gh.reruns.push(id);
            Answer::new(201, "{}")
        }
        ("GET", "/runners") => {
            let runners: Vec<Value> = gh
                .runners
                .iter()
                .map(|(id, name, labels, busy)| {
                    json!({"id": id, "name": name, "os": "linux", "status": "online", "busy": busy,
                           "labels": labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>()})
                })
                .collect();
            Answer::new(
                200,
                &json!({"total_count": runners.len(), "runners": runners}).to_string(),
            )
        }
        ("POST", "/runners/generate-jitconfig") => {
            let body: Value = serde_json::from_str(&req.body).unwrap();
            let name = body["name"].as_str().unwrap().to_owned();
            let labels: Vec<String> = body["labels"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l.as_str().unwrap().to_owned())
                .collect();
            let id = gh.next_id;
            gh.next_id += 1;
            gh.runners.push((id, name.clone(), labels, false));
            Answer::new(
                201,
                &json!({"runner": {"id": id, "name": name, "os": "linux", "status": "offline", "busy": false, "labels": []},
                        "encoded_jit_config": "eyJqaXQiOiJ0ZXN0In0="})
                .to_string(),
            )
        }
        ("DELETE", r) if r.starts_with("/runners/") => {
            let id: u64 = r["/runners/".len()..].parse().unwrap();
            let Some(i) = gh.runners.iter().position(|r| r.0 == id) else {
                return Answer::new(404, r#"{"message": "Not Found"}"#);
            };
            if gh.runners[i]
                .2
                .iter()
                .any(|l| gh.busy_on_removal.contains(l))
            {
                gh.runners[i].3 = true;
                return Answer::new(
                    422,
                    r#"{"message": "Bad request - Runner is still running a job"}"#,
                );
            }
            gh.runners.remove(i);
            Answer::new(204, "")
        }
        _ => Answer::new(
            404,
            &format!(
                r#"{{"message": "not scripted: {} {}"}}"#,
                req.method, req.path
            ),
        ),
    }
}

#[test]
fn a_job_queued_only_in_the_api_is_launched_for_at_the_next_reconcile_and_prometheus_sees_the_queue()
 {
    let region = "ap-east-1";
    let repo = format!("octo-org/{}", unique("missed"));
    let (github, gh) = scripted_github(&repo);
    let job = queued(5_001, 9_001, 1, "build", &repo)["workflow_job"].clone();
    gh.lock().unwrap().queued.push(job.clone());
    let serve = Serve::start(
        region,
        &github.url,
        &repo,
        &config(ONE_SPOT_POOL),
        &["--reconcile-every", "1s"],
    );
    wait_until(
        "a launch at reconcile",
        || !tagged(region, "slipway:job-id", "5001").is_empty(),
        || serve.log(),
    );
    serve.wait_for_log("no webhook came for this job");
    let gh_state = gh.lock().unwrap();
    assert_eq!(gh_state.runners.len(), 1, "one runner registered");
    assert_eq!(
        gh_state.runners[0].2,
        ["self-hosted", "k8s", "slipway-job-9001-1-0"],
        "exactly the job's labels, the pinning one included"
    );
    drop(gh_state);

    // A real Prometheus scrapes /metrics: the job is still queued in the API.
    let prometheus = Prometheus::start(&serve.addr);
    wait_until(
        "Prometheus to read the queue depth",
        || {
            prometheus.query("github_actions_job_queue_depth{labels=\"k8s,self-hosted\"}")
                == Some(1.0)
        },
        || format!("{:?}\n{}", prometheus.query("up"), serve.metrics()),
    );
    assert_eq!(
        prometheus.query("slipway_serve_launches_total{pool=\"k8s\",path=\"cold\"}"),
        Some(1.0)
    );
    // The pool's spot price in each zone that offers it (moto's
    // placeholder price, 0.00001 USD/h, in ap-east-1a, b and c).
    wait_until(
        "Prometheus to read the pool's spot prices",
        || {
            prometheus.query("count(spot_price_current{instance_type=\"c5.large\"} == 0.00001)")
                == Some(3.0)
        },
        || serve.metrics(),
    );
}

/// Debian's Prometheus scraping its targets every second.
struct Prometheus {
    child: Child,
    url: String,
}

impl Prometheus {
    fn start(target: &str) -> Prometheus {
        Prometheus::start_with(&[(target, false)], None)
    }

    /// Scraping `targets` (with `honor_labels` where asked: a
    /// Pushgateway's), evaluating `rules` when given.
    fn start_with(targets: &[(&str, bool)], rules: Option<&Path>) -> Prometheus {
        let dir = tempfile::tempdir().unwrap().keep();
        let config = dir.join("prometheus.yml");
        let mut yml = String::from("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n");
        if let Some(rules) = rules {
            let _ = write!(yml, "rule_files:\n  - '{}'\n", rules.display());
        }
        yml.push_str("scrape_configs:\n");
        for (i, (target, honor)) in targets.iter().enumerate() {
            let _ = write!(
                yml,
                "  - job_name: target-{i}\n    honor_labels: {honor}\n    static_configs:\n      - targets: ['{target}']\n"
            );
        }
        std::fs::write(&config, yml).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("prometheus.log")).unwrap())
            .spawn()
            .expect("prometheus (Debian's package; `cargo xtask test` installs it)");
        Prometheus {
            child,
            url: format!("127.0.0.1:{port}"),
        }
    }

    /// An instant query's answer: its status and how many series.
    fn answer(&self, promql: &str) -> Option<(String, usize)> {
        std::net::TcpStream::connect(&self.url).ok()?;
        let (_, body) = http(
            &self.url,
            "GET",
            &format!("/api/v1/query?query={}", encode(promql)),
            &[],
            b"",
        );
        let v: Value = serde_json::from_str(&body).ok()?;
        Some((
            v["status"].as_str()?.to_owned(),
            v["data"]["result"].as_array().map_or(0, Vec::len),
        ))
    }

    /// The value of an instant query's only series.
    fn query(&self, promql: &str) -> Option<f64> {
        let encoded = encode(promql);
        std::net::TcpStream::connect(&self.url).ok()?;
        let (status, body) = http(
            &self.url,
            "GET",
            &format!("/api/v1/query?query={encoded}"),
            &[],
            b"",
        );
        if status != 200 {
            return None;
        }
        let v: Value = serde_json::from_str(&body).ok()?;
        v["data"]["result"][0]["value"][1].as_str()?.parse().ok()
    }
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn an_idle_runner_is_removed_and_terminated_but_one_that_took_a_job_keeps_running() {
    let region = "ap-south-2";
    let repo = format!("octo-org/{}", unique("idle"));
    let (github, gh) = scripted_github(&repo);
    let serve = Serve::start(
        region,
        &github.url,
        &repo,
        &config(ONE_SPOT_POOL),
        &["--reconcile-every", "1s", "--idle-timeout", "2s"],
    );
    // A job that another runner took (or that was cancelled): its runner idles.
    assert_eq!(
        serve
            .deliver(
                "i-1",
                &queued(6_001, 9_101, 1, "build", &repo),
                Some(SECRET)
            )
            .0,
        202
    );
    wait_until(
        "the first instance",
        || !tagged(region, "slipway:job-id", "6001").is_empty(),
        || serve.log(),
    );
    let first = tagged(region, "slipway:job-id", "6001")[0].0.clone();
    wait_until(
        "the idle runner's instance to be terminated",
        || tagged(region, "slipway:job-id", "6001")[0].1 == "terminated",
        || serve.log(),
    );
    assert!(
        gh.lock().unwrap().runners.is_empty(),
        "removed from GitHub first"
    );
    serve.wait_for_log(&format!(
        "idle runner removed and its instance terminated runner=\"slipway-{first}\""
    ));

    // Between the look (idle) and the removal, this one took a job: GitHub
    // refuses to remove the runner carrying the job's pinning label.
    gh.lock()
        .unwrap()
        .busy_on_removal
        .push("slipway-job-9102-1-0".to_owned());
    assert_eq!(
        serve
            .deliver(
                "i-2",
                &queued(6_002, 9_102, 1, "build", &repo),
                Some(SECRET)
            )
            .0,
        202
    );
    wait_until(
        "the second instance",
        || !tagged(region, "slipway:job-id", "6002").is_empty(),
        || serve.log(),
    );
    serve.wait_for_log("it took a job, so it keeps running");
    assert_eq!(
        tagged(region, "slipway:job-id", "6002")[0].1,
        "running",
        "{}",
        serve.log()
    );
    assert!(
        serve
            .metrics()
            .contains("slipway_serve_scale_down_kept_busy_total 1"),
        "{}",
        serve.metrics()
    );
    assert!(
        serve
            .metrics()
            .contains("slipway_serve_scaled_down_total 1")
    );
}

#[test]
fn an_interrupted_job_is_rerun_on_demand_and_two_interruptions_open_the_breaker() {
    let region = "ap-southeast-3";
    let repo = format!("octo-org/{}", unique("interrupt"));
    let (github, gh) = scripted_github(&repo);
    let serve = Serve::start(
        region,
        &github.url,
        &repo,
        &config(ONE_SPOT_POOL),
        &["--reconcile-every", "30s"],
    );
    let launch = |delivery: &str, job: &Value| -> (String, String) {
        assert_eq!(serve.deliver(delivery, job, Some(SECRET)).0, 202);
        let id = job["workflow_job"]["id"].to_string();
        wait_until(
            "a launch",
            || !tagged(region, "slipway:job-id", &id).is_empty(),
            || serve.log(),
        );
        let (instance, _, lifecycle) = tagged(region, "slipway:job-id", &id)[0].clone();
        (instance, lifecycle)
    };
    // What `watch --rerun` records on a notice, then EC2 reclaims it.
    let first = queued(7_001, 9_201, 1, "build", &repo);
    let (instance, lifecycle) = launch("a-1", &first);
    assert_eq!(lifecycle, "spot");
    interrupt(region, &instance);
    assert_eq!(
        serve
            .deliver(
                "a-2",
                &completed(&first, &format!("slipway-{instance}")),
                Some(SECRET)
            )
            .0,
        202
    );
    wait_until(
        "the re-run request",
        || gh.lock().unwrap().reruns == [7_001],
        || serve.log(),
    );

    // The re-run (attempt 2, a new job id) goes to on-demand.
    let rerun = queued(7_002, 9_201, 2, "build", &repo);
    let (_, lifecycle) = launch("a-3", &rerun);
    assert_eq!(lifecycle, "on-demand", "{}", serve.log());
    assert!(serve.log().contains("not on the reclaimed spot pool"));

    // A second interruption in the pool opens its breaker.
    let other = queued(7_003, 9_202, 1, "test", &repo);
    let (instance, lifecycle) = launch("a-4", &other);
    assert_eq!(
        lifecycle, "spot",
        "one interruption does not open the breaker"
    );
    interrupt(region, &instance);
    assert_eq!(
        serve
            .deliver(
                "a-5",
                &completed(&other, &format!("slipway-{instance}")),
                Some(SECRET)
            )
            .0,
        202
    );
    serve.wait_for_log("circuit breaker open");
    assert!(
        serve
            .metrics()
            .contains("slipway_serve_breaker_open{pool=\"k8s\"} 1"),
        "{}",
        serve.metrics()
    );
    assert!(
        serve
            .metrics()
            .contains("slipway_serve_interruptions_total{pool=\"k8s\"} 2")
    );
    let metrics = serve.metrics();
    let terminations = terminations_of_c5_large(&metrics);
    assert!(
        (terminations - 2.0).abs() < f64::EPSILON,
        "the origin article's metric, by type, zone and action: {metrics}"
    );
    let next = queued(7_004, 9_203, 1, "lint", &repo);
    let (_, lifecycle) = launch("a-6", &next);
    assert_eq!(
        lifecycle, "on-demand",
        "the next launch skips the pool's spot"
    );

    // Interrupted again after its re-run: not re-run twice.
    let instance = tagged(region, "slipway:job-id", "7002")[0].0.clone();
    interrupt(region, &instance);
    assert_eq!(
        serve
            .deliver(
                "a-7",
                &completed(&rerun, &format!("slipway-{instance}")),
                Some(SECRET)
            )
            .0,
        202
    );
    serve.wait_for_log("not re-run a second time");
    assert_eq!(gh.lock().unwrap().reruns, [7_001, 7_003]);
}

/// `runner_termination_events_total` of c5.large instances terminated,
/// over every zone.
fn terminations_of_c5_large(metrics: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| {
            l.starts_with(
                "runner_termination_events_total{instance_type=\"c5.large\",availability_zone=",
            ) && l.contains("action=\"terminate\"}")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// What `watch --rerun` records on a notice, then EC2 reclaims the
/// instance.
fn interrupt(region: &str, instance: &str) {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    ec2_call(
        region,
        &[
            ("Action", "CreateTags"),
            ("ResourceId.1", instance),
            ("Tag.1.Key", "slipway:interrupted-at"),
            ("Tag.1.Value", &now),
        ],
    );
    ec2_call(
        region,
        &[("Action", "TerminateInstances"), ("InstanceId.1", instance)],
    );
}

#[test]
fn kill_9_in_the_middle_of_a_launch_then_a_restart_leaks_nothing_and_launches_once() {
    let region = "eu-south-2";
    let repo = format!("octo-org/{}", unique("kill"));
    let (github, gh) = scripted_github(&repo);
    let job = queued(8_001, 9_301, 1, "build", &repo);
    gh.lock().unwrap().queued.push(job["workflow_job"].clone());
    let args = [
        "--reconcile-every",
        "1s",
        "--launch-lock-timeout",
        "2s",
        "--register-timeout",
        "3s",
    ];
    let mut first = Serve::start(
        region,
        &github.url,
        &repo,
        &config(ONE_SPOT_POOL),
        &["--reconcile-every", "1h"],
    );
    assert_eq!(first.deliver("k-1", &job, Some(SECRET)).0, 202);
    first.wait_for_log("launch lock taken");
    // SIGKILL: no handler runs, whatever the launch had done.
    let _ = Command::new("kill")
        .args(["-9", &first.child.id().to_string()])
        .status();
    first.kill();
    let killed_log = first.log();

    let second = Serve::start(region, &github.url, &repo, &config(ONE_SPOT_POOL), &args);
    // GitHub redelivers too.
    assert_eq!(second.deliver("k-1", &job, Some(SECRET)).0, 202);
    wait_until(
        "one registered instance for the job",
        || {
            let live: Vec<String> = live(&tagged(region, "slipway:job-id", "8001"))
                .iter()
                .map(|i| i.0.clone())
                .collect();
            live.len() == 1 && tag_of(region, &live[0], "slipway:runner-name").is_some()
        },
        || format!("{killed_log}\n---\n{}", second.log()),
    );
    // Several more passes: still one, every other instance ended.
    std::thread::sleep(Duration::from_secs(4));
    let all = tagged(region, "slipway:job-id", "8001");
    assert_eq!(live(&all).len(), 1, "{all:?}\n{}", second.log());
    let registered: Vec<String> = gh
        .lock()
        .unwrap()
        .runners
        .iter()
        .map(|r| r.1.clone())
        .collect();
    assert!(
        registered.contains(&format!("slipway-{}", live(&all)[0].0)),
        "{registered:?}"
    );
    // Nothing managed runs in the region without its job.
    let running = instances_in_state(region, "running");
    assert_eq!(running, [live(&all)[0].0.clone()], "{all:?}");
}

#[test]
fn pause_stops_scale_up_until_resumed_by_an_alertmanager_notification() {
    let region = "me-central-1";
    let repo = format!("octo-org/{}", unique("pause"));
    let (github, gh) = scripted_github(&repo);
    let serve = Serve::start(
        region,
        &github.url,
        &repo,
        &config(ONE_SPOT_POOL),
        &["--reconcile-every", "1s"],
    );
    // Unauthenticated: refused.
    assert_eq!(serve.request("POST", "/pause", &[], b"").0, 401);
    assert_eq!(
        serve
            .request(
                "POST",
                "/pause",
                &[("Authorization", "Bearer wrong".to_owned())],
                b""
            )
            .0,
        401
    );
    let bearer = [("Authorization", format!("Bearer {SECRET}"))];
    let firing = json!({"version": "4", "status": "firing", "receiver": "slipway", "alerts": [{"status": "firing", "labels": {"alertname": "SpotPriceHigh"}}]});
    assert_eq!(
        serve
            .request("POST", "/pause", &bearer, firing.to_string().as_bytes())
            .0,
        200
    );
    assert!(serve.metrics().contains("slipway_serve_paused 1"));

    let job = queued(9_001, 9_401, 1, "build", &repo);
    gh.lock().unwrap().queued.push(job["workflow_job"].clone());
    assert_eq!(serve.deliver("p-1", &job, Some(SECRET)).0, 202);
    serve.wait_for_log("Paused");
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        tagged(region, "slipway:job-id", "9001").is_empty(),
        "paused: no launch, reconcile included"
    );

    let mut resolved = firing.clone();
    resolved["status"] = json!("resolved");
    assert_eq!(
        serve
            .request("POST", "/pause", &bearer, resolved.to_string().as_bytes())
            .1
            .trim(),
        "resumed"
    );
    wait_until(
        "the launch after resuming",
        || !tagged(region, "slipway:job-id", "9001").is_empty(),
        || serve.log(),
    );
}

#[test]
fn a_warm_instance_is_started_for_a_job_and_the_pool_replenished() {
    let region = "ap-southeast-4";
    let repo = format!("octo-org/{}", unique("warm"));
    let (github, gh) = scripted_github(&repo);
    let warm_pool = format!("{ONE_SPOT_POOL}warm = 1\n");
    let serve = Serve::start(
        region,
        &github.url,
        &repo,
        &config(&warm_pool),
        &["--reconcile-every", "1s"],
    );
    wait_until(
        "a warm instance",
        || !tagged(region, "slipway:warm", "k8s").is_empty(),
        || serve.log(),
    );
    let warm = tagged(region, "slipway:warm", "k8s")[0].0.clone();
    // Its first boot prepares it and powers it off (the boot script; here
    // the test stops it as the script's `shutdown` would).
    ec2_call(
        region,
        &[("Action", "StopInstances"), ("InstanceId.1", &warm)],
    );
    wait_until(
        "the warm instance counted",
        || {
            serve
                .metrics()
                .contains("slipway_serve_warm_instances{pool=\"k8s\"} 1")
        },
        || serve.metrics(),
    );

    claimed_elsewhere_then_released(region, &repo, &serve, &warm);
    assert_eq!(
        serve
            .deliver(
                "w-1",
                &queued(10_001, 9_501, 1, "build", &repo),
                Some(SECRET)
            )
            .0,
        202
    );
    serve.wait_for_log("warm instance registered and started");
    let for_job = tagged(region, "slipway:job-id", "10001");
    assert_eq!(for_job.len(), 1);
    assert_eq!(for_job[0].0, warm, "the warm instance, not a cold launch");
    assert_eq!(for_job[0].1, "running");
    let runners = gh.lock().unwrap().runners.clone();
    assert!(
        runners
            .iter()
            .any(|r| r.2 == ["self-hosted", "k8s", "slipway-job-9501-1-0"]),
        "{runners:?}"
    );
    assert!(
        serve.metrics().contains(
            "slipway_serve_launches_total{pool=\"k8s\",capacity=\"spot\",path=\"warm\"} 1"
        )
    );
    wait_until(
        "a new warm instance",
        || {
            tagged(region, "slipway:warm", "k8s")
                .iter()
                .any(|i| i.0 != warm)
        },
        || serve.log(),
    );
}

/// While another replica holds a warm instance's claim lock, a job
/// launches cold and leaves the instance alone; then the lock goes.
fn claimed_elsewhere_then_released(region: &str, repo: &str, serve: &Serve, warm: &str) {
    // Another replica is claiming it (its claim lock exists): this job
    // launches cold and the warm instance stays as it is.
    let lock = format!("slipway-claim-{warm}");
    ec2_call(
        region,
        &[
            ("Action", "CreateLaunchTemplate"),
            ("LaunchTemplateName", &lock),
            ("LaunchTemplateData.ImageId", "ami-12c6146b"),
        ],
    );
    assert_eq!(
        serve
            .deliver(
                "w-0",
                &queued(10_000, 9_500, 1, "build", repo),
                Some(SECRET)
            )
            .0,
        202
    );
    wait_until(
        "a cold launch for the first job",
        || {
            serve.metrics().contains(
                "slipway_serve_launches_total{pool=\"k8s\",capacity=\"spot\",path=\"cold\"} 1",
            )
        },
        || serve.log(),
    );
    let for_job = tagged(region, "slipway:job-id", "10000");
    assert_eq!(for_job.len(), 1);
    assert_ne!(for_job[0].0, warm, "not the instance claimed elsewhere");
    assert_eq!(tag_of(region, warm, "slipway:job-id"), None);
    assert_eq!(tagged(region, "slipway:warm", "k8s")[0].1, "stopped");

    // The other claim ended: its lock is deleted.
    ec2_call(
        region,
        &[
            ("Action", "DeleteLaunchTemplate"),
            ("LaunchTemplateName", &lock),
        ],
    );
}

/// The Grafana dashboard's every query, run by a real Prometheus that
/// scrapes a Pushgateway filled by running the tools and a `serve`, with
/// the alert rules loaded: each parses and returns data.
#[test]
fn every_dashboard_query_returns_data_from_a_real_prometheus() {
    let gateway = std::env::var("SLIPWAY_PUSHGATEWAY_URL")
        .expect("SLIPWAY_PUSHGATEWAY_URL is set by `cargo xtask test`");
    // Shared with a reap test that touches only unmanaged instances and
    // its own runners (moto has no spot prices for a region left free).
    let region = "il-central-1";
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");

    // ci-matrix plans a change, then times a build.
    let repo = crate::support::Repo::with_files(&[
        (
            "package.json",
            "{\"private\": true, \"workspaces\": [\"packages/*\"]}\n",
        ),
        ("packages/a/package.json", "{\"name\": \"a\"}\n"),
        (
            "packages/b/package.json",
            "{\"name\": \"b\", \"dependencies\": {\"a\": \"*\"}}\n",
        ),
    ]);
    repo.ci_matrix()
        .env("GITHUB_REPOSITORY", unique("acme/dash"))
        .args([
            "--pushgateway",
            &gateway,
            "--changed-files",
            "[\"packages/a/package.json\"]",
        ])
        .success();
    let observed = Command::new(bin("ci-matrix"))
        .args([
            "observe",
            "--package",
            "a",
            "--pushgateway",
            &gateway,
            "--",
            "true",
        ])
        .env("GITHUB_RUN_ID", unique("run"))
        .status()
        .unwrap();
    assert!(observed.success());
    // An artifact streamed to one consumer.
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join(unique("dash.bin"));
    std::fs::write(&file, vec![7u8; 300_000]).unwrap();
    let producer = crate::artifact::harness::Producer::start(&file, &["--pushgateway", &gateway]);
    crate::artifact::harness::consumer(producer.port, &scratch.path().join("got"))
        .args(["--pushgateway", &gateway])
        .success();
    let (code, _, log) = producer.finish();
    assert_eq!(code, Some(0), "{log}");
    // Spot prices from a plan; GitHub's requests from a registered launch.
    let history = root.join(
        "crates/slipway-spot/data/recorded/spot-price-history-eu-west-1-2022-05-24-to-06-07.json",
    );
    super::leaser()
        .args([
            "--pushgateway",
            &gateway,
            "plan",
            "--region",
            "eu-west-1",
            "--instance-types",
            "c5.large",
        ])
        .arg_path("--price-history", &history)
        .args(["--at", "2022-06-07T00:00:00Z"])
        .success();
    let run = unique("dash");
    super::leaser_github()
        .args([
            "--pushgateway",
            &gateway,
            "launch",
            "--region",
            region,
            "--instance-types",
            "c5.large",
        ])
        .args([
            "--count",
            "1",
            "--image-id",
            "ami-12c6146b",
            "--run-id",
            &run,
        ])
        .args([
            "--github-org",
            &unique("dash"),
            "--parameter-prefix",
            &format!("/{}/", unique("p")),
        ])
        .success();
    super::leaser()
        .args(["reap", "--region", region, "--run-id", &run])
        .success();

    // serve: a job queued, launched for, interrupted.
    let repo_name = format!("octo-org/{}", unique("dash"));
    let (github, gh) = scripted_github(&repo_name);
    let job = queued(11_001, 9_601, 1, "build", &repo_name);
    gh.lock().unwrap().queued.push(job["workflow_job"].clone());
    let serve = Serve::start(
        region,
        &github.url,
        &repo_name,
        &config(ONE_SPOT_POOL),
        &["--reconcile-every", "1s"],
    );
    wait_until(
        "the launch",
        || !tagged(region, "slipway:job-id", "11001").is_empty(),
        || serve.log(),
    );
    let instance = tagged(region, "slipway:job-id", "11001")[0].0.clone();
    interrupt(region, &instance);
    assert_eq!(
        serve
            .deliver(
                "x-1",
                &completed(&job, &format!("slipway-{instance}")),
                Some(SECRET)
            )
            .0,
        202
    );
    wait_until(
        "the re-run",
        || !gh.lock().unwrap().reruns.is_empty(),
        || serve.log(),
    );

    let host = gateway.trim_start_matches("http://");
    let rules = root.join("deploy/prometheus/slipway-rules.yml");
    let prometheus = Prometheus::start_with(&[(host, true), (&serve.addr, false)], Some(&rules));
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("deploy/grafana/slipway.json")).unwrap(),
    )
    .unwrap();
    let queries: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().unwrap().iter())
        .map(|t| t["expr"].as_str().unwrap().to_owned())
        .collect();
    assert!(queries.len() >= 10, "{queries:?}");
    for query in &queries {
        wait_until(
            &format!("data for {query}"),
            || {
                prometheus
                    .answer(query)
                    .is_some_and(|(status, n)| status == "success" && n > 0)
            },
            || format!("{:?}", prometheus.answer(query)),
        );
    }
}
