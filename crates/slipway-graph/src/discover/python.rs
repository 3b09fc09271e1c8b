//! Python projects: a uv workspace (`[tool.uv.workspace]` in the root
//! `pyproject.toml`), a root project, and every project reached from them
//! through a path dependency (a uv `path` source, a Poetry `path`
//! dependency), read without running uv or Poetry.
//!
//! Names are `[project].name` (or `[tool.poetry].name`), PEP 503
//! normalised. An edge is a requirement naming another project when a
//! source links it locally: `{ workspace = true }` or a `path` into the
//! project (a member's `[tool.uv.sources]` override the root's), or a
//! Poetry `{ path = … }` dependency. Without such a source uv installs the
//! published distribution: no edge.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;

use toml::{Table, Value};

use super::{dirglob, read_optional};
use crate::error::GraphError;
use crate::graph::GraphBuilder;
use crate::model::{DepKind, Ecosystem, PackageId};
use crate::paths::{child, join};

pub(crate) const MANIFEST: &str = "pyproject.toml";

/// One requirement: the project named, how it is declared, and the text.
struct Requirement {
    name: String,
    kind: DepKind,
    spec: String,
}

/// A project found, before edges.
struct Project {
    dir: String,
    manifest: Table,
}

pub(super) fn discover(root: &Path, builder: &mut GraphBuilder) -> Result<bool, GraphError> {
    let Some(text) = read_optional(root, MANIFEST)? else {
        return Ok(false);
    };
    let root_manifest = parse(root, MANIFEST, &text)?;
    let workspace = table(&root_manifest, &["tool", "uv", "workspace"]);
    let root_is_project = project_name(&root_manifest).is_some();
    if workspace.is_none() && !root_is_project {
        return Ok(false);
    }

    let mut dirs: Vec<String> = Vec::new();
    if root_is_project {
        dirs.push(".".to_owned());
    }
    if let Some(workspace) = workspace {
        dirs.extend(member_dirs(root, workspace, builder)?);
    }

    let root_sources = sources(&root_manifest);
    let projects = read_projects(root, &root_manifest, &root_sources, dirs)?;

    let mut by_dir: HashMap<String, PackageId> = HashMap::new();
    let mut ids = Vec::with_capacity(projects.len());
    for project in &projects {
        let rel = child(&project.dir, MANIFEST);
        let name = project_name(&project.manifest)
            .ok_or_else(|| GraphError::manifest(root.join(&rel), "missing [project] name"))?;
        let id = builder.add_package(&normalize_name(&name), &project.dir, Ecosystem::Python)?;
        by_dir.insert(project.dir.clone(), id);
        ids.push(id);
    }
    for (project, &id) in projects.iter().zip(&ids) {
        let reqs = requirements(&project.manifest);
        let sources = merged_sources(&root_sources, &sources(&project.manifest));
        let linker = Linker::new(builder, &by_dir, &project.dir, sources);
        let targets = linker.targets(&reqs);
        let outward: Vec<Option<String>> = reqs.iter().map(|r| linker.outward(&r.name)).collect();
        for ((requirement, target), outward) in reqs.iter().zip(targets).zip(outward) {
            match target {
                Some(target) if target != id => builder.add_edge(id, target, requirement.kind),
                Some(_) => {}
                None => {
                    if let Some(dir) = outward {
                        builder.add_path_link(id, &dir, requirement.kind);
                    }
                    builder.add_external(id, &requirement.name, &requirement.spec);
                }
            }
        }
    }
    // The lock is what `uv sync` installs: its member graph is the graph
    // (a hook may fill `dynamic` dependencies the manifest does not list).
    let locked = lock_edges(root, builder, &by_dir)?;
    for (project, &id) in projects.iter().zip(&ids) {
        if !locked.contains(&id) {
            assume_dynamic(project, id, builder);
        }
    }
    if !root_is_project {
        // A virtual root: its dependency groups are the root's own tooling.
        let reqs = requirements(&root_manifest);
        let targets = Linker::new(builder, &by_dir, ".", root_sources.clone()).targets(&reqs);
        for (requirement, target) in reqs.iter().zip(targets) {
            match target {
                Some(target) => builder.add_root_dependency(target, requirement.kind),
                None => builder.add_root_external(&requirement.name, &requirement.spec),
            }
        }
    }
    Ok(true)
}

/// The workspace's member directories: `members` globs expanded (and
/// watched for new members), `exclude` left out.
fn member_dirs(
    root: &Path,
    workspace: &Table,
    builder: &mut GraphBuilder,
) -> Result<Vec<String>, GraphError> {
    let members = strings(workspace.get("members"));
    let excludes: Vec<String> = strings(workspace.get("exclude"))
        .iter()
        .filter_map(|e| join(".", e))
        .collect();
    let expanded = dirglob::expand(root, &members, MANIFEST, &root.join(MANIFEST))?;
    for glob in expanded.globs {
        builder.add_package_dir_glob(glob);
    }
    Ok(expanded
        .dirs
        .into_iter()
        .filter(|dir| {
            !excludes
                .iter()
                .any(|ex| dir == ex || dir.starts_with(&format!("{ex}/")))
        })
        .collect())
}

