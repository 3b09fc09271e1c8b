//! Text renderings of a result: list, dot, explain, and the step summary.

use std::fmt::Write as _;

use slipway_graph::{Affected, AffectedTasks, PackageGraph, PackageId};

use crate::report::{Job, Report, RootDependenciesRule};

/// One job per line: the package, or `package#task` with `--tasks`.
pub(crate) fn list(graph: &PackageGraph, jobs: &[Job<'_>]) -> String {
    let mut out = String::new();
    for job in jobs {
        out.push_str(&graph.package(job.package).id);
        if let Some(task) = job.task {
            out.push('#');
            out.push_str(task);
        }
        out.push('\n');
    }
    out
}

/// Why each task of `id` is, or is not, affected: one line each.
pub(crate) fn explain_tasks(
    graph: &PackageGraph,
    affected: &Affected,
    tasks: &AffectedTasks,
    id: PackageId,
) -> String {
    let mut out = String::new();
    let package = graph.package(id);
    for (t, name) in tasks.names().iter().enumerate() {
        if let Some(chain) = tasks.chain_text(graph, affected, t, id) {
            let _ = writeln!(out, "task {name}: affected: {chain}");
            continue;
        }
        let own = tasks.changed_files(id);
        let files = if own.is_empty() {
            format!("no changed file lies under {}", package.path)
        } else {
            format!(
                "its changed files ({}) match none of its inputs ({})",
                own.iter().take(5).copied().collect::<Vec<_>>().join(", "),
                tasks.rule(t, id).inputs_text()
            )
        };
        let deps = dependency_text(graph, tasks, t, id);
        let _ = writeln!(out, "task {name}: not affected: {files}, and {deps}");
    }
    out
}

/// Why a task of a package is not affected through its dependencies.
fn dependency_text(graph: &PackageGraph, tasks: &AffectedTasks, t: usize, id: PackageId) -> String {
    let name = &tasks.names()[t];
    let mut affected_deps: Vec<&str> = graph
        .dependencies(id)
        .filter(|(dep, _)| tasks.contains(t, *dep))
        .map(|(dep, _)| graph.package(dep).id.as_str())
        .collect();
    affected_deps.sort_unstable();
    affected_deps.dedup();
    if affected_deps.is_empty() {
        format!("no dependency has {name} affected")
    } else {
        format!(
            "{name} does not follow dependencies (dependencies = false), though {} has it affected",
            affected_deps.join(", ")
        )
    }
}

/// The whole graph in Graphviz dot; affected packages are filled and bold,
/// and edges point from a package to what it depends on.
pub(crate) fn dot(graph: &PackageGraph, affected: &Affected) -> String {
    let mut out = String::from(
        "digraph packages {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n",
    );
    let mut ids: Vec<PackageId> = graph.ids().collect();
    ids.sort_by(|a, b| graph.package(*a).id.cmp(&graph.package(*b).id));
    for &id in &ids {
        let package = graph.package(id);
        let style = if affected.contains(id) {
            ", style=\"filled,bold\", fillcolor=\"#f4a261\""
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  {} [label=\"{}\\n{}\"{style}];",
            quote(&package.id),
            escape(&package.id),
            escape(&package.path)
        );
    }
    for &id in &ids {
        let mut deps: Vec<PackageId> = graph.dependencies(id).map(|(d, _)| d).collect();
        deps.sort_by(|a, b| graph.package(*a).id.cmp(&graph.package(*b).id));
        deps.dedup();
        for dep in deps {
            let _ = writeln!(
                out,
                "  {} -> {};",
                quote(&graph.package(id).id),
                quote(&graph.package(dep).id)
            );
        }
    }
    out.push_str("}\n");
    out
}

fn quote(s: &str) -> String {
    format!("\"{}\"", escape(s))
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// What discovery assumed about each of `ids` (an edge matched by name
/// alone), one `assumed: …` line each.
fn write_notes(out: &mut String, graph: &PackageGraph, ids: impl IntoIterator<Item = PackageId>) {
    for id in ids {
        for note in graph.notes(id) {
            let _ = writeln!(out, "assumed: {note}");
        }
    }
}

/// For an affected `id`: what discovery assumed along its chain, and the
/// rule that made everything affected, if one did.
fn write_affected_notes(
    out: &mut String,
    graph: &PackageGraph,
    affected: &Affected,
    id: PackageId,
) {
    let chain = affected.chain(id).unwrap_or_default();
    write_notes(
        out,
        graph,
        chain.iter().filter_map(|link| match link {
            slipway_graph::Link::Package(p) => Some(*p),
            _ => None,
        }),
    );
    match affected.reason(id) {
        Some(slipway_graph::Reason::Global { file }) => {
            if let Some(trigger) = affected.global_triggers.iter().find(|t| t.path == *file) {
                let _ = writeln!(
                    out,
                    "rule: {file} {}, so every package is affected",
                    trigger.why
                );
            }
        }
        Some(slipway_graph::Reason::Root(_)) => {
            let _ = writeln!(
                out,
                "rule: the root's own dependencies, and the workspace packages it depends on, are every package's tooling (root-dependencies = all)"
            );
        }
        _ => {}
    }
}

/// Why `id` is, or is not, affected, in a sentence or two.
pub(crate) fn explain(graph: &PackageGraph, affected: &Affected, id: PackageId) -> String {
    let package = graph.package(id);
    if let Some(chain) = affected.chain_text(graph, id) {
        let mut out = format!("{} is affected: {chain}\n", package.id);
        let edges = chain_edges(graph, affected, id);
        if !edges.is_empty() {
            let _ = writeln!(out, "edges: {}", edges.join(", "));
        }
        if let Some(slipway_graph::Reason::Dependency {
            kind: slipway_graph::DepKind::Test,
            ..
        }) = affected.reason(id)
        {
            let _ = writeln!(
                out,
                "rule: a test-only dependency reaches {}'s tests, not its build output, so its own dependents are not affected through it",
                package.id
            );
        }
        write_affected_notes(&mut out, graph, affected, id);
        return out;
    }
    let mut deps = transitive_dependencies(graph, id);
    deps.sort();
    let deps_text = if deps.is_empty() {
        "it depends on no other package".to_owned()
    } else {
        format!(
            "none of its {} dependencies, transitively ({}), is affected",
            deps.len(),
            deps.join(", ")
        )
    };
    let mut out = format!(
        "{} is not affected: no changed path lies under {}, and {deps_text}\n",
        package.id, package.path
    );
    write_notes(&mut out, graph, [id]);
    write_unaffected_reasons(&mut out, graph, affected, id);
    out
}

/// What else a change did that did not reach an unaffected package:
/// ignored paths, published versions, inputs compared, the root's paths
/// and dependencies.
fn write_unaffected_reasons(
    out: &mut String,
    graph: &PackageGraph,
    affected: &Affected,
    id: PackageId,
) {
    let package = graph.package(id);
    if !affected.ignored.is_empty() {
        let _ = writeln!(
            out,
            "{} changed paths were ignored by --ignore globs",
            affected.ignored.len()
        );
    }
    for (name, version) in graph.externals(id) {
        if let Some(other) = graph.find_in(package.ecosystem, name) {
            let _ = writeln!(
                out,
                "{} requires {} {version} with no local link (a replace or a workspace source): it builds against the published version, so changes to {} do not affect it",
                package.id,
                graph.package(other).id,
                graph.package(other).path
            );
        }
    }
    for input in &affected.inputs {
        let _ = writeln!(
            out,
            "{input} changed and was compared at both revisions: none of its changes is in what {} or its dependencies resolve",
            package.id
        );
    }
    if !affected.unowned.is_empty() {
        let _ = writeln!(
            out,
            "{} changed paths lie in no package and belong to the root, which affects nothing (unowned = root): {}",
            affected.unowned.len(),
            affected
                .unowned
                .iter()
                .take(5)
                .copied()
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if affected.root_rule == slipway_graph::RootDependencies::Ignore
        && let Some(change) = affected.root_changes.first()
    {
        let _ = writeln!(
            out,
            "the root's own dependencies changed ({}: {}) and affect nothing (root-dependencies = ignore)",
            change.file, change.detail
        );
    }
}

/// Each dependency of the chain with its kind: `web -> ui (dev)`.
fn chain_edges(graph: &PackageGraph, affected: &Affected, id: PackageId) -> Vec<String> {
    let mut edges = Vec::new();
    let mut current = id;
    loop {
        match affected.reason(current) {
            Some(slipway_graph::Reason::Dependency { on, kind }) => {
                let kind = match graph.edge_detail(current, *on) {
                    Some(at) => format!("{} {at}", kind.describe()),
                    None => kind.describe().to_owned(),
                };
                edges.push(format!(
                    "{} -> {} ({kind})",
                    graph.package(current).id,
                    graph.package(*on).id,
                ));
                current = *on;
            }
            Some(slipway_graph::Reason::Root(slipway_graph::RootCause::Package(on))) => {
                let kind = graph
                    .root_dependencies()
                    .iter()
                    .find(|(p, _)| p == on)
                    .map_or("normal", |(_, k)| k.describe());
                edges.push(format!("(root) -> {} ({kind})", graph.package(*on).id));
                current = *on;
            }
            _ => return edges,
        }
    }
}

fn transitive_dependencies(graph: &PackageGraph, id: PackageId) -> Vec<String> {
    let mut seen = vec![false; graph.len()];
    seen[id.index()] = true;
    let mut stack = vec![id];
    let mut out = Vec::new();
    while let Some(current) = stack.pop() {
        for (dep, _) in graph.dependencies(current) {
            if !seen[dep.index()] {
                seen[dep.index()] = true;
                out.push(graph.package(dep).id.clone());
                stack.push(dep);
            }
        }
    }
    out
}

/// Markdown for `$GITHUB_STEP_SUMMARY`.
pub(crate) fn summary(report: &Report) -> String {
    let mut out = String::from("### ci-matrix\n\n");
    let _ = writeln!(
        out,
        "**{} of {} packages affected**",
        report.affected.len(),
        report.packages_total
    );
    if let Some(names) = &report.tasks {
        let jobs: usize = report
            .affected
            .iter()
            .map(|p| p.tasks.as_ref().map_or(0, Vec::len))
            .sum();
        let _ = writeln!(
            out,
            "\n{jobs} task jobs, of the tasks {}.",
            code_list(names)
        );
    }
    match (&report.base_sha, &report.head_sha) {
        (Some(base), Some(head)) => {
            let _ = writeln!(
                out,
                "\nBase `{base}` ({}), head `{head}`.",
                report.base_source
            );
        }
        _ => {
            let _ = writeln!(out, "\nChanges from {}.", report.base_source);
        }
    }
    write_whole_repository(&mut out, report);
    affected_table(&mut out, report);
    write_removed_and_cycles(&mut out, report);
    out
}

/// Why every package (or none) is affected: the fallback, a global
/// trigger, unowned paths, the root's dependencies.
fn write_whole_repository(out: &mut String, report: &Report) {
    if let Some(why) = &report.fallback_reason {
        let _ = writeln!(out, "\n> **Every package is affected**: {why}.");
    }
    if let Some(first) = report.global_triggers.first() {
        let _ = writeln!(
            out,
            "\n> Every package is affected: `{}` {} ({} such paths).",
            first.path,
            first.why,
            report.global_triggers.len()
        );
    }
    if !report.unowned.is_empty() {
        let _ = writeln!(
            out,
            "\n{} paths outside any package affect nothing (unowned = {}): {}.",
            report.unowned.len(),
            report.unowned_rule,
            code_list(&report.unowned)
        );
    }
    for change in &report.root_changes {
        let effect = if report.root_dependencies_rule == RootDependenciesRule::All {
            "every package is affected"
        } else {
            "nothing is affected (root-dependencies = ignore)"
        };
        let _ = writeln!(
            out,
            "\nThe root's own dependencies changed in `{}` ({}): {effect}.",
            change.path,
            escape_cell(&change.detail)
        );
    }
}

fn write_removed_and_cycles(out: &mut String, report: &Report) {
    for removed in &report.removed {
        let _ = writeln!(
            out,
            "\nRemoved package `{}` at `{}`.",
            removed.name.as_deref().unwrap_or("?"),
            removed.path
        );
    }
    for cycle in &report.cycles {
        let _ = writeln!(
            out,
            "\n> Dependency cycle, affected as a unit: {}.",
            cycle.join(", ")
        );
    }
}

/// The affected packages as a table, with their tasks under `--tasks`.
fn affected_table(out: &mut String, report: &Report) {
    if report.affected.is_empty() {
        return;
    }
    if report.tasks.is_some() {
        out.push_str("\n| package | path | tasks | why |\n| --- | --- | --- | --- |\n");
    } else {
        out.push_str("\n| package | path | why |\n| --- | --- | --- |\n");
    }
    for p in &report.affected {
        let tasks = p.tasks.as_ref().map(|tasks| {
            let names: Vec<&str> = tasks.iter().map(|t| t.task.as_str()).collect();
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        });
        let _ = writeln!(
            out,
            "| `{}` | `{}` |{} {} |",
            p.package,
            p.path,
            tasks.map_or_else(String::new, |t| format!(" {} |", escape_cell(&t))),
            escape_cell(&p.because)
        );
    }
}

/// The first few paths as code, `and N more`.
fn code_list(paths: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut parts: Vec<String> = paths
        .iter()
        .take(SHOWN)
        .map(|p| format!("`{}`", p.replace('`', "'")))
        .collect();
    if paths.len() > SHOWN {
        parts.push(format!("and {} more", paths.len() - SHOWN));
    }
    parts.join(", ")
}

fn escape_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('<', "&lt;")
}
