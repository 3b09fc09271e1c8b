//! Task-level affected: which of each package's tasks (`build`, `test`,
//! `lint`, …) a change affects, each task with its own inputs.
//!
//! A package's task is affected when a changed file of the package matches
//! the task's inputs (globs relative to the package), or, when the task
//! follows dependencies, when the same task is affected in a package it
//! depends on, transitively (Turborepo's `dependsOn: ["^build"]`). What
//! marks a package as a whole (a global path, a shared input such as a
//! lockfile, the root's own dependencies, a fallback) marks every task of
//! it. The result is always a subset of the package-level [`Affected`].

use std::collections::{HashMap, VecDeque};

use globset::GlobSet;

use crate::affected::{
    Affected, ChangedPath, Class, Link, Options, Reason, RootCause, classify,
    deleted_manifest_dirs, link_text,
};
use crate::graph::PackageGraph;
use crate::model::PackageId;
use crate::root::RootDependencies;

/// One task's rule for a package.
#[derive(Debug, Clone)]
pub struct TaskRule {
    /// Globs relative to the package directory; `None` is every file of
    /// the package.
    pub inputs: Option<GlobSet>,
    /// Globs relative to the package directory whose files are never
    /// inputs (Nx's `!{projectRoot}/**/*.spec.ts`).
    pub excludes: Option<GlobSet>,
    /// The globs as written, for explanations.
    pub patterns: Vec<String>,
    /// Whether the task is affected when the same task is affected in a
    /// package this one depends on.
    pub dependencies: bool,
    /// With `dependencies`, what of a dependency counts instead of its
    /// same task (Nx's `^production`): the task is affected when a file of
    /// any package it depends on, transitively, matching these changes.
    pub dependency_inputs: Option<DependencyInputs>,
}

/// The files of a dependency that a task reads (Nx's `^` inputs).
#[derive(Debug, Clone, Default)]
pub struct DependencyInputs {
    /// Globs relative to the dependency's directory; `None` is every file.
    pub inputs: Option<GlobSet>,
    pub excludes: Option<GlobSet>,
    /// As written, for explanations.
    pub patterns: Vec<String>,
}

impl DependencyInputs {
    pub(crate) fn matches(&self, relative: &str) -> bool {
        selects(self.inputs.as_ref(), self.excludes.as_ref(), relative)
    }
}

/// Whether `relative` is in `inputs` (`None`: every file) and not in
/// `excludes`.
fn selects(inputs: Option<&GlobSet>, excludes: Option<&GlobSet>, relative: &str) -> bool {
    inputs.is_none_or(|set| set.is_match(relative))
        && !excludes.is_some_and(|set| set.is_match(relative))
}

impl Default for TaskRule {
    fn default() -> Self {
        TaskRule {
            inputs: None,
            excludes: None,
            patterns: Vec::new(),
            dependencies: true,
            dependency_inputs: None,
        }
    }
}

impl TaskRule {
    pub(crate) fn matches(&self, relative: &str) -> bool {
        selects(self.inputs.as_ref(), self.excludes.as_ref(), relative)
    }

    /// `src/**, package.json`, or `every file of the package`.
    #[must_use]
    pub fn inputs_text(&self) -> String {
        if self.inputs.is_none() {
            "every file of the package".to_owned()
        } else {
            self.patterns.join(", ")
        }
    }
}

/// The tasks asked for, with a default rule each and overrides per package.
#[derive(Debug, Clone, Default)]
pub struct Tasks {
    names: Vec<String>,
    defaults: Vec<TaskRule>,
    overrides: HashMap<(PackageId, usize), TaskRule>,
}

impl Tasks {
    /// Tasks by name, in the order given, each with `defaults` until set.
    #[must_use]
    pub fn new(names: Vec<String>) -> Tasks {
        let defaults = vec![TaskRule::default(); names.len()];
        Tasks {
            names,
            defaults,
            overrides: HashMap::new(),
        }
    }

    #[must_use]
    pub fn names(&self) -> &[String] {
        &self.names
    }

    #[must_use]
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The rule of task `task` for every package without an override.
    pub fn set_default(&mut self, task: usize, rule: TaskRule) {
        self.defaults[task] = rule;
    }

    /// The rule of task `task` for `package` alone.
    pub fn set_override(&mut self, package: PackageId, task: usize, rule: TaskRule) {
        self.overrides.insert((package, task), rule);
    }

    /// The rule of task `task` for `package`.
    #[must_use]
    pub fn rule(&self, package: PackageId, task: usize) -> &TaskRule {
        self.overrides
            .get(&(package, task))
            .unwrap_or(&self.defaults[task])
    }
}

