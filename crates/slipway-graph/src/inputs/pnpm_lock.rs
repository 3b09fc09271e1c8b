//! `pnpm-lock.yaml`, versions 5 to 9. `importers` holds each workspace
//! package's direct dependencies; `snapshots` (v9) or `packages` (v5, v6)
//! hold the resolved entries and their own dependencies.

use std::collections::HashMap;

use yaml_rust2::Yaml;

use super::lock_graph::{LockGraph, Member, Node};
use crate::graph::PackageGraph;
use crate::model::Ecosystem;
use crate::yaml::{entries, scalar};

pub(super) const DEP_SECTIONS: [&str; 3] =
    ["dependencies", "devDependencies", "optionalDependencies"];

/// Compares two revisions: scanned when both are in the shape pnpm 9
/// writes, else parsed as YAML (both the same way, so their entries'
/// fingerprints compare).
pub(super) fn compare(
    graph: &PackageGraph,
    base: Option<&str>,
    head: Option<&str>,
) -> Result<super::InputDiff, String> {
    let scan = |text: Option<&str>, _: &str| match text {
        Some(text) => super::pnpm_scan::scan(graph, text),
        None => Some(LockGraph::default()),
    };
    match super::lock_graph::both(base, head, scan) {
        (Some(old), Some(new)) => Ok(super::lock_graph::compare_parsed(&old, &new)),
        _ => super::lock_graph::compare(graph, base, head, parse),
    }
}

pub(super) fn parse(graph: &PackageGraph, text: &str) -> Result<LockGraph, String> {
    let mut docs = crate::yaml::load_all(text).map_err(|err| err.to_string())?;
    // pnpm 11 writes the config and package-manager dependencies as a
    // document of their own before the lock: the lock is the last document
    // with importers or packages; the others are the root's tooling.
    let lock_at = docs
        .iter()
        .rposition(|d| d["importers"].as_hash().is_some() || d["packages"].as_hash().is_some())
        .unwrap_or(0);
    let config: Vec<Yaml> = docs
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != lock_at)
        .map(|(_, d)| d.clone())
        .collect();
    let doc = if docs.is_empty() {
        Yaml::Null
    } else {
        docs.swap_remove(lock_at)
    };
    let mut lock = parse_lock(graph, &doc, &DEP_SECTIONS);
    // The config documents' entries join under a prefix of their own; the
    // root's tooling depends on what their root importer lists.
    for (i, config_doc) in config.iter().enumerate() {
        let parsed = parse_lock(graph, config_doc, &CONFIG_SECTIONS);
        let prefix = |key: &str| format!("config{i}:{key}");
        let mut root_children = Vec::new();
        for (key, mut node) in parsed.nodes {
            node.children = node.children.iter().map(|c| prefix(c)).collect();
            if key == "importer:." {
                root_children.extend(node.children);
            } else if !key.starts_with("importer:") {
                lock.nodes.insert(prefix(&key), node);
            }
        }
        let root = lock
            .nodes
            .entry("importer:.".to_owned())
            .or_insert_with(|| Node::workspace(".", Vec::new(), Member::Root));
        root.children.extend(root_children);
        root.children.sort();
        root.children.dedup();
    }
    Ok(lock)
}

/// What the root importer of a config document lists (pnpm 11+).
const CONFIG_SECTIONS: [&str; 2] = ["configDependencies", "packageManagerDependencies"];

/// One lock document; importers' dependencies from `sections`.
fn parse_lock(graph: &PackageGraph, doc: &Yaml, sections: &[&str]) -> LockGraph {
    let resolved = if doc["snapshots"].as_hash().is_some() {
        &doc["snapshots"]
    } else {
        &doc["packages"]
    };
    let metadata = &doc["packages"];

    let mut nodes: HashMap<String, Node> = HashMap::new();
    for (key, entry) in entries(resolved) {
        let bare = key.trim_start_matches('/');
        let (name, version) = split_key(bare);
        let mut children = Vec::new();
        for section in ["dependencies", "optionalDependencies"] {
            for (dep, spec) in entries(&entry[section]) {
                children.extend(child_key(resolved, dep, &scalar(spec)));
            }
        }
        children.sort();
        // v9 keeps integrity under `packages` keyed without peer suffixes.
        let meta = &metadata[key.split('(').next().unwrap_or(key)];
        nodes.insert(
            key.to_owned(),
            Node {
                name: name.to_owned(),
                version: version.split('(').next().unwrap_or(version).to_owned(),
                fingerprint: format!("{entry:?}{meta:?}"),
                children,
                member: None,
            },
        );
    }

    let importers: Vec<(&str, &Yaml)> = if doc["importers"].as_hash().is_some() {
        entries(&doc["importers"]).collect()
    } else {
        // A lockfile of a single package keeps its dependencies at the top.
        vec![(".", doc)]
    };
    for (path, importer) in importers {
        let Some(member) = Member::at(graph, path, Ecosystem::Pnpm) else {
            continue;
        };
        let mut children = Vec::new();
        for section in sections {
            for (dep, spec) in entries(&importer[*section]) {
                // v6+: `{specifier, version}`; v5: the version itself.
                let version = match spec {
                    Yaml::Hash(_) => scalar(&spec["version"]),
                    other => scalar(other),
                };
                if version.starts_with("link:") {
                    continue;
                }
                children.extend(child_key(resolved, dep, &version));
            }
        }
        nodes.insert(
            format!("importer:{path}"),
            Node::workspace(path, children, member),
        );
    }
    LockGraph { nodes }
}

/// The entry a `name: version` dependency points at, whichever key style
/// the lockfile version uses.
fn child_key(resolved: &Yaml, name: &str, version: &str) -> Option<String> {
    [
        format!("{name}@{version}"),
        format!("/{name}@{version}"),
        format!("/{name}/{version}"),
        version.to_owned(),
        format!("/{}", version.trim_start_matches('/')),
    ]
    .into_iter()
    .find(|k| !resolved[k.as_str()].is_badvalue())
}

/// `@scope/name@1.2.3(peer@1)` or `name/1.2.3` into name and version.
pub(super) fn split_key(key: &str) -> (&str, &str) {
    let plain = key.split('(').next().unwrap_or(key);
    let at = plain
        .get(1..)
        .and_then(|rest| rest.find('@'))
        .map(|i| i + 1);
    match at {
        Some(i) => (&key[..i], &key[i + 1..]),
        None => match plain.rfind('/') {
            Some(i) if i > 0 => (&key[..i], &key[i + 1..]),
            _ => (key, ""),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::split_key;

    #[test]
    fn keys_of_every_version() {
        assert_eq!(split_key("react@18.3.1"), ("react", "18.3.1"));
        assert_eq!(split_key("@types/node@20.1.0"), ("@types/node", "20.1.0"));
        assert_eq!(
            split_key("react-dom@18.3.1(react@18.3.1)"),
            ("react-dom", "18.3.1(react@18.3.1)")
        );
        assert_eq!(split_key("lodash/4.17.21"), ("lodash", "4.17.21"));
        assert_eq!(split_key("@scope/pkg/1.0.0"), ("@scope/pkg", "1.0.0"));
    }
}
