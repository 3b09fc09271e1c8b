//! Nx workspaces, and edges from the code's own imports.
//!
//! An Nx workspace (a root `nx.json`) has a project in every directory
//! with a `project.json`, besides the package.json projects of its
//! workspaces, and most edges between them are declared nowhere: they are
//! the source files' imports, resolved through the root tsconfig's
//! `compilerOptions.paths`, workspace package names, and relative paths
//! that leave a project. This reads them the way Nx documents them,
//! without running Nx. A plain npm/pnpm/yarn workspace gets the import
//! edges too when its configuration asks for them.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde_json::Value;

use super::build_config::read_config;
use super::imports;
use super::read_path;
use crate::error::GraphError;
use crate::graph::GraphBuilder;
use crate::model::{DepKind, Ecosystem, PackageId};
use crate::paths::{ancestors, child, join, parent};

/// Most files the walk lists (every kind, before filtering).
const MAX_WALK_FILES: usize = 2_000_000;
/// Most `project.json` files read.
const MAX_PROJECTS: usize = 50_000;
/// Larger source files are not scanned: their project is assumed to
/// depend on every project instead.
const MAX_SOURCE_BYTES: u64 = 4 << 20;
/// Most `paths` entries read from the root tsconfig.
const MAX_PATH_ALIASES: usize = 100_000;

/// What the walk of the repository found, repository-relative.
#[derive(Debug, Default)]
struct Walked {
    project_jsons: Vec<String>,
    sources: Vec<String>,
}

/// One `project.json`, the parts read.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProjectJson {
    name: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    implicit_dependencies: Vec<String>,
}

/// Reads the Nx projects at `root` into `builder` (after the node
/// workspaces are in it), and, for an Nx workspace or when `imports` is
/// set, adds an edge for each import between projects. Returns whether
/// the root is an Nx workspace.
pub(super) fn discover(
    root: &Path,
    builder: &mut GraphBuilder,
    imports: bool,
) -> Result<bool, GraphError> {
    let nx_json = read_config(root, "nx.json")?;
    let is_nx = nx_json.is_some();
    if !is_nx && !imports {
        return Ok(false);
    }
    let has_node = builder.package_entries().any(|(_, _, ns)| ns == "node");
    if !is_nx && !has_node {
        return Ok(false);
    }
    let scan = imports
        || nx_json
            .as_ref()
            .is_some_and(|doc| analyzes_sources(root, doc));
    let walked = walk(root)?;
    let ecosystem = builder
        .package_entries()
        .find(|(_, _, ns)| *ns == "node")
        .map_or_else(
            || super::node::flavour(root),
            |(id, _, _)| builder.package(id).ecosystem,
        );

    // Package names as the workspace's package.json files give them,
    // before a project.json renames a package: imports name packages.
    let mut by_package_name: HashMap<String, PackageId> = builder
        .package_entries()
        .filter(|(_, _, ns)| *ns == "node")
        .map(|(id, _, _)| (builder.package(id).name.clone(), id))
        .collect();
    let mut projects: Vec<(PackageId, ProjectJson, String)> = Vec::new();
    if let Some(nx_json) = &nx_json {
        read_projects(
            root,
            builder,
            ecosystem,
            &walked,
            &mut by_package_name,
            &mut projects,
        )?;
        root_project(root, builder, ecosystem, &mut by_package_name)?;
        plugins(root, builder, ecosystem, nx_json);
        for file in ["nx.json", "tsconfig.base.json", "tsconfig.json"] {
            builder.add_build_input(
                file,
                format!("{file} configures every Nx project"),
                ecosystem,
            );
        }
    } else {
        for file in ["tsconfig.base.json", "tsconfig.json"] {
            builder.add_build_input(
                file,
                format!("{file} maps the imports of every package"),
                ecosystem,
            );
        }
    }

    let roots: HashMap<String, PackageId> = builder
        .package_entries()
        .filter(|(_, _, ns)| *ns == "node")
        .map(|(id, path, _)| (path.to_owned(), id))
        .collect();
    let aliases = PathAliases::read(root)?;
    let resolver = Resolver {
        roots: &roots,
        by_package_name: &by_package_name,
        aliases: &aliases,
    };
    let sources: &[String] = if scan { &walked.sources } else { &[] };
    let scanned = scan_sources(root, sources, &resolver)?;
    tracing::debug!(
        files = scanned.files,
        edges = scanned.edges.len(),
        projects = roots.len(),
        "imports scanned"
    );
    for (from, to, detail) in scanned.edges {
        builder.add_edge_at(from, to, DepKind::Import, detail);
    }
    for (id, file) in scanned.too_large {
        builder.assume_all(
            id,
            format!(
                "{file} is over the {} MiB limit for scanning imports",
                MAX_SOURCE_BYTES >> 20
            ),
        );
    }
    implicit_dependencies(root, builder, ecosystem, &projects)?;
    Ok(is_nx)
}

