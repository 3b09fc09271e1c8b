//! `ci-matrix`: which packages a change affects, as a GitHub Actions matrix.
//!
//! The binary is a thin shell over [`run`]; the graph logic lives in
//! `slipway-graph`. This crate owns the command line, git, the output
//! contract ([`report`]) and the GitHub Actions integration.

mod changes;
mod cli;
mod config;
mod emit;
mod error;
mod event;
mod exit;
pub mod gate;
pub mod git;
pub mod graph_cmd;
mod input;
mod observe;
mod options;
mod render;
pub mod report;
mod tasks;
pub mod timed;
mod weights;

use std::path::{Path, PathBuf};

use slipway_graph::{ChangedPath, PackageGraph};

pub use cli::{Changes, Cli, Format, RootRule, UnownedRule};
pub use config::ConfigError;
pub use error::Error;
pub use exit::Exit;
pub use input::InputError;
pub use slipway_cli::{LogArgs, init_logging};

use crate::report::ChangeSource;
use slipway_cli::github::Actions;

/// The name annotations are titled with.
pub(crate) const TOOL: &str = "ci-matrix";

/// Runs `ci-matrix` with parsed arguments.
pub fn run(cli: &Cli) -> Result<(), Error> {
    let started = std::time::Instant::now();
    let root = repo_root(cli)?;
    let actions = Actions::from_env();
    let (config, config_path) = config::load(&root)?;
    let nested = if cli.nested_workspace.is_empty() {
        &config.nested_workspaces
    } else {
        &cli.nested_workspace
    };
    let discovery = slipway_graph::DiscoverOptions {
        nested: nested.clone(),
        imports: config.imports,
    };
    let (mut graph, changed, source) = read_inputs(cli, &root, &actions, &discovery)?;
    let mut options = options::options(cli, &config, config_path.as_deref(), &root, &mut graph)?;
    if cli.fail_on_cycle
        && let Some(cycle) = graph.cycles().first()
    {
        let packages = cycle
            .iter()
            .map(|&id| graph.package(id).id.clone())
            .collect();
        return Err(Error::Cycle { packages });
    }
    resolve_inputs(
        &root,
        &graph,
        &changed,
        &source,
        nested,
        &actions,
        &mut options,
    );

    let affected = slipway_graph::affected(&graph, &changed, &options);
    let tasks = tasks::tasks(cli, &config, config_path.as_deref(), &root, &graph)?
        .map(|tasks| slipway_graph::affected_tasks(&graph, &changed, &options, &affected, tasks));
    observe::log_result(&graph, &affected, &actions, changed.len());
    observe::warn_undeclared(&root, &affected.unowned, &actions);
    if let Some(gateway) = &cli.pushgateway {
        // The matrix's size: one job per package (or task), in at most
        // --max-jobs shards.
        let jobs = report::jobs(&graph, &affected, tasks.as_ref())
            .len()
            .min(usize::try_from(cli.max_jobs).unwrap_or(usize::MAX).max(1));
        let counts = (affected.len(), jobs, changed.len());
        observe::push_metrics(gateway, &graph, counts.0, counts.1, counts.2, started);
    }
    let removed = affected
        .removed
        .iter()
        .map(|r| report::RemovedPackage {
            path: r.path.clone(),
            name: removed_name(&root, &source, &r.path),
            files: r.files.clone(),
        })
        .collect();
    let report = report::report(&graph, &affected, tasks.as_ref(), source, removed);
    let weights = weights::weights(cli, &config, config_path.as_deref(), &graph)?;
    emit::emit(
        cli,
        &actions,
        &emit::Outcome {
            graph: &graph,
            affected: &affected,
            tasks: tasks.as_ref(),
            report: &report,
        },
        weights.as_deref(),
    )
}

/// What the changed files resolve to before the rules run: shared files
/// of nested workspaces, build inputs, the lockfiles and root manifests
/// read precisely (their warnings logged and annotated), and the fallback
/// when what changed is unknown.
fn resolve_inputs(
    root: &Path,
    graph: &PackageGraph,
    changed: &[ChangedPath],
    source: &ChangeSource,
    nested: &[String],
    actions: &Actions,
    options: &mut slipway_graph::Options,
) {
    options
        .resolved
        .extend(slipway_graph::nested_inputs(graph, changed, nested));
    options
        .resolved
        .extend(slipway_graph::build_inputs(graph, changed));
    for warning in read_shared_inputs(root, graph, changed, source, options) {
        tracing::warn!("{warning}");
        actions.warning(TOOL, &warning);
    }
    options.fallback.clone_from(&source.fallback_reason);
    if let Some(why) = &source.fallback_reason {
        actions.warning(TOOL, &format!("every package is affected: {why}"));
    }
}

