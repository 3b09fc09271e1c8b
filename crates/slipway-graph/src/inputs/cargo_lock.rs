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
mod tests {
    use crate::inputs::SharedInput;

    fn check(base: &str, head: &str, expected: &str) {
        crate::inputs::testing::check(SharedInput::CargoLock, Some(base), Some(head), expected);
    }

    const BASE: &str = r#"
version = 4
[[package]]
name = "app"
version = "0.1.0"
dependencies = ["core", "serde"]
[[package]]
name = "core"
version = "0.1.0"
dependencies = ["itoa"]
[[package]]
name = "itoa"
version = "1.0.1"
source = "registry+https://github.com/rust-lang/crates.io-index"
[[package]]
name = "serde"
version = "1.0.1"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#;

    #[test]
    fn a_bump_reaches_the_members_that_use_it() {
        check(BASE, BASE, "");
        check(
            BASE,
            &BASE.replace("1.0.1\"\nsource", "1.0.2\"\nsource"),
            concat!("app: serde 1.0.1 -> 1.0.2\n", "core: itoa 1.0.1 -> 1.0.2"),
        );
        check(
            BASE,
            &BASE.replace("\"serde\"]", "]"),
            "app: serde 1.0.1 changed",
        );
    }

    #[test]
    fn a_lockfile_that_does_not_parse_is_everything() {
        check(
            BASE,
            "[[package]\n",
            concat!(
                "everything: Cargo.lock could not be parsed (at head: unclosed array table, expected `]`), so every package is affected\n",
                "warning: Cargo.lock could not be parsed (at head: unclosed array table, expected `]`), so every package is affected"
            ),
        );
        check(
            BASE,
            &BASE.replace("\"core\", ", "\"nothing\", "),
            concat!(
                "everything: Cargo.lock could not be parsed (at head: app depends on \"nothing\", which the lockfile does not list), so every package is affected\n",
                "warning: Cargo.lock could not be parsed (at head: app depends on \"nothing\", which the lockfile does not list), so every package is affected"
            ),
        );
    }
}
