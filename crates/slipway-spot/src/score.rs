//! Ranking pools by expected cost per job.
//!
//! The model, and what it assumes:
//!
//! - A job occupies an instance for `boot + job` minutes, `T` hours. Its
//!   base cost is the pool's time-weighted mean price times `T`: the mean
//!   over the window, not the current price, because a price that just
//!   dipped tends to come back.
//! - Interruption: the Spot Instance Advisor gives each type a bucket of
//!   the share of instances interrupted in the past month (<5%, 5-10%,
//!   10-15%, 15-20%, >20%). Taking the bucket's midpoint `f` (25% for the
//!   last) as a monthly probability and interruptions as a Poisson process,
//!   the hourly hazard is `h = -ln(1 - f) / 730` and the chance a job is
//!   interrupted is `p = 1 - exp(-h T)`. An interrupted job loses on average
//!   half its run and is run again: expected cost `mean × T × (1 + 1.5 p)`.
//!   EC2's refund of instances it interrupts in their first hour is ignored,
//!   which errs towards caution. A type the advisor does not list is given
//!   the middle bucket, and says so.
//! - Ties (equal expected cost) go to the steadier pool: lower standard
//!   deviation relative to the mean.
//! - Filters: a maximum price on the current price (the origin article's
//!   threshold), a ceiling on the interruption bucket, and a floor on the
//!   placement score when scores are known. Filtered pools are listed
//!   with the reason, after the eligible ones.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::SpotError;
use crate::history::{Pool, PoolStats};

/// Interruption buckets by instance type, for one region and OS.
#[derive(Debug, Clone, Default)]
pub struct Advisor {
    buckets: HashMap<String, u8>,
}

/// Bucket midpoints as fractions of instances interrupted in a month.
const BUCKET_MIDPOINTS: [f64; 5] = [0.025, 0.075, 0.125, 0.175, 0.25];
const BUCKET_LABELS: [&str; 5] = ["<5%", "5-10%", "10-15%", "15-20%", ">20%"];
const UNKNOWN_BUCKET: u8 = 2;
const HOURS_PER_MONTH: f64 = 730.0;

impl Advisor {
    /// Reads the Spot Instance Advisor feed (`spot-advisor-data.json`:
    /// `spot_advisor.<region>.<os>.<type>.r`) for one region and OS.
    pub fn parse(json: &str, region: &str, os: &str) -> Result<Advisor, SpotError> {
        let doc: serde_json::Value = serde_json::from_str(json).map_err(|err| SpotError::Json {
            line: err.line(),
            column: err.column(),
            message: err.to_string(),
        })?;
        let types =
            doc["spot_advisor"][region][os]
                .as_object()
                .ok_or_else(|| SpotError::Record {
                    index: 0,
                    message: format!("the advisor data has no entry for {region} {os}"),
                })?;
        let buckets = types
            .iter()
            .filter_map(|(t, v)| {
                let r = u8::try_from(v["r"].as_u64()?).ok()?;
                (usize::from(r) < BUCKET_MIDPOINTS.len()).then(|| (t.clone(), r))
            })
            .collect();
        Ok(Advisor { buckets })
    }

    #[must_use]
    pub fn bucket(&self, instance_type: &str) -> Option<u8> {
        self.buckets.get(instance_type).copied()
    }
}

/// On-demand prices by instance type, USD per hour.
#[derive(Debug, Clone, Deserialize)]
pub struct OnDemand {
    pub region: String,
    pub prices: HashMap<String, f64>,
}

impl OnDemand {
    /// The bundled table (us-east-1).
    #[must_use]
    pub fn bundled() -> OnDemand {
        serde_json::from_str(include_str!("../data/on-demand-prices-us-east-1.json"))
            .unwrap_or_else(|_| OnDemand {
                region: String::new(),
                prices: HashMap::new(),
            })
    }

    /// A table in the same shape: `{"region": …, "prices": {type: price}}`.
    pub fn parse(json: &str) -> Result<OnDemand, SpotError> {
        serde_json::from_str(json).map_err(|err| SpotError::Json {
            line: err.line(),
            column: err.column(),
            message: err.to_string(),
        })
    }

