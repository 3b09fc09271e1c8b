//! `spot-leaser serve`: a long-running control plane that gives every
//! queued self-hosted job of an organisation or repository a runner of its
//! own, from `workflow_job` webhooks and a periodic reconcile.
//!
//! Stateless: EC2's tags and launch templates and GitHub's API are the
//! state (see `jobs.rs` for why a launch happens once however often it is
//! asked for), so a restart or a second replica loses and duplicates
//! nothing. What the process holds (`state.rs`) is counters and caches.
//!
//! - `POST /webhook`: signature checked over the raw body (401, nothing
//!   done, when missing or wrong), deduplicated by `X-GitHub-Delivery`,
//!   answered at once (202), the work done after.
//! - `GET /metrics`, `GET /healthz`.
//! - `POST /pause`, `POST /resume`: stop and restart scale-up;
//!   authenticated like a webhook or with `Authorization: Bearer <secret>`
//!   (what Alertmanager's `http_config` sends); an Alertmanager
//!   notification posted to `/pause` with `"status": "resolved"` resumes.
//!   The flag is an SSM parameter, so every replica and a restart see it.

mod config;
mod http;
mod jobs;
mod reconcile;
mod state;
mod warm;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use slipway_github::webhook::{self, WorkflowJobEvent};
use slipway_github::{GitHub, Scope};
use tokio::net::TcpListener;

use crate::spec::ServeSpec;
use crate::{Error, Result, ec2};
use config::Config;
use state::{State, label_set};

/// What every task of the server shares (one thread: `Rc`, `RefCell`).
pub(crate) struct Ctx {
    pub(crate) spec: ServeSpec,
    pub(crate) config: Config,
    secret: Vec<u8>,
    pub(crate) ec2: aws_sdk_ec2::Client,
    pub(crate) ssm: aws_sdk_ssm::Client,
    /// The runners' scope.
    pub(crate) github: GitHub,
    repos: RefCell<HashMap<String, GitHub>>,
    pub(crate) state: RefCell<State>,
    /// The HTTP server's connection counts.
    connections: Rc<std::cell::Cell<http::Counts>>,
}

/// Runs until killed.
pub(crate) async fn serve(spec: &ServeSpec) -> Result<()> {
    let scope = spec.github.clone();
    let config = Config::load(&spec.config)?;
    if matches!(scope, Scope::Org(_)) && config.repositories.is_empty() {
        tracing::warn!(
            "no `repositories` in the configuration: the reconcile cannot find queued jobs \
             whose webhook was missed"
        );
    }
    let secret = read_secret(&spec.webhook_secret_file)?;
    let listener = TcpListener::bind(&spec.listen)
        .await
        .map_err(|source| Error::io("listen on", &spec.listen, source))?;
    let github = spec.api.connect(scope).await?;
    let ctx = Rc::new(Ctx {
        spec: spec.clone(),
        config,
        secret,
        ec2: ec2::client(&spec.region).await,
        ssm: ec2::ssm_client(&spec.region).await,
        github,
        repos: RefCell::new(HashMap::new()),
        state: RefCell::new(State::default()),
        connections: Rc::default(),
    });
    tracing::info!(
        listen = %listener.local_addr().map_err(|source| Error::io("listen on", &spec.listen, source))?,
        pools = ctx.config.pools.len(),
        "serving"
    );
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let reconciler = Rc::clone(&ctx);
            tokio::task::spawn_local(async move {
                let mut tick = tokio::time::interval(reconciler.spec.reconcile_every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    reconcile::run(&reconciler).await;
                }
            });
            let routes = Rc::clone(&ctx);
            let handle = move |request: http::Request| {
                let ctx = Rc::clone(&routes);
                async move { route(&ctx, &request).await }
            };
            let counts = Rc::clone(&ctx.connections);
            http::serve(listener, http::Limits::default(), handle, counts).await;
            Ok(())
        })
        .await
}

