//! Package weights for packing shards: `weight` per package in the
//! configuration, or `--timings FILE` (`{"package": seconds}`, a previous
//! run's job durations). A package with neither gets the median of those
//! known. Without any weight shards are balanced by count.

use std::collections::BTreeMap;
use std::path::Path;

use slipway_graph::PackageGraph;

use crate::{Cli, Error, config};

/// Largest timings file read.
const MAX_TIMINGS_BYTES: u64 = 16 << 20;

/// A weight per package (by index), or `None` when nothing gives one.
pub(crate) fn weights(
    cli: &Cli,
    config: &config::Config,
    config_path: Option<&Path>,
    graph: &PackageGraph,
) -> Result<Option<Vec<f64>>, Error> {
    let mut known: Vec<Option<f64>> = vec![None; graph.len()];
    if let Some(file) = &cli.timings {
        let bad = |message: String| Error::Timings {
            path: file.clone(),
            message,
        };
        let text = slipway_cli::read_file_bounded(file, MAX_TIMINGS_BYTES)
            .map_err(|err| bad(err.to_string()))?;
        let timings: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(&text).map_err(|err| {
                bad(format!(
                    "expected an object of package names to seconds: {err}"
                ))
            })?;
        for (name, value) in timings {
            let seconds = value
                .as_f64()
                .filter(|s| s.is_finite() && *s >= 0.0)
                .ok_or_else(|| bad(format!("{name:?}: {value} is not a number of seconds")))?;
            if let Some(id) = graph.find(&name) {
                known[id.index()] = Some(seconds);
            } else {
                tracing::debug!(
                    package = name,
                    "timing for a package the graph does not have"
                );
            }
        }
    }
    let config_path = config_path.unwrap_or(Path::new(config::FILE));
    for (name, package) in &config.packages {
        if let Some(weight) = package.weight {
            if !weight.is_finite() || weight < 0.0 {
                return Err(config::ConfigError::new(
                    config_path,
                    format!("[packages.{name}] weight: {weight} is not a non-negative number"),
                )
                .into());
            }
            if let Some(id) = graph.find(name) {
                known[id.index()] = Some(weight);
            }
        }
    }
    let mut given: Vec<f64> = known.iter().flatten().copied().collect();
    if given.is_empty() {
        return Ok(None);
    }
    given.sort_by(f64::total_cmp);
    let median = given[given.len() / 2];
    Ok(Some(
        known.into_iter().map(|w| w.unwrap_or(median)).collect(),
    ))
}
