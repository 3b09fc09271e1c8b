//! The JSON that other programs read: the matrix and the report. These
//! shapes are a contract; change them only with a new `version`.

use serde::Serialize;
use slipway_graph::{Affected, Ecosystem, PackageGraph, PackageId, Reason};

/// Version of the `--format json` report.
pub const REPORT_VERSION: u32 = 1;

/// `{"include":[…]}`: what `strategy.matrix` takes. Entries are one
/// package each ([`MatrixEntry`]), or shards of several ([`ShardEntry`]) when
/// more packages are affected than `--max-jobs`.
#[derive(Debug, Serialize)]
pub struct Matrix<E> {
    pub include: Vec<E>,
}

/// Several packages in one job, when there are more than `--max-jobs`.
#[derive(Debug, Serialize)]
pub struct ShardEntry {
    /// From 1.
    pub shard: usize,
    pub packages: Vec<String>,
    pub paths: Vec<String>,
    /// The shard's total weight, when packed by weights (`--timings`,
    /// `weight` in the configuration).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct MatrixEntry {
    pub package: String,
    pub path: String,
}

/// Where the list of changes came from.
#[derive(Debug, Clone)]
pub struct ChangeSource {
    /// `explicit` (--base), `changed-files` (a list).
    pub base_source: &'static str,
    pub base_sha: Option<String>,
    pub head_sha: Option<String>,
    /// Why every package is affected because what changed is unknown.
    pub fallback_reason: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Report<'a> {
    pub version: u32,
    /// `explicit` (--base), `changed-files` (a list), `pr-merge-base`,
    /// `push-before`, `default-branch-merge-base`, `merge-group`, or `none`
    /// (with `fallback_reason`).
    pub base_source: &'static str,
    pub base_sha: Option<String>,
    pub head_sha: Option<String>,
    /// Set when every package is affected because what changed is unknown.
    pub fallback_reason: Option<String>,
    pub packages_total: usize,
    pub affected: Vec<AffectedPackage<'a>>,
    pub global_triggers: Vec<GlobalTrigger<'a>>,
    pub removed: Vec<RemovedPackage>,
    pub ignored: Vec<&'a str>,
    /// Changed paths in no package. Under `unowned_rule` `root` they
    /// belong to the root and affect nothing; under `all` they are global
    /// triggers instead and this is empty.
    pub unowned: Vec<&'a str>,
    /// `root` or `all` (`--unowned`, `unowned` in the configuration).
    pub unowned_rule: &'static str,
    /// Changes to the root's own dependencies. Under
    /// `root_dependencies_rule` `all` they affect every package (reason
    /// `root`); under `ignore`, nothing.
    pub root_changes: Vec<RootChange<'a>>,
    /// `all` or `ignore` (`--root-dependencies`).
    pub root_dependencies_rule: &'static str,
    pub cycles: Vec<Vec<String>>,
}

#[derive(Debug, Serialize)]
pub struct RootChange<'a> {
    pub path: &'a str,
    /// `devDependencies vitest ^3.1.0 -> ^3.2.0`.
    pub detail: &'a str,
}

#[derive(Debug, Serialize)]
pub struct AffectedPackage<'a> {
    pub package: String,
    pub name: String,
    pub path: String,
    pub ecosystem: Ecosystem,
    /// `changed`, `dependency`, `input` (a lockfile or root manifest read
    /// precisely), `root` (through the workspace root), `global` or
    /// `fallback`.
    pub reason: &'static str,
    /// From the package back to the change: `["web", "ui", "packages/ui/x.ts"]`;
    /// `"(root)"` stands for the workspace root.
    pub chain: Vec<String>,
    /// The chain as text: `web <- ui <- packages/ui/x.ts`.
    pub because: String,
    /// Changed files under the package itself.
    pub changed_files: Vec<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct GlobalTrigger<'a> {
    pub path: &'a str,
    pub why: &'a str,
}

#[derive(Debug, Serialize)]
pub struct RemovedPackage {
    pub path: String,
    /// The name from the base revision's manifest, when it can be read.
    pub name: Option<String>,
    pub files: Vec<String>,
}

/// The matrix as JSON: one entry per affected package, or, with more than
/// `max_jobs` of them, `max_jobs` shards, every package in exactly one.
/// Without `weights` (per package index) shards are consecutive packages
/// whose sizes differ by at most one; with them, packages are packed
/// heaviest first onto the lightest shard, and each shard says its weight.
///
/// # Panics
///
/// Never: the matrix types always serialize.
#[must_use]
pub fn matrix_json(
    graph: &PackageGraph,
    affected: &Affected<'_>,
    max_jobs: usize,
    weights: Option<&[f64]>,
) -> String {
    let ids = affected.packages(graph);
    let max_jobs = max_jobs.max(1);
    let json = if ids.len() <= max_jobs {
        serde_json::to_string(&Matrix {
            include: ids
                .iter()
                .map(|&id| MatrixEntry {
                    package: graph.package(id).id.clone(),
                    path: graph.package(id).path.clone(),
                })
                .collect(),
        })
    } else {
        let groups: Vec<(Vec<PackageId>, Option<f64>)> = match weights {
            None => (0..max_jobs)
                .map(|i| {
                    let chunk = &ids[i * ids.len() / max_jobs..(i + 1) * ids.len() / max_jobs];
                    (chunk.to_vec(), None)
                })
                .collect(),
            Some(weights) => pack(graph, &ids, max_jobs, weights),
        };
        let shards = groups
            .into_iter()
            .enumerate()
            .map(|(i, (chunk, weight))| ShardEntry {
                shard: i + 1,
                packages: chunk
                    .iter()
                    .map(|&id| graph.package(id).id.clone())
                    .collect(),
                paths: chunk
                    .iter()
                    .map(|&id| graph.package(id).path.clone())
                    .collect(),
                weight,
            })
            .collect();
        serde_json::to_string(&Matrix { include: shards })
    };
    json.expect("matrix types always serialize")
}

