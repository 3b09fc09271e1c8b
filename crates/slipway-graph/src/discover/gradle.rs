//! Gradle builds (Groovy and Kotlin DSL), read as text: Gradle never runs.
//!
//! Projects come from `settings.gradle(.kts)`: `include` calls in any form
//! that names its projects literally (lists, several arguments, inside `if`
//! blocks: a conditional project is still a project), with
//! `project(":x").projectDir = file("…")` overrides and
//! `project(":x").name = "y"` renames (the name type-safe accessors and
//! outputs use; the directory stays). `:a:b` lives in `a/b` by default.
//! An intermediate project (`:a` of `:a:b`) is a package only when it has
//! a build script of its own.
//!
//! Edges come from each build script: `project(":x")` and type-safe
//! accessors `projects.x.y` (`-` and `_` in names read as camel case), in
//! any configuration (one whose name says `test` is a dev edge). Version
//! catalogs (`gradle/libs.versions.toml`, and those declared in settings
//! with `from(files(…))`) record which `libs.<alias>` each project uses,
//! read precisely when the catalog changes (`inputs/gradle_catalog.rs`).
//! `includeBuild("…")` builds are nested builds whose projects join the
//! graph under their directory; a plugin build (included inside
//! `pluginManagement`, named `build-logic`, or declaring `gradlePlugin`
//! or `kotlin-dsl`) is instead a build input of every project, like
//! `buildSrc/`, `gradle.properties`, the wrapper and a root build script.
//! A script applied with `apply(from = "…")` belongs to the projects
//! applying it.
//!
//! Heuristic, and said so in the README: projects included through code
//! (a loop over directories), dependencies added by convention plugins,
//! and accessors built at run time are not seen.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::gradle_blocks::{Blocks, Target};
use super::gradle_plugins::Plugins;
use super::groovy::{
    chain_at, closing, skip_space, statement_end, string_at, strings_in, strip_comments, words,
};
use super::read_optional;
use crate::error::GraphError;
use crate::graph::{GraphBuilder, KeyedInput, keyed_read};
use crate::model::{DepKind, Ecosystem, PackageId};
use crate::paths::{child, join};

