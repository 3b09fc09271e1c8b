//! The checked-in configuration: `.ci-matrix.toml` at the root, or
//! `[workspace.metadata.ci-matrix]` in a root `Cargo.toml`.
//!
//! ```toml
//! global = ["rust-toolchain.toml", ".github/workflows/**"]  # always everything
//! ignore = ["**/*.md"]                                        # never anything; ignore is final
//! nested-workspaces = ["frontend"]  # workspaces rooted below the repository root
//! imports = true              # edges from TS/JS imports between packages (Nx reads them anyway)
//! unowned = "root"            # a path in no package affects nothing ("all": everything)
//! root-dependencies = "all"   # the root's own dependencies affect everything ("ignore": nothing)
//!
//! [packages.web]
//! implicit-dependencies = ["design-tokens"]  # as if web depended on design-tokens
//! extra-inputs = ["config/web/**"]           # paths outside web/ that belong to it
//! weight = 420                                # seconds its job takes, for packing shards
//!
//! [tasks.build]                   # for --tasks build,…
//! inputs = ["src/**", "package.json"]  # globs relative to each package (default: every file)
//! dependencies = true             # affected when a dependency's build is (the default)
//!
//! [packages.web.tasks.build]      # one package's override
//! inputs = ["app/**"]
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub(crate) const FILE: &str = ".ci-matrix.toml";
/// Larger configuration is refused: a pull request can change it.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct Config {
    #[serde(default)]
    pub(crate) global: Vec<String>,
    #[serde(default)]
    pub(crate) ignore: Vec<String>,
    #[serde(default)]
    pub(crate) packages: BTreeMap<String, PackageConfig>,
    #[serde(default)]
    pub(crate) nested_workspaces: Vec<String>,
    /// Edges from the source files' imports in an npm/yarn/pnpm/Bun
    /// workspace, as Nx reads them (an Nx workspace follows its own
    /// `analyzeSourceFiles` rule).
    #[serde(default)]
    pub(crate) imports: bool,
    pub(crate) unowned: Option<slipway_graph::Unowned>,
    pub(crate) root_dependencies: Option<slipway_graph::RootDependencies>,
    #[serde(default)]
    pub(crate) tasks: BTreeMap<String, TaskConfig>,
}

/// `[tasks.NAME]`, or `[packages.PKG.tasks.NAME]` for one package: a key
/// left out keeps the task's (or the default's) value.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct TaskConfig {
    /// Globs relative to the package; default every file of it.
    pub(crate) inputs: Option<Vec<String>>,
    /// Whether the task is affected when the same task is affected in a
    /// dependency; default true.
    pub(crate) dependencies: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct PackageConfig {
    #[serde(default)]
    pub(crate) implicit_dependencies: Vec<String>,
    #[serde(default)]
    pub(crate) extra_inputs: Vec<String>,
    /// How long the package's job takes, in seconds (any unit works if all
    /// agree): shards are packed by it.
    pub(crate) weight: Option<f64>,
    #[serde(default)]
    pub(crate) tasks: BTreeMap<String, TaskConfig>,
}

/// A configuration that cannot be used; the message names the file and key.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration in {path}: {message}")]
pub struct ConfigError {
    path: PathBuf,
    message: String,
}

impl ConfigError {
    pub(crate) fn new(path: &Path, message: impl Into<String>) -> Self {
        ConfigError {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

/// Loads the configuration at `root`: the file if present, else the Cargo
/// metadata table, else the defaults. Returns where it came from.
pub(crate) fn load(root: &Path) -> Result<(Config, Option<PathBuf>), ConfigError> {
    let file = root.join(FILE);
    match slipway_cli::read_file_bounded(&file, MAX_CONFIG_BYTES) {
        Ok(text) => return parse(&file, &text).map(|c| (c, Some(file))),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(ConfigError::new(&file, err.to_string())),
    }
    let cargo = root.join("Cargo.toml");
    let Ok(text) =
        slipway_cli::read_file_bounded(&cargo, slipway_graph::limits::MAX_MANIFEST_BYTES)
    else {
        return Ok((Config::default(), None));
    };
    // A broken Cargo.toml is reported by discovery, with its position.
    let Ok(manifest) = toml::from_str::<toml::Table>(&text) else {
        return Ok((Config::default(), None));
    };
    let Some(table) = manifest
        .get("workspace")
        .and_then(|w| w.get("metadata"))
        .and_then(|m| m.get("ci-matrix"))
    else {
        return Ok((Config::default(), None));
    };
    let config = Config::deserialize(table.clone()).map_err(|err| {
        ConfigError::new(
            &cargo,
            format!("[workspace.metadata.ci-matrix]: {}", err.message()),
        )
    })?;
    Ok((config, Some(cargo)))
}

fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
    toml::from_str(text).map_err(|err| {
        let position = err.span().map_or_else(String::new, |span| {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: ")
        });
        ConfigError::new(path, format!("{position}{}", err.message().trim()))
    })
}

#[cfg(test)]
mod tests;
