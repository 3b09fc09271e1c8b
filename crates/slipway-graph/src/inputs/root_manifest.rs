//! The root manifests: a change to `[workspace.dependencies]` in the root
//! `Cargo.toml`, or to the root `package.json`'s overrides, concerns only
//! the members using the changed entries; a change to the root
//! `package.json`'s own dependencies is the root's (every package's
//! tooling). Any other change to them concerns everything.

use std::collections::BTreeSet;

use serde_json::Value as Json;
use toml::{Table, Value as Toml};

use super::InputDiff;
use super::lock_graph::{join_limited, users_of};
use crate::affected::Resolution;
use crate::graph::PackageGraph;
use crate::model::{Ecosystem, PackageId};

/// Top-level tables of a root `Cargo.toml` that describe the root package
/// itself rather than the workspace.
const PACKAGE_TABLES: [&str; 12] = [
    "package",
    "dependencies",
    "dev-dependencies",
    "build-dependencies",
    "target",
    "features",
    "lib",
    "bin",
    "example",
    "test",
    "bench",
    "badges",
];

pub(super) fn cargo(graph: &PackageGraph, base: Option<&str>, head: Option<&str>) -> InputDiff {
    let (old, new) = match toml_sides(base, head) {
        Ok(sides) => sides,
        Err(err) => return unparseable("Cargo.toml", &err),
    };
    let (old_ws, new_ws) = (table(&old, "workspace"), table(&new, "workspace"));

    let mut packages: Vec<(PackageId, String)> = Vec::new();
    for key in changed_keys(&old, &new) {
        if key == "workspace" {
            continue;
        }
        if PACKAGE_TABLES.contains(&key.as_str())
            && let Some(root) = graph.package_at(".", Ecosystem::Cargo)
        {
            packages.push((root, format!("[{key}] of the root package")));
            continue;
        }
        return everything(format!("root Cargo.toml [{key}] changed"));
    }
    for key in changed_keys(&old_ws, &new_ws) {
        if key != "dependencies" {
            return everything(format!("root Cargo.toml [workspace.{key}] changed"));
        }
    }
    let (old_deps, new_deps) = (
        table(&old_ws, "dependencies"),
        table(&new_ws, "dependencies"),
    );
    let changed: BTreeSet<String> = changed_keys(&old_deps, &new_deps).into_iter().collect();
    for name in &changed {
        let users: Vec<PackageId> = graph
            .ids()
            .filter(|&id| {
                graph.package(id).ecosystem == Ecosystem::Cargo
                    && graph
                        .externals(id)
                        .iter()
                        .any(|(n, req)| n == name && req == "workspace")
            })
            .collect();
        if users.is_empty() {
            tracing::info!(
                dependency = name,
                "workspace dependency changed; no member inherits it"
            );
        }
        for id in users {
            packages.push((id, format!("[workspace.dependencies] {name}")));
        }
    }
    merge(packages)
}

/// Keys of a root `package.json` that describe the repository, not how
/// anything builds: a change to them affects nothing.
const METADATA_KEYS: [&str; 10] = [
    "name",
    "version",
    "description",
    "keywords",
    "homepage",
    "bugs",
    "repository",
    "author",
    "contributors",
    "funding",
];

/// The sections of the root's own dependencies.
const DEPENDENCY_SECTIONS: [&str; 4] = [
    "dependencies",
    "devDependencies",
    "optionalDependencies",
    "peerDependencies",
];

