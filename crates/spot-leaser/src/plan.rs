//! `spot-leaser plan`: rank pools, from EC2 or from a recorded history.

use std::collections::HashMap;
use std::fmt::Write as _;

use slipway_spot::time::{format_rfc3339, parse_duration, parse_rfc3339};
use slipway_spot::{Advisor, OnDemand, Scoring, linux_pools, parse_history, rank, window_stats};

use crate::output::{OUTPUT_VERSION, Plan};
use crate::spec::PlanSpec;
use crate::{Error, Result, ec2};

/// Builds the plan. `client` is `None` for a recorded history.
pub(crate) async fn plan(args: &PlanSpec, client: Option<&aws_sdk_ec2::Client>) -> Result<Plan> {
    let window = parse_duration(&args.window).ok_or_else(|| {
        Error::bad(
            "--window",
            &args.window,
            "expected a duration like 7d, 36h or 90m",
        )
    })?;
    let at = match &args.at {
        Some(text) => parse_rfc3339(text).ok_or_else(|| {
            Error::bad(
                "--at",
                text,
                "expected an RFC 3339 time like 2022-06-07T10:00:00Z",
            )
        })?,
        None => now(),
    };
    let mut notes = Vec::new();
    let history = load_history(args, client, at - window, at).await?;
    let pools = pool_stats(args, &history, at - window, at, &mut notes);
    let (zone_ids, placement) = if let Some(client) = client {
        zones_and_placement(args, client, &mut notes).await?
    } else {
        notes.push(
            "offline plan from a recorded history: no zone IDs or placement scores".to_owned(),
        );
        (HashMap::new(), HashMap::new())
    };
    let advisor = load_advisor(args, &mut notes)?;
    let on_demand = load_on_demand(args, &mut notes)?;

    let scoring = Scoring {
        job_minutes: args.job_minutes,
        boot_minutes: args.boot_minutes,
        max_price: args.max_price,
        max_interruption_bucket: args.max_interruption,
        min_placement_score: args.min_placement_score,
    };
    let mut candidates = rank(
        &pools,
        &scoring,
        advisor.as_ref(),
        Some(&on_demand),
        &placement,
    );
    for c in &mut candidates {
        c.availability_zone_id = zone_ids.get(&c.availability_zone).cloned();
    }
    #[expect(clippy::cast_precision_loss, reason = "hours for people to read")]
    let window_hours = window as f64 / 3600.0;
    Ok(Plan {
        version: OUTPUT_VERSION,
        region: args.region.clone(),
        window_hours,
        at: format_rfc3339(at),
        candidates: candidates
            .into_iter()
            .map(crate::output::candidate)
            .collect(),
        notes,
    })
}

async fn load_history(
    args: &PlanSpec,
    client: Option<&aws_sdk_ec2::Client>,
    start: i64,
    end: i64,
) -> Result<Vec<slipway_spot::PriceChange>> {
    match (&args.price_history, client) {
        (Some(file), _) => {
            let text = crate::read(file)?;
            parse_history(&text).map_err(|source| Error::Invalid {
                what: "price history",
                path: file.clone(),
                source,
            })
        }
        (None, Some(client)) => {
            Ok(ec2::price_history(client, &args.instance_types, start, end).await?)
        }
        (None, None) => Err(Error::Arguments(
            "no price history: pass --price-history FILE, or run with AWS access",
        )),
    }
}

