//! The client under GitHub's rate-limit answers (and paging), from the scripted server
//! (prism cannot throttle): it waits as told, sends again only what GitHub
//! refused unprocessed or what is idempotent, and counts every throttle.

use std::time::Duration;

use slipway_github::{Config, Credentials, GitHub, GitHubError, JitRequest, Scope};

use super::runtime;
use super::scripted::{Answer, Scripted};

const SECONDARY: &str = r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}"#;
const RUNNERS: &str = r#"{"total_count":1,"runners":[{"id":7,"name":"slipway-i-0a","os":"linux","status":"online","busy":false,"labels":[{"id":1,"name":"self-hosted","type":"read-only"}]}]}"#;

fn token_body(expires_in: chrono::Duration) -> String {
    format!(
        r#"{{"token":"AABF3JGZDX3P5PMEXLND6TS6FCWO6","expires_at":"{}"}}"#,
        (chrono::Utc::now() + expires_in).to_rfc3339()
    )
}

/// A client on `rt` (octocrab's worker lives on the runtime that built it).
fn client(
    rt: &tokio::runtime::Runtime,
    server: &Scripted,
    tune: impl FnOnce(&mut Config),
) -> GitHub {
    let mut config = Config::new(&server.url, Credentials::Token("t".to_owned()));
    config.budget.unspecified_wait = Duration::from_millis(300);
    tune(&mut config);
    rt.block_on(GitHub::connect(&config, Scope::org("acme").unwrap()))
        .unwrap()
}

fn jit() -> JitRequest {
    JitRequest {
        name: "slipway-i-0a".to_owned(),
        runner_group_id: 1,
        labels: vec!["self-hosted".to_owned()],
        work_folder: None,
    }
}

#[test]
fn a_secondary_limit_with_retry_after_is_waited_out_then_sent_again() {
    let server = Scripted::answers(vec![
        Answer::new(403, SECONDARY).header("retry-after", "1"),
        Answer::new(201, &token_body(chrono::Duration::hours(1))),
    ]);
    let rt = runtime();
    let github = client(&rt, &server, |_| {});
    let token = rt.block_on(github.registration_token()).unwrap();
    assert_eq!(token.token, "AABF3JGZDX3P5PMEXLND6TS6FCWO6");
    let seen = server.seen();
    assert_eq!(seen.len(), 2, "refused once, then granted: {seen:?}");
    assert!(
        seen[1].at - seen[0].at >= Duration::from_secs(1),
        "waited as told: {:?}",
        seen[1].at - seen[0].at
    );
    assert_eq!(seen[0].method, "POST");
    assert_eq!(
        seen[0].path,
        "/orgs/acme/actions/runners/registration-token"
    );
    assert_eq!(
        seen[0].header("accept"),
        Some("application/vnd.github+json")
    );
    assert_eq!(seen[0].header("authorization"), Some("Bearer t"));
    let stats = github.stats();
    assert_eq!(
        (stats.throttled, stats.retried, stats.registration_requests),
        (1, 1, 2)
    );
    assert!(stats.throttled_wait_ms >= 1000, "{stats:?}");
}