/// A root `package.json` change: the root's own dependencies are reported
/// as the root's (they are every package's tooling); overrides concern the
/// members that use the overridden packages, and the root when it does;
/// metadata concerns nothing; anything else (scripts, `packageManager`,
/// `workspaces`) concerns everything.
pub(super) fn package_json(
    graph: &PackageGraph,
    base: Option<&str>,
    head: Option<&str>,
) -> InputDiff {
    let (old, new) = match (json_object(base, "base"), json_object(head, "head")) {
        (Ok(old), Ok(new)) => (old, new),
        (Err(err), _) | (_, Err(err)) => return unparseable("package.json", &err),
    };
    let mut own: BTreeSet<String> = BTreeSet::new();
    let mut overridden = BTreeSet::new();
    let mut catalogs = BTreeSet::new();
    for key in json_changed_keys(&old, &new) {
        match key.as_str() {
            "catalog" | "catalogs" => catalogs.extend(json_catalogs(&key, &old, &new)),
            "workspaces" => {
                let (was, now) = (object(&old, &key), object(&new, &key));
                for sub in json_changed_keys(&was, &now) {
                    if sub != "catalog" && sub != "catalogs" {
                        return everything("root package.json \"workspaces\" changed".to_owned());
                    }
                    catalogs.extend(json_catalogs(&sub, &was, &now));
                }
                if was.is_empty() || now.is_empty() {
                    return everything("root package.json \"workspaces\" changed".to_owned());
                }
            }
            section if DEPENDENCY_SECTIONS.contains(&section) => {
                let (was, now) = (object(&old, section), object(&new, section));
                for name in json_changed_keys(&was, &now) {
                    own.insert(format!(
                        "{section} {name} {}",
                        spec_change(was.get(&name), now.get(&name))
                    ));
                }
            }
            "overrides" | "resolutions" => {
                overridden.extend(json_changed_keys(&object(&old, &key), &object(&new, &key)));
            }
            "pnpm" => {
                let (old_pnpm, new_pnpm) = (object(&old, "pnpm"), object(&new, "pnpm"));
                for sub in json_changed_keys(&old_pnpm, &new_pnpm) {
                    if sub != "overrides" {
                        return everything(format!("root package.json pnpm.{sub} changed"));
                    }
                    overridden.extend(json_changed_keys(
                        &object(&old_pnpm, "overrides"),
                        &object(&new_pnpm, "overrides"),
                    ));
                }
            }
            // An Nx root project's own configuration and targets: that
            // project's (added below).
            "nx" | "scripts" if graph.root_is_shared() => {}
            metadata if METADATA_KEYS.contains(&metadata) => {
                tracing::debug!(key = metadata, "root package.json metadata changed");
            }
            other => return everything(format!("root package.json \"{other}\" changed")),
        }
    }
    let mut packages = override_users(graph, overridden, &mut own);
    let (catalog_users, catalog_root) = super::catalog::users(graph, &catalogs);
    packages.extend(catalog_users);
    // An Nx root project owns its package.json.
    if graph.root_is_shared()
        && old != new
        && let Some(root) = graph.package_at(".", Ecosystem::Npm)
    {
        packages.push((root, "package.json changed".to_owned()));
    }
    own.extend(catalog_root);
    let mut diff = merge(packages);
    if let Resolution::Packages { root, .. } = &mut diff.resolution
        && !own.is_empty()
    {
        *root = Some(join_limited(&own));
    }
    diff
}

/// The packages that use an overridden package, each with the overrides
/// it uses; the root's own use goes to `own`. Override keys may carry a
/// range or a parent: `lodash@<4`, `a>b`.
fn override_users(
    graph: &PackageGraph,
    overridden: BTreeSet<String>,
    own: &mut BTreeSet<String>,
) -> Vec<(PackageId, String)> {
    let overridden: BTreeSet<String> = overridden
        .into_iter()
        .map(|n| {
            let last = n.rsplit('>').next().unwrap_or(&n).to_owned();
            match last.get(1..).and_then(|rest| rest.find('@')) {
                Some(i) => last[..=i].to_owned(),
                None => last,
            }
        })
        .collect();
    if graph
        .root_externals()
        .iter()
        .any(|(name, _)| overridden.contains(name))
    {
        own.insert(format!("overrides {}", join_limited(&overridden)));
    }
    users_of(graph, &overridden)
        .into_iter()
        .map(|id| {
            let mine: BTreeSet<String> = graph
                .externals(id)
                .iter()
                .filter(|(n, _)| overridden.contains(n))
                .map(|(n, _)| n.clone())
                .collect();
            (id, format!("root override {}", join_limited(&mine)))
        })
        .collect()
}

