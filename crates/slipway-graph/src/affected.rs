//! From changed paths to the affected packages, with the reason for each.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet, VecDeque};

use globset::GlobSet;

use crate::graph::PackageGraph;
use crate::model::{DepKind, PackageId};
use crate::paths::{ancestors, parent};
use crate::root::{GlobalFiles, RootDependencies, Unowned};

/// One changed path, repository-relative (see [`crate::normalize`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChangedPath {
    pub path: String,
    /// The path no longer exists at the head revision.
    pub deleted: bool,
}

/// Settings for [`affected`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Paths that never affect anything, wherever they are. Ignore is
    /// final: it wins over every other rule.
    pub ignore: GlobSet,
    /// Paths that always affect everything, even inside a package: the
    /// built-in list and the configured globs.
    pub global: GlobalFiles,
    /// Paths outside a package's directory that belong to it too.
    pub extra_inputs: Vec<(PackageId, GlobSet)>,
    /// Changed paths whose effect was worked out elsewhere, precisely (a
    /// lockfile diff, a root manifest diff), keyed by path.
    pub resolved: HashMap<String, Resolution>,
    /// When set, what changed cannot be told: everything is affected, for
    /// this reason.
    pub fallback: Option<String>,
    /// What a changed path in no package affects.
    pub unowned: Unowned,
    /// What a change to the root's own dependencies affects.
    pub root_dependencies: RootDependencies,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            ignore: GlobSet::empty(),
            global: GlobalFiles::default(),
            extra_inputs: Vec::new(),
            resolved: HashMap::new(),
            fallback: None,
            unowned: Unowned::default(),
            root_dependencies: RootDependencies::default(),
        }
    }
}

/// What a precisely read change (a lockfile, a root manifest) affects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// These packages, each with what changed for it (`serde 1.0.1 -> 1.0.2`),
    /// and what changed in the root's own dependencies, if anything
    /// (`devDependencies vitest ^3.1.0 -> ^3.2.0`).
    Packages {
        packages: Vec<(PackageId, String)>,
        root: Option<String>,
    },
    /// Everything, for this reason (`Cargo.lock could not be parsed: …`).
    Everything(String),
}

impl Resolution {
    /// These packages, and nothing of the root's.
    #[must_use]
    pub fn packages(packages: Vec<(PackageId, String)>) -> Resolution {
        Resolution::Packages {
            packages,
            root: None,
        }
    }
}

/// Why a package is affected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason<'c> {
    /// Files under the package changed (sorted), borrowed from the input.
    Changed { files: Vec<&'c str> },
    /// A shared input (a lockfile, a root manifest) changed in a way that
    /// concerns this package.
    Input { file: &'c str, detail: &'c str },
    /// A package it depends on is affected.
    Dependency { on: PackageId, kind: DepKind },
    /// A global change: everything is affected.
    Global { file: &'c str },
    /// The root's own dependencies changed, or a workspace package the
    /// root depends on is affected: everything is affected through the root.
    Root(RootCause<'c>),
    /// What changed could not be told ([`Options::fallback`]).
    Fallback,
}

/// Why the root makes every package affected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootCause<'c> {
    /// A change to the root's own dependencies, read from `file`.
    Input { file: &'c str, detail: &'c str },
    /// A workspace package the root depends on is affected.
    Package(PackageId),
}

/// A change to the root's own dependencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RootChange<'c> {
    pub file: &'c str,
    pub detail: &'c str,
}

/// One step of a reason chain, from a package back to the change behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link<'a> {
    Package(PackageId),
    File(&'a str),
    Input {
        file: &'a str,
        detail: &'a str,
    },
    GlobalFile(&'a str),
    /// The workspace root, between a package and the root dependency or
    /// root change that affected it.
    Root,
    Fallback(&'a str),
}

/// A changed path that made every package affected, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalTrigger<'c> {
    pub path: &'c str,
    pub why: Cow<'c, str>,
}

/// A package whose directory is gone: its files were deleted and no package
/// lives there any more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovedPackage {
    pub path: String,
    pub files: Vec<String>,
}

