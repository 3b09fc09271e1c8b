//! A build and its included builds, read into projects and emitted as
//! packages and edges.

use std::collections::HashMap;
use std::path::Path;

use super::blocks::Target;
use super::plugins::Plugins;
use super::{MAX_BUILD_DEPTH, MAX_BUILDS, MAX_PROJECTS, SCRIPTS, SETTINGS};
use crate::discover::read_optional;
use crate::error::GraphError;
use crate::graph::{GraphBuilder, KeyedInput, keyed_read};
use crate::model::{DepKind, Ecosystem, PackageId};
use crate::paths::{child, join};

use super::script::{Script, accessor_name, parse_script};
use super::settings::{Settings, parse_settings, strip_root_prefix};

/// One project of one build, before it is a package.
pub(super) struct Project {
    path: String,
    dir: String,
    name: String,
    script: Option<(String, Script)>,
    build: usize,
}

/// One build: the root one or an included one.
pub(super) struct Build {
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

pub(crate) fn discover(root: &Path, builder: &mut GraphBuilder) -> Result<bool, GraphError> {
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
pub(super) fn read_build(
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
    let catalogs = catalogs(root, dir, &settings);
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

/// The build's version catalogs by accessor name: `libs` from
/// `gradle/libs.versions.toml`, and those the settings declare.
fn catalogs(root: &Path, dir: &str, settings: &Settings) -> Vec<(String, String)> {
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
    catalogs
}

/// Adds the projects of `settings` (the build at `build.dir`) to
/// `projects`, indexing them in `build`; the root project's script is a
/// build input when the root is no project.
pub(super) fn read_projects(
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
    let all = with_ancestors(settings);
    let declared: std::collections::HashSet<&str> =
        settings.projects.iter().map(String::as_str).collect();
    let mut dirs: HashMap<String, String> = HashMap::from([(":".to_owned(), dir.to_owned())]);
    let catalogs: Vec<String> = build.catalogs.iter().map(|(n, _)| n.clone()).collect();
    let catalog_names: Vec<&str> = catalogs.iter().map(String::as_str).collect();
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
        let script = read_script(root, &project_dir, &catalog_names)?;
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
        if path != ":" {
            index_project(build, settings, path, projects.len());
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

/// The project's build script at `dir`, parsed, with its path.
fn read_script(
    root: &Path,
    dir: &str,
    catalogs: &[&str],
) -> Result<Option<(String, Script)>, GraphError> {
    for name in SCRIPTS {
        let rel = child(dir, name);
        if let Some(text) = read_optional(root, &rel)? {
            return Ok(Some((rel, parse_script(&text, catalogs))));
        }
    }
    Ok(None)
}

/// The root project, then every included one and its ancestors, each
/// once, in order.
fn with_ancestors(settings: &Settings) -> Vec<String> {
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
    all
}

/// Indexes project `i` at `path` by its accessor chain (renames applied
/// at every level) and by its path, renamed too.
fn index_project(build: &mut Build, settings: &Settings, path: &str, i: usize) {
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
    build.accessors.insert(accessor.join("."), i);
    build.paths.insert(path.to_owned(), i);
    if let Some(renamed) = settings.names.get(path) {
        let (parent, _) = path.rsplit_once(':').unwrap_or(("", ""));
        build.paths.insert(format!("{parent}:{renamed}"), i);
    }
}

/// A project's name: its rename, else its last path segment; the root
/// project's is `rootProject.name`, else its directory's name.
pub(super) fn project_name(root: &Path, dir: &str, settings: &Settings, path: &str) -> String {
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
pub(super) fn apply_plugins(
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
pub(super) fn add_script_edges(
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
pub(super) fn is_plugin_build(root: &Path, dir: &str) -> Result<bool, GraphError> {
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

/// Each project as a package (named by its path where names clash), with
/// what it reads of its settings file and of a root script's blocks.
fn add_packages(
    builds: &[Build],
    projects: &[Project],
    builder: &mut GraphBuilder,
) -> Result<Vec<PackageId>, GraphError> {
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
    Ok(ids)
}

/// The path of a script applied with `apply(from = raw)`: relative to the
/// project, or to the build after `$rootDir/`; none when it is computed
/// or remote.
fn applied_script(raw: &str, project_dir: &str, build_dir: &str) -> Option<String> {
    let file = strip_root_prefix(raw);
    let base = if file.len() == raw.len() {
        project_dir
    } else {
        build_dir
    };
    if file.contains('$') || file.contains("://") {
        return None;
    }
    join(base, file)
}

pub(super) fn add_graph(
    builds: &[Build],
    projects: &[Project],
    plugins: &Plugins,
    builder: &mut GraphBuilder,
) -> Result<(), GraphError> {
    let ids = add_packages(builds, projects, builder)?;
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
            if let Some(path) = applied_script(raw, &p.dir, &build.dir) {
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
