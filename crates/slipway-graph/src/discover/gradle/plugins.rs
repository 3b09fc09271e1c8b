//! Convention plugins: what a plugin build (`build-logic`, `buildSrc`)
//! adds to the projects applying its plugins.
//!
//! A precompiled script plugin (`src/main/kotlin/acme.java-conventions.gradle.kts`)
//! is a build script: its project dependencies are those of every project
//! applying its id, read as any script is. A plugin written as code (a
//! Kotlin, Java or Groovy class) is not evaluated: when the plugin build's
//! code names a project (`project(":…")`), every project applying one of
//! the ids it registers (`gradlePlugin { plugins { … id = "…" } }`) is
//! assumed to depend on every Gradle project.

use std::collections::HashMap;
use std::path::Path;

use super::groovy::{string_at, strip_comments, words};
use super::{Script, parse_script};
use crate::discover::read_optional;
use crate::error::GraphError;
use crate::paths::child;

/// Most files looked at in one plugin build.
const MAX_FILES: usize = 20_000;

/// What the plugin builds of a repository provide.
#[derive(Debug, Default)]
pub(crate) struct Plugins {
    /// Precompiled script plugins by id: the script's path and what it says.
    pub(crate) scripts: HashMap<String, (String, Script)>,
    /// Plugins written as code, by id.
    pub(crate) code: HashMap<String, CodePlugin>,
    /// The root build's version catalog `[plugins]`: alias chain
    /// (`nowinandroid.android.library`) to plugin id.
    catalog: HashMap<String, String>,
    /// Catalog entries the plugin builds use (`libs.android.gradlePlugin`
    /// in their scripts, `findLibrary("hilt.compiler")` in their code):
    /// `(accessor, chain)`. Every project builds with them.
    pub(crate) catalog_uses: Vec<(String, String)>,
}

/// A plugin written as code (a class a plugin build registers).
#[derive(Debug, Clone)]
pub(crate) struct CodePlugin {
    /// The source file naming projects, when it does (or when the class's
    /// file cannot be found and some code of the build does).
    pub(crate) names_projects: Option<String>,
    /// Plugin ids the class applies itself.
    pub(crate) applies: Vec<String>,
}

impl Plugins {
    /// Reads the `[plugins]` of a version catalog, for ids given as
    /// `libs.plugins.<alias>`.
    pub(crate) fn read_catalog(&mut self, text: &str) {
        let Ok(table) = toml::from_str::<toml::Table>(text) else {
            return;
        };
        let Some(plugins) = table.get("plugins").and_then(toml::Value::as_table) else {
            return;
        };
        for (alias, value) in plugins {
            let id = match value {
                toml::Value::String(s) => s.split(':').next().unwrap_or(s).to_owned(),
                toml::Value::Table(t) => match t.get("id").and_then(toml::Value::as_str) {
                    Some(id) => id.to_owned(),
                    None => continue,
                },
                _ => continue,
            };
            self.catalog.insert(super::normalize_alias(alias), id);
        }
    }

    /// An applied or registered id as the plugin id it stands for:
    /// `catalog:<alias>` resolved through the catalog where it can be.
    pub(crate) fn resolve<'a>(&'a self, id: &'a str) -> &'a str {
        id.strip_prefix("catalog:")
            .and_then(|alias| self.catalog.get(alias))
            .map_or(id, String::as_str)
    }