/// The affected set and everything that explains it.
#[derive(Debug, Clone)]
pub struct Affected<'c> {
    reasons: Vec<Option<Reason<'c>>>,
    count: usize,
    /// Changed paths that made every package affected, sorted by path.
    pub global_triggers: Vec<GlobalTrigger<'c>>,
    pub removed: Vec<RemovedPackage>,
    /// Changed paths that matched an ignore glob.
    pub ignored: Vec<&'c str>,
    /// Changed paths in no package that belong to the root and so affect
    /// nothing ([`Unowned::Root`]), sorted.
    pub unowned: Vec<&'c str>,
    /// Changes to the root's own dependencies, sorted by file. They affect
    /// every package unless [`RootDependencies::Ignore`].
    pub root_changes: Vec<RootChange<'c>>,
    /// Changed shared inputs read precisely (lockfiles, root manifests),
    /// sorted: each affects only what its change concerns.
    pub inputs: Vec<&'c str>,
    /// The rules the result was worked out with.
    pub unowned_rule: Unowned,
    pub root_rule: RootDependencies,
    /// Dependency cycles among the affected packages; each is affected as a unit.
    pub cycles: Vec<Vec<PackageId>>,
    /// Set when everything is affected because what changed is unknown.
    pub fallback: Option<&'c str>,
}

impl<'c> Affected<'c> {
    /// Whether `id` is affected.
    #[must_use]
    pub fn contains(&self, id: PackageId) -> bool {
        self.reasons[id.index()].is_some()
    }

    #[must_use]
    pub fn reason(&self, id: PackageId) -> Option<&Reason<'c>> {
        self.reasons[id.index()].as_ref()
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.count
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The affected packages, sorted by id.
    #[must_use]
    pub fn packages(&self, graph: &PackageGraph) -> Vec<PackageId> {
        let mut ids: Vec<PackageId> = graph.ids().filter(|&id| self.contains(id)).collect();
        ids.sort_by(|a, b| graph.package(*a).id.cmp(&graph.package(*b).id));
        ids
    }

    /// The chain from `id` back to the change that affected it, shortest
    /// first found: `web`, `ui`, `packages/ui/src/x.ts`. `None` when `id`
    /// is not affected.
    #[must_use]
    pub fn chain(&self, id: PackageId) -> Option<Vec<Link<'_>>> {
        let mut links = vec![Link::Package(id)];
        let mut current = id;
        loop {
            let last = match self.reason(current)? {
                Reason::Changed { files } => Link::File(files.first().copied().unwrap_or_default()),
                Reason::Input { file, detail } => Link::Input { file, detail },
                Reason::Global { file } => Link::GlobalFile(file),
                Reason::Fallback => Link::Fallback(self.fallback.unwrap_or_default()),
                Reason::Root(RootCause::Input { file, detail }) => {
                    links.push(Link::Root);
                    Link::Input { file, detail }
                }
                Reason::Root(RootCause::Package(on)) => {
                    links.push(Link::Root);
                    links.push(Link::Package(*on));
                    current = *on;
                    continue;
                }
                Reason::Dependency { on, .. } => {
                    links.push(Link::Package(*on));
                    current = *on;
                    continue;
                }
            };
            links.push(last);
            return Some(links);
        }
    }

    /// The chain as text: `web <- ui <- packages/ui/src/x.ts`.
    #[must_use]
    pub fn chain_text(&self, graph: &PackageGraph, id: PackageId) -> Option<String> {
        let links = self.chain(id)?;
        let mut parts: Vec<String> = Vec::with_capacity(links.len());
        for (i, link) in links.iter().enumerate() {
            let mut text = link_text(graph, link);
            // Where an edge was found, after the dependency it leads to:
            // `web <- ui (import apps/web/src/main.ts:3)`.
            if let (Some(Link::Package(from)), Link::Package(to)) =
                (i.checked_sub(1).map(|p| &links[p]), link)
                && let Some(at) = graph.edge_detail(*from, *to)
            {
                text = format!("{text} (import {at})");
            }
            parts.push(text);
        }
        Some(parts.join(" <- "))
    }
}

