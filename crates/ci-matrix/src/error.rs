//! Every way a run of `ci-matrix` can fail, each with its documented exit
//! code (README, "Exit codes"). `exit_code` is one exhaustive `match`: a
//! new variant does not compile until it has a code.

use std::path::PathBuf;

use slipway_graph::GraphError;

use crate::config::ConfigError;
use crate::exit::Exit;
use crate::git::GitError;
use crate::input::InputError;

/// Why `ci-matrix` did not write its output.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No source of changes was given and none could be inferred.
    #[error("no changes given")]
    NoChanges,
    /// `--explain` named a package the graph does not have.
    #[error("--explain {name}: no package of that name or id in the graph")]
    UnknownPackage { name: String },
    /// A glob on the command line or in the configuration does not parse.
    #[error("{option} {pattern:?}: {message}")]
    BadGlob {
        option: String,
        pattern: String,
        message: String,
    },
    /// A `--tasks` name that cannot be a task.
    #[error("--tasks {name:?}: {message}")]
    BadTask { name: String, message: String },
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Git(#[from] GitError),
    /// `--fail-on-cycle` found a cycle.
    #[error("dependency cycle: {}", packages.join(" <-> "))]
    Cycle { packages: Vec<String> },
    /// The outputs would exceed GitHub's job-output limit.
    #[error(
        "the matrix and package list take {size} bytes, over GitHub's limit of {limit} bytes for a job's outputs"
    )]
    OutputTooLarge { size: usize, limit: usize },
    /// `--timings FILE` cannot be read or is not `{"package": seconds}`.
    #[error("invalid timings in {path}: {message}")]
    Timings { path: PathBuf, message: String },
    /// `ci-matrix gate --needs` is not GitHub's `needs` context.
    #[error("--needs is not a `needs` context: {message}")]
    Needs { message: String },
    /// `ci-matrix gate` found a job that did not pass.
    #[error("the gate fails: {}", failures.join("; "))]
    GateFailed { failures: Vec<String> },
    /// `ci-matrix graph --check` found differences.
    #[error("the package graph differs from the build tools' answers: {differences} difference(s)")]
    GraphDiffers { differences: usize },
    /// `ci-matrix observe` was given no command after `--`.
    #[error("no command to run: give it after `--`")]
    NoCommand,
    /// `ci-matrix observe` could not start its command.
    #[error("could not run {program}")]
    NotRun {
        program: String,
        #[source]
        source: std::io::Error,
    },
    /// The repository root given or found cannot be opened.
    #[error("failed to open the repository root {path}")]
    Root {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Writing an output (a file, `$GITHUB_OUTPUT`, the summary, stdout).
    #[error("failed to write {what}")]
    Write {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn write(what: impl Into<String>, source: std::io::Error) -> Self {
        Error::Write {
            what: what.into(),
            source,
        }
    }

    /// The documented exit code.
    #[must_use]
    pub fn exit(&self) -> Exit {
        match self {
            Error::NoChanges
            | Error::UnknownPackage { .. }
            | Error::BadGlob { .. }
            | Error::BadTask { .. }
            | Error::NoCommand => Exit::Usage,
            Error::Graph(_)
            | Error::Input(_)
            | Error::Config(_)
            | Error::Needs { .. }
            | Error::Timings { .. } => Exit::BadInput,
            Error::GateFailed { .. } => Exit::GateFailed,
            Error::GraphDiffers { .. } => Exit::GraphDiffers,
            Error::Git(_) => Exit::Git,
            Error::Cycle { .. } => Exit::Cycle,
            Error::OutputTooLarge { .. } => Exit::OutputTooLarge,
            Error::NotRun { .. } => Exit::NotRun,
            Error::Root { .. } | Error::Write { .. } => Exit::Internal,
        }
    }
}

impl slipway_cli::ToolError for Error {
    fn exit_code(&self) -> u8 {
        self.exit() as u8
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::NoChanges => Some(
                "pass --changed-files JSON, --changed-files-from FILE, --base REV or --github"
                    .to_owned(),
            ),
            Error::Graph(GraphError::NothingFound { .. }) => {
                Some("pass a hand-kept dep-graph.json with --graph FILE".to_owned())
            }
            Error::OutputTooLarge { .. } => Some(
                "lower --max-jobs to pack packages into fewer shards, or pass --output-file FILE and hand the file to later jobs as an artifact"
                    .to_owned(),
            ),
            Error::Cycle { .. } => {
                Some("without --fail-on-cycle a cycle is affected as a unit".to_owned())
            }
            _ => None,
        }
    }
}