pub(crate) const SETTINGS: [&str; 2] = ["settings.gradle.kts", "settings.gradle"];
pub(crate) const SCRIPTS: [&str; 2] = ["build.gradle.kts", "build.gradle"];
/// More projects than this in one build is refused.
const MAX_PROJECTS: usize = 20_000;
/// Included builds, in all, and how deep they may nest.
const MAX_BUILDS: usize = 256;
const MAX_BUILD_DEPTH: usize = 8;

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
    for at in words(&text, "files") {
        let Some((file, _)) = call_arg(&text, at + "files".len()) else {
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

/// `project(":x").projectDir = …` and `project(":x").name = …`.
fn read_overrides(text: &str, settings: &mut Settings) {
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
fn call_arg(text: &str, i: usize) -> Option<(&str, usize)> {
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
fn project_path(raw: &str) -> Option<String> {
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
fn strip_root_prefix(path: &str) -> &str {
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
fn catalog_name(before: &str) -> Option<String> {
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
        plugins: super::gradle_plugins::applied_ids(text),
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
fn accessor_name(name: &str) -> String {
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

/// One project of one build, before it is a package.
struct Project {
    path: String,
    dir: String,
    name: String,
    script: Option<(String, Script)>,
    build: usize,
}

/// One build: the root one or an included one.
struct Build {
    dir: String,
    settings_file: Option<String>,
    /// Accessor chain → project index.
    accessors: HashMap<String, usize>,
    /// Project path → project index (renamed paths too).
    paths: HashMap<String, usize>,
    catalogs: Vec<(String, String)>,
    /// The root project's script when the root is no package: its
    /// `project(':x') { … }`, `subprojects { … }` blocks still configure
    /// the other projects.
    root_script: Option<(String, Script)>,
    /// Plugin builds it includes (`build-logic`) and its `buildSrc`.
    plugin_dirs: Vec<String>,
}

pub(super) fn discover(root: &Path, builder: &mut GraphBuilder) -> Result<bool, GraphError> {
    let has_settings = SETTINGS.iter().any(|f| root.join(f).is_file());
    if !has_settings {
        return Ok(false);
    }
    let mut builds: Vec<Build> = Vec::new();
    let mut projects: Vec<Project> = Vec::new();
    let mut queue = vec![(".".to_owned(), 0usize)];
    while let Some((dir, depth)) = queue.pop() {
        if builds.iter().any(|b| b.dir == dir) {
            continue;
        }
        if builds.len() >= MAX_BUILDS || depth > MAX_BUILD_DEPTH {
            return Err(GraphError::manifest(
                root.join(&dir),
                format!(
                    "more than {MAX_BUILDS} included Gradle builds, or nested deeper than {MAX_BUILD_DEPTH}"
                ),
            ));
        }
        let nested = read_build(root, &dir, builds.len(), &mut projects, builder)?;
        builds.push(nested.0);
        queue.extend(nested.1.into_iter().map(|d| (d, depth + 1)));
    }
    let mut plugins = Plugins::default();
    if let Some((_, catalog)) = builds
        .first()
        .and_then(|b| b.catalogs.iter().find(|(n, _)| n == "libs"))
        && let Some(text) = read_optional(root, catalog)?
    {
        plugins.read_catalog(&text);
    }
    for build in &builds {
        let catalogs: Vec<&str> = build.catalogs.iter().map(|(n, _)| n.as_str()).collect();
        for dir in &build.plugin_dirs {
            plugins.read(root, dir, &catalogs)?;
        }
    }
    add_graph(&builds, &projects, &plugins, builder)?;
    Ok(true)
}

/// Reads one build at `dir`: its projects, catalogs and build inputs;
/// returns the build and the included (non-plugin) builds to read next.
fn read_build(
    root: &Path,
    dir: &str,
    index: usize,
    projects: &mut Vec<Project>,
    builder: &mut GraphBuilder,
) -> Result<(Build, Vec<String>), GraphError> {
    let mut settings_file = None;
    let mut settings = Settings::default();
    for name in SETTINGS {
        let rel = child(dir, name);
        if let Some(text) = read_optional(root, &rel)? {
            settings = parse_settings(&text);
            builder.add_keyed_input(&rel, KeyedInput::GradleSettings);
            settings_file = Some(rel);
            break;
        }
    }
    if settings.projects.len() > MAX_PROJECTS {
        return Err(GraphError::manifest(
            root.join(settings_file.as_deref().unwrap_or(dir)),
            format!("more than {MAX_PROJECTS} projects"),
        ));
    }
    let eco = Ecosystem::Gradle;
    let why = |what: &str| format!("{what}, which every Gradle project builds with");
    for (file, what) in [
        (
            "gradle.properties",
            "gradle.properties sets build properties",
        ),
        ("gradlew", "the Gradle wrapper"),
        ("gradlew.bat", "the Gradle wrapper"),
        ("gradle/wrapper", "the Gradle wrapper"),
        (
            "buildSrc",
            "buildSrc is compiled into the build scripts' classpath",
        ),
    ] {
        builder.add_build_input(&child(dir, file), why(what), eco);
    }
    let mut catalogs: Vec<(String, String)> = Vec::new();
    let default_catalog = child(dir, "gradle/libs.versions.toml");
    if root.join(&default_catalog).is_file() {
        catalogs.push(("libs".to_owned(), default_catalog));
    }
    for (name, file) in &settings.catalogs {
        if let Some(path) = join(dir, file)
            && !catalogs.iter().any(|(n, _)| n == name)
        {
            catalogs.retain(|(_, p)| *p != path);
            catalogs.push((name.clone(), path));
        }
    }
    for (_, path) in &catalogs {
        builder.add_keyed_input(path, KeyedInput::GradleCatalog);
    }
    let mut nested = Vec::new();
    let mut plugin_dirs = Vec::new();
    let build_src = child(dir, "buildSrc");
    if root.join(&build_src).is_dir() {
        plugin_dirs.push(build_src);
    }
    for (build_dir, plugin_block) in &settings.builds {
        let Some(path) = join(dir, build_dir) else {
            continue;
        };
        if *plugin_block || is_plugin_build(root, &path)? {
            builder.add_build_input(
                &path,
                why(&format!("{path} is an included plugin build")),
                eco,
            );
            plugin_dirs.push(path);
        } else {
            nested.push(path);
        }
    }
    let mut build = Build {
        dir: dir.to_owned(),
        settings_file,
        accessors: HashMap::new(),
        paths: HashMap::new(),
        catalogs,
        root_script: None,
        plugin_dirs,
    };
    read_projects(root, index, &settings, &mut build, projects, builder)?;
    Ok((build, nested))
}

/// Adds the projects of `settings` (the build at `build.dir`) to
/// `projects`, indexing them in `build`; the root project's script is a
/// build input when the root is no project.
fn read_projects(
    root: &Path,
    index: usize,
    settings: &Settings,
    build: &mut Build,
    projects: &mut Vec<Project>,
    builder: &mut GraphBuilder,
) -> Result<(), GraphError> {
    let dir = build.dir.clone();
    let dir = dir.as_str();
    let eco = Ecosystem::Gradle;
    let why = |what: &str| format!("{what}, which every Gradle project builds with");
    // The root project, then every included one and its ancestors.
    let mut all: Vec<String> = vec![":".to_owned()];
    let mut in_all: std::collections::HashSet<String> = all.iter().cloned().collect();
    for path in &settings.projects {
        let mut prefix = String::new();
        for part in path.trim_start_matches(':').split(':') {
            prefix.push(':');
            prefix.push_str(part);
            if in_all.insert(prefix.clone()) {
                all.push(prefix.clone());
            }
        }
    }
    let declared: std::collections::HashSet<&str> =
        settings.projects.iter().map(String::as_str).collect();
    let mut dirs: HashMap<String, String> = HashMap::from([(":".to_owned(), dir.to_owned())]);
    let catalog_names: Vec<&str> = build.catalogs.iter().map(|(n, _)| n.as_str()).collect();
    for path in &all {
        let project_dir = if path == ":" {
            dir.to_owned()
        } else {
            let (parent, last) = path.rsplit_once(':').unwrap_or((":", path));
            let parent = if parent.is_empty() { ":" } else { parent };
            let base = dirs.get(parent).cloned().unwrap_or_else(|| dir.to_owned());
            match settings.dirs.get(path) {
                Some(over) => join(dir, over),
                None => join(&base, last),
            }
            .ok_or_else(|| {
                GraphError::manifest(
                    root.join(build.settings_file.as_deref().unwrap_or(dir)),
                    format!("project {path} lies outside the repository"),
                )
            })?
        };
        dirs.insert(path.clone(), project_dir.clone());
        let mut script = None;
        for name in SCRIPTS {
            let rel = child(&project_dir, name);
            if let Some(text) = read_optional(root, &rel)? {
                script = Some((rel, parse_script(&text, &catalog_names)));
                break;
            }
        }
        let name = project_name(root, dir, settings, path);
        let is_package = if path == ":" {
            // The root project is a package when it builds something of
            // its own (or is the only project); else its build script is
            // configuration every project builds with.
            settings.projects.is_empty() || root.join(child(dir, "src")).is_dir()
        } else {
            declared.contains(path.as_str()) || script.is_some()
        };
        if !is_package {
            if path == ":"
                && let Some((rel, _)) = &script
            {
                builder.add_build_input(
                    rel,
                    why("the root build script configures every project"),
                    eco,
                );
                // Read precisely when it changes: a `project(':x') { … }`
                // block concerns `:x` alone.
                builder.add_keyed_input(rel, KeyedInput::GradleRootScript);
                build.root_script = script;
            }
            continue;
        }
        let i = projects.len();
        let accessor: Vec<String> = path
            .trim_start_matches(':')
            .split(':')
            .scan(String::new(), |prefix, part| {
                prefix.push(':');
                prefix.push_str(part);
                let renamed = settings
                    .names
                    .get(prefix.as_str())
                    .map_or(part, String::as_str);
                Some(accessor_name(renamed))
            })
            .collect();
        if path != ":" {
            build.accessors.insert(accessor.join("."), i);
            build.paths.insert(path.clone(), i);
            if let Some(renamed) = settings.names.get(path) {
                let (parent, _) = path.rsplit_once(':').unwrap_or(("", ""));
                build.paths.insert(format!("{parent}:{renamed}"), i);
            }
        }
        projects.push(Project {
            path: path.clone(),
            dir: project_dir,
            name,
            script,
            build: index,
        });
    }
    Ok(())
}

/// A project's name: its rename, else its last path segment; the root
/// project's is `rootProject.name`, else its directory's name.
fn project_name(root: &Path, dir: &str, settings: &Settings, path: &str) -> String {
    if let Some(renamed) = settings.names.get(path) {
        return renamed.clone();
    }
    if path != ":" {
        return path.rsplit(':').next().unwrap_or(path).to_owned();
    }
    settings.root_name.clone().unwrap_or_else(|| {
        if dir == "." {
            root.file_name()
                .map_or_else(|| "root".to_owned(), |n| n.to_string_lossy().into_owned())
        } else {
            dir.rsplit('/').next().unwrap_or(dir).to_owned()
        }
    })
}

/// What the convention plugins project `i` applies add: the edges of each
/// precompiled script plugin (and of those it applies in turn), and an
/// assumed edge to every project for a plugin whose code names projects.
fn apply_plugins(
    projects: &[Project],
    ids: &[PackageId],
    build: &Build,
    i: usize,
    script: &Script,
    plugins: &Plugins,
    builder: &mut GraphBuilder,
) {
    let mut todo: Vec<&str> = script.plugins.iter().map(String::as_str).collect();
    let mut seen: Vec<&str> = Vec::new();
    while let Some(id) = todo.pop() {
        let id = plugins.resolve(id);
        if seen.contains(&id) || seen.len() > 64 {
            continue;
        }
        seen.push(id);
        if let Some((path, plugin)) = plugins.scripts.get(id) {
            add_script_edges(projects, ids, build, Some(i), path, plugin, builder);
            todo.extend(plugin.plugins.iter().map(String::as_str));
        }
        let Some(code) = plugins.code.get(id) else {
            continue;
        };
        todo.extend(code.applies.iter().map(String::as_str));
        if let Some(source) = &code.names_projects {
            builder.assume_all(
                ids[i],
                format!(
                    "the convention plugin {id} names projects in code ({source}), which is not evaluated, so {} is taken to depend on every Gradle project",
                    projects[i].dir
                ),
            );
        }
    }
}

/// The edges one build script declares: each project reference goes to
/// the projects its block configures (`owner`, the script's own project,
/// `None` for a root that is no package).
fn add_script_edges(
    projects: &[Project],
    ids: &[PackageId],
    build: &Build,
    owner: Option<usize>,
    script_path: &str,
    script: &Script,
    builder: &mut GraphBuilder,
) {
    let owner_path = owner.map_or(":", |i| projects[i].path.as_str());
    let below = |i: usize| {
        let path = projects[i].path.as_str();
        path != owner_path && (owner_path == ":" || path.starts_with(&format!("{owner_path}:")))
    };
    let same_build = |i: usize| build.paths.values().any(|&j| j == i);
    let from_of = |target: &Target| -> Vec<usize> {
        match target {
            Target::Own => owner.into_iter().collect(),
            Target::Project(path) => build.paths.get(path).copied().into_iter().collect(),
            Target::Listed(paths) => paths
                .iter()
                .filter_map(|p| build.paths.get(p).copied())
                .collect(),
            Target::Subprojects => (0..projects.len())
                .filter(|&i| same_build(i) && below(i))
                .collect(),
            Target::All => (0..projects.len())
                .filter(|&i| same_build(i) && below(i))
                .chain(owner)
                .collect(),
        }
    };
    let kind = |test: bool| if test { DepKind::Test } else { DepKind::Normal };
    for reference in &script.projects {
        let Some(&to) = build.paths.get(&reference.name) else {
            tracing::debug!(script = %script_path, project = %reference.name, "project() names no project of this build");
            continue;
        };
        for from in from_of(&reference.target) {
            if from != to {
                builder.add_edge(ids[from], ids[to], kind(reference.test));
            }
        }
    }
    for reference in &script.accessors {
        // The longest prefix of the chain naming a project:
        // `projects.core.data.dependencyProject` is `:core:data`.
        let mut candidate = reference.name.as_str();
        let to = loop {
            if let Some(&to) = build.accessors.get(candidate) {
                break Some(to);
            }
            match candidate.rfind('.') {
                Some(dot) => candidate = &candidate[..dot],
                None => break None,
            }
        };
        let Some(to) = to else { continue };
        for from in from_of(&reference.target) {
            if from != to {
                builder.add_edge(ids[from], ids[to], kind(reference.test));
            }
        }
    }
}

/// Whether the build at `dir` makes plugins: named `build-logic`, or a
/// build script there declaring `gradlePlugin` or applying `kotlin-dsl`.
fn is_plugin_build(root: &Path, dir: &str) -> Result<bool, GraphError> {
    if dir.rsplit('/').next() == Some("build-logic") {
        return Ok(true);
    }
    let mut dirs = vec![dir.to_owned()];
    for name in SETTINGS {
        if let Some(text) = read_optional(root, &child(dir, name))? {
            let settings = parse_settings(&text);
            for path in settings.projects.iter().take(64) {
                if let Some(d) = join(dir, &path.trim_start_matches(':').replace(':', "/")) {
                    dirs.push(d);
                }
            }
            break;
        }
    }
    for d in dirs {
        for name in SCRIPTS {
            if let Some(text) = read_optional(root, &child(&d, name))?
                && (text.contains("gradlePlugin")
                    || text.contains("`kotlin-dsl`")
                    || text.contains("java-gradle-plugin"))
            {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

fn add_graph(
    builds: &[Build],
    projects: &[Project],
    plugins: &Plugins,
    builder: &mut GraphBuilder,
) -> Result<(), GraphError> {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for p in projects {
        *count.entry(p.name.as_str()).or_default() += 1;
    }
    let mut ids: Vec<PackageId> = Vec::with_capacity(projects.len());
    for p in projects {
        let name = if count[p.name.as_str()] > 1 {
            let build = &builds[p.build];
            let path = if p.path == ":" {
                &p.name
            } else {
                p.path.trim_start_matches(':')
            };
            if build.dir == "." {
                path.to_owned()
            } else {
                format!("{}:{path}", build.dir)
            }
        } else {
            p.name.clone()
        };
        let id = builder.add_package(&name, &p.dir, Ecosystem::Gradle)?;
        if let Some(settings) = &builds[p.build].settings_file {
            builder.add_read(id, keyed_read(settings, &format!("project:{}", p.path)));
        }
        if let Some((script, _)) = &builds[p.build].root_script {
            builder.add_read(id, keyed_read(script, &format!("block:{}", p.path)));
        }
        ids.push(id);
    }
    // What the plugin builds take from a catalog, every project builds
    // with: a change to such an entry marks them all.
    for (i, p) in projects.iter().enumerate() {
        for (accessor, chain) in &plugins.catalog_uses {
            if let Some((_, path)) = builds[p.build].catalogs.iter().find(|(n, _)| n == accessor) {
                builder.add_read(ids[i], keyed_read(path, chain));
            }
        }
    }
    // Projects of other builds by name, for dependency substitution.
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, p) in projects.iter().enumerate() {
        by_name.entry(p.name.as_str()).or_default().push(i);
    }
    // The scripts of non-package root projects configure others only.
    for build in builds {
        if let Some((script_path, script)) = &build.root_script {
            add_script_edges(projects, &ids, build, None, script_path, script, builder);
        }
    }
    for (i, p) in projects.iter().enumerate() {
        let Some((script_path, script)) = &p.script else {
            continue;
        };
        let id = ids[i];
        let build = &builds[p.build];
        add_script_edges(projects, &ids, build, Some(i), script_path, script, builder);
        apply_plugins(projects, &ids, build, i, script, plugins, builder);
        for (accessor, chain) in &script.catalog_uses {
            if let Some((_, path)) = build.catalogs.iter().find(|(n, _)| n == accessor) {
                builder.add_read(id, keyed_read(path, chain));
            }
        }
        for raw in &script.applied {
            let file = strip_root_prefix(raw);
            // Relative to the project, or to the build after `$rootDir/`.
            let base = if file.len() == raw.len() {
                &p.dir
            } else {
                &build.dir
            };
            if !file.contains('$')
                && !file.contains("://")
                && let Some(path) = join(base, file)
            {
                builder.add_outside_source(id, &path);
            }
        }
        for coordinate in &script.coordinates {
            let artifact = coordinate.split(':').nth(1).unwrap_or_default();
            if let Some(&[to]) = by_name.get(artifact).map(Vec::as_slice)
                && projects[to].build != p.build
            {
                builder.add_edge(id, ids[to], DepKind::Normal);
                builder.add_note(
                    id,
                    format!(
                        "{coordinate} in {script_path} was taken to be project {} of the included build {}, matched by name",
                        projects[to].path, builds[projects[to].build].dir
                    ),
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_huge_settings_file_is_cut_at_the_bound_while_read() {
        use std::fmt::Write as _;
        let mut text = String::new();
        for i in 0..(MAX_PROJECTS * 3) {
            // Each twice: a repeat costs a set lookup, not a scan.
            let _ = writeln!(text, "include ':p{i}'\ninclude ':p{i}'");
        }
        let settings = parse_settings(&text);
        assert_eq!(settings.projects.len(), MAX_PROJECTS + 1);
        assert_eq!(settings.projects[1], ":p1");
    }

    use super::*;

    #[test]
    fn settings_in_both_dialects() {
        let kts = r#"
pluginManagement { includeBuild("build-logic") }
rootProject.name = "nowinandroid"
include(":app")
include(":core:data", ":core:model")
include(listOf(":feature:a", ":feature:b"))
if (System.getenv("CI") != null) { include(":benchmarks") }
// include(":commented")
project(":legacy").projectDir = file("old/legacy")
include(":legacy")
project(":core:model").name = "model-api"
includeBuild("tools/codegen")
dependencyResolutionManagement {
    versionCatalogs { create("tools") { from(files("gradle/tools.versions.toml")) } }
}
"#;
        let s = parse_settings(kts);
        assert_eq!(
            s.projects,
            [
                ":app",
                ":core:data",
                ":core:model",
                ":feature:a",
                ":feature:b",
                ":benchmarks",
                ":legacy"
            ]
        );
        assert_eq!(s.root_name.as_deref(), Some("nowinandroid"));
        assert_eq!(s.dirs[":legacy"], "old/legacy");
        assert_eq!(s.names[":core:model"], "model-api");
        assert_eq!(
            s.builds,
            [
                ("build-logic".to_owned(), true),
                ("tools/codegen".to_owned(), false)
            ]
        );
        assert_eq!(
            s.catalogs,
            [("tools".to_owned(), "gradle/tools.versions.toml".to_owned())]
        );

        let groovy = "include ':a', ':b',\n  'c:d'\ninclude 'e'\nproject(':e').projectDir = new File(settingsDir, 'libs/e')\n";
        let s = parse_settings(groovy);
        assert_eq!(s.projects, [":a", ":b", ":c:d", ":e"]);
        assert_eq!(s.dirs[":e"], "libs/e");
    }

    #[test]
    fn rest_ignores_the_include_lists_only() {
        let a = parse_settings("include(\":a\")\nrootProject.name = \"x\"\n");
        let b = parse_settings("include(\":a\", \":b\")\n\n  rootProject.name = \"x\"");
        assert_eq!(a.rest, b.rest);
        assert_ne!(a.projects, b.projects);
        let c = parse_settings("include(\":a\")\nrootProject.name = \"y\"\n");
        assert_ne!(a.rest, c.rest);
    }

    #[test]
    fn scripts_name_projects_accessors_and_catalog_entries() {
        let s = parse_script(
            r#"
plugins { alias(libs.plugins.kotlin.android) }
dependencies {
    implementation(project(":core:data"))
    testImplementation(projects.core.testing)
    api(projects.coreModel)
    implementation(libs.androidx.core.ktx)
    implementation libs.bundles.compose
    implementation(tools.codegen.runtime)
    implementation("com.acme:codegen-runtime:1.0")
}
apply(from = "$rootDir/gradle/publish.gradle.kts")
"#,
            &["libs", "tools"],
        );
        let refs = |r: &[ProjectRef]| -> Vec<(String, bool)> {
            r.iter().map(|r| (r.name.clone(), r.test)).collect()
        };
        assert_eq!(refs(&s.projects), [(":core:data".to_owned(), false)]);
        assert_eq!(
            refs(&s.accessors),
            [
                ("core.testing".to_owned(), true),
                ("coreModel".to_owned(), false)
            ]
        );
        let uses: Vec<&str> = s.catalog_uses.iter().map(|(_, c)| c.as_str()).collect();
        assert_eq!(
            uses,
            [
                "plugins.kotlin.android",
                "androidx.core.ktx",
                "bundles.compose",
                "codegen.runtime"
            ]
        );
        assert_eq!(s.applied, ["$rootDir/gradle/publish.gradle.kts"]);
        assert_eq!(s.coordinates[0], "com.acme:codegen-runtime:1.0");
    }

    #[test]
    fn accessor_names_are_camel_case() {
        assert_eq!(accessor_name("core-data"), "coreData");
        assert_eq!(accessor_name("my_lib-x"), "myLibX");
        assert_eq!(accessor_name("app"), "app");
    }
}
