//! `bun.lock` (Bun 1.2 and later; JSON with trailing commas): `workspaces`
//! keyed by member directory (`""` is the root) with their dependency
//! maps, and `packages` keyed by install path (`dep`, or `parent/dep` for
//! a copy nested under `parent`), each `[ident, registry, {dependencies},
//! integrity]`. Workspace entries (`a@workspace:packages/a`) are links the
//! package graph already has.

use std::collections::HashMap;

use serde_json::Value;

use super::lock_graph::{LockGraph, Member, Node};
use crate::graph::PackageGraph;
use crate::model::Ecosystem;

const DEP_SECTIONS: [&str; 4] = [
    "dependencies",
    "devDependencies",
    "optionalDependencies",
    "peerDependencies",
];

pub(super) fn parse(graph: &PackageGraph, text: &str) -> Result<LockGraph, String> {
    let plain = crate::discover::strip_jsonc(text);
    let doc: Value = serde_json::from_str(&plain).map_err(|err| err.to_string())?;
    let Some(packages) = doc["packages"].as_object() else {
        return Err("no \"packages\" map".to_owned());
    };
    let is_workspace = |key: &str| {
        packages[key][0]
            .as_str()
            .is_some_and(|ident| ident.contains("@workspace:"))
    };
    // The entry `dep` means from under `from`: the nearest `from/…/dep`.
    let resolve = |from: &str, dep: &str| -> Option<String> {
        let mut prefix = from;
        loop {
            let key = if prefix.is_empty() {
                dep.to_owned()
            } else {
                format!("{prefix}/{dep}")
            };
            if packages.contains_key(&key) {
                return (!is_workspace(&key)).then_some(key);
            }
            if prefix.is_empty() {
                return None;
            }
            prefix = prefix.rfind('/').map_or("", |i| &prefix[..i]);
        }
    };
    let dependency_names = |deps: &Value| -> Vec<String> {
        DEP_SECTIONS
            .iter()
            .filter_map(|s| deps[*s].as_object())
            .flat_map(|m| m.keys().cloned())
            .collect()
    };

    let mut nodes = HashMap::with_capacity(packages.len());
    for (key, entry) in packages {
        if is_workspace(key) {
            continue;
        }
        let ident = entry[0].as_str().unwrap_or(key);
        let (name, version) = split_ident(ident);
        let mut children: Vec<String> = dependency_names(&entry[2])
            .iter()
            .filter_map(|dep| resolve(key, dep))
            .collect();
        children.sort();
        children.dedup();
        nodes.insert(
            key.clone(),
            Node {
                name: name.to_owned(),
                version: version.to_owned(),
                fingerprint: entry.to_string(),
                children,
                member: None,
            },
        );
    }
    for (dir, workspace) in doc["workspaces"].as_object().into_iter().flatten() {
        let path = if dir.is_empty() { "." } else { dir.as_str() };
        let Some(member) = Member::at(graph, path, Ecosystem::Bun) else {
            continue;
        };
        let prefix = workspace["name"].as_str().unwrap_or_default();
        let children: Vec<String> = dependency_names(workspace)
            .iter()
            .filter_map(|dep| resolve(if path == "." { "" } else { prefix }, dep))
            .collect();
        nodes.insert(
            format!("workspace:{path}"),
            Node::workspace(path, children, member),
        );
    }
    Ok(LockGraph { nodes })
}

/// `@scope/name@1.2.3` into name and version.
fn split_ident(ident: &str) -> (&str, &str) {
    match ident.get(1..).and_then(|rest| rest.find('@')) {
        Some(i) => (&ident[..=i], &ident[i + 2..]),
        None => (ident, ""),
    }
}

#[cfg(test)]
mod tests;
