//! Cargo workspaces: members from the root `[workspace]`, edges from path
//! dependencies and from `workspace = true` dependencies naming a member.

use std::collections::HashMap;
use std::path::Path;

use toml::{Table, Value};

use super::dirglob;
use super::{read_manifests, read_optional};
use crate::error::GraphError;
use crate::graph::GraphBuilder;
use crate::model::{DepKind, Ecosystem, PackageId};
use crate::paths::{child, join};

const MANIFEST: &str = "Cargo.toml";

const DEP_TABLES: [(&str, DepKind); 5] = [
    ("dependencies", DepKind::Normal),
    ("dev-dependencies", DepKind::Test),
    ("dev_dependencies", DepKind::Test),
    ("build-dependencies", DepKind::Build),
    ("build_dependencies", DepKind::Build),
];

pub(super) fn discover(root: &Path, builder: &mut GraphBuilder) -> Result<bool, GraphError> {
    let Some(text) = read_optional(root, MANIFEST)? else {
        return Ok(false);
    };
    let root_manifest = parse(root, MANIFEST, &text)?;
    let workspace = root_manifest.get("workspace").and_then(Value::as_table);

    let mut dirs = match workspace {
        Some(workspace) => member_dirs(root, workspace, builder)?,
        None => Vec::new(),
    };
    if root_manifest.contains_key("package") && !dirs.iter().any(|d| d == ".") {
        dirs.push(".".to_owned());
    }
    if dirs.is_empty() {
        if workspace.is_none() {
            tracing::warn!(
                "{MANIFEST} at the root has neither [workspace] nor [package]; ignoring it"
            );
            return Ok(false);
        }
        return Ok(true);
    }

    let mut parsed = read_manifests(root, &dirs, MANIFEST, |rel, text| {
        if rel == MANIFEST {
            Ok(root_manifest.clone())
        } else {
            parse(root, rel, text)
        }
    })?;
    let workspace_deps = workspace
        .and_then(|w| w.get("dependencies"))
        .and_then(Value::as_table);
    if workspace.is_some() {
        let excludes = match workspace {
            Some(w) => string_array(root, MANIFEST, w, "workspace.exclude", "exclude")?,
            None => Vec::new(),
        };
        implicit_members(root, &excludes, workspace_deps, &mut dirs, &mut parsed)?;
    }
    let mut manifests = Vec::with_capacity(dirs.len());
    let mut by_dir: HashMap<String, PackageId> = HashMap::with_capacity(dirs.len());
    for (dir, manifest) in dirs.into_iter().zip(parsed) {
        let Some(manifest) = manifest else { continue };
        let rel = child(&dir, MANIFEST);
        let name = manifest
            .get("package")
            .and_then(Value::as_table)
            .and_then(|p| p.get("name"))
            .and_then(Value::as_str)
            .ok_or_else(|| GraphError::manifest(root.join(&rel), "missing [package] name"))?;
        let id = builder.add_package(name, &dir, Ecosystem::Cargo)?;
        by_dir.insert(dir.clone(), id);
        manifests.push((id, dir, manifest));
    }

    let patched = patched_names(&root_manifest, &by_dir);
    for (id, dir, manifest) in &manifests {
        for (key, spec, kind) in dependency_entries(manifest) {
            match resolve(&by_dir, dir, key, spec, workspace_deps)
                .or_else(|| patched_member(builder, &patched, key, spec, workspace_deps))
            {
                Some(target) if target != *id => builder.add_edge(*id, target, kind),
                Some(_) => {}
                None => {
                    if let Some(outside) = path_dependency(dir, key, spec, workspace_deps) {
                        builder.add_outside_source(*id, &outside);
                    } else if let Some(path) = spec.get("path").and_then(Value::as_str) {
                        // A crate of a neighbouring root (`../shared`).
                        builder.add_path_link(*id, &crate::paths::join_outward(dir, path), kind);
                    }
                    builder.add_external(*id, key, &requirement(spec));
                }
            }
        }
    }
    Ok(true)
}

/// Most members Cargo's own rule may add to a workspace.
const MAX_IMPLICIT: usize = 20_000;

