//! The analytics on recorded AWS data (`data/recorded/`: real
//! `describe-spot-price-history` output for eu-west-1, two weeks of 2022), and on a generated history with a known answer.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use crate::history::{Pool, by_pool, parse_history, window_stats};
use crate::score::{Scoring, rank};
use crate::time::parse_rfc3339;

const DAY: i64 = 86_400;

/// The recorded data vendored in `data/recorded/` (sources and licences in
/// its README).
fn recorded(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data/recorded")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("failed to read {}: {err}", path.display()))
}

/// The two weeks of eu-west-1 history the tests read.
const HISTORY: &str = "spot-price-history-eu-west-1-2022-05-24-to-06-07.json";

/// Where the record average and the time-weighted mean choose different
/// zones for one type, the time-weighted choice costs less over the
/// following week: the bias is real, and it costs money.
#[test]
fn on_real_history_the_time_weighted_choice_is_cheaper_the_week_after() {
    let history = parse_history(&recorded(HISTORY)).unwrap();
    assert_eq!(history.len(), 2_354);
    let pools = by_pool(&history);
    let at = parse_rfc3339("2022-05-31T00:00:00Z").unwrap();
    let mut by_type: BTreeMap<&str, Vec<(&Pool, f64, f64, f64)>> = BTreeMap::new();
    for (pool, series) in &pools {
        let (Some(before), Some(after)) = (
            window_stats(series, at - 7 * DAY, at),
            window_stats(series, at, at + 7 * DAY),
        ) else {
            continue;
        };
        assert!(
            before.min <= before.mean && before.mean <= before.max,
            "{pool:?}: {before:?}"
        );
        by_type
            .entry(pool.instance_type.as_str())
            .or_default()
            .push((pool, before.mean, before.record_average, after.mean));
    }
    let mut disagreements = 0;
    for (instance_type, zones) in &by_type {
        let by_mean = zones.iter().min_by(|a, b| a.1.total_cmp(&b.1)).unwrap();
        let by_records = zones.iter().min_by(|a, b| a.2.total_cmp(&b.2)).unwrap();
        if by_mean.0 != by_records.0 {
            disagreements += 1;
            assert!(
                by_mean.3 < by_records.3,
                "{instance_type}: time-weighted chose {} (next week {}), record average {} (next week {})",
                by_mean.0.availability_zone,
                by_mean.3,
                by_records.0.availability_zone,
                by_records.3
            );
        }
    }
    assert!(
        disagreements > 0,
        "the two methods never disagree in this window"
    );

    // And the ranking itself puts the time-weighted choice first.
    let m6g: Vec<(Pool, crate::PoolStats)> = pools
        .iter()
        .filter(|(p, _)| p.instance_type == "m6g.4xlarge")
        .filter_map(|(p, s)| Some((p.clone(), window_stats(s, at - 7 * DAY, at)?)))
        .collect();
    let ranked = rank(&m6g, &Scoring::default(), None, None, &HashMap::new());
    let best = by_type["m6g.4xlarge"]
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap();
    assert_eq!(ranked[0].availability_zone, best.0.availability_zone);
}

/// A generated case with a known answer: zone a sits at 0.30 and dips to
/// 0.05 for a minute, many times (many cheap records); zone b holds 0.20.
/// Averaging records picks a; the time-weighted mean picks b, which is
/// what a job would pay.
#[test]
fn many_short_dips_fool_the_record_average_but_not_the_time_weighted_mean() {
    let mut a = vec![(0, 0.30)];
    for i in 1..=40 {
        a.push((i * 3600, 0.05));
        a.push((i * 3600 + 60, 0.30));
    }
    let b = vec![(0, 0.20)];
    let end = 2 * DAY;
    let sa = window_stats(&a, 0, end).unwrap();
    let sb = window_stats(&b, 0, end).unwrap();
    assert!(
        sa.record_average < sb.record_average,
        "records: a {} < b {}",
        sa.record_average,
        sb.record_average
    );
    assert!(
        sa.mean > sb.mean,
        "time-weighted: a {} > b {}",
        sa.mean,
        sb.mean
    );
    let pool = |az: &str| Pool {
        availability_zone: az.into(),
        instance_type: "c5.large".into(),
        product: "Linux/UNIX".into(),
    };
    let ranked = rank(
        &[(pool("a"), sa), (pool("b"), sb)],
        &Scoring::default(),
        None,
        None,
        &HashMap::new(),
    );
    assert_eq!(ranked[0].availability_zone, "b");
    assert!(ranked[0].expected_job_cost < ranked[1].expected_job_cost);
}

/// The advisor feed reads, and its buckets move the ranking: at equal
/// prices, the type interrupted less often ranks first, and a ceiling on
/// the bucket excludes the other with the reason.
#[test]
fn advisor_buckets_from_the_real_feed_move_the_ranking() {
    let feed = recorded("spot-advisor-data.json");
    let advisor = crate::Advisor::parse(&feed, "eu-west-1", "Linux").unwrap();
    let doc: serde_json::Value = serde_json::from_str(&feed).unwrap();
    let types = doc["spot_advisor"]["eu-west-1"]["Linux"]
        .as_object()
        .unwrap();
    let with_bucket = |b: u8| {
        types
            .keys()
            .find(|t| advisor.bucket(t) == Some(b))
            .unwrap()
            .clone()
    };
    let (steady, risky) = (with_bucket(0), with_bucket(4));
    let stats = window_stats(&[(0, 0.2)], 0, DAY).unwrap();
    let pool = |t: &str| Pool {
        availability_zone: "eu-west-1a".into(),
        instance_type: t.into(),
        product: "Linux/UNIX".into(),
    };
    let pools = [(pool(&risky), stats), (pool(&steady), stats)];
    let ranked = rank(
        &pools,
        &Scoring::default(),
        Some(&advisor),
        None,
        &HashMap::new(),
    );
    assert_eq!(ranked[0].instance_type, steady);
    assert!(ranked[0].expected_job_cost < ranked[1].expected_job_cost);
    assert_eq!(ranked[1].interruption, ">20%");
    let scoring = Scoring {
        max_interruption_bucket: Some(2),
        ..Scoring::default()
    };
    let ranked = rank(&pools, &scoring, Some(&advisor), None, &HashMap::new());
    assert_eq!(
        ranked[1].excluded_reason.as_deref(),
        Some("interruption frequency >20% is above the ceiling 10-15%")
    );
    assert!(crate::Advisor::parse("{}", "eu-west-1", "Linux").is_err());
}
