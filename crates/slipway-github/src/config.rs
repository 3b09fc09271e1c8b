//! How to reach GitHub: the API URL, credentials, budget and timeouts.

use std::time::Duration;

use crate::{Budget, GitHubError};

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

pub(crate) fn jsonwebtoken_key(pem: &[u8]) -> Result<octocrab::EncodingKey, GitHubError> {
    octocrab::EncodingKey::from_rsa_pem(pem).map_err(|e| {
        GitHubError::Credentials(format!(
            "the GitHub App private key is not an RSA PEM key: {e}"
        ))
    })
}
