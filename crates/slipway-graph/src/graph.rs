use std::collections::HashMap;

use globset::GlobSet;
use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use rustc_hash::FxHashMap;

use crate::error::GraphError;
use crate::model::{DepKind, Ecosystem, Package, PackageId};
use crate::paths::ancestors;

/// The packages of a repository and the dependencies between them.
///
/// Edges point from a package to what it depends on; "affected" flows the
/// other way, from a dependency to its dependents.
#[derive(Debug, Clone)]
pub struct PackageGraph {
    packages: Vec<Package>,
    graph: DiGraph<(), DepKind, u32>,
    by_id: HashMap<String, PackageId>,
    /// Owner lookups run once per changed path and ancestor: a fast
    /// hasher pays (paths are not attacker-chosen here).
    by_dir: FxHashMap<String, Vec<PackageId>>,
    /// Each package's dependencies on things outside the workspace, as its
    /// manifest names them: `(name, requirement)`. A Cargo dependency
    /// inherited with `workspace = true` has the requirement `workspace`.
    externals: Vec<Vec<(String, String)>>,
    /// What each package reads from a shared input that is no lockfile,
    /// by key: `property:revision`, `managed:org.acme:core` (Maven: the
    /// properties its POM uses and the dependencies it declares, which a
    /// root POM's `<properties>` and `<dependencyManagement>` set).
    reads: Vec<Vec<String>>,
    /// Directories where packages live by the workspace's own rules
    /// (`crates/*`, `packages/*`): a deleted path in such a directory that
    /// holds no package any more belongs to a removed package.
    package_dirs: GlobSet,
    /// The workspace root, when it is no package of its own.
    root: RootManifest,
    /// Directories outside every package that packages build from (a
    /// Cargo `path` dependency, an npm `file:` dependency outside the
    /// workspace), with the packages using each.
    outside: FxHashMap<String, Vec<PackageId>>,
    /// Files and directories every package of one ecosystem builds with
    /// (Gradle's `buildSrc/`, wrapper and `gradle.properties`), each with
    /// why: `(path, why, ecosystem)`.
    build_inputs: Vec<(String, String, Ecosystem)>,
    /// Shared inputs that can sit anywhere and are read precisely (a
    /// Gradle version catalog, a `Directory.Packages.props`), by path;
    /// [`crate::SharedInput`] names one by its index here.
    keyed: Vec<(String, KeyedInput)>,
    /// What discovery assumed for each package (an edge matched by
    /// artifactId alone), for `--explain`.
    notes: Vec<Vec<String>>,
    /// Where an edge was found, when discovery knows (an import's
    /// `apps/web/src/main.ts:3`), by `(from, to)`.
    edge_details: FxHashMap<(PackageId, PackageId), String>,
    /// Whether the package at the root shares its dependencies with every
    /// package (see [`PackageGraph::root_is_shared`]).
    shared_root: bool,
}

/// The read key for `what` of the keyed input at `path`: it moves with
/// the path when a nested workspace is absorbed.
pub(crate) fn keyed_read(path: &str, what: &str) -> String {
    format!("in:{path}|{what}")
}

/// The kind of a shared input found by discovery (see [`PackageGraph::keyed_input`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyedInput {
    /// A Gradle version catalog (`gradle/libs.versions.toml`).
    GradleCatalog,
    /// A Gradle build's `settings.gradle(.kts)`.
    GradleSettings,
    /// The build script of a Gradle root that is no project: its
    /// `project(':x') { … }` blocks configure one project each.
    GradleRootScript,
    /// A `Directory.Packages.props` (.NET central package management).
    DotnetPackages,
}

/// What the workspace root's own manifest (the root `package.json` of an
/// npm, yarn or pnpm workspace) declares: the tooling every package's
/// scripts run with.
#[derive(Debug, Clone, Default)]
pub(crate) struct RootManifest {
    /// Workspace packages the root depends on (its lint or build tooling
    /// built from the workspace).
    pub(crate) dependencies: Vec<(PackageId, DepKind)>,
    /// Everything else it depends on: `(name, requirement)`.
    pub(crate) externals: Vec<(String, String)>,
}

impl PackageGraph {
    #[must_use]
    pub fn packages(&self) -> &[Package] {
        &self.packages
    }

