//! Gradle's shared inputs, read precisely: version catalogs and settings.
//!
//! A version catalog (`gradle/libs.versions.toml`): a changed
//! `[libraries]`, `[plugins]` or `[bundles]` entry concerns the projects
//! whose build scripts use `libs.<alias>` (`-`, `_` and `.` equivalent); a
//! changed `[versions]` entry concerns the users of `libs.versions.<name>`
//! and of every library and plugin whose `version.ref` names it, and a
//! changed library the users of every bundle holding it.
//!
//! A settings file: when only its `include` lists changed, the projects
//! it newly includes are affected (a removed one is a removed package);
//! any other change concerns every Gradle project, with that reason.

use std::collections::{BTreeMap, BTreeSet};

use super::{InputDiff, every};
use crate::affected::Resolution;
use crate::discover::gradle::{self, normalize_alias};
use crate::graph::{PackageGraph, keyed_read};
use crate::model::{Ecosystem, PackageId};

pub(crate) fn settings(
    graph: &PackageGraph,
    path: &str,
    base: Option<&str>,
    head: Option<&str>,
) -> InputDiff {
    let resolution = match (base, head) {
        (Some(base), Some(head)) => {
            let (old, new) = (gradle::parse_settings(base), gradle::parse_settings(head));
            if old.rest == new.rest {
                let mut packages: Vec<(PackageId, String)> = Vec::new();
                for project in new.projects.iter().filter(|p| !old.projects.contains(p)) {
                    for id in graph.readers(&keyed_read(path, &format!("project:{project}"))) {
                        packages.push((id, format!("project {project} newly included")));
                    }
                }
                Resolution::packages(packages)
            } else {
                every(
                    graph,
                    Ecosystem::Gradle,
                    "changed beyond its include lists, and every Gradle project is configured by it",
                )
            }
        }
        _ => every(
            graph,
            Ecosystem::Gradle,
            "was added or removed, and every Gradle project is configured by it",
        ),
    };
    InputDiff {
        resolution,
        warnings: Vec::new(),
    }
}

/// The build script of a Gradle root that is no project, compared at both
/// revisions: when only `project(':x') { … }` blocks changed (layout and
/// comments are no change), the projects they configure; anything else,
/// every Gradle project.
pub(crate) fn root_script(
    graph: &PackageGraph,
    path: &str,
    base: Option<&str>,
    head: Option<&str>,
) -> InputDiff {
    let resolution = match (base, head) {
        (Some(base), Some(head)) => {
            let (old_rest, old_blocks) = gradle::root_script_parts(base);
            let (new_rest, new_blocks) = gradle::root_script_parts(head);
            if old_rest == new_rest {
                let mut packages: Vec<(PackageId, String)> = Vec::new();
                let projects: std::collections::BTreeSet<&String> =
                    old_blocks.keys().chain(new_blocks.keys()).collect();
                for project in projects {
                    if old_blocks.get(project) != new_blocks.get(project) {
                        for id in graph.readers(&keyed_read(path, &format!("block:{project}"))) {
                            packages.push((id, format!("project('{project}') {{ … }} changed")));
                        }
                    }
                }
                Resolution::packages(packages)
            } else {
                every(
                    graph,
                    Ecosystem::Gradle,
                    "changed outside its project(':x') { … } blocks, and it configures every Gradle project",
                )
            }
        }
        _ => every(
            graph,
            Ecosystem::Gradle,
            "was added or removed, and it configures every Gradle project",
        ),
    };
    InputDiff {
        resolution,
        warnings: Vec::new(),
    }
}

/// A catalog, each entry as its TOML value.
#[derive(Debug, Default)]
struct Catalog {
    versions: BTreeMap<String, toml::Value>,
    /// alias → (entry, `version.ref`).
    libraries: BTreeMap<String, (toml::Value, Option<String>)>,
    plugins: BTreeMap<String, (toml::Value, Option<String>)>,
    /// alias → member aliases (normalized).
    bundles: BTreeMap<String, Vec<String>>,
}

fn parse_catalog(text: &str) -> Result<Catalog, toml::de::Error> {
    let table: toml::Table = toml::from_str(text)?;
    let section = |name: &str| {
        table
            .get(name)
            .and_then(toml::Value::as_table)
            .cloned()
            .unwrap_or_default()
    };
    let entries = |name: &str| -> BTreeMap<String, (toml::Value, Option<String>)> {
        section(name)
            .into_iter()
            .map(|(alias, value)| {
                let reference = value
                    .get("version")
                    .and_then(|v| v.get("ref"))
                    .and_then(toml::Value::as_str)
                    .map(str::to_owned);
                (normalize_alias(&alias), (value, reference))
            })
            .collect()
    };
    Ok(Catalog {
        versions: section("versions")
            .into_iter()
            .map(|(name, value)| (normalize_alias(&name), value))
            .collect(),
        libraries: entries("libraries"),
        plugins: entries("plugins"),
        bundles: section("bundles")
            .into_iter()
            .map(|(alias, value)| {
                let members = value
                    .as_array()
                    .map(|list| {
                        list.iter()
                            .filter_map(toml::Value::as_str)
                            .map(normalize_alias)
                            .collect()
                    })
                    .unwrap_or_default();
                (normalize_alias(&alias), members)
            })
            .collect(),
    })
}

fn changed<V: PartialEq>(old: &BTreeMap<String, V>, new: &BTreeMap<String, V>) -> BTreeSet<String> {
    old.keys()
        .chain(new.keys())
        .filter(|k| old.get(*k) != new.get(*k))
        .cloned()
        .collect()
}