/// Adds the members Cargo adds on its own: every path dependency of a
/// member that lies inside the workspace root, is not `exclude`d and has a
/// manifest, recursively (a crate's `macros/` sub-crate is a member with
/// its own name, as `cargo metadata` lists it).
fn implicit_members(
    root: &Path,
    excludes: &[String],
    workspace_deps: Option<&Table>,
    dirs: &mut Vec<String>,
    parsed: &mut Vec<Option<Table>>,
) -> Result<(), GraphError> {
    let excluded_dirs: Vec<String> = excludes.iter().filter_map(|e| join(".", e)).collect();
    let is_excluded = |dir: &str| {
        excluded_dirs
            .iter()
            .any(|ex| dir == ex || dir.starts_with(&format!("{ex}/")))
    };
    let mut next = 0;
    let mut added = 0usize;
    while next < dirs.len() {
        let found: Vec<String> = match &parsed[next] {
            Some(manifest) => dependency_entries(manifest)
                .into_iter()
                .filter_map(|(key, spec, _)| {
                    path_dependency(&dirs[next], key, spec, workspace_deps)
                })
                .collect(),
            None => Vec::new(),
        };
        next += 1;
        for dir in found {
            if dir == "." || dir.starts_with("../") || is_excluded(&dir) || dirs.contains(&dir) {
                continue;
            }
            let rel = child(&dir, MANIFEST);
            let Some(text) = read_optional(root, &rel)? else {
                continue;
            };
            let manifest = parse(root, &rel, &text)?;
            // A crate with a workspace of its own is no member of this one.
            if manifest.contains_key("workspace") || !manifest.contains_key("package") {
                continue;
            }
            added += 1;
            if added > MAX_IMPLICIT {
                return Err(GraphError::manifest(
                    root.join(MANIFEST),
                    format!("more than {MAX_IMPLICIT} path dependencies become members"),
                ));
            }
            dirs.push(dir);
            parsed.push(Some(manifest));
        }
    }
    Ok(())
}

/// The member directories of a `[workspace]`: literal members checked to
/// have a manifest, globs expanded (and kept for later ownership), then
/// `exclude` applied.
fn member_dirs(
    root: &Path,
    workspace: &Table,
    builder: &mut GraphBuilder,
) -> Result<Vec<String>, GraphError> {
    let members = string_array(root, MANIFEST, workspace, "workspace.members", "members")?;
    let excludes = string_array(root, MANIFEST, workspace, "workspace.exclude", "exclude")?;
    for member in members.iter().filter(|m| !m.contains(['*', '?', '['])) {
        let dir = join(".", member).unwrap_or_default();
        if !root.join(&dir).join(MANIFEST).is_file() {
            return Err(GraphError::manifest(
                root.join(MANIFEST),
                format!("workspace member {member:?} has no {MANIFEST}"),
            ));
        }
    }
    let expanded = dirglob::expand(root, &members, MANIFEST, &root.join(MANIFEST))?;
    let excludes: Vec<String> = excludes.iter().filter_map(|e| join(".", e)).collect();
    let dirs: Vec<String> = expanded
        .dirs
        .into_iter()
        .filter(|dir| {
            !excludes
                .iter()
                .any(|ex| dir == ex || dir.starts_with(&format!("{ex}/")))
        })
        .collect();
    for glob in expanded.globs {
        builder.add_package_dir_glob(glob);
    }
    Ok(dirs)
}

fn parse(root: &Path, rel: &str, text: &str) -> Result<Table, GraphError> {
    toml::from_str::<Table>(text).map_err(|err| GraphError::toml(root.join(rel), text, &err))
}

fn string_array(
    root: &Path,
    rel: &str,
    table: &Table,
    what: &str,
    key: &str,
) -> Result<Vec<String>, GraphError> {
    let Some(value) = table.get(key) else {
        return Ok(Vec::new());
    };
    let invalid = || {
        GraphError::manifest(
            root.join(rel),
            format!("{what} must be an array of strings"),
        )
    };
    value
        .as_array()
        .ok_or_else(invalid)?
        .iter()
        .map(|v| v.as_str().map(str::to_owned).ok_or_else(invalid))
        .collect()
}

