//! Finding the packages of a repository from its own manifests, without
//! running cargo, npm or go and without the network.

mod cargo;
mod dirglob;
mod go;
mod graph_file;
mod node;

use std::path::Path;

pub use graph_file::load_graph_file;
#[cfg(test)]
pub(crate) use graph_file::parse_graph as graph_file_parse;

use crate::error::GraphError;
use crate::graph::{GraphBuilder, PackageGraph};

/// Reads every workspace found at `root` (Cargo, npm/yarn/pnpm, Go) into one
/// graph. Each ecosystem's packages depend only on packages of the same
/// ecosystem; equal names across ecosystems are kept apart (see
/// [`crate::Package::id`]).
pub fn discover(root: &Path) -> Result<PackageGraph, GraphError> {
    let mut builder = GraphBuilder::new();
    let mut found = Vec::new();
    for (name, discover) in [
        (
            "cargo",
            cargo::discover as fn(&Path, &mut GraphBuilder) -> Result<bool, GraphError>,
        ),
        ("node", node::discover),
        ("go", go::discover),
    ] {
        let before = builder.package_count();
        if discover(root, &mut builder)? {
            tracing::debug!(
                ecosystem = name,
                packages = builder.package_count() - before,
                "workspace found"
            );
            found.push(name);
        }
    }
    if found.is_empty() {
        return Err(GraphError::NothingFound {
            root: root.to_path_buf(),
        });
    }
    Ok(builder.build())
}

/// The package name a manifest declares, by the manifest's file name
/// (`Cargo.toml`, `package.json` or `go.mod`). Used to name a package that
/// exists only in an older revision.
#[must_use]
pub fn package_name(file_name: &str, text: &str) -> Option<String> {
    match file_name {
        "Cargo.toml" => {
            let table: toml::Table = toml::from_str(text).ok()?;
            let name = table.get("package")?.get("name")?.as_str()?;
            Some(name.to_owned())
        }
        "package.json" => {
            let value: serde_json::Value = serde_json::from_str(text).ok()?;
            Some(value.get("name")?.as_str()?.to_owned())
        }
        "go.mod" => go::module_path(text),
        _ => None,
    }
}

/// Reads a repository-relative file, `None` when it does not exist.
pub(crate) fn read_optional(root: &Path, rel: &str) -> Result<Option<String>, GraphError> {
    let path = root.join(rel);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(GraphError::read(path, err)),
    }
}

/// Reads a repository-relative file that must exist.
pub(crate) fn read_required(root: &Path, rel: &str) -> Result<String, GraphError> {
    let path = root.join(rel);
    std::fs::read_to_string(&path).map_err(|err| GraphError::read(path, err))
}
