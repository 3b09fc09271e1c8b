//! The JSON that other programs read: the matrix and the report. These
//! shapes are a contract; change them only with a new `version`.

use serde::Serialize;
use slipway_graph::{
    Affected, AffectedTasks, Ecosystem, PackageGraph, PackageId, Reason, TaskReason,
};

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
    /// With `--tasks`, each entry's task: `packages[i]` runs `tasks[i]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tasks: Option<Vec<String>>,
    /// The shard's total weight, when packed by weights (`--timings`,
    /// `weight` in the configuration).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct MatrixEntry {
    pub package: String,
    pub path: String,
    /// With `--tasks`, the task to run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
}

/// One matrix job before packing: a package, or one task of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Job<'t> {
    pub package: PackageId,
    pub task: Option<&'t str>,
}

/// The jobs of a result: each affected package (sorted by id), or with
/// tasks each affected task of each package.
#[must_use]
pub fn jobs<'t>(
    graph: &PackageGraph,
    affected: &Affected<'_>,
    tasks: Option<&'t AffectedTasks<'_>>,
) -> Vec<Job<'t>> {
    match tasks {
        None => affected
            .packages(graph)
            .into_iter()
            .map(|package| Job {
                package,
                task: None,
            })
            .collect(),
        Some(tasks) => tasks
            .entries(graph)
            .into_iter()
            .map(|(package, t)| Job {
                package,
                task: Some(tasks.names()[t].as_str()),
            })
            .collect(),
    }
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
    /// With `--tasks`, the tasks asked for, in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tasks: Option<&'a [String]>,
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
    /// What discovery could not read and assumed instead, per package (a
    /// reference it could not resolve is taken as a dependency on every
    /// package of the ecosystem). Every package's, affected or not.
    pub assumptions: Vec<Assumption>,
}

/// What discovery assumed about one package.
#[derive(Debug, Serialize)]
pub struct Assumption {
    pub package: String,
    /// One sentence each: what could not be read, and what was assumed.
    pub notes: Vec<String>,
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
    /// With `--tasks`, the package's affected tasks, in the order asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tasks: Option<Vec<AffectedTask<'a>>>,
}

#[derive(Debug, Serialize)]
pub struct AffectedTask<'a> {
    pub task: &'a str,
    /// `changed` (a changed file matches its inputs), `dependency` (the
    /// same task of a dependency), `root`, `input`, `global` or `fallback`.
    pub reason: &'static str,
    /// `web#build <- ui#build <- packages/ui/src/x.ts`.
    pub because: String,
    /// The package's changed files that match the task's inputs.
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