/// The package graph and the change, read at once: reading manifests and
/// asking git are independent and each takes milliseconds of mostly
/// waiting, so they overlap.
fn read_inputs(
    cli: &Cli,
    root: &Path,
    actions: &Actions,
    discovery: &slipway_graph::DiscoverOptions,
) -> Result<(PackageGraph, Vec<ChangedPath>, ChangeSource), Error> {
    let (graph, change_list) = std::thread::scope(|scope| {
        let changes = scope.spawn(|| changes::collect_changes(cli, root, actions));
        let graph = load_graph(cli, root, discovery);
        let changes = changes
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (graph, changes)
    });
    let graph = graph?;
    tracing::debug!(
        packages = graph.len(),
        edges = graph.edge_count(),
        "package graph read"
    );
    let (changed, source) = change_list?;
    Ok((graph, changed, source))
}

/// Reads the two versions of each changed lockfile or root manifest and
/// records what each change concerns. Returns warnings for the user.
fn read_shared_inputs(
    root: &Path,
    graph: &PackageGraph,
    changed: &[ChangedPath],
    source: &ChangeSource,
    options: &mut slipway_graph::Options,
) -> Vec<String> {
    let mut warnings = Vec::new();
    for change in changed {
        let Some(input) = slipway_graph::SharedInput::at(graph, &change.path) else {
            continue;
        };
        let (Some(base), Some(head)) = (&source.base_sha, &source.head_sha) else {
            options.resolved.insert(
                change.path.clone(),
                slipway_graph::Resolution::Everything(format!(
                    "{} changed and no base revision is known to compare it with",
                    change.path
                )),
            );
            continue;
        };
        // The two revisions at once: each is a git process and, for a
        // large lockfile, tens of milliseconds of reading.
        let max = slipway_graph::limits::MAX_LOCKFILE_BYTES;
        let (old, new) = std::thread::scope(|scope| {
            let old = scope.spawn(|| git::show_bounded(root, base, &change.path, max));
            let new = git::show_bounded(root, head, &change.path, max);
            (old.join().unwrap_or(git::Blob::Missing), new)
        });
        if old == git::Blob::TooLarge || new == git::Blob::TooLarge {
            let why = format!(
                "{} is larger than {} MiB at base or head, so every package is affected",
                change.path,
                max >> 20
            );
            warnings.push(why.clone());
            options.resolved.insert(
                change.path.clone(),
                slipway_graph::Resolution::Everything(why),
            );
            continue;
        }
        let diff = slipway_graph::diff_input(graph, input, blob_text(&old), blob_text(&new));
        warnings.extend(diff.warnings);
        options
            .resolved
            .insert(change.path.clone(), diff.resolution);
    }
    warnings
}

fn blob_text(blob: &git::Blob) -> Option<&str> {
    match blob {
        git::Blob::Text(text) => Some(text),
        git::Blob::Missing | git::Blob::TooLarge => None,
    }
}

/// `--root`, else the git top level of the current directory, else the
/// current directory; canonical.
fn repo_root(cli: &Cli) -> Result<PathBuf, Error> {
    root_of(cli.root.as_deref())
}

/// `root`, else the git top level of the current directory, else the
/// current directory; canonical.
pub(crate) fn root_of(given: Option<&Path>) -> Result<PathBuf, Error> {
    let cwd = std::env::current_dir().map_err(|source| Error::Root {
        path: ".".into(),
        source,
    })?;
    let root = match given {
        Some(root) => root.to_path_buf(),
        None => git::toplevel(&cwd).unwrap_or_else(|| {
            tracing::debug!("not inside a git work tree; using the current directory as the root");
            cwd.clone()
        }),
    };
    std::fs::canonicalize(&root).map_err(|source| Error::Root { path: root, source })
}

fn load_graph(
    cli: &Cli,
    root: &Path,
    discovery: &slipway_graph::DiscoverOptions,
) -> Result<PackageGraph, Error> {
    let graph = match cli.graph.as_ref().or(cli.graph_positional.as_ref()) {
        Some(file) => slipway_graph::load_graph_file(file)?,
        None => slipway_graph::discover_with(root, discovery)?,
    };
    Ok(graph)
}

/// The name a removed package had at the base revision, read from its
/// manifest there; the directory's last part when no base is known.
fn removed_name(root: &Path, source: &ChangeSource, dir: &str) -> Option<String> {
    if let Some(base) = &source.base_sha {
        for manifest in [
            "Cargo.toml",
            "package.json",
            "go.mod",
            "pyproject.toml",
            "pom.xml",
        ] {
            if let Some(text) = git::show(root, base, &format!("{dir}/{manifest}"))
                && let Some(name) = slipway_graph::package_name(manifest, &text)
            {
                return Some(name);
            }
        }
    }
    PathBuf::from(dir)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
}
