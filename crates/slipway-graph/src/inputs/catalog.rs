//! Catalogs: `catalog:` and `catalog:<name>` versions, defined in
//! `pnpm-workspace.yaml` (`catalog`, `catalogs`) or the root
//! `package.json` (`catalog`, `catalogs`, also under `workspaces`). A
//! changed catalog entry concerns only the packages whose manifests take
//! that entry, and the root when it does.

use std::collections::BTreeSet;

use yaml_rust2::Yaml;

use super::InputDiff;
use super::lock_graph::join_limited;
use crate::affected::Resolution;
use crate::graph::PackageGraph;
use crate::model::PackageId;
use crate::yaml::entries;

/// A catalog entry: the catalog's name (`default` for `catalog:`) and the
/// package it pins.
pub(super) type Entry = (String, String);

/// A `pnpm-workspace.yaml` change: catalog entries precisely, anything
/// else (the package globs, settings) concerns everything.
pub(super) fn pnpm_workspace(
    graph: &PackageGraph,
    base: Option<&str>,
    head: Option<&str>,
) -> InputDiff {
    let parse = |text: Option<&str>, side: &str| {
        crate::yaml::load(text.unwrap_or("")).map_err(|err| format!("at {side}: {err}"))
    };
    let (old, new) = match (parse(base, "base"), parse(head, "head")) {
        (Ok(old), Ok(new)) => (old, new),
        (Err(err), _) | (_, Err(err)) => {
            let why = format!(
                "pnpm-workspace.yaml could not be parsed ({err}), so every package is affected"
            );
            return InputDiff {
                resolution: Resolution::Everything(why.clone()),
                warnings: vec![why],
            };
        }
    };
    let keys: BTreeSet<&str> = entries(&old).chain(entries(&new)).map(|(k, _)| k).collect();
    let mut changed: BTreeSet<Entry> = BTreeSet::new();
    for key in keys {
        let (was, now) = (&old[key], &new[key]);
        if was == now {
            continue;
        }
        match key {
            "catalog" => changed.extend(changed_entries("default", was, now)),
            "catalogs" => {
                let names: BTreeSet<&str> =
                    entries(was).chain(entries(now)).map(|(k, _)| k).collect();
                for name in names {
                    changed.extend(changed_entries(name, &was[name], &now[name]));
                }
            }
            other => {
                return InputDiff {
                    resolution: Resolution::Everything(format!(
                        "pnpm-workspace.yaml \"{other}\" changed"
                    )),
                    warnings: Vec::new(),
                };
            }
        }
    }
    let (packages, root) = users(graph, &changed);
    InputDiff {
        resolution: Resolution::Packages { packages, root },
        warnings: Vec::new(),
    }
}

fn changed_entries(catalog: &str, was: &Yaml, now: &Yaml) -> Vec<Entry> {
    let names: BTreeSet<&str> = entries(was).chain(entries(now)).map(|(k, _)| k).collect();
    names
        .into_iter()
        .filter(|n| was[*n] != now[*n])
        .map(|n| (catalog.to_owned(), n.to_owned()))
        .collect()
}

/// The catalog entries a dependency spec takes: `catalog:` and
/// `catalog:default` the default catalog, `catalog:NAME` a named one.
fn catalog_of(spec: &str) -> Option<&str> {
    let name = spec.strip_prefix("catalog:")?.trim();
    Some(if name.is_empty() { "default" } else { name })
}

/// The packages taking a changed entry, each with the entries it takes,
/// and the root's entries when it takes one.
pub(super) fn users(
    graph: &PackageGraph,
    changed: &BTreeSet<Entry>,
) -> (Vec<(PackageId, String)>, Option<String>) {
    let takes = |deps: &[(String, String)]| -> BTreeSet<String> {
        deps.iter()
            .filter_map(|(name, spec)| {
                let catalog = catalog_of(spec)?;
                changed
                    .contains(&(catalog.to_owned(), name.clone()))
                    .then(|| describe(catalog, name))
            })
            .collect()
    };
    let packages = graph
        .ids()
        .filter_map(|id| {
            let mine = takes(graph.externals(id));
            (!mine.is_empty()).then(|| (id, join_limited(&mine)))
        })
        .collect();
    let root = takes(graph.root_externals());
    (packages, (!root.is_empty()).then(|| join_limited(&root)))
}

fn describe(catalog: &str, name: &str) -> String {
    if catalog == "default" {
        format!("catalog {name}")
    } else {
        format!("catalog {catalog} {name}")
    }
}

/// The catalog entries that differ between two JSON catalog maps
/// (`{"react": "^19"}`), for the root `package.json`.
pub(super) fn json_changed(
    catalog: &str,
    was: &serde_json::Value,
    now: &serde_json::Value,
) -> Vec<Entry> {
    let names: BTreeSet<&String> = [was, now]
        .iter()
        .filter_map(|v| v.as_object())
        .flat_map(|m| m.keys())
        .collect();
    names
        .into_iter()
        .filter(|n| was.get(n.as_str()) != now.get(n.as_str()))
        .map(|n| (catalog.to_owned(), n.clone()))
        .collect()
}

#[cfg(test)]
mod tests;
