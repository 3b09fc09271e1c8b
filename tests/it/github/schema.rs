//! Every call slipway-github makes, checked by GitHub's own REST
//! description: prism refuses a path, method, parameter or body the
//! description does not allow, so a wrong request fails these tests.

use slipway_github::{Credentials, GitHub, GitHubError, JitRequest, Scope};

use super::{config, refused, requests, runtime};
use crate::support::unique;

fn jit(labels: &[&str]) -> JitRequest {
    JitRequest {
        name: "slipway-i-0123456789abcdef0".to_owned(),
        runner_group_id: 1,
        labels: labels.iter().map(|s| (*s).to_owned()).collect(),
        work_folder: None,
    }
}

#[test]
fn organisation_runner_calls_match_the_description() {
    let org = unique("org");
    let rt = runtime();
    let github = rt
        .block_on(GitHub::connect(&config(), Scope::org(&org).unwrap()))
        .unwrap();
    rt.block_on(async {
        let config = github
            .jit_config(&jit(&["self-hosted", "linux", "x64", "slipway-4cpu"]))
            .await
            .unwrap();
        assert!(!config.encoded_jit_config.is_empty());
        for _ in 0..3 {
            github.registration_token().await.unwrap();
        }
        github.removal_token().await.unwrap();
        let runners = github.runners().await.unwrap();
        assert!(!runners.is_empty());
        assert!(github.delete_runner(runners[0].id).await.unwrap());
        github.runner_group(2).await.unwrap();
    });
    let base = format!("/orgs/{org}/actions/runners");
    assert_eq!(requests("post", &format!("{base}/generate-jitconfig")), 1);
    assert_eq!(
        requests("post", &format!("{base}/registration-token")),
        1,
        "the token is reused until its expiry"
    );
    assert_eq!(requests("post", &format!("{base}/remove-token")), 1);
    assert_eq!(requests("get", &base), 1);
    assert_eq!(requests("delete", &format!("{base}/{}", 23)), 1);
    assert_eq!(refused(&format!("/orgs/{org}")), Vec::<String>::new());
}

#[test]
fn a_request_the_description_does_not_allow_is_refused() {
    let org = unique("org");
    let rt = runtime();
    let github = rt
        .block_on(GitHub::connect(&config(), Scope::org(&org).unwrap()))
        .unwrap();
    // The description requires at least one label.
    let err = rt.block_on(github.jit_config(&jit(&[]))).unwrap_err();
    assert!(
        matches!(err, GitHubError::Status { status: 422, .. }),
        "{err}"
    );
    assert_eq!(refused(&format!("/orgs/{org}")).len(), 1);
    // Workflow runs belong to repositories: refused before any request.
    let err = rt.block_on(github.queued_jobs()).unwrap_err();
    assert!(matches!(err, GitHubError::RepositoryOnly { .. }), "{err}");
}

#[test]
fn queued_runs_are_not_queued_jobs() {
    let owner = unique("owner");
    let rt = runtime();
    let github = rt
        .block_on(GitHub::connect(
            &config(),
            Scope::repo(&format!("{owner}/app")).unwrap(),
        ))
        .unwrap();
    let jobs = rt.block_on(github.queued_jobs()).unwrap();
    // The description's example run is `queued`; its example job has
    // completed. Counting runs would say one.
    assert!(jobs.is_empty(), "{jobs:?}");
    let repo = format!("/repos/{owner}/app/actions");
    assert_eq!(
        requests("get", &format!("{repo}/runs")),
        2,
        "queued, in_progress"
    );
    assert_eq!(requests("get", &format!("{repo}/runs/30433642/jobs")), 1);
    rt.block_on(async {
        github.rerun_job(399_444_496).await.unwrap();
        assert_eq!(
            github
                .workflow_run(30_433_642)
                .await
                .unwrap()
                .status
                .as_deref(),
            Some("queued")
        );
    });
    assert_eq!(requests("post", &format!("{repo}/jobs/399444496/rerun")), 1);
    assert_eq!(refused(&format!("/repos/{owner}")), Vec::<String>::new());
}

#[test]
fn a_github_app_finds_its_installation_and_acts_with_its_token() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("app.pem");
    let status = std::process::Command::new("openssl")
        .args(["genrsa", "-traditional", "-out"])
        .arg(&key)
        .arg("2048")
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl");
    assert!(status.success());
    let org = unique("org");
    let mut config = config();
    config.credentials = Credentials::App {
        app_id: 1,
        private_key_pem: std::fs::read(&key).unwrap(),
        installation_id: None,
    };
    let rt = runtime();
    let github = rt
        .block_on(GitHub::connect(&config, Scope::org(&org).unwrap()))
        .unwrap();
    rt.block_on(github.jit_config(&jit(&["self-hosted"])))
        .unwrap();
    assert_eq!(requests("get", &format!("/orgs/{org}/installation")), 1);
    assert_eq!(
        requests(
            "post",
            &format!("/orgs/{org}/actions/runners/generate-jitconfig")
        ),
        1
    );

    config.credentials = Credentials::App {
        app_id: 1,
        private_key_pem: b"not a key".to_vec(),
        installation_id: Some(1),
    };
    let err = rt
        .block_on(GitHub::connect(&config, Scope::org(&org).unwrap()))
        .err()
        .unwrap();
    assert!(err.to_string().contains("not an RSA PEM key"), "{err}");
}