/// Longest-processing-time packing: heaviest package first, each onto the
/// shard with the least weight so far (the lowest-numbered on a tie).
/// Each shard's packages are in id order.
fn pack(
    graph: &PackageGraph,
    ids: &[PackageId],
    shards: usize,
    weights: &[f64],
) -> Vec<(Vec<PackageId>, Option<f64>)> {
    let mut order: Vec<PackageId> = ids.to_vec();
    order.sort_by(|a, b| {
        weights[b.index()]
            .total_cmp(&weights[a.index()])
            .then_with(|| graph.package(*a).id.cmp(&graph.package(*b).id))
    });
    let mut groups: Vec<(Vec<PackageId>, f64)> = vec![(Vec::new(), 0.0); shards];
    for id in order {
        let lightest = groups
            .iter()
            .enumerate()
            .min_by(|(i, a), (j, b)| a.1.total_cmp(&b.1).then(i.cmp(j)))
            .map_or(0, |(i, _)| i);
        groups[lightest].0.push(id);
        groups[lightest].1 += weights[id.index()];
    }
    groups
        .into_iter()
        .map(|(mut chunk, weight)| {
            chunk.sort_by(|a, b| graph.package(*a).id.cmp(&graph.package(*b).id));
            // Milliseconds are plenty, and keep the JSON short.
            (chunk, Some((weight * 1000.0).round() / 1000.0))
        })
        .collect()
}

#[must_use]
pub fn report<'a>(
    graph: &PackageGraph,
    affected: &'a Affected<'a>,
    source: ChangeSource,
    removed: Vec<RemovedPackage>,
) -> Report<'a> {
    let packages = affected
        .packages(graph)
        .into_iter()
        .map(|id| {
            let package = graph.package(id);
            let (reason, changed_files) = match affected.reason(id) {
                Some(Reason::Changed { files }) => ("changed", files.clone()),
                Some(Reason::Dependency { .. }) => ("dependency", Vec::new()),
                Some(Reason::Input { .. }) => ("input", Vec::new()),
                Some(Reason::Fallback) => ("fallback", Vec::new()),
                Some(Reason::Root(_)) => ("root", Vec::new()),
                _ => ("global", Vec::new()),
            };
            let chain = affected
                .chain(id)
                .unwrap_or_default()
                .into_iter()
                .map(|link| match link {
                    slipway_graph::Link::Package(p) => graph.package(p).id.clone(),
                    slipway_graph::Link::File(f)
                    | slipway_graph::Link::GlobalFile(f)
                    | slipway_graph::Link::Input { file: f, .. }
                    | slipway_graph::Link::Fallback(f) => f.to_owned(),
                    slipway_graph::Link::Root => "(root)".to_owned(),
                })
                .collect();
            AffectedPackage {
                package: package.id.clone(),
                name: package.name.clone(),
                path: package.path.clone(),
                ecosystem: package.ecosystem,
                reason,
                chain,
                because: affected.chain_text(graph, id).unwrap_or_default(),
                changed_files,
            }
        })
        .collect();
    Report {
        version: REPORT_VERSION,
        base_source: source.base_source,
        base_sha: source.base_sha,
        head_sha: source.head_sha,
        fallback_reason: source.fallback_reason,
        packages_total: graph.len(),
        affected: packages,
        global_triggers: affected
            .global_triggers
            .iter()
            .map(|t| GlobalTrigger {
                path: t.path,
                why: &t.why,
            })
            .collect(),
        removed,
        ignored: affected.ignored.clone(),
        unowned: affected.unowned.clone(),
        unowned_rule: affected.unowned_rule.as_str(),
        root_changes: affected
            .root_changes
            .iter()
            .map(|c| RootChange {
                path: c.file,
                detail: c.detail,
            })
            .collect(),
        root_dependencies_rule: affected.root_rule.as_str(),
        cycles: affected
            .cycles
            .iter()
            .map(|c| c.iter().map(|&id| graph.package(id).id.clone()).collect())
            .collect(),
    }
}

/// The report as pretty JSON, the `--format json` output.
///
/// # Panics
///
/// Never: the report's types (strings, numbers, lists, string-keyed
/// maps) always serialize.
#[must_use]
pub fn to_json(report: &Report<'_>) -> String {
    serde_json::to_string_pretty(report).expect("the report's types always serialize")
}

/// A list of names as one line of JSON (the `packages` output).
pub(crate) fn to_json_line(names: &[&str]) -> String {
    serde_json::to_string(names).expect("a list of strings always serializes")
}
