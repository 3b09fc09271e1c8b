//! `Cargo.lock`: `[[package]]` entries with `dependencies` given as `name`,
//! `name version` or `name version (source)`. Workspace members are the
//! entries without a `source` whose name is a member of the graph.

use std::collections::HashMap;

use super::lock_graph::{LockGraph, Member, Node};
use crate::graph::PackageGraph;
use crate::model::Ecosystem;

#[derive(serde::Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<Entry>,
}

#[derive(serde::Deserialize)]
struct Entry {
    name: String,
    version: String,
    source: Option<String>,
    checksum: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

pub(super) fn parse(graph: &PackageGraph, text: &str) -> Result<LockGraph, String> {
    let lock: Lock = toml::from_str(text).map_err(|err| err.message().to_owned())?;
    let key = |e: &Entry| {
        format!(
            "{} {} {}",
            e.name,
            e.version,
            e.source.as_deref().unwrap_or("local")
        )
    };
    let mut by_name: HashMap<&str, Vec<&Entry>> = HashMap::new();
    for entry in &lock.package {
        by_name.entry(&entry.name).or_default().push(entry);
    }
    let mut nodes = HashMap::with_capacity(lock.package.len());
    for entry in &lock.package {
        let mut children = Vec::with_capacity(entry.dependencies.len());
        for dep in &entry.dependencies {
            let mut words = dep.split(' ');
            let name = words.next().unwrap_or("");
            let version = words.next();
            let candidates = by_name.get(name).map_or(&[][..], Vec::as_slice);
            let target = match version {
                None if candidates.len() == 1 => Some(candidates[0]),
                Some(v) => candidates.iter().copied().find(|c| c.version == v),
                None => None,
            };
            match target {
                Some(t) => children.push(key(t)),
                None => {
                    return Err(format!(
                        "{} depends on {dep:?}, which the lockfile does not list",
                        entry.name
                    ));
                }
            }
        }
        children.sort();
        let member = if entry.source.is_none() {
            graph
                .find_in(Ecosystem::Cargo, &entry.name)
                .map(Member::Package)
        } else {
            None
        };
        let fingerprint = format!(
            "{} {} {}",
            entry.version,
            entry.source.as_deref().unwrap_or(""),
            entry.checksum.as_deref().unwrap_or("")
        );
        nodes.insert(
            key(entry),
            Node {
                name: entry.name.clone(),
                version: entry.version.clone(),
                fingerprint,
                children,
                member,
            },
        );
    }
    Ok(LockGraph { nodes })
}

#[cfg(test)]
mod tests;