/// A virtual uv workspace root's `pyproject.toml`: its dependency groups
/// (and `[tool.uv] dev-dependencies`) are the root's own; overrides and
/// constraints concern the members using the named projects, and the root
/// when it does; anything else (sources, the workspace, tool settings
/// every member reads) concerns everything.
pub(super) fn pyproject(graph: &PackageGraph, base: Option<&str>, head: Option<&str>) -> InputDiff {
    let (old, new) = match toml_sides(base, head) {
        Ok(sides) => sides,
        Err(err) => return unparseable("pyproject.toml", &err),
    };
    let mut own = BTreeSet::new();
    let mut overridden = BTreeSet::new();
    for key in changed_keys(&old, &new) {
        match key.as_str() {
            "dependency-groups" => {
                let (was, now) = (table(&old, &key), table(&new, &key));
                for group in changed_keys(&was, &now) {
                    own.insert(format!("dependency group {group}"));
                }
            }
            "tool" => {
                let (old_tool, new_tool) = (table(&old, "tool"), table(&new, "tool"));
                for tool in changed_keys(&old_tool, &new_tool) {
                    if tool != "uv" {
                        return everything(format!("root pyproject.toml [tool.{tool}] changed"));
                    }
                }
                let (old_uv, new_uv) = (table(&old_tool, "uv"), table(&new_tool, "uv"));
                for setting in changed_keys(&old_uv, &new_uv) {
                    match setting.as_str() {
                        "dev-dependencies" => {
                            own.insert("[tool.uv] dev-dependencies".to_owned());
                        }
                        "override-dependencies" | "constraint-dependencies" => {
                            let names = |t: &Table| -> BTreeSet<String> {
                                t.get(&setting)
                                    .and_then(Toml::as_array)
                                    .into_iter()
                                    .flatten()
                                    .filter_map(Toml::as_str)
                                    .map(str::to_owned)
                                    .collect()
                            };
                            let (was, now) = (names(&old_uv), names(&new_uv));
                            overridden.extend(
                                was.symmetric_difference(&now)
                                    .filter_map(|spec| crate::discover::requirement_name(spec)),
                            );
                        }
                        other => {
                            return everything(format!(
                                "root pyproject.toml [tool.uv] {other} changed"
                            ));
                        }
                    }
                }
            }
            other => return everything(format!("root pyproject.toml [{other}] changed")),
        }
    }
    if graph
        .root_externals()
        .iter()
        .any(|(name, _)| overridden.contains(name))
    {
        own.insert(format!("overrides {}", join_limited(&overridden)));
    }
    let packages = users_of(graph, &overridden)
        .into_iter()
        .map(|id| (id, format!("root override {}", join_limited(&overridden))))
        .collect();
    let mut diff = merge(packages);
    if let Resolution::Packages { root, .. } = &mut diff.resolution
        && !own.is_empty()
    {
        *root = Some(join_limited(&own));
    }
    diff
}

/// The entries of `catalog` or `catalogs` (in `old` and `new`) that differ.
fn json_catalogs(
    key: &str,
    old: &serde_json::Map<String, Json>,
    new: &serde_json::Map<String, Json>,
) -> Vec<super::catalog::Entry> {
    let (was, now) = (
        old.get(key).cloned().unwrap_or(Json::Null),
        new.get(key).cloned().unwrap_or(Json::Null),
    );
    if key == "catalog" {
        return super::catalog::json_changed("default", &was, &now);
    }
    let names: BTreeSet<String> = [&was, &now]
        .iter()
        .filter_map(|v| v.as_object())
        .flat_map(|m| m.keys().cloned())
        .collect();
    names
        .iter()
        .flat_map(|name| {
            super::catalog::json_changed(
                name,
                was.get(name).unwrap_or(&Json::Null),
                now.get(name).unwrap_or(&Json::Null),
            )
        })
        .collect()
}

