//! The JSON that other programs read: the matrix and the report. These
//! shapes are a contract; change them only with a new `version`.

use slipway_contract::graph as contract_graph;
use slipway_contract::matrix::{Matrix, MatrixEntry, ShardEntry};
pub use slipway_contract::report::{
    AffectedPackage, AffectedTask, Assumption, BaseSource, GlobalTrigger, REPORT_VERSION, Reason,
    RemovedPackage, Report, RootChange, RootDependenciesRule, UnownedRule,
};
use slipway_graph::{
    Affected, AffectedTasks, DepKind, Ecosystem, PackageGraph, PackageId, TaskReason,
};

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
    pub base_source: BaseSource,
    pub base_sha: Option<String>,
    pub head_sha: Option<String>,
    /// Why every package is affected because what changed is unknown.
    pub fallback_reason: Option<String>,
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

/// The report of a result.
#[must_use]
pub fn report(
    graph: &PackageGraph,
    affected: &Affected<'_>,
    tasks: Option<&AffectedTasks<'_>>,
    source: ChangeSource,
    removed: Vec<RemovedPackage>,
) -> Report {
    let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    Report {
        version: REPORT_VERSION,
        base_source: source.base_source,
        base_sha: source.base_sha,
        head_sha: source.head_sha,
        fallback_reason: source.fallback_reason,
        packages_total: graph.len(),
        tasks: tasks.map(|t| t.names().to_vec()),
        affected: affected
            .packages(graph)
            .into_iter()
            .map(|id| affected_package(graph, affected, tasks, id))
            .collect(),
        global_triggers: affected
            .global_triggers
            .iter()
            .map(|t| GlobalTrigger {
                path: t.path.to_owned(),
                why: t.why.to_string(),
            })
            .collect(),
        removed,
        ignored: owned(&affected.ignored),
        unowned: owned(&affected.unowned),
        unowned_rule: match affected.unowned_rule {
            slipway_graph::Unowned::Root => UnownedRule::Root,
            slipway_graph::Unowned::All => UnownedRule::All,
        },
        root_changes: affected
            .root_changes
            .iter()
            .map(|c| RootChange {
                path: c.file.to_owned(),
                detail: c.detail.to_owned(),
            })
            .collect(),
        root_dependencies_rule: match affected.root_rule {
            slipway_graph::RootDependencies::All => RootDependenciesRule::All,
            slipway_graph::RootDependencies::Ignore => RootDependenciesRule::Ignore,
        },
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

fn affected_package(
    graph: &PackageGraph,
    affected: &Affected<'_>,
    tasks: Option<&AffectedTasks<'_>>,
    id: PackageId,
) -> AffectedPackage {
    let package = graph.package(id);
    let (reason, changed_files) = match affected.reason(id) {
        Some(slipway_graph::Reason::Changed { files }) => (Reason::Changed, owned(files)),
        Some(slipway_graph::Reason::Dependency { .. }) => (Reason::Dependency, Vec::new()),
        Some(slipway_graph::Reason::Input { .. }) => (Reason::Input, Vec::new()),
        Some(slipway_graph::Reason::Fallback) => (Reason::Fallback, Vec::new()),
        Some(slipway_graph::Reason::Root(_)) => (Reason::Root, Vec::new()),
        _ => (Reason::Global, Vec::new()),
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
        ecosystem: ecosystem(package.ecosystem),
        reason,
        chain,
        because: affected.chain_text(graph, id).unwrap_or_default(),
        changed_files,
        tasks: tasks.map(|tasks| affected_tasks(graph, affected, tasks, id)),
    }
}

fn owned(files: &[&str]) -> Vec<String> {
    files.iter().map(|f| (*f).to_owned()).collect()
}

/// The affected tasks of `id`, in the order asked.
fn affected_tasks(
    graph: &PackageGraph,
    affected: &Affected<'_>,
    tasks: &AffectedTasks<'_>,
    id: PackageId,
) -> Vec<AffectedTask> {
    use slipway_graph::Reason as Marked;
    (0..tasks.names().len())
        .filter_map(|t| {
            let (reason, changed_files) = match tasks.reason(t, id)? {
                TaskReason::Changed { files } => (Reason::Changed, owned(files)),
                TaskReason::Dependency { .. } | TaskReason::DependencyInput { .. } => {
                    (Reason::Dependency, Vec::new())
                }
                TaskReason::Root { .. } | TaskReason::Marked(Marked::Root(_)) => {
                    (Reason::Root, Vec::new())
                }
                TaskReason::Marked(Marked::Input { .. }) => (Reason::Input, Vec::new()),
                TaskReason::Marked(Marked::Fallback) => (Reason::Fallback, Vec::new()),
                TaskReason::Marked(_) => (Reason::Global, Vec::new()),
            };
            Some(AffectedTask {
                task: tasks.names()[t].clone(),
                reason,
                because: tasks.chain_text(graph, affected, t, id).unwrap_or_default(),
                changed_files,
            })
        })
        .collect()
}

/// The contract's name for an ecosystem.
#[must_use]
pub fn ecosystem(ecosystem: Ecosystem) -> contract_graph::Ecosystem {
    use contract_graph::Ecosystem as E;
    match ecosystem {
        Ecosystem::Cargo => E::Cargo,
        Ecosystem::Npm => E::Npm,
        Ecosystem::Yarn => E::Yarn,
        Ecosystem::Pnpm => E::Pnpm,
        Ecosystem::Bun => E::Bun,
        Ecosystem::Go => E::Go,
        Ecosystem::Python => E::Python,
        Ecosystem::Maven => E::Maven,
        Ecosystem::Gradle => E::Gradle,
        Ecosystem::Dotnet => E::Dotnet,
        Ecosystem::Graph => E::Graph,
    }
}

/// The contract's name for a dependency kind.
#[must_use]
pub fn dep_kind(kind: DepKind) -> contract_graph::DepKind {
    use contract_graph::DepKind as K;
    match kind {
        DepKind::Normal => K::Normal,
        DepKind::Dev => K::Dev,
        DepKind::Build => K::Build,
        DepKind::Peer => K::Peer,
        DepKind::Optional => K::Optional,
        DepKind::Replace => K::Replace,
        DepKind::Source => K::Source,
        DepKind::Parent => K::Parent,
        DepKind::Declared => K::Declared,
        DepKind::Implicit => K::Implicit,
        DepKind::Import => K::Import,
        DepKind::Test => K::Test,
        DepKind::Assumed => K::Assumed,
    }
}

/// The report as pretty JSON, the `--format json` output.
///
/// # Panics
///
/// Never: the report's types (strings, numbers, lists, string-keyed
/// maps) always serialize.
#[must_use]
pub fn to_json(report: &Report) -> String {
    serde_json::to_string_pretty(report).expect("the report's types always serialize")
}

/// A list of names as one line of JSON (the `packages` output).
pub(crate) fn to_json_line(names: &[&str]) -> String {
    serde_json::to_string(names).expect("a list of strings always serializes")
}
