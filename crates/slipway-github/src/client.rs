//! The client for one scope and its endpoints. Each call names its rate
//! class; `request` sends it under that class's budget.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use http::Method;

use crate::budget::{Counters, Limits};
use crate::models::{Installation, JobPage, RunPage, RunnerPage};
use crate::request::Call;
use crate::{
    Config, Credentials, EndpointClass, GitHubError, JitConfig, JitRequest, Job, Runner,
    RunnerGroup, RunnerToken, Scope, Stats, WorkflowRun,
};

/// A client for one scope. Cheap to clone; clones share the budget, the
/// counters and the token cache.
#[derive(Clone)]
pub struct GitHub {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) crab: octocrab::Octocrab,
    pub(crate) api_url: String,
    scope: Scope,
    pub(crate) limits: Limits,
    pub(crate) counters: Counters,
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
                let key = crate::config::jsonwebtoken_key(private_key_pem)?;
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
            let found: Installation = github.request(Call::get(&path)).await.map_err(|e| {
                GitHubError::Credentials(format!("no installation of the app on {scope}: {e}"))
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
        let token: RunnerToken = self
            .request(Call::post(EndpointClass::Registration, &path))
            .await?;
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
        self.request(Call::post(EndpointClass::Registration, &path))
            .await
    }

    /// A just-in-time runner configuration. Single use; never retried
    /// after anything but a rate-limit refusal.
    pub async fn jit_config(&self, request: &JitRequest) -> Result<JitConfig, GitHubError> {
        let path = format!(
            "{}/actions/runners/generate-jitconfig",
            self.inner.scope.api_prefix()
        );
        let body = serde_json::to_value(request).map_err(|e| GitHubError::Usage(e.to_string()))?;
        self.request(Call {
            body: Some(&body),
            ..Call::post(EndpointClass::Registration, &path)
        })
        .await
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
            return Err(GitHubError::OrganisationOnly {
                what: "runner groups",
            });
        };
        self.request(Call::get(&format!(
            "/orgs/{org}/actions/runner-groups/{id}"
        )))
        .await
    }

    /// Deletes a runner; `Ok(false)` when GitHub no longer has it.
    pub async fn delete_runner(&self, id: u64) -> Result<bool, GitHubError> {
        let path = format!("{}/actions/runners/{id}", self.inner.scope.api_prefix());
        let call = Call {
            class: EndpointClass::Write,
            method: &Method::DELETE,
            path: &path,
            body: None,
        };
        match self.request_raw(call).await {
            Ok(_) => Ok(true),
            Err(GitHubError::Status { status: 404, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn repo_prefix(&self) -> Result<String, GitHubError> {
        match &self.inner.scope {
            Scope::Repo { .. } => Ok(self.inner.scope.api_prefix()),
            Scope::Org(_) => Err(GitHubError::RepositoryOnly {
                what: "workflow runs and jobs",
            }),
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
        self.request(Call::get(&path)).await
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

    /// One job of the repository, in its current state.
    pub async fn job(&self, job_id: u64) -> Result<Job, GitHubError> {
        let path = format!("{}/actions/jobs/{job_id}", self.repo_prefix()?);
        self.request(Call::get(&path)).await
    }

    /// Re-runs one job (and what depends on it) of a completed run.
    pub async fn rerun_job(&self, job_id: u64) -> Result<(), GitHubError> {
        let path = format!("{}/actions/jobs/{job_id}/rerun", self.repo_prefix()?);
        self.request_raw(Call::post(EndpointClass::Write, &path))
            .await
            .map(drop)
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
}