pub(crate) fn catalog(
    graph: &PackageGraph,
    path: &str,
    base: Option<&str>,
    head: Option<&str>,
) -> InputDiff {
    let parse = |text: Option<&str>| parse_catalog(text.unwrap_or_default());
    let (old, new) = match (parse(base), parse(head)) {
        (Ok(old), Ok(new)) => (old, new),
        (Err(err), _) | (_, Err(err)) => {
            let why = format!(
                "{path} could not be parsed ({}), so every Gradle project is affected",
                err.message()
            );
            return InputDiff {
                resolution: every(graph, Ecosystem::Gradle, &why),
                warnings: vec![why],
            };
        }
    };
    let versions = changed(&old.versions, &new.versions);
    let by_ref = |entries: &BTreeMap<String, (toml::Value, Option<String>)>| -> BTreeSet<String> {
        entries
            .iter()
            .filter(|(_, (_, r))| {
                r.as_deref()
                    .is_some_and(|r| versions.contains(&normalize_alias(r)))
            })
            .map(|(alias, _)| alias.clone())
            .collect()
    };
    let mut libraries = changed(&old.libraries, &new.libraries);
    libraries.extend(by_ref(&old.libraries));
    libraries.extend(by_ref(&new.libraries));
    let mut plugins = changed(&old.plugins, &new.plugins);
    plugins.extend(by_ref(&old.plugins));
    plugins.extend(by_ref(&new.plugins));
    let mut bundles = changed(&old.bundles, &new.bundles);
    for (alias, members) in old.bundles.iter().chain(&new.bundles) {
        if members.iter().any(|m| libraries.contains(m)) {
            bundles.insert(alias.clone());
        }
    }
    // Accessor chains, each with what changed.
    let mut chains: Vec<(String, String)> = Vec::new();
    for name in &versions {
        chains.push((
            format!("versions.{name}"),
            format!("version {name} changed"),
        ));
    }
    for alias in &libraries {
        chains.push((alias.clone(), format!("library {alias} changed")));
    }
    for alias in &plugins {
        chains.push((
            format!("plugins.{alias}"),
            format!("plugin {alias} changed"),
        ));
    }
    for alias in &bundles {
        chains.push((
            format!("bundles.{alias}"),
            format!("bundle {alias} changed"),
        ));
    }
    let mut packages: Vec<(PackageId, String)> = Vec::new();
    for (chain, detail) in &chains {
        let key = keyed_read(path, chain);
        let below = format!("{key}.");
        for id in graph.readers_where(|k| k == key || k.starts_with(&below)) {
            packages.push((id, detail.clone()));
        }
    }
    InputDiff::precise(packages)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::GraphBuilder;

    const PATH: &str = "gradle/libs.versions.toml";

    fn graph() -> PackageGraph {
        let mut b = GraphBuilder::new();
        for (name, uses) in [
            ("app", &["androidx.core.ktx.get", "bundles.compose"][..]),
            ("data", &["kotlinx.coroutines.core"][..]),
            ("build", &["plugins.kotlin.android"][..]),
            ("none", &[][..]),
        ] {
            let id = b.add_package(name, name, Ecosystem::Gradle).unwrap();
            for chain in uses {
                b.add_read(id, keyed_read(PATH, chain));
            }
        }
        b.build()
    }

    fn affected(base: &str, head: &str) -> Vec<String> {
        let g = graph();
        match catalog(&g, PATH, Some(base), Some(head)).resolution {
            Resolution::Packages { packages, .. } => packages
                .iter()
                .map(|(id, why)| format!("{} {why}", g.package(*id).name))
                .collect(),
            Resolution::Everything(why) => vec![why],
        }
    }

    const BASE: &str = r#"
[versions]
kotlin = "2.0.0"
coroutines = "1.8.0"
[libraries]
androidx-core-ktx = { group = "androidx.core", name = "core-ktx", version = "1.13.0" }
kotlinx-coroutines-core = { module = "org.jetbrains.kotlinx:kotlinx-coroutines-core", version.ref = "coroutines" }
compose-ui = "androidx.compose.ui:ui:1.7.0"
[bundles]
compose = ["compose-ui"]
[plugins]
kotlin-android = { id = "org.jetbrains.kotlin.android", version.ref = "kotlin" }
"#;

    #[test]
    fn a_version_ref_marks_the_users_of_its_libraries_and_plugins() {
        let head = BASE.replace("kotlin = \"2.0.0\"", "kotlin = \"2.1.0\"");
        assert_eq!(
            affected(BASE, &head),
            ["build plugin kotlin.android changed"]
        );
        let head = BASE.replace("\"1.8.0\"", "\"1.9.0\"");
        assert_eq!(
            affected(BASE, &head),
            ["data library kotlinx.coroutines.core changed"]
        );
    }

    #[test]
    fn a_library_marks_its_users_and_its_bundles_users() {
        let head = BASE.replace("ui:1.7.0", "ui:1.7.1");
        assert_eq!(affected(BASE, &head), ["app bundle compose changed"]);
        let head = BASE.replace("1.13.0", "1.14.0");
        assert_eq!(
            affected(BASE, &head),
            ["app library androidx.core.ktx changed"]
        );
        assert!(affected(BASE, BASE).is_empty());
        let unused = format!("{BASE}\nunused = \"x:y:1\"\n");
        let unused = unused.replace("[bundles]", "unused2 = \"x:z:1\"\n[bundles]");
        assert!(affected(BASE, &unused).is_empty());
    }

    #[test]
    fn a_broken_catalog_marks_every_gradle_project_and_warns() {
        let g = graph();
        let diff = catalog(&g, PATH, Some(BASE), Some("[versions"));
        assert_eq!(diff.warnings.len(), 1);
        let Resolution::Packages { packages, .. } = diff.resolution else {
            panic!("packages expected");
        };
        assert_eq!(packages.len(), 4);
    }
}
