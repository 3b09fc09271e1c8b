//! `ci-matrix`: which packages a change affects, as a GitHub Actions matrix.
//!
//! The binary is a thin shell over [`run`]; the graph logic lives in
//! `slipway-graph`. This crate owns the command line, git, the output
//! contract ([`report`]) and the GitHub Actions integration.

mod cli;
mod config;
mod error;
mod event;
mod exit;
pub mod git;
mod input;
mod render;
pub mod report;

use std::path::{Path, PathBuf};

use slipway_graph::{ChangedPath, PackageGraph};

pub use cli::{Changes, Cli, Format};
pub use config::ConfigError;
pub use error::Error;
pub use exit::Exit;
pub use input::InputError;
pub use slipway_cli::{LogArgs, init_logging};

use crate::report::ChangeSource;
use slipway_cli::github::{self, Actions};

/// The name annotations are titled with.
const TOOL: &str = "ci-matrix";

/// GitHub's limit on one job's outputs, all of them together.
const JOB_OUTPUT_LIMIT: usize = 1_000_000;

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
    // Reading manifests and asking git are independent and each takes
    // milliseconds of mostly waiting: overlap them.
    let (graph, change_list) = std::thread::scope(|scope| {
        let changes = scope.spawn(|| collect_changes(cli, &root, &actions));
        let graph = load_graph(cli, &root, nested);
        let changes = changes
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (graph, changes)
    });
    let mut graph = graph?;
    tracing::debug!(
        packages = graph.len(),
        edges = graph.edge_count(),
        "package graph read"
    );
    let (changed, source) = change_list?;

    let mut options = options(cli, &config, config_path.as_deref(), &mut graph)?;
    if cli.fail_on_cycle
        && let Some(cycle) = graph.cycles().first()
    {
        let packages = cycle
            .iter()
            .map(|&id| graph.package(id).id.clone())
            .collect();
        return Err(Error::Cycle { packages });
    }
    options
        .resolved
        .extend(slipway_graph::nested_inputs(&graph, &changed, nested));
    for warning in read_shared_inputs(&root, &graph, &changed, &source, &mut options) {
        tracing::warn!("{warning}");
        actions.warning(TOOL, &warning);
    }
    options.fallback.clone_from(&source.fallback_reason);
    if let Some(why) = &source.fallback_reason {
        actions.warning(TOOL, &format!("every package is affected: {why}"));
    }

    let affected = slipway_graph::affected(&graph, &changed, &options);
    log_result(&graph, &affected, &actions, changed.len());
    if let Some(gateway) = &cli.pushgateway {
        push_metrics(gateway, &graph, affected.len(), changed.len(), started);
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
    let report = report::report(&graph, &affected, source, removed);
    let matrix_json = report::matrix_json(&graph, &affected, cli.max_jobs as usize);

    let data = if let Some(name) = &cli.explain {
        let id = graph
            .find(name)
            .ok_or_else(|| Error::UnknownPackage { name: name.clone() })?;
        render::explain(&graph, &affected, id)
    } else {
        match cli.format {
            Format::Matrix => format!("{matrix_json}\n"),
            Format::Json => format!("{}\n", report::to_json(&report)),
            Format::List => render::list(&graph, &affected),
            Format::Dot => render::dot(&graph, &affected),
        }
    };

    if let Some(file) = &actions.output {
        let outputs = step_outputs(
            &report,
            &matrix_json,
            affected.len(),
            cli.output_file.as_deref(),
        )?;
        github::append_outputs(file, &outputs)
            .map_err(|e| Error::write(format!("the GitHub outputs to {}", file.display()), e))?;
    }
    if let Some(file) = &actions.summary {
        github::append(file, &render::summary(&report))
            .map_err(|e| Error::write(format!("the step summary to {}", file.display()), e))?;
    }
    match &cli.output_file {
        Some(path) => slipway_cli::write_atomically(path, data.as_bytes())
            .map_err(|e| Error::write(path.display().to_string(), e))?,
        None => slipway_cli::write_stdout(&data).map_err(|e| Error::write("stdout", e))?,
    }
    Ok(())
}

