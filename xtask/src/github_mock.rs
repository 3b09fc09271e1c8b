//! GitHub's official REST description (npm `@octokit/openapi`) served by
//! a schema-driven mock server (`@stoplight/prism-cli`), for the tests:
//! a request whose path, method, parameters or body the description does
//! not allow is refused, and answers are the description's own examples.

use std::path::PathBuf;

use anyhow::Context as _;
use serde_json::Value;

use crate::tools::{npm_packages, target_dir};

/// Pinned so the description the tests check against only changes on purpose.
pub(crate) const PACKAGES: [(&str, &str); 2] = [
    ("@stoplight/prism-cli@5.14.2", "prism"),
    (
        "@octokit/openapi@23.0.2",
        "../@octokit/openapi/generated/api.github.com.json",
    ),
];

/// The prism executable and the description to serve, prepared on first
/// use (quick when already there).
pub(crate) fn prepare() -> anyhow::Result<(PathBuf, PathBuf)> {
    let bin = npm_packages(&PACKAGES)?;
    let source = bin.join(PACKAGES[1].1);
    let spec = target_dir().join("tools/github-openapi-23.0.2.json");
    if !spec.exists() {
        let text = std::fs::read_to_string(&source)
            .with_context(|| format!("failed to read {}", source.display()))?;
        let mut doc: Value = serde_json::from_str(&text)?;
        transform(&mut doc);
        let tmp = spec.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec(&doc)?)?;
        std::fs::rename(&tmp, &spec)?;
    }
    Ok((bin.join("prism"), spec))
}

/// Two changes, neither touching what a request may be:
/// - every `application/json` content also declared as
///   `application/vnd.github+json`, the media type GitHub asks clients to
///   send in `Accept` (prism answers 406 otherwise);
/// - the token examples' `expires_at` (2011-2020 in the description) moved
///   far into the future, so a cached token is not taken for an expired one.
fn transform(doc: &mut Value) {
    fn walk(value: &mut Value) {
        match value {
            Value::Object(map) => {
                if let Some(Value::Object(content)) = map.get_mut("content")
                    && let Some(json) = content.get("application/json").cloned()
                {
                    content.entry("application/vnd.github+json").or_insert(json);
                }
                map.values_mut().for_each(walk);
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    for key in ["paths", "components"] {
        if let Some(part) = doc.get_mut(key) {
            walk(part);
        }
    }
    if let Some(Value::Object(examples)) = doc.pointer_mut("/components/examples") {
        for (name, example) in examples.iter_mut() {
            if name.contains("token")
                && let Some(expires) = example.pointer_mut("/value/expires_at")
            {
                *expires = Value::String("2099-01-01T00:00:00Z".to_owned());
            }
        }
    }
}
