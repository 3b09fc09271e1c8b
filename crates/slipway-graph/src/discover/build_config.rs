//! What the repository's own build configuration declares global: the
//! root `turbo.json`'s `globalDependencies`, and the root `nx.json`'s
//! `{workspaceRoot}` inputs and `implicitDependencies`. Read as the tools
//! read them (JSON with comments and trailing commas), without running them.

use std::path::Path;

use serde_json::Value;

use super::read_optional;
use crate::error::GraphError;

/// Larger build configuration is refused rather than read: a pull request
/// controls these files.
pub(crate) const MAX_CONFIG_BYTES: usize = 1 << 20;

/// One rule of the build configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildRule {
    /// A glob relative to the repository root.
    pub pattern: String,
    /// The packages it belongs to; empty: every package (a global file),
    /// unless `targets` says otherwise.
    pub packages: Vec<String>,
    /// An Nx task input: the targets that read it (`targetDefaults` keys).
    /// It belongs to the projects that have one of them (see
    /// [`crate::nx_projects_with_targets`]); empty: not a task input, or
    /// read through `default`, which every project's targets use.
    pub targets: Vec<String>,
    /// Where it comes from: `turbo.json globalDependencies`.
    pub source: String,
}

/// The global files and per-package inputs the root `turbo.json` (or
/// `turbo.jsonc`) and `nx.json` declare. Nothing when neither exists.
///
/// # Errors
///
/// When one of them cannot be read, is larger than 1 MiB, is no JSON
/// object, or holds a glob that does not parse; the error names the file
/// and, for bad syntax, the line.
pub fn build_rules(root: &Path) -> Result<Vec<BuildRule>, GraphError> {
    let mut rules = Vec::new();
    for file in ["turbo.json", "turbo.jsonc"] {
        if let Some(doc) = read_config(root, file)? {
            turbo(&doc, file, &mut rules);
        }
    }
    if let Some(doc) = read_config(root, "nx.json")? {
        nx(&doc, &mut rules);
    }
    for rule in &rules {
        if let Err(err) = globset::GlobBuilder::new(&rule.pattern)
            .literal_separator(true)
            .build()
        {
            let file = rule.source.split(' ').next().unwrap_or_default();
            return Err(GraphError::Glob {
                path: root.join(file),
                pattern: rule.pattern.clone(),
                message: err.kind().to_string(),
            });
        }
    }
    Ok(rules)
}

/// The root `.nxignore` of an Nx workspace (with an `nx.json`) as globs
/// for paths that affect nothing: Nx leaves those files out of every
/// project. Gitignore lines become globs: a pattern without a `/` matches
/// at any depth, one with a `/` from the root, a directory everything
/// under it. A file with a `!` line (which re-includes what an earlier
/// line left out, and which globs cannot say) is not used at all.
///
/// # Errors
///
/// When the file cannot be read or is over 1 MiB.
pub fn nx_ignore_globs(root: &Path) -> Result<Vec<String>, GraphError> {
    if !root.join("nx.json").is_file() {
        return Ok(Vec::new());
    }
    let Some(text) = read_optional(root, ".nxignore")? else {
        return Ok(Vec::new());
    };
    if text.len() > MAX_CONFIG_BYTES {
        return Err(GraphError::manifest(
            root.join(".nxignore"),
            format!("over the {MAX_CONFIG_BYTES}-byte limit for build configuration"),
        ));
    }
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    if lines.iter().any(|l| l.starts_with('!')) {
        tracing::debug!(".nxignore re-includes paths with `!`: not used to ignore changes");
        return Ok(Vec::new());
    }
    let mut globs = Vec::new();
    for line in lines {
        let directory = line.ends_with('/');
        let line = line.trim_end_matches('/');
        let anchored = line.starts_with('/') || line.contains('/');
        let line = line.trim_start_matches('/');
        if line.is_empty() {
            continue;
        }
        let base = if anchored || line.starts_with("**/") {
            line.to_owned()
        } else {
            format!("**/{line}")
        };
        if !directory {
            globs.push(base.clone());
        }
        if !base.ends_with("/**") {
            globs.push(format!("{base}/**"));
        }
    }
    Ok(globs)
}

pub(super) fn read_config(root: &Path, file: &str) -> Result<Option<Value>, GraphError> {
    let Some(text) = read_optional(root, file)? else {
        return Ok(None);
    };
    if text.len() > MAX_CONFIG_BYTES {
        return Err(GraphError::manifest(
            root.join(file),
            format!(
                "{} bytes is over the {MAX_CONFIG_BYTES}-byte limit for build configuration",
                text.len()
            ),
        ));
    }
    let plain = strip_jsonc(&text);
    match serde_json::from_str(&plain) {
        Ok(doc @ Value::Object(_)) => Ok(Some(doc)),
        Ok(_) => Err(GraphError::manifest(root.join(file), "not a JSON object")),
        Err(err) => Err(GraphError::json(root.join(file), &err)),
    }
}

