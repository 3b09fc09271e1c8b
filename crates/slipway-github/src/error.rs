//! What can go wrong talking to GitHub.

use std::time::Duration;

use http::Method;

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
    /// Workflow runs and jobs belong to a repository, not an organisation.
    #[error("{what} belong to a repository, and this client is bound to an organisation")]
    RepositoryOnly { what: &'static str },
    /// Runner groups belong to an organisation, not a repository.
    #[error("{what} belong to an organisation, and this client is bound to a repository")]
    OrganisationOnly { what: &'static str },
}
