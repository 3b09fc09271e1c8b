//! The affected-set options from the command line and the configuration
//! (a flag replaces the file's list): ignore and global globs, the root's
//! rules, implicit dependencies and extra inputs per package, and what the
//! repository's own build configuration (turbo.json, nx.json) declares.

use std::path::Path;

use slipway_graph::{GlobalFiles, GlobalFilesBuilder, PackageGraph};

use crate::{Cli, Error, config};

pub(crate) fn options(
    cli: &Cli,
    config: &config::Config,
    config_path: Option<&Path>,
    root: &Path,
    graph: &mut PackageGraph,
) -> Result<slipway_graph::Options, Error> {
    let config_path = config_path.unwrap_or(Path::new(config::FILE));
    let (global_patterns, global_why) = if cli.global.is_empty() {
        (
            &config.global,
            format!("matches a global glob of {}", file_name(config_path)),
        )
    } else {
        (&cli.global, "matches a --global glob".to_owned())
    };
    // What Nx leaves out of every project (`.nxignore`) affects nothing.
    let mut ignored = if cli.ignore.is_empty() {
        config.ignore.clone()
    } else {
        cli.ignore.clone()
    };
    ignored.extend(slipway_graph::nx_ignore_globs(root)?);
    let ignore = build_globs("--ignore", &ignored)?;
    let mut global = GlobalFiles::builder();
    for pattern in global_patterns {
        global
            .add(pattern, global_why.clone())
            .map_err(|err| bad_glob("--global", pattern, &err))?;
    }
    let mut extra_inputs = package_config(config, config_path, graph)?;
    build_rules(root, graph, &mut global, &mut extra_inputs)?;
    Ok(slipway_graph::Options {
        ignore,
        global: global
            .build()
            .map_err(|err| bad_glob("--global", &global_patterns.join(","), &err))?,
        extra_inputs,
        unowned: cli
            .unowned
            .map(Into::into)
            .or(config.unowned)
            .unwrap_or_default(),
        root_dependencies: cli
            .root_dependencies
            .map(Into::into)
            .or(config.root_dependencies)
            .unwrap_or_default(),
        ..slipway_graph::Options::default()
    })
}

type ExtraInputs = Vec<(slipway_graph::PackageId, globset::GlobSet)>;

/// What the repository's build configuration declares: each rule's file
/// is an input of the packages it names (an Nx task input: of the projects
/// with that task), else a global file.
fn build_rules(
    root: &Path,
    graph: &PackageGraph,
    global: &mut GlobalFilesBuilder,
    extra_inputs: &mut ExtraInputs,
) -> Result<(), Error> {
    let rules = slipway_graph::build_rules(root)?;
    let mut targets: Vec<String> = rules.iter().flat_map(|r| r.targets.clone()).collect();
    targets.sort_unstable();
    targets.dedup();
    let with_target = if targets.is_empty() {
        None
    } else {
        slipway_graph::nx_projects_with_targets(root, graph, &targets)?
    };
    for mut rule in rules {
        let why = format!("matches {} in {}", rule.pattern, rule.source);
        // An Nx task input belongs to the projects with that task; when
        // plugins may add tasks anywhere, to every project.
        if let Some(with_target) = &with_target
            && !rule.targets.is_empty()
        {
            let Some(packages) = projects_with(&rule, with_target, graph) else {
                continue;
            };
            rule.packages = packages;
        }
        let owners: Vec<_> = rule.packages.iter().map(|p| (p, graph.find(p))).collect();
        if let Some((missing, _)) = owners.iter().find(|(_, id)| id.is_none()) {
            tracing::warn!(
                "{}: {} names no package {missing:?}; the file is taken as global",
                rule.source,
                rule.pattern
            );
        }
        if !owners.is_empty() && owners.iter().all(|(_, id)| id.is_some()) {
            let globs = build_globs(&rule.source, std::slice::from_ref(&rule.pattern))?;
            extra_inputs.extend(
                owners
                    .iter()
                    .filter_map(|(_, id)| *id)
                    .map(|id| (id, globs.clone())),
            );
        } else {
            global
                .add(&rule.pattern, why)
                .map_err(|err| bad_glob(&rule.source, &rule.pattern, &err))?;
        }
    }
    Ok(())
}

/// The ids of the projects that have one of an Nx task input's targets;
/// none when no project has one (the input reads nothing).
fn projects_with(
    rule: &slipway_graph::BuildRule,
    with_target: &std::collections::HashMap<String, Vec<slipway_graph::PackageId>>,
    graph: &PackageGraph,
) -> Option<Vec<String>> {
    let mut ids: Vec<_> = rule
        .targets
        .iter()
        .filter_map(|t| with_target.get(t))
        .flatten()
        .copied()
        .collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        tracing::debug!(
            pattern = rule.pattern,
            source = rule.source,
            "an Nx task input of tasks no project has"
        );
        return None;
    }
    Some(ids.iter().map(|&id| graph.package(id).id.clone()).collect())
}

/// `[packages.NAME]`: implicit dependencies join the graph; extra inputs
/// are returned.
fn package_config(
    config: &config::Config,
    config_path: &Path,
    graph: &mut PackageGraph,
) -> Result<ExtraInputs, Error> {
    let mut extra_inputs = Vec::new();
    for (name, package) in &config.packages {
        let id = graph.find(name).ok_or_else(|| {
            config::ConfigError::new(
                config_path,
                format!("[packages.{name}]: no package of that name in the graph"),
            )
        })?;
        for dependency in &package.implicit_dependencies {
            let to = graph.find(dependency).ok_or_else(|| {
                config::ConfigError::new(
                    config_path,
                    format!(
                        "[packages.{name}] implicit-dependencies: no package named {dependency:?}"
                    ),
                )
            })?;
            graph.add_implicit_dependency(id, to);
        }
        if !package.extra_inputs.is_empty() {
            let globs = build_globs(
                &format!("[packages.{name}] extra-inputs"),
                &package.extra_inputs,
            )
            .map_err(|err| config::ConfigError::new(config_path, slipway_cli::chain(&err)))?;
            extra_inputs.push((id, globs));
        }
    }
    Ok(extra_inputs)
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn bad_glob(what: &str, pattern: &str, err: &globset::Error) -> Error {
    Error::BadGlob {
        option: what.to_owned(),
        pattern: pattern.to_owned(),
        message: err.kind().to_string(),
    }
}

pub(crate) fn build_globs(what: &str, patterns: &[String]) -> Result<globset::GlobSet, Error> {
    let mut set = globset::GlobSetBuilder::new();
    for pattern in patterns {
        let glob = globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|err| bad_glob(what, pattern, &err))?;
        set.add(glob);
    }
    set.build()
        .map_err(|err| bad_glob(what, &patterns.join(","), &err))
}