/// The members, then every project a path dependency reaches, each once.
fn read_projects(
    root: &Path,
    root_manifest: &Table,
    root_sources: &BTreeMap<String, Value>,
    dirs: Vec<String>,
) -> Result<Vec<Project>, GraphError> {
    let mut projects: Vec<Project> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut queue: VecDeque<String> = dirs.into_iter().collect();
    while let Some(dir) = queue.pop_front() {
        if seen.contains_key(&dir) {
            continue;
        }
        let rel = child(&dir, MANIFEST);
        let manifest = if dir == "." {
            root_manifest.clone()
        } else {
            match read_optional(root, &rel)? {
                Some(text) => parse(root, &rel, &text)?,
                None => continue,
            }
        };
        for target in path_dependencies(&dir, &manifest, root_sources) {
            if root.join(&target).join(MANIFEST).is_file() {
                queue.push_back(target);
            }
        }
        seen.insert(dir.clone(), projects.len());
        projects.push(Project { dir, manifest });
    }
    Ok(projects)
}

/// Resolves requirements of the project at `dir` to projects of the graph.
struct Linker<'a> {
    builder: &'a GraphBuilder,
    by_dir: &'a HashMap<String, PackageId>,
    dir: &'a str,
    sources: BTreeMap<String, Value>,
}

impl<'a> Linker<'a> {
    fn new(
        builder: &'a GraphBuilder,
        by_dir: &'a HashMap<String, PackageId>,
        dir: &'a str,
        sources: BTreeMap<String, Value>,
    ) -> Self {
        Linker {
            builder,
            by_dir,
            dir,
            sources,
        }
    }

    /// The directory a `path` source for `name` points at when it leaves
    /// the root of discovery (`../shared`): a neighbouring root's project.
    fn outward(&self, name: &str) -> Option<String> {
        let source = self.sources.get(name)?;
        let path = source.get("path").and_then(Value::as_str)?;
        let dir = crate::paths::join_outward(self.dir, path);
        dir.starts_with("..").then_some(dir)
    }

    fn targets(&self, requirements: &[Requirement]) -> Vec<Option<PackageId>> {
        requirements.iter().map(|r| self.target(&r.name)).collect()
    }

    fn target(&self, name: &str) -> Option<PackageId> {
        let source = self.sources.get(name)?;
        // A source may be a list of tables, one per marker: any local one links.
        let tables: Vec<&Table> = match source {
            Value::Table(t) => vec![t],
            Value::Array(list) => list.iter().filter_map(Value::as_table).collect(),
            _ => Vec::new(),
        };
        tables.iter().find_map(|t| {
            if t.get("workspace").and_then(Value::as_bool) == Some(true) {
                return self.builder.lookup(Ecosystem::Python, name);
            }
            let path = t.get("path").and_then(Value::as_str)?;
            self.by_dir.get(&join(self.dir, path)?).copied()
        })
    }
}

/// Every requirement of a manifest: `[project].dependencies` (normal),
/// `[project.optional-dependencies]` (optional), `[dependency-groups]`
/// following `include-group` and `[tool.uv] dev-dependencies` (dev), and
/// Poetry's dependency tables.
fn requirements(manifest: &Table) -> Vec<Requirement> {
    let mut out = Vec::new();
    let mut push = |spec: &str, kind: DepKind| {
        if let Some(name) = requirement_name(spec) {
            out.push(Requirement {
                name,
                kind,
                spec: spec.to_owned(),
            });
        }
    };
    if let Some(project) = manifest.get("project").and_then(Value::as_table) {
        for spec in strings(project.get("dependencies")) {
            push(&spec, DepKind::Normal);
        }
        for extra in table_values(project.get("optional-dependencies")) {
            for spec in strings(Some(extra)) {
                push(&spec, DepKind::Optional);
            }
        }
    }
    if let Some(groups) = manifest.get("dependency-groups").and_then(Value::as_table) {
        for group in groups.keys() {
            for spec in group_requirements(groups, group, 0) {
                push(&spec, DepKind::Test);
            }
        }
    }
    if let Some(uv) = table(manifest, &["tool", "uv"]) {
        for spec in strings(uv.get("dev-dependencies")) {
            push(&spec, DepKind::Test);
        }
    }
    if let Some(poetry) = table(manifest, &["tool", "poetry"]) {
        let mut tables = vec![
            (poetry.get("dependencies"), DepKind::Normal),
            (poetry.get("dev-dependencies"), DepKind::Test),
        ];
        if let Some(groups) = poetry.get("group").and_then(Value::as_table) {
            tables.extend(
                groups
                    .values()
                    .map(|g| (g.get("dependencies"), DepKind::Test)),
            );
        }
        for (deps, kind) in tables {
            for (name, spec) in deps.and_then(Value::as_table).into_iter().flatten() {
                if name != "python" {
                    push(&format!("{name}{}", poetry_spec(spec)), kind);
                }
            }
        }
    }
    out
}

