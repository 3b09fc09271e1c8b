//! Small helpers over `yaml-rust2` documents.

use yaml_rust2::Yaml;

pub(super) fn load(text: &str) -> Result<Yaml, String> {
    let mut docs = yaml_rust2::YamlLoader::load_from_str(text).map_err(|err| {
        format!(
            "line {}, column {}: {}",
            err.marker().line(),
            err.marker().col() + 1,
            err.info()
        )
    })?;
    Ok(if docs.is_empty() {
        Yaml::Null
    } else {
        docs.swap_remove(0)
    })
}

/// The string-keyed entries of a mapping; nothing for anything else.
pub(super) fn entries(yaml: &Yaml) -> impl Iterator<Item = (&str, &Yaml)> {
    yaml.as_hash()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| k.as_str().map(|k| (k, v)))
}

/// A scalar as text, whatever YAML typed it as (`1.0` is a float to YAML).
pub(super) fn scalar(yaml: &Yaml) -> String {
    match yaml {
        Yaml::String(s) | Yaml::Real(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        _ => String::new(),
    }
}