/// Pushes the run's figures, grouped by repository when Actions names it.
#[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
fn push_metrics(
    gateway: &str,
    graph: &slipway_graph::PackageGraph,
    affected: usize,
    changed: usize,
    started: std::time::Instant,
) {
    let mut m = slipway_cli::metrics::Metrics::new(TOOL);
    m.gauge(
        "slipway_ci_matrix_packages",
        "Packages in the graph.",
        &[],
        graph.len() as f64,
    );
    m.gauge(
        "slipway_ci_matrix_affected_packages",
        "Packages the change affects, dependents included.",
        &[],
        affected as f64,
    );
    m.gauge(
        "slipway_ci_matrix_changed_paths",
        "Paths the change touches.",
        &[],
        changed as f64,
    );
    m.gauge(
        "slipway_ci_matrix_seconds",
        "Seconds from start to the affected set.",
        &[],
        started.elapsed().as_secs_f64(),
    );
    let repository = std::env::var("GITHUB_REPOSITORY").unwrap_or_default();
    m.push_if(Some(gateway), &[("repository", &repository)]);
}

/// The step outputs. A matrix over GitHub's 1 MB job-output limit is never
/// written cut short: it fails, or with `--output-file` is left to the file.
fn step_outputs(
    report: &report::Report<'_>,
    matrix_json: &str,
    count: usize,
    output_file: Option<&Path>,
) -> Result<Vec<(&'static str, String)>, Error> {
    let names: Vec<&str> = report.affected.iter().map(|p| p.package.as_str()).collect();
    let packages = report::to_json_line(&names);
    let mut outputs = vec![
        ("has_affected", (count > 0).to_string()),
        ("count", count.to_string()),
        ("base_sha", report.base_sha.clone().unwrap_or_default()),
        ("head_sha", report.head_sha.clone().unwrap_or_default()),
        ("base_source", report.base_source.to_owned()),
        (
            "fallback_reason",
            report.fallback_reason.clone().unwrap_or_default(),
        ),
    ];
    let size =
        matrix_json.len() + packages.len() + outputs.iter().map(|(_, v)| v.len()).sum::<usize>();
    if size <= JOB_OUTPUT_LIMIT {
        outputs.push(("matrix", matrix_json.to_owned()));
        outputs.push(("packages", packages));
        return Ok(outputs);
    }
    let Some(file) = output_file else {
        return Err(Error::OutputTooLarge {
            size,
            limit: JOB_OUTPUT_LIMIT,
        });
    };
    tracing::warn!(
        "the matrix ({size} bytes) is over GitHub's job-output limit: it is only in {}, not in the step outputs",
        file.display()
    );
    outputs.push(("output_file", file.display().to_string()));
    Ok(outputs)
}

fn options(
    cli: &Cli,
    config: &config::Config,
    config_path: Option<&Path>,
    graph: &mut PackageGraph,
) -> Result<slipway_graph::Options, Error> {
    let config_path = config_path.unwrap_or(Path::new(config::FILE));
    let pick = |flag: &[String], file: &[String]| {
        if flag.is_empty() {
            file.to_vec()
        } else {
            flag.to_vec()
        }
    };
    let ignore = build_globs("--ignore", &pick(&cli.ignore, &config.ignore))?;
    let global = build_globs("--global", &pick(&cli.global, &config.global))?;
    let mut extra_inputs = Vec::new();
    for (name, package) in &config.packages {
        let id = graph.find(name).ok_or_else(|| {
            config::ConfigError::new(
                config_path,
                format!("[packages.{name}]: no package of that name in the graph"),
            )
        })?;
        for dependency in &package.implicit_dependencies {
            let to = graph.find(dependency).ok_or_else(|| {
                config::ConfigError::new(
                    config_path,
                    format!(
                        "[packages.{name}] implicit-dependencies: no package named {dependency:?}"
                    ),
                )
            })?;
            graph.add_implicit_dependency(id, to);
        }
        if !package.extra_inputs.is_empty() {
            let globs = build_globs(
                &format!("[packages.{name}] extra-inputs"),
                &package.extra_inputs,
            )
            .map_err(|err| config::ConfigError::new(config_path, slipway_cli::chain(&err)))?;
            extra_inputs.push((id, globs));
        }
    }
    Ok(slipway_graph::Options {
        ignore,
        global,
        extra_inputs,
        ..slipway_graph::Options::default()
    })
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
        let old = git::show(root, base, &change.path);
        let new = git::show(root, head, &change.path);
        let diff = slipway_graph::diff_input(graph, input, old.as_deref(), new.as_deref());
        warnings.extend(diff.warnings);
        options
            .resolved
            .insert(change.path.clone(), diff.resolution);
    }
    warnings
}