fn read_secret(path: &std::path::Path) -> Result<Vec<u8>> {
    let text = crate::read(path)?;
    let secret = text.trim_end_matches(['\r', '\n']);
    if secret.is_empty() {
        return Err(Error::bad(
            "--webhook-secret-file",
            &path.display().to_string(),
            "the file is empty",
        ));
    }
    Ok(secret.as_bytes().to_vec())
}

async fn route(ctx: &Rc<Ctx>, request: &http::Request) -> http::Response {
    match (request.method.as_str(), request.path.as_str()) {
        ("POST", "/webhook") => on_webhook(ctx, request),
        ("GET", "/metrics") => {
            let body = ctx.state.borrow().metrics(ctx.connections.get());
            http::Response {
                status: 200,
                content_type: "text/plain; version=0.0.4; charset=utf-8",
                body,
            }
        }
        ("GET", "/healthz") => http::Response::text(200, "ok"),
        ("POST", "/pause" | "/resume") => on_pause(ctx, request).await,
        (_, "/webhook" | "/metrics" | "/healthz" | "/pause" | "/resume") => {
            http::Response::text(405, "method not allowed")
        }
        _ => http::Response::text(404, "not found"),
    }
}

/// Whether the request carries the secret: a webhook signature over its
/// body, or `Authorization: Bearer <secret>`; both compared in constant
/// time.
fn authenticated(ctx: &Ctx, request: &http::Request) -> std::result::Result<(), &'static str> {
    if let Some(bearer) = request
        .header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
    {
        // Compare MACs of both, so the comparison takes the same time
        // whatever the prefix in common.
        let given = webhook::sign(b"slipway-bearer", bearer.trim().as_bytes());
        return webhook::verify(b"slipway-bearer", &ctx.secret, Some(&given))
            .map_err(|_| "wrong bearer token");
    }
    webhook::verify(
        &ctx.secret,
        &request.body,
        request.header("x-hub-signature-256"),
    )
    .map_err(|e| match e {
        webhook::SignatureError::Missing => "no signature",
        webhook::SignatureError::Malformed => "malformed signature",
        webhook::SignatureError::Mismatch => "wrong signature",
    })
}

fn on_webhook(ctx: &Rc<Ctx>, request: &http::Request) -> http::Response {
    if let Err(why) = authenticated(ctx, request) {
        ctx.state.borrow_mut().delivery("unauthorized");
        tracing::warn!(peer = %request.peer, "webhook refused: {why}");
        return http::Response::text(401, why);
    }
    let event = request.header("x-github-event").unwrap_or_default();
    let Some(delivery) = request.header("x-github-delivery").map(str::to_owned) else {
        ctx.state.borrow_mut().delivery("bad_request");
        return http::Response::text(400, "no X-GitHub-Delivery header");
    };
    if event != "workflow_job" {
        ctx.state.borrow_mut().delivery("ignored");
        return http::Response::empty(204);
    }
    if !ctx.state.borrow_mut().first_delivery(&delivery) {
        ctx.state.borrow_mut().delivery("duplicate");
        tracing::info!(delivery, "duplicate delivery: already handled");
        return http::Response::text(202, "duplicate");
    }
    let parsed: WorkflowJobEvent = match serde_json::from_slice(&request.body) {
        Ok(e) => e,
        Err(e) => {
            ctx.state.borrow_mut().delivery("bad_request");
            tracing::warn!(delivery, "not a workflow_job payload: {e}");
            return http::Response::text(400, format!("not a workflow_job payload: {e}"));
        }
    };
    ctx.state.borrow_mut().delivery("accepted");
    let job = parsed.workflow_job;
    let repo = parsed.repository.map(|r| r.full_name);
    tracing::info!(delivery, action = parsed.action, job = job.id, labels = ?job.labels, "workflow_job");
    let self_hosted = job
        .labels
        .iter()
        .any(|l| l.eq_ignore_ascii_case("self-hosted"));
    match parsed.action.as_str() {
        "queued" if self_hosted => {
            ctx.state
                .borrow_mut()
                .queued
                .insert(job.id, label_set(&job.labels));
            let ctx = Rc::clone(ctx);
            tokio::task::spawn_local(async move {
                match jobs::launch_for_job(&ctx, &job, repo.as_deref()).await {
                    Ok(jobs::Outcome::Launched { .. }) | Err(_) => {}
                    Ok(other) => tracing::info!(job = job.id, "no launch for the job: {other:?}"),
                }
            });
        }
        "in_progress" => {
            ctx.state.borrow_mut().queued.remove(&job.id);
        }
        "completed" => {
            ctx.state.borrow_mut().queued.remove(&job.id);
            let ctx = Rc::clone(ctx);
            tokio::task::spawn_local(async move {
                if let Err(e) = jobs::on_completed(&ctx, &job, repo.as_deref()).await {
                    tracing::error!(
                        job = job.id,
                        "handling the completed job failed: {}",
                        slipway_cli::chain(&e)
                    );
                }
            });
        }
        _ => {}
    }
    http::Response::text(202, "accepted")
}