/// The matrix as JSON: one entry per job, or, with more than `max_jobs`
/// of them, `max_jobs` shards, every job in exactly one. Without `weights`
/// (per package index; a task job weighs what its package does) shards are
/// consecutive jobs whose counts differ by at most one; with them, jobs are
/// packed heaviest first onto the lightest shard, and each shard says its
/// weight.
///
/// # Panics
///
/// Never: the matrix types always serialize.
#[must_use]
pub fn matrix_json(
    graph: &PackageGraph,
    jobs: &[Job<'_>],
    max_jobs: usize,
    weights: Option<&[f64]>,
) -> String {
    let max_jobs = max_jobs.max(1);
    let json = if jobs.len() <= max_jobs {
        serde_json::to_string(&Matrix {
            include: jobs
                .iter()
                .map(|job| MatrixEntry {
                    package: graph.package(job.package).id.clone(),
                    path: graph.package(job.package).path.clone(),
                    task: job.task.map(str::to_owned),
                })
                .collect(),
        })
    } else {
        let n = jobs.len();
        let groups: Vec<(Vec<usize>, Option<f64>)> = match weights {
            None => (0..max_jobs)
                .map(|i| ((i * n / max_jobs..(i + 1) * n / max_jobs).collect(), None))
                .collect(),
            Some(weights) => pack(jobs, max_jobs, weights),
        };
        let with_tasks = jobs.iter().any(|j| j.task.is_some());
        let shards = groups
            .into_iter()
            .enumerate()
            .map(|(i, (chunk, weight))| {
                let package = |j: &usize| graph.package(jobs[*j].package);
                ShardEntry {
                    shard: i + 1,
                    packages: chunk.iter().map(|j| package(j).id.clone()).collect(),
                    paths: chunk.iter().map(|j| package(j).path.clone()).collect(),
                    tasks: with_tasks.then(|| {
                        chunk
                            .iter()
                            .map(|j| jobs[*j].task.unwrap_or_default().to_owned())
                            .collect()
                    }),
                    weight,
                }
            })
            .collect();
        serde_json::to_string(&Matrix { include: shards })
    };
    json.expect("matrix types always serialize")
}

/// Longest-processing-time packing: heaviest job first, each onto the
/// shard with the least weight so far (the lowest-numbered on a tie).
/// Returns each shard's jobs (as positions in `jobs`, in order) and weight.
fn pack(jobs: &[Job<'_>], shards: usize, weights: &[f64]) -> Vec<(Vec<usize>, Option<f64>)> {
    let weight = |j: usize| weights[jobs[j].package.index()];
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    // Jobs come sorted, so the position breaks ties by package and task.
    order.sort_by(|&a, &b| weight(b).total_cmp(&weight(a)).then(a.cmp(&b)));
    let mut groups: Vec<(Vec<usize>, f64)> = vec![(Vec::new(), 0.0); shards];
    for j in order {
        let lightest = groups
            .iter()
            .enumerate()
            .min_by(|(i, a), (k, b)| a.1.total_cmp(&b.1).then(i.cmp(k)))
            .map_or(0, |(i, _)| i);
        groups[lightest].0.push(j);
        groups[lightest].1 += weight(j);
    }
    groups
        .into_iter()
        .map(|(mut chunk, weight)| {
            chunk.sort_unstable();
            // Milliseconds are plenty, and keep the JSON short.
            (chunk, Some((weight * 1000.0).round() / 1000.0))
        })
        .collect()
}

#[must_use]
pub fn report<'a>(
    graph: &PackageGraph,
    affected: &'a Affected<'a>,
    tasks: Option<&'a AffectedTasks<'a>>,
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
                tasks: tasks.map(|tasks| affected_tasks(graph, affected, tasks, id)),
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
        tasks: tasks.map(AffectedTasks::names),
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
        assumptions: graph
            .assumptions()
            .map(|(id, notes)| Assumption {
                package: graph.package(id).id.clone(),
                notes: notes.to_vec(),
            })
            .collect(),
    }
}

/// The affected tasks of `id`, in the order asked.
fn affected_tasks<'a>(
    graph: &PackageGraph,
    affected: &Affected<'_>,
    tasks: &'a AffectedTasks<'a>,
    id: PackageId,
) -> Vec<AffectedTask<'a>> {
    (0..tasks.names().len())
        .filter_map(|t| {
            let reason = tasks.reason(t, id)?;
            let (reason, changed_files) = match reason {
                TaskReason::Changed { files } => ("changed", files.clone()),
                TaskReason::Dependency { .. } | TaskReason::DependencyInput { .. } => {
                    ("dependency", Vec::new())
                }
                TaskReason::Root { .. } | TaskReason::Marked(Reason::Root(_)) => {
                    ("root", Vec::new())
                }
                TaskReason::Marked(Reason::Input { .. }) => ("input", Vec::new()),
                TaskReason::Marked(Reason::Fallback) => ("fallback", Vec::new()),
                TaskReason::Marked(_) => ("global", Vec::new()),
            };
            Some(AffectedTask {
                task: &tasks.names()[t],
                reason,
                because: tasks.chain_text(graph, affected, t, id).unwrap_or_default(),
                changed_files,
            })
        })
        .collect()
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