/// Whether Nx reads the source files' imports in this workspace:
/// `pluginsConfig["@nx/js"].analyzeSourceFiles` in `nx.json` says so (true
/// when that table exists without it); without the table Nx does when the
/// root `package.json` depends on `@nx/js` or `@nx/workspace` (or their
/// `@nrwl/` forerunners).
fn analyzes_sources(root: &Path, nx_json: &Value) -> bool {
    for plugin in ["@nx/js", "@nrwl/js"] {
        let config = &nx_json["pluginsConfig"][plugin];
        if config.is_object() {
            return config["analyzeSourceFiles"].as_bool().unwrap_or(true);
        }
    }
    let Ok(Some(text)) = super::read_optional(root, "package.json") else {
        return false;
    };
    let Ok(manifest) = serde_json::from_str::<Value>(&text) else {
        return false;
    };
    ["dependencies", "devDependencies"].iter().any(|key| {
        ["@nx/js", "@nx/workspace", "@nrwl/js", "@nrwl/workspace"]
            .iter()
            .any(|name| manifest[*key].get(*name).is_some())
    })
}

/// Adds a project for each `project.json` (one per directory: a package
/// already there takes the project's name). A `package.json` outside the
/// workspaces is no project, as for Nx.
fn read_projects(
    root: &Path,
    builder: &mut GraphBuilder,
    ecosystem: Ecosystem,
    walked: &Walked,
    by_package_name: &mut HashMap<String, PackageId>,
    projects: &mut Vec<(PackageId, ProjectJson, String)>,
) -> Result<(), GraphError> {
    if walked.project_jsons.len() > MAX_PROJECTS {
        return Err(GraphError::manifest(
            root,
            format!("more than {MAX_PROJECTS} project.json files"),
        ));
    }
    let at_dir: HashMap<String, PackageId> = builder
        .package_entries()
        .filter(|(_, _, ns)| *ns == "node")
        .map(|(id, path, _)| (path.to_owned(), id))
        .collect();
    let parsed = super::read_manifests(root, &walked.project_jsons, "", |rel, text| {
        let plain = super::strip_jsonc(text);
        serde_json::from_str::<ProjectJson>(&plain)
            .map_err(|err| GraphError::json(root.join(rel), &err))
    })?;
    for (file, project) in walked.project_jsons.iter().zip(parsed) {
        let Some(project) = project else { continue };
        let dir = parent(file).to_owned();
        let id = if let Some(&id) = at_dir.get(&dir) {
            if let Some(name) = &project.name {
                builder.rename(id, name)?;
            }
            id
        } else {
            let sibling = child(&dir, "package.json");
            let package_name = match read_path(&root.join(&sibling))? {
                Some(text) => serde_json::from_str::<Value>(&text)
                    .ok()
                    .and_then(|v| v.get("name")?.as_str().map(str::to_owned)),
                None => None,
            };
            let name = project
                .name
                .clone()
                .or_else(|| package_name.clone())
                .unwrap_or_else(|| default_name(root, &dir));
            let id = builder.add_package(&name, &dir, ecosystem)?;
            if let Some(package_name) = package_name {
                by_package_name.entry(package_name).or_insert(id);
            }
            id
        };
        projects.push((id, project, file.clone()));
    }
    Ok(())
}