#[test]
fn an_exhausted_primary_limit_waits_for_its_reset() {
    let reset = chrono::Utc::now().timestamp() + 2;
    let server = Scripted::answers(vec![
        Answer::new(429, r#"{"message":"API rate limit exceeded"}"#)
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset", &reset.to_string()),
        Answer::new(200, RUNNERS),
    ]);
    let rt = runtime();
    let github = client(&rt, &server, |_| {});
    let runners = rt.block_on(github.runners()).unwrap();
    assert_eq!(runners[0].name, "slipway-i-0a");
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert!(
        seen[1].at - seen[0].at >= Duration::from_millis(1500),
        "waited for the reset: {:?}",
        seen[1].at - seen[0].at
    );
    assert_eq!(github.stats().throttled, 1);
}

#[test]
fn a_limit_that_names_no_wait_backs_off_longer_each_time() {
    let server = Scripted::answers(vec![
        Answer::new(403, SECONDARY),
        Answer::new(403, SECONDARY),
        Answer::new(200, RUNNERS),
    ]);
    let rt = runtime();
    let github = client(&rt, &server, |_| {});
    rt.block_on(github.runners()).unwrap();
    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    let (first, second) = (seen[1].at - seen[0].at, seen[2].at - seen[1].at);
    assert!(first >= Duration::from_millis(300), "{first:?}");
    assert!(second >= Duration::from_millis(600), "doubled: {second:?}");
}

#[test]
fn a_post_that_failed_on_the_server_is_never_sent_twice() {
    let server = Scripted::answers(vec![
        Answer::new(502, "bad gateway"),
        Answer::new(201, "{}"),
    ]);
    let rt = runtime();
    let github = client(&rt, &server, |_| {});
    let err = rt.block_on(github.jit_config(&jit())).unwrap_err();
    assert!(
        matches!(err, GitHubError::Status { status: 502, .. }),
        "{err}"
    );
    assert_eq!(
        server.seen().len(),
        1,
        "a JIT config may exist: not asked for again"
    );
}

#[test]
fn an_idempotent_request_is_retried_after_a_server_error() {
    let server = Scripted::answers(vec![Answer::new(502, ""), Answer::new(200, RUNNERS)]);
    let rt = runtime();
    let github = client(&rt, &server, |_| {});
    assert_eq!(rt.block_on(github.runners()).unwrap().len(), 1);
    assert_eq!(server.seen().len(), 2);
    assert_eq!(github.stats().throttled, 0);
}

#[test]
fn a_plain_forbidden_is_an_error_at_once() {
    let server = Scripted::answers(vec![
        Answer::new(
            403,
            r#"{"message":"Resource not accessible by integration"}"#,
        )
        .header("x-ratelimit-remaining", "4990"),
    ]);
    let rt = runtime();
    let github = client(&rt, &server, |_| {});
    let err = rt.block_on(github.jit_config(&jit())).unwrap_err();
    assert_eq!(
        err.to_string(),
        "GitHub POST /orgs/acme/actions/runners/generate-jitconfig: HTTP 403: Resource not accessible by integration"
    );
    assert_eq!(server.seen().len(), 1);
}

#[test]
fn a_wait_longer_than_allowed_gives_up_with_what_github_asked() {
    let server = Scripted::answers(vec![
        Answer::new(429, SECONDARY).header("retry-after", "3600"),
    ]);
    let rt = runtime();
    let github = client(&rt, &server, |c| {
        c.budget.max_wait = Duration::from_mins(1);
    });
    let err = rt.block_on(github.registration_token()).unwrap_err();
    assert!(matches!(err, GitHubError::RateLimited { .. }), "{err}");
    assert!(err.to_string().contains("3600s"), "{err}");
    assert_eq!(server.seen().len(), 1);
}

#[test]
fn registration_tokens_are_cached_until_their_own_expiry_minus_the_margin() {
    // Two hours left: one request serves every caller.
    let server = Scripted::start(|_, _| Answer::new(201, &token_body(chrono::Duration::hours(2))));
    let rt = runtime();
    let github = client(&rt, &server, |_| {});
    rt.block_on(async {
        for _ in 0..5 {
            github.registration_token().await.unwrap();
        }
    });
    assert_eq!(server.seen().len(), 1);

    // Four minutes left, inside the five-minute margin: never reused.
    let server =
        Scripted::start(|_, _| Answer::new(201, &token_body(chrono::Duration::minutes(4))));
    let rt = runtime();
    let github = client(&rt, &server, |_| {});
    rt.block_on(async {
        github.registration_token().await.unwrap();
        github.registration_token().await.unwrap();
    });
    assert_eq!(server.seen().len(), 2);
}

#[test]
fn mutating_requests_are_paced_by_the_budget() {
    let server = Scripted::start(|_, _| {
        Answer::new(
            201,
            r#"{"runner":{"id":1,"name":"r","os":"linux","status":"offline","busy":false,"labels":[]},"encoded_jit_config":"x"}"#,
        )
    });
    // 600 a minute: one every 100 ms, however many are asked for at once.
    let rt = runtime();
    let github = client(&rt, &server, |c| {
        c.budget.registrations_per_minute = std::num::NonZeroU32::new(600).unwrap();
    });
    // Six at once; the budget lets one through every 100 ms, so the last
    // cannot be sent before 500 ms (measured here, where the budget is:
    // arrival times at the server also carry network jitter).
    let started = std::time::Instant::now();
    rt.block_on(async {
        let tasks: Vec<_> = (0..6)
            .map(|_| {
                let github = github.clone();
                tokio::spawn(async move { github.jit_config(&jit()).await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
    });
    let elapsed = started.elapsed();
    assert_eq!(server.seen().len(), 6);
    assert!(
        elapsed >= Duration::from_millis(500),
        "six requests at 600 a minute cannot take {elapsed:?}"
    );
}

#[test]
fn lists_follow_every_page_and_stop_at_the_total() {
    let server = Scripted::start(|req, _| {
        let page: usize = req
            .path
            .split("page=")
            .last()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let count = match page {
            1 => 100,
            2 => 50,
            _ => 0,
        };
        let runners: Vec<String> = (0..count)
            .map(|i| {
                format!(
                    r#"{{"id":{},"name":"r{}","os":"linux","status":"online","busy":false,"labels":[]}}"#,
                    page * 1000 + i,
                    page * 1000 + i
                )
            })
            .collect();
        Answer::new(
            200,
            &format!(r#"{{"total_count":150,"runners":[{}]}}"#, runners.join(",")),
        )
    });
    let rt = runtime();
    let github = client(&rt, &server, |_| {});
    let runners = rt.block_on(github.runners()).unwrap();
    assert_eq!(runners.len(), 150);
    let paths: Vec<String> = server.seen().iter().map(|s| s.path.clone()).collect();
    assert_eq!(
        paths,
        [
            "/orgs/acme/actions/runners?per_page=100&page=1",
            "/orgs/acme/actions/runners?per_page=100&page=2"
        ]
    );
}
