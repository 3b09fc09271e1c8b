//! GitHub's self-hosted runner and Actions APIs, as Slipway uses them.
//!
//! - Runners of an organisation or a repository ([`Scope`]): just-in-time
//!   configurations (single use: never cached, never retried blindly),
//!   registration tokens (reusable: cached until their own `expires_at`
//!   minus a margin), removal tokens, listing and deleting runners.
//! - Queued work counted as *jobs*, not runs ([`queue`]), and reruns.
//! - One rate-limit [`Budget`] per endpoint class for the whole process,
//!   and GitHub's 403/429 answers honoured ([`throttle_wait`]).
//!
//! Requests go through octocrab built *without* its retry layer: octocrab
//! would otherwise resend a POST on a 5xx, and a JIT configuration or a
//! registration that reached GitHub must not be made twice. What is retried
//! here: any request GitHub refused with a rate-limit answer (it was not
//! processed), and idempotent requests (GET, DELETE) after a 5xx or a
//! transport error.

mod budget;
pub mod queue;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use http::{HeaderMap, Method, StatusCode};
use http_body_util::BodyExt as _;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use budget::{Budget, EndpointClass, Stats, throttle_wait};
use budget::{Counters, Limits};

/// GitHub's public API.
pub const PUBLIC_API_URL: &str = "https://api.github.com";

/// A GitHub call that failed.
#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    #[error("GitHub {method} {path}: HTTP {status}: {message}")]
    Status {
        method: Method,
        path: String,
        status: u16,
        message: String,
    },
    #[error(
        "GitHub {method} {path}: still rate limited after {attempts} attempts \
         (GitHub asked to wait {wait:?}; at most {max_wait:?} is allowed)"
    )]
    RateLimited {
        method: Method,
        path: String,
        attempts: u32,
        wait: Duration,
        max_wait: Duration,
    },
    #[error("GitHub {method} {path}: {message}")]
    Transport {
        method: Method,
        path: String,
        message: String,
    },
    #[error("GitHub {method} {path}: unexpected response: {message}")]
    Decode {
        method: Method,
        path: String,
        message: String,
    },
    #[error("GitHub credentials: {0}")]
    Credentials(String),
    #[error("{0}")]
    Usage(String),
}

/// Whose runners: an organisation's or one repository's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    Org(String),
    Repo { owner: String, repo: String },
}

impl Scope {
    /// An organisation, its name checked.
    pub fn org(name: &str) -> Result<Scope, GitHubError> {
        check_segment("organisation", name)?;
        Ok(Scope::Org(name.to_owned()))
    }

    /// `OWNER/REPO`.
    pub fn repo(spec: &str) -> Result<Scope, GitHubError> {
        let (owner, repo) = spec.split_once('/').ok_or_else(|| {
            GitHubError::Usage(format!("repository {spec:?}: expected OWNER/REPO"))
        })?;
        check_segment("repository owner", owner)?;
        check_segment("repository name", repo)?;
        Ok(Scope::Repo {
            owner: owner.to_owned(),
            repo: repo.to_owned(),
        })
    }

    /// The API path this scope's resources live under.
    #[must_use]
    pub fn api_prefix(&self) -> String {
        match self {
            Scope::Org(org) => format!("/orgs/{org}"),
            Scope::Repo { owner, repo } => format!("/repos/{owner}/{repo}"),
        }
    }

    /// The URL a runner registers against (`config.sh --url`), on the web
    /// host of `api_url` (api.github.com → github.com; a GitHub Enterprise
    /// Server's `/api/v3` dropped).
    #[must_use]
    pub fn runner_url(&self, api_url: &str) -> String {
        let api = api_url.trim_end_matches('/');
        let web = if api == PUBLIC_API_URL {
            "https://github.com".to_owned()
        } else {
            api.trim_end_matches("/api/v3").to_owned()
        };
        match self {
            Scope::Org(org) => format!("{web}/{org}"),
            Scope::Repo { owner, repo } => format!("{web}/{owner}/{repo}"),
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scope::Org(org) => write!(f, "organisation {org}"),
            Scope::Repo { owner, repo } => write!(f, "repository {owner}/{repo}"),
        }
    }
}