    #[must_use]
    pub fn price(&self, instance_type: &str) -> Option<f64> {
        self.prices.get(instance_type).copied()
    }
}

/// What a job needs, and the limits on acceptable pools.
#[derive(Debug, Clone)]
pub struct Scoring {
    pub job_minutes: f64,
    pub boot_minutes: f64,
    pub max_price: Option<f64>,
    pub max_interruption_bucket: Option<u8>,
    pub min_placement_score: Option<u8>,
}

impl Default for Scoring {
    fn default() -> Self {
        Scoring {
            job_minutes: 30.0,
            boot_minutes: 3.0,
            max_price: None,
            max_interruption_bucket: None,
            min_placement_score: None,
        }
    }
}

/// One pool, scored. spot-leaser prints it as its own contract type
/// (`slipway_contract::spot::Candidate`), field for field.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub availability_zone: String,
    pub availability_zone_id: Option<String>,
    pub instance_type: String,
    pub current_price: f64,
    pub mean_price: f64,
    pub stddev: f64,
    pub changes: usize,
    pub expected_job_cost: f64,
    /// Lower is better: the expected job cost.
    pub score: f64,
    pub eligible: bool,
    pub excluded_reason: Option<String>,
    pub interruption: String,
    pub on_demand_price: Option<f64>,
    pub placement_score: Option<u8>,
    /// The plain average of the price records, shown for comparison.
    pub record_average: f64,
}

/// The chance a job of `hours` is interrupted, for an advisor bucket.
#[must_use]
pub fn interruption_probability(bucket: u8, hours: f64) -> f64 {
    let f = BUCKET_MIDPOINTS[usize::from(bucket.min(4))];
    let hazard = -(1.0 - f).ln() / HOURS_PER_MONTH;
    1.0 - (-hazard * hours).exp()
}