/// The root `package.json` is a project of its own when it has an `nx`
/// key (and no `project.json` made the root one already): it owns every
/// file no other project does, and depends on the workspace packages it
/// names. Its dependencies stay every project's: a change to them is a
/// change to the root's own dependencies.
fn root_project(
    root: &Path,
    builder: &mut GraphBuilder,
    ecosystem: Ecosystem,
    by_package_name: &mut HashMap<String, PackageId>,
) -> Result<(), GraphError> {
    if builder.package_paths().any(|p| p == ".") {
        return Ok(());
    }
    let Some(text) = super::read_optional(root, "package.json")? else {
        return Ok(());
    };
    let manifest: Value = serde_json::from_str(&text)
        .map_err(|err| GraphError::json(root.join("package.json"), &err))?;
    if !manifest.get("nx").is_some_and(Value::is_object) {
        return Ok(());
    }
    let name = manifest
        .get("name")
        .and_then(Value::as_str)
        .map_or_else(|| default_name(root, "."), str::to_owned);
    let id = builder.add_package(&name, ".", ecosystem)?;
    builder.share_root();
    for (key, kind) in DEPENDENCY_TABLES {
        for dep in manifest[key].as_object().into_iter().flat_map(|m| m.keys()) {
            if let Some(&to) = by_package_name.get(dep.as_str()) {
                builder.add_edge(id, to, kind);
            }
        }
    }
    by_package_name.entry(name).or_insert(id);
    Ok(())
}

const DEPENDENCY_TABLES: [(&str, DepKind); 4] = [
    ("dependencies", DepKind::Normal),
    ("devDependencies", DepKind::Dev),
    ("peerDependencies", DepKind::Peer),
    ("optionalDependencies", DepKind::Optional),
];

/// The name Nx gives a project whose `project.json` names none: its
/// directory's last part, lower-cased (the root: the repository's
/// directory name).
fn default_name(root: &Path, dir: &str) -> String {
    let last = if dir == "." {
        root.file_name().and_then(|n| n.to_str()).unwrap_or("root")
    } else {
        dir.rsplit('/').next().unwrap_or(dir)
    };
    last.to_lowercase()
}

/// Plugins listed in `nx.json`: Nx's own (`@nx/…`, `nx/…`) add targets to
/// the projects above and no projects of their own in a JavaScript
/// workspace; any other may infer projects and edges nothing here reads,
/// so every project is assumed to depend on every other, with a note.
fn plugins(root: &Path, builder: &mut GraphBuilder, ecosystem: Ecosystem, nx_json: &Value) {
    let names: Vec<&str> = nx_json["plugins"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str().or_else(|| p["plugin"].as_str()))
        .collect();
    let unknown: Vec<&str> = names
        .into_iter()
        .filter(|name| !(name.starts_with("@nx/") || name.starts_with("nx/")))
        .collect();
    if unknown.is_empty() {
        return;
    }
    tracing::warn!(
        plugins = unknown.join(", "),
        file = %root.join("nx.json").display(),
        "Nx plugins that may infer projects and edges: every project is taken to depend on every other"
    );
    let ids: Vec<PackageId> = builder
        .package_entries()
        .filter(|&(id, _, _)| builder.package(id).ecosystem == ecosystem)
        .map(|(id, _, _)| id)
        .collect();
    for id in ids {
        builder.assume_all(
            id,
            format!(
                "nx.json lists the plugin {} whose inferred projects and edges are not read",
                unknown.join(", ")
            ),
        );
    }
}

