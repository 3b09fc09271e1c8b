//! What a run tells people and dashboards: the log lines and annotations
//! of the result (global triggers, cycles, removed packages, the count),
//! and the figures pushed to a Pushgateway.

use slipway_cli::github::Actions;
use slipway_graph::PackageGraph;

use crate::TOOL;

/// Pushes the run's figures, grouped by repository when Actions names it.
#[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
pub(crate) fn push_metrics(
    gateway: &str,
    graph: &slipway_graph::PackageGraph,
    affected: usize,
    jobs: usize,
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
        "ci_matrix_jobs",
        "Jobs in the matrix this run planned (the origin article's jobs per run).",
        &[],
        jobs as f64,
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

pub(crate) fn log_result(
    graph: &PackageGraph,
    affected: &slipway_graph::Affected,
    actions: &Actions,
    changed: usize,
) {
    if let Some(first) = affected.global_triggers.first() {
        // Whys of precisely read files name the file and the consequence.
        let why = first.why.trim_end_matches(", so every package is affected");
        let what = if why.starts_with(first.path) || why.starts_with("root ") {
            why.to_owned()
        } else {
            format!("{} {why}", first.path)
        };
        let message = format!(
            "{what}, so every package is affected ({} such paths; --ignore excludes paths)",
            affected.global_triggers.len()
        );
        tracing::warn!("{message}");
        actions.warning(TOOL, &message);
    }
    if !affected.unowned.is_empty() {
        tracing::info!(
            "{} paths outside any package affect nothing (unowned = root), such as {}",
            affected.unowned.len(),
            affected.unowned[0]
        );
    }
    if let Some(change) = affected.root_changes.first() {
        match affected.root_rule {
            slipway_graph::RootDependencies::All => tracing::info!(
                "the root's own dependencies changed ({}: {}), so every package is affected",
                change.file,
                change.detail
            ),
            slipway_graph::RootDependencies::Ignore => tracing::info!(
                "the root's own dependencies changed ({}: {}) and affect nothing (root-dependencies = ignore)",
                change.file,
                change.detail
            ),
        }
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

/// Warns about packages the graph does not have: a directory holding a
/// changed path in no package that has a manifest of its own (a nested
/// workspace not named, a package outside the workspace's globs). Such
/// changes affect nothing under `unowned = root`, so they are said aloud.
pub(crate) fn warn_undeclared(root: &std::path::Path, unowned: &[&str], actions: &Actions) {
    const MANIFESTS: [&str; 7] = [
        "package.json",
        "Cargo.toml",
        "go.mod",
        "pyproject.toml",
        "pom.xml",
        "build.gradle.kts",
        "build.gradle",
    ];
    // Bounded: a change of a million loose files costs at most this many
    // directory checks per path.
    const PATHS: usize = 1_000;
    let mut seen = std::collections::HashSet::new();
    let mut found = std::collections::BTreeMap::new();
    for path in unowned.iter().take(PATHS) {
        let mut dir = *path;
        while let Some(i) = dir.rfind('/') {
            dir = &dir[..i];
            if !seen.insert(dir) {
                break;
            }
            if let Some(manifest) = MANIFESTS.iter().find(|m| root.join(dir).join(m).is_file()) {
                found.insert(dir, *manifest);
                break;
            }
        }
    }
    for (dir, manifest) in found {
        let message = format!(
            "{dir} has a {manifest} but is in no workspace ci-matrix read, so changes under it affect nothing (add it to its workspace, name that workspace in nested-workspaces, or set unowned = \"all\")"
        );
        tracing::warn!("{message}");
        actions.warning(TOOL, &message);
    }
}