/// Why one task of one package is affected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskReason<'c> {
    /// Changed files of the package that match the task's inputs (sorted).
    /// A file outside the package's directory that belongs to it (an extra
    /// input, a source outside the workspace) matches every task.
    Changed { files: Vec<&'c str> },
    /// The package as a whole is marked, so every task of it is: a
    /// [`Reason::Input`], [`Reason::Global`], [`Reason::Fallback`] or
    /// [`Reason::Root`] with a root input.
    Marked(Reason<'c>),
    /// The same task is affected in `on`, which the package depends on.
    Dependency { on: PackageId },
    /// `file`, a file of `on` (a package this one depends on, maybe
    /// transitively) matching the task's dependency inputs, changed.
    DependencyInput { on: PackageId, file: &'c str },
    /// The same task is affected in `on`, a workspace package the root
    /// depends on, and every package depends on the root.
    Root { on: PackageId },
}

/// The affected tasks and their reasons.
#[derive(Debug, Clone)]
pub struct AffectedTasks<'c> {
    tasks: Tasks,
    /// `[task][package]`.
    reasons: Vec<Vec<Option<TaskReason<'c>>>>,
    /// Per package, its changed files (relative paths are matched): kept to
    /// explain a task that none of them matched.
    changed: Vec<Vec<&'c str>>,
}

impl<'c> AffectedTasks<'c> {
    #[must_use]
    pub fn names(&self) -> &[String] {
        &self.tasks.names
    }

    /// The rule task `task` was worked out with for `id`.
    #[must_use]
    pub fn rule(&self, task: usize, id: PackageId) -> &TaskRule {
        self.tasks.rule(id, task)
    }

    #[must_use]
    pub fn reason(&self, task: usize, id: PackageId) -> Option<&TaskReason<'c>> {
        self.reasons[task][id.index()].as_ref()
    }

    #[must_use]
    pub fn contains(&self, task: usize, id: PackageId) -> bool {
        self.reason(task, id).is_some()
    }

    /// The changed files of `id` itself (under its directory or belonging
    /// to it), whatever tasks they matched.
    #[must_use]
    pub fn changed_files(&self, id: PackageId) -> &[&'c str] {
        &self.changed[id.index()]
    }

    /// Every affected `(package, task)`, sorted by package id and then in
    /// the order the tasks were given.
    #[must_use]
    pub fn entries(&self, graph: &PackageGraph) -> Vec<(PackageId, usize)> {
        let mut ids: Vec<PackageId> = graph.ids().collect();
        ids.sort_by(|a, b| graph.package(*a).id.cmp(&graph.package(*b).id));
        ids.into_iter()
            .flat_map(|id| {
                (0..self.tasks.names.len())
                    .filter(move |&t| self.contains(t, id))
                    .map(move |t| (id, t))
            })
            .collect()
    }

    /// Number of affected `(package, task)` pairs.
    #[must_use]
    pub fn len(&self) -> usize {
        self.reasons
            .iter()
            .flatten()
            .filter(|r| r.is_some())
            .count()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The chain from `id`'s task back to the change behind it:
    /// `web#build <- ui#build <- packages/ui/src/x.ts`.
    #[must_use]
    pub fn chain_text(
        &self,
        graph: &PackageGraph,
        affected: &Affected<'_>,
        task: usize,
        id: PackageId,
    ) -> Option<String> {
        let name = &self.tasks.names[task];
        let mut parts = vec![format!("{}#{name}", graph.package(id).id)];
        let mut current = id;
        loop {
            match self.reason(task, current)? {
                TaskReason::Changed { files } => {
                    parts.push(files.first().copied().unwrap_or_default().to_owned());
                }
                TaskReason::Marked(reason) => parts.push(marked_text(graph, affected, reason)),
                TaskReason::Dependency { on } => {
                    parts.push(format!("{}#{name}", graph.package(*on).id));
                    current = *on;
                    continue;
                }
                TaskReason::DependencyInput { on, file } => {
                    parts.push(format!("{} ({file})", graph.package(*on).id));
                }
                TaskReason::Root { on } => {
                    parts.push("(root)".to_owned());
                    parts.push(format!("{}#{name}", graph.package(*on).id));
                    current = *on;
                    continue;
                }
            }
            return Some(parts.join(" <- "));
        }
    }
}

fn marked_text(graph: &PackageGraph, affected: &Affected<'_>, reason: &Reason<'_>) -> String {
    let links = match *reason {
        Reason::Input { file, detail } => vec![Link::Input { file, detail }],
        Reason::Global { file } => vec![Link::GlobalFile(file)],
        Reason::Root(RootCause::Input { file, detail }) => {
            vec![Link::Root, Link::Input { file, detail }]
        }
        Reason::Fallback => vec![Link::Fallback(affected.fallback.unwrap_or_default())],
        // Never made `Marked`; named plainly rather than panicking.
        Reason::Changed { .. } | Reason::Dependency { .. } | Reason::Root(_) => {
            return "the package".to_owned();
        }
    };
    let parts: Vec<String> = links.iter().map(|l| link_text(graph, l)).collect();
    parts.join(" <- ")
}

/// The tasks of each package that `changed` affects, under the same rules
/// as [`crate::affected`] (whose result is `affected`), each task with its
/// own inputs and dependency rule.
#[must_use]
pub fn affected_tasks<'c>(
    graph: &PackageGraph,
    changed: &'c [ChangedPath],
    options: &'c Options,
    affected: &Affected<'c>,
    tasks: Tasks,
) -> AffectedTasks<'c> {
    let count = tasks.names.len();
    let mut reasons: Vec<Vec<Option<TaskReason<'c>>>> = vec![vec![None; graph.len()]; count];
    let mut own: Vec<Vec<&'c str>> = vec![Vec::new(); graph.len()];
    let whole = if affected.fallback.is_some() {
        Some(Reason::Fallback)
    } else if let Some(first) = affected.global_triggers.first() {
        Some(Reason::Global { file: first.path })
    } else if affected.root_rule == RootDependencies::All
        && let Some(change) = affected.root_changes.first()
    {
        Some(Reason::Root(RootCause::Input {
            file: change.file,
            detail: change.detail,
        }))
    } else {
        None
    };
    seed(graph, changed, options, &tasks, &mut reasons, &mut own);
    // Packages marked as a whole (a shared input): every file of them
    // counts as changed for dependency inputs.
    let marked: Vec<bool> = (0..graph.len())
        .map(|i| {
            reasons
                .iter()
                .any(|slots| matches!(slots[i], Some(TaskReason::Marked(_))))
        })
        .collect();
    if let Some(reason) = whole {
        for slot in reasons.iter_mut().flatten() {
            if !matches!(slot, Some(TaskReason::Marked(_))) {
                *slot = Some(TaskReason::Marked(reason.clone()));
            }
        }
    } else {
        for (task, slots) in reasons.iter_mut().enumerate() {
            through_dependency_inputs(graph, &tasks, task, slots, &own, &marked);
            propagate(graph, &tasks, task, slots);
            if affected.root_rule == RootDependencies::All {
                through_root(graph, &tasks, task, slots);
            }
        }
    }
    for files in &mut own {
        files.sort_unstable();
        files.dedup();
    }
    AffectedTasks {
        tasks,
        reasons,
        changed: own,
    }
}