/// `implicitDependencies` of each project: names, globs over names,
/// `tag:` selectors, and `!name` removing an edge however it was found.
fn implicit_dependencies(
    root: &Path,
    builder: &mut GraphBuilder,
    ecosystem: Ecosystem,
    projects: &[(PackageId, ProjectJson, String)],
) -> Result<(), GraphError> {
    if projects
        .iter()
        .all(|(_, p, _)| p.implicit_dependencies.is_empty())
    {
        return Ok(());
    }
    let all: Vec<(PackageId, String)> = builder
        .package_entries()
        .filter(|&(id, _, _)| builder.package(id).ecosystem == ecosystem)
        .map(|(id, _, _)| (id, builder.package(id).name.clone()))
        .collect();
    let tags: HashMap<PackageId, &[String]> = projects
        .iter()
        .map(|(id, p, _)| (*id, p.tags.as_slice()))
        .collect();
    for (from, project, file) in projects {
        for entry in &project.implicit_dependencies {
            let (negated, selector) = match entry.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, entry.as_str()),
            };
            let matcher = |text: &str| -> Result<bool, GraphError> {
                let pattern = selector.strip_prefix("tag:").unwrap_or(selector);
                if !pattern.contains(['*', '?', '[', '{']) {
                    return Ok(text == pattern);
                }
                let glob = globset::Glob::new(pattern).map_err(|err| GraphError::Glob {
                    path: root.join(file),
                    pattern: entry.clone(),
                    message: err.kind().to_string(),
                })?;
                Ok(glob.compile_matcher().is_match(text))
            };
            let mut selected = Vec::new();
            for (id, name) in &all {
                let hit = if selector.starts_with("tag:") {
                    let mut any = false;
                    for tag in tags.get(id).copied().unwrap_or_default() {
                        any |= matcher(tag)?;
                    }
                    any
                } else {
                    matcher(name)?
                };
                if hit && id != from {
                    selected.push(*id);
                }
            }
            if selected.is_empty() && !negated {
                builder.add_note(
                    *from,
                    format!("{file}: implicitDependencies entry {entry:?} matches no project"),
                );
            }
            for to in selected {
                if negated {
                    builder.exclude_edge(*from, to);
                } else {
                    builder.add_edge(*from, to, DepKind::Implicit);
                }
            }
        }
    }
    Ok(())
}

/// Lists the repository's files as Nx does: `.gitignore` and `.nxignore`
/// honoured, `node_modules` and `.git` never entered. `project.json`
/// files in hidden, `dist` or `node_modules` directories are no projects.
fn walk(root: &Path) -> Result<Walked, GraphError> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(8);
    let found = Mutex::new(Walked::default());
    let count = AtomicUsize::new(0);
    let too_many = AtomicBool::new(false);
    ignore::WalkBuilder::new(root)
        .hidden(false)
        .parents(false)
        .require_git(false)
        .git_global(false)
        .git_exclude(false)
        .add_custom_ignore_filename(".nxignore")
        .threads(threads)
        .filter_entry(|entry| {
            !(entry.depth() > 0
                && entry.file_type().is_some_and(|t| t.is_dir())
                && matches!(entry.file_name().to_str(), Some("node_modules" | ".git")))
        })
        .build_parallel()
        .run(|| {
            let mut collector = Collector {
                local: Walked::default(),
                shared: &found,
            };
            let count = &count;
            let too_many = &too_many;
            Box::new(move |entry| {
                use ignore::WalkState;
                let Ok(entry) = entry else {
                    return WalkState::Continue;
                };
                if !entry.file_type().is_some_and(|t| t.is_file()) {
                    return WalkState::Continue;
                }
                if count.fetch_add(1, Ordering::Relaxed) >= MAX_WALK_FILES {
                    too_many.store(true, Ordering::Relaxed);
                    return WalkState::Quit;
                }
                if let Some(rel) = entry.path().strip_prefix(root).ok().and_then(Path::to_str) {
                    collector.add(rel, entry.file_name().to_str().unwrap_or_default());
                }
                WalkState::Continue
            })
        });
    if too_many.load(Ordering::Relaxed) {
        return Err(GraphError::manifest(
            root,
            format!("more than {MAX_WALK_FILES} files to look through for Nx projects"),
        ));
    }
    let mut walked = found
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    walked.project_jsons.sort_unstable();
    walked.sources.sort_unstable();
    Ok(walked)
}

