//! The GitHub options every subcommand that talks to GitHub shares.

use std::num::NonZeroU32;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use slipway_github::{PUBLIC_API_URL, Scope};

use crate::Result;
use crate::output::RunnerMode;
use crate::spec::{self, ApiSpec, RunnerSpec};

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
    #[arg(long, value_name = "VAR", default_value = spec::DEFAULT_GITHUB_TOKEN_ENV)]
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
    #[arg(long, value_name = "N", default_value_t = spec::DEFAULT_GITHUB_WRITES_PER_MINUTE)]
    pub github_writes_per_minute: NonZeroU32,

    /// GitHub requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = spec::DEFAULT_GITHUB_MAX_IN_FLIGHT,
          value_parser = clap::value_parser!(u16).range(1..=100))]
    pub github_max_in_flight: u16,
}

impl ApiArgs {
    pub(crate) fn spec(&self) -> ApiSpec {
        ApiSpec {
            github_api_url: self.github_api_url.clone(),
            github_token_env: self.github_token_env.clone(),
            github_app: self.github_app_id.zip(self.github_app_key.clone()),
            github_app_installation_id: self.github_app_installation_id,
            github_writes_per_minute: self.github_writes_per_minute,
            github_max_in_flight: self.github_max_in_flight,
        }
    }
}

/// How runners register (the clap face of [`RunnerMode`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RunnerModeArg {
    /// A single-use just-in-time configuration per runner.
    Jit,
    /// One reusable registration token, `config.sh --ephemeral` on the instance.
    Token,
}

#[derive(Debug, Clone, Args)]
pub struct RunnerArgs {
    /// Extra labels for the runners, comma-separated. `self-hosted`,
    /// `linux`, the architecture and the size (`slipway-<vCPUs>cpu`) are
    /// always given.
    #[arg(long, value_delimiter = ',', value_name = "LABELS")]
    pub runner_labels: Vec<String>,

    /// The runner group (organisations; JIT needs one, 1 is the default group).
    #[arg(long, value_name = "ID", default_value_t = spec::DEFAULT_RUNNER_GROUP)]
    pub runner_group: u64,

    #[arg(long, value_enum, default_value_t = RunnerModeArg::Jit)]
    pub runner_mode: RunnerModeArg,

    /// Runners are named `<PREFIX>-<instance id>`.
    #[arg(long, value_name = "PREFIX", default_value = spec::DEFAULT_RUNNER_PREFIX)]
    pub runner_prefix: String,

    /// Where each instance's runner configuration is put in SSM Parameter
    /// Store (the instance's role must be able to read and delete it).
    #[arg(long, value_name = "PATH", default_value = spec::DEFAULT_PARAMETER_PREFIX)]
    pub parameter_prefix: String,
}

impl RunnerArgs {
    pub(crate) fn spec(&self) -> RunnerSpec {
        RunnerSpec {
            runner_labels: self.runner_labels.clone(),
            runner_group: self.runner_group,
            runner_mode: match self.runner_mode {
                RunnerModeArg::Jit => RunnerMode::Jit,
                RunnerModeArg::Token => RunnerMode::Token,
            },
            runner_prefix: self.runner_prefix.clone(),
            parameter_prefix: self.parameter_prefix.clone(),
        }
    }
}
