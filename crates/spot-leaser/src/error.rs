//! Every way a run of `spot-leaser` can fail, each with its documented exit
//! code (README, "Exit codes"), given by one exhaustive `match`.

use std::path::PathBuf;

use slipway_github::GitHubError;
use slipway_spot::SpotError;

use crate::ec2::Ec2Error;

/// Exit codes of `spot-leaser`, documented in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    Ok = 0,
    Internal = 1,
    /// Bad command line or input file.
    Usage = 2,
    /// An EC2 call failed (credentials, permissions, throttling, a bad request).
    Ec2 = 3,
    /// No eligible pool, or no capacity in any pool (nothing was left running).
    NoCapacity = 4,
    /// A GitHub call failed (credentials, permissions, rate limits beyond
    /// the allowed wait), or no launched instance could be registered.
    GitHub = 5,
}

/// Why a subcommand did not finish.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An argument's value is wrong (`argument` names it).
    #[error("{argument} {value:?}: {problem}")]
    BadArgument {
        argument: &'static str,
        value: String,
        problem: String,
    },
    /// A combination of arguments that cannot work.
    #[error("{0}")]
    Arguments(&'static str),
    /// No GitHub credentials in the environment.
    #[error("no GitHub credentials: {var} is {state}")]
    NoCredentials { var: String, state: &'static str },
    /// An input file that cannot be read.
    #[error("failed to read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An input file that does not parse (`what` says which kind).
    #[error("invalid {what} in {}", path.display())]
    Invalid {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: SpotError,
    },
    #[error(transparent)]
    Spot(#[from] SpotError),
    #[error(transparent)]
    Ec2(#[from] Ec2Error),
    /// No pool can be asked, or none had capacity.
    #[error("{0}")]
    NoCapacity(String),
    #[error(transparent)]
    GitHub(#[from] GitHubError),
    /// Every launched instance failed to register (all were terminated).
    #[error("no instance could be registered (all {terminated} terminated): {first}")]
    RegistrationFailed { terminated: usize, first: String },
    /// The first registration of a launch failed: no other was tried.
    #[error("registering {instance_id} failed, so no other instance was tried")]
    FirstRegistration {
        instance_id: String,
        #[source]
        source: Box<Error>,
    },
    /// An SSM Parameter Store call failed.
    #[error("SSM {operation} {parameter} failed: {message}")]
    Ssm {
        operation: &'static str,
        parameter: String,
        message: String,
    },
    /// A failure after instances were launched; they were terminated, or
    /// terminating them failed too (`cleanup`).
    #[error("launched {launched} instances, then failed{}", cleanup.as_ref().map_or(String::new(), |c| format!(", and terminating them failed too ({})", slipway_cli::chain(c.as_ref()))))]
    AfterLaunch {
        launched: usize,
        #[source]
        source: Box<Error>,
        cleanup: Option<Box<Error>>,
    },
    /// EC2 took a dry run for a real request: it launched something.
    #[error("EC2 accepted a dry run as a real request")]
    DryRunAccepted,
    /// The instance metadata service (`watch`).
    #[error("the instance metadata service {0}")]
    Imds(String),
    /// Webhook payloads or metrics could not be read or written.
    #[error("failed to {action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn bad(argument: &'static str, value: &str, problem: impl Into<String>) -> Self {
        Error::BadArgument {
            argument,
            value: value.to_owned(),
            problem: problem.into(),
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// The documented exit code.
    #[must_use]
    pub fn exit(&self) -> Exit {
        match self {
            Error::BadArgument { .. }
            | Error::Arguments(_)
            | Error::NoCredentials { .. }
            | Error::Invalid { .. }
            | Error::Spot(_) => Exit::Usage,
            Error::GitHub(err) => github_exit(err),
            Error::Ec2(_) | Error::Ssm { .. } => Exit::Ec2,
            Error::NoCapacity(_) => Exit::NoCapacity,
            Error::RegistrationFailed { .. } | Error::FirstRegistration { .. } => Exit::GitHub,
            // What went wrong first decides; the cleanup is reported beside it.
            Error::AfterLaunch { source, .. } => source.exit(),
            Error::Read { .. } | Error::DryRunAccepted | Error::Imds(_) | Error::Io { .. } => {
                Exit::Internal
            }
        }
    }
}

fn github_exit(err: &GitHubError) -> Exit {
    match err {
        GitHubError::Usage(_)
        | GitHubError::RepositoryOnly { .. }
        | GitHubError::OrganisationOnly { .. } => Exit::Usage,
        GitHubError::Status { .. }
        | GitHubError::RateLimited { .. }
        | GitHubError::Transport { .. }
        | GitHubError::Decode { .. }
        | GitHubError::Credentials(_) => Exit::GitHub,
    }
}

impl slipway_cli::ToolError for Error {
    fn exit_code(&self) -> u8 {
        self.exit() as u8
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::GitHub(GitHubError::RepositoryOnly { .. }) => {
                Some("use --github-repo OWNER/REPO".to_owned())
            }
            Error::GitHub(GitHubError::Transport { method, .. }) if method.as_str() == "POST" => Some(
                "`spot-leaser reap` removes runners and instances a failed registration left behind"
                    .to_owned(),
            ),
            Error::NoCredentials { .. } => Some(
                "set the variable (or name another with --github-token-env VAR), or give --github-app-id and --github-app-key"
                    .to_owned(),
            ),
            Error::AfterLaunch { cleanup: Some(_), .. } => Some(
                "`spot-leaser reap --run-id RUN` terminates what this run left running".to_owned(),
            ),
            _ => None,
        }
    }
}