/// GitHub's names are letters, digits, `-`, `_` and `.`; anything else
/// would change the request path.
fn check_segment(what: &str, value: &str) -> Result<(), GitHubError> {
    let ok = !value.is_empty()
        && value != "."
        && value != ".."
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(GitHubError::Usage(format!(
            "{what} {value:?}: expected letters, digits, '-', '_' or '.'"
        )))
    }
}

/// How to authenticate.
#[derive(Clone)]
pub enum Credentials {
    /// A token (personal access token, `GITHUB_TOKEN`, an installation token).
    Token(String),
    /// A GitHub App: installation tokens are minted (and renewed) from its
    /// key. Without an installation id, the app's installation on the scope
    /// is looked up.
    App {
        app_id: u64,
        private_key_pem: Vec<u8>,
        installation_id: Option<u64>,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Token(_) => f.write_str("Token(…)"),
            Credentials::App {
                app_id,
                installation_id,
                ..
            } => write!(
                f,
                "App {{ app_id: {app_id}, installation_id: {installation_id:?} }}"
            ),
        }
    }
}

/// Everything a client needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// `https://api.github.com`, or a GitHub Enterprise Server's `https://HOST/api/v3`.
    pub api_url: String,
    pub credentials: Credentials,
    pub budget: Budget,
    /// A cached registration token is used only while it has this much
    /// life left.
    pub token_margin: Duration,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl Config {
    #[must_use]
    pub fn new(api_url: &str, credentials: Credentials) -> Config {
        Config {
            api_url: api_url.trim_end_matches('/').to_owned(),
            credentials,
            budget: Budget::default(),
            token_margin: Duration::from_mins(5),
            timeout: Duration::from_secs(30),
        }
    }
}

/// A registration or removal token.
#[derive(Debug, Clone, Deserialize)]
pub struct RunnerToken {
    pub token: String,
    pub expires_at: DateTime<FixedOffset>,
}

/// What to register a JIT runner as.
#[derive(Debug, Clone, Serialize)]
pub struct JitRequest {
    pub name: String,
    pub runner_group_id: u64,
    pub labels: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_folder: Option<String>,
}

