//! `Directory.Packages.props` (.NET central package management), compared
//! precisely: a changed `<PackageVersion Include="X">` concerns only the
//! projects below it that reference `X` without a version of their own;
//! any other change (a `GlobalPackageReference`, a property, an import)
//! concerns every project below it, with that reason.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use super::InputDiff;
use crate::affected::Resolution;
use crate::discover::dotnet;
use crate::graph::{PackageGraph, keyed_read};
use crate::model::PackageId;

/// Lowercased package name → (the name as written, its version).
type Versions = BTreeMap<String, (String, String)>;

/// The versions it sets, by lowercased package name (with the name as
/// written), and the rest of the file as canonical text.
fn read(path: &str, text: &str) -> Result<(Versions, String), String> {
    let doc = dotnet::document(Path::new(path), text).map_err(|e| e.to_string())?;
    let mut versions = BTreeMap::new();
    let mut rest = String::new();
    for node in doc.descendants().filter(roxmltree::Node::is_element) {
        let name = node.tag_name().name();
        if name == "PackageVersion"
            && let Some(include) = node
                .attribute("Include")
                .or_else(|| node.attribute("Update"))
        {
            let version = node.attribute("Version").unwrap_or_default().to_owned();
            let include = include.trim();
            versions.insert(include.to_ascii_lowercase(), (include.to_owned(), version));
            continue;
        }
        if node
            .ancestors()
            .any(|a| a.tag_name().name() == "PackageVersion")
        {
            continue;
        }
        let _ = write!(rest, "<{name}");
        for attr in node.attributes() {
            let _ = write!(rest, " {}={}", attr.name(), attr.value());
        }
        rest.push('>');
        for t in node.children().filter(roxmltree::Node::is_text) {
            rest.push_str(t.text().unwrap_or_default().trim());
        }
        rest.push('\n');
    }
    Ok((versions, rest))
}

pub(crate) fn compare(
    graph: &PackageGraph,
    path: &str,
    base: Option<&str>,
    head: Option<&str>,
) -> InputDiff {
    let everyone = |why: &str| {
        Resolution::packages(
            graph
                .readers(&keyed_read(path, "below"))
                .into_iter()
                .map(|id| (id, why.to_owned()))
                .collect(),
        )
    };
    let (Some(base), Some(head)) = (base, head) else {
        return InputDiff {
            resolution: everyone("added or removed, and it sets every package version below it"),
            warnings: Vec::new(),
        };
    };
    let ((old, old_rest), (new, new_rest)) = match (read(path, base), read(path, head)) {
        (Ok(old), Ok(new)) => (old, new),
        (Err(err), _) | (_, Err(err)) => {
            let why = format!(
                "{path} could not be parsed ({err}), so every project below it is affected"
            );
            return InputDiff {
                resolution: everyone(&why),
                warnings: vec![why],
            };
        }
    };
    if old_rest != new_rest {
        return InputDiff {
            resolution: everyone(
                "changed outside its <PackageVersion> items, and every project below it imports it",
            ),
            warnings: Vec::new(),
        };
    }
    let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut packages: Vec<(PackageId, String)> = Vec::new();
    let version = |v: Option<&(String, String)>| v.map(|(_, v)| v.clone());
    for name in names
        .into_iter()
        .filter(|n| version(old.get(*n)) != version(new.get(*n)))
    {
        let written = new
            .get(name)
            .or_else(|| old.get(name))
            .map_or(name.as_str(), |(w, _)| w.as_str());
        let detail = format!(
            "PackageVersion {written} {} -> {}",
            version(old.get(name)).unwrap_or_else(|| "(none)".to_owned()),
            version(new.get(name)).unwrap_or_else(|| "(none)".to_owned())
        );
        for id in graph.readers(&keyed_read(path, &format!("package:{name}"))) {
            packages.push((id, detail.clone()));
        }
    }
    InputDiff::precise(packages)
}

#[cfg(test)]
mod tests;
