//! `go.work.sum`: `module version[/go.mod] hash` lines for modules the
//! workspace needs that no module's own `go.sum` lists. A module whose lines
//! changed concerns the workspace modules that require it. (A module's own
//! `go.sum` lies in its directory, so ownership already makes it precise.)

use std::collections::{BTreeMap, BTreeSet};

use super::InputDiff;
use super::lock_graph::join_limited;
use crate::affected::Resolution;
use crate::graph::PackageGraph;

pub(super) fn compare(graph: &PackageGraph, base: &str, head: &str) -> Result<InputDiff, String> {
    let (old, new) = (entries(base)?, entries(head)?);
    let mut modules: BTreeMap<&str, (BTreeSet<&str>, BTreeSet<&str>)> = BTreeMap::new();
    for (module, entry) in old.symmetric_difference(&new) {
        let version = entry.split(' ').next().unwrap_or("");
        let slot = modules.entry(module).or_default();
        if old.contains(&(module.clone(), entry.clone())) {
            slot.0.insert(version);
        } else {
            slot.1.insert(version);
        }
    }
    let mut packages: BTreeMap<_, BTreeSet<String>> = BTreeMap::new();
    let mut unrequired = BTreeSet::new();
    for (module, (was, now)) in modules {
        let label = label(module, &was, &now);
        let users: Vec<_> = graph
            .ids()
            .filter(|&id| graph.externals(id).iter().any(|(name, _)| name == module))
            .collect();
        if users.is_empty() {
            unrequired.insert(label.clone());
        }
        for id in users {
            packages.entry(id).or_default().insert(label.clone());
        }
    }
    if !unrequired.is_empty() {
        // Only indirect requirements: go.work.sum does not say which
        // module needs them, so every module is affected.
        let why = format!(
            "go.work.sum changed modules no workspace module requires directly ({})",
            join_limited(&unrequired)
        );
        return Ok(InputDiff {
            resolution: Resolution::Everything(why),
            warnings: Vec::new(),
        });
    }
    Ok(InputDiff {
        resolution: Resolution::packages(
            packages
                .into_iter()
                .map(|(id, l)| (id, join_limited(&l)))
                .collect(),
        ),
        warnings: Vec::new(),
    })
}

/// `(module, "version hash")` per line; `/go.mod` lines count as the
/// module's version.
fn entries(text: &str) -> Result<BTreeSet<(String, String)>, String> {
    let mut out = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let [module, version, hash] = words[..] else {
            return Err(format!("line {}: expected `module version hash`", i + 1));
        };
        out.insert((
            module.to_owned(),
            format!("{} {hash}", version.trim_end_matches("/go.mod")),
        ));
    }
    Ok(out)
}

/// `m v1 added`, `m v1 removed` or `m v1 -> v2`.
fn label(module: &str, was: &BTreeSet<&str>, now: &BTreeSet<&str>) -> String {
    let join = |set: &BTreeSet<&str>| set.iter().copied().collect::<Vec<_>>().join("/");
    match (was.is_empty(), now.is_empty()) {
        (true, _) => format!("{module} {} added", join(now)),
        (_, true) => format!("{module} {} removed", join(was)),
        _ => format!("{module} {} -> {}", join(was), join(now)),
    }
}

#[cfg(test)]
mod tests {
    use crate::inputs::SharedInput;

    fn check(base: &str, head: &str, expected: &str) {
        crate::inputs::testing::check(SharedInput::GoWorkSum, Some(base), Some(head), expected);
    }

    const BASE: &str =
        "golang.org/x/text v0.3.0 h1:aaa=\ngolang.org/x/text v0.3.0/go.mod h1:bbb=\n";

    #[test]
    fn changed_modules_are_named() {
        check(BASE, BASE, "");
        check(
            BASE,
            &BASE.replace("v0.3.0 h1:aaa", "v0.3.1 h1:ccc"),
            "everything: go.work.sum changed modules no workspace module requires directly (golang.org/x/text v0.3.0 -> v0.3.1)",
        );
        check(
            BASE,
            "golang.org/x/text v0.3.0\n",
            concat!(
                "everything: go.work.sum could not be parsed (line 1: expected `module version hash`), so every package is affected\n",
                "warning: go.work.sum could not be parsed (line 1: expected `module version hash`), so every package is affected"
            ),
        );
    }
}
