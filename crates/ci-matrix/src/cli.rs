use std::path::PathBuf;

use clap::{Args, Parser, ValueEnum};
use slipway_cli::LogArgs;

/// Affected packages of a monorepo change, transitive dependents included,
/// as a GitHub Actions matrix.
///
/// The package graph comes from the repository's own manifests (Cargo, npm,
/// yarn, pnpm and Go workspaces, found at the root) or from a hand-kept
/// dep-graph.json (--graph). Changes come from --changed-files,
/// --changed-files-from, or git (--base). Data goes to stdout, logs to stderr.
///
/// `ci-matrix gate --needs JSON` is the one required check for a plan and
/// its matrix jobs (see `ci-matrix gate --help`).
#[derive(Debug, Parser)]
#[command(name = "ci-matrix", version, max_term_width = 100)]
pub struct Cli {
    /// Drop-in form of the original script: a dep-graph.json file.
    #[arg(value_name = "GRAPH", conflicts_with = "graph")]
    pub graph_positional: Option<PathBuf>,

    /// Drop-in form of the original script: a JSON array of changed files.
    #[arg(value_name = "CHANGED", requires = "graph_positional")]
    pub changed_positional: Option<String>,

    /// Repository root [default: the git top level of the current directory].
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Read the package graph from a dep-graph.json instead of discovering it.
    #[arg(long, value_name = "FILE")]
    pub graph: Option<PathBuf>,

    /// Also discover the workspace rooted in DIR, relative to the root
    /// (repeatable; replaces the configuration's `nested-workspaces`).
    #[arg(long, value_name = "DIR", conflicts_with = "graph")]
    pub nested_workspace: Vec<String>,

    #[command(flatten)]
    pub changes: Changes,

    /// Changed paths matching this glob affect nothing, wherever they are
    /// (repeatable; replaces the configuration's `ignore`). Ignore is final.
    #[arg(long, value_name = "GLOB")]
    pub ignore: Vec<String>,

    /// Changed paths matching this glob affect every package (repeatable;
    /// replaces the configuration's `global`).
    #[arg(long, value_name = "GLOB")]
    pub global: Vec<String>,

    /// What a changed path in no package affects: `root` (nothing, it is
    /// the root's) or `all` (every package) [default: the configuration's
    /// `unowned`, else root].
    #[arg(long, value_enum, value_name = "RULE")]
    pub unowned: Option<UnownedRule>,

    /// What a change to the root's own dependencies, or to a workspace
    /// package the root depends on, affects: `all` (every package) or
    /// `ignore` (nothing) [default: the configuration's
    /// `root-dependencies`, else all].
    #[arg(long, value_enum, value_name = "RULE")]
    pub root_dependencies: Option<RootRule>,

    /// At most this many matrix entries: more affected packages are packed
    /// into this many shards, none dropped (GitHub allows 256 jobs).
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_jobs: u32,

    /// Pack shards by these job durations: a JSON object of package names
    /// to seconds (a previous run's). Packages missing get the median;
    /// `weight` in the configuration wins.
    #[arg(long, value_name = "FILE")]
    pub timings: Option<PathBuf>,

    /// One matrix entry per affected task of each package,
    /// `{"package","path","task"}`, for these tasks (comma-separated). Each
    /// task's inputs and whether it follows dependencies come from
    /// `[tasks.NAME]` in the configuration (default: every file of the
    /// package, dependencies followed).
    #[arg(long, value_name = "TASKS", value_delimiter = ',')]
    pub tasks: Vec<String>,

    /// Write the output to FILE (atomically) instead of stdout. Under
    /// GitHub Actions a matrix too large for a job output then goes only here.
    #[arg(long, value_name = "FILE")]
    pub output_file: Option<PathBuf>,

    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Matrix)]
    pub format: Format,

    /// Push metrics (packages, affected, changed paths, seconds) to this
    /// Prometheus Pushgateway (`http://HOST:PORT`); a failed push is a warning.
    #[arg(long, env = "SLIPWAY_PUSHGATEWAY", value_name = "URL")]
    pub pushgateway: Option<String>,

    /// Explain why PKG is or is not affected, instead of printing the matrix.
    #[arg(long, value_name = "PKG")]
    pub explain: Option<String>,

    /// Fail (exit 4) when the package graph has a dependency cycle.
    #[arg(long)]
    pub fail_on_cycle: bool,

    #[command(flatten)]
    pub log: LogArgs,
}

#[derive(Debug, Args)]
pub struct Changes {
    /// Changed paths as a JSON array, relative to the root.
    #[arg(long, value_name = "JSON", conflicts_with_all = ["changed_files_from", "base", "changed_positional"])]
    pub changed_files: Option<String>,

    /// Read changed paths from FILE (`-` for stdin): one per line, or a JSON array.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["base", "changed_positional"])]
    pub changed_files_from: Option<PathBuf>,

    /// Diff from `git merge-base BASE HEAD` to HEAD.
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,

    /// The head revision for --base.
    #[arg(long, value_name = "REV", requires = "base", default_value = "HEAD")]
    pub head: String,

    /// Take base and head from the GitHub Actions event (`GITHUB_EVENT_NAME`,
    /// `GITHUB_EVENT_PATH`). Implied under GitHub Actions when no other
    /// source of changes is given.
    #[arg(long, conflicts_with_all = ["changed_files", "changed_files_from", "base", "changed_positional"])]
    pub github: bool,
}

/// `--unowned`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UnownedRule {
    /// It belongs to the root and affects no package.
    Root,
    /// It affects every package.
    All,
}

/// `--root-dependencies`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RootRule {
    /// Every package is affected.
    All,
    /// Nothing is affected.
    Ignore,
}

impl From<UnownedRule> for slipway_graph::Unowned {
    fn from(rule: UnownedRule) -> Self {
        match rule {
            UnownedRule::Root => slipway_graph::Unowned::Root,
            UnownedRule::All => slipway_graph::Unowned::All,
        }
    }
}

impl From<RootRule> for slipway_graph::RootDependencies {
    fn from(rule: RootRule) -> Self {
        match rule {
            RootRule::All => slipway_graph::RootDependencies::All,
            RootRule::Ignore => slipway_graph::RootDependencies::Ignore,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `{"include":[{"package":…,"path":…}]}`, for `strategy.matrix`.
    Matrix,
    /// A report with every affected package and its reason chain.
    Json,
    /// One affected package per line.
    List,
    /// The package graph in Graphviz dot, the affected set highlighted.
    Dot,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn the_original_call_parses() {
        let cli =
            Cli::try_parse_from(["ci-matrix", "dep-graph.json", r#"["packages/a/x.ts"]"#]).unwrap();
        assert_eq!(
            cli.graph_positional.unwrap(),
            PathBuf::from("dep-graph.json")
        );
        assert_eq!(cli.changed_positional.unwrap(), r#"["packages/a/x.ts"]"#);
    }

    #[test]
    fn two_change_sources_conflict() {
        let err = Cli::try_parse_from(["ci-matrix", "--base", "main", "--changed-files", "[]"])
            .unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
    }
}