/// `^3.1.0 -> ^3.2.0`, `^3.1.0 added`, `^3.1.0 removed`.
fn spec_change(was: Option<&Json>, now: Option<&Json>) -> String {
    let text = |v: &Json| match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    match (was, now) {
        (Some(was), Some(now)) => format!("{} -> {}", text(was), text(now)),
        (None, Some(now)) => format!("{} added", text(now)),
        (Some(was), None) => format!("{} removed", text(was)),
        (None, None) => String::new(),
    }
}

/// Both sides of a root TOML manifest (`None`: absent, read as empty).
fn toml_sides(base: Option<&str>, head: Option<&str>) -> Result<(Table, Table), String> {
    let parse = |text: Option<&str>, side: &str| -> Result<Table, String> {
        toml::from_str(text.unwrap_or("")).map_err(|err| format!("at {side}: {}", err.message()))
    };
    Ok((parse(base, "base")?, parse(head, "head")?))
}

/// The table under `key`, empty when absent or not a table.
fn table(t: &Table, key: &str) -> Table {
    t.get(key)
        .and_then(Toml::as_table)
        .cloned()
        .unwrap_or_default()
}

/// One side of a root `package.json` (`None`: absent, read as `{}`).
fn json_object(text: Option<&str>, side: &str) -> Result<serde_json::Map<String, Json>, String> {
    match serde_json::from_str::<Json>(text.unwrap_or("{}")) {
        Ok(Json::Object(map)) => Ok(map),
        Ok(_) => Err(format!("at {side}: not a JSON object")),
        Err(err) => Err(format!("at {side}: {err}")),
    }
}

/// The object under `key`, empty when absent or not an object.
fn object(m: &serde_json::Map<String, Json>, key: &str) -> serde_json::Map<String, Json> {
    m.get(key)
        .and_then(Json::as_object)
        .cloned()
        .unwrap_or_default()
}

fn changed_keys(old: &Table, new: &Table) -> Vec<String> {
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    keys.into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .cloned()
        .collect()
}

fn json_changed_keys(
    old: &serde_json::Map<String, Json>,
    new: &serde_json::Map<String, Json>,
) -> Vec<String> {
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    keys.into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .cloned()
        .collect()
}

fn merge(mut packages: Vec<(PackageId, String)>) -> InputDiff {
    packages.sort();
    let mut merged: Vec<(PackageId, String)> = Vec::new();
    for (id, detail) in packages {
        match merged.last_mut() {
            Some((last, text)) if *last == id => {
                text.push_str(", ");
                text.push_str(&detail);
            }
            _ => merged.push((id, detail)),
        }
    }
    InputDiff {
        resolution: Resolution::packages(merged),
        warnings: Vec::new(),
    }
}

fn everything(why: String) -> InputDiff {
    InputDiff {
        resolution: Resolution::Everything(why),
        warnings: Vec::new(),
    }
}

fn unparseable(file: &str, err: &str) -> InputDiff {
    let why = format!("root {file} could not be parsed ({err}), so every package is affected");
    InputDiff {
        resolution: Resolution::Everything(why.clone()),
        warnings: vec![why],
    }
}

#[cfg(test)]
mod data_tests {
    use crate::inputs::SharedInput;

    fn cargo(base: &str, head: &str, expected: &str) {
        crate::inputs::testing::check(SharedInput::CargoRoot, Some(base), Some(head), expected);
    }

    fn package_json(base: &str, head: &str, expected: &str) {
        crate::inputs::testing::check(
            SharedInput::PackageJsonRoot,
            Some(base),
            Some(head),
            expected,
        );
    }

    const CARGO: &str = "[workspace]\nmembers = [\"crates/*\"]\n[workspace.dependencies]\nserde = \"1.0.1\"\nitoa = \"1\"\n";