/// One link of a chain as text: `ui`, `pnpm-lock.yaml (react 18 -> 19)`,
/// `rust-toolchain.toml (global)`, `(root)`.
pub(crate) fn link_text(graph: &PackageGraph, link: &Link<'_>) -> String {
    match link {
        Link::Package(p) => graph.package(*p).id.clone(),
        Link::File(f) => (*f).to_owned(),
        Link::Input { file, detail } => format!("{file} ({detail})"),
        Link::GlobalFile(f) => format!("{f} (global)"),
        Link::Root => "(root)".to_owned(),
        Link::Fallback(why) => format!("everything ({why})"),
    }
}

/// Computes the packages affected by `changed`: the packages owning a changed
/// path, and every package depending on one of them, transitively, over every
/// kind of dependency. A changed path in no package belongs to the root and
/// affects nothing, unless it is global or [`Options::unowned`] says `all`.
/// A change to the root's own dependencies, or to a workspace package the
/// root depends on, affects every package unless
/// [`Options::root_dependencies`] says `ignore`. Cycles never fail: a cycle
/// is affected as a unit.
#[must_use]
pub fn affected<'c>(
    graph: &PackageGraph,
    changed: &'c [ChangedPath],
    options: &'c Options,
) -> Affected<'c> {
    let mut reasons: Vec<Option<Reason<'c>>> = vec![None; graph.len()];
    let mut global_triggers: Vec<GlobalTrigger<'c>> = Vec::new();
    let mut ignored = Vec::new();
    let mut unowned = Vec::new();
    let mut inputs = Vec::new();
    let mut root_changes: Vec<RootChange<'c>> = Vec::new();
    let mut removed: Vec<RemovedPackage> = Vec::new();

    let deleted_manifest_dirs = deleted_manifest_dirs(changed);

    let mut extra_owners: Vec<PackageId> = Vec::new();
    for change in changed {
        let path = change.path.as_str();
        match classify(
            graph,
            options,
            &deleted_manifest_dirs,
            change,
            &mut extra_owners,
        ) {
            Class::Ignored => ignored.push(path),
            Class::Unowned => unowned.push(path),
            Class::Global(why) => global_triggers.push(GlobalTrigger { path, why }),
            Class::Resolved(packages, root) => {
                inputs.push(path);
                for (id, detail) in packages {
                    reasons[id.index()].get_or_insert(Reason::Input { file: path, detail });
                }
                if let Some(detail) = root {
                    root_changes.push(RootChange { file: path, detail });
                }
            }
            Class::Removed(dir) => add_removed(&mut removed, dir, &change.path),
            Class::Owned(owners) => {
                for &owner in owners.iter().chain(&extra_owners) {
                    match &mut reasons[owner.index()] {
                        Some(Reason::Changed { files }) => files.push(path),
                        slot => *slot = Some(Reason::Changed { files: vec![path] }),
                    }
                }
            }
        }
    }
    sort_lists(
        &mut reasons,
        &mut ignored,
        &mut global_triggers,
        &mut removed,
    );
    sort_dedup(&mut unowned);
    sort_dedup(&mut inputs);
    root_changes.sort_by(|a, b| a.file.cmp(b.file));

    let fallback = options.fallback.as_deref();
    if fallback.is_some() {
        for slot in &mut reasons {
            slot.get_or_insert(Reason::Fallback);
        }
    } else if let Some(first) = global_triggers.first() {
        for slot in &mut reasons {
            slot.get_or_insert(Reason::Global { file: first.path });
        }
    } else {
        propagate(graph, &mut reasons);
        if options.root_dependencies == RootDependencies::All
            && let Some(cause) = root_cause(graph, &reasons, &root_changes)
        {
            for slot in &mut reasons {
                slot.get_or_insert(Reason::Root(cause));
            }
        }
    }

    let count = reasons.iter().filter(|r| r.is_some()).count();
    let cycles = graph
        .cycles()
        .into_iter()
        .filter(|cycle| reasons[cycle[0].index()].is_some())
        .collect();
    removed.sort_by(|a, b| a.path.cmp(&b.path));
    Affected {
        reasons,
        count,
        global_triggers,
        removed,
        ignored,
        unowned,
        root_changes,
        inputs,
        unowned_rule: options.unowned,
        root_rule: options.root_dependencies,
        cycles,
        fallback,
    }
}

