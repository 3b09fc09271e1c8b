//! `serve --config FILE`: the pools runners are launched into, matched
//! against a queued job's labels. TOML; unknown keys are refused so a typo
//! never silently becomes a default.

use std::path::Path;

use serde::Deserialize;

use crate::{Error, Result};

/// The largest configuration file read.
const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// The most pools a configuration may have.
const MAX_POOLS: usize = 100;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// Repositories whose queued jobs the reconcile asks GitHub for when
    /// the scope is an organisation (listing every repository of an
    /// organisation would spend the rate budget on ones without
    /// self-hosted jobs). With `--github-repo`, that repository.
    #[serde(default)]
    pub(crate) repositories: Vec<String>,

    #[serde(rename = "pool")]
    pub(crate) pools: Vec<Pool>,
}

/// What capacity a pool launches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Capacity {
    Spot,
    OnDemand,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Pool {
    /// Names the pool in tags, logs and metrics.
    pub(crate) name: String,
    /// A job is served by the first pool holding every one of its labels
    /// (its pinning label `slipway-job-…` aside). `self-hosted` is one.
    pub(crate) labels: Vec<String>,
    pub(crate) instance_types: Vec<String>,
    pub(crate) image_id: String,
    #[serde(default)]
    pub(crate) subnet_ids: Vec<String>,
    #[serde(default = "spot")]
    pub(crate) capacity: Capacity,
    /// On spot, launch on-demand when no spot pool has capacity.
    #[serde(default)]
    pub(crate) on_demand_fallback: bool,
    /// The most instances of this pool alive at once.
    #[serde(default = "ten")]
    pub(crate) max_count: u32,
    /// Instances kept launched, prepared and stopped, started for a job
    /// instead of a cold launch.
    #[serde(default)]
    pub(crate) warm: u32,
    pub(crate) iam_instance_profile: Option<String>,
    /// How long an instance may live (`reap --expired` ends it after).
    #[serde(default = "two_hours")]
    pub(crate) ttl: String,
}

fn spot() -> Capacity {
    Capacity::Spot
}

fn ten() -> u32 {
    10
}

fn two_hours() -> String {
    "2h".to_owned()
}

/// The label a job adds to be served by a runner made for it alone:
/// `slipway-job-<run id>-<attempt>-<job index>`.
pub(crate) fn is_pinning_label(label: &str) -> bool {
    label.len() > "slipway-job-".len() && label.starts_with("slipway-job-")
}

impl Config {
    pub(crate) fn load(path: &Path) -> Result<Config> {
        let bad = |why: String| Error::bad("--config", &path.display().to_string(), &why);
        let size = std::fs::metadata(path)
            .map_err(|source| Error::Read {
                path: path.to_path_buf(),
                source,
            })?
            .len();
        if size > MAX_CONFIG_BYTES {
            return Err(bad(format!(
                "{size} bytes; the most read is {MAX_CONFIG_BYTES}"
            )));
        }
        let text = crate::read(path)?;
        let config: Config = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
        config.check().map_err(bad)?;
        Ok(config)
    }