/// One walker thread's finds, handed to the shared list in batches and
/// when the thread is done (dropped).
struct Collector<'a> {
    local: Walked,
    shared: &'a Mutex<Walked>,
}

impl Collector<'_> {
    fn add(&mut self, rel: &str, name: &str) {
        match name {
            "project.json" if !in_skipped_dir(rel) => self.local.project_jsons.push(rel.to_owned()),
            _ if imports::is_source(name) => self.local.sources.push(rel.to_owned()),
            _ => {}
        }
        if self.local.sources.len() >= 4096 {
            self.flush();
        }
    }

    fn flush(&mut self) {
        let mut shared = self
            .shared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        shared.project_jsons.append(&mut self.local.project_jsons);
        shared.sources.append(&mut self.local.sources);
    }
}

impl Drop for Collector<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Whether a repository-relative file lies in a hidden, `dist` or
/// `node_modules` directory.
fn in_skipped_dir(rel: &str) -> bool {
    let dir = parent(rel);
    dir != "."
        && dir
            .split('/')
            .any(|part| part.starts_with('.') || part == "dist" || part == "node_modules")
}

/// The root tsconfig's `compilerOptions.paths`: `@acme/ui` or `@acme/ui/*`
/// to directories or files, relative to the root.
#[derive(Debug, Default)]
pub(crate) struct PathAliases {
    exact: HashMap<String, Vec<String>>,
    /// `(prefix, suffix, targets)` of each pattern with a `*`, longest
    /// prefix first (TypeScript's choice among several).
    wildcard: Vec<(String, String, Vec<String>)>,
}

impl PathAliases {
    fn read(root: &Path) -> Result<Self, GraphError> {
        for file in ["tsconfig.base.json", "tsconfig.json"] {
            if let Some(doc) = read_config(root, file)? {
                return Ok(Self::parse(&doc));
            }
        }
        Ok(PathAliases::default())
    }

    fn parse(doc: &Value) -> Self {
        let options = &doc["compilerOptions"];
        let base = options["baseUrl"]
            .as_str()
            .and_then(|b| join(".", b))
            .unwrap_or_else(|| ".".to_owned());
        let mut aliases = PathAliases::default();
        let Some(paths) = options["paths"].as_object() else {
            return aliases;
        };
        for (pattern, targets) in paths.iter().take(MAX_PATH_ALIASES) {
            let targets: Vec<String> = targets
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter_map(|t| join(&base, t))
                .collect();
            match pattern.split_once('*') {
                Some((prefix, suffix)) => {
                    aliases
                        .wildcard
                        .push((prefix.to_owned(), suffix.to_owned(), targets));
                }
                None => {
                    aliases.exact.insert(pattern.clone(), targets);
                }
            }
        }
        aliases
            .wildcard
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        aliases
    }

    /// The repository paths `specifier` maps to, if a pattern matches.
    fn resolve(&self, specifier: &str) -> Option<Vec<String>> {
        if let Some(targets) = self.exact.get(specifier) {
            return Some(targets.clone());
        }
        for (prefix, suffix, targets) in &self.wildcard {
            if let Some(middle) = specifier
                .strip_prefix(prefix.as_str())
                .and_then(|rest| rest.strip_suffix(suffix.as_str()))
            {
                return Some(
                    targets
                        .iter()
                        .filter_map(|t| join(".", &t.replacen('*', middle, 1)))
                        .collect(),
                );
            }
        }
        None
    }
}

struct Resolver<'a> {
    roots: &'a HashMap<String, PackageId>,
    by_package_name: &'a HashMap<String, PackageId>,
    aliases: &'a PathAliases,
}

