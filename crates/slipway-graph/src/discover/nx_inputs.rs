//! Task inputs of an Nx workspace, for `--tasks`: `nx.json` `namedInputs`
//! and `targetDefaults.<task>.inputs`, each project's `project.json`
//! `namedInputs` and `targets.<task>.inputs` over them, as task rules.
//!
//! `{projectRoot}/…` filesets become globs relative to the project, `!`
//! ones exclusions, named inputs expand (bounded, cycles cut), and `^name`
//! (or `{"input": name, "dependencies": true}`) becomes the files of the
//! project's dependencies the task reads. `{workspaceRoot}` filesets are
//! global files (read by `build_rules`); `runtime`, `env` and
//! `externalDependencies` inputs name nothing a diff shows (an external
//! dependency's change is a lockfile change, which marks its projects).
//! Nx's extended globs (`?(x)`, `+(a|b)`, `@(a|b)`, `*(x)`) are expanded
//! into plain globs in an exclusion (each expansion matching less than the
//! original, so nothing is excluded wrongly); an input using one counts
//! every file.

use std::collections::HashMap;
use std::path::Path;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde_json::Value;

use super::build_config::read_config;
use crate::error::GraphError;
use crate::graph::PackageGraph;
use crate::model::PackageId;
use crate::tasks::{DependencyInputs, TaskRule};

/// Deepest nesting of named inputs followed.
const MAX_DEPTH: usize = 16;
/// Most plain globs one extended glob expands to.
const MAX_EXPANSION: usize = 64;

/// One task's rules in an Nx workspace: the workspace's, and each
/// project's own where its `project.json` sets inputs or named inputs.
#[derive(Debug, Clone)]
pub struct NxTaskRules {
    pub default: TaskRule,
    pub overrides: Vec<(PackageId, TaskRule)>,
}

/// The rules of `task` in the Nx workspace at `root`; `None` when the
/// root has no `nx.json`.
///
/// # Errors
///
/// When `nx.json` or a `project.json` cannot be read or parsed.
pub fn nx_task_rules(
    root: &Path,
    graph: &PackageGraph,
    task: &str,
) -> Result<Option<NxTaskRules>, GraphError> {
    let Some(nx_json) = read_config(root, "nx.json")? else {
        return Ok(None);
    };
    let named = object(&nx_json["namedInputs"]);
    let defaults = nx_json["targetDefaults"][task]["inputs"].as_array();
    let default = rule(&named, defaults.map(Vec::as_slice));
    let mut overrides = Vec::new();
    for id in graph.ids() {
        let dir = &graph.package(id).path;
        let file = crate::paths::child(dir, "project.json");
        if !root.join(&file).is_file() {
            continue;
        }
        let Some(project) = read_config(root, &file)? else {
            continue;
        };
        let own_named = object(&project["namedInputs"]);
        let own_inputs = project["targets"][task]["inputs"].as_array();
        if own_named.is_empty() && own_inputs.is_none() {
            continue;
        }
        let mut merged = named.clone();
        merged.extend(own_named);
        let inputs = own_inputs.or(defaults).map(Vec::as_slice);
        overrides.push((id, rule(&merged, inputs)));
    }
    Ok(Some(NxTaskRules { default, overrides }))
}