async fn on_pause(ctx: &Rc<Ctx>, request: &http::Request) -> http::Response {
    if let Err(why) = authenticated(ctx, request) {
        tracing::warn!(peer = %request.peer, path = request.path, "refused: {why}");
        return http::Response::text(401, why);
    }
    // An Alertmanager notification: resolved alerts resume.
    let resolved = serde_json::from_slice::<serde_json::Value>(&request.body)
        .ok()
        .is_some_and(|v| v["status"] == "resolved");
    let pause = request.path == "/pause" && !resolved;
    if let Err(e) = ctx
        .ssm
        .put_parameter()
        .name(&ctx.spec.pause_parameter)
        .value(if pause { "true" } else { "false" })
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .overwrite(true)
        .send()
        .await
    {
        let e = aws_sdk_ssm::error::DisplayErrorContext(&e).to_string();
        tracing::error!("could not record the pause flag: {e}");
        return http::Response::text(503, "could not record the pause flag");
    }
    ctx.state.borrow_mut().paused = pause;
    tracing::warn!(
        paused = pause,
        "scale-up {}",
        if pause { "paused" } else { "resumed" }
    );
    http::Response::text(200, if pause { "paused" } else { "resumed" })
}

/// Reads the pause flag another replica (or an earlier run) may have set.
pub(crate) async fn refresh_paused(ctx: &Ctx) {
    match ctx
        .ssm
        .get_parameter()
        .name(&ctx.spec.pause_parameter)
        .send()
        .await
    {
        Ok(out) => {
            let paused = out.parameter().and_then(|p| p.value()) == Some("true");
            ctx.state.borrow_mut().paused = paused;
        }
        Err(e) => {
            let text = aws_sdk_ssm::error::DisplayErrorContext(&e).to_string();
            if !text.contains("ParameterNotFound") {
                tracing::warn!("could not read the pause flag: {text}");
            }
        }
    }
}

/// The repositories whose queued jobs the reconcile lists.
pub(crate) fn repositories(ctx: &Ctx) -> Vec<String> {
    match ctx.github.scope() {
        Scope::Repo { owner, repo } => vec![format!("{owner}/{repo}")],
        Scope::Org(_) => ctx.config.repositories.clone(),
    }
}

/// A client for a repository's jobs: the runners' one under a repository
/// scope, else one per repository, made once.
pub(crate) async fn repo_client(ctx: &Ctx, repo: Option<&str>) -> Option<GitHub> {
    if matches!(ctx.github.scope(), Scope::Repo { .. }) {
        return Some(ctx.github.clone());
    }
    let repo = repo?;
    if let Some(client) = ctx.repos.borrow().get(repo) {
        return Some(client.clone());
    }
    let scope = Scope::repo(repo).ok()?;
    match ctx.spec.api.connect(scope).await {
        Ok(client) => {
            ctx.repos
                .borrow_mut()
                .insert(repo.to_owned(), client.clone());
            Some(client)
        }
        Err(e) => {
            tracing::warn!(repo, "no client for the repository: {e}");
            None
        }
    }
}
