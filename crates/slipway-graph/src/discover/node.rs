//! npm, yarn and Bun workspaces (`workspaces` in the root `package.json`)
//! and pnpm workspaces (`pnpm-workspace.yaml`).

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::dirglob;
use super::{read_manifests, read_optional};
use crate::error::GraphError;
use crate::graph::GraphBuilder;
use crate::model::{DepKind, Ecosystem, PackageId};
use crate::paths::{child, join};

const MANIFEST: &str = "package.json";
const PNPM_WORKSPACE: &str = "pnpm-workspace.yaml";

/// The parts of a member's `package.json` the graph needs. Everything else
/// (scripts, exports, …) is skipped without being built, which is most of
/// the time spent on a large workspace.
#[derive(Debug, serde::Deserialize)]
struct Member {
    name: Option<Value>,
    #[serde(default, deserialize_with = "pairs")]
    dependencies: Deps,
    #[serde(default, rename = "devDependencies", deserialize_with = "pairs")]
    dev_dependencies: Deps,
    #[serde(default, rename = "peerDependencies", deserialize_with = "pairs")]
    peer_dependencies: Deps,
    #[serde(default, rename = "optionalDependencies", deserialize_with = "pairs")]
    optional_dependencies: Deps,
}

type Deps = Vec<(String, String)>;

impl Member {
    fn dependencies(&self) -> impl Iterator<Item = (&str, &str, DepKind)> {
        [
            (&self.dependencies, DepKind::Normal),
            (&self.dev_dependencies, DepKind::Dev),
            (&self.peer_dependencies, DepKind::Peer),
            (&self.optional_dependencies, DepKind::Optional),
        ]
        .into_iter()
        .flat_map(|(deps, kind)| {
            deps.iter()
                .map(move |(name, spec)| (name.as_str(), spec.as_str(), kind))
        })
    }
}

pub(super) fn discover(root: &Path, builder: &mut GraphBuilder) -> Result<bool, GraphError> {
    let root_manifest = match read_optional(root, MANIFEST)? {
        Some(text) => Some(parse_json(root, MANIFEST, &text)?),
        None => None,
    };
    let (ecosystem, patterns, source) = if let Some(text) = read_optional(root, PNPM_WORKSPACE)? {
        (Ecosystem::Pnpm, pnpm_patterns(root, &text)?, PNPM_WORKSPACE)
    } else if let Some(patterns) = root_manifest
        .as_ref()
        .map(|m| npm_patterns(root, m))
        .transpose()?
        .flatten()
    {
        (
            npm_flavour(root, root_manifest.as_ref()),
            patterns,
            MANIFEST,
        )
    } else {
        return Ok(false);
    };

    let expanded = dirglob::expand(root, &patterns, MANIFEST, &root.join(source))?;
    for glob in expanded.globs {
        builder.add_package_dir_glob(glob);
    }
    let parsed = read_manifests(root, &expanded.dirs, MANIFEST, |rel, text| {
        serde_json::from_str::<Member>(text).map_err(|err| GraphError::json(root.join(rel), &err))
    })?;
    let mut manifests = Vec::with_capacity(expanded.dirs.len());
    let mut by_dir: HashMap<String, PackageId> = HashMap::with_capacity(expanded.dirs.len());
    for (dir, manifest) in expanded.dirs.into_iter().zip(parsed) {
        let Some(manifest) = manifest else { continue };
        let name = member_name(root, &dir, &manifest)?;
        let id = builder.add_package(&name, &dir, ecosystem)?;
        by_dir.insert(dir.clone(), id);
        manifests.push((id, dir, manifest));
    }

    for (id, dir, manifest) in &manifests {
        for (name, spec, kind) in manifest.dependencies() {
            match resolve(builder, &by_dir, ecosystem, dir, name, spec) {
                Some(target) if target != *id => builder.add_edge(*id, target, kind),
                Some(_) => {}
                None => {
                    if let Some(outside) = local_path(dir, spec) {
                        builder.add_outside_source(*id, &outside);
                    } else if let Some(path) = ["file:", "link:", "portal:"]
                        .iter()
                        .find_map(|protocol| spec.strip_prefix(protocol))
                    {
                        // A package of a neighbouring root (`file:../x`).
                        builder.add_path_link(*id, &crate::paths::join_outward(dir, path), kind);
                    }
                    builder.add_external(*id, name, spec);
                }
            }
        }
    }
    if let Some(manifest) = root_manifest
        && !by_dir.contains_key(".")
    {
        add_root(root, builder, &by_dir, ecosystem, manifest)?;
    }
    Ok(true)
}

