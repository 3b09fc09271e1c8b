//! Build scripts: the project dependencies, catalog uses, applied scripts
//! and plugins each names.

use std::collections::BTreeMap;

use super::blocks::{Blocks, Target};
use super::groovy::{chain_at, string_at, strings_in, strip_comments, words};

use super::settings::{call_arg, project_path};

/// One project dependency a build script declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProjectRef {
    /// `:core:data` for `project(":core:data")`, `core.data` for the
    /// accessor `projects.core.data`.
    pub(crate) name: String,
    /// Used only by tests.
    pub(crate) test: bool,
    /// The projects whose dependency it is.
    pub(crate) target: Target,
}

/// What one build script names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Script {
    /// `project(":x")` dependencies.
    pub(crate) projects: Vec<ProjectRef>,
    /// `projects.a.b` dependencies: the accessor chain after `projects.`.
    pub(crate) accessors: Vec<ProjectRef>,
    /// `libs.a.b` for each catalog accessor: `(accessor, chain)`.
    pub(crate) catalog_uses: Vec<(String, String)>,
    /// `apply(from = "…")` scripts.
    pub(crate) applied: Vec<String>,
    /// String literals shaped like `group:name[:version]`.
    pub(crate) coordinates: Vec<String>,
    /// Plugin ids it applies.
    pub(crate) plugins: Vec<String>,
}

pub(crate) fn parse_script(text: &str, catalogs: &[&str]) -> Script {
    let mut script = Script {
        plugins: super::plugins::applied_ids(text),
        ..Script::default()
    };
    let text = strip_comments(text);
    let blocks = Blocks::new(&text);
    // Only dependency declarations are edges: a project named for
    // coverage, publication or task wiring is not one.
    let reference = |name: String, at: usize| {
        let place = blocks.place(at);
        if !place.dependency {
            tracing::trace!(reference = %name, "a project named outside any dependency declaration");
        }
        place.dependency.then_some(ProjectRef {
            name,
            test: place.test,
            target: place.target,
        })
    };
    for at in words(&text, "project") {
        if let Some((path, _)) = call_arg(&text, at + "project".len())
            && let Some(path) = project_path(path)
            && let Some(found) = reference(path, at)
        {
            script.projects.push(found);
        }
    }
    for at in words(&text, "projects") {
        if text.as_bytes().get(at + "projects".len()) == Some(&b'.') {
            let chain = chain_at(&text, at + "projects.".len());
            if !chain.is_empty()
                && let Some(found) = reference(chain.to_owned(), at)
            {
                script.accessors.push(found);
            }
        }
    }
    for &catalog in catalogs {
        for at in words(&text, catalog) {
            if text.as_bytes().get(at + catalog.len()) == Some(&b'.') {
                let chain = chain_at(&text, at + catalog.len() + 1);
                if !chain.is_empty() {
                    script
                        .catalog_uses
                        .push((catalog.to_owned(), normalize_alias(chain)));
                }
            }
        }
    }
    for at in words(&text, "from") {
        let before = text[..at].trim_end();
        let applied = before.ends_with("apply") || before.ends_with("apply(");
        if !applied {
            continue;
        }
        let after = text[at + "from".len()..].trim_start();
        if let Some(value) = after.strip_prefix(['=', ':'])
            && let Some((file, _)) = string_at(value, 0)
        {
            script.applied.push(file.to_owned());
        }
    }
    for literal in strings_in(&text, 0, text.len()) {
        let parts: Vec<&str> = literal.split(':').collect();
        if (2..=3).contains(&parts.len())
            && parts[..2].iter().all(|p| {
                !p.is_empty()
                    && p.bytes()
                        .all(|b| super::groovy::is_ident(b) || b"-.".contains(&b))
            })
        {
            script.coordinates.push(literal.to_owned());
        }
    }
    script
}

/// A root build script split for comparison: everything outside its
/// outermost `project(':x') { … }` blocks, and each block by project path,
/// comments gone and whitespace collapsed (layout is no change).
pub(crate) fn root_script_parts(text: &str) -> (String, BTreeMap<String, String>) {
    let text = strip_comments(text);
    let collapse = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let blocks = Blocks::new(&text).project_blocks();
    let mut rest = String::new();
    let mut parts = BTreeMap::new();
    let mut at = 0;
    for (path, start, end) in blocks {
        rest.push_str(&text[at..start]);
        rest.push('\n');
        let joined: &mut String = parts.entry(path).or_default();
        joined.push_str(&collapse(&text[start..end]));
        at = end;
    }
    rest.push_str(&text[at..]);
    (collapse(&rest), parts)
}

/// A catalog alias or accessor chain in one form: `-` and `_` read as `.`.
pub(crate) fn normalize_alias(alias: &str) -> String {
    alias.replace(['-', '_'], ".")
}

/// The type-safe accessor of one project name: `core-data` → `coreData`.
pub(super) fn accessor_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '-' || c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}
