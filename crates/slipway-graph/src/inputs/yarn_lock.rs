//! `yarn.lock`: yarn 1's own format (descriptor headers, indented fields),
//! or yarn 2+ ("berry"), which is YAML with a `__metadata` entry and
//! `name@workspace:path` entries for the workspace packages.

use std::collections::HashMap;

use super::lock_graph::{LockGraph, Member, Node};
use crate::graph::PackageGraph;
use crate::model::Ecosystem;
use crate::yaml::{entries, scalar};

pub(super) fn parse(graph: &PackageGraph, text: &str) -> Result<LockGraph, String> {
    if text.lines().any(|l| l.starts_with("__metadata:")) {
        berry(graph, text)
    } else {
        classic(graph, text)
    }
}

/// One resolved entry of either format.
struct Entry {
    descriptors: Vec<String>,
    name: String,
    version: String,
    fingerprint: String,
    dependencies: Vec<(String, String)>,
    workspace: Option<String>,
}

fn berry(graph: &PackageGraph, text: &str) -> Result<LockGraph, String> {
    let doc = crate::yaml::load(text).map_err(|err| err.to_string())?;
    let mut list = Vec::new();
    for (header, entry) in entries(&doc) {
        if header == "__metadata" {
            continue;
        }
        let descriptors: Vec<String> = header.split(", ").map(str::to_owned).collect();
        let resolution = scalar(&entry["resolution"]);
        let name = descriptor_name(&resolution).to_owned();
        let workspace = resolution
            .split_once("@workspace:")
            .map(|(_, path)| path.to_owned());
        let mut dependencies = Vec::new();
        for section in ["dependencies", "optionalDependencies", "peerDependencies"] {
            for (dep, range) in entries(&entry[section]) {
                dependencies.push((dep.to_owned(), scalar(range)));
            }
        }
        list.push(Entry {
            descriptors,
            name,
            version: scalar(&entry["version"]),
            fingerprint: format!(
                "{} {}",
                scalar(&entry["version"]),
                scalar(&entry["checksum"])
            ),
            dependencies,
            workspace,
        });
    }
    Ok(build(graph, &list, false))
}

fn classic(graph: &PackageGraph, text: &str) -> Result<LockGraph, String> {
    let mut list: Vec<Entry> = Vec::new();
    let mut section: Option<&str> = None;
    for (i, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() || raw.trim_start().starts_with('#') {
            continue;
        }
        let indent = raw.len() - raw.trim_start().len();
        let line = raw.trim();
        match indent {
            0 => {
                let header = line.strip_suffix(':').ok_or_else(|| {
                    format!("line {}: expected an entry header ending in ':'", i + 1)
                })?;
                let descriptors: Vec<String> =
                    header.split(", ").map(|d| unquote(d).to_owned()).collect();
                let name = descriptor_name(&descriptors[0]).to_owned();
                list.push(Entry {
                    descriptors,
                    name,
                    version: String::new(),
                    fingerprint: String::new(),
                    dependencies: Vec::new(),
                    workspace: None,
                });
                section = None;
            }
            2 => {
                let entry = list
                    .last_mut()
                    .ok_or_else(|| format!("line {}: field before any entry", i + 1))?;
                if let Some(name) = line.strip_suffix(':') {
                    section = Some(
                        if name == "dependencies" || name == "optionalDependencies" {
                            "deps"
                        } else {
                            "other"
                        },
                    );
                    continue;
                }
                section = None;
                let (key, value) = line.split_once(' ').unwrap_or((line, ""));
                let value = unquote(value.trim());
                if key == "version" {
                    value.clone_into(&mut entry.version);
                }
                if matches!(key, "version" | "resolved" | "integrity") {
                    entry.fingerprint.push_str(value);
                    entry.fingerprint.push(' ');
                }
            }
            _ => {
                let entry = list
                    .last_mut()
                    .ok_or_else(|| format!("line {}: field before any entry", i + 1))?;
                if section == Some("deps") {
                    let (dep, range) = line.split_once(' ').unwrap_or((line, ""));
                    entry
                        .dependencies
                        .push((unquote(dep).to_owned(), unquote(range.trim()).to_owned()));
                }
            }
        }
    }
    Ok(build(graph, &list, true))
}

fn build(graph: &PackageGraph, list: &[Entry], classic: bool) -> LockGraph {
    let mut by_descriptor: HashMap<&str, usize> = HashMap::new();
    for (i, entry) in list.iter().enumerate() {
        for d in &entry.descriptors {
            by_descriptor.insert(d, i);
        }
    }
    let key = |e: &Entry| {
        format!(
            "{}@{}",
            e.name,
            if e.workspace.is_some() {
                "workspace"
            } else {
                &e.version
            }
        )
    };
    let lookup = |dep: &str, range: &str| -> Option<usize> {
        by_descriptor
            .get(format!("{dep}@{range}").as_str())
            .or_else(|| by_descriptor.get(format!("{dep}@npm:{range}").as_str()))
            .copied()
    };
    let mut nodes = HashMap::with_capacity(list.len());
    for entry in list {
        let mut children: Vec<String> = entry
            .dependencies
            .iter()
            .filter_map(|(dep, range)| lookup(dep, range))
            .map(|i| &list[i])
            .filter(|e| e.workspace.is_none())
            .map(key)
            .collect();
        children.sort();
        children.dedup();
        let member =
            entry
                .workspace
                .as_deref()
                .map(|path| match graph.package_at(path, Ecosystem::Yarn) {
                    Some(id) => Member::Package(id),
                    None => Member::Root,
                });
        nodes.insert(
            key(entry),
            Node {
                name: entry.name.clone(),
                version: entry.version.clone(),
                fingerprint: entry.fingerprint.clone(),
                children,
                member,
            },
        );
    }
    if classic {
        add_classic_members(graph, &mut nodes, &|dep, range| {
            lookup(dep, range).map(|i| key(&list[i]))
        });
    }
    LockGraph { nodes }
}