    /// Reads the plugin build at `dir`.
    pub(crate) fn read(
        &mut self,
        root: &Path,
        dir: &str,
        catalogs: &[&str],
    ) -> Result<(), GraphError> {
        let mut files = Vec::new();
        walk(root, dir, &mut files)?;
        // Class name → (the file, when it names projects; ids it applies).
        let mut classes: HashMap<String, (Option<String>, Vec<String>)> = HashMap::new();
        let mut any_naming: Option<String> = None;
        let mut registered: Vec<(String, Option<String>)> = Vec::new();
        for file in &files {
            let name = file.rsplit('/').next().unwrap_or(file);
            let in_sources = file.contains("/src/main/");
            let kotlin_script = name.strip_suffix(".gradle.kts");
            let groovy_script = name.strip_suffix(".gradle");
            let class = [".kt", ".java", ".groovy"]
                .iter()
                .find_map(|ext| name.strip_suffix(ext));
            let build_script = name == "build.gradle.kts" || name == "build.gradle";
            // Only the files read below are opened: a plugin build also
            // holds resources, wrappers and images, which are no text to us.
            let wanted = build_script
                || (in_sources
                    && (kotlin_script.is_some() || groovy_script.is_some() || class.is_some()));
            if !wanted {
                continue;
            }
            let Some(text) = read_optional(root, file)? else {
                continue;
            };
            if in_sources && let Some(stem) = kotlin_script.or(groovy_script) {
                // Kotlin precompiled scripts take their package as a prefix.
                let id = match package_of(&text) {
                    Some(package) if kotlin_script.is_some() => format!("{package}.{stem}"),
                    _ => stem.to_owned(),
                };
                let script = parse_script(&text, catalogs);
                self.catalog_uses
                    .extend(script.catalog_uses.iter().cloned());
                self.scripts.insert(id, (file.clone(), script));
            } else if in_sources && let Some(class) = class {
                let code = strip_comments(&text);
                let names = (code.contains("project(\":") || code.contains("project(':"))
                    .then(|| file.clone());
                if names.is_some() {
                    any_naming.get_or_insert_with(|| file.clone());
                }
                classes.insert(class.to_owned(), (names, applied_ids(&text)));
                self.catalog_uses.extend(found_in_code(&code, catalogs));
            } else if build_script {
                registered.extend(registrations(&text));
                self.catalog_uses
                    .extend(parse_script(&text, catalogs).catalog_uses);
            }
        }
        for (id, class) in registered {
            let found = class
                .as_deref()
                .map(|c| c.rsplit('.').next().unwrap_or(c))
                .and_then(|c| classes.get(c));
            let plugin = match found {
                Some((names, applies)) => CodePlugin {
                    names_projects: names.clone(),
                    applies: applies.clone(),
                },
                // A class not found here: if any code names projects, it
                // may be that code.
                None => CodePlugin {
                    names_projects: any_naming.clone(),
                    applies: Vec::new(),
                },
            };
            let id = self.resolve(&id).to_owned();
            self.code.insert(id, plugin);
        }
        Ok(())
    }
}

/// The catalog entries plugin code looks up by name:
/// `findLibrary("hilt-compiler")`, `findVersion("x")`, `findPlugin("x")`,
/// `findBundle("x")`, each for every catalog accessor (the code may name
/// any of them).
fn found_in_code(code: &str, catalogs: &[&str]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (call, prefix) in [
        ("findLibrary", ""),
        ("findVersion", "versions."),
        ("findPlugin", "plugins."),
        ("findBundle", "bundles."),
    ] {
        // Called on a catalog (`libs.findLibrary(…)`): a method, so not a
        // whole word to `words`.
        for (at, _) in code.match_indices(call) {
            let rest = code[at + call.len()..].trim_start();
            let Some(rest) = rest.strip_prefix('(') else {
                continue;
            };
            if let Some((alias, _)) = string_at(rest.trim_start(), 0) {
                let chain = format!("{prefix}{}", super::normalize_alias(alias));
                for catalog in catalogs {
                    out.push(((*catalog).to_owned(), chain.clone()));
                }
            }
        }
    }
    out
}

/// Every file below `dir`, bounded, skipping build output and hidden
/// directories.
fn walk(root: &Path, dir: &str, files: &mut Vec<String>) -> Result<(), GraphError> {
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(root.join(&d)) else {
            continue;
        };
        for entry in entries.flatten() {
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if !name.starts_with('.') && name != "build" && name != "node_modules" {
                    stack.push(child(&d, &name));
                }
            } else {
                files.push(child(&d, &name));
                if files.len() > MAX_FILES {
                    return Err(GraphError::manifest(
                        root.join(dir),
                        format!("more than {MAX_FILES} files in a Gradle plugin build"),
                    ));
                }
            }
        }
    }
    files.sort();
    Ok(())
}

/// `package a.b` at the top of a Kotlin script: its plugin id's prefix.
fn package_of(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|l| {
            !l.is_empty() && !l.starts_with("//") && !l.starts_with("/*") && !l.starts_with('*')
        })
        .and_then(|l| l.strip_prefix("package "))
        .map(|p| p.trim().trim_end_matches(';').to_owned())
}