fn turbo(doc: &Value, file: &str, rules: &mut Vec<BuildRule>) {
    for pattern in strings(&doc["globalDependencies"]) {
        // `$TURBO_ROOT$/x` (turbo 2.5) is the root itself.
        let pattern = pattern.trim_start_matches("$TURBO_ROOT$/");
        if pattern.starts_with('!') {
            tracing::debug!(pattern, "negated globalDependencies entry not subtracted");
            continue;
        }
        rules.push(BuildRule {
            pattern: pattern.trim_start_matches("./").to_owned(),
            packages: Vec::new(),
            targets: Vec::new(),
            source: format!("{file} globalDependencies"),
        });
    }
}

fn nx(doc: &Value, rules: &mut Vec<BuildRule>) {
    // A `{workspaceRoot}` file set is an input of the tasks that read it:
    // a target default's own, or a named input's, reached from the target
    // defaults that use it. One reached from `default` (which a target
    // without inputs reads) concerns every project; one no target reads,
    // every project too (nothing here knows better).
    let named = doc["namedInputs"].as_object();
    let targets: Vec<(&String, &Value)> = doc["targetDefaults"]
        .as_object()
        .map(|t| t.iter().map(|(k, v)| (k, &v["inputs"])).collect())
        .unwrap_or_default();
    let mut readers: std::collections::HashMap<&str, Vec<String>> =
        std::collections::HashMap::new();
    let mut everyone: std::collections::HashSet<&str> = std::collections::HashSet::new();
    if let Some(named) = named {
        let mut reached = std::collections::HashSet::new();
        reach(named, "default", 0, &mut reached);
        everyone.extend(reached);
        for (target, inputs) in &targets {
            for entry in strings(inputs) {
                let mut reached = std::collections::HashSet::new();
                reach(named, entry.trim_start_matches('^'), 0, &mut reached);
                for name in reached {
                    readers.entry(name).or_default().push((*target).clone());
                }
            }
        }
        for (name, list) in named {
            let owners = if everyone.contains(name.as_str()) {
                Vec::new()
            } else {
                readers.get(name.as_str()).cloned().unwrap_or_default()
            };
            push_workspace_inputs(rules, list, &format!("namedInputs.{name}"), &owners);
        }
    }
    for (target, inputs) in &targets {
        push_workspace_inputs(
            rules,
            inputs,
            &format!("targetDefaults.{target}.inputs"),
            std::slice::from_ref(*target),
        );
    }
    // The older `implicitDependencies`: a file to "*" (every project) or
    // to a list of projects.
    if let Some(map) = doc["implicitDependencies"].as_object() {
        for (pattern, projects) in map {
            let packages = match projects {
                Value::Array(list) => list
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                // "*", or a nested object of package.json keys: everyone.
                _ => Vec::new(),
            };
            rules.push(BuildRule {
                pattern: pattern.clone(),
                packages,
                targets: Vec::new(),
                source: "nx.json implicitDependencies".to_owned(),
            });
        }
    }
}

/// The named inputs `name` reaches, itself included (bounded, cycles cut).
fn reach<'a>(
    named: &'a serde_json::Map<String, Value>,
    name: &str,
    depth: usize,
    out: &mut std::collections::HashSet<&'a str>,
) {
    let Some((key, list)) = named.get_key_value(name) else {
        return;
    };
    if depth > 16 || !out.insert(key.as_str()) {
        return;
    }
    for entry in strings(list) {
        reach(named, entry.trim_start_matches('^'), depth + 1, out);
    }
    for input in list.as_array().into_iter().flatten() {
        if let Some(inner) = input["input"].as_str() {
            reach(named, inner, depth + 1, out);
        }
    }
}

/// The `{workspaceRoot}/…` entries of an input list as rules for the
/// projects with one of `targets` (empty: every project).
fn push_workspace_inputs(
    rules: &mut Vec<BuildRule>,
    list: &Value,
    place: &str,
    targets: &[String],
) {
    for entry in strings(list) {
        let Some(pattern) = entry.strip_prefix("{workspaceRoot}/") else {
            continue;
        };
        rules.push(BuildRule {
            pattern: pattern.to_owned(),
            packages: Vec::new(),
            targets: targets.to_vec(),
            source: format!("nx.json {place}"),
        });
    }
}

