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
    let name = |e: &Table| {
        e.get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let version = |e: &Table| {
        e.get("version")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let key = |e: &Table| {
        format!(
            "{} {} {}",
            name(e),
            version(e),
            e.get("source")
                .map_or_else(String::new, |s| format!("{s:?}"))
        )
    };
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
mod tests {
    use crate::inputs::SharedInput;

    fn check(base: &str, head: &str, expected: &str) {
        crate::inputs::testing::check(SharedInput::UvLock, Some(base), Some(head), expected);
    }

    const BASE: &str = r#"version = 1
revision = 5

[manifest]
members = ["lib", "service"]

[manifest.dependency-groups]
dev = [{ name = "iniconfig", specifier = "==2.0.0" }]

[[package]]
name = "service"
version = "0.1.0"
source = { editable = "py/app" }
dependencies = [{ name = "lib" }, { name = "httpx" }]

[[package]]
name = "lib"
version = "0.1.0"
source = { editable = "py/lib" }

[package.optional-dependencies]
fast = [{ name = "idna" }]

[[package]]
name = "httpx"
version = "0.27.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "idna" }]

[[package]]
name = "idna"
version = "3.6"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "iniconfig"
version = "2.0.0"
source = { registry = "https://pypi.org/simple" }
"#;

    #[test]
    fn changes_walk_up_to_members_and_the_virtual_root() {
        check(BASE, BASE, "");
        check(
            BASE,
            &BASE.replace("version = \"3.6\"", "version = \"3.7\""),
            "lib: idna 3.6 -> 3.7\nservice: idna 3.6 -> 3.7",
        );
        check(
            BASE,
            &BASE.replace("0.27.0", "0.28.0"),
            "service: httpx 0.27.0 -> 0.28.0",
        );
        check(
            BASE,
            &BASE.replace("version = \"2.0.0\"", "version = \"2.1.0\""),
            "(root): iniconfig 2.0.0 -> 2.1.0",
        );
    }

    #[test]
    fn junk_is_everything() {
        check(
            BASE,
            "[[package]\n",
            concat!(
                "everything: uv.lock could not be parsed (at head: unclosed array table, expected `]`), so every package is affected\n",
                "warning: uv.lock could not be parsed (at head: unclosed array table, expected `]`), so every package is affected"
            ),
        );
    }
}
