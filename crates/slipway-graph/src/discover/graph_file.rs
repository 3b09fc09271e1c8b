//! The hand-kept `dep-graph.json` of the origin article, and its extended
//! form:
//!
//! ```json
//! {"ui": {"dependents": ["web"]}, "web": {}}
//! {"ui": {"path": "libs/ui", "dependencies": ["tokens"]}, "tokens": {"path": "libs/tokens"}}
//! ```
//!
//! A package without `path` lives at `packages/<name>/`.

use std::path::Path;

use serde_json::Value;

use crate::error::GraphError;
use crate::graph::{GraphBuilder, PackageGraph};
use crate::model::{DepKind, Ecosystem};
use crate::paths::join;

const KNOWN_KEYS: [&str; 3] = ["path", "dependents", "dependencies"];

/// Reads a hand-kept graph file. Every name it mentions must be a key of
/// the file; an unknown name is an error naming both packages.
pub fn load_graph_file(path: &Path) -> Result<PackageGraph, GraphError> {
    let text = super::read_path(path)?.ok_or_else(|| {
        GraphError::read(path, std::io::Error::from(std::io::ErrorKind::NotFound))
    })?;
    parse_graph(path, &text)
}

pub(crate) fn parse_graph(path: &Path, text: &str) -> Result<PackageGraph, GraphError> {
    let value: Value = serde_json::from_str(text).map_err(|err| GraphError::json(path, &err))?;
    let Value::Object(entries) = value else {
        return Err(GraphError::manifest(
            path,
            "the graph must be a JSON object keyed by package name",
        ));
    };
    let mut builder = GraphBuilder::new();
    let mut default_layout = false;
    for (name, entry) in &entries {
        let Value::Object(fields) = entry else {
            return Err(GraphError::manifest(
                path,
                format!("entry {name:?} must be an object"),
            ));
        };
        for key in fields.keys().filter(|k| !KNOWN_KEYS.contains(&k.as_str())) {
            tracing::warn!(file = %path.display(), package = name, key, "unknown key in graph entry, ignored");
        }
        let dir = match fields.get("path") {
            None => {
                default_layout = true;
                join("packages", name)
            }
            Some(Value::String(dir)) => join(".", dir),
            Some(_) => None,
        }
        .ok_or_else(|| {
            GraphError::manifest(
                path,
                format!("entry {name:?} has no valid \"path\" inside the repository"),
            )
        })?;
        builder.add_package(name, &dir, Ecosystem::Graph)?;
    }
    for (name, entry) in &entries {
        let this = builder.lookup(Ecosystem::Graph, name).expect("added above");
        for (key, dependent_side) in [("dependents", true), ("dependencies", false)] {
            let Some(list) = entry.get(key) else { continue };
            let invalid = || {
                GraphError::manifest(
                    path,
                    format!("{name:?}.{key} must be an array of package names"),
                )
            };
            for other in list.as_array().ok_or_else(invalid)? {
                let other = other.as_str().ok_or_else(invalid)?;
                let that = builder.lookup(Ecosystem::Graph, other).ok_or_else(|| {
                    GraphError::UnknownPackage {
                        path: path.to_path_buf(),
                        package: name.clone(),
                        name: other.to_owned(),
                    }
                })?;
                if dependent_side {
                    builder.add_edge(that, this, DepKind::Declared);
                } else {
                    builder.add_edge(this, that, DepKind::Declared);
                }
            }
        }
    }
    if default_layout {
        builder.add_package_dir_glob(
            globset::GlobBuilder::new("packages/*")
                .literal_separator(true)
                .build()
                .expect("a valid literal glob"),
        );
    }
    Ok(builder.build())
}

#[cfg(test)]
mod tests;