/// The tasks each changed path marks directly.
fn seed<'c>(
    graph: &PackageGraph,
    changed: &'c [ChangedPath],
    options: &'c Options,
    tasks: &Tasks,
    reasons: &mut [Vec<Option<TaskReason<'c>>>],
    own: &mut [Vec<&'c str>],
) {
    let deleted = deleted_manifest_dirs(changed);
    let mut extra_owners = Vec::new();
    for change in changed {
        let path = change.path.as_str();
        match classify(graph, options, &deleted, change, &mut extra_owners) {
            Class::Resolved(packages, _) => {
                for (id, detail) in packages {
                    for slots in reasons.iter_mut() {
                        slots[id.index()] =
                            Some(TaskReason::Marked(Reason::Input { file: path, detail }));
                    }
                }
            }
            Class::Owned(owners) => {
                for &owner in owners.iter().chain(&extra_owners) {
                    own[owner.index()].push(path);
                    let relative = relative_to(&graph.package(owner).path, path);
                    for (task, slots) in reasons.iter_mut().enumerate() {
                        let matched = relative.is_none_or(|r| tasks.rule(owner, task).matches(r));
                        if !matched {
                            continue;
                        }
                        match &mut slots[owner.index()] {
                            Some(TaskReason::Changed { files }) => files.push(path),
                            Some(_) => {}
                            slot @ None => *slot = Some(TaskReason::Changed { files: vec![path] }),
                        }
                    }
                }
            }
            Class::Ignored | Class::Unowned | Class::Global(_) | Class::Removed(_) => {}
        }
    }
    for slot in reasons.iter_mut().flatten() {
        if let Some(TaskReason::Changed { files }) = slot {
            files.sort_unstable();
            files.dedup();
        }
    }
}

/// `path` relative to the package directory `dir`; `None` when it lies
/// outside (an extra input, a source outside the workspace).
fn relative_to<'p>(dir: &str, path: &'p str) -> Option<&'p str> {
    if dir == "." {
        return Some(path);
    }
    path.strip_prefix(dir)?.strip_prefix('/')
}

