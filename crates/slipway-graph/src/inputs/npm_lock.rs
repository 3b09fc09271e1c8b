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
mod tests {
    use crate::inputs::SharedInput;

    fn check(base: &str, head: &str, expected: &str) {
        crate::inputs::testing::check(SharedInput::NpmLock, Some(base), Some(head), expected);
    }

    const BASE: &str = r#"{"lockfileVersion": 3, "packages": {
        "": {"workspaces": ["apps/*", "packages/*"]},
        "apps/web": {"name": "web", "dependencies": {"@x/ui": "*", "react": "^18"}},
        "packages/ui": {"name": "@x/ui", "dependencies": {"lodash": "^4"}},
        "node_modules/web": {"resolved": "apps/web", "link": true},
        "node_modules/@x/ui": {"resolved": "packages/ui", "link": true},
        "node_modules/react": {"version": "18.2.0", "integrity": "sha512-a"},
        "node_modules/lodash": {"version": "4.17.20", "integrity": "sha512-b"}
    }}"#;

    #[test]
    fn node_resolution_reaches_the_members() {
        check(BASE, BASE, "");
        check(
            BASE,
            &BASE.replace(
                "4.17.20\", \"integrity\": \"sha512-b",
                "4.17.21\", \"integrity\": \"sha512-c",
            ),
            "@x/ui: lodash 4.17.20 -> 4.17.21",
        );
        check(
            BASE,
            &BASE.replace(
                "18.2.0\", \"integrity\": \"sha512-a",
                "18.3.0\", \"integrity\": \"sha512-d",
            ),
            "web: react 18.2.0 -> 18.3.0",
        );
    }

    #[test]
    fn the_roots_own_dependencies_are_the_roots() {
        let base = BASE.replace(
            r#""": {"workspaces": ["apps/*", "packages/*"]},"#,
            r#""": {"workspaces": ["apps/*", "packages/*"], "devDependencies": {"vitest": "3.1.0"}},
        "node_modules/vitest": {"version": "3.1.0", "dev": true, "integrity": "sha512-v"},"#,
        );
        check(
            &base,
            &base.replace(
                r#""3.1.0", "dev": true, "integrity": "sha512-v""#,
                r#""3.2.0", "dev": true, "integrity": "sha512-w""#,
            ),
            "(root): vitest 3.1.0 -> 3.2.0",
        );
    }

    #[test]
    fn junk_is_everything() {
        check(
            BASE,
            "{\"packages\": ",
            concat!(
                "everything: package-lock.json could not be parsed (at head: EOF while parsing a value at line 1 column 13), so every package is affected\n",
                "warning: package-lock.json could not be parsed (at head: EOF while parsing a value at line 1 column 13), so every package is affected"
            ),
        );
        check(
            BASE,
            "[]",
            concat!(
                "everything: package-lock.json could not be parsed (at head: lockfileVersion 0 has no \"packages\" map (version 1 lockfiles are not supported; npm 7 and later write version 2 or 3)), so every package is affected\n",
                "warning: package-lock.json could not be parsed (at head: lockfileVersion 0 has no \"packages\" map (version 1 lockfiles are not supported; npm 7 and later write version 2 or 3)), so every package is affected"
            ),
        );
    }
}