impl Resolver<'_> {
    /// The project owning a repository path: the deepest project root
    /// holding it.
    fn owner(&self, path: &str) -> Option<PackageId> {
        ancestors(path).find_map(|dir| self.roots.get(dir).copied())
    }

    /// The projects `specifier`, imported from `file`, resolves to.
    fn resolve(&self, file: &str, specifier: &str, out: &mut Vec<PackageId>) {
        if specifier.starts_with("./")
            || specifier.starts_with("../")
            || specifier == "."
            || specifier == ".."
        {
            if let Some(target) = join(parent(file), specifier) {
                out.extend(self.owner(&target));
            }
            return;
        }
        if let Some(targets) = self.aliases.resolve(specifier) {
            out.extend(targets.iter().filter_map(|t| self.owner(t)));
            return;
        }
        let name = package_name(specifier);
        if let Some(&id) = self.by_package_name.get(name) {
            out.push(id);
        }
    }
}

/// The package a bare specifier names: `@acme/ui` of `@acme/ui/button`,
/// `lodash` of `lodash/fp`.
fn package_name(specifier: &str) -> &str {
    let end = if specifier.starts_with('@') {
        specifier
            .match_indices('/')
            .nth(1)
            .map_or(specifier.len(), |(i, _)| i)
    } else {
        specifier.find('/').unwrap_or(specifier.len())
    };
    &specifier[..end]
}

#[derive(Debug, Default)]
struct Scanned {
    files: usize,
    edges: Vec<(PackageId, PackageId, String)>,
    too_large: Vec<(PackageId, String)>,
}

/// Reads each source file under a project root once, on every core, and
/// resolves its imports.
fn scan_sources(
    root: &Path,
    sources: &[String],
    resolver: &Resolver<'_>,
) -> Result<Scanned, GraphError> {
    let owned: Vec<(&str, PackageId)> = sources
        .iter()
        .filter_map(|file| Some((file.as_str(), resolver.owner(parent(file))?)))
        .collect();
    let one_chunk = |chunk: &[(&str, PackageId)]| -> Result<Scanned, GraphError> {
        let mut scanned = Scanned::default();
        let mut seen = rustc_hash::FxHashSet::<(PackageId, PackageId)>::default();
        let mut targets = Vec::new();
        for &(file, from) in chunk {
            let Some(text) = read_source(&root.join(file))? else {
                scanned.too_large.push((from, file.to_owned()));
                continue;
            };
            scanned.files += 1;
            for import in imports::scan(file, &text) {
                targets.clear();
                resolver.resolve(file, import.specifier, &mut targets);
                for &to in &targets {
                    if to != from && seen.insert((from, to)) {
                        scanned
                            .edges
                            .push((from, to, format!("{file}:{}", import.line)));
                    }
                }
            }
        }
        Ok(scanned)
    };
    // Chunks in sorted file order: the first file of each edge is the
    // lowest, kept by `add_edge_at`. Four chunks a core even out files of
    // uneven size.
    let mut all = Scanned::default();
    for result in super::on_every_core(&owned, 64, 4, one_chunk) {
        let scanned = result?;
        all.files += scanned.files;
        all.edges.extend(scanned.edges);
        all.too_large.extend(scanned.too_large);
    }
    Ok(all)
}

/// A source file's text (lossy for bytes that are no UTF-8); `None` when
/// it is over [`MAX_SOURCE_BYTES`]. A file gone since the walk is empty.
fn read_source(path: &Path) -> Result<Option<String>, GraphError> {
    use std::io::Read as _;
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Some(String::new())),
        Err(err) => return Err(GraphError::read(path, err)),
    };
    let mut bytes = Vec::with_capacity(8 * 1024);
    file.take(MAX_SOURCE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| GraphError::read(path, err))?;
    if bytes.len() as u64 > MAX_SOURCE_BYTES {
        return Ok(None);
    }
    Ok(Some(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
    }))
}