/// `--root`, else the git top level of the current directory, else the
/// current directory; canonical.
fn repo_root(cli: &Cli) -> Result<PathBuf, Error> {
    let cwd = std::env::current_dir().map_err(|source| Error::Root {
        path: ".".into(),
        source,
    })?;
    let root = match &cli.root {
        Some(root) => root.clone(),
        None => git::toplevel(&cwd).unwrap_or_else(|| {
            tracing::debug!("not inside a git work tree; using the current directory as the root");
            cwd.clone()
        }),
    };
    std::fs::canonicalize(&root).map_err(|source| Error::Root { path: root, source })
}

fn load_graph(cli: &Cli, root: &Path, nested: &[String]) -> Result<PackageGraph, Error> {
    let graph = match cli.graph.as_ref().or(cli.graph_positional.as_ref()) {
        Some(file) => slipway_graph::load_graph_file(file)?,
        None => slipway_graph::discover_with_nested(root, nested)?,
    };
    Ok(graph)
}

fn collect_changes(
    cli: &Cli,
    root: &Path,
    actions: &Actions,
) -> Result<(Vec<ChangedPath>, ChangeSource), Error> {
    let listed = |paths: Vec<String>, source_name: &str| -> Result<_, Error> {
        let paths = input::relative_paths(paths, root, source_name)?;
        // A listed path that is not on disk was deleted by the change.
        let changed = paths
            .into_iter()
            .map(|path| ChangedPath {
                deleted: !root.join(&path).exists(),
                path,
            })
            .collect();
        let source = ChangeSource {
            base_source: "changed-files",
            base_sha: None,
            head_sha: None,
            fallback_reason: None,
        };
        Ok((changed, source))
    };
    if let Some(json) = cli
        .changes
        .changed_files
        .as_deref()
        .or(cli.changed_positional.as_deref())
    {
        return listed(
            input::parse_json(json, "--changed-files")?,
            "--changed-files",
        );
    }
    if let Some(file) = &cli.changes.changed_files_from {
        let name = file.display().to_string();
        return listed(input::read_list(file)?, &name);
    }
    if let Some(base) = &cli.changes.base {
        let (base, head) = git::resolve_pair(root, base, &cli.changes.head)?;
        let merge_base = git::merge_base(root, &base, &head)?;
        let changed = git::diff(root, &merge_base, &head)?;
        tracing::info!(base = %short(&merge_base), head = %short(&head), files = changed.len(), "changes from git");
        let source = ChangeSource {
            base_source: "explicit",
            base_sha: Some(merge_base),
            head_sha: Some(head),
            fallback_reason: None,
        };
        return Ok((changed, source));
    }
    if cli.changes.github || actions.annotate {
        return Ok(event::changes(root));
    }
    Err(Error::NoChanges)
}

fn build_globs(what: &str, patterns: &[String]) -> Result<globset::GlobSet, Error> {
    let bad = |pattern: &str, err: &globset::Error| Error::BadGlob {
        option: what.to_owned(),
        pattern: pattern.to_owned(),
        message: err.kind().to_string(),
    };
    let mut set = globset::GlobSetBuilder::new();
    for pattern in patterns {
        let glob = globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|err| bad(pattern, &err))?;
        set.add(glob);
    }
    set.build().map_err(|err| bad(&patterns.join(","), &err))
}

fn log_result(
    graph: &PackageGraph,
    affected: &slipway_graph::Affected,
    actions: &Actions,
    changed: usize,
) {
    if let Some(first) = affected.global_triggers.first() {
        let message = format!(
            "{} {}, so every package is affected ({} such paths; --ignore excludes paths)",
            first.path,
            first.why,
            affected.global_triggers.len()
        );
        tracing::warn!("{message}");
        actions.warning(TOOL, &message);
    }
    for cycle in &affected.cycles {
        let names: Vec<&str> = cycle
            .iter()
            .map(|&id| graph.package(id).id.as_str())
            .collect();
        let message = format!("dependency cycle, affected as a unit: {}", names.join(", "));
        tracing::warn!("{message}");
        actions.warning(TOOL, &message);
    }
    for removed in &affected.removed {
        tracing::info!(
            path = removed.path,
            files = removed.files.len(),
            "package removed by this change"
        );
    }
    tracing::info!(
        "{} of {} packages affected by {changed} changed paths",
        affected.len(),
        graph.len()
    );
}

/// The name a removed package had at the base revision, read from its
/// manifest there; the directory's last part when no base is known.
fn removed_name(root: &Path, source: &ChangeSource, dir: &str) -> Option<String> {
    if let Some(base) = &source.base_sha {
        for manifest in ["Cargo.toml", "package.json", "go.mod"] {
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

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}