    #[must_use]
    pub fn package(&self, id: PackageId) -> &Package {
        &self.packages[id.index()]
    }

    pub fn ids(&self) -> impl ExactSizeIterator<Item = PackageId> + use<> {
        (0..u32::try_from(self.packages.len()).unwrap_or(u32::MAX)).map(PackageId)
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.packages.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.packages.is_empty()
    }

    #[must_use]
    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Finds a package by its id, or by its plain name when that is unique.
    #[must_use]
    pub fn find(&self, id_or_name: &str) -> Option<PackageId> {
        if let Some(&id) = self.by_id.get(id_or_name) {
            return Some(id);
        }
        let mut found = self.ids().filter(|&id| self.package(id).name == id_or_name);
        match (found.next(), found.next()) {
            (Some(id), None) => Some(id),
            _ => None,
        }
    }

    /// What `id` depends on, with the kind of each dependency.
    pub fn dependencies(&self, id: PackageId) -> impl Iterator<Item = (PackageId, DepKind)> + '_ {
        self.graph
            .edges_directed(node(id), Direction::Outgoing)
            .map(|e| {
                (
                    package_id(petgraph::visit::EdgeRef::target(&e)),
                    *e.weight(),
                )
            })
    }

    /// The packages that depend on `id` directly, with the kind of each dependency.
    pub fn dependents(&self, id: PackageId) -> impl Iterator<Item = (PackageId, DepKind)> + '_ {
        self.graph
            .edges_directed(node(id), Direction::Incoming)
            .map(|e| {
                (
                    package_id(petgraph::visit::EdgeRef::source(&e)),
                    *e.weight(),
                )
            })
    }

    /// The packages whose directory is the deepest one holding `path`.
    ///
    /// Usually one; two when packages of two ecosystems share a directory.
    /// Empty when the path lies in no package.
    #[must_use]
    pub fn owners(&self, path: &str) -> &[PackageId] {
        for dir in ancestors(path) {
            if let Some(ids) = self.by_dir.get(dir) {
                return ids;
            }
        }
        &[]
    }

    /// What `id` depends on outside the workspace, as its manifest says it.
    #[must_use]
    pub fn externals(&self, id: PackageId) -> &[(String, String)] {
        &self.externals[id.index()]
    }

    /// The packages that read `key` of a shared input, sorted by id.
    #[must_use]
    pub fn readers(&self, key: &str) -> Vec<PackageId> {
        let mut ids: Vec<PackageId> = self
            .ids()
            .filter(|id| self.reads[id.index()].iter().any(|k| k == key))
            .collect();
        ids.sort_by(|a, b| self.package(*a).id.cmp(&self.package(*b).id));
        ids
    }

    /// Workspace packages the workspace root depends on, when the root is
    /// no package of its own: when one is affected, so is every package.
    #[must_use]
    pub fn root_dependencies(&self) -> &[(PackageId, DepKind)] {
        &self.root.dependencies
    }

    /// What the workspace root depends on outside the workspace.
    #[must_use]
    pub fn root_externals(&self) -> &[(String, String)] {
        &self.root.externals
    }

    /// The packages building from a directory outside every package that
    /// holds `path` (see [`GraphBuilder::add_outside_source`]).
    #[must_use]
    pub fn outside_owners(&self, path: &str) -> &[PackageId] {
        if self.outside.is_empty() {
            return &[];
        }
        for dir in ancestors(path) {
            if let Some(ids) = self.outside.get(dir) {
                return ids;
            }
        }
        &[]
    }

    /// Why a change to `path` concerns every package of an ecosystem, if
    /// it lies in one of that ecosystem's build inputs
    /// ([`GraphBuilder::add_build_input`]).
    #[must_use]
    pub fn build_input(&self, path: &str) -> Option<(&str, Ecosystem)> {
        if self.build_inputs.is_empty() {
            return None;
        }
        ancestors(path).find_map(|dir| {
            self.build_inputs
                .iter()
                .find(|(p, _, _)| p == dir)
                .map(|(_, why, eco)| (why.as_str(), *eco))
        })
    }

    /// The precisely read input discovery found at `path`, by index.
    #[must_use]
    pub fn keyed_input(&self, path: &str) -> Option<(u16, KeyedInput)> {
        let i = self.keyed.iter().position(|(p, _)| p == path)?;
        Some((u16::try_from(i).ok()?, self.keyed[i].1))
    }

    /// The path of the keyed input `index` (see [`PackageGraph::keyed_input`]).
    #[must_use]
    pub fn keyed_path(&self, index: u16) -> Option<&str> {
        self.keyed.get(usize::from(index)).map(|(p, _)| p.as_str())
    }

    /// The packages whose read keys satisfy `wanted`, sorted by id.
    pub fn readers_where(&self, wanted: impl Fn(&str) -> bool) -> Vec<PackageId> {
        let mut ids: Vec<PackageId> = self
            .ids()
            .filter(|id| self.reads[id.index()].iter().any(|k| wanted(k)))
            .collect();
        ids.sort_by(|a, b| self.package(*a).id.cmp(&self.package(*b).id));
        ids
    }

    /// Every package with something assumed about it, with the notes, in
    /// package order.
    pub fn assumptions(&self) -> impl Iterator<Item = (PackageId, &[String])> + '_ {
        self.ids()
            .map(|id| (id, self.notes(id)))
            .filter(|(_, notes)| !notes.is_empty())
    }

    /// What discovery assumed about `id` (an edge matched by name alone).
    #[must_use]
    pub fn notes(&self, id: PackageId) -> &[String] {
        &self.notes[id.index()]
    }

    /// The package whose directory is exactly `dir`, for one ecosystem.
    #[must_use]
    pub fn package_at(&self, dir: &str, ecosystem: Ecosystem) -> Option<PackageId> {
        self.by_dir
            .get(dir)?
            .iter()
            .copied()
            .find(|&id| self.package(id).ecosystem.namespace() == ecosystem.namespace())
    }

    /// Finds a package by manifest name within one ecosystem's namespace.
    #[must_use]
    pub fn find_in(&self, ecosystem: Ecosystem, name: &str) -> Option<PackageId> {
        self.ids().find(|&id| {
            let p = self.package(id);
            p.name == name && p.ecosystem.namespace() == ecosystem.namespace()
        })
    }

    /// Whether the package at `.` is an Nx root project whose
    /// `package.json` dependencies are every project's (`project.json`
    /// projects have none of their own): a change to them is a change to
    /// the root's own dependencies, as in a workspace whose root is no
    /// package.
    #[must_use]
    pub fn root_is_shared(&self) -> bool {
        self.shared_root
    }

    /// Where the edge from `from` to `to` was found, when discovery knows:
    /// `apps/web/src/main.ts:3` for an import.
    #[must_use]
    pub fn edge_detail(&self, from: PackageId, to: PackageId) -> Option<&str> {
        self.edge_details.get(&(from, to)).map(String::as_str)
    }

    /// Adds a dependency the manifests do not show (`implicit-dependencies`).
    pub fn add_implicit_dependency(&mut self, from: PackageId, to: PackageId) {
        if from != to && !self.graph.contains_edge(node(from), node(to)) {
            self.graph.add_edge(node(from), node(to), DepKind::Implicit);
        }
    }

    /// Whether `dir` is a place where the workspace keeps packages.
    pub(crate) fn is_package_dir(&self, dir: &str) -> bool {
        self.package_dirs.is_match(dir)
    }

    /// Whether some package lives exactly at `dir`.
    pub(crate) fn has_package_at(&self, dir: &str) -> bool {
        self.by_dir.contains_key(dir)
    }

    /// Dependency cycles: strongly connected components of more than one
    /// package, or a package that depends on itself. Each cycle's members
    /// are sorted by id, and the cycles by their first member. Test-only
    /// and assumed edges make no cycle: the build has none through them.
    #[must_use]
    pub fn cycles(&self) -> Vec<Vec<PackageId>> {
        let real = petgraph::visit::EdgeFiltered::from_fn(&self.graph, |e| {
            !matches!(e.weight(), DepKind::Test | DepKind::Assumed)
        });
        let mut cycles: Vec<Vec<PackageId>> = petgraph::algo::tarjan_scc(&real)
            .into_iter()
            .filter(|scc| scc.len() > 1 || self.graph.contains_edge(scc[0], scc[0]))
            .map(|scc| {
                let mut members: Vec<PackageId> = scc.into_iter().map(package_id).collect();
                members.sort_by(|a, b| self.package(*a).id.cmp(&self.package(*b).id));
                members
            })
            .collect();
        cycles.sort_by(|a, b| self.package(a[0]).id.cmp(&self.package(b[0]).id));
        cycles
    }
}

