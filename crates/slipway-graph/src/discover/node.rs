//! npm and yarn workspaces (`workspaces` in the root `package.json`) and
//! pnpm workspaces (`pnpm-workspace.yaml`).

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::dirglob;
use super::{read_optional, read_required};
use crate::error::GraphError;
use crate::graph::GraphBuilder;
use crate::model::{DepKind, Ecosystem, PackageId};
use crate::paths::{child, join};

const MANIFEST: &str = "package.json";
const PNPM_WORKSPACE: &str = "pnpm-workspace.yaml";

const DEP_FIELDS: [(&str, DepKind); 4] = [
    ("dependencies", DepKind::Normal),
    ("devDependencies", DepKind::Dev),
    ("peerDependencies", DepKind::Peer),
    ("optionalDependencies", DepKind::Optional),
];

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
    let mut manifests = Vec::with_capacity(expanded.dirs.len());
    let mut by_dir: HashMap<String, PackageId> = HashMap::with_capacity(expanded.dirs.len());
    for dir in expanded.dirs {
        let rel = child(&dir, MANIFEST);
        let manifest = parse_json(root, &rel, &read_required(root, &rel)?)?;
        let name = match manifest.get("name") {
            Some(Value::String(name)) if !name.is_empty() => name.clone(),
            None => {
                // pnpm accepts nameless workspace packages; they can't be
                // depended on by name, so the directory names them here.
                let fallback = dir.rsplit('/').next().unwrap_or(&dir).to_owned();
                tracing::warn!(
                    manifest = rel,
                    name = fallback,
                    "package has no name; using its directory name"
                );
                fallback
            }
            Some(_) => {
                return Err(GraphError::manifest(
                    root.join(&rel),
                    "\"name\" must be a non-empty string",
                ));
            }
        };
        let id = builder.add_package(&name, &dir, ecosystem)?;
        by_dir.insert(dir.clone(), id);
        manifests.push((id, dir, manifest));
    }

    for (id, dir, manifest) in &manifests {
        for (field, kind) in DEP_FIELDS {
            let Some(deps) = manifest.get(field).and_then(Value::as_object) else {
                continue;
            };
            for (name, spec) in deps {
                let target = resolve(
                    builder,
                    &by_dir,
                    ecosystem,
                    dir,
                    name,
                    spec.as_str().unwrap_or(""),
                );
                match target {
                    Some(target) if target != *id => builder.add_edge(*id, target, kind),
                    _ => {}
                }
            }
        }
    }
    Ok(true)
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
    for protocol in ["file:", "link:", "portal:"] {
        if let Some(path) = spec.strip_prefix(protocol) {
            return by_dir.get(&join(dir, path)?).copied();
        }
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

fn npm_flavour(root: &Path, manifest: Option<&Value>) -> Ecosystem {
    let package_manager = manifest
        .and_then(|m| m.get("packageManager"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if package_manager.starts_with("yarn@") || root.join("yarn.lock").is_file() {
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
    let docs = yaml_rust2::YamlLoader::load_from_str(text).map_err(|err| GraphError::Syntax {
        path: path.clone(),
        format: "YAML",
        line: err.marker().line(),
        column: err.marker().col() + 1,
        message: err.info().to_owned(),
    })?;
    let Some(doc) = docs.first() else {
        return Ok(Vec::new());
    };
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

pub(crate) fn parse_json(root: &Path, rel: &str, text: &str) -> Result<Value, GraphError> {
    serde_json::from_str(text).map_err(|err| GraphError::json(root.join(rel), &err))
}