/// For each of `targets`, the projects of the Nx workspace at `root` that
/// have it: in their `project.json` `targets`, or as a `package.json`
/// script (which Nx makes a target). `None` when `nx.json` lists plugins,
/// which infer targets nothing here reads: then any project may have any.
///
/// # Errors
///
/// When `nx.json`, a `project.json` or a `package.json` cannot be read or
/// parsed.
pub fn nx_projects_with_targets(
    root: &Path,
    graph: &PackageGraph,
    targets: &[String],
) -> Result<Option<HashMap<String, Vec<PackageId>>>, GraphError> {
    let Some(nx_json) = read_config(root, "nx.json")? else {
        return Ok(Some(HashMap::new()));
    };
    if nx_json["plugins"].as_array().is_some_and(|p| !p.is_empty()) {
        return Ok(None);
    }
    let mut out: HashMap<String, Vec<PackageId>> = HashMap::new();
    for id in graph.ids() {
        let dir = &graph.package(id).path;
        let mut has = Vec::new();
        for (file, key) in [("project.json", "targets"), ("package.json", "scripts")] {
            let rel = crate::paths::child(dir, file);
            if !root.join(&rel).is_file() {
                continue;
            }
            if let Some(doc) = read_config(root, &rel)? {
                has.extend(
                    targets
                        .iter()
                        .filter(|t| doc[key].get(t.as_str()).is_some())
                        .cloned(),
                );
            }
        }
        for target in has {
            let ids = out.entry(target).or_default();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    Ok(Some(out))
}

fn object(value: &Value) -> HashMap<String, Value> {
    value
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// The files of one side (the project's own, or its dependencies').
#[derive(Debug, Default)]
struct Files {
    /// Globs relative to the project; `everything` wins over them.
    include: Vec<String>,
    exclude: Vec<String>,
    everything: bool,
    /// Whether any input names this side at all.
    named: bool,
}

#[derive(Debug, Default)]
struct Expansion {
    own: Files,
    dependencies: Files,
}

/// A task rule from its inputs (`None`: Nx's default, `default` and
/// `^default`).
fn rule(named: &HashMap<String, Value>, inputs: Option<&[Value]>) -> TaskRule {
    let fallback = [
        Value::String("default".to_owned()),
        Value::String("^default".to_owned()),
    ];
    let inputs = inputs.unwrap_or(&fallback);
    let mut expansion = Expansion::default();
    for input in inputs {
        expand(named, input, false, 0, &mut expansion);
    }
    let own = &expansion.own;
    // Every file unless the inputs name the project's own files; a set
    // that does not build reads as every file too.
    let (inputs, patterns) = if own.everything || !own.named {
        (None, Vec::new())
    } else if own.include.is_empty() {
        (Some(GlobSet::empty()), Vec::new())
    } else {
        (globs(&own.include), own.include.clone())
    };
    let dependency_inputs = expansion.dependencies.named.then(|| {
        let deps = &expansion.dependencies;
        DependencyInputs {
            inputs: if deps.everything {
                None
            } else {
                globs(&deps.include)
            },
            excludes: globs(&excluded(&deps.exclude)),
            patterns: deps.include.clone(),
        }
    });
    TaskRule {
        inputs,
        excludes: globs(&excluded(&own.exclude)),
        patterns,
        dependencies: dependency_inputs.is_some(),
        dependency_inputs,
    }
}

fn expand(
    named: &HashMap<String, Value>,
    input: &Value,
    dependencies: bool,
    depth: usize,
    out: &mut Expansion,
) {
    if depth > MAX_DEPTH {
        // Deeper than any real configuration: every file, to be safe.
        side(out, dependencies).everything = true;
        return;
    }
    match input {
        Value::String(text) => {
            if let Some(name) = text.strip_prefix('^') {
                expand_name(named, name, true, depth, out);
            } else if let Some(glob) = text.strip_prefix('!') {
                if let Some(rel) = project_glob(glob) {
                    let files = side(out, dependencies);
                    files.named = true;
                    files.exclude.push(rel);
                }
            } else if text.contains("{workspaceRoot}") {
                // A global file: `build_rules` reads it.
                side(out, dependencies).named = true;
            } else if let Some(rel) = project_glob(text) {
                let files = side(out, dependencies);
                files.named = true;
                if is_extended(&rel) {
                    files.everything = true;
                } else {
                    files.include.push(rel);
                }
            } else {
                expand_name(named, text, dependencies, depth, out);
            }
        }
        Value::Object(map) => {
            if let Some(fileset) = map.get("fileset") {
                expand(named, fileset, dependencies, depth + 1, out);
            } else if let Some(Value::String(name)) = map.get("input") {
                let deps = dependencies
                    || map.get("dependencies") == Some(&Value::Bool(true))
                    || map.contains_key("projects");
                expand_name(named, name, deps, depth, out);
            } else {
                // runtime, env, externalDependencies,
                // dependentTasksOutputFiles: nothing a diff shows.
                side(out, dependencies).named = true;
            }
        }
        _ => {}
    }
}

fn expand_name(
    named: &HashMap<String, Value>,
    name: &str,
    dependencies: bool,
    depth: usize,
    out: &mut Expansion,
) {
    let files = side(out, dependencies);
    files.named = true;
    if let Some(list) = named.get(name).and_then(Value::as_array) {
        for input in list {
            expand(named, input, dependencies, depth + 1, out);
        }
    } else {
        // `default` unset is every file of the project; any other unknown
        // name is too, rather than nothing.
        files.everything = true;
    }
}

fn side(out: &mut Expansion, dependencies: bool) -> &mut Files {
    if dependencies {
        &mut out.dependencies
    } else {
        &mut out.own
    }
}

/// `{projectRoot}/src/**` as `src/**`; `None` for anything else.
fn project_glob(text: &str) -> Option<String> {
    let rest = text.strip_prefix("{projectRoot}")?;
    let rest = rest.trim_start_matches('/');
    Some(if rest.is_empty() {
        "**".to_owned()
    } else {
        rest.to_owned()
    })
}

fn is_extended(glob: &str) -> bool {
    ["?(", "*(", "+(", "@(", "!("]
        .iter()
        .any(|marker| glob.contains(marker))
}

/// Exclusions with extended globs expanded into plain ones.
fn excluded(globs: &[String]) -> Vec<String> {
    globs
        .iter()
        .flat_map(|g| {
            if is_extended(g) {
                expand_extended(g)
            } else {
                vec![g.clone()]
            }
        })
        .collect()
}

/// The plain globs an extended glob's common cases match: `?(x)` and
/// `*(x)` as nothing or `x`, `+(a|b)` and `@(a|b)` as one of the
/// alternatives. Each result matches only names the original matches.
/// `!(…)` has no such expansion: nothing.
fn expand_extended(glob: &str) -> Vec<String> {
    let mut results = vec![String::new()];
    let bytes = glob.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let marker = bytes[i];
        if matches!(marker, b'?' | b'*' | b'+' | b'@' | b'!') && bytes.get(i + 1) == Some(&b'(') {
            let Some(close) = glob[i + 2..].find(')').map(|c| i + 2 + c) else {
                return Vec::new();
            };
            let alternatives: Vec<&str> = glob[i + 2..close].split('|').collect();
            let mut options: Vec<&str> = Vec::new();
            match marker {
                b'?' | b'*' => {
                    options.push("");
                    options.extend(&alternatives);
                }
                b'+' | b'@' => options.extend(&alternatives),
                _ => return Vec::new(),
            }
            let mut next = Vec::new();
            for prefix in &results {
                for option in &options {
                    next.push(format!("{prefix}{option}"));
                }
            }
            if next.len() > MAX_EXPANSION {
                return Vec::new();
            }
            results = next;
            i = close + 1;
        } else {
            let c = glob[i..].chars().next().unwrap_or_default();
            for r in &mut results {
                r.push(c);
            }
            i += c.len_utf8().max(1);
        }
    }
    results
}

fn globs(patterns: &[String]) -> Option<GlobSet> {
    if patterns.is_empty() {
        return None;
    }
    let mut set = GlobSetBuilder::new();
    for pattern in patterns {
        match GlobBuilder::new(pattern).literal_separator(true).build() {
            Ok(glob) => {
                set.add(glob);
            }
            Err(err) => {
                tracing::debug!(pattern, %err, "an Nx input glob that does not parse is left out");
            }
        }
    }
    set.build().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named() -> HashMap<String, Value> {
        object(&serde_json::json!({
            "default": ["{projectRoot}/**/*", "sharedGlobals"],
            "production": [
                "default",
                "!{projectRoot}/**/?(*.)+(spec|test).[jt]s?(x)?(.snap)",
                "!{projectRoot}/jest.config.[jt]s",
                { "env": "CI" }
            ],
            "sharedGlobals": ["{workspaceRoot}/babel.config.json"],
            "loop": ["loop"]
        }))
    }

    #[test]
    fn production_excludes_specs_and_reads_dependencies_production() {
        let inputs = [
            Value::String("production".into()),
            Value::String("^production".into()),
        ];
        let rule = rule(&named(), Some(&inputs));
        assert!(rule.matches("src/index.ts"));
        assert!(!rule.matches("src/index.spec.ts"));
        assert!(!rule.matches("src/a/button.test.tsx"));
        assert!(!rule.matches("jest.config.ts"));
        let deps = rule.dependency_inputs.expect("^production");
        assert!(deps.matches("src/lib.ts"));
        assert!(!deps.matches("src/lib.spec.ts"));
        assert!(rule.dependencies);
    }

    #[test]
    fn without_inputs_every_file_and_the_dependencies_default() {
        let rule = rule(&HashMap::new(), None);
        assert!(rule.matches("anything/at/all.md"));
        let deps = rule.dependency_inputs.expect("^default");
        assert!(deps.matches("x.ts"));
    }

    #[test]
    fn own_inputs_only_do_not_follow_dependencies() {
        let rule = rule(&named(), Some(&[Value::String("default".into())]));
        assert!(!rule.dependencies);
        assert!(rule.matches("README.md"));
    }

    #[test]
    fn a_cycle_of_named_inputs_ends_and_counts_every_file() {
        let rule = rule(&named(), Some(&[Value::String("loop".into())]));
        assert!(rule.matches("src/x.ts"));
    }

    #[test]
    fn extended_globs_expand_to_narrower_plain_ones() {
        let got = expand_extended("**/?(*.)+(spec|test).[jt]s?(x)");
        assert!(got.contains(&"**/*.spec.[jt]sx".to_owned()), "{got:?}");
        assert!(got.contains(&"**/test.[jt]s".to_owned()), "{got:?}");
        assert!(expand_extended("!(a)").is_empty());
        // A positive input with one counts every file.
        let rule = rule(
            &HashMap::new(),
            Some(&[Value::String("{projectRoot}/**/*.+(ts|js)".into())]),
        );
        assert!(rule.matches("README.md"));
    }
}