fn node(id: PackageId) -> NodeIndex<u32> {
    NodeIndex::new(id.index())
}

fn package_id(n: NodeIndex<u32>) -> PackageId {
    PackageId(u32::try_from(n.index()).expect("graph indices fit in u32"))
}

/// Builds a [`PackageGraph`]: add packages, then edges between them.
///
/// Discovery uses it, and so can a caller that has its graph from elsewhere.
#[derive(Debug, Default)]
pub struct GraphBuilder {
    packages: Vec<Package>,
    edges: Vec<(PackageId, PackageId, DepKind)>,
    externals: Vec<Vec<(String, String)>>,
    reads: Vec<Vec<String>>,
    by_name: HashMap<(&'static str, String), PackageId>,
    package_dirs: Vec<globset::Glob>,
    root: RootManifest,
    outside: Vec<(String, PackageId)>,
    build_inputs: Vec<(String, String, Ecosystem)>,
    keyed: Vec<(String, KeyedInput)>,
    notes: Vec<Vec<String>>,
    /// Packages taken to depend on every package of their ecosystem.
    assume_all: Vec<PackageId>,
    /// Where some edges were found (see [`PackageGraph::edge_detail`]);
    /// the first detail recorded for a pair is kept.
    edge_details: FxHashMap<(PackageId, PackageId), String>,
    /// Edges removed whatever declares them (an Nx `implicitDependencies`
    /// entry `!name`).
    excluded: Vec<(PackageId, PackageId)>,
    /// See [`PackageGraph::root_is_shared`].
    shared_root: bool,
    /// Path dependencies on directories outside the root the package was
    /// discovered from (`../x`), resolved when the graph is built: a
    /// package of the same ecosystem there is a dependency, anything else
    /// is a source outside the workspace. `(from, directory, kind)`, the
    /// directory relative to this builder's root (it may start with `..`).
    path_links: Vec<(PackageId, String, DepKind)>,
}

impl GraphBuilder {
    #[must_use]
    pub fn new() -> Self {
        GraphBuilder::default()
    }