/// For packages whose rule for `task` reads dependency inputs: affected
/// when a dependency, transitively, has a changed file matching them (or
/// is marked as a whole). Breadth-first from each such dependency over
/// "is depended on by" edges; a test-only edge reaches one step.
fn through_dependency_inputs<'c>(
    graph: &PackageGraph,
    tasks: &Tasks,
    task: usize,
    slots: &mut [Option<TaskReason<'c>>],
    own: &[Vec<&'c str>],
    marked: &[bool],
) {
    let reads = |id: PackageId| {
        let rule = tasks.rule(id, task);
        if rule.dependencies {
            rule.dependency_inputs.as_ref()
        } else {
            None
        }
    };
    if !graph.ids().any(|id| reads(id).is_some()) {
        return;
    }
    for source in graph.ids() {
        let files = &own[source.index()];
        if files.is_empty() && !marked[source.index()] {
            continue;
        }
        let dir = graph.package(source).path.clone();
        let mut seen = vec![false; graph.len()];
        seen[source.index()] = true;
        let mut queue: VecDeque<PackageId> = VecDeque::from([source]);
        while let Some(current) = queue.pop_front() {
            for (dependent, kind) in graph.dependents(current) {
                let i = dependent.index();
                if seen[i] {
                    continue;
                }
                seen[i] = true;
                if kind.is_transitive() {
                    queue.push_back(dependent);
                }
                let Some(inputs) = reads(dependent) else {
                    continue;
                };
                if slots[i].is_some() {
                    continue;
                }
                let file = if marked[source.index()] {
                    Some("the whole package")
                } else {
                    files
                        .iter()
                        .copied()
                        .find(|f| relative_to(&dir, f).is_none_or(|r| inputs.matches(r)))
                };
                if let Some(file) = file {
                    slots[i] = Some(TaskReason::DependencyInput { on: source, file });
                }
            }
        }
    }
}

/// Breadth-first over "is depended on by" edges, into the dependents whose
/// rule for `task` follows dependencies.
fn propagate(graph: &PackageGraph, tasks: &Tasks, task: usize, slots: &mut [Option<TaskReason>]) {
    let mut queue: VecDeque<PackageId> = graph
        .ids()
        .filter(|id| slots[id.index()].is_some())
        .collect();
    let mut carries: Vec<bool> = slots.iter().map(Option::is_some).collect();
    while let Some(current) = queue.pop_front() {
        for (dependent, kind) in graph.dependents(current) {
            let i = dependent.index();
            let rule = tasks.rule(dependent, task);
            if carries[i] || !rule.dependencies || rule.dependency_inputs.is_some() {
                continue;
            }
            // A test-only edge gives the task to the dependent but, as in
            // the affected set, no further.
            if kind.is_transitive() {
                slots[i] = Some(TaskReason::Dependency { on: current });
                carries[i] = true;
                queue.push_back(dependent);
            } else if slots[i].is_none() {
                slots[i] = Some(TaskReason::Dependency { on: current });
            }
        }
    }
}

/// When a workspace package the root depends on has `task` affected,
/// every package that follows dependencies for it has it too.
fn through_root(
    graph: &PackageGraph,
    tasks: &Tasks,
    task: usize,
    slots: &mut [Option<TaskReason>],
) {
    let Some(on) = graph
        .root_dependencies()
        .iter()
        .map(|&(id, _)| id)
        .filter(|id| slots[id.index()].is_some())
        .min_by(|a, b| graph.package(*a).id.cmp(&graph.package(*b).id))
    else {
        return;
    };
    for id in graph.ids() {
        if slots[id.index()].is_none() && tasks.rule(id, task).dependencies {
            // Every package depends on the root, and the root on `on`.
            slots[id.index()] = Some(TaskReason::Root { on });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::affected::affected;
    use crate::affected::tests::globs;
    use crate::graph::GraphBuilder;
    use crate::model::{DepKind, Ecosystem};

    /// `web -> ui -> tokens`.
    fn graph() -> PackageGraph {
        let mut b = GraphBuilder::new();
        let tokens = b
            .add_package("tokens", "packages/tokens", Ecosystem::Npm)
            .unwrap();
        let ui = b.add_package("ui", "packages/ui", Ecosystem::Npm).unwrap();
        let web = b.add_package("web", "apps/web", Ecosystem::Npm).unwrap();
        b.add_edge(ui, tokens, DepKind::Normal);
        b.add_edge(web, ui, DepKind::Normal);
        b.build()
    }

    fn tasks() -> Tasks {
        let mut tasks = Tasks::new(vec!["build".into(), "lint".into(), "docs".into()]);
        tasks.set_default(
            0,
            TaskRule {
                inputs: Some(globs(&["src/**", "package.json"])),
                patterns: vec!["src/**".into(), "package.json".into()],
                dependencies: true,
                ..TaskRule::default()
            },
        );
        tasks.set_default(
            1,
            TaskRule {
                inputs: Some(globs(&["src/**"])),
                patterns: vec!["src/**".into()],
                dependencies: false,
                ..TaskRule::default()
            },
        );
        tasks.set_default(
            2,
            TaskRule {
                inputs: Some(globs(&["docs/**", "*.md"])),
                patterns: vec!["docs/**".into(), "*.md".into()],
                dependencies: false,
                ..TaskRule::default()
            },
        );
        tasks
    }

    fn run(graph: &PackageGraph, paths: &[&str], options: &Options) -> Vec<String> {
        let changed: Vec<ChangedPath> = paths
            .iter()
            .map(|p| ChangedPath {
                path: (*p).to_owned(),
                deleted: false,
            })
            .collect();
        let result = affected(graph, &changed, options);
        let tasks = affected_tasks(graph, &changed, options, &result, tasks());
        tasks
            .entries(graph)
            .into_iter()
            .map(|(id, t)| tasks.chain_text(graph, &result, t, id).unwrap())
            .collect()
    }

    #[test]
    fn a_docs_change_affects_only_the_docs_task() {
        let graph = graph();
        assert_eq!(
            run(&graph, &["packages/ui/README.md"], &Options::default()),
            ["ui#docs <- packages/ui/README.md"]
        );
    }

    #[test]
    fn a_source_change_follows_dependencies_only_where_the_task_does() {
        let graph = graph();
        assert_eq!(
            run(&graph, &["packages/tokens/src/a.ts"], &Options::default()),
            [
                "tokens#build <- packages/tokens/src/a.ts",
                "tokens#lint <- packages/tokens/src/a.ts",
                "ui#build <- tokens#build <- packages/tokens/src/a.ts",
                "web#build <- ui#build <- tokens#build <- packages/tokens/src/a.ts",
            ]
        );
    }

    #[test]
    fn a_file_in_no_task_affects_no_task() {
        let graph = graph();
        assert!(run(&graph, &["packages/ui/.eslintcache"], &Options::default()).is_empty());
    }

    #[test]
    fn a_shared_input_marks_every_task_of_its_packages() {
        let graph = graph();
        let ui = graph.find("ui").unwrap();
        let mut options = Options::default();
        options.resolved.insert(
            "package-lock.json".into(),
            crate::Resolution::packages(vec![(ui, "react 18 -> 19".into())]),
        );
        assert_eq!(
            run(&graph, &["package-lock.json"], &options),
            [
                "ui#build <- package-lock.json (react 18 -> 19)",
                "ui#lint <- package-lock.json (react 18 -> 19)",
                "ui#docs <- package-lock.json (react 18 -> 19)",
                "web#build <- ui#build <- package-lock.json (react 18 -> 19)",
            ]
        );
    }

    #[test]
    fn a_global_change_marks_every_task() {
        let graph = graph();
        let all = run(
            &graph,
            &["rust-toolchain.toml", "apps/web/x.md"],
            &Options::default(),
        );
        assert_eq!(all.len(), 9, "{all:?}");
        assert!(
            all.iter()
                .all(|c| c.ends_with("rust-toolchain.toml (global)")),
            "{all:?}"
        );
    }

    #[test]
    fn an_override_changes_one_package_only() {
        let graph = graph();
        let web = graph.find("web").unwrap();
        let mut tasks = tasks();
        tasks.set_override(
            web,
            0,
            TaskRule {
                dependencies: false,
                ..TaskRule::default()
            },
        );
        let changed = [ChangedPath {
            path: "packages/tokens/src/a.ts".into(),
            deleted: false,
        }];
        let options = Options::default();
        let result = affected(&graph, &changed, &options);
        let affected = affected_tasks(&graph, &changed, &options, &result, tasks);
        assert!(!affected.contains(0, web));
        assert!(affected.contains(0, graph.find("ui").unwrap()));
        assert_eq!(affected.len(), 3);
    }
}
