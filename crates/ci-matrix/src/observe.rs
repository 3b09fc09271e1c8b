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

pub(crate) fn log_result(
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
