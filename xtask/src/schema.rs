//! `cargo xtask schema`: writes the JSON Schema of every output under
//! `docs/schema/`, from the types in `slipway-contract` (a test compares
//! the committed files with these).

use crate::tools::root;

pub(crate) fn run() -> anyhow::Result<()> {
    let dir = root().join("docs/schema");
    std::fs::create_dir_all(&dir)?;
    let schemas = slipway_contract::schemas();
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if !schemas.iter().any(|(n, _)| *n == name) {
            std::fs::remove_file(&path)?;
            eprintln!("removed {}", path.display());
        }
    }
    for (name, schema) in schemas {
        let text = format!("{}\n", serde_json::to_string_pretty(&schema)?);
        let path = dir.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&path, text)?;
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(())
}