fn strings(value: &Value) -> impl Iterator<Item = &str> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// JSON with comments (`//`, `/* */`) and trailing commas, as turbo and Nx
/// accept it, made plain JSON. Offsets stay put (comments become spaces),
/// so a syntax error's line and column still point into the file.
pub(crate) fn strip_jsonc(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let mut i = 0;
    let mut last_comma: Option<usize> = None;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                last_comma = None;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    out[i] = b' ';
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = text[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |e| i + 2 + e + 2);
                for (j, byte) in out.iter_mut().enumerate().take(end).skip(i) {
                    if bytes[j] != b'\n' {
                        *byte = b' ';
                    }
                }
                i = end;
            }
            b',' => {
                last_comma = Some(i);
                i += 1;
            }
            b'}' | b']' => {
                if let Some(comma) = last_comma.take() {
                    out[comma] = b' ';
                }
                i += 1;
            }
            byte => {
                if !byte.is_ascii_whitespace() {
                    last_comma = None;
                }
                i += 1;
            }
        }
    }
    // Only ASCII bytes outside strings were replaced, by ASCII spaces.
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nxignore_lines_become_globs() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(".nxignore"),
            "# c\n*.spec.ts\n\n/dist/\nlibs/legacy\n**/testing/**\n",
        )
        .unwrap();
        // Only in an Nx workspace.
        assert!(nx_ignore_globs(dir.path()).unwrap().is_empty());
        std::fs::write(dir.path().join("nx.json"), "{}").unwrap();
        assert_eq!(
            nx_ignore_globs(dir.path()).unwrap(),
            [
                "**/*.spec.ts",
                "**/*.spec.ts/**",
                "dist/**",
                "libs/legacy",
                "libs/legacy/**",
                "**/testing/**"
            ]
        );
        // A re-inclusion cannot be said with globs: nothing is used.
        std::fs::write(dir.path().join(".nxignore"), "*.md\n!README.md\n").unwrap();
        assert!(nx_ignore_globs(dir.path()).unwrap().is_empty());
    }

    #[test]
    fn comments_and_trailing_commas_are_jsonc() {
        let text = "{\n  // a comment \"with quotes\"\n  \"a\": [\"x//y\", \"/*z*/\",], /* block\n */ \"b\": 1,\n}\n";
        let plain = strip_jsonc(text);
        assert_eq!(plain.len(), text.len());
        let doc: Value = serde_json::from_str(&plain).unwrap();
        assert_eq!(doc["a"][0], "x//y");
        assert_eq!(doc["a"][1], "/*z*/");
        assert_eq!(doc["b"], 1);
        assert_eq!(strip_jsonc("{\"a\\\"\": 1}"), "{\"a\\\"\": 1}");
        // Unterminated pieces never panic.
        for broken in ["\"abc", "/* open", "{\"a\\", "//"] {
            let _ = strip_jsonc(broken);
        }
    }

    #[test]
    fn turbo_and_nx_rules() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("turbo.json"),
            "{\n  // shared\n  \"globalDependencies\": [\"tsconfig.base.json\", \"**/.env.*local\", \"!x\"],\n  \"tasks\": {},\n}\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("nx.json"),
            r#"{"namedInputs": {"sharedGlobals": ["{workspaceRoot}/babel.config.json", {"runtime": "node -v"}], "default": ["{projectRoot}/**/*", "sharedGlobals"]},
                "targetDefaults": {"test": {"inputs": ["default", "{workspaceRoot}/jest.preset.js"]}},
                "implicitDependencies": {"package.json": {"dependencies": "*"}, "config/web.json": ["web"]}}"#,
        )
        .unwrap();
        let rules = build_rules(dir.path()).unwrap();
        let got: Vec<String> = rules
            .iter()
            .map(|r| format!("{} [{}] {}", r.pattern, r.packages.join(","), r.source))
            .collect();
        assert_eq!(
            got,
            [
                "tsconfig.base.json [] turbo.json globalDependencies",
                "**/.env.*local [] turbo.json globalDependencies",
                "babel.config.json [] nx.json namedInputs.sharedGlobals",
                "jest.preset.js [] nx.json targetDefaults.test.inputs",
                "config/web.json [web] nx.json implicitDependencies",
                "package.json [] nx.json implicitDependencies",
            ]
        );

        std::fs::write(dir.path().join("nx.json"), "{\n  \"namedInputs\": [\n").unwrap();
        let err = build_rules(dir.path()).unwrap_err().to_string();
        assert!(err.contains("nx.json") && err.contains("line 3"), "{err}");
        std::fs::write(dir.path().join("nx.json"), "[]").unwrap();
        let err = build_rules(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not a JSON object"), "{err}");
        std::fs::write(dir.path().join("nx.json"), " ".repeat(MAX_CONFIG_BYTES + 1)).unwrap();
        let err = build_rules(dir.path()).unwrap_err().to_string();
        assert!(err.contains("limit"), "{err}");
        std::fs::write(dir.path().join("nx.json"), "{}").unwrap();
        std::fs::write(
            dir.path().join("turbo.json"),
            r#"{"globalDependencies": ["a[b"]}"#,
        )
        .unwrap();
        let err = build_rules(dir.path()).unwrap_err().to_string();
        assert!(
            err.starts_with("invalid glob \"a[b\" in ") && err.contains("turbo.json"),
            "{err}"
        );
    }
}