/// Each wanted Linux pool's statistics over the window; what is missing
/// goes to `notes`.
fn pool_stats(
    args: &PlanSpec,
    history: &[slipway_spot::PriceChange],
    start: i64,
    end: i64,
    notes: &mut Vec<String>,
) -> Vec<(slipway_spot::Pool, slipway_spot::PoolStats)> {
    let wanted = |t: &str| args.instance_types.iter().any(|w| w == t);
    let mut pools = Vec::new();
    for (pool, series) in &linux_pools(history) {
        if !wanted(&pool.instance_type) {
            continue;
        }
        match window_stats(series, start, end) {
            Some(stats) => pools.push((pool.clone(), stats)),
            None => notes.push(format!(
                "{} in {}: no price known before {}",
                pool.instance_type,
                pool.availability_zone,
                format_rfc3339(end)
            )),
        }
    }
    for t in &args.instance_types {
        if !pools.iter().any(|(p, _)| &p.instance_type == t) {
            notes.push(format!(
                "{t}: no spot price history in {} for this window",
                args.region
            ));
        }
    }
    pools
}

/// Zone names to IDs, and placement scores by zone name when EC2 gives them.
async fn zones_and_placement(
    args: &PlanSpec,
    client: &aws_sdk_ec2::Client,
    notes: &mut Vec<String>,
) -> Result<(HashMap<String, String>, HashMap<String, u8>)> {
    let zone_ids = ec2::zone_ids(client).await?;
    let mut placement = HashMap::new();
    match ec2::placement_scores(client, &args.region, &args.instance_types, 1).await {
        Ok(by_id) => {
            for (name, id) in &zone_ids {
                if let Some(&score) = by_id.get(id) {
                    placement.insert(name.clone(), score);
                }
            }
        }
        Err(why) => notes.push(format!(
            "placement scores unavailable ({why}); ranked without them"
        )),
    }
    Ok((zone_ids, placement))
}

fn load_advisor(args: &PlanSpec, notes: &mut Vec<String>) -> Result<Option<Advisor>> {
    let Some(file) = &args.advisor else {
        notes.push(
            "no --advisor data: every type assumed in the 10-15% interruption bucket".to_owned(),
        );
        return Ok(None);
    };
    let text = crate::read(file)?;
    let advisor =
        Advisor::parse(&text, &args.region, "Linux").map_err(|source| Error::Invalid {
            what: "advisor data",
            path: file.clone(),
            source,
        })?;
    Ok(Some(advisor))
}

/// The on-demand table: `--on-demand FILE`, else the bundled one. `plan`
/// and `cost` share it.
pub(crate) fn on_demand_table(file: Option<&std::path::Path>) -> Result<OnDemand> {
    let Some(file) = file else {
        return Ok(OnDemand::bundled());
    };
    let text = crate::read(file)?;
    OnDemand::parse(&text).map_err(|source| Error::Invalid {
        what: "on-demand prices",
        path: file.to_path_buf(),
        source,
    })
}

fn load_on_demand(args: &PlanSpec, notes: &mut Vec<String>) -> Result<OnDemand> {
    let on_demand = on_demand_table(args.on_demand.as_deref())?;
    if on_demand.region != args.region {
        notes.push(format!(
            "on-demand prices are {}'s (pass --on-demand for {})",
            on_demand.region, args.region
        ));
    }
    Ok(on_demand)
}

/// The plan as a table for people.
pub(crate) fn table(plan: &Plan) -> String {
    let mut out = format!(
        "Spot pools in {}, {} h ending {}, best first (expected cost per job):\n\n",
        plan.region, plan.window_hours, plan.at
    );
    out.push_str(
        "#   zone             type             current      mean    stddev changes interruption              job cost  status\n",
    );
    for (i, c) in plan.candidates.iter().enumerate() {
        let status = c.excluded_reason.as_deref().unwrap_or("eligible");
        let _ = writeln!(
            out,
            "{:<3} {:<16} {:<14} {:>9.4} {:>9.4} {:>9.4} {:>7} {:<22} {:>11.5}  {status}",
            i + 1,
            c.availability_zone,
            c.instance_type,
            c.current_price,
            c.mean_price,
            c.stddev,
            c.changes,
            c.interruption,
            c.expected_job_cost
        );
    }
    for note in &plan.notes {
        let _ = writeln!(out, "\nnote: {note}");
    }
    out
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
