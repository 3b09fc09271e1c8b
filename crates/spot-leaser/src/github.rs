//! The GitHub options every subcommand that talks to GitHub shares, and
//! the client they make.

use std::num::NonZeroU32;
use std::path::PathBuf;

use clap::Args;
use slipway_github::{Budget, Config, Credentials, GitHub, PUBLIC_API_URL, Scope};

use crate::{Error, Result};

#[derive(Debug, Clone, Args)]
#[group(id = "github_scope", multiple = false)]
pub struct ScopeArgs {
    /// The organisation whose runners these are.
    #[arg(long, value_name = "ORG")]
    pub github_org: Option<String>,

    /// The repository whose runners (and queue) these are.
    #[arg(long, value_name = "OWNER/REPO")]
    pub github_repo: Option<String>,
}

impl ScopeArgs {
    /// The scope, when one was given.
    pub(crate) fn scope(&self) -> Result<Option<Scope>> {
        Ok(match (&self.github_org, &self.github_repo) {
            (Some(org), _) => Some(Scope::org(org)?),
            (None, Some(repo)) => Some(Scope::repo(repo)?),
            (None, None) => None,
        })
    }
}

/// How to reach and authenticate to GitHub, and how fast to go.
#[derive(Debug, Clone, Args)]
pub struct ApiArgs {
    /// GitHub's API (a GitHub Enterprise Server's is `https://HOST/api/v3`).
    #[arg(long, env = "GITHUB_API_URL", default_value = PUBLIC_API_URL)]
    pub github_api_url: String,

    /// The environment variable holding the GitHub token (unless a GitHub
    /// App is given).
    #[arg(long, value_name = "VAR", default_value = "GITHUB_TOKEN")]
    pub github_token_env: String,

    /// Authenticate as this GitHub App (with --github-app-key).
    #[arg(
        long,
        value_name = "ID",
        env = "SLIPWAY_GITHUB_APP_ID",
        requires = "github_app_key"
    )]
    pub github_app_id: Option<u64>,

    /// The GitHub App's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "github_app_id")]
    pub github_app_key: Option<PathBuf>,

    /// The App's installation [default: looked up on the organisation or
    /// repository].
    #[arg(long, value_name = "ID")]
    pub github_app_installation_id: Option<u64>,

    /// Registration and other mutating requests a minute, each (GitHub's
    /// secondary limit is about 180).
    #[arg(long, value_name = "N", default_value_t = NonZeroU32::new(180).expect("non-zero"))]
    pub github_writes_per_minute: NonZeroU32,

    /// GitHub requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(1..=100))]
    pub github_max_in_flight: u16,
}

impl ApiArgs {
    fn config(&self) -> Result<Config> {
        let credentials =
            if let (Some(app_id), Some(key)) = (&self.github_app_id, &self.github_app_key) {
                Credentials::App {
                    app_id: *app_id,
                    private_key_pem: std::fs::read(key).map_err(|source| Error::Read {
                        path: key.clone(),
                        source,
                    })?,
                    installation_id: self.github_app_installation_id,
                }
            } else {
                {
                    let var = &self.github_token_env;
                    let token = std::env::var(var).map_err(|_| Error::NoCredentials {
                        var: var.clone(),
                        state: "not set",
                    })?;
                    if token.trim().is_empty() {
                        return Err(Error::NoCredentials {
                            var: var.clone(),
                            state: "empty",
                        });
                    }
                    Credentials::Token(token.trim().to_owned())
                }
            };
        let mut config = Config::new(&self.github_api_url, credentials);
        config.budget = Budget {
            registrations_per_minute: self.github_writes_per_minute,
            writes_per_minute: self.github_writes_per_minute,
            max_in_flight: usize::from(self.github_max_in_flight),
            ..Budget::default()
        };
        Ok(config)
    }

    /// A client for `scope`.
    pub(crate) async fn connect(&self, scope: Scope) -> Result<GitHub> {
        let config = self.config()?;
        Ok(GitHub::connect(&config, scope).await?)
    }
}

/// Logs what the client did, so throttling is never silent.
pub(crate) fn log_stats(github: &GitHub) {
    let stats = github.stats();
    if stats.throttled > 0 {
        tracing::warn!(
            throttled = stats.throttled,
            waited_ms = stats.throttled_wait_ms,
            "GitHub rate-limited {} of {} requests",
            stats.throttled,
            stats.requests
        );
    } else {
        tracing::info!(requests = stats.requests, "GitHub requests");
    }
}