/// A runner with its single-use configuration.
#[derive(Debug, Clone, Deserialize)]
pub struct JitConfig {
    pub runner: Runner,
    pub encoded_jit_config: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct Runner {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub busy: bool,
    #[serde(default)]
    pub labels: Vec<RunnerLabel>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct RunnerLabel {
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RunnerGroup {
    pub id: u64,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct WorkflowRun {
    pub id: u64,
    pub status: Option<String>,
    pub conclusion: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Job {
    pub id: u64,
    pub run_id: u64,
    #[serde(default)]
    pub name: String,
    pub status: String,
    pub conclusion: Option<String>,
    #[serde(default)]
    pub labels: Vec<String>,
    pub runner_name: Option<String>,
}

#[derive(Deserialize)]
struct RunnerPage {
    total_count: u64,
    runners: Vec<Runner>,
}

#[derive(Deserialize)]
struct RunPage {
    total_count: u64,
    workflow_runs: Vec<WorkflowRun>,
}

#[derive(Deserialize)]
struct JobPage {
    total_count: u64,
    jobs: Vec<Job>,
}

#[derive(Deserialize)]
struct Installation {
    id: u64,
}

const PER_PAGE: u64 = 100;
/// A bound on pages followed, against a server that never stops.
const MAX_PAGES: u64 = 100;

/// A client for one scope. Cheap to clone; clones share the budget, the
/// counters and the token cache.
#[derive(Clone)]
pub struct GitHub {
    inner: Arc<Inner>,
}

struct Inner {
    crab: octocrab::Octocrab,
    api_url: String,
    scope: Scope,
    limits: Limits,
    counters: Counters,
    token_margin: Duration,
    registration_token: tokio::sync::Mutex<Option<RunnerToken>>,
}

impl GitHub {
    /// Builds a client for `scope`. With App credentials and no installation
    /// id, asks GitHub for the app's installation on the scope.
    pub async fn connect(config: &Config, scope: Scope) -> Result<GitHub, GitHubError> {
        let base = |b: octocrab::OctocrabBuilder<_, _, _, _>| {
            b.base_uri(config.api_url.as_str())
                .map_err(|e| {
                    GitHubError::Usage(format!("GitHub API URL {:?}: {e}", config.api_url))
                })
                .map(|b| {
                    b.add_header(
                        http::header::ACCEPT,
                        "application/vnd.github+json".to_owned(),
                    )
                    .add_header(
                        http::HeaderName::from_static("x-github-api-version"),
                        "2022-11-28".to_owned(),
                    )
                    .set_connect_timeout(Some(Duration::from_secs(10)))
                    .set_read_timeout(Some(config.timeout))
                    .set_write_timeout(Some(config.timeout))
                })
        };
        let crab = match &config.credentials {
            Credentials::Token(token) => base(octocrab::OctocrabBuilder::new())?
                .personal_token(token.clone())
                .build(),
            Credentials::App {
                app_id,
                private_key_pem,
                ..
            } => {
                let key = jsonwebtoken_key(private_key_pem)?;
                base(octocrab::OctocrabBuilder::new())?
                    .app(octocrab::models::AppId(*app_id), key)
                    .build()
            }
        }
        .map_err(|e| GitHubError::Usage(format!("GitHub client: {e}")))?;
        let github = GitHub::with_crab(config, scope.clone(), crab);
        let Credentials::App {
            installation_id, ..
        } = &config.credentials
        else {
            return Ok(github);
        };
        let id = if let Some(id) = installation_id {
            *id
        } else {
            let path = format!("{}/installation", scope.api_prefix());
            let found: Installation =
                github
                    .request(Method::GET, &path, None)
                    .await
                    .map_err(|e| {
                        GitHubError::Credentials(format!(
                            "no installation of the app on {scope}: {e}"
                        ))
                    })?;
            found.id
        };
        let installed = github
            .inner
            .crab
            .installation(octocrab::models::InstallationId(id))
            .map_err(|e| GitHubError::Credentials(format!("installation {id}: {e}")))?;
        Ok(GitHub::with_crab(config, scope, installed))
    }

    fn with_crab(config: &Config, scope: Scope, crab: octocrab::Octocrab) -> GitHub {
        GitHub {
            inner: Arc::new(Inner {
                crab,
                api_url: config.api_url.clone(),
                scope,
                limits: Limits::new(config.budget),
                counters: Counters::default(),
                token_margin: config.token_margin,
                registration_token: tokio::sync::Mutex::new(None),
            }),
        }
    }

    #[must_use]
    pub fn scope(&self) -> &Scope {
        &self.inner.scope
    }

    #[must_use]
    pub fn api_url(&self) -> &str {
        &self.inner.api_url
    }

    /// What this client has done so far.
    #[must_use]
    pub fn stats(&self) -> Stats {
        self.inner.counters.snapshot()
    }

    /// A registration token, from the cache while it has more than the
    /// margin left. Concurrent callers share one request.
    pub async fn registration_token(&self) -> Result<RunnerToken, GitHubError> {
        let mut cached = self.inner.registration_token.lock().await;
        if let Some(token) = cached.as_ref()
            && self.still_valid(token)
        {
            return Ok(token.clone());
        }
        let path = format!(
            "{}/actions/runners/registration-token",
            self.inner.scope.api_prefix()
        );
        let token: RunnerToken = self.request(Method::POST, &path, None).await?;
        if !self.still_valid(&token) {
            tracing::warn!(
                "GitHub's registration token expires at {}, within the {}s margin: not cached",
                token.expires_at,
                self.inner.token_margin.as_secs()
            );
            return Ok(token);
        }
        *cached = Some(token.clone());
        Ok(token)
    }

    fn still_valid(&self, token: &RunnerToken) -> bool {
        let margin =
            chrono::Duration::from_std(self.inner.token_margin).unwrap_or(chrono::Duration::zero());
        token.expires_at.with_timezone(&Utc) - margin > Utc::now()
    }

    /// A removal token (not cached: used once, by `config.sh remove`).
    pub async fn removal_token(&self) -> Result<RunnerToken, GitHubError> {
        let path = format!(
            "{}/actions/runners/remove-token",
            self.inner.scope.api_prefix()
        );
        self.request(Method::POST, &path, None).await
    }

    /// A just-in-time runner configuration. Single use; never retried
    /// after anything but a rate-limit refusal.
    pub async fn jit_config(&self, request: &JitRequest) -> Result<JitConfig, GitHubError> {
        let path = format!(
            "{}/actions/runners/generate-jitconfig",
            self.inner.scope.api_prefix()
        );
        let body = serde_json::to_value(request).map_err(|e| GitHubError::Usage(e.to_string()))?;
        self.request(Method::POST, &path, Some(&body)).await
    }

    /// The scope's runners, every page.
    pub async fn runners(&self) -> Result<Vec<Runner>, GitHubError> {
        let path = format!("{}/actions/runners?", self.inner.scope.api_prefix());
        self.every_page(&path, |p: RunnerPage| (p.total_count, p.runners))
            .await
    }

    /// An organisation's runner group (repositories have none).
    pub async fn runner_group(&self, id: u64) -> Result<RunnerGroup, GitHubError> {
        let Scope::Org(org) = &self.inner.scope else {
            return Err(GitHubError::Usage(
                "runner groups belong to organisations, not repositories".to_owned(),
            ));
        };
        self.request(
            Method::GET,
            &format!("/orgs/{org}/actions/runner-groups/{id}"),
            None,
        )
        .await
    }

    /// Deletes a runner; `Ok(false)` when GitHub no longer has it.
    pub async fn delete_runner(&self, id: u64) -> Result<bool, GitHubError> {
        let path = format!("{}/actions/runners/{id}", self.inner.scope.api_prefix());
        match self.request_raw(Method::DELETE, &path, None).await {
            Ok(_) => Ok(true),
            Err(GitHubError::Status { status: 404, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn repo_prefix(&self) -> Result<String, GitHubError> {
        match &self.inner.scope {
            Scope::Repo { .. } => Ok(self.inner.scope.api_prefix()),
            Scope::Org(_) => Err(GitHubError::Usage(
                "workflow runs and jobs belong to a repository: use --github-repo".to_owned(),
            )),
        }
    }

    /// The repository's workflow runs with `status`, every page.
    pub async fn workflow_runs(&self, status: &str) -> Result<Vec<WorkflowRun>, GitHubError> {
        let path = format!("{}/actions/runs?status={status}&", self.repo_prefix()?);
        self.every_page(&path, |p: RunPage| (p.total_count, p.workflow_runs))
            .await
    }

    pub async fn workflow_run(&self, run_id: u64) -> Result<WorkflowRun, GitHubError> {
        let path = format!("{}/actions/runs/{run_id}", self.repo_prefix()?);
        self.request(Method::GET, &path, None).await
    }

    /// The latest attempt's jobs of a run, every page.
    pub async fn run_jobs(&self, run_id: u64) -> Result<Vec<Job>, GitHubError> {
        let path = format!(
            "{}/actions/runs/{run_id}/jobs?filter=latest&",
            self.repo_prefix()?
        );
        self.every_page(&path, |p: JobPage| (p.total_count, p.jobs))
            .await
    }

    /// Re-runs one job (and what depends on it) of a completed run.
    pub async fn rerun_job(&self, job_id: u64) -> Result<(), GitHubError> {
        let path = format!("{}/actions/jobs/{job_id}/rerun", self.repo_prefix()?);
        self.request_raw(Method::POST, &path, None).await.map(drop)
    }

    /// Queued jobs of the repository: the jobs of every run that is queued
    /// or in progress, kept when the job itself is queued.
    pub async fn queued_jobs(&self) -> Result<Vec<Job>, GitHubError> {
        let mut runs = self.workflow_runs("queued").await?;
        runs.extend(self.workflow_runs("in_progress").await?);
        runs.sort_by_key(|r| r.id);
        runs.dedup_by_key(|r| r.id);
        let mut queued = Vec::new();
        for run in &runs {
            queued.extend(
                self.run_jobs(run.id)
                    .await?
                    .into_iter()
                    .filter(|j| j.status == "queued"),
            );
        }
        Ok(queued)
    }

    /// Every page of a list: `path` ends in `?` or `&`; `items` gives a
    /// page's total count and items. Stops at a short page, at the total,
    /// or after `MAX_PAGES`.
    async fn every_page<P: DeserializeOwned, T>(
        &self,
        path: &str,
        items: impl Fn(P) -> (u64, Vec<T>),
    ) -> Result<Vec<T>, GitHubError> {
        let mut all = Vec::new();
        for page in 1..=MAX_PAGES {
            let got: P = self
                .request(
                    Method::GET,
                    &format!("{path}per_page={PER_PAGE}&page={page}"),
                    None,
                )
                .await?;
            let (total, got) = items(got);
            let n = got.len() as u64;
            all.extend(got);
            if n < PER_PAGE || all.len() as u64 >= total {
                break;
            }
        }
        Ok(all)
    }

    /// One request, decoded.
    async fn request<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<T, GitHubError> {
        let bytes = self.request_raw(method.clone(), path, body).await?;
        serde_json::from_slice(&bytes).map_err(|e| GitHubError::Decode {
            method,
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    /// Sends a request once, under the budget, and reads the whole answer.
    async fn send_once(
        &self,
        class: EndpointClass,
        method: &Method,
        uri: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(StatusCode, HeaderMap, Vec<u8>), octocrab::Error> {
        let inner = &self.inner;
        inner.limits.turn(class).await;
        let _permit = inner
            .limits
            .in_flight
            .acquire()
            .await
            .expect("the semaphore is never closed");
        inner.counters.count(class);
        let response = match *method {
            Method::GET => inner.crab._get(uri).await?,
            Method::POST => inner.crab._post(uri, body).await?,
            Method::DELETE => inner.crab._delete(uri, body).await?,
            _ => unreachable!("only GET, POST and DELETE are used"),
        };
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await?.to_bytes().to_vec();
        Ok((parts.status, parts.headers, bytes))
    }

    /// One request under the budget, with GitHub's rate-limit answers
    /// honoured; returns the body of a 2xx answer.
    async fn request_raw(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Vec<u8>, GitHubError> {
        let inner = &self.inner;
        let class = classify(&method, path);
        let idempotent = method != Method::POST;
        let budget = inner.limits.budget;
        let uri = format!("{}{path}", inner.api_url);
        let mut attempt = 0u32;
        let mut unspecified = budget.unspecified_wait;
        loop {
            attempt += 1;
            tracing::debug!("GitHub {method} {path} (attempt {attempt})");
            let answer = self.send_once(class, &method, &uri, body).await;
            let (status, headers, bytes) = match answer {
                Ok(answer) => answer,
                Err(e) => {
                    let message = error_text(&e);
                    if idempotent && attempt < 3 {
                        tracing::warn!("GitHub {method} {path}: {message}; trying again");
                        inner.counters.retried.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(500 << attempt)).await;
                        continue;
                    }
                    return Err(GitHubError::Transport {
                        method,
                        path: path.to_owned(),
                        message: if idempotent {
                            message
                        } else {
                            format!(
                                "{message} (not retried: GitHub may have acted on it; \
                                 `spot-leaser reap` removes runners left behind)"
                            )
                        },
                    });
                }
            };
            if status.is_success() {
                return Ok(bytes);
            }
            let text = String::from_utf8_lossy(&bytes);
            if let Some(wait) = throttle_wait(
                status.as_u16(),
                &headers,
                &text,
                Utc::now().timestamp(),
                unspecified,
            ) {
                inner.counters.throttled.fetch_add(1, Ordering::Relaxed);
                if !has_wait_headers(&headers) {
                    unspecified = unspecified.saturating_mul(2);
                }
                if wait > budget.max_wait || attempt >= budget.max_attempts {
                    return Err(GitHubError::RateLimited {
                        method,
                        path: path.to_owned(),
                        attempts: attempt,
                        wait,
                        max_wait: budget.max_wait,
                    });
                }
                tracing::warn!(
                    "GitHub rate limit on {method} {path} (HTTP {status}): every {} request waits {:.1}s",
                    class.name(),
                    wait.as_secs_f64()
                );
                inner.counters.retried.fetch_add(1, Ordering::Relaxed);
                inner.counters.throttled_wait_ms.fetch_add(
                    u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                    Ordering::Relaxed,
                );
                inner.limits.pause(class, wait);
                continue;
            }
            if status.is_server_error() && idempotent && attempt < 3 {
                tracing::warn!("GitHub {method} {path}: HTTP {status}; trying again");
                inner.counters.retried.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(500 << attempt)).await;
                continue;
            }
            return Err(GitHubError::Status {
                method,
                path: path.to_owned(),
                status: status.as_u16(),
                message: message_of(status, &text),
            });
        }
    }
}

fn classify(method: &Method, path: &str) -> EndpointClass {
    if *method == Method::GET {
        EndpointClass::Read
    } else if path.ends_with("/registration-token")
        || path.ends_with("/remove-token")
        || path.ends_with("/generate-jitconfig")
    {
        EndpointClass::Registration
    } else {
        EndpointClass::Write
    }
}

fn has_wait_headers(headers: &HeaderMap) -> bool {
    headers.contains_key("retry-after")
        || headers
            .get("x-ratelimit-remaining")
            .is_some_and(|v| v.as_bytes() == b"0")
}

/// GitHub's `message` field when the body has one, else the body itself.
fn message_of(status: StatusCode, body: &str) -> String {
    #[derive(Deserialize)]
    struct Message {
        message: String,
    }
    match serde_json::from_str::<Message>(body) {
        Ok(m) => m.message,
        Err(_) if body.trim().is_empty() => {
            status.canonical_reason().unwrap_or("no message").to_owned()
        }
        Err(_) => body.chars().take(300).collect(),
    }
}

fn error_text(err: &octocrab::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn jsonwebtoken_key(pem: &[u8]) -> Result<octocrab::EncodingKey, GitHubError> {
    octocrab::EncodingKey::from_rsa_pem(pem).map_err(|e| {
        GitHubError::Credentials(format!(
            "the GitHub App private key is not an RSA PEM key: {e}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_checked_and_mapped() {
        assert_eq!(Scope::org("acme").unwrap().api_prefix(), "/orgs/acme");
        let repo = Scope::repo("acme/app.rs").unwrap();
        assert_eq!(repo.api_prefix(), "/repos/acme/app.rs");
        assert_eq!(
            repo.runner_url(PUBLIC_API_URL),
            "https://github.com/acme/app.rs"
        );
        assert_eq!(
            Scope::org("acme")
                .unwrap()
                .runner_url("https://ghe.example.com/api/v3/"),
            "https://ghe.example.com/acme"
        );
        for bad in ["acme", "acme/", "/app", "a/b/c", "a b/c", "../x"] {
            assert!(Scope::repo(bad).is_err(), "{bad}");
        }
        assert!(Scope::org("ac?me").is_err());
    }

    #[test]
    fn endpoint_classes() {
        assert_eq!(
            classify(&Method::POST, "/orgs/a/actions/runners/generate-jitconfig"),
            EndpointClass::Registration
        );
        assert_eq!(
            classify(
                &Method::POST,
                "/repos/a/b/actions/runners/registration-token"
            ),
            EndpointClass::Registration
        );
        assert_eq!(
            classify(&Method::DELETE, "/orgs/a/actions/runners/5"),
            EndpointClass::Write
        );
        assert_eq!(
            classify(&Method::GET, "/orgs/a/actions/runners"),
            EndpointClass::Read
        );
    }

    #[test]
    fn messages_come_from_the_body() {
        assert_eq!(
            message_of(StatusCode::NOT_FOUND, r#"{"message":"Not Found"}"#),
            "Not Found"
        );
        assert_eq!(message_of(StatusCode::BAD_GATEWAY, ""), "Bad Gateway");
    }
}
