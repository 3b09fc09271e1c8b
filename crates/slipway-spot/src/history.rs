//! Spot price history as EC2 reports it, and its statistics over a window,
//! treating each pool's history as a step function.
//!
//! `DescribeSpotPriceHistory` returns price *changes* (plus the last change
//! before the window's start). Averaging those records weighs a price that
//! held for six days the same as one that held for six minutes; here each
//! price counts for as long as it was in effect.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::SpotError;
use crate::time::parse_rfc3339;

/// One price change.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceChange {
    pub availability_zone: String,
    pub instance_type: String,
    pub product: String,
    /// USD per hour.
    pub price: f64,
    /// Unix seconds.
    pub at: i64,
}

/// A spot capacity pool: one instance type in one zone, for one product.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pool {
    pub availability_zone: String,
    pub instance_type: String,
    pub product: String,
}

/// The statistics of one pool's price over a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoolStats {
    /// The price in effect at the window's end.
    pub current: f64,
    /// Time-weighted mean over the part of the window the history covers.
    pub mean: f64,
    /// Time-weighted standard deviation.
    pub stddev: f64,
    pub min: f64,
    pub max: f64,
    /// Price changes inside the window.
    pub changes: usize,
    /// Seconds of the window the history covers (from the first known price).
    pub covered: i64,
    /// The plain average of the records in the window, for comparison: the
    /// biased figure this crate exists to replace.
    pub record_average: f64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Document {
    spot_price_history: Vec<Record>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Record {
    availability_zone: String,
    instance_type: String,
    product_description: String,
    spot_price: String,
    timestamp: String,
}

/// Parses what `aws ec2 describe-spot-price-history` prints:
/// `{"SpotPriceHistory": [{"AvailabilityZone", "InstanceType",
/// "ProductDescription", "SpotPrice", "Timestamp"}, …]}`.
pub fn parse_history(json: &str) -> Result<Vec<PriceChange>, SpotError> {
    let doc: Document = serde_json::from_str(json).map_err(|err| SpotError::Json {
        line: err.line(),
        column: err.column(),
        message: err.to_string(),
    })?;
    doc.spot_price_history
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let price: f64 = r
                .spot_price
                .parse()
                .ok()
                .filter(|p: &f64| p.is_finite() && *p >= 0.0)
                .ok_or_else(|| SpotError::Record {
                    index: i,
                    message: format!("SpotPrice {:?} is not a price", r.spot_price),
                })?;
            let at = parse_rfc3339(&r.timestamp).ok_or_else(|| SpotError::Record {
                index: i,
                message: format!("Timestamp {:?} is not an RFC 3339 time", r.timestamp),
            })?;
            Ok(PriceChange {
                availability_zone: r.availability_zone,
                instance_type: r.instance_type,
                product: r.product_description,
                price,
                at,
            })
        })
        .collect()
}

/// Groups changes by pool, each sorted by time (ties keep input order).
#[must_use]
pub fn by_pool(changes: &[PriceChange]) -> BTreeMap<Pool, Vec<(i64, f64)>> {
    let mut pools: BTreeMap<Pool, Vec<(i64, f64)>> = BTreeMap::new();
    for c in changes {
        pools
            .entry(Pool {
                availability_zone: c.availability_zone.clone(),
                instance_type: c.instance_type.clone(),
                product: c.product.clone(),
            })
            .or_default()
            .push((c.at, c.price));
    }
    for series in pools.values_mut() {
        series.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        series.dedup_by(|a, b| a.0 == b.0);
    }
    pools
}

/// The Linux/UNIX pools of [`by_pool`]: EC2 reports "Linux/UNIX", or
/// "Linux/UNIX (Amazon VPC)" for older accounts; the plain one wins when
/// a pool has both.
#[must_use]
pub fn linux_pools(changes: &[PriceChange]) -> BTreeMap<Pool, Vec<(i64, f64)>> {
    let mut pools = by_pool(changes);
    let plain: std::collections::BTreeSet<(String, String)> = pools
        .keys()
        .filter(|p| p.product == "Linux/UNIX")
        .map(|p| (p.instance_type.clone(), p.availability_zone.clone()))
        .collect();
    pools.retain(|p, _| {
        p.product == "Linux/UNIX"
            || (p.product == "Linux/UNIX (Amazon VPC)"
                && !plain.contains(&(p.instance_type.clone(), p.availability_zone.clone())))
    });
    pools
}

