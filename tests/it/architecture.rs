//! `docs/ARCHITECTURE.md` stays true: its table of crates and their direct
//! dependencies is every crate's `Cargo.toml`, no more and no less.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn workspace() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Each crate's dependencies as the document's table lists them.
fn documented() -> BTreeMap<String, BTreeSet<String>> {
    let text = std::fs::read_to_string(workspace().join("docs/ARCHITECTURE.md")).unwrap();
    let section = text
        .split("## Crates and their dependencies")
        .nth(1)
        .expect("ARCHITECTURE.md has a \"Crates and their dependencies\" section");
    let mut crates = BTreeMap::new();
    for line in section.lines().skip_while(|l| !l.starts_with("| `")) {
        if !line.starts_with("| `") {
            break;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let [name, ours, theirs] = cells[..] else {
            panic!("not a row of three cells: {line}");
        };
        let deps = [ours, theirs]
            .iter()
            .flat_map(|c| c.split(','))
            .map(str::trim)
            .filter(|d| !d.is_empty() && *d != "—")
            .map(str::to_owned)
            .collect();
        crates.insert(name.trim_matches('`').to_owned(), deps);
    }
    crates
}

/// Each crate's `[dependencies]`, from its `Cargo.toml`.
fn declared() -> BTreeMap<String, BTreeSet<String>> {
    let mut crates = BTreeMap::new();
    for entry in std::fs::read_dir(workspace().join("crates")).unwrap() {
        let dir = entry.unwrap().path();
        let manifest: toml::Table =
            toml::from_str(&std::fs::read_to_string(dir.join("Cargo.toml")).unwrap()).unwrap();
        let name = manifest["package"]["name"].as_str().unwrap().to_owned();
        let deps = manifest
            .get("dependencies")
            .and_then(toml::Value::as_table)
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default();
        crates.insert(name, deps);
    }
    crates
}

#[test]
fn the_documented_crates_and_dependencies_are_the_manifests() {
    let (documented, declared) = (documented(), declared());
    let mut wrong = Vec::new();
    for name in documented
        .keys()
        .chain(declared.keys())
        .collect::<BTreeSet<_>>()
    {
        match (documented.get(name), declared.get(name)) {
            (Some(_), None) => wrong.push(format!("{name} is documented but is no crate")),
            (None, Some(_)) => wrong.push(format!("{name} is a crate the table lacks")),
            (Some(doc), Some(real)) => {
                for d in real.difference(doc) {
                    wrong.push(format!("{name} depends on {d}, which the table lacks"));
                }
                for d in doc.difference(real) {
                    wrong.push(format!(
                        "{name} does not depend on {d}, which the table lists"
                    ));
                }
            }
            (None, None) => {}
        }
    }
    assert!(
        wrong.is_empty(),
        "docs/ARCHITECTURE.md, \"Crates and their dependencies\", is out of date:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_crate_has_its_section_in_the_code_map() {
    let text = std::fs::read_to_string(workspace().join("docs/ARCHITECTURE.md")).unwrap();
    let sections: BTreeSet<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("### `crates/")?.strip_suffix('`'))
        .collect();
    let crates: BTreeSet<String> = declared().into_keys().collect();
    let crates: BTreeSet<&str> = crates.iter().map(String::as_str).collect();
    assert_eq!(
        sections, crates,
        "the code map's crate sections and crates/*"
    );
}
