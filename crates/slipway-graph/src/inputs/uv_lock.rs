//! `uv.lock`: `[[package]]` entries with a `source` (a registry, a git
//! repository, or a local `editable`/`virtual`/`directory` path) and
//! `dependencies`, `optional-dependencies` and `dev-dependencies` given as
//! `{ name, version? }`. Workspace members are the entries whose local
//! source is the directory of a Python package of the graph; a virtual
//! root's own dependency groups are `[manifest.dependency-groups]`.

use std::collections::HashMap;

use toml::{Table, Value};

use super::lock_graph::{LockGraph, Member, Node};
use crate::graph::PackageGraph;
use crate::model::Ecosystem;

const LOCAL_SOURCES: [&str; 3] = ["editable", "virtual", "directory"];

pub(super) fn parse(graph: &PackageGraph, text: &str) -> Result<LockGraph, String> {
    let lock: Table = toml::from_str(text).map_err(|err| err.message().to_owned())?;
    let entries: Vec<&Table> = lock
        .get("package")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_table)
        .collect();
    let mut by_name: HashMap<String, Vec<&Table>> = HashMap::new();
    for entry in &entries {
        by_name.entry(name(entry)).or_default().push(entry);
    }
    // `{ name, version? }` to the entry keys it may mean.
    let resolve = |dep: &Value| -> Vec<String> {
        let Some(dep_name) = dep.get("name").and_then(Value::as_str) else {
            return Vec::new();
        };
        let wanted = dep.get("version").and_then(Value::as_str);
        by_name
            .get(dep_name)
            .into_iter()
            .flatten()
            .filter(|e| wanted.is_none_or(|v| version(e) == v))
            .map(|e| key(e))
            .collect()
    };

    let mut nodes = HashMap::with_capacity(entries.len() + 1);
    for entry in &entries {
        let mut children: Vec<String> = dependency_lists(entry).flat_map(&resolve).collect();
        children.sort();
        children.dedup();
        // A local project no package is: a plain entry.
        let member = local_path(entry).and_then(|path| Member::at(graph, &path, Ecosystem::Python));
        let mut body = (*entry).clone();
        // The resolved metadata of a member restates its manifest, which
        // ownership already covers.
        if member.is_some() {
            body.remove("metadata");
        }
        nodes.insert(
            key(entry),
            Node {
                name: name(entry),
                version: version(entry),
                fingerprint: format!("{body:?}"),
                children,
                member,
            },
        );
    }
    // A virtual root is no entry: its groups are in the manifest.
    if let Some(groups) = lock
        .get("manifest")
        .and_then(|m| m.get("dependency-groups"))
        .and_then(Value::as_table)
    {
        let children: Vec<String> = groups
            .values()
            .filter_map(Value::as_array)
            .flatten()
            .flat_map(&resolve)
            .collect();
        nodes.insert(
            "manifest:.".to_owned(),
            Node::workspace("(root)", children, Member::Root),
        );
    }
    Ok(LockGraph { nodes })
}

fn name(e: &Table) -> String {
    e.get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

fn version(e: &Table) -> String {
    e.get("version")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

/// An entry's key: name, version and source.
fn key(e: &Table) -> String {
    format!(
        "{} {} {}",
        name(e),
        version(e),
        e.get("source")
            .map_or_else(String::new, |s| format!("{s:?}"))
    )
}

/// Every dependency of an entry: plain, per extra, per group.
fn dependency_lists(entry: &Table) -> impl Iterator<Item = &Value> {
    let plain = entry
        .get("dependencies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    let grouped = ["optional-dependencies", "dev-dependencies"]
        .into_iter()
        .filter_map(|k| entry.get(k).and_then(Value::as_table))
        .flat_map(Table::values)
        .filter_map(Value::as_array)
        .flatten();
    plain.chain(grouped)
}

/// The repository-relative directory of a local source.
fn local_path(entry: &Table) -> Option<String> {
    let source = entry.get("source")?.as_table()?;
    LOCAL_SOURCES
        .iter()
        .find_map(|k| source.get(*k).and_then(Value::as_str))
        .and_then(crate::paths::normalize)
}

#[cfg(test)]
mod tests;