/// Yarn 1 does not list workspace packages: their direct dependencies, and
/// the root's, come from their manifests, resolved to entry keys by `resolve`.
fn add_classic_members(
    graph: &PackageGraph,
    nodes: &mut HashMap<String, Node>,
    resolve: &dyn Fn(&str, &str) -> Option<String>,
) {
    for id in graph
        .ids()
        .filter(|&id| graph.package(id).ecosystem == Ecosystem::Yarn)
    {
        let children: Vec<String> = graph
            .externals(id)
            .iter()
            .filter_map(|(dep, range)| resolve(dep, range))
            .collect();
        nodes.insert(
            format!("workspace:{}", graph.package(id).path),
            Node::workspace(&graph.package(id).name, children, Member::Package(id)),
        );
    }
    let children: Vec<String> = graph
        .root_externals()
        .iter()
        .filter_map(|(dep, range)| resolve(dep, range))
        .collect();
    nodes.insert(
        "workspace:.".to_owned(),
        Node::workspace("(root)", children, Member::Root),
    );
}

/// `@scope/name@npm:^1` to `@scope/name`.
fn descriptor_name(descriptor: &str) -> &str {
    match descriptor.get(1..).and_then(|rest| rest.find('@')) {
        Some(i) => &descriptor[..=i],
        None => descriptor,
    }
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use crate::inputs::SharedInput;

    fn check(base: &str, head: &str, expected: &str) {
        crate::inputs::testing::check(SharedInput::YarnLock, Some(base), Some(head), expected);
    }

    const CLASSIC: &str = "# yarn lockfile v1\n\n\
lodash@^4:\n  version \"4.17.20\"\n  resolved \"https://registry.yarnpkg.com/lodash/-/lodash-4.17.20.tgz#a\"\n\n\
react@^18:\n  version \"18.2.0\"\n  resolved \"https://registry.yarnpkg.com/react/-/react-18.2.0.tgz#b\"\n";

    const BERRY: &str = "__metadata:\n  version: 8\n\n\
\"@x/ui@workspace:packages/ui\":\n  version: 0.0.0-use.local\n  resolution: \"@x/ui@workspace:packages/ui\"\n  dependencies:\n    lodash: \"npm:^4\"\n  languageName: unknown\n  linkType: soft\n\n\
\"web@workspace:apps/web\":\n  version: 0.0.0-use.local\n  resolution: \"web@workspace:apps/web\"\n  dependencies:\n    \"@x/ui\": \"workspace:*\"\n  languageName: unknown\n  linkType: soft\n\n\
\"lodash@npm:^4\":\n  version: 4.17.20\n  resolution: \"lodash@npm:4.17.20\"\n  checksum: aaa\n  languageName: node\n  linkType: hard\n";

    #[test]
    fn classic_entries_by_name() {
        check(CLASSIC, CLASSIC, "");
        check(CLASSIC, &CLASSIC.replace("4.17.20", "4.17.21"), "");
    }

    #[test]
    fn berry_follows_workspace_entries() {
        check(BERRY, BERRY, "");
        check(
            BERRY,
            &BERRY.replace("4.17.20", "4.17.21").replace("aaa", "bbb"),
            "@x/ui: lodash 4.17.20 -> 4.17.21",
        );
    }

    #[test]
    fn the_roots_own_dependencies_are_the_roots() {
        // Yarn 1: the root's dependencies come from its manifest (the test
        // graph's root depends on vitest 3.1.0).
        let classic = format!(
            "{CLASSIC}\nvitest@3.1.0:\n  version \"3.1.0\"\n  resolved \"https://registry.yarnpkg.com/vitest/-/vitest-3.1.0.tgz#v\"\n"
        );
        check(
            &classic,
            &classic.replace("version \"3.1.0\"", "version \"3.1.1\""),
            "(root): vitest 3.1.0 -> 3.1.1",
        );
        // Yarn 2+: the root workspace is an entry of its own.
        let berry = format!(
            "{BERRY}\n\"root@workspace:.\":\n  version: 0.0.0-use.local\n  resolution: \"root@workspace:.\"\n  dependencies:\n    vitest: \"npm:3.1.0\"\n  languageName: unknown\n  linkType: soft\n\n\"vitest@npm:3.1.0\":\n  version: 3.1.0\n  resolution: \"vitest@npm:3.1.0\"\n  checksum: ccc\n  languageName: node\n  linkType: hard\n"
        );
        check(
            &berry,
            &berry.replace("checksum: ccc", "checksum: ddd"),
            "(root): vitest 3.1.0 changed",
        );
    }

    #[test]
    fn junk_is_everything() {
        check(
            BERRY,
            "__metadata:\n  version: [\n",
            concat!(
                "everything: yarn.lock could not be parsed (at head: line 3, column 1: while parsing a node, did not find expected node content), so every package is affected\n",
                "warning: yarn.lock could not be parsed (at head: line 3, column 1: while parsing a node, did not find expected node content), so every package is affected"
            ),
        );
    }
}