    /// Adds a package. `path` is its directory relative to the root,
    /// `/`-separated, `.` for the root itself.
    ///
    /// # Panics
    ///
    /// With more than `u32::MAX` packages.
    pub fn add_package(
        &mut self,
        name: &str,
        path: &str,
        ecosystem: Ecosystem,
    ) -> Result<PackageId, GraphError> {
        let key = (ecosystem.namespace(), name.to_owned());
        if let Some(&other) = self.by_name.get(&key) {
            return Err(GraphError::DuplicatePackage {
                ecosystem: ecosystem.namespace(),
                name: name.to_owned(),
                first: self.packages[other.index()].path.clone(),
                second: path.to_owned(),
            });
        }
        let id =
            PackageId(u32::try_from(self.packages.len()).expect("fewer than 4 billion packages"));
        self.by_name.insert(key, id);
        self.externals.push(Vec::new());
        self.reads.push(Vec::new());
        self.notes.push(Vec::new());
        self.packages.push(Package {
            id: String::new(),
            name: name.to_owned(),
            path: path.to_owned(),
            ecosystem,
        });
        Ok(id)
    }

    /// Records that `from` depends on `to`.
    pub fn add_edge(&mut self, from: PackageId, to: PackageId, kind: DepKind) {
        self.edges.push((from, to, kind));
    }

    /// Records that `from` depends on `to`, found at `detail` (a file and
    /// line); the first detail for a pair is the one kept.
    pub fn add_edge_at(&mut self, from: PackageId, to: PackageId, kind: DepKind, detail: String) {
        self.edges.push((from, to, kind));
        self.edge_details.entry((from, to)).or_insert(detail);
    }

    /// Marks the package at `.` as sharing its dependencies with every
    /// package (see [`PackageGraph::root_is_shared`]).
    pub(crate) fn share_root(&mut self) {
        self.shared_root = true;
    }

