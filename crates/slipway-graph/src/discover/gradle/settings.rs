//! `settings.gradle(.kts)`: the projects, their directories and names, the
//! included builds and the version catalogs.

use std::collections::BTreeMap;
use std::path::Path;

use super::MAX_PROJECTS;
use super::groovy::{
    chain_at, closing, skip_space, statement_end, string_at, strings_in, strip_comments, words,
};

/// What a settings file declares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Settings {
    pub(crate) root_name: Option<String>,
    /// Project paths (`:a:b`), in order, each once.
    pub(crate) projects: Vec<String>,
    /// `projectDir` overrides, relative to the settings directory.
    pub(crate) dirs: BTreeMap<String, String>,
    /// Renames.
    pub(crate) names: BTreeMap<String, String>,
    /// `includeBuild` directories, and whether each is a plugin build by
    /// where it is included (`pluginManagement`).
    pub(crate) builds: Vec<(String, bool)>,
    /// Version catalogs declared: `(accessor, file)`.
    pub(crate) catalogs: Vec<(String, String)>,
    /// Everything but the `include` statements, whitespace collapsed: two
    /// settings with equal `rest` differ at most in their projects.
    pub(crate) rest: String,
}

/// Reads a settings file's text.
pub(crate) fn parse_settings(text: &str) -> Settings {
    let text = strip_comments(text);
    let mut settings = Settings::default();
    let mut cut: Vec<(usize, usize)> = Vec::new();
    // A set for the lookups, and the bound checked while collecting: a
    // settings file from a pull request may include a million projects.
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    for at in words(&text, "include") {
        let args = skip_space(&text, at + "include".len());
        let end = if text.as_bytes().get(args) == Some(&b'(') {
            closing(&text, args).map_or(text.len(), |c| c + 1)
        } else {
            statement_end(&text, args)
        };
        for path in strings_in(&text, args, end) {
            if settings.projects.len() > MAX_PROJECTS {
                // One over the bound: `read_build` refuses the file.
                break;
            }
            if let Some(path) = project_path(path)
                && seen.insert(path.clone())
            {
                settings.projects.push(path);
            }
        }
        cut.push((at, end));
    }
    read_overrides(&text, &mut settings);
    let plugin_blocks: Vec<(usize, usize)> = words(&text, "pluginManagement")
        .filter_map(|at| {
            let open = skip_space(&text, at + "pluginManagement".len());
            (text.as_bytes().get(open) == Some(&b'{'))
                .then(|| closing(&text, open).map(|c| (open, c)))
                .flatten()
        })
        .collect();
    for at in words(&text, "includeBuild") {
        if let Some((dir, _)) = call_arg(&text, at + "includeBuild".len()) {
            let plugin = plugin_blocks.iter().any(|&(o, c)| o < at && at < c);
            settings
                .builds
                .push((strip_root_prefix(dir).to_owned(), plugin));
        }
    }
    read_catalogs(&text, &mut settings);
    for at in words(&text, "rootProject") {
        let rest = text[at + "rootProject".len()..].trim_start();
        if let Some(rest) = rest.strip_prefix(".name")
            && let Some(value) = rest.trim_start().strip_prefix('=')
            && let Some((name, _)) = string_at(value, 0)
        {
            settings.root_name = Some(name.to_owned());
        }
    }
    let mut rest = String::with_capacity(text.len());
    let mut from = 0;
    for (start, end) in cut {
        if start >= from {
            rest.push_str(&text[from..start]);
            from = end;
        }
    }
    rest.push_str(&text[from.min(text.len())..]);
    settings.rest = rest.split_whitespace().collect::<Vec<_>>().join(" ");
    settings
}

/// Version catalogs declared with `from(files("….toml"))`.
fn read_catalogs(text: &str, settings: &mut Settings) {
    for at in words(text, "files") {
        let Some((file, _)) = call_arg(text, at + "files".len()) else {
            continue;
        };
        if !Path::new(file)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
        {
            continue;
        }
        if let Some(name) = catalog_name(&text[..at]) {
            settings
                .catalogs
                .push((name, strip_root_prefix(file).to_owned()));
        }
    }
}

/// `project(":x").projectDir = …` and `project(":x").name = …`.
pub(super) fn read_overrides(text: &str, settings: &mut Settings) {
    for at in words(text, "project") {
        let Some((path, after)) = call_arg(text, at + "project".len()) else {
            continue;
        };
        let Some(path) = project_path(path) else {
            continue;
        };
        let rest = &text[after..];
        let property = rest.trim_start();
        let offset = after + (rest.len() - property.len());
        let (field, len) = if property.starts_with(".projectDir") {
            ("dir", ".projectDir".len())
        } else if property.starts_with(".name") {
            ("name", ".name".len())
        } else {
            continue;
        };
        let value_at = skip_space(text, offset + len);
        if text.as_bytes().get(value_at) != Some(&b'=') {
            continue;
        }
        let end = statement_end(text, value_at);
        let Some(value) = strings_in(text, value_at, end).last().copied() else {
            continue;
        };
        let value = strip_root_prefix(value).to_owned();
        if field == "dir" {
            settings.dirs.insert(path, value);
        } else {
            settings.names.insert(path, value);
        }
    }
}

/// The literal argument of a call at `i`: `("x")`, `('x')`, Groovy's
/// ` 'x'`, or `(path: ':x')`; the index past it.
pub(super) fn call_arg(text: &str, i: usize) -> Option<(&str, usize)> {
    let mut at = skip_space(text, i);
    let paren = text.as_bytes().get(at) == Some(&b'(');
    if paren {
        at += 1;
        let inner = text[at..].trim_start();
        if let Some(value) = inner
            .strip_prefix("path")
            .map(str::trim_start)
            .and_then(|v| v.strip_prefix([':', '=']))
        {
            at = text.len() - value.len();
        }
    } else if at == i {
        return None;
    }
    let (value, mut end) = string_at(text, at)?;
    if paren {
        end = skip_space(text, end);
        if text.as_bytes().get(end) != Some(&b')') {
            return None;
        }
        end += 1;
    }
    Some((value, end))
}

/// `:a:b` from `:a:b`, `a:b` or `a`; `None` for the root or nonsense.
pub(super) fn project_path(raw: &str) -> Option<String> {
    let parts: Vec<&str> = raw.split(':').filter(|p| !p.is_empty()).collect();
    if parts.is_empty()
        || parts
            .iter()
            .any(|p| p.contains(['/', '\\', '$', '"', '\'']) || *p == "." || *p == "..")
    {
        return None;
    }
    Some(format!(":{}", parts.join(":")))
}

/// `x` from `$rootDir/x`, `${rootDir}/x`, `$settingsDir/x`.
pub(super) fn strip_root_prefix(path: &str) -> &str {
    for prefix in [
        "$rootDir/",
        "${rootDir}/",
        "$settingsDir/",
        "${settingsDir}/",
    ] {
        if let Some(rest) = path.strip_prefix(prefix) {
            return rest;
        }
    }
    path
}

/// The catalog a `from(files(…))` belongs to: `create("tools") {` in
/// Kotlin, `tools {` in Groovy, the block opening last before it.
pub(super) fn catalog_name(before: &str) -> Option<String> {
    let open = before.rfind('{')?;
    let head = before[..open].trim_end();
    if head.ends_with(')') {
        let call = head.rfind("create")?;
        let (name, _) = call_arg(head, call + "create".len())?;
        return Some(name.to_owned());
    }
    let name = chain_at(
        head,
        head.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))? + 1,
    );
    (!name.is_empty()).then(|| name.to_owned())
}