/// What makes every package affected through the root: the first change to
/// the root's own dependencies, else the first affected workspace package
/// the root depends on.
fn root_cause<'c>(
    graph: &PackageGraph,
    reasons: &[Option<Reason<'c>>],
    root_changes: &[RootChange<'c>],
) -> Option<RootCause<'c>> {
    if let Some(change) = root_changes.first() {
        return Some(RootCause::Input {
            file: change.file,
            detail: change.detail,
        });
    }
    graph
        .root_dependencies()
        .iter()
        .map(|&(id, _)| id)
        .filter(|id| reasons[id.index()].is_some())
        .min_by(|a, b| graph.package(*a).id.cmp(&graph.package(*b).id))
        .map(RootCause::Package)
}

/// Records `file` under the removed package at `dir`.
fn add_removed(removed: &mut Vec<RemovedPackage>, dir: &str, file: &str) {
    match removed.iter_mut().find(|r| r.path == dir) {
        Some(r) => r.files.push(file.to_owned()),
        None => removed.push(RemovedPackage {
            path: dir.to_owned(),
            files: vec![file.to_owned()],
        }),
    }
}

/// The directories whose manifest the change deletes: their packages are
/// removed, not changed.
pub(crate) fn deleted_manifest_dirs(changed: &[ChangedPath]) -> HashSet<&str> {
    changed
        .iter()
        .filter(|c| {
            c.deleted
                && c.path
                    .rsplit('/')
                    .next()
                    .is_some_and(crate::ecosystems::is_manifest)
        })
        .map(|c| parent(&c.path))
        .collect()
}

/// Sorting each small list, rather than all paths up front, keeps the
/// result independent of input order at a fraction of the cost.
fn sort_lists<'c>(
    reasons: &mut [Option<Reason<'c>>],
    ignored: &mut Vec<&'c str>,
    global_triggers: &mut Vec<GlobalTrigger<'c>>,
    removed: &mut [RemovedPackage],
) {
    for reason in reasons.iter_mut().flatten() {
        if let Reason::Changed { files } = reason {
            sort_dedup(files);
        }
    }
    sort_dedup(ignored);
    global_triggers.sort_by(|a, b| a.path.cmp(b.path));
    global_triggers.dedup_by(|a, b| a.path == b.path);
    for r in removed.iter_mut() {
        sort_dedup(&mut r.files);
    }
}