    #[test]
    fn root_cargo_toml() {
        cargo(CARGO, CARGO, "");
        cargo(CARGO, &CARGO.replace("1.0.1", "1.0.2"), "");
        cargo(
            CARGO,
            &CARGO.replace(
                "members = [\"crates/*\"]",
                "members = [\"crates/*\"]\nresolver = \"2\"",
            ),
            "everything: root Cargo.toml [workspace.resolver] changed",
        );
        cargo(
            CARGO,
            "[workspace",
            concat!(
                "everything: root Cargo.toml could not be parsed (at head: unclosed table, expected `]`), so every package is affected\n",
                "warning: root Cargo.toml could not be parsed (at head: unclosed table, expected `]`), so every package is affected"
            ),
        );
    }

    const PACKAGE: &str = r#"{"workspaces": ["apps/*", "packages/*"], "devDependencies": {"vitest": "3.1.0"}, "scripts": {"test": "vitest"}}"#;

    const PYPROJECT: &str = "[tool.uv.workspace]\nmembers = [\"py/*\"]\n\n[tool.uv]\noverride-dependencies = [\"httpx==0.27.0\"]\n\n[dependency-groups]\ndev = [\"pytest>=8\"]\n";

    #[test]
    fn root_pyproject_toml() {
        let check = |head: &str, expected: &str| {
            crate::inputs::testing::check(
                SharedInput::PyprojectRoot,
                Some(PYPROJECT),
                Some(head),
                expected,
            );
        };
        check(PYPROJECT, "");
        check(
            &PYPROJECT.replace("pytest>=8", "pytest>=9"),
            "(root): dependency group dev",
        );
        check(
            &PYPROJECT.replace("httpx==0.27.0", "httpx==0.28.0"),
            "service: root override httpx",
        );
        check(
            &PYPROJECT.replace("py/*", "python/*"),
            "everything: root pyproject.toml [tool.uv] workspace changed",
        );
        check(
            &format!("{PYPROJECT}\n[tool.ruff]\nline-length = 100\n"),
            "everything: root pyproject.toml [tool.ruff] changed",
        );
    }

    #[test]
    fn root_package_json_catalogs() {
        let base = r#"{"workspaces": {"packages": ["packages/*"], "catalog": {"vitest": "3.1.0"}, "catalogs": {"legacy": {"left-pad": "1.2.0"}}}, "devDependencies": {"vitest": "catalog:"}}"#;
        // Catalog entries concern only their takers (the test graph has
        // none; the end-to-end tests have them): not everything.
        package_json(
            base,
            &base.replace("\"vitest\": \"3.1.0\"", "\"vitest\": \"3.2.0\""),
            "",
        );
        package_json(base, &base.replace("1.2.0", "1.3.0"), "");
        package_json(
            base,
            &base.replace("packages/*", "pkgs/*"),
            "everything: root package.json \"workspaces\" changed",
        );
    }

    #[test]
    fn root_package_json() {
        package_json(PACKAGE, PACKAGE, "");
        package_json(
            PACKAGE,
            &PACKAGE.replace("3.1.0", "3.2.0"),
            "(root): devDependencies vitest 3.1.0 -> 3.2.0",
        );
        package_json(
            PACKAGE,
            &PACKAGE.replace(
                "\"3.1.0\"}",
                "\"3.1.0\", \"@x/lint\": \"workspace:*\"}, \"description\": \"x\"",
            ),
            "(root): devDependencies @x/lint workspace:* added",
        );
        package_json(
            PACKAGE,
            &PACKAGE.replace(
                "{\"workspaces\"",
                "{\"overrides\": {\"left-pad\": \"1.3.0\", \"vitest\": \"3.2.0\"}, \"workspaces\"",
            ),
            "(root): overrides left-pad, vitest",
        );
        package_json(
            PACKAGE,
            &PACKAGE.replace("vitest\"}", "vitest run\"}"),
            "everything: root package.json \"scripts\" changed",
        );
        package_json(
            PACKAGE,
            "[1]",
            concat!(
                "everything: root package.json could not be parsed (at head: not a JSON object), so every package is affected\n",
                "warning: root package.json could not be parsed (at head: not a JSON object), so every package is affected"
            ),
        );
    }
}