/// Statistics of a step function over `[start, end)`. `series` is sorted
/// by time; each price holds until the next change. The price in effect
/// at `start` is the last change at or before it; when the history starts
/// later, the window is covered from the first change. `None` when no
/// price is known before `end`.
#[must_use]
#[expect(
    clippy::cast_precision_loss,
    reason = "durations in seconds fit f64 exactly below 2^53"
)]
pub fn window_stats(series: &[(i64, f64)], start: i64, end: i64) -> Option<PoolStats> {
    if end <= start {
        return None;
    }
    let first_in_effect = series.iter().rposition(|&(t, _)| t <= start);
    let begin = first_in_effect.unwrap_or(0);
    if series.get(begin).is_none_or(|&(t, _)| t >= end) {
        return None;
    }
    // Each price and how long it held inside the window.
    let mut segments: Vec<(f64, i64)> = Vec::new();
    let (mut weighted, mut covered) = (0.0, 0i64);
    let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut current = series[begin].1;
    for (i, &(t, price)) in series.iter().enumerate().skip(begin) {
        if t >= end {
            break;
        }
        let seg_start = t.max(start);
        let seg_end = series.get(i + 1).map_or(end, |&(next, _)| next.min(end));
        let duration = seg_end - seg_start;
        current = price;
        if duration <= 0 {
            continue;
        }
        weighted += price * duration as f64;
        covered += duration;
        segments.push((price, duration));
        min = min.min(price);
        max = max.max(price);
    }
    if covered == 0 {
        // Only instantaneous changes inside the window: the last one holds.
        return Some(PoolStats {
            current,
            mean: current,
            stddev: 0.0,
            min: current,
            max: current,
            changes: 0,
            covered: 0,
            record_average: current,
        });
    }
    let mean = (weighted / covered as f64).clamp(min, max);
    // Around the mean, in a second pass: E[p²] - mean² cancels badly.
    let variance = segments
        .iter()
        .map(|&(price, duration)| (price - mean).powi(2) * duration as f64)
        .sum::<f64>()
        / covered as f64;
    let inside: Vec<f64> = series
        .iter()
        .filter(|&&(t, _)| t >= start && t < end)
        .map(|&(_, p)| p)
        .collect();
    let records: Vec<f64> = first_in_effect
        .filter(|&i| series[i].0 < start)
        .map(|i| series[i].1)
        .into_iter()
        .chain(inside.iter().copied())
        .collect();
    Some(PoolStats {
        current,
        mean,
        stddev: variance.sqrt(),
        min,
        max,
        changes: series
            .iter()
            .filter(|&&(t, _)| t > start && t < end)
            .count(),
        covered,
        record_average: records.iter().sum::<f64>() / records.len().max(1) as f64,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn a_price_counts_for_as_long_as_it_held() {
        let s = window_stats(&[(0, 1.0), (90, 3.0)], 0, 100).unwrap();
        assert!(close(s.mean, 1.2), "{s:?}");
        assert!(close(s.stddev, 0.6), "{s:?}");
        assert!(close(s.record_average, 2.0), "the biased figure: {s:?}");
        assert_eq!(
            (s.min, s.max, s.current, s.changes, s.covered),
            (1.0, 3.0, 3.0, 1, 100)
        );
    }

    #[test]
    fn the_change_before_the_window_sets_its_starting_price() {
        let s = window_stats(&[(-50, 2.0), (50, 4.0), (200, 9.0)], 0, 100).unwrap();
        assert!(close(s.mean, 3.0), "{s:?}");
        assert_eq!((s.current, s.changes, s.max), (4.0, 1, 4.0));
        // History that starts inside the window covers it from there.
        let s = window_stats(&[(60, 5.0)], 0, 100).unwrap();
        assert_eq!((s.mean, s.covered), (5.0, 40));
        assert!(window_stats(&[(100, 5.0)], 0, 100).is_none());
        assert!(window_stats(&[], 0, 100).is_none());
    }

    #[test]
    fn records_parse_and_bad_ones_are_named() {
        let json = r#"{"SpotPriceHistory": [
            {"AvailabilityZone": "eu-west-1a", "InstanceType": "c5.large", "ProductDescription": "Linux/UNIX",
             "SpotPrice": "0.038200", "Timestamp": "2022-06-07T09:22:00+00:00"}]}"#;
        let changes = parse_history(json).unwrap();
        assert!((changes[0].price - 0.0382).abs() < 1e-12);
        assert_eq!(changes[0].at, 1_654_593_720);
        let err = parse_history(&json.replace("0.038200", "cheap")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "record 0: SpotPrice \"cheap\" is not a price"
        );
        let err = parse_history("{\"SpotPriceHistory\": [}").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid JSON at line 1, column 23"),
            "{err}"
        );
    }

    proptest! {
        #[test]
        fn means_stay_within_min_and_max_and_order_does_not_matter(
            mut points in prop::collection::vec((0i64..1000, 0.001f64..5.0), 1..40),
            start in 0i64..500,
            len in 1i64..600,
            seed in any::<u64>(),
        ) {
            points.sort_by_key(|p| p.0);
            points.dedup_by_key(|p| p.0);
            let changes: Vec<PriceChange> = points.iter().map(|&(at, price)| PriceChange {
                availability_zone: "z".into(), instance_type: "t".into(), product: "p".into(), price, at,
            }).collect();
            let mut shuffled = changes.clone();
            // A deterministic shuffle from the seed.
            let n = shuffled.len();
            for i in (1..n).rev() {
                let j = usize::try_from((seed.wrapping_mul(i as u64 + 7) >> 7) % (i as u64 + 1)).unwrap();
                shuffled.swap(i, j);
            }
            let a = by_pool(&changes);
            let b = by_pool(&shuffled);
            prop_assert_eq!(&a, &b);
            let series = a.values().next().unwrap();
            if let Some(s) = window_stats(series, start, start + len) {
                prop_assert!(s.min <= s.mean + 1e-12 && s.mean <= s.max + 1e-12, "{:?}", s);
                prop_assert!(s.stddev >= 0.0 && s.stddev <= (s.max - s.min) + 1e-9, "{:?}", s);
                prop_assert!(s.covered <= len);
            }
        }
    }
}