/// Scores pools and ranks them: eligible first, each group by expected job
/// cost, then steadiness, then zone and type (so equal inputs give equal
/// output).
#[must_use]
pub fn rank<S: std::hash::BuildHasher>(
    pools: &[(Pool, PoolStats)],
    scoring: &Scoring,
    advisor: Option<&Advisor>,
    on_demand: Option<&OnDemand>,
    placement: &HashMap<String, u8, S>,
) -> Vec<Candidate> {
    let hours = (scoring.job_minutes + scoring.boot_minutes) / 60.0;
    let mut out: Vec<Candidate> = pools
        .iter()
        .map(|(pool, stats)| {
            let known = advisor.and_then(|a| a.bucket(&pool.instance_type));
            let bucket = known.unwrap_or(UNKNOWN_BUCKET);
            let p = interruption_probability(bucket, hours);
            let expected = stats.mean * hours * (1.0 + 1.5 * p);
            let interruption = match known {
                Some(b) => BUCKET_LABELS[usize::from(b)].to_owned(),
                None => format!(
                    "unknown (assumed {})",
                    BUCKET_LABELS[usize::from(UNKNOWN_BUCKET)]
                ),
            };
            let placement_score = placement.get(&pool.availability_zone).copied();
            let excluded_reason =
                exclusion(scoring, stats, bucket, known.is_some(), placement_score);
            Candidate {
                availability_zone: pool.availability_zone.clone(),
                availability_zone_id: None,
                instance_type: pool.instance_type.clone(),
                current_price: stats.current,
                mean_price: round(stats.mean, 6),
                stddev: round(stats.stddev, 6),
                changes: stats.changes,
                expected_job_cost: round(expected, 6),
                score: round(expected, 6),
                eligible: excluded_reason.is_none(),
                excluded_reason,
                interruption,
                on_demand_price: on_demand.and_then(|t| t.price(&pool.instance_type)),
                placement_score,
                record_average: round(stats.record_average, 6),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.eligible
            .cmp(&a.eligible)
            .then(a.score.total_cmp(&b.score))
            .then(volatility(a).total_cmp(&volatility(b)))
            .then(a.availability_zone.cmp(&b.availability_zone))
            .then(a.instance_type.cmp(&b.instance_type))
    });
    out
}

fn exclusion(
    scoring: &Scoring,
    stats: &PoolStats,
    bucket: u8,
    known: bool,
    placement: Option<u8>,
) -> Option<String> {
    if let Some(max) = scoring.max_price
        && stats.current > max
    {
        return Some(format!(
            "current price {} is above the maximum price {max}",
            stats.current
        ));
    }
    if let Some(ceiling) = scoring.max_interruption_bucket
        && known
        && bucket > ceiling
    {
        return Some(format!(
            "interruption frequency {} is above the ceiling {}",
            BUCKET_LABELS[usize::from(bucket)],
            BUCKET_LABELS[usize::from(ceiling.min(4))]
        ));
    }
    if let (Some(floor), Some(score)) = (scoring.min_placement_score, placement)
        && score < floor
    {
        return Some(format!(
            "placement score {score} is below the floor {floor}"
        ));
    }
    None
}

fn volatility(c: &Candidate) -> f64 {
    if c.mean_price > 0.0 {
        c.stddev / c.mean_price
    } else {
        0.0
    }
}

fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(mean: f64, stddev: f64, current: f64) -> PoolStats {
        PoolStats {
            current,
            mean,
            stddev,
            min: mean - stddev,
            max: mean + stddev,
            changes: 3,
            covered: 100,
            record_average: mean,
        }
    }

    fn pool(az: &str, t: &str) -> Pool {
        Pool {
            availability_zone: az.into(),
            instance_type: t.into(),
            product: "Linux/UNIX".into(),
        }
    }

    #[test]
    fn interruption_risk_grows_with_bucket_and_duration() {
        let short = interruption_probability(0, 0.5);
        assert!(short > 0.0 && short < 0.0001, "{short}");
        assert!(interruption_probability(4, 0.5) > interruption_probability(1, 0.5));
        assert!(interruption_probability(2, 10.0) > interruption_probability(2, 1.0));
    }

    #[test]
    fn cheaper_expected_cost_wins_then_steadiness_then_names() {
        let pools = vec![
            (pool("eu-west-1a", "c5.large"), stats(0.040, 0.010, 0.04)),
            (pool("eu-west-1b", "c5.large"), stats(0.035, 0.001, 0.03)),
            (pool("eu-west-1c", "c5.large"), stats(0.035, 0.000, 0.03)),
        ];
        let ranked = rank(&pools, &Scoring::default(), None, None, &HashMap::new());
        let order: Vec<&str> = ranked
            .iter()
            .map(|c| c.availability_zone.as_str())
            .collect();
        assert_eq!(order, ["eu-west-1c", "eu-west-1b", "eu-west-1a"]);
        assert!(ranked[0].interruption.starts_with("unknown"));
    }

    #[test]
    fn filters_exclude_with_a_reason_and_sort_last() {
        let pools = vec![
            (pool("a", "c5.large"), stats(0.02, 0.0, 0.09)),
            (pool("b", "c5.large"), stats(0.05, 0.0, 0.05)),
        ];
        let scoring = Scoring {
            max_price: Some(0.06),
            ..Scoring::default()
        };
        let ranked = rank(&pools, &scoring, None, None, &HashMap::new());
        assert_eq!(ranked[0].availability_zone, "b");
        assert!(!ranked[1].eligible);
        assert_eq!(
            ranked[1].excluded_reason.as_deref(),
            Some("current price 0.09 is above the maximum price 0.06")
        );
        let placement = HashMap::from([("b".to_owned(), 2u8)]);
        let scoring = Scoring {
            min_placement_score: Some(5),
            ..Scoring::default()
        };
        let ranked = rank(&pools, &scoring, None, None, &placement);
        assert_eq!(
            ranked[1].excluded_reason.as_deref(),
            Some("placement score 2 is below the floor 5")
        );
    }

    #[test]
    fn the_bundled_on_demand_table_loads() {
        let table = OnDemand::bundled();
        assert_eq!(table.region, "us-east-1");
        assert_eq!(table.price("c5.large"), Some(0.085));
    }
}