    fn check(&self) -> std::result::Result<(), String> {
        if self.pools.is_empty() {
            return Err("no [[pool]]".into());
        }
        if self.pools.len() > MAX_POOLS {
            return Err(format!(
                "{} pools; the most is {MAX_POOLS}",
                self.pools.len()
            ));
        }
        for (i, pool) in self.pools.iter().enumerate() {
            let at = format!("pool {:?}", pool.name);
            if pool.name.is_empty()
                || !pool
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(format!("{at}: a name is letters, digits, '-' and '_'"));
            }
            if self.pools[..i].iter().any(|p| p.name == pool.name) {
                return Err(format!("{at}: two pools have this name"));
            }
            if !pool
                .labels
                .iter()
                .any(|l| l.eq_ignore_ascii_case("self-hosted"))
            {
                return Err(format!("{at}: its labels must include self-hosted"));
            }
            if pool.labels.len() > 100 {
                return Err(format!("{at}: GitHub allows at most 100 labels"));
            }
            if pool.instance_types.is_empty() {
                return Err(format!("{at}: no instance_types"));
            }
            if pool.max_count == 0 || pool.max_count > 1000 {
                return Err(format!("{at}: max_count is 1 to 1000"));
            }
            if pool.warm > pool.max_count {
                return Err(format!("{at}: warm is more than max_count"));
            }
            if slipway_spot::time::parse_duration(&pool.ttl).is_none() {
                return Err(format!(
                    "{at}: ttl {:?} is not a duration like 2h",
                    pool.ttl
                ));
            }
        }
        for repo in &self.repositories {
            slipway_github::Scope::repo(repo).map_err(|e| format!("repositories: {e}"))?;
        }
        Ok(())
    }

    /// The pools that can serve a job with `labels`, in the file's order:
    /// each holds every label of the job but its pinning label. A job
    /// without `self-hosted` is GitHub's to serve, never ours.
    pub(crate) fn matching(&self, labels: &[String]) -> Vec<&Pool> {
        if !labels.iter().any(|l| l.eq_ignore_ascii_case("self-hosted")) {
            return Vec::new();
        }
        self.pools
            .iter()
            .filter(|pool| {
                labels
                    .iter()
                    .filter(|l| !is_pinning_label(l))
                    .all(|l| pool.labels.iter().any(|p| p.eq_ignore_ascii_case(l)))
            })
            .collect()
    }

    pub(crate) fn pool(&self, name: &str) -> Option<&Pool> {
        self.pools.iter().find(|p| p.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> std::result::Result<Config, String> {
        let config: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        config.check()?;
        Ok(config)
    }

    const TWO: &str = r#"
        [[pool]]
        name = "small"
        labels = ["self-hosted", "linux", "slipway-2cpu"]
        instance_types = ["c5.large"]
        image_id = "ami-1"

        [[pool]]
        name = "gpu"
        labels = ["self-hosted", "linux", "gpu"]
        instance_types = ["g5.xlarge"]
        image_id = "ami-2"
        capacity = "on-demand"
    "#;

    fn labels(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn jobs_match_the_pools_holding_all_their_labels() {
        let c = config(TWO).unwrap();
        let names = |l: &[&str]| -> Vec<String> {
            c.matching(&labels(l))
                .iter()
                .map(|p| p.name.clone())
                .collect()
        };
        assert_eq!(names(&["self-hosted", "slipway-2cpu"]), ["small"]);
        assert_eq!(
            names(&[
                "self-hosted",
                "Linux",
                "slipway-2cpu",
                "slipway-job-940463255-1-0"
            ]),
            ["small"],
            "the pinning label and case aside"
        );
        assert_eq!(names(&["self-hosted", "linux"]), ["small", "gpu"]);
        assert!(names(&["self-hosted", "slipway-2cpu", "gpu"]).is_empty());
        assert!(names(&["ubuntu-latest"]).is_empty(), "GitHub's own runners");
        assert!(names(&["linux"]).is_empty(), "not self-hosted");
        assert_eq!(c.pools[1].capacity, Capacity::OnDemand);
        assert_eq!(c.pools[0].max_count, 10);
    }

    #[test]
    fn bad_configurations_say_what_is_wrong() {
        for (text, says) in [
            ("", "pool"),
            (
                "[[pool]]\nname='a'\nlabels=['linux']\ninstance_types=['c5.large']\nimage_id='x'",
                "self-hosted",
            ),
            (
                "[[pool]]\nname='a b'\nlabels=['self-hosted']\ninstance_types=['c5.large']\nimage_id='x'",
                "name",
            ),
            (
                "[[pool]]\nname='a'\nlabels=['self-hosted']\ninstance_types=[]\nimage_id='x'",
                "instance_types",
            ),
            (
                "[[pool]]\nname='a'\nlabels=['self-hosted']\ninstance_types=['c5.large']\nimage_id='x'\nwarm=20",
                "warm",
            ),
            (
                "[[pool]]\nname='a'\nlabels=['self-hosted']\ninstance_types=['c5.large']\nimage_id='x'\nttl='soon'",
                "ttl",
            ),
            (
                "[[pool]]\nname='a'\nlabels=['self-hosted']\ninstance_types=['c5.large']\nimage_id='x'\nmax_cont=3",
                "max_cont",
            ),
            (
                "repositories=['nope']\n[[pool]]\nname='a'\nlabels=['self-hosted']\ninstance_types=['c5.large']\nimage_id='x'",
                "repositories",
            ),
        ] {
            let err = config(text).unwrap_err();
            assert!(err.contains(says), "{text:?}: {err}");
        }
    }
}
