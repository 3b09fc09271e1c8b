//! `package-lock.json`, lockfile versions 2 and 3: `packages` keyed by
//! install path (`node_modules/a/node_modules/b`), workspace packages keyed
//! by their directory and linked from `node_modules` with `link: true`.

use std::collections::HashMap;

use serde_json::Value;

use super::lock_graph::{LockGraph, Member, Node};
use crate::graph::PackageGraph;
use crate::model::Ecosystem;

pub(super) fn parse(graph: &PackageGraph, text: &str) -> Result<LockGraph, String> {
    let doc: Value = serde_json::from_str(text).map_err(|err| err.to_string())?;
    let version = doc["lockfileVersion"].as_u64().unwrap_or(0);
    let Some(packages) = doc["packages"].as_object() else {
        return Err(format!(
            "lockfileVersion {version} has no \"packages\" map (version 1 lockfiles are not supported; npm 7 and later write version 2 or 3)"
        ));
    };
    let mut nodes = HashMap::with_capacity(packages.len());
    for (path, entry) in packages {
        let in_node_modules = path.starts_with("node_modules/") || path.contains("/node_modules/");
        let member = if path.is_empty() {
            Some(Member::Root)
        } else if in_node_modules {
            None
        } else {
            match graph.package_at(path, Ecosystem::Npm) {
                Some(id) => Some(Member::Package(id)),
                None => continue,
            }
        };
        if entry["link"].as_bool() == Some(true) {
            // A link to a workspace package: a workspace edge, which the
            // package graph already has.
            continue;
        }
        let mut sections = vec!["dependencies", "optionalDependencies", "peerDependencies"];
        if member.is_some() {
            sections.push("devDependencies");
        }
        let mut children = Vec::new();
        for section in sections {
            for name in entry[section]
                .as_object()
                .into_iter()
                .flat_map(|m| m.keys())
            {
                if let Some(child) = resolve(packages, path, name)
                    && packages[&child]["link"].as_bool() != Some(true)
                {
                    children.push(child);
                }
            }
        }
        children.sort();
        children.dedup();
        let name = path
            .rsplit_once("node_modules/")
            .map_or(path.as_str(), |(_, n)| n);
        let fingerprint = format!(
            "{} {} {} {}",
            entry["version"], entry["resolved"], entry["integrity"], entry["dependencies"]
        );
        nodes.insert(
            path.clone(),
            Node {
                name: entry["name"].as_str().unwrap_or(name).to_owned(),
                version: entry["version"].as_str().unwrap_or("").to_owned(),
                fingerprint,
                children,
                member,
            },
        );
    }
    Ok(LockGraph { nodes })
}

/// Node's module resolution over install paths: `from/node_modules/name`,
/// then the same in each enclosing package, then the root.
fn resolve(packages: &serde_json::Map<String, Value>, from: &str, name: &str) -> Option<String> {
    let mut base = from.to_owned();
    loop {
        let candidate = if base.is_empty() {
            format!("node_modules/{name}")
        } else {
            format!("{base}/node_modules/{name}")
        };
        if packages.contains_key(&candidate) {
            return Some(candidate);
        }
        if base.is_empty() {
            return None;
        }
        match base.rfind("/node_modules/") {
            Some(i) => base.truncate(i),
            None => base.clear(),
        }
    }
}

#[cfg(test)]
mod tests;