/// The requirements of a dependency group, `include-group` followed (to a
/// bounded depth: a cycle of includes is an error to uv, an end here).
fn group_requirements(groups: &Table, group: &str, depth: usize) -> Vec<String> {
    if depth > 16 {
        return Vec::new();
    }
    let mut out = Vec::new();
    for item in groups
        .get(group)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match item {
            Value::String(spec) => out.push(spec.clone()),
            Value::Table(t) => {
                if let Some(included) = t.get("include-group").and_then(Value::as_str) {
                    out.extend(group_requirements(groups, included, depth + 1));
                }
            }
            _ => {}
        }
    }
    out
}

/// A Poetry dependency's value as requirement text after its name: the
/// version, or nothing for a table (its `path` is a source).
fn poetry_spec(spec: &Value) -> String {
    match spec {
        Value::String(v) => format!(" {v}"),
        Value::Table(t) => t
            .get("version")
            .and_then(Value::as_str)
            .map_or_else(String::new, |v| format!(" {v}")),
        _ => String::new(),
    }
}

/// `[tool.uv.sources]`, and Poetry's `path` dependencies as sources, keyed
/// by normalised name.
fn sources(manifest: &Table) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    if let Some(sources) = table(manifest, &["tool", "uv", "sources"]) {
        for (name, source) in sources {
            out.insert(normalize_name(name), source.clone());
        }
    }
    if let Some(poetry) = table(manifest, &["tool", "poetry"]) {
        let mut tables = vec![poetry.get("dependencies"), poetry.get("dev-dependencies")];
        if let Some(groups) = poetry.get("group").and_then(Value::as_table) {
            tables.extend(groups.values().map(|g| g.get("dependencies")));
        }
        for (name, spec) in tables
            .into_iter()
            .filter_map(|t| t.and_then(Value::as_table))
            .flatten()
        {
            if spec.get("path").is_some() {
                out.insert(normalize_name(name), spec.clone());
            }
        }
    }
    out
}

/// The member's sources over the root's: a member's entry wins.
fn merged_sources(
    root: &BTreeMap<String, Value>,
    own: &BTreeMap<String, Value>,
) -> BTreeMap<String, Value> {
    let mut merged = root.clone();
    merged.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
    merged
}

/// A project whose `dynamic` dependencies no lock lists is taken to
/// depend on every Python project: a build hook fills them.
fn assume_dynamic(project: &Project, id: PackageId, builder: &mut GraphBuilder) {
    let dynamic = project
        .manifest
        .get("project")
        .and_then(|p| p.get("dynamic"))
        .map(|d| strings(Some(d)))
        .unwrap_or_default();
    let hidden: Vec<String> = dynamic
        .iter()
        .filter(|d| matches!(d.as_str(), "dependencies" | "optional-dependencies"))
        .map(|d| format!("{d:?}"))
        .collect();
    if !hidden.is_empty() {
        builder.assume_all(
            id,
            format!(
                "{} declares {} dynamic and no uv.lock lists them, so it is taken to depend on every Python project",
                child(&project.dir, MANIFEST),
                hidden.join(" and ")
            ),
        );
    }
}

/// The lock's name for a workspace lock at the root of discovery.
const LOCK: &str = "uv.lock";