/// A member's name; a nameless one (pnpm accepts them; nothing can depend
/// on it by name) is named by its directory.
fn member_name(root: &Path, dir: &str, manifest: &Member) -> Result<String, GraphError> {
    let rel = child(dir, MANIFEST);
    match &manifest.name {
        Some(Value::String(name)) if !name.is_empty() => Ok(name.clone()),
        None => {
            let fallback = dir.rsplit('/').next().unwrap_or(dir).to_owned();
            tracing::warn!(
                manifest = rel,
                name = fallback,
                "package has no name; using its directory name"
            );
            Ok(fallback)
        }
        Some(_) => Err(GraphError::manifest(
            root.join(&rel),
            "\"name\" must be a non-empty string",
        )),
    }
}

/// The root's own dependencies, when the root is no workspace package: on
/// workspace packages (its tooling built from the workspace) and outside.
fn add_root(
    root: &Path,
    builder: &mut GraphBuilder,
    by_dir: &HashMap<String, PackageId>,
    ecosystem: Ecosystem,
    manifest: Value,
) -> Result<(), GraphError> {
    let manifest: Member = serde_json::from_value(manifest)
        .map_err(|err| GraphError::json(root.join(MANIFEST), &err))?;
    for (name, spec, kind) in manifest.dependencies() {
        match resolve(builder, by_dir, ecosystem, ".", name, spec) {
            Some(target) => builder.add_root_dependency(target, kind),
            None => builder.add_root_external(name, spec),
        }
    }
    Ok(())
}

/// A lone `package.json` without workspaces, found by the walk for
/// projects when the repository has no root workspace: one package,
/// joined to its neighbours through `file:`/`link:` dependencies leaving
/// it. Returns whether it was one.
pub(super) fn discover_lone(root: &Path, builder: &mut GraphBuilder) -> Result<bool, GraphError> {
    let Some(text) = read_optional(root, MANIFEST)? else {
        return Ok(false);
    };
    let manifest: Member =
        serde_json::from_str(&text).map_err(|err| GraphError::json(root.join(MANIFEST), &err))?;
    let Some(Value::String(name)) = &manifest.name else {
        return Ok(false);
    };
    let value: Option<Value> = serde_json::from_str(&text).ok();
    let id = builder.add_package(name, ".", npm_flavour(root, value.as_ref()))?;
    for (dep, spec, kind) in manifest.dependencies() {
        if let Some(outside) = local_path(".", spec) {
            builder.add_outside_source(id, &outside);
        } else if let Some(path) = ["file:", "link:", "portal:"]
            .iter()
            .find_map(|protocol| spec.strip_prefix(protocol))
        {
            builder.add_path_link(id, &crate::paths::join_outward(".", path), kind);
        }
        builder.add_external(id, dep, spec);
    }
    Ok(true)
}

/// The directory a `file:`, `link:` or `portal:` dependency points at.
fn local_path(dir: &str, spec: &str) -> Option<String> {
    ["file:", "link:", "portal:"]
        .iter()
        .find_map(|protocol| spec.strip_prefix(protocol))
        .and_then(|path| join(dir, path))
}