/// What a plugin build's script registers: `gradlePlugin { plugins {
/// register("x") { id = "acme.x"; implementationClass = "XPlugin" } } }`,
/// the id as a string or `catalog:<alias>` for
/// `libs.plugins.<alias>.get().pluginId`.
fn registrations(text: &str) -> Vec<(String, Option<String>)> {
    let text = strip_comments(text);
    let mut out = Vec::new();
    let Some(start) = text.find("gradlePlugin") else {
        return out;
    };
    let block = &text[start..];
    let mut heads: Vec<usize> = words(block, "register").collect();
    heads.extend(words(block, "create"));
    heads.sort_unstable();
    for at in heads {
        let Some(open) = block[at..].find('{').map(|o| at + o) else {
            continue;
        };
        let Some(close) = super::groovy::closing(block, open) else {
            continue;
        };
        let body = &block[open..close];
        let mut id = None;
        let mut class = None;
        for w in words(body, "id") {
            let rest = body[w + 2..].trim_start();
            let rest = rest
                .strip_prefix('=')
                .or_else(|| rest.strip_prefix(".set("))
                .or_else(|| rest.strip_prefix('('))
                .unwrap_or(rest)
                .trim_start();
            if let Some((literal, _)) = string_at(rest, 0) {
                id = Some(literal.to_owned());
            } else if let Some(chain) = rest.strip_prefix("libs.plugins.") {
                id = Some(format!("catalog:{}", catalog_chain(chain)));
            }
        }
        for w in words(body, "implementationClass") {
            let rest = body[w + "implementationClass".len()..].trim_start();
            let rest = rest
                .strip_prefix('=')
                .or_else(|| rest.strip_prefix(".set("))
                .unwrap_or(rest)
                .trim_start();
            if let Some((literal, _)) = string_at(rest, 0) {
                class = Some(literal.to_owned());
            }
        }
        if let Some(id) = id {
            out.push((id, class));
        }
    }
    out
}

/// `nowinandroid.android.library.asProvider().get().pluginId` →
/// `nowinandroid.android.library`.
fn catalog_chain(rest: &str) -> String {
    let chain: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .collect();
    let parts: Vec<&str> = chain
        .split('.')
        .take_while(|p| !matches!(*p, "asProvider" | "get" | "pluginId" | ""))
        .collect();
    super::normalize_alias(&parts.join("."))
}

/// The plugin ids a build script applies: `id("x")`, `id 'x'`,
/// `apply(plugin = "x")`, `apply plugin: 'x'`.
pub(crate) fn applied_ids(text: &str) -> Vec<String> {
    let text = strip_comments(text);
    let mut ids = Vec::new();
    for at in words(&text, "id") {
        let rest = text[at + 2..].trim_start();
        let rest = rest.strip_prefix('(').unwrap_or(rest).trim_start();
        if let Some((id, _)) = string_at(rest, 0) {
            ids.push(id.to_owned());
        }
    }
    for at in words(&text, "alias") {
        let rest = text[at + "alias".len()..].trim_start();
        if let Some(chain) = rest
            .strip_prefix('(')
            .map(str::trim_start)
            .and_then(|r| r.strip_prefix("libs.plugins."))
        {
            ids.push(format!("catalog:{}", catalog_chain(chain)));
        }
    }
    for at in words(&text, "plugin") {
        let rest = text[at + "plugin".len()..].trim_start();
        if let Some(rest) = rest.strip_prefix(['=', ':'])
            && let Some((id, _)) = string_at(rest.trim_start(), 0)
        {
            ids.push(id.to_owned());
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_applied_and_registered() {
        assert_eq!(
            applied_ids(
                "plugins {\n    id(\"acme.java-conventions\")\n    id 'acme.groovy'\n}\napply(plugin = \"acme.k\")\napply plugin: 'acme.g'\n// id(\"commented\")\n"
            ),
            ["acme.java-conventions", "acme.groovy", "acme.k", "acme.g"]
        );
        assert_eq!(
            registrations(
                "plugins { `kotlin-dsl` }\ngradlePlugin {\n  plugins {\n    register(\"lib\") {\n      id = \"acme.library\"\n      implementationClass = \"LibraryPlugin\"\n    }\n    create(\"app\") { id(\"acme.app\") }\n    register(\"feature\") {\n      id = libs.plugins.acme.android.feature.asProvider().get().pluginId\n      implementationClass = \"com.acme.FeaturePlugin\"\n    }\n  }\n}\n"
            ),
            [
                ("acme.library".to_owned(), Some("LibraryPlugin".to_owned())),
                ("acme.app".to_owned(), None),
                (
                    "catalog:acme.android.feature".to_owned(),
                    Some("com.acme.FeaturePlugin".to_owned())
                ),
            ]
        );
        assert_eq!(
            applied_ids("plugins {\n    alias(libs.plugins.acme.android.feature)\n}\n"),
            ["catalog:acme.android.feature"]
        );
        assert_eq!(package_of("plugins {}\n"), None);
    }
}