/// Edges from the root `uv.lock`: each entry whose local source is a
/// project of the graph depends on the projects its `dependencies` (normal),
/// `optional-dependencies` (optional) and `dev-dependencies` (test-only)
/// name. A local source outside the root (`../x`, projects linked across
/// roots) becomes a path link. Returns the projects the lock lists.
fn lock_edges(
    root: &Path,
    builder: &mut GraphBuilder,
    by_dir: &HashMap<String, PackageId>,
) -> Result<std::collections::HashSet<PackageId>, GraphError> {
    let mut locked = std::collections::HashSet::new();
    let Some(text) = super::read_lockfile(root, LOCK)? else {
        return Ok(locked);
    };
    let lock: Table = parse(root, LOCK, &text)?;
    let entries: Vec<&Table> = lock
        .get("package")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_table)
        .collect();
    // Each local entry's directory, by normalised name.
    let mut local: HashMap<String, String> = HashMap::new();
    for entry in &entries {
        let name = entry.get("name").and_then(Value::as_str).unwrap_or("");
        if let Some(dir) = local_source(entry) {
            local.insert(normalize_name(name), dir);
        }
    }
    for entry in &entries {
        let name = entry.get("name").and_then(Value::as_str).unwrap_or("");
        let Some(id) = local
            .get(&normalize_name(name))
            .and_then(|dir| by_dir.get(dir))
            .copied()
        else {
            continue;
        };
        locked.insert(id);
        let plain = entry
            .get("dependencies")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|d| (d, DepKind::Normal));
        let grouped = [
            ("optional-dependencies", DepKind::Optional),
            ("dev-dependencies", DepKind::Test),
        ]
        .into_iter()
        .filter_map(|(k, kind)| Some((entry.get(k)?.as_table()?, kind)))
        .flat_map(|(t, kind)| {
            t.values()
                .filter_map(Value::as_array)
                .flatten()
                .map(move |d| (d, kind))
        });
        for (dep, kind) in plain.chain(grouped) {
            let Some(dep_name) = dep.get("name").and_then(Value::as_str) else {
                continue;
            };
            let Some(dir) = local.get(&normalize_name(dep_name)) else {
                continue;
            };
            match by_dir.get(dir) {
                Some(&to) if to != id => builder.add_edge(id, to, kind),
                None if dir.starts_with("..") => builder.add_path_link(id, dir, kind),
                _ => {}
            }
        }
    }
    Ok(locked)
}

/// The directory of a lock entry's local source (`editable`, `virtual`,
/// `directory`), relative to the lock; it may leave the root.
fn local_source(entry: &Table) -> Option<String> {
    let source = entry.get("source")?.as_table()?;
    ["editable", "virtual", "directory"]
        .iter()
        .find_map(|k| source.get(*k).and_then(Value::as_str))
        .map(|p| crate::paths::join_outward(".", p))
}

/// The directories a project's path sources point at.
fn path_dependencies(
    dir: &str,
    manifest: &Table,
    root_sources: &BTreeMap<String, Value>,
) -> Vec<String> {
    let own = sources(manifest);
    // Root sources are relative to the root.
    let from_root = root_sources
        .values()
        .filter_map(|s| s.get("path").and_then(Value::as_str))
        .filter_map(|p| join(".", p));
    let from_own = own
        .values()
        .filter_map(|s| s.get("path").and_then(Value::as_str))
        .filter_map(|p| join(dir, p));
    from_own.chain(from_root).collect()
}

fn project_name(manifest: &Table) -> Option<String> {
    manifest
        .get("project")
        .and_then(|p| p.get("name"))
        .or_else(|| table(manifest, &["tool", "poetry"]).and_then(|p| p.get("name")))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// The project a PEP 508 requirement names: `Foo_Bar[x]>=1; marker` is
/// `foo-bar`.
pub(crate) fn requirement_name(spec: &str) -> Option<String> {
    let spec = spec.trim();
    let end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(spec.len());
    let name = &spec[..end];
    (!name.is_empty()).then(|| normalize_name(name))
}

/// PEP 503: lowercase, runs of `-`, `_` and `.` become one `-`.
pub(crate) fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut separator = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            separator = true;
            continue;
        }
        if separator && !out.is_empty() {
            out.push('-');
        }
        separator = false;
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn table<'a>(manifest: &'a Table, keys: &[&str]) -> Option<&'a Table> {
    let mut current = manifest;
    for key in keys {
        current = current.get(*key)?.as_table()?;
    }
    Some(current)
}

fn table_values(value: Option<&Value>) -> impl Iterator<Item = &Value> {
    value
        .and_then(Value::as_table)
        .into_iter()
        .flat_map(Table::values)
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

fn parse(root: &Path, rel: &str, text: &str) -> Result<Table, GraphError> {
    toml::from_str::<Table>(text).map_err(|err| GraphError::toml(root.join(rel), text, &err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_pep_503_normalised() {
        assert_eq!(normalize_name("Foo_Bar.baz"), "foo-bar-baz");
        assert_eq!(normalize_name("a--_b"), "a-b");
        assert_eq!(
            requirement_name("Legacy_Shim[x] >= 1.0 ; python_version > '3'"),
            Some("legacy-shim".to_owned())
        );
        assert_eq!(requirement_name("core"), Some("core".to_owned()));
        assert_eq!(requirement_name(" ; x"), None);
    }

    #[test]
    fn groups_follow_includes_and_stop_on_cycles() {
        let t: Table = toml::from_str(
            "[dependency-groups]\ntest = [\"a\", {include-group = \"lint\"}]\nlint = [\"b\", {include-group = \"test\"}]\n",
        )
        .unwrap();
        let groups = t["dependency-groups"].as_table().unwrap();
        let got = group_requirements(groups, "test", 0);
        assert!(
            got.starts_with(&["a".to_owned(), "b".to_owned()]),
            "{got:?}"
        );
        assert!(got.len() < 100);
    }
}
