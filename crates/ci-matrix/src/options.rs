//! The affected-set options from the command line and the configuration
//! (a flag replaces the file's list): ignore and global globs, implicit
//! dependencies and extra inputs per package.

use std::path::Path;

use slipway_graph::PackageGraph;

use crate::{Cli, Error, config};

pub(crate) fn options(
    cli: &Cli,
    config: &config::Config,
    config_path: Option<&Path>,
    graph: &mut PackageGraph,
) -> Result<slipway_graph::Options, Error> {
    let config_path = config_path.unwrap_or(Path::new(config::FILE));
    let pick = |flag: &[String], file: &[String]| {
        if flag.is_empty() {
            file.to_vec()
        } else {
            flag.to_vec()
        }
    };
    let ignore = build_globs("--ignore", &pick(&cli.ignore, &config.ignore))?;
    let global = build_globs("--global", &pick(&cli.global, &config.global))?;
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
    Ok(slipway_graph::Options {
        ignore,
        global,
        extra_inputs,
        ..slipway_graph::Options::default()
    })
}

fn build_globs(what: &str, patterns: &[String]) -> Result<globset::GlobSet, Error> {
    let bad = |pattern: &str, err: &globset::Error| Error::BadGlob {
        option: what.to_owned(),
        pattern: pattern.to_owned(),
        message: err.kind().to_string(),
    };
    let mut set = globset::GlobSetBuilder::new();
    for pattern in patterns {
        let glob = globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|err| bad(pattern, &err))?;
        set.add(glob);
    }
    set.build().map_err(|err| bad(&patterns.join(","), &err))
}
