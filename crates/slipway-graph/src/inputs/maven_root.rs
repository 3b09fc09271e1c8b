//! The root POM of a Maven build, when it is an aggregator (packaging
//! `pom`) and so no package: every module's parent, compared precisely.
//!
//! A changed `<properties>` entry concerns the modules whose POMs use
//! `${thatProperty}` (and a property whose value uses a changed one is
//! changed too); a changed `<dependencyManagement>` entry concerns the
//! modules that declare that dependency; a changed BOM import, a changed
//! property used elsewhere in the root POM, and any other change (its
//! dependencies, plugins, repositories, version) concern every module,
//! with that reason. The `<modules>` lists are not compared: a module
//! added or removed is its own change.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::InputDiff;
use crate::affected::Resolution;
use crate::discover::maven::{self, Coordinate, Pom};
use crate::graph::PackageGraph;
use crate::model::PackageId;

pub(crate) fn compare(graph: &PackageGraph, base: Option<&str>, head: Option<&str>) -> InputDiff {
    let everything = |why: String, warn: bool| InputDiff {
        resolution: Resolution::Everything(why.clone()),
        warnings: if warn { vec![why] } else { Vec::new() },
    };
    let (Some(base), Some(head)) = (base, head) else {
        return everything(
            "pom.xml was added or removed, and the root POM is every module's parent".to_owned(),
            false,
        );
    };
    let path = Path::new(maven::POM);
    let read = |text: &str| maven::parse_with_rest(path, text);
    let ((old, old_rest), (new, new_rest)) = match (read(base), read(head)) {
        (Ok(old), Ok(new)) => (old, new),
        (Err(err), _) | (_, Err(err)) => {
            return everything(
                format!("pom.xml could not be parsed ({err}), so every package is affected"),
                true,
            );
        }
    };
    if old_rest != new_rest {
        return everything(
            "pom.xml changed outside <properties> and <dependencyManagement>, and the root POM is every module's parent".to_owned(),
            false,
        );
    }
    let changed = changed_properties(&old.properties, &new.properties);
    // The root's own `<version>` is each child's parent version, which the
    // children write out: its property marks them as users, not everything.
    let uses: String = new_rest
        .lines()
        .filter(|line| !line.starts_with("1<version>"))
        .collect();
    if let Some(name) = changed
        .iter()
        .find(|name| uses.contains(&format!("${{{name}}}")))
    {
        return everything(
            format!("pom.xml: property {name} changed and the root POM itself uses it"),
            false,
        );
    }
    if let Some(why) = read_only_outside(graph, &changed, &old, &new) {
        return everything(why, false);
    }
    let mut packages: Vec<(PackageId, String)> = Vec::new();
    for name in &changed {
        let detail = format!(
            "property {name} {} -> {}",
            old.properties.get(name).map_or("(none)", String::as_str),
            new.properties.get(name).map_or("(none)", String::as_str)
        );
        for id in graph.readers(&format!("property:{name}")) {
            packages.push((id, detail.clone()));
        }
    }
    let old_managed = managed(&old);
    let new_managed = managed(&new);
    let keys: BTreeSet<&(String, String)> = old_managed.keys().chain(new_managed.keys()).collect();
    for key in keys {
        let (before, after) = (old_managed.get(key), new_managed.get(key));
        let uses_changed = [before, after].into_iter().flatten().any(|c| {
            changed.iter().any(|name| {
                format!("{}{}{}", c.group, c.artifact, c.version).contains(&format!("${{{name}}}"))
            })
        });
        if before == after && !uses_changed {
            continue;
        }
        let (group, artifact) = key;
        if [before, after]
            .into_iter()
            .flatten()
            .any(|c| c.scope == "import")
        {
            return everything(
                format!(
                    "pom.xml: the imported BOM {group}:{artifact} changed, and it manages every module's dependencies"
                ),
                false,
            );
        }
        let version =
            |c: Option<&Coordinate>| c.map_or("(none)", |c| c.version.as_str()).to_owned();
        let detail = format!(
            "dependencyManagement {group}:{artifact} {} -> {}",
            version(before),
            version(after)
        );
        for id in graph.readers(&format!("managed:{group}:{artifact}")) {
            packages.push((id, detail.clone()));
        }
    }
    InputDiff::precise(packages)
}

/// Why every module is affected when a changed property is read by
/// nothing in the repository (no module, not the root's
/// `<dependencyManagement>`) while the root POM has a parent outside it:
/// the parent reads it (a `versions.junit5` override of the Apache
/// parent), and every module inherits the parent.
fn read_only_outside(
    graph: &PackageGraph,
    changed: &BTreeSet<String>,
    old: &Pom,
    new: &Pom,
) -> Option<String> {
    let parent = new.parent.as_ref().or(old.parent.as_ref())?;
    let (old_managed, new_managed) = (managed(old), managed(new));
    let name = changed.iter().find(|name| {
        let reference = format!("${{{name}}}");
        graph.readers(&format!("property:{name}")).is_empty()
            && !old_managed
                .values()
                .chain(new_managed.values())
                .any(|c| format!("{}{}{}", c.group, c.artifact, c.version).contains(&reference))
    })?;
    Some(format!(
        "pom.xml: property {name} changed, no module uses it, and the parent POM {}:{} outside the repository may (assumed)",
        parent.group.as_deref().unwrap_or("?"),
        parent.artifact.as_deref().unwrap_or("?")
    ))
}

/// Properties whose value differs, and, until nothing more changes, those
/// whose value uses a changed one.
fn changed_properties(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> BTreeSet<String> {
    let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut changed: BTreeSet<String> = names
        .iter()
        .filter(|name| old.get(**name) != new.get(**name))
        .map(|name| (*name).clone())
        .collect();
    loop {
        let more: Vec<String> = names
            .iter()
            .filter(|name| !changed.contains(**name))
            .filter(|name| {
                [old.get(**name), new.get(**name)]
                    .into_iter()
                    .flatten()
                    .any(|value| {
                        maven::property_refs(value)
                            .iter()
                            .any(|r| changed.contains(r))
                    })
            })
            .map(|name| (*name).clone())
            .collect();
        if more.is_empty() {
            return changed;
        }
        changed.extend(more);
    }
}

/// The root's `<dependencyManagement>` entries by `(groupId, artifactId)`,
/// coordinates interpolated from its own properties.
fn managed(pom: &Pom) -> BTreeMap<(String, String), Coordinate> {
    let lookup = |name: &str| match name {
        "project.groupId" | "pom.groupId" => pom.group.clone(),
        "project.version" | "pom.version" => pom.version.clone(),
        _ => pom.properties.get(name).cloned(),
    };
    pom.managed
        .iter()
        .map(|c| {
            let key = (
                maven::interpolate(&c.group, &lookup),
                maven::interpolate(&c.artifact, &lookup),
            );
            (key, c.clone())
        })
        .collect()
}