    /// Removes the edge from `from` to `to`, whatever adds it, when the
    /// graph is built.
    pub fn exclude_edge(&mut self, from: PackageId, to: PackageId) {
        self.excluded.push((from, to));
    }

    /// Renames a package; its old name no longer finds it.
    pub(crate) fn rename(&mut self, id: PackageId, name: &str) -> Result<(), GraphError> {
        let package = &self.packages[id.index()];
        if package.name == name {
            return Ok(());
        }
        let namespace = package.ecosystem.namespace();
        let key = (namespace, name.to_owned());
        if let Some(&other) = self.by_name.get(&key) {
            return Err(GraphError::DuplicatePackage {
                ecosystem: namespace,
                name: name.to_owned(),
                first: self.packages[other.index()].path.clone(),
                second: package.path.clone(),
            });
        }
        self.by_name.remove(&(namespace, package.name.clone()));
        self.by_name.insert(key, id);
        name.clone_into(&mut self.packages[id.index()].name);
        Ok(())
    }

    /// Records a dependency of `id` on something outside the workspace.
    pub fn add_external(&mut self, id: PackageId, name: &str, requirement: &str) {
        self.externals[id.index()].push((name.to_owned(), requirement.to_owned()));
    }

    /// Records that `id` reads `key` of a shared input (see
    /// [`PackageGraph::readers`]).
    pub fn add_read(&mut self, id: PackageId, key: String) {
        self.reads[id.index()].push(key);
    }

    /// Records that the workspace root, which is no package of its own,
    /// depends on the workspace package `id`.
    pub fn add_root_dependency(&mut self, id: PackageId, kind: DepKind) {
        self.root.dependencies.push((id, kind));
    }

    /// Records a dependency of the workspace root outside the workspace.
    pub fn add_root_external(&mut self, name: &str, requirement: &str) {
        self.root
            .externals
            .push((name.to_owned(), requirement.to_owned()));
    }

    /// Records that `id` builds from `dir`, a directory outside the
    /// workspace's packages (`path = "../vendored"`, `file:../lib`): a
    /// change there belongs to `id`. A directory that turns out to hold a
    /// package is that package's, and this is ignored.
    pub fn add_outside_source(&mut self, id: PackageId, dir: &str) {
        self.outside.push((dir.to_owned(), id));
    }

    /// Records that every package of `ecosystem` builds with `path` (a file
    /// or a directory): a change there concerns them all, for `why`.
    pub fn add_build_input(&mut self, path: &str, why: String, ecosystem: Ecosystem) {
        if !self
            .build_inputs
            .iter()
            .any(|(p, _, e)| p == path && *e == ecosystem)
        {
            self.build_inputs.push((path.to_owned(), why, ecosystem));
        }
    }

    /// Records a shared input at `path` read precisely (see
    /// [`PackageGraph::keyed_input`]); once per path.
    pub fn add_keyed_input(&mut self, path: &str, kind: KeyedInput) {
        if !self.keyed.iter().any(|(p, _)| p == path) {
            self.keyed.push((path.to_owned(), kind));
        }
    }

    /// Records that `id` makes a reference discovery cannot resolve
    /// (`why`): it is taken to depend on every package of its ecosystem,
    /// so a change anywhere there reaches it, and `why` is noted.
    pub fn assume_all(&mut self, id: PackageId, why: String) {
        if !self.assume_all.contains(&id) {
            self.assume_all.push(id);
        }
        self.add_note(id, why);
    }

    /// Records that `id` depends on whatever lies at `dir`, a directory
    /// relative to the root of discovery that may leave it (`../shared`):
    /// a project discovered from a neighbouring root is joined to it when
    /// the graph is built (see [`GraphBuilder::build`]).
    pub fn add_path_link(&mut self, id: PackageId, dir: &str, kind: DepKind) {
        self.path_links.push((id, dir.to_owned(), kind));
    }

    /// Records what discovery assumed about `id`, for `--explain`.
    pub fn add_note(&mut self, id: PackageId, note: String) {
        let notes = &mut self.notes[id.index()];
        if !notes.contains(&note) {
            notes.push(note);
        }
    }

    /// Looks up a package added earlier, by ecosystem and manifest name.
    #[must_use]
    pub fn lookup(&self, ecosystem: Ecosystem, name: &str) -> Option<PackageId> {
        self.by_name
            .get(&(ecosystem.namespace(), name.to_owned()))
            .copied()
    }