/// The workspace package a dependency entry names, if any.
///
/// Any entry naming a workspace package counts, whatever its version range:
/// marking a package affected when it may be linked costs one job, missing
/// it ships an untested change.
fn resolve(
    builder: &GraphBuilder,
    by_dir: &HashMap<String, PackageId>,
    ecosystem: Ecosystem,
    dir: &str,
    name: &str,
    spec: &str,
) -> Option<PackageId> {
    if let Some(path) = local_path(dir, spec) {
        return by_dir.get(&path).copied();
    }
    if spec.starts_with("file:") || spec.starts_with("link:") || spec.starts_with("portal:") {
        return None;
    }
    // `npm:real-name@range` installs `real-name` under the alias `name`.
    if let Some(alias) = spec.strip_prefix("npm:") {
        let real = match alias.get(1..).and_then(|rest| rest.find('@')) {
            Some(at) => &alias[..=at],
            None => alias,
        };
        return builder.lookup(ecosystem, real);
    }
    builder.lookup(ecosystem, name)
}

/// The package manager of the root at `root`, workspaces or not.
pub(super) fn flavour(root: &Path) -> Ecosystem {
    if root.join(PNPM_WORKSPACE).is_file() || root.join("pnpm-lock.yaml").is_file() {
        return Ecosystem::Pnpm;
    }
    let manifest = read_optional(root, MANIFEST)
        .ok()
        .flatten()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok());
    let package_manager = manifest
        .as_ref()
        .and_then(|m| m.get("packageManager"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if package_manager.starts_with("pnpm@") {
        return Ecosystem::Pnpm;
    }
    npm_flavour(root, manifest.as_ref())
}

fn npm_flavour(root: &Path, manifest: Option<&Value>) -> Ecosystem {
    let package_manager = manifest
        .and_then(|m| m.get("packageManager"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if package_manager.starts_with("bun@")
        || root.join("bun.lock").is_file()
        || root.join("bun.lockb").is_file()
    {
        Ecosystem::Bun
    } else if package_manager.starts_with("yarn@") || root.join("yarn.lock").is_file() {
        Ecosystem::Yarn
    } else {
        Ecosystem::Npm
    }
}

fn npm_patterns(root: &Path, manifest: &Value) -> Result<Option<Vec<String>>, GraphError> {
    let list = match manifest.get("workspaces") {
        None => return Ok(None),
        Some(Value::Object(object)) => object
            .get("packages")
            .cloned()
            .unwrap_or(Value::Array(Vec::new())),
        Some(other) => other.clone(),
    };
    let invalid = || {
        GraphError::manifest(
            root.join(MANIFEST),
            "\"workspaces\" must be an array of globs or an object with a \"packages\" array",
        )
    };
    let Value::Array(items) = list else {
        return Err(invalid());
    };
    items
        .into_iter()
        .map(|v| match v {
            Value::String(s) => Ok(s),
            _ => Err(invalid()),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn pnpm_patterns(root: &Path, text: &str) -> Result<Vec<String>, GraphError> {
    let path = root.join(PNPM_WORKSPACE);
    let doc = crate::yaml::load(text).map_err(|err| GraphError::Syntax {
        path: path.clone(),
        format: "YAML",
        line: err.line,
        column: err.column,
        message: err.message,
    })?;
    let packages = &doc["packages"];
    if packages.is_badvalue() || packages.is_null() {
        return Ok(Vec::new());
    }
    let invalid = || GraphError::manifest(&path, "\"packages\" must be a list of globs");
    packages
        .as_vec()
        .ok_or_else(invalid)?
        .iter()
        .map(|item| item.as_str().map(str::to_owned).ok_or_else(invalid))
        .collect()
}

/// A JSON object of strings as pairs, in file order. A range that is not a
/// string (npm would refuse it) reads as empty: it still names the package.
fn pairs<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Deps, D::Error> {
    struct Visitor;
    impl<'de> serde::de::Visitor<'de> for Visitor {
        type Value = Deps;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object of package names to version ranges")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Deps, A::Error> {
            let mut out = Vec::with_capacity(map.size_hint().unwrap_or(4));
            while let Some((name, spec)) = map.next_entry::<String, Value>()? {
                let spec = match spec {
                    Value::String(s) => s,
                    _ => String::new(),
                };
                out.push((name, spec));
            }
            Ok(out)
        }
    }
    de.deserialize_map(Visitor)
}

pub(crate) fn parse_json(root: &Path, rel: &str, text: &str) -> Result<Value, GraphError> {
    serde_json::from_str(text).map_err(|err| GraphError::json(root.join(rel), &err))
}