/// What one changed path means, by the rules in order: ignore (final),
/// global files, precisely resolved shared inputs, ownership (directories,
/// extra inputs, sources outside the workspace), removed packages, and else
/// the root's (nothing, or everything under [`Unowned::All`]).
pub(crate) enum Class<'c, 'g> {
    Ignored,
    Unowned,
    Global(Cow<'c, str>),
    Resolved(&'c [(PackageId, String)], Option<&'c str>),
    Removed(&'c str),
    /// Owned by these packages, and by those in `extra_owners`.
    Owned(&'g [PackageId]),
}

pub(crate) fn classify<'c, 'g>(
    graph: &'g PackageGraph,
    options: &'c Options,
    deleted_manifest_dirs: &HashSet<&str>,
    change: &'c ChangedPath,
    extra_owners: &mut Vec<PackageId>,
) -> Class<'c, 'g> {
    let path = change.path.as_str();
    if options.ignore.is_match(path) {
        return Class::Ignored;
    }
    if let Some(why) = options.global.rule(path) {
        return Class::Global(Cow::Borrowed(why));
    }
    match options.resolved.get(path) {
        Some(Resolution::Packages { packages, root }) => {
            return Class::Resolved(packages, root.as_deref());
        }
        Some(Resolution::Everything(why)) => return Class::Global(Cow::Borrowed(why)),
        None => {}
    }
    extra_owners.clear();
    extra_owners.extend(
        options
            .extra_inputs
            .iter()
            .filter(|(_, globs)| globs.is_match(path))
            .map(|(id, _)| *id),
    );
    let owners = graph.owners(path);
    let owned_below_root = owners
        .first()
        .is_some_and(|&o| graph.package(o).path != ".");
    if !owned_below_root
        && extra_owners.is_empty()
        && change.deleted
        && let Some(dir) = removed_root(graph, deleted_manifest_dirs, path)
    {
        return Class::Removed(dir);
    }
    if owners.is_empty() && extra_owners.is_empty() {
        let outside = graph.outside_owners(path);
        if !outside.is_empty() {
            return Class::Owned(outside);
        }
        return match options.unowned {
            Unowned::Root => Class::Unowned,
            Unowned::All => Class::Global(Cow::Borrowed("lies in no package (unowned = all)")),
        };
    }
    Class::Owned(owners)
}

fn sort_dedup<T: Ord>(list: &mut Vec<T>) {
    list.sort_unstable();
    list.dedup();
}

/// Breadth-first from the changed packages over "is depended on by" edges,
/// so each package's chain is a shortest one. A package reached only
/// through a test-only edge is affected but goes no further; reached later
/// through another edge, it does (with that edge as its reason).
fn propagate(graph: &PackageGraph, reasons: &mut [Option<Reason<'_>>]) {
    let mut queue: VecDeque<PackageId> = graph
        .ids()
        .filter(|id| reasons[id.index()].is_some())
        .collect();
    let mut carries: Vec<bool> = reasons.iter().map(Option::is_some).collect();
    while let Some(current) = queue.pop_front() {
        for (dependent, kind) in graph.dependents(current) {
            let i = dependent.index();
            if carries[i] {
                continue;
            }
            if kind.is_transitive() {
                reasons[i] = Some(Reason::Dependency { on: current, kind });
                carries[i] = true;
                queue.push_back(dependent);
            } else if reasons[i].is_none() {
                reasons[i] = Some(Reason::Dependency { on: current, kind });
            }
        }
    }
}

/// The directory of the removed package a deleted path belonged to: the
/// deepest ancestor whose manifest was deleted in the same change, else the
/// shallowest one that sits where the workspace keeps its packages
/// (`crates/*`, `packages/**`) but holds none.
fn removed_root<'p>(
    graph: &PackageGraph,
    deleted_manifest_dirs: &HashSet<&str>,
    path: &'p str,
) -> Option<&'p str> {
    let dirs = || ancestors(path).skip(1).take_while(|dir| *dir != ".");
    dirs()
        .find(|dir| deleted_manifest_dirs.contains(dir))
        .or_else(|| {
            dirs()
                .filter(|dir| graph.is_package_dir(dir) && !graph.has_package_at(dir))
                .last()
        })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::graph::GraphBuilder;
    use crate::model::Ecosystem;

    static DEFAULTS: std::sync::LazyLock<Options> = std::sync::LazyLock::new(Options::default);

    /// A small graph: `web -> ui -> tokens`, `docs -> tokens`, and the
    /// cycle `a -> b -> a`.
    fn graph() -> PackageGraph {
        let mut b = GraphBuilder::new();
        let tokens = b
            .add_package("tokens", "packages/tokens", Ecosystem::Pnpm)
            .unwrap();
        let ui = b.add_package("ui", "packages/ui", Ecosystem::Pnpm).unwrap();
        let web = b.add_package("web", "apps/web", Ecosystem::Pnpm).unwrap();
        let docs = b.add_package("docs", "apps/docs", Ecosystem::Pnpm).unwrap();
        let a = b.add_package("a", "packages/a", Ecosystem::Pnpm).unwrap();
        let c = b.add_package("b", "packages/b", Ecosystem::Pnpm).unwrap();
        b.add_edge(ui, tokens, DepKind::Normal);
        b.add_edge(web, ui, DepKind::Dev);
        b.add_edge(docs, tokens, DepKind::Peer);
        b.add_edge(a, c, DepKind::Normal);
        b.add_edge(c, a, DepKind::Normal);
        b.add_package_dir_glob(
            globset::GlobBuilder::new("packages/*")
                .literal_separator(true)
                .build()
                .unwrap(),
        );
        b.build()
    }

    fn changed(paths: &[&str]) -> Vec<ChangedPath> {
        paths
            .iter()
            .map(|p| match p.strip_prefix('-') {
                Some(deleted) => ChangedPath {
                    path: deleted.to_owned(),
                    deleted: true,
                },
                None => ChangedPath {
                    path: (*p).to_owned(),
                    deleted: false,
                },
            })
            .collect()
    }

    /// Checks the affected set as `id: chain` lines.
    fn check(paths: &[&str], expected: &[&str]) {
        let g = graph();
        let changes_got = changed(paths);
        let got = affected(&g, &changes_got, &DEFAULTS);
        let lines: Vec<String> = got
            .packages(&g)
            .into_iter()
            .map(|id| format!("{}: {}", g.package(id).id, got.chain_text(&g, id).unwrap()))
            .collect();
        assert_eq!(lines, expected, "changed {paths:?}");
    }

    #[test]
    fn dependents_are_transitive() {
        check(
            &["packages/tokens/src/colors.ts"],
            &[
                "docs: docs <- tokens <- packages/tokens/src/colors.ts",
                "tokens: tokens <- packages/tokens/src/colors.ts",
                "ui: ui <- tokens <- packages/tokens/src/colors.ts",
                "web: web <- ui <- tokens <- packages/tokens/src/colors.ts",
            ],
        );
    }

    #[test]
    fn a_leaf_affects_only_itself() {
        check(
            &["apps/web/index.ts", "apps/web/b.ts"],
            &["web: web <- apps/web/b.ts"],
        );
    }

    #[test]
    fn nothing_changed_affects_nothing() {
        check(&[], &[]);
    }

    #[test]
    fn a_cycle_is_affected_as_a_unit() {
        let g = graph();
        let changes_got = changed(&["packages/a/x"]);
        let got = affected(&g, &changes_got, &DEFAULTS);
        let names: Vec<&str> = got
            .packages(&g)
            .iter()
            .map(|&id| g.package(id).id.as_str())
            .collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(got.cycles.len(), 1);
        let changes_unaffected = changed(&["apps/web/x"]);
        let unaffected = affected(&g, &changes_unaffected, &DEFAULTS);
        assert!(
            unaffected.cycles.is_empty(),
            "only cycles in the affected set are reported"
        );
    }

    #[test]
    fn a_global_file_affects_everything_and_is_named() {
        let g = graph();
        let changes_got = changed(&["tsconfig.base.json", "apps/web/x"]);
        let got = affected(&g, &changes_got, &DEFAULTS);
        assert_eq!(got.len(), g.len());
        assert_eq!(
            got.global_triggers
                .iter()
                .map(|t| (t.path, t.why.as_ref()))
                .collect::<Vec<_>>(),
            [("tsconfig.base.json", crate::root::BUILTIN_WHY)]
        );
        let web = g.find("web").unwrap();
        let ui = g.find("ui").unwrap();
        assert_eq!(got.chain_text(&g, web).unwrap(), "web <- apps/web/x");
        assert_eq!(
            got.chain_text(&g, ui).unwrap(),
            "ui <- tsconfig.base.json (global)"
        );
    }

    #[test]
    fn a_path_in_no_package_belongs_to_the_root() {
        let g = graph();
        let changes = changed(&[".changeset/brave-cats.md", "docs/guide.md", "apps/web/x"]);
        let got = affected(&g, &changes, &DEFAULTS);
        let web = g.find("web").unwrap();
        assert_eq!(got.packages(&g), [web]);
        assert_eq!(got.unowned, [".changeset/brave-cats.md", "docs/guide.md"]);
        assert!(got.global_triggers.is_empty());

        let all = Options {
            unowned: Unowned::All,
            ..Options::default()
        };
        let got = affected(&g, &changes, &all);
        assert_eq!(got.len(), g.len());
        assert!(got.unowned.is_empty());
        assert_eq!(
            got.global_triggers[0].why,
            "lies in no package (unowned = all)"
        );
    }

    #[test]
    fn a_source_outside_the_workspace_belongs_to_its_user() {
        let mut b = GraphBuilder::new();
        let ui = b.add_package("ui", "packages/ui", Ecosystem::Npm).unwrap();
        let web = b.add_package("web", "apps/web", Ecosystem::Npm).unwrap();
        b.add_edge(web, ui, DepKind::Normal);
        b.add_outside_source(ui, "vendor/icons");
        b.add_outside_source(web, ".");
        let g = b.build();
        let changes = changed(&["vendor/icons/src/a.svg", "notes.txt"]);
        let got = affected(&g, &changes, &DEFAULTS);
        assert_eq!(got.packages(&g), [ui, web]);
        assert_eq!(
            got.chain_text(&g, web).unwrap(),
            "web <- ui <- vendor/icons/src/a.svg"
        );
        assert_eq!(got.unowned, ["notes.txt"], "the root is no outside source");
    }

    /// `lint` is built from the workspace and the root depends on it; so
    /// is `tokens`' user `ui`.
    fn rooted() -> PackageGraph {
        let mut b = GraphBuilder::new();
        let tokens = b
            .add_package("tokens", "packages/tokens", Ecosystem::Pnpm)
            .unwrap();
        let lint = b
            .add_package("lint", "packages/lint", Ecosystem::Pnpm)
            .unwrap();
        let web = b.add_package("web", "apps/web", Ecosystem::Pnpm).unwrap();
        b.add_package("docs", "apps/docs", Ecosystem::Pnpm).unwrap();
        b.add_edge(lint, tokens, DepKind::Normal);
        b.add_edge(web, tokens, DepKind::Normal);
        b.add_root_dependency(lint, DepKind::Dev);
        b.build()
    }

    #[test]
    fn the_roots_workspace_dependencies_affect_everything_through_the_root() {
        let g = rooted();
        let docs = g.find("docs").unwrap();
        let changes = changed(&["packages/tokens/x.ts"]);
        let got = affected(&g, &changes, &DEFAULTS);
        assert_eq!(got.len(), g.len());
        assert_eq!(
            got.chain_text(&g, docs).unwrap(),
            "docs <- (root) <- lint <- tokens <- packages/tokens/x.ts"
        );
        assert!(matches!(got.reason(docs), Some(Reason::Root(_))));
        let web = g.find("web").unwrap();
        assert_eq!(
            got.chain_text(&g, web).unwrap(),
            "web <- tokens <- packages/tokens/x.ts",
            "a package's own chain wins"
        );

        let ignore = Options {
            root_dependencies: RootDependencies::Ignore,
            ..Options::default()
        };
        let got = affected(&g, &changes, &ignore);
        assert!(!got.contains(docs));
        let changes = changed(&["apps/web/x.ts"]);
        let got = affected(&g, &changes, &DEFAULTS);
        assert_eq!(got.packages(&g), [g.find("web").unwrap()]);
    }

    #[test]
    fn a_change_to_the_roots_own_dependencies_affects_everything() {
        let g = rooted();
        let tokens = g.find("tokens").unwrap();
        let mut options = Options::default();
        options.resolved.insert(
            "pnpm-lock.yaml".to_owned(),
            Resolution::Packages {
                packages: vec![(tokens, "zod 3.1.0 -> 3.2.0".to_owned())],
                root: Some("vitest 3.1.0 -> 3.2.0".to_owned()),
            },
        );
        let changes = changed(&["pnpm-lock.yaml"]);
        let got = affected(&g, &changes, &options);
        assert_eq!(got.len(), g.len());
        let docs = g.find("docs").unwrap();
        assert_eq!(
            got.chain_text(&g, docs).unwrap(),
            "docs <- (root) <- pnpm-lock.yaml (vitest 3.1.0 -> 3.2.0)"
        );
        assert_eq!(
            got.root_changes,
            [RootChange {
                file: "pnpm-lock.yaml",
                detail: "vitest 3.1.0 -> 3.2.0"
            }]
        );
        options.root_dependencies = RootDependencies::Ignore;
        let got = affected(&g, &changes, &options);
        let mut want = vec![tokens, g.find("lint").unwrap(), g.find("web").unwrap()];
        want.sort_by(|a, b| g.package(*a).id.cmp(&g.package(*b).id));
        assert_eq!(got.packages(&g), want);
        assert_eq!(got.root_changes.len(), 1, "still reported");
    }

    #[test]
    fn ignored_paths_affect_nothing() {
        let g = graph();
        let options = Options {
            ignore: globs(&["**/*.md"]),
            global: global(&["**/*.md"]),
            ..Options::default()
        };
        let changes = changed(&["README.md", "packages/ui/README.md"]);
        let got = affected(&g, &changes, &options);
        assert!(got.is_empty(), "ignore is final, even over global");
        assert_eq!(got.ignored, ["README.md", "packages/ui/README.md"]);
    }

    /// Globs as the tools build them (`*` stays within one directory).
    pub(crate) fn globs(patterns: &[&str]) -> GlobSet {
        let mut set = globset::GlobSetBuilder::new();
        for p in patterns {
            set.add(
                globset::GlobBuilder::new(p)
                    .literal_separator(true)
                    .build()
                    .unwrap(),
            );
        }
        set.build().unwrap()
    }

    fn global(patterns: &[&str]) -> GlobalFiles {
        let mut builder = GlobalFiles::builder();
        for p in patterns {
            builder.add(p, "matches a global glob").unwrap();
        }
        builder.build().unwrap()
    }

    #[test]
    fn global_globs_win_over_ownership() {
        let g = graph();
        let options = Options {
            global: global(&["**/tsconfig.json"]),
            ..Options::default()
        };
        let changes = changed(&["packages/ui/tsconfig.json"]);
        let got = affected(&g, &changes, &options);
        assert_eq!(got.len(), g.len());
        assert_eq!(got.global_triggers[0].why, "matches a global glob");
    }

    #[test]
    fn extra_inputs_belong_to_their_package() {
        let g = graph();
        let web = g.find("web").unwrap();
        let options = Options {
            extra_inputs: vec![(web, globs(&["config/web/**"]))],
            ..Options::default()
        };
        let changes = changed(&["config/web/env.json"]);
        let got = affected(&g, &changes, &options);
        assert_eq!(got.packages(&g), [web]);
        assert_eq!(
            got.chain_text(&g, web).unwrap(),
            "web <- config/web/env.json"
        );
    }

    #[test]
    fn resolved_paths_affect_only_what_they_name() {
        let g = graph();
        let ui = g.find("ui").unwrap();
        let mut options = Options::default();
        options.resolved.insert(
            "pnpm-lock.yaml".to_owned(),
            Resolution::packages(vec![(ui, "react 18.2.0 -> 18.3.1".to_owned())]),
        );
        options.resolved.insert(
            "Cargo.lock".to_owned(),
            Resolution::Everything("Cargo.lock could not be parsed".to_owned()),
        );
        let changes = changed(&["pnpm-lock.yaml"]);
        let got = affected(&g, &changes, &options);
        let web = g.find("web").unwrap();
        assert_eq!(got.packages(&g), [ui, web]);
        assert_eq!(
            got.chain_text(&g, web).unwrap(),
            "web <- ui <- pnpm-lock.yaml (react 18.2.0 -> 18.3.1)"
        );
        let changes = changed(&["Cargo.lock"]);
        let got = affected(&g, &changes, &options);
        assert_eq!(got.len(), g.len());
        assert_eq!(got.global_triggers[0].why, "Cargo.lock could not be parsed");
    }

    #[test]
    fn a_fallback_affects_everything_and_says_why() {
        let g = graph();
        let options = Options {
            fallback: Some("event schedule has no base".to_owned()),
            ..Options::default()
        };
        let got = affected(&g, &[], &options);
        assert_eq!(got.len(), g.len());
        let web = g.find("web").unwrap();
        assert_eq!(
            got.chain_text(&g, web).unwrap(),
            "web <- everything (event schedule has no base)"
        );
    }

    #[test]
    fn deleted_package_is_removed_not_global() {
        let g = graph();
        // Under a workspace glob: removed even without its manifest listed.
        let changes_got = changed(&["-packages/old/src/a.ts", "-packages/old/src/b.ts"]);
        let got = affected(&g, &changes_got, &DEFAULTS);
        assert!(got.is_empty());
        assert!(got.global_triggers.is_empty());
        assert_eq!(
            got.removed,
            [RemovedPackage {
                path: "packages/old".to_owned(),
                files: vec![
                    "packages/old/src/a.ts".to_owned(),
                    "packages/old/src/b.ts".to_owned()
                ],
            }]
        );
        // Elsewhere: removed because its manifest went with it.
        let changes_got = changed(&["-tools/gen/package.json", "-tools/gen/x.js"]);
        let got = affected(&g, &changes_got, &DEFAULTS);
        assert_eq!(got.removed.len(), 1);
        assert_eq!(got.removed[0].path, "tools/gen");
        // A deleted loose file is the root's.
        let changes_got = changed(&["-tools/run.sh"]);
        let got = affected(&g, &changes_got, &DEFAULTS);
        assert!(got.removed.is_empty());
        assert_eq!(got.unowned, ["tools/run.sh"]);
    }
}