    /// Declares a directory glob where the workspace keeps its packages.
    pub(crate) fn add_package_dir_glob(&mut self, glob: globset::Glob) {
        self.package_dirs.push(glob);
    }

    /// The ids, directories and namespaces of the packages added so far.
    pub(crate) fn package_entries(&self) -> impl Iterator<Item = (PackageId, &str, &'static str)> {
        self.packages.iter().enumerate().map(|(i, p)| {
            (
                PackageId(u32::try_from(i).expect("fewer than 4 billion packages")),
                p.path.as_str(),
                p.ecosystem.namespace(),
            )
        })
    }

    /// A package added earlier.
    pub(crate) fn package(&self, id: PackageId) -> &Package {
        &self.packages[id.index()]
    }

    /// The directories of the packages added so far.
    pub(crate) fn package_paths(&self) -> impl Iterator<Item = &str> {
        self.packages.iter().map(|p| p.path.as_str())
    }

    pub(crate) fn package_count(&self) -> usize {
        self.packages.len()
    }

    /// Adds every package, edge and external dependency of `other`, a
    /// workspace discovered at `prefix` (a directory relative to this
    /// builder's root, `/`-separated), with its paths moved under `prefix`.
    pub(crate) fn absorb(&mut self, other: GraphBuilder, prefix: &str) -> Result<(), GraphError> {
        let under = |path: &str| {
            if path == "." {
                prefix.to_owned()
            } else {
                format!("{prefix}/{path}")
            }
        };
        let mut ids = Vec::with_capacity(other.packages.len());
        for package in &other.packages {
            ids.push(self.add_package(&package.name, &under(&package.path), package.ecosystem)?);
        }
        for (from, to, kind) in other.edges {
            self.add_edge(ids[from.index()], ids[to.index()], kind);
        }
        for ((from, to), detail) in other.edge_details {
            self.edge_details
                .entry((ids[from.index()], ids[to.index()]))
                .or_insert_with(|| under(&detail));
        }
        for (from, to) in other.excluded {
            self.excluded.push((ids[from.index()], ids[to.index()]));
        }
        for (i, externals) in other.externals.into_iter().enumerate() {
            self.externals[ids[i].index()].extend(externals);
        }
        for (i, reads) in other.reads.into_iter().enumerate() {
            let moved = reads.into_iter().map(|key| match key.strip_prefix("in:") {
                Some(rest) => match rest.split_once('|') {
                    Some((path, what)) => keyed_read(&under(path), what),
                    None => key,
                },
                None => key,
            });
            self.reads[ids[i].index()].extend(moved);
        }
        for (dir, id) in other.outside {
            self.outside.push((under(&dir), ids[id.index()]));
        }
        for (path, why, ecosystem) in other.build_inputs {
            self.add_build_input(&under(&path), why, ecosystem);
        }
        for (path, kind) in other.keyed {
            self.add_keyed_input(&under(&path), kind);
        }
        for (i, notes) in other.notes.into_iter().enumerate() {
            self.notes[ids[i].index()].extend(notes);
        }
        for id in other.assume_all {
            self.assume_all.push(ids[id.index()]);
        }
        for (from, dir, kind) in other.path_links {
            let moved = if prefix == "." {
                dir
            } else {
                format!("{prefix}/{dir}")
            };
            self.path_links.push((ids[from.index()], moved, kind));
        }
        for glob in other.package_dirs {
            if let Ok(moved) = globset::Glob::new(&under(glob.glob())) {
                self.package_dirs.push(moved);
            }
        }
        Ok(())
    }

