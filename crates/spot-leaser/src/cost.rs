//! `spot-leaser cost`: what instances have cost so far and will cost until
//! their expiry, per second with EC2's 60-second minimum, against the
//! on-demand price of the same type. Ended instances count for the time
//! they ran (EC2 keeps them visible about an hour); a spot instance that
//! EC2 interrupted in its first hour costs nothing, as EC2 bills it.

use crate::tags;
use aws_sdk_ec2::Client;
use slipway_spot::billing::{charge, spot_charge};
use slipway_spot::time::parse_rfc3339;

use crate::Result;
use crate::ec2;
use crate::output::{Costs, InstanceCost, Lifecycle, OUTPUT_VERSION};
use crate::plan::now;
use crate::spec::CostSpec;

pub(crate) async fn cost(args: &CostSpec, client: &Client) -> Result<Costs> {
    let on_demand = crate::plan::on_demand_table(args.on_demand.as_deref())?;
    let instances = match &args.run_id {
        Some(run) => {
            ec2::tagged_any_state(
                client,
                &[(tags::MANAGED, tags::TRUE), (tags::RUN_ID, run.as_str())],
            )
            .await?
        }
        None => ec2::described(client, &args.instance_ids).await?,
    };
    let now = now();
    let mut rows = Vec::new();
    for i in &instances {
        let (instance_type, availability_zone, lifecycle) = ec2::shape(i);
        let spot = lifecycle == Lifecycle::Spot;
        let launched = i
            .launch_time()
            .map_or(now, aws_sdk_ec2::primitives::DateTime::secs);
        // A running instance is billed its first minute at once.
        let state = ec2::state(i);
        let running = state == "running";
        let interruption = ec2::interrupted(i);
        let ended = matches!(state, "shutting-down" | "terminated" | "stopped")
            .then(|| {
                interruption
                    .and_then(|x| x.at)
                    .or_else(|| transition_time(i.state_transition_reason()?))
            })
            .flatten();
        let end = ended.unwrap_or(now);
        let seconds = (end - launched).max(i64::from(running));
        let interrupted = spot && interruption.is_some();
        let until = ec2::tag(i, tags::EXPIRES_AT)
            .and_then(parse_rfc3339)
            .unwrap_or(now);
        let price = if spot {
            // The last change before now is the price in effect.
            ec2::price_history(client, std::slice::from_ref(&instance_type), now, now)
                .await?
                .into_iter()
                .filter(|c| c.availability_zone == availability_zone)
                .max_by_key(|c| c.at)
                .map(|c| c.price)
        } else {
            on_demand.price(&instance_type)
        };
        let bill = |secs: i64, p: f64| {
            if spot {
                spot_charge(secs, p, interrupted)
            } else {
                charge(secs, p)
            }
        };
        let so_far = price.map_or(0.0, |p| bill(seconds, p));
        let projected = if ended.is_some() {
            so_far
        } else {
            price.map_or(0.0, |p| bill((until - launched).max(seconds), p))
        };
        rows.push(InstanceCost {
            instance_id: i.instance_id().unwrap_or_default().to_owned(),
            on_demand_price: on_demand.price(&instance_type),
            instance_type,
            availability_zone,
            lifecycle,
            seconds,
            interrupted,
            price,
            so_far: round(so_far),
            projected: round(projected),
        });
    }
    let so_far: f64 = rows.iter().map(|r| r.so_far).sum();
    let projected: f64 = rows.iter().map(|r| r.projected).sum();
    let on_demand_so_far: Option<f64> = rows
        .iter()
        .map(|r| r.on_demand_price.map(|p| charge(r.seconds, p)))
        .sum::<Option<f64>>()
        .map(round);
    let savings_percent = on_demand_so_far
        .filter(|&od| od > 0.0)
        .map(|od| round((1.0 - so_far / od) * 100.0));
    Ok(Costs {
        version: OUTPUT_VERSION,
        instances: rows,
        so_far: round(so_far),
        projected: round(projected),
        on_demand_so_far,
        savings_percent,
    })
}

/// When EC2 says an instance changed state: `User initiated (2026-12-03
/// 17:49:11 GMT)` and the like.
fn transition_time(reason: &str) -> Option<i64> {
    let inside = reason.split_once('(')?.1.split_once(')')?.0;
    let (date, rest) = inside.split_once(' ')?;
    let time = rest.split_whitespace().next()?;
    slipway_spot::time::parse_rfc3339(&format!("{date}T{time}Z"))
}

fn round(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    #[test]
    fn transition_times_are_read_from_ec2s_reason() {
        assert_eq!(
            super::transition_time("User initiated (2026-12-03 17:49:11 GMT)"),
            slipway_spot::time::parse_rfc3339("2026-12-03T17:49:11Z")
        );
        assert_eq!(super::transition_time("User initiated"), None);
        assert_eq!(super::transition_time(""), None);
    }
}
