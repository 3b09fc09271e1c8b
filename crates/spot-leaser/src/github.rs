//! The GitHub client the subcommands that talk to GitHub make.

use slipway_github::{Budget, Config, Credentials, GitHub, Scope};

use crate::spec::ApiSpec;
use crate::{Error, Result};

impl ApiSpec {
    fn config(&self) -> Result<Config> {
        let credentials = if let Some((app_id, key)) = &self.github_app {
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