    /// Joins path links and outside sources to the packages that turn out
    /// to sit at their directories (see [`GraphBuilder::add_path_link`]).
    fn resolve_paths(&mut self) {
        let mut at_dir: FxHashMap<(&str, &'static str), PackageId> = FxHashMap::default();
        for (i, p) in self.packages.iter().enumerate() {
            let id = PackageId(u32::try_from(i).expect("fewer than 4 billion packages"));
            at_dir.insert((p.path.as_str(), p.ecosystem.namespace()), id);
        }
        let mut outside_links = Vec::new();
        for (from, dir, kind) in std::mem::take(&mut self.path_links) {
            let Some(dir) = crate::paths::join(".", &dir) else {
                tracing::debug!(dir, "a path dependency outside the repository");
                continue;
            };
            let namespace = self.packages[from.index()].ecosystem.namespace();
            match at_dir.get(&(dir.as_str(), namespace)) {
                Some(&to) if to != from => self.edges.push((from, to, kind)),
                Some(_) => {}
                None => outside_links.push((dir, from)),
            }
        }
        // A directory built from "outside" that holds a package of the
        // same ecosystem after all (a neighbouring root's, found by the
        // walk for projects) is that package: a dependency.
        let mut outside = std::mem::take(&mut self.outside);
        outside.retain(|(dir, from)| {
            let namespace = self.packages[from.index()].ecosystem.namespace();
            match at_dir.get(&(dir.as_str(), namespace)) {
                Some(&to) if to != *from => {
                    self.edges.push((*from, to, DepKind::Normal));
                    false
                }
                _ => true,
            }
        });
        drop(at_dir);
        self.outside = outside;
        self.outside.extend(outside_links);
    }

    /// The finished graph.
    ///
    /// # Panics
    ///
    /// With more than `u32::MAX` packages.
    #[must_use]
    pub fn build(mut self) -> PackageGraph {
        // A name used in two namespaces gets the ecosystem as a prefix in
        // both, so neither silently takes the other's place.
        let mut namespaces_per_name: HashMap<&str, Vec<&'static str>> = HashMap::new();
        for (ns, name) in self.by_name.keys() {
            namespaces_per_name
                .entry(name.as_str())
                .or_default()
                .push(ns);
        }
        let clashing: std::collections::HashSet<String> = namespaces_per_name
            .into_iter()
            .filter(|(_, ns)| ns.len() > 1)
            .map(|(name, _)| name.to_owned())
            .collect();
        for package in &mut self.packages {
            package.id = if clashing.contains(&package.name) {
                format!("{}:{}", package.ecosystem.as_str(), package.name)
            } else {
                package.name.clone()
            };
        }

        self.resolve_paths();
        for &from in &self.assume_all {
            let namespace = self.packages[from.index()].ecosystem.namespace();
            for (i, to) in self.packages.iter().enumerate() {
                let to_id = PackageId(u32::try_from(i).expect("fewer than 4 billion packages"));
                if to_id != from && to.ecosystem.namespace() == namespace {
                    self.edges.push((from, to_id, DepKind::Assumed));
                }
            }
        }
        // One edge per pair: the most telling kind (the lowest) wins, so an
        // assumed edge never hides a declared one.
        if !self.excluded.is_empty() {
            let excluded: rustc_hash::FxHashSet<(PackageId, PackageId)> =
                self.excluded.iter().copied().collect();
            self.edges
                .retain(|(from, to, _)| !excluded.contains(&(*from, *to)));
        }
        self.edges.sort_unstable();
        self.edges.dedup_by_key(|(from, to, _)| (*from, *to));
        // A detail belongs to the kind that found it: kept only where
        // that kind won the pair.
        let kinds: FxHashMap<(PackageId, PackageId), DepKind> = self
            .edges
            .iter()
            .map(|&(from, to, kind)| ((from, to), kind))
            .collect();
        self.edge_details
            .retain(|pair, _| kinds.get(pair) == Some(&DepKind::Import));
        let mut graph = DiGraph::with_capacity(self.packages.len(), self.edges.len());
        for _ in &self.packages {
            graph.add_node(());
        }
        for (from, to, kind) in self.edges {
            graph.add_edge(node(from), node(to), kind);
        }

        let mut by_id = HashMap::with_capacity(self.packages.len());
        let mut by_dir: FxHashMap<String, Vec<PackageId>> = FxHashMap::default();
        by_dir.reserve(self.packages.len());
        for (i, package) in self.packages.iter().enumerate() {
            let id = PackageId(u32::try_from(i).expect("fewer than 4 billion packages"));
            by_id.insert(package.id.clone(), id);
            by_dir.entry(package.path.clone()).or_default().push(id);
        }
        let mut package_dirs = globset::GlobSetBuilder::new();
        for glob in self.package_dirs {
            package_dirs.add(glob);
        }
        let package_dirs = package_dirs.build().unwrap_or_else(|_| GlobSet::empty());
        let mut outside: FxHashMap<String, Vec<PackageId>> = FxHashMap::default();
        for (dir, id) in self.outside {
            if dir != "." && !by_dir.contains_key(&dir) {
                let users = outside.entry(dir).or_default();
                if !users.contains(&id) {
                    users.push(id);
                }
            }
        }
        self.root.dependencies.sort_unstable();
        self.root.dependencies.dedup();
        PackageGraph {
            packages: self.packages,
            graph,
            by_id,
            by_dir,
            externals: self.externals,
            reads: self.reads,
            package_dirs,
            root: self.root,
            outside,
            build_inputs: self.build_inputs,
            keyed: self.keyed,
            notes: self.notes,
            edge_details: self.edge_details,
            shared_root: self.shared_root,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absorbed_workspace_moves_under_its_prefix() {
        let mut outer = GraphBuilder::new();
        outer
            .add_package("api", "crates/api", Ecosystem::Cargo)
            .unwrap();
        let mut inner = GraphBuilder::new();
        let root = inner.add_package("web", ".", Ecosystem::Pnpm).unwrap();
        let ui = inner
            .add_package("ui", "packages/ui", Ecosystem::Pnpm)
            .unwrap();
        inner.add_edge(root, ui, DepKind::Normal);
        inner.add_external(ui, "react", "^19");
        outer.absorb(inner, "frontend").unwrap();
        let g = outer.build();
        let web = g.find("web").unwrap();
        let ui = g.find("ui").unwrap();
        assert_eq!(g.package(web).path, "frontend");
        assert_eq!(g.package(ui).path, "frontend/packages/ui");
        assert_eq!(g.owners("frontend/packages/ui/index.ts"), [ui]);
        assert_eq!(g.owners("frontend/README.md"), [web]);
        assert_eq!(
            g.dependents(ui).collect::<Vec<_>>(),
            [(web, DepKind::Normal)]
        );

        // The same name twice in one ecosystem is refused, naming both.
        let mut outer = GraphBuilder::new();
        outer.add_package("ui", "ui", Ecosystem::Pnpm).unwrap();
        let mut inner = GraphBuilder::new();
        inner.add_package("ui", "ui", Ecosystem::Pnpm).unwrap();
        let err = outer.absorb(inner, "frontend").unwrap_err();
        assert!(err.to_string().contains("frontend/ui"), "{err}");
    }

    #[test]
    fn deepest_directory_owns_a_path() {
        let mut b = GraphBuilder::new();
        let root = b.add_package("root", ".", Ecosystem::Cargo).unwrap();
        let outer = b
            .add_package("outer", "crates/outer", Ecosystem::Cargo)
            .unwrap();
        let inner = b
            .add_package("inner", "crates/outer/inner", Ecosystem::Cargo)
            .unwrap();
        let g = b.build();
        assert_eq!(g.owners("crates/outer/inner/src/lib.rs"), &[inner]);
        assert_eq!(g.owners("crates/outer/src/lib.rs"), &[outer]);
        assert_eq!(g.owners("crates/outerx/src/lib.rs"), &[root]);
        assert_eq!(g.owners("README.md"), &[root]);
    }

    #[test]
    fn equal_names_in_two_ecosystems_are_told_apart() {
        let mut b = GraphBuilder::new();
        b.add_package("core", "crates/core", Ecosystem::Cargo)
            .unwrap();
        b.add_package("core", "web/core", Ecosystem::Pnpm).unwrap();
        b.add_package("api", "web/api", Ecosystem::Pnpm).unwrap();
        let g = b.build();
        let ids: Vec<&str> = g.packages().iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["cargo:core", "pnpm:core", "api"]);
        assert!(g.find("core").is_none(), "an ambiguous name finds nothing");
        assert!(g.find("cargo:core").is_some());
    }

    #[test]
    fn equal_names_in_one_namespace_are_an_error() {
        let mut b = GraphBuilder::new();
        b.add_package("ui", "a/ui", Ecosystem::Npm).unwrap();
        let err = b.add_package("ui", "b/ui", Ecosystem::Npm).unwrap_err();
        assert_eq!(
            err.to_string(),
            "node package \"ui\" is defined twice, in a/ui and b/ui"
        );
    }
}
