//! The committed JSON Schemas under `docs/schema/` are the ones the
//! contract types generate: a changed output type fails here until
//! `cargo xtask schema` writes the new schema (and the change is
//! reviewed as a change of contract).

use std::collections::BTreeSet;
use std::path::PathBuf;

fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/schema")
}

#[test]
fn committed_schemas_are_the_generated_ones() {
    let dir = schema_dir();
    let mut stale = Vec::new();
    for (name, schema) in slipway_contract::schemas() {
        let committed = std::fs::read_to_string(dir.join(name))
            .map_err(|e| e.to_string())
            .and_then(|text| {
                serde_json::from_str::<serde_json::Value>(&text).map_err(|e| e.to_string())
            });
        match committed {
            Ok(committed) if committed == schema => {}
            Ok(_) => stale.push(format!("{name} differs")),
            Err(e) => stale.push(format!("{name}: {e}")),
        }
    }
    let generated: BTreeSet<&str> = slipway_contract::schemas()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !generated.contains(name.as_str()) {
            stale.push(format!("{name} is no output's schema"));
        }
    }
    assert!(
        stale.is_empty(),
        "docs/schema/ is out of date ({}): run `cargo xtask schema` and review the change",
        stale.join("; ")
    );
}

#[test]
fn every_schema_names_its_version_field() {
    // Every top-level output but the matrix (what `strategy.matrix` takes,
    // which has no room for one) is versioned.
    for (name, schema) in slipway_contract::schemas() {
        if name.contains("matrix.json") {
            continue;
        }
        let required = schema["required"].as_array().unwrap();
        assert!(
            required.iter().any(|r| r == "version"),
            "{name} has no required version"
        );
    }
}
