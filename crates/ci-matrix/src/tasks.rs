//! `--tasks build,test,lint`: the task set, each task's rule from
//! `[tasks.NAME]` and each package's override from
//! `[packages.PKG.tasks.NAME]`; in an Nx workspace, a task without a
//! `[tasks.NAME]` table takes its inputs from `nx.json` and the projects'
//! `project.json` (see `slipway_graph::nx_task_rules`).

use std::path::Path;

use slipway_graph::{PackageGraph, TaskRule, Tasks};

use crate::config::{self, Config, TaskConfig};
use crate::{Cli, Error, options};

/// The tasks `--tasks` asks for, or `None` without it. Every task table of
/// the configuration is checked, used or not.
pub(crate) fn tasks(
    cli: &Cli,
    config: &Config,
    config_path: Option<&Path>,
    root: &Path,
    graph: &PackageGraph,
) -> Result<Option<Tasks>, Error> {
    let config_path = config_path.unwrap_or(Path::new(config::FILE));
    let mut defaults = Vec::new();
    for (name, table) in &config.tasks {
        defaults.push((
            name,
            rule(config_path, &format!("[tasks.{name}]"), table, None)?,
        ));
    }
    let mut overrides = Vec::new();
    for (package, table) in &config.packages {
        for (name, task) in &table.tasks {
            let base = defaults.iter().find(|(n, _)| *n == name).map(|(_, r)| r);
            let key = format!("[packages.{package}.tasks.{name}]");
            let Some(id) = graph.find(package) else {
                // `[packages.X]` naming no package is reported where the
                // package tables are read; nothing to add here.
                continue;
            };
            overrides.push((id, name, rule(config_path, &key, task, base)?));
        }
    }
    if cli.tasks.is_empty() {
        return Ok(None);
    }
    let names = task_names(&cli.tasks)?;
    for (name, _) in &defaults {
        if !names.contains(name) {
            tracing::debug!(
                task = name.as_str(),
                "configured task not asked for by --tasks"
            );
        }
    }
    let mut tasks = Tasks::new(names.clone());
    for (i, name) in names.iter().enumerate() {
        if defaults.iter().any(|(n, _)| *n == name) {
            continue;
        }
        if let Some(nx) = slipway_graph::nx_task_rules(root, graph, name)? {
            tasks.set_default(i, nx.default);
            for (id, rule) in nx.overrides {
                tasks.set_override(id, i, rule);
            }
        }
    }
    for (name, rule) in defaults {
        if let Some(i) = tasks.index(name) {
            tasks.set_default(i, rule);
        }
    }
    for (id, name, rule) in overrides {
        if let Some(i) = tasks.index(name) {
            tasks.set_override(id, i, rule);
        }
    }
    Ok(Some(tasks))
}

/// `--tasks` names: each made of letters, digits and `-_.:` (so
/// `package#task` is never ambiguous), none twice.
fn task_names(given: &[String]) -> Result<Vec<String>, Error> {
    let mut names: Vec<String> = Vec::new();
    for name in given {
        let name = name.trim();
        let bad = |message: &str| Error::BadTask {
            name: name.to_owned(),
            message: message.to_owned(),
        };
        if name.is_empty() {
            return Err(bad("a task name is empty"));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
        {
            return Err(bad("a task name is letters, digits, `-`, `_`, `.` and `:`"));
        }
        if names.iter().any(|n| n == name) {
            return Err(bad("named twice"));
        }
        names.push(name.to_owned());
    }
    Ok(names)
}

/// A task table as a rule; keys left out come from `base`, else the
/// defaults (every file, dependencies followed).
fn rule(
    config_path: &Path,
    key: &str,
    table: &TaskConfig,
    base: Option<&TaskRule>,
) -> Result<TaskRule, Error> {
    let base = base.cloned().unwrap_or_default();
    let (inputs, patterns) = match &table.inputs {
        Some(patterns) => {
            let globs = options::build_globs(&format!("{key} inputs"), patterns)
                .map_err(|err| config::ConfigError::new(config_path, slipway_cli::chain(&err)))?;
            (Some(globs), patterns.clone())
        }
        None => (base.inputs, base.patterns),
    };
    Ok(TaskRule {
        inputs,
        patterns,
        dependencies: table.dependencies.unwrap_or(base.dependencies),
        ..base
    })
}

#[cfg(test)]
mod tests;