/// Every dependency entry of a manifest, platform-specific tables included.
fn dependency_entries(manifest: &Table) -> Vec<(&str, &Value, DepKind)> {
    let mut tables: Vec<&Table> = vec![manifest];
    if let Some(targets) = manifest.get("target").and_then(Value::as_table) {
        tables.extend(targets.values().filter_map(Value::as_table));
    }
    let mut entries = Vec::new();
    for table in tables {
        for (name, kind) in DEP_TABLES {
            if let Some(deps) = table.get(name).and_then(Value::as_table) {
                entries.extend(deps.iter().map(|(k, v)| (k.as_str(), v, kind)));
            }
        }
    }
    entries
}

/// A dependency entry's requirement as text: the version, or `workspace`
/// for one inherited from `[workspace.dependencies]`.
fn requirement(spec: &Value) -> String {
    match spec {
        Value::String(version) => version.clone(),
        Value::Table(t) if t.get("workspace").and_then(Value::as_bool) == Some(true) => {
            "workspace".to_owned()
        }
        Value::Table(t) => t
            .get("version")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        _ => String::new(),
    }
}

/// The directory of a `path` dependency, inherited or not.
fn path_dependency(
    member_dir: &str,
    key: &str,
    spec: &Value,
    workspace_deps: Option<&Table>,
) -> Option<String> {
    let spec = spec.as_table()?;
    if spec.get("workspace").and_then(Value::as_bool) == Some(true) {
        let path = workspace_deps?.get(key)?.get("path")?.as_str()?;
        return join(".", path);
    }
    join(member_dir, spec.get("path")?.as_str()?)
}

/// The names a root `[patch.<registry>]` table points at members by path.
fn patched_names(
    root_manifest: &Table,
    by_dir: &HashMap<String, PackageId>,
) -> std::collections::HashSet<String> {
    let mut names = std::collections::HashSet::new();
    for registry in root_manifest
        .get("patch")
        .and_then(Value::as_table)
        .into_iter()
        .flat_map(Table::values)
        .filter_map(Value::as_table)
    {
        for (name, spec) in registry {
            let Some(path) = spec.get("path").and_then(Value::as_str) else {
                continue;
            };
            if join(".", path).is_some_and(|dir| by_dir.contains_key(&dir)) {
                let name = spec.get("package").and_then(Value::as_str).unwrap_or(name);
                names.insert(name.to_owned());
            }
        }
    }
    names
}

/// A registry or git dependency that a root `[patch]` replaces with a
/// member.
fn patched_member(
    builder: &GraphBuilder,
    patched: &std::collections::HashSet<String>,
    key: &str,
    spec: &Value,
    workspace_deps: Option<&Table>,
) -> Option<PackageId> {
    if patched.is_empty() {
        return None;
    }
    let inherited = spec
        .get("workspace")
        .and_then(Value::as_bool)
        .filter(|w| *w)
        .and_then(|_| workspace_deps?.get(key));
    let name = spec
        .get("package")
        .or_else(|| inherited.and_then(|i| i.get("package")))
        .and_then(Value::as_str)
        .unwrap_or(key);
    patched
        .contains(name)
        .then(|| builder.lookup(Ecosystem::Cargo, name))
        .flatten()
}

/// The member a dependency entry points at, if any. Registry and git
/// dependencies point at none.
fn resolve(
    by_dir: &HashMap<String, PackageId>,
    member_dir: &str,
    key: &str,
    spec: &Value,
    workspace_deps: Option<&Table>,
) -> Option<PackageId> {
    let spec = spec.as_table()?;
    if spec.get("workspace").and_then(Value::as_bool) == Some(true) {
        let inherited = workspace_deps?.get(key)?;
        let path = inherited.get("path").and_then(Value::as_str)?;
        // A registry or git dependency is the published crate, even when
        // a member has its name (unless a `[patch]` says otherwise).
        return by_dir.get(&join(".", path)?).copied();
    }
    let path = spec.get("path").and_then(Value::as_str)?;
    let target = join(member_dir, path)?;
    let found = by_dir.get(&target).copied();
    if found.is_none() {
        tracing::debug!(
            member = member_dir,
            dependency = key,
            path = target,
            "path dependency outside the workspace"
        );
    }
    found
}
